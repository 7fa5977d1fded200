"""The records of a declaration's consignments, checked against their hashes: embedded in the
file, or read from a ledger store.

Each record is hashed as stored (keccak-256 of its canonical bytes), parsed, read as a CBAM
consignment (:func:`ledger.declaration.consignments.consignment_row`) and compared with what the
file says of it; what the recomputation needs is kept, the record itself dropped, so a million
records are never all in memory. A store is streamed through once.

What is kept is compact (:class:`ReadRows`): each distinct *profile* (the fields many rows have
in common, with the record's recompute inputs) once, then per row its consignment number, its
profile's place, shipment id, release day, net mass and embedded grams. :func:`file_rows` puts
the rows of one or two readings in file order (:class:`FileRows`), column by column, the form
the dataset is rebuilt from (:func:`ledger.declaration.document.declaration_subject_columns`);
:meth:`FileRows.rows` gives them one row at a time for the row-by-row rebuild.

With a side process (:mod:`ledger.verify.side`), the side reads a share of the stored records
(:func:`side_records`: the records of some of the store's blocks, each block read by one
process) for the caller, handing back its :class:`ReadRows` (pickled, small: a million rows as
named tuples cost more to pickle than to read); the caller reads the others (``shared``), so
both processes hash and parse.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import date
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import orjson

from ledger.declaration.consignments import ConsignmentRow, consignment_row
from ledger.errors import LedgerError
from ledger.records.canonical import canonical_json
from ledger.records.keccak import keccak256_hex
from ledger.store.cbam import BodyShare
from ledger.verify.verdict import CheckFailed

if TYPE_CHECKING:
    from ledger.store.store import LedgerStore

__all__ = [
    "FileRows",
    "Inputs",
    "ReadRows",
    "Subject",
    "file_rows",
    "lookups_hold",
    "read_records",
    "side_records",
]

#: (CN code, direct, indirect) as a record states them, or the problem that prevents reading them
Inputs = tuple[str, str, str] | str
_ERRORS = (LedgerError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError,
           IndexError)


class Subject(NamedTuple):
    """What a record must say: the declaration's declarant and year."""

    declarant: str
    year: int


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
                 record: Mapping[str, Any] | None) -> tuple[ConsignmentRow, Inputs]:
    """A consignment's record checked against its hash and what the file says of it."""
    if keccak256_hex(body) != c["recordHash"]:
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


_FIELDS = ConsignmentRow._fields
#: The fields that differ from row to row (the others make the row's profile).
_OWN = tuple(map(_FIELDS.index, ("shipment_id", "import_date", "net_mass_g", "embedded_g")))
_DOCUMENT = _FIELDS.index("supplier_document")
_SHARED = itemgetter(*(i for i in range(len(_FIELDS)) if i not in (*_OWN, _DOCUMENT)))
_BLANK = {_OWN[0]: "", _OWN[1]: None, _OWN[2]: 0, _OWN[3]: 0}


def _document_key(document: Mapping[str, Any]) -> object:
    """What tells supplier documents apart in a profile key: their JSON (a document that cannot
    be written so shares its profile with no other row)."""
    try:
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONEncodeError, TypeError):
        return object()


class ReadRows(NamedTuple):
    """The rows one reading found (module docstring): each profile once in ``common`` (the
    first row read with it, and its inputs), then per row its consignment number, profile
    place, shipment id, release day (ordinal), net mass and embedded grams; and the problems
    found, by consignment number."""

    common: list[tuple[ConsignmentRow, Inputs]]
    numbers: array[int]
    places: array[int]
    shipment_ids: list[str]
    days: array[int]
    masses: list[int]
    embedded: list[int]
    failed: list[tuple[int, str]]


class _Reading:
    """Builds a :class:`ReadRows`, one record at a time."""

    def __init__(self) -> None:
        self.out = ReadRows([], array("q"), array("q"), [], array("q"), [], [], [])
        self._places: dict[tuple[Any, ...], int] = {}

    def take(self, subject: Subject, number: int, c: Mapping[str, Any], body: bytes,
             record: Mapping[str, Any] | None) -> None:
        out = self.out
        try:
            row, inputs = _read_record(subject, c, body, record)
        except CheckFailed as exc:
            out.failed.append((number, str(exc)))
            return
        except _ERRORS as exc:
            out.failed.append((number, f"{type(exc).__name__}: {exc}"))
            return
        document = row.supplier_document
        key = (_SHARED(row), inputs) if document is None else \
            (_SHARED(row), inputs, _document_key(document))
        place = self._places.get(key)
        if place is None:
            place = self._places[key] = len(out.common)
            out.common.append((row, inputs))
        out.numbers.append(number)
        out.places.append(place)
        out.shipment_ids.append(row[0])
        out.days.append(row[3].toordinal())  # type: ignore[union-attr] # checked: a date
        out.masses.append(row[14])
        out.embedded.append(row[15])


def _wanted(consignments: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[int]]:
    """The numbers of the consignments whose records are not embedded, by (exporter,
    shipment)."""
    wanted: dict[tuple[str, str], list[int]] = {}
    lowered: dict[str, str] = {}
    for number, c in enumerate(consignments):
        if c.get("record") is None:
            exporter = c["exporter"]
            low = lowered.get(exporter) if type(exporter) is str else None
            if low is None:
                low = str(exporter).lower()
                if type(exporter) is str:
                    lowered[exporter] = low
            wanted.setdefault((low, str(c["shipmentId"])), []).append(number)
    return wanted


def _stored(reading: _Reading, subject: Subject, consignments: Sequence[Mapping[str, Any]],
            store: LedgerStore, wanted: dict[tuple[str, str], list[int]], *,
            share: BodyShare | None) -> None:
    """One pass over the store (over ``share`` of it): the records (the first stored under a
    key) of the consignments ``wanted`` names (:func:`_wanted`), hashed and read into
    ``reading``."""
    take = reading.take
    for numbers, body in store.record_bodies(wanted, share):
        for number in numbers:
            take(subject, number, consignments[number], body, None)


#: Of every hundred blocks of stored records, how many the side process reads for the caller
#: (:class:`~ledger.store.cbam.BodyShare`): the side also checks the multiproofs, the caller
#: rebuilds the dataset and checks the signature (``docs/declaration.md``, "Scale", has the
#: figures the share was chosen by).
SIDE_SHARE_PERCENT = 44


def side_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                 store: LedgerStore) -> ReadRows:
    """The side process's share of the stored records (:data:`SIDE_SHARE_PERCENT`), read as
    :func:`read_records` reads the others: one pass over that share of the store."""
    reading = _Reading()
    _stored(reading, subject, consignments, store, _wanted(consignments),
            share=BodyShare(SIDE_SHARE_PERCENT, first=True))
    return reading.out


def read_records(subject: Subject, consignments: Sequence[Mapping[str, Any]],
                 store: LedgerStore | None, *, shared: bool = False) -> ReadRows:
    """Each consignment's record (embedded, else from ``store``) read and checked against its
    hash and what the file says of it; ``shared``: the side process reads its share of the
    stored records (:func:`side_records`), this reading the others."""
    reading = _Reading()
    for number, c in enumerate(consignments):
        record = c.get("record")
        if record is not None:
            reading.take(subject, number, c, canonical_json(record), record)
    wanted = _wanted(consignments)
    if store is not None and wanted:
        _stored(reading, subject, consignments, store, wanted,
                share=BodyShare(SIDE_SHARE_PERCENT, first=False) if shared else None)
    return reading.out


_LOOKUP = itemgetter("exporter", "shipmentId")


def lookups_hold(consignments: Sequence[Mapping[str, Any]]) -> bool:
    """Whether every consignment names its exporter and shipment (what its stored record is
    looked up by): where one does not, its records are read in one process, which names the
    first such consignment as it would without a side process."""
    try:
        deque(map(_LOOKUP, consignments), maxlen=0)
    except (KeyError, TypeError, IndexError):
        return False
    return True


class FileRows(NamedTuple):
    """The consignments' rows in file order, column by column: each profile (a row whose
    shipment id, date, mass and embedded grams are blank) and its recompute inputs, then per
    consignment its profile, shipment id, release day (ordinal), net mass and embedded grams."""

    profiles: list[ConsignmentRow]
    inputs: list[Inputs]
    profile: np.ndarray
    shipment_ids: list[str]
    days: np.ndarray
    masses: list[int]
    embedded: list[int]

    def rows(self) -> list[ConsignmentRow]:
        """The rows one by one, as :func:`_read_record` gave them."""
        new = tuple.__new__
        dates: dict[int, date] = {}
        out = []
        for place, shipment_id, day, mass, embedded in zip(
                self.profile.tolist(), self.shipment_ids, self.days.tolist(), self.masses,
                self.embedded, strict=True):
            p = self.profiles[place]
            when = dates.get(day)
            if when is None:
                when = dates[day] = date.fromordinal(day)
            out.append(new(ConsignmentRow, (shipment_id, p[1], p[2], when, *p[4:14], mass,
                                            embedded, *p[16:])))
        return out

    def row_inputs(self) -> list[Inputs]:
        """Each consignment's recompute inputs, in file order."""
        return list(map(self.inputs.__getitem__, self.profile.tolist()))


def _blank(row: ConsignmentRow) -> ConsignmentRow:
    return tuple.__new__(ConsignmentRow, (_BLANK.get(i, value) for i, value in enumerate(row)))


def file_rows(consignments: Sequence[Mapping[str, Any]], readings: Sequence[ReadRows]
              ) -> FileRows:
    """The rows of ``readings`` (which read each consignment at most once between them) in
    file order, or ``CheckFailed`` naming the first consignment in file order that fails."""
    count = len(consignments)
    failed = [x for reading in readings for x in reading.failed]
    numbers = np.concatenate([np.frombuffer(r.numbers, dtype=np.int64) for r in readings]
                             + [np.empty(0, dtype=np.int64)])
    present = np.zeros(count, dtype=np.bool_)
    present[numbers] = True
    named = {number for number, _ in failed}
    failed += [(number, f"consignment {number + 1} ({consignments[number]['shipmentId']}): "
                "its record is neither embedded nor in the given store")
               for number in np.flatnonzero(~present).tolist() if number not in named]
    if failed:
        raise CheckFailed(min(failed)[1])
    if len(numbers) != count:
        raise CheckFailed("a consignment's record was read twice")
    profiles: list[ConsignmentRow] = []
    inputs: list[Inputs] = []
    places = []
    for reading in readings:  # each reading's profiles after the earlier ones'
        places.append(np.frombuffer(reading.places, dtype=np.int64) + len(profiles))
        profiles += [_blank(row) for row, _ in reading.common]
        inputs += [given for _, given in reading.common]
    order = np.argsort(numbers, kind="stable").tolist()
    ids = list(chain.from_iterable(r.shipment_ids for r in readings))
    masses = list(chain.from_iterable(r.masses for r in readings))
    embedded = list(chain.from_iterable(r.embedded for r in readings))
    pick = itemgetter(*order) if len(order) > 1 else None

    def ordered(values: list[Any]) -> list[Any]:
        return list(pick(values)) if pick is not None else values  # type: ignore[arg-type]

    days = np.concatenate([np.frombuffer(r.days, dtype=np.int64) for r in readings]
                          + [np.empty(0, dtype=np.int64)])
    return FileRows(profiles, inputs, np.concatenate([*places, days[:0]])[order], ordered(ids),
                    days[order], ordered(masses), ordered(embedded))
