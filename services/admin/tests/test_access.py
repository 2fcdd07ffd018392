"""Only the admin role reaches anything under /api/v1/admin: every route the app
declares (read from its OpenAPI document, so a new route is covered as soon as it
exists) refuses customers and vendors with 403, and anonymous callers with 401, before
doing anything."""

import re
import uuid

from wayfare_common.problems import PROBLEM_JSON

from admin_support import running_admin


async def test_every_admin_route_is_for_admins_only(admin_database, tokens, owners):
    async with running_admin(admin_database, tokens, owners.url) as client:
        paths = client.app.openapi()["paths"]
        routes = [
            (method.upper(), re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path))
            for path, operations in paths.items()
            if path.startswith("/api/v1/admin")
            for method in operations
        ]
        assert len(routes) == 13, routes

        for role in ("customer", "vendor"):
            for method, path in routes:
                response = await client.request(
                    method, path, headers=tokens.headers(uuid.uuid4(), role), json={}
                )
                assert response.status_code == 403, (role, method, path, response.text)
                assert response.headers["content-type"] == PROBLEM_JSON
                assert response.json()["code"] == "forbidden"
        for method, path in routes:
            response = await client.request(method, path, json={})
            assert response.status_code == 401, (method, path)

        assert owners.received == []  # nothing was forwarded
        admin = await client.get("/api/v1/admin/users", headers=tokens.headers(uuid.uuid4()))
        assert admin.status_code == 200
