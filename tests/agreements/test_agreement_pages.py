"""The staff agreement pages without a browser: the list with its form's query, the CSV export,
an agreement's page with its timeline and documents, role checks, HEAD and the version route."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import select

from dpa_service.agreements.models import AgreementVersion
from dpa_service.counterparties.models import SigningInvitation
from dpa_service.list_bench import seed
from dpa_service.rendering.converter import ConverterPool
from dpa_service.web.agreements import csv_cell
from tests.conftest import Api, own_api, wait_archived, workspace
from tests.signing.helpers import issue, open_page, sign
from tests.staff import csrf_of, make_user, post_form, staff_client

# What the list page's form sends when only the search box is filled in.
EMPTY_FORM = {
    "q": "",
    "state": "",
    "kind": "",
    "date_field": "created",
    "since": "",
    "until": "",
    "template": "",
    "subprocessor_list_version": "",
    "sort": "-created",
}


@pytest.fixture(scope="module")
def hostile(api: Api) -> str:
    """Five agreements whose company names would run as spreadsheet formulas."""
    prefix = f'=HYPERLINK("http://evil") Csv{uuid.uuid4().hex[:6]}'
    seed(api.session, 5, name_prefix=prefix, rng_seed=3)
    return prefix


def _client(api: Api, role: str) -> Any:
    return staff_client(api, *make_user(api, role))


def test_the_list_page_takes_its_own_forms_query(api: Api, hostile: str) -> None:
    client = _client(api, "sales")
    page = client.get("/staff/agreements/", params={**EMPTY_FORM, "q": hostile[-9:]})
    assert page.status_code == 200, page.text
    assert page.text.count('<tr id="agreement-') == 5
    assert "&#34;http://evil&#34;" in page.text or "&quot;http://evil&quot;" in page.text
    assert 'href="http://evil"' not in page.text


def test_the_csv_export_holds_every_filtered_row_and_no_formulas(api: Api, hostile: str) -> None:
    client = _client(api, "legal")
    r = client.get("/staff/agreements/export.csv", params={**EMPTY_FORM, "q": hostile[-9:]})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 5
    assert all(row["legal_name"].startswith("'=HYPERLINK(") for row in rows)
    assert {row["kind"] for row in rows} <= {"workspace", "prospect"}
    assert all(row["template_versions"].startswith("confidentiality:") for row in rows)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("SIA Koks", "SIA Koks"),
    ],
)
def test_csv_cells_that_start_a_formula_are_quoted(value: str, shown: str) -> None:
    assert csv_cell(value) == shown


def test_an_agreement_page_shows_versions_documents_and_the_timeline(
    api: Api, workspace_id: str
) -> None:
    issued = issue(api, workspace_id)
    _, csrf = open_page(api, issued)
    assert sign(api, issued, csrf).status_code == 303
    client = _client(api, "legal")
    page = client.get(f"/staff/agreements/{issued.agreement_id}")
    assert page.status_code == 200
    html = page.text
    assert "SIA Ziemeļu Logi" in html
    assert issued.sha256 in html  # the draft's hash among the documents
    for event in ("version.created", "version.sent", "version.viewed", "version.signed"):
        assert f'data-type="{event}"' in html
    assert "testclient" in html  # from where the signer signed (the test client's address)


def test_anonymous_visitors_are_sent_to_log_in(api: Api) -> None:
    anonymous = api.client.get("/staff/agreements/", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/staff/login")


def test_version_route_answers_what_the_agreement_lists(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    dpa = api.request_dpa(workspace_id).json()
    base = f"/api/v1/agreements/{dpa['agreement_id']}"
    wait_archived(api, dpa["agreement_id"], 1)  # both answers then say "stored"
    whole = api.client.get(base, headers=api.headers()).json()
    one = api.client.get(f"{base}/versions/1", headers=api.headers())
    assert one.status_code == 200
    assert one.json() == whole["versions"][0]
    assert api.client.get(f"{base}/versions/2", headers=api.headers()).status_code == 404


def test_head_on_pdf_urls_gives_the_headers_without_the_body(api: Api, workspace_id: str) -> None:
    issued = issue(api, workspace_id)
    url = f"{issued.version_path}/pdf"
    got = api.client.get(url, headers=api.headers())
    head = api.client.head(url, headers=api.headers())
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["x-content-sha256"] == issued.sha256 == got.headers["x-content-sha256"]
    assert head.headers["content-length"] == str(len(got.content))
    assert head.headers["content-type"] == "application/pdf"
    assert api.client.head(url).status_code == 401
    signing_head = api.client.head(f"{issued.path}/document.pdf")
    assert signing_head.status_code == 200 and signing_head.content == b""
    assert signing_head.headers["x-content-sha256"] == issued.sha256


def _press(client: Any, agreement_id: str, action: str, **fields: str) -> str:
    page = f"/staff/agreements/{agreement_id}"
    r = post_form(client, page, f"{page}/{action}", fields)
    assert r.status_code == 303, r.text
    return unquote(r.headers["location"])


def _prospect_sent(api: Api) -> tuple[str, str]:
    """A prospect's DPA sent by e-mail, as sales does it: (prospect id, agreement id)."""
    details = workspace(legal_name=f"SIA Jūras Vējš {uuid.uuid4().hex[:6]}")
    prospect = api.client.post("/api/v1/prospects", json=details, headers=api.headers("sales"))
    assert prospect.status_code == 201, prospect.text
    sent = api.client.post(
        f"/api/v1/prospects/{prospect.json()['id']}/send", headers=api.headers("sales")
    )
    assert sent.status_code == 201, sent.text
    return prospect.json()["id"], sent.json()["agreement_id"]


def test_sales_resends_reminds_and_voids_from_the_agreement_page(api: Api) -> None:
    _, agreement_id = _prospect_sent(api)
    client = _client(api, "sales")
    page = client.get(f"/staff/agreements/{agreement_id}").text
    assert 'id="resend"' in page and 'id="remind"' in page and 'id="void"' in page
    assert 'id="countersign"' not in page and 'id="new-link-button"' not in page
    assert "A new link was sent to" in _press(client, agreement_id, "resend")
    assert "error=" in _press(client, agreement_id, "remind")  # just e-mailed: not yet
    with api.session() as s:  # ten minutes later
        for sent in s.scalars(
            select(SigningInvitation).where(SigningInvitation.agreement_id == agreement_id)
        ):
            sent.created_at -= timedelta(minutes=10)
        s.commit()
    assert "A reminder was sent to" in _press(client, agreement_id, "remind")
    # a second reminder at once is refused, with the reason, back on the page
    assert "error=" in _press(client, agreement_id, "remind")
    note = _press(client, agreement_id, "void", number="1", reason="Wrong company")
    assert "Version 1 is void" in note
    page = client.get(f"/staff/agreements/{agreement_id}").text
    assert 'id="state">voided<' in page
    assert "version.voided — Wrong company" in page
    assert 'id="void"' not in page and 'id="resend"' not in page


def test_legal_may_not_void_or_resend_and_sales_may_not_countersign(api: Api) -> None:
    _, agreement_id = _prospect_sent(api)
    legal = _client(api, "legal")
    page = legal.get(f"/staff/agreements/{agreement_id}").text
    assert 'id="void"' not in page and 'id="resend"' not in page
    token = csrf_of(page)
    for action in ("void", "resend", "remind"):
        r = legal.post(
            f"/staff/agreements/{agreement_id}/{action}",
            data={"_csrf_token": token, "reason": "x", "number": "1"},
            follow_redirects=False,
        )
        assert r.status_code == 403, action
    sales = _client(api, "sales")
    assert sales.get(f"/staff/agreements/{agreement_id}/versions/1/countersign").status_code == 403
    with api.session() as s:
        assert (
            s.scalar(
                select(AgreementVersion.state).where(AgreementVersion.agreement_id == agreement_id)
            )
            == "sent"
        )


def test_a_new_signing_link_for_a_workspace_is_shown_once(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    dpa = api.request_dpa(workspace_id).json()
    client = _client(api, "sales")
    page = f"/staff/agreements/{dpa['agreement_id']}"
    r = post_form(client, page, f"{page}/signing-link", {"number": str(dpa["version"])})
    assert r.status_code == 200
    url = re.search(r'id="new-link-url">([^<]+)<', r.text)
    assert url and "/sign/" in url.group(1)
    signing_page = api.client.get("/sign/" + url.group(1).rsplit("/sign/", 1)[1])
    assert signing_page.status_code == 200  # the link opens the signing page
    again = client.get(page).text
    assert url.group(1) not in again  # never shown again
    assert 'data-type="link.created"' in again


@pytest.fixture(scope="module")
def by_hand(pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """Legal countersigns by hand here (SQLite)."""
    yield from own_api("sqlite", pool, tmp_path_factory.mktemp("by-hand"), auto_countersign=False)


def test_countersigning_needs_the_tick_the_shown_hash_and_a_plain_name(by_hand: Api) -> None:
    issued = issue(by_hand, f"ws-{uuid.uuid4().hex[:10]}")
    assert sign(by_hand, issued).status_code == 303
    client = _client(by_hand, "legal")
    form_page = f"/staff/agreements/{issued.agreement_id}/versions/1/countersign"
    good = {
        "name": "Marta Zariņa",
        "title": "Head of Legal",
        "sha256": issued.sha256,
        "confirm": "yes",
    }
    for changes, reason in (
        ({"confirm": ""}, "Tick the box"),
        ({"sha256": "0" * 64}, "The document changed"),
        ({"name": "Marta\u202eZariņa"}, "Name: give it in plain text"),
    ):
        r = post_form(client, form_page, form_page, {**good, **changes})
        assert r.status_code == 303
        assert reason in unquote(r.headers["location"])
    with by_hand.session() as s:
        version = s.scalar(
            select(AgreementVersion).where(AgreementVersion.agreement_id == issued.agreement_id)
        )
        assert version is not None and version.state == "signed"


def test_a_second_countersign_from_another_tab_says_it_is_done(by_hand: Api) -> None:
    """A refused countersignature comes back to the agreement page, not to a 409 page."""
    issued = issue(by_hand, f"ws-{uuid.uuid4().hex[:10]}")
    assert sign(by_hand, issued).status_code == 303
    client = _client(by_hand, "legal")
    form_page = f"/staff/agreements/{issued.agreement_id}/versions/1/countersign"
    form = {
        "name": "Marta Zariņa",
        "title": "Head of Legal",
        "sha256": issued.sha256,
        "confirm": "yes",
    }
    token = csrf_of(client.get(form_page).text)
    first = client.post(form_page, data={**form, "_csrf_token": token}, follow_redirects=False)
    assert first.status_code == 303 and "countersigned" in unquote(first.headers["location"])
    # the same form again (a double click, a second tab): back on the agreement page, which
    # says the version is completed, not on an error page of its own
    second = client.post(form_page, data={**form, "_csrf_token": token})
    assert second.status_code == 200, second.text
    assert second.url.path == f"/staff/agreements/{issued.agreement_id}"
    assert 'id="state">completed<' in second.text
    assert "Version 1 is completed" in second.text


def test_a_filter_that_cannot_be_used_comes_back_to_the_list_with_the_reason(api: Api) -> None:
    """Until before since (typed in the date boxes) or a cursor of another sort: the list page
    says why, with its form, rather than a bare error page."""
    client = _client(api, "sales")
    for path in ("/staff/agreements/", "/staff/agreements/export.csv"):
        r = client.get(path, params={**EMPTY_FORM, "since": "2026-12-05", "until": "2026-12-01"})
        assert r.status_code == 200, r.text
        assert r.url.path.rstrip("/") == "/staff/agreements"
        assert 'id="error"' in r.text and "until: it is before since" in r.text
        assert 'id="apply"' in r.text
    # sent back once: a page that fails again is an error page, never a redirect loop
    again = client.get(
        "/staff/agreements/",
        params={"error": "x", "since": "2026-12-05", "until": "2026-12-01"},
        follow_redirects=False,
    )
    assert again.status_code == 400
