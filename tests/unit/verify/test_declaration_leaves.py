"""The verifier's leaf hashes of a multiproof group, taken all at once where the consignments are
plainly written, are the ones taken one by one; where one is not, the group is taken one by one,
which names the first problem as before."""

from __future__ import annotations

import random
from typing import Any

import pytest

from ledger.errors import InputError
from ledger.records.canonical import chain_shipment_id_bytes, chain_shipment_ids
from ledger.records.merkle import Leaf
from ledger.verify.declaration import _bytes32_list, _LeafHashes

EXPORTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _group(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [{"exporter": EXPORTER.lower(), "shipmentId": f"S-{seed}-{n}-宁波" if n % 3 == 0
             else f"S-{seed}-{n}", "recordHash": "0x" + rng.randbytes(32).hex(),
             "co2eWtwG": rng.randrange(10**12), "co2eTtwG": rng.randrange(10**11)}
            for n in range(count)]


def _expected(c: dict[str, Any]) -> bytes:
    return Leaf(chain_shipment_id_bytes(str(c["exporter"]), str(c["shipmentId"])),
                bytes.fromhex(str(c["recordHash"])[2:]), int(c["co2eWtwG"]),
                int(c["co2eTtwG"])).hash()


def test_plain_groups_are_hashed_together_as_one_by_one() -> None:
    hashes = _LeafHashes()
    for count in (0, 1, 5, 64):
        group = _group(count, count)
        assert _LeafHashes._together(group) is not None
        assert hashes(group) == [_expected(c) for c in group] == hashes._one_by_one(group)


def _problem(fn: Any, group: list[dict[str, Any]]) -> str:
    try:
        return repr(fn(group))
    except Exception as exc:  # the exception is what is compared
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize(("field", "value"), [
    ("exporter", "0x" + "33" * 20), ("exporter", "not an address"), ("exporter", 7),
    ("shipmentId", " S-1"), ("shipmentId", "S\n1"), ("shipmentId", ""), ("shipmentId", 12),
    ("shipmentId", "S-\ud800"), ("recordHash", "0x" + "ab" * 31 + " a"),
    ("recordHash", "0X" + "ab" * 32), ("recordHash", "0x" + "gg" * 32),
    ("recordHash", "0x" + "ab" * 33), ("recordHash", None), ("co2eWtwG", -1),
    ("co2eWtwG", 2**63), ("co2eWtwG", 2**256), ("co2eTtwG", "12"), ("co2eTtwG", "1.5"),
    ("co2eTtwG", 2.5), ("co2eTtwG", True), ("co2eTtwG", None),
])
def test_a_group_with_one_odd_consignment_is_judged_as_one_by_one(field: str,
                                                                   value: Any) -> None:
    group = _group(6, 1)
    group[3] = {**group[3], field: value}
    assert _problem(_LeafHashes(), group) == _problem(_LeafHashes()._one_by_one, group)
    del group[4]["recordHash"]
    assert _problem(_LeafHashes(), group) == _problem(_LeafHashes()._one_by_one, group)


def test_many_shipment_ids_are_each_ones_id_and_the_first_problem_is_named() -> None:
    ids = ["NGB-2026-0001", "宁波-0002", "x" * 200]
    assert chain_shipment_ids(EXPORTER, ids) == [chain_shipment_id_bytes(EXPORTER, s)
                                                 for s in ids]
    assert chain_shipment_ids(EXPORTER, []) == []
    for bad in ("NGB 1 ", "NGB\t1", ""):
        with pytest.raises(InputError, match="shipment id") as caught:
            chain_shipment_ids(EXPORTER, [*ids, bad])
        with pytest.raises(InputError) as one:
            chain_shipment_id_bytes(EXPORTER, bad)
        assert str(caught.value) == str(one.value)


def test_proof_hashes_are_parsed_in_one_piece_or_one_by_one() -> None:
    texts = ["0x" + bytes([n]).hex() * 32 for n in range(5)]
    assert _bytes32_list(texts) == [bytes([n]) * 32 for n in range(5)]
    assert _bytes32_list([]) == []
    with pytest.raises(InputError):
        _bytes32_list([*texts, "0x" + "ab" * 31 + " a"])
