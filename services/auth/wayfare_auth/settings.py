import os
from pathlib import Path
from typing import ClassVar

from pydantic import Field, SecretStr, model_validator

from wayfare_common.settings import ServiceSettings, service_settings_config

# OWASP's minimum for argon2id (m=19 MiB, t=2, p=1): nothing outside tests may go below it.
ARGON2_MIN_MEMORY_KIB = 19456
ARGON2_MIN_TIME_COST = 2


class Settings(ServiceSettings):
    """AUTH_PORT, AUTH_DATABASE_URL ... plus the variables every service shares."""

    model_config = service_settings_config("AUTH_")

    service_name: ClassVar[str] = "auth"
    default_port: ClassVar[int] = 8001

    # Where people reach Wayfare: the base of mailed links and of the OAuth callback.
    public_url: str = "http://localhost:8000"

    # Signing keys. Production needs SIGNING_KEYS (JSON {"kid": "PEM"}) or SIGNING_KEYS_DIR
    # (<kid>.pem files); without either, development generates one under DATA_DIR/auth-keys.
    signing_keys: SecretStr | None = None
    signing_keys_dir: Path | None = None
    current_kid: str | None = None

    # Lifetimes, in seconds.
    access_token_ttl: int = Field(900, gt=0)
    refresh_token_ttl: int = Field(30 * 86400, gt=0)  # absolute, from the session's start
    mfa_token_ttl: int = Field(300, gt=0)
    verify_email_ttl: int = Field(86400, gt=0)
    password_reset_ttl: int = Field(3600, gt=0, le=3600)

    # argon2id. Lower costs are accepted only with ENVIRONMENT=test (fast test suites).
    argon2_memory_cost: int = ARGON2_MIN_MEMORY_KIB
    argon2_time_cost: int = ARGON2_MIN_TIME_COST
    argon2_parallelism: int = 1
    hash_concurrency: int = Field(default_factory=lambda: os.cpu_count() or 1, gt=0)
    # Password logins in progress at once (0: four times hash_concurrency). Each holds a
    # database connection from its look-up to its session row: enough that the hash threads
    # always have the next login ready, few enough that no flood takes the database.
    login_concurrency: int = Field(0, ge=0)

    # Failed-login throttling (README: "Throttling").
    login_window: int = Field(900, gt=0)  # seconds, for the two limits below
    login_max_failures_per_account_ip: int = Field(5, gt=0)
    login_max_failures_per_ip: int = Field(50, gt=0)
    login_account_window: int = Field(3600, gt=0, le=3600)
    login_max_failures_per_account: int = Field(100, gt=0, le=100)

    # Google sign-in; off unless a client id is set.
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_discovery_url: str = "https://accounts.google.com/.well-known/openid-configuration"

    @model_validator(mode="after")
    def _argon2_floor(self):
        if self.environment != "test" and (
            self.argon2_memory_cost < ARGON2_MIN_MEMORY_KIB
            or self.argon2_time_cost < ARGON2_MIN_TIME_COST
        ):
            raise ValueError(
                f"AUTH_ARGON2_MEMORY_COST >= {ARGON2_MIN_MEMORY_KIB} and AUTH_ARGON2_TIME_COST >= "
                f"{ARGON2_MIN_TIME_COST} are required (OWASP minimum) outside ENVIRONMENT=test"
            )
        return self

    @property
    def login_slots(self) -> int:
        return self.login_concurrency or 4 * self.hash_concurrency

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id)

    @property
    def dev_keys_dir(self) -> Path:
        return self.data_dir / "auth-keys"
