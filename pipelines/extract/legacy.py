"""Legacy word-processor and spreadsheet files (DOC, WPS, RTF, ODT; XLS is read directly by calamine):
converted by LibreOffice headless to DOCX (or XLSX), then read by the DOCX/sheet extractors.

One conversion at a time (a process-wide lock plus a file lock, since soffice instances sharing a profile
collide), each in a fresh temporary profile (`-env:UserInstallation`), with a timeout that kills the whole
process group.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from . import limits
from .base import ExtractionError

_LOCK = threading.Lock()
LOCK_FILE = Path(tempfile.gettempdir()) / "nianbao-soffice.lock"


def soffice_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@contextlib.contextmanager
def _one_at_a_time():
    with _LOCK:
        fd = os.open(LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def convert(
    data: bytes, src_ext: str, target: str = "docx", timeout: float = limits.SOFFICE_TIMEOUT
) -> bytes:
    """Convert `data` (a file whose type LibreOffice recognises from its content and `src_ext`) to `target`
    ("docx", "xlsx", "pdf", "doc", …, optionally with a filter: "doc:MS Word 97"). Returns the new bytes."""
    exe = soffice_binary()
    if exe is None:
        raise ExtractionError(f"{src_ext} needs LibreOffice (soffice) to convert, and it is not installed")
    out_ext = target.split(":", 1)[0]
    with _one_at_a_time(), tempfile.TemporaryDirectory(prefix="nianbao-soffice-") as tmp:
        tmpdir = Path(tmp)
        profile = tmpdir / "profile"
        src = tmpdir / f"in.{src_ext}"
        src.write_bytes(data)
        outdir = tmpdir / "out"
        outdir.mkdir()
        cmd = [
            exe,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            "--nofirststartwizard",
            "--convert-to",
            target,
            "--outdir",
            str(outdir),
            str(src),
        ]
        env = {**os.environ, "HOME": str(tmpdir), "SAL_USE_VCLPLUGIN": "svp"}
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        try:
            _out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise limits.over("LibreOffice conversion time", f"{timeout:.0f} s+", f"{timeout:.0f} s") from exc
        result = outdir / f"in.{out_ext}"
        if not result.exists():
            msg = err.decode("utf-8", "replace").strip().splitlines()
            raise ExtractionError(
                f"LibreOffice could not convert {src_ext} to {out_ext}" + (f": {msg[-1]}" if msg else "")
            )
        return result.read_bytes()


def extract_legacy(data: bytes, fmt: str):
    """DOC/WPS/RTF/ODT → DOCX → python-docx; ET/ODS-like spreadsheets are handled by sheet.py."""
    from .docx import extract_docx

    converted = convert(data, fmt, "docx")
    ex = extract_docx(converted)
    ex.format = fmt
    ex.extractor = f"{fmt}/soffice→docx/python-docx"
    ex.meta["converted_by"] = "libreoffice"
    return ex
