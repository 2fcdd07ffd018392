"""The auth service's storage: its models and the small queries the rest calls."""
