"""``POST /auth/token`` (OAuth2 client credentials, as PACT specifies) and OIDC discovery."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import oauth_error, parse_basic
from api.deps import Context
from api.models import ErrorBody, TokenOut
from api.uploads import read_body

__all__ = ["base_url", "router"]

router = APIRouter(tags=["auth"])

_FORM = "application/x-www-form-urlencoded"


def base_url(request: Request, public_url: str | None) -> str:
    """The service's absolute base URL (the configured ``public_url``, else the request's)."""
    return (public_url or str(request.base_url)).rstrip("/")


@router.post(
    "/auth/token", response_model=TokenOut,
    responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody}},
    openapi_extra={"requestBody": {"required": True, "content": {_FORM: {"schema": {
        "type": "object", "required": ["grant_type"],
        "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                       "client_id": {"type": "string"}, "client_secret": {"type": "string"},
                       "scope": {"type": "string"}}}}}}},
)
async def token(request: Request, ctx: Context) -> Any:
    """An access token for client credentials (HTTP Basic, or ``client_id``/``client_secret``
    in the form), scoped to the client's organisation and role."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != _FORM:
        raise oauth_error(400, "invalid_request", f"send the form as {_FORM}")
    body = await read_body(request, 8192)
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=False).items()}
    except UnicodeDecodeError:
        raise oauth_error(400, "invalid_request", "the form is not UTF-8") from None
    if form.get("grant_type") != "client_credentials":
        raise oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    credentials = parse_basic(request.headers.get("authorization", ""))
    if credentials is None and "client_id" in form:
        credentials = (form["client_id"], form.get("client_secret", ""))
    if credentials is None:
        raise oauth_error(401, "invalid_client", "Client authentication failed")
    access, lifetime = await run_in_threadpool(ctx.auth.issue, *credentials)
    return {"access_token": access, "token_type": "bearer", "expires_in": lifetime}


@router.get("/.well-known/openid-configuration")
def openid_configuration(request: Request, ctx: Context) -> dict[str, Any]:
    """Where to get tokens (PACT: clients look here first, then fall back to /auth/token)."""
    base = base_url(request, ctx.settings.public_url)
    return {
        "issuer": base,
        "token_endpoint": base + "/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["none"],
        "jwks_uri": base + "/.well-known/jwks.json",
    }


@router.get("/.well-known/jwks.json")
def jwks() -> dict[str, Any]:
    """No signing keys: tokens are opaque and checked by this service."""
    return {"keys": []}
