from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from wayfare_notification.domain.preferences import Category

_NOTIFICATION_EXAMPLE = {
    "id": "2b1f0c5e-8f3a-4d7b-9c21-6e4a8d3f1b70",
    "kind": "booking_confirmed",
    "category": "transactional",
    "title": "Booking K7MX4P is confirmed",
    "body": "Booking K7MX4P is confirmed and paid (€412.80). Your itinerary is attached below.",
    "link": "http://localhost:8000/bookings/9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84",
    "data": {"booking_id": "9d2b7c4a-1f3e-4a8b-b6d5-3c7e1a2f9b84", "reference": "K7MX4P"},
    "created_at": "2025-06-01T10:31:02Z",
    "read_at": None,
}


class NotificationOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True, json_schema_extra={"examples": [_NOTIFICATION_EXAMPLE]}
    )

    id: UUID
    kind: str = Field(description="What happened: booking_confirmed, payment_failed ...")
    category: Category
    title: str
    body: str
    link: str | None = Field(description="Where to go from here, if anywhere.")
    data: dict[str, Any] = Field(description="Facts for the client: booking id, reference ...")
    created_at: datetime
    read_at: datetime | None = Field(description="When the user first marked it read.")


class UnreadCount(BaseModel):
    unread: int


class ReadAll(BaseModel):
    marked_read: int = Field(description="How many notifications were unread until now.")


class CategoryChoices(BaseModel):
    """Leave a category out to keep its current setting."""

    model_config = ConfigDict(extra="forbid")

    security: bool | None = None
    transactional: bool | None = None
    updates: bool | None = None
    marketing: bool | None = None


_PREFERENCES_EXAMPLE = {
    "email": {"security": True, "transactional": True, "updates": True, "marketing": False},
    "sms": {"security": False, "transactional": True, "updates": False, "marketing": False},
    "in_app": {"security": True, "transactional": True, "updates": True, "marketing": False},
    "locked": ["email.security", "email.transactional"],
    "locale": "en_GB",
    "time_zone": "Europe/London",
}


class PreferencesOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PREFERENCES_EXAMPLE]})

    email: dict[Category, bool]
    sms: dict[Category, bool]
    in_app: dict[Category, bool]
    locked: list[str] = Field(description="Channel.category pairs that cannot be turned off.")
    locale: str = Field(description="Language and formats of messages (CLDR locale).")
    time_zone: str = Field(description="IANA time zone in which deadlines are shown.")


class PreferencesIn(BaseModel):
    """Only what is given changes. Security and transactional emails cannot be turned off."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "sms": {"transactional": True},
                    "email": {"updates": False},
                    "time_zone": "Europe/Berlin",
                }
            ]
        },
    )

    email: CategoryChoices | None = None
    sms: CategoryChoices | None = None
    in_app: CategoryChoices | None = None
    locale: str | None = Field(None, max_length=35, examples=["de_DE"])
    time_zone: str | None = Field(None, max_length=64, examples=["Europe/Berlin"])

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(Locale.parse(value.replace("-", "_")))
        except (ValueError, UnknownLocaleError):
            raise ValueError(f"{value!r} is not a known locale such as 'en' or 'de_DE'") from None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone such as 'Europe/Berlin'"
            ) from None
        return value
