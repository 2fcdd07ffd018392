"""Wayfare's notification service: preferences, in-app notifications and email."""
