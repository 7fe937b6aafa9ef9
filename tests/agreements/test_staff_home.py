"""The staff home page shows the work: counts by state, what waits for a countersignature, what
expires within 7 days, the median time from sent to signed, completions per week (SVG)."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from dpa_service.agreements.models import AgreementVersion
from dpa_service.list_bench import seed
from dpa_service.rendering.converter import ConverterPool
from tests.conftest import Api, own_api
from tests.staff import make_user, staff_client


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fresh(
    request: pytest.FixtureRequest, pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """A database of its own, with 80 seeded agreements and nothing else."""
    for api in own_api(request.param, pool, tmp_path_factory.mktemp(f"home-{request.param}")):
        seed(api.session, 80, rng_seed=5)
        yield api


def _latest(api: Api) -> list[Any]:
    with api.session() as s:
        versions = s.scalars(select(AgreementVersion)).all()
        s.expunge_all()
    newest: dict[str, Any] = {}
    for v in versions:
        if v.agreement_id not in newest or v.number > newest[v.agreement_id].number:
            newest[v.agreement_id] = v
    return list(newest.values())


def _figure(html: str, figure: str) -> str:
    match = re.search(rf'id="figure-{figure}"[^>]*><span class="n">([^<]*)</span>', html)
    assert match, figure
    return match.group(1)


def test_the_home_page_counts_what_the_agreements_say(fresh: Api) -> None:
    html = staff_client(fresh, *make_user(fresh, "legal")).get("/staff/").text
    now = datetime.now(UTC)
    latest = _latest(fresh)
    by_state = Counter(v.state for v in latest)
    for state, count in by_state.items():
        row = re.search(rf'<tr data-state="{state}">.*?<td class="count">(\d+)</td>', html)
        assert row and int(row.group(1)) == count, state
    assert _figure(html, "awaiting") == str(by_state["signed"])
    expiring = [
        v
        for v in latest
        if v.state in ("sent", "viewed") and now < v.expires_at <= now + timedelta(days=7)
    ]
    assert _figure(html, "expiring") == str(len(expiring))
    with fresh.session() as s:
        spans = [
            (signed - sent).total_seconds() / 3600
            for sent, signed in s.execute(
                select(AgreementVersion.sent_at, AgreementVersion.signed_at).where(
                    AgreementVersion.signed_at >= now - timedelta(days=30)
                )
            )
        ]
    median = statistics.median(spans)
    shown = f"{median:.1f} h" if median < 48 else f"{median / 24:.1f} days"
    assert _figure(html, "median") == shown


def test_the_chart_has_a_bar_per_week_with_the_completions(fresh: Api) -> None:
    html = staff_client(fresh, *make_user(fresh, "sales")).get("/staff/").text
    weeks = re.findall(r'<g class="week" data-week="([0-9-]+)" data-count="(\d+)">', html)
    assert len(weeks) == 12
    now = datetime.now(UTC)
    this_monday = (now - timedelta(days=now.weekday())).date()
    with fresh.session() as s:
        done = [
            at.date()
            for (at,) in s.execute(select(AgreementVersion.completed_at))
            if at is not None
        ]
    expected = [
        sum(
            1
            for d in done
            if this_monday - timedelta(weeks=11 - i) <= d < this_monday - timedelta(weeks=10 - i)
        )
        for i in range(12)
    ]
    assert [int(c) for _, c in weeks] == expected
    assert sum(expected) > 0
