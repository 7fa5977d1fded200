"""The session chain's handles for one test (used by the ``chain`` fixture in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

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

__all__ = ["TEST_FACTOR_SET_ID", "TEST_FACTOR_SET_URI", "DevChain"]

TEST_FACTOR_SET_ID = bytes.fromhex("f5" * 32)
TEST_FACTOR_SET_URI = "test://factor-set"


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
