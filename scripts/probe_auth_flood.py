"""Load probe: normal traffic of 20 clients with and without a flood of wrong secrets at
``/auth/token`` beside it (prints figures, asserts nothing).

Starts the service in its own process under uvicorn as ``serve`` runs it
(:func:`api.server.server_config`, one worker, a fresh SQLite store, no chain: the traffic
needs none), with one exporter organisation per normal client. Each normal client loops over
``GET /v1/me``, ``GET /v1/shipments?limit=10`` and ``POST /v1/shipments`` (one shipment, a new
id each time) with its bearer token; the flooders (threads of a third process) post wrong
secrets to ``/auth/token``, half for a known client id, half for made-up ones. Three phases
of ``--seconds`` each:

1. normal traffic alone (the baseline);
2. normal traffic beside the flood, with the service's default back-off on ``/auth/token``;
3. the same flood against a second service whose back-off is off
   (``AUTH_BACKOFF_S=0``): what the flood costs when every wrong secret is hashed.

For each it prints the normal traffic's requests, errors, p50 and p99, and the flood's answers
by status; then the p99 ratio of phase 2 to phase 1 (target: below 2). It also times a wrong
secret for a known and for an unknown client id on the service without back-off (the median
of ``--timing`` attempts each): the two should be alike.

Run: ``.venv/bin/python scripts/probe_auth_flood.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

FORM = {"grant_type": "client_credentials"}
SERVER = '''
import json, sys
from pathlib import Path
import uvicorn
from api.app import create_app
from api.server import server_config
from api.settings import ServiceSettings
from ledger.chain.deploy import Deployment
from ledger.config import ChainSettings

tmp, port, clients = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
settings = ServiceSettings(store_url=str(tmp / "service.sqlite"), keystore_kdf_iterations=1024,
                           secret="probe-service-secret-0123456789")
deployment = Deployment(chain_id=31337, address="0x" + "c1" * 20, deployer="0x" + "d0" * 20,
                        admin="0x" + "d0" * 20, block_number=1, block_hash="0x" + "00" * 32,
                        tx_hash="0x" + "00" * 32, artifact_hash="probe",
                        contract_name="CarbonLedger", roles={}, factor_sets={})
chain = ChainSettings(rpc_url="http://127.0.0.1:9", chain_id=31337, deployments_dir=tmp)
app = create_app(settings, chain, deployment=deployment)
ctx = app.state.ctx
made = [ctx.create_org(f"Exporter {i}", "exporter") for i in range(clients)]
print(json.dumps([[m.client_id, m.client_secret] for m in made]), flush=True)
uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=port,
                             log_level="error")).run()
'''


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """The service in its own process (the flood and the load run in this one)."""

    def __init__(self, tmp: Path, clients: int, **env: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        tmp.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(tmp), str(self.port), str(clients)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        assert self.process.stdout is not None
        self.credentials = [tuple(c) for c in json.loads(self.process.stdout.readline())]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/openapi.json", timeout=2)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise SystemExit("the service did not start")

    def tokens(self) -> list[str]:
        """A token per client, after one submission that warms the routes' caches up."""
        tokens = [httpx.post(self.url + "/auth/token", data=FORM, auth=c, timeout=30
                             ).json()["access_token"] for c in self.credentials]
        httpx.post(self.url + "/v1/shipments", json=_shipment("WARM-UP"), timeout=120,
                   headers={"authorization": f"Bearer {tokens[0]}"})
        return tokens

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _shipment(sid: str) -> dict[str, Any]:
    demo = json.loads((ROOT / "examples" / "demo-shipments.json").read_text(encoding="utf-8"))
    return {"shipments": [{**demo["shipments"][0], "shipment_id": sid}]}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _normal(url: str, tokens: list[str], seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(n: int, token: str) -> None:
        nonlocal errors
        headers = {"authorization": f"Bearer {token}"}
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=url, headers=headers, timeout=60) as http:
            i = 0
            while time.monotonic() < stop:
                i += 1
                started = time.perf_counter()
                if i % 3 == 0:
                    answer = http.post("/v1/shipments",
                                       json=_shipment(f"P-{n}-{secrets.token_hex(6)}"))
                elif i % 3 == 1:
                    answer = http.get("/v1/shipments", params={"limit": 10})
                else:
                    answer = http.get("/v1/me")
                mine.append((time.perf_counter() - started) * 1000)
                bad += answer.status_code >= 400
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=client, args=(n, t)) for n, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": len(latencies), "errors": errors, "per_s": len(latencies) / seconds,
            "p50_ms": _percentile(latencies, 0.5), "p99_ms": _percentile(latencies, 0.99)}


def _flood(url: str, known_client: str, flooders: int, stop: threading.Event
           ) -> dict[int, int]:
    answers: dict[int, int] = {}
    lock = threading.Lock()

    def flooder(n: int) -> None:
        seen: dict[int, int] = {}
        with httpx.Client(base_url=url, timeout=60) as http:
            while not stop.is_set():
                client_id = known_client if n % 2 == 0 else f"made-up-{secrets.token_hex(4)}"
                answer = http.post("/auth/token", data=FORM,
                                   auth=(client_id, secrets.token_urlsafe(12)))
                seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        with lock:
            for status, count in seen.items():
                answers[status] = answers.get(status, 0) + count

    threads = [threading.Thread(target=flooder, args=(n,), daemon=True) for n in range(flooders)]
    for thread in threads:
        thread.start()
    stop.wait()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _flood_process(url: str, known_client: str, flooders: int, stop: Any, out: Any) -> None:
    """The flood in a process of its own (its threads do not slow the load's)."""
    local = threading.Event()
    threading.Thread(target=lambda: (stop.wait(), local.set()), daemon=True).start()
    out.put(_flood(url, known_client, flooders, local))


def _with_flood(served: Served, tokens: list[str], args: argparse.Namespace
                ) -> tuple[dict[str, Any], dict[int, int]]:
    import multiprocessing

    stop, out = multiprocessing.Event(), multiprocessing.Queue()
    flood = multiprocessing.Process(target=_flood_process, args=(
        served.url, served.credentials[0][0], args.flooders, stop, out))
    flood.start()
    time.sleep(1)  # the flood is running
    normal = _normal(served.url, tokens, args.seconds)
    stop.set()
    answers: dict[int, int] = out.get(timeout=120)
    flood.join(timeout=60)
    return normal, answers


def _timing(served: Served, attempts: int) -> tuple[float, float]:
    known = served.credentials[-1][0]
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    with httpx.Client(base_url=served.url, timeout=60) as http:
        for i in range(attempts):
            for kind, client_id in (("known", known), ("unknown", f"nobody-{i}")):
                started = time.perf_counter()
                http.post("/auth/token", data=FORM, auth=(client_id, "wrong"))
                times[kind].append((time.perf_counter() - started) * 1000)
    return statistics.median(times["known"]), statistics.median(times["unknown"])


def _line(name: str, normal: dict[str, Any], flood: dict[int, int] | None = None) -> str:
    text = (f"{name:<34} {normal['requests']:>7} {normal['per_s']:>6.1f} {normal['errors']:>6} "
            f"{normal['p50_ms']:>8.1f} {normal['p99_ms']:>8.1f}")
    if flood is not None:
        text += "   flood answers: " + ", ".join(f"{count} x {status}"
                                                 for status, count in sorted(flood.items()))
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--flooders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--timing", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        limited = Served(Path(tmp) / "limited", args.clients)
        try:
            tokens = limited.tokens()
            alone = _normal(limited.url, tokens, args.seconds)
            flooded, answers = _with_flood(limited, tokens, args)
        finally:
            limited.close()
        unlimited = Served(Path(tmp) / "unlimited", args.clients,
                           CARBON_LEDGER_SERVICE_AUTH_BACKOFF_S="0")
        try:
            tokens = unlimited.tokens()
            known_ms, unknown_ms = _timing(unlimited, args.timing)
            open_flood, open_answers = _with_flood(unlimited, tokens, args)
        finally:
            unlimited.close()
    print(f"{args.clients} normal clients, {args.flooders} flooders, {args.seconds:g} s per "
          f"phase, one uvicorn worker, SQLite")
    print(f"{'phase':<34} {'requests':>7} {'per s':>6} {'errors':>6} {'p50 ms':>8} "
          f"{'p99 ms':>8}")
    print(_line("1 normal traffic alone", alone))
    print(_line("2 beside the flood (back-off on)", flooded, answers))
    print(_line("3 beside the flood (back-off off)", open_flood, open_answers))
    ratio = flooded["p99_ms"] / alone["p99_ms"]
    print(f"p99 with the flood / without: {ratio:.2f} (target < 2: "
          f"{'met' if ratio < 2 else 'NOT met'}); without back-off: "
          f"{open_flood['p99_ms'] / alone['p99_ms']:.2f}")
    print(f"wrong secret, median of {args.timing}: known client {known_ms:.1f} ms, unknown "
          f"client {unknown_ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
