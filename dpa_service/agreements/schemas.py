"""Agreement request and response bodies."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from dpa_service.clock import iso, iso_or_none
from dpa_service.rendering.context import languages_of


class AgreementRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A request for the workspace's DPA. Without `new_version` the current version is
    answered (200) while the details are unchanged and it still holds; a new one is made (201)
    when the details changed, or when the current version is a draft not yet sent made from a
    template, subprocessor list or processor profile that is no longer the approved one (that
    draft is voided as replaced). A version out for signature is kept until it is re-issued."""

    new_version: Annotated[
        bool,
        msgspec.Meta(
            description=(
                "Make a new version even if the current one still holds. Without it a new "
                "version is made only when the details changed, or when the current version "
                "is a draft not yet sent made from a template, subprocessor list or processor "
                "profile that is no longer approved (that draft is voided as replaced); a "
                "version out for signature is kept until it is re-issued."
            )
        ),
    ] = False


class TemplateRef(msgspec.Struct):
    version: int
    sha256: str


class VersionOut(msgspec.Struct):
    agreement_id: str
    workspace_id: str
    version: int
    state: str
    sha256: str
    pages: int
    # Every template it was made from: "master" … (English), "lv/master" … (Latvian).
    template_versions: dict[str, TemplateRef]
    subprocessor_list_version: int
    created_at: str
    download_url: str
    languages: list[str] = msgspec.field(default_factory=list)  # the prevailing one first
    processor_profile_version: int | None = None  # None: made before the profile existed
    # Profile values it prints as not confirmed by legal: while any, it cannot be sent (409).
    unconfirmed: list[str] = msgspec.field(default_factory=list)
    effective_on: str | None = None  # the day the DPA applies from (the main agreement's start)
    sent_at: str | None = None
    viewed_at: str | None = None
    signed_at: str | None = None
    completed_at: str | None = None
    closed_at: str | None = None
    expires_at: str | None = None
    state_reason: str | None = None
    completed_sha256: str | None = None
    completed_download_url: str | None = None
    archive: dict[str, str] | None = None  # artifact -> pending | stored | failed


class AgreementOut(msgspec.Struct):
    agreement_id: str
    workspace_id: str
    created_at: str
    current_version: int
    versions: list[VersionOut]


def version_out(
    version: Any, workspace_id: str, public_url: str, archive: dict[str, str] | None = None
) -> VersionOut:
    base = f"{public_url.rstrip('/')}/api/v1/agreements/{version.agreement_id}/versions/{version.number}"
    return VersionOut(
        agreement_id=version.agreement_id,
        workspace_id=workspace_id,
        version=version.number,
        state=version.state,
        sha256=version.draft_pdf_sha256,
        pages=version.pages,
        template_versions={
            k: TemplateRef(version=v["version"], sha256=v["sha256"])
            for k, v in version.template_versions.items()
        },
        subprocessor_list_version=version.subprocessor_list_version,
        created_at=iso(version.created_at),
        download_url=f"{base}/pdf",
        languages=languages_of(version.counterparty_snapshot),
        processor_profile_version=version.processor_profile_version,
        unconfirmed=list(version.unconfirmed or []),
        effective_on=version.effective_on.isoformat() if version.effective_on else None,
        sent_at=iso_or_none(version.sent_at),
        viewed_at=iso_or_none(version.viewed_at),
        signed_at=iso_or_none(version.signed_at),
        completed_at=iso_or_none(version.completed_at),
        closed_at=iso_or_none(version.closed_at),
        expires_at=iso_or_none(version.expires_at),
        state_reason=version.state_reason,
        completed_sha256=version.final_pdf_sha256,
        completed_download_url=f"{base}/completed.pdf" if version.final_pdf_key else None,
        archive=archive,
    )


class AgreementSummary(msgspec.Struct):
    """One row of the list of every agreement: the agreement and its latest version."""

    agreement_id: str
    kind: str  # workspace | prospect
    workspace_id: str | None  # the Klusaro workspace (None for a prospect not yet converted)
    prospect_id: str | None  # the prospect it was made for (None for a workspace's own)
    legal_name: str
    registration_number: str
    signatory_email: str
    created_at: str
    version: int  # the latest version
    state: str
    sent_at: str | None
    viewed_at: str | None
    signed_at: str | None
    completed_at: str | None
    closed_at: str | None
    expires_at: str | None
    template_versions: dict[str, int]  # "master": 1, "lv/security": 2 …
    subprocessor_list_version: int
    processor_profile_version: int | None
    # Made from a template, subprocessor list or processor profile that is no longer the
    # approved one (and not closed): a re-issue would give it a new version.
    outdated: bool
    archive: str  # stored | pending | failed | none: every artifact of the latest version
    url: str  # GET it for every version


class AgreementList(msgspec.Struct):
    items: list[AgreementSummary]
    limit: int
    # Pass as `cursor` (with the same filters and sort) for the next page; None on the last.
    next_cursor: str | None


def summary_out(row: Any, public_url: str) -> AgreementSummary:
    """`row`: a listing.Row."""
    version, counterparty = row.version, row.counterparty
    details = counterparty.details
    is_workspace = counterparty.kind == "workspace"
    return AgreementSummary(
        agreement_id=row.agreement.id,
        kind=counterparty.kind,
        workspace_id=counterparty.external_id if is_workspace else None,
        prospect_id=None if is_workspace and not counterparty.converted_at else counterparty.id,
        legal_name=str(details.get("legal_name", "")),
        registration_number=str(details.get("registration_number", "")),
        signatory_email=str((details.get("signatory") or {}).get("email", "")),
        created_at=iso(row.agreement.created_at),
        version=version.number,
        state=version.state,
        sent_at=iso_or_none(version.sent_at),
        viewed_at=iso_or_none(version.viewed_at),
        signed_at=iso_or_none(version.signed_at),
        completed_at=iso_or_none(version.completed_at),
        closed_at=iso_or_none(version.closed_at),
        expires_at=iso_or_none(version.expires_at),
        template_versions={k: v["version"] for k, v in sorted(version.template_versions.items())},
        subprocessor_list_version=version.subprocessor_list_version,
        processor_profile_version=version.processor_profile_version,
        outdated=row.outdated,
        archive=row.archive,
        url=f"{public_url.rstrip('/')}/api/v1/agreements/{row.agreement.id}",
    )
