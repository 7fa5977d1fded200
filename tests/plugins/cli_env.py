"""The environment the chain commands read, pointed at the test chain, and a way to run them.

:func:`chain_cli_env` writes the deployment file, registers the shipped factor set and sets the
``CARBON_LEDGER_*`` variables (node, chain id, the first dev exporter's key, deployment file,
store, fast polling and retries) through ``monkeypatch``; :func:`run_cli` runs ``carbon-ledger``
in this process and returns its exit code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from devchain import DevChain

from ledger.chain.deploy import write_deployment
from ledger.cli.main import main
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.factors.factorset import load_factor_set

__all__ = ["chain_cli_env", "run_cli"]


def chain_cli_env(chain: DevChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *,
                  rpc_url: str | None = None, store: str = "ledger.sqlite",
                  retries: int = 2) -> Path:
    """Sets the commands' environment (see the module docstring); the deployment file."""
    deployment_file = write_deployment(chain.deployment, tmp_path / "deployment.json")
    factors = load_factor_set()
    factor_set_id = bytes.fromhex(factors.id[2:])
    if not chain.admin.is_factor_set_registered(factor_set_id):
        chain.admin.register_factor_set(factor_set_id, factors.uri)
    for name, value in {
        "RPC_URL": rpc_url or chain.settings.rpc_url, "CHAIN_ID": str(chain.settings.chain_id),
        "PRIVATE_KEY": dev_key(DEV_EXPORTER_INDEXES[0]).private_key,
        "DEPLOYMENT_FILE": str(deployment_file), "STORE": str(tmp_path / store),
        "POLL_INTERVAL_S": "0.005", "RPC_RETRIES": str(retries), "RPC_BACKOFF_S": "0.01",
    }.items():
        monkeypatch.setenv(f"CARBON_LEDGER_{name}", value)
    return deployment_file


def run_cli(args: list[str]) -> int:
    """``carbon-ledger ARGS`` in this process; its exit code."""
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
