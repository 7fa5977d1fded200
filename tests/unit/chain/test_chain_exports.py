"""Every name the chain layer's modules export exists (``__all__`` stays honest)."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "ledger.dev.anvil", "ledger.chain.artifacts", "ledger.chain.client", "ledger.chain.abi",
    "ledger.chain.contract",
    "ledger.chain.events", "ledger.chain.gas", "ledger.chain.types", "ledger.dev.compile",
    "ledger.config", "ledger.chain.deploy", "ledger.dev.devkeys", "ledger.cli.devnet",
]


@pytest.mark.parametrize("name", MODULES)
def test_exported_names_import(name: str) -> None:
    module = importlib.import_module(name)
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing attributes: {missing}"
