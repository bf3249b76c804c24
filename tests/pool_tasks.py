"""Worker tasks for ReaderPool tests: module-level, so forkserver workers can import them by name.

`task` has `read_with_limit`'s signature and is the real reader for any body except the markers below,
which make the worker hang, ignore its alarm, crash or raise: what a bad document can do to a reader.
"""

from __future__ import annotations

import os
import resource
import signal
import time
from typing import NoReturn

import pipelines.pool as pool
from pipelines.read import ReadHints
from pipelines.report import Report

HANG = b"nianbao-test: the reader never returns"
STUCK = b"nianbao-test: the reader never returns and never sees its alarm"
BLOCKED = b"nianbao-test: the reader waits forever without using the processor"
EXIT = b"nianbao-test: the worker exits"
ABORT = b"nianbao-test: the worker aborts"
RAISE = b"nianbao-test: the reader raises"
SLOW = b"nianbao-test: the reader takes one second"
NICENESS = b"nianbao-test: the reader says its priority"


def _never_returns(*args: object, **kwargs: object) -> NoReturn:
    """A reader blocked without using the processor (waiting on a pipe): only the wall-clock kill stops it."""
    while True:
        time.sleep(0.05)


def _loops_forever(*args: object, **kwargs: object) -> NoReturn:
    """A reader caught in a loop: it burns processor time, which the soft limit counts."""
    n = 0
    while True:
        n = (n * 31 + 7) % 1_000_003


def task(
    body: bytes, filename: str | None, content_type: str | None, hints: ReadHints | None, time_limit: float
) -> Report:
    """`read_with_limit`, with a reader stand-in (never the pool's own code) for the marker bodies."""
    if body == EXIT:
        os._exit(70)
    if body == ABORT:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file in the working directory
        os.abort()
    if body == RAISE:
        raise ValueError("a reader bug")
    if body == NICENESS:
        return Report(status="partial", problems=[f"nice {os.nice(0)}"])
    if body == SLOW:
        time.sleep(1.0)
        return Report(status="partial", problems=["a slow reader stand-in"])
    if body == STUCK:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPROF})  # like C code that never yields
        _loops_forever()
    if body == BLOCKED:
        real = pool.read_report
        pool.read_report = _never_returns
        try:
            return pool.read_with_limit(body, filename, content_type, hints, time_limit)
        finally:
            pool.read_report = real
    if body == HANG:
        real = pool.read_report
        pool.read_report = _loops_forever  # the soft limit in read_with_limit must stop it
        try:
            return pool.read_with_limit(body, filename, content_type, hints, time_limit)
        finally:
            pool.read_report = real
    return pool.read_with_limit(body, filename, content_type, hints, time_limit)
