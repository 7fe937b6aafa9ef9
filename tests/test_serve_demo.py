"""The README's first command: `dpa-service serve --demo` on the embedded defaults, as a real server."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import _free_port
from tests.pdf_text import pdf_text


def test_serve_demo_then_the_readme_walkthrough(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DPA_PORT": str(port),
        "DPA_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DPA_CONVERTER_WORKERS": "1",
    }
    env.pop("DPA_DATABASE_URL", None)
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dpa_service.cli", "serve", "--demo"],
        cwd=tmp_path,  # embedded defaults are relative: ./data and ./signed
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, Path(log.name).read_text()
            time.sleep(0.3)
        else:
            raise AssertionError("service not ready: " + Path(log.name).read_text())

        output = Path(log.name).read_text()
        token = re.search(r"export DPA_TOKEN=(dpa_\S+)", output)
        assert token, output
        assert "/api/v1/workspaces/demo-workspace/agreements" in output
        headers = {"Authorization": f"Bearer {token.group(1)}"}

        created = httpx.post(
            f"{base}/api/v1/workspaces/demo-workspace/agreements", headers=headers, timeout=60
        )
        assert created.status_code == 201, created.text
        body = created.json()
        pdf = httpx.get(body["download_url"], headers=headers, timeout=30)
        assert pdf.status_code == 200
        assert hashlib.sha256(pdf.content).hexdigest() == body["sha256"]
        assert "Rīgas Tīrīšanas Serviss" in pdf_text(pdf.content)
        # the printed staff login works on the staff pages
        login = re.search(r"(demo-legal@klusaro\.com)\s+(\S+)\s+\(legal\)", output)
        assert login, output
        with httpx.Client(base_url=base, timeout=30) as browser:
            form = browser.get("/staff/login")
            csrf = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
            assert csrf
            logged_in = browser.post(
                "/staff/login",
                data={
                    "email": login.group(1),
                    "password": login.group(2),
                    "next": "/staff/",
                    "_csrf_token": csrf.group(1),
                },
            )
            assert logged_in.status_code == 303, logged_in.text
            assert "Demo Legal" in browser.get("/staff/").text
        # the embedded defaults: SQLite in ./data, the PDF in ./signed
        assert (tmp_path / "data" / "dpa.sqlite3").is_file()
        assert (
            tmp_path / "signed" / "agreements" / body["agreement_id"] / "v1" / "draft.pdf"
        ).is_file()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_serve_demo_on_another_port_prints_and_answers_urls_of_that_port(tmp_path: Path) -> None:
    """`serve --demo --port P` without DPA_PUBLIC_URL: the printed commands and the API's
    download URLs name port P (they named the default 8000, where nothing answers)."""
    port = _free_port()
    env = {**os.environ, "DPA_CONVERTER_WORKERS": "1"}
    for name in ("DPA_DATABASE_URL", "DPA_PUBLIC_URL", "DPA_PORT"):
        env.pop(name, None)
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dpa_service.cli", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, Path(log.name).read_text()
            time.sleep(0.3)
        else:
            raise AssertionError("service not ready: " + Path(log.name).read_text())
        output = Path(log.name).read_text()
        assert "127.0.0.1:8000" not in output, output
        assert f"{base}/api/v1/workspaces/demo-workspace/agreements" in output
        token = re.search(r"export DPA_TOKEN=(dpa_\S+)", output)
        assert token, output
        created = httpx.post(
            f"{base}/api/v1/workspaces/demo-workspace/agreements",
            headers={"Authorization": f"Bearer {token.group(1)}"},
            timeout=60,
        )
        assert created.status_code == 201, created.text
        assert created.json()["download_url"].startswith(f"{base}/")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        log.close()
