"""PDF post-processing with pypdf: metadata, page count, hashing."""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
    create_string_object,
)

_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
# LibreOffice (7.4) escapes the five XML specials twice in the PDF/A XMP (dc:title, dc:creator,
# dc:description, pdf:Keywords): a title with `"` reads `&quot;` there but `"` in Info.
_DOUBLE_ESCAPED = re.compile(rb"&amp;(quot|amp|lt|gt|apos);")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _serialize(obj: DictionaryObject) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _corrected_xmp(reader: PdfReader) -> tuple[IndirectObject, bytes] | None:
    """The catalog's XMP packet with LibreOffice's double escaping undone, when it has any."""
    root = reader.trailer["/Root"]
    ref = root.raw_get("/Metadata") if isinstance(root, DictionaryObject) else None
    if not isinstance(ref, IndirectObject):
        return None
    stream = ref.get_object()
    if not isinstance(stream, StreamObject):
        return None
    packet = stream.get_data()
    fixed = _DOUBLE_ESCAPED.sub(rb"&\1;", packet)
    return None if fixed == packet else (ref, fixed)


def with_metadata(pdf: bytes, custom: Mapping[str, str]) -> tuple[bytes, int]:
    """Add our own /DPA* keys to the document information dictionary; returns (PDF, pages).

    Written as an incremental update that redefines only the Info dictionary (and the XMP
    packet, where LibreOffice escaped it twice): LibreOffice's bytes stay as they are, and the
    title it took from the DOCX reads the same in Info and in the PDF/A XMP. pypdf reads the
    file and serialises the objects; appending them and one cross-reference section ourselves
    costs a few milliseconds, where pypdf's incremental writer, which clones every object to
    find what changed, takes over 100 ms on a DPA.
    """
    reader = PdfReader(io.BytesIO(pdf))
    pages = len(reader.pages)
    trailer = reader.trailer
    tail = _STARTXREF.search(pdf[-1024:])
    info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
    xmp = _corrected_xmp(reader)
    if tail is None or info_ref is None or trailer.get("/Type") == "/XRef":
        # Not the classic layout LibreOffice writes: let pypdf do the whole update.
        writer = PdfWriter(io.BytesIO(pdf), incremental=True)
        writer.add_metadata({f"/DPA{k}": v for k, v in custom.items()})
        if xmp is not None:
            stream = writer.get_object(xmp[0].idnum)
            assert isinstance(stream, StreamObject)
            stream.set_data(xmp[1])
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
    written: list[tuple[int, int, int]] = []  # (object number, generation, offset)
    written.append((info_ref.idnum, info_ref.generation, len(out)))
    out += f"{info_ref.idnum} {info_ref.generation} obj\n".encode()
    out += _serialize(info) + b"\nendobj\n"
    if xmp is not None:
        ref, packet = xmp
        written.append((ref.idnum, ref.generation, len(out)))
        # Unfiltered, as PDF/A requires of metadata streams.
        out += f"{ref.idnum} {ref.generation} obj\n".encode()
        out += f"<</Type/Metadata/Subtype/XML/Length {len(packet)}>>\nstream\n".encode()
        out += packet + b"\nendstream\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f\r\n"  # the free-list head, as in a full table
    for number, generation, offset in sorted(written):
        out += f"{number} 1\n{offset:010d} {generation:05d} n\r\n".encode()
    out += b"trailer\n" + _serialize(new_trailer) + f"\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out), pages


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def metadata(pdf: bytes) -> dict[str, str]:
    meta = PdfReader(io.BytesIO(pdf), strict=True).metadata
    return {str(k): str(v) for k, v in (meta or {}).items()}
