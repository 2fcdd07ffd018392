from typing import ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from pydantic import Field, SecretStr, model_validator

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """NOTIFICATION_PORT, NOTIFICATION_SMTP_HOST ... plus the variables every service shares.
    The README's table describes each one."""

    model_config = service_settings_config("NOTIFICATION_")

    service_name: ClassVar[str] = "notification"
    default_port: ClassVar[int] = 8005

    # Where people reach Wayfare: the base of the links in messages.
    public_url: str = "http://localhost:8000"
    # False runs an API-only replica: it serves the API and the streams, but neither
    # handles events nor sends email or SMS.
    handle_events: bool = True

    # Email. The defaults reach the catcher that `make run` starts.
    smtp_host: str = "localhost"
    smtp_port: int = 1025
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = False  # upgrade the connection with STARTTLS (usually port 587)
    smtp_tls: bool = False  # TLS from the first byte (usually port 465)
    smtp_timeout: float = Field(30.0, gt=0)
    smtp_from: str = "Wayfare <no-reply@wayfare.localhost>"

    # SMS: `console` logs the text; `http` posts it to a provider.
    sms_provider: Literal["console", "http"] = "console"
    sms_http_url: str = ""
    sms_http_token: SecretStr = SecretStr("")
    sms_sender: str = "Wayfare"
    sms_timeout: float = Field(10.0, gt=0)

    # The delivery worker: waits before each retry of a failed send, then gives up.
    delivery_retry_delays: list[float] = [10.0, 60.0, 300.0, 1800.0, 7200.0]
    delivery_poll_interval: float = Field(1.0, gt=0)
    delivery_batch_size: int = Field(20, gt=0)
    # A claimed delivery is taken again by another worker after this many seconds (a
    # crashed worker's rows); longer than any send may take.
    delivery_lease: float = Field(300.0, gt=0)

    # Live push (Server-Sent Events).
    stream_heartbeat: float = Field(15.0, gt=0)

    # How messages speak to someone who has not chosen (preferences can override).
    default_locale: str = "en"
    default_time_zone: str = "UTC"

    @model_validator(mode="after")
    def _consistent(self):
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("set NOTIFICATION_SMTP_TLS or NOTIFICATION_SMTP_STARTTLS, not both")
        if self.sms_provider == "http" and not self.sms_http_url:
            raise ValueError("NOTIFICATION_SMS_PROVIDER=http needs NOTIFICATION_SMS_HTTP_URL")
        if self.delivery_lease <= max(self.smtp_timeout, self.sms_timeout) * 2:
            raise ValueError("NOTIFICATION_DELIVERY_LEASE must exceed twice the send timeouts")
        if any(delay < 0 for delay in self.delivery_retry_delays):
            raise ValueError("NOTIFICATION_DELIVERY_RETRY_DELAYS must not be negative")
        try:
            Locale.parse(self.default_locale)
            ZoneInfo(self.default_time_zone)
        except (ValueError, UnknownLocaleError, ZoneInfoNotFoundError) as exc:
            raise ValueError(f"default locale or time zone: {exc}") from None
        return self
