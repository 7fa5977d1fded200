"""Benchmark of the iLEAP TAD listing's own work (prints figures, asserts nothing).

``GET /2/ileap/tad`` reads every footprint the caller may read to find its transport legs. This
measures that work in process, for ``--footprints`` footprints built as ``scripts/bench_pact.py``
builds them (the demo's four shipments, renamed, each given consignment dates so that its legs
between named places have a TAD), stored as the footprint index holds them (serialised v2.3
JSON):

- baseline: the simple path, :func:`ledger.reports.ileap.transport_activities` on each parsed
  footprint, then the ``mode=Sea`` filter;
- the path the endpoint takes (:func:`api.routers.ileap.activities_of`), first call (fills its
  memory) and repeated calls, checked equal to the baseline.

Run: ``.venv/bin/python scripts/bench_ileap_tad.py`` (``--footprints 10000``, the size
``bench_pact.py`` uses).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import orjson  # noqa: E402

DATES = {"dispatch_date": "2026-01-12", "arrival_date": "2026-02-18"}


def _dated(footprint: dict[str, Any]) -> dict[str, Any]:
    for extension in footprint.get("extensions") or []:
        record = (extension.get("data") or {}).get("record")
        if isinstance(record, dict) and "shipment" in record:
            record["shipment"] = {**record["shipment"], "consignment": DATES}
    return footprint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footprints", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from bench_pact import build_footprints

    from api.routers.ileap import activities_of
    from ledger.reports.ileap import matches, transport_activities

    started = time.perf_counter()
    raws = [orjson.dumps(_dated(f)) for _, fps in build_footprints(args.footprints)
            for f in fps][:args.footprints]
    print(f"{len(raws)} footprints built in {time.perf_counter() - started:.1f} s "
          f"({sum(map(len, raws)) / len(raws) / 1024:.1f} KiB each)")
    sea = {"mode": ["Sea"]}

    def baseline() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for raw in raws:
            out += [t for t in transport_activities(orjson.loads(raw))[0] if matches(t, sea)]
        return out

    def endpoint() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for raw in raws:
            out += [t for t in activities_of(raw) if matches(t, sea)]
        return out

    def timed(name: str, run: Any) -> list[dict[str, Any]]:
        best, found = float("inf"), []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            found = run()
            best = min(best, time.perf_counter() - t0)
        print(f"{name:<34} {best * 1000:9.1f} ms  ({len(found)} TADs)")
        return found

    expected = timed("baseline (parse every footprint)", baseline)
    t0 = time.perf_counter()
    first = endpoint()
    print(f"{'endpoint, first call':<34} {(time.perf_counter() - t0) * 1000:9.1f} ms")
    again = timed("endpoint, repeated", endpoint)
    print("same TADs:", first == expected and again == expected)


if __name__ == "__main__":
    main()
