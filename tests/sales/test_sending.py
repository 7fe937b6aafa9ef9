"""Sending a prospect's DPA by e-mail: the link works, the signed copy reaches both sides;
resend withdraws the old link, remind adds one, void stops them all."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from html import escape

from sqlalchemy import select

from dpa_service.audit.models import AuditEvent
from dpa_service.notify.models import OutboundEmail
from dpa_service.signing.links import token_hash
from dpa_service.signing.models import SigningLink
from tests.conftest import workspace
from tests.sales.conftest import Sales, link_in, parts, path_of, prospect_details
from tests.signing.helpers import Issued, issue, sign


def _issued(sent: dict, url: str) -> Issued:
    return Issued(sent["agreement_id"], sent["version"], sent["sha256"], url)


def test_the_signatory_gets_a_working_link_and_both_sides_get_the_signed_copy(
    sales: Sales,
) -> None:
    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sent = sales.send(prospect["id"])
    assert (sent["kind"], sent["state"], sent["to"]) == ("send", "sent", to)

    [invite] = sales.mail_to(to)
    assert invite["Message-ID"] == sent["message_id"]
    # an answer goes to the salesperson who owns the prospect, not to the no-reply sender
    assert invite["Reply-To"] == "token-sales@klusaro.com"
    assert prospect["details"]["legal_name"] in invite["Subject"]
    text, html = parts(invite)
    assert "Līga Bērziņa" in text and "Līga Bērziņa" in html  # both parts, diacritics intact
    url = link_in(invite)
    assert url.startswith(sales.api.settings.public_url)

    page = sales.client.get(path_of(url))
    assert page.status_code == 200
    assert sent["sha256"] in page.text  # the document the signatory is asked to sign
    assert sales.show(prospect["id"])["latest"]["state"] == "viewed"

    signed = sign(sales.api, _issued(sent, url), typed_name="Līga Bērziņa")
    assert signed.status_code == 303, signed.text
    shown = sales.show(prospect["id"])["latest"]
    assert shown["state"] == "completed"  # countersigned automatically (test settings)
    assert shown["actors"]["signed"].startswith("Līga Bērziņa")

    # The signatory's copy: a link to the completion page and the sealed PDF.
    copy = sales.mail_to(to, 2)[1]
    assert copy["Subject"].startswith("Signed:")
    assert copy["Reply-To"] == "token-sales@klusaro.com"
    copy_url = link_in(copy)
    assert copy_url.endswith("/done")
    # The e-mail names the verification page by its address, in both parts.
    verify_url = f"{sales.api.settings.public_url.rstrip('/')}/verify"
    assert all(verify_url in part for part in parts(copy))
    done = sales.client.get(path_of(copy_url))
    assert done.status_code == 200 and "signed by both parties" in done.text
    assert "You signed on" in done.text
    pdf = sales.client.get(path_of(copy_url).removesuffix("/done") + "/signed.pdf")
    assert pdf.status_code == 200
    assert hashlib.sha256(pdf.content).hexdigest() == shown_final_sha(sales, sent)
    # The copy link cannot be used to sign anything.
    form = sales.client.get(path_of(copy_url).removesuffix("/done"), follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].endswith("/done")

    # Klusaro's side: the prospect's owner, the sales user whose token sent it.
    legal_name = prospect["details"]["legal_name"]
    theirs = sales.smtp.wait_for(
        lambda msgs: [
            m
            for m in msgs
            if "token-sales@klusaro.com" in m.rcpt_tos
            and m["Subject"] == f"Signed: the Data Processing Agreement for {legal_name}"
        ]
    )
    assert len(theirs) == 1
    assert link_in(theirs[0]) != copy_url  # a link of their own
    # Their page says who signed: the salesperson did not sign anything.
    staff_page = sales.client.get(path_of(link_in(theirs[0]))).text
    assert "You signed" not in staff_page
    assert f"Līga Bērziņa signed for {escape(legal_name)} on" in staff_page


def test_the_signatory_of_an_embedded_link_gets_the_completed_copy_by_email(
    sales: Sales,
) -> None:
    signatory = f"embedded.{uuid.uuid4().hex[:8]}@example.lv"
    details = workspace(signatory={"name": "Ēriks Kalniņš", "title": "CEO", "email": signatory})
    issued = issue(sales.api, f"ws-{uuid.uuid4().hex[:10]}", details)
    assert sign(sales.api, issued, typed_name="Ēriks Kalniņš").status_code == 303

    [copy] = sales.mail_to(signatory)
    assert copy["Subject"].startswith("Signed:")
    assert copy["Reply-To"] is None  # no salesperson behind the Klusaro app's DPA
    url = link_in(copy)
    assert path_of(url) != issued.path  # a copy link of its own, not the short embedded one
    with sales.api.session() as s:
        link = s.scalars(
            select(SigningLink).where(SigningLink.token_hash == token_hash(url.split("/")[-2]))
        ).one()
        embedded = s.scalars(
            select(SigningLink).where(
                SigningLink.version_id == link.version_id, SigningLink.kind == "embedded"
            )
        ).one()
    # It lasts as long as a sales copy link (90 days), not the embedded link's minutes.
    assert link.expires_at - link.created_at >= timedelta(days=89)
    assert embedded.expires_at - embedded.created_at <= timedelta(hours=1)
    assert sales.client.get(path_of(url)).status_code == 200
    # Nobody at Klusaro is e-mailed: the app hears of completion by webhook.
    assert not sales.smtp.to("token-app@klusaro.com")


def shown_final_sha(sales: Sales, sent: dict) -> str:
    version = sales.version(sent["agreement_id"], sent["version"])
    assert version.final_pdf_sha256
    return version.final_pdf_sha256


def test_resend_withdraws_the_old_link_and_mails_a_new_one(sales: Sales) -> None:
    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sent = sales.send(prospect["id"])
    first = link_in(sales.mail_to(to)[0])

    again = sales.act(prospect["id"], "resend")
    assert again.status_code == 201, again.text
    assert again.json()["kind"] == "resend" and again.json()["link_id"] != sent["link_id"]
    second_msg = sales.mail_to(to, 2)[1]
    second = link_in(second_msg)
    assert second != first
    assert "no longer work" in parts(second_msg)[0]

    old = sales.client.get(path_of(first))
    assert old.status_code == 410 and "withdrawn" in old.text
    assert sales.client.get(path_of(second)).status_code == 200


def test_remind_now_mails_a_fresh_link_and_is_audited(sales: Sales) -> None:
    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sent = sales.send(prospect["id"])

    too_soon = sales.act(prospect["id"], "remind")
    assert too_soon.status_code == 409 and "minute" in too_soon.json()["detail"]

    version = sales.version(sent["agreement_id"], sent["version"])
    _age_invitations(sales, version.id, minutes=10)
    reminded = sales.act(prospect["id"], "remind")
    assert reminded.status_code == 201, reminded.text
    msgs = sales.mail_to(to, 2)
    assert msgs[1]["Subject"].startswith("Reminder:")
    # Both links work: a reminder does not take the first one away.
    assert sales.client.get(path_of(link_in(msgs[0]))).status_code == 200
    assert sales.client.get(path_of(link_in(msgs[1]))).status_code == 200
    with sales.api.session() as s:
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.agreement_id == sent["agreement_id"], AuditEvent.type == "reminder.sent"
            )
        ).all()
    assert len(events) == 1 and events[0].data["manual"] is True
    assert events[0].actor.startswith("user:token-sales@") and events[0].data["to"] == to
    assert sales.show(prospect["id"])["latest"]["reminders_sent"] == 1


def _age_invitations(sales: Sales, version_id: str, minutes: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from dpa_service.counterparties.models import SigningInvitation

    with sales.api.session() as s:
        for row in s.scalars(
            select(SigningInvitation).where(SigningInvitation.version_id == version_id)
        ):
            s.execute(
                update(SigningInvitation)
                .where(SigningInvitation.id == row.id)
                .values(created_at=row.created_at - timedelta(minutes=minutes))
            )
        s.commit()


def test_void_stops_the_link_and_nothing_more_can_be_resent(sales: Sales) -> None:
    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sales.send(prospect["id"])
    url = link_in(sales.mail_to(to)[0])

    assert sales.act(prospect["id"], "void", {"reason": ""}).status_code == 422
    voided = sales.act(prospect["id"], "void", {"reason": "Wrong company"})
    assert voided.status_code == 200, voided.text
    assert voided.json()["latest"]["state"] == "voided"
    assert voided.json()["latest"]["state_reason"] == "Wrong company"
    assert sales.client.get(path_of(url)).status_code == 410
    assert sales.act(prospect["id"], "resend").status_code == 409
    assert sales.act(prospect["id"], "remind").status_code == 409

    # Sending again makes a new version with a new link.
    again = sales.send(prospect["id"])
    assert again["version"] == 2
    assert sales.client.get(path_of(link_in(sales.mail_to(to, 2)[1]))).status_code == 200


def test_sending_twice_is_refused_and_mails_once(sales: Sales) -> None:
    prospect = sales.create()
    sent = sales.send(prospect["id"])
    second = sales.act(prospect["id"], "send")
    assert second.status_code == 409 and "resend" in second.json()["detail"]
    with sales.api.session() as s:
        queued = s.scalars(
            select(OutboundEmail).where(
                OutboundEmail.ref == sent["agreement_id"], OutboundEmail.kind == "dpa.send"
            )
        ).all()
    assert len(queued) == 1


def test_workspace_links_are_not_emailed_and_only_the_signatory_gets_the_copy(
    sales: Sales,
) -> None:
    """The Klusaro app hands out its own links (nothing is e-mailed to sign) and hears of
    completion by webhook; its signatory gets the completed copy by e-mail (issue 14)."""
    details = prospect_details()
    issued = issue(sales.api, "ws-sales-untouched", details)
    assert sign(sales.api, issued).status_code == 303
    with sales.api.session() as s:
        mails = s.scalars(select(OutboundEmail).where(OutboundEmail.ref == issued.agreement_id))
        assert [(m.kind, m.to_addr) for m in mails] == [
            ("dpa.completed.controller", details["signatory"]["email"])
        ]


def test_with_smtp_down_the_invitation_waits_and_goes_out_once_when_it_is_back(
    sales: Sales,
) -> None:
    import time
    from datetime import timedelta

    from dpa_service.clock import utcnow
    from dpa_service.notify.outbox import deliver_due

    prospect = sales.create()
    to = prospect["details"]["signatory"]["email"]
    sales.smtp.stop()
    try:
        sent = sales.send(prospect["id"])  # the send itself succeeds and is recorded
        deadline = time.monotonic() + 20
        while True:  # the background sweep tries, and fails to connect
            with sales.api.session() as s:
                row = s.get(OutboundEmail, sent["email_id"])
                assert row is not None
                if row.attempts >= 1:
                    break
            assert time.monotonic() < deadline, "no delivery attempt was made"
            time.sleep(0.1)
        assert row.state == "pending" and row.last_error
        assert sales.show(prospect["id"])["latest"]["state"] == "sent"
    finally:
        sales.smtp.start()
    later = utcnow() + timedelta(minutes=10)  # past the retry backoff
    assert deliver_due(sales.ctx(), now=later) >= 1
    [msg] = sales.mail_to(to)
    assert msg["Message-ID"] == sent["message_id"]
    assert deliver_due(sales.ctx(), now=later + timedelta(hours=1)) == 0
    assert [m["Message-ID"] for m in sales.smtp.to(to)] == [sent["message_id"]]


def test_a_prospects_dpa_cannot_be_sent_around_the_sales_flow(sales: Sales) -> None:
    prospect = sales.create()
    sent = sales.send(prospect["id"])
    bypass = sales.client.post(
        f"/api/v1/agreements/{sent['agreement_id']}/versions/{sent['version']}/signing-links",
        json={},
        headers=sales.api.headers("sales"),
    )
    assert bypass.status_code == 409 and f"/api/v1/prospects/{prospect['id']}/send" in bypass.text


def test_a_double_clicked_resend_sends_one_e_mail(sales: Sales) -> None:
    prospect = sales.create()
    sales.send(prospect["id"])
    first = sales.act(prospect["id"], "resend")
    assert first.status_code == 201, first.text  # a resend may follow the send at once
    second = sales.act(prospect["id"], "resend")
    assert second.status_code == 409 and "ago" in second.json()["detail"]
    to = prospect["details"]["signatory"]["email"]
    assert len(sales.mail_to(to, count=2)) == 2  # the send and one resend


def test_a_latvian_signatory_gets_the_completed_copy_in_latvian(sales: Sales) -> None:
    signatory = f"latviski.{uuid.uuid4().hex[:8]}@example.lv"
    details = workspace(
        language="lv",
        signatory={"name": "Ēriks Kalniņš", "title": "Valdes loceklis", "email": signatory},
    )
    issued = issue(sales.api, f"ws-{uuid.uuid4().hex[:10]}", details)
    assert sign(sales.api, issued, typed_name="Ēriks Kalniņš").status_code == 303
    [copy] = sales.mail_to(signatory)
    text, _ = parts(copy)
    verify_url = f"{sales.api.settings.public_url.rstrip('/')}/verify?lang=lv"  # page in Latvian
    assert f"Ikviens var pārbaudīt kopiju pārbaudes lapā:\n{verify_url}" in text.replace("\r", "")
    page = sales.client.get(path_of(link_in(copy))).text
    assert "Jūs parakstījāt" in page and "You signed" not in page
