"""carbon-ledger: shipment footprints you can prove, from the shipment file to the attested report.

The flow, and the names a user of the library needs for each step (``docs/architecture.md``
draws the floors behind them)::

    import ledger

    shipments = ledger.read_shipments("shipments.csv")         # inputs: every problem listed
    factors = ledger.load_factor_set()                         # factors: pinned, cited tables
    with ledger.local_ledger() as local, \
            ledger.open_store("ledger.sqlite") as store:       # or your RPC and deployment
        exporter = local.exporters[0]
        contract = ledger.open_deployment(local.connect(exporter), local.deployment)
        ledger.anchor_shipments(shipments, factors, store=store, ledger=contract)
        bundle = ledger.proof_bundle(store, ledger.scope_of(contract), "SHIPMENT-1")
        report = ledger.issue_report([bundle], issuer_key=exporter.private_key,
                                     period=(first_day, last_day), issued_at=now)
        verdict = ledger.verify_report(report, contract,
                                       recompute=ledger.shipped_recompute())

Each name is imported from its module on first use, so ``import ledger`` stays cheap for a
program that needs only a part (the verifier does not load the footprint engine's tables, the
CLI's ``--help`` does not start web3). Errors all derive from :class:`LedgerError`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # errors and shared values
    "LedgerError": "ledger.errors",
    "InputError": "ledger.errors",
    "FactorError": "ledger.errors",
    "ChainError": "ledger.errors",
    "StoreError": "ledger.errors",
    "VerificationError": "ledger.errors",
    "Bytes32": "ledger.types",
    "ChainSettings": "ledger.config",
    # inputs -> factors -> footprint
    "read_shipments": "ledger.inputs.read",
    "Shipment": "ledger.inputs.shipments",
    "load_factor_set": "ledger.factors.factorset",
    "FactorSet": "ledger.factors.factorset",
    "compute_shipment": "ledger.footprint.single",
    "compute_shipments": "ledger.footprint.single",
    "compute_batch": "ledger.footprint.batch",
    "ShipmentFootprint": "ledger.footprint.models",
    # records
    "build_record": "ledger.records.record",
    "record_hash": "ledger.records.record",
    "build_tree": "ledger.records.merkle",
    "verify_proof": "ledger.records.merkle",
    # chain and store
    "connect": "ledger.chain.client",
    "CarbonLedgerContract": "ledger.chain.contract",
    "Deployment": "ledger.chain.deploy",
    "deploy_ledger": "ledger.chain.deploy",
    "load_deployment": "ledger.chain.deploy",
    "open_deployment": "ledger.chain.deploy",
    "open_store": "ledger.store.store",
    # anchoring
    "AnchorOptions": "ledger.anchoring.options",
    "anchor_footprints": "ledger.anchoring.anchor",
    "anchor_shipments": "ledger.anchoring.anchor",
    "scope_of": "ledger.anchoring.options",
    "proof_bundle": "ledger.anchoring.proofs",
    "check_bundle": "ledger.anchoring.proofs",
    # reports and verification
    "issue_report": "ledger.reports.issue",
    "verify_report": "ledger.verify.verifier",
    "shipped_recompute": "ledger.reports.figures",
    "Verdict": "ledger.verify.verdict",
    "attest_report": "ledger.verify.attest",
    # a local chain for development and tests
    "local_ledger": "ledger.dev.local",
}

__all__ = [
    "AnchorOptions",
    "Bytes32",
    "CarbonLedgerContract",
    "ChainError",
    "ChainSettings",
    "Deployment",
    "FactorError",
    "FactorSet",
    "InputError",
    "LedgerError",
    "Shipment",
    "ShipmentFootprint",
    "StoreError",
    "Verdict",
    "VerificationError",
    "__version__",
    "anchor_footprints",
    "anchor_shipments",
    "attest_report",
    "build_record",
    "build_tree",
    "check_bundle",
    "compute_batch",
    "compute_shipment",
    "compute_shipments",
    "connect",
    "deploy_ledger",
    "issue_report",
    "load_deployment",
    "load_factor_set",
    "local_ledger",
    "open_deployment",
    "open_store",
    "proof_bundle",
    "read_shipments",
    "record_hash",
    "scope_of",
    "shipped_recompute",
    "verify_proof",
    "verify_report",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


if TYPE_CHECKING:
    from ledger.anchoring.anchor import anchor_footprints, anchor_shipments
    from ledger.anchoring.options import AnchorOptions, scope_of
    from ledger.anchoring.proofs import check_bundle, proof_bundle
    from ledger.chain.client import connect
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.chain.deploy import Deployment, deploy_ledger, load_deployment, open_deployment
    from ledger.config import ChainSettings
    from ledger.dev.local import local_ledger
    from ledger.errors import (
        ChainError,
        FactorError,
        InputError,
        LedgerError,
        StoreError,
        VerificationError,
    )
    from ledger.factors.factorset import FactorSet, load_factor_set
    from ledger.footprint.batch import compute_batch
    from ledger.footprint.models import ShipmentFootprint
    from ledger.footprint.single import compute_shipment, compute_shipments
    from ledger.inputs.read import read_shipments
    from ledger.inputs.shipments import Shipment
    from ledger.records.merkle import build_tree, verify_proof
    from ledger.records.record import build_record, record_hash
    from ledger.reports.figures import shipped_recompute
    from ledger.reports.issue import issue_report
    from ledger.store.store import open_store
    from ledger.types import Bytes32
    from ledger.verify.attest import attest_report
    from ledger.verify.verdict import Verdict
    from ledger.verify.verifier import verify_report
