"""The password policy of DESIGN §6."""

from dataclasses import dataclass

MIN_LENGTH = 10
MAX_LENGTH = 128


@dataclass(frozen=True)
class BrokenRule:
    rule: str  # a stable machine word, e.g. "password_too_short"
    message: str


def broken_rules(password: str, email: str) -> list[BrokenRule]:
    """Every rule `password` breaks, for `email`'s account; empty when it is acceptable."""
    broken = []
    if len(password) < MIN_LENGTH:
        broken.append(BrokenRule("password_too_short", f"Use at least {MIN_LENGTH} characters."))
    if len(password) > MAX_LENGTH:
        broken.append(BrokenRule("password_too_long", f"Use at most {MAX_LENGTH} characters."))
    if not any(c.isupper() for c in password):
        broken.append(BrokenRule("password_no_uppercase", "Add an upper-case letter."))
    if not any(c.islower() for c in password):
        broken.append(BrokenRule("password_no_lowercase", "Add a lower-case letter."))
    if not any(c.isdigit() for c in password):
        broken.append(BrokenRule("password_no_digit", "Add a digit."))
    # Anything that is neither a letter, a digit nor blank counts as special.
    if not any(not c.isalnum() and not c.isspace() for c in password):
        broken.append(BrokenRule("password_no_special", "Add a special character (e.g. !?#%)."))
    local_part = email.rsplit("@", 1)[0].casefold()
    if local_part and local_part in password.casefold():
        broken.append(
            BrokenRule("password_contains_email", "Do not use the name part of your email address.")
        )
    return broken
