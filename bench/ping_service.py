"""A Wayfare service with one trivial route, for bench/gateway.py: the real app factory
(logging, request ids, problems, metrics), no database work per request.
`python bench/ping_service.py PORT`"""

import sys
from typing import ClassVar

import uvicorn
from fastapi import APIRouter

from wayfare_common.service import create_service_app
from wayfare_common.settings import ServiceSettings


class PingSettings(ServiceSettings):
    service_name: ClassVar[str] = "ping"
    default_port: ClassVar[int] = 0


router = APIRouter()


@router.get("/api/v1/flights/ping")
async def ping():
    return {"pong": True}


if __name__ == "__main__":
    settings = PingSettings(
        database_url="sqlite+aiosqlite:///:memory:",
        amqp_url="",
        environment="production",
        log_level="WARNING",
    )
    app = create_service_app(settings, title="ping", routers=[router])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False)
