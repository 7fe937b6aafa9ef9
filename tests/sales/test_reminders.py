"""Reminders on a schedule and expiry, with a frozen clock (`now` passed to the tasks): days 3 and
7 once each, also with several workers at once; none after signing or voiding; on day 30 the
version expires and every link it was sent with stops working."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dpa_service.audit.models import AuditEvent
from dpa_service.config import Settings, SettingsError
from dpa_service.notify.models import OutboundEmail
from dpa_service.sales.reminders import send_reminders
from dpa_service.signing.service import expire_due
from tests.sales.conftest import Sales, link_in, path_of
from tests.signing.helpers import Issued, sign


def _sent(sales: Sales) -> tuple[dict[str, Any], dict[str, Any], str, datetime]:
    prospect = sales.create()
    sent = sales.send(prospect["id"])
    version = sales.version(sent["agreement_id"], sent["version"])
    assert version.sent_at is not None
    return prospect, sent, version.id, version.sent_at


def _reminder_mails(sales: Sales, agreement_id: str) -> list[OutboundEmail]:
    with sales.api.session() as s:
        return list(
            s.scalars(
                select(OutboundEmail)
                .where(OutboundEmail.ref == agreement_id, OutboundEmail.kind == "dpa.reminder")
                .order_by(OutboundEmail.created_at)
            )
        )


def _events(sales: Sales, agreement_id: str, type_: str) -> list[AuditEvent]:
    with sales.api.session() as s:
        return list(
            s.scalars(
                select(AuditEvent)
                .where(AuditEvent.agreement_id == agreement_id, AuditEvent.type == type_)
                .order_by(AuditEvent.seq)
            )
        )


def test_reminders_on_days_3_and_7_then_expiry_on_day_30(sales: Sales) -> None:
    prospect, sent, version_id, t0 = _sent(sales)
    to = prospect["details"]["signatory"]["email"]
    ctx = sales.ctx(reminder_days="3,7")
    day = lambda n: t0 + timedelta(days=n)  # noqa: E731

    assert send_reminders(ctx, now=day(3) - timedelta(seconds=1)) == 0
    assert send_reminders(ctx, now=day(3)) == 1
    assert send_reminders(ctx, now=day(3)) == 0  # the same pass again: nothing more
    assert send_reminders(ctx, now=day(6)) == 0
    assert send_reminders(ctx, now=day(7)) == 1
    assert send_reminders(ctx, now=day(7) + timedelta(hours=5)) == 0
    assert send_reminders(ctx, now=day(20)) == 0  # the schedule is done

    assert [i.reminder_number for i in sales.invitations(version_id)] == [None, 1, 2]
    events = _events(sales, sent["agreement_id"], "reminder.sent")
    assert [(e.data["number"], e.actor) for e in events] == [
        (1, "system (reminder schedule)"),
        (2, "system (reminder schedule)"),
    ]
    msgs = sales.mail_to(to, 3)
    assert len(msgs) == 3
    assert [m["Subject"].startswith("Reminder:") for m in msgs] == [False, True, True]
    links = [link_in(m) for m in msgs]
    assert len(set(links)) == 3
    assert all(sales.client.get(path_of(url)).status_code == 200 for url in links)

    # Day 30: the version expires, and with it every link it was sent with.
    with sales.api.session() as s:
        assert expire_due(session=s, now=day(30) - timedelta(seconds=1)) == []
        assert expire_due(session=s, now=day(30)) == [version_id]
        s.commit()
    assert sales.show(prospect["id"])["latest"]["state"] == "expired"
    for url in links:
        page = sales.client.get(path_of(url))
        assert page.status_code == 410 and "expired" in page.text
    [expired] = _events(sales, sent["agreement_id"], "version.expired")
    assert expired.actor == "system"
    assert sales.show(prospect["id"])["latest"]["actors"]["expired"] == "system"
    assert send_reminders(ctx, now=day(31)) == 0
    assert len(_reminder_mails(sales, sent["agreement_id"])) == 2


def test_workers_running_at_once_send_each_reminder_once(sales: Sales) -> None:
    prospect, sent, version_id, t0 = _sent(sales)
    ctx = sales.ctx(reminder_days="3,7")

    def race(at: datetime, workers: int = 4) -> list[int]:
        barrier = threading.Barrier(workers)
        results: list[int] = []
        errors: list[BaseException] = []

        def run() -> None:
            barrier.wait()
            try:
                results.append(send_reminders(ctx, now=at))
            except BaseException as exc:  # surfaced below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        return results

    assert sorted(race(t0 + timedelta(days=3))) == [0, 0, 0, 1]
    assert sorted(race(t0 + timedelta(days=7, minutes=1))) == [0, 0, 0, 1]
    assert [i.reminder_number for i in sales.invitations(version_id)] == [None, 1, 2]
    assert len(_reminder_mails(sales, sent["agreement_id"])) == 2
    to = prospect["details"]["signatory"]["email"]
    sales.mail_to(to, 3)
    assert len(sales.smtp.to(to)) == 3


def test_a_late_pass_sends_only_the_latest_reminder(sales: Sales) -> None:
    _, sent, version_id, t0 = _sent(sales)
    ctx = sales.ctx(reminder_days="3,7")
    assert send_reminders(ctx, now=t0 + timedelta(days=8)) == 1  # the service was down
    assert send_reminders(ctx, now=t0 + timedelta(days=9)) == 0
    assert [i.reminder_number for i in sales.invitations(version_id)] == [None, 2]


def test_no_reminder_after_signing(sales: Sales) -> None:
    prospect, sent, version_id, t0 = _sent(sales)
    to = prospect["details"]["signatory"]["email"]
    url = link_in(sales.mail_to(to)[0])
    issued = Issued(sent["agreement_id"], sent["version"], sent["sha256"], url)
    assert sign(sales.api, issued).status_code == 303
    ctx = sales.ctx(reminder_days="3,7")
    for days in (3, 7, 8):
        assert send_reminders(ctx, now=t0 + timedelta(days=days)) == 0
    assert _reminder_mails(sales, sent["agreement_id"]) == []
    assert _events(sales, sent["agreement_id"], "reminder.sent") == []


def test_no_reminder_after_voiding_nor_without_a_schedule(sales: Sales) -> None:
    prospect, sent, _, t0 = _sent(sales)
    assert send_reminders(sales.ctx(reminder_days=""), now=t0 + timedelta(days=8)) == 0
    assert sales.act(prospect["id"], "void", {"reason": "Deal lost"}).status_code == 200
    assert send_reminders(sales.ctx(reminder_days="3,7"), now=t0 + timedelta(days=8)) == 0
    assert _reminder_mails(sales, sent["agreement_id"]) == []


def test_the_embedded_flow_gets_no_reminders(sales: Sales) -> None:
    """Links the Klusaro app hands out were not e-mailed by us: nobody is reminded by mail."""
    from tests.sales.conftest import prospect_details
    from tests.signing.helpers import issue

    issued = issue(sales.api, "ws-no-reminders", prospect_details())
    version = sales.version(issued.agreement_id, issued.version)
    assert version.sent_at is not None
    assert send_reminders(sales.ctx(), now=version.sent_at + timedelta(days=8)) == 0


@pytest.mark.parametrize(
    ("value", "days"), [("3,7", (3, 7)), (" 7, 3,3 ", (3, 7)), ("", ()), ("5", (5,))]
)
def test_the_schedule_setting(value: str, days: tuple[int, ...]) -> None:
    assert Settings(reminder_days=value).reminder_schedule == days


@pytest.mark.parametrize("value", ["three", "3;7", "0", "-1", "400", "2.5"])
def test_a_bad_schedule_is_refused_with_the_variable_named(value: str) -> None:
    with pytest.raises(SettingsError, match="DPA_REMINDER_DAYS"):
        Settings(reminder_days=value)  # refused when the settings are read, at start
