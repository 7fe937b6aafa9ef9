"""The processor profile: legal edits and approves it with four eyes, each agreement version
records the profile it printed, and a value legal has not confirmed shows as such and blocks
every way of sending the DPA."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, confirmed_profile, own_api, workspace
from tests.pdf_text import pdf_text
from tests.staff import make_user, person_token, post_form, staff_client

PROFILE = "/api/v1/processor-profile"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fresh(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A database as `migrate` leaves it: the built-in profile, with its assumptions unconfirmed."""
    yield from own_api(
        request.param,
        pool,
        tmp_path_factory.mktemp(f"profile-{request.param}"),
        confirm_profile=False,
    )


def _dpa(api: Api, workspace_id: str, **body: Any) -> dict[str, Any]:
    assert api.put_workspace(workspace_id, workspace()).status_code in (200, 201)
    r = api.request_dpa(workspace_id, **body)
    assert r.status_code in (200, 201), r.text
    return dict(r.json())


def _link(api: Api, dpa: dict[str, Any]) -> Any:
    return api.client.post(
        f"/api/v1/agreements/{dpa['agreement_id']}/versions/{dpa['version']}/signing-links",
        json={"embedded": True, "workspace_id": dpa["workspace_id"]},
        headers=api.headers(),
    )


def test_unconfirmed_values_show_in_the_dpa_and_previews_and_block_every_way_of_sending(
    fresh: Api,
) -> None:
    api = fresh
    current = api.client.get(PROFILE, headers=api.headers("app")).json()
    assert current["version"] == 1
    assert "identity.registration_number" in current["unconfirmed"]
    assert "signatory.name" in current["unconfirmed"]

    dpa = _dpa(api, "ws-unconfirmed")
    assert dpa["processor_profile_version"] == 1
    assert dpa["unconfirmed"] == current["unconfirmed"]
    text = pdf_text(api.client.get(dpa["download_url"], headers=api.headers()).content)
    assert "Draft, not for signature." in text
    assert "Registration number: [to be confirmed]" in text

    preview = api.client.get(
        "/api/v1/templates/master/versions/1/preview.pdf", headers=api.headers("legal")
    )
    assert preview.status_code == 200 and "[to be confirmed" in pdf_text(preview.content)

    # the Klusaro app's signing link
    refused = _link(api, dpa)
    assert refused.status_code == 409
    assert "identity.registration_number" in refused.json()["detail"]
    assert "not confirmed" in refused.json()["detail"]
    agreement = api.client.get(
        f"/api/v1/agreements/{dpa['agreement_id']}", headers=api.headers()
    ).json()
    assert agreement["versions"][-1]["state"] == "draft"  # not sent

    # sales e-mailing a prospect's DPA: refused, and nothing made or queued
    prospect = api.client.post(
        "/api/v1/prospects",
        json=workspace(legal_name=f"SIA Prospekts {uuid.uuid4().hex[:6]}"),
        headers=api.headers("sales"),
    ).json()
    sent = api.client.post(f"/api/v1/prospects/{prospect['id']}/send", headers=api.headers("sales"))
    assert sent.status_code == 409 and "signatory.name" in sent.json()["detail"]
    shown = api.client.get(f"/api/v1/prospects/{prospect['id']}", headers=api.headers("sales"))
    assert shown.json()["latest"] is None

    # re-issuing agreements to new words
    reissue = api.client.post(
        "/api/v1/reissues/", json={"reason": "new texts"}, headers=api.headers("legal")
    )
    assert reissue.status_code == 409 and "identity.registration_number" in reissue.text


def test_legal_confirms_the_profile_with_four_eyes_and_then_the_dpa_can_be_sent(
    fresh: Api,
) -> None:
    api = fresh
    author, reviewer = person_token(api, "legal"), person_token(api, "legal")
    as_author = {"Authorization": f"Bearer {author}"}
    as_reviewer = {"Authorization": f"Bearer {reviewer}"}
    blocked = _dpa(api, "ws-confirmed-later")

    # only legal proposes; a bare token is no person
    assert api.client.post(f"{PROFILE}/versions", headers=api.headers("sales")).status_code == 403
    assert api.client.post(f"{PROFILE}/versions", headers=api.headers("app")).status_code == 403
    draft = api.client.post(f"{PROFILE}/versions", json={}, headers=as_author)
    assert draft.status_code == 201, draft.text
    number = draft.json()["version"]
    # a draft that changes nothing cannot be submitted
    assert (
        api.client.post(f"{PROFILE}/versions/{number}/submit", headers=as_author).status_code == 422
    )

    profile = confirmed_profile(draft.json()["profile"])
    r = api.client.put(
        f"{PROFILE}/versions/{number}",
        json={"profile": profile, "change_note": "Confirmed with the Register of Enterprises"},
        headers=as_author,
    )
    assert r.status_code == 200, r.text
    assert r.json()["unconfirmed"] == []
    changes = {c["path"]: c for c in r.json()["changes"]}
    assert changes["identity.registration_number"]["after"] == "40003000000"
    assert changes["security.backup_retention"]["before"].endswith("[not confirmed]")
    assert (
        api.client.put(
            f"{PROFILE}/versions/{number}", json={"profile": profile}, headers=as_reviewer
        ).status_code
        == 403
    )  # only its author changes a draft
    assert (
        api.client.post(f"{PROFILE}/versions/{number}/submit", headers=as_author).status_code == 200
    )

    # four eyes: not its author, not sales
    own = api.client.post(f"{PROFILE}/versions/{number}/approve", headers=as_author)
    assert own.status_code == 403 and "another legal user" in own.json()["detail"]
    assert (
        api.client.post(
            f"{PROFILE}/versions/{number}/approve", headers=api.headers("sales")
        ).status_code
        == 403
    )
    assert api.client.get(PROFILE, headers=api.headers()).json()["version"] != number
    approved = api.client.post(f"{PROFILE}/versions/{number}/approve", headers=as_reviewer)
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert api.client.get(PROFILE, headers=api.headers()).json()["version"] == number
    assert (
        api.client.get(f"{PROFILE}/versions/1", headers=api.headers("legal")).json()["state"]
        == "retired"
    )

    # the blocked draft is made again from the confirmed profile; that one can be sent
    dpa = _dpa(api, "ws-confirmed-later")
    assert dpa["version"] == blocked["version"] + 1
    assert dpa["processor_profile_version"] == number and dpa["unconfirmed"] == []
    text = pdf_text(api.client.get(dpa["download_url"], headers=api.headers()).content)
    assert "Registration number: 40003000000" in text and "to be confirmed" not in text
    assert _link(api, dpa).status_code == 201
    versions = api.client.get(
        f"/api/v1/agreements/{dpa['agreement_id']}", headers=api.headers()
    ).json()["versions"]
    assert [v["state"] for v in versions] == ["voided", "sent"]
    assert [v["processor_profile_version"] for v in versions] == [1, number]

    # an approved profile is a record: it is never changed
    assert (
        api.client.put(
            f"{PROFILE}/versions/{number}", json={"profile": profile}, headers=as_author
        ).status_code
        == 409
    )


BAD_PROFILES: list[tuple[str, Any]] = [
    ("not an object", ["x"]),
    ("a section missing", {"identity": {}}),
    ("unknown null confirmed", "null-confirmed"),
    ("figure not a number", "figure-text"),
    ("wording in one language", "one-language"),
    ("control characters", "control"),
    ("a bidi override in printed wording", "bidi"),
    ("a zero-width space in printed wording", "zero-width"),
    ("country not a code", "country-name"),
    ("country a lower-case code", "country-lower"),
]


def _broken(base: dict[str, Any], case: Any) -> Any:
    profile = copy.deepcopy(base)
    if case == "null-confirmed":
        profile["identity"]["registration_number"] = {"value": None, "confirmed": True}
    elif case == "figure-text":
        profile["security"]["rpo"]["value"] = "a day"
    elif case == "one-language":
        profile["privacy_contact"]["name"]["value"] = {"en": "Privacy Officer"}
    elif case == "country-name":
        profile["address"]["country"]["value"] = "Latvia"
    elif case == "country-lower":
        profile["address"]["country"]["value"] = "lv"
    elif case == "bidi":
        profile["privacy_contact"]["name"]["value"]["en"] = "Privacy \u202eOfficer"
    elif case == "zero-width":
        profile["privacy_contact"]["name"]["value"]["lv"] = "Datu\u200baizsardzība"
    elif case == "control":
        profile["identity"]["email"]["value"] = "info@klusaro.com\x00"
    else:
        return case
    return profile


@pytest.mark.parametrize("case,broken", BAD_PROFILES, ids=[c for c, _ in BAD_PROFILES])
def test_a_malformed_profile_is_refused_with_422_and_nothing_is_stored(
    fresh: Api, case: str, broken: Any
) -> None:
    api = fresh
    author = {"Authorization": f"Bearer {person_token(api, 'legal')}"}
    before = api.client.get(f"{PROFILE}/versions", headers=api.headers("legal")).json()
    base = api.client.get(PROFILE, headers=api.headers()).json()["profile"]
    r = api.client.post(
        f"{PROFILE}/versions", json={"profile": _broken(base, broken)}, headers=author
    )
    assert r.status_code == 422, (case, r.text)
    assert r.json()["detail"]
    after = api.client.get(f"{PROFILE}/versions", headers=api.headers("legal")).json()
    assert len(after) == len(before)


def test_legal_confirms_values_on_the_staff_pages(fresh: Api) -> None:
    api = fresh
    author = staff_client(api, *make_user(api, "legal", name="Liene Legal"))
    reviewer = staff_client(api, *make_user(api, "legal", name="Roberts Reviewer"))
    sales = staff_client(api, *make_user(api, "sales"))
    assert sales.get("/staff/processor-profile").status_code == 403
    page = author.get("/staff/processor-profile")
    assert page.status_code == 200 and "Processor profile" in page.text

    r = post_form(author, "/staff/processor-profile", "/staff/processor-profile/drafts", {})
    assert r.status_code == 303
    edit = r.headers["location"]
    number = int(edit.split("/versions/")[1].split("/")[0])
    form = author.get(edit)
    assert form.status_code == 200 and 'name="c:identity.registration_number"' in form.text

    profile = api.client.get(f"{PROFILE}/versions/{number}", headers=api.headers("legal")).json()[
        "profile"
    ]
    data: dict[str, Any] = {"change_note": "Backups kept 30 days", "action": "submit"}
    for section in ("identity", "address", "privacy_contact", "signatory", "security"):
        for name, node in profile[section].items():
            if not isinstance(node, dict) or "confirmed" not in node:
                continue
            path = f"{section}.{name}"
            value = node["value"]
            if isinstance(value, dict):
                data.update({f"v:{path}:{lang}": text for lang, text in value.items()})
            else:
                data[f"v:{path}"] = "" if value is None else str(value)
            if node["confirmed"] or path == "security.backup_retention":
                data[f"c:{path}"] = "yes"
    for heading, items in profile["measures"].items():
        for i, item in enumerate(items):
            data.update(
                {f"v:measures.{heading}[{i}]:{lang}": t for lang, t in item["value"].items()}
            )
    data["v:security.backup_retention"] = "30"
    # an empty value cannot be confirmed: refused, the form shown again with what was typed
    empty = {"v:identity.registration_number": "", "c:identity.registration_number": "yes"}
    refused = post_form(author, edit, edit, {**data, **empty})
    assert refused.status_code == 422 and "cannot be confirmed" in refused.text
    assert 'value="30"' in refused.text
    # the country is a select of names; a code that is no country is refused, kept and named
    assert '<option value="LV" selected>Latvia</option>' in form.text
    refused = post_form(author, edit, edit, {**data, "v:address.country": "Latvia"})
    assert refused.status_code == 422 and "address.country" in refused.text
    refused = post_form(author, edit, edit, {**data, "v:address.country": "XX"})
    assert refused.status_code == 422 and "address.country" in refused.text
    assert '<option value="XX" selected>XX (not a known country code)</option>' in refused.text
    r = post_form(author, edit, edit, data)
    assert r.status_code == 303, r.text
    review = f"/staff/processor-profile/versions/{number}"
    page = author.get(review)
    assert "another legal user must approve" in page.text and 'id="approve"' not in page.text
    page = reviewer.get(review)
    assert "security.backup_retention" in page.text and 'id="approve"' in page.text
    assert "<td>Latvia (LV)</td>" in page.text  # the country by its name, not only its code
    assert 'id="approve-comment" name="comment"' in page.text  # as the API takes one
    r = post_form(reviewer, review, f"{review}/approve", {"comment": "Checked with ops"})
    assert r.status_code == 303
    assert "“Checked with ops”" in reviewer.get(review).text
    current = api.client.get(PROFILE, headers=api.headers()).json()
    assert current["version"] == number
    assert "security.backup_retention" not in current["unconfirmed"]
    retention = current["profile"]["security"]["backup_retention"]
    assert retention == {**retention, "value": 30, "confirmed": True}


def _form_of(profile: dict[str, Any]) -> dict[str, Any]:
    """The edit form of `profile` as the page fills it in."""
    data: dict[str, Any] = {}
    for section in ("identity", "address", "privacy_contact", "signatory", "security"):
        for name, node in profile[section].items():
            if not isinstance(node, dict) or "confirmed" not in node:
                continue
            path, value = f"{section}.{name}", node["value"]
            if isinstance(value, dict):
                data.update({f"v:{path}:{lang}": text for lang, text in value.items()})
            else:
                data[f"v:{path}"] = "" if value is None else str(value)
            if node["confirmed"]:
                data[f"c:{path}"] = "yes"
    for heading, items in profile["measures"].items():
        for i, item in enumerate(items):
            data.update(
                {f"v:measures.{heading}[{i}]:{lang}": t for lang, t in item["value"].items()}
            )
            if item["confirmed"]:
                data[f"c:measures.{heading}[{i}]"] = "yes"
    return data


def test_the_staff_page_keeps_a_change_note_whole_or_refuses_it(fresh: Api) -> None:
    # As the API: a note over 2,000 characters is refused (the page cut it and saved the
    # rest silently); a note whose line breaks the browser sent as CRLF is kept whole.
    api = fresh
    author = staff_client(api, *make_user(api, "legal", name="Long Note"))
    r = post_form(author, "/staff/processor-profile", "/staff/processor-profile/drafts", {})
    edit = r.headers["location"]
    number = int(edit.split("/versions/")[1].split("/")[0])
    shown = f"{PROFILE}/versions/{number}"
    profile = api.client.get(shown, headers=api.headers("legal")).json()["profile"]
    form = {**_form_of(profile), "action": "save"}

    long = "Why: " + "x" * 4996
    r = post_form(author, edit, edit, {**form, "change_note": long})
    assert r.status_code == 422 and "5001 characters; at most 2000" in r.text, r.text[:500]
    assert long in r.text  # shown again as typed
    assert api.client.get(shown, headers=api.headers("legal")).json()["change_note"] == ""

    lines = "\r\n".join(["y" * 99] * 20)  # 20 lines: 1,999 characters as the textarea counts
    r = post_form(author, edit, edit, {**form, "change_note": lines})
    assert r.status_code == 303, r.text[:500]
    saved = api.client.get(shown, headers=api.headers("legal")).json()
    assert saved["change_note"] == lines.replace("\r\n", "\n")
    assert saved["profile"] == {**profile, "version": number}
