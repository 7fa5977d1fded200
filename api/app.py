"""The FastAPI application, built by :func:`create_app` from explicit settings.

Nothing is created at import time: ``create_app(settings, chain_settings)`` opens the store
(the ledger's migrations, then the service's own), builds the parts once
(:func:`build_context`, the composition root: :class:`api.context.ServiceContext`) and returns the
app. The routers take the context as a typed dependency (:data:`api.deps.Context`) and are thin:
each calls the same library functions as the command line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from api.anchoring import resume_jobs
from api.auth import Auth
from api.chain_access import ChainAccess
from api.context import ServiceContext
from api.errors import error_body, install_error_handlers
from api.headers import SecurityHeaders
from api.ids import EncodedIdPaths
from api.jobs import JobRunner
from api.keystore import KeyRing, SigningKey
from api.limits import AuthBeforeBody, BodyTimeout, cap_recursion_limit
from api.openapi import service_openapi
from api.pact_access import v3_event_access
from api.pact_events import EventSender
from api.ratelimit import AuthLimiter
from api.routers import admin, auditor, exporter, ileap, importer, pact, pact3, pages
from api.routers import auth as auth_routes
from api.routers import sharing as sharing_routes
from api.settings import ServiceSettings
from api.sharing import event_access
from api.store import open_service_store
from ledger.chain.client import no_contract_message
from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings
from ledger.errors import LedgerError
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.reports.figures import shipped_recompute
from ledger.store.store import open_store

__all__ = ["build_context", "create_app"]

_DESCRIPTION = """
Carbon-footprint traceability ledger as a service.

* **Exporters** submit shipments (JSON or CSV), get ISO 14083 footprints, anchor them on chain
  and issue signed reports (W3C VC with PACT/iLEAP footprints, HTML, CBAM QReport XML).
* **Auditors** verify any report check by check and attest it on chain.
* **Buyers' systems** pull footprints with the PACT v2 API (`/2/footprints`, `/2/events`).

Authenticate with OAuth2 client credentials at `/auth/token`; send `Authorization: Bearer`.
"""


class _HttpsOnly:
    """Refuses plain-HTTP requests (``require_https``); TLS ends at the server or a proxy
    that uvicorn trusts (``--forwarded-allow-ips``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("scheme") != "https":
            import json

            body = json.dumps(error_body("BadRequest", "plain HTTP is refused: use HTTPS")
                              ).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def build_context(settings: ServiceSettings, chain_settings: ChainSettings, *,
                  deployment: Deployment | None = None, admin_key: bytes | str | None = None,
                  factor_set: FactorSet | None = None) -> ServiceContext:
    """Opens the store (the ledger's tables, then the service's) and builds the service's parts,
    each once, into one context."""
    keyring = KeyRing(settings.master_secret(), kdf_iterations=settings.keystore_kdf_iterations)
    ledger_store = open_store(settings.store_url)
    try:
        store = open_service_store(ledger_store)
    except LedgerError:
        ledger_store.close()
        raise
    factor_set = factor_set or load_factor_set()
    admin = None
    if admin_key is not None:
        raw = bytes.fromhex(admin_key.removeprefix("0x")) if isinstance(admin_key, str) \
            else admin_key
        admin = SigningKey(raw)
    router = Router()  # one route cache for submissions, anchoring and verification
    jobs = JobRunner(store, settings.job_workers)
    ctx = ServiceContext(
        settings=settings, ledger_store=ledger_store, store=store, keyring=keyring,
        chain=ChainAccess(chain_settings, deployment, admin),
        auth=Auth(store, settings.token_ttl_s), factor_set=factor_set, router=router,
        recompute=shipped_recompute(router, also=[factor_set]), jobs=jobs,
        events=EventSender(settings, store, jobs),
        limiter=AuthLimiter(free=settings.auth_free_failures, base_s=settings.auth_backoff_s,
                            max_s=settings.auth_backoff_max_s, window_s=settings.auth_window_s),
    )
    ctx.events.access = event_access(ctx)  # PACT requests: only what the requester may read
    ctx.events.access_v3 = v3_event_access(ctx)
    return ctx


def create_app(settings: ServiceSettings, chain_settings: ChainSettings, *,
               deployment: Deployment | None = None, admin_key: bytes | str | None = None,
               context: ServiceContext | None = None) -> FastAPI:
    """The service. ``deployment`` defaults to the chain settings' deployment file;
    ``admin_key`` (the contract admin's) lets the service grant roles to new organisations."""
    cap_recursion_limit()  # an import (py_ecc) raises it far past what the C stack holds
    ctx = context or build_context(settings, chain_settings, deployment=deployment,
                                   admin_key=admin_key)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        resume_jobs(ctx)
        ctx.events.warm_up()  # the PACT footprint index, built before the first buyer asks
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(title="carbon-ledger", version="0.1.0", description=_DESCRIPTION,
                  lifespan=lifespan)
    app.state.ctx = ctx
    install_error_handlers(app)
    for module in (auth_routes, exporter, auditor, importer, admin, pact, pact3, pages, ileap):
        app.include_router(module.router)
    app.include_router(sharing_routes.router)
    app.openapi = service_openapi(  # type: ignore[method-assign]  # schemes, roles, links
        app, [m.router for m in (auth_routes, exporter, auditor, importer, admin, pact, pact3,
                                 pages, sharing_routes, ileap)])
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.add_middleware(AuthBeforeBody, ctx=ctx)
    app.add_middleware(EncodedIdPaths)  # a shipment id with a slash stays one path segment
    app.add_middleware(BodyTimeout, timeout_s=settings.body_timeout_s)
    if settings.trusted_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(settings.trusted_hosts))
    if settings.require_https:
        app.add_middleware(_HttpsOnly)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer

    @app.get("/health", tags=["service"], responses={503: {
        "description": "A part is unhealthy: `checks` names it and says what failed",
        "content": {"application/json": {"schema": {"type": "object"}}}}})
    def health() -> Any:
        """Whether the store and the chain answer, and which chain and contract the service
        uses (200 when both answer, else 503 naming the part that does not)."""
        checks = {"store": _store_problem(ctx), "chain": _chain_problem(ctx)}
        try:
            contract: str | None = ctx.chain.deployment.address
        except LedgerError:
            contract = None
        healthy = all(problem is None for problem in checks.values())
        body = {"status": "ok" if healthy else "unhealthy",
                "checks": {part: problem or "ok" for part, problem in checks.items()},
                "chain_id": ctx.chain.chain_id, "contract": contract,
                "factor_set_id": ctx.factor_set.id, "explorer_url": settings.explorer_url}
        return body if healthy else JSONResponse(body, status_code=503)

    return app


def _store_problem(ctx: ServiceContext) -> str | None:
    """None when the service store answers a read, else what went wrong."""
    try:
        ctx.store.client("")  # a lookup by key: one round trip to the database
    except (LedgerError, SQLAlchemyError) as exc:
        return f"the service store does not answer: {exc}"
    return None


def _chain_problem(ctx: ServiceContext) -> str | None:
    """None when the node answers with the configured chain id and the contract answers a
    call, else what went wrong."""
    try:
        reader = ctx.chain.reader()
        node_chain_id = reader.node_chain_id()
        if node_chain_id != ctx.chain.chain_id:
            return (f"the RPC node serves chain id {node_chain_id}, the service is configured "
                    f"for {ctx.chain.chain_id}")
        if not reader.client.code(reader.address):
            return no_contract_message(reader.address, node_chain_id)
        reader.is_factor_set_registered(bytes.fromhex(ctx.factor_set.id.removeprefix("0x")))
        return _records_problem(ctx, reader)
    except LedgerError as exc:
        return f"the chain does not answer: {exc}"


def _records_problem(ctx: ServiceContext, reader: Any) -> str | None:
    """None when the node holds the newest transaction the store counts as final on this
    chain and contract (same block), else what is wrong: the chain was reset, rolled back or
    is another chain with the same id."""
    contract = ctx.chain.deployment.address.lower()
    newest = None
    for scope in ctx.ledger_store.scopes():
        if scope.chain_id != ctx.chain.chain_id or scope.contract != contract:
            continue
        for status in ctx.ledger_store.batch_statuses(scope):
            receipt = status.tx.receipt if status.tx is not None else None
            if status.state == "final" and receipt is not None and (
                    newest is None or receipt.block_number > newest[1].block_number):
                newest = (status, receipt)
    if newest is None:
        return None
    status, receipt = newest
    found = reader.receipt(bytes.fromhex(receipt.tx_hash.removeprefix("0x")))
    if found is not None and "0x" + found.block_hash.hex().removeprefix("0x") \
            == "0x" + receipt.block_hash.lower().removeprefix("0x"):
        return None
    where = "is unknown to the node" if found is None else \
        f"is in block {found.block_number} on the node, not in block {receipt.block_number}"
    return (f"the chain does not hold the store's records: transaction {receipt.tx_hash} of "
            f"batch {status.batch.id}, final in block {receipt.block_number} per the store, "
            f"{where}; the chain was reset or rolled back, or is not the chain the store was "
            "anchored on: bring that chain back, or have an admin POST /v1/recovery to anchor "
            "the lost batches again (see docs/service.md, 'A chain that lost the records')")
