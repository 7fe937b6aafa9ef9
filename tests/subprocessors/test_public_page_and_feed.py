"""The public subprocessor page and its Atom feed: no login, the current list, the dated history;
hostile text in entries stays text everywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from litestar.testing import TestClient
from markupsafe import escape

from tests.pdf_text import pdf_text
from tests.subprocessors.conftest import Governance, new_entry, unique

ATOM = "{http://www.w3.org/2005/Atom}"


def _anonymous(g: Governance) -> TestClient:  # type: ignore[type-arg]
    return TestClient(g.api.app, base_url=g.api.settings.public_url)


def _feed(g: Governance) -> ET.Element:
    r = _anonymous(g).get("/subprocessors/feed.atom")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/atom+xml")
    return ET.fromstring(r.content)


def test_the_public_page_lists_the_current_subprocessors_and_the_history(
    governance: Governance,
) -> None:
    g = governance
    name = unique("Public Page Vendor")
    number = g.propose(add=[new_entry(name, location="CH", transfer_safeguard="Adequacy decision")])
    g.approve(number)

    page = _anonymous(g).get("/subprocessors")  # no token, no login
    assert page.status_code == 200
    html = page.text
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/subprocessors/feed.atom"' in html
    current = html.split('id="current"')[1].split("</table>")[0]
    for entry in g.current()["entries"]:
        assert str(escape(entry["name"])) in current
    assert f"<td>{name}</td>" in current and "Switzerland (CH)" in current
    assert "Adequacy decision" in current
    history = html.split('id="history"')[1]
    item = history.split(f'id="version-{number}"')[1].split("</li>\n")[0]
    assert f"Added: {name}" in item and "location: Switzerland" in item
    assert "First published list" in history  # version 1
    assert history.index(f'id="version-{number}"') < history.index('id="version-1"')


def test_the_atom_feed_is_valid_and_has_an_entry_per_change(governance: Governance) -> None:
    g = governance
    name = unique("Feed Vendor")
    number = g.propose(add=[new_entry(name, location="EU", transfer_safeguard="EEA")])
    approved = g.approve(number)

    feed = _feed(g)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id")
    assert feed.findtext(f"{ATOM}title")
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    updated = datetime.fromisoformat(feed.findtext(f"{ATOM}updated", "").replace("Z", "+00:00"))
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) >= 2
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == len(ids) and all(ids)
    for entry in entries:
        for tag in ("id", "title", "updated", "content"):
            assert entry.findtext(f"{ATOM}{tag}"), tag
    newest = entries[0]
    assert newest.findtext(f"{ATOM}title") == f"Subprocessor list version {number}"
    assert f"Added: {name}" in newest.findtext(f"{ATOM}content", "")
    approved_at = datetime.fromisoformat(approved["change"]["approved_at"])
    assert updated == approved_at.replace(microsecond=0)
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link and self_link[0].get("href", "").endswith("/subprocessors/feed.atom")


HOSTILE = {
    "name": "<script>alert('x')</script> & Co ]]>",
    "purpose": "{{ 7*7 }} {% raw %} ]]><!-- & <b>bold</b>",
    "transfer_safeguard": "SCCs ]]> <![CDATA[ x ]]> \"quoted\" 'single'",
}


def test_hostile_entries_are_shown_as_text_and_the_feed_stays_well_formed(
    governance: Governance, workspace_id: str
) -> None:
    g = governance
    name = HOSTILE["name"] + " " + unique("H")
    entry = {**new_entry(name), **{k: v for k, v in HOSTILE.items() if k != "name"}}
    number = g.propose(add=[entry])
    g.approve(number)

    client = _anonymous(g)
    html = client.get("/subprocessors").text
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co ]]&gt;" in html
    assert "{{ 7*7 }} {% raw %} ]]&gt;&lt;!-- &amp; &lt;b&gt;bold&lt;/b&gt;" in html

    feed = _feed(g)  # parses: well-formed
    newest = feed.findall(f"{ATOM}entry")[0]
    content = newest.findtext(f"{ATOM}content", "")
    assert f"Added: {name} — {HOSTILE['purpose']}" in content
    assert HOSTILE["transfer_safeguard"] in content

    # the DPA prints it literally too
    assert g.api.put_workspace(workspace_id).status_code in (200, 201)
    r = g.api.request_dpa(workspace_id, new_version=True)
    assert r.status_code == 201, r.text
    text = pdf_text(g.api.client.get(r.json()["download_url"], headers=g.api.headers()).content)
    assert "{{ 7*7 }}" in text and "<script>alert('x')</script>" in text


def test_the_api_routes_are_in_the_openapi_schema_and_pages_are_not(
    governance: Governance,
) -> None:
    paths = governance.api.client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/api/v1/subprocessors",
        "/api/v1/subprocessors/versions",
        "/api/v1/subprocessors/versions/{number}",
        "/api/v1/subprocessors/versions/{number}/submit",
        "/api/v1/subprocessors/versions/{number}/approve",
        "/api/v1/subprocessors/versions/{number}/reject",
        "/api/v1/subprocessors/changes",
        "/api/v1/subprocessors/changes/{change_id}/objections",
        "/api/v1/subprocessors/objections",
    ):
        assert path in paths, path
    assert not [p for p in paths if p.startswith(("/subprocessors", "/objections", "/staff"))]
    # the API still needs a token; the public page does not
    client = _anonymous(governance)
    assert client.get("/api/v1/subprocessors").status_code == 401
    assert client.get("/subprocessors").status_code == 200


def test_objection_tokens_are_masked_in_access_logs() -> None:
    from dpa_service.http.observe import mask_secrets

    token = "5SBmTNZtcbea5wm_SFviHZrhA8xxiBGte1nsyEZhTDI"
    masked = mask_secrets(f"/objections/{token}")
    assert token not in masked and masked == "/objections/***"
    assert mask_secrets(f"/sign/{token}/document.pdf") == "/sign/***/document.pdf"
