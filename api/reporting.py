"""Reports issued by the service and reports checked by auditors: thin over the library.

Issuing goes through :func:`ledger.reports.issue.write_report_files` (the same call as
``carbon-ledger report``); verification through :func:`ledger.verify.verifier.verify_report`, and
the attestation through :func:`ledger.verify.attest.attest_report`, as ``carbon-ledger verify`` /
``attest``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.errors import ApiError
from ledger.errors import InputError, InputProblem, StoreError

if TYPE_CHECKING:
    from api.context import ServiceContext

__all__ = ["attest", "issue_report", "shared_router_recompute", "verify"]


def issue_report(ctx: ServiceContext, org_id: int, shipment_ids: Sequence[str],
                 period: tuple[date, date], declarant: Mapping[str, Any] | None
                 ) -> dict[str, Any]:
    """Signs a report of anchored shipments with the organisation's key and stores it with its
    CBAM XML (CBAM goods with a declarant); its PACT footprints are published."""
    from ledger.anchoring.proofs import proof_bundle
    from ledger.reports import vc
    from ledger.reports.issue import write_report_files

    org = ctx.store.org(org_id)
    if org is None or org.keystore is None:
        raise ApiError(409, "Conflict", "the organisation has no signing key")
    key = ctx.keyring.open(org.keystore)
    scope = ctx.chain.scope(key.address)
    unknown = [sid for sid in shipment_ids if ctx.store.shipment(org_id, sid) is None]
    if unknown:
        raise ApiError(404, "NotFound", f"no shipment {', '.join(unknown[:20])} of this "
                                        "organisation")
    if period[1] < period[0]:
        raise InputError([InputProblem("the last day is before the first day",
                                       field="last_day")])
    bundles = []
    for sid in shipment_ids:
        try:
            bundles.append(proof_bundle(ctx.ledger_store, scope, sid))
        except StoreError:
            raise ApiError(409, "Conflict", f"shipment {sid!r} is not anchored yet: anchor it "
                                            "first (POST /v1/anchoring)") from None
    with tempfile.TemporaryDirectory() as tmp:
        written = write_report_files(bundles, out_dir=Path(tmp), stem="report",
                                     issuer_key=key.secret(), period=period,
                                     issued_at=datetime.now(UTC), declarant=declarant)
        by_name = {p.name: p for p in written}
        document = json.loads(by_name["report.json"].read_text(encoding="utf-8"))
        xml = by_name["report.cbam.xml"].read_bytes() if "report.cbam.xml" in by_name else None
    report_hash = "0x" + vc.report_hash(document).hex()
    footprints = document["credentialSubject"]["productFootprints"]
    ctx.store.add_report(org_id, document["id"], report_hash, document=document,
                         cbam_xml=xml, pact_footprints=footprints)
    return {"id": document["id"], "report_hash": report_hash, "document": document,
            "cbam_xml": xml is not None}


def _contract_of(document: Any) -> str | None:
    from ledger.reports.parse import report_anchors

    if not isinstance(document, Mapping):
        return None
    for _, anchor in report_anchors(document):
        contract = anchor.get("contract")
        if isinstance(contract, str) and len(contract) == 42 and contract.startswith("0x"):
            return contract
    return None


def shared_router_recompute(factor_set: Any, router: Any) -> Any:
    """:func:`ledger.verify.verifier.engine_recompute` over one factor set, with a shared distance
    router, so sea routes are computed once per process rather than once per report."""
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.shipments import Shipment
    from ledger.records import record as records
    from ledger.reports.figures import figures_from_record
    from ledger.verify.verifier import engine_recompute, factor_sources

    fallback = engine_recompute([factor_set])
    sources = factor_sources(factor_set)

    def recompute(record: Mapping[str, Any], period: tuple[date, date]) -> Any:
        if str(record.get("factor_set_id", "")).lower() != str(factor_set.id).lower():
            return fallback(record, period)  # names the factor set it lacks
        shipment = Shipment.from_dict(record["shipment"])
        footprint = compute_shipment(shipment, factor_set, router=router)
        rebuilt = records.build_record(shipment.to_dict(), footprint.to_dict(),
                                       exporter=str(record["exporter"]),
                                       factor_set_id=str(factor_set.id))
        return figures_from_record(rebuilt, period=period, factor_sources=sources), rebuilt

    return recompute


def verify(ctx: ServiceContext, document: Any, *, require_attestation: bool = False) -> Any:
    """The verdict on a report, check by check (:class:`ledger.verify.verifier.Verdict`)."""
    from ledger.verify.verifier import verify_report

    reader = ctx.chain.reader(_contract_of(document))
    with reader.prefetch(document):  # the report's chain reads in one round trip
        return verify_report(document, reader, recompute=ctx.recompute,
                             min_confirmations=ctx.settings.verify_confirmations,
                             require_attestation=require_attestation)


def attest(ctx: ServiceContext, org_id: int, document: Any) -> dict[str, Any]:
    """Verifies a report, then records the auditor organisation's attestation on chain."""
    from eth_utils.crypto import keccak

    from ledger.records.canonical import canonical_json
    from ledger.reports import vc
    from ledger.verify.attest import attest_report

    org = ctx.store.org(org_id)
    if org is None or org.keystore is None:
        raise ApiError(409, "Conflict", "the organisation has no signing key")
    verdict = verify(ctx, document)
    if not verdict.ok:
        raise ApiError(409, "NotVerified", "the report does not verify; it cannot be attested "
                                           f"(failed: {', '.join(verdict.failed)})",
                       extra={"verdict": verdict.to_dict()})
    key = ctx.keyring.open(org.keystore)
    contract = _contract_of(document) or ctx.chain.deployment.address
    evidence = keccak(canonical_json(verdict.to_dict()))
    with ctx.chain.key_lock(key.address), ctx.chain.signer(key) as (client, codec):
        done = attest_report(client, codec, contract, vc.report_hash(document), evidence)
    ctx.store.add_attestation(org_id, verdict.report_id, str(verdict.report_hash),
                              tx_hash=str(done["transactionHash"]),
                              block_number=int(done["blockNumber"]))
    return {"report_id": verdict.report_id, "report_hash": verdict.report_hash,
            "auditor": key.address, "transaction_hash": done["transactionHash"],
            "block_number": done["blockNumber"], "verdict": verdict.to_dict()}
