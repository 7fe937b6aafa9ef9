"""A pool of warm LibreOffice workers that turn DOCX bytes into PDF/A-2b bytes.

Each worker is `uno_worker.py` running under Debian's Python (where `uno` imports) with its own
soffice and profile; the two talk over the worker's stdin/stdout. The pool bounds the queue,
stops a conversion that overruns its timeout, replaces a worker that crashed or hung, and
recycles each worker after a number of conversions so LibreOffice's memory cannot creep.

Work files (the DOCX being converted holds a customer's details, and LibreOffice's profile) live
in a private folder (0700), `work_dir`: one folder per pool, locked with `flock` while the pool
lives, one per worker inside it. A conversion's files are removed when it ends; a killed
worker's folder when it is killed; the pool's folder when the pool closes; and at start, the
folders of pools whose process died (their lock is free) are removed.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import secrets
import select
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

WORKER_SCRIPT = Path(__file__).with_name("uno_worker.py")


class ConverterError(Exception):
    """The document could not be converted."""


class ConverterBusy(ConverterError):
    """Every worker is busy and the queue is full; try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the document converter is busy")
        self.retry_after = retry_after


class ConverterUnavailable(ConverterError):
    """A worker died or overran its timeout and the retry failed as well."""

    def __init__(self, message: str, retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class PoolSettings:
    size: int
    timeout_s: float
    max_conversions: int
    queue_limit: int
    python: str = "/usr/bin/python3"
    soffice: str = "soffice"
    start_timeout_s: float = 60.0
    work_dir: Path | None = None  # private folder for work files; None: one under the temp dir


def default_work_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"dpa-converter-{os.getuid()}"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)  # an existing folder too: it holds customers' documents
    return path


def remove_abandoned(root: Path) -> int:
    """Remove the work folders of pools whose process is gone (a crash, a SIGKILL): their
    lock file is no longer held. Folders of live pools, in this process or another sharing the
    data folder, are left alone. Returns how many were removed."""
    removed = 0
    if not root.is_dir():
        return 0
    for lock_path in root.glob("pool-*.lock"):
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue  # a live pool
        try:
            shutil.rmtree(lock_path.with_suffix(""), ignore_errors=True)
            lock_path.unlink(missing_ok=True)
            removed += 1
        finally:
            os.close(fd)
    # a pool folder whose lock file is gone belongs to no live pool (the lock comes first)
    for folder in root.glob("pool-*"):
        if folder.is_dir() and not folder.with_suffix(".lock").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


class _WorkFolder:
    """This pool's private folder under the work root, locked (flock) while the pool lives."""

    def __init__(self, root: Path) -> None:
        _private_dir(root)
        name = f"pool-{os.getpid()}-{secrets.token_hex(6)}"
        self.lock_path = root / f"{name}.lock"
        self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        self.path = root / name
        self.path.mkdir(mode=0o700)

    def new_worker_dir(self) -> Path:
        return Path(tempfile.mkdtemp(prefix="w-", dir=self.path))  # 0700

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.lock_path.unlink(missing_ok=True)
        os.close(self._lock_fd)


class _WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self, settings: PoolSettings, workdir: Path) -> None:
        self.settings = settings
        self.workdir = workdir
        self.conversions = 0
        self.proc = subprocess.Popen(
            [settings.python, str(WORKER_SCRIPT), settings.soffice, str(workdir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so soffice dies with it
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin
        self._out_fd = self.proc.stdout.fileno()
        try:
            kind, _ = self._read_frame(time.monotonic() + settings.start_timeout_s)
        except BaseException:
            self.kill()
            raise
        if kind != b"R":
            self.kill()
            raise _WorkerDied("worker did not report ready")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_exact(self, n: int, deadline: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._out_fd], [], [], remaining)
            if not ready:
                raise TimeoutError
            chunk = os.read(self._out_fd, min(n - len(buf), 1 << 20))
            if not chunk:
                raise _WorkerDied("worker closed its output")
            buf.extend(chunk)
        return bytes(buf)

    def _read_frame(self, deadline: float) -> tuple[bytes, bytes]:
        head = self._read_exact(5, deadline)
        (size,) = struct.unpack(">I", head[1:])
        return head[:1], self._read_exact(size, deadline)

    def convert(self, docx: bytes, timeout_s: float) -> bytes:
        deadline = time.monotonic() + timeout_s
        try:
            self._in.write(struct.pack(">I", len(docx)) + docx)
            self._in.flush()
        except (BrokenPipeError, OSError) as exc:
            raise _WorkerDied(str(exc)) from exc
        kind, payload = self._read_frame(deadline)
        self.conversions += 1
        if kind == b"O":
            return payload
        raise ConverterError(payload.decode(errors="replace"))

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        # soffice is a grandchild in the group: it dies a moment after the signal. Wait for
        # it (briefly), so a replaced worker's LibreOffice is gone, not still holding memory.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.proc.pid, 0)
            except (ProcessLookupError, PermissionError):
                break
            time.sleep(0.02)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        # killed mid-conversion, it left the customer's document and its profile behind
        shutil.rmtree(self.workdir, ignore_errors=True)


class ConverterPool:
    """Thread-safe; `convert` blocks the calling thread until a worker has finished."""

    def __init__(self, settings: PoolSettings) -> None:
        self.settings = settings
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._admission = threading.BoundedSemaphore(settings.size + settings.queue_limit)
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        self._starting = 0
        self._failing_since: float | None = None  # since when LibreOffice fails to start
        self._folder: _WorkFolder | None = None
        self._in_flight = 0  # admitted conversions: converting or waiting for a worker
        self.restarts = 0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        root = (self.settings.work_dir or default_work_dir()).resolve()
        removed = remove_abandoned(_private_dir(root))
        if removed:
            log.warning("removed %d converter work folders left by a crashed process", removed)
        self._folder = _WorkFolder(root)
        threads = [threading.Thread(target=self._spawn) for _ in range(self.settings.size)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if not self._workers:
            raise ConverterUnavailable("no LibreOffice worker could be started")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for w in workers:
            w.kill()
        if self._folder is not None:
            self._folder.remove()
            self._folder = None

    def __enter__(self) -> ConverterPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, retry: bool = False) -> None:
        """Start one worker in a work folder of its own. At start-up a failure is final
        (start() says so); a replacement keeps trying, with a growing pause, until it starts or
        the pool closes — a pool must never shrink for good because LibreOffice failed to start
        once."""
        pause = 1.0
        while True:
            with self._lock:
                if self._closed or self._folder is None:
                    return  # closing: no replacement
                self._starting += 1
                workdir = self._folder.new_worker_dir()
            try:
                worker = _Worker(self.settings, workdir)
            except Exception:
                log.exception("could not start a LibreOffice worker")
                shutil.rmtree(workdir, ignore_errors=True)
                with self._lock:
                    self._starting -= 1
                    self._failing_since = self._failing_since or time.monotonic()
                if not retry:
                    return
                time.sleep(pause)
                pause = min(pause * 2, 60.0)
                continue
            with self._lock:
                self._starting -= 1
                self._failing_since = None
                if self._closed:
                    worker.kill()
                    return
                self._workers.add(worker)
            self._idle.put(worker)
            return

    def _replace(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
            self.restarts += 1
        worker.kill()
        threading.Thread(target=self._spawn, args=(True,), daemon=True).start()

    # -- state -----------------------------------------------------------------------------
    def worker_pids(self) -> list[int]:
        with self._lock:
            return sorted(w.pid for w in self._workers)

    def busy_worker_pids(self) -> list[int]:
        with self._lock:
            busy = set(self._workers) - set(self._idle.queue)
            return sorted(w.pid for w in busy)

    def load(self) -> tuple[int, int]:
        """(busy workers, conversions waiting for one), for metrics."""
        with self._lock:
            busy = len(set(self._workers) - set(self._idle.queue))
            return busy, max(0, self._in_flight - busy)

    def healthy(self) -> bool:
        with self._lock:
            alive = [w for w in self._workers if w.proc.poll() is None]
            return bool(alive) or self._starting > 0

    def whole(self) -> bool:
        with self._lock:
            alive = [w for w in self._workers if w.proc.poll() is None]
            return len(alive) == self.settings.size

    # -- work ------------------------------------------------------------------------------
    def convert(self, docx: bytes) -> bytes:
        if not self._admission.acquire(blocking=False):
            raise ConverterBusy(retry_after=max(1, round(self.settings.timeout_s / 4)))
        with self._lock:
            self._in_flight += 1
        try:
            try:
                return self._convert_once(docx)
            except _WorkerDied as exc:
                log.warning("LibreOffice worker died mid-conversion (%s); retrying once", exc)
                try:
                    return self._convert_once(docx)
                except _WorkerDied as again:
                    raise ConverterUnavailable(f"conversion failed twice: {again}") from again
        finally:
            with self._lock:
                self._in_flight -= 1
            self._admission.release()

    def _convert_once(self, docx: bytes) -> bytes:
        worker = self._free_worker()
        if worker.proc.poll() is not None:
            self._replace(worker)
            raise _WorkerDied("worker was found dead")
        try:
            pdf = worker.convert(docx, self.settings.timeout_s)
        except TimeoutError:
            log.warning(
                "conversion overran %.1fs; killing worker %d", self.settings.timeout_s, worker.pid
            )
            self._replace(worker)
            raise ConverterUnavailable(
                f"the conversion did not finish within {self.settings.timeout_s:g}s"
            ) from None
        except _WorkerDied:
            self._replace(worker)
            raise
        except ConverterError:
            self._release(worker)
            raise
        self._release(worker)
        return pdf

    def _free_worker(self) -> _Worker:
        """The next idle worker. While none is free, waiting is worth it only if one may come:
        when LibreOffice keeps failing to start and no worker is left, say so at once."""
        deadline = time.monotonic() + self.settings.start_timeout_s
        while True:
            try:
                return self._idle.get(timeout=0.25)
            except queue.Empty:
                pass
            with self._lock:
                down = self._failing_since is not None and not self._workers
            if down:
                raise ConverterUnavailable("the document converter is restarting", retry_after=10)
            if time.monotonic() > deadline:
                raise ConverterUnavailable("no LibreOffice worker became free")

    def _release(self, worker: _Worker) -> None:
        if worker.conversions >= self.settings.max_conversions:
            self._replace(worker)
        else:
            self._idle.put(worker)
