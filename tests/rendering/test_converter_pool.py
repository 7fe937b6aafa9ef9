"""The LibreOffice pool survives crashes and hangs, recycles workers and bounds its queue."""

from __future__ import annotations

import io
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import psutil
import pytest

from dpa_service.config import Settings
from dpa_service.rendering.converter import (
    ConverterBusy,
    ConverterPool,
    ConverterUnavailable,
    PoolSettings,
)
from dpa_service.runtime import pool_settings
from tests.conftest import make_api
from tests.pdf_text import pdf_text

pytestmark = pytest.mark.slow


def sample_docx(text: str = "Šķūņu paraugs — sample", paragraphs: int = 300) -> bytes:
    document = docx.Document()
    for i in range(paragraphs):
        document.add_paragraph(f"{text} {i}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_pool(**changes: object) -> ConverterPool:
    base = pool_settings(Settings.from_env())
    values = {**base.__dict__, "size": 1, "timeout_s": 30.0, "queue_limit": 2, **changes}
    return ConverterPool(PoolSettings(**values))  # type: ignore[arg-type]


def soffice_of(worker_pid: int) -> list[psutil.Process]:
    return psutil.Process(worker_pid).children(recursive=True)


def wait_until(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return False


def signal_if_alive(proc: psutil.Process, signum: int) -> None:
    """LibreOffice starts and ends short-lived helpers: one listed a moment ago may be gone."""
    try:
        proc.send_signal(signum)
    except psutil.NoSuchProcess:
        pass


def busy_soffice(pool: ConverterPool) -> list[psutil.Process]:
    assert wait_until(lambda: bool(pool.busy_worker_pids()), 10), "no conversion started"
    time.sleep(0.15)  # let LibreOffice get into the document
    return soffice_of(pool.busy_worker_pids()[0])


@pytest.fixture
def pool2() -> Iterator[ConverterPool]:
    with make_pool(size=2) as p:
        yield p


def test_a_conversion_yields_pdf_with_the_text(pool2: ConverterPool) -> None:
    pdf = pool2.convert(sample_docx(paragraphs=5))
    assert pdf.startswith(b"%PDF-")
    assert "Šķūņu paraugs — sample 4" in pdf_text(pdf)


def test_killing_soffice_mid_conversion_retries_and_the_pool_heals(pool2: ConverterPool) -> None:
    before = set(pool2.worker_pids())
    result: dict[str, object] = {}

    def convert() -> None:
        try:
            result["pdf"] = pool2.convert(sample_docx(paragraphs=1500))
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion below
            result["error"] = exc

    thread = threading.Thread(target=convert)
    thread.start()
    for proc in busy_soffice(pool2):
        proc.send_signal(signal.SIGKILL)
    thread.join(60)
    # retried on another worker, or refused as unavailable (503) — never a broken result
    if "error" in result:
        assert isinstance(result["error"], ConverterUnavailable)
    else:
        assert pdf_text(result["pdf"]).count("Šķūņu paraugs") == 1500  # type: ignore[arg-type]
    assert wait_until(pool2.whole, 30), "the pool did not get back to full strength"
    assert set(pool2.worker_pids()) != before
    assert pool2.convert(sample_docx(paragraphs=3)).startswith(b"%PDF-")


def test_a_hanging_conversion_is_stopped_by_the_timeout() -> None:
    with make_pool(size=1, timeout_s=3.0) as pool:
        errors: list[Exception] = []
        started = time.monotonic()

        def convert() -> None:
            try:
                pool.convert(sample_docx(paragraphs=1500))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        thread = threading.Thread(target=convert)
        thread.start()
        hung = busy_soffice(pool)
        for proc in hung:
            signal_if_alive(proc, signal.SIGSTOP)  # a real hang: the process stops answering
        thread.join(30)
        elapsed = time.monotonic() - started
        assert errors and isinstance(errors[0], ConverterUnavailable)
        assert "did not finish within 3s" in str(errors[0])
        assert elapsed < 10
        assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in hung)
        assert wait_until(pool.whole, 30)
        assert pool.convert(sample_docx(paragraphs=3)).startswith(b"%PDF-")


def test_a_full_queue_is_refused_at_once_with_retry_after() -> None:
    with make_pool(size=1, queue_limit=0, timeout_s=5.0) as pool:
        thread = threading.Thread(target=_swallow, args=(pool,))
        thread.start()
        for proc in busy_soffice(pool):
            signal_if_alive(proc, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(ConverterBusy) as busy:
            pool.convert(sample_docx(paragraphs=3))
        assert time.monotonic() - started < 1
        assert busy.value.retry_after >= 1
        thread.join(30)


def test_workers_are_recycled_after_n_conversions() -> None:
    with make_pool(size=1, max_conversions=2) as pool:
        first = pool.worker_pids()
        for _ in range(2):
            pool.convert(sample_docx(paragraphs=3))
        assert wait_until(lambda: pool.whole() and pool.worker_pids() != first, 30)
        assert pool.convert(sample_docx(paragraphs=3)).startswith(b"%PDF-")
        assert pool.restarts == 1


def test_api_answers_503_with_retry_after_when_the_converter_is_saturated(tmp_path: Path) -> None:
    with make_pool(size=1, queue_limit=0, timeout_s=5.0) as pool:
        for api in make_api("sqlite", f"sqlite:///{tmp_path / 'busy.sqlite3'}", tmp_path, pool):
            api.put_workspace("busy-ws")
            thread = threading.Thread(target=_swallow, args=(pool,))
            thread.start()
            for proc in busy_soffice(pool):
                signal_if_alive(proc, signal.SIGSTOP)
            r = api.request_dpa("busy-ws")
            assert r.status_code == 503
            assert int(r.headers["retry-after"]) >= 1
            thread.join(30)
            # nothing was stored for the refused request; once the pool is back it works
            assert wait_until(pool.whole, 30)
            r = api.request_dpa("busy-ws")
            assert r.status_code == 201 and r.json()["version"] == 1


def _swallow(pool: ConverterPool) -> None:
    """Start a long conversion that the test will hang; its failure is expected."""
    try:
        pool.convert(sample_docx(paragraphs=1500))
    except ConverterUnavailable:
        pass


def test_a_replacement_that_fails_to_start_is_retried_until_it_starts(tmp_path: Path) -> None:
    """LibreOffice killed and failing to start for a while: the pool does not stay empty."""
    broken = tmp_path / "broken"
    soffice = tmp_path / "soffice"
    # A soffice that refuses to start while the file `broken` exists.
    soffice.write_text(f'#!/bin/sh\n[ -e "{broken}" ] && exit 1\nexec soffice "$@"\n')
    soffice.chmod(0o755)
    with make_pool(soffice=str(soffice), timeout_s=5.0) as pool:
        assert pool.convert(sample_docx(paragraphs=5)).startswith(b"%PDF")
        broken.touch()
        (worker_pid,) = pool.worker_pids()
        for proc in soffice_of(worker_pid):
            proc.kill()  # the next conversion finds it dead, and its replacement fails to start
        with pytest.raises(ConverterUnavailable):
            pool.convert(sample_docx(paragraphs=5))
        assert wait_until(lambda: not pool.worker_pids(), 20), "the dead worker was not removed"
        broken.unlink()  # LibreOffice can start again: the retry brings a worker back
        assert wait_until(lambda: pool.whole(), 60), "the pool stayed empty"
        assert pool.convert(sample_docx(paragraphs=5)).startswith(b"%PDF")
