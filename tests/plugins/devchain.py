"""The session chain's handles for one test (used by the ``chain`` fixture in conftest.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ledger.chain.abi import AbiCodec
from ledger.chain.artifacts import load_artifact
from ledger.chain.client import ChainClient, connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.deploy import Deployment, open_deployment, send_and_wait
from ledger.chain.types import Receipt
from ledger.config import ChainSettings
from ledger.dev.anvil import AnvilNode
from ledger.dev.devkeys import (
    DEV_ADMIN_INDEX,
    DEV_AUDITOR_INDEXES,
    DEV_EXPORTER_INDEXES,
    DEV_OUTSIDER_INDEXES,
    dev_key,
)

__all__ = ["TEST_FACTOR_SET_ID", "TEST_FACTOR_SET_URI", "DevChain", "deploy_rule_1_ledger"]

TEST_FACTOR_SET_ID = bytes.fromhex("f5" * 32)
TEST_FACTOR_SET_URI = "test://factor-set"

#: CarbonLedger as built before shipment ids were derived from the sender (rule 1).
RULE_1_CONTRACT = Path(__file__).parents[1] / "data" / "chain" / "carbon-ledger-rule-1.json"


def deploy_rule_1_ledger(client: ChainClient) -> Receipt:
    """Deploys the CarbonLedger that took shipment ids as sent, with ``client`` as its admin."""
    old = json.loads(RULE_1_CONTRACT.read_text(encoding="utf-8"))
    constructor = AbiCodec(load_artifact().abi).encode_constructor(client.address)
    return send_and_wait(client, None, bytes.fromhex(old["bytecode"][2:]) + constructor,
                         what="deploy the rule-1 CarbonLedger")


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
