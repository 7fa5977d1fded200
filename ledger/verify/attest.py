"""The auditor's writes: an on-chain attestation of a report's hash, and its withdrawal.

:func:`attest_report` / :func:`revoke_report_attestation` send the transactions (an attestation
of ``SubjectKind.Report`` with the hash of the auditor's verdict as evidence).
:func:`attest_on_chain` is the auditor's whole flow: connect to the report's chain with the
auditor's key, verify the report, and attest only when it verifies. :func:`revoke_on_chain`
withdraws the signer's attestation.

The chain reads (:class:`LedgerReader` and its value types) live in :mod:`ledger.verify.reader`
and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.chain.abi import AbiCodec, SubjectKind
from ledger.errors import ChainError, ContractRevert
from ledger.reports import vc
from ledger.verify.reader import (
    AttestationInfo,
    LedgerReader,
    Reader,
    ReportChain,
    TxInfo,
    open_report_chain,
)
from ledger.verify.verdict import Verdict, verdict_evidence
from ledger.verify.verifier import shipped_recompute, verify_report

if TYPE_CHECKING:
    from ledger.chain.client import ChainClient
    from ledger.config import ChainSettings
    from ledger.reports.figures import Recompute

__all__ = [
    "AttestOutcome",
    "AttestationInfo",
    "LedgerReader",
    "Reader",
    "ReportChain",
    "TxInfo",
    "attest_on_chain",
    "attest_report",
    "open_report_chain",
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


def attest_report(client: ChainClient, codec: AbiCodec, contract: str, report_hash: bytes,
                  evidence: bytes) -> Mapping[str, Any]:
    """Records the signer's attestation of a report hash; returns the transaction's receipt."""
    try:
        receipt = client.transact(contract, codec.encode_call(
            "attest", int(SubjectKind.REPORT), report_hash, evidence))
    except ContractRevert as exc:
        raise ChainError(f"the attestation was refused: {exc}") from exc
    return {"transactionHash": "0x" + bytes(receipt.tx_hash).hex(),
            "blockNumber": receipt.block_number}


def revoke_report_attestation(client: ChainClient, codec: AbiCodec, contract: str,
                              report_hash: bytes) -> Mapping[str, Any]:
    """Withdraws the signer's attestation of a report hash."""
    try:
        receipt = client.transact(contract, codec.encode_call(
            "revokeAttestation", int(SubjectKind.REPORT), report_hash))
    except ContractRevert as exc:
        raise ChainError(f"the attestation could not be revoked: {exc}") from exc
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
    with open_report_chain(document, settings, private_key=private_key) as chain:
        with chain.reader.prefetch(document):  # ends before the attestation is sent
            verdict = verify_report(document, chain.reader, recompute=recompute,
                                    min_confirmations=min_confirmations)
        if not verdict.ok:
            return AttestOutcome(verdict, chain.client.address)
        done = attest_report(chain.client, chain.codec, chain.contract,
                             vc.report_hash(document), verdict_evidence(verdict))
    return AttestOutcome(verdict, chain.client.address, str(done["transactionHash"]),
                         int(done["blockNumber"]))


def revoke_on_chain(document: Mapping[str, Any], settings: ChainSettings,
                    private_key: bytes | str) -> Mapping[str, Any]:
    """Withdraws the signer's attestation of a report on the report's chain."""
    with open_report_chain(document, settings, private_key=private_key) as chain:
        return revoke_report_attestation(chain.client, chain.codec, chain.contract,
                                         vc.report_hash(document))
