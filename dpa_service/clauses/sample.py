"""The sample workspace (examples/workspace.json) that previews and trial renders use."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from dpa_service.clauses.builtin import load_subprocessors
from dpa_service.clock import utcnow
from dpa_service.config import REPO_ROOT
from dpa_service.rendering.context import AgreementMeta, Terms, build_context, format_timestamp

SAMPLE_WORKSPACE = REPO_ROOT / "examples" / "workspace.json"


BUILTIN_TEMPLATES = REPO_ROOT / "templates"


def sample_details(language: str = "en") -> dict[str, Any]:
    """The sample workspace, its language set to `language`."""
    details: dict[str, Any] = json.loads(SAMPLE_WORKSPACE.read_bytes())  # our own, valid file
    details["language"] = language
    return details


def sample_context(
    *,
    signed: bool = False,
    subprocessor_entries: Iterable[Mapping[str, Any]] | None = None,
    subprocessor_list_version: int = 1,
    subprocessor_list_approved_on: datetime | None = None,
    terms: Terms | None = None,
    processor_signatory: tuple[str, str] = ("Anna Example", "Member of the Board"),
    agreement_id: str = "PREVIEW",
    processor_profile: Mapping[str, Any] | None = None,
    language: str = "en",
) -> dict[str, Any]:
    """The rendering context for the sample workspace (examples/workspace.json) in `language`.

    `signed` fills both signature blocks, as the completed PDF has them. Without
    `processor_profile` the built-in profile (templates/processor_profile.json) is used.
    """
    details = sample_details(language)
    now = utcnow()
    entries = (
        list(subprocessor_entries)
        if subprocessor_entries is not None
        else load_subprocessors(BUILTIN_TEMPLATES)
    )
    signatures = None
    if signed:
        label = format_timestamp(now, language)
        signatures = {
            "controller": {
                "name": details["signatory"]["name"],
                "title": details["signatory"]["title"],
                "signed_at": label,
            },
            "processor": {
                "name": processor_signatory[0],
                "title": processor_signatory[1],
                "signed_at": label,
            },
        }
    return build_context(
        details=details,
        agreement=AgreementMeta(id=agreement_id, version=1, issued_at=now, effective_on=now.date()),
        subprocessor_entries=entries,
        subprocessor_list_version=subprocessor_list_version,
        subprocessor_list_approved_on=subprocessor_list_approved_on or now,
        terms=terms or Terms(),
        processor_signatory=processor_signatory,
        signatures=signatures,
        processor_profile=processor_profile,
    )
