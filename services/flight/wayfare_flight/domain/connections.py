"""Which two flights make a one-stop connection.

The second leg leaves the airport where the first arrives, at least MIN_CONNECTION after
it lands and at most MAX_LAYOVER later (no overnight layovers), and does not return to
where the trip began. Changing airports within a city (LHR to LGW) is not offered.
"""

from datetime import timedelta

MIN_CONNECTION = timedelta(minutes=45)
MAX_LAYOVER = timedelta(hours=6)


def connects(first_arrival, first_destination, first_origin, second) -> bool:
    """`second` has `origin`, `destination`, `departure_at`."""
    return (
        second.origin == first_destination
        and second.destination != first_origin
        and first_arrival + MIN_CONNECTION <= second.departure_at <= first_arrival + MAX_LAYOVER
    )
