"""Load benchmark of the service on loopback (prints figures, asserts nothing).

Starts an Anvil with CarbonLedger deployed, the service under uvicorn (``--workers`` processes,
SQLite store in a temporary folder unless ``--store URL``), then:

1. ingestion: ``--clients`` concurrent clients post CSV submissions of ``--bulk`` shipments each
   (``--requests`` in all); footprints are computed for every shipment; afterwards the stored
   rows are counted (lost writes = sent - stored);
2. verification: ``--verify-clients`` clients post a signed, anchored report (4 shipments) to
   ``/v1/verifications`` (``--verifications`` in all).

Prints throughput, latency percentiles and errors beside the targets (on a 2-core machine:
>= 5,000 shipments/s ingested, >= 100 verifications/s, p99 < 500 ms, no error, no lost write).
Every request goes to 127.0.0.1; each phase stops after ``--max-seconds``.

Run: ``.venv/bin/python scripts/bench_api.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TARGETS = {"ingest_per_s": 5000.0, "verify_per_s": 100.0, "p99_ms": 500.0}
SECRET = "bench-service-secret-0123456789"


def make_app() -> Any:
    """The app of one uvicorn worker, from the environment the benchmark sets."""
    from api.app import create_app
    from api.settings import ServiceSettings
    from ledger.config import load_chain_settings

    return create_app(ServiceSettings(), load_chain_settings())


def _bulk_csv(prefix_marker: str, count: int) -> bytes:
    """``count`` shipments (the demo's four, cycled) with ids ``<marker>-<n>``."""
    rows = list(csv.reader((ROOT / "examples" / "demo-shipments.csv").open(encoding="utf-8")))
    header, body = rows[0], rows[1:]
    by_id: dict[str, list[list[str]]] = {}
    for row in body:
        by_id.setdefault(row[0], []).append(row)
    groups = list(by_id.values())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for n in range(count):
        for row in groups[n % len(groups)]:
            writer.writerow([f"{prefix_marker}-{n:06d}", *row[1:]])
    return out.getvalue().encode()


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _run_clients(clients: int, total: int, max_seconds: float,
                 one: Callable[[httpx.Client, int], bool]) -> tuple[float, list[float], int, int]:
    """Runs ``total`` calls of ``one`` over ``clients`` threads.

    Returns (seconds, latencies in ms, successes, errors).
    """
    latencies: list[float] = []
    errors = 0
    done = 0
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        nonlocal errors, done
        with httpx.Client(base_url=BASE, timeout=60) as http:
            while time.monotonic() < deadline:
                with lock:
                    index = next(counter, None)
                if index is None:
                    return
                started = time.perf_counter()
                try:
                    ok = one(http, index)
                except httpx.HTTPError:
                    ok = False
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed * 1000)
                    done += ok
                    errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, done, errors


BASE = ""


def _token(client_id: str, secret: str) -> str:
    response = httpx.post(BASE + "/auth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, secret))
    response.raise_for_status()
    return str(response.json()["access_token"])


def _line(name: str, value: float, unit: str, target: str) -> None:
    print(f"  {name:<28} {value:>10.1f} {unit:<14} target {target}")


def main() -> int:
    global BASE  # noqa: PLW0603 - the clients' base URL, set once here
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="ingestion clients")
    parser.add_argument("--verify-clients", type=int, default=4)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--verifications", type=int, default=600)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--store", help="SQLAlchemy URL of the store (default: SQLite file)")
    args = parser.parse_args()

    from api.context import build_context
    from api.settings import ServiceSettings
    from ledger.anvil import free_port, start_anvil
    from ledger.chain import connect
    from ledger.config import ChainSettings
    from ledger.deploy import deploy_ledger, write_deployment
    from ledger.devkeys import dev_key
    from ledger.factorset import load_factor_set

    tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
    store_url = args.store or str(tmp / "service.sqlite")
    factor_set = load_factor_set()
    with start_anvil(chain_id=31337) as node:
        chain = ChainSettings(rpc_url=node.rpc_url, chain_id=31337, deployments_dir=tmp,
                              poll_interval_s=0.005)
        with connect(chain, private_key=dev_key(0).private_key) as admin:
            deployment, _ = deploy_ledger(
                admin, exporters=[dev_key(1).address, dev_key(2).address],
                auditors=[dev_key(5).address],
                factor_sets=[(bytes.fromhex(factor_set.id[2:]), factor_set.uri)])
        write_deployment(deployment, chain.deployment_path())
        settings = ServiceSettings(store_url=store_url, secret=SECRET)
        ctx = build_context(settings, chain, deployment=deployment)
        ctx.create_org("Bulk exporter", "exporter", private_key=dev_key(1).private_key,
                       client_id="bulk", client_secret="bulk-secret", grant_on_chain=False)
        ctx.create_org("Report exporter", "exporter", private_key=dev_key(2).private_key,
                       client_id="reporter", client_secret="reporter-secret",
                       grant_on_chain=False)
        ctx.create_org("Auditor", "auditor", private_key=dev_key(5).private_key,
                       client_id="auditor", client_secret="auditor-secret",
                       grant_on_chain=False)
        bulk_org = ctx.store.org_by_name("Bulk exporter")
        ctx.close()

        port = free_port()
        BASE = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'scripts'}{os.pathsep}{ROOT}",
               "CARBON_LEDGER_SERVICE_STORE_URL": store_url,
               "CARBON_LEDGER_SERVICE_SECRET": SECRET,
               "CARBON_LEDGER_SERVICE_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
               "CARBON_LEDGER_RPC_URL": node.rpc_url, "CARBON_LEDGER_CHAIN_ID": "31337",
               "CARBON_LEDGER_DEPLOYMENT_FILE": str(chain.deployment_path())}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "bench_api:make_app",
             "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
             "--log-level", "warning", "--no-access-log"], env=env)
        try:
            for _ in range(300):
                try:
                    if httpx.get(BASE + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            exporter = {"authorization": f"Bearer {_token('bulk', 'bulk-secret')}",
                        "content-type": "text/csv"}
            template = _bulk_csv("@@@", args.bulk)
            warm = httpx.post(BASE + "/v1/shipments", headers=exporter, timeout=120,
                              content=template.replace(b"@@@", b"WARM"))
            warm.raise_for_status()
            for _ in range(args.workers * 2):  # each worker computes its sea routes once
                httpx.post(BASE + "/v1/shipments", headers=exporter, timeout=120,
                           content=template.replace(b"@@@", b"WARM"))

            def ingest(http: httpx.Client, index: int) -> bool:
                body = template.replace(b"@@@", f"B{index:05d}".encode())
                response = http.post("/v1/shipments", headers=exporter, content=body)
                return response.status_code == 201 and \
                    response.json()["created"] == args.bulk

            seconds, lat, ok, errors = _run_clients(args.clients, args.requests,
                                                    args.max_seconds, ingest)
            from api.store import ServiceStore
            from ledger.store import open_store

            with open_store(store_url) as opened:
                assert bulk_org is not None
                stored = ServiceStore(opened).count_shipments(bulk_org.id) - args.bulk
            sent = ok * args.bulk
            print(f"ingestion: {args.clients} clients, {ok + errors} requests of {args.bulk} "
                  f"shipments (CSV), {args.workers} server workers, {seconds:.1f} s")
            _line("shipments/s (footprinted)", sent / seconds, "shipments/s",
                  f">= {TARGETS['ingest_per_s']:.0f}")
            _line("request latency p50", _percentile(lat, 50), "ms", "-")
            _line("request latency p95", _percentile(lat, 95), "ms", "-")
            _line("request latency p99", _percentile(lat, 99), "ms",
                  f"< {TARGETS['p99_ms']:.0f}")
            _line("errors", errors, "", "0")
            _line("lost writes (sent - stored)", sent - stored, "", "0")

            reporter = {"authorization": f"Bearer {_token('reporter', 'reporter-secret')}"}
            demo = (ROOT / "examples" / "demo-shipments.json").read_bytes()
            httpx.post(BASE + "/v1/shipments", headers={**reporter,
                                                        "content-type": "application/json"},
                       content=demo).raise_for_status()
            job = httpx.post(BASE + "/v1/anchoring", headers=reporter).json()
            while job["state"] in ("queued", "running"):
                time.sleep(0.1)
                job = httpx.get(f"{BASE}/v1/jobs/{job['id']}", headers=reporter).json()
            if job["state"] != "done":
                print(f"anchoring failed: {job['error']}")
                return 1
            ids = [s["shipment_id"] for s in json.loads(demo)["shipments"]]
            made = httpx.post(BASE + "/v1/reports", headers=reporter, timeout=60, json={
                "shipment_ids": ids, "first_day": "2026-01-01", "last_day": "2026-03-31"})
            made.raise_for_status()
            report = json.dumps(made.json()["report"]).encode()
            auditor = {"authorization": f"Bearer {_token('auditor', 'auditor-secret')}",
                       "content-type": "application/json"}
            for _ in range(args.workers * 4):  # warm-up: each worker's reader and routes
                httpx.post(BASE + "/v1/verifications", headers=auditor, content=report,
                           timeout=60)

            def check(http: httpx.Client, _index: int) -> bool:
                response = http.post("/v1/verifications", headers=auditor, content=report)
                return response.status_code == 200 and response.json()["verified"] is True

            seconds, lat, ok, errors = _run_clients(args.verify_clients, args.verifications,
                                                    args.max_seconds, check)
            print(f"verification: {args.verify_clients} clients, {ok + errors} reports of "
                  f"{len(ids)} shipments each, {seconds:.1f} s")
            _line("verifications/s", ok / seconds, "reports/s",
                  f">= {TARGETS['verify_per_s']:.0f}")
            _line("latency p50", _percentile(lat, 50), "ms", "-")
            _line("latency p95", _percentile(lat, 95), "ms", "-")
            _line("latency p99", _percentile(lat, 99), "ms", f"< {TARGETS['p99_ms']:.0f}")
            _line("errors", errors, "", "0")
            if lat:
                _line("mean latency", statistics.fmean(lat), "ms", "-")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
