import ssl

from wayfare_common.outbound import http_client, plain_http_context, tls_context


def _context(client) -> ssl.SSLContext:
    # (httpx keeps the context on the connection pool of the client's transport)
    return client._transport._pool._ssl_context


async def test_clients_for_https_share_one_context_that_verifies_servers():
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 100  # certifi's bundle
    async with (
        http_client("https://accounts.example") as one,
        http_client(["http://auth:8001", "https://payments.example"], timeout=5) as other,
    ):
        assert _context(one) is context and _context(other) is context


async def test_clients_for_plain_http_load_no_ca_and_fail_closed_on_https():
    async with http_client("http://flight:8002") as client:
        context = _context(client)
    assert context is plain_http_context() and context is not tls_context()
    # As strict as the other, trusting nobody: an https URL cannot be reached unverified.
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0
