"""Wayfare's admin service: read models of users, bookings and payments, and the audit log."""
