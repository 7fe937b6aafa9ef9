"""PDF post-processing with pypdf: metadata, page count, hashing."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping

from pypdf import PdfReader, PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, create_string_object

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _serialize(obj: DictionaryObject) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def with_metadata(pdf: bytes, custom: Mapping[str, str]) -> tuple[bytes, int]:
    """Add our own /DPA* keys to the document information dictionary; returns (PDF, pages).

    Written as an incremental update that redefines only the Info dictionary: LibreOffice's
    bytes stay as they are, and the title it took from the DOCX stays the same in Info and in
    the PDF/A XMP. pypdf reads the file and serialises the objects; appending one object and
    one cross-reference section ourselves costs a few milliseconds, where pypdf's incremental
    writer, which clones every object to find what changed, takes over 100 ms on a DPA.
    """
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    trailer = reader.trailer
    tail = _STARTXREF.search(pdf[-1024:])
    info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
    if tail is None or info_ref is None or trailer.get("/Type") == "/XRef":
        # Not the classic layout LibreOffice writes: let pypdf do the whole update.
        writer = PdfWriter(io.BytesIO(pdf), incremental=True)
        writer.add_metadata({f"/DPA{k}": v for k, v in custom.items()})
        buf = io.BytesIO()
        writer.write(buf)
        return buf.getvalue(), pages

    info = DictionaryObject(info_ref.get_object())
    for key, value in custom.items():
        info[NameObject(f"/DPA{key}")] = create_string_object(value)
    new_trailer = DictionaryObject(
        {
            NameObject("/Size"): trailer["/Size"],
            NameObject("/Root"): trailer.raw_get("/Root"),
            NameObject("/Info"): info_ref,
            NameObject("/Prev"): NumberObject(int(tail.group(1))),
        }
    )
    if "/ID" in trailer:
        new_trailer[NameObject("/ID")] = trailer["/ID"]

    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    obj_at = len(out)
    out += f"{info_ref.idnum} {info_ref.generation} obj\n".encode()
    out += _serialize(info) + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f\r\n"  # the free-list head, as in a full table
    out += f"{info_ref.idnum} 1\n{obj_at:010d} {info_ref.generation:05d} n\r\n".encode()
    out += b"trailer\n" + _serialize(new_trailer) + f"\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out), pages


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def metadata(pdf: bytes) -> dict[str, str]:
    meta = PdfReader(io.BytesIO(pdf), strict=True).metadata
    return {str(k): str(v) for k, v in (meta or {}).items()}
