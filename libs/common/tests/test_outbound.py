import ssl

from wayfare_common.outbound import http_client, tls_context


async def test_clients_share_one_context_that_verifies_servers():
    context = tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0  # certifi's bundle is loaded
    async with http_client() as one, http_client(timeout=5) as other:
        # (httpx keeps the context on the connection pool of the client's transport)
        assert one._transport._pool._ssl_context is context
        assert other._transport._pool._ssl_context is context
