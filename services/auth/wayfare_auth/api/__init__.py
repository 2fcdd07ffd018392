"""HTTP routes and their schemas."""
