"""The booking service's storage: its models and queries."""
