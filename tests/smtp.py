"""A loopback SMTP server (aiosmtpd) that keeps what it receives, for tests.

It can be stopped and started again on the same port (SMTP down, then back), and told to answer
the next messages with a reply of choice (451: try later; 554: refused).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any, cast

from aiosmtpd.controller import Controller

from tests.conftest import _free_port


class ReceivedMessage(EmailMessage):
    """A message as the server parsed it, with the SMTP envelope it came in."""

    mail_from: str = ""
    rcpt_tos: list[str]
    raw: bytes = b""


class LoopbackSMTP:
    def __init__(self, port: int = 0) -> None:
        self.port = port or _free_port()
        self.messages: list[ReceivedMessage] = []
        self._changed = threading.Condition()
        self._replies: list[str] = []  # answers to the next DATA commands, instead of 250
        self._controller: Controller | None = None

    # -- control ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._controller is not None:
            return
        controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
        )
        deadline = time.monotonic() + 10
        while True:  # the port can linger briefly after stop()
            try:
                controller.start()
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self._controller = controller

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def fail_next(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next `count` messages with `reply` instead of accepting them."""
        with self._changed:
            self._replies.extend([reply] * count)

    # -- what arrived ----------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[list[ReceivedMessage]], Any], timeout: float = 10
    ) -> Any:
        """Wait until `predicate(messages)` is truthy; returns its value, or fails at the deadline."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                value = predicate(list(self.messages))
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"no matching message within {timeout}s; received: "
                        f"{[(m['To'], m['Subject']) for m in self.messages]}"
                    )
                self._changed.wait(left)

    def to(self, address: str) -> list[ReceivedMessage]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def _received(self, envelope: Any) -> str:
        with self._changed:
            if self._replies:
                return self._replies.pop(0)
            raw = envelope.original_content or envelope.content
            parser = BytesParser(_class=ReceivedMessage, policy=policy.default)
            msg = cast(ReceivedMessage, parser.parsebytes(raw))
            msg.mail_from = envelope.mail_from
            msg.rcpt_tos = list(envelope.rcpt_tos)
            msg.raw = raw
            self.messages.append(msg)
            self._changed.notify_all()
            return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"


class _Handler:
    def __init__(self, server: LoopbackSMTP) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return self.server._received(envelope)
