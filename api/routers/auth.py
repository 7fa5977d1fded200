"""``POST /auth/token`` (OAuth2 client credentials, as PACT specifies) and OIDC discovery."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.auth import oauth_error, parse_basic
from api.deps import Context
from api.errors import ApiError
from api.models import ErrorBody, TokenOut
from api.uploads import read_body

__all__ = ["base_url", "router"]

router = APIRouter(tags=["auth"])

_FORM = "application/x-www-form-urlencoded"


def base_url(request: Request, public_url: str | None) -> str:
    """The service's absolute base URL: the configured ``public_url``; else, with
    ``trusted_hosts`` set, the request's host (checked against that list before any route
    runs); else the address the server listens on. An unchecked ``Host`` header never ends up
    in a generated URL."""
    if public_url:
        return public_url.rstrip("/")
    settings = request.app.state.ctx.settings
    if settings.trusted_hosts:
        return str(request.base_url).rstrip("/")
    scheme = request.url.scheme
    server = request.scope.get("server")
    if not server:
        return f"{scheme}://localhost"
    host, port = server[0], server[1]
    host = f"[{host}]" if ":" in str(host) else str(host)
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + ("" if port in (None, default) else f":{port}")


@router.post(
    "/auth/token", response_model=TokenOut,
    responses={400: {"model": ErrorBody}, 401: {"model": ErrorBody},
               429: {"model": ErrorBody, "description": "Too many failed authentications for "
                     "the client id or the address: retry after `Retry-After` seconds"}},
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
    address = request.client.host if request.client else "unknown"
    keys = [f"address:{address}"]
    if credentials is not None:
        keys.insert(0, f"client:{credentials[0][:200]}")
    blocked = ctx.limiter.blocked(*keys)
    if blocked is not None:  # answered before the secret is hashed
        what = "this client" if blocked.key.startswith("client:") else "this address"
        message = (f"too many failed authentications for {what}: try again in "
                   f"{blocked.retry_after_s} s")
        raise ApiError(429, "TooManyRequests", message,
                       extra={"error": "slow_down", "error_description": message},
                       headers={"Retry-After": str(blocked.retry_after_s)})
    if credentials is None:
        ctx.limiter.failed(*keys)
        raise oauth_error(401, "invalid_client", "Client authentication failed")
    try:
        access, lifetime = await run_in_threadpool(ctx.auth.issue, *credentials)
    except ApiError as exc:
        if exc.status == 401:
            ctx.limiter.failed(*keys)
        raise
    ctx.limiter.succeeded(keys[0])
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
