"""Email addresses and phone numbers as accounts keep them."""

import re

from email_validator import EmailNotValidError, validate_email

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalise_email(email: str) -> str:
    """The address as accounts are keyed: validated and lower-cased, so that one mailbox has
    one account whatever the capitals it is typed with. Raises ValueError when invalid."""
    try:
        valid = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as err:
        raise ValueError(str(err)) from None
    return valid.normalized.lower()


def lookup_key(email: str) -> str:
    """The key of a typed address for look-ups and throttling; never fails (an address that
    cannot be valid simply matches no account)."""
    key = email.strip().lower()
    if key.isascii():
        # For ASCII addresses validation would only lower-case them: skip it on the
        # login path (about 0.1 ms a call).
        return key[:320]
    try:
        return normalise_email(email)
    except ValueError:
        return key[:320]


def check_phone(phone: str) -> str:
    """An E.164 number (+ and 7 to 15 digits). Raises ValueError otherwise."""
    compact = re.sub(r"[\s().-]", "", phone)
    if not E164.match(compact):
        raise ValueError("use the international format, e.g. +441632960961")
    return compact
