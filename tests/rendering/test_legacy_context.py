"""Versions made before issue 13 complete with the context they were made with: the processor's
facts, data subjects and wording as they were printed then, not today's."""

from __future__ import annotations

import datetime as dt

from dpa_service.rendering.context import Terms
from dpa_service.rendering.legacy import build_legacy_context
from tests.rendering.dpa import SUBPROCESSORS, details


def test_the_earlier_context_prints_what_earlier_versions_printed() -> None:
    when = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    context = build_legacy_context(
        details=details(data_categories=["leads", "communications"], data_subjects=["customers"]),
        agreement_id="DPA-OLD",
        version=1,
        issued_at=when,
        subprocessor_entries=SUBPROCESSORS,
        subprocessor_list_version=1,
        subprocessor_list_approved_on=when,
        terms=Terms(breach_notice_hours=96, check=False),  # frozen before the bounds existed
        processor_signatory=("Marta Zariņa", "Head of Legal"),
    )
    processor = context["processor"]
    assert processor["address"]["street"] == "Brivibas street 312-11"
    assert processor["signatory"] == {"name": "Marta Zariņa", "title": "Head of Legal"}
    assert "unconfirmed" not in processor  # the earlier context had no profile
    # only the chosen subjects (no implied "prospects" for leads), the earlier wording
    assert [s["key"] for s in context["processing"]["data_subjects"]] == ["customers"]
    communications = context["processing"]["data_categories"][-1]
    assert communications["description"].startswith("e-mails, text messages")
    assert context["agreement"]["date"] == "20 November 2026"
    assert context["terms"]["breach_notice_hours"] == 96
    assert set(context) == {
        "agreement",
        "processor",
        "controller",
        "processing",
        "subprocessors",
        "terms",
        "signatures",
    }
