"""Signer links, one-time codes, and the controller's sign / decline; void and expiry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from PIL import Image
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dpa_service import audit
from dpa_service.agreements import lifecycle
from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.agreements.service import ApprovedWords, get_version
from dpa_service.clock import iso, utcnow
from dpa_service.config import Settings
from dpa_service.counterparties.models import Counterparty
from dpa_service.db import changed_rows, savepoint
from dpa_service.errors import Conflict, DomainError, NotFound, Unprocessable
from dpa_service.i18n import N_, gettext_for, language_of
from dpa_service.metrics import SIGNING_SECONDS
from dpa_service.notify import outbox
from dpa_service.profile.service import refusal
from dpa_service.signing.disclosure import disclosure_sha256, disclosure_version
from dpa_service.signing.links import find_link, issue_link, revoke_links
from dpa_service.signing.models import Signature, SigningCode, SigningLink
from dpa_service.text import describe_character, has_control_characters, refused_character

CODE_TTL = timedelta(minutes=10)
CODE_ATTEMPTS = 5
MAX_CODES_PER_LINK = 5
MAX_DRAWING_BYTES = 300_000


class LinkRefused(DomainError):
    """The link cannot be used: `reason` is unknown, expired, revoked, used or closed.
    `language` is the counterparty's, where the link was known. `detail` is an English
    message id of the catalogue (the pages show its translation)."""

    status_code = 404

    def __init__(self, reason: str, detail: str, language: str | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.language = language
        self.status_code = 404 if reason == "unknown" else 410


class SigningRefused(DomainError):
    """The signing request itself is not acceptable (422) or no longer possible (409).
    `detail` is an English message id of the catalogue (the pages show its translation)."""

    def __init__(self, detail: str, status_code: int = 422) -> None:
        super().__init__(detail)
        self.status_code = status_code


EMBEDDED_LINK = N_("Embedded link (Klusaro app)")
EMAIL_LINK = N_("E-mail link")
EMAILED_CODE = N_("e-mailed one-time code")


@dataclass(frozen=True)
class LinkAccess:
    link: SigningLink
    version: AgreementVersion
    agreement: Agreement
    counterparty: Counterparty

    @property
    def auth_method(self) -> str:
        """How the signer was identified, in English (the certificate translates each part)."""
        base = EMBEDDED_LINK if self.link.kind == "embedded" else EMAIL_LINK
        return f"{base} + {EMAILED_CODE}" if self.link.require_code else base


def create_link(
    *,
    session: Session,
    agreement_id: str,
    number: int,
    embedded: bool,
    require_code: bool,
    actor: str,
    settings: Settings,
    workspace_id: str | None = None,
    requested_by: str | None = None,
    now: datetime | None = None,
) -> tuple[SigningLink, str]:
    """A new link for the controller's signatory; a draft version becomes sent.
    `requested_by`: the person the caller names as asking for the signature (recorded)."""
    now = now or utcnow()
    version = get_version(session=session, agreement_id=agreement_id, number=number)
    agreement = session.get(Agreement, agreement_id)
    assert agreement is not None
    counterparty = session.get(Counterparty, agreement.counterparty_id)
    assert counterparty is not None
    if workspace_id is not None and counterparty.external_id != workspace_id:
        # An embedded link is bound to one workspace: never hand out another's agreement.
        raise NotFound(f"agreement {agreement_id!r} does not belong to workspace {workspace_id!r}")
    if version.state not in ("draft", "sent", "viewed"):
        raise Conflict(f"version {number} is {version.state}; links are only for unsigned versions")
    newest = max(v.number for v in agreement.versions)
    if version.number != newest:
        raise Conflict(f"version {number} is not the newest version ({newest})")
    require_confirmed(version)
    if version.state == "draft" and ApprovedWords.now(session).outdate(version):
        # The next request replaces this draft (agreements.service.request_dpa_for): sending it
        # would hand out words, a subprocessor list or a profile that are no longer approved.
        raise Conflict(
            f"version {number} was made from a template, subprocessor list or processor profile "
            "that is no longer the approved one; request the DPA again for a new version"
        )
    if version.state == "draft":
        lifecycle.transition(
            session=session,
            version=version,
            to="sent",
            actor=actor,
            extra={"expires_at": now + timedelta(days=settings.signing_expiry_days)},
            now=now,
        )
    assert version.expires_at is not None
    ttl = timedelta(minutes=settings.embedded_link_minutes) if embedded else None
    expires = min(now + ttl, version.expires_at) if ttl else version.expires_at
    link, secret = issue_link(
        session=session,
        version=version,
        counterparty_id=counterparty.id,
        kind="embedded" if embedded else "email",
        require_code=require_code or settings.signing_code_required,
        created_by=actor,
        expires_at=expires,
    )
    audit.record(
        session=session,
        agreement_id=agreement_id,
        version=number,
        type="link.created",
        actor=actor,
        data={
            "link_id": link.id,
            "kind": link.kind,
            "expires_at": iso(expires),
            "require_code": link.require_code,
            **({"requested_by": requested_by} if requested_by else {}),
        },
    )
    return link, secret


def require_confirmed(version: AgreementVersion) -> None:
    """Every way a DPA goes out for signature passes here (the app's links, sales e-mails,
    resends, reminders, re-issue invitations): a DPA that prints processor profile values legal
    has not confirmed is a draft for review, never sent (409 naming the values)."""
    if version.unconfirmed:
        raise Conflict(refusal(list(version.unconfirmed), version.processor_profile_version or 0))


def open_link(
    *, session: Session, secret: str, for_action: bool = True, now: datetime | None = None
) -> LinkAccess:
    """Find the link a token names, or refuse with the reason a signer should read."""
    now = now or utcnow()
    link = find_link(session=session, secret=secret)
    if link is None:
        raise LinkRefused("unknown", N_("This signing link is not valid."))
    version = session.get(AgreementVersion, link.version_id)
    agreement = session.get(Agreement, link.agreement_id)
    counterparty = session.get(Counterparty, link.counterparty_id)
    assert version is not None and agreement is not None and counterparty is not None
    if agreement.counterparty_id != counterparty.id or version.agreement_id != agreement.id:
        raise LinkRefused("unknown", N_("This signing link is not valid."))
    language = language_of(version.counterparty_snapshot)
    if version.state == "expired" or link.expires_at <= now:
        raise LinkRefused(
            "expired", N_("This signing link has expired. Ask the sender for a new one."), language
        )
    if link.revoked_at is not None and link.used_at is None:
        raise LinkRefused("revoked", N_("This signing link was withdrawn by the sender."), language)
    access = LinkAccess(link, version, agreement, counterparty)
    if for_action:
        if link.used_at is not None:
            raise LinkRefused("used", N_("This signing link has already been used."), language)
        if version.state not in lifecycle.OPEN_FOR_SIGNING:
            raise LinkRefused(
                "closed", N_("This version of the agreement can no longer be signed."), language
            )
    return access


def record_view(
    *, session: Session, access: LinkAccess, ip: str | None, user_agent: str | None
) -> None:
    if access.version.state == "sent":
        lifecycle.transition(
            session=session,
            version=access.version,
            to="viewed",
            actor=f"signer via link {access.link.id[:8]}",
            data={"ip": ip, "user_agent": user_agent},
        )


# -- one-time codes ----------------------------------------------------------------------------


def code_cookie_value(access: LinkAccess, secret_key: str) -> str:
    """What the browser holds after entering the right code: an HMAC bound to the link."""
    return hmac.new(secret_key.encode(), f"code-ok:{access.link.id}".encode(), "sha256").hexdigest()


def send_code(*, session: Session, access: LinkAccess, now: datetime | None = None) -> None:
    now = now or utcnow()
    sent = session.scalar(
        select(func.count()).select_from(SigningCode).where(SigningCode.link_id == access.link.id)
    )
    if (sent or 0) >= MAX_CODES_PER_LINK:
        raise SigningRefused(
            N_("Too many codes were sent for this link; ask the sender for a new link."), 429
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        SigningCode(
            link_id=access.link.id,
            code_hash=hashlib.sha256(f"{access.link.id}:{code}".encode()).hexdigest(),
            expires_at=now + CODE_TTL,
        )
    )
    email = access.counterparty.details["signatory"]["email"]
    _ = gettext_for(language_of(access.version.counterparty_snapshot))
    outbox.enqueue(
        session=session,
        to=email,
        subject=_("Your code for signing the Klusaro Data Processing Agreement"),
        text=_("Your one-time code is {code}. It is valid for 10 minutes.").format(code=code)
        + "\n",
        kind="signing.code",
        ref=access.agreement.id,
    )
    audit.record(
        session=session,
        agreement_id=access.agreement.id,
        version=access.version.number,
        type="code.sent",
        actor="system",
        data={"to": email},
    )


def check_code(
    *, session: Session, access: LinkAccess, code: str, now: datetime | None = None
) -> bool:
    """True when `code` is the newest unexpired code; each try counts, five at most."""
    now = now or utcnow()
    row = session.scalars(
        select(SigningCode)
        .where(SigningCode.link_id == access.link.id)
        .order_by(SigningCode.created_at.desc())
        .limit(1)
    ).first()
    if row is None or row.expires_at <= now:
        return False
    # Counted in the database, not in Python: parallel guesses each use up a try.
    counted = changed_rows(
        session,
        update(SigningCode)
        .where(SigningCode.id == row.id, SigningCode.attempts < CODE_ATTEMPTS)
        .values(attempts=SigningCode.attempts + 1),
    )
    if not counted:
        return False
    session.refresh(row)
    expected = hashlib.sha256(f"{access.link.id}:{code.strip()}".encode()).hexdigest()
    ok = hmac.compare_digest(expected, row.code_hash)
    if ok:
        row.verified_at = now
    audit.record(
        session=session,
        agreement_id=access.agreement.id,
        version=access.version.number,
        type="code.verified" if ok else "code.failed",
        actor="signer",
        data={"attempt": row.attempts},
    )
    return ok


# -- signing ------------------------------------------------------------------------------------


MAX_DRAWING_PIXELS = 2000 * 1000


def decode_drawing(data_url: str | None) -> bytes | None:
    """A drawn signature arrives as a PNG data URL from the canvas. It is decoded and encoded
    again, so what is stored and later placed in the PDF is a PNG we made ourselves."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix) or len(data_url) > MAX_DRAWING_BYTES * 4 // 3 + 100:
        raise SigningRefused(N_("The drawn signature must be a PNG image of at most 300 KB."))
    try:
        png = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError):
        raise SigningRefused(N_("The drawn signature is not valid base64.")) from None
    if not png.startswith(b"\x89PNG\r\n\x1a\n"):
        raise SigningRefused(N_("The drawn signature is not a PNG image."))
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_DRAWING_PIXELS:
                raise SigningRefused(N_("The drawn signature is too large."))
            image.load()
            clean = image.convert("RGBA")
        out = io.BytesIO()
        clean.save(out, format="PNG", optimize=True)
    except SigningRefused:
        raise
    except Exception:  # Pillow raises many kinds for a damaged file
        raise SigningRefused(N_("The drawn signature is not a readable PNG image.")) from None
    return out.getvalue()


def _use_link(session: Session, link: SigningLink, now: datetime) -> None:
    used = changed_rows(
        session,
        update(SigningLink)
        .where(SigningLink.id == link.id, SigningLink.used_at.is_(None))
        .values(used_at=now),
    )
    if used != 1:
        raise Conflict(N_("This link has just been used by another request."))
    link.used_at = now


@SIGNING_SECONDS.labels("sign").time()
def sign(
    *,
    session: Session,
    access: LinkAccess,
    typed_name: str,
    title: str | None,
    drawing: bytes | None,
    consented: bool,
    shown_sha256: str,
    code_verified: bool,
    ip: str | None,
    user_agent: str | None,
    consented_at: datetime | None = None,
    shown_disclosure: str | None = None,
    now: datetime | None = None,
) -> Signature:
    """The controller signs the exact bytes they were shown; one winner, the rest get 409.

    `shown_disclosure` is the disclosure version the page showed (None: the current one); a
    page loaded before the disclosure changed must be reloaded, so that the consent recorded
    is to the words that were read.
    """
    now = now or utcnow()
    version = access.version
    if not consented:
        raise SigningRefused(N_("Please confirm that you agree to sign electronically."))
    details = version.counterparty_snapshot
    disclosure = disclosure_version(language_of(details))
    if shown_disclosure and shown_disclosure != disclosure:
        raise SigningRefused(
            N_(
                "The e-signature disclosure was updated after this page was loaded; reload the "
                "page and read it again."
            ),
            409,
        )
    # The character first: has_control_characters refuses bidi controls too, and the signer
    # is told which character to leave out rather than to type their name.
    for field, text in (("your name", typed_name), ("your title", title or "")):
        if (char := refused_character(text)) is not None:
            raise SigningRefused(
                f"{field} contains {describe_character(char)}, which cannot be printed as "
                "typed; please type it again without it"
            )
    name = " ".join(typed_name.split())
    if not name or len(name) > 300 or has_control_characters(typed_name):
        raise SigningRefused(N_("Please type your full name (at most 300 characters)."))
    if access.link.require_code and not code_verified:
        raise SigningRefused(N_("Enter the one-time code we e-mailed you first."), 403)
    if shown_sha256 != version.draft_pdf_sha256:
        raise SigningRefused(
            N_(
                "The document changed since it was shown to you; reload the page and review it "
                "again."
            ),
            409,
        )
    if access.counterparty.details_sha256 != version.counterparty_sha256:
        raise SigningRefused(
            N_(
                "The company details changed since this version was made; a new version must be "
                "issued before signing."
            ),
            409,
        )
    _use_link(session, access.link, now)
    signature = Signature(
        version_id=version.id,
        party="controller",
        link_id=access.link.id,
        name=name,
        title=(title or details["signatory"]["title"])[:300],
        email=details["signatory"]["email"],
        organisation=details["legal_name"],
        drawn_png=drawing,
        auth_method=access.auth_method,
        actor=f"signer via link {access.link.id[:8]}",
        ip=ip,
        user_agent=(user_agent or "")[:1000] or None,
        consent_text_version=disclosure,
        consented_at=consented_at or now,
        signed_at=now,
        document_sha256=shown_sha256,
    )
    session.add(signature)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(N_("This version has already been signed.")) from None
    audit.record(
        session=session,
        agreement_id=access.agreement.id,
        version=version.number,
        type="consented",
        actor=signature.actor,
        data={
            "disclosure_version": disclosure,
            "disclosure_sha256": disclosure_sha256(disclosure),
            "ip": ip,
        },
    )
    lifecycle.transition(
        session=session,
        version=version,
        to="signed",
        actor=signature.actor,
        data={
            "signature_id": signature.id,
            "name": name,
            "document_sha256": shown_sha256,
            "auth_method": signature.auth_method,
            "ip": ip,
            "user_agent": signature.user_agent,
            "drawn": drawing is not None,
        },
        now=now,
    )
    return signature


def decline(
    *, session: Session, access: LinkAccess, reason: str, ip: str | None, user_agent: str | None
) -> None:
    if has_control_characters(reason, multiline=True):
        raise SigningRefused(
            N_("The reason may not contain control characters or text-direction marks.")
        )
    reason = " ".join(reason.split())
    if not reason or len(reason) > 1000:
        raise SigningRefused(N_("Please give a reason (at most 1000 characters)."))
    now = utcnow()
    _use_link(session, access.link, now)
    lifecycle.transition(
        session=session,
        version=access.version,
        to="declined",
        actor=f"signer via link {access.link.id[:8]}",
        reason=reason,
        data={"ip": ip, "user_agent": user_agent},
        now=now,
    )
    revoke_links(session, access.version.id, now, keep=access.link.id)


def void(
    *, session: Session, agreement_id: str, number: int, reason: str, actor: str
) -> AgreementVersion:
    if has_control_characters(reason, multiline=True):
        raise Unprocessable("the reason may not contain control characters or text-direction marks")
    reason = reason.strip()
    if not reason or len(reason) > 1000:  # as VoidRequest's pattern and the staff page say
        raise Unprocessable("give a reason for voiding (1-1000 characters)")
    version = get_version(session=session, agreement_id=agreement_id, number=number)
    now = utcnow()
    lifecycle.transition(
        session=session, version=version, to="voided", actor=actor, reason=reason, now=now
    )
    revoke_links(session, version.id, now)
    return version


def expire_due(*, session: Session, now: datetime | None = None) -> list[str]:
    """Expire every unsigned version past its expiry; returns the version ids (caller commits)."""
    now = now or utcnow()
    due = session.scalars(
        select(AgreementVersion).where(
            AgreementVersion.state.in_(lifecycle.OPEN_FOR_SIGNING),
            AgreementVersion.expires_at <= now,
        )
    ).all()
    expired = []
    for version in due:
        try:
            # A savepoint: the state change, its audit event and the revoked links stay
            # together even when one expiry in this sweep loses a race to another writer.
            with savepoint(session):
                lifecycle.transition(
                    session=session, version=version, to="expired", actor="system", now=now
                )
                revoke_links(session, version.id, now)
        except Conflict:
            continue  # signed, voided or audited meanwhile: the next sweep looks again
        expired.append(version.id)
    return expired


def signatures_of(*, session: Session, version_id: str) -> dict[str, Signature]:
    rows = session.scalars(select(Signature).where(Signature.version_id == version_id))
    return {s.party: s for s in rows}
