"""Hostile files for the fault portal and the limits tests, made on the fly (nothing large in git).

Zip bombs come honest (the directory tells the inflated size) and lying (the central directory and the
local header declare `declared` bytes for a member that inflates to `real` bytes), as DOCX and XLSX.
"""

from __future__ import annotations

import gzip
import io
import struct
import zipfile

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _base_docx() -> bytes:
    import docx

    buf = io.BytesIO()
    docx.Document().save(buf)
    return buf.getvalue()


def _base_xlsx() -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["一、总体情况", 1])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _replace_member(
    container: bytes, member: str, head: bytes, filler: bytes, real: int, tail: bytes
) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(container))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            if info.filename != member:
                z.writestr(info.filename, src.read(info.filename))
                continue
            with z.open(member, "w", force_zip64=real > 0xFFFF0000) as f:
                f.write(head)
                chunk = filler * (1024 * 1024 // len(filler))
                n = len(head)
                while n < real - len(tail):
                    f.write(chunk)
                    n += len(chunk)
                f.write(tail)
    return out.getvalue()


def _lie(data: bytes, member: str, declared: int) -> bytes:
    """Declare `declared` bytes for `member` in its local header and the central directory."""
    buf = bytearray(data)
    name = member.encode()
    i = 0
    while (i := buf.find(b"PK\x03\x04", i)) != -1:
        nlen = struct.unpack("<H", buf[i + 26 : i + 28])[0]
        if bytes(buf[i + 30 : i + 30 + nlen]) == name:
            struct.pack_into("<I", buf, i + 22, declared)
        i += 4
    i = 0
    while (i := buf.find(b"PK\x01\x02", i)) != -1:
        nlen = struct.unpack("<H", buf[i + 28 : i + 30])[0]
        if bytes(buf[i + 46 : i + 46 + nlen]) == name:
            struct.pack_into("<I", buf, i + 24, declared)
        i += 4
    return bytes(buf)


def docx_bomb(real: int = 1_100_000_000, declared: int | None = None) -> bytes:
    """A DOCX whose document.xml inflates to `real` bytes; lying about it when `declared` is given."""
    head = (
        f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{_W}"><w:body><w:p><w:r><w:t>'.encode()
    )
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    data = _replace_member(_base_docx(), "word/document.xml", head, b"0", real, tail)
    return _lie(data, "word/document.xml", declared) if declared is not None else data


def xlsx_bomb(real: int = 1_100_000_000, declared: int | None = None) -> bytes:
    """An XLSX whose first sheet inflates to `real` bytes of one shared string; lying when `declared`."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'.encode()
    tail = b"</t></is></c></row></sheetData></worksheet>"
    data = _replace_member(_base_xlsx(), "xl/worksheets/sheet1.xml", head, b"0", real, tail)
    return _lie(data, "xl/worksheets/sheet1.xml", declared) if declared is not None else data


def gzip_bomb(real: int = 1_000_000_000) -> bytes:
    """Gzip of `real` zero bytes (about 1 MB per GB): served with Content-Encoding: gzip."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as g:
        chunk = b"\0" * (1024 * 1024)
        for _ in range(real // len(chunk)):
            g.write(chunk)
    return out.getvalue()


def corrupt_pdf() -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        + b"\x00\xff garbage " * 200
        + b"\n%%EOF"
    )


def looping_xref_pdf() -> bytes:
    """A PDF whose trailers point at each other (/Prev loops): a reader that follows them never ends."""
    body = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    x1 = len(body)
    xref1 = b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n"
    trailer1 = f"trailer\n<< /Size 3 /Root 1 0 R /Prev {x1} >>\n".encode()
    return body + xref1 + trailer1 + f"startxref\n{x1}\n%%EOF\n".encode()
