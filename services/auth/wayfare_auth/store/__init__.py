"""The auth service's storage: its models and queries."""
