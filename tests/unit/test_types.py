"""Bytes32: the one shape of 32-byte values at the library's seams."""

from __future__ import annotations

import pytest

from ledger.errors import InputError
from ledger.types import Bytes32

TEXT = "0x" + "Ab" * 32


def test_text_and_bytes_give_the_same_value_and_text_comes_back_lower_case() -> None:
    from_text = Bytes32.parse(TEXT)
    from_bytes = Bytes32.parse(bytes.fromhex("ab" * 32))
    assert from_text == from_bytes == bytes.fromhex("ab" * 32)
    assert type(from_text) is Bytes32 and len(from_text) == 32
    assert from_text.hex0x == str(from_text) == TEXT.lower()
    assert Bytes32.parse(from_text) is from_text
    assert {from_text: 1}[bytes.fromhex("ab" * 32)] == 1  # hashes like the bytes it is


@pytest.mark.parametrize("bad", [
    "0x" + "ab" * 31, "ab" * 32, "0x" + "zz" * 32, " 0x" + "ab" * 32, b"\x01" * 31, 32, None,
])
def test_anything_else_is_an_input_error_naming_the_field(bad: object) -> None:
    with pytest.raises(InputError, match="record_hash must be 32 bytes"):
        Bytes32.parse(bad, "record_hash")


def test_construction_checks_the_length() -> None:
    with pytest.raises(InputError, match="expected 32 bytes, got 33"):
        Bytes32(b"\x00" * 33)
