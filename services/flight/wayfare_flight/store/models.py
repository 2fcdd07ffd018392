"""The flight service's tables. Seat counts are guarded twice: by conditional updates in
the code (`seats_available >= n`) and by CHECK constraints, so no bug can sell a seat that
is not there."""

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from wayfare_common.db import BigId, UtcDateTime, new_metadata


class Base(DeclarativeBase):
    """Base of the flight service's tables (the outbox and inbox come from wayfare_common)."""

    metadata = new_metadata()


metadata = Base.metadata

airports = sa.Table(
    "airports",
    metadata,
    sa.Column("iata_code", sa.String(3), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("country", sa.String(2), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
)

carriers = sa.Table(
    "carriers",
    metadata,
    sa.Column("iata_code", sa.String(2), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)

flights = sa.Table(
    "flights",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("carrier_code", sa.ForeignKey("carriers.iata_code"), nullable=False),
    sa.Column("flight_number", sa.String(8), nullable=False),
    sa.Column("origin", sa.ForeignKey("airports.iata_code"), nullable=False),
    sa.Column("destination", sa.ForeignKey("airports.iata_code"), nullable=False),
    sa.Column("departure_at", UtcDateTime, nullable=False),
    sa.Column("arrival_at", UtcDateTime, nullable=False),
    # The local date at the origin: what a traveller searches by, and the index key.
    sa.Column("departure_date", sa.Date, nullable=False),
    # The same instants as whole minutes since 1970 UTC: connections are integer arithmetic
    # that PostgreSQL and SQLite both index and compare the same way.
    sa.Column("departure_minute", sa.Integer, nullable=False),
    sa.Column("arrival_minute", sa.Integer, nullable=False),
    sa.Column("aircraft", sa.String(40), nullable=False),
    sa.Column("aircraft_class", sa.String(16), nullable=False),
    sa.Column("distance_km", sa.Integer, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="scheduled"),
    sa.CheckConstraint("arrival_at > departure_at", name="arrives_after_departure"),
    # Direct flights and first legs: one origin on one local date.
    sa.Index("ix_flights_origin_date", "origin", "departure_date", "departure_minute"),
    # Second legs of connections: from the stop to the destination within a time window.
    sa.Index("ix_flights_route_departure", "origin", "destination", "departure_minute"),
    # Building itineraries (store.itineraries): the second legs from an airport in a time
    # window, and the first legs landing at an airport in a time window.
    sa.Index("ix_flights_origin_departure", "origin", "departure_minute"),
    sa.Index("ix_flights_destination_arrival", "destination", "arrival_minute"),
)

flight_cabins = sa.Table(
    "flight_cabins",
    metadata,
    sa.Column("flight_id", sa.ForeignKey("flights.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("cabin", sa.String(16), primary_key=True),
    sa.Column("seats_total", sa.Integer, nullable=False),
    sa.Column("seats_available", sa.Integer, nullable=False),
    # The seat map: rows first_row..last_row, each with seat_letters.
    sa.Column("first_row", sa.Integer, nullable=False),
    sa.Column("last_row", sa.Integer, nullable=False),
    sa.Column("seat_letters", sa.String(12), nullable=False),
    # Adult fares in minor units: saver (non-refundable) and flex (refundable).
    sa.Column("saver_fare", sa.BigInteger, nullable=False),
    sa.Column("flex_fare", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.CheckConstraint(
        "seats_available >= 0 AND seats_available <= seats_total", name="seats_in_range"
    ),
)

# The search's precomputed answer (store.itineraries): every direct flight and every valid
# one-stop connection (domain.connections), keyed by where and when the trip starts and
# where it ends. Derived from `flights` alone: the seeder builds it in bulk, a staff change
# rebuilds the rows of the flight it changes in the same transaction. Seats and fares are
# not copied here: a search reads them live from flight_cabins by primary key. No foreign
# keys and no primary key (a direct has no second leg): it is an index, kept as a table.
itineraries = sa.Table(
    "itineraries",
    metadata,
    sa.Column("origin", sa.String(3), nullable=False),
    # The first leg's local date at the origin, as flights.departure_date.
    sa.Column("departure_date", sa.Date, nullable=False),
    sa.Column("destination", sa.String(3), nullable=False),
    sa.Column("departure_minute", sa.Integer, nullable=False),  # first leg leaves
    sa.Column("arrival_minute", sa.Integer, nullable=False),  # last leg lands
    sa.Column("leg1_id", sa.Uuid, nullable=False),
    sa.Column("leg1_carrier", sa.String(2), nullable=False),
    sa.Column("leg1_number", sa.String(8), nullable=False),
    sa.Column("leg1_arrival_minute", sa.Integer, nullable=False),
    # The connection airport and the second leg; all NULL for a direct flight.
    sa.Column("stop", sa.String(3)),
    sa.Column("leg2_id", sa.Uuid),
    sa.Column("leg2_carrier", sa.String(2)),
    sa.Column("leg2_number", sa.String(8)),
    sa.Column("leg2_departure_minute", sa.Integer),
    # A search reads one (origin, date, destination) range; a staff change finds a
    # flight's rows by (origin, date) and leg id.
    sa.Index("ix_itineraries_search", "origin", "departure_date", "destination"),
)

holds = sa.Table(
    "holds",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    # One hold per booking: the key of idempotency.
    sa.Column("booking_id", sa.Uuid, nullable=False, unique=True),
    sa.Column("user_id", sa.Uuid),
    # held -> sold | released | expired; sold -> released (a cancellation).
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),  # seated places counted against the cap
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("response", sa.JSON, nullable=False),  # the first answer, repeated to retries
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index(
        "ix_holds_expiry",
        "expires_at",
        postgresql_where=sa.text("status = 'held'"),
        sqlite_where=sa.text("status = 'held'"),
    ),
)

# What a hold took from the inventory: a cabin of a flight, or places on a package departure.
hold_lines = sa.Table(
    "hold_lines",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("hold_id", sa.ForeignKey("holds.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("flight_id", sa.ForeignKey("flights.id")),
    sa.Column("cabin", sa.String(16)),
    sa.Column("departure_id", sa.ForeignKey("package_departures.id")),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.CheckConstraint("seats > 0", name="seats_positive"),
    sa.CheckConstraint("(flight_id IS NULL) <> (departure_id IS NULL)", name="flight_or_departure"),
)

# Chosen seats, held or sold: the primary key makes a seat impossible to take twice.
seat_assignments = sa.Table(
    "seat_assignments",
    metadata,
    sa.Column("flight_id", sa.ForeignKey("flights.id"), primary_key=True),
    sa.Column("seat", sa.String(4), primary_key=True),
    sa.Column("hold_id", sa.ForeignKey("holds.id", ondelete="CASCADE"), nullable=False, index=True),
)

# Seats each customer holds right now (not sold), kept by conditional upserts so that
# two concurrent holds cannot both slip under the cap.
customer_held_seats = sa.Table(
    "customer_held_seats",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.CheckConstraint("seats >= 0", name="seats_not_negative"),
)

packages = sa.Table(
    "packages",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.String(40), nullable=False, unique=True),  # the key of CSV imports
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("destination", sa.String(100), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("duration_days", sa.Integer, nullable=False),
    sa.Column("price_per_person", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("vendor_id", sa.Uuid, nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.CheckConstraint("duration_days > 0", name="duration_positive"),
    sa.CheckConstraint("price_per_person >= 0", name="price_not_negative"),
    sa.Index("ix_packages_price", "price_per_person", "id"),
)

package_departures = sa.Table(
    "package_departures",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("package_id", sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("places_available", sa.Integer, nullable=False),
    sa.UniqueConstraint("package_id", "starts_on", name="uq_package_departures_package_date"),
    sa.CheckConstraint(
        "places_available >= 0 AND places_available <= capacity", name="places_in_range"
    ),
    sa.Index("ix_package_departures_starts_on", "starts_on"),
)

import_jobs = sa.Table(
    "import_jobs",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("requested_by", sa.Uuid, nullable=False),
    sa.Column("request_id", sa.String(64)),  # correlation id of the completion event
    # pending -> running -> succeeded | failed
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("started_at", UtcDateTime),
    sa.Column("finished_at", UtcDateTime),
    sa.Index(
        "ix_import_jobs_pending",
        "created_at",
        postgresql_where=sa.text("status = 'pending'"),
        sqlite_where=sa.text("status = 'pending'"),
    ),
)
