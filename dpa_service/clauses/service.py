"""Template versions: upload, review with four eyes, approve or reject, retire; and which approved
version of each template generation uses.

States: draft → in_review → approved | rejected; approved → retired (also when a newer version
is approved); a draft or a version in review may be withdrawn (retired). Every move is a
compare-and-set on the current state and writes a TemplateEvent; nothing here commits.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from dpa_service.accounts.service import Principal
from dpa_service.agreements.terms import terms_from
from dpa_service.clauses.diff import DiffOp, diff_documents
from dpa_service.clauses.models import TEMPLATE_KEYS, TemplateEvent, TemplateVersion
from dpa_service.clauses.sample import sample_context
from dpa_service.clauses.validation import ValidatedTemplate, validate_template
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from dpa_service.governance import review
from dpa_service.rendering.context import Terms
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.pipeline import render_pdf
from dpa_service.subprocessors import service as subprocessors

MAX_VERSION = 2**31 - 1
MAX_CHANGE_NOTE = 5000
UPLOADERS = ("legal",)
REVIEWERS = ("legal",)
RETIRERS = ("legal", "admin")


@dataclass(frozen=True)
class TemplateSet:
    versions: dict[str, TemplateVersion]

    @property
    def contents(self) -> dict[str, bytes]:
        return {k: v.content for k, v in self.versions.items()}

    @property
    def numbers(self) -> dict[str, int]:
        return {k: v.version for k, v in self.versions.items()}

    def record(self) -> dict[str, dict[str, object]]:
        """What an agreement version stores about the templates it was made from."""
        return {
            k: {"id": v.id, "version": v.version, "sha256": v.sha256}
            for k, v in sorted(self.versions.items())
        }


def approved_ids(*, session: Session) -> dict[str, str]:
    """The id of the approved version of each template, without loading the documents."""
    rows = session.execute(
        select(TemplateVersion.template_key, TemplateVersion.id)
        .where(TemplateVersion.state == "approved")
        .order_by(TemplateVersion.template_key, TemplateVersion.version.desc())
    ).all()
    newest: dict[str, str] = {}
    for key, version_id in rows:
        newest.setdefault(key, version_id)
    return newest


def current_approved(*, session: Session) -> TemplateSet:
    """The approved version of every template: what generation uses.

    Only `approved` rows count (never a draft, one in review, rejected or retired), and each
    one's bytes must still hash to its recorded SHA-256.
    """
    rows = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.state == "approved")
        .options(undefer(TemplateVersion.content))
        .order_by(TemplateVersion.template_key, TemplateVersion.version.desc())
    )
    newest: dict[str, TemplateVersion] = {}
    for row in rows:
        newest.setdefault(row.template_key, row)
    missing = [k for k in TEMPLATE_KEYS if k not in newest]
    if missing:
        raise ServiceUnavailable(f"no approved template for: {', '.join(missing)}")
    for row in newest.values():
        if hashlib.sha256(row.content).hexdigest() != row.sha256:
            raise ServiceUnavailable(
                f"template {row.template_key} v{row.version} does not match its recorded SHA-256"
            )
    return TemplateSet(newest)


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateOverview:
    template_key: str
    current: TemplateVersion | None  # the approved version generation uses
    versions: list[TemplateVersion]  # newest first


def check_key(template_key: str) -> str:
    if template_key not in TEMPLATE_KEYS:
        raise NotFound(f"no template {template_key!r}; templates are: {', '.join(TEMPLATE_KEYS)}")
    return template_key


def list_templates(*, session: Session) -> list[TemplateOverview]:
    """Every template key with its approved version and all its versions, newest first."""
    rows = session.scalars(
        select(TemplateVersion).order_by(
            TemplateVersion.template_key, TemplateVersion.version.desc()
        )
    ).all()
    out = []
    for key in TEMPLATE_KEYS:
        versions = [r for r in rows if r.template_key == key]
        current = next((r for r in versions if r.state == "approved"), None)
        out.append(TemplateOverview(key, current, versions))
    return out


def list_versions(*, session: Session, template_key: str) -> list[TemplateVersion]:
    check_key(template_key)
    return list(
        session.scalars(
            select(TemplateVersion)
            .where(TemplateVersion.template_key == template_key)
            .order_by(TemplateVersion.version.desc())
        )
    )


def get_version(*, session: Session, version_id: str) -> TemplateVersion:
    row = session.get(TemplateVersion, version_id)
    if row is None:
        raise NotFound(f"no template version {version_id}")
    return row


def find_version(*, session: Session, template_key: str, number: int) -> TemplateVersion:
    check_key(template_key)
    row = (
        session.scalar(
            select(TemplateVersion).where(
                TemplateVersion.template_key == template_key, TemplateVersion.version == number
            )
        )
        if 1 <= number <= MAX_VERSION
        else None  # beyond any integer column: not found, rather than a database error
    )
    if row is None:
        raise NotFound(f"{template_key} has no version {number}")
    return row


def version_content(*, session: Session, version_id: str) -> bytes:
    """The exact bytes uploaded (checked against the recorded SHA-256)."""
    row = get_version(session=session, version_id=version_id)
    content = row.content
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise ServiceUnavailable(
            f"template {row.template_key} v{row.version} does not match its recorded SHA-256"
        )
    return content


def history(
    *, session: Session, template_key: str, version_id: str | None = None
) -> list[TemplateEvent]:
    """Who did what when, oldest first: for one template, or one of its versions."""
    check_key(template_key)
    query = select(TemplateEvent).where(TemplateEvent.template_key == template_key)
    if version_id is not None:
        query = query.where(TemplateEvent.version_id == version_id)
    return list(session.scalars(query.order_by(TemplateEvent.id)))


def approved_version(*, session: Session, template_key: str) -> TemplateVersion | None:
    return session.scalar(
        select(TemplateVersion)
        .where(TemplateVersion.template_key == template_key, TemplateVersion.state == "approved")
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    )


# --- changing --------------------------------------------------------------------------------


def _what(row: TemplateVersion) -> str:
    return f"{row.template_key} v{row.version}"


def _require(principal: Principal, allowed: tuple[str, ...], doing: str) -> None:
    review.require_role(principal, allowed, f"{doing} template versions")


def _event(
    session: Session,
    row: TemplateVersion,
    type_: str,
    actor: Principal,
    from_state: str | None,
    comment: str | None = None,
    now: datetime | None = None,
) -> None:
    session.add(
        TemplateEvent(
            version_id=row.id,
            template_key=row.template_key,
            version=row.version,
            type=type_,
            from_state=from_state,
            to_state=row.state,
            actor=actor.name[:200],
            actor_subject=actor.subject[:100],
            actor_role=actor.role[:20],
            comment=comment,
            created_at=now or utcnow(),
        )
    )


def upload_version(
    *,
    session: Session,
    template_key: str,
    data: bytes,
    filename: str,
    change_note: str,
    author: Principal,
) -> TemplateVersion:
    """Validate an upload (422 with the reason if refused; nothing is stored then) and store it
    as the next draft version of `template_key`, with the SHA-256 of its exact bytes."""
    _require(author, UPLOADERS, "upload")
    check_key(template_key)
    note = review.clean_comment(
        change_note,
        "change note",
        limit=MAX_CHANGE_NOTE,
        required="a change note is required: say what changed and why",
    )
    companions = current_approved(session=session).contents
    checked: ValidatedTemplate = validate_template(
        data, filename=filename, template_key=template_key, companions=companions
    )
    number = (
        session.scalar(
            select(func.max(TemplateVersion.version)).where(
                TemplateVersion.template_key == template_key
            )
        )
        or 0
    ) + 1
    now = utcnow()
    row = TemplateVersion(
        template_key=template_key,
        version=number,
        state="draft",
        sha256=checked.sha256,
        size=checked.size,
        content=data,
        filename=checked.filename,
        change_note=note,
        author=author.name[:200],
        author_subject=author.subject[:100],
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"another {template_key} version was uploaded at the same time; upload again"
        ) from None
    _event(session, row, "uploaded", author, None, note, now)
    return row


def submit_for_review(*, session: Session, version_id: str, actor: Principal) -> TemplateVersion:
    """draft → in_review: ask another legal user to review it."""
    _require(actor, UPLOADERS, "submit")
    row = get_version(session=session, version_id=version_id)
    now = utcnow()
    before = review.move(session, row, "in_review", _what(row), {"submitted_at": now})
    _event(session, row, "submitted", actor, before, None, now)
    return row


def approve(
    *, session: Session, version_id: str, reviewer: Principal, comment: str = ""
) -> TemplateVersion:
    """in_review → approved, by a legal user who is not its author. The version approved
    before it (same template) is retired; generation uses this one from now on."""
    row = get_version(session=session, version_id=version_id)
    _require(reviewer, REVIEWERS, "approve")
    review.require_other_person(row, reviewer, _what(row), "approve")
    text = review.clean_comment(comment) or None
    if row.state != "in_review":
        raise Conflict(f"{row.template_key} v{row.version} is {row.state}; it cannot be approved")
    # One approval per template at a time: lock its rows (PostgreSQL; SQLite has one writer).
    session.execute(
        select(TemplateVersion.id)
        .where(TemplateVersion.template_key == row.template_key)
        .with_for_update()
    ).all()
    previous = approved_version(session=session, template_key=row.template_key)
    if previous is not None and previous.version > row.version:
        raise Conflict(
            f"{row.template_key} v{previous.version}, newer than v{row.version}, is already "
            f"approved; v{row.version} is outdated (reject or withdraw it)"
        )
    now = utcnow()
    before = review.move(session, row, "approved", _what(row), review.approval(reviewer, now, text))
    _event(session, row, "approved", reviewer, before, text, now)
    if previous is not None:
        review.move(session, previous, "retired", _what(previous), {"retired_at": now})
        _event(
            session,
            previous,
            "retired",
            reviewer,
            "approved",
            f"replaced by v{row.version}",
            now,
        )
    return row


def reject(
    *, session: Session, version_id: str, reviewer: Principal, comment: str
) -> TemplateVersion:
    """in_review → rejected, with the reviewer's reason. The author uploads a new version."""
    row = get_version(session=session, version_id=version_id)
    _require(reviewer, REVIEWERS, "reject")
    review.require_other_person(row, reviewer, _what(row), "reject")
    text = review.clean_comment(
        comment, required="a rejection needs a comment saying what to change"
    )
    now = utcnow()
    before = review.move(session, row, "rejected", _what(row), review.verdict(reviewer, now, text))
    _event(session, row, "rejected", reviewer, before, text, now)
    return row


def retire(
    *, session: Session, version_id: str, actor: Principal, comment: str = ""
) -> TemplateVersion:
    """Take a version out of use: withdraw a draft or one in review, or retire an approved
    version — but never the only approved version of a template, which generation needs."""
    _require(actor, RETIRERS, "retire")
    row = get_version(session=session, version_id=version_id)
    text = review.clean_comment(comment) or None
    if row.state == "approved":
        others = session.scalar(
            select(func.count())
            .select_from(TemplateVersion)
            .where(
                TemplateVersion.template_key == row.template_key,
                TemplateVersion.state == "approved",
                TemplateVersion.id != row.id,
            )
        )
        if not others:
            raise Conflict(
                f"{row.template_key} v{row.version} is the approved version every new DPA uses; "
                "approve a replacement instead (that retires this one)"
            )
    now = utcnow()
    before = review.move(session, row, "retired", _what(row), {"retired_at": now})
    _event(session, row, "retired", actor, before, text, now)
    return row


# --- review aids -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateDiff:
    version: TemplateVersion
    base: TemplateVersion | None  # what it is compared with; None: nothing before it
    ops: list[DiffOp]


def diff_version(
    *, session: Session, version_id: str, against_id: str | None = None, context: int = 2
) -> TemplateDiff:
    """The paragraph diff of a version against the current approved version of its template
    (or `against_id`). An approved version is compared with the one approved before it."""
    row = get_version(session=session, version_id=version_id)
    base: TemplateVersion | None
    if against_id is not None:
        base = get_version(session=session, version_id=against_id)
        if base.template_key != row.template_key:
            raise Unprocessable(
                f"cannot compare {row.template_key} with {base.template_key}; pick a version "
                "of the same template"
            )
    else:
        base = approved_version(session=session, template_key=row.template_key)
        if base is None or base.id == row.id:
            base = session.scalar(
                select(TemplateVersion)
                .where(
                    TemplateVersion.template_key == row.template_key,
                    TemplateVersion.version < row.version,
                    TemplateVersion.approved_at.is_not(None),
                )
                .order_by(TemplateVersion.version.desc())
                .limit(1)
            )
    ops = diff_documents(
        version_content(session=session, version_id=base.id) if base is not None else None,
        version_content(session=session, version_id=row.id),
        context=context,
    )
    return TemplateDiff(row, base, ops)


def preview_pdf(
    *,
    session: Session,
    version_id: str,
    pool: ConverterPool,
    settings: Settings | None = None,
) -> bytes:
    """The DPA for the sample workspace (examples/workspace.json), made from the current
    approved set with this version in place of its template. Nothing is stored; the rendering
    caches are keyed by content, so this never leaks into generation."""
    row = get_version(session=session, version_id=version_id)
    templates = current_approved(session=session)
    contents = templates.contents
    numbers = templates.numbers
    contents[row.template_key] = version_content(session=session, version_id=row.id)
    numbers[row.template_key] = row.version
    sp_list = subprocessors.current_approved(session=session)
    terms = Terms()
    signatory = ("Anna Example", "Member of the Board")
    if settings is not None:
        terms = terms_from(settings)
        signatory = (
            settings.processor_signatory_name or signatory[0],
            settings.processor_signatory_title or signatory[1],
        )
    context = sample_context(
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        processor_signatory=signatory,
        agreement_id=f"PREVIEW-{row.template_key}-v{row.version}",
    )
    return render_pdf(pool, contents, context, numbers, state="preview").pdf
