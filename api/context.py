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
from api.keystore import KeyRing, SigningKey
from api.pact_events import EventSender
from api.ratelimit import AuthLimiter
from api.settings import ServiceSettings
from api.store import OrgRow, ServiceStore, key_taken
from ledger.errors import ConfigError, InputError, InputProblem, StoreError, WriteRefused
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
    #: back-off on failed client authentication (per client id and address)
    limiter: AuthLimiter = field(default_factory=AuthLimiter)

    def create_org(self, name: str, role: str, *, private_key: bytes | str | None = None,
                   client_id: str | None = None, client_secret: str | None = None,
                   grant_on_chain: bool = True, eori: str | None = None) -> NewOrganisation:
        """Creates an organisation (with a sealed key for exporters and auditors, granted its
        role on chain when the service holds the contract admin's key; for an importer, the
        key that signs its declarations and its EORI number) and a client."""
        address = keystore = None
        if role == "importer":
            address, keystore = self.keyring.seal(private_key)
            holder = self.store.key_holder(address)
            if holder is not None:
                raise key_taken(address, holder)
        if role in ("exporter", "auditor"):
            try:
                address, keystore = self.keyring.seal(private_key)
            except ConfigError as exc:  # a key of zeros, or past the curve order: bad input
                raise InputError([InputProblem(f"private_key: {exc} (it must be 1 to n-1 for "
                                               "the secp256k1 order n)",
                                               field="private_key")]) from None
            holder = self.store.key_holder(address)
            if holder is not None:  # refused before anything is granted on chain
                raise key_taken(address, holder)
            if grant_on_chain:
                self.chain.grant(role, address)
        try:
            org = self.store.add_org(name, role, address, keystore, eori=eori)
        except WriteRefused:
            holder = None if address is None else self.store.key_holder(address)
            if holder is not None:  # a concurrent creation with the same key won
                raise key_taken(address or "", holder) from None
            raise
        made_id, made_secret = new_client_credentials()
        client_id = client_id or made_id
        client_secret = client_secret or made_secret
        self.store.add_client(client_id, org.id, hash_secret(client_secret))
        log.info("organisation %r (%s) created with client %s", name, role, client_id)
        return NewOrganisation(org, client_id, client_secret)

    def own_address(self, org_id: int) -> str | None:
        """The organisation's signing address (None without one), when the organisation owns
        it; StoreError (409) when another organisation created with the same key owns it (a
        store made before keys had one owner): its records are that organisation's."""
        org = self.store.org(org_id)
        if org is None or org.address is None:
            return None
        owner = self.store.key_owner(org.address)
        if owner is not None and owner != org_id:
            holder = self.store.key_holder(org.address)
            raise StoreError(f"the signing key of this organisation (address {org.address}) "
                             f"belongs to the organisation {holder!r}, created with it first; "
                             "the records made with it are not readable here: ask an "
                             "administrator for an organisation with a key of its own")
        return org.address

    def signing_key(self, org_id: int) -> SigningKey:
        """The organisation's own signing key (decrypted); ConfigError without one, StoreError
        when another organisation owns it (see :meth:`own_address`)."""
        org = self.store.org(org_id)
        if org is None or org.keystore is None:
            raise ConfigError("the organisation has no signing key")
        self.own_address(org_id)
        return self.keyring.open(org.keystore)

    def add_client(self, org_id: int) -> tuple[str, str]:
        client_id, secret = new_client_credentials()
        self.store.add_client(client_id, org_id, hash_secret(secret))
        return client_id, secret

    def close(self) -> None:
        self.jobs.close()
        self.ledger_store.close()
