"""The e-mail telling a counterparty that the subprocessor list changed, in its language.
Pure: values in, text out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dpa_service.i18n import gettext_for
from dpa_service.rendering.context import format_date, format_timestamp
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
    language: str = "en",
) -> Message:
    _ = gettext_for(language)
    lines = [
        _("Dear {controller},").format(controller=controller) if controller else _("Hello,"),
        "",
        _(
            "Klusaro (SIA “A.U. Holding”) is changing the subprocessors that process personal "
            "data on your behalf under your Data Processing Agreement with us. The new list is "
            "version {version}. What changes:"
        ).format(version=version),
        "",
        *(f"  • {line}" for line in describe(change, language)),
        "",
        _(
            "You may object to this change until {deadline}. To object, open this link (it is "
            "personal to your organisation and works once):"
        ).format(deadline=format_timestamp(deadline, language)),
        "",
        f"  {link}",
        "",
        _(
            "If we receive no objection by then, the change is considered accepted, as agreed in "
            "the subprocessors clause of the DPA."
        ),
        "",
        _("The current list and every earlier change: {page}").format(page=public_page),
        "",
        _("Klusaro · SIA “A.U. Holding” · Brīvības iela 312-11, Rīga, LV-1006, Latvia"),
        "",
    ]
    return Message(
        subject=_("Subprocessor change (list version {version}): objections until {date}").format(
            version=version, date=format_date(deadline, language)
        ),
        text="\n".join(lines),
    )
