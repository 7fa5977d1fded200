"""Canonical JSON (RFC 8785 over integers), keccak-256 and the on-chain shipment id."""

from __future__ import annotations

import datetime
import json
import os
import threading
import uuid
from collections import OrderedDict
from decimal import Decimal
from enum import Enum, IntEnum
from typing import Any

import numpy
import pytest
import rfc8785
from Crypto.Hash import keccak as pycryptodome_keccak
from eth_abi import encode as abi_encode
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InputError, LedgerError
from ledger.records import canonical, keccak
from ledger.records.canonical import (
    MAX_SAFE_INTEGER,
    SHIPMENT_ID_RULE,
    canonical_hash,
    canonical_json,
    chain_shipment_id,
    chain_shipment_id_bytes,
    chain_shipment_id_function,
    chain_shipment_key,
    chain_shipment_key_bytes,
    chain_shipment_key_function,
    normalise_address,
    parse_canonical,
    shipment_id_of,
)
from ledger.records.keccak import keccak256, keccak256_hex


def reference_keccak(data: bytes) -> bytes:
    return pycryptodome_keccak.new(data=data, digest_bits=256).digest()


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)
    | st.text()
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


# ---------------------------------------------------------------------------- RFC 8785 examples


def test_members_sorted_by_utf16_code_units_as_in_rfc8785_section_3_2_3() -> None:
    document = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    expected = (
        '{"\\r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in UTF-16
    # although its code point is larger.
    assert canonical_json(document) == expected


def test_string_escaping_and_literals_as_in_rfc8785_section_3_2_2() -> None:
    # the example's "string" and "literals" members (its "numbers" are floats, outside our subset)
    document = json.loads(
        '{"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = '{"literals":[null,true,false],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert canonical_json(document) == expected.encode()


def test_unicode_is_kept_as_is_and_written_in_utf8_as_in_rfc8785_section_3_2_4() -> None:
    document = {"Unnormalized Unicode": "A\u030a"}
    assert canonical_json(document).hex(" ") == (
        "7b 22 55 6e 6e 6f 72 6d 61 6c 69 7a 65 64 20 55 6e 69 63 6f 64 65 22 3a 22 41 cc 8a 22 7d"
    )


def test_every_control_character_is_escaped_like_ecmascript() -> None:
    short = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"}
    for code in range(0x20):
        expected = short.get(code, f"\\u{code:04x}")
        assert canonical_json(chr(code)) == f'"{expected}"'.encode(), hex(code)
    # DEL, line/paragraph separators and non-ASCII stay literal
    assert canonical_json("\x7f\u2028\u2029é中") == '"\x7f\u2028\u2029é中"'.encode()


def test_no_whitespace_and_nested_members_sorted() -> None:
    document = {"b": [3, {"z": None, "a": True}], "a": {"y": -1, "x": "s"}}
    assert canonical_json(document) == b'{"a":{"x":"s","y":-1},"b":[3,{"a":true,"z":null}]}'


# ---------------------------------------------------------------------------- the integer rule


@pytest.mark.parametrize("number", [0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 146913578])
def test_integers_in_the_exact_range_are_written_plainly(number: int) -> None:
    assert canonical_json({"n": number}) == f'{{"n":{number}}}'.encode()


@pytest.mark.parametrize("number", [MAX_SAFE_INTEGER + 1, -(MAX_SAFE_INTEGER + 1), 10**30])
def test_integers_beyond_2_pow_53_are_refused_with_a_hint(number: int) -> None:
    with pytest.raises(InputError, match="decimal string") as info:
        canonical_json({"legs": [{"co2e_g": number}]})
    assert info.value.problems[0].field == "$.legs[0].co2e_g"


@pytest.mark.parametrize("bad", [1.5, 1.0, float("nan"), float("inf"), -0.0])
def test_floats_are_refused_and_the_path_is_named(bad: float) -> None:
    with pytest.raises(InputError, match="float") as info:
        canonical_json({"footprint": {"legs": [{"distance_km": "1"}, {"distance_km": bad}]}})
    assert info.value.problems[0].field == "$.footprint.legs[1].distance_km"
    assert isinstance(info.value, LedgerError)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({1: "x"}, "member name 1 is not a string"),
        ({None: "x"}, "member name None is not a string"),
        (Decimal("1.5"), "Decimal is not a JSON value"),
        (b"bytes", "bytes is not a JSON value"),
        ({"n": numpy.int64(7)}, "int64 .* is not a Python int"),
        ({"x": numpy.float64(1.5)}, "float"),
        ({"s": {1, 2}}, "set is not a JSON value"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ({"k\udc00": 1}, "lone surrogate"),
    ],
)
def test_non_json_values_are_refused(bad: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        canonical_json(bad)


def test_circular_and_overly_deep_documents_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(InputError, match="deeper than"):
        canonical_json(loop)
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    with pytest.raises(InputError, match="deeper than"):
        canonical_json(deep)


def test_booleans_are_json_literals_never_numbers() -> None:
    data = canonical_json([True, 1, False, 0])
    assert data == b"[true,1,false,0]"
    parsed = parse_canonical(data)
    assert [type(v) for v in parsed] == [bool, int, bool, int]


def test_tuples_and_int_enums_are_written_as_their_json_kind() -> None:
    class Mode(IntEnum):
        SEA = 3

    assert canonical_json({"legs": ("a", Mode.SEA)}) == b'{"legs":["a",3]}'


# ---------------------------------------------------------------------------- many at once


class _Colour(Enum):
    RED = "red"


class _IntMode(IntEnum):
    SEA = 3


_ODD_VALUES: list[Any] = [
    {"x": 1.5}, {"x": float("nan")}, {"x": float("inf")}, {"x": -0.0},
    {"x": uuid.UUID(int=7)}, {"x": _Colour.RED}, {"x": datetime.date(2026, 11, 27)},
    {"x": Decimal("1.5")}, {"x": b"bytes"}, {"x": {1, 2}}, {1: "x"}, {("a",): 1},
    {"x": MAX_SAFE_INTEGER + 1}, {"x": -(MAX_SAFE_INTEGER + 1)}, {"x": numpy.int64(3)},
    {"k\U0001f600": 1, "k\uffff": 2}, {"x": "lone \ud800"}, OrderedDict(b=1, a=2),
    {"x": ("tuple", 1)}, {"legs": ("a", _IntMode.SEA)},
]


def _nested(depth: int, leaf: Any) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _outcome(value: Any) -> bytes | str:
    try:
        return canonical_json(value)
    except InputError as exc:
        return str(exc)


@pytest.mark.parametrize("odd", range(len(_ODD_VALUES)))
def test_many_at_once_gives_each_values_own_bytes_or_error(odd: int) -> None:
    """Among plain records, each odd value gets what canonical_json gives it alone."""
    plain = [{"shipment_id": f"S{n}", "legs": [{"mass_kg": str(n), "leg": n}]} for n in range(5)]
    values = [*plain[:2], _ODD_VALUES[odd], *plain[2:]]
    expected = [_outcome(v) for v in values]
    errors = [e for e in expected if isinstance(e, str)]
    if errors:
        with pytest.raises(InputError) as excinfo:
            canonical.canonical_json_many(values)
        assert str(excinfo.value) == errors[0]
    else:
        assert canonical.canonical_json_many(values) == expected


@pytest.mark.parametrize(("depth", "leaf"), [(64, 1), (65, 1), (64, []), (65, []), (64, {}),
                                             (100, 1)])
def test_many_at_once_has_the_same_depth_limit(depth: int, leaf: Any) -> None:
    value = _nested(depth, leaf)
    try:
        got: bytes | str = canonical.canonical_json_many([value])[0]
    except InputError as exc:
        got = str(exc)
    assert got == _outcome(value)


def test_many_at_once_refuses_a_circular_value() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(InputError, match="deeper than"):
        canonical.canonical_json_many([{"a": 1}, loop])


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=6))
def test_many_at_once_equals_one_by_one(values: list[Any]) -> None:
    assert canonical.canonical_json_many(values) == [canonical_json(v) for v in values]


# ---------------------------------------------------------------------------- parsing


def test_parse_refuses_what_is_not_canonical() -> None:
    assert parse_canonical(b'{"a":1,"b":[true,null,"x"]}') == {"a": 1, "b": [True, None, "x"]}
    for text in [
        b'{"b":1,"a":2}',  # unsorted
        b'{"a": 1}',  # whitespace
        b'"\\u0041"',  # needless escape
        b'"\\u000A"',  # upper-case hex / long form of \n
    ]:
        with pytest.raises(InputError, match="not in canonical form"):
            parse_canonical(text)
    assert parse_canonical(b'{"b":1, "a":2}', require_canonical=False) == {"a": 2, "b": 1}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a":1.0}', "not an integer"),
        (b'{"a":1e3}', "not an integer"),
        (b"[NaN]", "NaN is not JSON"),
        (b"[9007199254740992]", "decimal string"),
        (b'{"a":1,"a":2}', "appears twice"),
        (b'{"a":', "not JSON"),
        (b'"\xff"', "not UTF-8"),
    ],
)
def test_parse_refuses_non_integers_duplicates_and_bad_bytes(text: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_canonical(text, require_canonical=False)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip_is_exact(value: Any) -> None:
    data = canonical_json(value)
    parsed = parse_canonical(data)
    assert parsed == value
    assert canonical_json(parsed) == data
    # and it is JSON any parser reads back to the same value
    assert json.loads(data) == value


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fast_path_gives_the_reference_writers_bytes(value: Any) -> None:
    assert canonical_json(value) == canonical.canonical_json_reference(value)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_canonical_bytes_equal_rfc8785(value: Any) -> None:
    """An independent JCS implementation gives our bytes over the supported subset."""
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical.canonical_json_reference(value) == rfc8785.dumps(value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), st.integers(0, 9), min_size=2, max_size=8))
def test_member_order_is_utf16_code_unit_order(value: dict[str, int]) -> None:
    names = [name for name, _ in json.loads(canonical_json(value), object_pairs_hook=list)]
    units = [name.encode("utf-16-be") for name in names]
    assert units == sorted(units)


# ---------------------------------------------------------------------------- keccak-256


def test_keccak_known_answers() -> None:
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )
    assert keccak256_hex(b"abc") == (
        "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"
    )
    assert keccak256(bytearray(b"abc")) == keccak256(memoryview(b"abc")) == keccak256(b"abc")


def test_keccak_matches_pycryptodome_at_every_length() -> None:
    for length in [*range(0, 300), 1000, 10_000]:
        data = os.urandom(length)
        expected = reference_keccak(data)
        assert keccak256(data) == expected, length
        assert keccak256_hex(data) == "0x" + expected.hex(), length


def test_keccak_many_hashes_each_item_in_order() -> None:
    items = [os.urandom(n) for n in (0, 1, 31, 32, 64, 135, 136, 137, 1000)]
    assert keccak.keccak_many(items) == [reference_keccak(item) for item in items]
    assert keccak.keccak_many(iter(items[:3])) == [reference_keccak(item) for item in items[:3]]
    assert keccak.keccak_many([]) == []


def test_keccak_of_a_common_beginning_and_each_ending_is_keccak_of_the_joined_bytes() -> None:
    parts = [os.urandom(n) for n in (0, 135, 136, 1000)]
    endings = [os.urandom(n) for n in (0, 1, 137, 5000)]
    joined = b"".join(parts)
    assert keccak.keccak256_endings([*parts[:2], memoryview(parts[2]), parts[3]], endings) == [
        reference_keccak(joined + ending) for ending in endings]
    assert keccak.keccak256_endings([], [b"abc"]) == [reference_keccak(b"abc")]
    assert keccak.keccak256_endings(parts, []) == []


def test_keccak_gives_right_answers_from_many_threads_at_once() -> None:
    inputs = [os.urandom(200) for _ in range(400)]
    expected = [reference_keccak(d) for d in inputs]
    failures: list[int] = []

    def work() -> None:
        for _ in range(5):
            for index, data in enumerate(inputs):
                if keccak256(data) != expected[index]:
                    failures.append(index)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_canonical_hash_is_keccak_of_the_canonical_bytes() -> None:
    document = {"b": 2, "a": "x"}
    assert canonical_hash(document) == "0x" + reference_keccak(b'{"a":"x","b":2}').hex()


# ---------------------------------------------------------------------------- identities

EIP55_EXAMPLES = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]


@pytest.mark.parametrize("address", EIP55_EXAMPLES)
def test_addresses_are_normalised_to_lower_case(address: str) -> None:
    lower = "0x" + address[2:].lower()
    assert normalise_address(address) == lower
    assert normalise_address(lower) == lower
    assert normalise_address("0x" + address[2:].upper()) == lower


@pytest.mark.parametrize("address", EIP55_EXAMPLES)
def test_a_mistyped_checksum_is_refused(address: str) -> None:
    position = next(i for i, c in enumerate(address) if i > 1 and c.isalpha())
    flipped = address[:position] + address[position].swapcase() + address[position + 1:]
    with pytest.raises(InputError, match="EIP-55 checksum"):
        normalise_address(flipped)


@pytest.mark.parametrize(
    "bad", ["", "0x123", "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0x" + "g" * 40]
)
def test_malformed_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InputError, match="not an address"):
        normalise_address(bad)


EXPORTER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_chain_shipment_key_is_the_documented_namespaced_hash() -> None:
    preimage = (
        b"carbon-ledger/shipment-id/v2|0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed|NGB-2026-0001"
    )
    expected = reference_keccak(preimage)
    assert chain_shipment_key_bytes(EXPORTER, "NGB-2026-0001") == expected
    assert chain_shipment_key(EXPORTER.lower(), "NGB-2026-0001") == "0x" + expected.hex()


def test_chain_shipment_id_is_what_the_contract_derives_from_the_writer_and_key() -> None:
    # shipmentId = keccak256(abi.encode(writer, shipmentKey)), abi-encoded here by eth_abi
    key = chain_shipment_key_bytes(EXPORTER, "NGB-2026-0001")
    expected = reference_keccak(abi_encode(["address", "bytes32"], [EXPORTER, key]))
    assert chain_shipment_id_bytes(EXPORTER, "NGB-2026-0001") == expected
    assert chain_shipment_id(EXPORTER.lower(), "NGB-2026-0001") == "0x" + expected.hex()
    assert shipment_id_of(EXPORTER, key) == expected
    assert chain_shipment_id_function(EXPORTER)("NGB-2026-0001") == expected
    assert chain_shipment_key_function(EXPORTER)("NGB-2026-0001") == key
    assert SHIPMENT_ID_RULE == 2


def test_chain_shipment_id_hides_the_id_and_separates_exporters() -> None:
    mine = chain_shipment_id_bytes(EXPORTER, "NGB-2026-0001")
    assert b"NGB" not in mine
    assert chain_shipment_id_bytes(EXPORTER, "NGB-2026-0002") != mine
    other_exporter = "0x" + "11" * 20
    assert chain_shipment_id_bytes(other_exporter, "NGB-2026-0001") != mine
    # another writer that sends this exporter's key lands under its own id, not this one
    key = chain_shipment_key_bytes(EXPORTER, "NGB-2026-0001")
    assert shipment_id_of(other_exporter, key) != mine
    # non-ASCII shipment numbers are hashed as UTF-8, exactly as written
    assert chain_shipment_key_bytes(EXPORTER, "宁波-0001") == reference_keccak(
        ("carbon-ledger/shipment-id/v2|" + EXPORTER.lower() + "|宁波-0001").encode()
    )


def test_shipment_id_of_refuses_a_key_that_is_not_32_bytes() -> None:
    with pytest.raises(InputError) as caught:
        shipment_id_of(EXPORTER, b"\x01" * 31)
    assert caught.value.problems[0].field == "shipment_key"


@pytest.mark.parametrize("bad", ["", " NGB-1", "NGB-1 ", "NGB\n1", "NGB\x001"])
def test_chain_shipment_id_refuses_ambiguous_ids(bad: str) -> None:
    with pytest.raises(InputError, match="shipment id"):
        chain_shipment_id(EXPORTER, bad)


def test_public_names_import() -> None:
    for name in canonical.__all__:
        assert hasattr(canonical, name), name
