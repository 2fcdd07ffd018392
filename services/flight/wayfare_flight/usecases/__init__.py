"""What the flight service does, called by the HTTP routes, the event handlers and the
background tasks alike: each function runs in the caller's transaction and records the
events it causes in the same transaction."""
