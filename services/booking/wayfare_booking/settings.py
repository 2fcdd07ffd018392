from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """BOOKING_PORT, BOOKING_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("BOOKING_")

    service_name: ClassVar[str] = "booking"
    default_port: ClassVar[int] = 8003
