"""Issue 11: a hostile portal's markup is never live anywhere a reader goes.

A loopback portal (tests/xss_portal.py) serves reports with `<script>`, event attributes, `javascript:`
links, `<iframe srcdoc>`, `<svg onload>` as live markup and as text in the title, agency, link text,
sections, a table cell and a changed line; it is crawled twice (a change row), published as a snapshot and
served as `nianbao serve --immutable` does. A real browser (Chromium, headless) opens every page a reader
can reach: the report and document pages, every table, view and canned query with row pages, the search
page, both Atom feeds, the dashboard, agency and compare pages, and every original. Each payload sets
`window.__pwned` and fetches a canary server: the test asserts the flag is never set, the canary saw no
request, no dialog opened and no live payload element (an `on*` attribute, a `javascript:` URL, a
`srcdoc`, a payload `<script>`) exists in any page's DOM. The feeds are also parsed as XML.
"""

from __future__ import annotations

import json
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from .helpers_archive import datasette_server, fetch
from .helpers_crawl import query, run_crawl
from .test_browser import ARGS, CHROMIUM
from .xss_portal import XssPortal

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed"),
]
ATOM = "{http://www.w3.org/2005/Atom}"
# Live markup of a payload in a page's DOM: an event attribute, a script URL, an inline document, a script.
LIVE_MARKUP_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const v = a.value.trim().toLowerCase();
      if (a.name.startsWith('on') && v.includes('__pwned')) bad.push(el.tagName + '@' + a.name);
      if (['href', 'src', 'action', 'formaction', 'data', 'xlink:href'].includes(a.name)
          && v.startsWith('javascript:')) bad.push(el.tagName + '@' + a.name);
      if (a.name === 'srcdoc') bad.push(el.tagName + '@srcdoc');
    }
    if (el.tagName === 'SCRIPT' && el.textContent.includes('__pwned')) bad.push('SCRIPT');
  }
  return {bad, pwned: typeof window.__pwned !== 'undefined'};
}"""


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from archive.publish import take_snapshot

    tmp = tmp_path_factory.mktemp("xss")
    portal = XssPortal().start()
    db = tmp / "x.db"
    agency = f"恶意县{portal.marks[2]}人民政府"  # the registry's agency name carries markup too
    try:
        for variant in (1, 2):  # the second crawl changes a figure and a line: a `changes` row
            portal.variant = variant
            proc = run_crawl("--url", portal.url, "--agency", agency, "--db", str(db))
            assert proc.returncode == 0, proc.stderr[-2000:]
        snap = take_snapshot(db, tmp / "snaps", day="2026-01-01")
        with datasette_server(snap.path, immutable=True) as base:
            yield {"portal": portal, "db": db, "base": base, "name": snap.path.stem}
    finally:
        portal.stop()


def reader_urls(pub: dict[str, Any]) -> list[str]:
    """Every page a reader can reach for this archive."""
    db, name = pub["db"], pub["name"]
    info = json.loads(fetch(f"{pub['base']}/{name}.json")[1])
    urls = ["/", f"/{name}", "/-/search?q=恶意县", "/-/search?q=script", "/-/dashboards/overview"]
    for t in info.get("tables", []) + info.get("views", []):
        if not t.get("hidden"):
            urls.append(f"/{name}/{urllib.parse.quote(t['name'])}")
    for q in info.get("queries", []):
        if not q.get("params"):
            urls.append(f"/{name}/{urllib.parse.quote(q['name'])}")
    for (rid,) in query(db, "SELECT id FROM reports"):
        urls += [f"/{name}/-/report/{rid}", f"/{name}/reports/{rid}"]
    for (did,) in query(db, "SELECT DISTINCT document_id FROM reports"):
        urls += [f"/{name}/-/document/{did}", f"/{name}/documents/{did}"]
    for (cid,) in query(db, "SELECT id FROM changes"):
        urls.append(f"/{name}/changes/{cid}")
    for agency, year in query(db, "SELECT DISTINCT agency, year FROM reports"):
        quoted = urllib.parse.quote(agency, safe="")
        urls += [f"/{name}/-/agency/{quoted}", f"/{name}/-/report/{quoted}/{year}"]
    for (year,) in query(db, "SELECT DISTINCT year FROM reports"):
        urls.append(f"/{name}/-/compare?year={year}")
    (pid,) = query(db, "SELECT id FROM portals")[0]
    urls.append(f"/{name}/portals/{urllib.parse.quote(pid)}")
    return urls


def original_urls(pub: dict[str, Any]) -> list[str]:
    ids = [vid for (vid,) in query(pub["db"], "SELECT id FROM versions")]
    return [f"/{pub['name']}/-/original/{vid}" for vid in ids]


def test_the_archive_holds_the_hostile_text(published: dict[str, Any]) -> None:
    """The premise: the markup really is in the published data (titles, agencies, sections, changes)."""
    db = published["db"]
    assert query(db, "SELECT count(*) FROM reports WHERE title LIKE '%<script>%__pwned%'")[0][0] >= 1
    assert query(db, "SELECT count(*) FROM reports WHERE agency LIKE '%<svg onload=%'")[0][0] >= 1
    assert query(db, "SELECT count(*) FROM sections WHERE text LIKE '%<iframe srcdoc=%'")[0][0] >= 1
    assert query(db, "SELECT count(*) FROM changes WHERE text_diff LIKE '%ontoggle=%'")[0][0] >= 1
    assert query(db, "SELECT count(*) FROM documents WHERE link_text LIKE '%<body onload=%'")[0][0] >= 1


def test_no_payload_runs_in_a_browser(published: dict[str, Any]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    base, portal = published["base"], published["portal"]
    canary = f"127.0.0.1:{portal.canary.server_address[1]}"
    seen: list[str] = []
    dialogs: list[str] = []
    live: dict[str, list[str]] = {}
    visited = 0
    unsandboxed: list[str] = []  # originals served without the CSP sandbox (asserted last: did they run?)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            # The control: the portal's own report page runs its payloads, and this test sees it.
            control = browser.new_page()
            control.goto(portal.url + "xxgk/ndbg/2023.html", wait_until="load")
            control.wait_for_function("typeof window.__pwned !== 'undefined'")
            found = control.evaluate(LIVE_MARKUP_JS)
            assert found["pwned"] and {"SCRIPT", "IMG@onerror", "IFRAME@srcdoc"} <= set(found["bad"]), found
            for _ in range(100):  # the payload's request is on its way
                if portal.canary_hits:
                    break
                control.wait_for_timeout(100)
            control.close()
            assert portal.canary_hits and seen == [], "the canary saw no request from the control page"
            portal.canary.hits.clear()  # type: ignore[attr-defined]

            page = browser.new_page()
            page.set_default_timeout(60000)
            page.on("request", lambda r: seen.append(r.url) if canary in r.url else None)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            for path in reader_urls(published):
                # The DOM is checked for live payload elements whether or not a payload got to run.
                response = page.goto(base + path, wait_until="domcontentloaded")
                assert response is not None and response.status == 200, (path, response and response.status)
                for frame in page.frames:
                    found = frame.evaluate(LIVE_MARKUP_JS)
                    if found["bad"] or found["pwned"]:
                        live[path] = found["bad"] + (["window.__pwned set"] if found["pwned"] else [])
                visited += 1
            # The dashboard draws its charts with the hostile agency names in them.
            page.goto(base + "/-/dashboards/overview")
            page.wait_for_selector("#chart-applications-by-year canvas, #chart-applications-by-year svg")
            assert page.evaluate("typeof window.__pwned") == "undefined"
            # Originals: the hostile HTML as served, under a CSP sandbox that lets no script run.
            for path in original_urls(published):
                response = page.goto(base + path, wait_until="load")
                assert response is not None and response.status == 200, path
                csp = response.headers.get("content-security-policy", "")
                if not ("sandbox" in csp and "default-src 'none'" in csp):
                    unsandboxed.append(f"{path} ({response.headers.get('content-type')})")
                # ?as=text: the same bytes as plain text, nothing of them live
                response = page.goto(base + path + "?as=text", wait_until="load")
                assert response is not None and response.headers["content-type"].startswith("text/plain")
                found = page.evaluate(LIVE_MARKUP_JS)
                assert not found["bad"] and not found["pwned"], (path, found)
                visited += 1
            # Both feeds, rendered by the browser.
            for feed in ("feed_new_reports", "feed_changed_reports"):
                response = page.goto(f"{base}/{published['name']}/{feed}.atom", wait_until="load")
                assert response is not None and response.status == 200, feed
                assert page.evaluate("typeof window.__pwned") == "undefined"
                visited += 1
            page.wait_for_timeout(500)  # let any late request reach the canary before it is read
        finally:
            browser.close()
    assert visited > 40
    assert live == {}, live
    assert dialogs == []
    assert seen == [] and portal.canary_hits == [], (seen, portal.canary_hits)
    assert unsandboxed == []


@pytest.mark.parametrize("feed", ["feed_new_reports", "feed_changed_reports"])
def test_feeds_parse_as_xml_with_entries_as_text(published: dict[str, Any], feed: str) -> None:
    """Each entry's title and content are text (or escaped HTML sanitised by the feed plugin): the payload
    is there as characters, never as elements of the feed."""
    status, body, _ = fetch(f"{published['base']}/{published['name']}/{feed}.atom")
    assert status == 200, body[:500]
    root = ET.fromstring(body)
    entries = root.findall(f"{ATOM}entry")
    assert entries, body[:500]
    titles = [e.findtext(f"{ATOM}title") or "" for e in entries]
    assert any("__pwned" in t for t in titles), titles
    for entry in entries:
        for child in entry:
            assert child.tag.startswith(ATOM), child.tag  # no foreign (XHTML) element smuggled in
            assert len(list(child)) == 0 or child.tag == f"{ATOM}author", (child.tag, list(child))
            if child.get("type") == "html":
                text = child.text or ""
                assert "<script" not in text and "onerror" not in text and "javascript:" not in text, text
