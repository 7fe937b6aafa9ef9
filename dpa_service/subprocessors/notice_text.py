"""The e-mail telling a counterparty that the subprocessor list changed. Pure: values in, text out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dpa_service.subprocessors.entries import describe


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str | None = None


def compose(
    *,
    controller: str,
    version: int,
    change: Mapping[str, Any],
    deadline: datetime,
    link: str,
    public_page: str,
) -> Message:
    when = f"{deadline:%-d %B %Y, %H:%M} UTC"
    lines = [
        f"Dear {controller}," if controller else "Hello,",
        "",
        "Klusaro (SIA “A.U. Holding”) is changing the subprocessors that process personal data "
        "on your behalf under your Data Processing Agreement with us. The new list is version "
        f"{version}. What changes:",
        "",
        *(f"  • {line}" for line in describe(change)),
        "",
        f"You may object to this change until {when}. To object, open this link (it is "
        "personal to your organisation and works once):",
        "",
        f"  {link}",
        "",
        "If we receive no objection by then, the change is considered accepted, as agreed in "
        "the subprocessors clause of the DPA.",
        "",
        f"The current list and every earlier change: {public_page}",
        "",
        "Klusaro · SIA “A.U. Holding” · Brivibas street 312-11, Riga, LV-1006, Latvia",
        "",
    ]
    return Message(
        subject=f"Subprocessor change (list version {version}): objections until "
        f"{deadline:%-d %B %Y}",
        text="\n".join(lines),
    )
