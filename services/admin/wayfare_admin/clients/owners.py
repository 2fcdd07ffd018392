"""HTTP to the services that own what staff act on (auth, booking, payment) and to the
flight service's public catalog.

Staff actions are forwarded with the admin's own `Authorization` header and the
request's `X-Request-ID` (DESIGN §6): the owner checks the admin's role itself, and
records the admin as the actor of the events it emits, under the same correlation id.
"""

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import orjson

from wayfare_admin.settings import Settings
from wayfare_common.money import Money
from wayfare_common.outbound import http_client

Service = Literal["auth", "booking", "payment", "flight"]


@dataclass(frozen=True)
class Caller:
    """What is forwarded from the admin's request."""

    authorization: str
    request_id: str | None
    idempotency_key: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": self.authorization}
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        if self.idempotency_key:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers


@dataclass(frozen=True)
class Answer:
    """The owner's answer, as it came."""

    service: Service
    status: int
    body: bytes
    content_type: str

    @property
    def is_json(self) -> bool:
        return self.content_type.split(";")[0].strip().endswith("json")

    @property
    def code(self) -> str | None:
        """The problem's `code` when the owner refused."""
        if self.status < 400 or not self.is_json:
            return None
        try:
            body = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        return body.get("code") if isinstance(body, dict) else None


class OwnerUnavailable(Exception):
    """`unreachable`: the request never left (nothing can have changed); `no_answer`: it
    was sent, but no complete answer came back in time (it may have been applied)."""

    def __init__(self, service: Service, reason: Literal["unreachable", "no_answer"]):
        self.service = service
        self.reason = reason
        super().__init__(f"{service} {reason}")


class Owners:
    def __init__(self, settings: Settings):
        self.urls: dict[Service, str] = {
            "auth": settings.auth_url.rstrip("/"),
            "booking": settings.booking_url.rstrip("/"),
            "payment": settings.payment_url.rstrip("/"),
            "flight": settings.flight_url.rstrip("/"),
        }
        timeout = httpx.Timeout(settings.owner_timeout, connect=min(settings.owner_timeout, 5.0))
        self._client = http_client(self.urls.values(), timeout=timeout)

    async def close(self) -> None:
        await self._client.aclose()

    async def _send(
        self,
        service: Service,
        method: str,
        path: str,
        caller: Caller | None = None,
        body: dict[str, Any] | None = None,
    ) -> Answer:
        try:
            response = await self._client.request(
                method,
                self.urls[service] + path,
                headers=caller.headers() if caller else None,
                json=body,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            raise OwnerUnavailable(service, "unreachable") from None
        except httpx.HTTPError:
            raise OwnerUnavailable(service, "no_answer") from None
        return Answer(
            service,
            response.status_code,
            response.content,
            response.headers.get("content-type", ""),
        )

    # Staff actions

    async def deactivate_user(self, caller: Caller, user_id: uuid.UUID) -> Answer:
        return await self._send("auth", "POST", f"/api/v1/users/{user_id}/deactivate", caller)

    async def reactivate_user(self, caller: Caller, user_id: uuid.UUID) -> Answer:
        return await self._send("auth", "POST", f"/api/v1/users/{user_id}/reactivate", caller)

    async def change_role(self, caller: Caller, user_id: uuid.UUID, role: str) -> Answer:
        return await self._send(
            "auth", "PUT", f"/api/v1/users/{user_id}/role", caller, {"role": role}
        )

    async def cancel_booking(self, caller: Caller, booking_id: uuid.UUID, reason: str) -> Answer:
        return await self._send(
            "booking", "POST", f"/api/v1/bookings/{booking_id}/cancel", caller, {"reason": reason}
        )

    async def refund_payment(
        self, caller: Caller, payment_id: uuid.UUID, amount: Money | None, reason: str
    ) -> Answer:
        body: dict[str, Any] = {"reason": reason}
        if amount is not None:
            body["amount"] = amount.to_json()
        return await self._send(
            "payment", "POST", f"/api/v1/payments/{payment_id}/refund", caller, body
        )

    async def mark_paid(
        self, caller: Caller, payment_id: uuid.UUID, reason: str, reference: str
    ) -> Answer:
        return await self._send(
            "payment",
            "POST",
            f"/api/v1/payments/{payment_id}/mark-paid",
            caller,
            {"reason": reason, "reference": reference},
        )

    # The flight service's public catalog (no token needed)

    async def flight(self, flight_id: uuid.UUID) -> dict[str, Any] | None:
        return await self._catalog(f"/api/v1/flights/{flight_id}")

    async def package(self, package_id: uuid.UUID) -> dict[str, Any] | None:
        return await self._catalog(f"/api/v1/packages/{package_id}")

    async def _catalog(self, path: str) -> dict[str, Any] | None:
        """The resource, or None when the flight service says it does not exist."""
        answer = await self._send("flight", "GET", path)
        if answer.status == 404:
            return None
        if answer.status != 200 or not answer.is_json:
            raise OwnerUnavailable("flight", "unreachable")
        return orjson.loads(answer.body)
