"""Event handlers: keep the projections and turn events into messages."""
