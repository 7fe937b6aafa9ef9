"""One warm LibreOffice, driven over UNO, converting DOCX frames on stdin to PDF frames on stdout.

This file runs under Debian's /usr/bin/python3 (the only interpreter where `uno` imports), so it
uses the standard library and `uno` only and must not import anything from dpa_service.

Usage: uno_worker.py SOFFICE WORKDIR (a private folder the parent made and removes).

Protocol (all integers big-endian):
  worker -> parent, once started:  b"R" + u32 len + soffice version text
  parent -> worker, per document:  u32 len + DOCX bytes   (len 0 asks the worker to exit)
  worker -> parent, per document:  b"O" + u32 len + PDF bytes   or   b"E" + u32 len + message
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import uuid

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]
from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

# PDF/A-2b: archival PDF with every font embedded.
PDF_FILTER_DATA = {"SelectPdfVersion": 2, "UseTaggedPDF": False, "ExportBookmarks": True}


def _props(**values: object) -> tuple[PropertyValue, ...]:
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


def _read_exact(stream, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(n - len(buf))
        if not chunk:
            raise EOFError
        buf.extend(chunk)
    return bytes(buf)


def _send(stream, kind: bytes, payload: bytes) -> None:
    stream.write(kind + struct.pack(">I", len(payload)) + payload)
    stream.flush()


def _start_office(workdir: str, soffice: str) -> tuple[subprocess.Popen[bytes], object]:
    pipe_name = f"dpa_{uuid.uuid4().hex}"
    profile = uno.systemPathToFileUrl(os.path.join(workdir, "profile"))
    # LibreOffice's own temporary files (copies of the document) stay in the private folder too
    tmp = os.path.join(workdir, "tmp")
    os.makedirs(tmp, mode=0o700, exist_ok=True)
    office = subprocess.Popen(
        [
            soffice,
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            "--nofirststartwizard",
            f"-env:UserInstallation={profile}",
            f"--accept=pipe,name={pipe_name};urp;StarOffice.ComponentContext",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": tmp, "TMP": tmp, "TEMP": tmp},
    )
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe_name};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if office.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("soffice did not start") from None
            time.sleep(0.05)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    return office, desktop


def _convert(desktop: object, workdir: str, docx: bytes) -> bytes:
    src = os.path.join(workdir, "in.docx")
    dst = os.path.join(workdir, "out.pdf")
    try:
        return _convert_files(desktop, src, dst, docx)
    finally:
        # the document holds a customer's details: nothing stays once the conversion ends
        for path in (src, dst):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


def _convert_files(desktop: object, src: str, dst: str, docx: bytes) -> bytes:
    fd = os.open(src, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(docx)
    doc = desktop.loadComponentFromURL(  # type: ignore[attr-defined]
        uno.systemPathToFileUrl(src),
        "_blank",
        0,
        _props(Hidden=True, ReadOnly=True, FilterName="MS Word 2007 XML"),
    )
    if doc is None:
        raise RuntimeError("LibreOffice could not open the document")
    try:
        filter_data = uno.Any("[]com.sun.star.beans.PropertyValue", _props(**PDF_FILTER_DATA))
        uno.invoke(
            doc,
            "storeToURL",
            (
                uno.systemPathToFileUrl(dst),
                _props(FilterName="writer_pdf_Export", FilterData=filter_data),
            ),
        )
    finally:
        doc.close(True)
    with open(dst, "rb") as fh:
        return fh.read()


def main() -> int:
    soffice = sys.argv[1] if len(sys.argv) > 1 else "soffice"
    # Keep the protocol channel to ourselves: anything else printing to fd 1 goes to stderr.
    proto_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    proto_in = sys.stdin.buffer
    # the pool's private folder for this worker (0700); standalone: a private temp folder
    workdir = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="dpa-uno-")
    os.umask(0o077)  # LibreOffice's profile and temp files: for this user only
    office = None
    try:
        office, desktop = _start_office(workdir, soffice)
        _send(proto_out, b"R", b"ready")
        while True:
            try:
                (size,) = struct.unpack(">I", _read_exact(proto_in, 4))
            except EOFError:
                return 0
            if size == 0:
                return 0
            docx = _read_exact(proto_in, size)
            try:
                pdf = _convert(desktop, workdir, docx)
            except Exception as exc:
                if office.poll() is not None or "Disposed" in type(exc).__name__:
                    # soffice is gone: exit, so the parent replaces this worker and retries.
                    return 3
                _send(proto_out, b"E", f"{type(exc).__name__}: {exc}".encode())
            else:
                _send(proto_out, b"O", pdf)
    finally:
        if office is not None:
            try:
                desktop.terminate()  # type: ignore[possibly-undefined]
            except Exception:
                pass
            try:
                office.wait(timeout=5)
            except subprocess.TimeoutExpired:
                office.kill()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
