"""Shared fixtures: one real Anvil per test session, the contract deployed, isolation per test.

- ``local_chain`` (session): the local development chain of :func:`ledger.dev.local.local_ledger`:
  Anvil on a free 127.0.0.1 port, chain id 31337, EIP-7825 gas cap enforced; CarbonLedger
  deployed by dev key 0 (admin), exporters = dev keys 1-4, auditor = dev key 5, and the factor
  set ``TEST_FACTOR_SET_ID`` registered. The node is stopped when the session ends, fails or is
  interrupted (and, on Linux, if the test process is killed).
- ``anvil_node``, ``chain_settings``, ``dev_deployment`` (session): its node, its
  :class:`ledger.config.ChainSettings` and its deployment.
- ``chain`` (function): a :class:`DevChain` with one contract handle per signer; the chain is
  reverted to its state before the test (``evm_snapshot`` / ``evm_revert``).

Any test that uses ``local_chain`` (directly or through the others) is marked ``chain``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ledger.chain.client import ChainClient, connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.deploy import Deployment, open_deployment
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode
from ledger.dev.devkeys import (
    DEV_ADMIN_INDEX,
    DEV_AUDITOR_INDEXES,
    DEV_EXPORTER_INDEXES,
    DEV_OUTSIDER_INDEXES,
    dev_key,
)
from ledger.dev.local import LocalLedger, local_ledger

TEST_FACTOR_SET_ID = bytes.fromhex("f5" * 32)
TEST_FACTOR_SET_URI = "test://factor-set"


@pytest.fixture(scope="session")
def local_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLedger]:
    with local_ledger(factor_sets=[(TEST_FACTOR_SET_ID, TEST_FACTOR_SET_URI)],
                      deployments_dir=tmp_path_factory.mktemp("deployments"),
                      poll_interval_s=0.005, receipt_timeout_s=30) as made:
        yield made


@pytest.fixture(scope="session")
def anvil_node(local_chain: LocalLedger) -> AnvilNode:
    return local_chain.node


@pytest.fixture(scope="session")
def chain_settings(local_chain: LocalLedger) -> ChainSettings:
    return local_chain.settings


@pytest.fixture(scope="session")
def dev_deployment(local_chain: LocalLedger) -> Deployment:
    return local_chain.deployment


@dataclass
class DevChain:
    """The session's chain for one test: contract handles per signer, and a client factory."""

    node: AnvilNode
    settings: ChainSettings
    deployment: Deployment
    factor_set_id: bytes = TEST_FACTOR_SET_ID
    _clients: list[ChainClient] = field(default_factory=list)

    def client(self, key_index: int) -> ChainClient:
        """A fresh client signing with dev key ``key_index`` (closed after the test)."""
        made = connect(self.settings, private_key=dev_key(key_index).private_key)
        self._clients.append(made)
        return made

    def ledger(self, key_index: int) -> CarbonLedgerContract:
        """The deployed contract, used by dev key ``key_index``."""
        return open_deployment(self.client(key_index), self.deployment)

    @property
    def admin(self) -> CarbonLedgerContract:
        return self.ledger(DEV_ADMIN_INDEX)

    @property
    def exporter(self) -> CarbonLedgerContract:
        return self.ledger(DEV_EXPORTER_INDEXES[0])

    @property
    def exporter2(self) -> CarbonLedgerContract:
        return self.ledger(DEV_EXPORTER_INDEXES[1])

    @property
    def auditor(self) -> CarbonLedgerContract:
        return self.ledger(DEV_AUDITOR_INDEXES[0])

    @property
    def outsider(self) -> CarbonLedgerContract:
        return self.ledger(DEV_OUTSIDER_INDEXES[0])

    def close(self) -> None:
        for made in self._clients:
            made.close()
        self._clients.clear()


@pytest.fixture
def chain(anvil_node: AnvilNode, chain_settings: ChainSettings,
          dev_deployment: Deployment) -> Iterator[DevChain]:
    snapshot = anvil_node.rpc("evm_snapshot")
    dev = DevChain(anvil_node, chain_settings, dev_deployment)
    try:
        yield dev
    finally:
        dev.close()
        if not anvil_node.rpc("evm_revert", snapshot):
            raise RuntimeError(f"evm_revert({snapshot}) failed: later tests would see this one")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "local_chain" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.chain)
