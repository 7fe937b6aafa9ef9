"""poppler's pdfsig as a second validator, with the roots to trust in a temporary NSS database
(certutil from libnss3-tools), and the two later changes a PDF editor makes to a signed file."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


@dataclass(frozen=True)
class PdfsigEntry:
    field: str
    kind: str  # ETSI.CAdES.detached; "unknown" for a document timestamp (pdfsig cannot check one)
    valid: bool  # "Signature is Valid."
    trusted: bool  # "Certificate is Trusted."
    total: bool  # "Total document signed"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/install --test installs it)")
    return path


def pdfsig(pdf: bytes, roots: Sequence[x509.Certificate]) -> list[PdfsigEntry]:
    """What pdfsig says about every signature, trusting exactly `roots` (for e-mail signing,
    which is the usage poppler checks)."""
    certutil = _tool("certutil")
    with tempfile.TemporaryDirectory(prefix="nss-") as folder:
        base = Path(folder)
        db = f"sql:{base}"
        subprocess.run([certutil, "-N", "-d", db, "--empty-password"], check=True)
        for number, root in enumerate(roots):
            pem = base / f"root-{number}.pem"
            pem.write_bytes(root.public_bytes(Encoding.PEM))
            subprocess.run(
                [certutil, "-A", "-d", db, "-n", f"root {number}", "-t", ",C,", "-i", str(pem)],
                check=True,
            )
        target = base / "document.pdf"
        target.write_bytes(pdf)
        # exit status 0 whatever the verdict: the output is the answer
        out = subprocess.run(
            [_tool("pdfsig"), "-nssdir", db, str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    entries = []
    for block in re.split(r"^Signature #\d+:\n", out, flags=re.M)[1:]:
        field = re.search(r"Signature Field Name: (.*)", block)
        kind = re.search(r"Signature Type: (.*)", block)
        entries.append(
            PdfsigEntry(
                field=field.group(1).strip() if field else "",
                kind=kind.group(1).strip() if kind else "",
                valid="Signature Validation: Signature is Valid." in block,
                trusted="Certificate Validation: Certificate is Trusted." in block,
                total="  - Total document signed" in block,
            )
        )
    return entries


def with_annotation(pdf: bytes) -> bytes:
    """A later revision adding a FreeText annotation to page 1, as a PDF editor would."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.find_page_for_modification(0)[0]
    page = page_ref.get_object()
    note = writer.add_object(
        generic.DictionaryObject(
            {
                generic.NameObject("/Type"): generic.NameObject("/Annot"),
                generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
                generic.NameObject("/Rect"): generic.ArrayObject(
                    [generic.FloatObject(v) for v in (50, 700, 300, 740)]
                ),
                generic.NameObject("/Contents"): generic.TextStringObject("Liability cap removed"),
                generic.NameObject("/DA"): generic.TextStringObject("/Helv 12 Tf 1 0 0 rg"),
                generic.NameObject("/F"): generic.NumberObject(4),
            }
        )
    )
    if "/Annots" in page:
        page["/Annots"].append(note)
    else:
        page[generic.NameObject("/Annots")] = generic.ArrayObject([note])
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_overlay(pdf: bytes) -> bytes:
    """A later revision painting over page 1 (a white box): a change to what the page shows."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    box = generic.StreamObject(stream_data=b"q 1 1 1 rg 50 600 400 120 re f Q")
    writer.add_stream_to_page(0, writer.add_object(box), prepend=False)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
