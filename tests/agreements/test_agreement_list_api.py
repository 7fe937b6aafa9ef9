"""GET /api/v1/agreements: every agreement with its latest version, filtered and paged by keyset.

The rows are seeded in bulk (the bench's seeder, dpa_service/list_bench.py) under a company
name of their own, so each test reads exactly its rows from the shared database; the
expectations are worked out from those rows in Python, independently of the SQL.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dpa_service.agreements.listing import CURRENT_STATES
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.clauses.models import TemplateVersion
from dpa_service.counterparties.models import Counterparty
from dpa_service.list_bench import seed
from dpa_service.rendering.converter import ConverterPool
from tests.agreements.test_reissue import approve_new_subprocessor_list
from tests.conftest import Api, own_api

N = 60
RNG_SEED = 11


@pytest.fixture(scope="module")
def seeded(api: Api) -> dict[str, Any]:
    """N agreements named "Listtest <run> …"; their latest versions, by agreement id."""
    prefix = f"Listtest {uuid.uuid4().hex[:8]}"
    # A fixed seed: the same mix of states and dates (relative to now) every run. With a random
    # one, about one run in eighteen had no version expiring within seven days.
    seed(api.session, N, name_prefix=prefix, rng_seed=RNG_SEED)
    with api.session() as s:
        rows = s.execute(
            select(Agreement.id, Agreement.created_at, Counterparty, AgreementVersion)
            .join(Counterparty, Counterparty.id == Agreement.counterparty_id)
            .join(AgreementVersion, AgreementVersion.agreement_id == Agreement.id)
            .where(Counterparty.details["legal_name"].as_string().startswith(prefix))
        ).all()
        latest: dict[str, Any] = {}
        for agreement_id, created_at, party, version in rows:
            if agreement_id not in latest or version.number > latest[agreement_id][2].number:
                latest[agreement_id] = (created_at, party, version)
        s.expunge_all()
    assert len(latest) == N
    return {"prefix": prefix, "latest": latest}


def _all(api: Api, role: str = "legal", **params: Any) -> list[dict[str, Any]]:
    """Follow next_cursor to the end; every page's items, in order."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        r = api.client.get("/api/v1/agreements", params=query, headers=api.headers(role))
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= body["limit"]
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursor never ran out")


def test_pages_of_seven_hold_every_agreement_once_newest_first(
    api: Api, seeded: dict[str, Any]
) -> None:
    items = _all(api, q=seeded["prefix"], limit=7)
    ids = [i["agreement_id"] for i in items]
    assert len(ids) == len(set(ids)) == N  # no duplicates, no gaps
    expected = sorted(seeded["latest"], key=lambda a: (seeded["latest"][a][0], a), reverse=True)
    assert ids == expected
    first = items[0]
    _, party, version = seeded["latest"][first["agreement_id"]]
    assert first["legal_name"] == party.details["legal_name"]
    assert first["version"] == version.number and first["state"] == version.state
    assert first["kind"] == party.kind
    assert first["template_versions"]["master"] >= 1
    assert first["archive"] == "none"  # seeded rows have no files


def test_oldest_first_and_by_company_are_complete_too(api: Api, seeded: dict[str, Any]) -> None:
    oldest = [i["agreement_id"] for i in _all(api, q=seeded["prefix"], limit=9, sort="created")]
    assert oldest == sorted(seeded["latest"], key=lambda a: (seeded["latest"][a][0], a))
    names = [i["legal_name"] for i in _all(api, q=seeded["prefix"], limit=11, sort="-company")]
    assert len(names) == N
    assert names == sorted(names, key=str.lower, reverse=True)


def _expect(seeded: dict[str, Any], keep: Any) -> set[str]:
    return {a for a, (created, party, version) in seeded["latest"].items() if keep(party, version)}


def test_filters_by_state_kind_and_waiting_for_countersignature(
    api: Api, seeded: dict[str, Any]
) -> None:
    prefix = seeded["prefix"]
    got = {i["agreement_id"] for i in _all(api, q=prefix, state=["sent", "viewed"])}
    assert got == _expect(seeded, lambda p, v: v.state in ("sent", "viewed"))
    got = {i["agreement_id"] for i in _all(api, q=prefix, kind="prospect")}
    assert got == _expect(seeded, lambda p, v: p.kind == "prospect")
    got = {i["agreement_id"] for i in _all(api, q=prefix, awaiting_countersignature="true")}
    assert got == _expect(seeded, lambda p, v: v.state == "signed")


def test_expiring_within_seven_days_means_out_for_signing_and_expiring_by_then(
    api: Api, seeded: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    items = _all(api, q=seeded["prefix"], expiring_within_days=7)
    expected = _expect(
        seeded,
        lambda p, v: (
            v.state in ("sent", "viewed") and now < v.expires_at <= now + timedelta(days=7)
        ),
    )
    assert expected, "the seed should leave some expiring this week"
    assert {i["agreement_id"] for i in items} == expected
    assert all(i["expires_at"] and i["state"] in ("sent", "viewed") for i in items)


def test_date_range_and_template_and_list_versions(api: Api, seeded: dict[str, Any]) -> None:
    prefix = seeded["prefix"]
    some = next(iter(seeded["latest"].values()))
    day = some[0].date()
    got = {
        i["agreement_id"] for i in _all(api, q=prefix, since=day.isoformat(), until=day.isoformat())
    }
    assert got == {a for a, (created, _, _) in seeded["latest"].items() if created.date() == day}
    list_version = some[2].subprocessor_list_version
    master = some[2].template_versions["master"]["version"]
    everything = {i["agreement_id"] for i in _all(api, q=prefix)}
    assert {
        i["agreement_id"] for i in _all(api, q=prefix, subprocessor_list_version=list_version)
    } == everything
    assert {
        i["agreement_id"] for i in _all(api, q=prefix, template=f"master:{master}")
    } == everything
    assert _all(api, q=prefix, template=f"master:{master + 1000}") == []
    assert _all(api, q=prefix, subprocessor_list_version=list_version + 1000) == []


def test_search_finds_by_registration_number_and_email_in_any_case(
    api: Api, seeded: dict[str, Any]
) -> None:
    agreement_id, (_, party, _) = next(iter(seeded["latest"].items()))
    by_number = _all(api, q=party.details["registration_number"])
    assert agreement_id in {i["agreement_id"] for i in by_number}
    by_email = _all(api, q=party.details["signatory"]["email"].upper())
    assert [i["agreement_id"] for i in by_email] == [agreement_id]
    assert _all(api, q="100%_no_such") == []  # LIKE wildcards are taken literally
    assert [i["agreement_id"] for i in _all(api, q=agreement_id.upper())] == [agreement_id]


def test_nothing_is_outdated_while_its_words_are_the_approved_ones(
    api: Api, seeded: dict[str, Any]
) -> None:
    items = _all(api, q=seeded["prefix"])
    assert not any(i["outdated"] for i in items)
    assert _all(api, q=seeded["prefix"], outdated="true") == []


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fresh(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A database of its own: these tests approve new words, which outdates everything."""
    yield from own_api(request.param, pool, tmp_path_factory.mktemp("outdated"))


def _states(api: Api) -> dict[str, str]:
    return {i["agreement_id"]: i["state"] for i in _all(api)}


def test_outdated_lists_what_a_newer_template_left_behind(fresh: Api) -> None:
    seed(fresh.session, 12, name_prefix="SIA Vecā Veidne", rng_seed=9)
    assert _all(fresh, outdated="true") == []
    # Legal approves security v2: v1 is retired (made here as the approval leaves the rows).
    with fresh.session() as s:
        old = s.scalar(
            select(TemplateVersion).where(
                TemplateVersion.language == "en",
                TemplateVersion.template_key == "security",
                TemplateVersion.state == "approved",
            )
        )
        assert old is not None
        s.add(
            TemplateVersion(
                language="en",
                template_key="security",
                version=old.version + 1,
                sha256=old.sha256,
                size=old.size,
                content=old.content,
                filename=old.filename,
                author=old.author,
                author_subject=old.author_subject,
                state="approved",
            )
        )
        old.state = "retired"
        s.commit()
    states = _states(fresh)
    current = {a for a, state in states.items() if state in CURRENT_STATES}
    assert current and current != set(states)  # some closed ones are history, not outdated
    outdated = _all(fresh, outdated="true")
    assert {i["agreement_id"] for i in outdated} == current
    assert all(i["outdated"] for i in outdated)


def test_outdated_lists_what_a_newer_subprocessor_list_left_behind(fresh: Api) -> None:
    before = {i["agreement_id"] for i in _all(fresh, outdated="true")}
    seed(fresh.session, 6, name_prefix="SIA Jaunais Saraksts", rng_seed=10)
    newest = {i["agreement_id"] for i in _all(fresh, q="Jaunais Saraksts")}
    with fresh.session() as s:
        approve_new_subprocessor_list(s, fresh.settings)
        s.commit()
    states = _states(fresh)
    expected = {a for a in newest | before if states[a] in CURRENT_STATES}
    assert {i["agreement_id"] for i in _all(fresh, outdated="true")} >= expected
    assert {i["agreement_id"] for i in _all(fresh, q="Jaunais Saraksts", outdated="true")} == {
        a for a in newest if states[a] in CURRENT_STATES
    }


@pytest.mark.parametrize("role", ["legal", "sales", "admin"])
def test_staff_roles_may_list(api: Api, role: str) -> None:
    r = api.client.get("/api/v1/agreements", params={"limit": 1}, headers=api.headers(role))
    assert r.status_code == 200


def test_the_app_token_is_refused_and_no_token_is_401(api: Api) -> None:
    r = api.client.get("/api/v1/agreements", headers=api.headers("app"))
    assert r.status_code == 403
    assert "legal, sales, admin" in r.json()["detail"]
    assert api.client.get("/api/v1/agreements").status_code == 401


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"state": "finished"}, "state"),
        ({"kind": "partner"}, "kind"),
        ({"sort": "price"}, "sort"),
        ({"since": "2026-13-01"}, "since"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ({"template": "security"}, "template"),
        ({"date_field": "viewed_by"}, "date_field"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"expiring_within_days": "400"}, "expiring_within_days"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(api: Api, params: dict[str, str], name: str) -> None:
    r = api.client.get("/api/v1/agreements", params=params, headers=api.headers("legal"))
    assert r.status_code in (400, 422), r.text
    assert name in r.text


def test_a_cursor_from_another_sort_is_refused(api: Api, seeded: dict[str, Any]) -> None:
    first = api.client.get(
        "/api/v1/agreements",
        params={"q": seeded["prefix"], "limit": 2},
        headers=api.headers("legal"),
    ).json()
    r = api.client.get(
        "/api/v1/agreements",
        params={
            "q": seeded["prefix"],
            "limit": 2,
            "sort": "company",
            "cursor": first["next_cursor"],
        },
        headers=api.headers("legal"),
    )
    assert r.status_code == 400
    assert r.json()["detail"].startswith("cursor:")


def test_the_openapi_schema_documents_the_filters(api: Api) -> None:
    schema = api.client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/agreements"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {
        "state",
        "kind",
        "q",
        "since",
        "until",
        "date_field",
        "template",
        "subprocessor_list_version",
        "awaiting_countersignature",
        "expiring_within_days",
        "outdated",
        "sort",
        "limit",
        "cursor",
    } <= names


def _forged_cursor(sort: str, value: str) -> str:
    raw = json.dumps([sort, value, str(uuid.uuid4())]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "params",
    [
        {"until": "9999-12-31"},
        {"since": "9999-12-31", "until": "9999-12-31"},
        {"cursor": _forged_cursor("-created", "0001-01-01T00:00:00+14:00")},
        {"cursor": _forged_cursor("-created", "9999-12-31T23:59:59-14:00")},
    ],
)
def test_the_edges_of_the_calendar_are_answered_not_a_server_error(
    api: Api, params: dict[str, str]
) -> None:
    """The last day there is, and a forged cursor whose time has no UTC equivalent."""
    r = api.client.get("/api/v1/agreements", params=params, headers=api.headers("legal"))
    assert r.status_code in (200, 400), r.text


def test_a_workspace_whose_id_is_a_uuid_is_found_by_it(api: Api) -> None:
    """The Klusaro app may name workspaces by UUID: `q` finds "a whole workspace id" then too."""
    workspace_id = str(uuid.uuid4()).upper()
    assert api.put_workspace(workspace_id).status_code == 201
    dpa = api.request_dpa(workspace_id)
    assert dpa.status_code == 201, dpa.text
    r = api.client.get(
        "/api/v1/agreements", params={"q": workspace_id}, headers=api.headers("legal")
    )
    assert r.status_code == 200, r.text
    assert [i["agreement_id"] for i in r.json()["items"]] == [dpa.json()["agreement_id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"q": "SIA\x00"},
        {"q": "\x00"},
        {"sort": "company", "cursor": _forged_cursor("company", "sia\x00")},
        {"sort": "company", "cursor": _forged_cursor("company", "\ud800")},
    ],
)
def test_a_nul_or_a_lone_surrogate_is_answered_not_a_server_error(
    api: Api, params: dict[str, str]
) -> None:
    """PostgreSQL text holds no NUL, UTF-8 no lone surrogate: a search or a forged cursor
    with one is no server error."""
    r = api.client.get("/api/v1/agreements", params=params, headers=api.headers("legal"))
    assert r.status_code in (200, 400), r.text
    r = api.client.get("/api/v1/prospects", params=params, headers=api.headers("sales"))
    assert r.status_code in (200, 400, 422), r.text


def test_the_schemas_template_pattern_refuses_what_the_handler_refuses(api: Api) -> None:
    """An OpenAPI pattern matches anywhere in the value: "x+security:2" fitted the schema's
    unanchored alternative, and the handler answered 400 to a request the schema allowed."""
    schema = api.client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/agreements"]["get"]
    (template,) = [p for p in operation["parameters"] if p["name"] == "template"]
    pattern = template["schema"].get("pattern") or next(
        s["pattern"] for s in template["schema"]["oneOf"] if "pattern" in s
    )
    for value in ("x+security:2", "+¸çot/qg:131017714"):
        assert re.search(pattern, value) is None, value
    for value in ("", "security:2", "lv/master:1"):
        assert re.search(pattern, value), value


def test_the_schemas_day_pattern_has_no_year_zero(api: Api) -> None:
    """Year 0000 fitted the schema's pattern for since and until, and the handler refused it."""
    schema = api.client.get("/schema/openapi.json").json()
    operation = schema["paths"]["/api/v1/agreements"]["get"]
    for name in ("since", "until"):
        (param,) = [p for p in operation["parameters"] if p["name"] == name]
        pattern = param["schema"].get("pattern") or next(
            s["pattern"] for s in param["schema"]["oneOf"] if "pattern" in s
        )
        assert re.search(pattern, "0000-01-01") is None
        assert re.search(pattern, "0001-01-01") and re.search(pattern, "2026-12-02")
