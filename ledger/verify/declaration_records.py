"""The records of a declaration's consignments, checked against their hashes: embedded in the
file, or read from a ledger store.

Each record is hashed as stored (keccak-256 of its canonical bytes), parsed, read as a CBAM
consignment (:func:`ledger.declaration.consignments.consignment_row`) and compared with what the
file says of it; what the recomputation needs is kept (its row and inputs), the record itself
dropped, so a million records are never all in memory. A store is streamed through once.

With a side process (:mod:`ledger.verify.side`), the side reads the store once, hashes every
wanted record (:func:`side_records`) and reads a share of them (:func:`in_share`) as the caller
would, handing back their rows in a compact form (:class:`SharedRows`: one tuple of the fields
many rows have in common, then a few numbers per row; pickling a million rows as named tuples
cost more than reading them); the caller reads the others (``skip``), so both processes parse.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Mapping, Sequence
from datetime import date
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
    "SharedRows",
    "Subject",
    "checked_records",
    "in_share",
    "read_records",
    "side_records",
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
            hashed: bool = True, skip: Callable[[int], bool] | None = None) -> None:
    """The wanted records of the store, checked (the first stored under a key; ``wanted`` is
    emptied of the keys found), except the consignments ``skip`` names (read elsewhere)."""
    take = wanted.pop
    passed, failed = found.passed.append, found.failed.append
    for exporter, shipment_id, body in store.record_bodies():
        numbers = take((exporter, shipment_id), None)
        if numbers is None:
            continue
        for number in numbers:
            if skip is not None and skip(number):
                continue
            c = consignments[number]
            try:
                row, inputs = _read_record(subject, c, body, None, hashed=hashed)
            except CheckFailed as exc:
                failed((number, str(exc)))
            except _ERRORS as exc:
                failed((number, f"{type(exc).__name__}: {exc}"))
            else:
                passed((number, row, inputs))


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
            _check_hash(problems, number, consignments[number], digest)
    return problems


def _check_hash(problems: list[tuple[int, str]], number: int, c: Mapping[str, Any],
                digest: str) -> None:
    """Adds to ``problems`` when consignment ``number`` names another record hash."""
    try:
        if digest != c["recordHash"]:
            problems.append((number, _hash_problem(c)))
    except _ERRORS as exc:
        problems.append((number, f"{type(exc).__name__}: {exc}"))


#: Of every hundred consignments (by number), how many the side process reads for the caller:
#: the side also hashes every record and checks the multiproofs and the signature, the caller
#: rebuilds the dataset, so the side's share is the smaller.
SIDE_SHARE_PERCENT = 30


def in_share(number: int) -> bool:
    """Whether the side process reads consignment ``number``'s record for the caller."""
    return number % 100 < SIDE_SHARE_PERCENT


_FIELDS = ConsignmentRow._fields
#: The fields that differ from row to row (the others are shared by many rows).
_OWN = ("shipment_id", "import_date", "net_mass_g", "embedded_g")
#: Whether the rows have the layout :class:`SharedRows` is written for (else no sharing).
SHARING = tuple(map(_FIELDS.index, _OWN)) == (0, 3, 14, 15) and len(_FIELDS) == 21 \
    and _FIELDS[20] == "supplier_document"


class SharedRows(NamedTuple):
    """The rows the side process read (:func:`side_records`), compact: each distinct tuple of
    the shared fields and inputs once (``common``), then per row its consignment number, the
    tuple's place, shipment id, release day (ordinal), net mass and embedded grams; a row with
    a supplier document as a whole (``whole``, its day as an ordinal); the problems found."""

    common: list[tuple[tuple[Any, ...], Inputs]]
    numbers: array[int]
    places: array[int]
    shipment_ids: list[str]
    days: array[int]
    masses: list[int]
    embedded: list[int]
    whole: list[tuple[int, tuple[Any, ...], Inputs]]
    failed: list[tuple[int, str]]

    def rows(self) -> list[tuple[int, ConsignmentRow, Inputs]]:
        """(number, row, inputs) of each row that passed, as :func:`_read_record` gives them."""
        new = tuple.__new__
        days: dict[int, date] = {}
        out = []
        common = self.common
        for number, place, shipment_id, day, mass, embedded in zip(
                self.numbers, self.places, self.shipment_ids, self.days, self.masses,
                self.embedded, strict=True):
            fields, inputs = common[place]
            when = days.get(day)
            if when is None:
                when = days[day] = date.fromordinal(day)
            out.append((number, new(ConsignmentRow, (
                shipment_id, fields[0], fields[1], when, *fields[2:12], mass, embedded,
                *fields[12:16], None)), inputs))
        for number, fields, inputs in self.whole:
            out.append((number, new(ConsignmentRow, (
                *fields[:3], date.fromordinal(fields[3]), *fields[4:])), inputs))
        return out


def side_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                 store: LedgerStore, share: Callable[[int], bool]
                 ) -> tuple[list[tuple[int, str]], SharedRows]:
    """One pass over the store for the side process: each wanted record's hash problems
    (:func:`stored_hash_problems`), and the records of the consignments in ``share`` read as
    :func:`read_records` would (``hashed=False``), compact (:class:`SharedRows`)."""
    problems: list[tuple[int, str]] = []
    places: dict[tuple[Any, ...], int] = {}
    out = SharedRows([], array("q"), array("q"), [], array("q"), [], [], [], [])
    take = _wanted(consignments).pop
    for exporter, shipment_id, body in store.record_bodies():
        numbers = take((exporter, shipment_id), None)
        if numbers is None:
            continue
        digest = keccak256_hex(body)
        for number in numbers:
            c = consignments[number]
            _check_hash(problems, number, c, digest)
            if not share(number):
                continue
            try:
                row, inputs = _read_record(subject, c, body, None, hashed=False)
            except CheckFailed as exc:
                out.failed.append((number, str(exc)))
                continue
            except _ERRORS as exc:
                out.failed.append((number, f"{type(exc).__name__}: {exc}"))
                continue
            assert row.import_date is not None  # _read_record checked it
            if row[20] is not None:
                out.whole.append((number, (*row[:3], row.import_date.toordinal(), *row[4:]),
                                  inputs))
                continue
            key = (*row[1:3], *row[4:14], *row[16:20], inputs)
            place = places.get(key)
            if place is None:
                place = places[key] = len(out.common)
                out.common.append(((*row[1:3], *row[4:14], *row[16:20]), inputs))
            out.numbers.append(number)
            out.places.append(place)
            out.shipment_ids.append(row[0])
            out.days.append(row.import_date.toordinal())
            out.masses.append(row[14])
            out.embedded.append(row[15])
    return problems, out


class RecordFindings(NamedTuple):
    """The records read (:func:`read_records`): what passed and what did not, by consignment
    number."""

    consignments: Sequence[Mapping[str, Any]]
    found: _Found

    def add(self, shared: SharedRows) -> None:
        """The rows the side process read for this reading (:func:`side_records`)."""
        self.found.passed.extend(shared.rows())
        self.found.failed.extend(shared.failed)

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
                 store: LedgerStore | None, *, hashed: bool = True,
                 skip: Callable[[int], bool] | None = None) -> RecordFindings:
    """Each consignment's record (embedded, else from ``store``) read and checked against what
    the file says of it, and against its hash unless ``hashed`` is false for the stored ones
    (their hashes checked by :func:`stored_hash_problems` elsewhere); the stored records of the
    consignments ``skip`` names are left to the side process (:func:`side_records`, then
    :meth:`RecordFindings.add`)."""
    found = _Found([], [])
    for number, c in enumerate(consignments):
        record = c.get("record")
        if record is not None:
            _take(found, subject, number, c, canonical_json(record), record=record)
    wanted = _wanted(consignments)
    if wanted and store is not None:
        _stored(found, subject, consignments, store, wanted, hashed=hashed, skip=skip)
    return RecordFindings(consignments, found)


def checked_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                    store: LedgerStore | None) -> tuple[list[ConsignmentRow], list[Inputs]]:
    """Each consignment's record (embedded, else from ``store``) checked against its hash and
    what the file says of it: the rows and recompute inputs in file order. ``CheckFailed``
    names the first consignment in file order that fails."""
    return read_records(subject, consignments, store).outcome()
