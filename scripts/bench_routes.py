"""Benchmark of sea routing and place look-ups: prints figures next to a baseline of the same run.

    .venv/bin/python scripts/bench_routes.py [--pairs 1000] [--avoid-suez 200]

1. Distinct port pairs (terminal ports of the searoute list, random, fixed seed) routed cold by
   the router (route + the passages it takes; searoute's graph searched as arrays, a graph of its
   own so that no search is kept from before), against two
   baselines: one bare ``searoute`` call per pair with the same restrictions, and the router
   calling searoute for every route (``graph_search=False``, the path before the array search);
   then again from the router's cache. The distances of both routers are checked equal.
2. A sample of the same pairs with ``avoid_suez`` (the shortest route, then, where it passes
   Suez, the route avoiding Suez and Panama), against the baseline of one call avoiding Suez
   and the router calling searoute, each with a fresh router.
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
from ledger.factors.sea_graph import SeaGraph


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
    always = params.require("sea.restrictions").split()

    def warm(router: Router) -> Router:
        # load the maritime graph (and its arrays) once, outside every timing
        router.distance("sea", "CNNGB", "NLRTM", params)
        return router

    plain = warm(Router(graph_search=False))
    t0 = time.perf_counter()
    router = warm(Router(sea_graph=SeaGraph.from_searoute()))  # its own graph: nothing kept
    arrays = time.perf_counter() - t0
    positions = [(router.locations.resolve(a), router.locations.resolve(b)) for a, b in pairs]
    coords = [((a.lat, a.lon), (b.lat, b.lon)) for a, b in positions
              if not isinstance(a, str) and not isinstance(b, str)]

    baseline = _bare(coords, always)
    t0 = time.perf_counter()
    old = [plain.distance("sea", a, b, params) for a, b in pairs]
    old_cold = time.perf_counter() - t0
    ties = router.sea_routes_by_searoute
    t0 = time.perf_counter()
    new = [router.distance("sea", a, b, params) for a, b in pairs]
    cold = time.perf_counter() - t0
    ties = router.sea_routes_by_searoute - ties
    failed = sum(isinstance(found, tuple) for found in new)
    t0 = time.perf_counter()
    for a, b in pairs:
        router.distance("sea", a, b, params)
    warm_s = time.perf_counter() - t0
    equal = sum(x == y for x, y in zip(new, old, strict=True))
    label = "sea routes, cold,"
    print(f"sea graph to arrays + first route, once     : {arrays:8.2f} s")
    print(f"{label} baseline (bare searoute)  : {baseline:8.2f} s  ({len(coords):,} pairs)")
    print(f"{label} router calling searoute   : {old_cold:8.2f} s  ({len(pairs):,} pairs)")
    print(f"{label} router (array search)     : {cold:8.2f} s  ({len(pairs):,} pairs, "
          f"{failed} without a route, {ties} ties left to searoute; target <= 30 s)")
    print(f"  speed-up vs bare searoute / old router    : {baseline / cold:8.1f} x / "
          f"{old_cold / cold:.1f} x")
    print(f"  distances equal to the old router's       : {equal:,} of {len(pairs):,}")
    print(f"sea routes, cached                          : {warm_s:8.4f} s")

    sample = pairs[:args.avoid_suez]
    sample_coords = coords[:args.avoid_suez]
    baseline_suez = _bare(sample_coords, [*always, "suez"])
    results = {}
    for name, fresh in (("router calling searoute", warm(Router(graph_search=False))),
                        ("router (array search)  ",
                         warm(Router(sea_graph=SeaGraph.from_searoute())))):
        t0 = time.perf_counter()
        results[name] = [fresh.distance("sea", a, b, params, avoid_suez=True) for a, b in sample]
        spent = time.perf_counter() - t0
        print(f"avoid_suez, cold, {name}   : {spent:8.2f} s  ({len(sample):,} pairs, "
              f"{fresh.sea_routes_computed - 1:,} routes computed)")
    print(f"avoid_suez, cold, baseline (one call)       : {baseline_suez:8.2f} s")
    same = sum(x == y for x, y in zip(*results.values(), strict=True))
    print(f"  avoid_suez distances equal                : {same:,} of {len(sample):,}")

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
    print(f"import ledger.factors.distances (fresh)     : {imported:8.3f} s")
    print(f"places table, first look-up (fresh)         : {first:8.3f} s  (reads the table)")
    print(f"places table, distinct look-ups             : {lookups:8.3f} s  "
          f"({len(every):,} codes)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
