"""The agreements list and an agreement's page in a real Chromium: a legal user finds an
agreement by its company name, reads its timeline and countersigns it; a sales user filters
what expires within 7 days and exports it as CSV."""

from __future__ import annotations

import csv
import io
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect
from sqlalchemy import select

from dpa_service.agreements.models import Agreement, AgreementVersion
from dpa_service.counterparties.models import Counterparty
from dpa_service.list_bench import seed
from dpa_service.rendering.converter import ConverterPool
from dpa_service.signing.models import Signature
from tests.browser.conftest import log_in
from tests.browser.helpers import BrowserLog, into_view
from tests.conftest import LiveServer, own_api, serve, workspace
from tests.signing.helpers import issue, open_page, sign
from tests.staff import make_user

COUNTERSIGN_TIMEOUT_MS = 90_000  # sealing runs LibreOffice before the page answers


@pytest.fixture(scope="module")
def server(pool: ConverterPool, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The service on a loopback port, where legal countersigns by hand (SQLite)."""
    for api in own_api(
        "sqlite", pool, tmp_path_factory.mktemp("agreements-browser"), auto_countersign=False
    ):
        yield from serve(api, pool)


@pytest.fixture
def open_tab(page_on: Callable[..., Page], server: LiveServer) -> Callable[[], Page]:
    return lambda: page_on(server.url)


def _viewer_of(page: Page, suffix: str, timeout_s: float = 20) -> Frame:
    """The frame of Chromium's PDF viewer showing the document whose URL ends with `suffix`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            parent = frame.parent_frame
            if (
                parent is not None
                and parent.url.startswith("chrome-extension://")
                and frame.url.endswith(suffix)
            ):
                frame.wait_for_load_state()
                return frame
        page.wait_for_timeout(50)
    raise AssertionError(f"no PDF viewer; frames: {[f.url for f in page.frames]}")


def test_legal_finds_an_agreement_reads_its_timeline_and_countersigns_it(
    server: LiveServer, open_tab: Callable[[], Page], browser_log: BrowserLog
) -> None:
    api = server.api
    company = f"SIA Dzintara Krasts {uuid.uuid4().hex[:6]}"
    workspace_id = f"ws-{uuid.uuid4().hex[:10]}"
    issued = issue(api, workspace_id, workspace(legal_name=company))
    _, csrf = open_page(api, issued)
    assert sign(api, issued, csrf).status_code == 303  # the controller has signed
    email, password = make_user(api, "legal", name="Marta Zariņa")

    page = open_tab()
    log_in(page, email, password)
    page.locator("#nav-agreements").click()
    expect(page.locator("h1")).to_have_text("Agreements")
    page.locator("#q").fill(company.split()[-1])  # part of the name is enough
    page.locator("#apply").click()
    rows = page.locator("#agreements tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-state", "signed")
    rows.first.get_by_role("link", name=company).click()

    expect(page.locator("#company")).to_have_text(company)
    expect(page.locator("#state")).to_have_text("signed")
    timeline = page.locator("#timeline")
    for event in ("version.created", "link.created", "version.sent", "version.signed"):
        expect(timeline.locator(f'tr[data-type="{event}"]')).to_have_count(1)
    expect(timeline.locator('tr[data-type="version.signed"]')).to_contain_text("testclient")
    expect(page.locator('#documents tr[data-artifact="draft.pdf"]')).to_contain_text(issued.sha256)

    page.locator("#countersign").click()
    expect(page.locator("#document-sha256")).to_have_text(issued.sha256)
    expect(page.locator("#signed-by")).to_contain_text("Ēriks Kalniņš (Chief Executive) signed")
    _viewer_of(page, "/documents/draft.pdf")  # the document is shown before the form
    expect(page.locator("#name")).to_have_value("Marta Zariņa")
    page.locator("#title").fill("Head of Legal")
    into_view(page.locator("#confirm")).check()
    into_view(page.locator("#countersign-submit")).click()

    expect(page.locator("#done")).to_contain_text(
        "countersigned by Marta Zariņa", timeout=COUNTERSIGN_TIMEOUT_MS
    )
    expect(page.locator("#state")).to_have_text("completed")
    countersigned = page.locator('#timeline tr[data-type="countersigned"]')
    expect(countersigned).to_contain_text("Marta Zariņa, Head of Legal")
    expect(countersigned).to_contain_text(email)
    expect(page.locator('#documents tr[data-artifact="completed.pdf"]')).to_have_count(1)

    # Recorded as that person, as the API's countersignature is.
    with api.session() as s:
        version = s.scalar(
            select(AgreementVersion).where(AgreementVersion.agreement_id == issued.agreement_id)
        )
        assert version is not None and version.state == "completed"
        processor = s.scalar(
            select(Signature).where(
                Signature.version_id == version.id, Signature.party == "processor"
            )
        )
        assert processor is not None
        assert (processor.name, processor.title, processor.email) == (
            "Marta Zariņa",
            "Head of Legal",
            email,
        )
    browser_log.assert_clean()


def test_sales_filters_what_expires_within_7_days_and_exports_it(
    server: LiveServer, open_tab: Callable[[], Page], browser_log: BrowserLog, tmp_path: Path
) -> None:
    api = server.api
    prefix = f"SIA Termiņš {uuid.uuid4().hex[:6]}"
    seed(api.session, 40, name_prefix=prefix, rng_seed=7)
    now = datetime.now(UTC)
    with api.session() as s:
        found = s.execute(
            select(Agreement.id, AgreementVersion.state, AgreementVersion.expires_at)
            .join(Counterparty, Counterparty.id == Agreement.counterparty_id)
            .join(AgreementVersion, AgreementVersion.agreement_id == Agreement.id)
            .where(Counterparty.details["legal_name"].as_string().startswith(prefix))
        ).all()
    expected = {
        a
        for a, state, expires in found
        if state in ("sent", "viewed") and now < expires <= now + timedelta(days=7)
    }
    assert expected, "the seed leaves some expiring this week"
    email, password = make_user(api, "sales")

    page = open_tab()
    log_in(page, email, password, "/staff/agreements")
    page.locator("#q").fill(prefix)
    page.locator("#expiring").check()
    page.locator("#apply").click()
    rows = page.locator("#agreements tbody tr")
    expect(rows).to_have_count(len(expected))
    shown = {r.get_attribute("id").removeprefix("agreement-") for r in rows.all()}  # type: ignore[union-attr]
    assert shown == expected
    for row in rows.all():
        assert row.get_attribute("data-state") in ("sent", "viewed")

    with page.expect_download() as download:
        page.locator("#export").click()
    target = tmp_path / "agreements.csv"
    download.value.save_as(target)
    exported = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {row["agreement_id"] for row in exported} == expected
    for row in exported:
        assert row["legal_name"].startswith(prefix)
        assert row["state"] in ("sent", "viewed")
        expires = datetime.fromisoformat(row["expires_at"].replace("Z", "+00:00"))
        assert now < expires <= now + timedelta(days=7, minutes=5)
    browser_log.assert_clean()
