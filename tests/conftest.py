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

import pytest
from devchain import TEST_FACTOR_SET_ID, TEST_FACTOR_SET_URI, DevChain

from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode
from ledger.dev.local import LocalLedger, local_ledger


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
