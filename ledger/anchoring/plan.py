"""Records ready to anchor, and the batches they go on chain in.

:func:`prepare_footprints` turns (shipment, footprint) dicts into :class:`PreparedRecord` s
(canonical bytes and leaf, each computed once). :func:`plan_event_batches` splits them into
per-shipment batches that each fit one transaction under the gas cap;
:func:`plan_root_batches` into Merkle batches of at most ``max_root_leaves`` shipments, each with
its tree. Either gives :class:`~ledger.store.store.NewBatch` es for the store, with every 32-byte
value in the ``0x`` text form the store keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ledger.anchoring.options import AnchorOptions
from ledger.chain.contract import CarbonLedgerContract
from ledger.chain.gas import (
    ShipmentEntry,
    batch_gas_bound,
    batch_id_for,
    pack_shipments,
    plan_batches,
)
from ledger.records.canonical import chain_shipment_key_function
from ledger.records.chunks import build_entries, paused_gc
from ledger.records.merkle import Leaf, build_tree
from ledger.store.rows import NewBatch, NewRecord
from ledger.types import Bytes32

__all__ = [
    "FootprintPair",
    "PlannedCall",
    "PreparedRecord",
    "plan_event_batches",
    "plan_root_batches",
    "prepare_footprints",
]

#: A shipment and its footprint as dicts (``Shipment.to_dict()``,
#: ``ShipmentFootprint.to_dict()``): what a record is built from.
FootprintPair = tuple[Mapping[str, object], Mapping[str, object]]


class PreparedRecord(NamedTuple):
    """A record ready to anchor: its canonical bytes, its leaf (hash, on-chain id, totals) and
    the shipment key the calldata carries (the contract derives the leaf's id from it and the
    sender). ``row`` is its 1-based place in the input, for the problems a check reports."""

    shipment_id: str
    canonical: bytes
    leaf: Leaf
    shipment_key: bytes
    row: int | None = None

    @property
    def record_hash(self) -> bytes:
        return self.leaf.record_hash

    @property
    def chain_shipment_id(self) -> bytes:
        return self.leaf.shipment_id

    @property
    def co2e_wtw_g(self) -> int:
        return self.leaf.co2e_wtw_g

    @property
    def co2e_ttw_g(self) -> int:
        return self.leaf.co2e_ttw_g

    def entry(self) -> ShipmentEntry:
        return ShipmentEntry(*self.leaf, self.shipment_key)


def prepare_footprints(pairs: Iterable[FootprintPair], *, exporter: str, factor_set_id: str,
                       workers: int | None = None) -> list[PreparedRecord]:
    """Records of (shipment, footprint) dicts, each canonicalised and hashed once
    (:func:`ledger.records.chunks.build_entries`, on several processes for large inputs).
    ``workers``: as ``build_entries`` takes it."""
    items = pairs if isinstance(pairs, Sequence) else list(pairs)
    with paused_gc():
        entries = build_entries(items, exporter=exporter, factor_set_id=factor_set_id,
                                workers=workers)
        shipment_key = chain_shipment_key_function(exporter)
        return [
            PreparedRecord(str(shipment["shipment_id"]), entry.canonical, entry.leaf,
                           shipment_key(str(shipment["shipment_id"])), row)
            for row, ((shipment, _), entry) in enumerate(zip(items, entries, strict=True),
                                                         start=1)
        ]


class PlannedCall(NamedTuple):
    """A per-shipment batch as planned: its ``packed`` argument and its gas bound (no margin)."""

    packed: bytes
    gas_bound: int


def _new_record(record: PreparedRecord, position: int) -> NewRecord:
    shipment_key, record_hash, wtw_g, ttw_g = record.leaf
    return NewRecord(record.shipment_id, Bytes32(shipment_key).hex0x, Bytes32(record_hash).hex0x,
                     wtw_g, ttw_g, record.canonical, position)


def plan_event_batches(ledger: CarbonLedgerContract, factor_set_id: Bytes32,
                       records: Sequence[PreparedRecord], options: AnchorOptions,
                       calls: dict[str, PlannedCall] | None = None) -> list[NewBatch]:
    """Per-shipment batches, each small enough for one transaction under the gas cap.

    ``calls``, when given, receives each batch's :class:`PlannedCall` by batch key, so that
    :func:`ledger.anchoring.submit.batch_call` need not rebuild the batch from the store.
    """
    by_key = {r.chain_shipment_id: r for r in records}
    plan = plan_batches(
        [r.entry() for r in records], max_gas=ledger.client.max_tx_gas,
        gas_margin=ledger.client.settings.gas_margin, max_shipments=options.max_batch_shipments,
    )
    batches = []
    for entries in plan:
        packed = pack_shipments(entries)
        batch_key = Bytes32(batch_id_for(factor_set_id, packed)).hex0x
        if calls is not None:
            calls[batch_key] = PlannedCall(packed, batch_gas_bound(entries))
        batches.append(NewBatch(
            "events", batch_key, factor_set_id.hex0x,
            [_new_record(by_key[e.shipment_id], i) for i, e in enumerate(entries)],
        ))
    return batches


def plan_root_batches(factor_set_id: Bytes32, records: Sequence[PreparedRecord],
                      options: AnchorOptions) -> list[NewBatch]:
    """Merkle batches of at most ``max_root_leaves`` shipments, each with its tree."""
    batches = []
    size = options.max_root_leaves
    for start in range(0, len(records), size):
        chunk = records[start:start + size]
        tree = build_tree([r.leaf for r in chunk])
        nodes = tree.nodes
        batches.append(NewBatch(
            "root", Bytes32(tree.root_bytes).hex0x, factor_set_id.hex0x,
            [NewRecord(r.shipment_id, Bytes32(r.leaf[0]).hex0x, Bytes32(r.leaf[1]).hex0x,
                       r.leaf[2], r.leaf[3], r.canonical, i, Bytes32(nodes[tree_index]).hex0x,
                       tree_index)
             for i, (r, tree_index) in enumerate(zip(chunk, tree.tree_indices, strict=True))],
            tree=b"".join(nodes),
        ))
    return batches
