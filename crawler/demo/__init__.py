"""The demo portal: four fictional portals in four CMS families, generated as files at run time.

- `shili`   示例市人民政府, TRS WCM: index.html / index_N.html named only by createPageHTML(...) in a script.
- `yangben` 样本县人民政府, Hanweb: /col/col1234/index.html with inline <datastore>, the rest from dataproxy.jsp.
- `fanli`   范例区人民政府, GBK pages (no charset, or a wrong utf-8 one), `list.php?catid=12&page=N`.
- `mofan`   模范县人民政府, a JavaScript shell over a JSON list API (`/api/gknb/list.json?page=N`).

Reports 2019-2024 as HTML pages with the three tables, as PDF/DOCX/XLSX attachments, and one that is only a
PDF; decoys (工作要点, 月报, 工作总结, 法治政府建设年度报告, 统计公报, a 通知 about reports) beside them. Variant
2 (`SiteServer.set_variant(2)`) changes the figures of 示例市人民政府's 2024 report. `generate_demo` returns the
ground truth the tests compare against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from w3lib.url import safe_url_string

from ..cms.hanweb import dataproxy_request
from .reports import make_report, report_html, write_docx, write_pdf, write_xlsx

DECOYS = [
    "{y}年政务公开工作要点",
    "{a}{y}年12月政府信息公开工作月报",
    "{a}{y}年政务公开工作总结",
    "{a}{y}年法治政府建设年度报告",
    "{a}{y}年国民经济和社会发展统计公报",
    "关于做好{y}年政府信息公开工作年度报告编制发布工作的通知",
]


@dataclass
class Site:
    name: str
    root: Path
    port: int
    reports: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    decoys: list[str] = field(default_factory=list)
    list_pages: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def home(self) -> str:
        return f"http://{self.name}.localhost:{self.port}/"

    def url(self, path: str) -> str:
        return safe_url_string(f"http://{self.name}.localhost:{self.port}{path}")

    def write(self, path: str, data: str | bytes, encoding: str = "utf-8", variant: int = 1) -> None:
        rel = unquote(urlsplit(path).path).lstrip("/")
        query = urlsplit(path).query
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        if query:
            rel += "@" + unquote(query)
        target = self.root / (f"__v{variant}__/" if variant != 1 else "") / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode(encoding) if isinstance(data, str) else data)


def page(title: str, body: str, *, charset: str | None = "utf-8", head: str = "") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    return (
        f"<!DOCTYPE html><html><head>{meta}<title>{escape(title)}</title>{head}</head><body>"
        f"{body}<div class='footer'><a href='/sitemap.html'>网站地图</a> <a href='http://www.gov.cn/'>中国政府网</a>"
        "</div></body></html>"
    )


def _href(path: str) -> str:
    return quote(path, safe="/?=&%:")


def _items(agencies: list[tuple[str, range]], agency0: str, decoy_year: int = 2023) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    seq = 1000
    for agency, years in agencies:
        for y in years:
            seq += 1
            items.append(
                {
                    "agency": agency,
                    "year": y,
                    "title": f"{agency}{y}年政府信息公开工作年度报告",
                    "id": seq,
                    "decoy": False,
                }
            )
    for i, tmpl in enumerate(DECOYS):
        seq += 1
        items.append(
            {
                "title": tmpl.format(a=agency0, y=decoy_year - (i % 2)),
                "id": seq,
                "decoy": True,
                "year": decoy_year,
            }
        )
    # newest first, decoys interleaved like real lists
    items.sort(key=lambda it: (-it["year"], it["id"]))
    return items


def _title_variants(title: str, i: int) -> str:
    """Some lists truncate titles and keep the full one in the title attribute; some vary the wording."""
    return title.replace("年政府信息公开工作年度报告", "年度政府信息公开工作报告") if i % 5 == 3 else title


def _add_decoy(site: Site, path: str, title: str, charset: str = "utf-8") -> None:
    """A look-alike item (工作要点, 月报 …): written, and listed as something the crawler must not take."""
    site.decoys.append(site.url(path))
    site.write(
        path, page(title, f"<h1>{escape(title)}</h1><p>（正文略）</p>", charset=charset), encoding=charset
    )


# -- TRS WCM ----------------------------------------------------------------------------------------------
def build_shili(site: Site) -> None:
    agency = "示例市人民政府"
    nav = (
        "<div class='nav'><a href='/index.html'>首页</a> <a href='/zwgk/index.html'>政务公开</a> "
        "<a href='/zfxxgk/index.html'>政府信息公开</a> <a href='/xwzx/index.html'>新闻中心</a></div>"
    )
    site.write("/index.html", page("示例市人民政府门户网站", nav + "<h1>示例市人民政府</h1>"))
    site.write(
        "/xwzx/index.html",
        page("新闻中心", nav + "<a href='/xwzx/202401/t20240101_1.html'>示例市召开会议</a>"),
    )
    site.write(
        "/zwgk/index.html", page("政务公开", nav + "<a href='/zfxxgk/index.html'>政府信息公开专栏</a>")
    )
    site.write(
        "/zfxxgk/index.html",
        page(
            "政府信息公开",
            nav
            + (
                "<ul><li><a href='/zfxxgk/zn/index.html'>政府信息公开指南</a></li>"
                "<li><a href='/zfxxgk/zd/index.html'>政府信息公开制度</a></li>"
                "<li><a href='/zfxxgk/fdzdgknr/index.html'>法定主动公开内容</a></li>"
                "<li><a href='/zfxxgk/zfxxgknb/index.html'>政府信息公开年报</a></li></ul>"
            ),
        ),
    )
    site.write(
        "/zfxxgk/fdzdgknr/index.html",
        page(
            "法定主动公开内容",
            nav
            + ("<a href='/zfxxgk/fdzdgknr/202401/t20240105_9.html'>示例市人民政府关于印发若干措施的通知</a>"),
        ),
    )
    items = _items(
        [
            (agency, range(2019, 2025)),
            ("示例市教育局", range(2021, 2025)),
            ("示例市卫生健康委员会", range(2022, 2025)),
        ],
        "示例市",
    )
    per_page = 6
    pages = [items[i : i + per_page] for i in range(0, len(items), per_page)]
    for n, chunk in enumerate(pages):
        lis = []
        for it in chunk:
            y1 = it["year"] + 1
            path = f"/zfxxgk/zfxxgknb/{y1}03/t{y1}0328_{it['id']}.html"
            title = _title_variants(it["title"], it["id"])
            shown = title if len(title) <= 18 else title[:16] + "…"
            lis.append(
                f"<li><a href='./{y1}03/t{y1}0328_{it['id']}.html' title='{escape(title)}'>{escape(shown)}</a>"
                f"<span>{y1}-03-28</span></li>"
            )
            if it["decoy"]:
                _add_decoy(site, path, it["title"])
                continue
            site.reports.append(site.url(path))
            d = make_report(it["agency"], it["year"], it["id"])
            if it["agency"] == "示例市教育局":
                pdf = f"/zfxxgk/zfxxgknb/{y1}03/P0{y1}0328{it['id']}.pdf"
                site.write(pdf, write_pdf(d))
                site.attachments.append(site.url(pdf))
                body = (
                    f"<h1>{escape(d.title)}</h1><div class='TRS_Editor'><p>附件：<a href='./P0{y1}0328{it['id']}.pdf'>"
                    f"{escape(d.title)}.pdf</a></p></div>"
                )
                site.write(path, page(d.title, nav + body))
            elif it["agency"] == "示例市卫生健康委员会" and it["year"] == 2022:
                name = f"{d.title}.docx"
                site.write(f"/zfxxgk/zfxxgknb/{y1}03/{name}", write_docx(d))
                site.attachments.append(site.url(f"/zfxxgk/zfxxgknb/{y1}03/{name}"))
                body = (
                    f"<h1>{escape(d.title)}</h1><div class='TRS_Editor'><p>附件：<a href='{_href(name)}'>"
                    f"{escape(name)}</a></p></div>"
                )
                site.write(path, page(d.title, nav + body))
            else:
                site.write(path, report_html(d, chrome=nav))
                if it["agency"] == agency and it["year"] == 2024:
                    d2 = make_report(agency, 2024, it["id"] + 7777)
                    site.write(
                        path, report_html(d2, chrome=nav, note="<p>（2025年4月10日更正）</p>"), variant=2
                    )
                    site.changed.append(site.url(path))
        index = "index.html" if n == 0 else f"index_{n}.html"
        site.list_pages.append(site.url(f"/zfxxgk/zfxxgknb/{index}"))
        script = (
            f"<script type='text/javascript'>var countPage = {len(pages)}//共多少页\n"
            f'createPageHTML(countPage, {n}, "index", "html");</script>'
        )
        site.write(
            f"/zfxxgk/zfxxgknb/{index}",
            page(
                "政府信息公开年报",
                nav + (f"<div class='list'><ul>{''.join(lis)}</ul></div><div class='page'>{script}</div>"),
                head="<script src='/js/page.js'></script>",
            ),
        )


# -- Hanweb -----------------------------------------------------------------------------------------------
HANWEB_PARAMS = {
    "col": "1",
    "appid": "1",
    "webid": "1",
    "columnid": "1234",
    "sourceContentType": "1",
    "unitid": "5678",
    "permissiontype": "0",
}


def build_yangben(site: Site) -> None:
    agency = "样本县人民政府"
    nav = (
        "<div class='nav'><a href='/index.html'>首页</a> <a href='/col/col1001/index.html'>信息公开</a></div>"
    )
    site.write("/index.html", page("样本县人民政府", nav + "<h1>样本县人民政府</h1>"))
    site.write(
        "/col/col1001/index.html",
        page(
            "信息公开",
            nav
            + (
                "<a href='/col/col1003/index.html'>政府信息公开指南</a> <a href='/col/col1002/index.html'>法定主动公开内容</a>"
                " <a href='/col/col1234/index.html'>政府信息公开年报</a>"
            ),
        ),
    )
    site.write("/col/col1002/index.html", page("法定主动公开内容", nav + "<p>暂无</p>"))
    items = _items(
        [
            (agency, range(2019, 2025)),
            ("样本县财政局", range(2021, 2025)),
            ("样本县城关镇人民政府", range(2022, 2025)),
        ],
        "样本县",
    )
    records = []
    for it in items:
        y1 = it["year"] + 1
        path = f"/art/{y1}/3/28/art_1234_{it['id']}.html"
        records.append(
            f"<record><![CDATA[<li><a href='{path}' title='{escape(it['title'])}' target='_blank'>"
            f"{escape(it['title'])}</a><span>{y1}-03-28</span></li>]]></record>"
        )
        if it["decoy"]:
            _add_decoy(site, path, it["title"])
            continue
        site.reports.append(site.url(path))
        d = make_report(it["agency"], it["year"], it["id"])
        if it["agency"] == "样本县财政局":
            name = f"/attach/0/{d.title}.docx"
            site.write(name, write_docx(d))
            site.attachments.append(site.url(name))
            site.write(
                path,
                page(
                    d.title,
                    nav + f"<h1>{escape(d.title)}</h1><div id='zoom'><p>详见附件："
                    f"<a href='{_href(name)}'>{escape(d.title)}.docx</a></p></div>",
                ),
            )
        else:
            site.write(path, report_html(d, wrapper_class="bt-content", chrome=nav))
    per_page, group = 3, 9
    total = len(records)
    inline = "".join(records[:group])
    config = (
        "<script type='text/javascript'>$(document).ready(function(){ $('#div1234').jpage({"
        "dataStore: dataStore, proxyUrl: '/module/web/jpage/dataproxy.jsp', perPage: 3, "
        f"totalRecord: {total}, groupSize: 3, ajaxParam: {{col:1,appid:1,webid:1,columnid:1234,"
        "sourceContentType:1,unitid:5678,permissiontype:0}});});</script>"
    )
    site.write(
        "/col/col1234/index.html",
        page(
            "政府信息公开年报",
            nav
            + (
                f"<div id='div1234'><script type='text/xml'><datastore><nextgroup><![CDATA[]]></nextgroup><recordset>"
                f"{inline}</recordset></datastore></script></div>{config}"
            ),
        ),
    )
    site.list_pages.append(site.url("/col/col1234/index.html"))
    for start in range(group + 1, total + 1, group):
        end = min(start + group - 1, total)
        # jpage POSTs the form fields; the paging fields are in the query, which names the saved answer.
        url = dataproxy_request(
            site.home, "/module/web/jpage/dataproxy.jsp", start, end, per_page, HANWEB_PARAMS
        ).url
        xml = (
            "<?xml version='1.0' encoding='UTF-8'?><datastore><nextgroup><![CDATA[]]></nextgroup>"
            f"<totalrecord>{total}</totalrecord><totalpage>{-(-total // per_page)}</totalpage><recordset>"
            + "".join(records[start - 1 : end])
            + "</recordset></datastore>"
        )
        site.write(url.split(f":{site.port}", 1)[1], xml)
        site.list_pages.append(url)


# -- GBK, query-string pagination -------------------------------------------------------------------------
def build_fanli(site: Site) -> None:
    agency = "范例区人民政府"
    nav = "<div class='nav'><a href='/index.php'>首页</a> <a href='/zwgk/index.php'>政务公开</a></div>"
    site.write(
        "/index.php", page("范例区人民政府", nav + "<h1>范例区人民政府</h1>", charset=None), encoding="gbk"
    )
    site.write(
        "/zwgk/index.php",
        page(
            "政务公开",
            nav
            + (
                "<a href='/zwgk/list.php?catid=11'>政府信息公开指南</a> <a href='/zwgk/list.php?catid=12'>政府信息公开年度报告</a>"
            ),
            charset=None,
        ),
        encoding="gbk",
    )
    items = _items([(agency, range(2019, 2025)), ("范例区民政局", range(2022, 2025))], "范例区")
    per_page = 5
    chunks = [items[i : i + per_page] for i in range(0, len(items), per_page)]
    n_pages = len(chunks)
    for n, chunk in enumerate(chunks, start=1):
        lis = []
        for it in chunk:
            path = f"/zwgk/show.php?id={it['id']}"
            lis.append(f"<li><a href='show.php?id={it['id']}'>{escape(it['title'])}</a></li>")
            if it["decoy"]:
                _add_decoy(site, path, it["title"], charset="gbk")
                continue
            site.reports.append(site.url(path))
            d = make_report(it["agency"], it["year"], it["id"])
            note = ""
            if it["agency"] == "范例区民政局" and it["year"] == 2023:
                xlsx = "/uploadfile/2024/0328/政府信息公开情况统计表.xlsx"
                site.write(xlsx, write_xlsx(d))
                site.attachments.append(site.url(xlsx))
                note = f"<p>附件：<a href='{_href(xlsx)}'>政府信息公开情况统计表.xlsx</a></p>"
            # Half the pages declare nothing, the others declare utf-8 although the bytes are GBK.
            html = report_html(
                d,
                wrapper_class="content",
                meta_charset="utf-8" if it["id"] % 2 else None,
                chrome=nav,
                note=note,
            )
            site.write(path, html, encoding="gbk")
        pager = (
            "<div class='pager'><a href='list.php?catid=12&page=1'>首页</a> "
            + (f"<a href='list.php?catid=12&page={n - 1}'>上一页</a> " if n > 1 else "")
            + (f"<a href='list.php?catid=12&page={n + 1}'>下一页</a> " if n < n_pages else "")
            + f"<a href='list.php?catid=12&page={n_pages}'>尾页</a> 共{n_pages}页</div>"
        )
        html = page(
            "政府信息公开年度报告",
            nav + f"<ul>{''.join(lis)}</ul>{pager}",
            charset="utf-8" if n == 2 else None,
        )
        for path in [f"/zwgk/list.php?catid=12&page={n}"] + (["/zwgk/list.php?catid=12"] if n == 1 else []):
            site.write(path, html, encoding="gbk")
            site.list_pages.append(site.url(path))
    site.write(
        "/zwgk/list.php?catid=11", page("政府信息公开指南", nav + "<p>指南</p>", charset=None), encoding="gbk"
    )


# -- JSON list API ----------------------------------------------------------------------------------------
def build_mofan(site: Site) -> None:
    import json

    agency = "模范县人民政府"
    nav = "<div class='nav'><a href='/index.html'>首页</a> <a href='/xxgk/index.html'>政府信息公开</a></div>"
    site.write("/index.html", page("模范县人民政府", nav + "<h1>模范县人民政府</h1>"))
    site.write(
        "/xxgk/index.html", page("政府信息公开", nav + "<a href='/xxgk/gknb/index.html'>政府信息公开年报</a>")
    )
    shell = (
        "<div id='list'>加载中…</div><script>var API = \"/api/gknb/list.json?page=1\";"
        "fetch(API).then(r => r.json()).then(render);</script>"
    )
    site.write("/xxgk/gknb/index.html", page("政府信息公开年报", nav + shell))
    site.list_pages.append(site.url("/xxgk/gknb/index.html"))
    items = _items([(agency, range(2019, 2025)), ("模范县人力资源和社会保障局", range(2023, 2025))], "模范县")
    rows = []
    for it in items:
        path = f"/xxgk/gknb/{it['year'] + 1}/{it['id']}.html"
        if it["decoy"]:
            _add_decoy(site, path, it["title"])
        elif it["agency"] != agency and it["year"] == 2023:  # the only copy of this report is a PDF
            path = f"/xxgk/gknb/files/{it['title']}.pdf"
            site.write(path, write_pdf(make_report(it["agency"], it["year"], it["id"])))
            site.reports.append(site.url(path))
        else:
            site.reports.append(site.url(path))
            site.write(path, report_html(make_report(it["agency"], it["year"], it["id"]), chrome=nav))
        rows.append(
            {"id": it["id"], "title": it["title"], "url": path, "publishDate": f"{it['year'] + 1}-03-28"}
        )
    size = 4
    pages = [rows[i : i + size] for i in range(0, len(rows), size)]
    for n, chunk in enumerate(pages, start=1):
        body = {
            "code": 0,
            "msg": "ok",
            "data": {"total": len(rows), "pageSize": size, "page": n, "list": chunk},
        }
        site.write(f"/api/gknb/list.json?page={n}", json.dumps(body, ensure_ascii=False))
        site.list_pages.append(site.url(f"/api/gknb/list.json?page={n}"))


PORTALS = {
    "shili": ("示例市人民政府", "示例省示例市", "市级", build_shili),
    "yangben": ("样本县人民政府", "示例省样本县", "县级", build_yangben),
    "fanli": ("范例区人民政府", "示例省范例区", "县级", build_fanli),
    "mofan": ("模范县人民政府", "示例省模范县", "县级", build_mofan),
}


def generate_demo(root: Path | str, base_port: int, registry_dir: Path | str | None = None) -> dict[str, Any]:
    """Write the demo portals under `root` (one folder per virtual host) and, if asked, their registry
    entries; return the ground truth: per portal its home, reports, attachments, decoys, list pages."""
    root = Path(root)
    truth: dict[str, Any] = {"portals": {}}
    for name, (agency, region, level, build) in PORTALS.items():
        site = Site(name, root / name, base_port)
        build(site)
        (site.root / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n", encoding="utf-8")
        start = site.home + ("index.php" if name == "fanli" else "")
        truth["portals"][name] = {
            "agency": agency,
            "region": region,
            "level": level,
            "home": start,
            "reports": sorted(site.reports),
            "attachments": sorted(site.attachments),
            "decoys": sorted(site.decoys),
            "list_pages": site.list_pages,
            "changed": site.changed,
        }
        if registry_dir is not None:
            reg = Path(registry_dir)
            reg.mkdir(parents=True, exist_ok=True)
            (reg / f"demo-{name}.toml").write_text(
                f'name = "demo-{name}"\nagency = "{agency}"\nregion = "{region}"\nlevel = "{level}"\n'
                f'start_urls = ["{start}"]\nallowed_domains = ["{name}.localhost"]\n',
                encoding="utf-8",
            )
    (root / "VARIANT").write_text("1")
    return truth
