"""Signing keys: the JWKS, the development key, production configuration, rotation."""

import json
import stat

import pytest
from joserfc.jwk import RSAKey

from wayfare_auth.app import create_app
from wayfare_auth.keys import KeyConfigurationError, add_key, retire_key
from wayfare_auth.settings import Settings
from wayfare_common.security import InvalidToken

from auth_support import login, serve, verified_account


async def test_jwks_publishes_public_keys_with_cache_control(client):
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    keys = response.json()["keys"]
    assert keys and all(
        key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" for key in keys
    )
    assert all("d" not in key and "p" not in key for key in keys)  # no private part


def test_development_generates_a_private_key_once(tmp_path, sqlite_url):
    settings = Settings(
        environment="development", data_dir=tmp_path, database_url=sqlite_url, amqp_url=""
    )
    first = create_app(settings).state.auth.keys
    pems = list((tmp_path / "auth-keys").glob("*.pem"))
    assert len(pems) == 1
    assert stat.S_IMODE(pems[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "auth-keys").stat().st_mode) == 0o700
    again = create_app(settings).state.auth.keys
    assert again.current_kid == first.current_kid  # kept, not regenerated


def test_production_refuses_to_start_without_configured_keys(tmp_path, sqlite_url):
    settings = Settings(
        environment="production", data_dir=tmp_path, database_url=sqlite_url, amqp_url=""
    )
    with pytest.raises(KeyConfigurationError, match="AUTH_SIGNING_KEYS"):
        create_app(settings)
    assert not (tmp_path / "auth-keys").exists()


def test_production_keys_come_from_configuration(tmp_path, sqlite_url):
    old, new = (RSAKey.generate_key(2048).as_pem(private=True).decode() for _ in range(2))
    keys = json.dumps({"2025-a": old, "2026-b": new})
    common = dict(environment="production", data_dir=tmp_path, database_url=sqlite_url, amqp_url="")
    with pytest.raises(KeyConfigurationError, match="AUTH_CURRENT_KID"):
        create_app(Settings(signing_keys=keys, **common))
    ring = create_app(Settings(signing_keys=keys, current_kid="2026-b", **common)).state.auth.keys
    assert ring.current_kid == "2026-b"
    assert {key["kid"] for key in json.loads(ring.jwks_json)["keys"]} == {"2025-a", "2026-b"}
    public_only = RSAKey.generate_key(2048).as_pem(private=False).decode()
    with pytest.raises(KeyConfigurationError, match="no private part"):
        create_app(Settings(signing_keys=json.dumps({"x": public_only}), **common))


async def test_rotation_keeps_old_tokens_valid_until_the_key_is_retired(
    make_settings, events, tmp_path
):
    directory = tmp_path / "keys"
    first_kid = add_key(directory)
    settings = make_settings(signing_keys_dir=directory)
    async with serve(settings) as before, before.client() as client:
        user = await verified_account(client, events)
        old_token = (await login(client, user["email"]))["access_token"]

    # Step 1 publishes the new key; step 2 (here at once) makes it current.
    second_kid = add_key(directory, make_current=False)
    async with serve(settings) as published, published.client() as client:
        kids = {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        assert kids == {first_kid, second_kid}
        assert published.app.state.auth.keys.current_kid == first_kid

    (directory / "current").write_text(second_kid)
    async with serve(settings) as rotated, rotated.client() as client:
        verifier = rotated.verifier()
        assert (await verifier.verify(old_token)).user_id == user["id"]  # still valid
        new_token = (await login(client, user["email"]))["access_token"]
        assert (await verifier.verify(new_token)).user_id == user["id"]

    # Once the old tokens have expired, the old key is retired and stops verifying.
    retire_key(directory, first_kid)
    async with serve(settings) as retired:
        verifier = retired.verifier()
        with pytest.raises(InvalidToken) as refused:
            await verifier.verify(old_token)
        assert refused.value.reason == "unknown_key"
        assert (await verifier.verify(new_token)).user_id == user["id"]
    with pytest.raises(KeyConfigurationError):
        retire_key(directory, second_kid)  # the current key cannot be retired
