from typing import ClassVar

from pydantic import Field

from wayfare_common.settings import ServiceSettings, service_settings_config


class Settings(ServiceSettings):
    """FLIGHT_PORT, FLIGHT_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("FLIGHT_")

    service_name: ClassVar[str] = "flight"
    default_port: ClassVar[int] = 8002

    # Demo inventory, loaded at startup in development when there are no flights yet.
    seed_on_empty: bool = True
    seed_days: int = Field(14, ge=1, le=400)
    seed_airports: int = Field(40, ge=2, le=400)

    # Holds (DESIGN §7): how long seats stay held, and how many one customer may hold.
    hold_ttl_seconds: int = Field(900, ge=10)
    hold_max_ttl_seconds: int = Field(3600, ge=10)
    max_seats_held_per_customer: int = Field(18, ge=1)
    hold_sweep_interval: float = Field(5.0, gt=0)

    # Background import jobs are also picked up by polling (from other replicas, or after a crash).
    import_poll_interval: float = Field(5.0, gt=0)
    import_max_bytes: int = Field(5_000_000, ge=1024)

    # Connections in the search's own asyncpg pool (PostgreSQL only).
    search_pool_size: int = Field(10, ge=1)
    # Search result cache (usecases.search.SearchCache): a page is reused for this many
    # seconds, so seat counts in search results may be that old (holds re-check them).
    # 0 turns it off.
    search_cache_seconds: float = Field(2.0, ge=0, le=60)
    search_cache_bytes: int = Field(32_000_000, ge=0)
