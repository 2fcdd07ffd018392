"""The HTTP API under /api/v1/notifications: in-app notifications, the live stream and
preferences. Every route needs an access token and shows only the caller's own data."""
