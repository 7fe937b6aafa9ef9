"""A loopback TCP forwarder that can forward, hang (accept, never answer) or refuse, to play a
PostgreSQL that restarts or an S3 that hangs without touching the real servers."""

from __future__ import annotations

import socket
import threading


class Forwarder:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.mode = "forward"  # forward | hang | refuse
        self.streams: list[bytearray] = []  # what each connection sent upstream
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def set_mode(self, mode: str) -> None:
        """Switch, and drop every open connection (as a restarting server does)."""
        with self._lock:
            self.mode = mode
            dropped, self._open = self._open, set()
        for s in dropped:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self) -> None:
        self.set_mode("refuse")
        self._server.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            with self._lock:
                mode = self.mode
                if mode != "refuse":
                    self._open.add(client)
            if mode == "refuse":
                client.close()
            elif mode == "forward":
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()
            # hang: keep the socket open and never answer

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
        except OSError:
            client.close()
            return
        with self._lock:
            self._open.add(upstream)

        sent = bytearray()
        self.streams.append(sent)

        def pump(src: socket.socket, dst: socket.socket, record: bytearray | None = None) -> None:
            try:
                while chunk := src.recv(65536):
                    if record is not None:
                        record.extend(chunk)
                    dst.sendall(chunk)
            except OSError:
                pass
            finally:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream, sent)
