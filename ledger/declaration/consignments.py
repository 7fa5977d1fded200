"""The consignments of a declaration: what one anchored record says about a CBAM import.

:func:`consignment_row` reads one canonical record (the one definition both paths use, and the
verifier too): the declarant (the consignment's ``declarant`` EORI, else its ``importer``), the
customs release date (the import date, Art. 6(2) of Regulation (EU) 2023/956), the good's CN
code, origin, installation, data type and verifier, the supplier document its actual emissions
were read from, its net mass and embedded emissions as the footprint engine wrote them. A record
that is not a CBAM good gives ``None``.

:func:`read_consignments` reads every anchored record of the store, keeps those of one declarant
and calendar year, and attaches where each is anchored. Bad input is refused with every problem
named: a record addressed to the declarant with no customs release date, a CBAM record released
in the year with no declarant or importer EORI, a record whose anchoring transaction has not
succeeded, a declarant with no consignment in the year.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import orjson

from ledger.errors import InputError, InputProblem
from ledger.store.rows import RecordRow, Scope
from ledger.store.store import LedgerStore

__all__ = [
    "Anchoring",
    "ConsignmentRow",
    "addressed_consignments",
    "anchors_of",
    "consignment_row",
    "grams_of_kg",
    "read_consignments",
]


def grams_of_kg(text: str) -> int | None:
    """Whole grams of a decimal text of kilograms, or None when it is not whole grams."""
    if text.isdigit() and text.isascii():  # whole kilograms, the usual case
        return int(text) * 1000
    whole, dot, frac = text.partition(".")
    if whole.isdigit() and whole.isascii() and (not dot or (frac.isdigit() and frac.isascii())):
        frac = frac.rstrip("0")
        if len(frac) <= 3:
            return int(whole) * 1000 + (int(frac.ljust(3, "0")) if frac else 0)
        return None
    try:
        grams = Decimal(text) * 1000
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not grams.is_finite() or grams != grams.to_integral_value() or grams < 0:
        return None
    return int(grams)


class ConsignmentRow(NamedTuple):
    """What a declaration takes from one record (see the module docstring); a named tuple:
    one is built per consignment, a million at a time."""

    shipment_id: str
    exporter: str
    declarant: str | None
    import_date: date | None
    cn8: str
    cn_code: str
    sector: str
    country: str
    installation_id: str
    operator: str
    route_text: str
    data_type: str
    method: str
    verifier: str
    net_mass_g: int
    embedded_g: int
    default_ref: str
    specific_direct: str
    specific_indirect: str
    markup_year: str
    #: The record's ``production.supplier_document`` (the communication file its actual
    #: emissions were read from), as the record writes it; None when it names none.
    supplier_document: Mapping[str, Any] | None = None

    @property
    def quarter(self) -> int:
        assert self.import_date is not None
        return (self.import_date.month + 2) // 3


#: Release dates already read, by their text (at most :data:`_DAYS_KEPT`: a few years of days)
_DAYS: dict[str, date] = {}
_DAYS_KEPT = 4096


def consignment_row(record: Mapping[str, Any]) -> ConsignmentRow | str | None:
    """The consignment a record describes, ``None`` for a good outside CBAM (or no good), or
    the problem that prevents reading it. (Run once per record a million times: dictionaries
    are told apart from other mappings by their exact type first.)"""
    footprint = record.get("footprint") or {}
    cbam = footprint.get("cbam") if type(footprint) is dict or isinstance(footprint, Mapping) \
        else None
    if not (type(cbam) is dict or isinstance(cbam, Mapping)) or not cbam.get("in_scope"):
        return None
    shipment = record.get("shipment") or {}
    product = shipment.get("product") or {}
    consignment = shipment.get("consignment") or {}
    installation = product.get("installation") or {}
    production = product.get("production") or {}
    verification = production.get("verification") or {}
    document = production.get("supplier_document")
    party = consignment.get("declarant") or consignment.get("importer") or {}
    released = consignment.get("customs_release_date")
    import_date = _DAYS.get(released) if type(released) is str else None
    if import_date is None:
        try:
            import_date = date.fromisoformat(released) if isinstance(released, str) else None
        except ValueError:
            return f"customs_release_date {released!r} is not a date"
        if import_date is not None and type(released) is str and len(_DAYS) < _DAYS_KEPT:
            _DAYS[released] = import_date
    cn = str(cbam.get("cn_code") or "").replace(" ", "")
    mass_g = grams_of_kg(str(cbam.get("net_mass_kg")))
    if mass_g is None:
        return f"net_mass_kg {cbam.get('net_mass_kg')!r} is not a mass in whole grams"
    embedded = cbam.get("embedded_g")
    if type(embedded) is not int or embedded < 0:
        return f"embedded_g {embedded!r} is not a whole number of grams"
    method = str(cbam.get("method") or "")
    data_type = str(cbam.get("data_type") or ("default" if method == "default" else "actual"))
    return _new_row(ConsignmentRow, (
        str(record.get("shipment_id")),  # shipment_id
        str(record.get("exporter", "")).lower(),  # exporter
        party.get("eori") if type(party) is dict or isinstance(party, Mapping)
        else None,  # declarant
        import_date,
        cn[:8], cn,  # cn8, cn_code
        str(cbam.get("sector") or ""),
        str(cbam.get("country_of_origin") or ""),  # country
        str(installation.get("installation_id") or ""),
        str(installation.get("operator") or ""),
        str(installation.get("production_route") or ""),  # route_text
        data_type, method,
        str(verification.get("verifier") or ""),
        mass_g, embedded,  # net_mass_g, embedded_g
        str(cbam.get("factor_ref") or "") if method == "default" else "",  # default_ref
        str(cbam.get("specific_direct_t_per_t") or "0"),
        str(cbam.get("specific_indirect_t_per_t") or "0"),
        str(cbam.get("markup_year") or ""),
        document if isinstance(document, Mapping) else None,  # supplier_document
    ))


_new_row = tuple.__new__


@dataclass(frozen=True)
class Anchoring:
    """Where a batch is anchored: chain, contract, exporter, path, root or batch id, the
    factor set its records name, the transaction and block."""

    chain_id: int
    contract: str
    exporter: str
    path: str
    batch_key: str
    factor_set_id: str
    transaction_hash: str
    block_number: int

    def to_dict(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "contract": self.contract, "exporter": self.exporter,
                "path": self.path, ("merkleRoot" if self.path == "root" else "batchId"):
                self.batch_key, "factorSetId": self.factor_set_id,
                "transactionHash": self.transaction_hash, "blockNumber": self.block_number}


@dataclass(frozen=True)
class StoredConsignment:
    """A consignment with its stored record and batch."""

    row: ConsignmentRow
    record: RecordRow
    batch_id: int


def _records(store: LedgerStore) -> Iterator[tuple[Scope, RecordRow]]:
    for scope in store.scopes():
        for record in store.scope_records(scope):
            yield scope, record


def addressed_consignments(store: LedgerStore, declarant: str, year: int
                           ) -> list[ConsignmentRow]:
    """The CBAM consignments that name ``declarant`` and were released in ``year``, without
    judging anything else in the store: what a multi-tenant service shows an importer (records
    that do not name it are never read into the answer, nor named in an error)."""
    wanted = f'"eori":"{declarant}"'.encode()
    rows: list[ConsignmentRow] = []
    for _scope, stored in _records(store):
        if wanted not in stored.record_json:
            continue
        row = consignment_row(orjson.loads(stored.record_json))
        if isinstance(row, ConsignmentRow) and row.declarant == declarant \
                and row.import_date is not None and row.import_date.year == year:
            rows.append(row)
    return rows


def read_consignments(store: LedgerStore, declarant: str, year: int, *,
                      only_addressed: bool = False
                      ) -> tuple[list[StoredConsignment], dict[int, Anchoring]]:
    """The anchored consignments of ``declarant`` released in ``year``, and their batches'
    anchoring (by store batch id); ``InputError`` names every problem (module docstring).
    ``only_addressed``: judge only records that name the declarant (a store shared by several
    exporters and importers: another party's unaddressed record is not this declarant's
    problem, nor its business)."""
    wanted = f'"eori":"{declarant}"'.encode()
    in_year = f'"customs_release_date":"{year}-'.encode()
    problems: list[InputProblem] = []
    found: list[StoredConsignment] = []
    for _scope, stored in _records(store):
        body = stored.record_json
        mentions = wanted in body
        if not mentions and (only_addressed
                             or not (in_year in body and b'"eori"' not in body)):
            continue
        row = consignment_row(orjson.loads(body))
        if row is None:
            continue
        if isinstance(row, str):
            problems.append(InputProblem(row, shipment_id=stored.shipment_id))
            continue
        if row.declarant is None:
            problems.append(InputProblem(
                f"a CBAM consignment released in {year} names no declarant or importer EORI: "
                "nobody's declaration can include it; add consignment.declarant or "
                "consignment.importer and anchor a replacement record",
                shipment_id=stored.shipment_id, field="consignment.declarant"))
            continue
        if row.declarant != declarant:
            continue
        if row.import_date is None:
            problems.append(InputProblem(
                f"the consignment is addressed to {declarant} but has no customs release date "
                "(the import date that places it in a declaration year); add "
                "consignment.customs_release_date",
                shipment_id=stored.shipment_id, field="consignment.customs_release_date"))
            continue
        if row.import_date.year == year:
            found.append(StoredConsignment(row, stored, stored.batch_id))
    anchors = anchors_of(store, {c.batch_id for c in found}, problems,
                       {c.batch_id: c.record.shipment_id for c in found})
    if problems:
        raise InputError(problems)
    if not found:
        raise InputError([InputProblem(
            f"declarant {declarant} has no anchored CBAM consignment released in {year} in "
            "this store: nothing to declare", field="declarant")])
    return found, anchors


def anchors_of(store: LedgerStore, batch_ids: set[int], problems: list[InputProblem],
               example: Mapping[int, str]) -> dict[int, Anchoring]:
    """Where each of these batches is anchored; a batch without a successful transaction is
    a problem named with one of its shipments (``example``)."""
    out: dict[int, Anchoring] = {}
    for batch_id in sorted(batch_ids):
        batch = store.batch(batch_id)
        txs = store.batch_txs(batch_id, light=True)
        # the newest by id, not by nonce: a batch anchored again after a chain lost it (and
        # its nonces) can have a lower nonce than its lost transaction
        newest = max(txs, key=lambda t: t.id) if txs else None
        receipt = newest.receipt if newest is not None else None
        if receipt is None or receipt.status != 1:
            problems.append(InputProblem(
                "the consignment's batch has no successful anchoring transaction yet; run the "
                "anchoring to completion first", shipment_id=example[batch_id]))
            continue
        out[batch_id] = Anchoring(batch.chain_id, batch.contract.lower(), batch.exporter.lower(),
                                  batch.path, batch.batch_key, batch.factor_set_id,
                                  receipt.tx_hash, receipt.block_number)
    return out
