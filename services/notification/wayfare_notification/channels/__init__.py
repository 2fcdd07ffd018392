"""How messages leave: email over SMTP, SMS through a provider, and the live push of
in-app notifications. Senders raise `SendFailed`; the delivery worker decides what next."""

from typing import Protocol

from wayfare_notification.store.models import Delivery


class SendFailed(Exception):
    """`permanent`: retrying cannot help (a 5xx reply: no such mailbox, refused number)."""

    def __init__(self, detail: str, *, permanent: bool = False):
        self.detail = detail
        self.permanent = permanent
        super().__init__(detail)


class Sender(Protocol):
    async def send(self, delivery: Delivery) -> str:
        """Send it; returns what the server answered, for the delivery log."""
        ...
