"""A generated county portal (某某县人民政府, fictional) for crawl benchmarks, served from memory on loopback.

Layout of a conventional county portal, so both a plain link-following spider and nianbao's focused spider
find their way:

- home → 信息公开 (/zfxxgk/) → 政府信息公开年报 (/zfxxgk/gknb/index.html, index_1.html … with 下一页/尾页):
  the county's own reports and those of its towns, with a few look-alikes (工作要点, 月报) in between;
- 信息公开 → 法定主动公开内容 (paginated policy documents) and 部门信息公开 → one sub-portal per department
  (/zfxxgk/bmxxgk/bmNN/) with its own 政府信息公开年报 list (paginated) and 通知公告;
- 新闻中心 (/xwzx/) with paginated 要闻动态 / 部门动态 / 通知公告 columns: the ordinary pages (most of the site)
  a report crawler should skip and a plain crawler fetches;
- reports 2021-2024 (the 2021 template: three statistical tables, crawler/demo/reports.py); every fifth is a
  page saying 详见附件 with the report as a PDF attachment.

`generate(pages, seed)` is deterministic and returns a `Portal` (path → bytes, plus the ground truth);
`PortalServer` serves it on 127.0.0.1 from memory (keep-alive, gzip, ETag), so the server costs as little
CPU as possible and the crawlers, not the server, are what a benchmark measures.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import random
import threading
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler.demo.reports import make_report, report_html, write_pdf

COUNTY = "某某县"
AGENCY = f"{COUNTY}人民政府"
YEARS = range(2021, 2025)
REPORT_SHARE = 0.15  # reports (HTML pages with tables, or wrapper + PDF) as a share of all pages
PDF_EVERY = 5  # every fifth report is only a PDF attachment behind a 详见附件 page
LIST_SIZE = 15  # items per page of the county's report list
DEPT_LIST_SIZE = 3  # items per page of a department's report list (4 reports + a decoy → 2 pages)
NEWS_LIST_SIZE = 20

# No department name may contain a word crawler/classify.py rejects (编制, 预算, 通知, 考核 …).
DEPARTMENTS = [
    "发展和改革局",
    "教育局",
    "科学技术局",
    "工业和信息化局",
    "公安局",
    "民政局",
    "司法局",
    "财政局",
    "人力资源和社会保障局",
    "自然资源局",
    "生态环境分局",
    "住房和城乡建设局",
    "交通运输局",
    "水利局",
    "农业农村局",
    "商务局",
    "文化和旅游局",
    "卫生健康局",
    "退役军人事务局",
    "应急管理局",
    "审计局",
    "市场监督管理局",
    "统计局",
    "医疗保障局",
    "林业局",
    "城市管理局",
    "体育局",
    "乡村振兴局",
    "信访局",
    "行政审批局",
    "数据资源管理局",
    "档案馆",
    "粮食和物资储备局",
    "机关事务管理局",
    "人民防空办公室",
    "投资促进局",
    "供销合作社联合社",
    "气象局",
    "残疾人联合会",
    "民族宗教事务局",
]
_TOWN_HEAD = "东西南北青石河山柳桃金白龙凤"
_TOWN_TAIL = ["桥", "湾", "坪", "口", "岭", "溪", "塘", "关", "坝", "集"]
DECOYS = ["{a}{y}年政务公开工作要点", "{a}{y}年12月政府信息公开工作月报"]
NEWS_COLUMNS = [("ywdt", "要闻动态"), ("bmdt", "部门动态"), ("tzgg", "通知公告")]
_NEWS_TOPICS = [
    "安全生产",
    "防汛抗旱",
    "乡村振兴",
    "营商环境",
    "森林防火",
    "河长制",
    "文明城市创建",
    "招商引资",
    "民生实事",
    "疫苗接种",
    "秋粮收购",
    "消防安全",
]
_NEWS_FORMS = [
    "{c}召开{t}工作推进会",
    "{d}开展{t}专项行动",
    "{c}{t}工作取得阶段性成效",
    "{d}部署{t}重点任务",
    "关于做好{t}工作的公告",
    "{c}举办{t}培训班",
]

_MIME = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "txt": "text/plain; charset=utf-8",
}


@dataclass
class Portal:
    """The generated site: path → bytes, and what a crawl of it should find."""

    files: dict[str, bytes] = field(default_factory=dict)
    reports: list[str] = field(default_factory=list)  # paths of report pages with tables
    pdf_pages: list[str] = field(default_factory=list)  # paths of 详见附件 pages
    pdfs: list[str] = field(default_factory=list)  # paths of the PDF reports
    decoys: list[str] = field(default_factory=list)
    list_pages: list[str] = field(default_factory=list)
    news: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        """Fetchable documents (robots.txt excluded)."""
        return len(self.files) - 1

    @property
    def report_count(self) -> int:
        """Reports a complete crawl should archive: table pages plus PDF-only reports."""
        return len(self.reports) + len(self.pdfs)

    def write_to(self, root: Path | str) -> Path:
        """Save the site as files (`--keep`): `dir/` is written as `dir/index.html`."""
        root = Path(root)
        for path, data in self.files.items():
            target = root / (path.lstrip("/") or "index.html")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return root


NAV = (
    "<div class='header'><div class='nav'><a href='/index.html'>首页</a> "
    "<a href='/zfxxgk/index.html'>信息公开</a> <a href='/xwzx/index.html'>新闻中心</a> "
    "<a href='/zwfw/index.html'>政务服务</a> <a href='/hdjl/index.html'>互动交流</a></div></div>"
)


# What surrounds every page of a real county portal (TRS/Hanweb templates weigh 30–80 KB): a header with the
# site's column menu, inline style and script, a footer of links to other government sites. Plain Scrapy and
# nianbao both parse all of it on every page they fetch; a bare 2 KB page would make fetching look cheaper
# than it is on any real portal.
_MENU_COLUMNS = (
    ("/index.html", "首页"),
    ("/zfxxgk/index.html", "政府信息公开"),
    ("/xwzx/ywdt/index.html", "要闻动态"),
    ("/xwzx/tzgg/index.html", "通知公告"),
    ("/zwfw/index.html", "政务服务"),
    ("/hdjl/index.html", "互动交流"),
    ("/wzdt/index.html", "网站地图"),
)
_MENU = "".join(
    f"<li class='menu-{i}'><a href='{path}' title='{label}'>{label}</a><ul>"
    + "".join(
        f"<li><a href='{path}'>{label}·{sub}</a></li>" for sub in ("概况", "动态", "专题", "服务", "指南")
    )
    + "</ul></li>"
    for i, (path, label) in enumerate(_MENU_COLUMNS * 2)
)
_OFFSITE = "".join(
    f"<li><a href='http://www.{host}.gov.cn/' target='_blank'>{name}</a></li>"
    for host, name in (
        ("gov", "中国政府网"),
        ("moj", "司法部"),
        ("ndrc", "发展改革委"),
        ("mof", "财政部"),
        ("mohrss", "人社部"),
        ("mee", "生态环境部"),
        ("mohurd", "住建部"),
        ("mot", "交通运输部"),
        ("mwr", "水利部"),
        ("moa", "农业农村部"),
        ("mofcom", "商务部"),
        ("nhc", "卫生健康委"),
        ("mem", "应急管理部"),
        ("samr", "市场监管总局"),
        ("stats", "统计局"),
        ("jiangsu", "省政府"),
        ("city", "市政府"),
        ("linxian", "邻县政府"),
    )
)
_STYLE = (
    "<style>"
    + "".join(f".c{i}{{margin:{i % 7}px;padding:{i % 5}px;color:#{i:06x}}}" for i in range(160))
    + "</style>"
)
_SCRIPT = (
    "<script type='text/javascript'>var siteConfig={"
    + ",".join(f"'k{i}':'v{i * 7919 % 10007}'" for i in range(500))
    + "};function nav(i){return siteConfig['k'+i];}</script>"
)


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<meta name='SiteName' content='{AGENCY}'>{_STYLE}{_SCRIPT}</head><body>"
        f"{NAV}<div class='menu'><ul>{_MENU}</ul></div><div class='main'>{body}</div>"
        f"<div class='footer'><a href='/wzdt/index.html'>网站地图</a> <ul class='links'>{_OFFSITE}</ul>"
        f"主办：{AGENCY}办公室</div></body></html>"
    )


def _pager(n: int, total: int) -> str:
    """TRS-style pager: index.html, index_1.html … with 首页 / 上一页 / 下一页 / 尾页 links."""
    if total <= 1:
        return ""

    def name(i: int) -> str:
        return "index.html" if i == 0 else f"index_{i}.html"

    parts = [f"<a href='{name(0)}'>首页</a>"]
    if n > 0:
        parts.append(f"<a href='{name(n - 1)}'>上一页</a>")
    if n < total - 1:
        parts.append(f"<a href='{name(n + 1)}'>下一页</a>")
    parts.append(f"<a href='{name(total - 1)}'>尾页</a>")
    return f"<div class='page'>{' '.join(parts)} 共{total}页 当前第{n + 1}页</div>"


class _Builder:
    def __init__(self, portal: Portal, rng: random.Random):
        self.p = portal
        self.rng = rng
        self.seq = 1000

    def next_id(self) -> int:
        self.seq += 1
        return self.seq

    def put(self, path: str, data: str | bytes) -> None:
        self.p.files[path] = data.encode("utf-8") if isinstance(data, str) else data

    def list_pages(self, folder: str, title: str, items: list[str], size: int) -> None:
        """Paginated list `folder/index.html`, `folder/index_1.html` … of `<li>` items."""
        chunks = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
        for n, chunk in enumerate(chunks):
            path = f"{folder}/index.html" if n == 0 else f"{folder}/index_{n}.html"
            body = (
                f"<div class='crumb'>当前位置：<a href='/index.html'>首页</a> &gt; {escape(title)}</div>"
                f"<h2>{escape(title)}</h2><ul class='list'>{''.join(chunk)}</ul>{_pager(n, len(chunks))}"
            )
            self.put(path, _page(title, body))
            self.p.list_pages.append(path)

    def report(self, folder: str, agency: str, year: int) -> str:
        """A report (or a 详见附件 page and its PDF) under `folder`; returns its list item."""
        rid = self.next_id()
        y1 = year + 1
        day = 10 + rid % 18
        rel = f"{y1}03/t{y1}03{day:02d}_{rid}.html"
        d = make_report(agency, year, rid)
        if rid % PDF_EVERY == 0:
            pdf_rel = f"{y1}03/P0{y1}03{day:02d}{rid}.pdf"
            self.put(f"{folder}/{pdf_rel}", write_pdf(d))
            body = (
                f"<h1>{escape(d.title)}</h1><div class='TRS_Editor' id='zoom'><p>{escape(d.title)}详见附件。</p>"
                f"<p>附件：<a href='./P0{y1}03{day:02d}{rid}.pdf'>{escape(d.title)}.pdf</a></p></div>"
            )
            self.put(f"{folder}/{rel}", _page(d.title, body))
            self.p.pdf_pages.append(f"{folder}/{rel}")
            self.p.pdfs.append(f"{folder}/{pdf_rel}")
        else:
            self.put(f"{folder}/{rel}", report_html(d, chrome=NAV))
            self.p.reports.append(f"{folder}/{rel}")
        return f"<li><a href='./{rel}' title='{escape(d.title)}'>{escape(d.title)}</a><span>{y1}-03-{day:02d}</span></li>"

    def decoy(self, folder: str, agency: str, year: int, template: str) -> str:
        rid = self.next_id()
        title = template.format(a=agency, y=year)
        rel = f"{year}12/t{year}1220_{rid}.html"
        self.put(f"{folder}/{rel}", _page(title, f"<h1>{escape(title)}</h1><p>（正文略）</p>"))
        self.p.decoys.append(f"{folder}/{rel}")
        return f"<li><a href='./{rel}'>{escape(title)}</a><span>{year}-12-20</span></li>"

    def article(self, folder: str, title: str, year: int) -> str:
        rid = self.next_id()
        month = 1 + rid % 12
        rel = f"{year}{month:02d}/t{year}{month:02d}15_{rid}.html"
        paras = "".join(
            f"<p>{escape(title)}。会议强调，要坚持以人民为中心，压实工作责任，确保各项任务落到实处（第{i + 1}段）。</p>"
            for i in range(self.rng.randint(3, 8))
        )
        self.put(
            f"{folder}/{rel}",
            _page(title, f"<h1>{escape(title)}</h1><div class='TRS_Editor'>{paras}</div>"),
        )
        self.p.news.append(f"{folder}/{rel}")
        return f"<li><a href='./{rel}'>{escape(title)}</a><span>{year}-{month:02d}-15</span></li>"

    def news_title(self, depts: list[str]) -> str:
        form = self.rng.choice(_NEWS_FORMS)
        return form.format(c=COUNTY, d=self.rng.choice(depts), t=self.rng.choice(_NEWS_TOPICS))


def _towns(n: int, rng: random.Random) -> list[str]:
    names = [h + t for h in _TOWN_HEAD for t in _TOWN_TAIL]
    rng.shuffle(names)
    out = [f"{COUNTY}{name}镇人民政府" for name in names[:n]]
    if n > len(names):
        out += [f"{COUNTY}第{i}街道办事处" for i in range(1, n - len(names) + 1)]
    return out


def generate(pages: int = 2000, seed: int = 2024) -> Portal:
    """A county portal of about `pages` documents (at least that many when `pages` ≥ 400)."""
    rng = random.Random(seed)
    portal = Portal()
    b = _Builder(portal, rng)
    agencies = max(4, math.ceil(pages * REPORT_SHARE / len(YEARS)))
    n_depts = min(len(DEPARTMENTS), max(2, agencies // 2))
    depts = [f"{COUNTY}{name}" for name in DEPARTMENTS[:n_depts]]
    towns = _towns(agencies - 1 - n_depts, rng)

    b.put("/robots.txt", "User-agent: *\nDisallow: /admin/\n")
    b.put(
        "/index.html",
        _page(
            f"{AGENCY}门户网站",
            f"<h1>{AGENCY}</h1><ul><li><a href='/zfxxgk/index.html'>政府信息公开</a></li>"
            "<li><a href='/xwzx/ywdt/index.html'>要闻动态</a></li><li><a href='/xwzx/tzgg/index.html'>通知公告</a></li>"
            "</ul>",
        ),
    )
    for path, title in (("/zwfw", "政务服务"), ("/hdjl", "互动交流"), ("/wzdt", "网站地图")):
        b.put(f"{path}/index.html", _page(title, f"<h2>{title}</h2><p>（栏目内容略）</p>"))

    # 信息公开 and its columns.
    b.put(
        "/zfxxgk/index.html",
        _page(
            "政府信息公开",
            "<h2>政府信息公开</h2><ul><li><a href='/zfxxgk/zn/index.html'>政府信息公开指南</a></li>"
            "<li><a href='/zfxxgk/zd/index.html'>政府信息公开制度</a></li>"
            "<li><a href='/zfxxgk/fdzdgknr/index.html'>法定主动公开内容</a></li>"
            "<li><a href='/zfxxgk/gknb/index.html'>政府信息公开年报</a></li>"
            "<li><a href='/zfxxgk/bmxxgk/index.html'>部门信息公开</a></li></ul>",
        ),
    )
    for path, title in (("/zfxxgk/zn", "政府信息公开指南"), ("/zfxxgk/zd", "政府信息公开制度")):
        b.put(f"{path}/index.html", _page(title, f"<h2>{title}</h2><p>（内容略）</p>"))

    # The county's report column: its own reports and its towns', newest first, decoys in between.
    items: list[tuple[int, str]] = []
    for agency in [AGENCY, *towns]:
        for year in YEARS:
            items.append((-year, b.report("/zfxxgk/gknb", agency, year)))
    for i, template in enumerate(DECOYS * 2):
        year = YEARS[-1] - i // 2
        items.append((-year, b.decoy("/zfxxgk/gknb", AGENCY, year, template)))
    items.sort(key=lambda it: it[0])
    b.list_pages("/zfxxgk/gknb", "政府信息公开年报", [li for _, li in items], LIST_SIZE)

    # Department sub-portals.
    dept_links = []
    for i, dept in enumerate(depts, start=1):
        folder = f"/zfxxgk/bmxxgk/bm{i:02d}"
        dept_links.append(f"<li><a href='{folder}/index.html'>{escape(dept)}</a></li>")
        b.put(
            f"{folder}/index.html",
            _page(
                f"{dept}信息公开",
                f"<h2>{escape(dept)}</h2><ul><li><a href='{folder}/zn/index.html'>政府信息公开指南</a></li>"
                f"<li><a href='{folder}/gknb/index.html'>政府信息公开年报</a></li>"
                f"<li><a href='{folder}/tzgg/index.html'>通知公告</a></li></ul>",
            ),
        )
        b.put(f"{folder}/zn/index.html", _page("政府信息公开指南", "<p>（内容略）</p>"))
        lis = [b.report(f"{folder}/gknb", dept, year) for year in reversed(YEARS)]
        if i % 3 == 0:
            lis.insert(1, b.decoy(f"{folder}/gknb", dept, YEARS[-1], DECOYS[i % 2]))
        b.list_pages(f"{folder}/gknb", "政府信息公开年报", lis, DEPT_LIST_SIZE)
        notices = [b.article(f"{folder}/tzgg", b.news_title([dept]), 2024) for _ in range(2)]
        b.list_pages(f"{folder}/tzgg", "通知公告", notices, NEWS_LIST_SIZE)
    b.list_pages("/zfxxgk/bmxxgk", "部门信息公开", dept_links, 100)

    # Ordinary pages fill the rest: policy documents under 法定主动公开内容, news columns.
    fixed = len(portal.files) - 1 + 2  # + the 新闻中心 page and the 法定主动公开内容 first page
    room = max(0, pages - fixed)
    per_list = NEWS_LIST_SIZE + 1
    policy = room // 6
    news = room - policy
    n_policy = policy * NEWS_LIST_SIZE // per_list
    policy_items = [
        b.article("/zfxxgk/fdzdgknr", f"{AGENCY}关于印发{rng.choice(_NEWS_TOPICS)}实施方案的通知", 2024)
        for _ in range(n_policy)
    ]
    b.list_pages("/zfxxgk/fdzdgknr", "法定主动公开内容", policy_items, NEWS_LIST_SIZE)
    b.put(
        "/xwzx/index.html",
        _page(
            "新闻中心",
            "<ul>"
            + "".join(f"<li><a href='/xwzx/{code}/index.html'>{name}</a></li>" for code, name in NEWS_COLUMNS)
            + "</ul>",
        ),
    )
    per_column = news * NEWS_LIST_SIZE // per_list // len(NEWS_COLUMNS) + 1
    for code, name in NEWS_COLUMNS:
        lis = [
            b.article(f"/xwzx/{code}", b.news_title(depts), rng.choice((2023, 2024)))
            for _ in range(per_column)
        ]
        b.list_pages(f"/xwzx/{code}", name, lis, NEWS_LIST_SIZE)
    return portal


def _content_type(path: str) -> str:
    ext = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else "html"
    return _MIME.get(ext, "application/octet-stream")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BenchPortal/1.0"
    # Headers and body go out in two writes: with Nagle on, keep-alive answers wait for a delayed ACK
    # (~40 ms each) and the server, not the crawler, sets the pace.
    disable_nagle_algorithm = True
    # path → (content type, body, gzipped body or None, etag); set on the subclass.
    table: dict[str, tuple[str, bytes, bytes | None, str]]

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/"):
            path += "index.html"
        entry = self.table.get(path)
        if entry is None:
            body = b"<html><body><h1>404 Not Found</h1></body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        ctype, body, zipped, etag = entry
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if zipped is not None and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = zipped
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", "Fri, 28 Mar 2025 08:00:00 GMT")
        self.end_headers()
        if not head:
            self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    # Scrapy opens a new connection every few requests: with the default backlog of 5 a burst of connects
    # overflows it, the dropped SYNs are retried after 1 s and the crawl stalls for seconds.
    request_queue_size = 128


class PortalServer:
    """Threaded HTTP/1.1 server on 127.0.0.1 for a `Portal`, answers precomputed (gzip, ETag) in memory."""

    def __init__(self, portal: Portal, port: int = 0):
        table = {}
        for path, body in portal.files.items():
            ctype = _content_type(path)
            zipped = gzip.compress(body, mtime=0) if ctype.startswith("text/") else None
            table[path] = (ctype, body, zipped, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')
        handler = type("Handler", (_Handler,), {"table": table})
        self.httpd = _Server(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> PortalServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="bench-portal", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
