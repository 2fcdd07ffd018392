"""From a composed message to what gets delivered: in the handler's transaction, store the
in-app notification (and its live push) and the email/SMS deliveries, for the channels
the recipient's preferences allow. Nothing leaves the process here: the delivery worker
sends after the commit, so a rolled-back or retried handler never sends anything."""

import asyncio
import uuid
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from wayfare_common.events.catalog import NotificationCreated
from wayfare_common.messaging.handlers import HandlerContext
from wayfare_notification.channels.live import LiveHub, publish_after_commit
from wayfare_notification.domain.messages import Links, Message, Recipient, channels_for
from wayfare_notification.domain.preferences import Channel
from wayfare_notification.settings import Settings
from wayfare_notification.store import deliveries, recipients
from wayfare_notification.store.models import Delivery, Notification
from wayfare_notification.templates import Renderer

log = structlog.get_logger("wayfare.notification")

# Addresses already given a delivery in this transaction (one event, several people who
# share an address): the unique key would refuse a second row.
_ADDRESSES = "wayfare.notification.addresses"


class Notifier:
    def __init__(self, settings: Settings, hub: LiveHub, wake: asyncio.Event):
        self.links = Links(settings.public_url)
        self.renderer = Renderer(self.links)
        self.defaults = recipients.Defaults(settings.default_locale, settings.default_time_zone)
        self.hub = hub
        self.wake = wake
        # Without a broker there is one process: push straight to its own hub.
        self.push_through_broker = bool(settings.amqp_url)

    async def recipient(
        self,
        session: AsyncSession,
        user_id: uuid.UUID,
        *,
        email: str | None = None,
        name: str | None = None,
    ) -> Recipient:
        """Raises `RecipientUnknown` (the event is retried) when nothing says yet how to
        reach the user."""
        return await recipients.load(session, user_id, self.defaults, email=email, name=name)

    async def send(
        self, ctx: HandlerContext, recipient: Recipient, message: Message
    ) -> list[Channel]:
        session = ctx.session
        channels = channels_for(message, recipient)
        addresses: set = session.sync_session.info.setdefault(_ADDRESSES, set())
        queued = False
        for channel in channels:
            if channel == "in_app":
                self._in_app(ctx, recipient, message)
                continue
            address = recipient.email if channel == "email" else recipient.phone
            if (channel, address) in addresses:
                continue
            addresses.add((channel, address))
            session.add(self._delivery(ctx, channel, address, recipient, message))
            queued = True
        if queued:
            deliveries.wake_after_commit(session, self.wake)
        log.info(
            "notification_planned",
            kind=message.kind,
            user_id=str(recipient.user_id),
            channels=channels,
        )
        return channels

    def _in_app(self, ctx: HandlerContext, recipient: Recipient, message: Message) -> None:
        notification = Notification(
            id=uuid.uuid4(),
            user_id=recipient.user_id,
            event_id=ctx.envelope.id,
            kind=message.kind,
            category=message.category,
            title=message.subject,
            body=message.summary,
            link=message.link,
            data=dict(message.data),
            created_at=datetime.now(UTC),
        )
        ctx.session.add(notification)
        created = NotificationCreated(
            id=notification.id,
            user_id=notification.user_id,
            kind=notification.kind,
            category=notification.category,
            title=notification.title,
            body=notification.body,
            link=notification.link,
            data=notification.data,
            created_at=notification.created_at,
        )
        if self.push_through_broker:
            ctx.emit(created)  # the outbox: published after the commit
        else:
            publish_after_commit(ctx.session, self.hub, created)

    def _delivery(
        self,
        ctx: HandlerContext,
        channel: Channel,
        address: str,
        recipient: Recipient,
        message: Message,
    ) -> Delivery:
        delivery = Delivery(
            id=uuid.uuid4(),
            event_id=ctx.envelope.id,
            user_id=recipient.user_id,
            channel=channel,
            recipient=address,
            recipient_name=recipient.name,
            kind=message.kind,
            subject=message.subject,
            status="pending",
            attempts=0,
            next_attempt_at=datetime.now(UTC),
        )
        if channel == "email":
            # Rendered now: a template error fails the handler (retried, then dead-
            # lettered with the error) instead of a send, and the worker only sends.
            rendered = self.renderer.email(message, recipient)
            delivery.body_text, delivery.body_html = rendered.text, rendered.html
        else:
            delivery.body_text = message.sms or message.summary
        return delivery
