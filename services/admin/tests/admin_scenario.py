"""A month of platform activity around the end of June 2025, published to the admin
service in a scrambled order, with the dashboard figures it must produce worked out by
hand below (see the comments by each event).

Calendar: 2025-06-29 is a Sunday, 2025-06-30 a Monday; ISO weeks start on 06-23, 06-30
and 07-07; the month changes between 06-30 and 07-01.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from wayfare_common.events.envelope import Envelope

from admin_support import (
    Booking,
    FakeOwners,
    envelope,
    failed,
    flight_item,
    package_item,
    paid,
    refunded,
    registered,
    updated,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Scenario:
    users: dict[str, uuid.UUID] = field(default_factory=dict)
    payments: dict[str, uuid.UUID] = field(default_factory=dict)
    bookings: dict[str, Booking] = field(default_factory=dict)
    flights: dict[str, uuid.UUID] = field(default_factory=dict)
    package: uuid.UUID = field(default_factory=uuid.uuid4)
    envelopes: list[Envelope] = field(default_factory=list)

    def add(self, event, when: str, **kwargs) -> Envelope:
        item = envelope(event, at(when), **kwargs)
        self.envelopes.append(item)
        return item


def build(owners: FakeOwners) -> Scenario:
    s = Scenario()
    for name, (origin, destination) in {
        "F1": ("LHR", "JFK"),
        "F3": ("LHR", "AMS"),
        "F4": ("AMS", "JFK"),
        "F5": ("CDG", "NCE"),
    }.items():
        s.flights[name] = uuid.uuid4()
        owners.add_flight(s.flights[name], origin, destination)
    s.flights["F9"] = uuid.uuid4()  # the flight service does not know it: 404
    owners.packages[str(s.package)] = {"id": str(s.package), "title": "Lisbon Week"}

    # Users. New users count by registration time.
    for name in ("U1", "U2", "U3", "U4", "U5"):
        s.users[name] = uuid.uuid4()
    u = s.users
    # U3's update arrives before its registration (it is listed first); the update is newer.
    s.add(updated(u["U3"], "u3@example.com", "Grace Hopper (updated)"), "2025-07-02T08:00:00Z")
    s.add(registered(u["U1"], "u1@example.com", "Ada One"), "2025-06-29T23:59:59.999999Z")
    s.add(registered(u["U2"], "u2@example.com", "Ada Two"), "2025-06-30T00:00:00Z")
    s.add(registered(u["U3"], "u3@example.com", "Grace Hopper"), "2025-07-01T00:00:00Z")
    # U4: only an update ever arrives (not a new user); it is deactivated.
    s.add(updated(u["U4"], "u4@example.com", "Quiet", active=False), "2025-07-02T12:00:00Z")
    s.add(registered(u["U5"], "u5@example.com", "Before"), "2025-05-31T23:59:59Z")  # May

    # Payments. Captures count when captured, refunds when refunded.
    for name in ("P1", "P2", "P3", "P4", "P5", "P6"):
        s.payments[name] = uuid.uuid4()
    p = s.payments
    # P1's refund overtakes its capture.
    s.add(refunded(p["P1"], "30.00", "EUR"), "2025-07-01T10:00:00Z")  # July, week 06-30
    s.add(paid(p["P1"], "100.00", "EUR"), "2025-06-29T22:00:00Z")  # June, week 06-23
    s.add(paid(p["P2"], "50.00", "EUR"), "2025-06-30T00:00:00Z")  # June, week 06-30
    s.add(paid(p["P3"], "200.00", "USD"), "2025-07-06T23:59:59Z")  # July, week 06-30
    s.add(refunded(p["P3"], "200.00", "USD"), "2025-07-07T00:00:01Z")  # July, week 07-07
    s.add(paid(p["P4"], "5000", "JPY"), "2025-07-15T08:00:00Z")  # July, week 07-14
    s.add(failed(p["P5"]), "2025-07-02T08:00:00Z")  # no money
    s.add(paid(p["P6"], "70.00", "EUR"), "2025-05-31T23:00:00Z")  # May: out of range
    s.add(refunded(p["P6"], "20.00", "EUR"), "2025-06-02T09:00:00Z")  # June, week 06-02

    # Bookings. Counted by creation time, with their status now.
    f, pk = s.flights, s.package
    b = s.bookings
    b["B1"] = Booking([flight_item(f["F1"], seats=2)])
    s.add(b["B1"].created(), "2025-06-28T10:00:00Z")  # June, week 06-23: confirmed
    s.add(b["B1"].confirmed(), "2025-06-28T10:05:00Z")
    b["B2"] = Booking([flight_item(f["F1"], seats=1)])
    s.add(b["B2"].created(), "2025-06-30T09:00:00Z")  # June, week 06-30: cancelled
    s.add(b["B2"].cancelled("30.00"), "2025-07-01T09:00:00Z")  # overtakes the confirmation
    s.add(b["B2"].confirmed(), "2025-06-30T09:05:00Z")
    b["B7"] = Booking([package_item(pk, seats=1)])
    s.add(b["B7"].created(), "2025-06-30T12:00:00Z")  # June, week 06-30: confirmed
    s.add(b["B7"].confirmed(), "2025-06-30T12:05:00Z")
    b["B3"] = Booking([flight_item(f["F1"])])
    s.add(b["B3"].created(), "2025-07-02T10:00:00Z")  # July, week 06-30: pending_payment
    b["B4"] = Booking([flight_item(f["F5"])])
    s.add(b["B4"].created(), "2025-07-03T10:00:00Z")  # July, week 06-30: expired
    s.add(b["B4"].expired(), "2025-07-03T10:30:00Z")
    b["B5"] = Booking([package_item(pk, seats=2)], amount="240.00")
    s.add(b["B5"].completed(), "2025-07-20T10:00:00Z")  # arrives first
    s.add(b["B5"].confirmed(), "2025-07-05T10:05:00Z")
    s.add(b["B5"].created(), "2025-07-05T10:00:00Z")  # July, week 06-30: completed
    b["B6"] = Booking([flight_item(f["F5"], seats=3)])
    s.add(b["B6"].created(), "2025-07-08T10:00:00Z")  # July, week 07-07: confirmed
    s.add(b["B6"].confirmed(), "2025-07-08T10:05:00Z")
    b["B9"] = Booking([flight_item(f["F3"], f["F4"], seats=1)])  # LHR-AMS-JFK: LHR-JFK
    s.add(b["B9"].created(), "2025-07-10T10:00:00Z")  # July, week 07-07: confirmed
    s.add(b["B9"].confirmed(), "2025-07-10T10:05:00Z")
    b["B10"] = Booking([flight_item(f["F9"])])
    s.add(b["B10"].created(), "2025-07-11T10:00:00Z")  # July, week 07-07: confirmed
    s.add(b["B10"].confirmed(), "2025-07-11T10:05:00Z")
    b["B8"] = Booking([flight_item(f["F1"])])
    s.add(b["B8"].confirmed(), "2025-07-12T10:00:00Z")  # never created: no creation time
    return s


def eur(amount: str) -> dict:
    return {"amount": amount, "currency": "EUR"}


def revenue(currency: str, captured: str, refunded: str, net: str) -> dict:
    def money(amount: str) -> dict:
        return {"amount": amount, "currency": currency}

    return {
        "currency": currency,
        "captured": money(captured),
        "refunded": money(refunded),
        "net": money(net),
    }


def statuses(pending=0, confirmed=0, completed=0, cancelled=0, expired=0) -> dict:
    return {
        "pending_payment": pending,
        "confirmed": confirmed,
        "completed": completed,
        "cancelled": cancelled,
        "expired": expired,
    }
