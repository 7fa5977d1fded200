"""Crash safety: an anchoring process SIGKILLed at random points, then resumed.

Each round anchors fresh shipments (three batches; in turn per-shipment events, a root whose
records this process builds, and a root whose records forked helpers build while the run stores
them block by block) in a forked process that kills itself at a named checkpoint (while storing,
before sending, after sending but before the receipt is stored, between batches, ...) or is
killed by this test after a random delay; some rounds crash twice.
Then the same command runs again. At the end every shipment is anchored exactly once, every
transaction used exactly one nonce, and the store agrees with the chain event for event.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
from devchain import DevChain
from faults.anchor_worker import run

from ledger.anchoring.options import scope_of
from ledger.anchoring.proofs import audit_store, check_bundle, proof_bundle
from ledger.chain.deploy import write_deployment
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.records.record import build_record
from ledger.store.store import open_store

pytestmark = [pytest.mark.chain, pytest.mark.slow]

ROUNDS = 21
SHIPMENTS_PER_ROUND = 6
BATCH_SIZE = 2
#: (checkpoint, how many times it is reached in one uninterrupted round of three batches)
KILL_POINTS = [
    ("signed", 3),            # stored, not yet sent
    ("broadcast", 3),         # sent, receipt not yet stored
    ("between_batches", 3),
    ("receipt", 3),
    ("stored", 1),
    ("final", 3),
    ("storing", 3),           # records half stored (footprint rounds: one block per 2 shipments)
    (None, 0),                # killed from outside after a random delay
]
#: (path, records built by forked helpers rather than this process) of each round, in turn
MODES = [("events", False), ("root", False), ("root", True)]


def _records(exporter: str, factor_set_id: bytes, round_no: int) -> list[dict[str, object]]:
    return [
        build_record(
            {"shipment_id": f"F{round_no:02d}-{n}", "legs": [
                {"leg": 1, "mode": "sea", "mass_kg": str(1000 + n), "origin": "CNNGB",
                 "destination": "NLRTM", "distance_km": "19399"}]},
            {"shipment_id": f"F{round_no:02d}-{n}", "co2e_wtw_g": 10_000 * round_no + n,
             "co2e_ttw_g": 9_000 * round_no + n},
            exporter=exporter, factor_set_id="0x" + factor_set_id.hex(),
        )
        for n in range(SHIPMENTS_PER_ROUND)
    ]


def _run(config: dict[str, object], rng: random.Random, outside_kill: bool = False) -> int:
    """One run in a forked process; its exit code (``-SIGKILL`` when killed)."""
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    worker = context.Process(target=run, args=(config, ready.set))
    worker.start()
    try:
        if outside_kill:
            assert ready.wait(30), "the worker never got ready"
            time.sleep(rng.uniform(0.0, 0.3))
            os.kill(worker.pid, signal.SIGKILL)  # type: ignore[arg-type]
        worker.join(120)
    finally:
        if worker.is_alive():
            worker.kill()
            worker.join()
    code = worker.exitcode
    assert code in (0, -signal.SIGKILL), f"worker failed with exit code {code}"
    return code


def test_sigkill_at_random_points_then_resume_anchors_everything_exactly_once(
    chain: DevChain, tmp_path: Path,
) -> None:
    rng = random.Random(20261127)
    exporter = chain.ledger(DEV_EXPORTER_INDEXES[2])
    start_nonce = exporter.client.mined_nonce()
    store_path = tmp_path / "ledger.sqlite"
    base = {
        "rpc_url": chain.settings.rpc_url, "chain_id": chain.settings.chain_id,
        "deployment_file": str(write_deployment(chain.deployment, tmp_path / "deploy.json")),
        "private_key": dev_key(DEV_EXPORTER_INDEXES[2]).private_key, "store": str(store_path),
        "factor_set_id": "0x" + chain.factor_set_id.hex(), "batch_size": BATCH_SIZE,
        "confirmations": 1,
    }
    killed: dict[str, int] = {}
    all_ids: list[str] = []
    for round_no in range(ROUNDS):
        records = _records(exporter.client.address, chain.factor_set_id, round_no)
        all_ids += [str(r["shipment_id"]) for r in records]
        records_file = tmp_path / f"records-{round_no}.json"
        records_file.write_text(json.dumps(records), encoding="utf-8")
        path, footprints = MODES[round_no % len(MODES)]
        config = {**base, "records_file": str(records_file), "path": path,
                  "footprints": footprints}
        crashes = 2 if round_no % 5 == 4 else 1
        for crash in range(crashes):
            point, reached = KILL_POINTS[(round_no + crash) % len(KILL_POINTS)]
            if point is None:
                code = _run(config, rng, outside_kill=True)
                label = "random delay"
            else:
                nth = rng.randint(1, reached)
                code = _run({**config, "kill_point": point, "kill_nth": nth}, rng)
                label = point
            if code == -signal.SIGKILL:
                killed[label] = killed.get(label, 0) + 1
        assert _run(config, rng) == 0  # resume, uninterrupted

    assert sum(killed.values()) >= 20, killed
    for point in ("signed", "broadcast", "between_batches"):
        assert killed.get(point, 0) >= 2, killed
    assert killed.get("storing", 0) >= 1, killed

    with open_store(store_path) as store:
        scope = scope_of(exporter)
        statuses = store.batch_statuses(scope)
        assert {s.state for s in statuses} == {"final"}
        assert all(len(store.batch_txs(s.batch.id)) == 1 for s in statuses)  # never re-sent
        assert sum(s.batch.shipment_count for s in statuses) == len(all_ids)
        assert sorted(r.shipment_id for r in store.scope_records(scope)) == sorted(all_ids)
        # every nonce went to exactly one of our transactions, each mined once
        assert exporter.client.mined_nonce() - start_nonce == len(statuses)
        audit = audit_store(store, exporter, scope)
        assert audit.ok, audit
        assert audit.checked_events == sum(
            s.batch.shipment_count if s.batch.path == "events" else 1 for s in statuses)
        for shipment_id in rng.sample(all_ids, 12):
            checks = check_bundle(proof_bundle(store, scope, shipment_id), exporter)
            assert all(c.ok for c in checks), (shipment_id, checks)
