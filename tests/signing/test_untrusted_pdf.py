"""The open verification endpoint and a hostile PDF: one log line per check however damaged
the file, and files beyond any agreement's structure refused before parsing."""

from __future__ import annotations

import io
import logging
import re

import pytest
from pypdf import PdfWriter

from tests.conftest import Api


def _damaged_pdf(pages: int = 300) -> bytes:
    """Every cross-reference offset off by a few bytes: pypdf warns once per object."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    return re.sub(
        rb"(\d{10}) (00000 n)",
        lambda m: b"%010d %s" % (int(m.group(1)) + 3, m.group(2)),
        out.getvalue(),
    )


def test_a_damaged_pdf_costs_one_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    answer = api.client.post("/api/v1/verify", files={"file": ("x.pdf", _damaged_pdf())})
    assert answer.status_code == 200 and answer.json()["status"] == "unknown"
    parser_lines = [r for r in caplog.records if r.name.startswith(("pypdf", "pyhanko"))]
    summaries = [r for r in caplog.records if "PDF parsers complained" in r.getMessage()]
    assert parser_lines == []
    assert len(summaries) == 1 and "complained" in summaries[0].getMessage()


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"%PDF-1.7\n1 0 obj\n" + b"<<" * 100 + b">>" * 100 + b"\nendobj\n", "levels deep"),
        (b"%PDF-1.7\n" + b"".join(b"%d 0 obj null endobj\n" % i for i in range(25_000)), "objects"),
        (b"%PDF-1.7\n1 0 obj\n" + b"[" * 5000 + b"]" * 5000 + b"\nendobj\n", "levels deep"),
    ],
)
def test_files_beyond_any_agreement_are_refused_before_parsing(
    api: Api, body: bytes, reason: str
) -> None:
    answer = api.client.post("/api/v1/verify", files={"file": ("x.pdf", body)})
    assert answer.status_code == 422 and reason in answer.json()["detail"], answer.text
