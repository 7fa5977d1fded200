"""A declarant's annual CBAM declaration from the ledger store, and its signed document.

:func:`compute_declaration` reads the anchored consignments of one declarant (EORI) released in
one calendar year, checks they were computed with the consignment tables of the declaration's
factor set (a declaration never mixes factor sets), orders them by batch and place in the batch,
builds the Merkle multiproof of each line's consignments per batch, and computes the dataset
(:func:`ledger.declaration.document.declaration_subject`). :func:`issue_declaration` signs it in
the report envelope (W3C VC 2.0 + EIP-712, :mod:`ledger.reports.vc`) with the declarant's key,
on the chain and contract the consignments are anchored on; an auditor attests its hash like a
report's. Nothing is written anywhere: bad input raises ``InputError`` before any signature.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ledger.declaration.consignments import (
    Anchoring,
    ConsignmentRow,
    StoredConsignment,
    anchors_of,
    read_consignments,
)
from ledger.declaration.document import (
    DECLARATION_TYPE,
    Columns,
    Entry,
    declaration_subject,
    declaration_subject_columns,
)
from ledger.declaration.index import indexed_consignments
from ledger.declaration.multiproof import multiproof, multiproof_fast
from ledger.declaration.options import DeclarationOptions
from ledger.errors import InputError, InputProblem
from ledger.factors.factorset import (
    DECLARATION_KINDS,
    FactorSet,
    factor_set_id,
    load_factor_set,
    shipped_factor_dir,
)
from ledger.inputs.consignment import eori_problem
from ledger.records.chunks import paused_gc
from ledger.reports import vc
from ledger.store.store import LedgerStore

__all__ = [
    "DECLARATION_MANIFEST",
    "Declaration",
    "base_factor_set_id",
    "compute_declaration",
    "declaration_factor_set",
    "issue_declaration",
]

#: The shipped factor set with the declaration tables.
DECLARATION_MANIFEST = "factor-set-2026-declaration.json"


def declaration_factor_set(path: Path | None = None) -> FactorSet:
    """The factor set of declarations: ``path``, or the shipped declaration manifest."""
    return load_factor_set(path or shipped_factor_dir() / DECLARATION_MANIFEST)


def base_factor_set_id(factor_set: FactorSet) -> str:
    """The id of the factor set without its declaration tables: the id the consignments'
    records name when they were computed with the same tables."""
    return factor_set_id({kind: (t.name + ".csv", t.sha256) for kind, t in
                          factor_set.tables.items() if kind not in DECLARATION_KINDS})


@dataclass(frozen=True)
class Declaration:
    """A computed declaration: its dataset and the chain its consignments are anchored on."""

    subject: dict[str, Any]
    chain_id: int
    contract: str

    @property
    def totals(self) -> dict[str, Any]:
        totals: dict[str, Any] = self.subject["totals"]
        return totals

    @property
    def threshold(self) -> dict[str, Any]:
        threshold: dict[str, Any] = self.subject["threshold"]
        return threshold


def _check_factor_sets(anchors: dict[int, Anchoring], factor_set: FactorSet) -> str:
    used = sorted({a.factor_set_id.lower() for a in anchors.values()})
    allowed = {factor_set.id.lower(), base_factor_set_id(factor_set).lower()}
    wrong = [u for u in used if u not in allowed]
    if wrong or len(used) != 1:
        raise InputError([InputProblem(
            f"the consignments were computed with factor set(s) {', '.join(used)}; this "
            f"declaration's factor set {factor_set.name} declares consignments of "
            f"{' or '.join(sorted(allowed))} only: a declaration never mixes factor sets; "
            "recompute and re-anchor the consignments, or declare with their factor set",
            field="factor_set_id")])
    return used[0]


def _chain(anchors: Sequence[Anchoring]) -> tuple[int, str]:
    chains = sorted({(a.chain_id, a.contract) for a in anchors})
    if len(chains) != 1:
        raise InputError([InputProblem(
            "the consignments are anchored on several chains or contracts "
            f"({', '.join(f'{c}:{k}' for c, k in chains)}); one declaration is signed for one",
            field="anchor")])
    return chains[0]


def compute_declaration(
    store: LedgerStore, declarant: str, year: int, *, factor_set: FactorSet | None = None,
    options: DeclarationOptions | None = None, fast: bool = True, only_addressed: bool = False,
) -> Declaration:
    """The declaration of ``declarant`` for imports released in ``year`` (module docstring).

    ``fast``: the consignments read from the declaration index (:mod:`ledger.declaration.index`,
    when it is clean and no record is embedded), their multiproofs and sums computed with numpy;
    otherwise every stored record is read and parsed, and summed one by one (the oracle of the
    tests). ``only_addressed``: see :func:`~ledger.declaration.consignments.read_consignments`.
    """
    problem = eori_problem(declarant)
    if problem:
        raise InputError([InputProblem(problem, field="declarant")])
    factor_set = factor_set or declaration_factor_set()
    options = options or DeclarationOptions()
    with paused_gc():
        if fast and not options.embed_records:
            declaration = _compute_indexed(store, declarant, year, factor_set=factor_set,
                                           options=options)
            if declaration is not None:
                return declaration
        return _compute_read(store, declarant, year, factor_set, options, fast=fast,
                             only_addressed=only_addressed)


def _compute_read(store: LedgerStore, declarant: str, year: int, factor_set: FactorSet,
                  options: DeclarationOptions, *, fast: bool, only_addressed: bool
                  ) -> Declaration:
    """The declaration from every stored record, read and parsed one by one."""
    found, by_batch = read_consignments(store, declarant, year, only_addressed=only_addressed)
    consignment_set = _check_factor_sets(by_batch, factor_set)
    ordered_batches = sorted(by_batch, key=lambda b: (by_batch[b].exporter,
                                                      by_batch[b].batch_key))
    anchors = [by_batch[b] for b in ordered_batches]
    chain_id, contract = _chain(anchors)
    index_of = {b: i for i, b in enumerate(ordered_batches)}
    trees: dict[int, tuple[bytes, dict[bytes, int]]] = {}
    places = [_place(store, c, by_batch[c.batch_id], trees) for c in found]
    order = sorted(range(len(found)),
                   key=lambda i: (index_of[found[i].batch_id], -places[i], found[i].record
                                  .shipment_id))
    entries = [_entry(found[i], index_of[found[i].batch_id], options.embed_records)
               for i in order]
    batch_of = [ordered_batches[e.anchor] for e in entries]
    tree_index = [places[i] for i in order]

    def proofs(_number: int, members: list[int]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = 0
        while start < len(members):
            batch = batch_of[members[start]]
            end = start
            while end < len(members) and batch_of[members[end]] == batch:
                end += 1
            if by_batch[batch].path == "root":
                tree = trees[batch][0]
                _, proof = multiproof(tree, [tree_index[m] for m in members[start:end]])
                out.append({"anchor": index_of[batch], "first": start, "count": end - start,
                            **proof.to_dict()})
            start = end
        return out

    subject = declaration_subject(
        entries, anchors, declarant=declarant, year=year, factor_set=factor_set,
        options=options, consignment_factor_set_id=consignment_set, proofs=proofs, fast=fast)
    return Declaration(subject, chain_id, contract)


def _profile_rows(profiles: dict[int, tuple[str, ...]], ids: list[int], declarant: str
                  ) -> list[ConsignmentRow]:
    """One row per stored profile (in the order of ``ids``) with its profile's fields; its
    shipment id, date, mass and embedded emissions are blank."""
    out = []
    for pid in ids:
        p = profiles[pid]
        document = orjson.loads(p[-1]) if p[-1] else None
        out.append(tuple.__new__(ConsignmentRow, (
            "", p[0], declarant, None, *p[1:11], 0, 0, *p[11:-1], document)))
    return out


def _int_column(rows: list[tuple[Any, ...]], index: int) -> np.ndarray:
    return np.fromiter(map(itemgetter(index), rows), dtype=np.int64, count=len(rows))


def _compute_indexed(store: LedgerStore, declarant: str, year: int, *, factor_set: FactorSet,
                     options: DeclarationOptions) -> Declaration | None:
    """The declaration from the index, column by column: places, order and multiproofs with
    numpy, the dataset by :func:`declaration_subject_columns`; ``None`` when the records must
    be read one by one (:func:`~ledger.declaration.index.indexed_consignments`)."""
    indexed = indexed_consignments(store, declarant, year)
    if indexed is None:
        return None
    found, profiles = indexed
    del indexed
    count = len(found)
    shipment_ids = list(map(itemgetter(0), found))
    batch_col = _int_column(found, 5)
    problems: list[InputProblem] = []
    batch_ids, first_of = np.unique(batch_col, return_index=True)
    by_batch = anchors_of(store, set(batch_ids.tolist()),
                          problems, {b: shipment_ids[i] for b, i in
                                     zip(batch_ids.tolist(), first_of.tolist(), strict=True)})
    if problems:
        raise InputError(problems)
    consignment_set = _check_factor_sets(by_batch, factor_set)
    ordered_batches = sorted(by_batch, key=lambda b: (by_batch[b].exporter,
                                                      by_batch[b].batch_key))
    anchors = [by_batch[b] for b in ordered_batches]
    chain_id, contract = _chain(anchors)
    anchor_of = {b: i for i, b in enumerate(ordered_batches)}
    anchor_col = np.array([anchor_of[b] for b in batch_ids.tolist()],
                          dtype=np.int64)[np.searchsorted(batch_ids, batch_col)]
    tree_indices = list(map(itemgetter(7), found))
    if tree_indices.count(None) == count:  # none stored: each found by its leaf hash
        tree_col = np.full(count, -1, dtype=np.int64)
    elif None not in tree_indices:
        tree_col = np.array(tree_indices, dtype=np.int64)
    else:
        tree_col = np.fromiter((-1 if t is None else t for t in tree_indices), dtype=np.int64,
                               count=count)
    del tree_indices
    position = _int_column(found, 6) if any(
        by_batch[b].path != "root" for b in ordered_batches) else None
    leaf_hashes = list(map(itemgetter(2), found))
    place = np.empty(count, dtype=np.int64)
    trees: dict[int, bytes] = {}
    by_anchor = np.argsort(anchor_col, kind="stable")
    bounds = np.searchsorted(anchor_col[by_anchor], np.arange(len(ordered_batches) + 1))
    for k, batch in enumerate(ordered_batches):
        mine = by_anchor[bounds[k]:bounds[k + 1]]
        if position is not None and by_batch[batch].path != "root":
            place[mine] = -position[mine]
            continue
        tree = trees[batch] = store.batch_tree(batch) or b""
        picked = mine.tolist()
        place[mine] = _places(tree, tree_col[mine], _picked(leaf_hashes, picked),
                              _naming(shipment_ids, picked))
    del leaf_hashes
    order = np.lexsort((-place, anchor_col))
    if count > 1 and bool(np.any((np.diff(anchor_col[order]) == 0)
                                 & (np.diff(place[order]) == 0))):
        raise InputError([InputProblem("two consignments sit at one place of a batch; the "
                                       "store is damaged", field="store")])
    order_list = order.tolist()
    profile_ids, profile_col = np.unique(_int_column(found, 8), return_inverse=True)
    columns = Columns(
        shipment_ids=_picked(shipment_ids, order_list),
        record_hashes=_picked(list(map(itemgetter(1), found)), order_list),
        co2e_wtw_g=_int_column(found, 3)[order], co2e_ttw_g=_int_column(found, 4)[order],
        anchors=anchor_col[order], release_dates=_picked(list(map(itemgetter(9), found)),
                                                         order_list),
        net_mass_g=_int_column(found, 10)[order], embedded_g=_int_column(found, 11)[order],
        profile=profile_col.reshape(-1)[order],
        profiles=_profile_rows(profiles, profile_ids.tolist(), declarant))
    del found  # a tuple per consignment, not kept while the document is built
    entry_anchor = anchor_col[order]
    entry_place = place[order]

    def proofs(_number: int, members: list[int]) -> list[dict[str, Any]]:
        picked = np.asarray(members, dtype=np.int64)
        groups = entry_anchor[picked]
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]).tolist()
        out: list[dict[str, Any]] = []
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(members)
            batch = ordered_batches[int(groups[start])]
            if by_batch[batch].path == "root":
                _, proof = multiproof_fast(trees[batch], entry_place[picked[start:end]])
                out.append({"anchor": int(groups[start]), "first": start,
                            "count": end - start, **proof.to_dict()})
        return out

    subject = declaration_subject_columns(
        columns, anchors, declarant=declarant, year=year, factor_set=factor_set,
        options=options, consignment_factor_set_id=consignment_set, proofs=proofs)
    return Declaration(subject, chain_id, contract)


def _picked(items: Sequence[Any], order: list[int]) -> list[Any]:
    """``[items[i] for i in order]``, in C."""
    if not order:
        return []
    return [items[order[0]]] if len(order) == 1 else list(itemgetter(*order)(items))


def _naming(shipment_ids: list[str], picked: list[int]) -> Callable[[int], str]:
    """The shipment id of the ``i``-th of the ``picked`` records."""
    return lambda i: shipment_ids[picked[i]]


def _tree_places(tree: bytes, leaves: list[Any], shipment_ids: list[str]) -> np.ndarray:
    """:func:`_places` of records given as (record hash, leaf hash, WTW grams, TTW grams,
    batch id, position, tree index)."""
    return _places(tree, np.array([-1 if leaf[6] is None else leaf[6] for leaf in leaves],
                                  dtype=np.int64), [leaf[1] for leaf in leaves],
                   shipment_ids.__getitem__)


def _places(tree: bytes, tree_index: np.ndarray, leaf_hashes: list[str | None],
            shipment_id: Callable[[int], str]) -> np.ndarray:
    """Where each record's leaf sits in its batch's stored tree: its stored index (-1: none),
    else found by its leaf hash (hex text) among the tree's leaves (stored in descending
    order) with one binary search each in numpy (on the hashes' first 8 bytes as a number,
    then on the whole hash where two leaves share those). ``shipment_id(i)`` names record
    ``i`` when its leaf is not in the tree."""
    size = len(tree) // 32
    count = (size + 1) // 2
    out = tree_index.copy()
    missing = np.flatnonzero(out < 0)
    if len(missing):
        ascending = np.frombuffer(tree, dtype="S32", count=size)[size - count:][::-1]
        texts = _picked(leaf_hashes, missing.tolist())
        try:
            if set(map(len, texts)) == {66}:  # "0x" and 64 hex digits each: cut in numpy
                digits = np.frombuffer("".join(texts).encode("ascii"), dtype=np.uint8)
                text = digits.reshape(len(texts), 66)[:, 2:].tobytes().decode("ascii")
            else:
                text = "".join(t[2:] for t in texts)
            wanted = np.frombuffer(bytes.fromhex(text), dtype="S32")
        except (TypeError, ValueError):
            wanted = np.zeros(0, dtype="S32")
        found = np.full(len(texts), count)
        hit = np.zeros(len(texts), dtype=np.bool_)
        if len(wanted) == len(texts):
            nodes = np.frombuffer(tree, dtype=np.uint8, count=32 * size).reshape(size, 32)
            keys = np.ascontiguousarray(nodes[size - count:, :8][::-1]).view(">u8").ravel()
            found = np.searchsorted(keys, np.ascontiguousarray(
                wanted.view(np.uint8).reshape(-1, 32)[:, :8]).view(">u8").ravel())
            hit = found < count
            hit[hit] = ascending[found[hit]] == wanted[hit]
            if not hit.all():  # a shared first 8 bytes: the whole hash decides
                again = np.flatnonzero(~hit)
                found[again] = np.searchsorted(ascending, wanted[again])
                hit[again] = found[again] < count
                hit[again[hit[again]]] = ascending[found[again[hit[again]]]] \
                    == wanted[again[hit[again]]]
        if not hit.all():
            first = int(missing[int(np.flatnonzero(~hit)[0])])
            raise InputError([InputProblem(
                "the stored tree of the consignment's batch does not hold its leaf; the store "
                "is damaged", shipment_id=shipment_id(first))])
        out[missing] = size - 1 - found
    return out


def _place(store: LedgerStore, consignment: StoredConsignment, anchoring: Anchoring,
           trees: dict[int, tuple[bytes, dict[bytes, int]]]) -> int:
    record = consignment.record
    if anchoring.path != "root":
        return -record.position
    batch = consignment.batch_id
    if batch not in trees:
        tree = store.batch_tree(batch) or b""
        size = len(tree) // 32
        leaves = {tree[32 * i:32 * i + 32]: i for i in range(size // 2, size)}
        trees[batch] = (tree, leaves)
    if record.tree_index is not None:
        return record.tree_index
    leaf = bytes.fromhex((record.leaf_hash or "0x")[2:])
    found = trees[batch][1].get(leaf)
    if found is None:
        raise InputError([InputProblem(
            "the stored tree of the consignment's batch does not hold its leaf; the store is "
            "damaged", shipment_id=record.shipment_id)])
    return found


def _entry(consignment: StoredConsignment, anchor: int, embed: bool) -> Entry:
    record = consignment.record
    return Entry(consignment.row, record.record_hash, record.co2e_wtw_g, record.co2e_ttw_g,
                 anchor, orjson.loads(record.record_json) if embed else None)


def issue_declaration(declaration: Declaration, *, issuer_key: bytes | str,
                      issued_at: datetime, declaration_id: str | None = None) -> dict[str, Any]:
    """The declaration signed by the declarant's key (the report envelope)."""
    from eth_account import Account

    stamp = issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = {
        "@context": [vc.VC_CONTEXT],
        "id": declaration_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", DECLARATION_TYPE],
        "issuer": vc.did_pkh(declaration.chain_id, Account.from_key(issuer_key).address),
        "validFrom": stamp,
        "credentialSubject": declaration.subject,
    }
    return vc.sign_credential(credential, issuer_key, chain_id=declaration.chain_id,
                              verifying_contract=declaration.contract, created=stamp)
