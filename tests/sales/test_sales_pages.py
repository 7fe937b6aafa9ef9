"""The sales pages without a browser: the same GETs and form posts a browser makes."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from dpa_service.counterparties.models import Counterparty
from tests.sales.conftest import Sales, link_in, path_of
from tests.signing.helpers import Issued, sign
from tests.staff import make_user, post_form, staff_client

FORM: dict[str, Any] = {
    "legal_name": "Zahnarztpraxis Müller & Söhne GmbH",
    "registration_number": "HRB 123456",
    "vat_number": "",
    "street": "Straße des 17. Juni 1",
    "city": "Berlin",
    "postal_code": "10623",
    "country": "DE",  # the country select's value
    "signatory_name": "Jürgen Müller",
    "signatory_title": "Geschäftsführer",
    "dpo_name": "",
    "dpo_email": "",
    "data_categories": ["leads", "contacts", "invoices_quotes"],
    "data_subjects": "customers",  # a single ticked box
}


def _form(**changes: Any) -> dict[str, Any]:
    return {**FORM, "signatory_email": f"juergen.{uuid.uuid4().hex[:8]}@example.de", **changes}


def _count(sales: Sales) -> int:
    with sales.api.session() as s:
        return int(s.scalar(select(func.count()).select_from(Counterparty)) or 0)


@pytest.fixture
def seller(sales: Sales) -> tuple[Any, str]:
    email, password = make_user(sales.api, "sales", name="Sanita Pārdevēja")
    return staff_client(sales.api, email, password), email


def _create(client: Any, **changes: Any) -> tuple[str, dict[str, Any]]:
    form = _form(**changes)
    r = post_form(client, "/staff/prospects/new", "/staff/prospects", form)
    assert r.status_code == 303, r.text
    match = re.fullmatch(r"/staff/prospects/([0-9a-f-]{36})\?done=.*", r.headers["location"])
    assert match, r.headers["location"]
    return match.group(1), form


def _press(client: Any, prospect_id: str, action: str, **fields: str) -> str:
    page = f"/staff/prospects/{prospect_id}"
    r = post_form(client, page, f"{page}/{action}", fields)
    assert r.status_code == 303, r.text
    return unquote(r.headers["location"])


def test_create_send_and_follow_on_the_board(sales: Sales, seller: tuple[Any, str]) -> None:
    client, owner_email = seller
    prospect_id, form = _create(client)
    page = client.get(f"/staff/prospects/{prospect_id}")
    assert page.status_code == 200
    assert "Zahnarztpraxis Müller &amp; Söhne GmbH" in page.text
    assert 'id="send"' in page.text and 'id="resend"' not in page.text
    shown = sales.show(prospect_id)
    assert shown["details"]["address"]["country"] == "DE"
    assert shown["details"]["data_subjects"] == ["customers"]
    assert shown["owner"]["email"] == owner_email and shown["owner"]["name"] == "Sanita Pārdevēja"
    assert "vat_number" not in shown["details"] or shown["details"]["vat_number"] is None

    note = _press(client, prospect_id, "send")
    assert "done=Version 1 sent to " + form["signatory_email"] in note
    [invite] = sales.mail_to(form["signatory_email"])
    assert sales.client.get(path_of(link_in(invite))).status_code == 200

    board = client.get("/staff/prospects").text
    row = board.split(f'id="prospect-{prospect_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-state="viewed"' in row
    assert f"sent: user:{owner_email} (sales)" in row
    assert "viewed: signer via link" in row
    assert " UTC" in row

    # Remind now is refused right after sending; resend replaces the link.
    assert "error=the signatory was e-mailed" in _press(client, prospect_id, "remind")
    assert "the earlier links no longer work" in _press(client, prospect_id, "resend")
    second = sales.mail_to(form["signatory_email"], 2)[1]
    assert sales.client.get(path_of(link_in(invite))).status_code == 410
    url = link_in(second)

    # Signed and countersigned: the owner gets the completed copy, the board says completed.
    sent = sales.show(prospect_id)["latest"]
    version = sales.version(sent["agreement_id"], sent["version"])
    issued = Issued(sent["agreement_id"], sent["version"], version.draft_pdf_sha256, url)
    assert sign(sales.api, issued, typed_name="Jürgen Müller").status_code == 303
    [copy] = sales.mail_to(owner_email)
    # (Python's e-mail folding can double a space next to an encoded word; compare words.)
    assert (
        copy["Subject"].split()
        == f"Signed: the Data Processing Agreement for {form['legal_name']}".split()
    )
    assert sales.client.get(path_of(link_in(copy))).status_code == 200
    board = client.get("/staff/prospects?state=completed").text
    assert f'id="prospect-{prospect_id}" data-state="completed"' in board
    assert "signed: Jürgen Müller" in board
    mine = client.get(f"/staff/prospects?mine=1&q={uuid.uuid4().hex}").text
    assert 'id="no-prospects"' in mine


def test_a_prospect_in_latvian_gets_the_dpa_and_the_invitation_in_latvian(
    sales: Sales, seller: tuple[Any, str]
) -> None:
    client, _ = seller
    prospect_id, form = _create(client, language="lv", bilingual="yes")
    details = sales.show(prospect_id)["details"]
    assert details["language"] == "lv" and details["bilingual"] is True
    _press(client, prospect_id, "send")
    [invite] = sales.mail_to(form["signatory_email"])
    assert str(invite["Subject"]).startswith("Lūdzu, parakstiet")
    assert "lūdzam izskatīt un parakstīt personas datu apstrādes līgumu" in (
        invite.get_body(preferencelist=("plain",)).get_content()
    )
    latest = sales.show(prospect_id)["latest"]
    version = sales.version(latest["agreement_id"], latest["version"])
    assert {"master", "lv/master"} <= set(version.template_versions)


BAD_FORMS = [
    ({"signatory_email": "juergen at example"}, "Signatory e-mail"),
    ({"data_categories": []}, "Data categories: this field is required"),
    ({"country": "Deutschland"}, "Country: not a known country code"),
    ({"country": "XX"}, "Country: not a known country code"),
    ({"country": "la"}, "Country: not a known country code"),  # no longer upper-cased to Laos
    ({"legal_name": "   "}, "Legal name"),
    ({"data_categories": ["leads", "spying"]}, "Data categories"),
    ({"city": "Berlin\x00"}, "City"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_FORMS)
def test_a_bad_form_says_what_is_wrong_keeps_the_input_and_creates_nothing(
    sales: Sales, seller: tuple[Any, str], changes: dict[str, Any], message: str
) -> None:
    client, _ = seller
    before = _count(sales)
    form = _form(**changes)
    r = post_form(client, "/staff/prospects/new", "/staff/prospects", form)
    assert r.status_code == 422
    assert message in r.text
    assert 'value="HRB 123456"' in r.text  # what was typed is still there
    if "country" in changes:  # the refused code stays selected, named as not a country
        assert f'<option value="{changes["country"]}" selected>' in r.text
    else:
        assert '<option value="DE" selected>Germany</option>' in r.text
    assert _count(sales) == before


def test_the_country_is_chosen_by_name_and_stored_as_its_code(
    sales: Sales, seller: tuple[Any, str]
) -> None:
    client, _ = seller
    form = client.get("/staff/prospects/new").text
    select = form.split('<select name="country" id="country"', 1)[1].split("</select>", 1)[0]
    assert '<option value="LV" selected>Latvia</option>' in select  # the default
    assert '<option value="LA">Laos</option>' in select  # a name of its own, never Latvia's
    assert 'type="text" id="country"' not in form
    prospect_id, _ = _create(client, country="LV")
    assert sales.show(prospect_id)["details"]["address"]["country"] == "LV"
    page = client.get(f"/staff/prospects/{prospect_id}").text
    assert "Latvia (LV)" in page


def test_hostile_names_are_shown_as_text(sales: Sales, seller: tuple[Any, str]) -> None:
    client, _ = seller
    name = '<script>alert("x")</script> {{ 7*7 }} שלום'
    prospect_id, _ = _create(client, legal_name=name)
    for path in ("/staff/prospects", f"/staff/prospects/{prospect_id}"):
        text = client.get(path).text
        assert "<script>alert" not in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; {{ 7*7 }} שלום" in text


def test_void_and_convert_from_the_page(sales: Sales, seller: tuple[Any, str]) -> None:
    client, _ = seller
    prospect_id, form = _create(client)
    _press(client, prospect_id, "send")
    url = link_in(sales.mail_to(form["signatory_email"])[0])
    assert "error=give a reason" in _press(client, prospect_id, "void", reason="  ")
    assert "is void" in _press(client, prospect_id, "void", reason="Sent to the wrong person")
    assert sales.client.get(path_of(url)).status_code == 410
    page = client.get(f"/staff/prospects/{prospect_id}").text
    assert "Sent to the wrong person" in page and "Send a new version" in page

    assert "error=A workspace id" in _press(client, prospect_id, "convert", workspace_id="a b")
    workspace_id = f"ws-{uuid.uuid4().hex[:8]}"
    assert "Converted into workspace" in _press(
        client, prospect_id, "convert", workspace_id=workspace_id
    )
    page = client.get(f"/staff/prospects/{prospect_id}").text
    assert f'id="workspace">{workspace_id}<' in page and 'id="send"' not in page


def test_only_sales_and_admin_see_the_pages(sales: Sales) -> None:
    email, password = make_user(sales.api, "legal")
    legal = staff_client(sales.api, email, password)
    assert legal.get("/staff/prospects").status_code == 403
    assert legal.get("/staff/prospects/new").status_code == 403
    email, password = make_user(sales.api, "admin")
    assert staff_client(sales.api, email, password).get("/staff/prospects").status_code == 200
    anonymous = sales.client.get("/staff/prospects", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/staff/login")
