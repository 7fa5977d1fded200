#!/usr/bin/env python
"""Throughput of record hashing, Merkle batches and proofs, beside a naive baseline.

    .venv/bin/python scripts/bench_merkle.py [--records 100000] [--batch 10000] [--baseline 20000]
                                             [--repeat 3]

Stages, each over the same synthetic shipments (two legs, shaped like the demo's Ningbo one):
  1. build_entry: shipment + footprint dicts -> checked record, canonical bytes, keccak-256
     record hash, on-chain shipment id, leaf (the anchoring path); record_leaf alone on a built
     record (the verifier's path) is shown beside it
  2. trees of ``--batch`` leaves (double-hashed leaves, sorted pairs)
  3. every proof of every tree (hex strings, ready for JSON or a contract call)
The baseline does the same with the obvious tools: ``json.dumps(sort_keys=True)`` + ``Web3.keccak``
per record, ``eth_abi.encode`` + ``Web3.keccak`` per leaf and node; it runs on the first
``--baseline`` records. Each stage runs ``--repeat`` times and the fastest run counts (the machine
may be busy with other work). The anchor transaction is not in these figures (one transaction per
batch; see scripts/bench_chain.py).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import eth_abi
from Crypto.Hash import keccak as pycryptodome_keccak
from eth_hash.auto import keccak as eth_hash_keccak
from web3 import Web3

from ledger.records.canonical import (
    canonical_json,
    canonical_json_reference,
    chain_shipment_id_bytes,
)
from ledger.records.keccak import keccak256
from ledger.records.merkle import LEAF_ENCODING, build_tree
from ledger.records.record import RecordEntry, build_entry, record_leaf

TARGET_PER_S = 50_000
EXPORTERS = ["0x" + f"{n:02x}" * 20 for n in range(1, 9)]
FACTOR_SET = "0x" + "5e" * 32


Inputs = list[tuple[dict[str, Any], dict[str, Any], str]]


def synthetic_inputs(count: int, seed: int = 2026) -> Inputs:
    """(shipment, footprint, exporter) of two-leg shipments (truck to port, container ship)."""
    rng = random.Random(seed)
    result = []
    for n in range(count):
        shipment_id = f"NGB-2026-{n:06d}"
        mass_kg = rng.randrange(500, 26_000)
        road_km, sea_km = rng.randrange(20, 400), rng.randrange(9_000, 21_000)
        road_ttw, sea_ttw = rng.randrange(10**4, 10**6), rng.randrange(10**5, 10**8)
        road_wtt, sea_wtt = road_ttw // 4, sea_ttw // 5
        shipment = {
            "shipment_id": shipment_id,
            "exporter": "Ningbo Appliances Co., Ltd.",
            "product": {"cn_code": "84182100", "description": "household refrigerators",
                        "mass_kg": str(mass_kg)},
            "legs": [
                {"order": 1, "mode": "road", "origin": "Cixi", "destination": "CNNGB",
                 "distance_km": str(road_km), "mass_kg": str(mass_kg),
                 "vehicle": "hgv_articulated_average"},
                {"order": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
                 "mass_kg": str(mass_kg), "vehicle": "container_ship_average"},
            ],
        }
        footprint = {
            "shipment_id": shipment_id,
            "legs": [
                {"order": 1, "mode": "road", "distance_km": str(road_km),
                 "distance_method": "actual", "activity_tkm": f"{mass_kg * road_km / 1000:.3f}",
                 "co2e_ttw_g": road_ttw, "co2e_wtt_g": road_wtt,
                 "co2e_wtw_g": road_ttw + road_wtt,
                 "factor_keys": ["defra-2025:road:hgv_articulated_average"]},
                {"order": 2, "mode": "sea", "distance_km": str(sea_km),
                 "distance_method": "sea_route", "activity_tkm": f"{mass_kg * sea_km / 1000:.3f}",
                 "co2e_ttw_g": sea_ttw, "co2e_wtt_g": sea_wtt, "co2e_wtw_g": sea_ttw + sea_wtt,
                 "factor_keys": ["defra-2025:sea:container_ship_average"]},
            ],
            "co2e_ttw_g": road_ttw + sea_ttw,
            "co2e_wtt_g": road_wtt + sea_wtt,
            "co2e_wtw_g": road_ttw + road_wtt + sea_ttw + sea_wtt,
            "intensity_g_per_tkm": "8.125",
            "production": None,
            "cbam": {"in_scope": False, "reason": "CN 8418 is not an Annex I good"},
        }
        result.append((shipment, footprint, EXPORTERS[n % len(EXPORTERS)]))
    return result


def entries_of(inputs: Inputs) -> list[RecordEntry]:
    return [build_entry(s, f, exporter=e, factor_set_id=FACTOR_SET) for s, f, e in inputs]


# ---------------------------------------------------------------------------- naive baseline


def naive_leaf(record: dict[str, Any]) -> tuple[bytes, bytes, int, int]:
    data = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    record_hash = bytes(Web3.keccak(data))
    shipment_key = bytes(Web3.keccak(text=(
        f"carbon-ledger/shipment-id/v2|{record['exporter']}|{record['shipment_id']}")))
    shipment_id = bytes(Web3.keccak(bytes(12) + bytes.fromhex(record["exporter"][2:])
                                    + shipment_key))
    footprint = record["footprint"]
    return shipment_id, record_hash, footprint["co2e_wtw_g"], footprint["co2e_ttw_g"]


def naive_tree(leaves: Sequence[tuple[bytes, bytes, int, int]]) -> tuple[list[bytes], list[int]]:
    hashed = sorted(
        (bytes(Web3.keccak(Web3.keccak(eth_abi.encode(list(LEAF_ENCODING), list(leaf))))), i)
        for i, leaf in enumerate(leaves)
    )
    size = 2 * len(hashed) - 1
    tree = [b""] * size
    for rank, (digest, _) in enumerate(hashed):
        tree[size - 1 - rank] = digest
    for i in range(size - len(hashed) - 1, -1, -1):
        a, b = sorted((tree[2 * i + 1], tree[2 * i + 2]))
        tree[i] = bytes(Web3.keccak(a + b))
    positions = [0] * len(hashed)
    for rank, (_, index) in enumerate(hashed):
        positions[index] = size - 1 - rank
    return tree, positions


def naive_proofs(tree: list[bytes], positions: list[int]) -> list[list[str]]:
    result = []
    for leaf_position in positions:
        proof = []
        position = leaf_position
        while position > 0:
            sibling = position + 1 if position % 2 == 1 else position - 1
            proof.append(Web3.to_hex(tree[sibling]))
            position = (position - 1) // 2
        result.append(proof)
    return result


# ---------------------------------------------------------------------------- measuring


class Timer:
    """Runs an action ``repeat`` times; keeps the best wall-clock and CPU seconds of the runs.

    CPU time shows what the code costs when other processes share the cores.
    """

    def __init__(self, repeat: int) -> None:
        self.repeat = max(1, repeat)
        self.cpu_s: dict[str, float] = {}

    def __call__(self, name: str, action: Callable[[], Any]) -> tuple[float, Any]:
        best, best_cpu, result = float("inf"), float("inf"), None
        for _ in range(self.repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            result = action()
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        self.cpu_s[name] = best_cpu
        return best, result


def per_call_us(function: Callable[[bytes], bytes], calls: int = 100_000) -> float:
    data = bytes(range(64))
    start = time.perf_counter()
    for _ in range(calls):
        function(data)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    timed = Timer(args.repeat)

    print("keccak-256 of 64 bytes, microseconds per call:")
    for name, function in [
        ("pycryptodome keccak.new", lambda d: pycryptodome_keccak.new(data=d, digest_bits=256)
         .digest()),
        ("eth-hash (auto backend)", eth_hash_keccak),
        ("Web3.keccak", Web3.keccak),
        ("ledger: keccak256 (safe-pysha3)", keccak256),
    ]:
        print(f"  {name:36s} {per_call_us(function):6.2f}")

    inputs = synthetic_inputs(args.records)
    count, batch = len(inputs), args.batch
    entry_s, entries = timed("entry", lambda: entries_of(inputs))
    records = [entry.record for entry in entries]
    leaves = [entry.leaf for entry in entries]
    size = sum(len(entry.canonical) for entry in entries) / count
    print(f"\n{count:,} synthetic shipments, records of ~{size:,.0f} bytes canonical JSON\n")

    canon_s, _ = timed("canon", lambda: [canonical_json(r) for r in records])
    canon_ref_s, _ = timed("canon_ref", lambda: [canonical_json_reference(r) for r in records])
    leaf_s, _ = timed("leaf", lambda: [record_leaf(r) for r in records])
    batches = [leaves[i:i + batch] for i in range(0, count, batch)]
    tree_s, trees = timed("tree", lambda: [build_tree(b) for b in batches])
    proof_s, _ = timed("proof", lambda: [t.proofs() for t in trees])
    sid_s, _ = timed("sid", lambda: [
        chain_shipment_id_bytes(r["exporter"], r["shipment_id"]) for r in records
    ])

    sample = records[:min(args.baseline, count)]
    n = len(sample)
    naive_leaf_s, naive_leaves = timed("naive_leaf", lambda: [naive_leaf(r) for r in sample])
    naive_batches = [naive_leaves[i:i + batch] for i in range(0, n, batch)]
    naive_tree_s, naive_trees = timed("naive_tree", lambda: [naive_tree(b) for b in naive_batches])
    naive_proof_s, _ = timed("naive_proof", lambda: [naive_proofs(*t) for t in naive_trees])
    # the baseline builds the very same trees
    for (naive_nodes, positions), ours in zip(naive_trees, trees, strict=False):
        if len(positions) == len(ours):
            assert naive_nodes[0] == ours.root_bytes, "baseline and ledger roots differ"

    def rate(seconds: float, items: int) -> float:
        return items / seconds if seconds > 0 else float("inf")

    rows = [
        ("canonical JSON of a record", rate(canon_s, count), None),
        ("  the same by the reference writer", rate(canon_ref_s, count), None),
        ("on-chain shipment id", rate(sid_s, count), None),
        ("record_leaf: record -> hash + leaf", rate(leaf_s, count), rate(naive_leaf_s, n)),
        ("build_entry: dicts -> record + bytes + leaf", rate(entry_s, count),
         rate(naive_leaf_s, n)),
        (f"trees of {batch:,} leaves", rate(tree_s, count), rate(naive_tree_s, n)),
        ("all proofs", rate(proof_s, count), rate(naive_proof_s, n)),
    ]
    total_s = entry_s + tree_s + proof_s
    naive_total_s = (naive_leaf_s + naive_tree_s + naive_proof_s) * count / n
    rows.append(("build_entry + trees + proofs", rate(total_s, count),
                 rate(naive_total_s, count)))

    print(f"{'stage':42s} {'shipments/s':>12s} {'baseline/s':>12s} {'speed-up':>9s}")
    for name, ours, base in rows:
        base_text = f"{base:12,.0f}" if base is not None else f"{'':12s}"
        speed = f"{ours / base:8.1f}x" if base else ""
        print(f"{name:42s} {ours:12,.0f} {base_text} {speed}")
    total_cpu_s = timed.cpu_s["entry"] + timed.cpu_s["tree"] + timed.cpu_s["proof"]
    print(f"\nCPU time of the same path: {total_cpu_s:.2f} s, "
          f"{rate(total_cpu_s, count):,.0f} shipments per CPU-second")
    print(f"{count:,} shipments in {total_s:.2f} s "
          f"(tree of {batch:,} + its proofs: {(tree_s + proof_s) / len(trees):.3f} s each); "
          f"target for the whole root-only path: >= {TARGET_PER_S:,}/s "
          f"(anchor transaction not included here)")


if __name__ == "__main__":
    main()
