"""One OpenAPI document for the whole suite, merged from the services' own documents.

Only what the gateway routes is kept (no `/internal/` paths, no health or metrics). Two
services may name different schemas alike (every FastAPI app has a `Problem` or
`HTTPValidationError`); a schema that clashes is renamed `<service>_<name>`, with the
service's references rewritten to match.
"""

import asyncio
import time

import aiohttp
import orjson

from wayfare_gateway.routes import match

CACHE_SECONDS = 60.0


class MergedOpenAPI:
    def __init__(self, upstreams: dict[str, str], title: str, version: str):
        self.upstreams = upstreams
        self.title = title
        self.version = version
        self._cached: tuple[float, dict] | None = None

    async def document(self, client: aiohttp.ClientSession) -> dict:
        if self._cached and time.monotonic() - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        fetched = await asyncio.gather(
            *(self._fetch(client, url) for url in self.upstreams.values())
        )
        documents = {name: doc for name, doc in zip(self.upstreams, fetched, strict=True) if doc}
        merged = merge(documents, self.title, self.version)
        merged["info"]["x-services-missing"] = sorted(set(self.upstreams) - set(documents))
        # Cache a complete document only: a missing service is asked again next time.
        if len(documents) == len(self.upstreams):
            self._cached = (time.monotonic(), merged)
        return merged

    @staticmethod
    async def _fetch(client: aiohttp.ClientSession, base: str) -> dict | None:
        try:
            async with client.get(
                base + "/openapi.json", timeout=aiohttp.ClientTimeout(total=3)
            ) as r:
                return orjson.loads(await r.read()) if r.status == 200 else None
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError):
            return None


def merge(documents: dict[str, dict], title: str, version: str) -> dict:
    merged: dict = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": {},
        "components": {"schemas": {}, "securitySchemes": {}},
    }
    owners: dict[str, tuple[str, dict]] = {}  # schema name -> (service, schema)
    for service, document in documents.items():
        schemas = document.get("components", {}).get("schemas", {})
        for name, schema in schemas.items():
            if name in owners and owners[name][1] != schema:
                document = _rename(document, name, f"{service}_{name}")
        for name, schema in document.get("components", {}).get("schemas", {}).items():
            owners.setdefault(name, (service, schema))
            merged["components"]["schemas"].setdefault(name, schema)
        merged["components"]["securitySchemes"].update(
            document.get("components", {}).get("securitySchemes", {})
        )
        for path, operations in document.get("paths", {}).items():
            kept = {
                method: operation
                for method, operation in operations.items()
                if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
                and match(method.upper(), path) is not None
            }
            if kept:
                for operation in kept.values():
                    operation.setdefault("tags", [service])
                merged["paths"][path] = kept
    return merged


def _rename(document: dict, old: str, new: str) -> dict:
    text = orjson.dumps(document).decode()
    text = text.replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    renamed = orjson.loads(text)
    schemas = renamed["components"]["schemas"]
    schemas[new] = schemas.pop(old)
    return renamed
