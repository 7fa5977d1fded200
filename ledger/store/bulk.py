"""The bulk record writer: batches whose records arrive in pieces, stored as record blocks.

A record block is the canonical bytes of many records, concatenated and compressed
(:mod:`ledger.records.blocks`); each record's row points into it by offset and length instead of
holding its bytes. :class:`BulkBatches` works inside the one transaction
:meth:`ledger.store.store.LedgerStore.bulk_batches` opens.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.errors import StoreError
from ledger.records.blocks import BLOCK_CODEC
from ledger.store.engine import new_id, now
from ledger.store.records import insert_batch, insert_records
from ledger.store.rows import BlockRecords
from ledger.store.schema import batches, record_blocks, records
from ledger.types import Bytes32

__all__ = ["BulkBatches"]


class BulkBatches:
    """Batches stored while their records are still being built, in the one transaction of
    :meth:`LedgerStore.bulk_batches`: open a batch before its key is known, add its records as
    record blocks in any order and in as many pieces as they come, then seal it with its key
    (and tree).

    Readers see nothing before the commit; a batch left unsealed, or sealed with a record count
    other than the one it was opened with, fails the block, which rolls everything back.
    """

    def __init__(self, conn: Connection, scope_id: int) -> None:
        self._conn = conn
        self.scope_id = scope_id
        self._now = now()
        self._open: dict[int, int] = {}

    def open_batch(self, path: str, factor_set_id: str, shipment_count: int) -> int:
        """A new batch of ``shipment_count`` records under a placeholder key; its id."""
        placeholder = f"unsealed-{secrets.token_hex(16)}"
        batch_id = insert_batch(self._conn, self.scope_id, path, placeholder,
                                factor_set_id=factor_set_id, shipment_count=shipment_count,
                                tree=None, now=self._now)
        self._open[batch_id] = shipment_count
        return batch_id

    def add_block(self, data: bytes, block: BlockRecords,
                  placement: Sequence[tuple[int, int, int, int]]) -> int:
        """Records stored together as one record block: ``data`` is their canonical bytes,
        concatenated in order and packed by :func:`ledger.records.blocks.pack_block`; ``block``
        holds the rest of each record, column by column; ``placement`` says where the records go,
        as (open batch id, first record, end record, position in the batch of the first) runs
        that cover the block in order. Returns the block's id."""
        count = len(block.lengths)
        covered = 0
        for batch_id, first, end, _ in placement:
            if batch_id not in self._open:
                raise StoreError(f"batch {batch_id} is not open in this transaction")
            if first != covered or end <= first:
                raise StoreError("a record block's placement must cover it in order")
            covered = end
        if covered != count or len(block.shipment_ids) != count \
                or len(block.grams) != 2 * count or any(
                    len(column) != 32 * count
                    for column in (block.shipment_keys, block.record_hashes, block.leaf_hashes)):
            raise StoreError("a record block's columns do not match its record count")
        block_id = new_id(self._conn.execute(record_blocks.insert().values(
            scope_id=self.scope_id, codec=BLOCK_CODEC, record_count=count, data=data,
            created_at=self._now,
        )))
        offsets = list(itertools.accumulate(block.lengths, initial=0))
        for batch_id, first, end, position in placement:
            _insert_block_rows(self._conn, (self.scope_id, batch_id, block_id), block,
                               offsets, (first, end, position))
        return block_id

    def seal(self, batch_id: int, batch_key: Bytes32 | str, tree: bytes | None = None) -> None:
        """Give an open batch its key (its Merkle root, or batch id) and tree once all its
        records are in."""
        expected = self._open.pop(batch_id, None)
        if expected is None:
            raise StoreError(f"batch {batch_id} is not open in this transaction")
        stored = self._conn.execute(sa.select(sa.func.count()).select_from(records)
                                    .where(records.c.batch_id == batch_id)).scalar()
        if stored != expected:
            raise StoreError(f"batch {batch_key} was opened for {expected} records but holds "
                             f"{stored}; nothing was stored")
        self._conn.execute(batches.update().where(batches.c.id == batch_id)
                           .values(batch_key=Bytes32.parse(batch_key, "batch_key").hex0x,
                                   tree=tree))

    def check_sealed(self) -> None:
        if self._open:
            raise StoreError(f"batches {sorted(self._open)} were opened but never sealed; "
                             "nothing was stored")


def _insert_block_rows(conn: Connection, owners: tuple[int, int, int], block: BlockRecords,
                       offsets: Sequence[int], span: tuple[int, int, int]) -> None:
    """Rows for records ``first:end`` of a block, at positions from ``position`` on."""
    scope_id, batch_id, block_id = owners
    first, end, position = span
    keys, hashes, leaves = (column[32 * first:32 * end].hex() for column in
                            (block.shipment_keys, block.record_hashes, block.leaf_hashes))
    ids, grams, lengths = block.shipment_ids, block.grams, block.lengths
    rows = [
        (scope_id, batch_id, ids[index], "0x" + keys[at:at + 64], "0x" + hashes[at:at + 64],
         grams[2 * index], grams[2 * index + 1], None, position + index - first,
         "0x" + leaves[at:at + 64], None, offsets[index], lengths[index], block_id)
        for index, at in zip(range(first, end), range(0, 64 * (end - first), 64), strict=True)
    ]
    insert_records(conn, rows)
