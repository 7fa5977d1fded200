"""One anchoring run for the fault tests, which may kill itself with SIGKILL at a checkpoint.

The tests run :func:`run` in a forked process (so the imports are paid once); by hand it runs as
``python tests/faults/anchor_worker.py CONFIG.json``. The config names the node, the
deployment file, the signing key, the store, a JSON file of records (as ``build_record`` makes
them), the path and batch size, the confirmation depth, ``footprints`` (the records' (shipment,
footprint) pairs are rebuilt by forked helpers in chunks of ``chunk_pairs``, instead of all in
this process; either way the run is ``anchor_footprints``), and optionally
``kill_point`` and ``kill_nth``: the worker sends itself SIGKILL the ``kill_nth``-th time the
run reaches that checkpoint (``storing``, ``stored``, ``signed``, ``broadcast``,
``between_batches``, ``receipt``, ``final``).
``ready()`` is called once connected, before anything is stored or sent.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any


def run(config: dict[str, Any], ready: Callable[[], object] | None = None) -> dict[str, int]:
    """One anchoring run as ``config`` says; returns the counts of the result."""
    from ledger.anchoring.anchor import anchor_footprints
    from ledger.anchoring.options import AnchorOptions
    from ledger.anchoring.outbox import OutboxPolicy
    from ledger.chain.client import connect
    from ledger.chain.deploy import load_deployment, open_deployment
    from ledger.config import ChainSettings
    from ledger.records import chunks as record_chunks
    from ledger.store.rows import TxRow
    from ledger.store.store import open_store

    settings = ChainSettings(rpc_url=config["rpc_url"], chain_id=config["chain_id"],
                             poll_interval_s=0.005, rpc_retries=2, rpc_backoff_s=0.05)
    built = json.loads(Path(config["records_file"]).read_text("utf-8"))
    kill_point, kill_nth = config.get("kill_point"), int(config.get("kill_nth", 1))
    seen: dict[str, int] = {}

    def checkpoint(point: str, _tx: TxRow | None) -> None:
        seen[point] = seen.get(point, 0) + 1
        if point == kill_point and seen[point] == kill_nth:
            os.kill(os.getpid(), signal.SIGKILL)

    def mine_a_block() -> None:  # the node makes blocks only for transactions: ask for one
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "evm_mine", "params": []})
        request = urllib.request.Request(config["rpc_url"], data=body.encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    deployment = load_deployment(Path(config["deployment_file"]))
    with connect(settings, private_key=config["private_key"]) as client:
        ledger = open_deployment(client, deployment)
        if ready is not None:
            ready()
        with open_store(config["store"]) as store:
            options = AnchorOptions(path=config["path"], max_batch_shipments=config["batch_size"],
                                    max_root_leaves=config["batch_size"])
            policy = OutboxPolicy(confirmations=config["confirmations"], poll_interval_s=0.005)
            helpers = bool(config.get("footprints"))
            if helpers:
                record_chunks.PARALLEL_MIN_PAIRS = 1  # helpers even for a handful of pairs
                record_chunks._CHUNK_PAIRS = int(config.get("chunk_pairs", 2))
            result = anchor_footprints(
                [(r["shipment"], r["footprint"]) for r in built], store=store, ledger=ledger,
                factor_set_id=config["factor_set_id"], options=options, policy=policy,
                checkpoint=checkpoint, idle=mine_a_block, workers=2 if helpers else 1,
            )
    return {"new": len(result.new_shipments), "already": len(result.already_anchored),
            "resumed": len(result.resumed_batches)}


if __name__ == "__main__":
    counts = run(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))
    print("done " + json.dumps(counts), flush=True)
