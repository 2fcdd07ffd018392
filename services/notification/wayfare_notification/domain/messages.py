"""A message to one person, and the channels it takes."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from wayfare_notification.domain.preferences import Category, Channel, Preferences


@dataclass(frozen=True)
class Recipient:
    user_id: UUID
    email: str | None
    name: str | None
    phone: str | None
    active: bool
    preferences: Preferences
    locale: str
    time_zone: str

    @property
    def greeting_name(self) -> str | None:
        """The first word of the name, for 'Hello Ada,'."""
        return self.name.split()[0] if self.name and self.name.strip() else None


@dataclass(frozen=True)
class Message:
    """`kind` names the templates and the in-app notification type. `details` is what the
    templates show, already formatted for the reader; `data` is machine-readable and goes
    with the in-app notification (booking id, reference ...)."""

    kind: str
    category: Category
    channels: tuple[Channel, ...]  # the channels this kind of message may take
    subject: str  # email subject and in-app title
    summary: str  # in-app body, email preheader
    link: str | None = None  # the one thing to click
    details: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)
    sms: str | None = None  # the text, when SMS is one of the channels


def channels_for(message: Message, recipient: Recipient) -> list[Channel]:
    """The channels this message takes to this person: those the kind offers, that the
    person allows, and that they can be reached on. A deactivated account still hears
    about its security, bookings and money, nothing else."""
    if not recipient.active and message.category not in ("security", "transactional"):
        return []
    reachable = {"email": bool(recipient.email), "sms": bool(recipient.phone), "in_app": True}
    return [
        channel
        for channel in message.channels
        if reachable[channel] and recipient.preferences.allows(channel, message.category)
    ]


@dataclass(frozen=True)
class Links:
    """Where the links in messages point (the public URL, as people reach Wayfare)."""

    public_url: str

    def _url(self, path: str) -> str:
        return self.public_url.rstrip("/") + path

    @property
    def home(self) -> str:
        return self._url("/")

    @property
    def preferences(self) -> str:
        return self._url("/account/notifications")

    def booking(self, booking_id: UUID) -> str:
        return self._url(f"/bookings/{booking_id}")

    def invoice(self, payment_id: UUID) -> str:
        return self._url(f"/api/v1/payments/{payment_id}/invoice.pdf")

    @property
    def packages(self) -> str:
        return self._url("/vendor/packages")

    @property
    def payouts(self) -> str:
        return self._url("/vendor/payouts")
