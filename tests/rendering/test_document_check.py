"""Every filled DPA is checked before it is converted: well-formed, nothing hidden, every clause,
annex and signature block of its templates there once. A template that loses a clause for some
companies is refused for them with 422 and nothing stored; an upload that hides text or lacks the
markers is refused."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator

import pytest
from lxml import etree
from sqlalchemy import func, select

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.clauses.sample import sample_context
from dpa_service.counterparties.models import Counterparty
from dpa_service.rendering.check import IncompleteDocument, check_document, required_markers
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.document import CLAUSE_KEYS, merge_templates, render_dpa
from tests.clauses import docx_files as f
from tests.conftest import Api, own_api, workspace
from tests.staff import person_token

BUILTIN = {key: f.builtin(key) for key in ("master", *CLAUSE_KEYS)}


def _filled() -> tuple[bytes, frozenset[str]]:
    merged = merge_templates(BUILTIN["master"], *(BUILTIN[k] for k in CLAUSE_KEYS))
    return render_dpa(BUILTIN, sample_context()), required_markers(merged, True)


def test_the_builtin_templates_mark_every_clause_annex_and_signature_block() -> None:
    docx, required = _filled()
    assert required == {
        *(f"dpa_clause_{n}" for n in range(1, 18)),
        "dpa_annex_I",
        "dpa_annex_II",
        "dpa_annex_III",
        "dpa_signature_controller",
        "dpa_signature_processor",
    }
    check_document(docx, required)  # the filled sample passes


def test_raw_markup_that_reached_the_xml_is_caught_before_conversion() -> None:
    """What `|safe` did with a company named `Broken</w:t></w:r>`: LibreOffice printed five pages
    and dropped clauses 10–17 and the signatures without a word."""
    docx, required = _filled()
    name = sample_context()["controller"]["legal_name"]
    broken = f.replace_text(docx, name, "Broken</w:t></w:r>")
    with pytest.raises(IncompleteDocument, match="word/document.xml is not well-formed XML"):
        check_document(broken, required)


def test_hidden_text_is_caught() -> None:
    docx, required = _filled()

    def hide_first_run(xml: bytes) -> bytes:
        return re.sub(rb"<w:r>", b"<w:r><w:rPr><w:vanish/></w:rPr>", xml, count=1)

    with pytest.raises(IncompleteDocument, match="hides text"):
        check_document(f.edit_part(docx, "word/document.xml", hide_first_run), required)
    # a style can hide text as well as a run
    hidden_style = f.edit_part(
        docx, "word/styles.xml", lambda xml: xml.replace(b"<w:rPr>", b"<w:rPr><w:vanish/>", 1)
    )
    with pytest.raises(IncompleteDocument, match="hides text .*styles.xml"):
        check_document(hidden_style, required)
    # "not hidden" written out is not hiding
    shown = f.edit_part(
        docx,
        "word/document.xml",
        lambda xml: xml.replace(b"<w:r>", b'<w:r><w:rPr><w:vanish w:val="0"/></w:rPr>', 1),
    )
    check_document(shown, required)


def test_a_missing_or_repeated_clause_is_named() -> None:
    docx, required = _filled()
    without_10 = f.edit_part(
        docx,
        "word/document.xml",
        lambda xml: xml.replace(b'w:name="dpa_clause_10"', b'w:name="other"'),
    )
    with pytest.raises(IncompleteDocument, match=r"clause 10 \(dpa_clause_10\) is missing"):
        check_document(without_10, required)
    twice_17 = f.edit_part(
        docx,
        "word/document.xml",
        lambda xml: xml.replace(b'w:name="dpa_annex_I"', b'w:name="dpa_clause_17"'),
    )
    with pytest.raises(IncompleteDocument, match=r"clause 17 \(dpa_clause_17\) appears 2 times"):
        check_document(twice_17, required)


def _wrapped_heading(docx: bytes, heading: str, condition: str) -> bytes:
    """The template with the paragraph starting with `heading` inside `{%p if condition %}`."""

    def edit(xml: bytes) -> bytes:
        root = etree.fromstring(xml)
        paragraph = next(
            p for p in root.iter(f.W + "p") if "".join(p.itertext()).startswith(heading)
        )
        for text, place in ((f"{{%p if {condition} %}}", "before"), ("{%p endif %}", "after")):
            new = etree.Element(f.W + "p")
            run = etree.SubElement(new, f.W + "r")
            etree.SubElement(run, f.W + "t").text = text
            (paragraph.addprevious if place == "before" else paragraph.addnext)(copy.deepcopy(new))
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    return f.edit_part(docx, "word/document.xml", edit)


@pytest.fixture(scope="module")
def gov(pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    for api in own_api("sqlite", pool, tmp_path_factory.mktemp("check")):
        api.tokens["legal2"] = person_token(api, "legal", name="Second Reviewer")
        yield api


def _upload(api: Api, key: str, data: bytes) -> object:
    return api.client.post(
        f"/api/v1/templates/{key}/versions",
        files={"file": (f"{key}.docx", data, "application/octet-stream")},
        data={"change_note": "A change"},
        headers=api.headers("legal"),
    )


def test_uploads_that_hide_text_or_lack_the_markers_are_refused(gov: Api) -> None:
    hidden = f.edit_part(
        BUILTIN["security"],
        "word/document.xml",
        lambda xml: xml.replace(b"<w:r>", b"<w:r><w:rPr><w:vanish/></w:rPr>", 1),
    )
    r = _upload(gov, "security", hidden)
    assert r.status_code == 422 and "hides text" in r.json()["detail"], r.text  # type: ignore[attr-defined]

    unmarked = f.edit_part(
        BUILTIN["master"],
        "word/document.xml",
        lambda xml: xml.replace(b'w:name="dpa_signature_processor"', b'w:name="x"'),
    )
    r = _upload(gov, "master", unmarked)
    assert r.status_code == 422, r.text  # type: ignore[attr-defined]
    assert "dpa_signature_processor" in r.json()["detail"]  # type: ignore[attr-defined]
    listing = gov.client.get("/api/v1/templates", headers=gov.headers("legal")).json()
    assert all(len(t["versions"]) == 1 for t in listing)  # nothing was stored


def test_a_template_that_drops_a_clause_for_some_companies_gives_them_422(gov: Api) -> None:
    # Legal approves a security clause whose heading (and marker) sits in a condition no
    # trial workspace meets: it passes review, then fails for the companies it names.
    tricky = _wrapped_heading(
        BUILTIN["security"], "10. Security", "'Broken' not in controller.legal_name"
    )
    r = _upload(gov, "security", tricky)
    assert r.status_code == 201, r.text  # type: ignore[attr-defined]
    number = r.json()["version"]  # type: ignore[attr-defined]
    for action, role in (("submit", "legal"), ("approve", "legal2")):
        done = gov.client.post(
            f"/api/v1/templates/security/versions/{number}/{action}", headers=gov.headers(role)
        )
        assert done.status_code == 200, (action, done.text)

    broken = f"ws-{uuid.uuid4().hex[:8]}"
    assert gov.put_workspace(broken, workspace(legal_name="SIA Broken Windows")).status_code == 201
    r = gov.request_dpa(broken)
    assert r.status_code == 422, r.text
    assert "clause 10 (dpa_clause_10) is missing" in r.json()["detail"]
    with gov.session() as session:  # nothing was stored
        versions = session.scalar(
            select(func.count(AgreementVersion.id))
            .join(Agreement, Agreement.id == AgreementVersion.agreement_id)
            .join(Counterparty, Counterparty.id == Agreement.counterparty_id)
            .where(Counterparty.external_id == broken)
        )
    assert versions == 0

    fine = f"ws-{uuid.uuid4().hex[:8]}"
    assert gov.put_workspace(fine).status_code == 201
    assert gov.request_dpa(fine).status_code == 201
