"""The event contract of DESIGN §4: the envelope (envelope.py) and the typed payloads of
the catalog (catalog.py), whose routing keys are their `type`."""
