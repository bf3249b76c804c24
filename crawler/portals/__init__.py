"""The portal registry: one TOML entry per portal, validated, importable from CSV by the thousand.

A file holds either one portal (top-level keys) or many (`[[portals]]` tables, as written by the CSV
import). Keys: name (id: lower-case letters, digits, '-'), agency, region, level, start_urls,
allowed_domains; optional title, cms (a family in crawler/cms), hints (report_columns, disclosure_columns,
max_depth, page_budget). A portal is data: the discovery spider and the CMS families do the rest.
"""

from __future__ import annotations

import csv
import ipaddress
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REGISTRY_DIR = Path(__file__).parent
LEVELS = ("国家级", "省级", "市级", "县级", "乡级", "部门")
CMS_FAMILIES = ("trs_wcm", "hanweb", "query_string", "json_list", "generic")
HINT_KEYS = {"report_columns", "disclosure_columns", "max_depth", "page_budget", "notes"}
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_LEVEL_ALIASES = {
    "省": "省级",
    "省级": "省级",
    "市": "市级",
    "地市": "市级",
    "地级": "市级",
    "县": "县级",
    "区": "县级",
    "县区": "县级",
    "县级": "县级",
    "乡": "乡级",
    "镇": "乡级",
    "乡镇": "乡级",
    "街道": "乡级",
    "乡级": "乡级",
    "部门": "部门",
    "国家": "国家级",
    "国家级": "国家级",
    "中央": "国家级",
}


class RegistryError(ValueError):
    """A registry entry that does not validate; the message names the file and the field."""


@dataclass
class Portal:
    name: str
    agency: str
    start_urls: list[str]
    allowed_domains: list[str]
    region: str | None = None
    level: str | None = None
    title: str | None = None
    cms: str | None = None
    hints: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # file it came from

    def as_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v not in (None, {}, [])}
        d.pop("source", None)
        return d


def host_allowed(host: str, domains: list[str]) -> bool:
    """`host` is one of `domains` or a sub-domain of one (never of an IP address: `x.127.0.0.1` is no
    sub-domain; nor of `localhost`: `*.localhost` names are other portals, virtual hosts of the loopback
    server)."""
    host = host.lower().split(":")[0]
    return any(
        host == d or (host.endswith("." + d) and d != "localhost" and not _is_ip(d))
        for d in (x.lower() for x in domains)
    )


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


DEFAULT_PORTS = {"http": 80, "https": 443}


def same_site(url: str, domains: list[str], start_urls: list[str]) -> bool:
    """Whether `url` belongs to the portal: an allowed host, and the scheme and port of a start URL.

    Another port of the same host is another site (a test server, an admin console, someone else's
    service), so it is never fetched. The one exception is the web's own: http and https on their
    standard ports are the same site when the portal itself is on a standard port (http → https upgrades).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host_allowed(parts.hostname or "", domains):
        return False
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:  # a port that is not a number
        return False
    origins = set()
    for start in start_urls:
        sp = urlsplit(start)
        sscheme = sp.scheme.lower()
        origins.add((sscheme, sp.port or DEFAULT_PORTS.get(sscheme, 0)))
    if (scheme, port) in origins:
        return True
    standard = set(DEFAULT_PORTS.items())
    return (scheme, port) in standard and bool(origins & standard)


def validate(portal: Portal) -> list[str]:
    """Everything wrong with one entry (empty when it is fine)."""
    errors = []
    where = f"{portal.source or '?'}: {portal.name or '?'}"
    if not NAME_RE.match(portal.name or ""):
        errors.append(f"{where}: name must be lower-case letters, digits and '-'")
    if not (portal.agency or "").strip():
        errors.append(f"{where}: agency is required")
    if portal.level is not None and portal.level not in LEVELS:
        errors.append(f"{where}: level {portal.level!r} is not one of {', '.join(LEVELS)}")
    if not portal.start_urls:
        errors.append(f"{where}: start_urls is required")
    if not portal.allowed_domains:
        errors.append(f"{where}: allowed_domains is required")
    for url in (
        portal.start_urls
        + list(portal.hints.get("report_columns", []))
        + list(portal.hints.get("disclosure_columns", []))
    ):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors.append(f"{where}: {url!r} is not an http(s) URL")
        elif portal.allowed_domains and not host_allowed(parts.hostname, portal.allowed_domains):
            errors.append(f"{where}: {url} is outside allowed_domains {portal.allowed_domains}")
    if portal.cms is not None and portal.cms not in CMS_FAMILIES:
        errors.append(f"{where}: cms {portal.cms!r} is not one of {', '.join(CMS_FAMILIES)}")
    unknown = set(portal.hints) - HINT_KEYS
    if unknown:
        errors.append(f"{where}: unknown hints {sorted(unknown)}")
    return errors


def _portal_from_table(table: dict[str, Any], source: str) -> Portal:
    known = {"name", "agency", "start_urls", "allowed_domains", "region", "level", "title", "cms", "hints"}
    unknown = set(table) - known
    if unknown:
        raise RegistryError(f"{source}: unknown keys {sorted(unknown)}")

    def as_list(v: Any) -> list[str]:
        return [v] if isinstance(v, str) else list(v or [])

    return Portal(
        name=str(table.get("name", "")),
        agency=str(table.get("agency", "")),
        start_urls=as_list(table.get("start_urls")),
        allowed_domains=as_list(table.get("allowed_domains")),
        region=table.get("region"),
        level=table.get("level"),
        title=table.get("title"),
        cms=table.get("cms"),
        hints=dict(table.get("hints") or {}),
        source=source,
    )


def load_file(path: Path) -> list[Portal]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path.name}: not valid TOML: {exc}") from exc
    if "portals" in data:
        return [_portal_from_table(t, path.name) for t in data["portals"]]
    portal = _portal_from_table(data, path.name)
    return [portal]


def load_registry(directory: Path | str | None = None) -> dict[str, Portal]:
    """All portals of a registry folder by name. Raises RegistryError on the first invalid entry."""
    portals, errors = _load(directory)
    if errors:
        raise RegistryError("; ".join(errors))
    return portals


def validate_registry(directory: Path | str | None = None) -> tuple[dict[str, Portal], list[str]]:
    """(portals, errors) for a registry folder; errors also cover duplicate names and file/name mismatch."""
    return _load(directory)


def _load(directory: Path | str | None) -> tuple[dict[str, Portal], list[str]]:
    folder = Path(directory) if directory else REGISTRY_DIR
    portals: dict[str, Portal] = {}
    errors: list[str] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            entries = load_file(path)
        except RegistryError as exc:
            errors.append(str(exc))
            continue
        if len(entries) == 1 and path.stem != entries[0].name and not path.stem.startswith("import"):
            errors.append(f"{path.name}: file name must be the portal name ({entries[0].name}.toml)")
        for portal in entries:
            errors.extend(validate(portal))
            if portal.name in portals:
                errors.append(
                    f"{path.name}: duplicate portal name {portal.name!r} (also in {portals[portal.name].source})"
                )
            portals[portal.name] = portal
    return portals, errors


def is_loopback(url: str) -> bool:
    """True for URLs on this machine (demo, tests): politeness and contact rules do not apply there."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def portal_for_url(url: str, agency: str | None = None, name: str | None = None) -> Portal:
    """An ad-hoc portal for `nianbao crawl --url`: the start URL's host is the only allowed domain."""
    host = (urlsplit(url).hostname or "").lower()
    if not host:
        raise RegistryError(f"{url!r} is not an http(s) URL")
    domains = [host]  # exactly this host: `localhost` is another site than 127.0.0.1
    slug = name or re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "portal"
    port = urlsplit(url).port
    if port and not name:
        slug = f"{slug}-{port}"
    return Portal(
        name=slug[:63], agency=agency or host, start_urls=[url], allowed_domains=domains, source="--url"
    )


def select_portals(
    url: str | None, agency: str | None, names: tuple[str, ...] | list[str], registry: Path | str | None
) -> list[Portal]:
    """What a command acts on: one --url portal, or the registry's portals (all, or those `names`)."""
    if url:
        return [portal_for_url(url, agency, name=names[0] if names else None)]
    portals = load_registry(registry)
    unknown = [n for n in names if n not in portals]
    if unknown:
        raise RegistryError(f"not in the registry: {', '.join(unknown)}")
    return [portals[n] for n in names] if names else list(portals.values())


def normalize_level(value: str | None) -> str | None:
    v = (value or "").strip()
    return _LEVEL_ALIASES.get(v, v or None)


def import_csv(csv_path: Path | str, out_path: Path | str) -> tuple[int, list[str]]:
    """Turn a CSV (name, agency, domain or start URL, region, level; header row) into one registry file.

    Column names accepted: name/id, agency/机关, url/start_url/domain/域名, region/地区, level/层级. Rows
    without a name get one from the domain. Returns (portals written, problems by row).
    """
    rows = list(csv.DictReader(Path(csv_path).read_text(encoding="utf-8-sig").splitlines()))
    out: list[Portal] = []
    problems: list[str] = []
    seen: set[str] = set()

    def col(row: dict[str, str], *names: str) -> str:
        for n in names:
            for k, v in row.items():
                if k and k.strip().lower() == n and v:
                    return v.strip()
        return ""

    for i, row in enumerate(rows, start=2):
        target = col(row, "url", "start_url", "start_urls", "domain", "域名", "网址")
        if not target:
            problems.append(f"row {i}: no url/domain")
            continue
        url = target if "://" in target else f"https://{target.strip('/')}/"
        host = (urlsplit(url).hostname or "").lower()
        name = col(row, "name", "id", "名称") or re.sub(r"[^a-z0-9]+", "-", host.removeprefix("www.")).strip(
            "-"
        )
        name = name.lower()
        base, n = name, 2
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        portal = Portal(
            name=name,
            agency=col(row, "agency", "机关", "单位"),
            start_urls=[url],
            allowed_domains=[host],
            region=col(row, "region", "地区") or None,
            level=normalize_level(col(row, "level", "层级")),
            title=col(row, "title", "网站") or None,
            source=Path(csv_path).name,
        )
        errs = validate(portal)
        if errs:
            problems.extend(f"row {i}: {e.split(': ', 2)[-1]}" for e in errs)
            continue
        out.append(portal)
    Path(out_path).write_text(dumps_portals(out), encoding="utf-8")
    return len(out), problems


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} as TOML")


def dumps_portal(portal: Portal, table: str | None = None) -> str:
    d = portal.as_dict()
    hints = d.pop("hints", {})
    lines = [f"[[{table}]]"] if table else []
    lines += [f"{k} = {_toml_value(v)}" for k, v in d.items()]
    if hints:
        lines.append(f"[{table + '.' if table else ''}hints]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in hints.items()]
    return "\n".join(lines) + "\n"


def dumps_portals(portals: list[Portal]) -> str:
    return "\n".join(dumps_portal(p, "portals") for p in portals)
