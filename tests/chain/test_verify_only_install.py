"""``carbon-ledger verify REPORT --rpc URL`` needs only what ``pip install carbon-ledger``
brings: no Node, no Anvil, no Solidity compiler, nothing of the development chain.

The check runs the command in a fresh interpreter whose ``PATH`` holds no ``node``, ``anvil`` or
``solc`` and whose toolchain settings point nowhere, then lists the modules it imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from devchain import DevChain
from report_chain_fixtures import anchor_and_issue

pytestmark = pytest.mark.chain

#: Modules of the development tool chain (compiler, local node, dev keys, demo).
DEV_ONLY = ("ledger.dev", "solcx")
PROBE = """
import atexit, json, sys
def _listed():
    print("IMPORTED " + json.dumps(sorted(sys.modules)))
atexit.register(_listed)
from ledger.cli.main import main
main(sys.argv[1:])
"""


def test_verify_runs_without_node_anvil_or_solc(chain: DevChain, tmp_path: Path) -> None:
    chain.node.rpc("evm_mine")
    issued = anchor_and_issue(chain, tmp_path)
    chain.node.rpc("evm_mine")
    report = tmp_path / "report.json"
    report.write_text(json.dumps(issued.document), encoding="utf-8")
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"PATH": str(bare), "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "CARBON_LEDGER_SOLC": str(tmp_path / "no-solc"),
           "CARBON_LEDGER_ANVIL": str(tmp_path / "no-anvil"),
           "CARBON_LEDGER_CHAIN_ID": str(chain.settings.chain_id)}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "verify", str(report), "--rpc", chain.settings.rpc_url],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\nVERIFIED\n" in done.stdout
    imported = json.loads(done.stdout.rsplit("IMPORTED ", 1)[1])
    assert [m for m in imported if m.startswith(DEV_ONLY)] == []
