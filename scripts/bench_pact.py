"""Load benchmark of the PACT endpoints (v2 and v3) with many footprints stored (prints figures,
asserts nothing).

1. Builds ``--footprints`` PACT footprints (default 10,000) the way a report does: the demo's
   four shipments, renamed ``BENCH-<n>-...``, computed by the footprint engine with the
   installation's factor set, turned into records and report subjects
   (:func:`ledger.reports.document.credential_subject`; the on-chain anchor is synthetic, of
   the real shape and size), stored in a fresh service store (SQLite in a temporary folder
   unless ``--store URL``) in reports of 100 shipments.
2. Starts the service under uvicorn in its own process on loopback (offline chain settings: the
   PACT endpoints do not read the chain).
3. Measures the first listing after the store was filled (the in-memory index is built then),
   then runs ``--clients`` concurrent clients (default 20), each with its own token and
   connection, for ``--requests`` requests per endpoint, one endpoint after the other:
   the v2 and v3 ``ListFootprints`` (the default page of 100 footprints, the most a page holds,
   from the start and from a random offset), v3 filters (one product id; geography and status),
   ``GetFootprint`` of random ids in both versions, the iLEAP ``/2/ileap/tad`` (first page;
   sea legs from a random offset: the shipments carry dispatch and arrival dates), and a
   ``PublishedEvent`` to both event endpoints. Beside them, in the same run and under the same
   load, the baseline: the OpenID discovery document (no database, no footprint), the floor of
   a request on this machine.

Prints p50 / p99 / max latency per endpoint, requests per second and errors. Target: p99 <= 2 s
on every endpoint (the PACT conformance budget for a synchronous answer).

Run: ``.venv/bin/python scripts/bench_pact.py`` (a few minutes on 2 cores, most of it building
the footprints), or ``--footprints 2000 --requests 100`` for a quick look.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TARGET_P99_MS = 2000.0
SECRET = "bench-service-secret-0123456789"
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
SERVER = '''
import sys

import uvicorn

from api.app import create_app
from api.settings import ServiceSettings
from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings

OFFLINE = Deployment(
    chain_id=31337, address="0x" + "c1" * 20, deployer="0x" + "d0" * 20, admin="0x" + "d0" * 20,
    block_number=1, block_hash="0x" + "00" * 32, tx_hash="0x" + "00" * 32, artifact_hash="bench",
    contract_name="CarbonLedger", roles={}, factor_sets={},
)
store_url, secret, port, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                      rpc_timeout_s=1, deployments_dir=folder)
app = create_app(ServiceSettings(store_url=store_url, secret=secret,
                                 keystore_kdf_iterations=1024),
                 chain, deployment=OFFLINE)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
'''


def _anchor(record: dict[str, Any], record_hash: str, n: int) -> Any:
    from ledger.reports.model import Anchor

    leaf = record["footprint"]
    return Anchor(
        chain_id=31337, contract="0x" + "c1" * 20, path="root", batch_id=f"0x{n + 1:064x}",
        transaction_hash=f"0x{n + 7:064x}", block_number=100 + n,
        merkle_root=f"0x{n + 9:064x}", chain_shipment_id=f"0x{random.getrandbits(256):064x}",
        record_hash=record_hash, co2e_wtw_g=int(leaf["co2e_wtw_g"]),
        co2e_ttw_g=int(leaf["co2e_ttw_g"]), proof=tuple(f"0x{n + k:064x}" for k in range(12)),
        record=record, factor_set_id=str(record["factor_set_id"]))


def build_footprints(wanted: int) -> list[tuple[list[str], list[dict[str, Any]]]]:
    """Reports of footprints: (shipment ids, footprints), until ``wanted`` footprints."""
    from ledger.factors.distances import Router
    from ledger.factors.factorset import load_factor_set
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.read import read_shipments
    from ledger.records import record as records
    from ledger.reports.document import credential_subject
    from ledger.reports.figures import factor_sources, figures_from_record
    from ledger.reports.model import ReportItem

    factor_set, router = load_factor_set(), Router()
    sources = factor_sources(factor_set)
    demo = read_shipments(ROOT / "examples" / "demo-shipments.json")
    bases = []  # per demo shipment: its record and report figures, computed once
    for shipment in demo:
        footprint = compute_shipment(shipment, factor_set, router=router)
        record = records.build_record(shipment.to_dict(), footprint.to_dict(),
                                      exporter="0x" + "e1" * 20,
                                      factor_set_id=str(factor_set.id))
        bases.append((record, figures_from_record(record, period=PERIOD,
                                                  factor_sources=sources)))
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    reports: list[tuple[list[str], list[dict[str, Any]]]] = []
    made, n = 0, 0
    while made < wanted:
        items, ids = [], []
        for _ in range(100 // len(demo)):
            for record, figures in bases:
                sid = f"BENCH-{n:05d}-{figures.shipment_id}"
                dispatched = PERIOD[0] + timedelta(days=n % 60)
                consignment = {**(record["shipment"].get("consignment") or {}),
                               "dispatch_date": dispatched.isoformat(),
                               "arrival_date": (dispatched + timedelta(days=30)).isoformat()}
                copy = {**record, "shipment_id": sid,
                        "shipment": {**record["shipment"], "shipment_id": sid,
                                     "consignment": consignment}}
                entry_hash = f"0x{random.getrandbits(256):064x}"
                items.append(ReportItem(dataclasses.replace(figures, shipment_id=sid),
                                        _anchor(copy, entry_hash, n)))
                ids.append(sid)
            n += 1
        footprints = credential_subject(items, stamp, PERIOD)["productFootprints"]
        reports.append((ids, footprints))
        made += len(footprints)
    return reports


def fill_store(store_url: str, reports: list[tuple[list[str], list[dict[str, Any]]]],
               later: list[tuple[list[str], list[dict[str, Any]]]]) -> tuple[str, str]:
    """Stores the reports (one exporter) and makes a buyer; (client id, secret) of the buyer.
    ``later`` reports are stored once the service listed the others (on a thread waiting for
    the file ``<store folder>/publish-later``)."""
    from api.app import build_context
    from api.settings import ServiceSettings
    from api.sharing_store import SharingStore
    from ledger.config import ChainSettings

    folder = tempfile.mkdtemp(prefix="bench-pact-chain-")
    chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, rpc_retries=1,
                          rpc_timeout_s=1, deployments_dir=Path(folder))
    from ledger.chain.deploy import Deployment

    offline = Deployment(
        chain_id=31337, address="0x" + "c1" * 20, deployer="0x" + "d0" * 20,
        admin="0x" + "d0" * 20, block_number=1, block_hash="0x" + "00" * 32,
        tx_hash="0x" + "00" * 32, artifact_hash="bench", contract_name="CarbonLedger",
        roles={}, factor_sets={})
    ctx = build_context(ServiceSettings(store_url=store_url, secret=SECRET,
                                        keystore_kdf_iterations=1024), chain,
                        deployment=offline)
    try:
        exporter = ctx.store.add_org("Bench exporter", "exporter", None, None)
        for ids, footprints in reports:
            report_id = f"urn:uuid:{uuid.uuid4()}"
            document = {"id": report_id, "credentialSubject": {"shipmentIds": ids}}
            ctx.store.add_report(exporter.id, report_id, "0x" + "ab" * 32, document=document,
                                 cbam_xml=None, pact_footprints=footprints)
        buyer = ctx.create_org("Bench buyer", "buyer", grant_on_chain=False)
        # buyers read only what an exporter shared with them: all of this exporter's footprints,
        # with the full evidence (the anchor's record, which the TADs need)
        SharingStore(ctx.store.ledger).add_grant(exporter.id, buyer.org.id, None, "full")
    finally:
        ctx.close()

    def publish_later() -> None:
        more = build_context(ServiceSettings(store_url=store_url, secret=SECRET,
                                             keystore_kdf_iterations=1024), chain,
                             deployment=offline)
        try:
            for ids, footprints in later:
                report_id = f"urn:uuid:{uuid.uuid4()}"
                document = {"id": report_id, "credentialSubject": {"shipmentIds": ids}}
                more.store.add_report(exporter.id, report_id, "0x" + "ab" * 32,
                                      document=document, cbam_xml=None,
                                      pact_footprints=footprints)
        finally:
            more.close()

    PUBLISH_LATER.append(publish_later)
    return buyer.client_id, buyer.client_secret


PUBLISH_LATER: list[Callable[[], None]] = []


@dataclass
class Figures:
    name: str
    latencies_ms: list[float]
    errors: int
    seconds: float

    def line(self) -> str:
        ordered = sorted(self.latencies_ms) or [float("nan")]

        def pct(q: float) -> float:
            return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]

        p99 = pct(99)
        verdict = "ok" if p99 <= TARGET_P99_MS and not self.errors else "OVER TARGET"
        rate = len(self.latencies_ms) / self.seconds if self.seconds else float("nan")
        return (f"{self.name:<46} p50 {pct(50):8.1f}  p99 {p99:8.1f}  max {ordered[-1]:8.1f} ms"
                f"  {rate:7.1f} req/s  errors {self.errors}  {verdict}")


def run_load(base: str, tokens: list[str], requests: int, name: str,
             call: Callable[[httpx.Client, int], httpx.Response]) -> Figures:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker(token: str) -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=60,
                          headers={"authorization": f"Bearer {token}"}) as client:
            while True:
                with lock:
                    n = next(counter, None)
                if n is None:
                    return
                started = time.perf_counter()
                try:
                    response = call(client, n)
                    ok = response.status_code < 300
                except httpx.HTTPError:
                    ok = False
                elapsed = 1000 * (time.perf_counter() - started)
                with lock:
                    latencies.append(elapsed)
                    errors += 0 if ok else 1

    threads = [threading.Thread(target=worker, args=(t,)) for t in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Figures(name, latencies, errors, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footprints", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400, help="per endpoint")
    parser.add_argument("--store", default=None, help="SQLAlchemy URL of an empty store")
    parser.add_argument("--port", type=int, default=18734)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench-pact-")
    store_url = args.store or str(Path(folder) / "service.sqlite")
    started = time.perf_counter()
    reports = build_footprints(args.footprints + 100)
    reports, later = reports[:-1], reports[-1:]
    stored = sum(len(f) for _, f in reports)
    print(f"built {stored} footprints in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    client_id, client_secret = fill_store(store_url, reports, later)
    print(f"stored them in {time.perf_counter() - started:.1f} s ({store_url.split('@')[-1]})")
    footprints = [f for _, fs in reports for f in fs]
    ids = [f["id"] for f in footprints]
    product_ids = [f["productIds"][0] for f in footprints]
    del reports, footprints

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, store_url, SECRET, str(args.port), folder],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    base = f"http://127.0.0.1:{args.port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the service did not start")
            time.sleep(0.2)
        tokens = []
        for _ in range(args.clients):
            got = httpx.post(base + "/auth/token", data={"grant_type": "client_credentials"},
                             auth=(client_id, client_secret))
            got.raise_for_status()
            tokens.append(got.json()["access_token"])
        with httpx.Client(base_url=base, timeout=120,
                          headers={"authorization": f"Bearer {tokens[0]}"}) as client:
            cold = time.perf_counter()
            first = client.get("/3/footprints", params={"limit": 1})
            print(f"first listing right after the service started ({stored} footprints; the "
                  "index is built in the background from the start): "
                  f"{1000 * (time.perf_counter() - cold):.0f} ms, HTTP {first.status_code}")
            PUBLISH_LATER[0]()
            caught = time.perf_counter()
            page = client.get("/2/footprints")
            total = stored + sum(len(f) for _, f in later)
            print(f"first listing after one more report ({total} footprints; the index reads "
                  f"the store's tail): {1000 * (time.perf_counter() - caught):.0f} ms")
            print(f"a default page: {len(page.json()['data'])} footprints, "
                  f"{len(page.content) / 1e6:.2f} MB")
            if not page.json()["data"]:
                raise SystemExit("error: the buyer sees no footprint; the figures would "
                                 "measure empty pages")
            stored = total

        def event(version: int) -> Callable[[httpx.Client, int], httpx.Response]:
            kind = ("org.wbcsd.pact.ProductFootprint.PublishedEvent.3" if version == 3
                    else "org.wbcsd.pathfinder.ProductFootprint.Published.v1")

            def call(client: httpx.Client, n: int) -> httpx.Response:
                body = {"specversion": "1.0", "id": f"bench-{version}-{n}",
                        "source": "//bench.example", "time": "2026-12-01T00:00:00Z",
                        "type": kind, "data": {"pfIds": [ids[n % len(ids)]]}}
                return client.post(f"/{version}/events", content=json.dumps(body), headers={
                    "content-type": "application/cloudevents+json"})

            return call

        rng = random.Random(7)
        runs: list[tuple[str, Callable[[httpx.Client, int], httpx.Response]]] = [
            ("baseline: GET /.well-known/openid-configuration",
             lambda c, n: c.get("/.well-known/openid-configuration")),
            ("GET /2/footprints (first page)", lambda c, n: c.get("/2/footprints")),
            ("GET /2/footprints?offset=random",
             lambda c, n: c.get("/2/footprints", params={
                 "offset": rng.randrange(0, stored)})),
            ("GET /2/footprints/{id}", lambda c, n: c.get(f"/2/footprints/{rng.choice(ids)}")),
            ("GET /3/footprints (first page)", lambda c, n: c.get("/3/footprints")),
            ("GET /3/footprints?offset=random",
             lambda c, n: c.get("/3/footprints", params={
                 "offset": rng.randrange(0, stored)})),
            ("GET /3/footprints?productId=one",
             lambda c, n: c.get("/3/footprints", params={"productId": rng.choice(product_ids)})),
            ("GET /3/footprints?geography=CN&status=Active",
             lambda c, n: c.get("/3/footprints", params={"geography": "CN",
                                                          "status": "Active"})),
            ("GET /3/footprints?validOn=...&companyId=...",
             lambda c, n: c.get("/3/footprints", params={
                 "validOn": "2027-01-01T00:00:00Z",
                 "companyId": "urn:pathfinder:company:customcode:vendor-assigned:0x"
                              + "e1" * 20})),
            ("GET /3/footprints/{id}", lambda c, n: c.get(f"/3/footprints/{rng.choice(ids)}")),
            ("GET /2/ileap/tad (first page)", lambda c, n: c.get("/2/ileap/tad")),
            ("GET /2/ileap/tad?mode=Sea&offset=random",
             lambda c, n: c.get("/2/ileap/tad", params={
                 "mode": "Sea", "limit": 100, "offset": rng.randrange(0, len(ids))})),
            ("POST /2/events (Published)", event(2)),
            ("POST /3/events (PublishedEvent)", event(3)),
        ]
        print(f"\n{stored} footprints stored, {args.clients} concurrent clients, "
              f"{args.requests} requests per endpoint; target p99 <= {TARGET_P99_MS:.0f} ms\n")
        for name, call in runs:
            print(run_load(base, tokens, args.requests, name, call).line(), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
