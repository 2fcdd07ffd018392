"""Wayfare's shared library: the one place for infrastructure code."""
