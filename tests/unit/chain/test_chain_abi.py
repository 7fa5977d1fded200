"""Revert and event decoding against the committed CarbonLedger ABI (no chain needed)."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from ledger.chain.abi import AbiCodec, RawLog, SubjectKind
from ledger.chain.artifacts import load_artifact
from ledger.chain.contract import EXPORTER_ROLE, ROLE_LABELS
from ledger.chain.events import (
    Attested,
    EventMeta,
    RecordRevoked,
    RecordSuperseded,
    ShipmentRecorded,
    live_shipment_records,
    to_event,
    unpack_exporter_and_co2e,
)

EXPORTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
OTHER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"


def codec() -> AbiCodec:
    return AbiCodec(load_artifact().abi, labels=ROLE_LABELS)


def error_data(signature: str, types: list[str], values: list[object]) -> bytes:
    return keccak(text=signature)[:4] + encode(types, values)


def test_custom_error_is_named_with_its_arguments() -> None:
    factor_set = bytes.fromhex("ab" * 32)
    data = error_data("UnknownFactorSet(bytes32)", ["bytes32"], [factor_set])
    revert = codec().decode_revert(data, context="recordShipments")
    assert revert.error_name == "UnknownFactorSet"
    assert revert.error_args == {"factorSetId": "0x" + "ab" * 32}
    expected = f"recordShipments reverted with UnknownFactorSet(factorSetId=0x{'ab' * 32})"
    assert str(revert) == expected


def test_role_errors_show_the_role_name_and_enums_their_names() -> None:
    data = error_data("AccessControlUnauthorizedAccount(address,bytes32)",
                      ["address", "bytes32"], [EXPORTER, EXPORTER_ROLE])
    revert = codec().decode_revert(data)
    assert revert.error_args == {"account": EXPORTER, "neededRole": "0x" + EXPORTER_ROLE.hex()}
    assert "neededRole=EXPORTER_ROLE (0x" in str(revert)
    data = error_data("RecordNotLive(address,bytes32,uint8)", ["address", "bytes32", "uint8"],
                      [EXPORTER, b"\x01" * 32, 1])
    assert codec().decode_revert(data).error_args["status"] == "Revoked"


def test_error_string_panic_empty_and_unknown_data() -> None:
    c = codec()
    assert c.decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["nope"])).error_args \
        == {"message": "nope"}
    panic = c.decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert panic.error_name == "Panic"
    assert "overflow" in str(panic)
    assert c.decode_revert(b"").error_name is None
    unknown = c.decode_revert(bytes.fromhex("deadbeef"))
    assert unknown.error_name is None
    assert "0xdeadbeef" in str(unknown)


def test_calls_encode_with_the_abi_selector() -> None:
    data = codec().encode_call("anchorRoot", b"\x01" * 32, b"\x02" * 32, 7)
    assert data[:4] == keccak(text="anchorRoot(bytes32,bytes32,uint32)")[:4]
    assert data[-32:] == (7).to_bytes(32, "big")


def _log(name_signature: str, topics: list[bytes], data: bytes, index: int = 0) -> RawLog:
    return RawLog(
        address=EXPORTER, topics=(keccak(text=name_signature), *topics), data=data,
        block_number=9, block_hash=b"\x09" * 32, tx_hash=b"\x0a" * 32, log_index=index,
    )


def test_shipment_recorded_unpacks_exporter_and_both_totals() -> None:
    wtw, ttw = 2**48 - 1, 12_345
    word = (int(EXPORTER, 16) << 96) | (wtw << 48) | ttw
    assert unpack_exporter_and_co2e(word) == (EXPORTER, wtw, ttw)
    log = _log(
        "ShipmentRecorded(bytes32,bytes32,bytes32,uint256)", [b"\x05" * 32],
        encode(["bytes32", "bytes32", "uint256"], [b"\x06" * 32, b"\x07" * 32, word]),
    )
    decoded = codec().decode_log(log)
    assert decoded is not None
    event = to_event(decoded)
    assert isinstance(event, ShipmentRecorded)
    assert (event.shipment_id, event.record_hash, event.factor_set_id) == (
        b"\x05" * 32, b"\x06" * 32, b"\x07" * 32)
    assert (event.exporter, event.co2e_wtw_g, event.co2e_ttw_g) == (EXPORTER, wtw, ttw)
    assert event.meta.block_number == 9


def test_attested_kind_is_typed_and_foreign_logs_are_ignored() -> None:
    log = _log("Attested(bytes32,address,uint8,bytes32)",
               [b"\x01" * 32, bytes(12) + bytes.fromhex(EXPORTER[2:]), (2).to_bytes(32, "big")],
               b"\x03" * 32)
    decoded = codec().decode_log(log)
    assert decoded is not None
    event = to_event(decoded)
    assert isinstance(event, Attested)
    assert event.kind is SubjectKind.REPORT
    assert codec().decode_log(_log("Transfer(address,address,uint256)", [], b"")) is None


def _record(exporter: str, record_hash: bytes) -> ShipmentRecorded:
    return ShipmentRecorded(b"\x01" * 32, record_hash, b"\x02" * 32, exporter, 1, 1,
                            EventMeta(EXPORTER, 1, b"", b"", 0))


def test_live_records_follow_revocations_of_the_same_exporter_only() -> None:
    meta = EventMeta(EXPORTER, 2, b"", b"", 0)
    first, second = _record(EXPORTER, b"\xaa" * 32), _record(EXPORTER, b"\xbb" * 32)
    assert live_shipment_records([first, second]) == [first, second]  # a conflict, visible
    revoked = RecordRevoked(b"\x01" * 32, EXPORTER, b"\xaa" * 32, meta)
    assert live_shipment_records([first, second, revoked]) == [second]
    superseded = RecordSuperseded(b"\x01" * 32, EXPORTER, b"\xbb" * 32, b"\xcc" * 32, meta)
    assert live_shipment_records([first, second, revoked, superseded]) == []
    # another exporter's revocation of the same hash ends nothing of this exporter
    foreign = RecordRevoked(b"\x01" * 32, OTHER, b"\xaa" * 32, meta)
    assert live_shipment_records([first, foreign]) == [first]
