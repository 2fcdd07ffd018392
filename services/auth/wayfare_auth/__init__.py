"""Wayfare's auth service: users, credentials, roles, sessions, 2FA and signing keys."""
