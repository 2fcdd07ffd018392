"""Wayfare's flight service: flights, fares, seat inventory and tour packages."""
