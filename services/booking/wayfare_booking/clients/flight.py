"""The flight service over HTTP (docs/flight-internal-api.md): re-price an offer, read a
package, place, read and release a hold. Every call forwards the caller's access token
and request id (DESIGN §6).

Flight's answers become ours: a 409 stays a 409 with flight's code (seats_unavailable,
hold_limit_reached, ...), a missing offer, package or departure is a 422 on the item that
names it, and anything else (timeouts, refused connections, 5xx, a refused token) is a
503 `flight_unavailable`: the customer may try again."""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from wayfare_common.outbound import http_client
from wayfare_common.problems import Problem

log = structlog.get_logger("wayfare.booking.flight")

# Flight's own codes worth passing on as they are.
_GONE = {"offer_not_found", "package_not_found", "departure_not_found"}


@dataclass(frozen=True)
class Caller:
    """What a call forwards: the customer's `Authorization` header and request id."""

    authorization: str
    request_id: str | None = None

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": self.authorization}
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        return headers


class FlightUnavailable(Problem):
    status, code = 503, "flight_unavailable"

    def __init__(self, detail: str = "Seats and prices cannot be checked right now; try again."):
        super().__init__(detail, headers={"Retry-After": "5"})


class FlightClient:
    def __init__(self, client: httpx.AsyncClient):
        self.http = client

    @classmethod
    def create(cls, base_url: str, timeout: float) -> "FlightClient":
        return cls(
            http_client(
                base_url,
                base_url=base_url,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
                limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            )
        )

    async def close(self) -> None:
        await self.http.aclose()

    async def offer(self, offer_id: str, party: dict[str, int], caller: Caller, item: int) -> dict:
        """The offer priced now for `party` (adults, children, infants)."""
        # Quoted: an offer id is the client's text, and must stay one path segment.
        path = f"/internal/offers/{quote(offer_id, safe='')}"
        return await self._call("GET", path, caller, item=item, params=party)

    async def package(self, package_id: uuid.UUID, caller: Caller, item: int) -> dict:
        return await self._call("GET", f"/api/v1/packages/{package_id}", caller, item=item)

    async def place_hold(self, body: dict, caller: Caller) -> dict:
        """Idempotent per booking id (same body: the same hold), so one retry after a
        network error is safe."""
        try:
            return await self._call("POST", "/internal/holds", caller, json=body)
        except FlightUnavailable:
            return await self._call("POST", "/internal/holds", caller, json=body)

    async def release_hold(self, booking_id: uuid.UUID, caller: Caller) -> str | None:
        """Best effort (flight's sweeper expires a forgotten hold anyway): the hold's
        status, or None when flight could not be told."""
        try:
            body = await self._call("DELETE", f"/internal/holds/{booking_id}", caller)
            return body.get("status")
        except Problem as err:
            log.warning("hold_release_failed", booking_id=str(booking_id), code=err.code)
            return None

    async def _call(
        self, method: str, path: str, caller: Caller, *, item: int | None = None, **kwargs: Any
    ) -> dict:
        try:
            response = await self.http.request(method, path, headers=caller.headers(), **kwargs)
        except httpx.HTTPError as err:
            log.warning("flight_unreachable", method=method, path=path, error=repr(err))
            raise FlightUnavailable() from None
        if response.is_success:
            return response.json()
        return self._problem(response, method, path, item)

    @staticmethod
    def _problem(response: httpx.Response, method: str, path: str, item: int | None):
        try:
            problem = response.json()
            code = problem.get("code", "error")
        except ValueError:
            problem, code = {}, "error"
        status = response.status_code
        extra = {
            k: v
            for k, v in problem.items()
            if k not in {"type", "title", "status", "code", "detail", "instance", "errors"}
        }
        if item is not None:
            extra["item"] = item
        if status == 409:
            raise Problem(problem.get("detail"), status=409, code=code, **extra)
        if status == 404 and (code in _GONE or item is not None):
            raise Problem(
                problem.get("detail") or "This item is not on sale.",
                status=422,
                code=code if code in _GONE else "item_not_found",
                **extra,
            )
        if status == 422:
            errors = [
                {**error, "field": f"flight.{error.get('field', '')}"}
                for error in problem.get("errors", [])
            ]
            raise Problem(
                problem.get("detail") or "The flight service refused the request.",
                status=422,
                code=code,
                errors=errors,
                **extra,
            )
        log.error("flight_refused", method=method, path=path, status=status, code=code)
        raise FlightUnavailable()
