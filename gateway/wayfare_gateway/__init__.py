"""Wayfare's gateway: the one HTTP entry point for frontends."""
