"""Outbound HTTP (httpx) from any part, with the TLS its destinations need.

httpx builds a TLS context for every client it makes and loads certifi's CA bundle into
it (1.8 MB for the first, 0.85 MB for each after, a JWKS refetch included), also for the
plain-http calls between parts, which are most of them. A client here is told which URLs
it reaches: with an https one among them it shares the process's one verifying context;
with plain http only it gets a context that trusts no CA at all, so an https URL given
to it later fails closed instead of loading the bundle or skipping verification."""

import functools
import ssl
from collections.abc import Iterable
from typing import Any

import httpx


@functools.cache
def tls_context() -> ssl.SSLContext:
    """Verifies servers against certifi's CA bundle, as httpx does by default."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


@functools.cache
def plain_http_context() -> ssl.SSLContext:
    """Verifies as strictly, against no CA: every TLS handshake fails."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def http_client(reaches: str | Iterable[str], **kwargs: Any) -> httpx.AsyncClient:
    """`httpx.AsyncClient(**kwargs)` for calls to `reaches` (its URLs, or their common
    bases), with the TLS context they need."""
    urls = [reaches] if isinstance(reaches, str) else list(reaches)
    https = any(httpx.URL(url).scheme == "https" for url in urls)
    return httpx.AsyncClient(verify=tls_context() if https else plain_http_context(), **kwargs)
