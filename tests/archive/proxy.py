"""A loopback TCP proxy that can hold upstream replies back: a worker 'in the middle of an upload'.

With `hold_replies` set, requests are forwarded to the upstream server in full (S3 stores the
object) but the reply is kept until `release()`, so the client is still waiting when a test
kills it: the nastiest moment for a crash, after the write landed and before it was recorded.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field


@dataclass
class HoldingProxy:
    upstream_port: int
    hold_replies: bool = False
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: socket.socket | None = None

    def start(self) -> HoldingProxy:
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(16)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def release(self) -> None:
        self.hold_replies = False
        self._released.set()

    def close(self) -> None:
        self.release()
        if self._server:
            self._server.close()

    def saw(self, method: bytes) -> bool:
        return any(r.startswith(method) for r in self.requests)

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        held = self.hold_replies

        def pump_requests() -> None:
            try:
                while chunk := client.recv(65536):
                    self.requests.append(chunk)
                    upstream.sendall(chunk)
            except OSError:
                pass
            finally:
                try:
                    upstream.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        threading.Thread(target=pump_requests, daemon=True).start()
        try:
            while chunk := upstream.recv(65536):
                if held:
                    self._released.wait()
                client.sendall(chunk)
        except OSError:
            pass
        finally:
            client.close()
            upstream.close()
