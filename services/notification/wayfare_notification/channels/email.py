"""Email through SMTP (aiosmtplib): a plain-text part and an HTML alternative.

The Message-ID is derived from the delivery id, so the rare second send of one delivery
(a crash between the server's acceptance and our commit) carries the same id: mail
clients and servers that deduplicate by Message-ID drop it, and it is recognisable in
any log.
"""

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import aiosmtplib

from wayfare_notification.channels import SendFailed
from wayfare_notification.settings import Settings
from wayfare_notification.store.models import Delivery


class EmailSender:
    def __init__(self, settings: Settings):
        self.settings = settings
        address = parseaddr(settings.smtp_from)[1]
        self.message_id_domain = address.rpartition("@")[2] or "wayfare.localhost"

    def message_id(self, delivery: Delivery) -> str:
        return f"<{delivery.id}@{self.message_id_domain}>"

    def build(self, delivery: Delivery) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = Address(
            display_name=delivery.recipient_name or "", addr_spec=delivery.recipient
        )
        message["Subject"] = delivery.subject
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = self.message_id(delivery)
        message["Auto-Submitted"] = "auto-generated"  # no vacation replies to no-reply
        message["X-Wayfare-Kind"] = delivery.kind
        message.set_content(delivery.body_text)
        if delivery.body_html:
            message.add_alternative(delivery.body_html, subtype="html")
        return message

    async def send(self, delivery: Delivery) -> str:
        settings = self.settings
        try:
            _, reply = await aiosmtplib.send(
                self.build(delivery),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                use_tls=settings.smtp_tls,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refusal.code for refusal in exc.recipients]
            raise SendFailed(
                "; ".join(f"{r.code} {r.message}" for r in exc.recipients),
                permanent=all(500 <= code < 600 for code in codes),
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # Our credentials, not this message: keep retrying while someone fixes them.
            raise SendFailed(f"authentication failed: {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(f"{exc.code} {exc.message}", permanent=500 <= exc.code < 600) from None
        except (aiosmtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        return reply
