"""Benchmark of report verification against a local Anvil (prints figures, asserts nothing).

1. one report (two shipments, engine recompute, every on-chain check, read-only connection),
   median of 20 runs after a warm-up, excluding process start; goal <= 300 ms; the same with
   the report's chain reads prefetched in one JSON-RPC batch (as the service verifies); and
   with a fresh distance router each time (the sea route of the report computed again);
2. 10,000 shipment proofs from one batch checked against one root fetched once; goal <= 5 s.

``--baseline REV`` first runs this benchmark as committed at git revision ``REV`` (its code,
the same machine, the same run), so its figures print above these.

Run: ``.venv/bin/python scripts/bench_verify.py [--baseline REV]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.deploy import open_deployment
from ledger.dev.local import local_ledger
from ledger.factors.factorset import load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.records import merkle
from ledger.records import record as records
from ledger.reports.document import build_report
from ledger.reports.figures import engine_recompute
from ledger.reports.model import Anchor, ReportItem
from ledger.verify.reader import prefetch_report
from ledger.verify.verifier import verify_proofs, verify_report

ROOT = Path(__file__).resolve().parents[1]
GOAL_ONE_MS = 300.0
GOAL_BATCH_S = 5.0
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
SHIPMENTS = [
    {"shipment_id": "HY-2026-0007", "exporter": "Haiyan Fasteners Co.",
     "product": {"description": "Threaded screws and bolts", "cn_code": "73181590",
                 "country_of_origin": "CN", "net_mass_kg": "10000", "cbam_year": 2026},
     "legs": [{"leg": 1, "mode": "road", "origin": "CNHYN", "destination": "CNNGB",
               "distance_km": "160", "mass_kg": "10000"},
              {"leg": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
               "mass_kg": "10000"}]},
    {"shipment_id": "NGB-2026-0001", "exporter": "Ningbo Appliance Co.",
     "legs": [{"leg": 1, "mode": "road", "origin": "CNNGB", "destination": "CNNGB",
               "distance_km": "35", "mass_kg": "12000"}]},
]


def main() -> None:
    factor_set = load_factor_set()
    fsid = bytes.fromhex(factor_set.id[2:])
    with local_ledger(exporters=1, auditors=0, factor_sets=[factor_set],
                      poll_interval_s=0.005) as chain:
        node, settings, deployment = chain.node, chain.settings, chain.deployment
        exporter_key = chain.exporters[0]
        client = chain.connect(exporter_key)
        ledger = open_deployment(client, deployment)

        recs = []
        for data in SHIPMENTS:
            shipment = Shipment.from_dict(data)
            recs.append(records.build_record(
                shipment.to_dict(), compute_shipment(shipment, factor_set).to_dict(),
                exporter=exporter_key.address.lower(), factor_set_id=factor_set.id))
        # one batch: the two report shipments plus 9,998 synthetic leaves (10,000 in all)
        leaves = [records.record_leaf(r) for r in recs]
        leaves += [merkle.make_leaf("0x" + f"{i:064x}", "0x" + f"{i + 7:064x}", i, i // 2)
                   for i in range(1, 10_000 - len(leaves) + 1)]
        tree = merkle.build_tree(leaves)
        receipt = ledger.anchor_root(tree.root_bytes, fsid, len(leaves))
        node.rpc("evm_mine")
        recompute = engine_recompute([factor_set])
        items = []
        for rec, leaf in zip(recs, leaves, strict=False):
            anchor = Anchor(
                chain_id=31337, contract=deployment.address, path="root", batch_id=tree.root,
                transaction_hash="0x" + receipt.tx_hash.hex(), block_number=receipt.block_number,
                merkle_root=tree.root, chain_shipment_id="0x" + leaf.shipment_id.hex(),
                record_hash=records.record_hash(rec), co2e_wtw_g=leaf.co2e_wtw_g,
                co2e_ttw_g=leaf.co2e_ttw_g, proof=tuple(tree.proof(leaf.shipment_id)),
                record=rec, factor_set_id=factor_set.id, factor_set_uri=factor_set.uri)
            items.append(ReportItem(recompute(rec, PERIOD)[0], anchor))
        document = build_report(items, issuer_key=exporter_key.private_key,
                                issued_at=datetime.now(UTC), period=PERIOD)
        client.close()
        # the verifier holds no key: a read-only connection, as `carbon-ledger verify` uses
        client = connect(settings, read_only=True)
        reader = CarbonLedgerContract(client, deployment.address)

        assert verify_report(document, reader, recompute=recompute).ok
        timings = []
        for _ in range(20):
            start = time.perf_counter()
            verdict = verify_report(document, reader, recompute=recompute)
            timings.append((time.perf_counter() - start) * 1000)
            assert verdict.ok
        one_ms = statistics.median(timings)
        prefetched = []
        for _ in range(20):
            start = time.perf_counter()
            with prefetch_report(reader, document):
                verdict = verify_report(document, reader, recompute=recompute)
            prefetched.append((time.perf_counter() - start) * 1000)
            assert verdict.ok
        prefetched_ms = statistics.median(prefetched)
        cold = []  # a new distance router each time: the sea route is computed again
        for _ in range(5):
            start = time.perf_counter()
            fresh = engine_recompute([factor_set])
            assert verify_report(document, reader, recompute=fresh).ok
            cold.append((time.perf_counter() - start) * 1000)
        cold_ms = statistics.median(cold)

        entries = [(leaf, tree.proof(leaf.shipment_id)) for leaf in leaves]
        start = time.perf_counter()
        checked, bad = verify_proofs(entries, tree.root, exporter_key.address, reader)
        batch_s = time.perf_counter() - start
        client.close()

    print(f"verify one report (2 shipments, {len(verdict.checks)} checks), median of 20: "
          f"{one_ms:8.1f} ms   goal <= {GOAL_ONE_MS:.0f} ms   "
          f"{'OK' if one_ms <= GOAL_ONE_MS else 'OVER'}")
    print(f"verify one report, chain reads in one batch (service), median of 20: "
          f"{prefetched_ms:8.1f} ms   goal <= {GOAL_ONE_MS:.0f} ms   "
          f"{'OK' if prefetched_ms <= GOAL_ONE_MS else 'OVER'}")
    print(f"verify one report, fresh router (sea route computed), median of 5:    "
          f"{cold_ms:8.1f} ms   goal <= {GOAL_ONE_MS:.0f} ms   "
          f"{'OK' if cold_ms <= GOAL_ONE_MS else 'OVER'}")
    print(f"verify {checked:,} proofs from one batch (root fetched once), {len(bad)} bad: "
          f"{batch_s:8.2f} s    goal <= {GOAL_BATCH_S:.0f} s     "
          f"{'OK' if batch_s <= GOAL_BATCH_S else 'OVER'}")


def baseline(rev: str) -> None:
    """Runs this benchmark as committed at ``rev`` (from a copy of that revision's files)."""
    with tempfile.TemporaryDirectory(prefix="bench-verify-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", "--format=tar", rev], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        print(f"--- baseline {rev}", flush=True)
        # from this tree's folder, so that its node_modules/.bin/anvil is found
        subprocess.run([sys.executable, str(Path(tmp) / "scripts" / "bench_verify.py")],
                       cwd=ROOT, check=True)
    print("--- this tree", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV",
                        help="first run this benchmark as committed at this git revision")
    if (given := parser.parse_args()).baseline:
        baseline(given.baseline)
    main()
