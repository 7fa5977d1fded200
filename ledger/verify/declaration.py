"""Verifying a CBAM declaration with the file, the chain, and (for large ones) the store.

Checks, in order (a :class:`~ledger.verify.verdict.Verdict` like a report's):

- ``format``: a signed VC whose subject is a ``CbamAnnualDeclaration`` with lines and anchors;
- ``signature``: the EIP-712 signature recovers the issuer's address;
- ``chain_id``: the node serves the chain the declaration is signed for;
- ``factor_set``: the pinned factor set is the shipped declaration factor set, its tables have
  the digests the file names, and the consignments' factor set is its consignment part;
- ``record_hash``: each consignment's canonical record (embedded, or read from ``records``) hashes
  to its record hash, and says what the consignment states (declarant, year, figures);
- ``recompute``: each record's CBAM embedded emissions follow from its inputs and the factor set,
  and the whole dataset rebuilt from the consignments (lines, quarters, benchmarks, CBAM factor,
  prices, free-allocation adjustment, deductions, certificates, cost, threshold, forecast,
  totals) equals the signed one, leaf for leaf;
- ``merkle_proof``: every consignment of a root-anchored batch is covered once by a multiproof
  of its line that leads to the batch's root;
- ``anchor``: each root was anchored by its exporter (events path: the transaction's events
  carry the record hashes); ``status``: no record was revoked or superseded;
- ``confirmations``: each anchoring block is deep enough.

A large declaration (``docs/declaration.md``, "Scale") is checked column by column: its records
are read once into compact columns (:mod:`ledger.verify.declaration_records`), the embedded
emissions recomputed once per profile and day, the dataset rebuilt by the column path the
issuer's compute takes (:func:`~ledger.declaration.document.declaration_subject_columns`;
``fast=False`` rebuilds it row by row, the tests' oracle), and, where the signed subject writes
as the rebuilt one, those canonical bytes are hashed for the signature instead of the subject
being written again. A forked side process reads a share of the records and checks the
multiproofs meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import orjson

from ledger.declaration.build import base_factor_set_id, declaration_factor_set
from ledger.declaration.consignments import Anchoring, ConsignmentRow
from ledger.declaration.document import (
    DECLARATION_TYPE,
    ENTRY_MEMBERS,
    Columns,
    Entry,
    declaration_subject,
    declaration_subject_columns,
    declaration_subject_places,
)
from ledger.declaration.multiproof import process_multiproof
from ledger.declaration.options import DeclarationOptions, claim_from_dict
from ledger.errors import LedgerError, VerificationError
from ledger.factors.cbam import embedded_emissions, normalise_cn
from ledger.factors.factorset import FactorSet
from ledger.factors.tables import scaled_int
from ledger.records.canonical import (
    MAX_SAFE_INTEGER,
    canonical_json_is,
    chain_shipment_id_function,
    chain_shipment_ids,
    plain_json_types,
)
from ledger.records.chunks import paused_gc
from ledger.records.keccak import keccak256
from ledger.records.merkle import leaf_hashes
from ledger.reports import vc
from ledger.types import Bytes32
from ledger.verify.declaration_records import (
    FileRows,
    Inputs,
    ReadRows,
    Subject,
    file_rows,
    lookups_hold,
    read_records,
    side_records,
)
from ledger.verify.document_hashes import (
    DocumentHashes,
    built_subject_bytes,
    built_subject_digest,
    document_hashes,
    recover_issuer,
)
from ledger.verify.reader import Reader
from ledger.verify.side import SideJob, can_fork
from ledger.verify.verdict import FAIL, NOT_APPLICABLE, PASS, SKIPPED, Check, CheckFailed, Verdict

if TYPE_CHECKING:
    from ledger.config import ChainSettings
    from ledger.store.store import LedgerStore

__all__ = [
    "DECLARATION_CHECKS",
    "SIDE_PROCESS_MINIMUM",
    "attest_declaration_on_chain",
    "is_declaration",
    "verify_declaration",
    "verify_declaration_on_chain",
]

DECLARATION_CHECKS = ("format", "signature", "chain_id", "factor_set", "record_hash",
                      "recompute", "merkle_proof", "anchor", "status", "confirmations")


def is_declaration(document: Any) -> bool:
    types = document.get("type") if isinstance(document, Mapping) else None
    return isinstance(types, list) and DECLARATION_TYPE in types


#: What a check's failure on malformed input raises besides ``CheckFailed``
_CHECK_ERRORS = (LedgerError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError,
                 IndexError)


def _outcome(fn: Callable[[], tuple[str, str]]) -> tuple[str, str]:
    """A check's (status, detail): what it returns, or the failure it raises."""
    try:
        return fn()
    except CheckFailed as exc:
        return FAIL, str(exc)
    except _CHECK_ERRORS as exc:
        return FAIL, f"{type(exc).__name__}: {exc}"


def _run(verdict: Verdict, name: str, fn: Callable[[], tuple[str, str]]) -> bool:
    status, detail = _outcome(fn)
    verdict.checks.append(Check(name, status, detail))
    return status in (PASS, NOT_APPLICABLE)


def _skip(verdict: Verdict, names: tuple[str, ...], why: str) -> None:
    done = {c.name for c in verdict.checks}
    for name in names:
        if name not in done:
            verdict.checks.append(Check(name, SKIPPED, f"not checked: {why}"))


class _Parsed:
    """What the checks share: the subject, anchors, consignments in file order."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        if not is_declaration(document):
            raise CheckFailed("not a CBAM declaration (type CbamAnnualDeclaration)")
        self.document = document
        self.subject: Mapping[str, Any] = document["credentialSubject"]
        if self.subject.get("type") != DECLARATION_TYPE:
            raise CheckFailed("credentialSubject.type is not CbamAnnualDeclaration")
        self.anchors = [_anchoring(a) for a in self.subject["anchors"]]
        self.lines: list[Mapping[str, Any]] = list(self.subject["lines"])
        self.consignments = [c for line in self.lines for c in line["consignments"]]
        domain = vc.eip712_proof(document)["eip712"]["domain"]
        self.chain_id = int(domain["chainId"])
        self.contract = str(domain["verifyingContract"]).lower()
        self.year = int(self.subject["reportingPeriod"]["year"])
        self.declarant = str(self.subject["declarant"]["eori"])
        #: the consignments' records as read, in file order (once ``record_hash`` passes)
        self.rows: FileRows | None = None
        #: keccak-256 of the canonical document (``vc.report_hash``), when it has one
        self.document_hash: bytes | None = None
        #: the digest of the canonical subject (:func:`subject_digest`), when it has one
        self.subject_digest: bytes | None = None
        #: the entries member by member (:func:`_signed_columns`), once taken
        self.entry_columns: list[list[Any]] | None = None
        self.entry_columns_taken = False


def _anchoring(a: Mapping[str, Any]) -> Anchoring:
    path = str(a["path"])
    return Anchoring(int(a["chainId"]), str(a["contract"]), str(a["exporter"]), path,
                     str(a["merkleRoot"] if path == "root" else a["batchId"]),
                     str(a["factorSetId"]), str(a["transactionHash"]), int(a["blockNumber"]))


def _check_signature(p: _Parsed, hashes: DocumentHashes) -> tuple[str, str]:
    recovered = recover_issuer(p.document, hashes)
    chain, issuer = vc.address_from_did(str(p.document["issuer"]))
    if recovered != issuer:
        raise CheckFailed(f"signed by {recovered}, not by the issuer {issuer}")
    if chain != p.chain_id:
        raise CheckFailed(f"the issuer DID names chain {chain}, the signature chain {p.chain_id}")
    return PASS, f"signed by the declarant's key {issuer}"


def _check_factor_set(p: _Parsed, factor_set: FactorSet) -> tuple[str, str]:
    named = p.subject["factorSet"]
    if named["id"] != factor_set.id:
        raise CheckFailed(f"the declaration pins factor set {named['id']}, the shipped "
                          f"declaration factor set is {factor_set.id}")
    base = base_factor_set_id(factor_set)
    if named["consignmentFactorSetId"] not in (base, factor_set.id):
        raise CheckFailed("the consignments' factor set is not the consignment part of the "
                          "declaration's factor set")
    wrong = [a.batch_key for a in p.anchors if a.factor_set_id != named["consignmentFactorSetId"]]
    if wrong:
        raise CheckFailed(f"batch {wrong[0]} names another factor set than the declaration")
    return PASS, f"{factor_set.name} ({factor_set.id})"


class _SideFindings(NamedTuple):
    """What the side process checks (:mod:`ledger.verify.side`) besides the records it reads
    (posted before: :class:`ReadRows`): the multiproofs' outcome."""

    proofs: tuple[str, str]


def _report_hash(document: Any) -> bytes | None:
    """``vc.report_hash`` of the document, ``None`` when it has none (not canonical JSON)."""
    with suppress(LedgerError, TypeError, ValueError):
        return vc.report_hash(document)
    return None


#: Declarations with at least this many consignments are verified with a side process.
SIDE_PROCESS_MINIMUM = 20_000


def _reopenable(store: LedgerStore) -> bool:
    """Whether a forked process reaches the same database through new connections (a file or
    a server, not an in-memory SQLite database)."""
    url = store.url
    return not (url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") in
                                              ("sqlite:", "sqlite+pysqlite:")))


class _Side(NamedTuple):
    job: SideJob[_SideFindings]
    #: whether the job reads its share of the stored records for the caller (posted early as
    #: :class:`ReadRows`, :func:`~ledger.verify.declaration_records.side_records`)
    reads: bool


def _side_job(p: _Parsed, store: LedgerStore | None, fork: bool, subject: Subject) -> _Side:
    """The multiproofs and (forked, with a store a new connection reaches that can be read in
    two shares) a share of the stored records, checked in a side process while the caller reads
    the other records and rebuilds the dataset."""
    share_store = store if fork and store is not None and _reopenable(store) \
        and lookups_hold(p.consignments) and store.bodies_shareable() else None

    def work(post: Callable[[Any], None]) -> _SideFindings:
        if share_store is not None:
            share_store.engine.dispose(close=False)  # new connections; the caller's stay its own
            post(side_records(subject, p.consignments, share_store))
        return _SideFindings(_outcome(lambda: _check_proofs(p)))

    return _Side(SideJob(work, fork=fork), share_store is not None)


#: A consignment's CBAM rule: (0, default value e8, 0, False) on a default value, (1, direct
#: e6, indirect e6, whether indirect counts) on actual values, or the problem
_Rule = tuple[int, int, int, bool] | str


class _CbamRules:
    """The footprint engine's CBAM rule with the pinned factor set, resolved once per code,
    origin, date and values."""

    def __init__(self, factor_set: FactorSet) -> None:
        self._factor_set = factor_set
        self._cache: dict[tuple[Any, ...], _Rule] = {}
        self._actuals: dict[tuple[str, str], tuple[int, int]] = {}
        self._codes: dict[str, str] = {}

    def rule(self, row: ConsignmentRow, import_date: date | None,
             given: tuple[str, str, str]) -> _Rule:
        cn_text, direct, indirect = given
        actual = None
        if row.method != "default":
            actual = self._actuals.get((direct, indirect))
            if actual is None:
                actual = self._actuals[(direct, indirect)] = (scaled_int(direct),
                                                              scaled_int(indirect))
        cn = self._codes.get(cn_text)
        if cn is None:
            cn = self._codes[cn_text] = normalise_cn(cn_text) or ""
        key = (cn, row.country, import_date, actual)
        rule = self._cache.get(key)
        if rule is None:
            fs = self._factor_set
            found = embedded_emissions(
                fs.cbam_scope, fs.cbam_defaults, cn=cn, country=row.country, year=None,
                mass_g=0, net_mass_kg="0", actual_u=actual, import_date=import_date,
                data_type=row.data_type)
            if isinstance(found, tuple):
                rule = f"{found[0]}: {found[1]}"
            elif not found.in_scope:  # the record says it is; its product's code says not
                rule = f"cn_code: {found.reason}"
            elif found.method == "default":
                rule = (0, scaled_int(str(found.specific_direct_t_per_t), 8), 0, False)
            else:
                assert actual is not None
                rule = (1, actual[0], actual[1], bool(found.indirect_counted))
            self._cache[key] = rule
        return rule


def _grams(rule: tuple[int, int, int, bool], mass: int) -> int:
    kind, first, second, counted = rule
    if kind == 0:
        return (mass * first + 50_000_000) // 100_000_000
    grams = (mass * first + 500_000) // 1_000_000
    return grams + ((mass * second + 500_000) // 1_000_000 if counted else 0)


def _check_cbam(rows: Sequence[ConsignmentRow], inputs: Sequence[Inputs],
                rules: _CbamRules) -> int:
    """Recomputes each record's embedded emissions with the footprint engine's CBAM rule and
    the pinned factor set, row by row; returns the count. ``CheckFailed`` names the first row
    whose emissions do not follow."""
    for row, given in zip(rows, inputs, strict=True):
        if isinstance(given, str):
            raise CheckFailed(f"consignment {row.shipment_id}: {given}")
        rule = rules.rule(row, row.import_date, given)
        if isinstance(rule, str):
            raise CheckFailed(f"consignment {row.shipment_id}: {rule}")
        grams = _grams(rule, row.net_mass_g)
        if grams != row.embedded_g:
            raise CheckFailed(f"consignment {row.shipment_id}: embedded emissions "
                              f"{row.embedded_g} g do not follow from its inputs with the pinned "
                              f"factor set ({grams} g)")
    return len(rows)


def _int64_grams(rows: FileRows) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows' net masses and embedded grams as int64 arrays; ``None`` where one is beyond
    int64."""
    try:
        return np.array(rows.masses, dtype=np.int64), np.array(rows.embedded, dtype=np.int64)
    except OverflowError:
        return None


def _check_cbam_columns(rows: FileRows, rules: _CbamRules,
                        grams: tuple[np.ndarray, np.ndarray] | None = None) -> int:
    """:func:`_check_cbam` column by column: the rule once per profile and day, the grams with
    numpy; the first row that fails is checked again by :func:`_check_cbam` for its message
    (and all of them there when the grams could leave int64)."""
    count = len(rows.shipment_ids)
    if count == 0:
        return 0
    pair = rows.profile * (1 << 32) + rows.days
    unique, inverse = np.unique(pair, return_inverse=True)
    found: list[_Rule | None] = []
    for value in unique.tolist():
        place, day = divmod(value, 1 << 32)
        given = rows.inputs[place]
        if isinstance(given, str):
            found.append(None)
            continue
        try:
            found.append(rules.rule(rows.profiles[place], date.fromordinal(day), given))
        except _CHECK_ERRORS:
            found.append(None)  # raised again, in its turn, by the row-by-row check
    ok = [isinstance(r, tuple) for r in found]
    parts = np.array([r if isinstance(r, tuple) else (0, 0, 0, False) for r in found],
                     dtype=np.int64).reshape(-1, 4)
    grams_of = _int64_grams(rows) if grams is None else grams
    if grams_of is None:  # grams beyond int64: Python integers, row by row
        return _check_cbam(rows.rows(), rows.row_inputs(), rules)
    mass, embedded = grams_of
    largest = int(np.abs(parts[:, 1:3]).max()) if len(parts) else 0
    if int(mass.max()) * largest >= 2**62:
        return _check_cbam(rows.rows(), rows.row_inputs(), rules)
    kind, first, second, counted = (parts[:, k][inverse] for k in range(4))
    computed = np.where(kind == 0, (mass * first + 50_000_000) // 100_000_000,
                        (mass * first + 500_000) // 1_000_000
                        + np.where(counted != 0, (mass * second + 500_000) // 1_000_000, 0))
    bad = ~np.array(ok, dtype=np.bool_)[inverse] | (computed != embedded)
    if bool(bad.any()):
        at = int(np.argmax(bad))
        one = FileRows(rows.profiles, rows.inputs, rows.profile[at:at + 1],
                       rows.shipment_ids[at:at + 1], rows.days[at:at + 1],
                       rows.masses[at:at + 1], rows.embedded[at:at + 1])
        _check_cbam(one.rows(), one.row_inputs(), rules)
        raise AssertionError("a row found wrong by the columns passes the row-by-row check")
    return count



def _options(p: _Parsed) -> DeclarationOptions:
    opts = p.subject["options"]
    estimates = {x["period"]: Decimal(x["priceEur"]) for x in p.subject["prices"]
                 if x["estimate"]}
    claims = []
    for line in p.lines:
        paid = line.get("carbonPricePaid")
        if paid is not None:
            e = paid["evidence"]
            claims.append(claim_from_dict({
                "installation_id": e["installationId"], "price_paid_per_t": e["pricePaidPerT"],
                "currency": e["currency"], "exchange_rate_eur": e["annualAverageExchangeRateEur"],
                "rebates_per_t": e["rebatesPerT"], "free_allocation_per_t": e["freeAllocationPerT"],
                "certified_by": e["certifiedBy"], "certification_date": e["certificationDate"],
                "evidence_reference": e["evidenceReference"]}))
    unique = list({c.installation_id: c for c in claims}.values())
    deduction = opts["carbonPriceDeduction"]
    return DeclarationOptions(
        warning_level_t=Decimal(opts["warningLevelT"]), price_estimates=estimates,
        carbon_price_claims=unique,
        deduction_act=deduction["act"] if deduction["enabled"] else None,
        embed_records=_signed_columns(p) is None and any("record" in c for c in p.consignments))


class _Rebuilt(NamedTuple):
    """The dataset rebuilt from the consignments (:func:`_rebuild`), and its canonical bytes
    (:func:`built_subject_bytes`; ``None``: not written so), or, where it was rebuilt without
    its entries and the signed subject found to be this one (:func:`_places_written_as`), the
    function giving the signed subject's canonical bytes in pieces."""

    recomputed: int
    subject: dict[str, Any]
    data: bytes | Callable[[], Iterator[bytes | memoryview]] | None


def _rebuild(p: _Parsed, factor_set: FactorSet, out: list[_Rebuilt], *, fast: bool
             ) -> tuple[str, str]:
    """The first part of ``recompute``: each record's embedded emissions, then the dataset
    rebuilt (appended to ``out``); :func:`_compare` decides once the document's hash is known.
    ``fast``: column by column (:func:`_columns`), else row by row (the tests' oracle). Column
    by column, the entries are first left out of the rebuilt dataset and the signed ones
    compared with the columns (:func:`_places_written_as`); they are built only where that
    does not find the two the same."""
    rows = p.rows
    assert rows is not None  # record_hash passed
    rules = _CbamRules(factor_set)
    if fast:
        grams = _int64_grams(rows)
        count = _check_cbam_columns(rows, rules, grams)
        columns = _columns(p, rows, grams)
    else:
        count = _check_cbam(rows.rows(), rows.row_inputs(), rules)
        columns = None
    proofs = {n: list(line["proofs"]) for n, line in enumerate(p.lines)}
    options = _options(p)
    arguments: dict[str, Any] = {
        "declarant": p.declarant, "year": p.year, "factor_set": factor_set, "options": options,
        "consignment_factor_set_id": str(p.subject["factorSet"]["consignmentFactorSetId"]),
        "proofs": lambda n, _members: proofs.get(n, [])}
    if columns is None:
        entries = [Entry(row, str(c["recordHash"]), int(c["co2eWtwG"]), int(c["co2eTtwG"]),
                         int(c["anchor"]), c.get("record"))
                   for row, c in zip(rows.rows(), p.consignments, strict=True)]
        rebuilt = declaration_subject(entries, p.anchors, **arguments)
    else:
        places = declaration_subject_places(columns, p.anchors, **arguments)
        pieces = None if places is None else _places_written_as(p, places, columns)
        if places is not None and pieces is not None:
            out.append(_Rebuilt(count, places, pieces))
            return PASS, "rebuilt"
        rebuilt = declaration_subject_columns(columns, p.anchors, **arguments)
    out.append(_Rebuilt(count, rebuilt, built_subject_bytes(rebuilt)))
    return PASS, "rebuilt"


def _columns(p: _Parsed, rows: FileRows, grams: tuple[np.ndarray, np.ndarray] | None
             ) -> Columns | None:
    """The consignments as :class:`~ledger.declaration.document.Columns` (what the file says of
    each leaf, what its record says of the rest; ``grams``: :func:`_int64_grams`); ``None``
    where a value is not a plain integer of int64 or text, which the row-by-row rebuild then
    takes as it would any value."""
    consignments = p.consignments
    count = len(consignments)
    signed = _signed_columns(p)
    try:
        values = {name: signed[_ENTRY_PLACE[name]] if signed is not None
                  else list(map(itemgetter(name), consignments))
                  for name in ("co2eWtwG", "co2eTtwG", "anchor", "recordHash")}
        numbers = [np.fromiter(map(int, values[name]), dtype=np.int64, count=count)
                   for name in ("co2eWtwG", "co2eTtwG", "anchor")]
        hashes = list(map(str, values["recordHash"]))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    if grams is None:
        return None
    mass, embedded = grams
    records = None if signed is not None else [c.get("record") for c in consignments]
    days = rows.days.tolist()
    iso = {day: date.fromordinal(day).isoformat() for day in set(days)}
    return Columns(
        shipment_ids=rows.shipment_ids, record_hashes=hashes, co2e_wtw_g=numbers[0],
        co2e_ttw_g=numbers[1], anchors=numbers[2], release_dates=list(map(iso.__getitem__, days)),
        net_mass_g=mass, embedded_g=embedded, profile=rows.profile, profiles=rows.profiles,
        records=records if records is not None and any(r is not None for r in records)
        else None)


def _document_hashes(p: _Parsed, built: _Rebuilt | None) -> tuple[DocumentHashes, bool]:
    """The document's hashes, and whether its subject is the rebuilt one: where the subject's
    canonical bytes are the rebuilt subject's (``built``), those are hashed and not written
    again; otherwise the subject is written (:func:`document_hashes`) and compared later by
    its digest."""
    if built is not None and callable(built.data):  # found the same without its entries
        return document_hashes(p.document, built.data()), True
    if built is not None and isinstance(built.data, bytes) and _subject_written_as(p, built):
        return document_hashes(p.document, built.data), True
    return document_hashes(p.document), False


#: Entries written together, in one piece each, where the signed subject is found to be the one
#: rebuilt without its entries (:func:`_places_written_as`).
_ENTRY_CHUNK = 5_000
#: The member a line's entries are written under, with no entry (in a subject rebuilt without
#: its entries, their places replaced by none)
_NO_ENTRIES = b'"consignments":[]'


def _signed_columns(p: _Parsed) -> list[list[Any]] | None:
    """The signed entries member by member in the order of
    :data:`~ledger.declaration.document.ENTRY_MEMBERS`, taken once; ``None`` where an entry is
    not a dictionary of exactly those members (or there is none)."""
    if p.entry_columns_taken:
        return p.entry_columns
    p.entry_columns_taken = True
    entries = p.consignments
    if not entries or not ({dict}.issuperset(map(type, entries))
                           and {len(ENTRY_MEMBERS)}.issuperset(map(len, entries))):
        return None
    try:  # member by member: faster than one tuple per entry taken apart
        p.entry_columns = [list(map(itemgetter(name), entries)) for name in ENTRY_MEMBERS]
    except KeyError:
        return None
    return p.entry_columns


def _places_written_as(p: _Parsed, places: dict[str, Any], columns: Columns
                       ) -> Callable[[], Iterator[bytes | memoryview]] | None:
    """The signed subject's canonical bytes, in pieces (a function giving them one at a time),
    where it is the subject rebuilt without its entries (``places``: each line's consignments
    given by their places in ``columns``) with the entries built from ``columns``; ``None``
    where that is not found (the entries are then built and the subject compared as before).

    The signed subject must have exact dict and list containers down to its entries; each
    line's entries the places the rebuilt line names, in order; each entry exactly the nine
    members, named by exact text, of exact text and integers, equal to the values the entry
    would be built from (:meth:`~ledger.declaration.document.Columns.entry_values`: text
    never equals an integer, so the same JSON), its integers within canonical JSON's; the rest
    of the subject, without the entries, as canonical JSON the rebuilt rest's (as
    :func:`_subject_written_as` judges it). The pieces are the rebuilt rest's canonical bytes
    with each line's entries written into them, a few thousand at a time (orjson's canonical
    JSON of such entries: their text is what the records and the record hashes checked before
    gave, which orjson writes)."""
    subject = p.subject
    lines = subject.get("lines") if type(subject) is dict else None
    if type(lines) is not list or not all(
            type(line) is dict and type(line.get("consignments")) is list for line in lines):
        return None
    signed = _signed_columns(p)
    built_lines = places["lines"]
    if signed is None or len(built_lines) != len(lines):
        return None
    start = 0
    for mine, theirs in zip(lines, built_lines, strict=True):
        count = len(mine["consignments"])
        if theirs["consignments"] != list(range(start, start + count)):
            return None
        start += count
    if not all({kind}.issuperset(map(type, values))
               for kind, values in zip(_ENTRY_TYPES.values(), signed, strict=True)) \
            or not {str}.issuperset(map(type, chain.from_iterable(p.consignments))):
        return None
    for mine, theirs in zip(signed, columns.entry_values(), strict=True):
        if isinstance(theirs, np.ndarray):
            if len(theirs) and not -MAX_SAFE_INTEGER <= int(theirs.min()) \
                    <= int(theirs.max()) <= MAX_SAFE_INTEGER:
                return None
            try:
                mine_array = np.fromiter(mine, dtype=np.int64, count=len(mine))
            except OverflowError:
                return None
            if not np.array_equal(mine_array, theirs):
                return None
        elif mine != theirs:
            return None
    mine_rest = {**subject, "lines": [{**line, "consignments": []} for line in lines]}
    theirs_rest = built_subject_bytes(
        {**places, "lines": [{**line, "consignments": []} for line in built_lines]})
    if theirs_rest is None or not (_plain_at_depth(mine_rest)
                                   and canonical_json_is(mine_rest, theirs_rest)):
        return None
    between = theirs_rest.split(_NO_ENTRIES)
    if len(between) != len(lines) + 1:
        return None

    def pieces() -> Iterator[bytes | memoryview]:
        yield between[0]
        for line, after in zip(lines, between[1:], strict=True):
            yield _NO_ENTRIES[:-1]
            entries = line["consignments"]
            for at in range(0, len(entries), _ENTRY_CHUNK):
                if at:
                    yield b","
                yield memoryview(orjson.dumps(
                    entries[at:at + _ENTRY_CHUNK],
                    option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER))[1:-1]
            yield b"]" + after

    return pieces


#: The members of a consignment's entry that names no supplier document and embeds no record,
#: and the exact type of each
_ENTRY_TYPES = dict(zip(ENTRY_MEMBERS, (str, str, str, int, int, int, str, int, int),
                        strict=True))
_ENTRY_PLACE = {name: n for n, name in enumerate(ENTRY_MEMBERS)}
_ENTRY_VALUE_TYPES = frozenset(_ENTRY_TYPES.values())


def _subject_written_as(p: _Parsed, built: _Rebuilt) -> bool:
    """Whether the signed subject's canonical bytes are those of the rebuilt one
    (``built.data``).

    The usual case, every consignment's entry of the signed subject with the nine plain
    members: where their values are exact text and integers only (one pass in C), the entries
    are compared with the rebuilt ones as values (text never equals an integer: the same JSON),
    and the rest of the subject, without the entries, as canonical JSON (checked as
    :func:`~ledger.records.canonical.canonical_json` checks it). Otherwise the whole subject is
    written and compared: types checked as canonical JSON checks them, except in the plain
    entries, whose values need only be exact text or integers (the bytes then tell which is
    which). (The type walk of canonical JSON goes level by level over every value of a million
    entries: seconds, in a process whose document was built in pieces.)"""
    subject, data = p.subject, built.data
    assert isinstance(data, bytes)
    # the containers the entries are taken out of, of exact types (another mapping or sequence
    # may read otherwise than it is written)
    lines = subject.get("lines") if type(subject) is dict else None
    if type(lines) is not list or not all(
            type(line) is dict and type(line.get("consignments")) is list for line in lines):
        return False
    size = len(_ENTRY_TYPES)
    entries = p.consignments
    all_plain = {dict}.issuperset(map(type, entries)) and {size}.issuperset(map(len, entries))
    plain = entries if all_plain else [c for c in entries if type(c) is dict and len(c) == size]
    if not {str}.issuperset(map(type, chain.from_iterable(plain))) or \
            not _ENTRY_VALUE_TYPES.issuperset(map(type, chain.from_iterable(map(dict.values,
                                                                                plain)))):
        return False
    if all_plain:
        built_lines = built.subject["lines"]
        if len(built_lines) != len(lines) or any(
                mine["consignments"] != theirs["consignments"]
                for mine, theirs in zip(lines, built_lines, strict=True)):
            return False
        mine_rest = {**subject, "lines": [{**line, "consignments": []} for line in lines]}
        theirs_rest = built_subject_bytes(
            {**built.subject, "lines": [{**line, "consignments": []} for line in built_lines]})
        return theirs_rest is not None and _plain_at_depth(mine_rest) and canonical_json_is(
            mine_rest, theirs_rest)
    rest = {**subject, "lines": [
        {**line, "consignments": [c for c in line["consignments"]
                                  if not (type(c) is dict and len(c) == size)]}
        for line in lines]}
    return _plain_at_depth(rest) and canonical_json_is(subject, data)


def _plain_at_depth(subject: dict[str, Any]) -> bool:
    """:func:`~ledger.records.canonical.plain_json_types` of a subject at the depth it has in
    the document (one level down), as canonical JSON counts it."""
    return plain_json_types({"credentialSubject": subject})


def _compare(p: _Parsed, rebuilt: _Rebuilt, same: bool) -> tuple[str, str]:
    """The second part of ``recompute``: the rebuilt dataset is the signed one (``same``:
    known to be, from :func:`_document_hashes`)."""
    if not same and not _same_subject(p, rebuilt):
        where = _first_difference(rebuilt.subject, p.subject)
        raise CheckFailed(f"the declaration does not follow from its consignments and the "
                          f"pinned tables (first difference at {where})")
    return PASS, (f"{rebuilt.recomputed} consignment(s) recomputed; {len(p.lines)} line(s), "
                  "certificates and cost follow from the pinned tables")


def _same_subject(p: _Parsed, rebuilt: _Rebuilt) -> bool:
    """Whether the rebuilt subject is the signed one, byte for byte in canonical JSON (their
    digests, the signed one's written once with the document's hashes; the plain comparison of
    both subjects where one is not canonical JSON)."""
    digest = built_subject_digest(
        rebuilt.subject, rebuilt.data if isinstance(rebuilt.data, bytes) else None)
    if p.subject_digest is not None and digest is not None:
        return digest == p.subject_digest
    sort = orjson.OPT_SORT_KEYS
    return orjson.dumps(rebuilt.subject, option=sort) == orjson.dumps(p.subject, option=sort)


def _first_difference(a: Any, b: Any, path: str = "credentialSubject") -> str:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return path


def _bytes32(text: Any) -> bytes:
    """``Bytes32.parse`` for the common case (``0x`` + 64 hex digits) without a pattern."""
    if type(text) is str and len(text) == 66 and text[:2] == "0x":
        try:
            value = bytes.fromhex(text[2:])
        except ValueError:
            pass
        else:
            if len(value) == 32:
                return value
    return Bytes32.parse(text)


def _bytes32_run(texts: Sequence[Any]) -> bytes | None:
    """The 32-byte values of ``texts`` (each ``0x`` and 64 hex digits) as one run of bytes, or
    ``None`` where one is not so written."""
    if not {str}.issuperset(map(type, texts)) or {66} != set(map(len, texts)) \
            or {"0x"} != {text[:2] for text in texts}:
        return None
    try:
        value = bytes.fromhex("".join([text[2:] for text in texts]))
    except ValueError:
        return None
    return value if len(value) == 32 * len(texts) else None


def _bytes32_list(texts: Sequence[Any]) -> list[bytes]:
    """:func:`_bytes32` of each of ``texts``, in order (parsed in one piece where all are
    plainly written)."""
    texts = list(texts)  # read once, whatever it is
    run = _bytes32_run(texts) if texts else None
    if run is None:
        return [_bytes32(text) for text in texts]
    return [run[at:at + 32] for at in range(0, len(run), 32)]


_EXPORTER, _SHIPMENT, _RECORD_HASH, _WTW, _TTW, _ANCHOR = map(itemgetter, (
    "exporter", "shipmentId", "recordHash", "co2eWtwG", "co2eTtwG", "anchor"))


class _LeafHashes:
    """Leaf hashes of consignments (:meth:`ledger.records.merkle.Leaf.hash`), with each
    exporter's shipment-key prefix checked once."""

    def __init__(self) -> None:
        self._keys: dict[str, Callable[[str], bytes]] = {}

    def __call__(self, group: Sequence[Mapping[str, Any]]) -> list[bytes]:
        """The leaf hash of each consignment of ``group``, in order: all at once where they
        are of one exporter and plainly written (:func:`ledger.records.merkle.leaf_hashes`),
        else one by one (which raises the first one's problem)."""
        try:
            found = self._together(group)
        except _CHECK_ERRORS:
            found = None
        return found if found is not None else self._one_by_one(group)

    @staticmethod
    def _together(group: Sequence[Mapping[str, Any]]) -> list[bytes] | None:
        if not group:
            return []
        exporter = set(map(str, map(_EXPORTER, group)))
        run = _bytes32_run(list(map(_RECORD_HASH, group))) if len(exporter) == 1 else None
        if run is None:
            return None
        ids = chain_shipment_ids(exporter.pop(), list(map(str, map(_SHIPMENT, group))))
        return leaf_hashes(b"".join(ids), run, list(map(int, map(_WTW, group))),
                           list(map(int, map(_TTW, group))))

    def _one_by_one(self, group: Sequence[Mapping[str, Any]]) -> list[bytes]:
        keys = self._keys
        out: list[bytes] = []
        append = out.append
        for c in group:
            exporter = str(c["exporter"])
            key = keys.get(exporter)
            if key is None:
                key = keys[exporter] = chain_shipment_id_function(exporter)
            encoded = (key(str(c["shipmentId"])) + _bytes32(c["recordHash"])
                       + int(c["co2eWtwG"]).to_bytes(32, "big")
                       + int(c["co2eTtwG"]).to_bytes(32, "big"))
            append(keccak256(keccak256(encoded)))
        return out


def _check_proofs(p: _Parsed) -> tuple[str, str]:
    proven = 0
    hashes_of = _LeafHashes()
    for line in p.lines:
        cons = line["consignments"]
        covered = [False] * len(cons)
        for proof in line["proofs"]:
            first, count, anchor = int(proof["first"]), int(proof["count"]), int(proof["anchor"])
            group = cons[first:first + count]
            if len(group) != count or any(covered[first:first + count]) or \
                    any(map(anchor.__ne__, map(int, map(_ANCHOR, group)))):
                raise CheckFailed(f"line {line['lineId']}: a multiproof does not cover its "
                                  "consignments exactly once")
            root = process_multiproof(hashes_of(group), _bytes32_list(proof["proof"]),
                                      [f == "1" for f in str(proof["flags"])])
            if root is None or "0x" + root.hex() != p.anchors[anchor].batch_key.lower():
                raise CheckFailed(f"line {line['lineId']}: a multiproof of {count} "
                                  "consignment(s) does not lead to its batch's root")
            covered[first:first + count] = [True] * count
            proven += count
        for c, done in zip(cons, covered, strict=True):
            if not done and p.anchors[int(c["anchor"])].path == "root":
                raise CheckFailed(f"consignment {c['shipmentId']} has no Merkle proof")
    return PASS, f"{proven} consignment(s) proven by {sum(len(ln['proofs']) for ln in p.lines)} "\
        "multiproof(s)"


def _check_anchors(p: _Parsed, reader: Reader) -> tuple[str, str]:
    from ledger.chain.events import RootAnchored, ShipmentRecorded

    members = _Members(p)
    used = members.used
    if used != set(range(len(p.anchors))):
        raise CheckFailed("the declaration names a batch none of its consignments is in")
    for index in sorted(used):
        a = p.anchors[index]
        if (a.chain_id, a.contract.lower()) != (p.chain_id, p.contract):
            raise CheckFailed(f"batch {a.batch_key} is on another chain or contract")
        receipt = reader.receipt(Bytes32.parse(a.transaction_hash))
        if receipt is None or receipt.status != 1 or receipt.block_number != a.block_number:
            raise CheckFailed(f"batch {a.batch_key}: transaction {a.transaction_hash} is not a "
                              f"successful transaction of block {a.block_number} on this chain")
        events = reader.events_in(receipt)
        fsid = Bytes32.parse(a.factor_set_id)
        if a.path == "root":
            root = Bytes32.parse(a.batch_key)
            if not any(isinstance(e, RootAnchored) and e.root == root and e.factor_set_id == fsid
                       and e.exporter.lower() == a.exporter.lower() for e in events):
                raise CheckFailed(f"transaction {a.transaction_hash} does not anchor root "
                                  f"{a.batch_key} by {a.exporter} with factor set "
                                  f"{a.factor_set_id}")
            info = reader.root_info(root)
            if info.exporter is None or info.exporter.lower() != a.exporter.lower():
                raise CheckFailed(f"root {a.batch_key} is not anchored on chain by {a.exporter}")
        else:
            hashes = {e.record_hash for e in events if isinstance(e, ShipmentRecorded)
                      and e.exporter.lower() == a.exporter.lower()}
            for c in members[index]:
                if Bytes32.parse(c["recordHash"]) not in hashes:
                    raise CheckFailed(f"consignment {c['shipmentId']}: its record is not in "
                                      f"the events of {a.transaction_hash}")
        if members.exporters is None or members.exporters[index] != {a.exporter.lower()}:
            for c in members[index]:
                if str(c["exporter"]).lower() != a.exporter.lower():
                    raise CheckFailed(f"consignment {c['shipmentId']} is in a batch of another "
                                      "exporter")
    return PASS, f"{len(used)} batch(es) anchored by their exporters"


class _Members:
    """The consignments of each batch (by the place of its anchor): the batches named, and
    each batch's consignments in file order (grouped when first asked for). From the signed
    entries' columns, where they were taken, also the exporters each batch's consignments name
    (lower case; ``None`` otherwise)."""

    def __init__(self, p: _Parsed) -> None:
        columns = _signed_columns(p)
        self._consignments = p.consignments
        self._grouped: dict[int, list[Mapping[str, Any]]] | None = None
        self._anchor_of: list[int] | None = None
        self.exporters: dict[int, set[str]] | None = None
        if columns is None:
            self._grouped = self._group()
            self.used = set(self._grouped)
            return
        self._anchor_of = list(map(int, columns[_ENTRY_PLACE["anchor"]]))
        exporters: dict[int, set[str]] = {}
        lowered: dict[str, str] = {}
        try:  # a value whose text cannot be written is met batch by batch, as without columns
            pairs = set(zip(self._anchor_of, map(str, columns[_ENTRY_PLACE["exporter"]]),
                            strict=True))
        except _CHECK_ERRORS:
            self.used = set(self._anchor_of)
            return
        for index, exporter in pairs:
            low = lowered.get(exporter)
            if low is None:
                low = lowered[exporter] = exporter.lower()
            exporters.setdefault(index, set()).add(low)
        self.exporters = exporters
        self.used = set(exporters)

    def _group(self) -> dict[int, list[Mapping[str, Any]]]:
        grouped: dict[int, list[Mapping[str, Any]]] = {}
        if self._anchor_of is not None:
            for c, index in zip(self._consignments, self._anchor_of, strict=True):
                grouped.setdefault(index, []).append(c)
        else:
            for c in self._consignments:
                grouped.setdefault(int(c["anchor"]), []).append(c)
        return grouped

    def __getitem__(self, index: int) -> list[Mapping[str, Any]]:
        if self._grouped is None:
            self._grouped = self._group()
        return self._grouped[index]


def _check_status(p: _Parsed, reader: Reader) -> tuple[str, str]:
    columns = _signed_columns(p)
    named = set(map(str, columns[_ENTRY_PLACE["exporter"]])) if columns is not None \
        else {str(c["exporter"]) for c in p.consignments}
    for exporter in sorted(named):
        ended = reader.ended_records(exporter)
        if not ended:
            continue
        for c in p.consignments:
            if c["exporter"] == exporter:
                state = ended.get(Bytes32.parse(c["recordHash"]))
                if state is not None:
                    raise CheckFailed(f"consignment {c['shipmentId']}: its record was "
                                      f"{state.name.lower()} by its exporter")
    return PASS, "no consignment's record revoked or superseded"


def _check_confirmations(p: _Parsed, reader: Reader, minimum: int) -> tuple[str, str]:
    head = reader.block_number()
    for a in p.anchors:
        depth = head - a.block_number + 1
        if depth < minimum:
            raise CheckFailed(f"batch {a.batch_key}: {depth} confirmation(s), {minimum} needed")
    return PASS, f"every batch has at least {minimum} confirmation(s)"


def verify_declaration(
    document: Any, reader: Reader, *, factor_set: FactorSet | None = None,
    records: LedgerStore | None = None, min_confirmations: int = 1,
    processes: int | None = None, fast: bool = True,
) -> Verdict:
    """Checks a declaration (module docstring). ``records``: a store to read the consignments'
    records from when the file does not embed them. ``processes``: 2 reads a share of the
    stored records (:data:`~ledger.verify.declaration_records.SIDE_SHARE_PERCENT` in 100) and
    checks the multiproofs in a side process (:mod:`ledger.verify.side`) while this one reads
    the other records, rebuilds the dataset and checks the signature; 1 does everything here;
    the default takes 2 for declarations of at least :data:`SIDE_PROCESS_MINIMUM` consignments
    where a process can be forked (the side process reads records only from a store a new
    connection reaches, not an in-memory one). The verdict is the same either way. ``fast``:
    the dataset rebuilt column by column; ``False`` rebuilds it row by row (the tests' oracle;
    the same verdict)."""
    with paused_gc():  # a million consignments make many objects and no cycles
        return _verify(document, reader, factor_set=factor_set, records=records,
                       min_confirmations=min_confirmations, processes=processes, fast=fast)


def _verify(document: Any, reader: Reader, *, factor_set: FactorSet | None,
            records: LedgerStore | None, min_confirmations: int,
            processes: int | None, fast: bool) -> Verdict:
    # the document's hash (``report_hash``) is set once known: after the records are read and
    # the dataset rebuilt when the format holds (from the rebuilt subject where it is the
    # signed one), at once otherwise
    verdict = Verdict(report_id=document.get("id") if isinstance(document, Mapping) else None,
                      issuer=document.get("issuer") if isinstance(document, Mapping) else None,
                      report_hash=None)
    parsed: list[_Parsed] = []

    def fmt() -> tuple[str, str]:
        parsed.append(_Parsed(document))
        return PASS, (f"CBAM declaration of {parsed[0].declarant} for {parsed[0].year}: "
                      f"{len(parsed[0].lines)} line(s), {len(parsed[0].consignments)} "
                      "consignment(s)")

    if not _run(verdict, "format", fmt):
        _skip(verdict, DECLARATION_CHECKS, "the declaration is malformed")
        verdict.report_hash = _hex(_report_hash(document))
        return verdict
    p = parsed[0]
    if processes is None:
        fork = can_fork() and len(p.consignments) >= SIDE_PROCESS_MINIMUM
    else:
        fork = processes > 1 and can_fork()
    side = _side_job(p, records, fork, Subject(p.declarant, p.year))
    with side.job:
        _checks(verdict, p, reader, side, factor_set=factor_set, records=records,
                min_confirmations=min_confirmations, fast=fast)
    verdict.report_hash = _hex(p.document_hash)
    return verdict


def _hex(digest: bytes | None) -> str | None:
    return None if digest is None else "0x" + digest.hex()


def _checks(verdict: Verdict, p: _Parsed, reader: Reader, side: _Side, *,
            factor_set: FactorSet | None, records: LedgerStore | None,
            min_confirmations: int, fast: bool) -> None:
    """The checks after ``format``, appended in their order; the side job's outcomes are taken
    last, so this process reads its records and rebuilds the dataset meanwhile. ``recompute``
    runs only when ``record_hash`` passes."""
    outcomes: dict[str, tuple[str, str]] = {}

    def node_chain() -> tuple[str, str]:
        node = reader.node_chain_id()
        if node != p.chain_id:
            raise CheckFailed(f"the node serves chain {node}, the declaration chain {p.chain_id}")
        return PASS, f"chain {node}"

    outcomes["chain_id"] = _outcome(node_chain)
    factor_set = factor_set or declaration_factor_set()
    outcomes["factor_set"] = _outcome(lambda: _check_factor_set(p, factor_set))
    tables_ok = _passed(outcomes["factor_set"])
    subject = Subject(p.declarant, p.year)
    readings: list[ReadRows] = []
    read = _outcome(lambda: _read(readings, subject, p, records,
                                  shared=side.reads))
    if _passed(read) and side.reads:  # the share the side process read
        read = _outcome(lambda: _add_shared(readings, side))
    outcomes["record_hash"] = _outcome(lambda: _take_rows(p, readings)) if _passed(read) \
        else read
    rebuilt: list[_Rebuilt] = []
    recompute = _outcome(lambda: _rebuild(p, factor_set, rebuilt, fast=fast)) \
        if _passed(outcomes["record_hash"]) and tables_ok else None
    built = rebuilt[0] if recompute is not None and _passed(recompute) else None
    hashes, same = _document_hashes(p, built)
    p.document_hash, p.subject_digest = hashes.report_hash, hashes.subject_digest
    outcomes["signature"] = _outcome(lambda: _check_signature(p, hashes))
    if _passed(outcomes["chain_id"]):
        outcomes["anchor"] = _outcome(lambda: _check_anchors(p, reader))
        outcomes["status"] = _outcome(lambda: _check_status(p, reader))
    found = _outcome(lambda: _side_result(side))
    outcomes["merkle_proof"] = side.job.result().proofs if _passed(found) else found
    if built is not None:
        recompute = _outcome(lambda: _compare(p, built, same))
    if recompute is not None:
        outcomes["recompute"] = recompute
    if _passed(outcomes["chain_id"]):  # the chain's head read last, as the verdict is given
        outcomes["confirmations"] = _outcome(
            lambda: _check_confirmations(p, reader, min_confirmations))
    for name in DECLARATION_CHECKS[1:]:
        if name in outcomes:
            verdict.checks.append(Check(name, *outcomes[name]))
    _skip(verdict, DECLARATION_CHECKS, "an earlier check failed")


def _passed(outcome: tuple[str, str]) -> bool:
    return outcome[0] in (PASS, NOT_APPLICABLE)


def _read(readings: list[ReadRows], subject: Subject, p: _Parsed,
          store: LedgerStore | None, *,
          shared: bool) -> tuple[str, str]:
    readings.append(read_records(subject, p.consignments, store, shared=shared))
    return PASS, "read"


def _add_shared(readings: list[ReadRows], side: _Side) -> tuple[str, str]:
    shared = side.job.early()
    if not isinstance(shared, ReadRows):
        raise CheckFailed("the side process of the verification read no records")
    readings.append(shared)
    return PASS, "read"


def _take_rows(p: _Parsed, readings: list[ReadRows]) -> tuple[str, str]:
    p.rows = file_rows(p.consignments, readings)
    return PASS, f"{len(p.rows.shipment_ids)} record(s) match their hashes"


def _side_result(side: _Side) -> tuple[str, str]:
    side.job.result()
    return PASS, "side checks done"


@contextmanager
def _declaration_chain(document: Any, settings: ChainSettings) -> Iterator[Reader]:
    from ledger.chain.client import connect
    from ledger.chain.contract import CarbonLedgerContract

    try:
        domain = vc.eip712_proof(document)["eip712"]["domain"]
        chain_id, contract = int(domain["chainId"]), str(domain["verifyingContract"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"the declaration names no chain and contract: {exc}") from None
    client = connect(settings.model_copy(update={"chain_id": chain_id}), read_only=True)
    with client:
        ledger = CarbonLedgerContract(client, contract)
        ledger.require_shipment_id_rule()
        yield ledger


def verify_declaration_on_chain(document: Any, settings: ChainSettings, *,
                                records: LedgerStore | None = None,
                                min_confirmations: int = 1) -> Verdict:
    """:func:`verify_declaration` against the node of ``settings`` (read-only)."""
    with _declaration_chain(document, settings) as reader:
        return verify_declaration(document, reader, records=records,
                                  min_confirmations=min_confirmations)



def attest_declaration_on_chain(document: Mapping[str, Any], settings: ChainSettings,
                                private_key: bytes | str, *, records: LedgerStore | None = None,
                                min_confirmations: int = 1) -> tuple[Verdict, str | None]:
    """Verifies a declaration with the auditor's key, then attests its hash on chain like a
    report's (the contract's report subject kind); a declaration that does not verify
    is not attested. Returns the verdict and the attestation's transaction hash."""
    from ledger.chain.abi import SubjectKind
    from ledger.chain.client import connect
    from ledger.chain.contract import CarbonLedgerContract
    from ledger.errors import ChainError, ContractRevert
    from ledger.verify.verdict import verdict_evidence

    domain = vc.eip712_proof(document)["eip712"]["domain"]
    client = connect(settings.model_copy(update={"chain_id": int(domain["chainId"])}),
                     private_key=private_key)
    with client:
        ledger = CarbonLedgerContract(client, str(domain["verifyingContract"]))
        ledger.require_shipment_id_rule()
        verdict = verify_declaration(document, ledger, records=records,
                                     min_confirmations=min_confirmations)
        if not verdict.ok:
            return verdict, None
        try:
            receipt = ledger.attest(SubjectKind.REPORT, vc.report_hash(document),
                                    verdict_evidence(verdict))
        except ContractRevert as exc:
            raise ChainError(f"the attestation was refused: {exc}") from exc
    return verdict, "0x" + bytes(receipt.tx_hash).hex()
