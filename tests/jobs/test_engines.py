"""The job engines: waking the SAQ queue never holds a request up, even when Redis hangs."""

from __future__ import annotations

import socket
import threading

from dpa_service.jobs.engines import QueueJobs


def test_waking_a_hanging_redis_does_not_wait() -> None:
    """A server that accepts connections and never answers, as a stuck Redis does."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        port = server.getsockname()[1]
        accepted: list[socket.socket] = []

        def accept() -> None:
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                accepted.append(conn)

        threading.Thread(target=accept, daemon=True).start()
        jobs = QueueJobs(f"redis://127.0.0.1:{port}/0")
        jobs._queue = _StuckQueue()  # connecting would hang too: the kick is what we test
        jobs._thread.start()
        try:
            kicked = threading.Thread(target=jobs.kick)
            kicked.start()
            kicked.join(2)
            assert not kicked.is_alive(), "kick() waited for the queue"
        finally:
            jobs._loop.call_soon_threadsafe(jobs._loop.stop)


class _StuckQueue:
    async def enqueue(self, *_: object, **__: object) -> None:
        import asyncio

        await asyncio.sleep(3600)
