"""The service's own e-mail through the outbox: a signing code sent from the signing page goes out
by SMTP, and one asked for while SMTP is down goes out, once, when it is back."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dpa_service.clock import utcnow
from dpa_service.jobs.context import JobContext
from dpa_service.notify import outbox
from dpa_service.notify.models import OutboundEmail
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import WORKSPACE, Api, make_api
from tests.signing.helpers import CSRF, issue
from tests.smtp import LoopbackSMTP


@pytest.fixture
def smtp_api(smtp_server: LoopbackSMTP, pool: ConverterPool, tmp_path: Path) -> Iterator[Api]:
    (tmp_path / "data").mkdir()
    url = f"sqlite:///{tmp_path / 'data' / 'mail.sqlite3'}"
    yield from make_api(
        "sqlite",
        url,
        tmp_path,
        pool,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_starttls=False,
        mail_return_path="bounces@klusaro.com",
    )


def _ask_for_code(api: Api, workspace_id: str, to: str) -> None:
    data = {**WORKSPACE, "signatory": {**WORKSPACE["signatory"], "email": to}}
    issued = issue(api, workspace_id, data, require_code=True)
    csrf = CSRF.search(api.client.get(issued.path).text).group(1)  # type: ignore[union-attr]
    r = api.client.post(f"{issued.path}/code/send", data={"_csrf_token": csrf})
    assert r.status_code == 200


def _code_mail(api: Api, to: str) -> OutboundEmail:
    with api.session() as s:
        return s.scalars(select(OutboundEmail).where(OutboundEmail.to_addr == to)).one()


def test_a_signing_code_goes_out_by_smtp(smtp_api: Api, smtp_server: LoopbackSMTP) -> None:
    to = "code-smtp@example.lv"
    _ask_for_code(smtp_api, "ws-mail-1", to)
    [msg] = smtp_server.wait_for(lambda ms: [m for m in ms if m.rcpt_tos == [to]])
    assert msg.mail_from == "bounces@klusaro.com"
    assert re.search(r"\b\d{6}\b", msg.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    deadline = time.monotonic() + 15
    while (row := _code_mail(smtp_api, to)).state != "sent":  # recorded just after the reply
        assert time.monotonic() < deadline, f"the code e-mail stays {row.state}"
        time.sleep(0.05)
    assert msg["Message-ID"] == row.message_id and row.kind == "signing.code"


def test_a_code_asked_for_while_smtp_is_down_goes_out_once_when_it_is_back(
    smtp_api: Api, smtp_server: LoopbackSMTP
) -> None:
    smtp_server.stop()
    to = "code-down@example.lv"
    _ask_for_code(smtp_api, "ws-mail-2", to)  # the signer is not told of our SMTP trouble

    deadline = time.monotonic() + 15
    while (row := _code_mail(smtp_api, to)).attempts == 0:  # the kicked sweep tries at once
        assert time.monotonic() < deadline, "the code e-mail was never tried"
        time.sleep(0.05)
    assert row.state == "pending" and "cannot connect" in (row.last_error or "")

    smtp_server.start()
    # The app's sweep would retry after the 1-minute backoff; run a sweep as of then instead,
    # while the app's own sweep keeps running alongside.
    ctx = JobContext(smtp_api.app.state.session_factory, smtp_api.archive, smtp_api.settings)
    assert outbox.deliver_due(ctx, now=utcnow() + timedelta(minutes=2)) == 1
    assert outbox.deliver_due(ctx, now=utcnow() + timedelta(days=2)) == 0
    assert len(smtp_server.to(to)) == 1
    assert _code_mail(smtp_api, to).state == "sent"
