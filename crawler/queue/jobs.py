"""Portal jobs: which portals are due (`nianbao schedule`), and one job run as a child crawl process.

A job is a whole portal — never a share of one URL frontier — so the politeness limits that live in a Scrapy
process (delay, connections per host) hold for the host, and a job redelivered after a kill -9 is simply
crawled again (the archive is idempotent on URL and sha256). Two crawls of one host never overlap: the
crawl worker holds `nianbao:lock:host:<host>` in Redis for the job's hosts, refreshed while it runs.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
from dramatiq.brokers.redis import RedisBroker

from archive.db import open_db
from archive.spool import Spool
from archive.store import FetchMeta, write_version

from ..portals import Portal, dumps_portal
from .broker import send

log = logging.getLogger(__name__)
SCHEDULE_KEY = "nianbao:schedule:last"  # portal → ISO time of its last enqueued job
FULL_KEY = "nianbao:schedule:full"  # portal → ISO time of its last full discovery (no validators)
QUEUED_KEY = "nianbao:queued:"  # + portal: a job is waiting or running
LOCK_KEY = "nianbao:lock:host:"  # + host


@dataclass
class Cadence:
    """How often a portal is due: daily in the publication season (reports are due by 31 January and
    appear February–April), monthly otherwise, and a full discovery (no conditional requests) yearly."""

    peak_months: tuple[int, ...] = (2, 3, 4)
    peak_every: timedelta = timedelta(days=1)
    every: timedelta = timedelta(days=30)
    full_every: timedelta = timedelta(days=365)

    def interval(self, now: datetime) -> timedelta:
        return self.peak_every if now.month in self.peak_months else self.every


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(s: str | bytes | None) -> datetime | None:
    if not s:
        return None
    text = s.decode() if isinstance(s, bytes) else s
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def hosts_of(portal: dict[str, Any]) -> list[str]:
    return sorted({(urlsplit(u).hostname or "").lower() for u in portal["start_urls"]} - {""})


def validators(db_path: Path | None, portal_name: str) -> list[dict[str, Any]]:
    """The stored validators (ETag, Last-Modified) of a portal's current reports and attachments, with the
    sha256 of the bytes they validate; read-only, so `schedule` never competes with the writer."""
    if db_path is None or not db_path.exists():
        return []
    conn = sqlite3.connect(f"file:{db_path.resolve()}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT d.url, d.kind, d.etag, d.last_modified, v.sha256, v.content_type FROM documents d"
            " JOIN versions v ON v.id = d.current_version_id WHERE d.portal_id = ?"
            " AND d.kind IN ('report', 'attachment') AND d.gone_since IS NULL"
            " AND (d.etag IS NOT NULL OR d.last_modified IS NOT NULL)",
            [portal_name],
        ).fetchall()
    finally:
        conn.close()
    keys = ("url", "kind", "etag", "last_modified", "sha256", "content_type")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def job_for(portal: Portal, db_path: Path | None, full: bool, settings: dict[str, str]) -> dict[str, Any]:
    return {
        "job_id": uuid.uuid4().hex,
        "portal": {**portal.as_dict(), "name": portal.name, "source": portal.source},
        "validators": [] if full else validators(db_path, portal.name),
        "full": full,
        "settings": settings,
        "enqueued_at": _iso(datetime.now(UTC)),
    }


def schedule(
    broker: RedisBroker,
    portals: list[Portal],
    *,
    db_path: Path | None,
    due_only: bool,
    cadence: Cadence,
    settings: dict[str, str],
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Enqueue one job per portal that is due (or every portal given, with `due_only` False); a portal
    whose previous job is still waiting or running is skipped. Returns what was decided, per portal."""
    now = now or datetime.now(UTC)
    client = broker.client
    out = []
    for portal in portals:
        last = _parse(client.hget(SCHEDULE_KEY, portal.name))
        last_full = _parse(client.hget(FULL_KEY, portal.name))
        decision: dict[str, Any] = {"portal": portal.name, "last": last and _iso(last)}
        if due_only and last is not None and now - last < cadence.interval(now):
            out.append({**decision, "action": "not due"})
            continue
        full = last_full is None or now - last_full >= cadence.full_every
        job = job_for(portal, db_path, full, settings)
        if not client.set(QUEUED_KEY + portal.name, job["job_id"], nx=True, ex=7 * 86400):
            out.append({**decision, "action": "already queued"})
            continue
        send(broker, "crawl_portal", job)
        client.hset(SCHEDULE_KEY, portal.name, _iso(now))
        if full:
            client.hset(FULL_KEY, portal.name, _iso(now))
        out.append(
            {
                **decision,
                "action": "enqueued",
                "job_id": job["job_id"],
                "full": full,
                "validators": len(job["validators"]),
            }
        )
    return out


class HostLock:
    """Redis locks on a job's hosts, held while its crawl runs and refreshed; they expire by themselves
    (NIANBAO_HOST_LOCK_TTL seconds, default 300) when the worker holding them dies."""

    def __init__(self, broker: RedisBroker, hosts: list[str], token: str):
        self.client = broker.client
        self.keys = [LOCK_KEY + h for h in hosts]
        self.token = token
        self.ttl = int(os.environ.get("NIANBAO_HOST_LOCK_TTL", "300"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> bool:
        got: list[str] = []
        for key in self.keys:
            if not self.client.set(key, self.token, nx=True, ex=self.ttl):
                for k in got:
                    self._release(k)
                return False
            got.append(key)
        self._thread = threading.Thread(target=self._refresh, daemon=True)
        self._thread.start()
        return True

    def _refresh(self) -> None:
        while not self._stop.wait(max(self.ttl / 3, 0.5)):
            try:
                for key in self.keys:
                    if self.client.get(key) == self.token.encode():
                        self.client.expire(key, self.ttl)
            except redis.RedisError as exc:  # a blip must not end the refreshing while the crawl runs
                log.warning("host lock %s not refreshed: %s", self.keys, exc)

    def _release(self, key: str) -> None:
        if self.client.get(key) == self.token.encode():
            self.client.delete(key)

    def release(self) -> None:
        self._stop.set()
        for key in self.keys:
            self._release(key)


def _die_with_parent() -> None:
    """The child crawl ends with its worker (a kill -9 of the worker must not leave an orphan crawling)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _view_db(path: Path, portal: dict[str, Any], vals: list[dict[str, Any]], spool: Spool) -> int:
    """A small local archive with the job's validators and the bodies they validate, for the child's
    ArchiveView: a validator whose body is not in the spool is left out (a 304 without the bytes would lose
    the links of a report page), so that URL is fetched in full."""
    db = open_db(path)
    used = 0
    try:
        db.table("portals").upsert({"id": portal["name"], "name": portal["agency"]}, pk="id")
        for v in vals:
            if not v.get("sha256") or not spool.has(v["sha256"]):
                continue
            meta = FetchMeta(
                url=v["url"],
                kind=v["kind"],
                portal_id=portal["name"],
                etag=v.get("etag"),
                last_modified=v.get("last_modified"),
                content_type=v.get("content_type"),
            )
            write_version(db, spool.get(v["sha256"]), meta)
            used += 1
    finally:
        db.close()
    return used


def run_job(
    broker: RedisBroker,
    url: str,
    job: dict[str, Any],
    *,
    job_id: str,
    spool: Spool,
    warc_dir: Path,
    settings: dict[str, str],
    timeout: float | None = None,
) -> dict[str, Any]:
    """Crawl one portal job in a child `python -m crawler crawl` with the capture stage; return a summary.

    The host lock is taken first: a host busy with another crawl puts the job back (delayed) untouched.
    A child that exits without sending its close (a crash) gets a `failed` close sent here.
    """
    portal = job["portal"]
    lock = HostLock(broker, hosts_of(portal), job_id)
    if not lock.acquire():
        send(broker, "crawl_portal", job, delay_ms=int(os.environ.get("NIANBAO_HOST_BUSY_DELAY_MS", "30000")))
        return {"portal": portal["name"], "status": "host busy, requeued"}
    run_key = uuid.uuid4().hex
    try:
        with tempfile.TemporaryDirectory(prefix="nianbao-job-") as tmp:
            work = Path(tmp)
            view = work / "view.db"
            used = _view_db(view, portal, job.get("validators") or [], spool)
            state = work / "closed.json"
            cmd = [sys.executable, "-m", "crawler", "crawl", "--db", str(view), "--warc-dir", str(warc_dir)]
            if portal.get("source") == "--url":
                cmd += ["--url", portal["start_urls"][0], "--agency", portal["agency"], portal["name"]]
            else:
                reg = work / "registry"
                reg.mkdir()
                fields = {
                    k: v for k, v in portal.items() if k in Portal.__dataclass_fields__ and k != "source"
                }
                (reg / f"{portal['name']}.toml").write_text(dumps_portal(Portal(**fields)), encoding="utf-8")
                cmd += ["--registry", str(reg), portal["name"]]
            child = {
                "ITEM_PIPELINES": json.dumps({"crawler.queue.capture.CaptureStage": 300}),
                "NIANBAO_RUN_KEY": run_key,
                "NIANBAO_JOB_ID": job_id,
                "NIANBAO_SPOOL": str(spool.root),
                "NIANBAO_RUN_STATE": str(state),
                **(job.get("settings") or {}),
                **settings,
            }
            for k, v in child.items():
                cmd += ["-s", f"{k}={v}"]

            def close_failed(reason: str, stats: dict[str, Any]) -> dict[str, Any]:
                """The close a child that left none never sent: the run is `failed`, not `running` for ever."""
                body = {"captures": None, "status": "failed", "reason": reason}
                send(
                    broker,
                    "close_run",
                    {"run_key": run_key, "job_id": job_id, "portal": portal, **body, "stats": stats},
                )
                return body

            started = time.monotonic()
            try:
                proc = subprocess.run(
                    cmd,
                    capture_output=True,
                    text=True,
                    timeout=timeout,
                    preexec_fn=_die_with_parent,
                    check=False,
                    env={**os.environ, "NIANBAO_QUEUE": url},  # not on the command line: `ps` shows that
                )
            except BaseException as exc:  # the time limit, a timeout: subprocess.run killed the child
                if not state.exists():
                    try:
                        close_failed(f"the crawl job was stopped: {type(exc).__name__}: {exc}", {})
                    except Exception:
                        log.exception("could not send the failed close of run %s", run_key)
                raise
            elapsed = round(time.monotonic() - started, 2)
            if state.exists():
                closed = json.loads(state.read_text(encoding="utf-8"))
            else:
                closed = close_failed(
                    f"the crawl process exited with code {proc.returncode} without closing its run",
                    {"child_exit": proc.returncode, "child_stderr": proc.stderr[-2000:]},
                )
        return {
            "portal": portal["name"],
            "run_key": run_key,
            "validators_used": used,
            "seconds": elapsed,  # no exit code: a child that closed its run exits 1 (no crawl in its view db)
            **closed,
        }
    finally:
        lock.release()
        broker.client.delete(QUEUED_KEY + portal["name"])
