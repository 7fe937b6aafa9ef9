"""Customer data never lingers on disk (issue 12, item 8): the converter's work files live in a
private folder under the data folder and are removed after every conversion, timeout and
shutdown, and a crashed process's leftovers at the next start; the SQLite file, the outbox's
.eml files and the secret key are readable by the service's user only."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
from email.message import EmailMessage
from pathlib import Path

import pytest

from dpa_service.config import Settings
from dpa_service.db import make_engine
from dpa_service.notify.mail import FolderTransport
from dpa_service.rendering.converter import ConverterPool, ConverterUnavailable, PoolSettings
from dpa_service.runtime import pool_settings
from tests.rendering.test_converter_pool import (
    busy_soffice,
    sample_docx,
    signal_if_alive,
    wait_until,
)

pytestmark = pytest.mark.slow


def make_pool(root: Path, **changes: object) -> ConverterPool:
    base = pool_settings(Settings.from_env(data_dir=root))
    values = {**base.__dict__, "size": 1, "timeout_s": 30.0, "queue_limit": 2, **changes}
    return ConverterPool(PoolSettings(**values))  # type: ignore[arg-type]


def files_under(path: Path) -> list[Path]:
    """Every file below `path`, LibreOffice's profile aside (no customer data in it)."""
    return [
        p
        for p in path.rglob("*")
        if p.is_file() and "profile" not in p.relative_to(path).parts and "tmp" not in p.parts
    ]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_work_files_are_private_and_removed_after_a_conversion_and_at_close(
    tmp_path: Path,
) -> None:
    root = tmp_path / "converter"
    with make_pool(tmp_path) as pool:
        assert pool.settings.work_dir == root
        assert mode(root) == 0o700
        pool.convert(sample_docx("Ziemeļu Logi, Brīvības iela 101", paragraphs=3))
        folders = [p for p in root.rglob("*") if p.is_dir() and "profile" not in p.parts]
        assert folders and all(mode(p) == 0o700 for p in folders)
        left = [p.name for p in files_under(root) if not p.name.endswith(".lock")]
        assert left == []  # no in.docx, no out.pdf
    assert list(root.iterdir()) == []  # closing removed the pool's folder and lock
    assert not list(Path("/tmp").glob(f"dpa-uno-*{os.getpid()}*"))


def test_a_timed_out_conversion_leaves_no_work_files(tmp_path: Path) -> None:
    root = tmp_path / "converter"
    with make_pool(tmp_path, timeout_s=3.0) as pool:
        (first,) = [p for p in root.glob("pool-*/w-*")]
        errors: list[Exception] = []

        def convert() -> None:
            try:
                pool.convert(sample_docx("Customer Name SIA", paragraphs=1500))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        thread = threading.Thread(target=convert)
        thread.start()
        for proc in busy_soffice(pool):
            signal_if_alive(proc, signal.SIGSTOP)  # hangs with in.docx open
        assert (first / "in.docx").exists()
        thread.join(30)
        assert errors and isinstance(errors[0], ConverterUnavailable)
        assert not first.exists()  # the killed worker's folder went with it
        assert wait_until(pool.whole, 30)
        assert not [p for p in files_under(root) if p.name == "in.docx"]


CRASHING_POOL = """
import sys, time
from pathlib import Path
from dpa_service.rendering.converter import ConverterPool, PoolSettings
pool = ConverterPool(PoolSettings(size=1, timeout_s=30, max_conversions=10, queue_limit=1,
                                  work_dir=Path(sys.argv[1])))
pool.start()
print("ready", flush=True)
time.sleep(600)
"""


def test_leftovers_of_a_killed_process_are_removed_at_start_and_live_pools_kept(
    tmp_path: Path,
) -> None:
    root = tmp_path / "converter"
    crashed = subprocess.Popen(
        [sys.executable, "-c", CRASHING_POOL, str(root)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert crashed.stdout is not None and crashed.stdout.readline().strip() == "ready"
    (abandoned,) = root.glob("pool-*/w-*")
    (abandoned / "in.docx").write_bytes(b"a customer's details")  # as if killed mid-conversion
    os.killpg(crashed.pid, signal.SIGKILL)  # the process and its LibreOffice, no clean-up
    crashed.wait(10)
    assert abandoned.exists()

    with make_pool(tmp_path) as live, make_pool(tmp_path) as second:
        assert not abandoned.parent.exists()  # removed when the first pool started
        # the second pool started while the first lived: the first's folder stayed
        assert len(list(root.glob("pool-*.lock"))) == 2
        assert live.convert(sample_docx(paragraphs=2)).startswith(b"%PDF-")
        assert second.convert(sample_docx(paragraphs=2)).startswith(b"%PDF-")
    assert list(root.iterdir()) == []


def test_sqlite_file_outbox_messages_and_secret_key_are_private(tmp_path: Path) -> None:
    db = tmp_path / "dpa.sqlite3"
    db.touch(mode=0o644)
    db.chmod(0o644)  # an older install's file
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.commit()
    engine.dispose()
    fresh = tmp_path / "new.sqlite3"
    make_engine(f"sqlite:///{fresh}").dispose()
    assert mode(db) == 0o600 and mode(fresh) == 0o600

    msg = EmailMessage()
    msg["Subject"] = "Your code"
    msg.set_content("123456")
    FolderTransport(tmp_path / "outbox").send(msg, envelope_from="a@b.c", to="d@e.f", key="k1")
    assert mode(tmp_path / "outbox" / "k1.eml") == 0o600

    settings = Settings.from_env(data_dir=tmp_path / "data")
    settings.resolved_secret_key()
    key = tmp_path / "data" / "secret_key"
    assert mode(key) == 0o600
    key.chmod(0o644)
    settings.resolved_secret_key()  # an older install's key is made private on the next start
    assert mode(key) == 0o600
