"""Subprocessor entries with their contracting entity, processing locations, transfers and their
mechanisms in order, supplementary measures, the features they serve, text messages and a
Latvian purpose: through the API and its checks, the diff, the DPA, the notices and the public
page in both languages."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from tests.conftest import workspace
from tests.pdf_text import pdf_text
from tests.signing.helpers import issue, sign
from tests.subprocessors.conftest import Governance, new_entry, unique


def structured(name: str, **changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        **new_entry(name, purpose="Help desk: tickets from the controller's customers"),
        "contracting_entity": {"name": "Zendesk International Ltd", "country": "IE"},
        "processing_locations": ["IE", "US"],
        "transfers": [
            {
                "importer": "Zendesk, Inc.",
                "country": "US",
                "by": "subprocessor",
                "mechanisms": ["dpf", "scc_module_3"],
            }
        ],
        "supplementary_measures": [
            {
                "en": "tickets are encrypted at rest with keys held in the EU",
                "lv": "pieteikumi glabāšanā ir šifrēti ar ES glabātām atslēgām",
            }
        ],
        "categories": ["customer_requests"],
        "sms": True,
        "translations": {"lv": {"purpose": "Palīdzības dienests: pārziņa klientu pieteikumi"}},
    }
    entry.update(changes)
    return entry


def _dpa_text(g: Governance, categories: list[str], language: str = "en") -> str:
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    data = workspace(data_categories=categories, language=language)
    assert g.api.put_workspace(workspace_id, data).status_code == 201
    r = g.api.request_dpa(workspace_id)
    assert r.status_code == 201, r.text
    return pdf_text(g.api.client.get(r.json()["download_url"], headers=g.api.headers()).content)


def test_structured_fields_go_through_the_api_into_the_dpas_that_use_them(
    governance: Governance,
) -> None:
    g = governance
    name = unique("Zendesk Help Desk")
    entry = structured(name)
    number = g.propose(add=[entry])
    shown = g.get(f"/versions/{number}").json()
    added = next(e for e in shown["diff"]["added"] if e["name"] == name)
    assert {k: added[k] for k in entry} == entry
    assert added["in_eea"] is False  # a transfer leaves the EEA
    g.approve(number)
    current = next(e for e in g.current()["entries"] if e["name"] == name)
    assert {k: current[k] for k in entry} == entry

    text = _dpa_text(g, ["customer_requests", "communications"])
    assert name in text and "Zendesk International Ltd (Ireland)" in text
    assert "tickets are encrypted at rest with keys held in the EU" in text
    assert text.index("EU–US Data Privacy Framework") < text.rindex("Module 3")
    assert "e-mails, text messages and notifications exchanged with customers" in text
    latvian = _dpa_text(g, ["customer_requests"], "lv")
    assert "Palīdzības dienests: pārziņa klientu pieteikumi" in latvian
    assert "pieteikumi glabāšanā ir šifrēti ar ES glabātām atslēgām" in latvian
    # a workspace that does not use the feature it serves does not list it, nor texts
    other = _dpa_text(g, ["contacts", "communications"])
    assert name not in other
    assert "text messages" not in other


def test_a_change_to_a_structured_field_is_in_the_diff_and_the_notice(
    governance: Governance,
) -> None:
    g = governance
    name = unique("Onward Vendor")
    g.approve(g.propose(add=[structured(name)]))
    _, email = g.completed_workspace()
    changed = structured(
        name,
        transfers=[
            {
                "importer": "Zendesk, Inc.",
                "country": "US",
                "by": "subprocessor",
                "mechanisms": ["scc_module_3"],
            }
        ],
    )
    current = [
        {k: v for k, v in e.items() if k not in ("location_name", "in_eea")}
        for e in g.current()["entries"]
        if e["name"] != name
    ]
    r = g.post("/versions", json={"entries": [*current, changed], "change_note": "DPF lapsed"})
    assert r.status_code == 201, r.text
    number = r.json()["version"]
    (change,) = r.json()["diff"]["changed"]
    assert change["name"] == name
    (field,) = change["fields"]
    assert field["field"] == "transfers"
    assert field["before"][0]["mechanisms"] == ["dpf", "scc_module_3"]
    assert field["after"][0]["mechanisms"] == ["scc_module_3"]
    assert g.post(f"/versions/{number}/submit").status_code == 200
    g.approve(number)
    (notice,) = g.smtp.wait_for(
        lambda ms: [
            m for m in ms if email in m.rcpt_tos and f"version {number})" in str(m["Subject"])
        ]
    )
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert f"Changed: {name} — transfers" in body
    assert "EU–US Data Privacy Framework (adequacy decision) → SCCs, Module 3" in body


BAD: list[tuple[str, dict[str, Any]]] = [
    (
        "transfer into the EEA",
        {"transfers": [{**structured("x")["transfers"][0], "country": "DE"}]},
    ),
    ("DPF outside the US", {"transfers": [{**structured("x")["transfers"][0], "country": "IN"}]}),
    (
        "unknown mechanism",
        {"transfers": [{**structured("x")["transfers"][0], "mechanisms": ["bcr"]}]},
    ),
    (
        "mechanism twice",
        {"transfers": [{**structured("x")["transfers"][0], "mechanisms": ["dpf", "dpf"]}]},
    ),
    ("general with features", {"categories": ["general", "leads"]}),
    ("unknown feature", {"categories": ["payments"]}),
    ("unknown place", {"processing_locations": ["XX"]}),
    ("measure without a transfer", {"transfers": []}),
    ("measure in one language", {"supplementary_measures": [{"en": "only English"}]}),
    ("entity country unknown", {"contracting_entity": {"name": "Acme", "country": "XX"}}),
    ("control characters", {"translations": {"lv": {"purpose": "Nosaukums\x07"}}}),
]


@pytest.mark.parametrize("case,change", BAD, ids=[c for c, _ in BAD])
def test_bad_structured_fields_are_refused_and_nothing_is_stored(
    governance: Governance, case: str, change: dict[str, Any]
) -> None:
    g = governance
    before = len(g.get("/versions").json())
    entry = copy.deepcopy(structured(unique("Bad Vendor"), **change))
    r = g.post("/versions", json={"entries": [entry], "change_note": case})
    assert r.status_code == 422, (case, r.text)
    assert len(g.get("/versions").json()) == before


def test_the_public_page_follows_the_readers_language(governance: Governance) -> None:
    client = governance.api.client
    english = client.get("/subprocessors")
    assert english.status_code == 200 and '<html lang="en">' in english.text
    assert "Klusaro’s subprocessors" in english.text
    assert "Hosting infrastructure: servers and databases" in english.text
    for page in (
        client.get("/subprocessors?lang=lv"),
        client.get("/subprocessors", headers={"Accept-Language": "lv-LV,lv;q=0.9,en;q=0.5"}),
    ):
        assert page.status_code == 200 and '<html lang="lv">' in page.text
        assert "Klusaro apakšapstrādātāji" in page.text and "Izmaiņu vēsture" in page.text
        assert "Mitināšanas infrastruktūra: serveri un datubāzes" in page.text
        assert page.headers["content-language"] == "lv"
    assert '<html lang="en">' in client.get("/subprocessors?lang=xx").text


def test_a_latvian_counterparty_is_told_of_a_change_in_latvian(governance: Governance) -> None:
    g = governance
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    email = f"{workspace_id}@example.lv"
    data = workspace(
        language="lv",
        signatory={"name": "Ēriks Kalniņš", "title": "Valdes loceklis", "email": email},
    )
    assert sign(g.api, issue(g.api, workspace_id, data)).status_code == 303
    name = unique("Latvian Notice Vendor")
    number = g.propose(add=[structured(name)])
    g.approve(number)
    (notice,) = g.smtp.wait_for(
        lambda ms: [
            m for m in ms if email in m.rcpt_tos and f"saraksta {number}." in str(m["Subject"])
        ]
    )
    assert str(notice["Subject"]).startswith(f"Apakšapstrādātāju izmaiņas (saraksta {number}.")
    body = notice.get_body(preferencelist=("plain",)).get_content()
    assert f"Pievienots: {name} — Palīdzības dienests: pārziņa klientu pieteikumi" in body
    assert "Jūs varat iebilst pret šīm izmaiņām līdz" in body
    assert "/subprocessors?lang=lv" in body
    link = body[body.index("/objections/") :].split()[0]  # the path of the objection link
    page = g.api.client.get(link)
    assert '<html lang="lv">' in page.text and "Nosūtīt manu iebildumu" in page.text


def test_a_subprocessor_added_by_legal_prints_its_country_by_name_in_both_languages(
    governance: Governance,
) -> None:
    """Clause 8.3, clause 11.9's Annex III and the notices name the country, never its code."""
    g = governance
    name = unique("Ticket Desk")
    g.approve(g.propose(add=[new_entry(name, location="US")]))
    text = " ".join(_dpa_text(g, ["customer_requests"]).split())
    assert f"{name} (United States)" in text  # clause 8.3
    assert "Location of processing: United States" in text  # Annex III
    assert f"{name} (US)" not in text and "processing: US" not in text
    latvian = " ".join(_dpa_text(g, ["customer_requests"], "lv").split())
    assert f"{name} (Amerikas Savienotās Valstis)" in latvian
    assert "Apstrādes vieta: Amerikas Savienotās Valstis" in latvian
