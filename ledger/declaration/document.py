"""The declaration dataset: lines, totals, threshold and forecast as JSON (docs/declaration.md).

:func:`declaration_subject` is a pure function of the consignments (in the order given), where
they are anchored, the pinned tables and the options: the issuer builds it from the store and
the verifier rebuilds it from the signed file, then compares the two whole. Amounts are integers
of grams and cents with decimal-string renderings in tonnes and euros; nothing is a float.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np

from ledger.declaration.compute import (
    LineFigures,
    LineKey,
    QuarterFigures,
    aggregate_fast,
    aggregate_simple,
    certificates,
)
from ledger.declaration.consignments import Anchoring, ConsignmentRow
from ledger.declaration.options import THRESHOLD_T, DeclarationOptions
from ledger.declaration.periods import line_periods, periods_key
from ledger.declaration.resolve import Resolved, Resolver
from ledger.declaration.tables import WEEKLY_FROM, DeclarationTables, Price, pricing_period
from ledger.errors import InputError, InputProblem
from ledger.factors.cbam_defaults import spaced
from ledger.factors.factorset import FactorSet

__all__ = [
    "DECLARATION_TYPE",
    "ENTRY_MEMBERS",
    "EXCLUDED_FROM_THRESHOLD",
    "Columns",
    "Entry",
    "declaration_subject",
    "declaration_subject_columns",
    "declaration_subject_places",
    "tonnes",
]

DECLARATION_TYPE = "CbamAnnualDeclaration"
#: Sectors whose net mass the 50 t threshold leaves out (Reg. (EU) 2025/2083, Art. 2a).
EXCLUDED_FROM_THRESHOLD = frozenset({"electricity", "hydrogen"})
# cn_code, country, method, route_text, default_ref: the fields Resolver.resolve keys on
_RESOLVE_FIELDS = itemgetter(5, 7, 12, 10, 16)
_SECTOR = itemgetter(6)
_ROW = itemgetter(0)
_MASS = itemgetter(14)


class Entry(NamedTuple):
    """A consignment of a declaration: what its record says, its leaf and its batch (a named
    tuple: one is built per consignment, a million at a time)."""

    row: ConsignmentRow
    record_hash: str
    co2e_wtw_g: int
    co2e_ttw_g: int
    anchor: int
    record: Any = None

    def to_dict(self) -> dict[str, Any]:
        row = self.row
        assert row.import_date is not None
        out: dict[str, Any] = {
            "shipmentId": row.shipment_id, "exporter": row.exporter,
            "recordHash": self.record_hash, "co2eWtwG": self.co2e_wtw_g,
            "co2eTtwG": self.co2e_ttw_g, "anchor": self.anchor,
            "importDate": row.import_date.isoformat(), "netMassG": row.net_mass_g,
            "embeddedEmissionsG": row.embedded_g,
        }
        if row.supplier_document is not None:
            out["supplierDocument"] = supplier_document_json(row.supplier_document)
        if self.record is not None:
            out["record"] = self.record
        return out


class Columns(NamedTuple):
    """The consignments of a declaration column by column, in the order of the document (what
    the fast path reads from the declaration index): each consignment's shipment id, record
    hash, WTW and TTW grams, anchor, customs release date (ISO text), net mass and embedded
    grams, and its profile: an index into ``profiles``, one row per profile whose fields other
    than the shipment id, date, mass and embedded emissions are those of its consignments."""

    shipment_ids: list[str]
    record_hashes: list[str]
    co2e_wtw_g: np.ndarray
    co2e_ttw_g: np.ndarray
    anchors: np.ndarray
    release_dates: list[str]
    net_mass_g: np.ndarray
    embedded_g: np.ndarray
    profile: np.ndarray
    profiles: list[ConsignmentRow]
    #: each consignment's record as the document embeds it (``None``: none embeds one)
    records: list[Any] | None = None

    def entry_values(self) -> tuple[list[Any] | np.ndarray, ...]:
        """The values of the consignments' entries of the document, member by member in the
        order of :data:`ENTRY_MEMBERS`: the text members as lists, the integer ones as int64
        arrays (what each entry is built from, and what a verifier compares the signed entries
        with)."""
        exporters = [p.exporter for p in self.profiles]
        iso = {text: date.fromisoformat(text).isoformat() for text in set(self.release_dates)}
        return (self.shipment_ids, list(map(exporters.__getitem__, self.profile.tolist())),
                self.record_hashes, self.co2e_wtw_g, self.co2e_ttw_g, self.anchors,
                list(map(iso.__getitem__, self.release_dates)), self.net_mass_g,
                self.embedded_g)

    def entries(self) -> list[Entry]:
        """The consignments as :class:`Entry` objects (one row each)."""
        days = {text: date.fromisoformat(text) for text in set(self.release_dates)}
        make = tuple.__new__
        rows = [make(ConsignmentRow, (sid, p.exporter, p.declarant, days[text], *p[4:14],
                                      mass, embedded, *p[16:]))
                for sid, p, text, mass, embedded in zip(
                    self.shipment_ids, map(self.profiles.__getitem__, self.profile.tolist()),
                    self.release_dates, self.net_mass_g.tolist(), self.embedded_g.tolist(),
                    strict=True)]
        return list(map(make, repeat(Entry), zip(
            rows, self.record_hashes, self.co2e_wtw_g.tolist(), self.co2e_ttw_g.tolist(),
            self.anchors.tolist(), repeat(None) if self.records is None else self.records,
            strict=False)))


def supplier_document_json(document: Mapping[str, Any]) -> dict[str, Any]:
    """A record's ``supplier_document`` in the declaration's key style (camelCase)."""
    period = document.get("reporting_period") or {}
    out = {"fileName": document.get("file_name"), "sha256": document.get("sha256"),
           "installationId": document.get("installation_id"),
           "reportingPeriod": {"start": period.get("start"), "end": period.get("end")}}
    if document.get("template_version") is not None:
        out["templateVersion"] = document.get("template_version")
    return out


def _consignments(entries: Sequence[Entry], members: Sequence[int]) -> list[dict[str, Any]]:
    """``[entries[i].to_dict() for i in members]``, each date written once."""
    days: dict[Any, str] = {}
    out = []
    for i in members:
        entry = entries[i]
        if entry.record is not None:
            out.append(entry.to_dict())
            continue
        row = entry.row
        day = row.import_date
        text = days.get(day)
        if text is None:
            assert day is not None
            text = days[day] = day.isoformat()
        item = {"shipmentId": row.shipment_id, "exporter": row.exporter,
                "recordHash": entry.record_hash, "co2eWtwG": entry.co2e_wtw_g,
                "co2eTtwG": entry.co2e_ttw_g, "anchor": entry.anchor, "importDate": text,
                "netMassG": row.net_mass_g, "embeddedEmissionsG": row.embedded_g}
        if row.supplier_document is not None:
            item["supplierDocument"] = supplier_document_json(row.supplier_document)
        out.append(item)
    return out


def tonnes(grams: int) -> str:
    """Grams as a decimal string of tonnes (6 places, trailing zeros kept)."""
    sign = "-" if grams < 0 else ""
    whole, frac = divmod(abs(grams), 1_000_000)
    return f"{sign}{whole}.{frac:06d}"


def euros(cents: int) -> str:
    whole, frac = divmod(cents, 100)
    return f"{whole}.{frac:02d}"


def _percent(pct_u: int) -> str:
    whole, frac = divmod(pct_u, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _problems(entries: Sequence[Entry], resolver: Resolver, year: int
              ) -> tuple[list[Resolved], list[InputProblem]]:
    """Each entry's resolution, resolved once per distinct set of the fields that decide it
    (:meth:`Resolver.resolve`), or every entry that cannot be resolved."""
    keys = list(map(_RESOLVE_FIELDS, map(_ROW, entries)))
    first = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    seen = {key: resolver.resolve(entries[i].row, year) for key, i in first.items()}
    if not any(isinstance(found, tuple) for found in seen.values()):
        return list(map(seen.__getitem__, keys)), []  # type: ignore[arg-type]
    resolved: list[Resolved] = []
    problems: list[InputProblem] = []
    for entry, key in zip(entries, keys, strict=True):
        found = seen[key]
        if isinstance(found, tuple):
            problems.append(InputProblem(found[1], shipment_id=entry.row.shipment_id,
                                         field=found[0]))
        else:
            resolved.append(found)
    return resolved, problems


def _claims(options: DeclarationOptions, lines: Sequence[LineFigures],
            firsts: Sequence[ConsignmentRow]) -> tuple[dict[str, Decimal], list[InputProblem]]:
    problems: list[InputProblem] = []
    by_installation = {c.installation_id: c for c in options.carbon_price_claims}
    for number, claim in enumerate(options.carbon_price_claims, start=1):
        mine = [n for n, ln in enumerate(lines) if ln.key.installation_id == claim.installation_id]
        if not mine:
            problems.append(InputProblem(
                f"carbon price claim {number} names installation {claim.installation_id!r}, "
                "which no line of this declaration has", field="carbon_price_claims"))
        elif any(firsts[n].method == "default" for n in mine):
            problems.append(InputProblem(
                f"carbon price claim {number} ({claim.installation_id}) is for goods declared on "
                "default values: a carbon price paid is deducted only from actual embedded "
                "emissions", field="carbon_price_claims"))
    applied = {k: c.effective_eur_per_t for k, c in by_installation.items()} \
        if options.deduction_act is not None else {}
    return applied, problems


def declaration_subject(
    entries: Sequence[Entry], anchors: Sequence[Anchoring], *, declarant: str, year: int,
    factor_set: FactorSet, options: DeclarationOptions, consignment_factor_set_id: str,
    proofs: Callable[[int, list[int]], list[dict[str, Any]]], fast: bool = True,
) -> dict[str, Any]:
    """The declaration's ``credentialSubject`` (see the module docstring); ``proofs(number,
    members)`` gives the multiproofs of a line (its index and its entries' indices).
    ``InputError`` names every consignment or claim that cannot be declared, before anything
    is signed."""
    tables = DeclarationTables(factor_set)
    resolver = Resolver(factor_set, tables)
    resolved, problems = _problems(entries, resolver, year)
    factor = tables.cbam_factor(year)
    if isinstance(factor, str):
        problems.append(InputProblem(factor, field="year"))
    rows = [e.row for e in entries]
    if problems:
        raise InputError(problems)
    assert not isinstance(factor, str)
    lines = (aggregate_fast if fast else aggregate_simple)(rows, resolved)
    periods = [line_periods(line, rows, year) for line in lines]
    total = sum(map(_MASS, rows))
    counted = total if EXCLUDED_FROM_THRESHOLD.isdisjoint(map(_SECTOR, rows)) else sum(
        r.net_mass_g for r in rows if r.sector not in EXCLUDED_FROM_THRESHOLD)
    return _document(
        lines, periods, [rows[line.members[0]] for line in lines],
        consignments=lambda n: _consignments(entries, lines[n].members),
        documents=lambda n: _documents(rows, lines[n].members),
        count=len(rows), total=total, counted=counted, anchors=anchors, declarant=declarant,
        year=year, factor_set=factor_set, tables=tables, factor=factor, options=options,
        consignment_factor_set_id=consignment_factor_set_id, proofs=proofs)


def declaration_subject_columns(
    columns: Columns, anchors: Sequence[Anchoring], *, declarant: str, year: int,
    factor_set: FactorSet, options: DeclarationOptions, consignment_factor_set_id: str,
    proofs: Callable[[int, list[int]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """:func:`declaration_subject` of the consignments ``columns`` (the same dataset): each
    profile resolved once, lines and sums per price period with numpy, each consignment's
    entry of the document built from the columns. Amounts that could leave int64 take
    :func:`declaration_subject` on :meth:`Columns.entries`."""
    subject = _subject_columns(columns, anchors, declarant=declarant, year=year,
                               factor_set=factor_set, options=options,
                               consignment_factor_set_id=consignment_factor_set_id,
                               proofs=proofs, entries=True)
    assert subject is not None  # entries=True always gives one
    return subject


def declaration_subject_places(
    columns: Columns, anchors: Sequence[Anchoring], *, declarant: str, year: int,
    factor_set: FactorSet, options: DeclarationOptions, consignment_factor_set_id: str,
    proofs: Callable[[int, list[int]], list[dict[str, Any]]],
) -> dict[str, Any] | None:
    """:func:`declaration_subject_columns` without the consignments' entries: each line's
    ``consignments`` is the list of its consignments' places in ``columns`` (a verifier
    compares the signed entries with the columns themselves, :mod:`ledger.verify.declaration`).
    ``None`` where an entry would carry more than its nine values (an embedded record, a
    supplier document) or the amounts take the row path (:func:`declaration_subject_columns`
    then builds the entries)."""
    return _subject_columns(columns, anchors, declarant=declarant, year=year,
                            factor_set=factor_set, options=options,
                            consignment_factor_set_id=consignment_factor_set_id, proofs=proofs,
                            entries=False)


def _subject_columns(
    columns: Columns, anchors: Sequence[Anchoring], *, declarant: str, year: int,
    factor_set: FactorSet, options: DeclarationOptions, consignment_factor_set_id: str,
    proofs: Callable[[int, list[int]], list[dict[str, Any]]], entries: bool,
) -> dict[str, Any] | None:
    """:func:`declaration_subject_columns` (``entries``) or :func:`declaration_subject_places`."""
    count = len(columns.shipment_ids)
    profile = columns.profile
    mass = columns.net_mass_g
    embedded = columns.embedded_g
    tables = DeclarationTables(factor_set)
    resolver = Resolver(factor_set, tables)
    found = [resolver.resolve(row, year) for row in columns.profiles]
    problems: list[InputProblem] = []
    if any(isinstance(f, tuple) for f in found):
        for sid, index in zip(columns.shipment_ids, profile.tolist(), strict=True):
            failed = found[index]
            if isinstance(failed, tuple):
                problems.append(InputProblem(failed[1], shipment_id=sid, field=failed[0]))
    factor = tables.cbam_factor(year)
    if isinstance(factor, str):
        problems.append(InputProblem(factor, field="year"))
    if problems:
        raise InputError(problems)
    assert not isinstance(factor, str)
    resolved: list[Resolved] = found  # type: ignore[assignment]
    marked = np.array([r.default_marked_e8 or 0 for r in resolved], dtype=np.int64)
    largest = int(mass.max()) * int(marked.max()) if count else 0
    if count == 0 or int(mass.min()) < 0 or int(embedded.min()) < 0 or largest >= 2**62 \
            or max(int(mass.max()), int(embedded.max()), largest // 10**8 + 1) * count >= 2**62:
        if not entries:
            return None
        return declaration_subject(
            columns.entries(), anchors, declarant=declarant, year=year, factor_set=factor_set,
            options=options, consignment_factor_set_id=consignment_factor_set_id,
            proofs=proofs)
    # lines: one per distinct key, in key order; each profile is in one line
    keys = [LineKey(p.cn_code, p.country, p.installation_id, p.data_type, p.verifier, r.route)
            for p, r in zip(columns.profiles, resolved, strict=True)]
    line_keys = sorted(set(keys))
    number = {key: n for n, key in enumerate(line_keys)}
    line_of = np.array([number[k] for k in keys], dtype=np.int64)[profile]
    by_line = np.argsort(line_of, kind="stable")
    bounds = np.searchsorted(line_of[by_line], np.arange(len(line_keys) + 1)).tolist()
    members = [by_line[bounds[n]:bounds[n + 1]] for n in range(len(line_keys))]
    # price periods: one per distinct release date
    texts = sorted(set(columns.release_dates))
    day_of = {text: n for n, text in enumerate(texts)}
    days = [date.fromisoformat(text) for text in texts]
    period_names = sorted({pricing_period(day, year) for day in days})
    period_of_day = np.array([period_names.index(pricing_period(day, year)) for day in days],
                             dtype=np.int64)
    day = np.fromiter(map(day_of.__getitem__, columns.release_dates), dtype=np.int64,
                      count=count)
    is_default = np.array([p.method == "default" for p in columns.profiles], dtype=np.bool_)
    firsts = [columns.profiles[int(profile[m[0]])] for m in members]
    lines = [LineFigures(key, resolved[int(profile[m[0]])], m.tolist())
             for key, m in zip(line_keys, members, strict=True)]
    # the default-value counterfactual of each consignment: with its own resolution in the
    # quarters (compute.aggregate_fast), with its line's in the weeks (periods.line_periods)
    marked_of = marked[profile] if year < WEEKLY_FROM else np.array(
        [line.resolved.default_marked_e8 or 0 for line in lines], dtype=np.int64)[line_of]
    default_emb = np.where(is_default[profile], embedded,
                           (mass * marked_of + 50_000_000) // 100_000_000)
    group = line_of * len(period_names) + period_of_day[day]
    order = np.argsort(group, kind="stable")
    ordered = group[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sums = [np.add.reduceat(a[order], starts).tolist() for a in (mass, embedded, default_emb)]
    counts = np.diff(np.r_[starts, count]).tolist()
    periods: list[dict[str, QuarterFigures]] = [{} for _ in line_keys]
    for j, g in enumerate(ordered[starts].tolist()):
        periods[g // len(period_names)][period_names[g % len(period_names)]] = QuarterFigures(
            sums[0][j], sums[1][j], sums[2][j], counts[j])
    documents = [p.supplier_document for p in columns.profiles]
    if entries:
        items: list[dict[str, Any]] | None = _items(columns, documents)
    elif any(d is not None for d in documents) or (
            columns.records is not None and any(r is not None for r in columns.records)):
        return None
    else:
        items = None
    # each line's profiles in the order its consignments first name them
    present, first_at = np.unique(profile, return_index=True)
    line_profiles: list[list[int]] = [[] for _ in line_keys]
    for index in present[np.argsort(first_at)].tolist():
        line_profiles[number[keys[index]]].append(index)

    def line_documents(n: int) -> dict[str, Any]:
        found_documents: dict[str, dict[str, Any]] = {}
        for index in line_profiles[n]:
            document = documents[index]
            if document is not None:
                found_documents.setdefault(str(document.get("sha256")),
                                           supplier_document_json(document))
        if not found_documents:
            return {}
        return {"supplierDocuments": [found_documents[k] for k in sorted(found_documents)]}

    total = int(mass.sum())
    sectors = np.array([p.sector not in EXCLUDED_FROM_THRESHOLD for p in columns.profiles],
                       dtype=np.bool_)
    counted = int(mass[sectors[profile]].sum())
    return _document(
        lines, periods, firsts,
        consignments=lambda n: lines[n].members if items is None
        else _picked(items, lines[n].members), documents=line_documents,
        count=count, total=total, counted=counted, anchors=anchors, declarant=declarant,
        year=year, factor_set=factor_set, tables=tables, factor=factor, options=options,
        consignment_factor_set_id=consignment_factor_set_id, proofs=proofs)


def _items(columns: Columns, documents: Sequence[Mapping[str, Any] | None]
           ) -> list[dict[str, Any]]:
    """Each consignment's entry of the document, from the columns (``documents``: each
    profile's supplier document)."""
    items = list(map(_item, *(v.tolist() if isinstance(v, np.ndarray) else v
                              for v in columns.entry_values())))
    if len(items) != len(columns.shipment_ids):
        raise ValueError("the declaration's columns differ in length")
    if columns.records is not None:
        for item, record in zip(items, columns.records, strict=True):
            if record is not None:
                item["record"] = record
    if any(d is not None for d in documents):
        for item, index in zip(items, columns.profile.tolist(), strict=True):
            document = documents[index]
            if document is not None:
                item["supplierDocument"] = supplier_document_json(document)
    return items


#: The members of a consignment's entry of the document (:meth:`Entry.to_dict`) that names no
#: supplier document and embeds no record, in the order :func:`_item` takes their values.
ENTRY_MEMBERS = ("shipmentId", "exporter", "recordHash", "co2eWtwG", "co2eTtwG", "anchor",
                 "importDate", "netMassG", "embeddedEmissionsG")


def _item(  # noqa: PLR0917 - mapped over the columns, one value of each
        shipment_id: str, exporter: str, record_hash: str, wtw_g: int, ttw_g: int,
        anchor: int, import_date: str, mass_g: int, embedded_g: int) -> dict[str, Any]:
    """A consignment's entry of the document (:meth:`Entry.to_dict`) from its values (in the
    order of :data:`ENTRY_MEMBERS`)."""
    return {"shipmentId": shipment_id, "exporter": exporter, "recordHash": record_hash,
            "co2eWtwG": wtw_g, "co2eTtwG": ttw_g, "anchor": anchor, "importDate": import_date,
            "netMassG": mass_g, "embeddedEmissionsG": embedded_g}


def _picked(items: Sequence[Any], order: Sequence[int]) -> list[Any]:
    """``[items[i] for i in order]``, in C."""
    if not order:
        return []
    return [items[order[0]]] if len(order) == 1 else list(itemgetter(*order)(items))


def _document(
    lines: Sequence[LineFigures], periods: Sequence[Mapping[str, QuarterFigures]],
    firsts: Sequence[ConsignmentRow], *,
    consignments: Callable[[int], list[Any]],
    documents: Callable[[int], dict[str, Any]], count: int, total: int, counted: int,
    anchors: Sequence[Anchoring], declarant: str, year: int, factor_set: FactorSet,
    tables: DeclarationTables, factor: tuple[int, str], options: DeclarationOptions,
    consignment_factor_set_id: str, proofs: Callable[[int, list[int]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """The dataset from its lines (summed per price period; ``firsts``: each line's first
    consignment; ``consignments(n)`` and ``documents(n)``: the entries and supplier documents
    of line ``n``), whichever way they were summed."""
    problems: list[InputProblem] = []
    prices: dict[str, Price] = {}
    for period in sorted({p for figures in periods for p in figures}):
        price = tables.price(period, options.price_estimates)
        if isinstance(price, str):
            problems.append(InputProblem(price, field="price"))
        else:
            prices[period] = price
    applied, claim_problems = _claims(options, lines, firsts)
    problems += claim_problems
    if problems:
        raise InputError(problems)
    out_lines = [_line(n, line, first=firsts[n], consignments=consignments(n),
                       documents=documents(n), factor_pct_u=factor[0],
                       prices=prices, applied=applied, options=options,
                       proofs=proofs(n, line.members), periods=periods[n],
                       periods_key=periods_key(year)) for n, line in enumerate(lines)]
    return _subject(out_lines, anchors, count=count, total=total, counted=counted,
                    declarant=declarant, year=year, factor_set=factor_set, tables=tables,
                    factor=factor, prices=prices, options=options,
                    consignment_factor_set_id=consignment_factor_set_id)


def _line(number: int, line: LineFigures, *, first: ConsignmentRow,
          consignments: list[Any], documents: dict[str, Any], factor_pct_u: int,
          prices: Mapping[str, Price],
          applied: Mapping[str, Decimal], options: DeclarationOptions,
          proofs: list[dict[str, Any]], periods: Mapping[str, QuarterFigures],
          periods_key: str) -> dict[str, Any]:
    res = line.resolved
    deduction = applied.get(line.key.installation_id)
    per_quarter = []
    totals = {"mass": 0, "emb": 0, "faa": 0, "ded": 0, "cert": 0, "cost": 0, "dcost": 0}
    default_known = res.default_benchmark is not None and (
        first.method == "default" or res.default_marked_e8 is not None)
    for period in sorted(periods):
        f = periods[period]
        price = prices[period]
        c = certificates(f.mass_g, f.embedded_g, bench_u=res.benchmark.value_u,
                         factor_pct_u=factor_pct_u, price_cents=price.cents,
                         deduction_eur_per_t=deduction)
        d = certificates(f.mass_g, f.default_embedded_g,
                         bench_u=res.default_benchmark.value_u if res.default_benchmark else 0,
                         factor_pct_u=factor_pct_u, price_cents=price.cents) \
            if default_known else None
        per_quarter.append({
            "period": price.period, "consignments": f.consignments, "netMassG": f.mass_g,
            "embeddedEmissionsG": f.embedded_g, "freeAllocationAdjustmentG": c.faa_g,
            "carbonPriceDeductionG": c.deduction_g, "certificatesG": c.certificates_g,
            "priceEur": price.to_dict()["priceEur"], "costCents": c.cost_cents,
            "onDefaultValues": None if d is None else {
                "embeddedEmissionsG": f.default_embedded_g, "certificatesG": d.certificates_g,
                "costCents": d.cost_cents},
        })
        for name, value in (("mass", f.mass_g), ("emb", f.embedded_g), ("faa", c.faa_g),
                            ("ded", c.deduction_g), ("cert", c.certificates_g),
                            ("cost", c.cost_cents), ("dcost", d.cost_cents if d else 0)):
            totals[name] += value
    claim = next((c for c in options.carbon_price_claims
                  if c.installation_id == line.key.installation_id), None)
    return {
        "lineId": number + 1,
        "cnCode": spaced(line.key.cn_code), "originCountry": line.key.country,
        "sector": first.sector,
        "installation": {"installationId": line.key.installation_id or None,
                         "operator": first.operator or None,
                         "productionRoute": first.route_text or None},
        "dataType": line.key.data_type, "method": first.method,
        "verifier": line.key.verifier or None,
        "defaultValue": None if first.method != "default" else {
            "source": res.default_ref, "specificEmbeddedTPerT": first.specific_direct,
            "markupYear": first.markup_year},
        "benchmark": {"column": res.benchmark.column, "route": res.benchmark.route or None,
                      "valueTPerT": _plain_u(res.benchmark.value_u),
                      "source": res.benchmark.ref},
        "netMassG": totals["mass"], "netMassT": tonnes(totals["mass"]),
        "embeddedEmissionsG": totals["emb"], "embeddedEmissionsT": tonnes(totals["emb"]),
        "freeAllocationAdjustmentG": totals["faa"],
        "carbonPriceDeductionG": totals["ded"],
        "certificatesG": totals["cert"], "certificatesT": tonnes(totals["cert"]),
        "costCents": totals["cost"], "costEur": euros(totals["cost"]),
        "costOnDefaultValuesCents": totals["dcost"] if default_known else None,
        periods_key: per_quarter,
        "carbonPricePaid": None if claim is None else {
            "evidence": claim.to_dict(), "applied": deduction is not None},
        "consignments": consignments,
        "proofs": proofs,
        **documents,
    }


def _documents(rows: Sequence[ConsignmentRow], members: Sequence[int]) -> dict[str, Any]:
    """The supplier documents of a line's consignments, each once (none: no key, so that
    declarations of records without one are unchanged)."""
    found: dict[str, dict[str, Any]] = {}
    for i in members:
        document = rows[i].supplier_document
        if document is not None:
            found.setdefault(str(document.get("sha256")), supplier_document_json(document))
    if not found:
        return {}
    return {"supplierDocuments": [found[k] for k in sorted(found)]}


def _plain_u(value_u: int) -> str:
    whole, frac = divmod(value_u, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _subject(out_lines: list[dict[str, Any]], anchors: Sequence[Anchoring], *, count: int,
             total: int, counted: int, declarant: str, year: int, factor_set: FactorSet,
             tables: DeclarationTables, factor: tuple[int, str], prices: Mapping[str, Price],
             options: DeclarationOptions, consignment_factor_set_id: str) -> dict[str, Any]:
    threshold_g = int(THRESHOLD_T * 1_000_000)
    warning_g = int(options.warning_level_t * 1_000_000)
    liable = counted > threshold_g
    cert = sum(int(ln["certificatesG"]) for ln in out_lines)
    cost = sum(int(ln["costCents"]) for ln in out_lines)
    default_known = all(ln["costOnDefaultValuesCents"] is not None for ln in out_lines)
    default_cost = sum(int(ln["costOnDefaultValuesCents"] or 0) for ln in out_lines)
    by_cn: dict[tuple[str, str], list[int]] = {}
    for ln in out_lines:
        slot = by_cn.setdefault((ln["cnCode"], ln["originCountry"]), [0, 0, 0, 0])
        for i, name in enumerate(("netMassG", "embeddedEmissionsG", "certificatesG",
                                  "costCents")):
            slot[i] += int(ln[name])
    return {
        "type": DECLARATION_TYPE,
        "regulation": ("Regulation (EU) 2023/956 as amended by Regulation (EU) 2025/2083, "
                       "Art. 6; Implementing Regulations (EU) 2025/2547, 2025/2548, 2025/2620, "
                       "2025/2621 (as corrected by 2026/1740)"),
        "declarant": {"eori": declarant},
        "reportingPeriod": {"year": year, "firstDay": f"{year}-01-01",
                            "lastDay": f"{year}-12-31"},
        "factorSet": {"id": factor_set.id, "uri": factor_set.uri, "name": factor_set.name,
                      "consignmentFactorSetId": consignment_factor_set_id,
                      "declarationTables": tables.describe()},
        "options": options.to_dict(),
        "cbamFactor": {"year": year, "percent": _percent(factor[0]), "source": factor[1]},
        "prices": [prices[q].to_dict() for q in sorted(prices)],
        "containsEstimates": any(p.estimate for p in prices.values()),
        "anchors": [a.to_dict() for a in anchors],
        "lines": out_lines,
        "byCnCode": [{"cnCode": cn, "originCountry": c, "netMassT": tonnes(v[0]),
                      "embeddedEmissionsT": tonnes(v[1]), "certificatesT": tonnes(v[2]),
                      "costEur": euros(v[3])} for (cn, c), v in sorted(by_cn.items())],
        "threshold": {
            "netMassG": counted, "netMassT": tonnes(counted),
            "thresholdT": str(THRESHOLD_T), "warningLevelT": str(options.warning_level_t),
            "warning": counted >= warning_g, "liable": liable,
            "excludedSectors": sorted(EXCLUDED_FROM_THRESHOLD),
        },
        "totals": {
            "lines": len(out_lines), "consignments": count,
            "netMassT": tonnes(total),
            "embeddedEmissionsG": sum(int(ln["embeddedEmissionsG"]) for ln in out_lines),
            "freeAllocationAdjustmentG": sum(int(ln["freeAllocationAdjustmentG"])
                                             for ln in out_lines),
            "carbonPriceDeductionG": sum(int(ln["carbonPriceDeductionG"]) for ln in out_lines),
            "certificatesG": cert, "certificatesT": tonnes(cert),
            "certificatesToSurrender": -(-cert // 1_000_000) if liable else 0,
            "costCents": cost if liable else 0, "costEur": euros(cost if liable else 0),
            "costIfLiableEur": euros(cost),
        },
        "forecast": {
            "costOnDeclaredValuesEur": euros(cost),
            "costOnDefaultValuesEur": euros(default_cost) if default_known else None,
            "savingFromActualValuesEur": (euros(default_cost - cost)
                                          if default_known and default_cost >= cost else
                                          None if not default_known else
                                          "-" + euros(cost - default_cost)),
        },
        "transportEmissionsIncluded": False,
    }
