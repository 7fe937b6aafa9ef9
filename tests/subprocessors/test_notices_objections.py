"""Approving a change e-mails every counterparty with a completed DPA; its link records one
objection until the deadline; legal sees the objections."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from dpa_service.clock import utcnow
from dpa_service.notify.models import OutboundEmail
from dpa_service.subprocessors.models import SubprocessorNotice, SubprocessorObjection
from tests.conftest import workspace
from tests.signing.helpers import issue
from tests.smtp import ReceivedMessage
from tests.staff import csrf_of, make_user, staff_client
from tests.subprocessors.conftest import NOTICE_LINK, Governance, new_entry, unique


def _notice_for(g: Governance, email: str, version: int) -> ReceivedMessage:
    def found(messages: list[ReceivedMessage]) -> ReceivedMessage | None:
        return next(
            (
                m
                for m in messages
                if email in m.rcpt_tos and f"list version {version})" in str(m["Subject"])
            ),
            None,
        )

    return g.smtp.wait_for(found, timeout=30)  # type: ignore[no-any-return]


def _link(message: ReceivedMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = NOTICE_LINK.search(body.get_content())
    assert match, body.get_content()
    return f"/objections/{match.group(2)}"


def _object(g: Governance, path: str, reason: str, csrf: str | None = None) -> Any:
    """Submit the objection form as a browser would (the token of the page, or `csrf`)."""
    if csrf is None:
        csrf = csrf_of(g.api.client.get(path).text)
    return g.api.client.post(
        path, data={"reason": reason, "_csrf_token": csrf}, follow_redirects=False
    )


def test_notices_go_to_counterparties_with_a_completed_dpa_only(governance: Governance) -> None:
    g = governance
    completed_id, completed_email = g.completed_workspace()
    # a DPA sent but not signed, and a workspace without a DPA: no notice
    pending_id = f"ws-{uuid.uuid4().hex[:10]}"
    pending_email = f"{pending_id}@example.lv"
    issue(
        g.api,
        pending_id,
        workspace(signatory={"name": "P", "title": "CEO", "email": pending_email}),
    )
    bare_id = f"ws-{uuid.uuid4().hex[:10]}"
    bare_email = f"{bare_id}@example.lv"
    assert g.api.put_workspace(
        bare_id, workspace(signatory={"name": "B", "title": "CEO", "email": bare_email})
    ).status_code in (200, 201)

    name = unique("Intercom R&D Unlimited")
    number = g.propose(
        add=[new_entry(name, purpose="In-app chat with the controller's customers")],
        remove=("Plausible Insights OÜ",),
    )
    approval = g.approve(number)
    change = approval["change"]

    with g.api.session() as s:
        queued = {
            m.to_addr
            for m in s.scalars(
                select(OutboundEmail).where(
                    OutboundEmail.kind == "subprocessors.changed",
                    OutboundEmail.ref == change["change_id"],
                )
            )
        }
        notices = s.scalars(
            select(SubprocessorNotice).where(SubprocessorNotice.change_id == change["change_id"])
        ).all()
    assert completed_email in queued
    assert pending_email not in queued and bare_email not in queued
    assert change["notices"] == len(queued) == len(notices)
    assert all(n.expires_at == notices[0].expires_at for n in notices)

    message = _notice_for(g, completed_email, number)
    text = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert f"Added: {name} — In-app chat with the controller's customers" in text
    assert "location: United States" in text and "SCCs (Module 3)" in text
    assert "Removed: Plausible Insights OÜ" in text
    deadline = datetime.fromisoformat(change["objection_deadline"])
    assert deadline - datetime.fromisoformat(change["approved_at"]) == timedelta(days=30)
    assert f"until {deadline:%-d %B %Y, %H:%M} UTC" in text
    link = _link(message)
    # only the hash of the token is stored
    token = link.rsplit("/", 1)[1]
    assert all(token not in (n.token_hash, n.id) for n in notices)
    assert not [m for m in g.smtp.messages if pending_email in m.rcpt_tos]


def test_the_objection_link_works_once_and_legal_sees_the_objection(
    governance: Governance,
) -> None:
    g = governance
    _, email = g.completed_workspace()
    name = unique("Objectionable Analytics Inc.")
    number = g.propose(add=[new_entry(name)])
    change_id = g.approve(number)["change"]["change_id"]
    link = _link(_notice_for(g, email, number))

    page = first = g.api.client.get(link)
    assert page.status_code == 200
    assert name in page.text and "Send my objection" in page.text
    assert page.headers["cache-control"] == "no-store"

    # a reason is required; nothing is recorded without one
    assert _object(g, link, "   ").status_code == 422
    assert _object(g, link, "x" * 2001).status_code == 422
    reason = "We cannot accept transfers to the US for our customers' data.\nPlease call us."
    r = _object(g, link, reason)
    assert r.status_code == 303 and r.headers["location"] == link
    page = g.api.client.get(link)
    assert page.status_code == 200 and "Your objection was recorded" in page.text
    assert 'id="objection-form"' not in page.text

    # the same form submitted again (from another tab, say)
    again = _object(g, link, "A second objection", csrf=csrf_of(first.text))
    assert again.status_code == 409 and "already recorded" in again.text
    with g.api.session() as s:
        rows = s.scalars(
            select(SubprocessorObjection).where(SubprocessorObjection.change_id == change_id)
        ).all()
    assert [o.reason for o in rows] == [reason]
    assert rows[0].ip

    r = g.get(f"/changes/{change_id}/objections")
    assert r.status_code == 200
    [seen] = r.json()
    assert seen["reason"] == reason and seen["version"] == number
    assert seen["counterparty"] == "SIA Ziemeļu Logi"
    assert g.get(f"/changes/{change_id}/objections", role="sales").status_code == 403
    changes = {c["change_id"]: c for c in g.get("/changes").json()}
    assert changes[change_id]["objections"] == 1

    legal = staff_client(g.api, *make_user(g.api, "legal"))
    page = legal.get(f"/staff/subprocessors/changes/{change_id}")
    assert page.status_code == 200 and "We cannot accept transfers to the US" in page.text


def test_an_expired_or_forged_token_is_refused(governance: Governance) -> None:
    g = governance
    _, email = g.completed_workspace()
    number = g.propose(add=[new_entry(unique("Late Objection GmbH"), location="DE")])
    change_id = g.approve(number)["change"]["change_id"]
    link = _link(_notice_for(g, email, number))
    # a page opened while the window was open, submitted after it closed
    form = g.api.client.get(link)
    assert form.status_code == 200
    past = utcnow() - timedelta(minutes=1)
    with g.api.session() as s:
        s.execute(
            update(SubprocessorNotice)
            .where(SubprocessorNotice.change_id == change_id)
            .values(expires_at=past)
        )
        s.commit()

    page = g.api.client.get(link)
    assert page.status_code == 410
    assert "The objection window closed on" in page.text
    assert f"{past:%-d %B %Y}" in page.text
    assert 'id="objection-form"' not in page.text
    late = g.api.client.post(
        link,
        data={"reason": "Too late?", "_csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    assert late.status_code == 410 and "closed on" in late.text

    for forged in (
        "/objections/" + secrets.token_urlsafe(32),
        "/objections/not-a-token",
        link[:-1] + ("A" if link[-1] != "A" else "B"),
        "/objections/" + "A" * 500,
    ):
        r = g.api.client.get(forged)
        assert r.status_code == 404, forged
        assert "This link is not valid" in r.text
        r = g.api.client.post(
            forged, data={"reason": "x", "_csrf_token": csrf_of(form.text)}, follow_redirects=False
        )
        assert r.status_code == 404, forged
    with g.api.session() as s:
        assert not s.scalars(
            select(SubprocessorObjection).where(SubprocessorObjection.change_id == change_id)
        ).all()


def test_an_objection_without_the_csrf_token_is_refused(governance: Governance) -> None:
    g = governance
    _, email = g.completed_workspace()
    number = g.propose(add=[new_entry(unique("Csrf Check SA"), location="FR")])
    g.approve(number)
    link = _link(_notice_for(g, email, number))
    r = g.api.client.post(link, data={"reason": "no token"}, follow_redirects=False)
    assert r.status_code == 403
    assert re.search("objection-form", g.api.client.get(link).text)
