"""Load benchmark of the service on loopback (prints figures, asserts nothing).

For each code version measured (this working tree, and with ``--baseline REV`` the same service
as committed at ``REV``, side by side) and each round, starts a fresh Anvil with CarbonLedger
deployed (:func:`ledger.dev.local.local_ledger`: dev keys 1 and 2 exporters, 5 auditor), then the
service under uvicorn (``--workers`` processes, a fresh SQLite store in a temporary folder unless
``--store URL``), and runs:

1. ingestion: ``--clients`` concurrent clients post CSV submissions of ``--bulk`` shipments each
   (``--requests`` in all); footprints are computed for every shipment; afterwards the stored
   rows are counted (lost writes = sent - stored);
2. verification: ``--verify-clients`` clients post a signed, anchored report (4 shipments) to
   ``/v1/verifications`` (``--verifications`` in all).

The server runs uvicorn's own worker supervisor on a listening socket made as a TCP socket: the
``uvicorn --workers N`` command line (0.54) leaves Nagle's algorithm on for accepted
connections, which costs every request on a kept-alive connection about 40 ms
(``--stock-uvicorn`` measures it that way).

``--rounds N`` repeats both phases N times per version (alternating the versions) and prints the
best round of each figure beside every round's spread: the machine may be shared, so single runs
swing. Beside throughput and latency it prints the CPU time each request cost the server, the
node and the load clients (from ``/proc``, Linux only), and how busy the whole machine was: a
figure that does not depend on what else runs.

Targets on a 2-core machine: >= 5,000 shipments/s ingested, >= 100 verifications/s, p99 < 500 ms,
no error, no lost write. Every request goes to 127.0.0.1; each phase stops after
``--max-seconds``.

Run: ``.venv/bin/python scripts/bench_api.py`` (about a minute), or
``.venv/bin/python scripts/bench_api.py --baseline 27e83d7 --rounds 3`` for before and after.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.dev.local import LocalLedger

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

TARGETS = {"ingest_per_s": 5000.0, "verify_per_s": 100.0, "p99_ms": 500.0}
SECRET = "bench-service-secret-0123456789"
CHAIN_ID = 31337
#: The app factory each uvicorn worker imports: written beside the store, so that the server
#: imports the service from the code version under test (``PYTHONPATH``), not from this tree.
SERVER_MODULE = '''
def make_app():
    from api.app import create_app
    from api.settings import ServiceSettings
    from ledger.config import load_chain_settings

    return create_app(ServiceSettings(), load_chain_settings())
'''
#: Starts uvicorn's own supervisor on a listening socket made as a TCP socket. ``uvicorn
#: --workers N`` (0.54) makes its listener with protocol number 0; accepted connections inherit
#: it, asyncio then leaves Nagle's algorithm on, and every request on a kept-alive connection
#: after the first waits some 40 ms for a delayed ACK (Kludex/uvicorn#3149). ``--stock-uvicorn``
#: measures that instead.
SERVER_MAIN = '''
import socket
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

if __name__ == "__main__":
    host, port, workers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    config = uvicorn.Config("bench_server_app:make_app", factory=True, host=host, port=port,
                            workers=workers, log_level="warning", access_log=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    if workers > 1:
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])
'''


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


# ---------------------------------------------------------------------- CPU accounting


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(stat[1]) == pid:
                found.append(int(entry.name))
    return found


def _machine_busy_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, all cores."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - ticks[3] - ticks[4]) / hz, sum(ticks) / hz


@dataclass
class CpuUse:
    """CPU seconds per process group over one phase, and the machine's busy cores."""

    seconds: dict[str, float] = field(default_factory=dict)
    machine_busy_cores: float = float("nan")
    machine_cores: float = float("nan")

    def per_request_ms(self, requests: int) -> dict[str, float]:
        return {k: 1000 * v / max(requests, 1) for k, v in self.seconds.items()}


@contextmanager
def _measure_cpu(groups: dict[str, list[int]], out: CpuUse) -> Iterator[None]:
    before = {name: sum(_cpu_s(p) for p in pids) for name, pids in groups.items()}
    busy0, total0 = _machine_busy_s()
    started = time.perf_counter()
    yield
    wall = time.perf_counter() - started
    busy1, total1 = _machine_busy_s()
    out.seconds = {name: sum(_cpu_s(p) for p in pids) - before[name]
                   for name, pids in groups.items()}
    if total1 > total0:
        out.machine_busy_cores = (busy1 - busy0) / wall
        out.machine_cores = (total1 - total0) / wall


# ---------------------------------------------------------------------- load


def _run_clients(base: str, clients: int, total: int, max_seconds: float,
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
        with httpx.Client(base_url=base, timeout=60) as http:
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


@dataclass
class Phase:
    """One phase's figures."""

    requests: int = 0
    seconds: float = float("nan")
    rate: float = 0.0  # shipments/s or verifications/s
    p50_ms: float = float("nan")
    p95_ms: float = float("nan")
    p99_ms: float = float("nan")
    errors: int = 0
    lost: int = 0
    cpu: CpuUse = field(default_factory=CpuUse)


@dataclass
class Round:
    ingest: Phase
    verify: Phase


def _token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(base + "/auth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, secret))
    response.raise_for_status()
    return str(response.json()["access_token"])


def _phase(base: str, one: Callable[[httpx.Client, int], bool], *, clients: int, total: int,
           max_seconds: float, groups: dict[str, list[int]]) -> Phase:
    cpu = CpuUse()
    with _measure_cpu(groups, cpu):
        seconds, lat, ok, errors = _run_clients(base, clients, total, max_seconds, one)
    return Phase(requests=ok + errors, seconds=seconds, rate=ok / seconds,
                 p50_ms=_percentile(lat, 50), p95_ms=_percentile(lat, 95),
                 p99_ms=_percentile(lat, 99), errors=errors, cpu=cpu)


def run_round(code_root: Path, chain: LocalLedger, tmp: Path, args: argparse.Namespace) -> Round:
    """Both phases against a fresh chain, a fresh store and a server running the service from
    ``code_root``."""
    from api.app import build_context
    from api.settings import ServiceSettings
    from api.store import ServiceStore
    from ledger.dev.anvil import free_port
    from ledger.store.store import open_store

    store_url = args.store or str(tmp / "service.sqlite")
    node, deployment = chain.node, chain.deployment
    assert chain.deployment_file is not None
    ctx = build_context(ServiceSettings(store_url=store_url, secret=SECRET), chain.settings,
                        deployment=deployment)
    bulk_key, report_key = chain.exporters
    ctx.create_org("Bulk exporter", "exporter", private_key=bulk_key.private_key,
                   client_id="bulk", client_secret="bulk-secret", grant_on_chain=False)
    ctx.create_org("Report exporter", "exporter", private_key=report_key.private_key,
                   client_id="reporter", client_secret="reporter-secret", grant_on_chain=False)
    ctx.create_org("Auditor", "auditor", private_key=chain.auditors[0].private_key,
                   client_id="auditor", client_secret="auditor-secret", grant_on_chain=False)
    bulk_org = ctx.store.org_by_name("Bulk exporter")
    assert bulk_org is not None
    ctx.close()
    (tmp / "bench_server_app.py").write_text(SERVER_MODULE, encoding="utf-8")
    (tmp / "bench_server_main.py").write_text(SERVER_MAIN, encoding="utf-8")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    path = [str(tmp), str(code_root), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path),
           "CARBON_LEDGER_SERVICE_STORE_URL": store_url,
           "CARBON_LEDGER_SERVICE_SECRET": SECRET,
           "CARBON_LEDGER_SERVICE_MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
           "CARBON_LEDGER_RPC_URL": node.rpc_url, "CARBON_LEDGER_CHAIN_ID": str(CHAIN_ID),
           "CARBON_LEDGER_DEPLOYMENT_FILE": str(chain.deployment_file)}
    command = [sys.executable, "bench_server_main.py", "127.0.0.1", str(port),
               str(args.workers)]
    if args.stock_uvicorn:
        command = [sys.executable, "-m", "uvicorn", "--factory", "bench_server_app:make_app",
                   "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                   "--log-level", "warning", "--no-access-log"]
    server = subprocess.Popen(command, env=env, cwd=tmp)
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        groups = {"server": [server.pid, *_children(server.pid)], "node": [node.pid],
                  "clients": [os.getpid()]}
        exporter = {"authorization": f"Bearer {_token(base, 'bulk', 'bulk-secret')}",
                    "content-type": "text/csv"}
        template = _bulk_csv("@@@", args.bulk)
        for _ in range(1 + args.workers * 2):  # each worker computes its sea routes once
            httpx.post(base + "/v1/shipments", headers=exporter, timeout=120,
                       content=template.replace(b"@@@", b"WARM")).raise_for_status()

        def ingest(http: httpx.Client, index: int) -> bool:
            body = template.replace(b"@@@", f"B{index:05d}".encode())
            response = http.post("/v1/shipments", headers=exporter, content=body)
            return response.status_code == 201 and response.json()["created"] == args.bulk

        ingest_phase = _phase(base, ingest, clients=args.clients, total=args.requests,
                              max_seconds=args.max_seconds, groups=groups)
        ingest_phase.rate *= args.bulk
        with open_store(store_url) as opened:
            stored = ServiceStore(opened).count_shipments(bulk_org.id) - args.bulk
        ingest_phase.lost = (ingest_phase.requests - ingest_phase.errors) * args.bulk - stored

        reporter = {"authorization": f"Bearer {_token(base, 'reporter', 'reporter-secret')}"}
        demo = (ROOT / "examples" / "demo-shipments.json").read_bytes()
        httpx.post(base + "/v1/shipments", content=demo,
                   headers={**reporter, "content-type": "application/json"}).raise_for_status()
        job = httpx.post(base + "/v1/anchoring", headers=reporter).json()
        while job["state"] in ("queued", "running"):
            time.sleep(0.1)
            job = httpx.get(f"{base}/v1/jobs/{job['id']}", headers=reporter).json()
        if job["state"] != "done":
            raise SystemExit(f"anchoring failed: {job['error']}")
        ids = [s["shipment_id"] for s in json.loads(demo)["shipments"]]
        made = httpx.post(base + "/v1/reports", headers=reporter, timeout=60, json={
            "shipment_ids": ids, "first_day": "2026-01-01", "last_day": "2026-03-31"})
        made.raise_for_status()
        report = json.dumps(made.json()["report"]).encode()
        auditor = {"authorization": f"Bearer {_token(base, 'auditor', 'auditor-secret')}",
                   "content-type": "application/json"}
        for _ in range(args.workers * 4):  # warm-up: each worker's reader and routes
            httpx.post(base + "/v1/verifications", headers=auditor, content=report, timeout=60)

        def check(http: httpx.Client, _index: int) -> bool:
            response = http.post("/v1/verifications", headers=auditor, content=report)
            return response.status_code == 200 and response.json()["verified"] is True

        verify_phase = _phase(base, check, clients=args.verify_clients,
                              total=args.verifications, max_seconds=args.max_seconds,
                              groups=groups)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return Round(ingest_phase, verify_phase)


# ---------------------------------------------------------------------- report


@contextmanager
def _code_at(rev: str) -> Iterator[Path]:
    """The project's files as committed at ``rev``, in a temporary folder."""
    here = subprocess.run(["git", "diff", "--quiet", rev, "--", "ledger/store/migrations"],
    cwd=ROOT,
                          check=False)
    if here.returncode != 0:
        raise SystemExit(f"{rev} has other store migrations than this tree: its server cannot "
                         "run on a store made here; pick a later baseline")
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        archive = subprocess.run(["git", "archive", "--format=tar", rev],
                                 cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        yield Path(tmp)


def _best(rounds: list[Round], pick: Callable[[Round], float], higher: bool) -> str:
    values = [pick(r) for r in rounds]
    best = max(values) if higher else min(values)
    spread = " ".join(f"{v:.0f}" for v in values)
    return f"{best:9.1f}" + (f" ({spread})" if len(values) > 1 else "")


def _cpu_line(rounds: list[Round], phase: Callable[[Round], Phase]) -> str:
    per = [phase(r).cpu.per_request_ms(phase(r).requests) for r in rounds]
    names = per[0].keys() if per and per[0] else []
    parts = [f"{name} {min(p[name] for p in per):.1f}" for name in names]
    return ", ".join(parts) if parts else "n/a"


def report(sides: dict[str, list[Round]], args: argparse.Namespace) -> None:
    ing, ver = (lambda r: r.ingest), (lambda r: r.verify)
    rows: list[tuple[str, Callable[[Round], float], bool, str]] = [
        ("ingestion shipments/s", lambda r: r.ingest.rate, True,
         f">= {TARGETS['ingest_per_s']:.0f}"),
        ("  request p50 ms", lambda r: r.ingest.p50_ms, False, "-"),
        ("  request p95 ms", lambda r: r.ingest.p95_ms, False, "-"),
        ("  request p99 ms", lambda r: r.ingest.p99_ms, False, f"< {TARGETS['p99_ms']:.0f}"),
        ("  errors", lambda r: r.ingest.errors, False, "0"),
        ("  lost writes (sent - stored)", lambda r: r.ingest.lost, False, "0"),
        ("verifications/s", lambda r: r.verify.rate, True, f">= {TARGETS['verify_per_s']:.0f}"),
        ("  latency p50 ms", lambda r: r.verify.p50_ms, False, "-"),
        ("  latency p95 ms", lambda r: r.verify.p95_ms, False, "-"),
        ("  latency p99 ms", lambda r: r.verify.p99_ms, False, f"< {TARGETS['p99_ms']:.0f}"),
        ("  errors", lambda r: r.verify.errors, False, "0"),
    ]
    names = list(sides)
    width = max(24, *(len(n) + 2 for n in names))
    first = next(iter(sides.values()))[0]
    listener = "uvicorn --workers as it comes" if args.stock_uvicorn else "TCP listener"
    print(f"\n{args.workers} server workers ({listener}); ingestion: {args.clients} clients x "
          f"{first.ingest.requests} CSV requests of {args.bulk} shipments; verification: "
          f"{args.verify_clients} clients x {first.verify.requests} reports of 4 shipments; "
          f"best of {args.rounds} round(s), every round in brackets")
    print(f"{'':32}" + "".join(f"{n:<{width}}" for n in names) + "target")
    for label, pick, higher, target in rows:
        cells = "".join(f"{_best(sides[n], pick, higher):<{width}}" for n in names)
        print(f"{label:32}{cells}{target}")
    for title, phase in (("CPU ms per ingestion request", ing), ("CPU ms per verification", ver)):
        print(f"{title} (least of the rounds):")
        for n in names:
            print(f"  {n:<{width}}{_cpu_line(sides[n], phase)}")
    print("machine busy while measuring (all processes, cores):")
    for n in names:
        busy = [f"{r.ingest.cpu.machine_busy_cores:.1f}/{r.verify.cpu.machine_busy_cores:.1f}"
                for r in sides[n]]
        cores = first.ingest.cpu.machine_cores
        print(f"  {n:<{width}}ingestion/verification {' '.join(busy)} of {cores:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2, help="ingestion clients")
    parser.add_argument("--verify-clients", type=int, default=4)
    parser.add_argument("--bulk", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100,
                        help="ingestion requests (with 100, p99 is the second slowest)")
    parser.add_argument("--verifications", type=int, default=600)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--baseline", metavar="REV",
                        help="also measure the service as committed at this git revision")
    parser.add_argument("--store", help="SQLAlchemy URL of the store (default: SQLite file)")
    parser.add_argument("--stock-uvicorn", action="store_true",
                        help="start the server with `uvicorn --workers N` as it comes (its "
                             "listener leaves Nagle's algorithm on: ~40 ms per kept-alive "
                             "request)")
    args = parser.parse_args()

    from ledger.dev.local import local_ledger

    with (_code_at(args.baseline) if args.baseline else _nothing()) as baseline_root:
        versions = {"this tree": ROOT}
        if baseline_root is not None:
            versions = {f"baseline {args.baseline}": baseline_root, **versions}
        sides: dict[str, list[Round]] = {name: [] for name in versions}
        for index in range(args.rounds):
            order = list(versions.items())
            for name, code_root in (order if index % 2 == 0 else order[::-1]):
                tmp = Path(tempfile.mkdtemp(prefix="bench-api-"))
                with local_ledger(chain_id=CHAIN_ID, exporters=2, auditors=1,
                                  deployments_dir=tmp, poll_interval_s=0.005) as chain:
                    done = run_round(code_root, chain, tmp, args)
                sides[name].append(done)
                print(f"round {index + 1} {name}: {done.ingest.rate:.0f} shipments/s "
                      f"(p99 {done.ingest.p99_ms:.0f} ms), {done.verify.rate:.1f} "
                      f"verifications/s (p99 {done.verify.p99_ms:.0f} ms)", flush=True)
    report(sides, args)
    return 0


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
