"""Starting the gateway and its upstreams as real processes, for the gateway's tests."""

import contextlib
import uuid
from pathlib import Path

from wayfare_common.testing.processes import python_module, running_process
from wayfare_common.testing.smtp import free_port

HERE = Path(__file__).parent
ISSUER, AUDIENCE = "wayfare-auth", "wayfare"


def gateway_env(upstreams, jwks_url, amqp_url="", namespace="", **overrides) -> dict[str, str]:
    others = upstreams["others"]
    env = {
        "GATEWAY_AUTH_URL": upstreams["auth"],
        **{
            f"GATEWAY_{name.upper()}_URL": others
            for name in ("flight", "booking", "payment", "notification", "admin")
        },
        "JWKS_URL": jwks_url,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "AMQP_URL": amqp_url,
        "AMQP_NAMESPACE": namespace,
        "AMQP_RECONNECT_INTERVAL": "0.5",
        "ENVIRONMENT": "test",
        "REDIS_URL": "",
    }
    env.update({key: str(value) for key, value in overrides.items()})
    return env


@contextlib.asynccontextmanager
async def running_gateway(tmp_path, upstreams, jwks_url, **env_options):
    port = free_port()
    env = gateway_env(upstreams, jwks_url, **env_options)
    env["GATEWAY_PORT"] = str(port)
    async with running_process(
        python_module("wayfare_gateway"),
        url=f"http://127.0.0.1:{port}",
        log_path=tmp_path / f"gateway-{uuid.uuid4().hex[:6]}.log",
        env=env,
    ) as gateway:
        yield gateway
