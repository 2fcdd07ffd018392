"""A real SMTP server for tests (aiosmtpd on its own thread), recording what it receives.
The `smtp_server` fixture gives each test its own, on a free port:

    async def test_sends_the_receipt(smtp_server):
        ... send to smtp_server.host:smtp_server.port ...
        [message] = await smtp_server.wait_for(1)
        assert message["To"] == "ada@example.com"
"""

import asyncio
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from wayfare_common.devtools.mailcatcher import SERVER_NAME, MailHandler


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class RecordingSMTPServer:
    """Keeps every message it receives in `.messages`, parsed; also writes them as `.eml`
    files when given a `directory`. Use as a context manager (or `start()`/`stop()`)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, directory: Path | None = None):
        self.host = host
        self.port = port or free_port(host)
        self.messages: list[EmailMessage] = []
        # A thread of its own, so that blocking clients (smtplib) work from a test too.
        self._controller = Controller(
            MailHandler(directory, on_message=self.messages.append),
            hostname=host,
            port=self.port,
            server_hostname=SERVER_NAME,
        )

    def start(self) -> "RecordingSMTPServer":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "RecordingSMTPServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # `timeout` bounds a poll of a list that another thread fills.
    async def wait_for(
        self,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[EmailMessage]:
        """The first `count` messages, once they have arrived; fails after `timeout` s."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"{len(self.messages)} of {count} messages arrived within {timeout} s")
            await asyncio.sleep(0.02)
        return self.messages[:count]


@pytest.fixture
def smtp_server() -> Iterator[RecordingSMTPServer]:
    with RecordingSMTPServer() as server:
        yield server
