"""Everything a request handler needs, built once by the app factory and passed in.

:class:`ServiceContext` holds the service's parts, each built from the settings alone (the jobs'
pool and the PACT event sender take the service store, never the context), so the context is
made whole in one step by :func:`api.app.build_context`, the composition root.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from api.auth import Auth, hash_secret, new_client_credentials
from api.chain_access import ChainAccess
from api.jobs import JobRunner
from api.keystore import KeyRing
from api.pact_events import EventSender
from api.settings import ServiceSettings
from api.store import OrgRow, ServiceStore
from ledger.factors.distances import Router
from ledger.factors.factorset import FactorSet
from ledger.reports.figures import Recompute
from ledger.store.store import LedgerStore

__all__ = ["NewOrganisation", "ServiceContext"]

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


@dataclass(frozen=True)
class ServiceContext:
    """The service's parts, built once by :func:`api.app.build_context` and handed to the
    routes through :data:`api.deps.Context`."""

    settings: ServiceSettings
    ledger_store: LedgerStore
    store: ServiceStore
    keyring: KeyRing
    chain: ChainAccess
    auth: Auth
    factor_set: FactorSet
    router: Router
    recompute: Recompute
    jobs: JobRunner
    events: EventSender

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
        self.jobs.close()
        self.ledger_store.close()
