"""PDF post-processing with pypdf: metadata, page count, hashing."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping

from pypdf import PdfReader, PdfWriter


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def with_metadata(pdf: bytes, title: str, custom: Mapping[str, str]) -> bytes:
    """Set the title and our own /DPA* keys in the document information dictionary.

    The XMP stream LibreOffice wrote for PDF/A already carries the title; we keep it in step.
    """
    reader = PdfReader(io.BytesIO(pdf))
    writer = PdfWriter(clone_from=reader)
    writer.pdf_header = reader.pdf_header  # keep the PDF/A version LibreOffice declared
    info = {"/Title": title}
    info.update({f"/DPA{k}": v for k, v in custom.items()})
    writer.add_metadata(info)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def metadata(pdf: bytes) -> dict[str, str]:
    meta = PdfReader(io.BytesIO(pdf)).metadata or {}
    return {str(k): str(v) for k, v in meta.items()}
