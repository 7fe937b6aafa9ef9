"""Outgoing e-mail. The embedded default writes each message as an .eml file to a folder."""

from __future__ import annotations

import os
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol


class Mailer(Protocol):
    def send(self, *, to: str, subject: str, text: str, html: str | None = None) -> str:
        """Send one message; returns its Message-ID."""


class FolderMailer:
    """Writes messages to `folder` (DPA_MAIL_DIR); SMTP delivery comes with the e-mail issue."""

    def __init__(self, folder: Path, sender: str = "Klusaro DPA <dpa@klusaro.com>") -> None:
        self.folder = folder
        self.sender = sender

    def send(self, *, to: str, subject: str, text: str, html: str | None = None) -> str:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain="dpa.klusaro.com")
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(msg))
        os.replace(tmp, path)
        return str(msg["Message-ID"])
