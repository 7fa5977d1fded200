"""Everything a request handler needs, built once by the app factory and passed in."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from api.auth import Auth, hash_secret, new_client_credentials
from api.chain_access import ChainAccess
from api.keystore import KeyRing, SigningKey
from api.settings import ServiceSettings
from api.store import OrgRow, ServiceStore
from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings
from ledger.factors.factorset import FactorSet
from ledger.store.store import LedgerStore

__all__ = ["NewOrganisation", "ServiceContext", "build_context"]

log = logging.getLogger("api")


@dataclass(frozen=True)
class NewOrganisation:
    """An organisation just created, with its first client credentials (shown once)."""

    org: OrgRow
    client_id: str
    client_secret: str = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.org.id, "name": self.org.name, "role": self.org.role,
                "address": self.org.address, "client_id": self.client_id,
                "client_secret": self.client_secret}


@dataclass
class ServiceContext:
    settings: ServiceSettings
    ledger_store: LedgerStore
    store: ServiceStore
    keyring: KeyRing
    chain: ChainAccess
    auth: Auth
    factor_set: FactorSet
    router: Any
    recompute: Any
    jobs: Any = None
    events: Any = None

    def create_org(self, name: str, role: str, *, private_key: bytes | str | None = None,
                   client_id: str | None = None, client_secret: str | None = None,
                   grant_on_chain: bool = True) -> NewOrganisation:
        """Creates an organisation (with a sealed key for exporters and auditors, granted its
        role on chain when the service holds the contract admin's key) and a client."""
        address = keystore = None
        if role in ("exporter", "auditor"):
            address, keystore = self.keyring.seal(private_key)
            if grant_on_chain:
                self.chain.grant(role, address)
        org = self.store.add_org(name, role, address, keystore)
        made_id, made_secret = new_client_credentials()
        client_id = client_id or made_id
        client_secret = client_secret or made_secret
        self.store.add_client(client_id, org.id, hash_secret(client_secret))
        log.info("organisation %r (%s) created with client %s", name, role, client_id)
        return NewOrganisation(org, client_id, client_secret)

    def add_client(self, org_id: int) -> tuple[str, str]:
        client_id, secret = new_client_credentials()
        self.store.add_client(client_id, org_id, hash_secret(secret))
        return client_id, secret

    def close(self) -> None:
        if self.jobs is not None:
            self.jobs.close()
        self.ledger_store.close()


def build_context(settings: ServiceSettings, chain_settings: ChainSettings, *,
                  deployment: Deployment | None = None, admin_key: bytes | str | None = None,
                  factor_set: FactorSet | None = None) -> ServiceContext:
    """Opens the store (migrating it) and wires the service's parts together."""
    from api.anchoring import JobRunner
    from api.pact_events import EventSender
    from api.reporting import shared_router_recompute
    from ledger.factors.distances import Router
    from ledger.factors.factorset import load_factor_set
    from ledger.store.store import open_store

    keyring = KeyRing(settings.master_secret(), kdf_iterations=settings.keystore_kdf_iterations)
    ledger_store = open_store(settings.store_url)
    store = ServiceStore(ledger_store)
    factor_set = factor_set or load_factor_set()
    admin = None
    if admin_key is not None:
        raw = bytes.fromhex(admin_key.removeprefix("0x")) if isinstance(admin_key, str) \
            else admin_key
        admin = SigningKey(raw)
    router = Router()
    ctx = ServiceContext(
        settings=settings, ledger_store=ledger_store, store=store, keyring=keyring,
        chain=ChainAccess(chain_settings, deployment, admin),
        auth=Auth(store, settings.token_ttl_s),
        factor_set=factor_set, router=router,
        recompute=shared_router_recompute(factor_set, router),
    )
    ctx.jobs = JobRunner(ctx, settings.job_workers)
    ctx.events = EventSender(ctx)
    return ctx
