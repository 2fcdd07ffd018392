from typing import ClassVar

from pydantic import model_validator

from wayfare_common.settings import ServiceSettings, service_settings_config, shared


class Settings(ServiceSettings):
    """GATEWAY_PORT, GATEWAY_AUTH_URL ... plus the variables every service shares."""

    model_config = service_settings_config("GATEWAY_")

    service_name: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000

    # Where each service answers (GATEWAY_AUTH_URL ...).
    auth_url: str = "http://127.0.0.1:8001"
    flight_url: str = "http://127.0.0.1:8002"
    booking_url: str = "http://127.0.0.1:8003"
    payment_url: str = "http://127.0.0.1:8004"
    notification_url: str = "http://127.0.0.1:8005"
    admin_url: str = "http://127.0.0.1:8006"

    connect_timeout: float = 2.0  # an upstream that does not accept is down: answer 503 fast
    upstream_timeout: float = 30.0  # between two reads of an upstream's response
    max_body_bytes: int = 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024  # routes that take files (package import)

    # Rate limits in `limits` notation; per client IP for the account routes, per user
    # (or per IP when anonymous) for everything else.
    login_rate: str = "10/minute"
    register_rate: str = "5/minute"
    password_reset_rate: str = "5/minute"
    user_rate: str = "600/minute"
    anonymous_rate: str = "300/minute"
    redis_url: str = shared("REDIS_URL", "")  # shared counters and deny-list when set
    trusted_proxies: int = 0  # how many X-Forwarded-For hops in front of us to trust

    token_cache_size: int = 10_000
    cors_origins: list[str] = []
    cors_allow_credentials: bool = True

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self):
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError(
                "GATEWAY_CORS_ORIGINS may not contain '*' while credentials are allowed: "
                "list the frontends' origins"
            )
        return self

    def upstreams(self) -> dict[str, str]:
        return {
            name: getattr(self, f"{name}_url").rstrip("/")
            for name in ("auth", "flight", "booking", "payment", "notification", "admin")
        }
