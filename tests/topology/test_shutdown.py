"""SIGTERM to `dpa-service serve`: no new connections, the request in flight finishes, then the
converter pool closes and its work files go."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import WORKSPACE, _free_port


def _cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "dpa_service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sigterm_finishes_the_request_in_flight_then_closes_the_pool(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DPA_")},
        "DPA_DATA_DIR": str(tmp_path / "data"),
        "DPA_ARCHIVE_DIR": str(tmp_path / "signed"),
        "DPA_PORT": str(port),
        "DPA_CONVERTER_WORKERS": "1",
        "DPA_SHUTDOWN_GRACE_SECONDS": "20",
    }
    _cli(["migrate"], env)
    token = _cli(["tokens", "create", "--role", "app", "--name", "t"], env).splitlines()[-1]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dpa_service.cli", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert list((tmp_path / "data" / "converter").glob("pool-*/w-*"))

        body = json.dumps(WORKSPACE).encode()
        half_sent = threading.Event()
        go_on = threading.Event()

        def slow_body() -> Iterator[bytes]:
            yield body[:40]
            half_sent.set()
            go_on.wait(10)
            yield body[40:]

        answer: dict[str, object] = {}

        def in_flight() -> None:
            r = httpx.put(
                f"{base}/api/v1/workspaces/ws-shutdown",
                content=slow_body(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=30,
            )
            answer["status"] = r.status_code

        thread = threading.Thread(target=in_flight)
        thread.start()
        assert half_sent.wait(10)
        time.sleep(0.3)  # the request is in the app, waiting for the rest of its body
        os.kill(proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        try:  # a draining replica takes no new connections
            refused = httpx.get(f"{base}/health", timeout=2).status_code != 200
        except httpx.TransportError:
            refused = True
        assert refused
        go_on.set()
        thread.join(30)
        assert answer.get("status") == 201, (answer, log.read_text()[-3000:])
        assert proc.wait(30) in (0, -signal.SIGTERM)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    text = log.read_text()
    assert "Application shutdown complete" in text, text[-3000:]
    assert '"path": "/api/v1/workspaces/ws-shutdown"' in text and '"status": 201' in text
    assert list((tmp_path / "data" / "converter").iterdir()) == []  # the pool's folder went
