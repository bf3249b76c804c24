"""The portal registry: every shipped entry validates; CSV import; the `nianbao portals` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from crawler.cli import main
from crawler.portals import (
    REGISTRY_DIR,
    Portal,
    RegistryError,
    host_allowed,
    import_csv,
    load_registry,
    portal_for_url,
    select_portals,
    validate,
    validate_registry,
)


def test_every_shipped_entry_validates():
    portals, errors = validate_registry()
    assert errors == []
    assert len(portals) >= 5
    for path in REGISTRY_DIR.glob("*.toml"):
        assert path.stem in portals  # file name == portal name


def test_invalid_entries_are_named(tmp_path):
    (tmp_path / "bad.toml").write_text(
        'name = "Bad Name"\nagency = ""\nlevel = "大"\n'
        'start_urls = ["ftp://x"]\nallowed_domains = ["x.gov.cn"]\n',
        encoding="utf-8",
    )
    (tmp_path / "off.toml").write_text(
        'name = "off"\nagency = "某局"\nstart_urls = ["https://a.gov.cn/"]\nallowed_domains = ["b.gov.cn"]\n',
        encoding="utf-8",
    )
    _, errors = validate_registry(tmp_path)
    text = "\n".join(errors)
    for fragment in (
        "name must be",
        "agency is required",
        "level",
        "not an http(s) URL",
        "outside allowed_domains",
        "file name must be",
    ):
        assert fragment in text


def test_csv_import(tmp_path):
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "name,agency,url,region,level\n"
        ",示例市教育局,jyj.example.gov.cn,示例省示例市,市\n"
        "yb-county,样本县人民政府,https://www.yb.example.gov.cn/,示例省样本县,县级\n"
        "broken,没有网址,,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "reg" / "import-list.toml"
    out.parent.mkdir()
    n, problems = import_csv(csv_file, out)
    assert n == 2 and len(problems) == 1 and "row 4" in problems[0]
    portals = load_registry(out.parent)
    assert portals["jyj-example-gov-cn"].start_urls == ["https://jyj.example.gov.cn/"]
    assert portals["jyj-example-gov-cn"].level == "市级"
    assert portals["yb-county"].agency == "样本县人民政府"


def test_portal_for_url():
    p = portal_for_url("http://127.0.0.1:8123/", "某局")
    # exactly the start URL's host: `localhost` is another site than 127.0.0.1 (issue 11)
    assert p.allowed_domains == ["127.0.0.1"] and p.agency == "某局"
    assert validate(p) == []
    assert validate(Portal("x", "y", ["https://a.b/"], ["a.b"], level="县级")) == []


def test_loopback_portal_does_not_admit_other_localhost_portals() -> None:
    """A portal at 127.0.0.1 is that host only: `localhost` and `*.localhost` hosts are other sites."""
    domains = portal_for_url("http://127.0.0.1:8123/").allowed_domains
    assert host_allowed("127.0.0.1", domains) and not host_allowed("localhost", domains)
    assert not host_allowed("elsewhere.localhost", domains)
    assert not host_allowed("elsewhere.localhost", ["localhost"])  # nor sub-domains of `localhost`
    assert host_allowed(
        "www.nextpage.localhost", ["nextpage.localhost"]
    )  # subdomains of a portal are its own
    assert host_allowed("xxgk.bjxch.gov.cn", ["bjxch.gov.cn"]) and not host_allowed(
        "evilbjxch.gov.cn", ["bjxch.gov.cn"]
    )


def test_cli_portals_list_and_validate(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["portals", "validate"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["portals", "list"])
    assert "shanghai" in result.output and "上海市人民政府" in result.output
    csv_file = tmp_path / "p.csv"
    csv_file.write_text("agency,domain\n某局,www.x.gov.cn\n", encoding="utf-8")
    result = runner.invoke(
        main, ["portals", "import", str(csv_file), "--out", str(tmp_path / "import-p.toml")]
    )
    assert result.exit_code == 0 and "1 portals written" in result.output


def test_select_portals_for_url_registry_and_names() -> None:
    """What `nianbao crawl` and `nianbao queue schedule` act on: --url, all of the registry, or NAMED."""
    [one] = select_portals("http://127.0.0.1:8790/", "示例县人民政府", (), None)
    assert one.start_urls == ["http://127.0.0.1:8790/"] and one.agency == "示例县人民政府"
    everything = select_portals(None, None, (), REGISTRY_DIR)
    assert everything and len(everything) == len(load_registry(REGISTRY_DIR))
    name = everything[0].name
    assert [p.name for p in select_portals(None, None, (name,), REGISTRY_DIR)] == [name]
    with pytest.raises(RegistryError, match="not in the registry: no-such-portal"):
        select_portals(None, None, (name, "no-such-portal"), REGISTRY_DIR)
