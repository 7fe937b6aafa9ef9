"""An app per backend that delivers e-mail to a loopback SMTP server, and helpers to make
prospects, send their DPA and read the messages the signatory receives."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dpa_service.agreements.models import AgreementVersion
from dpa_service.counterparties.models import SigningInvitation
from dpa_service.jobs.context import JobContext
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import WORKSPACE, Api, own_api
from tests.smtp import LoopbackSMTP, ReceivedMessage

LINK = re.compile(r"http://[^\s\"<>]+/sign/[A-Za-z0-9_-]+(?:/done)?")


def prospect_details(**changes: Any) -> dict[str, Any]:
    """Company details of a prospect; the signatory's address is unique per call."""
    data = copy.deepcopy(WORKSPACE)
    data["legal_name"] = f"SIA Jūras Vējš {uuid.uuid4().hex[:6]}"
    data["signatory"] = {
        "name": "Līga Bērziņa",
        "title": "Valdes locekle",
        "email": f"liga.{uuid.uuid4().hex[:8]}@example.lv",
    }
    data.update(changes)
    return data


@dataclass
class Sales:
    api: Api
    smtp: LoopbackSMTP

    @property
    def client(self) -> Any:
        return self.api.client

    def create(self, data: dict[str, Any] | None = None, role: str = "sales") -> dict[str, Any]:
        r = self.client.post(
            "/api/v1/prospects", json=data or prospect_details(), headers=self.api.headers(role)
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def act(self, prospect_id: str, action: str, body: Any = None, role: str = "sales") -> Any:
        return self.client.post(
            f"/api/v1/prospects/{prospect_id}/{action}", json=body, headers=self.api.headers(role)
        )

    def show(self, prospect_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/prospects/{prospect_id}", headers=self.api.headers("sales"))
        assert r.status_code == 200, r.text
        return dict(r.json())

    def send(self, prospect_id: str) -> dict[str, Any]:
        r = self.act(prospect_id, "send")
        assert r.status_code == 201, r.text
        return dict(r.json())

    def mail_to(self, address: str, count: int = 1, timeout: float = 20) -> list[ReceivedMessage]:
        """Wait until `address` has received `count` messages; return them in order."""
        self.smtp.wait_for(lambda _: len(self.smtp.to(address)) >= count, timeout)
        return self.smtp.to(address)

    def ctx(self, **changes: Any) -> JobContext:
        from dpa_service.db import make_session_factory

        return JobContext(
            make_session_factory(self.api.engine),
            self.api.archive,
            self.api.settings.with_(**changes),
        )

    def version(self, agreement_id: str, number: int) -> AgreementVersion:
        from sqlalchemy import select

        with self.api.session() as s:
            return s.scalars(
                select(AgreementVersion).where(
                    AgreementVersion.agreement_id == agreement_id,
                    AgreementVersion.number == number,
                )
            ).one()

    def invitations(self, version_id: str) -> list[SigningInvitation]:
        from sqlalchemy import select

        with self.api.session() as s:
            return list(
                s.scalars(
                    select(SigningInvitation)
                    .where(SigningInvitation.version_id == version_id)
                    .order_by(SigningInvitation.created_at)
                )
            )


def parts(msg: ReceivedMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a message."""
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    return (text.get_content() if text else ""), (html.get_content() if html else "")


def link_in(msg: ReceivedMessage) -> str:
    """The signing link of a message (the same in its text and HTML parts)."""
    text, html = parts(msg)
    found = LINK.findall(text)
    assert found, f"no link in the message: {text!r}"
    assert found[0] in html
    return found[0]


def path_of(url: str) -> str:
    return "/sign/" + url.split("/sign/", 1)[1]


def days_later(start: datetime, days: float) -> datetime:
    from datetime import timedelta

    return start + timedelta(days=days)


@pytest.fixture(scope="module")
def smtp() -> Iterator[LoopbackSMTP]:
    server = LoopbackSMTP()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def sales(
    request: pytest.FixtureRequest,
    pool: ConverterPool,
    smtp: LoopbackSMTP,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Sales]:
    """The app on a database of its own, mailing through the module's loopback SMTP server."""
    tmp: Path = tmp_path_factory.mktemp(f"sales-{request.param}")
    overrides = {"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_starttls": False}
    for api in own_api(request.param, pool, tmp, **overrides):
        yield Sales(api, smtp)
