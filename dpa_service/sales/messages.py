"""The texts of the e-mails sales flows send: the invitation to sign (first send, resend,
reminder, re-issue) and the completed copy."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING

from dpa_service.agreements.models import AgreementVersion
from dpa_service.clock import utc_label
from dpa_service.counterparties.models import REISSUE, REMINDER, RESEND, SEND
from dpa_service.rendering.context import PROCESSOR

if TYPE_CHECKING:
    pass


def invitation_message(
    version: AgreementVersion, kind: str, url: str, expires_at: datetime
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail that asks the signatory to sign."""
    details = version.counterparty_snapshot
    company, name = details["legal_name"], details["signatory"]["name"]
    processor = f"{PROCESSOR['legal_name']} ({PROCESSOR['trade_name']})"
    lead = {
        SEND: "please review and sign the Data Processing Agreement between",
        RESEND: "here is a new link to review and sign the Data Processing Agreement between",
        REMINDER: "a reminder: the Data Processing Agreement is still waiting for your signature,"
        " between",
        REISSUE: "Klusaro has updated the words of its Data Processing Agreement (for example its"
        " security measures or its list of subprocessors). Please review and sign the new"
        " version of the agreement between",
    }[kind]
    extra = (
        "Links sent to you earlier no longer work."
        if kind == RESEND
        else "Until you sign, the agreement you signed before stays in force."
        if kind == REISSUE
        else "The link in our latest e-mail keeps working too."
        if kind == REMINDER
        else ""
    )
    subject = (
        f"{'Reminder: p' if kind == REMINDER else 'P'}lease sign the "
        f"{'updated ' if kind == REISSUE else ''}Data Processing Agreement for {company}"
    )
    text = (
        f"Dear {name},\n\n"
        f"{lead} {company} (controller) and {processor} (processor), "
        f"version {version.number}.\n\n"
        f"Open this link to read the agreement and sign it:\n{url}\n\n"
        f"The link is personal to you and works until {utc_label(expires_at)}."
        + (f" {extra}" if extra else "")
        + "\n\nIf you did not expect this e-mail, you can ignore it; nothing is signed unless "
        "you sign.\n\n— Klusaro\n"
    )
    e = html.escape
    body = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p>Dear {e(name)},</p>"
        f"<p>{e(lead)} <strong>{e(company)}</strong> (controller) and {e(processor)} "
        f"(processor), version {version.number}.</p>"
        f'<p><a href="{e(url)}" style="display: inline-block; padding: .6em 1.1em; '
        f'background: #1f5fbf; color: #fff; text-decoration: none; border-radius: 4px">'
        "Review and sign the agreement</a></p>"
        f"<p>Or copy this address into your browser:<br><code>{e(url)}</code></p>"
        f"<p>The link is personal to you and works until {e(utc_label(expires_at))}."
        + (f" {e(extra)}" if extra else "")
        + '</p><p style="color: #5b6573">If you did not expect this e-mail, you can ignore it;'
        " nothing is signed unless you sign.</p><p>— Klusaro</p></body></html>"
    )
    return subject, text, body


def completed_message(
    version: AgreementVersion, name: str, url: str, expires_at: datetime
) -> tuple[str, str, str]:
    company = version.counterparty_snapshot["legal_name"]
    sha = version.final_pdf_sha256 or ""
    greeting = f"Dear {name}," if name else "Hello,"
    subject = f"Signed: the Data Processing Agreement for {company}"
    text = (
        f"{greeting}\n\n"
        f"The Data Processing Agreement for {company} (version {version.number}) is signed by "
        f"both parties and sealed.\n\nDownload the signed copy here (until {utc_label(expires_at)}):\n"
        f"{url}\n\nSHA-256 of the signed PDF: {sha}\n"
        "Anyone can check a copy on the verification page.\n\n— Klusaro\n"
    )
    e = html.escape
    body = (
        '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">'
        f"<p>{e(greeting)}</p>"
        f"<p>The Data Processing Agreement for <strong>{e(company)}</strong> (version "
        f"{version.number}) is signed by both parties and sealed.</p>"
        f'<p><a href="{e(url)}">Download the signed copy</a> (until {e(utc_label(expires_at))})</p>'
        f"<p>SHA-256 of the signed PDF:<br><code>{e(sha)}</code></p>"
        "<p>— Klusaro</p></body></html>"
    )
    return subject, text, body
