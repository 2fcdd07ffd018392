from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """PAYMENT_PORT, PAYMENT_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("PAYMENT_")

    service_name: ClassVar[str] = "payment"
    default_port: ClassVar[int] = 8004
