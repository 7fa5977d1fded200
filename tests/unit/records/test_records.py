"""The canonical record of a shipment: fields, hash, leaf, and its place in a batch tree."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
from Crypto.Hash import keccak as pycryptodome_keccak

from ledger.errors import InputError, StoreError
from ledger.records import chunks as record_chunks
from ledger.records import record as records
from ledger.records.blocks import BLOCK_CODEC, pack_block, unpack_block
from ledger.records.canonical import (
    canonical_json,
    chain_shipment_id_bytes,
    normalise_address,
    parse_canonical,
)
from ledger.records.merkle import build_tree, verify_proof
from ledger.records.record import (
    RECORD_SCHEMA,
    build_entry,
    build_record,
    check_record,
    parse_record,
    record_hash,
    record_leaf,
    record_shipment_id,
)

EXPORTER = "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"
FACTOR_SET = "0x" + "AB" * 32


def shipment(shipment_id: str = "NGB-2026-0001") -> dict[str, Any]:
    return {
        "shipment_id": shipment_id,
        "exporter": "Ningbo Appliances Co., Ltd.",
        "product": {"cn_code": "84182100", "description": "household refrigerators",
                    "mass_kg": "12000"},
        "legs": [
            {"order": 1, "mode": "road", "origin": "Cixi", "destination": "CNNGB",
             "distance_km": "62", "mass_kg": "12000", "vehicle": "hgv_rigid_average"},
            {"order": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
             "mass_kg": "12000", "vehicle": "container_ship_average"},
        ],
    }


def footprint(shipment_id: str = "NGB-2026-0001", wtw_g: int = 1_812_345,
              ttw_g: int = 1_456_789) -> dict[str, Any]:
    return {
        "shipment_id": shipment_id,
        "legs": [
            {"order": 1, "mode": "road", "distance_km": "62", "distance_method": "actual",
             "activity_tkm": "744", "co2e_ttw_g": 78_000, "co2e_wtt_g": 19_000,
             "co2e_wtw_g": 97_000, "factor_keys": ["defra-2025:hgv_rigid_average"]},
            {"order": 2, "mode": "sea", "distance_km": "19376", "distance_method": "sea_route",
             "activity_tkm": "232512", "co2e_ttw_g": ttw_g - 78_000,
             "co2e_wtt_g": wtw_g - ttw_g - 19_000, "co2e_wtw_g": wtw_g - 97_000,
             "factor_keys": ["defra-2025:container_ship_average"]},
        ],
        "co2e_ttw_g": ttw_g,
        "co2e_wtt_g": wtw_g - ttw_g,
        "co2e_wtw_g": wtw_g,
        "intensity_g_per_tkm": "7.77",
        "production": None,
        "cbam": {"in_scope": False, "reason": "CN 8418 is not an Annex I good"},
    }


def make_record(**changes: Any) -> dict[str, Any]:
    return build_record(shipment(), footprint(**changes), exporter=EXPORTER,
                        factor_set_id=FACTOR_SET)


def test_record_fields_and_normalised_identities() -> None:
    record = make_record()
    assert set(record) == {"schema", "exporter", "shipment_id", "factor_set_id", "shipment",
                           "footprint"}
    assert record["schema"] == RECORD_SCHEMA == "carbon-ledger/record/v1"
    assert record["exporter"] == EXPORTER.lower()
    assert record["shipment_id"] == "NGB-2026-0001"
    assert record["factor_set_id"] == FACTOR_SET.lower()
    assert record["shipment"] == shipment()
    assert record["footprint"] == footprint()
    check_record(record)


def test_build_entry_gives_the_record_its_bytes_and_its_leaf_in_one_go() -> None:
    entry = build_entry(shipment(), footprint(), exporter=EXPORTER, factor_set_id=FACTOR_SET)
    assert entry.record == make_record()
    assert entry.canonical == canonical_json(entry.record)
    assert entry.leaf == record_leaf(entry.record)
    assert "0x" + entry.leaf.record_hash.hex() == record_hash(entry.record)


def test_the_record_shares_nothing_with_its_inputs() -> None:
    s, f = shipment(), footprint()
    record = build_record(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET)
    before = record_hash(record)
    s["legs"][0]["distance_km"] = "999"
    f["legs"][1]["co2e_ttw_g"] = 0
    assert record_hash(record) == before


def test_record_hash_is_keccak_of_the_canonical_bytes_and_survives_a_round_trip() -> None:
    record = make_record()
    data = canonical_json(record)
    assert record_hash(record) == "0x" + pycryptodome_keccak.new(
        data=data, digest_bits=256).hexdigest()
    parsed = parse_record(data)
    assert parsed == record
    assert canonical_json(parsed) == data
    assert record_hash(parsed) == record_hash(record)


def test_every_change_to_a_record_changes_its_hash() -> None:
    base = make_record()
    variants = []
    for path, value in [
        (("shipment", "legs", 0, "distance_km"), "63"),
        (("footprint", "legs", 1, "co2e_wtt_g"), 1),
        (("footprint", "cbam", "in_scope"), True),
        (("factor_set_id",), "0x" + "cd" * 32),
        (("exporter",), "0x" + "11" * 20),
    ]:
        changed = copy.deepcopy(base)
        target: Any = changed
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        variants.append(record_hash(changed))
    assert len({record_hash(base), *variants}) == len(variants) + 1


def test_leaf_carries_the_chain_id_record_hash_and_transport_totals() -> None:
    record = make_record(wtw_g=2_000_000, ttw_g=1_600_000)
    leaf = record_leaf(record)
    assert leaf.shipment_id == chain_shipment_id_bytes(EXPORTER, "NGB-2026-0001")
    assert "0x" + leaf.shipment_id.hex() == record_shipment_id(record)
    assert "0x" + leaf.record_hash.hex() == record_hash(record)
    assert (leaf.co2e_wtw_g, leaf.co2e_ttw_g) == (2_000_000, 1_600_000)


def test_a_replacement_record_keeps_the_chain_id_and_gets_a_new_hash() -> None:
    old = record_leaf(make_record(wtw_g=2_000_000))
    new = record_leaf(make_record(wtw_g=2_100_000))
    assert new.shipment_id == old.shipment_id
    assert new.record_hash != old.record_hash


def test_records_go_into_a_batch_and_each_one_is_proven() -> None:
    batch = [
        build_record(shipment(f"NGB-2026-{n:04d}"), footprint(f"NGB-2026-{n:04d}", wtw_g=10 * n),
                     exporter=EXPORTER, factor_set_id=FACTOR_SET)
        for n in range(1, 12)
    ]
    leaves = [record_leaf(r) for r in batch]
    tree = build_tree(leaves)
    for record in batch:
        proof = tree.proof(record_shipment_id(record))
        assert verify_proof(tree.root, record_leaf(record), proof)
    # a record whose footprint was changed after anchoring no longer verifies
    forged = copy.deepcopy(batch[3])
    forged["footprint"]["legs"][0]["co2e_ttw_g"] -= 1000
    assert not verify_proof(tree.root, record_leaf(forged), tree.proof(3))


def test_a_float_anywhere_is_refused_with_the_shipment_and_path() -> None:
    f = footprint()
    f["legs"][1]["activity_tkm"] = 232512.0
    with pytest.raises(InputError, match="float") as info:
        build_record(shipment(), f, exporter=EXPORTER, factor_set_id=FACTOR_SET)
    problem = info.value.problems[0]
    assert problem.shipment_id == "NGB-2026-0001"
    assert problem.field == "$.footprint.legs[1].activity_tkm"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"co2e_wtw_g": -1}, "non-negative integer of grams"),
        ({"co2e_ttw_g": "1456789"}, "non-negative integer of grams"),
        ({"co2e_wtw_g": True}, "non-negative integer of grams"),
        ({"shipment_id": "NGB-2026-0002"}, "footprint is for shipment 'NGB-2026-0002'"),
        ({"factor_set_id": "0x" + "cd" * 32}, "computed with factor set '0xcdcd"),
    ],
)
def test_inconsistent_footprints_are_refused(change: dict[str, Any], message: str) -> None:
    f = footprint() | change
    with pytest.raises(InputError, match=message):
        build_record(shipment(), f, exporter=EXPORTER, factor_set_id=FACTOR_SET)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exporter": "Ningbo Appliances"}, "not an address"),
        ({"exporter": EXPORTER.replace("D1220A", "d1220A")}, "EIP-55"),
        ({"factor_set_id": "0x1234"}, "factor set id"),
    ],
)
def test_bad_identities_are_refused(kwargs: dict[str, str], message: str) -> None:
    arguments = {"exporter": EXPORTER, "factor_set_id": FACTOR_SET} | kwargs
    with pytest.raises(InputError, match=message):
        build_record(shipment(), footprint(), **arguments)


def test_a_shipment_without_id_is_refused() -> None:
    s = shipment()
    del s["shipment_id"]
    with pytest.raises(InputError, match="no shipment_id"):
        build_record(s, footprint(), exporter=EXPORTER, factor_set_id=FACTOR_SET)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(schema="carbon-ledger/record/v0"), "schema"),
        (lambda r: r.update(exporter=EXPORTER), "lower-case"),
        (lambda r: r.update(extra=1), "unexpected \\['extra'\\]"),
        (lambda r: r.pop("factor_set_id"), "missing \\['factor_set_id'\\]"),
        (lambda r: r["footprint"].update(shipment_id="X"), "footprint.shipment_id differs"),
    ],
)
def test_check_record_names_what_is_wrong(mutate: Any, message: str) -> None:
    record = make_record()
    mutate(record)
    with pytest.raises(InputError, match=message):
        check_record(record)


def test_parse_record_refuses_non_canonical_bytes() -> None:
    record = make_record()
    pretty = canonical_json(record).replace(b'","', b'", "', 1)
    assert parse_canonical(pretty, require_canonical=False) == record
    with pytest.raises(InputError, match="canonical form"):
        parse_record(pretty)


def test_demo_shipments_from_the_footprint_engine_become_provable_records() -> None:
    from ledger.factors.factorset import load_factor_set
    from ledger.footprint.single import compute_shipment
    from ledger.inputs.read import read_shipments

    factor_set = load_factor_set()
    demo = Path(__file__).resolve().parents[3] / "examples" / "demo-shipments.json"
    entries = []
    for item in read_shipments(demo):
        result = compute_shipment(item, factor_set)
        entry = build_entry(item.to_dict(), result.to_dict(), exporter=EXPORTER,
                            factor_set_id=factor_set.id)
        assert (entry.leaf.co2e_wtw_g, entry.leaf.co2e_ttw_g) == (result.co2e_wtw_g,
                                                                  result.co2e_ttw_g)
        assert parse_record(entry.canonical) == entry.record
        assert entry.record["factor_set_id"] == factor_set.id.lower()
        entries.append(entry)
    assert len(entries) == 4
    tree = build_tree(entry.leaf for entry in entries)
    for entry in entries:
        proof = tree.proof(entry.leaf.shipment_id)
        assert verify_proof(tree.root, record_leaf(parse_record(entry.canonical)), proof)


def test_public_names_import() -> None:
    for name in records.__all__:
        assert hasattr(records, name), name


def _many_pairs(count: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(shipment(f"NGB-2026-{n:05d}"), footprint(f"NGB-2026-{n:05d}", wtw_g=1_000_000 + n))
            for n in range(count)]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spread even a few hundred pairs over processes, in chunks of seven."""
    monkeypatch.setattr(record_chunks, "PARALLEL_MIN_PAIRS", 1)
    monkeypatch.setattr(record_chunks, "_CHUNK_PAIRS", 7)
    monkeypatch.setattr(record_chunks, "_can_fork", lambda: True)


@pytest.mark.usefixtures("small_chunks")
def test_entries_built_on_several_processes_are_the_ones_built_on_one() -> None:
    pairs = _many_pairs(600)
    one = [build_entry(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET) for s, f in pairs]
    for workers in (1, 2, 3):
        assert record_chunks.build_entries(pairs, exporter=EXPORTER, factor_set_id=FACTOR_SET,
                                     workers=workers) == one


@pytest.mark.usefixtures("small_chunks")
def test_a_bad_pair_among_many_raises_what_one_process_raises() -> None:
    pairs = _many_pairs(600)
    pairs[250][1]["legs"][0]["co2e_wtw_g"] = 97_000.0  # a float: refused in a record
    pairs[400][1]["co2e_ttw_g"] = -1  # a later problem: not the one reported
    with pytest.raises(InputError) as single:
        record_chunks.build_entries(pairs, exporter=EXPORTER, factor_set_id=FACTOR_SET, workers=1)
    with pytest.raises(InputError) as spread:
        record_chunks.build_entries(pairs, exporter=EXPORTER, factor_set_id=FACTOR_SET, workers=2)
    assert spread.value.problems == single.value.problems
    [problem] = single.value.problems
    assert problem.shipment_id == "NGB-2026-00250" and "float" in problem.message


@pytest.mark.usefixtures("small_chunks")
def test_without_a_spool_file_the_entries_are_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_spool(*_args: object, **_kwargs: object) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(record_chunks.tempfile, "TemporaryFile", no_spool)
    pairs = _many_pairs(100)
    assert record_chunks.build_entries(pairs, exporter=EXPORTER, factor_set_id=FACTOR_SET,
                                 workers=2) == [
        build_entry(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET) for s, f in pairs]


@pytest.mark.usefixtures("small_chunks")
def test_a_helper_that_dies_leaves_its_chunks_to_this_process() -> None:
    pairs = _many_pairs(120)
    parent = os.getpid()

    def shape(chunk: record_chunks.EntryChunk) -> record_chunks.EntryChunk:
        if os.getpid() != parent and chunk.start == 35:
            os._exit(1)  # the helper building this chunk dies
        return chunk

    chunks = list(record_chunks.iter_shaped_chunks(
        pairs, exporter=EXPORTER, factor_set_id=FACTOR_SET, shape=shape, helpers=2,
        build_here=False))
    assert sorted(chunk.start for chunk in chunks) == list(range(0, 120, 7))
    in_order = sorted(chunks, key=lambda chunk: chunk.start)
    assert [entry for chunk in in_order for entry in chunk.entries()] == [
        build_entry(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET) for s, f in pairs]
    assert [i for chunk in in_order for i in chunk.shipment_ids] == [s["shipment_id"]
                                                                   for s, _ in pairs]


def test_a_helpers_chunks_come_back_through_its_spool_intact(tmp_path: Path) -> None:
    import multiprocessing

    pairs = _many_pairs(50)
    bounds = [(start, min(start + 7, len(pairs))) for start in range(0, len(pairs), 7)]
    next_chunk = multiprocessing.get_context("fork").Value("q", 0)
    receiver, sender = multiprocessing.get_context("fork").Pipe(duplex=False)
    with (tmp_path / "spool").open("w+b") as spool:
        # the helper's loop, run here: it takes every chunk, then closes its end
        record_chunks._help(sender, spool.fileno(), next_chunk,
                      (pairs, bounds, normalise_address(EXPORTER), FACTOR_SET.lower(),
                       record_chunks._as_built))
        done: set[int] = set()
        chunks = list(record_chunks._collect(receiver, spool.fileno(), done))
    assert receiver.closed  # the helper closed its end: everything it wrote was read
    assert done == set(range(len(bounds)))
    in_order = sorted(chunks, key=lambda chunk: chunk.start)
    assert [entry for chunk in in_order for entry in chunk.entries()] == [
        build_entry(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET) for s, f in pairs]


def test_records_read_from_a_block_are_the_records_stored_one_by_one() -> None:
    """The block is only a packing: each record comes back byte for byte from its offset."""
    entries = [build_entry(s, f, exporter=EXPORTER, factor_set_id=FACTOR_SET)
               for s, f in _many_pairs(300)]
    one_by_one = [entry.canonical for entry in entries]
    block = pack_block(b"".join(one_by_one))
    assert len(block) < sum(map(len, one_by_one)) // 10  # the reason blocks exist
    unpacked = unpack_block(BLOCK_CODEC, block)
    offset = 0
    for data in one_by_one:
        assert unpacked[offset:offset + len(data)] == data
        assert parse_record(unpacked[offset:offset + len(data)]) == parse_record(data)
        offset += len(data)
    assert offset == len(unpacked)


def test_a_damaged_block_or_an_unknown_codec_is_a_store_error() -> None:
    block = pack_block(canonical_json(make_record()))
    with pytest.raises(StoreError, match="codec 'gzip'"):
        unpack_block("gzip", block)
    with pytest.raises(StoreError, match="damaged"):
        unpack_block(BLOCK_CODEC, block[:-6] + bytes(6))
