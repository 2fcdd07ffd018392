from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """NOTIFICATION_PORT, NOTIFICATION_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("NOTIFICATION_")

    service_name: ClassVar[str] = "notification"
    default_port: ClassVar[int] = 8005
