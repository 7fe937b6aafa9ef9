"""Template versions: upload, review with four eyes, approve or reject, retire; and which approved
version of each template generation uses.

Each language (`en`, `lv`) has its own set of the four templates, versioned on its own under
the same review. States: draft → in_review → approved | rejected; approved → retired (also when
a newer version is approved); a draft or a version in review may be withdrawn (retired). Every
move is a compare-and-set on the current state and writes a TemplateEvent; nothing here
commits. Approving a change in one language marks the same template's approved version in the
other languages out of date, until a new version of it is approved there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, undefer

from dpa_service.accounts.service import Principal
from dpa_service.agreements.terms import terms_from
from dpa_service.clauses.diff import DiffOp, diff_documents
from dpa_service.clauses.models import (
    TEMPLATE_KEYS,
    TEMPLATE_LANGUAGES,
    TemplateEvent,
    TemplateVersion,
    record_key,
)
from dpa_service.clauses.sample import sample_context
from dpa_service.clauses.validation import ValidatedTemplate, validate_template
from dpa_service.clock import utcnow
from dpa_service.config import Settings
from dpa_service.db import MAX_INTEGER, savepoint
from dpa_service.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unprocessable,
)
from dpa_service.governance import review
from dpa_service.profile import service as profiles
from dpa_service.rendering.context import Terms
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.pipeline import render_pdf
from dpa_service.subprocessors import service as subprocessors

MAX_CHANGE_NOTE = 5000
UPLOADERS = ("legal",)
REVIEWERS = ("legal",)
RETIRERS = ("legal", "admin")


@dataclass(frozen=True)
class TemplateSet:
    """The four templates of one language."""

    versions: dict[str, TemplateVersion]
    language: str = "en"

    @property
    def contents(self) -> dict[str, bytes]:
        return {k: v.content for k, v in self.versions.items()}

    @property
    def numbers(self) -> dict[str, int]:
        """Version numbers by recorded name ("master", "lv/master"), as the PDF lists them."""
        return {record_key(self.language, k): v.version for k, v in self.versions.items()}

    def record(self) -> dict[str, dict[str, object]]:
        """What an agreement version stores about the templates it was made from."""
        return {
            record_key(self.language, k): {"id": v.id, "version": v.version, "sha256": v.sha256}
            for k, v in sorted(self.versions.items())
        }


def check_language(language: str) -> str:
    if language not in TEMPLATE_LANGUAGES:
        raise NotFound(
            f"no templates in {language!r}; languages are: {', '.join(TEMPLATE_LANGUAGES)}"
        )
    return language


def approved_ids(*, session: Session) -> dict[str, str]:
    """The id of the approved version of each template of every language, by recorded name
    ("master", "lv/master"), without loading the documents."""
    rows = session.execute(
        select(TemplateVersion.language, TemplateVersion.template_key, TemplateVersion.id)
        .where(TemplateVersion.state == "approved")
        .order_by(
            TemplateVersion.language,
            TemplateVersion.template_key,
            TemplateVersion.version.desc(),
        )
    ).all()
    newest: dict[str, str] = {}
    for language, key, version_id in rows:
        newest.setdefault(record_key(language, key), version_id)
    return newest


def current_approved(*, session: Session, language: str = "en") -> TemplateSet:
    """The approved version of every template of `language`: what generation uses.

    Only `approved` rows count (never a draft, one in review, rejected or retired), and each
    one's bytes must still hash to its recorded SHA-256.
    """
    check_language(language)
    rows = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.state == "approved", TemplateVersion.language == language)
        .options(undefer(TemplateVersion.content))
        .order_by(TemplateVersion.template_key, TemplateVersion.version.desc())
    )
    newest: dict[str, TemplateVersion] = {}
    for row in rows:
        newest.setdefault(row.template_key, row)
    missing = [k for k in TEMPLATE_KEYS if k not in newest]
    if missing:
        raise ServiceUnavailable(f"no approved {language} template for: {', '.join(missing)}")
    for row in newest.values():
        if hashlib.sha256(row.content).hexdigest() != row.sha256:
            raise ServiceUnavailable(f"template {_what(row)} does not match its recorded SHA-256")
    return TemplateSet(newest, language)


def current_sets(*, session: Session, languages: list[str]) -> dict[str, TemplateSet]:
    """The approved set of each of `languages`, in their order (the agreement's languages)."""
    return {lang: current_approved(session=session, language=lang) for lang in languages}


def sets_of(templates: list[TemplateVersion]) -> dict[str, TemplateSet]:
    """Template versions an agreement version was made from, grouped into one set per language."""
    by_language: dict[str, dict[str, TemplateVersion]] = {}
    for row in templates:
        by_language.setdefault(row.language, {})[row.template_key] = row
    return {lang: TemplateSet(rows, lang) for lang, rows in by_language.items()}


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateOverview:
    template_key: str
    current: TemplateVersion | None  # the approved version generation uses
    versions: list[TemplateVersion]  # newest first
    language: str = "en"
    # The approved version of the same template in another language that made this one's
    # approved version out of date (None: up to date).
    outdated_by: TemplateVersion | None = None


def check_key(template_key: str) -> str:
    if template_key not in TEMPLATE_KEYS:
        raise NotFound(f"no template {template_key!r}; templates are: {', '.join(TEMPLATE_KEYS)}")
    return template_key


def list_templates(*, session: Session) -> list[TemplateOverview]:
    """Every template of every language with its approved version and all its versions, newest
    first, and whether a change in another language made it out of date."""
    rows = session.scalars(
        select(TemplateVersion).order_by(
            TemplateVersion.language, TemplateVersion.template_key, TemplateVersion.version.desc()
        )
    ).all()
    by_id = {r.id: r for r in rows}
    out = []
    for language in TEMPLATE_LANGUAGES:
        for key in TEMPLATE_KEYS:
            versions = [r for r in rows if r.template_key == key and r.language == language]
            current = next((r for r in versions if r.state == "approved"), None)
            outdated_by = (
                by_id.get(current.outdated_by) if current and current.outdated_by else None
            )
            out.append(TemplateOverview(key, current, versions, language, outdated_by))
    return out


def list_versions(
    *, session: Session, template_key: str, language: str = "en"
) -> list[TemplateVersion]:
    check_key(template_key)
    check_language(language)
    return list(
        session.scalars(
            select(TemplateVersion)
            .where(
                TemplateVersion.template_key == template_key,
                TemplateVersion.language == language,
            )
            .order_by(TemplateVersion.version.desc())
        )
    )


def get_version(*, session: Session, version_id: str) -> TemplateVersion:
    row = session.get(TemplateVersion, version_id)
    if row is None:
        raise NotFound(f"no template version {version_id}")
    return row


def find_version(
    *, session: Session, template_key: str, number: int, language: str = "en"
) -> TemplateVersion:
    check_key(template_key)
    check_language(language)
    row = (
        session.scalar(
            select(TemplateVersion).where(
                TemplateVersion.template_key == template_key,
                TemplateVersion.language == language,
                TemplateVersion.version == number,
            )
        )
        if 1 <= number <= MAX_INTEGER
        else None  # beyond any integer column: not found, rather than a database error
    )
    if row is None:
        raise NotFound(f"{_label(language, template_key)} has no version {number}")
    return row


def version_content(*, session: Session, version_id: str) -> bytes:
    """The exact bytes uploaded (checked against the recorded SHA-256)."""
    row = get_version(session=session, version_id=version_id)
    content = row.content
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise ServiceUnavailable(f"template {_what(row)} does not match its recorded SHA-256")
    return content


def history(
    *,
    session: Session,
    template_key: str,
    version_id: str | None = None,
    language: str = "en",
) -> list[TemplateEvent]:
    """Who did what when, oldest first: for one template, or one of its versions."""
    check_key(template_key)
    query = select(TemplateEvent).where(
        TemplateEvent.template_key == template_key, TemplateEvent.language == language
    )
    if version_id is not None:
        query = query.where(TemplateEvent.version_id == version_id)
    return list(session.scalars(query.order_by(TemplateEvent.id)))


def approved_version(
    *, session: Session, template_key: str, language: str = "en"
) -> TemplateVersion | None:
    return session.scalar(
        select(TemplateVersion)
        .where(
            TemplateVersion.template_key == template_key,
            TemplateVersion.language == language,
            TemplateVersion.state == "approved",
        )
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    )


# --- changing --------------------------------------------------------------------------------


def _label(language: str, template_key: str) -> str:
    return template_key if language == "en" else f"{template_key} ({language})"


def _what(row: TemplateVersion) -> str:
    return f"{_label(row.language, row.template_key)} v{row.version}"


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
            language=row.language,
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
    language: str = "en",
) -> TemplateVersion:
    """Validate an upload (422 with the reason if refused; nothing is stored then) and store it
    as the next draft version of `template_key` in `language`, with the SHA-256 of its exact
    bytes. It is checked with the approved templates of its own language and a sample
    workspace in that language."""
    _require(author, UPLOADERS, "upload")
    check_key(template_key)
    check_language(language)
    note = review.clean_comment(
        change_note,
        "change note",
        limit=MAX_CHANGE_NOTE,
        required="a change note is required: say what changed and why",
    )
    companions = current_approved(session=session, language=language).contents
    checked: ValidatedTemplate = validate_template(
        data,
        filename=filename,
        template_key=template_key,
        companions=companions,
        language=language,
    )
    number = (
        session.scalar(
            select(func.max(TemplateVersion.version)).where(
                TemplateVersion.template_key == template_key,
                TemplateVersion.language == language,
            )
        )
        or 0
    ) + 1
    now = utcnow()
    row = TemplateVersion(
        language=language,
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
        with savepoint(session):
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"another {_label(language, template_key)} version was uploaded at the same time; "
            "upload again"
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
    before it (same template and language) is retired; generation uses this one from now on.

    A change (not the update of a version that was out of date) marks the approved version of
    the same template in the other languages out of date."""
    row = get_version(session=session, version_id=version_id)
    _require(reviewer, REVIEWERS, "approve")
    review.require_other_person(row, reviewer, _what(row), "approve")
    text = review.clean_comment(comment) or None
    if row.state != "in_review":
        raise Conflict(f"{_what(row)} is {row.state}; it cannot be approved")
    # One approval per template at a time: lock its rows in every language (PostgreSQL;
    # SQLite has one writer), as approving one language marks the others.
    session.execute(
        select(TemplateVersion.id)
        .where(TemplateVersion.template_key == row.template_key)
        .with_for_update()
    ).all()
    previous = approved_version(
        session=session, template_key=row.template_key, language=row.language
    )
    if previous is not None and previous.version > row.version:
        raise Conflict(
            f"{_label(row.language, row.template_key)} v{previous.version}, newer than "
            f"v{row.version}, is already approved; v{row.version} is outdated (reject or "
            "withdraw it)"
        )
    now = utcnow()
    before = review.move(session, row, "approved", _what(row), review.approval(reviewer, now, text))
    _event(session, row, "approved", reviewer, before, text, now)
    catching_up = previous is not None and previous.outdated_by is not None
    if not catching_up:
        _mark_other_languages(session, row, now)
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


def _mark_other_languages(session: Session, row: TemplateVersion, now: datetime) -> None:
    """The same template's approved version in every other language may no longer say what
    `row` says: mark it out of date (once; the first change that outdated it is kept)."""
    session.execute(
        update(TemplateVersion)
        .where(
            TemplateVersion.template_key == row.template_key,
            TemplateVersion.language != row.language,
            TemplateVersion.state == "approved",
            TemplateVersion.outdated_by.is_(None),
        )
        .values(outdated_by=row.id, outdated_at=now)
        .execution_options(synchronize_session="fetch")
    )


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


def can_retire(*, session: Session, row: TemplateVersion) -> bool:
    """Whether `row` may be taken out of use: a draft or one in review (withdrawn), or an
    approved version beside another approved one of its template (never the only one)."""
    if row.state in ("draft", "in_review"):
        return True
    if row.state != "approved":
        return False
    others = session.scalar(
        select(func.count())
        .select_from(TemplateVersion)
        .where(
            TemplateVersion.template_key == row.template_key,
            TemplateVersion.language == row.language,
            TemplateVersion.state == "approved",
            TemplateVersion.id != row.id,
        )
    )
    return bool(others)


def retire(
    *, session: Session, version_id: str, actor: Principal, comment: str = ""
) -> TemplateVersion:
    """Take a version out of use: withdraw a draft or one in review, or retire an approved
    version — but never the only approved version of a template, which generation needs."""
    _require(actor, RETIRERS, "retire")
    row = get_version(session=session, version_id=version_id)
    text = review.clean_comment(comment) or None
    if row.state == "approved" and not can_retire(session=session, row=row):
        raise Conflict(
            f"{_what(row)} is the approved version every new DPA uses; "
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
        if base.template_key != row.template_key or base.language != row.language:
            raise Unprocessable(
                f"cannot compare {_what(row)} with {_what(base)}; pick a version "
                "of the same template in the same language"
            )
    else:
        base = approved_version(
            session=session, template_key=row.template_key, language=row.language
        )
        if base is None or base.id == row.id:
            base = session.scalar(
                select(TemplateVersion)
                .where(
                    TemplateVersion.template_key == row.template_key,
                    TemplateVersion.language == row.language,
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
    """The DPA for the sample workspace (examples/workspace.json) in the version's language,
    made from the current approved set of that language with this version in place of its
    template, and the approved processor profile (values legal has not confirmed show as
    such). Nothing is stored; the rendering caches are keyed by content, so this never leaks
    into generation."""
    row = get_version(session=session, version_id=version_id)
    templates = current_approved(session=session, language=row.language)
    contents = templates.contents
    numbers = templates.numbers
    contents[row.template_key] = version_content(session=session, version_id=row.id)
    numbers[record_key(row.language, row.template_key)] = row.version
    sp_list = subprocessors.current_approved(session=session)
    profile = profiles.current_approved(session=session)
    terms = terms_from(settings) if settings is not None else Terms()
    signatory = ("", "")  # the profile's signatory, as every DPA prints it
    context = sample_context(
        subprocessor_entries=sp_list.entries,
        subprocessor_list_version=sp_list.version,
        subprocessor_list_approved_on=sp_list.approved_at or sp_list.created_at,
        terms=terms,
        processor_signatory=signatory,
        processor_profile=profile.profile,
        language=row.language,
        agreement_id=f"PREVIEW-{row.template_key}-v{row.version}",
    )
    return render_pdf(pool, contents, context, numbers, state="preview").pdf
