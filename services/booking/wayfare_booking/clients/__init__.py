"""Clients of other services' HTTP APIs."""
