"""Tour packages: staff create, change and retire; public search; holds on departures;
CSV imports that write everything or nothing."""

import uuid

import orjson
import sqlalchemy as sa

from wayfare_common.messaging.tables import outbox
from wayfare_common.testing.plugin import eventually
from wayfare_flight.store.models import packages

from flight_support import admin, future_day, hold

VENDOR = str(uuid.uuid4())


def package_body(code="PT-LIS-7", **overrides):
    return {
        "code": code,
        "title": "Lisbon and Sintra",
        "destination": "Lisbon",
        "description": "Trams and palaces.",
        "duration_days": 7,
        "price_per_person": {"amount": "899.00", "currency": "EUR"},
        "vendor_id": VENDOR,
        "departures": [
            {"starts_on": future_day(20).isoformat(), "capacity": 3},
            {"starts_on": future_day(40).isoformat(), "capacity": 10},
        ],
        **overrides,
    }


async def test_package_lifecycle_and_holds(any_client, issuer):
    client = any_client
    assert (
        await client.post("/api/v1/packages", json=package_body(), headers=issuer.bearer())
    ).status_code == 403
    created = await client.post("/api/v1/packages", json=package_body(), headers=admin(issuer))
    assert created.status_code == 201, created.text
    package = created.json()
    await client.post(
        "/api/v1/packages",
        json=package_body(
            "IS-REK-5",
            title="Golden Circle",
            destination="Reykjavik",
            duration_days=5,
            price_per_person={"amount": "1190.00", "currency": "EUR"},
            departures=[{"starts_on": future_day(21).isoformat(), "capacity": 8}],
        ),
        headers=admin(issuer),
    )

    found = (await client.get("/api/v1/packages", params={"destination": "lisb"})).json()["data"]
    assert [p["code"] for p in found] == ["PT-LIS-7"]
    cheap = (await client.get("/api/v1/packages", params={"max_price": "1000.00"})).json()["data"]
    assert [p["code"] for p in cheap] == ["PT-LIS-7"]
    short = (await client.get("/api/v1/packages", params={"max_days": 5})).json()["data"]
    assert [p["code"] for p in short] == ["IS-REK-5"]
    later = (
        await client.get("/api/v1/packages", params={"date_from": future_day(30).isoformat()})
    ).json()["data"]
    assert [p["code"] for p in later] == ["PT-LIS-7"]
    paged = await client.get("/api/v1/packages", params={"limit": 1})
    assert paged.json()["next_cursor"] and len(paged.json()["data"]) == 1

    departure = package["departures"][0]
    item = {
        "type": "package",
        "package_id": package["id"],
        "departure_id": departure["id"],
        "seats": 2,
    }
    held = await hold(client, issuer, [item])
    assert held.status_code == 201, held.text
    assert held.json()["items"][0]["price"] == {"amount": "1798.00", "currency": "EUR"}
    assert held.json()["items"][0]["vendor_id"] == VENDOR
    full = await hold(client, issuer, [item])
    assert full.status_code == 409 and full.json()["code"] == "seats_unavailable"
    assert full.json()["departure_id"] == departure["id"]

    # Capacity cannot go below the places taken; it can grow.
    shrink = await client.patch(
        f"/api/v1/packages/{package['id']}",
        json={"departures": [{"starts_on": departure["starts_on"], "capacity": 1}]},
        headers=admin(issuer),
    )
    assert shrink.status_code == 409
    grown = await client.patch(
        f"/api/v1/packages/{package['id']}",
        json={
            "title": "Lisbon, Sintra and Cascais",
            "departures": [{"starts_on": departure["starts_on"], "capacity": 5}],
        },
        headers=admin(issuer),
    )
    assert grown.status_code == 200, grown.text
    assert grown.json()["title"] == "Lisbon, Sintra and Cascais"
    assert grown.json()["departures"][0]["places_available"] == 3

    retired = await client.delete(f"/api/v1/packages/{package['id']}", headers=admin(issuer))
    assert retired.json()["status"] == "retired"
    assert (await client.get("/api/v1/packages", params={"destination": "lisb"})).json()[
        "data"
    ] == []
    refused = await hold(client, issuer, [{**item, "seats": 1}])
    assert refused.status_code == 404 and refused.json()["code"] == "package_not_found"


GOOD = """code,title,destination,description,duration_days,price_per_person,currency,vendor_id,departures
PT-LIS-7,Lisbon,Lisbon,Trams,7,899.00,EUR,{vendor},{d1}:20;{d2}:20
JP-KYO-10,Kyoto,Kyoto,"Temples, gardens",10,2490.00,EUR,{vendor},{d1}:12
"""

BAD = """code,title,destination,description,duration_days,price_per_person,currency,vendor_id,departures
PE-CUZ-9,Cusco,Cusco,Andes,9,1640.00,EUR,{vendor},{d1}:10
PE-LIM-3,Lima,Lima,Coast,three,500.00,EUR,{vendor},{d1}:10
ZA-CPT-12,Cape Town,Cape Town,Wine,12,1850.999,EUR,{vendor},{d1}:10
IS-REK-5,Reykjavik,Reykjavik,Geysers,5,1190.00,EUR,not-a-uuid,{d1}:10
NO-OSL-4,Oslo,Oslo,Fjords,4,990.00,EUR,{vendor},2001-01-01:10
"""


async def run_import(client, issuer, text):
    response = await client.post(
        "/api/v1/packages/import",
        files={"file": ("packages.csv", text.encode(), "text/csv")},
        headers=admin(issuer),
    )
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]

    async def finished():
        job = (await client.get(f"/api/v1/packages/import/{job_id}", headers=admin(issuer))).json()
        return job if job["status"] in ("succeeded", "failed") else None

    return await eventually(finished, timeout=15)


async def completion_events(client):
    async with client.app.state.database.sessions() as session:
        bodies = (
            await session.scalars(
                sa.select(outbox.c.body).where(
                    outbox.c.routing_key == "flight.package_import_completed"
                )
            )
        ).all()
    return [orjson.loads(body) for body in bodies]


async def test_csv_import_good_then_bad(any_client, issuer):
    client = any_client
    values = {"vendor": VENDOR, "d1": future_day(30).isoformat(), "d2": future_day(60).isoformat()}
    job = await run_import(client, issuer, GOOD.format(**values))
    assert job["status"] == "succeeded", job
    assert (job["created"], job["updated"], job["rejected"], job["total_rows"]) == (2, 0, 0, 2)
    kyoto = (await client.get("/api/v1/packages", params={"destination": "kyoto"})).json()["data"]
    assert (
        kyoto[0]["description"] == "Temples, gardens"
        and kyoto[0]["departures"][0]["capacity"] == 12
    )

    again = await run_import(
        client, issuer, GOOD.format(**values).replace("Trams", "Trams and fado")
    )
    assert (again["status"], again["created"], again["updated"]) == ("succeeded", 0, 2)

    async with client.app.state.database.sessions() as session:
        before = (await session.execute(sa.select(packages).order_by(packages.c.code))).all()
    bad = await run_import(client, issuer, BAD.format(**values))
    assert bad["status"] == "failed"
    assert [e["row"] for e in bad["errors"]] == [3, 4, 5, 6]
    reasons = " | ".join(e["reason"] for e in bad["errors"])
    assert (
        "duration_days" in reasons
        and "decimal places" in reasons
        and "vendor_id" in reasons
        and "future" in reasons
    )
    async with client.app.state.database.sessions() as session:
        after = (await session.execute(sa.select(packages).order_by(packages.c.code))).all()
    assert after == before  # the valid Cusco row was not written either

    events = [e for e in await completion_events(client)]
    assert len(events) == 3
    last = events[-1]
    assert last["data"]["job_id"] == bad["job_id"] and last["data"]["rejected"] == 4
    assert last["data"]["created"] == 0 and last["data"]["rejected_rows"][0]["row"] == 3
    assert last["actor"]["role"] == "admin"

    header_only = await run_import(client, issuer, "title,code\nx,y\n")
    assert header_only["status"] == "failed" and header_only["errors"][0]["row"] == 1
