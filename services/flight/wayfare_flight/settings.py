from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """FLIGHT_PORT, FLIGHT_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("FLIGHT_")

    service_name: ClassVar[str] = "flight"
    default_port: ClassVar[int] = 8002
