"""The texts of the e-mails sales flows send, in the signatory's language: the invitation to
sign (first send, resend, reminder, re-issue) and the completed copy."""

from __future__ import annotations

import html
from datetime import datetime

from dpa_service.agreements.models import AgreementVersion
from dpa_service.counterparties.models import REISSUE, REMINDER, RESEND, SEND
from dpa_service.i18n import N_, gettext_for, language_of
from dpa_service.rendering.context import format_timestamp
from dpa_service.rendering.facts import builtin_processor_profile

LEADS = {
    SEND: N_(
        "please review and sign the Data Processing Agreement between {company} (controller) "
        "and {processor} (processor), version {version}."
    ),
    RESEND: N_(
        "here is a new link to review and sign the Data Processing Agreement between {company} "
        "(controller) and {processor} (processor), version {version}."
    ),
    REMINDER: N_(
        "a reminder: the Data Processing Agreement between {company} (controller) and "
        "{processor} (processor), version {version}, is still waiting for your signature."
    ),
    REISSUE: N_(
        "Klusaro has updated the words of its Data Processing Agreement (for example its "
        "security measures or its list of subprocessors). Please review and sign the new version "
        "of the agreement between {company} (controller) and {processor} (processor), version "
        "{version}."
    ),
}
EXTRAS = {
    RESEND: N_("Links sent to you earlier no longer work."),
    REISSUE: N_("Until you sign, the agreement you signed before stays in force."),
    REMINDER: N_("The link in our latest e-mail keeps working too."),
}
SUBJECTS = {
    SEND: N_("Please sign the Data Processing Agreement for {company}"),
    RESEND: N_("Please sign the Data Processing Agreement for {company}"),
    REMINDER: N_("Reminder: please sign the Data Processing Agreement for {company}"),
    REISSUE: N_("Please sign the updated Data Processing Agreement for {company}"),
}


def _processor() -> str:
    # The processor's names are not among the values legal may leave unconfirmed.
    identity = builtin_processor_profile()["identity"]
    return f"{identity['legal_name']['value']} ({identity['trade_name']['value']})"


def invitation_message(
    version: AgreementVersion, kind: str, url: str, expires_at: datetime
) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the e-mail that asks the signatory to sign."""
    details = version.counterparty_snapshot
    language = language_of(details)
    _ = gettext_for(language)
    company, name = details["legal_name"], details["signatory"]["name"]
    values = {"company": company, "processor": _processor(), "version": version.number}
    lead = _(LEADS[kind]).format(**values)
    extra = _(EXTRAS[kind]) if kind in EXTRAS else ""
    until = format_timestamp(expires_at, language)
    works = _("The link is personal to you and works until {until}.").format(until=until)
    ignore = _(
        "If you did not expect this e-mail, you can ignore it; nothing is signed unless you sign."
    )
    subject = _(SUBJECTS[kind]).format(company=company)
    greeting = _("Dear {name},").format(name=name)
    text = (
        f"{greeting}\n\n{lead}\n\n"
        + _("Open this link to read the agreement and sign it:")
        + f"\n{url}\n\n{works}"
        + (f" {extra}" if extra else "")
        + f"\n\n{ignore}\n\n— Klusaro\n"
    )
    button = _("Review and sign the agreement")
    copy_it = _("Or copy this address into your browser:")
    e = html.escape
    body = (
        f'<!doctype html><html lang="{language}"><body style="font-family: sans-serif; '
        'line-height: 1.5">'
        f"<p>{e(greeting)}</p>"
        f"<p>{e(lead)}</p>"
        f'<p><a href="{e(url)}" style="display: inline-block; padding: .6em 1.1em; '
        f'background: #1f5fbf; color: #fff; text-decoration: none; border-radius: 4px">'
        f"{e(button)}</a></p>"
        f"<p>{e(copy_it)}<br><code>{e(url)}</code></p>"
        f"<p>{e(works)}"
        + (f" {e(extra)}" if extra else "")
        + f'</p><p style="color: #5b6573">{e(ignore)}</p><p>— Klusaro</p></body></html>'
    )
    return subject, text, body


def completed_message(
    version: AgreementVersion,
    name: str,
    url: str,
    expires_at: datetime,
    language: str,
    verify_url: str,
) -> tuple[str, str, str]:
    """The completed copy's e-mail in `language` (the recipient's); `verify_url` is the
    verification page's absolute address."""
    _ = gettext_for(language)
    company = version.counterparty_snapshot["legal_name"]
    sha = version.final_pdf_sha256 or ""
    until = format_timestamp(expires_at, language)
    greeting = _("Dear {name},").format(name=name) if name else _("Hello,")
    subject = _("Signed: the Data Processing Agreement for {company}").format(company=company)
    done = _(
        "The Data Processing Agreement for {company} (version {version}) is signed by both "
        "parties and sealed."
    ).format(company=company, version=version.number)
    download = _("Download the signed copy here (until {until}):").format(until=until)
    fingerprint = _("SHA-256 of the signed PDF:")
    check = _("Anyone can check a copy on the verification page:")
    link_text = _("Download the signed copy")
    until_text = _("until {until}").format(until=until)
    text = (
        f"{greeting}\n\n{done}\n\n{download}\n{url}\n\n{fingerprint} {sha}\n"
        f"{check}\n{verify_url}\n\n— Klusaro\n"
    )
    e = html.escape
    body = (
        f'<!doctype html><html lang="{language}"><body style="font-family: sans-serif; '
        'line-height: 1.5">'
        f"<p>{e(greeting)}</p>"
        f"<p>{e(done)}</p>"
        f'<p><a href="{e(url)}">{e(link_text)}</a> ({e(until_text)})</p>'
        f"<p>{e(fingerprint)}<br><code>{e(sha)}</code></p>"
        f'<p>{e(check)} <a href="{e(verify_url)}">{e(verify_url)}</a></p>'
        "<p>— Klusaro</p></body></html>"
    )
    return subject, text, body
