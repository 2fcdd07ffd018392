"""Settings shared by every service, read from the environment by pydantic-settings.

A service subclasses `ServiceSettings`, names itself and sets its own prefix, so that
`AUTH_PORT` and `AUTH_DATABASE_URL` configure the auth service while `AMQP_URL` or
`LOG_LEVEL` configure every process at once.
"""

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def shared(name: str, default, **kwargs):
    """A field read from an unprefixed variable shared by all services (e.g. AMQP_URL)."""
    return Field(default, validation_alias=AliasChoices(name.lower(), name), **kwargs)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    service_name: ClassVar[str]
    default_port: ClassVar[int]

    # Prefixed per service: AUTH_HOST, AUTH_PORT, AUTH_DATABASE_URL ...
    host: str = "127.0.0.1"
    port: int = 0
    database_url: str = ""
    auto_migrate: bool = True
    # PostgreSQL connections per process: kept open, and opened beyond that under load.
    # Every process of every service on one server must fit in its max_connections.
    database_pool_size: int = shared("DATABASE_POOL_SIZE", 10)
    database_max_overflow: int = shared("DATABASE_MAX_OVERFLOW", 10)

    environment: Literal["development", "test", "production"] = shared("ENVIRONMENT", "development")
    log_level: str = shared("LOG_LEVEL", "INFO")
    data_dir: Path = shared("DATA_DIR", Path(".data"))

    # Messaging. An empty AMQP_URL runs the service without a broker: events wait in the outbox.
    amqp_url: str = shared("AMQP_URL", "amqp://guest:guest@localhost:5672/")
    amqp_namespace: str = shared("AMQP_NAMESPACE", "")
    amqp_reconnect_interval: float = shared("AMQP_RECONNECT_INTERVAL", 2.0)
    retry_delays: list[float] = shared("MESSAGING_RETRY_DELAYS", [1.0, 5.0, 30.0, 120.0])
    delivery_limit: int = shared("MESSAGING_DELIVERY_LIMIT", 10)
    consumer_prefetch: int = shared("MESSAGING_PREFETCH", 32)
    relay_batch_size: int = shared("OUTBOX_BATCH_SIZE", 500)
    relay_poll_interval: float = shared("OUTBOX_POLL_INTERVAL", 1.0)

    # Access tokens, verified by every service with the same code as the gateway.
    jwks_url: str = shared("JWKS_URL", "http://localhost:8001/.well-known/jwks.json")
    jwt_issuer: str = shared("JWT_ISSUER", "wayfare-auth")
    jwt_audience: str = shared("JWT_AUDIENCE", "wayfare")

    @model_validator(mode="after")
    def _defaults_from_service(self):
        if not self.port:
            self.port = self.default_port
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / (self.service_name + '.db')}"
        return self

    @property
    def is_development(self) -> bool:
        return self.environment == "development"


def service_settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True)
