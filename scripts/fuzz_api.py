"""Schemathesis over the whole service, once per role: every phase, the declared security
schemes, and no server error allowed (prints figures; exit status 1 on any 5xx).

Starts a local chain with CarbonLedger deployed (:func:`ledger.dev.local.local_ledger`), the
service under uvicorn on a loopback port (a fresh SQLite store in a temporary folder, or
``--store URL``) with an exporter (dev key 1, its demo shipments anchored and reported, the
footprints shared with the buyer), an auditor (dev key 5), a buyer and an admin; then runs the
schemathesis command line against ``/openapi.json`` once per role, with that role's bearer
token (the ``bearerAuth`` scheme the document declares), phases ``examples, coverage, fuzzing,
stateful`` (the stateful phase follows the document's links) and the ``not_a_server_error``
check, and reads the counts from each run's NDJSON events.

Target: at least 5,000 test cases in all, 0 server errors. The normal test suite runs a bounded
share of this (``tests/api/test_schemathesis.py``).

The stateful phase covers a link when it follows it with data from a real answer. The seed data
gives every link source something to answer with (anchored shipments, a job, a report with its
CBAM files, a share, an access request for the exporter to grant or decline); the phase runs
``--max-steps`` calls per scenario (default 12). The links covered are printed per role and in
all (a link counts once, whichever role covered it).

Run: ``.venv/bin/python scripts/fuzz_api.py`` (several minutes; ``--max-examples`` per
operation and phase, default 20; about 6,000 cases). ``--phases stateful`` runs that phase
alone.
"""

from __future__ import annotations

import argparse
import json
import re
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

SECRET = "fuzz-service-secret-0123456789"
#: in this order: the exporter's run follows links that revoke its shares and decide requests,
#: so it comes after the roles that read them
ROLES = ("buyer", "auditor", "admin", "exporter")
PHASES = "examples,coverage,fuzzing,stateful"
TARGET_CASES = 5000


def _token(base: str, client_id: str, secret: str) -> str:
    answer = httpx.post(base + "/auth/token", data={"grant_type": "client_credentials"},
                        auth=(client_id, secret), timeout=30)
    answer.raise_for_status()
    return str(answer.json()["access_token"])


DECLARANT = {
    "eori": "NL123456789", "name": "Fuzz Imports B.V.",
    "address": {"country": "NL", "city": "Rotterdam", "street": "Waalhaven", "postcode": "3089"},
    "nca_reference": "NL-NCA-0001", "signature_place": "Rotterdam", "signatory": "F. Uzz",
    "position": "Customs manager",
}


def _seed(base: str, tokens: dict[str, str]) -> None:
    """Data for the links to follow: anchored shipments, a job, a report with its CBAM files, a
    share and a pending access request."""
    exporter = {"authorization": f"Bearer {tokens['exporter']}"}
    buyer = {"authorization": f"Bearer {tokens['buyer']}"}
    auditor = {"authorization": f"Bearer {tokens['auditor']}"}
    demo = json.loads((ROOT / "examples" / "demo-shipments.json").read_text(encoding="utf-8"))
    for item in demo["shipments"]:  # the CBAM files need the 8-digit CN code of the good
        if item["shipment_id"].startswith("HY-"):
            item["product"]["cn_code"] = "73181590"
    with httpx.Client(base_url=base, timeout=120) as http:
        http.post("/v1/shipments", json=demo, headers=exporter).raise_for_status()
        job = http.post("/v1/anchoring", headers=exporter).json()
        for _ in range(600):
            job = http.get(f"/v1/jobs/{job['id']}", headers=exporter).json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        if job["state"] != "done":
            raise SystemExit(f"seeding: anchoring did not finish: {job}")
        made = http.post("/v1/reports", headers=exporter, json={
            "shipment_ids": [s["shipment_id"] for s in demo["shipments"]],
            "first_day": "2026-01-01", "last_day": "2026-03-31", "declarant": DECLARANT})
        made.raise_for_status()
        http.post("/v1/shares", headers=exporter,
                  json={"organisation": "Fuzz buyer"}).raise_for_status()
        # the auditor (nothing shared with it) asks for two products: one request to grant,
        # one to decline
        shared = http.get("/2/footprints", headers=buyer).json()["data"]
        products = sorted({p for f in shared for p in f["productIds"]})[:2]
        if len(products) < 2:
            raise SystemExit(f"seeding: the buyer sees {len(products)} product(s), not 2")
        for product in products:
            http.post("/v1/access-requests", headers=auditor, json={
                "exporter": "Fuzz exporter", "product_ids": [product]}).raise_for_status()


def _run_role(base: str, role: str, token: str, out: Path, args: argparse.Namespace
              ) -> dict[str, Any]:
    events = out / f"{role}.ndjson"
    config = out / "schemathesis.toml"
    config.write_text(f"[phases.stateful]\nmax-steps = {args.max_steps}\n", encoding="utf-8")
    command = [str(Path(sys.executable).with_name("st")), "--config-file", str(config), "run",
               base + "/openapi.json",
               "--header", f"Authorization: Bearer {token}", "--phases", args.phases,
               "--checks", "not_a_server_error", "--max-examples", str(args.max_examples),
               "--workers", str(args.workers), "--request-timeout", "60",
               "--suppress-health-check", "all", "--generation-database", "none",
               "--seed", str(args.seed), "--report", "ndjson",
               "--report-ndjson-path", str(events), "--continue-on-failure"]
    started = time.monotonic()
    # run in the output folder: the command line keeps its cache there, not in the tree
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=out)
    seconds = time.monotonic() - started
    log = done.stdout + done.stderr
    (out / f"{role}.log").write_text(log, encoding="utf-8")
    counted = _counts(events)
    counted["failures"] += _failures(log)
    links = re.search(r"API Links:\s+(\d+) covered / \d+ selected / (\d+) total", log)
    counted["links"] = (int(links[1]), int(links[2])) if links else (0, 0)
    counted["links_seen"] = _links_seen(events)
    return counted | {"seconds": seconds, "exit": done.returncode}


def _links_seen(events: Path) -> set[str]:
    """The links the stateful phase followed with data from an answer (their ids)."""
    seen: set[str] = set()
    if not events.exists():
        return seen
    for line in events.read_text(encoding="utf-8").splitlines():
        finished = json.loads(line).get("ScenarioFinished") or {}
        if "stateful" not in str(finished.get("phase")):
            continue
        for case in ((finished.get("recorder") or {}).get("cases") or {}).values():
            transition = (case or {}).get("transition") or {}
            if transition.get("id") and (case or {}).get("is_transition_applied", True):
                seen.add(str(transition["id"]))
    return seen


def _counts(events: Path) -> dict[str, Any]:
    """Test cases, responses by status class and failed checks in a run's NDJSON events."""
    cases = 0
    statuses: dict[str, int] = {}
    failures: list[str] = []
    if not events.exists():
        return {"cases": 0, "statuses": statuses, "failures": ["no events written"]}
    for line in events.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        for interactions in (recorder.get("interactions") or {}).values():
            response = (interactions or {}).get("response") or {}
            status = response.get("status_code")
            if status is not None:
                cases += 1
                key = f"{str(status)[0]}xx"
                statuses[key] = statuses.get(key, 0) + 1
    return {"cases": cases, "statuses": statuses, "failures": failures}


def _failures(log: str) -> list[str]:
    """The failures section of a schemathesis run's output (empty when none failed)."""
    if "== FAILURES ==" not in log:
        return []
    section = log.split("== FAILURES ==", 1)[1].split("== WARNINGS ==", 1)[0]
    return [line.strip() for line in section.splitlines()
            if line.strip() and not line.startswith(("Reproduce", "    st replay"))][:40]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=20)
    parser.add_argument("--max-steps", type=int, default=12,
                        help="stateful phase: calls per scenario (schemathesis' default: 6)")
    parser.add_argument("--phases", default=PHASES)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--store", help="service store URL (default: a temporary SQLite file)")
    parser.add_argument("--out", type=Path, help="folder for the event files and logs")
    args = parser.parse_args()

    import uvicorn

    from api.app import create_app
    from api.server import server_config
    from api.settings import ServiceSettings
    from ledger.dev.local import local_ledger

    with tempfile.TemporaryDirectory() as tmp, \
            local_ledger(exporters=1, auditors=1) as chain:
        out = (args.out or Path(tmp)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        settings = ServiceSettings(store_url=args.store or str(Path(tmp) / "service.sqlite"),
                                   secret=SECRET, keystore_kdf_iterations=1024,
                                   max_upload_bytes=65536, job_workers=2)
        app = create_app(settings, chain.settings, deployment=chain.deployment,
                         admin_key=chain.admin.private_key)
        ctx = app.state.ctx
        made = {
            "exporter": ctx.create_org("Fuzz exporter", "exporter",
                                       private_key=chain.exporters[0].private_key),
            "auditor": ctx.create_org("Fuzz auditor", "auditor",
                                      private_key=chain.auditors[0].private_key),
            "buyer": ctx.create_org("Fuzz buyer", "buyer"),
            "admin": ctx.create_org("Fuzz admin", "admin"),
        }
        with socket_port() as port:
            pass
        config = server_config(app, settings, host="127.0.0.1", port=port,
                               log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            tokens = {role: _token(base, made[role].client_id, made[role].client_secret)
                      for role in ROLES}
            _seed(base, tokens)
            results = {role: _run_role(base, role, tokens[role], out, args) for role in ROLES}
        finally:
            server.should_exit = True
            thread.join(timeout=30)
            ctx.close()
        total = sum(r["cases"] for r in results.values())
        server_errors = sum(r["statuses"].get("5xx", 0) for r in results.values())
        print(f"schemathesis {args.phases}; checks not_a_server_error; "
              f"max {args.max_examples} examples per operation and phase, "
              f"{args.max_steps} stateful steps per scenario; seed {args.seed}")
        print(f"{'role':<9} {'cases':>7} {'2xx':>6} {'4xx':>6} {'5xx':>5} {'failed':>7} "
              f"{'links':>8} {'seconds':>8}")
        for role, r in results.items():
            s = r["statuses"]
            links = f"{r['links'][0]}/{r['links'][1]}"
            print(f"{role:<9} {r['cases']:>7} {s.get('2xx', 0):>6} {s.get('4xx', 0):>6} "
                  f"{s.get('5xx', 0):>5} {len(r['failures']):>7} {links:>8} "
                  f"{r['seconds']:>8.1f}")
        union = set().union(*(r["links_seen"] for r in results.values()))
        print(f"links followed with data, all roles: {len(union)} distinct")
        print(f"{'all':<9} {total:>7}   target >= {TARGET_CASES} cases, 0 5xx: "
              f"{'met' if total >= TARGET_CASES and server_errors == 0 else 'NOT met'}")
        for role, r in results.items():
            for failure in r["failures"][:10]:
                print(f"  {role}: {failure}")
        return 0 if server_errors == 0 and not any(r["failures"] for r in results.values()) \
            else 1


class socket_port:  # noqa: N801 - used as a context manager
    """A free loopback port."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return int(self._sock.getsockname()[1])

    def __exit__(self, *_exc: object) -> None:
        self._sock.close()


if __name__ == "__main__":
    raise SystemExit(main())
