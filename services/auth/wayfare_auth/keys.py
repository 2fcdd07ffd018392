"""The RSA keys that sign tokens, and the JWKS that publishes their public halves.

Keys come from AUTH_SIGNING_KEYS (JSON `{"kid": "PEM", ...}`) or AUTH_SIGNING_KEYS_DIR
(`<kid>.pem` files). In development, without either, a key is generated on first start
under DATA_DIR/auth-keys, where `python -m wayfare_auth rotate-key` adds more. Every key
loaded is published; the current one (AUTH_CURRENT_KID, else the directory's `current`
file, else the only key) signs. README, "Key rotation", gives the procedure.
"""

import json
import os
import secrets
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

from wayfare_auth.settings import Settings

ALGORITHM = "RS256"
KEY_BITS = 2048
CURRENT_FILE = "current"
_REGISTRY = jws.JWSRegistry(algorithms=[ALGORITHM])


class KeyConfigurationError(RuntimeError):
    """The signing keys are missing or unusable; the message says what to set."""


class InvalidSignedToken(Exception):
    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


class KeyRing:
    def __init__(self, keys: dict[str, RSAKey], current_kid: str):
        if current_kid not in keys:
            raise KeyConfigurationError(
                f"the current signing key {current_kid!r} is not among the keys loaded "
                f"({', '.join(sorted(keys)) or 'none'})"
            )
        self.keys = keys
        self.current_kid = current_kid
        # Serialised once: the JWKS changes only when the process restarts.
        self.jwks_json = orjson.dumps(
            {"keys": [_public_jwk(kid, key) for kid, key in sorted(keys.items())]}
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> "KeyRing":
        if settings.signing_keys is not None:
            keys = _keys_from_json(settings.signing_keys.get_secret_value())
            return cls(keys, _current(settings.current_kid, keys, None))
        directory = settings.signing_keys_dir
        if directory is None:
            if settings.environment == "production":
                raise KeyConfigurationError(
                    "no signing key is configured: set AUTH_SIGNING_KEYS (JSON {kid: PEM}) or "
                    "AUTH_SIGNING_KEYS_DIR (a directory of <kid>.pem files); production never "
                    "generates its own key"
                )
            directory = settings.dev_keys_dir
            if not list(directory.glob("*.pem")):
                add_key(directory)
        keys = _keys_from_dir(directory)
        return cls(keys, _current(settings.current_kid, keys, directory))

    def sign(self, typ: str, claims: dict[str, Any]) -> str:
        header = {"alg": ALGORITHM, "typ": typ, "kid": self.current_kid}
        return jws.serialize_compact(
            header, orjson.dumps(claims), self.keys[self.current_kid], registry=_REGISTRY
        )

    def verify(self, token: str, typ: str) -> dict[str, Any]:
        """The claims of a token this service signed with `typ`, signature checked against
        any loaded key. Times and audience are the caller's to check."""
        try:
            obj = jws.extract_compact(token.encode("ascii"), registry=_REGISTRY)
        except (JoseError, UnicodeError, ValueError):
            raise InvalidSignedToken("malformed") from None
        header = obj.headers()
        if header.get("alg") != ALGORITHM or header.get("typ") != typ:
            raise InvalidSignedToken("wrong_type")
        key = self.keys.get(header.get("kid"))  # type: ignore[arg-type]
        if key is None:
            raise InvalidSignedToken("unknown_key")
        try:
            valid = jws.validate_compact(obj, key, registry=_REGISTRY)
        except JoseError:
            valid = False
        if not valid:
            raise InvalidSignedToken("bad_signature")
        try:
            claims = json.loads(obj.payload)
        except ValueError:
            raise InvalidSignedToken("malformed") from None
        if not isinstance(claims, dict):
            raise InvalidSignedToken("malformed")
        return claims


def add_key(directory: Path, make_current: bool = True) -> str:
    """Generate a key into `directory` (0600, written atomically) and return its kid."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    kid = f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(4)}"
    key = RSAKey.generate_key(KEY_BITS, private=True)
    _write_private(directory / f"{kid}.pem", key.as_pem(private=True))
    if make_current:
        _write_private(directory / CURRENT_FILE, kid.encode() + b"\n")
    return kid


def retire_key(directory: Path, kid: str) -> Path:
    """Stop publishing `kid`: its file moves to `retired/` (kept for the record)."""
    if _read_current(directory) == kid:
        raise KeyConfigurationError(f"{kid} is the current key: make another one current first")
    source = directory / f"{kid}.pem"
    if not source.exists():
        raise KeyConfigurationError(f"no key {kid} in {directory}")
    target = directory / "retired" / f"{kid}.{int(time.time())}.pem"
    target.parent.mkdir(mode=0o700, exist_ok=True)
    source.rename(target)
    return target


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def _import_private(kid: str, pem: str | bytes, where: str) -> RSAKey:
    try:
        key = RSAKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as err:
        raise KeyConfigurationError(
            f"signing key {kid!r} ({where}) is not an RSA key: {err}"
        ) from None
    if not key.is_private:
        raise KeyConfigurationError(f"signing key {kid!r} ({where}) has no private part")
    if key.private_key.key_size < KEY_BITS:
        raise KeyConfigurationError(f"signing key {kid!r} ({where}) is shorter than 2048 bits")
    return key


def _keys_from_json(text: str) -> dict[str, RSAKey]:
    try:
        entries = json.loads(text)
    except ValueError:
        raise KeyConfigurationError('AUTH_SIGNING_KEYS must be JSON: {"kid": "PEM", ...}') from None
    if not isinstance(entries, dict) or not entries:
        raise KeyConfigurationError('AUTH_SIGNING_KEYS must be a non-empty {"kid": "PEM"} object')
    return {kid: _import_private(kid, pem, "AUTH_SIGNING_KEYS") for kid, pem in entries.items()}


def _keys_from_dir(directory: Path) -> dict[str, RSAKey]:
    keys = {
        path.stem: _import_private(path.stem, path.read_bytes(), str(path))
        for path in sorted(directory.glob("*.pem"))
    }
    if not keys:
        raise KeyConfigurationError(f"no <kid>.pem signing key in {directory}")
    return keys


def _read_current(directory: Path) -> str | None:
    path = directory / CURRENT_FILE
    if not path.exists():
        return None
    return path.read_text().strip() or None


def _current(configured: str | None, keys: dict[str, RSAKey], directory: Path | None) -> str:
    chosen = configured or (_read_current(directory) if directory else None)
    if chosen:
        return chosen
    if len(keys) == 1:
        return next(iter(keys))
    raise KeyConfigurationError(
        f"{len(keys)} signing keys are configured: set AUTH_CURRENT_KID to the one that signs"
    )


def _public_jwk(kid: str, key: RSAKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALGORITHM}
