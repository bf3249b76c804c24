"""Report HTML that a page carries as data (PATTERNS A4): a front end's `let content = "<p …><table …>"`
string in a <script>, a JSON field holding escaped HTML, a whole JSON document answered by an API.

A browser renders such a page by running the script; the reader does what the script would do: take the
string literal (joined across `+`), undo the JavaScript/JSON escapes (and HTML entities when the markup was
entity-escaped) and read the result as a page. Only strings that hold markup and name a report are taken.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

# Markup inside a script, escaped or not: "<table", "\u003ctable", "\x3ctable", "&lt;table", "<\/p>".
_MARKUP = re.compile(r"(?:<|\\u003c|\\x3c|&lt;)\s*(?:table|p|div|span|tr|td|h\d|br)\b", re.I)
_LITERAL = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`(?:[^`\\]|\\.)*`', re.S)
_JOIN = re.compile(r"^\s*\+\s*$")
_ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|\r\n|.)", re.S)
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "\n": "", "\r\n": ""}
# A report is named by these; an HTML string without them is a widget, a menu or an advertisement.
_REPORT_WORDS = ("年度报告", "年报", "政府信息公开", "信息公开工作", "主动公开")
_MIN_CHARS = 200


def unescape_js(body: str) -> str:
    """The value of a JavaScript string literal's body (\\uXXXX, \\xXX, \\n, \\/ and line continuations)."""

    def one(m: re.Match[str]) -> str:
        esc = m.group(1)
        if esc.startswith("u{"):
            return chr(int(esc[2:-1], 16))
        if esc[0] in "ux" and len(esc) > 1:
            return chr(int(esc[1:], 16))
        return _SIMPLE.get(esc, esc)

    return _ESCAPE.sub(one, body)


def _as_markup(value: str) -> str:
    """Entity-escaped markup (`&lt;p&gt;…`) becomes markup; markup stays as it is."""
    if "<" not in value and "&lt;" in value:
        return html.unescape(value)
    return value


def _literals(script: str) -> Iterator[str]:
    """String values of a script's literals, adjacent literals joined across `+` ("<p>" + "…")."""
    joined: list[str] = []
    end = -1
    for m in _LITERAL.finditer(script):
        value = unescape_js(m.group(0)[1:-1])
        if joined and _JOIN.match(script[end : m.start()]):
            joined.append(value)
        else:
            if joined:
                yield "".join(joined)
            joined = [value]
        end = m.end()
    if joined:
        yield "".join(joined)


def _score(markup: str) -> int:
    """How much report a fragment holds (0: none): its length when it names a report and holds markup."""
    if len(markup) < _MIN_CHARS or not _MARKUP.search(markup):
        return 0
    if not any(w in markup for w in _REPORT_WORDS):
        return 0
    return len(markup) + (100_000 if re.search(r"<table\b", markup, re.I) else 0)


def _best(candidates: Iterator[str]) -> str | None:
    best, best_score = None, 0
    for value in candidates:
        markup = _as_markup(value)
        score = _score(markup)
        if score > best_score:
            best, best_score = markup, score
    return best


def from_scripts(root: etree._Element) -> str | None:
    """The largest report HTML held in a <script> string or in JSON inside a script, or None."""

    def candidates() -> Iterator[str]:
        for script in root.iter("script"):
            code = script.text or ""
            if not _MARKUP.search(code):
                continue
            stripped = code.strip()
            if stripped.startswith(("{", "[")):  # <script type="application/json">
                data = _json(stripped)
                if data is not None:
                    yield from json_strings(data)
                    continue
            yield from _literals(code)

    return _best(candidates())


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def json_strings(data: Any, depth: int = 0) -> Iterator[str]:
    """Every string value in a JSON document (bounded depth: a hostile document cannot recurse forever)."""
    if depth > 40:
        return
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from json_strings(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from json_strings(value, depth + 1)


def json_fields(data: Any, depth: int = 0) -> Iterator[tuple[str, str]]:
    """(key, string value) pairs of a JSON document, for the page metadata a JSON API hands over."""
    if depth > 40:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str | int) and not isinstance(value, bool):
                yield str(key), str(value)
            else:
                yield from json_fields(value, depth + 1)
    elif isinstance(data, list):
        for value in data:
            yield from json_fields(value, depth + 1)


def from_json_document(text: str) -> tuple[str, dict[str, str]] | None:
    """(report HTML, the document's scalar fields) when `text` is a JSON document holding a report's HTML."""
    stripped = text.strip()
    if not stripped.startswith(("{", "[")):
        return None
    data = _json(stripped)
    if data is None:
        return None
    markup = _best(json_strings(data))
    if markup is None:
        return None
    fields: dict[str, str] = {}
    for key, value in json_fields(data):
        if len(value) <= 300:
            fields.setdefault(key, value)
    return markup, fields
