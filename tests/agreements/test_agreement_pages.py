"""The staff agreement pages without a browser: the list with its form's query, the CSV export,
an agreement's page with its timeline and documents, role checks, HEAD and the version route."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest

from dpa_service.list_bench import seed
from dpa_service.web.agreements import csv_cell
from tests.conftest import Api
from tests.signing.helpers import issue, open_page, sign
from tests.staff import make_user, staff_client

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


def test_the_app_token_and_anonymous_visitors_get_no_staff_list(api: Api) -> None:
    anonymous = api.client.get("/staff/agreements/", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/staff/login")


def test_version_route_answers_what_the_agreement_lists(api: Api, workspace_id: str) -> None:
    api.put_workspace(workspace_id)
    dpa = api.request_dpa(workspace_id).json()
    base = f"/api/v1/agreements/{dpa['agreement_id']}"
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
