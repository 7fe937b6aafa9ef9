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
    details: Mapping[str, Any] | None = None,
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
    """The rendering context for the sample workspace (examples/workspace.json), or for
    `details`, in `language`.

    `signed` fills both signature blocks, as the completed PDF has them. Without
    `processor_profile` the built-in profile (templates/processor_profile.json) is used.
    """
    details = {**details, "language": language} if details is not None else sample_details(language)
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


def _at_most(text: str, length: int) -> str:
    return (text * (length // len(text) + 1))[:length]


def edge_case_details(language: str = "en") -> dict[str, dict[str, Any]]:
    """Workspaces a template must survive, beside the sample: every field at its maximum
    length with every category and subject; no optional field and one of each; names in
    scripts other than Latin."""
    base = sample_details(language)
    longest = {
        **base,
        "legal_name": _at_most("Ziemeļu Logi un Durvis ", 300),
        "registration_number": _at_most("40103999888", 100),
        "vat_number": _at_most("LV40103999888", 100),
        "address": {
            "street": _at_most("Brīvības iela 101 ", 300),
            "city": _at_most("Rīga ", 100),
            "postal_code": _at_most("LV-1001", 20),
            "country": "LV",
        },
        "signatory": {
            "name": _at_most("Ēriks Kalniņš ", 300),
            "title": _at_most("Chief Executive ", 300),
            "email": ("e" * 60) + "@" + ("x" * 60) + ".example.lv",
        },
        "dpo": {"name": _at_most("Dace Liepiņa ", 300), "email": "dpo@example.lv"},
        "data_categories": [
            "leads",
            "contacts",
            "booking_forms",
            "customer_requests",
            "jobs",
            "invoices_quotes",
            "documents",
            "workers",
            "communications",
        ],
        "data_subjects": ["customers", "prospects", "end_users", "workers", "contact_persons"],
    }
    fewest = {k: v for k, v in base.items() if k not in ("vat_number", "dpo")}
    fewest["data_categories"] = ["contacts"]
    fewest["data_subjects"] = ["customers"]
    scripts = {
        **base,
        "legal_name": 'ООО «Ромашка» · 株式会社テスト · שלום בע"מ · Ελληνική Α.Ε.',
        "address": {**base["address"], "street": "Ленина 1 · 東京都千代田区", "city": "Αθήνα"},
        "signatory": {**base["signatory"], "name": "Иван Петров 山田太郎", "title": "Директор"},
    }
    return {"the longest values": longest, "no optional values": fewest, "other scripts": scripts}
