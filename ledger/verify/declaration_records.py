"""The records of a declaration's consignments, checked against their hashes: embedded in the
file, or read from a ledger store.

Each record is hashed as stored (keccak-256 of its canonical bytes), parsed, read as a CBAM
consignment (:func:`ledger.declaration.consignments.consignment_row`) and compared with what the
file says of it; what the recomputation needs is kept (its row and inputs), the record itself
dropped, so a million records are never all in memory. A store is streamed through once.

(Sharing the records with a forked helper process was measured on the benchmark's 2-core
machine under load: each process ran two to three times slower than alone and pickling the
findings back cost more than it saved, so there is one process.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from ledger.declaration.consignments import ConsignmentRow, consignment_row
from ledger.errors import LedgerError
from ledger.records.canonical import canonical_json
from ledger.records.keccak import keccak256_hex
from ledger.verify.verdict import CheckFailed

if TYPE_CHECKING:
    from ledger.store.store import LedgerStore

__all__ = [
    "Inputs",
    "RecordFindings",
    "Subject",
    "checked_records",
    "read_records",
    "stored_hash_problems",
]

#: (CN code, direct, indirect) as a record states them, or the problem that prevents reading them
Inputs = tuple[str, str, str] | str
_ERRORS = (LedgerError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError,
           IndexError)


class Subject(NamedTuple):
    """What a record must say: the declaration's declarant and year."""

    declarant: str
    year: int


class _Found(NamedTuple):
    """Records checked: (number, row, inputs) of each consignment that passed, (number,
    problem) of each that did not."""

    passed: list[tuple[int, ConsignmentRow, Inputs]]
    failed: list[tuple[int, str]]


def _cbam_inputs(record: Mapping[str, Any]) -> Inputs:
    """What the embedded emissions are recomputed from besides the consignment's row."""
    try:
        product = record["shipment"]["product"]
        production = product.get("production") or {}
        return (str(product.get("cn_code", "")), str(production.get("direct_t_per_t", "0")),
                str(production.get("indirect_t_per_t", "0")))
    except (KeyError, TypeError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _hash_problem(c: Mapping[str, Any]) -> str:
    return f"consignment {c['shipmentId']}: the record does not hash to its record hash"


def _read_record(subject: Subject, c: Mapping[str, Any], body: bytes,
                 record: Mapping[str, Any] | None, *, hashed: bool = True
                 ) -> tuple[ConsignmentRow, Inputs]:
    """A consignment's record checked against its hash (unless ``hashed`` is false: checked
    elsewhere) and what the file says of it."""
    if hashed and keccak256_hex(body) != c["recordHash"]:
        raise CheckFailed(_hash_problem(c))
    if record is None:
        record = orjson.loads(body)  # the stored canonical bytes: hashed as they are, then read
    row = consignment_row(record)
    if not isinstance(row, ConsignmentRow):
        raise CheckFailed(f"consignment {c['shipmentId']}: the record is not a CBAM "
                          f"consignment ({row})")
    if row.declarant != subject.declarant or row.import_date is None \
            or row.import_date.year != subject.year:
        raise CheckFailed(f"consignment {c['shipmentId']}: the record is not addressed to "
                          f"{subject.declarant} with a customs release date in {subject.year}")
    if row.exporter != str(c["exporter"]).lower() or row.shipment_id != c["shipmentId"]:
        raise CheckFailed(f"consignment {c['shipmentId']}: shipment or exporter differs")
    return row, _cbam_inputs(record)


def _take(found: _Found, subject: Subject, number: int, c: Mapping[str, Any], body: bytes, *,
          record: Mapping[str, Any] | None, hashed: bool = True) -> None:
    try:
        row, inputs = _read_record(subject, c, body, record, hashed=hashed)
    except CheckFailed as exc:
        found.failed.append((number, str(exc)))
    except _ERRORS as exc:
        found.failed.append((number, f"{type(exc).__name__}: {exc}"))
    else:
        found.passed.append((number, row, inputs))


def _stored(found: _Found, subject: Subject, consignments: Sequence[Mapping[str, Any]],
            store: LedgerStore, wanted: dict[tuple[str, str], list[int]], *,
            hashed: bool = True) -> None:
    """The wanted records of the store, checked (the first stored under a key; ``wanted`` is
    emptied of the keys found)."""
    take = wanted.pop
    for exporter, shipment_id, body in store.record_bodies():
        numbers = take((exporter, shipment_id), None)
        if numbers is None:
            continue
        for number in numbers:
            _take(found, subject, number, consignments[number], body, record=None,
                  hashed=hashed)


def _wanted(consignments: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[int]]:
    """The numbers of the consignments whose records are not embedded, by (exporter, shipment)."""
    wanted: dict[tuple[str, str], list[int]] = {}
    for number, c in enumerate(consignments):
        if c.get("record") is None:
            wanted.setdefault((str(c["exporter"]).lower(), str(c["shipmentId"])),
                              []).append(number)
    return wanted


def stored_hash_problems(consignments: Sequence[Mapping[str, Any]], store: LedgerStore
                         ) -> list[tuple[int, str]]:
    """(number, problem) of each consignment whose stored record (the first stored under its
    key) does not hash to its record hash: the hash part of :func:`checked_records`, for a side
    process (:mod:`ledger.verify.side`) while the caller parses the same records."""
    problems: list[tuple[int, str]] = []
    take = _wanted(consignments).pop
    for exporter, shipment_id, body in store.record_bodies():
        numbers = take((exporter, shipment_id), None)
        if numbers is None:
            continue
        digest = keccak256_hex(body)
        for number in numbers:
            c = consignments[number]
            try:
                if digest != c["recordHash"]:
                    problems.append((number, _hash_problem(c)))
            except _ERRORS as exc:
                problems.append((number, f"{type(exc).__name__}: {exc}"))
    return problems


class RecordFindings(NamedTuple):
    """The records read (:func:`read_records`): what passed and what did not, by consignment
    number."""

    consignments: Sequence[Mapping[str, Any]]
    found: _Found

    def outcome(self, hash_problems: Sequence[tuple[int, str]] = ()
                ) -> tuple[list[ConsignmentRow], list[Inputs]]:
        """The rows and recompute inputs in file order, or ``CheckFailed`` naming the first
        consignment in file order that fails. ``hash_problems`` (:func:`stored_hash_problems`,
        when the stored records were read with ``hashed=False``) take the place of what the
        reading found for the consignments they name, so the outcome is the same as checking
        each hash first."""
        consignments, found = self.consignments, self.found
        passed, failed = found.passed, list(found.failed)
        if hash_problems:
            elsewhere = dict(hash_problems)
            passed = [x for x in passed if x[0] not in elsewhere]
            failed = [x for x in failed if x[0] not in elsewhere] + sorted(elsewhere.items())
        count = len(consignments)
        rows: list[ConsignmentRow | None] = [None] * count
        inputs: list[Inputs] = [""] * count
        for number, row, given in passed:
            rows[number], inputs[number] = row, given
        named = {number for number, _ in failed}
        failed += [(number, f"consignment {number + 1} ({consignments[number]['shipmentId']}): "
                    "its record is neither embedded nor in the given store")
                   for number in range(count) if rows[number] is None and number not in named]
        if failed:
            raise CheckFailed(min(failed)[1])
        return [row for row in rows if row is not None], inputs


def read_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                 store: LedgerStore | None, *, hashed: bool = True) -> RecordFindings:
    """Each consignment's record (embedded, else from ``store``) read and checked against what
    the file says of it, and against its hash unless ``hashed`` is false for the stored ones
    (their hashes checked by :func:`stored_hash_problems` elsewhere)."""
    found = _Found([], [])
    for number, c in enumerate(consignments):
        record = c.get("record")
        if record is not None:
            _take(found, subject, number, c, canonical_json(record), record=record)
    wanted = _wanted(consignments)
    if wanted and store is not None:
        _stored(found, subject, consignments, store, wanted, hashed=hashed)
    return RecordFindings(consignments, found)


def checked_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                    store: LedgerStore | None) -> tuple[list[ConsignmentRow], list[Inputs]]:
    """Each consignment's record (embedded, else from ``store``) checked against its hash and
    what the file says of it: the rows and recompute inputs in file order. ``CheckFailed``
    names the first consignment in file order that fails."""
    return read_records(subject, consignments, store).outcome()
