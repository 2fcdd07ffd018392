"""The public keys that verify access tokens."""

from fastapi import APIRouter, Response

from wayfare_auth.api.deps import AuthDep

router = APIRouter(tags=["keys"])
# Short enough that a key published before it becomes current reaches every cache in time
# (README, "Key rotation"); verifiers refetch on an unknown kid anyway.
CACHE_CONTROL = "public, max-age=300"


@router.get("/.well-known/jwks.json", summary="The JSON Web Key Set of the signing keys")
async def jwks(auth: AuthDep) -> Response:
    return Response(
        auth.keys.jwks_json, media_type="application/json", headers={"Cache-Control": CACHE_CONTROL}
    )
