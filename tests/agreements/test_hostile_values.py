"""Hostile and unusual values are printed literally and the document stays a valid PDF."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.conftest import Api, workspace
from tests.pdf_text import pdf_text

TEMPLATE_CODE = "{{ 7*7 }} {% for x in y %}"
XML_BREAKER = "</w:t></w:r><w:r><w:t>"
SPECIALS = "& < > \" '"
RTL_NAME = "דוד כהן"


def test_hostile_values_print_literally(api: Api, workspace_id: str) -> None:
    data = workspace(
        legal_name=f"{TEMPLATE_CODE} Ltd",
        registration_number="{{ cycler.__init__.__globals__ }}",
        address={
            "street": f"{XML_BREAKER} iela 1",
            "city": "Łódź",
            "postal_code": "90-001",
            "country": "PL",
        },
        signatory={
            "name": RTL_NAME,
            "title": f"Geschäftsführer {SPECIALS}",
            "email": "dawid@example.pl",
        },
        dpo={"name": "Zoë Müller-Großmann", "email": "dpo@example.de"},  # emoji: 422, see
        # tests/counterparties/test_printable_text.py
    )
    assert api.put_workspace(workspace_id, data).status_code == 201
    r = api.request_dpa(workspace_id)
    assert r.status_code == 201, r.text
    pdf = api.client.get(r.json()["download_url"], headers=api.headers()).content
    reader = PdfReader(io.BytesIO(pdf))  # parses: the document is intact
    assert len(reader.pages) >= 5
    text = pdf_text(pdf)

    assert f"{TEMPLATE_CODE} Ltd" in text  # not 49, not a loop
    assert "{{ cycler.__init__.__globals__ }}" in text
    assert f"{XML_BREAKER} iela 1" in text
    assert SPECIALS in text
    assert "Łódź" in text and "Poland" in text
    assert "Zoë Müller-Großmann" in text
    # extraction may give right-to-left text in visual order
    assert RTL_NAME in text or RTL_NAME[::-1] in text


def test_diacritics_survive_text_extraction(api: Api, workspace_id: str) -> None:
    latvian = "ā č ē ģ ī ķ ļ ņ š ū ž Ā Č Ē Ģ Ī Ķ Ļ Ņ Š Ū Ž"
    polish = "ą ć ę ł ń ó ś ź ż Ą Ć Ę Ł Ń Ó Ś Ź Ż"
    german = "ä ö ü ß Ä Ö Ü"
    data = workspace(legal_name=f"SIA {latvian}", registration_number="1", vat_number=None)
    data["address"]["street"] = polish
    data["signatory"]["title"] = german
    api.put_workspace(workspace_id, data)
    r = api.request_dpa(workspace_id)
    text = pdf_text(api.client.get(r.json()["download_url"], headers=api.headers()).content)
    for sample in (latvian, polish, german):
        assert sample in text, sample
    assert "VAT number" not in text  # an optional field left out is not printed
