"""Benchmark of sea routing and place look-ups: prints figures next to a baseline of the same run.

    .venv/bin/python scripts/bench_routes.py [--pairs 1000] [--avoid-suez 200]

1. Distinct port pairs (terminal ports of the searoute list, random, fixed seed) routed cold by
   the router (route + the passages it takes), against the baseline: one bare ``searoute`` call
   per pair with the same restrictions (the router before it named passages); then again from
   the router's cache.
2. A sample of the same pairs with ``avoid_suez`` (the shortest route, then, where it passes
   Suez, the route avoiding Suez and Panama), against the baseline of one call avoiding Suez.
3. The UN/LOCODE places table: import of the distances module and first look-up (reads the
   table), each in a fresh interpreter, then one look-up of every tenth code of the table.

Targets: 1,000 new pairs <= 30 s cold, ~0 cached; the places table loads in well under 1 s.
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from ledger.factors.distances import Router
from ledger.factors.factorset import load_factor_set


def _bare(pairs: list[tuple[tuple[float, float], tuple[float, float]]],
          restrictions: list[str]) -> float:
    import searoute

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for (alat, alon), (blat, blon) in pairs:
            searoute.searoute([alon, alat], [blon, blat], units="km", restrictions=restrictions)
    return time.perf_counter() - t0


def _in_fresh_python(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1_000, help="distinct sea port pairs")
    parser.add_argument("--avoid-suez", type=int, default=200,
                        help="pairs of the same set routed with avoid_suez")
    args = parser.parse_args()
    factor_set = load_factor_set()
    params = factor_set.params
    from searoute.data.ports_dict import node_list

    ports = {str(p["port"]): (lat, lon) for (lon, lat), p in sorted(node_list.items())
             if p.get("t") == 1.0}
    codes = sorted(ports)
    rng = np.random.default_rng(11)
    chosen: set[tuple[str, str]] = set()
    while len(chosen) < args.pairs:
        a, b = rng.choice(len(codes), 2, replace=False)
        chosen.add((codes[a], codes[b]))
    pairs = sorted(chosen)
    router = Router()
    always = params.require("sea.restrictions").split()
    # load the maritime graph once, outside every timing
    router.distance("sea", "CNNGB", "NLRTM", params)
    positions = [(router.locations.resolve(a), router.locations.resolve(b)) for a, b in pairs]
    coords = [((a.lat, a.lon), (b.lat, b.lon)) for a, b in positions
              if not isinstance(a, str) and not isinstance(b, str)]

    baseline = _bare(coords, always)
    t0 = time.perf_counter()
    failed = sum(isinstance(router.distance("sea", a, b, params), tuple) for a, b in pairs)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    for a, b in pairs:
        router.distance("sea", a, b, params)
    warm = time.perf_counter() - t0
    print(f"sea routes, cold, baseline (bare searoute): {baseline:8.2f} s  ({len(coords):,} pairs)")
    print(f"sea routes, cold, router with passages    : {cold:8.2f} s  ({args.pairs:,} pairs, "
          f"{failed} without a route; target <= 30 s)")
    print(f"sea routes, cached                        : {warm:8.4f} s")

    sample = pairs[:args.avoid_suez]
    fresh = Router()
    fresh.distance("sea", "CNNGB", "NLRTM", params)
    sample_coords = coords[:args.avoid_suez]
    baseline_suez = _bare(sample_coords, [*always, "suez"])
    t0 = time.perf_counter()
    for a, b in sample:
        fresh.distance("sea", a, b, params, avoid_suez=True)
    cape = time.perf_counter() - t0
    print(f"avoid_suez, cold, baseline (one call)      : {baseline_suez:8.2f} s  "
          f"({len(sample):,} pairs)")
    print(f"avoid_suez, cold, router (route, then Cape): {cape:8.2f} s  "
          f"({fresh.sea_routes_computed - 1:,} routes computed)")

    imported = _in_fresh_python(
        "import time; t=time.perf_counter(); import ledger.factors.distances; "
        "print(time.perf_counter()-t)")
    first = _in_fresh_python(
        "from ledger.factors.places import place; import time; t=time.perf_counter(); "
        "place('DEMUC'); print(time.perf_counter()-t)")
    from ledger.factors.places import PLACES_FILE, place

    place("DEMUC")
    table = Path(__file__).resolve().parents[1] / "emission_factors" / PLACES_FILE
    lines = gzip.decompress(table.read_bytes()).decode("utf-8").split("\n")[1:]
    every = [line[:5] for line in lines[::10] if line]
    t0 = time.perf_counter()
    for code in every:
        place(code)
    lookups = time.perf_counter() - t0
    print(f"import ledger.factors.distances (fresh)   : {imported:8.3f} s")
    print(f"places table, first look-up (fresh)       : {first:8.3f} s  (reads the table)")
    print(f"places table, {len(every):,} distinct look-ups : {lookups:8.3f} s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
