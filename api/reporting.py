"""Reports issued by the service and reports checked by auditors: thin over the library.

Issuing is :func:`ledger.reports.issue.issue_report` (the call behind ``carbon-ledger report``) in
memory, with :func:`ledger.reports.issue.report_files` for the CBAM XML; verification is
:func:`ledger.verify.verifier.verify_report`; the attestation is
:func:`ledger.verify.attest.attest_report` with :func:`ledger.verify.verdict.verdict_evidence`, as
``carbon-ledger verify`` / ``attest``. All of them recompute with the context's factor set and
shared distance router (``ctx.recompute``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from api.context import ServiceContext
from api.errors import ApiError
from ledger.anchoring.proofs import proof_bundle
from ledger.errors import (
    ConfigError,
    InputError,
    InputProblem,
    StoreError,
    StoreUnavailable,
    VerificationError,
)
from ledger.reports import vc
from ledger.reports.issue import declarant_from_dict, issue_report, report_files
from ledger.reports.parse import report_chain
from ledger.verify.attest import attest_report
from ledger.verify.reader import prefetch_report
from ledger.verify.verdict import Verdict, verdict_evidence
from ledger.verify.verifier import verify_report

__all__ = ["attest", "issue", "verify"]

_STEM = "report"


def issue(ctx: ServiceContext, org_id: int, shipment_ids: Sequence[str],
          period: tuple[date, date], declarant: Mapping[str, Any] | None) -> dict[str, Any]:
    """Signs a report of anchored shipments with the organisation's key and stores it with its
    CBAM XML (CBAM goods with a declarant); its PACT footprints are published."""
    org = ctx.store.org(org_id)
    if org is None or org.keystore is None:
        raise ApiError(409, "Conflict", "the organisation has no signing key")
    key = ctx.signing_key(org_id)
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
        except StoreUnavailable:
            raise
        except StoreError:
            raise ApiError(409, "Conflict", f"shipment {sid!r} is not anchored yet: anchor it "
                                            "first (POST /v1/anchoring)") from None
    importer = None if declarant is None else declarant_from_dict(declarant)
    document = issue_report(bundles, issuer_key=key.secret(), period=period,
                            issued_at=datetime.now(UTC), factor_set=ctx.factor_set,
                            recompute=ctx.recompute)
    xml = report_files(document, stem=_STEM, declarant=importer).get(f"{_STEM}.cbam.xml")
    report_hash = "0x" + vc.report_hash(document).hex()
    footprints = document["credentialSubject"]["productFootprints"]
    ctx.store.add_report(org_id, document["id"], report_hash, document=document,
                         cbam_xml=xml, pact_footprints=footprints)
    return {"id": document["id"], "report_hash": report_hash, "document": document,
            "cbam_xml": xml is not None}


def _contract_of(document: Any) -> str | None:
    """The ledger contract the report names (``None``: none readable; the format check says
    why)."""
    try:
        return report_chain(document)[1]
    except VerificationError:
        return None


def verify(ctx: ServiceContext, document: Any, *, require_attestation: bool = False) -> Verdict:
    """The verdict on a report, check by check. A report naming a contract that makes shipment
    ids by another rule than this package is refused (422 ``UnsupportedContract``) by name."""
    reader = ctx.chain.reader(_contract_of(document))
    try:
        reader.require_shipment_id_rule()
    except ConfigError as exc:
        raise ApiError(422, "UnsupportedContract", str(exc)) from None
    with prefetch_report(reader, document):  # the report's chain reads in one round trip
        return verify_report(document, reader, recompute=ctx.recompute,
                             min_confirmations=ctx.settings.verify_confirmations,
                             require_attestation=require_attestation)


def attest(ctx: ServiceContext, org_id: int, document: Any) -> dict[str, Any]:
    """Verifies a report, then records the auditor organisation's attestation on chain."""
    org = ctx.store.org(org_id)
    if org is None or org.keystore is None:
        raise ApiError(409, "Conflict", "the organisation has no signing key")
    verdict = verify(ctx, document)
    if not verdict.ok:
        raise ApiError(409, "NotVerified", "the report does not verify; it cannot be attested "
                                           f"(failed: {', '.join(verdict.failed)})",
                       extra={"verdict": verdict.to_dict()})
    key = ctx.signing_key(org_id)
    contract = _contract_of(document) or ctx.chain.deployment.address
    with ctx.chain.key_lock(key.address), ctx.chain.signer(key, contract) as ledger:
        done = attest_report(ledger, vc.report_hash(document), verdict_evidence(verdict))
    ctx.store.add_attestation(org_id, verdict.report_id, str(verdict.report_hash),
                              tx_hash=str(done["transactionHash"]),
                              block_number=int(done["blockNumber"]))
    return {"report_id": verdict.report_id, "report_hash": verdict.report_hash,
            "auditor": key.address, "transaction_hash": done["transactionHash"],
            "block_number": done["blockNumber"], "verdict": verdict.to_dict()}
