"""Helpers for rendering the built-in DPA without a server: contexts, template sets, PDF text."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from dpa_service.clauses.builtin import load_subprocessors, load_templates
from dpa_service.rendering.context import AgreementMeta, Terms, build_contexts
from dpa_service.rendering.converter import ConverterPool
from dpa_service.rendering.facts import builtin_processor_profile
from dpa_service.rendering.pipeline import render_pdf
from tests.conftest import WORKSPACE
from tests.pdf_text import pdf_text

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE_SETS = {"en": load_templates(TEMPLATES), "lv": load_templates(TEMPLATES / "lv")}
SUBPROCESSORS = load_subprocessors(TEMPLATES)
ISSUED = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
EFFECTIVE = dt.date(2025, 3, 1)
APPROVED = dt.datetime(2026, 5, 20, tzinfo=dt.UTC)


def details(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORKSPACE)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def confirmed_profile(**figures: int) -> dict[str, Any]:
    """The built-in profile with every value confirmed (and the unknown ones filled in)."""
    profile = builtin_processor_profile()
    profile["identity"]["registration_number"]["value"] = "40000000000"
    profile["signatory"]["name"]["value"] = "Anna Paraugs"
    for section in ("identity", "address", "privacy_contact", "signatory", "security"):
        for node in profile[section].values():
            if isinstance(node, dict) and "confirmed" in node:
                node["confirmed"] = True
    for items in profile["measures"].values():
        for item in items:
            item["confirmed"] = True
    for name, value in figures.items():
        profile["security"][name]["value"] = value
    return profile


def contexts(
    data: dict[str, Any] | None = None,
    *,
    profile: dict[str, Any] | None = None,
    entries: list[dict[str, Any]] | None = None,
    terms: Terms | None = None,
    effective_on: dt.date | None = EFFECTIVE,
    signatures: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    return build_contexts(
        details=data if data is not None else details(),
        agreement=AgreementMeta("DPA-TEST-1", 1, ISSUED, effective_on),
        subprocessor_entries=entries if entries is not None else SUBPROCESSORS,
        subprocessor_list_version=3,
        subprocessor_list_approved_on=APPROVED,
        terms=terms or Terms(),
        processor_profile=profile,
        signatures=signatures,
    )


def render(
    pool: ConverterPool,
    data: dict[str, Any] | None = None,
    drawings: dict[str, bytes] | None = None,
    **kwargs: Any,
) -> tuple[str, bytes]:
    """(the PDF's text, the PDF) of the DPA for `data` in its language(s)."""
    versions = list(contexts(data, **kwargs).items())
    (first, context), rest = versions[0], versions[1:]
    rendered = render_pdf(
        pool,
        TEMPLATE_SETS[first],
        context,
        {"master": 1},
        drawings=drawings,
        other_languages=[(TEMPLATE_SETS[lang], ctx) for lang, ctx in rest],
    )
    return pdf_text(rendered.pdf), rendered.pdf


def dump(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
