"""The payment service's storage: its models and queries."""
