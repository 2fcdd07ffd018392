"""Pure rules of the flight service: schedules, aircraft, fares, offers, connections,
holds and package rows. Nothing here knows about HTTP, SQL or the broker."""
