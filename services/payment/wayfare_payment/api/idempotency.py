"""The HTTP side of idempotency keys: the header, the request's fingerprint, and the
problems and replays clients see."""

import hashlib
import uuid
from typing import Annotated

import orjson
from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from wayfare_common.problems import Problem
from wayfare_payment.store import idempotency as store

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Required. The same key with the same body replays the first response; "
        "with another body it is refused (422).",
    ),
]
REPLAYED_HEADER = "Idempotent-Replayed"


def fingerprint(request: Request, body: BaseModel) -> str:
    canonical = orjson.dumps(
        [request.method, request.url.path, body.model_dump(mode="json")],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(canonical).hexdigest()


async def claim(request: Request, user_id: str, key: str | None, body: BaseModel) -> store.Claim:
    if not key or not key.strip():
        raise Problem(
            "Send an Idempotency-Key header (a unique value per payment, e.g. a UUID).",
            status=400,
            code="idempotency_key_required",
        )
    try:
        return await store.claim(
            request.app.state.database, user_key(user_id), key, fingerprint(request, body)
        )
    except store.KeyReused:
        raise Problem(
            "This Idempotency-Key was used with a different request.",
            status=422,
            code="idempotency_key_reused",
        ) from None
    except store.KeyBusy:
        raise Problem(
            "A request with this Idempotency-Key is still being processed.",
            status=409,
            code="idempotency_key_in_use",
            headers={"Retry-After": "1"},
        ) from None


def replay(claim: store.Claim) -> JSONResponse:
    status, body = claim.response
    return JSONResponse(body, status_code=status, headers={REPLAYED_HEADER: "true"})


def user_key(user_id: str) -> uuid.UUID:
    """Token subjects are UUIDs; anything else still gets a stable UUID of its own."""
    try:
        return uuid.UUID(user_id)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"wayfare-user:{user_id}")
