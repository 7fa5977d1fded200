"""The end-to-end journey on an embedded local chain: the README's main command.

With :func:`ledger.dev.local.local_ledger`, starts Anvil (chain id 31337, one block per second,
the per-transaction gas cap enforced; every transaction signed locally with Anvil's public dev
keys), deploys the ledger contract, grants the roles (one exporter key per exporter organisation
of the input, one auditor) and registers the shipped factor set; then for each exporter: computes
the footprints, anchors them (per-shipment events or a Merkle root, alternately, so both paths
run), reads every on-chain record of each shipment back, issues the signed report (JSON, HTML,
and the CBAM QReport XML for CBAM goods) and verifies it against the chain. An auditor attests
one report, which is verified again. The node is always stopped at the end.

Everything is written under the output folder: the ledger store (SQLite), the deployment file,
the proof bundles and the reports. A run starts from a fresh chain and a fresh store, so running
it twice is safe.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ledger.dev.devkeys import DEV_EXPORTER_INDEXES
from ledger.errors import ConfigError

__all__ = ["DemoRow", "DemoRun", "default_inputs", "importer_inputs", "run_demo"]

#: Blocks on top of an anchoring transaction before its batch counts as final in the demo.
CONFIRMATIONS = 1
#: The reporting period of the demo reports (the quarter of the demo shipments).
PERIOD = (date(2026, 10, 1), date(2026, 12, 31))


@dataclass
class DemoRow:
    """One shipment's line of the summary table."""

    shipment_id: str
    exporter: str
    path: str
    co2e_wtw_g: int
    co2e_ttw_g: int
    production_g: int | None
    cbam: str
    tx_hash: str
    block_number: int
    on_chain_records: int | None
    report: str
    verified: bool = False
    attested_by: list[str] = field(default_factory=list)


@dataclass
class DemoRun:
    """What a demo run produced."""

    out_dir: Path
    state_path: Path
    chain_id: int
    contract: str
    factor_set_id: str
    rows: list[DemoRow]
    reports: dict[str, Path]
    seconds: float
    #: The EU importers' 2026 CBAM declarations by EORI: the file and whether it verified.
    declarations: dict[str, tuple[Path, bool]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return (all(row.verified for row in self.rows) and any(r.attested_by for r in self.rows)
                and all(ok for _, ok in self.declarations.values()))


def default_inputs() -> tuple[Path, Path]:
    """The demo scenario's shipments and the EU importer's declarant data, from ``examples/``."""
    root = Path(__file__).resolve().parents[2] / "examples"
    shipments, declarant = root / "demo-shipments.json", root / "demo-importer.json"
    for path in (shipments, declarant):
        if not path.is_file():
            raise ConfigError(f"demo input {path} is missing: run the demo from a checkout of "
                              "the repository, or pass --shipments and --declarant")
    return shipments, declarant


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48] or "exporter"


def _kg(grams: int | None) -> str:
    return "-" if grams is None else f"{grams / 1000:,.1f}"


def run_demo(
    out_dir: Path,
    *,
    shipments_path: Path | None = None,
    declarant_path: Path | None = None,
    block_time_s: float = 1.0,
    echo: Callable[[str], None] = print,
) -> DemoRun:
    """Run the whole journey (see the module docstring) and return its summary."""
    from ledger.anchoring.anchor import anchor_shipments
    from ledger.anchoring.options import AnchorOptions, scope_of
    from ledger.anchoring.outbox import OutboxPolicy
    from ledger.anchoring.proofs import lookup_shipment, proof_bundle
    from ledger.chain.deploy import open_deployment
    from ledger.dev.local import local_ledger
    from ledger.factors.factorset import load_factor_set
    from ledger.inputs.read import read_shipments
    from ledger.reports.issue import write_report_files
    from ledger.store.store import open_store
    from ledger.verify.attest import attest_on_chain
    from ledger.verify.verifier import verify_on_chain

    started = time.perf_counter()
    if shipments_path is None or declarant_path is None:
        default_shipments, default_declarant = default_inputs()
        shipments_path = shipments_path or default_shipments
        declarant_path = declarant_path or default_declarant
    declarant = json.loads(declarant_path.read_text(encoding="utf-8"))
    factor_set = load_factor_set()
    shipments = read_shipments(shipments_path)
    by_exporter: dict[str, list[Any]] = {}
    for shipment in shipments:
        by_exporter.setdefault(shipment.exporter or "Unnamed exporter", []).append(shipment)
    if len(by_exporter) > len(DEV_EXPORTER_INDEXES):
        raise ConfigError(f"the demo has dev keys for {len(DEV_EXPORTER_INDEXES)} "
                          f"exporters; the input names {len(by_exporter)}")

    out_dir.mkdir(parents=True, exist_ok=True)
    store_path = out_dir / "ledger.sqlite"
    state_path = out_dir / "anvil-state.json"
    for stale in (store_path, out_dir / "ledger.sqlite-wal", out_dir / "ledger.sqlite-shm",
                  state_path):
        stale.unlink(missing_ok=True)  # a fresh chain needs a fresh store
    reports_dir, bundles_dir = out_dir / "reports", out_dir / "proofs"
    bundles_dir.mkdir(exist_ok=True)

    rows: list[DemoRow] = []
    reports: dict[str, Path] = {}

    echo(f"factor set {factor_set.id} ({factor_set.uri})")
    with local_ledger(block_time=block_time_s, state_path=state_path,
                      exporters=len(by_exporter), auditors=1, factor_sets=[factor_set],
                      deployments_dir=out_dir / "deployments", confirmations=CONFIRMATIONS,
                      poll_interval_s=0.05) as chain:
        node, settings, deployment = chain.node, chain.settings, chain.deployment
        exporter_keys = dict(zip(by_exporter, chain.exporters, strict=True))
        auditor = chain.auditors[0]
        echo(f"anvil at {node.rpc_url} (chain id {node.chain_id}, block time "
             f"{block_time_s:g} s, per-transaction gas cap enforced)")
        echo(f"CarbonLedger deployed at {deployment.address} (block {deployment.block_number}); "
             f"deployment file {chain.deployment_file}")
        echo(f"roles: admin {deployment.admin}; auditor {auditor.address}")

        policy = OutboxPolicy(confirmations=CONFIRMATIONS, poll_interval_s=0.05, timeout_s=120)
        with open_store(store_path) as store:
            for number, (name, group) in enumerate(by_exporter.items()):
                key = exporter_keys[name]
                path = "events" if number % 2 == 0 else "root"
                echo(f"\n{name} ({key.address}): {len(group)} shipment(s), {path} path")
                with chain.connect(key) as client:
                    ledger = open_deployment(client, deployment)
                    result = anchor_shipments(group, factor_set, store=store, ledger=ledger,
                                              options=AnchorOptions(path=path), policy=policy)
                    scope = scope_of(ledger)
                    bundles = []
                    for shipment in group:
                        bundle: dict[str, Any] = dict(proof_bundle(store, scope,
                                                                   shipment.shipment_id))
                        bundle_path = bundles_dir / f"{shipment.shipment_id}.json"
                        bundle_path.write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n",
                                               encoding="utf-8")
                        bundles.append(bundle)
                        found = (lookup_shipment(ledger, scope.exporter, shipment.shipment_id)
                                 if path == "events" else None)
                        rows.append(_row(bundle, name, path, bundle_path, found))
                        where = (f"root {bundle['batch'].get('root')}" if path == "root"
                                 else f"event in batch {bundle['batch']['batch_id'][:18]}…")
                        echo(f"  {shipment.shipment_id}: {where}, tx {bundle['tx']['hash']} "
                             f"block {bundle['tx']['block_number']}; proof bundle {bundle_path}")
                    echo(f"  anchored {len(result.new_shipments)} new shipment(s)")
                    has_cbam = any(b["record"].get("footprint", {}).get("cbam", {}).get("in_scope")
                                   for b in bundles)
                    written = write_report_files(
                        bundles, out_dir=reports_dir, stem=_slug(name), issuer_key=key.private_key,
                        period=PERIOD, issued_at=datetime.now(UTC),
                        declarant=declarant if has_cbam else None,
                    )
                    reports[name] = written[0]
                    echo("  report: " + ", ".join(str(p) for p in written))
                document = json.loads(written[0].read_text(encoding="utf-8"))
                verdict = verify_on_chain(document, settings, min_confirmations=CONFIRMATIONS)
                for row in rows:
                    if row.exporter == name:
                        row.report = str(written[0])
                        row.verified = verdict.ok
                echo(f"  verify: {'VERIFIED' if verdict.ok else 'NOT VERIFIED'} "
                     f"({len(verdict.checks)} checks"
                     + ("" if verdict.ok else f"; {verdict.problems()}") + ")")

            # The auditor checks the CBAM good's report (else the first) and attests it.
            cbam_exporters = [r.exporter for r in rows if r.cbam.startswith("in scope")]
            audited = cbam_exporters[0] if cbam_exporters else next(iter(by_exporter))
            document = json.loads(reports[audited].read_text(encoding="utf-8"))
            outcome = attest_on_chain(document, settings, auditor.private_key,
                                      min_confirmations=CONFIRMATIONS)
            if not outcome.attested:
                raise ConfigError(f"the auditor refused to attest {reports[audited]}: "
                                  + outcome.verdict.problems())
            echo(f"\nauditor {auditor.address} attested {reports[audited].name} in tx "
                 f"{outcome.transaction_hash} (block {outcome.block_number})")
            node.rpc("evm_mine")
            verdict = verify_on_chain(document, settings, min_confirmations=CONFIRMATIONS)
            by = [str(a.get("auditor")) for a in verdict.attestations if a.get("live", True)]
            for row in rows:
                if row.exporter == audited:
                    row.verified = verdict.ok
                    row.attested_by = by
            echo(f"verify again: {'VERIFIED' if verdict.ok else 'NOT VERIFIED'}; attested by "
                 + (", ".join(by) or "nobody"))
            declarations = _declarations(chain, store, exporter_keys, factor_set=factor_set,
                                         policy=policy, out_dir=out_dir / "declarations",
                                         echo=echo)
    return DemoRun(out_dir, state_path, settings.chain_id, deployment.address, factor_set.id,
                   rows, reports, time.perf_counter() - started, declarations)


def importer_inputs() -> Path:
    """The consignments of the demo's two EU importers, from ``examples/``."""
    return Path(__file__).resolve().parents[2] / "examples" / "demo-importers-2026.json"


def _declarations(chain: Any, store: Any, exporter_keys: dict[str, Any], *, factor_set: Any,
                  policy: Any, out_dir: Path, echo: Callable[[str], None]
                  ) -> dict[str, tuple[Path, bool]]:
    """The EU importers' part: their exporters anchor the 2026 CBAM consignments, then each
    importer issues its annual declaration (signed with a dev key of its own) and it is
    verified against the chain."""
    from ledger.anchoring.anchor import anchor_shipments
    from ledger.anchoring.options import AnchorOptions
    from ledger.chain.deploy import open_deployment
    from ledger.declaration import compute_declaration, issue_declaration
    from ledger.dev.devkeys import DEV_OUTSIDER_INDEXES, dev_key
    from ledger.inputs.read import read_shipments
    from ledger.verify.verifier import verify_on_chain

    consignments = read_shipments(importer_inputs())
    by_exporter: dict[str, list[Any]] = {}
    for shipment in consignments:
        if shipment.exporter not in exporter_keys:
            raise ConfigError(f"importer consignment {shipment.shipment_id}: exporter "
                              f"{shipment.exporter!r} is not one of the demo's exporters")
        by_exporter.setdefault(shipment.exporter, []).append(shipment)
    echo("\nEU importers: 2026 CBAM consignments")
    for name, group in by_exporter.items():
        with chain.connect(exporter_keys[name]) as client:
            ledger = open_deployment(client, chain.deployment)
            anchor_shipments(group, factor_set, store=store, ledger=ledger,
                             options=AnchorOptions(path="root"), policy=policy)
        echo(f"  {name}: anchored {len(group)} consignment(s), root path")
    chain.node.rpc("evm_mine")
    eoris: list[str] = sorted({s.consignment.declarant.eori for s in consignments
                    if s.consignment and s.consignment.declarant
                    and s.consignment.declarant.eori})
    out: dict[str, tuple[Path, bool]] = {}
    for eori, index in zip(eoris, DEV_OUTSIDER_INDEXES, strict=False):
        declaration = compute_declaration(store, eori, 2026)
        document = issue_declaration(declaration, issuer_key=dev_key(index).private_key,
                                     issued_at=datetime.now(UTC))
        path = out_dir / f"cbam-declaration-{eori}-2026.json"
        out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        verdict = verify_on_chain(document, chain.settings, min_confirmations=CONFIRMATIONS)
        out[eori] = (path, verdict.ok)
        t, th = declaration.totals, declaration.threshold
        echo(f"  declaration {eori}: {t['consignments']} consignment(s), {th['netMassT']} t "
             f"({'liable' if th['liable'] else 'not liable, below 50 t'}), certificates "
             f"{t['certificatesT']}, cost EUR {t['costEur']} (if liable EUR "
             f"{t['costIfLiableEur']}); {path}; verify: "
             f"{'VERIFIED' if verdict.ok else 'NOT VERIFIED: ' + verdict.problems()}")
    return out


def _row(bundle: dict[str, Any], exporter: str, path: str, bundle_path: Path,
         found: Any) -> DemoRow:
    footprint = bundle["record"].get("footprint", {})
    production = footprint.get("production") or None
    production_g = None
    if isinstance(production, dict) and production.get("co2e_g") is not None:
        production_g = int(production["co2e_g"])
    cbam = footprint.get("cbam") or {}
    if cbam.get("in_scope"):
        cbam_text = (f"in scope: {_kg(int(cbam['embedded_g']))} kg embedded "
                     f"({cbam.get('method')}, mark-up {cbam.get('markup_year')})")
    else:
        cbam_text = "out of scope"
    return DemoRow(
        shipment_id=str(bundle["shipment_id"]), exporter=exporter, path=path,
        co2e_wtw_g=int(bundle["leaf"]["co2e_wtw_g"]), co2e_ttw_g=int(bundle["leaf"]["co2e_ttw_g"]),
        production_g=production_g, cbam=cbam_text, tx_hash=str(bundle["tx"]["hash"]),
        block_number=int(bundle["tx"]["block_number"]),
        on_chain_records=None if found is None else len(found.live),
        report=str(bundle_path),
    )


def summary_lines(run: DemoRun) -> Sequence[str]:
    """The summary table as plain text lines."""
    head = ("shipment", "path", "WTW kg", "TTW kg", "production kg", "CBAM", "block",
            "live on chain", "verified", "attested by")
    body = [
        (r.shipment_id, r.path, _kg(r.co2e_wtw_g), _kg(r.co2e_ttw_g), _kg(r.production_g), r.cbam,
         str(r.block_number),
         "n/a (root)" if r.on_chain_records is None else str(r.on_chain_records),
         "yes" if r.verified else "NO",
         ", ".join(a[:10] + "…" for a in r.attested_by) or "-")
        for r in run.rows
    ]
    widths = [max(len(str(x[i])) for x in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True))
             for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines
