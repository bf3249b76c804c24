"""URL hygiene for requests: dot segments removed from paths (RFC 3986 §5.2.4), so `/a/../../etc` is never
sent as is and `/a/./b` and `/a/b` are one URL."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_DOT = re.compile(r"%2e", re.I)


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4; `..` above the root stays at the root, percent-encoded dots count as dots."""
    if not path:
        return path
    segments = path.split("/")
    out: list[str] = []
    for seg in segments[1:] if path.startswith("/") else segments:
        plain = _DOT.sub(".", seg)
        if plain == ".":
            continue
        if plain == "..":
            if out:
                out.pop()
            continue
        out.append(seg)
    last = _DOT.sub(".", segments[-1])
    trailing = last in (".", "..") and bool(out)
    joined = "/".join(out)
    if path.startswith("/"):
        joined = "/" + joined
    return joined + "/" if trailing and not joined.endswith("/") else joined


def normalize_url(url: str) -> str:
    """`url` with its path's dot segments resolved (scheme, host, query and fragment untouched)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.path:
        return url
    path = remove_dot_segments(parts.path)
    if path == parts.path:
        return url
    return urlunsplit((parts.scheme, parts.netloc, path or "/", parts.query, parts.fragment))
