"""WARC/1.1 writing: request + response records as received on the wire, revisits, rotating gzip files.

One `WarcWriter` per crawl. Records are gzip-compressed one by one (warcio `gzip=True`), so each record's
offset in its file is where a replay tool seeks. The payload digest (sha1, base32) of every response is
kept in a sidecar SQLite index (`digests.sqlite` beside the WARC files): when the same URL answers with a
payload already archived, a `revisit` record (profile identical-payload-digest) refers to the original
instead of repeating the bytes; a 304 answer to a conditional request is a `revisit` with profile
server-not-modified.
"""

from __future__ import annotations

import base64
import hashlib
import io
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Extension fields of a 304 revisit without an HTTP block: the status line and headers as received.
HTTP_STATUS_FIELD = "X-Nianbao-HTTP-Status"
HTTP_HEADER_FIELD = "X-Nianbao-HTTP-Header"
# Hop-by-hop framing already undone by the HTTP client: keep the header under another name so a replay
# tool does not try to de-chunk a body that is no longer chunked.
_FRAMING_HEADERS = {"transfer-encoding"}


def warc_date(dt: datetime | None = None) -> str:
    return (dt or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


@dataclass
class WrittenRecord:
    """Where a response (or revisit) record went: the file name, offset and record id stored in `versions`."""

    warc_file: str
    offset: int
    record_id: str
    record_type: str
    payload_digest: str
    length: int = 0


class DigestIndex:
    """url + payload digest → first capture (record id, date, file): the revisit de-duplication index."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")  # no fsync per record; WAL keeps it consistent
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS digests (url TEXT NOT NULL, digest TEXT NOT NULL, record_id TEXT NOT NULL,"
            " date TEXT NOT NULL, warc_file TEXT NOT NULL, PRIMARY KEY (url, digest))"
        )
        # The payload a 304 confirms: the last full capture of each URL (for WARC-Refers-To on revisits).
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS latest (url TEXT PRIMARY KEY, digest TEXT NOT NULL,"
            " record_id TEXT NOT NULL, date TEXT NOT NULL)"
        )
        self.conn.commit()

    def lookup(self, url: str, digest: str) -> tuple[str, str, str] | None:
        row = self.conn.execute(
            "SELECT record_id, date, warc_file FROM digests WHERE url = ? AND digest = ?", [url, digest]
        ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def add(
        self, url: str, digest: str, record_id: str, date: str, warc_file: str, commit: bool = True
    ) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO digests VALUES (?, ?, ?, ?, ?)", [url, digest, record_id, date, warc_file]
        )
        if commit:
            self.conn.commit()

    def latest(self, url: str) -> tuple[str, str, str] | None:
        """(record id, date, payload digest) of the last 200 capture of `url`: what a 304 confirms."""
        row = self.conn.execute("SELECT record_id, date, digest FROM latest WHERE url = ?", [url]).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def set_latest(self, url: str, digest: str, record_id: str, date: str) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO latest (url, digest, record_id, date) VALUES (?, ?, ?, ?)",
            [url, digest, record_id, date],
        )
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class WarcWriter:
    """Rotating WARC/1.1 writer. `prefix-YYYYmmddHHMMSS-NNNNN.warc.gz`, a new file past `max_size` bytes."""

    def __init__(
        self,
        directory: Path | str,
        prefix: str = "nianbao",
        max_size: int = 100 * 1024 * 1024,
        software: str = "nianbao/0.1",
        operator: str | None = None,
        robots: str = "obey",
        dedup: bool = True,
        index_path: Path | None = None,
    ):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.max_size = max_size
        self.software = software
        self.operator = operator
        self.robots = robots
        self.index = DigestIndex(index_path or self.directory / "digests.sqlite") if dedup else None
        self.files: list[str] = []
        self.stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._fh: io.BufferedWriter | None = None
        self._writer: WARCWriter | None = None
        self._lock = threading.Lock()
        self.bytes_written = 0
        self.revisits = 0
        self.payload_bytes_saved = 0

    # -- files -------------------------------------------------------------------------------------------
    def _open_next(self) -> None:
        self._close_file()
        name = f"{self.prefix}-{self.stamp}-{len(self.files):05d}.warc.gz"
        path = self.directory / name
        self._fh = open(path, "wb")  # noqa: SIM115 - kept open across records, closed on rotation
        self._writer = WARCWriter(self._fh, gzip=True, warc_version="WARC/1.1")
        self.files.append(name)
        info = {
            "software": self.software,
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "robots": self.robots,
        }
        if self.operator:
            info["operator"] = self.operator
        self._writer.write_record(self._writer.create_warcinfo_record(name, info))

    def _close_file(self) -> None:
        if self._fh is not None:
            self.bytes_written += self._fh.tell()
            self._fh.close()
        self._fh = None
        self._writer = None

    def _ensure_file(self) -> WARCWriter:
        if self._fh is None or self._fh.tell() >= self.max_size:
            self._open_next()
        assert self._writer is not None
        return self._writer

    @property
    def current_file(self) -> str | None:
        return self.files[-1] if self.files else None

    def paths(self) -> list[Path]:
        return [self.directory / f for f in self.files]

    def close(self) -> None:
        with self._lock:
            self._close_file()
            if self.index is not None:
                self.index.close()
                self.index = None

    # -- records -----------------------------------------------------------------------------------------
    def write_exchange(
        self,
        *,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        request_body: bytes,
        status: int,
        reason: str,
        protocol: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        ip_address: str | None = None,
        date: str | None = None,
    ) -> WrittenRecord:
        """Write a response (or revisit) record and its request record; return where the response went."""
        date = date or warc_date()
        protocol = protocol or "HTTP/1.1"
        headers = [
            (f"X-Archive-Orig-{k}" if k.lower() in _FRAMING_HEADERS else k, v) for k, v in response_headers
        ]
        status_line = f"{status} {reason}".strip()
        http_headers = StatusAndHeaders(status_line, headers, protocol=protocol)
        digest = sha1_b32(body)
        warc_headers = {"WARC-Date": date}
        if ip_address:
            warc_headers["WARC-IP-Address"] = ip_address
        with self._lock:
            writer = self._ensure_file()
            previous = self.index.lookup(url, digest) if self.index is not None and status != 304 else None
            confirmed = self.index.latest(url) if self.index is not None and status == 304 else None
            if status == 304 and confirmed is not None:
                # Name the capture the 304 confirms (WARC-Refers-To, -Date, its payload digest) and leave the
                # HTTP block empty: replay tools then serve the confirmed capture's headers and payload (pywb
                # replays a revisit that carries a 3xx status line as an empty page). The 304 as received is
                # kept in extension fields of the same record (a separate metadata record would be indexed
                # as a capture of the URL and shadow the revisit).
                record = writer.create_warc_record(url, "revisit", warc_headers_dict=dict(warc_headers))
                record.rec_headers.add_header(HTTP_STATUS_FIELD, f"{protocol} {status_line}")
                for k, v in headers:
                    record.rec_headers.add_header(HTTP_HEADER_FIELD, f"{k}: {v}")
                record.rec_headers.add_header("WARC-Profile", PROFILE_NOT_MODIFIED)
                record.rec_headers.add_header("WARC-Refers-To-Target-URI", url)
                record.rec_headers.add_header("WARC-Refers-To", confirmed[0])
                record.rec_headers.add_header("WARC-Refers-To-Date", confirmed[1])
                record.rec_headers.replace_header("WARC-Payload-Digest", confirmed[2])
                kind = "revisit"
            elif status == 304:
                record = writer.create_warc_record(
                    url, "revisit", http_headers=http_headers, warc_headers_dict=dict(warc_headers)
                )
                record.rec_headers.add_header("WARC-Profile", PROFILE_NOT_MODIFIED)
                record.rec_headers.add_header("WARC-Refers-To-Target-URI", url)
                kind = "revisit"
            elif previous is not None and body:
                record = writer.create_revisit_record(
                    url,
                    digest,
                    url,
                    previous[1],
                    http_headers=http_headers,
                    warc_headers_dict=dict(warc_headers),
                )
                record.rec_headers.replace_header("WARC-Profile", PROFILE_IDENTICAL)
                record.rec_headers.add_header("WARC-Refers-To", previous[0])
                kind = "revisit"
                self.revisits += 1
                self.payload_bytes_saved += len(body)
            else:
                record = writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(body),
                    length=len(body),
                    http_headers=http_headers,
                    warc_headers_dict=dict(warc_headers),
                )
                kind = "response"
            assert self._fh is not None
            offset = self._fh.tell()
            writer.write_record(record)
            length = self._fh.tell() - offset
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            file_name = self.current_file or ""
            if kind == "response" and self.index is not None and body:
                # Committed with the `latest` row below: one commit per exchange.
                self.index.add(url, digest, record_id, date, file_name, commit=status != 200)
            if self.index is not None and status == 200 and body:
                original = (record_id, date) if previous is None else (previous[0], previous[1])
                self.index.set_latest(url, digest, original[0], original[1])

            parts = urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            req_headers = list(request_headers)
            if not any(k.lower() == "host" for k, _ in req_headers):
                req_headers.insert(0, ("Host", parts.netloc))
            req_http = StatusAndHeaders(
                f"{method} {target} {protocol}", req_headers, protocol=protocol, is_http_request=True
            )
            req_record = writer.create_warc_record(
                url,
                "request",
                payload=io.BytesIO(request_body or b""),
                length=len(request_body or b""),
                http_headers=req_http,
                warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
            )
            writer.write_record(req_record)
        return WrittenRecord(file_name, offset, record_id, kind, digest, length)
