from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """ADMIN_PORT, ADMIN_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("ADMIN_")

    service_name: ClassVar[str] = "admin"
    default_port: ClassVar[int] = 8006
