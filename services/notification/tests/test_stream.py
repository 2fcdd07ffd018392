"""The live stream (Server-Sent Events) over real HTTP, with replicas under uvicorn."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator

import httpx

from wayfare_common.testing.plugin import wait_for_handled

from notification_support import booking_created, serve

STREAM = "/api/v1/notifications/stream"


async def next_event(lines: AsyncIterator[str], timeout: float = 5.0) -> dict[str, str]:
    """The next SSE event (fields by name) or comment (`{"comment": ...}`)."""
    event: dict[str, str] = {}
    async with asyncio.timeout(timeout):
        async for line in lines:
            if line == "":
                if event:
                    return event
                continue
            if line.startswith(":"):
                return {"comment": line[1:].strip()}
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")
    raise AssertionError(f"the stream ended; last partial event: {event}")


async def test_a_notification_reaches_a_stream_on_another_replica_within_a_second(
    make_settings, tokens, bus
):
    """Replica A handles the event and commits the notification; the person's stream is
    on replica B, which handles no events at all: the push crosses replicas."""
    async with (
        serve(make_settings()) as replica_a,
        serve(make_settings(handle_events=False)) as replica_b,
    ):
        assert replica_b.app.state.messaging.consumer is None
        user = uuid.uuid4()
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("GET", replica_b.url + STREAM, headers=tokens.headers(user)) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            assert await next_event(lines) == {"retry": "3000"}  # subscribed

            created = booking_created(user)
            started = time.monotonic()
            await bus.publish(created)
            event = await next_event(lines, timeout=5)
            elapsed = time.monotonic() - started

            assert elapsed < 1.0, f"took {elapsed:.2f} s"
            assert event["event"] == "notification"
            notification = json.loads(event["data"])
            assert event["id"] == notification["id"]
            assert notification["kind"] == "booking_received"
            assert notification["data"]["reference"] == created.reference
            assert notification["read_at"] is None
            # It is the stored notification, the one the list shows.
            listed = await client.get(
                replica_b.url + "/api/v1/notifications", headers=tokens.headers(user)
            )
            assert listed.json()["data"] == [notification]
            assert replica_a.app.state.live_hub.stream_count(user) == 0


async def test_a_stream_resumes_after_the_last_event_it_saw(make_settings, tokens, bus):
    async with serve(make_settings(stream_heartbeat=0.3)) as replica:
        user, other = uuid.uuid4(), uuid.uuid4()
        envelopes = [await bus.publish(booking_created(user)) for _ in range(3)]
        envelopes.append(await bus.publish(booking_created(other)))
        await wait_for_handled(replica.app.state.database, [e.id for e in envelopes])
        async with httpx.AsyncClient(base_url=replica.url, timeout=10) as client:
            stored = (
                await client.get("/api/v1/notifications", headers=tokens.headers(user))
            ).json()
            oldest, *newer = reversed(stored["data"])  # oldest first

            headers = {**tokens.headers(user), "Last-Event-ID": oldest["id"]}
            async with client.stream("GET", STREAM, headers=headers) as response:
                lines = response.aiter_lines()
                assert await next_event(lines) == {"retry": "3000"}
                missed = [await next_event(lines), await next_event(lines)]
                assert [json.loads(e["data"]) for e in missed] == newer
                # Nothing else was missed (not the other user's): a heartbeat follows.
                assert await next_event(lines, timeout=2) == {"comment": "heartbeat"}

                live = await bus.publish(booking_created(user))
                event = await next_event(lines)
                assert json.loads(event["data"])["kind"] == "booking_received"
                await wait_for_handled(replica.app.state.database, [live.id])
                assert await next_event(lines, timeout=2) == {"comment": "heartbeat"}


async def test_a_stream_ends_when_its_token_expires(make_settings, tokens):
    async with serve(make_settings(stream_heartbeat=0.2)) as replica:
        token = tokens.issuer.mint(user_id=str(uuid.uuid4()), exp=int(time.time()) + 2)
        started = time.monotonic()
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream(
                "GET", replica.url + STREAM, headers={"Authorization": f"Bearer {token}"}
            ) as response,
        ):
            assert response.status_code == 200
            body = [line async for line in response.aiter_lines()]
        assert time.monotonic() - started < 4
        assert body[0] == "retry: 3000" and ": heartbeat" in body
