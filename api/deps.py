"""Typed FastAPI dependencies: the service's context and the calling principal.

The context is built once by :func:`api.app.create_app` and kept on the app; a route takes it as
a parameter typed :data:`Context` (``Annotated[ServiceContext, Depends(get_context)]``), and the
caller as one typed with :func:`requires` (``Annotated[Principal, Depends(requires("exporter"))]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import Principal
from api.context import ServiceContext
from api.errors import ApiError

__all__ = ["BEARER", "Context", "get_context", "requires"]


def get_context(request: Request) -> ServiceContext:
    """The context of the app serving ``request``."""
    ctx: ServiceContext = request.app.state.ctx
    return ctx


#: The service's context, as a route parameter.
Context = Annotated[ServiceContext, Depends(get_context)]


#: The bearer scheme as the OpenAPI document declares it (the token is checked by
#: :class:`api.auth.Auth`, with PACT's error codes; this only documents it).
BEARER = HTTPBearer(auto_error=False, scheme_name="bearerAuth",
                    description="An access token from POST /auth/token (OAuth2 client "
                                "credentials), sent as `Authorization: Bearer <token>`.")


def requires(*roles: str) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller, who must hold one of ``roles`` (any role when none).
    The roles are kept on the dependency (``roles``) for the OpenAPI document."""

    def dependency(request: Request, ctx: Context,
                   _documented: Annotated[HTTPAuthorizationCredentials | None,
                                          Security(BEARER)] = None) -> Principal:
        principal = ctx.auth.from_request(request)
        if roles and principal.role not in roles:
            raise ApiError(403, "AccessDenied",
                           f"this action needs the role {' or '.join(roles)}; the token is "
                           f"for an organisation with the role {principal.role}")
        return principal

    dependency.roles = roles  # type: ignore[attr-defined]
    return dependency
