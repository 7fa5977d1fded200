"""The streamed root path: records stored as they are built, each batch sealed with its tree.

When none of the shipments is in the store yet, forked helpers build the records chunk by chunk
(:func:`ledger.records.chunks.iter_shaped_chunks`) while this process stores each chunk as a
record block in one open transaction
(:meth:`ledger.store.store.LedgerStore.bulk_batches`), sealing each batch with its tree once its
records are in; the commit still comes before anything is signed. A shipment the store holds
already (or one named twice) makes :func:`anchor_root_streamed` give up with nothing stored, and
the run goes record by record, which sorts the shipments out one by one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ledger.anchoring.checks import preflight
from ledger.anchoring.options import AnchorResult
from ledger.anchoring.outbox import Checkpoint
from ledger.anchoring.plan import FootprintPair, PlannedCall
from ledger.anchoring.submit import Run, left_open, submit
from ledger.errors import RecordConflict
from ledger.records.blocks import pack_block
from ledger.records.chunks import EntryChunk, iter_shaped_chunks, paused_gc
from ledger.records.merkle import tree_nodes
from ledger.store.bulk import BulkBatches
from ledger.store.rows import BlockRecords, Scope
from ledger.store.store import LedgerStore
from ledger.types import Bytes32

__all__ = ["anchor_root_streamed"]


def anchor_root_streamed(run: Run, items: Sequence[FootprintPair], factor_set_id: Bytes32,
                         workers: int | None) -> AnchorResult | tuple[int, ...]:
    """Anchor (shipment, footprint) pairs on the root path with records stored as they are
    built. When the store holds one of the shipments already or the input names one twice,
    nothing is stored and those are left to be sorted out one by one: the answer is then the
    ids of the batches earlier runs had left open (settled meanwhile by this attempt), for the
    record-by-record run to report."""
    if not items:
        return ()
    store, ledger, scope = run.store, run.ledger, run.scope
    preflight(ledger, factor_set_id)
    new: list[str] = []

    def store_new(_calls: dict[str, PlannedCall]) -> None:
        new.extend(_store_root_chunks(store, scope, items, factor_set_id=factor_set_id.hex0x,
                                      batch_size=run.options.max_root_leaves,
                                      workers=workers, checkpoint=run.checkpoint))

    with store.writer_lock(scope.chain_id, scope.exporter):
        earlier = left_open(store, scope)
        try:
            resumed = submit(run, store_new)
        except RecordConflict:
            if new:  # the records were stored: the conflict came later, it is not ours to hide
                raise
            return earlier
    return AnchorResult(scope=scope, path="root", new_shipments=tuple(new), already_anchored=(),
                        resumed_batches=resumed, batches=tuple(store.batch_statuses(scope)))


def _store_root_chunks(store: LedgerStore, scope: Scope, items: Sequence[FootprintPair], *,
                       factor_set_id: str, batch_size: int, workers: int | None,
                       checkpoint: Checkpoint | None = None) -> list[str]:
    """Root batches of ``batch_size`` consecutive shipments, stored in one transaction: each
    chunk of records as it is built (one record block per chunk, by forked helpers while this
    process stores the ones before), and each batch's tree once its records are all in. Returns
    the shipment ids.
    ``checkpoint`` hears ``storing`` after each block (the transaction still open)."""
    ids: list[str] = [""] * len(items)
    with paused_gc(), store.bulk_batches(scope) as bulk:
        sizes = [min(batch_size, len(items) - start) for start in range(0, len(items), batch_size)]
        batch_ids = [bulk.open_batch("root", factor_set_id, size) for size in sizes]
        leaf_hashes: list[list[bytes]] = [[] for _ in sizes]
        missing = list(sizes)
        for chunk, block in iter_shaped_chunks(items, exporter=scope.exporter,
                                               factor_set_id=factor_set_id, shape=_packed,
                                               helpers=None if workers is None
                                               else workers if workers > 1 else 0,
                                               build_here=False):
            placement, touched = [], []  # a chunk may straddle two batches
            first, end = chunk.start, chunk.start + chunk.size
            ids[first:end] = chunk.shipment_ids
            while first < end:
                batch, position = divmod(first, batch_size)
                last = min(end, (batch + 1) * batch_size)
                placement.append((batch_ids[batch], first - chunk.start, last - chunk.start,
                                  position))
                leaf_hashes[batch].append(
                    chunk.leaf_hashes[32 * (first - chunk.start):32 * (last - chunk.start)])
                missing[batch] -= last - first
                touched.append(batch)
                first = last
            bulk.add_block(block, BlockRecords(chunk.shipment_ids, chunk.keys,
                                               chunk.record_hashes, chunk.leaf_hashes,
                                               chunk.grams, chunk.lengths), placement)
            for batch in touched:
                if missing[batch] == 0:  # complete: its tree while the other batches come
                    _seal_root(bulk, batch_ids[batch], leaf_hashes[batch])
            if checkpoint is not None:
                checkpoint("storing", None)
    return ids


def _seal_root(bulk: BulkBatches, batch_id: int, blobs: list[bytes]) -> None:
    """Seal a root batch whose records are all stored: its tree from their leaf hashes."""
    joined = b"".join(blobs)
    nodes = tree_nodes(sorted(joined[at:at + 32] for at in range(0, len(joined), 32)))
    bulk.seal(batch_id, Bytes32(nodes[0]).hex0x, b"".join(nodes))


def _packed(chunk: EntryChunk) -> tuple[EntryChunk, bytes]:
    """A chunk with its records packed as a record block (where the chunk was built)."""
    return chunk._replace(records=b""), pack_block(chunk.records)
