"""Template governance request and response bodies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile

from dpa_service.clauses.diff import DiffOp, summary
from dpa_service.clauses.models import TemplateEvent, TemplateVersion
from dpa_service.clock import iso, iso_or_none
from dpa_service.text import MULTILINE, SAID


@dataclass
class TemplateUpload:
    """multipart/form-data: the DOCX and what changed."""

    file: UploadFile
    change_note: str = ""


class ReviewRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    comment: Annotated[
        str, msgspec.Meta(max_length=5000, extra_json_schema={"extra": {"pattern": MULTILINE}})
    ] = ""


class RejectRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A rejection says what to change (not only spaces)."""

    comment: Annotated[
        str, msgspec.Meta(max_length=5000, extra_json_schema={"extra": {"pattern": SAID}})
    ]


class TemplateVersionOut(msgspec.Struct, kw_only=True):
    id: str
    template_key: str
    language: str  # each language has its own versions of the four templates
    version: int
    state: str
    current: bool  # the approved version new DPAs use
    sha256: str
    size: int
    filename: str | None
    change_note: str
    author: str
    author_subject: str
    created_at: str
    submitted_at: str | None
    reviewer: str | None
    reviewer_subject: str | None
    reviewed_at: str | None
    review_comment: str | None
    approved_at: str | None
    retired_at: str | None
    # When the same template was changed in another language after this approved version:
    # e.g. "lv master v2" (this one may no longer say the same until it is updated).
    out_of_date_since: str | None = None
    url: str
    docx_url: str
    diff_url: str
    preview_url: str


class TemplateEventOut(msgspec.Struct, kw_only=True):
    version: int
    type: str
    from_state: str | None
    to_state: str
    actor: str
    actor_subject: str
    actor_role: str
    comment: str | None
    created_at: str


class TemplateVersionDetail(TemplateVersionOut, kw_only=True):
    history: list[TemplateEventOut]


class TemplateOut(msgspec.Struct, kw_only=True):
    template_key: str
    language: str
    current: TemplateVersionOut | None
    out_of_date: bool  # changed in another language since its current version was approved
    versions: list[TemplateVersionOut]


class DiffSegmentOut(msgspec.Struct):
    op: str
    text: str


class DiffOpOut(msgspec.Struct, kw_only=True):
    op: str  # equal | insert | delete | replace | collapsed
    old: str | None = None
    new: str | None = None
    old_number: int | None = None
    new_number: int | None = None
    segments: list[DiffSegmentOut] = msgspec.field(default_factory=list)
    count: int = 0


class DiffOut(msgspec.Struct, kw_only=True):
    template_key: str
    version: int
    base_version: int | None  # None: compared with an empty document
    summary: dict[str, int]
    ops: list[DiffOpOut]


def version_out(
    row: TemplateVersion, public_url: str = "", outdated_by: TemplateVersion | None = None
) -> TemplateVersionOut:
    base = f"{public_url.rstrip('/')}/api/v1/templates/{row.template_key}/versions/{row.version}"
    query = "" if row.language == "en" else f"?language={row.language}"
    return TemplateVersionOut(
        id=row.id,
        template_key=row.template_key,
        language=row.language,
        version=row.version,
        state=row.state,
        current=row.state == "approved",
        sha256=row.sha256,
        size=row.size,
        filename=row.filename,
        change_note=row.change_note,
        author=row.author,
        author_subject=row.author_subject,
        created_at=iso(row.created_at),
        submitted_at=iso_or_none(row.submitted_at),
        reviewer=row.reviewer,
        reviewer_subject=row.reviewer_subject,
        reviewed_at=iso_or_none(row.reviewed_at),
        review_comment=row.review_comment,
        approved_at=iso_or_none(row.approved_at),
        retired_at=iso_or_none(row.retired_at),
        out_of_date_since=(
            f"{outdated_by.language} {outdated_by.template_key} v{outdated_by.version}"
            if outdated_by is not None and row.state == "approved"
            else None
        ),
        url=f"{base}{query}",
        docx_url=f"{base}/docx{query}",
        diff_url=f"{base}/diff{query}",
        preview_url=f"{base}/preview.pdf{query}",
    )


def event_out(event: TemplateEvent) -> TemplateEventOut:
    return TemplateEventOut(
        version=event.version,
        type=event.type,
        from_state=event.from_state,
        to_state=event.to_state,
        actor=event.actor,
        actor_subject=event.actor_subject,
        actor_role=event.actor_role,
        comment=event.comment,
        created_at=iso(event.created_at),
    )


def detail_out(
    row: TemplateVersion, events: Sequence[TemplateEvent], public_url: str = ""
) -> TemplateVersionDetail:
    plain = version_out(row, public_url)
    return TemplateVersionDetail(
        **{f: getattr(plain, f) for f in plain.__struct_fields__},
        history=[event_out(e) for e in events],
    )


def diff_out(
    template_key: str, version: int, base_version: int | None, ops: Sequence[DiffOp]
) -> DiffOut:
    return DiffOut(
        template_key=template_key,
        version=version,
        base_version=base_version,
        summary=summary(ops),
        ops=[
            DiffOpOut(
                op=op.op,
                old=op.old,
                new=op.new,
                old_number=op.old_number,
                new_number=op.new_number,
                segments=[DiffSegmentOut(s.op, s.text) for s in op.segments],
                count=op.count,
            )
            for op in ops
        ],
    )
