"""The notification service's storage: its models and queries."""
