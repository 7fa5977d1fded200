"""Gas arithmetic and the packed batch format: local rules, checked against a real node."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain.gas import (
    MAX_TX_GAS,
    MAX_UINT48,
    ShipmentEntry,
    batch_gas_bound,
    calldata_tokens,
    floor_gas,
    intrinsic_gas,
    pack_shipments,
    plan_batches,
    unpack_shipments,
)
from ledger.errors import InputError
from ledger.records.canonical import shipment_id_of

WRITER = "0x" + "ab" * 20
ids = st.binary(min_size=32, max_size=32).filter(lambda b: b != bytes(32))
grams = st.integers(min_value=0, max_value=MAX_UINT48)


def entry_of(key: bytes, record_hash: bytes, wtw: int, ttw: int) -> ShipmentEntry:
    """An entry whose id is the one the contract derives for ``WRITER`` from ``key``."""
    return ShipmentEntry(shipment_id_of(WRITER, key), record_hash, wtw, ttw, key)


entries = st.builds(entry_of, ids, ids, grams, grams)


def random_entry(co2e_g: int = 1_234_567) -> ShipmentEntry:
    return entry_of(os.urandom(32), os.urandom(32), co2e_g, co2e_g // 2)


def test_eip7623_floor_counts_four_tokens_per_nonzero_byte() -> None:
    assert calldata_tokens(b"\x00" * 10 + b"\x01" * 10) == 10 + 40
    assert floor_gas(b"\x00" * 10 + b"\x01" * 10) == 21_000 + 10 * 50
    assert intrinsic_gas(b"\x01" * 10) == 21_000 + 4 * 40
    assert intrinsic_gas(b"", create=True) == 53_000


@given(st.lists(entries, max_size=20))
def test_packing_is_76_bytes_per_shipment_and_reversible(batch: list[ShipmentEntry]) -> None:
    packed = pack_shipments(batch)
    assert len(packed) == 76 * len(batch)
    assert unpack_shipments(packed, WRITER) == batch


def test_amounts_are_big_endian_uint48_after_the_key_and_hash() -> None:
    entry = ShipmentEntry(b"\x03" * 32, b"\x02" * 32, 0x0102030405, 7, b"\x01" * 32)
    # the calldata carries the key, never the id: the contract derives the id from its sender
    assert entry.packed()[:64] == b"\x01" * 32 + b"\x02" * 32
    assert entry.packed()[64:] == bytes.fromhex("000102030405" "000000000007")


@pytest.mark.parametrize(
    ("shipment_id", "record_hash", "wtw", "field"),
    [
        (b"\x01" * 31, b"\x02" * 32, 1, "shipment_id"),
        (bytes(32), b"\x02" * 32, 1, "shipment_id"),
        (b"\x01" * 32, b"\x02" * 32, MAX_UINT48 + 1, "co2e_wtw_g"),
        (b"\x01" * 32, b"\x02" * 32, -1, "co2e_wtw_g"),
        (b"\x01" * 32, b"\x02" * 32, 1.5, "co2e_wtw_g"),
    ],
)
def test_entries_that_cannot_go_on_chain_are_refused(
    shipment_id: bytes, record_hash: bytes, wtw: int, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        ShipmentEntry(shipment_id, record_hash, wtw, 0, b"\x04" * 32)
    assert caught.value.problems[0].field == field


@pytest.mark.parametrize("key", [b"\x04" * 31, bytes(32)])
def test_entry_with_a_key_that_cannot_go_on_chain_is_refused(key: bytes) -> None:
    with pytest.raises(InputError) as caught:
        ShipmentEntry(b"\x01" * 32, b"\x02" * 32, 1, 0, key)
    assert caught.value.problems[0].field == "shipment_key"


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=1, max_value=12_000), st.floats(min_value=1.0, max_value=2.0))
def test_planned_batches_fit_the_cap_with_the_margin(count: int, margin: float) -> None:
    batch = [ShipmentEntry(i.to_bytes(32, "big"), b"\xff" * 32, MAX_UINT48, MAX_UINT48,
                           b"\xff" * 32) for i in range(1, count + 1)]
    plan = plan_batches(batch, gas_margin=margin)
    assert [e for b in plan for e in b] == batch
    for part in plan:
        assert batch_gas_bound(part) * margin <= MAX_TX_GAS
    # no needless split: merging the two smallest neighbours would not fit
    if len(plan) > 1:
        assert batch_gas_bound(plan[0] + plan[1][:1]) * margin > MAX_TX_GAS


def test_plan_honours_a_maximum_batch_size() -> None:
    batch = [random_entry() for _ in range(25)]
    assert [len(b) for b in plan_batches(batch, max_shipments=10)] == [10, 10, 5]


@pytest.mark.parametrize("count", [1, 100, 1000])
def test_gas_bound_covers_the_nodes_estimate(chain, count: int) -> None:
    exporter = chain.exporter
    batch = [random_entry(co2e_g) for co2e_g in (1, MAX_UINT48) for _ in range(count // 2 or 1)]
    data = exporter.record_shipments_calldata(os.urandom(32), chain.factor_set_id, batch)
    estimate = exporter.client.estimate_gas(exporter.address, data)
    bound = batch_gas_bound(batch)
    assert estimate <= bound <= estimate * 1.25
