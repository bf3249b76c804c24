"""The three worker roles of queue mode, each a Dramatiq worker on its own queue(s).

- crawl: `crawl_portal` jobs, one child crawl process at a time per thread (crawler/queue/jobs.py).
- write: the one process that owns the SQLite archive — `store_capture`, `close_run`, `store_report`
  (archive/writer.py), one thread, so every write is serial; new versions go out as `read_version`.
- read: `read_version` — the body from the spool, `read_report` in a ReaderPool process (a crash or a
  time-out is that document's failed report), the report back to the writer as `store_report`.

`until_idle`: exit 0 once the queues this role depends on are empty, nothing in progress or delayed, for
a few checks in a row (crawl: its own queue; write and read: all three, since each feeds the other).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from archive.spool import Spool

from .broker import QUEUES, make_broker, pending, queue_depths, send

log = logging.getLogger(__name__)
IDLE_CHECKS = 3
IDLE_INTERVAL = 0.5


@dataclass
class Context:
    """What the actors of one worker process use (set before the worker starts)."""

    url: str = ""
    broker: RedisBroker | None = None
    spool: Spool | None = None
    db_path: Path | None = None
    warc_dir: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    pool: Any = None
    local: threading.local = field(default_factory=threading.local)
    done: list[dict[str, Any]] = field(default_factory=list)

    def db(self) -> Any:
        db = getattr(self.local, "db", None)
        if db is None:
            from archive.db import open_db

            assert self.db_path is not None
            db = self.local.db = open_db(self.db_path)
            db.execute("PRAGMA busy_timeout = 30000")
        return db


CTX = Context()


def crawl_portal(job: dict[str, Any]) -> None:
    from .jobs import run_job

    assert CTX.broker is not None and CTX.spool is not None and CTX.warc_dir is not None
    msg = dramatiq.middleware.CurrentMessage.get_current_message()
    job_id = job.get("job_id") or (msg.message_id if msg else "job")
    summary = run_job(
        CTX.broker, CTX.url, job, job_id=job_id, spool=CTX.spool, warc_dir=CTX.warc_dir, settings=CTX.settings
    )
    CTX.done.append(summary)
    log.info("job %s: %s", job_id, summary)


def store_capture(cap: dict[str, Any]) -> None:
    from archive.writer import apply_capture

    assert CTX.broker is not None and CTX.spool is not None
    request = apply_capture(CTX.db(), cap, CTX.spool)
    if request is not None:
        send(CTX.broker, "read_version", request.to_message())


def close_run(close: dict[str, Any]) -> None:
    from archive.writer import finish_run

    finish_run(CTX.db(), close)


def store_report(msg: dict[str, Any]) -> None:
    from archive.writer import apply_report

    apply_report(CTX.db(), msg)


def read_version(request: dict[str, Any]) -> None:
    from archive.writer import report_to_message
    from pipelines.read import ReadHints

    assert CTX.broker is not None and CTX.spool is not None and CTX.pool is not None
    body = CTX.spool.get(request["sha256"])
    report = CTX.pool.read(body, request["filename"], request["content_type"], ReadHints(**request["hints"]))
    send(CTX.broker, "store_report", {"request": request, "report": report_to_message(report)})


def _declare(broker: RedisBroker) -> None:
    hours = float(os.environ.get("NIANBAO_CRAWL_TIME_LIMIT_HOURS", "6"))
    opts: dict[str, dict[str, Any]] = {
        "crawl_portal": {"time_limit": int(hours * 3600_000), "max_retries": 3, "min_backoff": 60_000},
        "store_capture": {"max_retries": 8, "min_backoff": 500, "max_backoff": 30_000},
        # A close waits for its captures: retried often, for a long time.
        "close_run": {"max_retries": 200, "min_backoff": 200, "max_backoff": 10_000},
        "store_report": {"max_retries": 8, "min_backoff": 500, "max_backoff": 30_000},
        "read_version": {"time_limit": 3600_000, "max_retries": 3, "min_backoff": 1000},
    }
    funcs = {
        "crawl_portal": crawl_portal,
        "store_capture": store_capture,
        "close_run": close_run,
        "store_report": store_report,
        "read_version": read_version,
    }
    from .broker import ACTORS

    for name, fn in funcs.items():
        dramatiq.actor(actor_name=name, queue_name=ACTORS[name], broker=broker, **opts[name])(fn)


ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # role: (queues consumed, queues that must be empty for --until-idle)
    "crawl": (("crawl",), ("crawl",)),
    "write": (("write",), QUEUES),
    "read": (("read",), QUEUES),
}


def run_worker(role: str, url: str, *, threads: int, until_idle: bool, on_tick: Any = None) -> int:
    """Run one worker role until SIGTERM/SIGINT (or, with `until_idle`, until its queues drain)."""
    from dramatiq.middleware import CurrentMessage

    broker = make_broker(url)
    broker.add_middleware(CurrentMessage())
    CTX.url, CTX.broker = url, broker
    _declare(broker)
    consumed, watched = ROLES[role]
    worker = dramatiq.Worker(broker, queues=set(consumed), worker_threads=threads, worker_timeout=200)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    idle = 0
    try:
        while not stop.wait(IDLE_INTERVAL):
            if on_tick is not None:
                on_tick()
            if until_idle:
                idle = idle + 1 if not any(pending(broker, watched).values()) else 0
                if idle >= IDLE_CHECKS:
                    break
    finally:
        worker.stop()
        broker.close()
    return 0


def depths(url: str) -> list[dict[str, Any]]:
    broker = make_broker(url)
    try:
        return queue_depths(broker)
    finally:
        broker.close()
