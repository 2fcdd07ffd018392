"""SMS behind a small provider interface: `console` logs the text (development, and the
default), `http` posts it to a provider's HTTP API."""

import contextlib
from collections.abc import AsyncIterator

import httpx
import structlog

from wayfare_common.outbound import http_client
from wayfare_notification.channels import Sender, SendFailed
from wayfare_notification.settings import Settings
from wayfare_notification.store.models import Delivery

log = structlog.get_logger("wayfare.notification.sms")


class ConsoleSms:
    async def send(self, delivery: Delivery) -> str:
        log.info(
            "sms", to=delivery.recipient, text=delivery.body_text, delivery_id=str(delivery.id)
        )
        return "logged"


class HttpSms:
    """POST {"from", "to", "text", "reference"} as JSON with a bearer token. The delivery
    id goes as `Idempotency-Key` too, so a provider that honours it drops a second send."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient):
        self.settings = settings
        self.client = client

    async def send(self, delivery: Delivery) -> str:
        settings = self.settings
        headers = {"Idempotency-Key": str(delivery.id)}
        if token := settings.sms_http_token.get_secret_value():
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = await self.client.post(
                settings.sms_http_url,
                json={
                    "from": settings.sms_sender,
                    "to": delivery.recipient,
                    "text": delivery.body_text,
                    "reference": str(delivery.id),
                },
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        detail = f"{response.status_code} {response.text[:200]}".strip()
        if response.status_code == 429 or response.status_code >= 500:
            raise SendFailed(detail)
        if response.status_code >= 400:
            raise SendFailed(detail, permanent=True)
        return detail


@contextlib.asynccontextmanager
async def sms_provider(settings: Settings) -> AsyncIterator[Sender]:
    if settings.sms_provider == "console":
        yield ConsoleSms()
        return
    async with http_client(settings.sms_http_url, timeout=settings.sms_timeout) as client:
        yield HttpSms(settings, client)
