"""Outbound HTTP (httpx) from any part: one TLS context for the whole process.

httpx builds a TLS context for every client it makes, parsing the CA bundle each time
(0.85 MB per client, a refetch of the JWKS included), also for the plain-http calls
between parts. Every client here shares one, made the first time a client is."""

import functools
import ssl
from typing import Any

import certifi
import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Verifies servers against certifi's CA bundle, as httpx does by default."""
    return ssl.create_default_context(cafile=certifi.where())


def http_client(**kwargs: Any) -> httpx.AsyncClient:
    """`httpx.AsyncClient(**kwargs)` with the process's TLS context."""
    return httpx.AsyncClient(verify=tls_context(), **kwargs)
