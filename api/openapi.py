"""The service's OpenAPI document: FastAPI's, with its security schemes, roles and links.

- **Security schemes**: ``bearerAuth`` (HTTP bearer, the token of ``/auth/token``; declared by
  :data:`api.deps.BEARER` on every route that needs a token), ``oauth2`` (the same token, as the
  OAuth2 client-credentials flow at ``/auth/token``) and ``clientBasic`` (HTTP Basic client
  authentication at ``/auth/token``; the client id and secret may also be form fields).
- **Roles**: each operation that needs a token lists the roles it accepts in
  ``x-required-roles`` (empty: any role), and says so in its description.
- **Links** (OpenAPI 3 ``links``): from an answer to the operations that take its ids, e.g. a
  submission's first shipment id to ``GET /v1/shipments/{shipment_id}``, an anchoring job's id to
  ``GET /v1/jobs/{job_id}``, so a stateful client (or fuzzer) can chain requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

__all__ = ["LINKS", "service_openapi"]

#: (method, path, status, link name, target method, target path, parameters)
LINKS: tuple[tuple[str, str, str, str, str, str, dict[str, str]], ...] = (
    *((m, "/v1/shipments", status, name, "get", target,
       {"shipment_id": "$response.body#/shipments/0/shipment_id"})
      for m in ("post",) for status in ("200", "201")
      for name, target in (("GetShipment", "/v1/shipments/{shipment_id}"),
                           ("GetProof", "/v1/shipments/{shipment_id}/proof"))),
    ("get", "/v1/shipments", "200", "GetShipment", "get", "/v1/shipments/{shipment_id}",
     {"shipment_id": "$response.body#/shipments/0/shipment_id"}),
    ("post", "/v1/anchoring", "202", "GetJob", "get", "/v1/jobs/{job_id}",
     {"job_id": "$response.body#/id"}),
    ("get", "/v1/jobs", "200", "GetJob", "get", "/v1/jobs/{job_id}",
     {"job_id": "$response.body#/jobs/0/id"}),
    *(("post", "/v1/reports", "201", name, "get", target, {"report_id": "$response.body#/id"})
      for name, target in (("GetReport", "/v1/reports/{report_id}"),
                           ("GetReportHtml", "/v1/reports/{report_id}/html"),
                           ("GetReportXml", "/v1/reports/{report_id}/cbam.xml"))),
    ("get", "/v1/reports", "200", "GetReport", "get", "/v1/reports/{report_id}",
     {"report_id": "$response.body#/reports/0/id"}),
    ("post", "/v1/organisations", "201", "CreateClient", "post",
     "/v1/organisations/{org_id}/clients", {"org_id": "$response.body#/id"}),
    ("post", "/v1/organisations", "201", "ListClients", "get",
     "/v1/organisations/{org_id}/clients", {"org_id": "$response.body#/id"}),
    ("get", "/v1/organisations", "200", "ListClients", "get",
     "/v1/organisations/{org_id}/clients", {"org_id": "$response.body#/organisations/0/id"}),
    ("post", "/v1/organisations/{org_id}/clients", "201", "RevokeClient", "delete",
     "/v1/clients/{client_id}", {"client_id": "$response.body#/client_id"}),
    ("post", "/v1/shares", "201", "RevokeShare", "delete", "/v1/shares/{share_id}",
     {"share_id": "$response.body#/shares/0/id"}),
    ("get", "/v1/shares", "200", "RevokeShare", "delete", "/v1/shares/{share_id}",
     {"share_id": "$response.body#/shares/0/id"}),
    *(("get", "/v1/access-requests", "200", name, "post", target,
       {"request_id": "$response.body#/requests/0/id"})
      for name, target in (("GrantRequest", "/v1/access-requests/{request_id}/grant"),
                           ("DeclineRequest", "/v1/access-requests/{request_id}/decline"))),
    ("get", "/2/footprints", "200", "GetFootprint", "get", "/2/footprints/{footprint_id}",
     {"footprint_id": "$response.body#/data/0/id"}),
)

_SCHEMES = {
    "oauth2": {"type": "oauth2", "description": "OAuth2 client credentials (as PACT "
               "specifies): the token is sent as a bearer token.",
               "flows": {"clientCredentials": {"tokenUrl": "/auth/token", "scopes": {}}}},
    "clientBasic": {"type": "http", "scheme": "basic",
                    "description": "Client id and secret at /auth/token (or as the form fields "
                                   "client_id and client_secret)."},
}


def _roles_of(route: APIRoute) -> tuple[str, ...] | None:
    """The roles a route's token must hold (empty: any), or None when it needs no token."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        roles = getattr(dependant.call, "roles", None)
        if roles is not None:
            return tuple(roles)
        pending += dependant.dependencies
    return None


def service_openapi(app: FastAPI, routers: Iterable[APIRouter]
                    ) -> Callable[[], dict[str, Any]]:
    """``app.openapi``: FastAPI's document (built once), completed as the module says; the
    roles are read from the routes of ``routers`` (the routers the app includes)."""
    base = app.openapi
    routes = [route for router in routers for route in router.routes
              if isinstance(route, APIRoute)]

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = base()
        schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
        schemes.update(_SCHEMES)
        paths = schema.get("paths", {})
        for route in routes:
            if route.path not in paths:
                continue
            roles = _roles_of(route)
            for method in route.methods or ():
                operation = paths[route.path].get(method.lower())
                if operation is None:
                    continue
                if route.path == "/auth/token":
                    operation["security"] = [{"clientBasic": []}, {}]
                elif roles is not None:
                    operation["security"] = [{"bearerAuth": []}, {"oauth2": []}]
                    operation["x-required-roles"] = list(roles)
                    who = " or ".join(roles) if roles else "any"
                    operation["description"] = (operation.get("description", "")
                                                + f"\n\nRole: {who}.").strip()
        for method, path, status, name, target_method, target_path, parameters in LINKS:
            source = paths.get(path, {}).get(method)
            target = paths.get(target_path, {}).get(target_method)
            if source is None or target is None or "operationId" not in target:
                continue
            response = source.setdefault("responses", {}).setdefault(
                status, {"description": "Success"})
            response.setdefault("links", {})[name] = {
                "operationId": target["operationId"], "parameters": parameters}
        app.openapi_schema = schema
        return schema

    return openapi
