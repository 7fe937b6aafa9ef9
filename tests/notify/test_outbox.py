"""The e-mail outbox: delivery by SMTP or to a folder, retries, and never sending twice."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import update

from dpa_service.clock import utcnow
from dpa_service.db import make_session_factory
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from tests.notify.conftest import Mailroom
from tests.smtp import LoopbackSMTP

HTML = "<p>Please sign the <b>Data Processing Agreement</b>.</p>"


def test_a_queued_message_goes_out_by_smtp_with_its_headers_and_both_parts(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server, mail_return_path="bounces@klusaro.com")
    row = mailroom.enqueue(
        to="eriks@example.lv",
        subject="Līgums par datu apstrādi — SIA Ziemeļu Logi",
        text="Labdien, Ēriks!\nPlease sign.\n",
        html=HTML,
        kind="dpa.sent",
        ref="agreement-1",
    )
    assert mailroom.row(row.id).state == "pending"

    assert outbox.deliver_due(ctx) == 1

    [msg] = smtp_server.messages
    assert msg.mail_from == "bounces@klusaro.com"
    assert msg.rcpt_tos == ["eriks@example.lv"]
    assert msg["From"] == "Klusaro DPA <dpa@klusaro.com>"
    assert msg["To"] == "eriks@example.lv"
    assert msg["Subject"] == "Līgums par datu apstrādi — SIA Ziemeļu Logi"
    assert msg["Message-ID"] == row.message_id
    assert msg["Date"].datetime == row.created_at.replace(microsecond=0)
    assert msg.get_content_type() == "multipart/alternative"
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert text_part is not None and "Labdien, Ēriks!" in text_part.get_content()
    assert html_part is not None and "<b>Data Processing Agreement</b>" in html_part.get_content()

    sent = mailroom.row(row.id)
    assert (sent.state, sent.attempts, sent.last_error) == ("sent", 1, None)
    assert sent.sent_at is not None
    [attempt] = mailroom.attempts(row.id)
    assert attempt.outcome == "sent" and attempt.detail.startswith("250")

    # a sent message is not sent again
    assert outbox.deliver_due(ctx, now=utcnow() + timedelta(days=2)) == 0
    assert len(smtp_server.messages) == 1


def test_while_smtp_is_down_mail_stays_pending_and_goes_out_once_when_it_is_back(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server)
    smtp_server.stop()
    first = mailroom.enqueue(to="a@example.lv", subject="First")
    second = mailroom.enqueue(to="b@example.lv", subject="Second")
    t0 = utcnow() + timedelta(seconds=1)

    assert outbox.deliver_due(ctx, now=t0) == 0
    tried = mailroom.row(first.id)
    assert tried.state == "pending" and tried.attempts == 1
    assert tried.last_error is not None and "cannot connect" in tried.last_error
    assert tried.next_attempt_at == t0 + timedelta(minutes=1)
    [attempt] = mailroom.attempts(first.id)
    assert attempt.outcome == "failed" and "cannot connect" in attempt.detail
    # the server is not there, so the sweep did not try the next message in vain
    untouched = mailroom.row(second.id)
    assert (untouched.state, untouched.attempts) == ("pending", 0)

    assert outbox.deliver_due(ctx, now=t0 + timedelta(seconds=1)) == 0  # second: fails too
    assert mailroom.row(first.id).attempts == 1  # first: not retried before its backoff

    smtp_server.start()
    assert outbox.deliver_due(ctx, now=t0 + timedelta(seconds=59)) == 0  # nothing due yet
    assert outbox.deliver_due(ctx, now=t0 + timedelta(minutes=2)) == 2
    assert outbox.deliver_due(ctx, now=t0 + timedelta(days=1)) == 0
    assert sorted(m["Message-ID"] for m in smtp_server.messages) == sorted(
        [first.message_id, second.message_id]
    )
    delivered = mailroom.row(first.id)
    assert (delivered.state, delivered.attempts, delivered.last_error) == ("sent", 2, None)
    assert [a.outcome for a in mailroom.attempts(first.id)] == ["failed", "sent"]


def test_two_workers_at_once_deliver_each_message_exactly_once(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    rows = [mailroom.enqueue(to=f"user{i}@example.lv", subject=f"No. {i}") for i in range(30)]
    ctx = mailroom.smtp(smtp_server)
    start = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        start.wait()
        try:
            counts.append(outbox.deliver_due(ctx))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(counts) == 30
    assert outbox.deliver_due(ctx) == 0
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert sorted(ids) == sorted(r.message_id for r in rows)  # every one, none twice
    for r in rows:
        assert mailroom.row(r.id).state == "sent"
        assert [a.outcome for a in mailroom.attempts(r.id)] == ["sent"]


def test_a_message_whose_worker_died_is_sent_after_its_claim_runs_out(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server)
    dead = mailroom.enqueue(to="dead@example.lv")
    busy = mailroom.enqueue(to="busy@example.lv")
    now = utcnow()
    with make_session_factory(mailroom.engine)() as s:
        for email_id, until in (
            (dead.id, now - timedelta(seconds=1)),
            (busy.id, now + timedelta(minutes=3)),
        ):
            s.execute(
                update(OutboundEmail)
                .where(OutboundEmail.id == email_id)
                .values(state="sending", claimed_until=until)
            )
        s.commit()

    assert outbox.deliver_due(ctx, now=now) == 1
    assert [m.rcpt_tos for m in smtp_server.messages] == [["dead@example.lv"]]
    assert mailroom.row(dead.id).state == "sent"
    assert mailroom.row(busy.id).state == "sending"  # its worker may still be sending it


def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_not(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server)
    later = mailroom.enqueue(to="later@example.lv")
    t0 = utcnow() + timedelta(seconds=1)
    smtp_server.fail_next(1, "451 4.3.0 Try again later")
    assert outbox.deliver_due(ctx, now=t0) == 0
    row = mailroom.row(later.id)
    assert (row.state, row.attempts) == ("pending", 1)
    assert row.last_error is not None and "451" in row.last_error
    assert smtp_server.messages == []
    assert outbox.deliver_due(ctx, now=t0 + timedelta(minutes=1)) == 1
    assert [m["Message-ID"] for m in smtp_server.messages] == [later.message_id]

    never = mailroom.enqueue(to="never@example.lv")
    smtp_server.fail_next(1, "554 5.7.1 Message rejected")
    assert outbox.deliver_due(ctx, now=t0 + timedelta(minutes=2)) == 0
    row = mailroom.row(never.id)
    assert (row.state, row.attempts) == ("failed", 1)
    assert row.last_error is not None and "554" in row.last_error
    assert outbox.deliver_due(ctx, now=t0 + timedelta(days=2)) == 0
    assert len(smtp_server.messages) == 1


def test_retries_back_off_exponentially_and_stop_after_the_maximum(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server, mail_max_attempts=4)
    smtp_server.stop()
    row = mailroom.enqueue()
    now = utcnow() + timedelta(seconds=1)
    waits = []
    for _ in range(4):
        assert outbox.deliver_due(ctx, now=now) == 0
        after = mailroom.row(row.id)
        waits.append(after.next_attempt_at - now)
        now = after.next_attempt_at
    assert waits[:3] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert (after.state, after.attempts) == ("failed", 4)
    assert len(mailroom.attempts(row.id)) == 4
    smtp_server.start()
    assert outbox.deliver_due(ctx, now=now + timedelta(days=1)) == 0
    assert smtp_server.messages == []
    assert outbox.backoff(20) == timedelta(hours=6)


def test_starttls_is_required_unless_switched_off(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server, smtp_starttls=True)  # the loopback server has no TLS
    row = mailroom.enqueue()
    assert outbox.deliver_due(ctx) == 0
    assert smtp_server.messages == []
    after = mailroom.row(row.id)
    assert after.state == "pending"
    assert after.last_error is not None and "does not offer STARTTLS" in after.last_error


def test_the_folder_transport_writes_one_parseable_eml_per_message(mailroom: Mailroom) -> None:
    ctx = mailroom.ctx(smtp_host="")
    row = mailroom.enqueue(subject="Your code", text="Code 123456\n", html=HTML)
    assert outbox.deliver_due(ctx) == 1
    folder = ctx.settings.mail_dir
    assert [p.name for p in folder.iterdir()] == [f"{row.id}.eml"]
    msg = BytesParser(policy=policy.default).parsebytes((folder / f"{row.id}.eml").read_bytes())
    assert msg["To"] == "eriks@example.lv" and msg["Subject"] == "Your code"
    assert msg["Message-ID"] == row.message_id
    plain = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert plain is not None and "Code 123456" in plain.get_content()
    assert html is not None and "<b>Data Processing Agreement</b>" in html.get_content()
    assert mailroom.row(row.id).state == "sent"


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "eriks@example.lv, dace@example.lv",
        "Ēriks <eriks@example.lv>",
        "eriks@example.lv\r\nBcc: spy@example.com",
        "",
    ],
)
def test_enqueue_refuses_anything_but_one_plain_address(mailroom: Mailroom, address: str) -> None:
    with make_session_factory(mailroom.engine)() as session:
        with pytest.raises(outbox.InvalidEmail) as raised:
            outbox.enqueue(session=session, to=address, subject="Hi", text="x", kind="test")
        assert raised.value.status_code == 422
        assert session.query(OutboundEmail).count() == 0


def test_a_hostile_subject_cannot_add_headers_or_recipients(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    row = mailroom.enqueue(subject="DPA for Evil Ltd\r\nBcc: spy@example.com\r\n\r\nbody")
    assert outbox.deliver_due(mailroom.smtp(smtp_server)) == 1
    [msg] = smtp_server.messages
    assert msg.rcpt_tos == ["eriks@example.lv"]
    assert msg["Bcc"] is None
    assert msg["Subject"] == "DPA for Evil Ltd Bcc: spy@example.com body"
    assert mailroom.row(row.id).subject == msg["Subject"]


def test_international_addresses_are_delivered(
    mailroom: Mailroom, smtp_server: LoopbackSMTP
) -> None:
    ctx = mailroom.smtp(smtp_server)
    idn = mailroom.enqueue(to="eriks@ziemeļulogi.lv")
    utf8 = mailroom.enqueue(to="ēriks@example.lv")
    assert mailroom.row(idn.id).to_addr == "eriks@xn--ziemeulogi-iyb.lv"  # IDNA: plain SMTP
    assert outbox.deliver_due(ctx) == 2  # the UTF-8 local part needs (and gets) SMTPUTF8
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        "eriks@xn--ziemeulogi-iyb.lv",
        "ēriks@example.lv",
    ]
    assert mailroom.row(utf8.id).state == "sent"
