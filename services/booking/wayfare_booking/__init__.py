"""Wayfare's booking service: bookings, passengers, references, pricing and idempotency."""
