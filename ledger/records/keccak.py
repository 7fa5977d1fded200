"""keccak-256, Ethereum's hash (the original Keccak padding, not FIPS 202 SHA3-256).

One implementation: ``safe-pysha3``'s compiled ``keccak_256``, the fastest installed (about 0.8 µs
for 64 bytes against about 5 µs for pycryptodome's ``keccak.new`` and 10 µs for ``Web3.keccak``;
``scripts/bench_merkle.py``). The tests hold it against pycryptodome's ``keccak.new``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sha3 import keccak_256

__all__ = ["keccak256", "keccak256_endings", "keccak256_hex", "keccak_many"]


def keccak256(data: bytes | bytearray | memoryview) -> bytes:
    """keccak-256 (Ethereum's hash, not SHA3-256) of ``data``, 32 bytes."""
    return keccak_256(data).digest()  # type: ignore[no-any-return]


def keccak256_hex(data: bytes | bytearray | memoryview) -> str:
    """keccak-256 of ``data`` as ``0x`` and 64 lower-case hex digits."""
    return "0x" + keccak_256(data).hexdigest()  # type: ignore[no-any-return]


def keccak_many(items: Iterable[bytes]) -> list[bytes]:
    """keccak-256 of each of ``items`` (``bytes``), in order: for trees and other long loops."""
    return [keccak_256(data).digest() for data in items]



def keccak256_endings(common: Iterable[bytes | memoryview],
                      endings: Iterable[bytes | memoryview]) -> list[bytes]:
    """keccak-256 of the parts of ``common`` joined, followed by each of ``endings``, in order:
    the common beginning absorbed once (long documents that differ only at their end)."""
    state = keccak_256()
    for part in common:
        state.update(part)
    out = []
    for ending in endings:
        one = state.copy()
        one.update(ending)
        out.append(one.digest())
    return out
