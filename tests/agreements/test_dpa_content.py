"""A generated DPA contains every element of SPEC §3, filled with the workspace's own values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dpa_service.rendering.context import CATEGORY_USES, DATA_CATEGORIES, DATA_SUBJECTS
from tests.conftest import WORKSPACE, Api
from tests.pdf_text import pdf_text

SUBPROCESSORS = json.loads(
    (Path(__file__).resolve().parents[2] / "templates" / "subprocessors.json").read_text()
)["entries"]


@pytest.fixture(scope="module")
def dpa_text(api: Api) -> str:
    workspace_id = "content-check"
    assert api.put_workspace(workspace_id).status_code in (200, 201)
    r = api.request_dpa(workspace_id, new_version=True)
    assert r.status_code == 201, r.text
    pdf = api.client.get(r.json()["download_url"], headers=api.headers()).content
    return pdf_text(pdf)


def test_parties_are_filled_with_the_workspace_values(dpa_text: str) -> None:
    w = WORKSPACE
    for value in (
        w["legal_name"],
        w["registration_number"],
        w["vat_number"],
        w["address"]["street"],
        w["address"]["city"],
        w["address"]["postal_code"],
        "Latvia",
        w["signatory"]["name"],
        w["signatory"]["title"],
        w["signatory"]["email"],
        w["dpo"]["name"],
        w["dpo"]["email"],
        'SIA "A.U. Holding"',
        "Klusaro",
        "info@klusaro.com",
        "the Data State Inspectorate (Datu valsts inspekcija)",
    ):
        assert value in dpa_text, value
    # the processor's facts come from its approved profile (confirmed by legal in the test
    # database, see tests/conftest.py; tests/profile covers the unconfirmed one)
    assert "Registration number: 40003000000" in dpa_text
    assert "Brīvības iela 312-11, Rīga, LV-1006, Latvia" in dpa_text
    assert "to be confirmed" not in dpa_text
    assert "Draft, not for signature." not in dpa_text


def test_processing_lists_exactly_the_chosen_categories_and_subjects(dpa_text: str) -> None:
    chosen = WORKSPACE["data_categories"]
    for key, (label, description) in DATA_CATEGORIES.items():
        if key in chosen:
            assert label in dpa_text and description in dpa_text, key
            assert CATEGORY_USES[key].purpose["en"] in dpa_text, key
        else:
            assert description not in dpa_text, f"{key} was not chosen but is listed"
            assert CATEGORY_USES[key].purpose["en"] not in dpa_text, key
    implied = {s for k in chosen for s in CATEGORY_USES[k].subjects}
    for key, label in DATA_SUBJECTS.items():
        expected = key in WORKSPACE["data_subjects"] or key in implied
        assert (label in dpa_text) == expected, key


def test_subject_matter_duration_nature_purpose(dpa_text: str) -> None:
    for heading in (
        "Subject matter",
        "Duration",
        "Nature",
        "Purpose",
        "Types of personal data",
        "categories of data subjects",
    ):
        assert heading in dpa_text, heading


def test_every_point_of_article_28_3(dpa_text: str) -> None:
    points = {
        "(a)": "Documented instructions",
        "(b)": "Confidentiality of personnel",
        "(c)": "Security of processing (Article 32)",
        "(d)": "Subprocessors",
        "(e)": "Assistance with data subject rights",
        "(f)": "Assistance with Articles 32 to 36",
        "(g)": "Deletion or return at the end",
        "(h)": "Audits and information",
    }
    for letter, topic in points.items():
        assert f"{letter} {topic}" in dpa_text, letter


def test_security_annex_has_the_seed_measures_under_regulator_headings(dpa_text: str) -> None:
    for heading in (
        "Encryption",
        "resilience",
        "restore",
        "testing",
        "identification and authorisation",
        "transmission",
        "storage",
        "Logging and monitoring",
    ):
        assert heading.lower() in dpa_text.lower(), heading
    for measure in (
        "Password hashing",
        "Access controls and permissions",
        "Workspace isolation",
        "Authentication protections",
        "Secure infrastructure providers",
        "Monitoring and abuse prevention",
        "Backups and recovery",
    ):
        assert measure.lower() in dpa_text.lower(), measure


def test_confidentiality_and_subprocessor_clauses(dpa_text: str) -> None:
    assert "Confidentiality" in dpa_text
    assert "general written authorisation" in dpa_text
    assert "at least 30 days before the new subprocessor begins to process" in dpa_text
    assert "Right to object" in dpa_text
    chosen = set(WORKSPACE["data_categories"])
    details = dpa_text[dpa_text.index("Details of each subprocessor") :]
    for entry in SUBPROCESSORS:
        serves = set(entry["categories"])
        if "general" in serves or serves & chosen:
            # the table may wrap a long cell; compare word by word in order
            assert " ".join(entry["purpose"].split()[:3]) in dpa_text, entry["name"]
            assert (
                f"{entry['name']} • Contracting entity: {entry['contracting_entity']['name']}"
                in details
            )
        else:
            assert entry["name"] not in dpa_text, entry["name"]
    assert "2021/914" in dpa_text and "Module 3" in dpa_text and "2023/1795" in dpa_text


def test_breach_law_term_precedence_signatures(dpa_text: str) -> None:
    assert "without undue delay, and in any case within 48 hours" in dpa_text
    assert "governed by the law of Latvia" in dpa_text
    assert "Effective date, term and termination" in dpa_text
    assert "within one month of the suspension" in dpa_text
    assert "Order of precedence" in dpa_text
    assert "For the controller" in dpa_text and "For the processor" in dpa_text


def test_the_issue_date_and_the_effective_date_are_printed_apart(dpa_text: str) -> None:
    assert "Issued on: " in dpa_text
    # without main_agreement_start: the day the workspace was first pushed
    assert re.search(
        r"Effective date: \d{1,2} [A-Z][a-z]+ \d{4}, the date on which the main agreement took "
        r"effect",
        dpa_text,
    )
    assert "including processing that took place before this DPA was signed" in dpa_text


def test_the_annexes_follow_the_signatures(dpa_text: str) -> None:
    signatures = dpa_text.index("17. Signatures")
    annexes = [dpa_text.index(f"Annex {n} —") for n in ("I", "II", "III")]
    assert signatures < annexes[0] < annexes[1] < annexes[2]


def test_a_workspace_may_ask_for_a_latvian_bilingual_dpa(api: Api) -> None:
    workspace_id = "content-check-lv"
    data = {**WORKSPACE, "language": "lv", "bilingual": True}
    assert api.put_workspace(workspace_id, data).status_code in (200, 201)
    stored = api.client.get(f"/api/v1/workspaces/{workspace_id}", headers=api.headers()).json()
    assert stored["details"]["language"] == "lv" and stored["details"]["bilingual"] is True
    refused = api.put_workspace(workspace_id, {**WORKSPACE, "language": "de"})
    assert refused.status_code == 422, refused.text
