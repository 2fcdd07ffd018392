"""Events booking handles (handlers.py) and the payloads it sends (payloads.py)."""
