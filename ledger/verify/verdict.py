"""The verdict on a report: one named check per question, each with its answer.

A :class:`Check` is ``pass``, ``fail``, ``not_applicable`` or ``skipped`` (could not be checked
because an earlier check failed), with a detail that says what was compared. A :class:`Verdict`
holds all checks of one report; the report is verified when every check passed or did not apply.
Its :attr:`Verdict.failed` names the checks that failed, and :attr:`Verdict.skipped` those that
could not be run because of them, so a malformed report names ``format`` alone as the failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ledger.records.canonical import canonical_json
from ledger.records.keccak import keccak256

__all__ = [
    "CHECK_NAMES",
    "FAIL",
    "NOT_APPLICABLE",
    "PASS",
    "SKIPPED",
    "Check",
    "CheckFailed",
    "Verdict",
    "verdict_evidence",
]

PASS, FAIL, NOT_APPLICABLE, SKIPPED = "pass", "fail", "not_applicable", "skipped"

#: The checks of a verdict, in the order they are run (see :mod:`ledger.verify.verifier`).
CHECK_NAMES: tuple[str, ...] = (
    "format", "signature", "data_integrity", "chain_id", "issuer_role", "record_hash",
    "merkle_proof", "anchor", "factor_set", "recompute", "status", "uniqueness",
    "confirmations", "attestations",
)


@dataclass(frozen=True)
class Check:
    """One named question of a verdict and its answer."""

    name: str
    status: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class Verdict:
    """All checks of one report."""

    report_id: str | None
    issuer: str | None
    report_hash: str | None
    checks: list[Check] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.status in (PASS, NOT_APPLICABLE) for c in self.checks)

    @property
    def failed(self) -> list[str]:
        """Names of the checks whose answer was ``fail``."""
        return [c.name for c in self.checks if c.status == FAIL]

    @property
    def skipped(self) -> list[str]:
        """Names of the checks not run because an earlier check failed."""
        return [c.name for c in self.checks if c.status == SKIPPED]

    def summary(self) -> str:
        """One line: ``VERIFIED``, or ``NOT VERIFIED: failed: format (13 checks not run)``."""
        if self.ok:
            return "VERIFIED"
        return "NOT VERIFIED: " + self.problems()

    def problems(self) -> str:
        """The failed checks and how many were not run: ``failed: format (13 checks not run)``."""
        parts = [f"failed: {', '.join(self.failed)}" if self.failed else "no check failed"]
        if self.skipped:
            count = len(self.skipped)
            parts.append(f"({count} check{'s' if count != 1 else ''} not run)")
        return " ".join(parts)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verified": self.ok, "reportId": self.report_id, "issuer": self.issuer,
            "reportHash": self.report_hash, "failed": self.failed, "skipped": self.skipped,
            "checks": [c.to_dict() for c in self.checks], "attestations": self.attestations,
        }


def verdict_evidence(verdict: Verdict) -> bytes:
    """keccak-256 of the canonical JSON of a verdict: the evidence an auditor attests with."""
    return keccak256(canonical_json(verdict.to_dict()))


class CheckFailed(Exception):
    """A check failed; the message is its detail (caught by the verifier, never raised out)."""
