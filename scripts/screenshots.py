#!/usr/bin/env python3
"""Screenshots of the staff agreements list, an agreement's page and the home page, for docs/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Everything happens in a throw-away folder (SQLite, local archive, e-mails to files): a demo
database with 120 bulk-seeded agreements (dpa_service/list_bench.py) and one real one — a
workspace's DPA rendered, signed in Chromium through its signing link, so its page has a real
timeline and documents. The service runs on a loopback port; Debian's Chromium takes the
pictures (Playwright, /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import copy
import json
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from playwright.sync_api import Page, sync_playwright

from dpa_service import migrations
from dpa_service.accounts.service import Principal, create_token
from dpa_service.accounts.users import create_user
from dpa_service.app import create_app
from dpa_service.config import REPO_ROOT, Settings
from dpa_service.db import make_engine, make_session_factory
from dpa_service.list_bench import seed
from dpa_service.profile import service as profiles

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "screenshots-only-password"
LEGAL = "marta.zarina@klusaro.com"
COMPANY = "SIA Dzintara Krasts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _confirm_profile(session: object) -> None:
    """A demo profile with every value confirmed (two made-up legal users): DPAs may be sent."""
    author = Principal(subject="user:shots-author", name="Shots Author", role="legal")
    reviewer = Principal(subject="user:shots-reviewer", name="Shots Reviewer", role="legal")
    profile = copy.deepcopy(profiles.current_approved(session=session).profile)  # type: ignore[arg-type]
    for _path, node in profiles.nodes(profile):
        if node["value"] is None:
            node["value"] = "40003000000"  # type: ignore[index]
        node["confirmed"] = True  # type: ignore[index]
    draft = profiles.create_draft(
        session=session,  # type: ignore[arg-type]
        author=author,
        profile=profile,
        change_note="demo",
    )
    profiles.submit(session=session, number=draft.version, actor=author)  # type: ignore[arg-type]
    profiles.approve(session=session, number=draft.version, reviewer=reviewer)  # type: ignore[arg-type]


def _sign_in_browser(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_timeout(1500)  # the PDF viewer takes the focus once while it loads
    page.locator("#consent").evaluate("box => { box.checked = true; }")
    with page.expect_navigation():
        page.locator("#sign-form").evaluate("form => form.requestSubmit()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="dpa-screenshots-"))
    port = _free_port()
    settings = Settings.from_env(
        data_dir=work / "data",
        database_url=f"sqlite:///{work / 'dpa.sqlite3'}",
        archive_dir=work / "signed",
        mail_dir=work / "mail",
        public_url=f"http://127.0.0.1:{port}",
        auto_countersign=False,  # legal countersigns in the pictures
        converter_workers=1,
        log_level="WARNING",
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    migrations.upgrade(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        _confirm_profile(session)
        create_user(
            session=session, email=LEGAL, name="Marta Zariņa", role="legal", password=PASSWORD
        )
        token = create_token(session=session, role="app", name="screenshots")[1]
        session.commit()
    seed(factory, 120, name_prefix="SIA Demo", rng_seed=14)

    app = create_app(settings, engine=engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    base = settings.public_url
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    details = json.loads((REPO_ROOT / "examples" / "workspace.json").read_text())
    details["legal_name"] = COMPANY
    api.put("/api/v1/workspaces/ws-2107", json=details).raise_for_status()
    dpa = api.post("/api/v1/workspaces/ws-2107/agreements").json()
    link = api.post(
        f"/api/v1/agreements/{dpa['agreement_id']}/versions/{dpa['version']}/signing-links",
        json={"requested_by": "Līga Bērziņa"},
    ).json()

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--headless=new", "--no-sandbox"]
            )
            signer = browser.new_page(viewport={"width": 1280, "height": 900})
            _sign_in_browser(signer, link["url"])
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(f"{base}/staff/login?next=/staff/")
            page.fill("#email", LEGAL)
            page.fill("#password", PASSWORD)
            page.click("#login")
            page.wait_for_url("**/staff/")
            page.screenshot(path=str(args.out / "home.png"), full_page=True)
            page.goto(f"{base}/staff/agreements")
            page.screenshot(path=str(args.out / "agreements.png"))  # the first rows
            page.goto(f"{base}/staff/agreements/{dpa['agreement_id']}")
            page.screenshot(path=str(args.out / "agreement.png"), full_page=True)
            page.click("#countersign")
            page.wait_for_timeout(1500)  # the PDF viewer draws the document
            page.screenshot(path=str(args.out / "countersign.png"), full_page=True)
            browser.close()
    finally:
        server.should_exit = True
    for name in ("home", "agreements", "agreement", "countersign"):
        print(args.out / f"{name}.png")


if __name__ == "__main__":
    main()
