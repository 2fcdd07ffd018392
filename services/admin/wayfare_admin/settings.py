from typing import ClassVar

from pydantic import Field

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """ADMIN_PORT, ADMIN_DATABASE_URL ... plus the variables every service shares. The
    service README's table describes each one."""

    model_config = service_settings_config("ADMIN_")

    service_name: ClassVar[str] = "admin"
    default_port: ClassVar[int] = 8006

    # The services that own what staff act on; their answers come back to the admin client.
    auth_url: str = "http://127.0.0.1:8001"
    flight_url: str = "http://127.0.0.1:8002"
    booking_url: str = "http://127.0.0.1:8003"
    payment_url: str = "http://127.0.0.1:8004"
    # Seconds to wait for an owning service's answer to a staff action (then 504).
    owner_timeout: float = Field(10.0, gt=0)

    # Booking events name flights and packages by id only; the dashboard's top routes and
    # packages need their airports and titles, asked from the flight service's public API
    # every this many seconds for ids not yet known (0 turns the lookups off).
    labels_interval: float = Field(30.0, ge=0)
