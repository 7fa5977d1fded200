"""Record blocks: many canonical records stored as one compressed block.

100,000 shipments of the demo lanes make about 200 MB of canonical records, nearly all of it the
same member names and factor ids over and over. Stored one by one they are most of what the
store writes; packed side by side 2,000 at a time and compressed together (Zstandard, level 1)
they take about 1/35 of the room, and compressing them costs less than writing them would.

A block is the records concatenated in order, compressed as one Zstandard frame that names its
decompressed size. A record in a block is found by its offset and length in the decompressed
bytes; the store keeps those beside each record (``records.block_offset``/``block_length``).
Reading one record decompresses its block (a few MB, a few milliseconds); readers of many
records decompress each block once.
"""

from __future__ import annotations

import zstandard

from ledger.errors import StoreError

__all__ = ["BLOCK_CODEC", "pack_block", "unpack_block"]

#: The codec name stored with each block.
BLOCK_CODEC = "zstd"
_LEVEL = 1


def pack_block(records: bytes) -> bytes:
    """The block of ``records``: canonical records concatenated in order."""
    return zstandard.ZstdCompressor(level=_LEVEL).compress(records)  # type: ignore[no-any-return]


def unpack_block(codec: str, data: bytes) -> bytes:
    """The decompressed bytes of a stored block."""
    if codec != BLOCK_CODEC:
        raise StoreError(f"record block codec {codec!r} is not one this version reads "
                         f"({BLOCK_CODEC!r})")
    try:
        return zstandard.ZstdDecompressor().decompress(data)
    except zstandard.ZstdError as exc:
        raise StoreError(f"a stored record block is damaged: {exc}") from exc
