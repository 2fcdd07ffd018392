"""What of an event the admin service keeps."""

from typing import Any
from urllib.parse import urlsplit

# Single-use links that would let whoever reads them verify an address or reset a
# password: the archive (which staff can read) keeps only where they pointed.
SECRET_URL_FIELDS = {
    "auth.email_verification_requested": "verify_url",
    "auth.password_reset_requested": "reset_url",
}


def redact(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    name = SECRET_URL_FIELDS.get(event_type)
    if name is None or not isinstance(data.get(name), str):
        return data
    parts = urlsplit(data[name])
    return {**data, name: f"{parts.scheme}://{parts.netloc}/redacted"}
