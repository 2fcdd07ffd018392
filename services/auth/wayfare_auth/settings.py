from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """AUTH_PORT, AUTH_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("AUTH_")

    service_name: ClassVar[str] = "auth"
    default_port: ClassVar[int] = 8001
