"""The two answers of a successful first factor: tokens, or a second-factor challenge."""

from fastapi import Response
from pydantic import BaseModel

from wayfare_auth.api.schemas import MfaRequiredOut, TokensOut
from wayfare_auth.domain import tokens as purposes
from wayfare_auth.runtime import Auth
from wayfare_auth.sessions import TokenPair
from wayfare_auth.store.models import utcnow
from wayfare_auth.tokens import Account


def json_response(model: BaseModel) -> Response:
    # Serialised by pydantic directly: no jsonable_encoder on the login path (DESIGN §8).
    return Response(model.model_dump_json(), media_type="application/json")


def tokens_response(pair: TokenPair) -> Response:
    return json_response(
        TokensOut(
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            expires_in=pair.expires_in,
        )
    )


def mfa_challenge(auth: Auth, user: Account) -> Response:
    """A short-lived token good only for /login/2fa, void after a password change."""
    token, _ = auth.tokens.purpose(purposes.MFA, user.id, utcnow(), pwv=user.password_version)
    return json_response(MfaRequiredOut(mfa_token=token, expires_in=auth.settings.mfa_token_ttl))
