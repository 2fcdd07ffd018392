"""What `make run` checks before it starts anything: that RabbitMQ answers at AMQP_URL and
that the suite's ports are free. A problem is reported in one line with its fix (exit 1),
within a few seconds; on success one line says where everything listens.

    python -m wayfare_common.devtools.preflight
"""

import asyncio
import importlib
import socket
import sys
from urllib.parse import urlsplit, urlunsplit

import aio_pika
from aio_pika.exceptions import ProbableAuthenticationError
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from wayfare_common.devtools.mailcatcher import MailCatcherSettings
from wayfare_common.settings import ServiceSettings

# In the order they are listed; each reads its own <NAME>_PORT, <NAME>_HOST.
PARTS = ("gateway", "auth", "flight", "booking", "payment", "notification", "admin")
CONNECT_TIMEOUT = 2.0
HANDSHAKE_TIMEOUT = 5.0
START_RABBITMQ = (
    "start it with `rabbitmq-server -detached` (or `docker run -d -p 5672:5672 rabbitmq:3.13`)"
)


class PreflightError(Exception):
    """The one line to print."""


def load_settings() -> dict[str, ServiceSettings]:
    """Each part's settings, read exactly as the part itself will read them."""
    settings = {}
    for name in PARTS:
        try:
            module = importlib.import_module(f"wayfare_{name}.settings")
        except ImportError as error:
            raise PreflightError(f"{error}: install the suite with `make venv`") from None
        settings[name] = read(name, module.Settings)
    return settings


def read(name: str, settings_cls: type[BaseSettings]) -> BaseSettings:
    try:
        return settings_cls()
    except ValidationError as error:
        problem = error.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise PreflightError(f"{name}: invalid setting {field!r}: {problem['msg']}") from None


def masked(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def in_use(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


async def check_broker(amqp_url: str) -> None:
    url = urlsplit(amqp_url)
    port = url.port or (5671 if url.scheme == "amqps" else 5672)
    fix = f"{START_RABBITMQ}, or set AMQP_URL (empty runs without a broker)"
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(url.hostname or "localhost", port), CONNECT_TIMEOUT
        )
        writer.close()
    except (OSError, TimeoutError):
        raise PreflightError(f"RabbitMQ is not reachable at {masked(amqp_url)}: {fix}") from None
    try:
        connection = await asyncio.wait_for(aio_pika.connect(amqp_url), HANDSHAKE_TIMEOUT)
    except ProbableAuthenticationError:
        raise PreflightError(
            f"RabbitMQ at {masked(amqp_url)} refused the login: "
            "check the user, password and virtual host in AMQP_URL"
        ) from None
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__  # one line
        raise PreflightError(
            f"{masked(amqp_url)} answers but the AMQP handshake failed ({reason}): "
            "check the host, port and virtual host in AMQP_URL"
        ) from None
    await connection.close()


def check_ports(settings: dict[str, ServiceSettings], mail: MailCatcherSettings) -> None:
    wanted = [(name, s.host, s.port, f"{name.upper()}_PORT") for name, s in settings.items()]
    wanted.append(("the mail catcher", mail.host, mail.port, "MAILCATCHER_PORT"))
    for name, host, port, variable in wanted:
        if in_use(host, port):
            raise PreflightError(
                f"port {port} ({name}) is already in use: stop what listens there "
                f"(an earlier `make run`?) or set {variable}"
            )


def summary(settings: dict[str, ServiceSettings], mail: MailCatcherSettings) -> str:
    gateway, *services = settings.values()
    parts = [f"gateway http://{_shown(gateway.host)}:{gateway.port}"]
    parts += [f"{s.service_name} :{s.port}" for s in services]
    parts.append(f"SMTP {mail.host}:{mail.port} -> {mail.mail_dir}/")
    broker = masked(gateway.amqp_url) if gateway.amqp_url else "none (events wait in outboxes)"
    parts.append(f"RabbitMQ {broker}")
    return "Wayfare: " + ", ".join(parts)


def _shown(host: str) -> str:
    return "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "") else host


def main() -> int:
    try:
        settings = load_settings()
        mail = read("mail catcher", MailCatcherSettings)
        amqp_url = settings["gateway"].amqp_url  # AMQP_URL is shared by every part
        if amqp_url:
            asyncio.run(check_broker(amqp_url))
        check_ports(settings, mail)
    except PreflightError as error:
        print(error, file=sys.stderr)
        return 1
    print(summary(settings, mail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
