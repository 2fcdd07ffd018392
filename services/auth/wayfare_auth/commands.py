"""The auth service's own subcommands: `create-admin` (for `make admin`), and rotating the
signing keys kept in a directory."""

import argparse
import sys

from wayfare_auth import accounts, sessions
from wayfare_auth.domain.accounts import normalise_email
from wayfare_auth.hashing import PasswordHashing
from wayfare_auth.keys import KeyConfigurationError, add_key, retire_key
from wayfare_auth.settings import Settings
from wayfare_auth.store import users
from wayfare_auth.store.models import utcnow
from wayfare_common.cli import Command
from wayfare_common.db import Database
from wayfare_common.events.envelope import EventContext
from wayfare_common.messaging.outbox import Outbox
from wayfare_common.problems import Problem


def _admin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--full-name", default="Administrator")


async def create_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Create a verified admin, or make an existing account one (with this password).
    Running it again changes nothing. The events wait in the outbox for the service."""
    try:
        email = normalise_email(args.email)
        accounts.check_password(args.password, email)
    except ValueError as err:
        print(f"create-admin: {err}", file=sys.stderr)
        return 2
    except Problem as err:
        rules = ", ".join(error["type"] for error in err.extra["errors"])
        print(f"create-admin: the password breaks the policy ({rules})", file=sys.stderr)
        return 2

    database, outbox, hashing = Database(settings.database_url), Outbox(), PasswordHashing(settings)
    context = EventContext(producer=settings.service_name)
    now = utcnow()
    try:
        async with database.sessions() as session:
            user = await users.by_email(session, email)
            if user is None:
                user = await accounts.create(
                    session,
                    outbox,
                    context,
                    email=email,
                    full_name=args.full_name,
                    password_hash=await hashing.hash(args.password),
                    role="admin",
                    email_verified=True,
                    now=now,
                )
                outcome = "created"
            else:
                changed = (user.role, user.is_active) != ("admin", True)
                if changed:
                    user.role, user.is_active, user.deleted_at = "admin", True, None
                    await sessions.revoke_all(
                        session, outbox, context, user.id, "role_changed", now
                    )
                    outbox.record(session, accounts.user_updated(user), context)
                user.email_verified = True
                if user.password_hash is None or not await hashing.verify(
                    user.password_hash, args.password
                ):
                    accounts.set_password(user, await hashing.hash(args.password), now)
                    changed = True
                outcome = "promoted" if changed else "already an admin, unchanged"
            await session.commit()
    finally:
        hashing.close()
        await database.dispose()
    print(f"{email}: {outcome}")
    return 0


def _key_directory(settings: Settings):
    if settings.signing_keys is not None:
        raise KeyConfigurationError(
            "keys come from AUTH_SIGNING_KEYS: rotate them in that configuration (README)"
        )
    return settings.signing_keys_dir or settings.dev_keys_dir


def _rotate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--publish-only",
        action="store_true",
        help="add the key to the JWKS without signing with it yet (step 1 of a rotation)",
    )


async def rotate_key(settings: Settings, args: argparse.Namespace) -> int:
    try:
        directory = _key_directory(settings)
        kid = add_key(directory, make_current=not args.publish_only)
    except (KeyConfigurationError, OSError) as err:
        print(f"rotate-key: {err}", file=sys.stderr)
        return 2
    role = "published (not signing yet)" if args.publish_only else "published and current"
    print(f"{kid}: {role} in {directory}; restart the service to load it")
    return 0


def _retire_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kid")


async def retire_key_command(settings: Settings, args: argparse.Namespace) -> int:
    try:
        moved = retire_key(_key_directory(settings), args.kid)
    except (KeyConfigurationError, OSError) as err:
        print(f"retire-key: {err}", file=sys.stderr)
        return 2
    print(f"{args.kid}: retired to {moved}; restart the service to stop publishing it")
    return 0


COMMANDS = {
    "create-admin": Command(
        help="create a verified admin account, or promote an existing one (idempotent)",
        run=create_admin,
        arguments=_admin_arguments,
    ),
    "rotate-key": Command(
        help="add a signing key to the key directory and make it current",
        run=rotate_key,
        arguments=_rotate_arguments,
    ),
    "retire-key": Command(
        help="stop publishing a signing key (once no token it signed can be valid)",
        run=retire_key_command,
        arguments=_retire_arguments,
    ),
}
