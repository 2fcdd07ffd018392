"""HTTP routes of the flight service and their schemas."""
