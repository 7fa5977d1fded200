"""Values that cross the library's seams in one shape.

:class:`Bytes32` is every 32-byte value of the ledger: record hashes, on-chain shipment ids,
factor-set ids, batch ids, Merkle roots and transaction hashes. It *is* ``bytes`` (so web3,
eth-abi, hashing and comparisons take it as it is) and it reads and writes the ``0x`` text form
that records, reports and JSON carry, so no module converts between the two by hand::

    >>> root = Bytes32.parse("0x" + "ab" * 32)
    >>> root.hex0x == "0x" + "ab" * 32 and len(root) == 32
    True
"""

from __future__ import annotations

import re
from typing import Self

from ledger.errors import InputError, InputProblem

__all__ = ["Bytes32"]

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")


class Bytes32(bytes):
    """Exactly 32 bytes; ``str()`` and :attr:`hex0x` give ``0x`` + 64 lower-case hex digits."""

    __slots__ = ()

    def __new__(cls, value: bytes | bytearray | memoryview) -> Self:
        made = super().__new__(cls, value)
        if len(made) != 32:
            raise InputError([InputProblem(f"expected 32 bytes, got {len(made)}")])
        return made

    @classmethod
    def parse(cls, value: object, name: str = "value") -> Self:
        """A ``Bytes32`` from 32 bytes or from ``0x`` + 64 hex digits (either case); anything
        else is an :class:`~ledger.errors.InputError` naming ``name``."""
        # Hot in proof checks and planning: the text form first, checked once, built without
        # a second length check.
        if type(value) is str:
            if _HEX32.fullmatch(value):
                return bytes.__new__(cls, bytes.fromhex(value[2:]))
        elif isinstance(value, cls):
            return value
        elif isinstance(value, bytes | bytearray | memoryview) and len(value) == 32:
            return bytes.__new__(cls, value)
        raise InputError([InputProblem(
            f"{name} must be 32 bytes or 0x followed by 64 hex digits, got {value!r:.80}",
            field=name)])

    @property
    def hex0x(self) -> str:
        """``0x`` + 64 lower-case hex digits: the form records, reports and JSON carry."""
        return "0x" + self.hex()

    def __str__(self) -> str:
        return self.hex0x

    def __repr__(self) -> str:
        return f"Bytes32({self.hex0x})"
