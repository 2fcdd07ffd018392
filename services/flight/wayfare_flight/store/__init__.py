"""The flight service's storage: its models and queries."""
