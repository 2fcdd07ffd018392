"""localstripe (PyPI), the fake Stripe the tests drive the real `stripe` library against,
served on loopback only: `python stripe_server.py PORT`.

localstripe's own launcher listens on every interface, and it has no Transfers API (Stripe
Connect), which payouts use; this adds `/v1/transfers` in Stripe's wire format, with
Stripe's idempotency-key replay and its refusal of an unknown destination. Nothing else of
localstripe is changed. Its habit of pickling its state to /tmp after every POST is turned
off, so runs do not share state through the disk.
"""

import json
import secrets
import sys
import time

from aiohttp import web
from localstripe.resources import store
from localstripe.server import app

store.dump_to_disk = lambda: None

CLOSED_ACCOUNT = "acct_closed"  # refused as a destination, as Stripe refuses a missing one
_transfers: dict[str, dict] = {}
_by_key: dict[str, dict] = {}


async def create_transfer(request: web.Request) -> web.Response:
    key = request.headers.get("Idempotency-Key")
    if key and key in _by_key:
        return web.json_response(_by_key[key], headers={"Idempotent-Replayed": "true"})
    form = await request.post()
    destination = form.get("destination", "")
    amount = form.get("amount", "")
    if not destination.startswith("acct_") or destination == CLOSED_ACCOUNT:
        return _error(f"No such destination: '{destination}'", "destination")
    if not amount.isdigit() or int(amount) <= 0:
        return _error("Invalid positive integer", "amount")
    transfer = {
        "id": "tr_" + secrets.token_hex(8),
        "object": "transfer",
        "amount": int(amount),
        "amount_reversed": 0,
        "currency": form.get("currency", ""),
        "destination": destination,
        "created": int(time.time()),
        "livemode": False,
        "reversed": False,
        "metadata": {
            name[len("metadata[") : -1]: value
            for name, value in form.items()
            if name.startswith("metadata[")
        },
    }
    _transfers[transfer["id"]] = transfer
    if key:
        _by_key[key] = transfer
    return web.json_response(transfer)


async def list_transfers(request: web.Request) -> web.Response:
    data = sorted(_transfers.values(), key=lambda t: t["created"])
    return web.json_response(
        {"object": "list", "data": data, "has_more": False, "url": "/v1/transfers"}
    )


def _error(message: str, param: str) -> web.Response:
    body = {"error": {"type": "invalid_request_error", "message": message, "param": param}}
    return web.Response(text=json.dumps(body), status=400, content_type="application/json")


app.router.add_post("/v1/transfers", create_transfer)
app.router.add_get("/v1/transfers", list_transfers)

if __name__ == "__main__":
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
