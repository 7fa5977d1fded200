"""The auditor's writes: an on-chain attestation of a report's hash, and its withdrawal.

:func:`attest_report` / :func:`revoke_report_attestation` send the transactions through the
contract wrapper (an attestation of ``SubjectKind.Report`` with the hash of the auditor's verdict
as evidence). :func:`attest_on_chain` is the auditor's whole flow: open the report's contract
with the auditor's key, verify the report, and attest only when it verifies.
:func:`revoke_on_chain` withdraws the signer's attestation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.chain.abi import SubjectKind
from ledger.errors import ChainError, ContractRevert
from ledger.reports import vc
from ledger.reports.figures import shipped_recompute
from ledger.verify.reader import open_report_chain, prefetch_report
from ledger.verify.verdict import Verdict, verdict_evidence
from ledger.verify.verifier import verify_report

if TYPE_CHECKING:
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.chain.types import Receipt
    from ledger.config import ChainSettings
    from ledger.reports.figures import Recompute

__all__ = [
    "AttestOutcome",
    "attest_on_chain",
    "attest_report",
    "revoke_on_chain",
    "revoke_report_attestation",
]


@dataclass(frozen=True)
class AttestOutcome:
    """The auditor's verdict on a report and, when it verified, the attestation transaction."""

    verdict: Verdict
    auditor: str
    transaction_hash: str | None = None
    block_number: int | None = None

    @property
    def attested(self) -> bool:
        return self.transaction_hash is not None


def attest_report(ledger: CarbonLedgerContract, report_hash: bytes, evidence: bytes
                  ) -> Mapping[str, Any]:
    """Records the signer's attestation of a report hash; returns the transaction's hash and
    block (``ChainError`` when the contract refuses it, or the handle is read-only)."""
    try:
        receipt = ledger.attest(SubjectKind.REPORT, report_hash, evidence)
    except ContractRevert as exc:
        raise ChainError(f"the attestation was refused: {exc}") from exc
    return _sent(receipt)


def revoke_report_attestation(ledger: CarbonLedgerContract, report_hash: bytes
                              ) -> Mapping[str, Any]:
    """Withdraws the signer's attestation of a report hash."""
    try:
        receipt = ledger.revoke_attestation(SubjectKind.REPORT, report_hash)
    except ContractRevert as exc:
        raise ChainError(f"the attestation could not be revoked: {exc}") from exc
    return _sent(receipt)


def _sent(receipt: Receipt) -> Mapping[str, Any]:
    return {"transactionHash": "0x" + bytes(receipt.tx_hash).hex(),
            "blockNumber": receipt.block_number}


def attest_on_chain(
    document: Mapping[str, Any],
    settings: ChainSettings,
    private_key: bytes | str,
    *,
    recompute: Recompute | None = None,
    min_confirmations: int = 1,
) -> AttestOutcome:
    """Verifies a report on its chain with the auditor's key, then attests it; a report that
    does not verify is not attested (the outcome has no transaction)."""
    recompute = recompute or shipped_recompute()
    with open_report_chain(document, settings, private_key=private_key) as ledger:
        with prefetch_report(ledger, document):  # ends before the attestation is sent
            verdict = verify_report(document, ledger, recompute=recompute,
                                    min_confirmations=min_confirmations)
        if not verdict.ok:
            return AttestOutcome(verdict, ledger.client.address)
        done = attest_report(ledger, vc.report_hash(document), verdict_evidence(verdict))
    return AttestOutcome(verdict, ledger.client.address, str(done["transactionHash"]),
                         int(done["blockNumber"]))


def revoke_on_chain(document: Mapping[str, Any], settings: ChainSettings,
                    private_key: bytes | str) -> Mapping[str, Any]:
    """Withdraws the signer's attestation of a report on the report's chain."""
    with open_report_chain(document, settings, private_key=private_key) as ledger:
        return revoke_report_attestation(ledger, vc.report_hash(document))
