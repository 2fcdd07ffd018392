"""Booking references (PNRs): six characters from an alphabet without the look-alikes
0/O and 1/I, so a reference read out over the phone cannot be mistaken. 32^6 is about a
billion; uniqueness is still the database's job (a unique constraint), and a collision is
simply retried with a new reference."""

import secrets
from collections.abc import Callable

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
LENGTH = 6

ReferenceGenerator = Callable[[], str]


def new_reference() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_reference(value: str) -> bool:
    return len(value) == LENGTH and all(char in ALPHABET for char in value)
