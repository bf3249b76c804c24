"""The `nianbao` command: the archive's commands (archive/cli.py) plus `crawl`, `portals` and `demo`.

This module sits on top (imports point down: crawler → archive → pipelines); `python -m crawler` and the
`nianbao` console script both run `main`. A crawl runs in-process with one CrawlerProcess (one Twisted reactor per command); `nianbao demo` runs
each of its two crawls as a child `nianbao crawl` process, because a reactor cannot be restarted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from archive.cli import datasette_command
from archive.cli import main as archive_main

from .cli_queue import overrides as parse_overrides
from .cli_queue import queue_group, schedule, worker
from .jobdir import prepare as prepare_jobdir
from .jobdir import write as write_jobdir
from .outcome import worst_exit_code
from .portals import (
    Portal,
    RegistryError,
    import_csv,
    is_loopback,
    select_portals,
    validate_registry,
)


def crawl_settings(db_path: Path, warc_dir: Path, portals: list[Portal], overrides: dict[str, str]) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("NIANBAO_DB", str(db_path), priority="cmdline")
    settings.set("NIANBAO_WARC_DIR", str(warc_dir), priority="cmdline")
    if portals and all(is_loopback(u) for p in portals for u in p.start_urls):
        # Loopback (demo, tests): politeness delays protect nobody and only slow the crawl down.
        loopback: tuple[tuple[str, float], ...] = (
            ("AUTOTHROTTLE_ENABLED", False),
            ("DOWNLOAD_DELAY", 0),
            ("AUTOTHROTTLE_START_DELAY", 0.0),
            ("RETRY_BACKOFF_BASE", 0.1),
            ("RETRY_AFTER_MAX", 2.0),
            ("CONCURRENT_REQUESTS_PER_DOMAIN", 4),
            ("DOWNLOAD_DELAY_JITTER", 0.0),
        )
        for key, value in loopback:
            settings.set(key, value, priority="cmdline")
    settings.set("NIANBAO_PROGRESS", True, priority="cmdline")
    settings.set("NIANBAO_PROGRESS_PORTALS", len(portals), priority="cmdline")
    if not os.environ.get("NIANBAO_LOG_LEVEL"):
        settings.set("LOG_LEVEL", "WARNING", priority="cmdline")  # the progress line replaces the banners
    for key, override in overrides.items():
        settings.set(key, override, priority="cmdline")
    return settings


def run_crawl(
    portals: list[Portal],
    *,
    db_path: Path,
    warc_dir: Path,
    registry: Path | None = None,
    jobdir: Path | None = None,
    overrides: dict[str, str] | None = None,
) -> list[int]:
    """Crawl `portals` concurrently in this process; return the ids of their `crawls` rows."""
    from scrapy.crawler import CrawlerProcess

    from .spiders.disclosure import DisclosureSpider

    settings = crawl_settings(db_path, warc_dir, portals, overrides or {})
    process = CrawlerProcess(settings)
    crawlers = []
    for portal in portals:
        crawler = process.create_crawler(DisclosureSpider)
        if jobdir:
            crawler.settings.frozen = False
            crawler.settings.set("JOBDIR", str(jobdir / portal.name), priority="cmdline")
            resumed = prepare_jobdir(jobdir / portal.name)
            crawler.settings.set("NIANBAO_RESUMED", resumed, priority="cmdline")
        kwargs: dict[str, Any] = {"portal": portal.name}
        if portal.source == "--url":
            kwargs.update(url=portal.start_urls[0], agency=portal.agency)
        elif registry:
            kwargs["registry"] = str(registry)
        process.crawl(crawler, **kwargs)
        crawlers.append(crawler)
    process.start()
    if jobdir:
        for crawler, portal in zip(crawlers, portals, strict=True):
            status = crawler.stats.get_value("nianbao/status") if crawler.stats else None
            write_jobdir(jobdir / portal.name, status or "failed")
    ids = [getattr(c.spider, "crawl_id", None) for c in crawlers]
    return [i for i in ids if isinstance(i, int)]


def build_wacz(db_path: Path, crawl_ids: list[int], out: Path) -> Path:
    """Package the crawls' WARC files as a WACZ with pages.jsonl (start pages and reports) and validate it."""
    from warcio.archiveiterator import ArchiveIterator

    from archive.crawls import replay_pages, warc_files

    wanted, titles = replay_pages(db_path)
    files = _with_referred_files(warc_files(db_path, crawl_ids))
    pages: dict[str, dict[str, str]] = {}
    for f in files:
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                url = rec.rec_headers.get_header("WARC-Target-URI")
                if rec.rec_type in ("response", "revisit") and url in wanted and url not in pages:
                    page = {"url": url, "ts": rec.rec_headers.get_header("WARC-Date")}
                    if titles.get(url):
                        page["title"] = titles[url]
                    pages[url] = page
    out.parent.mkdir(parents=True, exist_ok=True)
    pages_file = out.with_suffix(".pages.jsonl")
    lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})]
    lines += [json.dumps({"id": f"p{i}", **p}, ensure_ascii=False) for i, p in enumerate(pages.values())]
    pages_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    from wacz.main import main as wacz_main

    rc = wacz_main(["create", "-o", str(out), "-p", str(pages_file), "--title", "nianbao crawl", *files])
    pages_file.unlink(missing_ok=True)
    if rc not in (0, None):
        raise click.ClickException(f"wacz create failed ({rc})")
    if wacz_main(["validate", "-f", str(out)]) not in (0, None):
        raise click.ClickException(f"{out} does not validate")
    return out


def _with_referred_files(files: list[str]) -> list[str]:
    """Add the WARC files holding the originals that this crawl's revisit records refer to, so a replay
    tool opening the WACZ alone can resolve every revisit."""
    import sqlite3

    from warcio.archiveiterator import ArchiveIterator

    out = list(files)
    for f in files:
        index = Path(f).parent / "digests.sqlite"
        if not index.exists():
            continue
        conn = sqlite3.connect(str(index))
        with open(f, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type != "revisit":
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                digest = rec.rec_headers.get_header("WARC-Payload-Digest")
                row = (
                    conn.execute(
                        "SELECT warc_file FROM digests WHERE url = ? AND digest = ?", [url, digest]
                    ).fetchone()
                    if digest
                    else conn.execute(
                        "SELECT warc_file FROM digests WHERE url = ? ORDER BY date DESC", [url]
                    ).fetchone()
                )
                if row:
                    path = str(Path(f).parent / row[0])
                    if path not in out:
                        out.append(path)
        conn.close()
    return out


def _summary(db_path: Path, crawl_ids: list[int], elapsed: float) -> list[dict[str, Any]]:
    from archive.crawls import crawl_rows

    rows = []
    for r in crawl_rows(db_path, crawl_ids):
        stats = r["stats"]
        rows.append(
            {
                "crawl_id": r["id"],
                "portal": r["portal_id"],
                "status": r["status"],
                "pages": r["pages"] or 0,
                "reports": r["reports_found"] or 0,
                "bytes": r["bytes_received"] or 0,
                "new_versions": stats.get("nianbao/new_versions", 0),
                "new_report_versions": stats.get("nianbao/new_report_versions", 0),
                "unchanged": stats.get("nianbao/unchanged", 0),
                "not_modified": stats.get("nianbao/not_modified", 0),
                "decoys": stats.get("nianbao/decoys_rejected", 0),
                "revisits": stats.get("nianbao/warc_revisits", 0),
                "gone": stats.get("nianbao/marked_gone", 0),
                "evidence": r["blocked_evidence"],
                "reason": r.get("reason"),
                "errors": sum(v for k, v in stats.items() if k.startswith("nianbao/errors/")),
            }
        )
    total_pages = sum(r["pages"] for r in rows)
    for r in rows:
        r["elapsed"] = round(elapsed, 2)
        r["pages_per_second_all"] = round(total_pages / elapsed, 1) if elapsed else None
    return rows


@click.command()
@click.argument("names", nargs=-1)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Archive SQLite file (created if missing).",
)
@click.option("--url", help="Crawl one portal that is not in the registry, from this start URL.")
@click.option("--agency", help="Agency name for --url.")
@click.option(
    "--registry",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Portal registry folder (default: crawler/portals).",
)
@click.option(
    "--warc-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where WARC files go (default: <db stem>-warc beside the archive).",
)
@click.option(
    "--jobdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Resumable crawl state (Scrapy JOBDIR), one sub-folder per portal.",
)
@click.option(
    "--wacz",
    "wacz_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also package this crawl's WARC files as a validated WACZ.",
)
@click.option("--max-pages", type=int, help="Page budget per portal.")
@click.option("--max-depth", type=int, help="Discovery depth per portal.")
@click.option("-s", "settings", multiple=True, help="Any Scrapy setting, KEY=VALUE (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON lines.")
def crawl(
    names: tuple[str, ...],
    db_path: Path,
    url: str | None,
    agency: str | None,
    registry: Path | None,
    warc_dir: Path | None,
    jobdir: Path | None,
    wacz_out: Path | None,
    max_pages: int | None,
    max_depth: int | None,
    settings: tuple[str, ...],
    as_json: bool,
) -> None:
    """Crawl registry portals (all, or those NAMED) or one --url portal into the archive, keeping every
    response in WARC files. Exit code: 0 finished, 1 failed, 3 blocked, 4 interrupted, 5 partial (the
    worst portal's); every failed fetch or read is in the `crawl_errors` table."""
    try:
        portals = select_portals(url, agency, names, registry)
    except RegistryError as exc:
        raise click.UsageError(str(exc)) from exc
    overrides = parse_overrides(settings)
    if max_pages:
        overrides["NIANBAO_PAGE_BUDGET"] = str(max_pages)
    if max_depth:
        overrides["NIANBAO_MAX_DEPTH"] = str(max_depth)
    warc_dir = warc_dir or db_path.with_name(db_path.stem + "-warc")
    start = time.monotonic()
    crawl_ids = run_crawl(
        portals, db_path=db_path, warc_dir=warc_dir, registry=registry, jobdir=jobdir, overrides=overrides
    )
    elapsed = time.monotonic() - start
    rows = _summary(db_path, crawl_ids, elapsed)
    if wacz_out:
        build_wacz(db_path, crawl_ids, wacz_out)
        import sqlite3

        conn = sqlite3.connect(str(db_path))
        conn.executemany(
            "UPDATE crawls SET wacz_path = ? WHERE id = ?", [(str(wacz_out), c) for c in crawl_ids]
        )
        conn.commit()
        conn.close()
    for r in rows:
        if as_json:
            click.echo(json.dumps(r, ensure_ascii=False))
        else:
            click.echo(
                f"{r['portal']}: {r['status']}, {r['pages']} pages, {r['reports']} reports, "
                f"{r['new_versions']} new versions, {r['unchanged']} unchanged, "
                f"{r['not_modified']} not modified (304), {r['decoys']} decoys rejected"
            )
        if r["status"] != "finished":
            why = r["reason"] or r["evidence"] or ""
            click.echo(f"{r['portal']}: {r['status']}: {why[:300]}", err=True)
    if not as_json:
        pages = sum(r["pages"] for r in rows)
        click.echo(
            f"{pages} pages in {elapsed:.1f} s ({pages / elapsed:.1f} pages/s); WARC in {warc_dir}"
            + (f"; WACZ {wacz_out}" if wacz_out else "")
        )
    statuses = [r["status"] for r in rows]
    if len(rows) < len(portals):  # a portal whose crawl never opened its row (bad settings, crash)
        statuses.append("failed")
    sys.exit(worst_exit_code(statuses))


@click.group()
def portals() -> None:
    """The portal registry (crawler/portals/*.toml): list, validate, import from CSV."""


@portals.command("list")
@click.option("--registry", type=click.Path(file_okay=False, exists=True, path_type=Path))
def portals_list(registry: Path | None) -> None:
    """List the registered portals."""
    found, errors = validate_registry(registry)
    for p in found.values():
        click.echo(
            f"{p.name}\t{p.agency}\t{p.region or ''}\t{p.level or ''}\t{p.cms or ''}\t{' '.join(p.start_urls)}"
        )
    for e in errors:
        click.echo(e, err=True)


@portals.command("validate")
@click.option("--registry", type=click.Path(file_okay=False, exists=True, path_type=Path))
def portals_validate(registry: Path | None) -> None:
    """Check every registry entry; exit code 1 and one line per problem when any fails."""
    found, errors = validate_registry(registry)
    for e in errors:
        click.echo(e, err=True)
    click.echo(f"{len(found)} portals, {len(errors)} problems")
    sys.exit(1 if errors else 0)


@portals.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registry file to write (default: crawler/portals/import-<csv stem>.toml).",
)
def portals_import(csv_file: Path, out: Path | None) -> None:
    """Import a CSV of portals (name, agency, url or domain, region, level) into one registry file."""
    from .portals import REGISTRY_DIR

    out = out or REGISTRY_DIR / f"import-{csv_file.stem}.toml"
    n, problems = import_csv(csv_file, out)
    for p in problems:
        click.echo(p, err=True)
    click.echo(f"{n} portals written to {out}" + (f"; {len(problems)} rows skipped" if problems else ""))
    sys.exit(1 if problems else 0)


@click.command()
@click.option(
    "--port", type=int, default=0, help="Demo portal server port on 127.0.0.1 (default: a free one)."
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo.db"),
    show_default=True,
    help="Archive to build (replaced).",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the generated site and WARC files go (default: <db stem>-data).",
)
@click.option("--datasette-port", type=int, default=8001, show_default=True)
@click.option("--no-serve", is_flag=True, help="Build the archive and exit (CI, tests).")
def demo(port: int, db_path: Path, data_dir: Path | None, datasette_port: int, no_serve: bool) -> None:
    """Serve the bundled demo portals on loopback, crawl them twice (a report changes in between), build
    the archive and open it in Datasette."""
    from .demo import generate_demo
    from .demo.server import SiteServer

    data_dir = data_dir or db_path.with_name(db_path.stem + "-data")
    if data_dir.exists():
        shutil.rmtree(data_dir)
    for stale in (
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
    ):
        stale.unlink(missing_ok=True)
    server = SiteServer(data_dir / "site", port=port)
    server.start()
    try:
        truth = generate_demo(data_dir / "site", base_port=server.port, registry_dir=data_dir / "portals")
        click.echo(f"demo portals served at {', '.join(p['home'] for p in truth['portals'].values())}")
        runs = []
        for n in (1, 2):
            server.set_variant(n)
            cmd = [
                sys.executable,
                "-m",
                "crawler",
                "crawl",
                "--registry",
                str(data_dir / "portals"),
                "--db",
                str(db_path),
                "--warc-dir",
                str(data_dir / "warc"),
                "--json",
            ]
            if n == 2:
                cmd += ["--wacz", str(data_dir / "demo.wacz")]
            start = time.monotonic()
            proc = subprocess.run(
                cmd, capture_output=True, text=True, env={**os.environ, "NIANBAO_LOG_LEVEL": "WARNING"}
            )
            elapsed = time.monotonic() - start
            if proc.returncode != 0:
                click.echo(proc.stderr[-3000:], err=True)
                raise click.ClickException(f"demo crawl {n} failed")
            rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
            runs.append((rows, elapsed))
        (rows1, t1), (rows2, _t2) = runs
        click.echo("reports found per portal (crawl 1):")
        for r in rows1:
            click.echo(
                f"  {r['portal']}: {r['reports']} reports, {r['pages']} pages, {r['decoys']} decoys rejected"
            )
        pages1 = sum(r["pages"] for r in rows1)
        click.echo(
            f"crawl 1: {pages1} pages in {t1:.1f} s wall ({pages1 / t1:.1f} pages/s incl. start-up; "
            f"{rows1[0]['pages_per_second_all'] if rows1 else 0} pages/s crawling)"
        )
        b1, b2 = sum(r["bytes"] for r in rows1), sum(r["bytes"] for r in rows2)
        click.echo(
            f"crawl 2 (after a change): {sum(r['new_report_versions'] for r in rows2)} new report versions, "
            f"{sum(r['not_modified'] for r in rows2)} not modified (304), {sum(r['revisits'] for r in rows2)} "
            f"WARC revisits; {b2} bytes received vs {b1} ({b1 - b2} saved)"
        )
        click.echo(f"archive: {db_path}; WACZ: {data_dir / 'demo.wacz'}")
        if no_serve:
            return
        click.echo(f"open http://127.0.0.1:{datasette_port}/ (Ctrl-C to stop)")
        subprocess.call(datasette_command(db_path, port=datasette_port))
    finally:
        server.stop()


@click.command()
@click.argument("url")
@click.option("--max-pages", type=int, default=25, show_default=True, help="Pages to fetch at most.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def detect(url: str, max_pages: int, as_json: bool) -> None:
    """Probe a portal before adding it to the registry: CMS family, disclosure, catalogue and annual-report
    columns, report links and the pagination the crawler would walk."""
    from dataclasses import asdict

    from .detect import probe, render
    from .settings import USER_AGENT

    found = probe(url, user_agent=USER_AGENT, max_pages=max_pages)
    click.echo(json.dumps(asdict(found), ensure_ascii=False, indent=1) if as_json else render(found))
    if not found.annual:
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, help=archive_main.help)
@click.version_option(package_name="nianbao")
def main() -> None:
    pass


for _command in (*archive_main.commands.values(), crawl, portals, demo, detect):
    main.add_command(_command)
main.add_command(schedule)
main.add_command(worker)
main.add_command(queue_group)
