"""Errors raised by the ledger library.

Every error the library raises on purpose derives from :class:`LedgerError`, so a caller can
catch one root. The tree::

    LedgerError
    ├── InputError            bad shipment input (rows, fields); carries every problem found
    ├── FactorError           a factor table or factor set that is missing, invalid or tampered
    ├── RoutingError          no distance can be had for a leg (unknown port/airport, no route)
    ├── ConfigError           settings that cannot work (missing key, bad URL, unknown deployment)
    ├── ChainError            anything about the chain
    │   ├── RpcUnavailable    the RPC endpoint cannot be reached (after retries)
    │   ├── ChainIdMismatch   the node's chain id is not the configured one
    │   ├── ContractRevert    a call or transaction reverted; names the custom error and arguments
    │   ├── GasCapExceeded    a transaction would exceed the per-transaction or block gas cap
    │   ├── ContractMissing   no contract code at the deployment address (reset or wrong chain)
    │   └── NonceMoved        another writer sent with the signing key; nothing was sent
    ├── StoreError            the local ledger store refused a write or is inconsistent
    │   ├── StoreUnavailable  the database cannot be opened or reached
    │   ├── WriteRefused      the database refused a write (a constraint: a row given twice)
    │   │   └── RecordConflict  a bulk write met a record the store holds already
    │   └── StoreBusy         another run holds the writer lock of the same key
    └── VerificationError     a report could not be checked at all (malformed beyond checking)

A message says what was wrong and what to do about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ChainError",
    "ChainIdMismatch",
    "ConfigError",
    "ContractMissing",
    "ContractRevert",
    "FactorError",
    "GasCapExceeded",
    "InputError",
    "InputProblem",
    "InsufficientFunds",
    "LedgerError",
    "NonceMoved",
    "RecordConflict",
    "RoutingError",
    "RpcUnavailable",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "VerificationError",
    "WriteRefused",
]


class LedgerError(Exception):
    """Root of every error the ledger library raises on purpose."""


@dataclass(frozen=True)
class InputProblem:
    """One problem in an input file: where it is and what is wrong."""

    message: str
    shipment_id: str | None = None
    row: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.shipment_id is not None:
            where.append(f"shipment {self.shipment_id!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message

    def as_dict(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id,
            "row": self.row,
            "field": self.field,
            "message": self.message,
        }


class InputError(LedgerError):
    """The input has one or more problems; ``problems`` lists all of them."""

    def __init__(self, problems: Sequence[InputProblem] | str) -> None:
        if isinstance(problems, str):
            problems = [InputProblem(problems)]
        self.problems: list[InputProblem] = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the input"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))


class FactorError(LedgerError):
    """A factor is missing, or a table or factor set is invalid or does not match its manifest."""


class RoutingError(LedgerError):
    """No distance can be determined for a leg."""


class ConfigError(LedgerError):
    """The settings cannot work as given."""


class ChainError(LedgerError):
    """Something about the chain went wrong."""


class RpcUnavailable(ChainError):
    """The RPC endpoint could not be reached."""


class InsufficientFunds(ChainError):
    """The signing key holds less than a transaction may cost; nothing was signed."""


class ChainIdMismatch(ChainError):
    """The node reports another chain id than the one configured."""


class ContractRevert(ChainError):
    """A contract call reverted. ``error_name`` and ``args`` name the custom error when known."""

    def __init__(self, message: str, error_name: str | None = None,
                 args: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_name = error_name
        self.error_args = dict(args or {})


class GasCapExceeded(ChainError):
    """A transaction would need more gas than a transaction or block may use."""


class ContractMissing(ChainError):
    """The chain at the RPC holds no contract code at the deployment address: the chain was
    reset, or it is another chain than the deployment's."""


class NonceMoved(ChainError):
    """The signing key's nonce on chain is not the one the store expects: another process or
    person sent with the same key. Nothing was sent."""


class StoreError(LedgerError):
    """The local ledger store refused a write or found itself inconsistent.

    Its kind is its class: callers (the service's HTTP mapping) decide by type, never by the
    message text. A plain ``StoreError`` is an inconsistency (a batch or transaction that is not
    there, a record block that does not fit).
    """


class StoreUnavailable(StoreError):
    """The database cannot be opened or reached (a network error, a lock held too long); trying
    again later may work."""


class WriteRefused(StoreError):
    """The database refused a write: a constraint failed (a row given twice, a unique key taken
    by a concurrent writer). Nothing of the transaction was kept."""


class StoreBusy(StoreError):
    """Another run holds the one-writer-per-key lock on the same chain and sender."""


class RecordConflict(WriteRefused):
    """A bulk write met a record the store already holds for the same shipment (or one given
    twice): nothing was written."""


class VerificationError(LedgerError):
    """A report is malformed beyond checking."""
