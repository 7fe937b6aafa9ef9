"""Handing one message over: to an SMTP server (DPA_SMTP_*), or as an .eml file to a folder."""

from __future__ import annotations

import email.policy
import os
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from dpa_service.config import Settings


class DeliveryError(Exception):
    """A message was not handed over. `permanent`: the server refused this message for good
    (a 5xx to RCPT or DATA), so retrying is pointless. `connection`: the server could not be
    reached or set up, so the other messages of this sweep would fail the same way."""

    def __init__(self, detail: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.connection = connection


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def envelope_sender(settings: Settings) -> str:
    """The bounce address (SMTP MAIL FROM): DPA_MAIL_RETURN_PATH, else DPA_MAIL_FROM's address."""
    return settings.mail_return_path or parseaddr(settings.mail_from)[1]


class Transport(Protocol):
    def send(self, msg: EmailMessage, *, envelope_from: str, to: str, key: str) -> str:
        """Hand `msg` over; returns what the other side answered. Raises DeliveryError."""

    def close(self) -> None: ...


class FolderTransport:
    """The embedded default: each message becomes `<key>.eml` in DPA_MAIL_DIR. The file is
    written under a temporary name and renamed, so a reader never sees half a message, and a
    retry of the same message replaces its file rather than adding a second one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, msg: EmailMessage, *, envelope_from: str, to: str, key: str) -> str:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            path = self.folder / f"{key}.eml"
            tmp = path.with_suffix(".tmp")
            # codes and signing links are bearer secrets: the file is the service user's only
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(msg.as_bytes(policy=email.policy.SMTPUTF8))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            raise DeliveryError(f"cannot write to {self.folder}: {exc}", connection=True) from exc
        return f"written to {path}"

    def close(self) -> None:
        pass


class SmtpTransport:
    """smtplib, one connection per sweep (opened on first use, checked with NOOP before reuse).

    With DPA_SMTP_STARTTLS (the default) a server that does not offer STARTTLS is refused rather
    than sent to in clear text; DPA_SMTP_SSL connects with TLS from the start (port 465)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        try:
            conn: smtplib.SMTP
            if s.smtp_ssl:
                conn = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s, context=context
                )
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(
                f"cannot connect to {s.smtp_host}:{s.smtp_port}: {exc}", connection=True
            ) from exc
        try:
            conn.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                if not conn.has_extn("starttls"):
                    raise DeliveryError(
                        f"{s.smtp_host}:{s.smtp_port} does not offer STARTTLS; not sending in "
                        "clear text (DPA_SMTP_STARTTLS=false allows it)",
                        connection=True,
                    )
                conn.starttls(context=context)
                conn.ehlo()
            if s.smtp_username:
                conn.login(s.smtp_username, s.smtp_password)
        except DeliveryError:
            conn.close()
            raise
        except (OSError, smtplib.SMTPException) as exc:
            conn.close()
            raise DeliveryError(
                f"cannot set up SMTP with {s.smtp_host}:{s.smtp_port}: {exc}", connection=True
            ) from exc
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            try:
                if self._conn.noop()[0] == 250:
                    return self._conn
            except (OSError, smtplib.SMTPException):
                pass
            self.close()
        self._conn = self._connect()
        return self._conn

    def send(self, msg: EmailMessage, *, envelope_from: str, to: str, key: str) -> str:
        conn = self._connection()
        options: list[str] = []
        if to.isascii() and envelope_from.isascii():
            data = msg.as_bytes(policy=email.policy.SMTP)
        else:
            if not conn.has_extn("smtputf8"):
                raise DeliveryError(
                    f"{to} needs SMTPUTF8, which the server does not offer", permanent=True
                )
            options = ["SMTPUTF8", "BODY=8BITMIME"]
            data = msg.as_bytes(policy=email.policy.SMTPUTF8)
        try:
            code, reply = conn.mail(envelope_from, options)
            if code != 250:
                self._reset()
                raise DeliveryError(f"MAIL FROM refused: {code} {_text(reply)}")
            code, reply = conn.rcpt(to)
            if code not in (250, 251):
                self._reset()
                raise DeliveryError(
                    f"RCPT TO refused: {code} {_text(reply)}", permanent=code >= 500
                )
            code, reply = conn.data(data)
            if code != 250:
                raise DeliveryError(
                    f"message refused: {code} {_text(reply)}", permanent=code >= 500
                )
        except smtplib.SMTPResponseException as exc:  # DATA itself was refused
            self._reset()
            raise DeliveryError(
                f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise DeliveryError(f"connection lost while sending: {exc}") from exc
        return f"{code} {_text(reply)}"

    def _reset(self) -> None:
        try:
            if self._conn is not None:
                self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self.close()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def make_transport(settings: Settings) -> Transport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FolderTransport(settings.mail_dir)
