"""The built-in DPA as a PDF, in English, in Latvian and in both languages: what a lawyer checks."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dpa_service.rendering.context import Terms
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.document import render_dpa_versions
from tests.conftest import WORKSPACE
from tests.rendering.dpa import (
    TEMPLATE_SETS,
    TEMPLATES,
    confirmed_profile,
    contexts,
    details,
    render,
)

REPO = Path(__file__).resolve().parents[2]
# A 1×1 PNG standing in for a drawn signature.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5c5e3"
    "8c0000000049454e44ae426082"
)


def between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


@pytest.fixture(scope="module")
def english(pool: ConverterPool) -> str:
    return render(pool)[0]


@pytest.fixture(scope="module")
def latvian(pool: ConverterPool) -> str:
    return render(pool, details(language="lv"))[0]


@pytest.fixture(scope="module")
def bilingual(pool: ConverterPool) -> str:
    return render(pool, details(language="lv", bilingual=True))[0]


# -- English -------------------------------------------------------------------------------------


def test_a_new_subprocessor_is_notified_before_it_is_engaged(english: str) -> None:
    notice = between(english, "11.2 Notice before engagement.", "11.3")
    assert "at least 30 days before the new subprocessor begins to process" in notice
    objection = between(english, "11.3 Right to object.", "11.4")
    assert "While an objection is pending, the processor does not use the new subprocessor" in (
        objection
    )
    emergency = between(english, "11.4 Emergency replacement.", "11.5")
    assert "immediately, and before the replacement begins to process customer personal data" in (
        emergency
    )
    assert "same right to object as under clause 11.3" in emergency
    assert "applies from that moment" not in english  # the old 11.4


def test_backups_have_a_maximum_retention_that_clause_6g_refers_to(
    english: str, pool: ConverterPool
) -> None:
    deletion = between(english, "(g) Deletion or return at the end.", "(h) Audits")
    assert "within 30 days after the main agreement ends" in deletion
    assert (
        "no later than [to be confirmed: 35 days] after they were made (Annex II, section II.4)"
        in deletion
    )
    annex = between(english, "II.4 Ability to restore", "II.5 Regular testing")
    assert "A backup is kept for no more than [to be confirmed: 35 days]" in annex
    assert "rolling retention schedule" not in english
    text, _ = render(pool, profile=confirmed_profile(backup_retention=21))
    assert "no later than 21 days after they were made" in text
    assert "A backup is kept for no more than 21 days" in text


def test_transfers_state_the_mechanism_order_once_and_per_subprocessor(english: str) -> None:
    order = between(english, "8.2 Order of transfer mechanisms.", "8.3")
    assert order.index("adequacy decision") < order.index("Standard Contractual Clauses, Module 3")
    assert "2023/1795 of 10 July 2023" in order and "Article 49" in order
    annex = english[english.index("Details of each subprocessor") :]
    cloudflare = between(annex, "Cloudflare, Inc. • Contracting entity", "Functional Software")
    assert "transfer by the processor to Cloudflare, Inc. (United States)" in cloudflare
    assert cloudflare.index("(1) adequacy decision for the EU–US Data Privacy Framework") < (
        cloudflare.index("(2) Standard Contractual Clauses")
    )
    assert "encryption in transit" not in cloudflare.lower()
    stripe = between(annex, "Stripe Payments Europe, Limited • Contracting entity", "Cloudflare")
    assert "Contracting entity: Stripe Payments Europe, Limited (Ireland)" in stripe
    assert "onward transfer by the subprocessor to Stripe, Inc. (United States)" in stripe
    hetzner = between(annex, "Hetzner Online GmbH • Contracting entity", "Amazon Web Services")
    assert "Location of processing: Germany, Finland" in hetzner
    assert "Transfer: none; customer personal data is processed only in the EEA" in hetzner
    assert "additional safeguard" not in english  # DPF is a basis, not an add-on


def test_the_effective_date_is_the_start_of_the_main_agreement(english: str) -> None:
    assert "Issued on: 2 December 2026" in english
    assert "Effective date: 1 March 2025, the date on which the main agreement took effect" in (
        english
    )
    term = between(english, "14.1 ", "14.2")
    assert "including processing that took place before this DPA was signed" in term
    assert "takes effect when both parties have signed it" not in english


def test_unconfirmed_profile_values_show_and_mark_the_document_a_draft(
    english: str, pool: ConverterPool
) -> None:
    assert "Draft, not for signature." in english
    assert "Registration number: [to be confirmed] " in english
    assert "Registered address: [to be confirmed: Brīvības iela 312-11], Rīga, LV-1006, Latvia" in (
        english
    )
    text, _ = render(pool, profile=confirmed_profile())
    assert "[to be confirmed" not in text and "Draft, not for signature" not in text
    assert "Registration number: 40000000000" in text


def test_annexes_i_ii_iii_follow_the_signatures_in_order(english: str) -> None:
    positions = [
        english.index(marker)
        for marker in (
            "17. Signatures",
            "Annex I — Parties and description of the processing",
            "Annex II — Technical and organisational measures",
            "Annex III — Subprocessors",
        )
    ]
    assert positions == sorted(positions)
    assert english.index("11.10 ") < positions[0]  # the clauses stay in the body


def test_a_contacts_only_workspace_never_mentions_the_features_it_does_not_use(
    pool: ConverterPool,
) -> None:
    text, _ = render(pool, details(data_categories=["contacts"], data_subjects=["customers"]))
    lowered = text.lower()
    for word in ("booking", "job", "invoice", "quote", "worker", "text message", "stripe"):
        assert word not in lowered, word
    assert "keeping the controller's address book" in text
    assert "Contact persons at the controller's business customers and suppliers" in text


def test_a_german_controller_gets_its_authority_and_national_law(pool: ConverterPool) -> None:
    address = {"street": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
    text, _ = render(pool, details(address=address))
    assert "the national law supplementing the GDPR in the controller's country" in text
    assert "German federal state (Land) in which the controller has its main establishment" in text
    assert "Datu valsts inspekcija" not in text


def test_out_of_range_figures_never_reach_a_document() -> None:
    with pytest.raises(ValueError, match="breach_notice_hours is -5"):
        contexts(terms=Terms(breach_notice_hours=-5))


# -- Latvian -----------------------------------------------------------------------------------------

ART_28_3_LV = {
    "a": "a) Dokumentēti norādījumi.",
    "b": "b) Personāla konfidencialitāte.",
    "c": "c) Apstrādes drošība (Regulas 32. pants).",
    "d": "d) Apakšapstrādātāji.",
    "e": "e) Palīdzība saistībā ar datu subjektu tiesībām.",
    "f": "f) Palīdzība saistībā ar Regulas 32.–36. pantu.",
    "g": "g) Dzēšana vai atdošana pēc apstrādes beigām.",
    "h": "h) Revīzijas un informācija.",
}
# The terms of the Latvian text of Regulation (EU) 2016/679 and of Decision 2021/914.
GDPR_TERMS_LV = (
    "pārzinis",
    "apstrādātājs",
    "apakšapstrādātājs",
    "datu subjekts",
    "personas dati",
    "personas datu aizsardzības pārkāpums",
    "uzraudzības iestāde",
    "datu aizsardzības speciālists",
    "līguma standartklauzulas",
)
# English words that any English clause text would bring along.
ENGLISH_WORDS = ("the", "and", "of", "processor", "controller", "shall", "agreement", "within")


def test_a_latvian_dpa_covers_every_point_of_article_28_3_in_latvian(latvian: str) -> None:
    obligations = between(latvian, "6. Apstrādātāja pienākumi", "7. Paziņošana")
    assert "Regulas 28. panta 3. punkta a)–h) apakšpunktam" in obligations
    for letter, heading in ART_28_3_LV.items():
        assert heading in obligations, letter
    points = {
        "a": "tikai saskaņā ar pārziņa dokumentētiem norādījumiem",
        "b": "ir apņēmušās ievērot konfidencialitāti",
        "c": "Regulas 32. pantā",
        "d": "iepriekšēju vispārēju rakstisku atļauju",
        "e": "Regulas III nodaļā noteiktās tiesības",
        "f": "iepriekšēju apspriešanos ar uzraudzības iestādi (36. pants)",
        "g": "Pēc pārziņa izvēles apstrādātājs pārziņa personas datus dzēš vai atdod",
        "h": "ļauj veikt un veicina revīzijas, tostarp pārbaudes",
    }
    for letter, words in points.items():
        assert words in obligations, letter
    lowered = latvian.lower()
    for term in GDPR_TERMS_LV:
        assert term in lowered, term


def test_a_latvian_dpa_names_the_authority_the_law_and_the_workspace_values(latvian: str) -> None:
    assert "Kompetentā uzraudzības iestāde: Datu valsts inspekcija" in latvian
    assert "Pārzinim kompetentā uzraudzības iestāde ir Datu valsts inspekcija." in latvian
    assert "Fizisko personu datu apstrādes likums" in latvian
    w = WORKSPACE
    for value in (
        w["legal_name"],
        w["registration_number"],
        w["vat_number"],
        f"{w['address']['street']}, {w['address']['city']}, {w['address']['postal_code']}, Latvija",
        w["signatory"]["name"],
        w["signatory"]["title"],
        w["signatory"]["email"],
        w["dpo"]["name"],
        w["dpo"]["email"],
    ):
        assert value in latvian, value
    assert "Izdošanas datums: 2026. gada 2. decembris" in latvian
    assert "Spēkā stāšanās datums: 2025. gada 1. marts" in latvian
    assert "ne vēlāk kā 48 stundu laikā" in latvian
    assert "vismaz 30 dienas pirms jaunais apakšapstrādātājs" in latvian
    assert "Reģistrācijas numurs: [vēl jāapstiprina]" in latvian
    assert "Amerikas Savienotās Valstis" in latvian
    assert "Latvijas Republikas vispārējās jurisdikcijas tiesās Rīgā" in latvian


def test_a_latvian_dpa_has_no_english_clause_text(latvian: str) -> None:
    words = set(re.findall(r"[A-Za-zĀ-ž]+", latvian.lower()))
    assert not words & set(ENGLISH_WORDS), sorted(words & set(ENGLISH_WORDS))
    for heading in ("Data Processing Agreement", "Annex", "Subprocessors", "Signatures"):
        assert heading not in latvian, heading


# -- bilingual ------------------------------------------------------------------------------------------


def test_a_bilingual_dpa_has_both_texts_with_the_prevailing_one_first(bilingual: str) -> None:
    latvian_at = bilingual.index("Personas datu apstrādes līgums Līgums:")
    english_at = bilingual.index("Data Processing Agreement Agreement:")
    assert latvian_at < english_at
    assert "noteicošais ir teksts latviešu valodā" in bilingual
    assert "If they differ, the Latvian text prevails." in bilingual
    for heading in ART_28_3_LV.values():
        assert heading in bilingual
    assert "(a) Documented instructions." in bilingual
    # signed once, in the prevailing text
    assert bilingual.count("Vārds, uzvārds:") == 2
    assert "Name: ____" not in bilingual
    assert "The parties sign this agreement once, in clause 17 of the Latvian text" in bilingual


def test_a_signed_bilingual_dpa_carries_the_drawn_signature_once() -> None:
    """Rendered to DOCX only: the drawing goes to the version with the signature blocks."""
    signatures = {
        "controller": {"name": "Ēriks Kalniņš", "title": "Valdes loceklis", "signed_at": "x"},
        "processor": {"name": "Anna Ūdre", "title": "Valdes locekle", "signed_at": "y"},
    }
    versions = contexts(details(language="lv", bilingual=True), signatures=signatures)
    docx = render_dpa_versions(
        [(TEMPLATE_SETS[lang], ctx) for lang, ctx in versions.items()], {"controller": PNG}
    )
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        media = [n for n in zf.namelist() if n.startswith("word/media/")]
        body = zf.read("word/document.xml").decode()
    assert len(media) == 1
    assert body.count("Vārds, uzvārds: Ēriks Kalniņš") == 1


# -- the sources -----------------------------------------------------------------------------------------


def test_the_built_in_templates_are_what_the_build_script_makes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_templates.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    built = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.docx"))
    assert [str(p) for p in built] == [
        "confidentiality.docx",
        "lv/confidentiality.docx",
        "lv/master.docx",
        "lv/security.docx",
        "lv/subprocessors.docx",
        "master.docx",
        "security.docx",
        "subprocessors.docx",
    ]
    for path in built:
        assert (tmp_path / path).read_bytes() == (TEMPLATES / path).read_bytes(), path
