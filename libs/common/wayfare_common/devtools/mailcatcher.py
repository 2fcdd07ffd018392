"""The SMTP catcher that `make run` starts: it accepts every message, delivers none,
writes each one as an `.eml` file under `$DATA_DIR/mail/` and logs one line about it.

    python -m wayfare_common.devtools.mailcatcher    # MAILCATCHER_HOST, MAILCATCHER_PORT
"""

import asyncio
import email
import email.policy
import itertools
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic_settings import BaseSettings, SettingsConfigDict

from wayfare_common.logging import configure_logging
from wayfare_common.settings import shared

log = structlog.get_logger("wayfare.mailcatcher")

# The greeting name; set so that aiosmtpd does not ask DNS for this machine's FQDN.
SERVER_NAME = "wayfare-mailcatcher"


class MailCatcherSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAILCATCHER_", extra="ignore")

    host: str = "localhost"
    port: int = 1025
    data_dir: Path = shared("DATA_DIR", Path(".data"))
    environment: str = shared("ENVIRONMENT", "development")
    log_level: str = shared("LOG_LEVEL", "INFO")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"


class MailHandler:
    """An aiosmtpd handler that accepts every message, writes it to `directory` as an
    `.eml` file (when given) and passes the parsed message to `on_message` (when given)."""

    def __init__(
        self,
        directory: Path | None = None,
        on_message: Callable[[EmailMessage], None] | None = None,
    ):
        self.directory = directory
        self.on_message = on_message
        self._sequence = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content: bytes = envelope.original_content or envelope.content
        message = email.message_from_bytes(content, policy=email.policy.default)
        path = self._write(content) if self.directory is not None else None
        log.info(
            "mail caught",
            sender=envelope.mail_from,
            to=envelope.rcpt_tos,
            subject=message["Subject"],
            file=str(path) if path else None,
        )
        if self.on_message is not None:
            self.on_message(message)
        return "250 Message accepted for delivery"

    def _write(self, content: bytes) -> Path:
        # Names sort by arrival; written under a temporary name first so that whoever
        # watches the folder never reads half a message.
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{os.getpid()}-{next(self._sequence)}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(content)
        os.replace(partial, path)
        return path


def smtp_factory(handler: MailHandler) -> Callable[[], SMTP]:
    return lambda: SMTP(handler, hostname=SERVER_NAME, enable_SMTPUTF8=True)


async def serve(settings: MailCatcherSettings) -> None:
    settings.mail_dir.mkdir(parents=True, exist_ok=True)
    handler = MailHandler(settings.mail_dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp_factory(handler), settings.host, settings.port)
    log.info(
        "SMTP catcher listening",
        address=f"{settings.host}:{settings.port}",
        directory=str(settings.mail_dir),
    )
    async with server:
        await server.serve_forever()


def main() -> int:
    settings = MailCatcherSettings()
    configure_logging(
        service="mailcatcher",
        level=settings.log_level,
        json=settings.environment != "development",
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every command
    try:
        asyncio.run(serve(settings))
    except OSError as error:
        print(
            f"mail catcher cannot listen on {settings.host}:{settings.port}: {error.strerror}; "
            "stop what uses that port or set MAILCATCHER_PORT",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
