"""Every name the chain layer's modules export exists (``__all__`` stays honest)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "ledger.anvil", "ledger.artifacts", "ledger.chain", "ledger.chain_abi", "ledger.chain_contract",
    "ledger.chain_events", "ledger.chain_gas", "ledger.chain_types", "ledger.compile",
    "ledger.config", "ledger.deploy", "ledger.devkeys", "ledger.commands.devnet",
]


@pytest.mark.parametrize("name", MODULES)
def test_exported_names_import(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"
