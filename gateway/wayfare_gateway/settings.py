from typing import ClassVar

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """GATEWAY_PORT, GATEWAY_HOST ... plus the variables every service shares."""

    model_config = service_settings_config("GATEWAY_")

    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000
