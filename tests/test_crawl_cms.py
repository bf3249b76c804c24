"""CMS families on saved page snippets: detection and pagination, no network."""

from __future__ import annotations

import json

from scrapy.http import HtmlResponse, TextResponse, XmlResponse

from crawler.cms import detect
from crawler.cms.base import DataRequest
from crawler.cms.generic import GenericFamily
from crawler.cms.hanweb import HanwebFamily
from crawler.cms.json_list import JsonListFamily
from crawler.cms.query_string import QueryStringFamily
from crawler.cms.trs_wcm import TrsWcmFamily, parse_create_page_html
from crawler.spiders.disclosure import best_encoding, detect_block


def html(url: str, body: str, encoding: str = "utf-8") -> HtmlResponse:
    return HtmlResponse(url, body=body.encode(encoding), encoding=encoding)


def test_trs_create_page_html_forms():
    assert parse_create_page_html('createPageHTML(5, 0, "index", "html");') == (5, 0, "index", "html")
    assert parse_create_page_html("var countPage = 4\ncreatePageHTML(countPage, 2, 'index', 'shtml');") == (
        4,
        2,
        "index",
        "shtml",
    )
    assert parse_create_page_html('createPageHTML("page_div", 3, 1, "index", "html", 40);') == (
        3,
        1,
        "index",
        "html",
    )
    page = html("http://a/zfxxgknb/index_1.html", '<script>createPageHTML(3, 1, "index", "html");</script>')
    assert "trs_wcm" in detect(page)
    assert list(TrsWcmFamily().pagination(page)) == [
        "http://a/zfxxgknb/index.html",
        "http://a/zfxxgknb/index_1.html",
        "http://a/zfxxgknb/index_2.html",
    ]


def test_hanweb_inline_records_and_dataproxy():
    body = (
        "<div><script type='text/xml'><datastore><recordset><record><![CDATA[<li><a href='/art/2024/3/1/art_9_1.html'"
        " title='某县2023年政府信息公开工作年度报告'>某县…</a></li>]]></record></recordset></datastore></script>"
        "<script>$('#d').jpage({proxyUrl:'/module/web/jpage/dataproxy.jsp',perPage:10,totalRecord:45,"
        "ajaxParam:{col:1,webid:3,columnid:99,unitid:7}});</script></div>"
    )
    page = html("http://h/col/col99/index.html", body)
    fam = HanwebFamily()
    assert "hanweb" in detect(page)
    links = list(fam.links(page))
    assert links[0].url == "http://h/art/2024/3/1/art_9_1.html" and links[0].label.startswith("某县2023")
    reqs = list(fam.data_requests(page))
    # jpage POSTs its ajaxParam fields; the paging fields ride in the query. One inline record: the first
    # group (records 1-30) is still to be asked for, then 31-45.
    form = (("col", "1"), ("webid", "3"), ("columnid", "99"), ("unitid", "7"))
    proxy = "http://h/module/web/jpage/dataproxy.jsp"
    assert reqs == [
        DataRequest(f"{proxy}?startrecord=1&endrecord=30&perpage=10", "POST", form),
        DataRequest(f"{proxy}?startrecord=31&endrecord=45&perpage=10", "POST", form),
    ]
    xml = (
        "<datastore><totalrecord>45</totalrecord><totalpage>5</totalpage><recordset><record><![CDATA["
        "<a href='/art/2022/3/1/art_9_2.html'>某县2021年政府信息公开年报</a>]]></record></recordset></datastore>"
    )
    resp = XmlResponse(
        "http://h/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=30&perpage=10&columnid=99",
        body=xml.encode(),
    )
    links, more = fam.parse_data(resp, "http://h/col/col99/index.html")
    assert [link.url for link in links] == ["http://h/art/2022/3/1/art_9_2.html"]
    assert more == [
        DataRequest(f"{proxy}?startrecord=31&endrecord=45&perpage=10", "POST", (("columnid", "99"),))
    ]


def test_query_string_pages_synthesised():
    page = html(
        "http://q/list.php?catid=3&page=1",
        "<a href='?catid=3&page=2'>下一页</a> <a href='?catid=3&page=4'>尾页</a>",
    )
    assert "query_string" in detect(page)
    assert list(QueryStringFamily().pagination(page)) == [
        f"http://q/list.php?catid=3&page={n}" for n in range(1, 5)
    ]


def test_generic_next_links_and_last_page():
    page = html(
        "http://g/a/index.html",
        "<a href='index_1.html'>下一页</a><a href='index_6.html'>尾页</a>"
        "<a href='/other/x.html'>下一页</a><a href='/a/more.html'>下页</a>",
    )
    urls = set(GenericFamily().pagination(page))
    assert {f"http://g/a/index_{i}.html" for i in range(1, 7)} | {"http://g/a/more.html"} == urls


def test_json_list_endpoint_and_pages():
    page = html("http://j/xxgk/nb/", "<script>var url = '/api/nb/list?pageNo=' + n;</script>")
    assert list(JsonListFamily().data_requests(page)) == [DataRequest("http://j/api/nb/list?pageNo=1")]
    data = {
        "result": {
            "totalCount": 23,
            "pageSize": 10,
            "rows": [
                {"docTitle": "某局2024年政府信息公开工作年度报告", "docUrl": "/xxgk/nb/1.html"},
                {
                    "docTitle": "某局2023年政府信息公开工作年度报告",
                    "docUrl": "content/2.html",
                    "pubDate": "2024/1/20",
                },
            ],
        }
    }
    resp = TextResponse("http://j/api/nb/list?pageNo=1", body=json.dumps(data).encode(), encoding="utf-8")
    # Records resolve against the page whose script renders them, as its <a href> would, not the API URL.
    links, more = JsonListFamily().parse_data(resp, "http://j/xxgk/nb/")
    assert [(link.url, link.text, link.date) for link in links] == [
        ("http://j/xxgk/nb/1.html", "某局2024年政府信息公开工作年度报告", ""),
        ("http://j/xxgk/nb/content/2.html", "某局2023年政府信息公开工作年度报告", "2024-01-20"),
    ]
    assert more == [
        DataRequest("http://j/api/nb/list?pageNo=2"),
        DataRequest("http://j/api/nb/list?pageNo=3"),
    ]


def test_encoding_repair_and_block_detection():
    gbk = "测试镇人民政府".encode("gbk")
    assert best_encoding(gbk, "utf-8") == "gb18030"
    assert best_encoding("测试".encode(), "gbk") == "utf-8"
    challenge = HtmlResponse(
        "http://b/", status=412, body=b"<html><script>document.cookie='acw_sc__v2=1'</script></html>"
    )
    assert detect_block(challenge).startswith("HTTP 412 http://b/")
    normal = HtmlResponse(
        "http://b/", status=403, body=b"<html><body><h1>Forbidden</h1><p>nginx</p></body></html>"
    )
    assert detect_block(normal) is None
    captcha = HtmlResponse("http://b/", status=200, body="<html><body>请输入验证码</body></html>".encode())
    assert detect_block(captcha)
