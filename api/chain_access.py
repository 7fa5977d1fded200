"""The service's way to the chain: the deployed contract, signing handles and report readers.

Built from :class:`ledger.config.ChainSettings` (RPC URL, chain id, deployment file); every
chain call goes through :class:`ledger.chain.contract.CarbonLedgerContract` on a
:mod:`ledger.chain.client` connection (the only web3 module). Read-only handles used to verify
reports are kept one per thread and contract; signing handles are opened per operation and
serialised per key (one writer per key keeps nonces in order).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from api.keystore import SigningKey
from ledger.chain.artifacts import ContractArtifact, load_artifact
from ledger.chain.client import ChainClient, connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.deploy import Deployment, load_deployment, open_deployment
from ledger.config import ChainSettings
from ledger.store.rows import Scope

__all__ = ["ChainAccess"]


class ChainAccess:
    """One contract deployment on one chain, as the service uses it."""

    def __init__(self, settings: ChainSettings, deployment: Deployment | None = None,
                 admin_key: SigningKey | None = None) -> None:
        self.settings = settings
        self._deployment = deployment
        self.admin_key = admin_key
        self._local = threading.local()
        self._key_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._artifact_loaded: ContractArtifact | None = None

    @property
    def deployment(self) -> Deployment:
        """The deployment in use (read from the deployment file on first use)."""
        if self._deployment is None:
            self._deployment = load_deployment(self.settings.deployment_path(),
                                               chain_id=self.settings.chain_id)
        return self._deployment

    @property
    def chain_id(self) -> int:
        return self.settings.chain_id

    def scope(self, address: str) -> Scope:
        """Where the ledger store keeps this address's records."""
        return Scope(self.settings.chain_id, self.deployment.address, address)

    def key_lock(self, address: str) -> threading.Lock:
        with self._guard:
            return self._key_locks.setdefault(address.lower(), threading.Lock())

    @contextmanager
    def ledger(self, key: SigningKey) -> Iterator[CarbonLedgerContract]:
        """The deployed contract, used by ``key`` (a fresh, checked connection)."""
        with connect(self.settings, private_key=key.secret()) as client:
            yield open_deployment(client, self.deployment, artifact=self._artifact())

    @contextmanager
    def signer(self, key: SigningKey, contract: str | None = None
               ) -> Iterator[CarbonLedgerContract]:
        """The ledger contract at ``contract`` (default: the deployment's) used by ``key``, for
        one-off transactions such as attestations (a fresh connection)."""
        with connect(self.settings, private_key=key.secret()) as client:
            yield CarbonLedgerContract(client, contract or self.deployment.address,
                                       artifact=self._artifact())

    def reader(self, contract: str | None = None) -> CarbonLedgerContract:
        """A read-only handle on ``contract`` (default: the deployment's), on this thread's
        read-only connection."""
        address = contract or self.deployment.address
        readers: dict[str, CarbonLedgerContract] = getattr(self._local, "readers", None) or {}
        self._local.readers = readers
        if address.lower() not in readers:
            readers[address.lower()] = CarbonLedgerContract(self._read_client(), address,
                                                            artifact=self._artifact())
        return readers[address.lower()]

    def _read_client(self) -> ChainClient:
        client: ChainClient | None = getattr(self._local, "client", None)
        if client is None:
            client = connect(self.settings, read_only=True)
            self._local.client = client
        return client

    def _artifact(self) -> ContractArtifact:
        if self._artifact_loaded is None:
            self._artifact_loaded = load_artifact()
        return self._artifact_loaded

    def register_factor_set(self, factor_set_id: str, uri: str) -> bool:
        """Registers the factor set with the admin key when it is not yet; True if it did."""
        if self.admin_key is None:
            return False
        key = bytes.fromhex(factor_set_id.removeprefix("0x"))
        with self.key_lock(self.admin_key.address), self.ledger(self.admin_key) as ledger:
            if ledger.is_factor_set_registered(key):
                return False
            ledger.register_factor_set(key, uri)
            return True

    def grant(self, role: str, address: str) -> None:
        """Grants ``role`` (exporter or auditor) to ``address`` with the admin key, if held."""
        if self.admin_key is None:
            return
        with self.key_lock(self.admin_key.address), self.ledger(self.admin_key) as ledger:
            role_id = ledger.exporter_role() if role == "exporter" else ledger.auditor_role()
            if not ledger.has_role(role_id, address):
                ledger.grant_role(role_id, address)
