"""Queue mode against a real redis-server (started here on 127.0.0.1 and a free port): two crawl workers,
one writer, two read workers over loopback fixture portals; kill -9 of a crawl worker and a read worker
mid-run; the final archive compared with a single-process `nianbao crawl` of the same portals."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.demo import generate_demo
from crawler.demo.server import SiteServer
from crawler.queue.local_redis import LocalRedis

from .helpers_crawl import query, run_crawl

FIXTURES = Path(__file__).parent / "fixtures" / "portals"
PORTALS: list[str] = []  # the demo portals and a blocked one (set by the `portals` fixture)
PY = [sys.executable, "-m", "crawler"]


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[LocalRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed and CI is set (scripts/setup.sh installs it)")
        pytest.skip("redis-server not installed")
    with LocalRedis(tmp_path / "redis") as server:
        yield server


@pytest.fixture(scope="module")
def portals(
    tmp_path_factory: pytest.TempPathFactory, site_server: Callable[[Path], SiteServer]
) -> tuple[Path, Path]:
    """The fixture portals on loopback, their registry, and a single-process crawl of them (the baseline)."""
    tmp = tmp_path_factory.mktemp("queue-portals")
    site = tmp / "site"
    site.mkdir()
    server = site_server(site)
    reg = tmp / "registry"
    truth = generate_demo(site, base_port=server.port, registry_dir=reg)
    PORTALS[:] = [*truth["portals"], "blocked"]
    shutil.copytree(FIXTURES / "blocked", site / "blocked")
    (reg / "blocked.toml").write_text(
        f'name = "blocked"\nagency = "测试blocked"\nlevel = "县级"\n'
        f'start_urls = ["http://blocked.localhost:{server.port}/"]\nallowed_domains = ["blocked.localhost"]\n',
        encoding="utf-8",
    )
    baseline = tmp / "single.db"
    proc = run_crawl("--registry", str(reg), "--db", str(baseline), "--warc-dir", str(tmp / "warc"))
    assert proc.returncode == 3, proc.stderr[-2000:]  # the blocked portal (exit code of `blocked`)
    return reg, baseline


def env_for(redis: LocalRedis, tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "NIANBAO_REDIS_URL": redis.url,
        "NIANBAO_SPOOL": str(tmp / "spool"),
        # A dead worker is noticed after 2 s, and every queue command may run the maintenance that
        # redelivers its messages; host locks of a killed worker expire after 3 s.
        "NIANBAO_QUEUE_HEARTBEAT_MS": "2000",
        "NIANBAO_QUEUE_MAINTENANCE_CHANCE": "1000000",
        "NIANBAO_HOST_LOCK_TTL": "3",
        "NIANBAO_HOST_BUSY_DELAY_MS": "500",
        "NIANBAO_QUEUE_STATS_EVERY": "1",
        # A worker that cannot drain says so and exits 6 within seconds (the test then names it).
        "NIANBAO_IDLE_GIVE_UP": "30",
        "NIANBAO_CLOSE_WAIT": "20",
    }


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*PY, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(procs: list[subprocess.Popen[str]], timeout: float = 90) -> None:
    """Wait for the workers to exit by themselves; one still running after `timeout` seconds (shared by all)
    is killed and named, with the end of its log."""
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            _out, err = p.communicate(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            _out, err = p.communicate()
            raise AssertionError(f"hung: {' '.join(map(str, p.args[3:]))}\n{err[-3000:]}") from None
        assert p.returncode == 0, f"{' '.join(map(str, p.args[3:]))} exited {p.returncode}\n{err[-3000:]}"


def kill9(proc: subprocess.Popen[str]) -> None:
    """kill -9 the worker and whatever it started (its reader processes, its crawl child)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def schedule(env: dict[str, str], reg: Path) -> None:
    proc = subprocess.run([*PY, "schedule", "--registry", str(reg)], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert [json.loads(line)["action"] for line in proc.stdout.splitlines()] == ["enqueued"] * len(PORTALS)


def reports(db: Path) -> set[tuple]:
    """Every report by URL, and its failed checks as a multiset per agency and year: when an agency has two
    complete reports for one year (a page and its attachment), the auditor compares years through the one
    written last (reports.id), and the order reads finish in is not the same in the two modes."""
    rows = query(
        db,
        "SELECT d.url, r.agency, r.year, r.status, r.template, r.problem_count, r.failed_checks"
        " FROM reports r JOIN documents d ON d.id = r.document_id",
    )
    failed: dict[tuple, list[int]] = {}
    for r in rows:
        failed.setdefault((r[1], r[2]), []).append(r[6])
    return {r[:6] for r in rows} | {(k, tuple(sorted(v))) for k, v in failed.items()}


def figures(db: Path) -> set[tuple]:
    return set(
        query(
            db,
            'SELECT d.url, f."table", f."row", f."column", f.value FROM figures f'
            " JOIN reports r ON r.id = f.report_id JOIN documents d ON d.id = r.document_id",
        )
    )


def fetched_per_run(db: Path) -> dict[int, Counter[str]]:
    """Per crawl row: how often each URL was requested, from the WARC request records it wrote."""
    out: dict[int, Counter[str]] = {}
    for crawl_id, files in query(db, "SELECT id, warc_files FROM crawls WHERE warc_files IS NOT NULL"):
        counts: Counter[str] = Counter()
        for f in json.loads(files):
            with open(f, "rb") as fh:
                for rec in ArchiveIterator(fh):
                    if rec.rec_type == "request":
                        counts[rec.rec_headers.get_header("WARC-Target-URI")] += 1
        out[crawl_id] = counts
    return out


def test_two_crawl_workers_one_writer_two_readers_equal_single_process(portals, redis, tmp_path):
    reg, baseline = portals
    env = env_for(redis, tmp_path)
    schedule(env, reg)
    db = tmp_path / "queue.db"
    warc = str(tmp_path / "warc")
    procs = [
        start(env, "worker", "write", "--db", str(db), "--until-idle"),
        start(env, "worker", "crawl", "--warc-dir", warc, "--until-idle"),
        start(env, "worker", "crawl", "--warc-dir", warc, "--until-idle"),
        start(env, "worker", "read", "--processes", "1", "--until-idle"),
        start(env, "worker", "read", "--processes", "1", "--until-idle"),
    ]
    finish(procs)
    assert reports(db) == reports(baseline) and len(reports(db)) >= 10
    assert figures(db) == figures(baseline) and len(figures(db)) > 100
    # Every report version archived exactly once.
    assert query(db, "SELECT version_id FROM reports GROUP BY version_id HAVING count(*) > 1") == []
    assert (
        query(db, "SELECT count(*) FROM reports")[0][0]
        == query(baseline, "SELECT count(*) FROM reports")[0][0]
    )
    # One crawl row per portal, closed with the single-process status, and no URL fetched twice in a run.
    rows = dict(query(db, "SELECT portal_id, status FROM crawls"))
    assert rows == dict(query(baseline, "SELECT portal_id, status FROM crawls"))
    runs = fetched_per_run(db)
    assert len(runs) == len(PORTALS)
    for counts in runs.values():
        assert counts and max(counts.values()) == 1, counts.most_common(3)
    # Crawl health at close, the same in both modes.
    health = {r[0]: r[1:] for r in query(db, "SELECT portal_id, requests, health_ok, health FROM crawls")}
    ok = [v for p, v in health.items() if p != "blocked"]
    assert len(ok) == len(PORTALS) - 1 and all(v[0] > 5 and v[1] == 1 for v in ok), health
    assert health["blocked"][1] == 0 and '"not_blocked", "ok": false' in health["blocked"][2]
    by_status = (
        "SELECT portal_id, reports_by_status, new_versions, new_documents FROM crawls ORDER BY portal_id"
    )
    assert query(db, by_status) == query(baseline, by_status)
    # The canned queries for operators read the health columns: the blocked portal failed its last run.
    import yaml

    canned = yaml.safe_load((Path(__file__).parents[1] / "archive/datasette/metadata.yml").read_text())
    sql = canned["databases"]["nianbao"]["queries"]["portals_failed_last_run"]["sql"]
    assert [r[0] for r in query(db, sql)] == ["blocked"]
    sql = canned["databases"]["nianbao"]["queries"]["parse_failures_by_format"]["sql"]
    assert sum(r[1] for r in query(db, sql)) == query(db, "SELECT count(*) FROM reports")[0][0]
    queries = canned["databases"]["nianbao"]["queries"]
    assert [r[1] for r in query(db, queries["queue_depth"]["sql"])] == ["crawl", "read", "write"]
    assert query(db, queries["portals_report_count_fell"]["sql"]) == []
    conn = sqlite3.connect(db)
    try:
        missing = queries["portals_missing_year"]["sql"]
        # Every demo portal has a 2023 report; the blocked one has none. 2999's deadline has not passed.
        assert [r[0] for r in conn.execute(missing, {"year": 2023})] == ["blocked"]
        assert conn.execute(missing, {"year": 2999}).fetchall() == []
    finally:
        conn.close()
    # The writer recorded queue depths, its last snapshot of each queue empty, and nothing is left in Redis.
    last = query(db, queries["queue_depth"]["sql"])
    assert [(r[1], r[2], r[3], r[4]) for r in last] == [(q, 0, 0, 0) for q in ("crawl", "read", "write")]
    from crawler.queue.broker import make_broker, pending

    broker = make_broker(redis.url)
    try:
        assert pending(broker) == {"crawl": 0, "write": 0, "read": 0}
    finally:
        broker.close()


def unacked(redis: LocalRedis, queue: str) -> int:
    """Messages of `queue` taken by some worker and not acked yet (Dramatiq's per-worker ack sets)."""
    import redis as redis_py

    client = redis_py.Redis.from_url(redis.url)
    try:
        return sum(int(client.scard(k)) for k in client.keys(f"dramatiq:__acks__.*.{queue}"))
    finally:
        client.close()


def kill9_holding(proc: subprocess.Popen[str], redis: LocalRedis, queue: str, timeout: float = 120) -> int:
    """kill -9 a worker at a moment it holds messages of `queue` it has not acked: it is stopped (SIGSTOP)
    while its ack sets are read, so it cannot ack in between; returns how many it held."""
    deadline = time.monotonic() + timeout
    while True:
        os.killpg(proc.pid, signal.SIGSTOP)
        held = unacked(redis, queue)
        if held > 0:
            kill9(proc)
            return held
        os.killpg(proc.pid, signal.SIGCONT)
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker never held a {queue} message")
        time.sleep(0.05)


def wait_for(what: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.1)


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return 0


def test_kill9_crawl_worker_and_read_worker_jobs_redelivered(portals, redis, tmp_path):
    reg, baseline = portals
    env = env_for(redis, tmp_path)
    schedule(env, reg)
    db = tmp_path / "queue.db"
    warc = str(tmp_path / "warc")
    # The victim crawls slowly (one connection, 0.3 s between requests) so the kill lands mid-crawl.
    slow = ["-s", "DOWNLOAD_DELAY=0.3", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"]
    writer = start(env, "worker", "write", "--db", str(db), "--until-idle")
    victim = start(env, "worker", "crawl", "--warc-dir", warc, *slow)
    reader = start(env, "worker", "read", "--processes", "1")
    # Mid-crawl: a run has sent some captures but is not closed.
    wait_for(
        lambda: (
            count(
                db,
                "SELECT count(*) FROM crawls c WHERE finished_at IS NULL AND"
                " (SELECT count(*) FROM queue_captures q WHERE q.crawl_id = c.id) >= 3",
            )
            > 0
        )
    )
    kill9(victim)
    survivor = start(env, "worker", "crawl", "--warc-dir", warc, "--until-idle")  # at full speed
    # Mid-read: the reader has written a report and more versions are waiting for it.
    wait_for(lambda: count(db, "SELECT count(*) FROM reports") >= 1)
    orphaned = kill9_holding(reader, redis, "read")
    readers = [start(env, "worker", "read", "--processes", "1", "--until-idle") for _ in range(2)]
    finish([survivor, *readers, writer])
    # The killed reader held messages it had taken but not acked; they were read again by the others.
    assert orphaned > 0
    assert unacked(redis, "read") == 0
    # The killed run is recorded as interrupted; its job ran again to the end on the other worker.
    statuses = query(db, "SELECT portal_id, status FROM crawls ORDER BY id")
    assert "interrupted" in {s for _, s in statuses}, statuses
    interrupted = {p for p, s in statuses if s == "interrupted"}
    for portal in interrupted:
        assert query(db, "SELECT status FROM crawls WHERE portal_id = ? ORDER BY id DESC LIMIT 1", portal)[0][
            0
        ] in ("finished", "blocked")
    # Nothing lost, nothing doubled: the archive equals the single-process crawl.
    assert reports(db) == reports(baseline)
    assert figures(db) == figures(baseline)
    assert query(db, "SELECT version_id FROM reports GROUP BY version_id HAVING count(*) > 1") == []
    assert set(query(db, "SELECT url, kind FROM documents")) == set(
        query(baseline, "SELECT url, kind FROM documents")
    )
    assert query(db, "SELECT count(*) FROM documents WHERE gone_since IS NOT NULL")[0][0] == 0


def test_until_idle_gives_up_and_names_what_is_pending(redis, tmp_path):
    """A writer waiting for a crawl no crawl worker takes: it does not hang, it exits 6 and says why."""
    env = env_for(redis, tmp_path)
    proc = subprocess.run(
        [*PY, "schedule", "--url", "http://127.0.0.1:9/", "--agency", "青山县人民政府"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    write = [*PY, "worker", "write", "--db", str(tmp_path / "a.db"), "--until-idle", "--give-up-after", "2"]
    proc = subprocess.run(write, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 6, proc.stderr[-2000:]
    assert "gives up" in proc.stderr and "'crawl': 1" in proc.stderr, proc.stderr[-2000:]


def test_host_lock_keeps_refreshing_after_a_redis_blip(redis, tmp_path, monkeypatch):
    """A connection error while refreshing must not end the refresh thread (the lock would expire mid-crawl)."""
    from crawler.queue.broker import make_broker
    from crawler.queue.jobs import LOCK_KEY, HostLock

    monkeypatch.setenv("NIANBAO_HOST_LOCK_TTL", "1")  # refreshed every 0.5 s
    broker = make_broker(redis.url)
    lock = HostLock(broker, ["qingshan.localhost"], "job-1")
    try:
        assert lock.acquire()
        redis.stop()
        time.sleep(1.5)  # a few refreshes fail
        assert lock._thread is not None and lock._thread.is_alive()
        redis.start()
        broker.client.set(LOCK_KEY + "qingshan.localhost", "job-1", ex=1)
        time.sleep(1.5)  # outlives the ttl only if the thread still refreshes
        assert broker.client.get(LOCK_KEY + "qingshan.localhost") == b"job-1"
    finally:
        lock.release()
        broker.close()


def test_capture_stage_counts_a_capture_it_could_not_send(redis, tmp_path):
    """The child's capture stage: a WARC record not written travels with its capture (`warc_problem`); a
    Redis blip while sending is logged and counted (the crawl ends partial), not an exception Scrapy drops."""
    import asyncio
    from concurrent.futures import Future

    from scrapy.utils.test import get_crawler

    from crawler.items import DocumentItem
    from crawler.queue.broker import make_broker
    from crawler.queue.capture import CaptureStage

    settings = {
        "NIANBAO_QUEUE": redis.url,
        "NIANBAO_RUN_KEY": "run-1",
        "NIANBAO_SPOOL": str(tmp_path / "spool"),
    }
    crawler = get_crawler(settings_dict=settings)
    stage = CaptureStage(crawler)
    stage.broker, stage.portal = make_broker(redis.url), {"name": "qingshan", "start_urls": []}
    failed: Future = Future()
    failed.set_exception(OSError(28, "No space left on device"))
    url = "http://qingshan.localhost/zfxxgk/"
    item = DocumentItem(
        url=url, kind="list", portal_id="qingshan", body=b"<html></html>", warc_written=failed
    )
    asyncio.run(stage.process_item(item))
    (raw,) = stage.broker.client.hvals("dramatiq:write.msgs")
    sent = json.loads(raw)["args"][0]
    assert sent["seq"] == 0 and "No space left on device" in sent["warc_problem"]
    redis.stop()  # the blip
    asyncio.run(stage.process_item(DocumentItem(url=url + "2.html", kind="list", portal_id="qingshan")))
    assert stage.facts.store_errors == 1 and crawler.stats.get_value("nianbao/store_errors") == 1
    assert stage.seq == 1  # the close waits for the one capture sent, not for the lost one
    redis.start()
    stage.broker.close()


def write_messages(redis: LocalRedis) -> list[dict]:
    import redis as redis_py

    client = redis_py.Redis.from_url(redis.url)
    try:
        return [json.loads(raw) for raw in client.hvals("dramatiq:write.msgs")]
    finally:
        client.close()


def test_crawl_job_gets_redis_from_its_environment_and_a_stopped_job_closes_failed(
    redis, tmp_path, monkeypatch
):
    """The Redis URL (a password) reaches the child through its environment, never its command line; a job
    stopped mid-crawl (Dramatiq's time limit, a timeout) still sends its run's `failed` close."""
    from archive.spool import Spool
    from crawler.queue import jobs
    from crawler.queue.broker import make_broker

    portal = {
        "name": "dead",
        "agency": "青山县人民政府",
        "start_urls": ["http://127.0.0.1:9/"],
        "source": "--url",
    }
    job = {"portal": portal, "validators": [], "settings": {"RETRY_ENABLED": "False"}}
    calls: list[dict] = []
    real_run = subprocess.run

    def spy(cmd, **kw):
        calls.append({"cmd": cmd, "env": kw.get("env") or {}})
        return real_run(cmd, **kw)

    monkeypatch.setattr(jobs.subprocess, "run", spy)
    broker = make_broker(redis.url)
    kw = {"spool": Spool(tmp_path / "spool"), "warc_dir": tmp_path / "warc", "settings": {}}
    try:
        summary = jobs.run_job(broker, redis.url, job, job_id="job-1", **kw)
        assert redis.url not in " ".join(calls[0]["cmd"]) and calls[0]["env"]["NIANBAO_QUEUE"] == redis.url
        (close,) = [m["args"][0] for m in write_messages(redis) if m["actor_name"] == "close_run"]
        assert close["facts"] is not None and close["run_key"] == summary["run_key"]  # the child's own close
        assert "exit" not in summary  # always 1 for a child that closed its run: meaningless

        with pytest.raises(subprocess.TimeoutExpired):
            jobs.run_job(broker, redis.url, {**job, "job_id": "job-2"}, job_id="job-2", timeout=0.2, **kw)
        closes = [m["args"][0] for m in write_messages(redis) if m["actor_name"] == "close_run"]
        (stopped,) = [c for c in closes if c["job_id"] == "job-2"]
        assert stopped["status"] == "failed" and "TimeoutExpired" in stopped["reason"]
    finally:
        broker.close()


def test_a_crawl_job_out_of_time_is_not_retried(redis):
    from dramatiq.middleware.time_limit import TimeLimitExceeded

    from crawler.queue.broker import make_broker
    from crawler.queue.workers import _declare

    broker = make_broker(redis.url)
    try:
        _declare(broker)
        assert broker.get_actor("crawl_portal").options["throws"] == (TimeLimitExceeded,)
    finally:
        broker.close()
