"""Queue-mode commands (issue 12): `schedule`, `worker crawl|write|read`, `queue status|reparse`.

Each takes `--redis URL` (default: NIANBAO_REDIS_URL). The single-process `nianbao crawl` stays the default;
these commands spread portal jobs, reading and writing over processes and machines with one archive writer.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from .portals import RegistryError, select_portals

REDIS_OPTION = click.option(
    "--redis", "redis", envvar="NIANBAO_REDIS_URL", help="Redis URL (default: NIANBAO_REDIS_URL)."
)
SPOOL_OPTION = click.option(
    "--spool",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="NIANBAO_SPOOL",
    default="spool",
    show_default=True,
    help="Content-addressed body spool shared by crawl workers, the writer and read workers.",
)


GIVE_UP_OPTION = click.option(
    "--give-up-after",
    type=float,
    envvar="NIANBAO_IDLE_GIVE_UP",
    default=1800,
    show_default=True,
    help="With --until-idle: exit 6 if messages stay pending and nothing moves for this many seconds.",
)
UNTIL_IDLE_HELP = "Exit 0 once {what} drained; 1 if messages were dead-lettered meanwhile; 6 if it gives up (--give-up-after)."


def _url(redis: str | None) -> str:
    from .queue.broker import redis_url

    try:
        return redis_url(redis)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


def overrides(pairs: tuple[str, ...]) -> dict[str, str]:
    """`-s KEY=VALUE` options as a dict (crawl, schedule and worker share it)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.UsageError(f"-s needs KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


@click.command()
@click.argument("names", nargs=-1)
@REDIS_OPTION
@click.option("--due", is_flag=True, help="Only portals whose cadence says they are due.")
@click.option("--url", help="Enqueue one portal that is not in the registry, from this start URL.")
@click.option("--agency", help="Agency name for --url.")
@click.option("--registry", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The archive (read only): stored validators for conditional requests.",
)
@click.option("--peak-months", default="2,3,4", show_default=True, help="Months of the daily cadence.")
@click.option("--peak-every-days", type=float, default=1, show_default=True)
@click.option("--every-days", type=float, default=30, show_default=True, help="Cadence outside the peak.")
@click.option("--full-every-days", type=float, default=365, show_default=True, help="Full discovery cadence.")
@click.option("-s", "settings", multiple=True, help="Scrapy setting for these jobs, KEY=VALUE (repeatable).")
def schedule(
    names: tuple[str, ...],
    redis: str | None,
    due: bool,
    url: str | None,
    agency: str | None,
    registry: Path | None,
    db_path: Path | None,
    peak_months: str,
    peak_every_days: float,
    every_days: float,
    full_every_days: float,
    settings: tuple[str, ...],
) -> None:
    """Enqueue portal jobs on Redis: registry portals (all, NAMED, or --due), or one --url portal. A portal
    whose job is still waiting or running is skipped; a job carries the portal's stored validators."""
    from .queue.broker import make_broker
    from .queue.jobs import Cadence
    from .queue.jobs import schedule as enqueue

    try:
        portals = select_portals(url, agency, names, registry)
    except RegistryError as exc:
        raise click.UsageError(str(exc)) from exc
    cadence = Cadence(
        peak_months=tuple(int(m) for m in peak_months.split(",") if m.strip()),
        peak_every=timedelta(days=peak_every_days),
        every=timedelta(days=every_days),
        full_every=timedelta(days=full_every_days),
    )
    broker = make_broker(_url(redis))
    try:
        rows = enqueue(
            broker,
            portals,
            db_path=db_path,
            due_only=due and not url,
            cadence=cadence,
            settings=overrides(settings),
            now=datetime.now(UTC),
        )
    finally:
        broker.close()
    for r in rows:
        click.echo(json.dumps(r, ensure_ascii=False))
    click.echo(f"{sum(r['action'] == 'enqueued' for r in rows)} of {len(rows)} portals enqueued", err=True)


@click.group()
def worker() -> None:
    """Queue-mode workers: `crawl` (portal jobs), `write` (the one archive writer), `read` (reading)."""


@worker.command("crawl")
@REDIS_OPTION
@SPOOL_OPTION
@click.option(
    "--warc-dir", type=click.Path(file_okay=False, path_type=Path), default="warc", show_default=True
)
@click.option("--threads", type=int, default=1, show_default=True, help="Portal jobs run at once.")
@click.option("--until-idle", is_flag=True, help=UNTIL_IDLE_HELP.format(what="the crawl queue is"))
@GIVE_UP_OPTION
@click.option("-s", "settings", multiple=True, help="Scrapy setting for every job, KEY=VALUE (repeatable).")
def worker_crawl(
    redis: str | None,
    spool: Path,
    warc_dir: Path,
    threads: int,
    until_idle: bool,
    give_up_after: float,
    settings: tuple[str, ...],
) -> None:
    """Run portal jobs: one child crawl process per job, bodies to the spool, captures to the writer."""
    from archive.spool import Spool

    from .queue.workers import CTX, run_worker

    CTX.spool, CTX.warc_dir, CTX.settings = Spool(spool.resolve()), warc_dir.resolve(), overrides(settings)
    raise SystemExit(
        run_worker("crawl", _url(redis), threads=threads, until_idle=until_idle, give_up_after=give_up_after)
    )


@worker.command("write")
@REDIS_OPTION
@SPOOL_OPTION
@click.option(
    "--db", "db_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The archive."
)
@click.option("--until-idle", is_flag=True, help=UNTIL_IDLE_HELP.format(what="every queue is"))
@GIVE_UP_OPTION
def worker_write(
    redis: str | None, spool: Path, db_path: Path, until_idle: bool, give_up_after: float
) -> None:
    """The one process that writes the archive: captures, reports, crawl closes; enqueues reads."""
    from archive.db import open_db
    from archive.spool import Spool

    from .queue.workers import CTX, run_worker

    url = _url(redis)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    open_db(db_path).close()  # migrate before any message
    CTX.spool, CTX.db_path = Spool(spool.resolve()), db_path
    last = [0.0]

    def snapshot() -> None:
        if time.monotonic() - last[0] < float(os.environ.get("NIANBAO_QUEUE_STATS_EVERY", "30")):
            return
        last[0] = time.monotonic()
        with CTX.writing() as db:
            _record_depths(db, url)

    code = run_worker(
        "write", url, threads=1, until_idle=until_idle, on_tick=snapshot, give_up_after=give_up_after
    )
    with CTX.writing() as db:
        _record_depths(db, url)
    raise SystemExit(code)


def _record_depths(db: Any, url: str) -> None:
    from archive.store import now_iso

    from .queue.workers import depths

    at = now_iso()
    db.table("queue_stats").insert_all({"at": at, **d} for d in depths(url))


@worker.command("read")
@REDIS_OPTION
@SPOOL_OPTION
@click.option(
    "--processes", type=int, default=os.cpu_count() or 1, show_default=True, help="Reading processes."
)
@click.option("--time-limit", type=float, default=120.0, show_default=True, help="Seconds per document.")
@click.option("--until-idle", is_flag=True, help=UNTIL_IDLE_HELP.format(what="every queue is"))
@GIVE_UP_OPTION
def worker_read(
    redis: str | None, spool: Path, processes: int, time_limit: float, until_idle: bool, give_up_after: float
) -> None:
    """Read stored versions (read_report in a process pool) and send the reports to the writer."""
    from archive.spool import Spool
    from pipelines.pool import ReaderPool

    from .queue.workers import CTX, run_worker

    CTX.spool = Spool(spool.resolve())
    CTX.pool = ReaderPool(processes, time_limit)
    try:
        code = run_worker(
            "read", _url(redis), threads=processes, until_idle=until_idle, give_up_after=give_up_after
        )
    finally:
        CTX.pool.close()
    raise SystemExit(code)


@click.group("queue")
def queue_group() -> None:
    """Queue mode's state: depths and oldest jobs, and reparse through the read workers."""


@queue_group.command("status")
@REDIS_OPTION
@click.option("--json", "as_json", is_flag=True)
def queue_status(redis: str | None, as_json: bool) -> None:
    """Per queue: messages waiting or in progress, delayed retries, dead letters, oldest waiting (s)."""
    from .queue.workers import depths

    for d in depths(_url(redis)):
        click.echo(
            json.dumps(d)
            if as_json
            else f"{d['queue']}: {d['depth']} pending, {d['delayed']} delayed, {d['dead']} dead,"
            f" oldest {d['oldest_seconds'] if d['oldest_seconds'] is not None else '-'} s"
        )


@queue_group.command("reparse")
@REDIS_OPTION
@SPOOL_OPTION
@click.option("--db", "db_path", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=True)
@click.option("--format", "fmt", help="Only versions of this format (pdf, html, docx …).")
@click.option("--parser-version", help="Only reports written by this parser version.")
@click.option("--status", help="Only reports of this status (complete / partial / failed).")
@click.option("--wait", is_flag=True, help="Show progress until the read and write queues drain.")
def queue_reparse(
    redis: str | None,
    spool: Path,
    db_path: Path,
    fmt: str | None,
    parser_version: str | None,
    status: str | None,
    wait: bool,
) -> None:
    """Enqueue stored report and attachment versions for the read workers; the writer replaces their
    reports in place. Bodies are copied from the archive to the spool first (read only)."""
    from archive.spool import Spool

    from .queue.broker import make_broker, pending, send
    from .queue.reparse import reparse_requests

    broker = make_broker(_url(redis))
    try:
        requests = reparse_requests(db_path, Spool(spool.resolve()), fmt, parser_version, status)
        for r in requests:
            send(broker, "read_version", r)
        click.echo(f"{len(requests)} versions enqueued for reading")
        while wait:
            left = pending(broker, ("read", "write"))
            click.echo(f"  {left['read']} to read, {left['write']} to write", err=True)
            if not any(left.values()):
                break
            time.sleep(2)
    finally:
        broker.close()
