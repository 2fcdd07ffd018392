"""Event handling: every event is archived, projected into the read models and, when a
staff member caused it, appended to the audit log."""
