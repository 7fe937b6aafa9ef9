"""The completed PDF stays PDF/A-2b after the certificate of completion and the seal are added:
every font embedded with the widths of its own program, the PDF/A identification and output
intent, and XMP metadata that reads exactly as the Info dictionary (quotes included)."""

from __future__ import annotations

import io

import pikepdf
import pytest
from reportlab.pdfgen import canvas

from dpa_service.signing.certificate import render_certificate
from tests.conftest import Api, workspace
from tests.pdfa import font_problems, pdfa_identity
from tests.signing.helpers import issue, sign, version_state
from tests.signing.test_certificate import make_certificate

QUOTED_NAME = 'SIA "Ziemeļu Logi" & Partneri'


@pytest.fixture(scope="module")
def completed_pdf(api: Api) -> bytes:
    issued = issue(api, "pdfa-ws", workspace(legal_name=QUOTED_NAME))
    assert sign(api, issued).status_code == 303
    state = version_state(api, issued)
    assert state["state"] == "completed"
    response = api.client.get(state["completed_download_url"], headers=api.headers())
    assert response.status_code == 200
    return response.content


def test_every_font_of_a_completed_pdf_is_embedded_with_its_own_widths(
    completed_pdf: bytes,
) -> None:
    assert font_problems(completed_pdf) == []


def test_a_completed_pdf_claims_pdfa_2b_with_an_output_intent_and_identical_metadata(
    completed_pdf: bytes,
) -> None:
    identity = pdfa_identity(completed_pdf)
    assert (identity["part"], identity["conformance"]) == ("2", "B")
    assert ("/GTS_PDFA1", True) in identity["output_intents"]
    xmp, info = identity["xmp"], identity["info"]
    assert info["title"] == f"Data Processing Agreement — {QUOTED_NAME}"
    assert xmp["title"] == info["title"]
    assert xmp["subject"] == info["subject"]


def _helvetica_line() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, "0123456789abcdef")
    c.save()
    return buf.getvalue()


def _with_a_wrong_width(pdf: bytes) -> bytes:
    """The PDF with one /Widths entry of its embedded TrueType fonts off by half an em."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            for font in page.Resources.Font.values():
                if font.get("/Subtype") == "/TrueType" and "/Widths" in font:
                    widths = list(font.Widths)
                    widths[len(widths) // 2] = float(widths[len(widths) // 2]) + 500
                    font.Widths = pikepdf.Array(widths)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


def test_the_font_check_finds_a_standard_font_and_widths_that_disagree() -> None:
    # What the certificate of completion used to contain: Helvetica (never embedded), and
    # widths that disagree with the embedded program (reportlab's DejaVu Sans Mono).
    assert font_problems(_helvetica_line()) == ["Helvetica: not embedded"]
    certificate = render_certificate(make_certificate(verification_url="https://x.test/verify"))
    assert font_problems(certificate) == []
    problems = font_problems(_with_a_wrong_width(certificate))
    assert problems and all("widths disagree" in p for p in problems), problems
