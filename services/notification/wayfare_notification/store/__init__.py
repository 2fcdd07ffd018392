"""The notification service's storage: its models and the queries on them."""
