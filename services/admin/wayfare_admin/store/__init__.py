"""The admin service's storage: its models and queries."""
