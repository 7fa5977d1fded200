"""The contract's ABI as a codec: encode calls, decode results, reverts and logs.

Pure functions over an ABI (no network): :class:`AbiCodec` turns a function name and Python values
into calldata, return data into values, revert data into a :class:`ledger.errors.ContractRevert`
that names the custom error and its arguments, and raw logs into ``(event name, arguments)``.

Values: ``bytesN`` are :class:`bytes`, addresses checksummed strings, integers :class:`int`.
In revert messages and ``ContractRevert.error_args``, bytes are ``0x`` hex and enum values are
their Solidity names, so the error reads and serialises well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from ledger.errors import ChainError, ContractRevert

__all__ = [
    "AbiCodec",
    "DecodedLog",
    "RawLog",
    "RecordStatus",
    "SubjectKind",
]


class RecordStatus(IntEnum):
    """``ICarbonLedger.RecordStatus``: life-cycle of a record, per exporter."""

    LIVE = 0
    REVOKED = 1
    SUPERSEDED = 2


class SubjectKind(IntEnum):
    """``ICarbonLedger.SubjectKind``: what an attestation is about."""

    RECORD = 0
    BATCH = 1
    REPORT = 2


_ENUM_NAMES: dict[str, tuple[str, ...]] = {
    "RecordStatus": ("Live", "Revoked", "Superseded"),
    "SubjectKind": ("Record", "Batch", "Report"),
}

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256)
_PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an invalid internal function",
}


@dataclass(frozen=True)
class RawLog:
    """A log as the node returns it, with where it was emitted."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    log_index: int
    removed: bool = False


@dataclass(frozen=True)
class DecodedLog:
    """A log matched to an event of the ABI: its name and named arguments."""

    name: str
    args: dict[str, Any]
    log: RawLog


def _canonical_type(entry: Mapping[str, Any]) -> str:
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in entry.get("components", []))
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def _signature(entry: Mapping[str, Any]) -> str:
    types = ",".join(_canonical_type(i) for i in entry.get("inputs", []))
    return f"{entry['name']}({types})"


def _enum_name(entry: Mapping[str, Any]) -> str | None:
    match = re.match(r"enum (?:\w+\.)?(\w+)$", str(entry.get("internalType", "")))
    return match.group(1) if match else None


def _normalise(entry: Mapping[str, Any], value: Any) -> Any:
    """A decoded value as the library hands it out (checksummed addresses)."""
    if entry["type"] == "address":
        return to_checksum_address(value)
    if entry["type"] == "address[]":
        return [to_checksum_address(v) for v in value]
    return value


def _display(entry: Mapping[str, Any], value: Any) -> Any:
    """A decoded value as it reads in an error message."""
    enum = _enum_name(entry)
    if enum is not None and enum in _ENUM_NAMES and isinstance(value, int):
        names = _ENUM_NAMES[enum]
        return names[value] if value < len(names) else value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_display({"type": ""}, v) for v in value]
    return value


class AbiCodec:
    """Encoder and decoder for one contract ABI."""

    def __init__(self, abi: Sequence[Mapping[str, Any]], *,
                 labels: Mapping[bytes, str] | None = None) -> None:
        #: Names shown beside well-known ``bytes32`` values in revert messages (role ids).
        self.labels = dict(labels or {})
        self._functions: dict[str, Mapping[str, Any]] = {}
        self._errors: dict[bytes, Mapping[str, Any]] = {}
        self._events: dict[bytes, Mapping[str, Any]] = {}
        self._event_topics: dict[str, bytes] = {}
        self._constructor: Mapping[str, Any] = {"inputs": []}
        for entry in abi:
            kind = entry.get("type")
            if kind == "function":
                name = str(entry["name"])
                if name in self._functions:
                    raise ChainError(f"overloaded function {name} is not supported by AbiCodec")
                self._functions[name] = entry
            elif kind == "error":
                self._errors[keccak(text=_signature(entry))[:4]] = entry
            elif kind == "event":
                topic = keccak(text=_signature(entry))
                self._events[topic] = entry
                self._event_topics[str(entry["name"])] = topic
            elif kind == "constructor":
                self._constructor = entry

    # ------------------------------------------------------------------ functions

    def _function(self, name: str) -> Mapping[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise ChainError(f"the contract ABI has no function {name!r}") from None

    def selector(self, name: str) -> bytes:
        """The 4-byte selector of function ``name``."""
        return keccak(text=_signature(self._function(name)))[:4]

    def encode_call(self, name: str, *args: Any) -> bytes:
        """Calldata for ``name(*args)``."""
        entry = self._function(name)
        types = [_canonical_type(i) for i in entry["inputs"]]
        if len(args) != len(types):
            raise ChainError(f"{name} takes {len(types)} arguments, got {len(args)}")
        try:
            return self.selector(name) + abi_encode(types, list(args))
        except (EncodingError, TypeError, ValueError) as exc:
            raise ChainError(f"cannot encode arguments of {name}: {exc}") from None

    def encode_constructor(self, *args: Any) -> bytes:
        """ABI-encoded constructor arguments (appended to the creation bytecode)."""
        types = [_canonical_type(i) for i in self._constructor.get("inputs", [])]
        try:
            return abi_encode(types, list(args))
        except (EncodingError, TypeError, ValueError) as exc:
            raise ChainError(f"cannot encode constructor arguments: {exc}") from None

    def decode_result(self, name: str, data: bytes) -> tuple[Any, ...]:
        """The return values of ``name`` from its return data."""
        outputs = self._function(name).get("outputs", [])
        try:
            values = abi_decode([_canonical_type(o) for o in outputs], data)
        except (DecodingError, ValueError) as exc:
            raise ChainError(
                f"cannot decode the result of {name} ({len(data)} bytes): {exc}; "
                "is the address a CarbonLedger contract?"
            ) from None
        return tuple(_normalise(o, v) for o, v in zip(outputs, values, strict=True))

    # ------------------------------------------------------------------ reverts

    def decode_revert(self, data: bytes, *, context: str = "contract") -> ContractRevert:
        """A ``ContractRevert`` naming the error in ``data`` (custom error, Error or Panic)."""
        if len(data) < 4:
            return ContractRevert(f"{context} reverted without a reason", None, {})
        selector, payload = data[:4], data[4:]
        try:
            if selector == _ERROR_STRING:
                (reason,) = abi_decode(["string"], payload)
                return ContractRevert(
                    f"{context} reverted with Error({reason!r})", "Error", {"message": reason}
                )
            if selector == _PANIC:
                (code,) = abi_decode(["uint256"], payload)
                meaning = _PANIC_CODES.get(code, "unknown panic code")
                return ContractRevert(
                    f"{context} reverted with Panic(0x{code:02x}: {meaning})",
                    "Panic", {"code": code},
                )
            entry = self._errors.get(selector)
            if entry is not None:
                inputs = entry.get("inputs", [])
                values = abi_decode([_canonical_type(i) for i in inputs], payload)
                args = {
                    str(i["name"]): _display(i, _normalise(i, v))
                    for i, v in zip(inputs, values, strict=True)
                }
                shown = ", ".join(
                    f"{i['name']}={self._label(v, args[str(i['name'])])}"
                    for i, v in zip(inputs, values, strict=True)
                )
                name = str(entry["name"])
                return ContractRevert(f"{context} reverted with {name}({shown})", name, args)
        except (DecodingError, ValueError):
            pass
        return ContractRevert(
            f"{context} reverted with unknown error data 0x{data.hex()}",
            None, {"data": "0x" + data.hex()},
        )

    def _label(self, value: Any, shown: Any) -> str:
        label = self.labels.get(value) if isinstance(value, bytes) else None
        return f"{label} ({shown})" if label else str(shown)

    # ------------------------------------------------------------------ events

    def event_topic(self, name: str) -> bytes:
        """``topic0`` of event ``name``."""
        try:
            return self._event_topics[name]
        except KeyError:
            raise ChainError(f"the contract ABI has no event {name!r}") from None

    def decode_log(self, log: RawLog) -> DecodedLog | None:
        """The event in ``log``, or ``None`` when the ABI has no event with its ``topic0``."""
        if not log.topics:
            return None
        entry = self._events.get(log.topics[0])
        if entry is None:
            return None
        inputs = entry.get("inputs", [])
        indexed = [i for i in inputs if i.get("indexed")]
        plain = [i for i in inputs if not i.get("indexed")]
        if len(log.topics) != len(indexed) + 1:
            return None
        try:
            values: dict[str, Any] = {}
            for item, topic in zip(indexed, log.topics[1:], strict=True):
                kind = _canonical_type(item)
                if kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("("):
                    values[str(item["name"])] = topic  # an indexed dynamic value is its hash
                    continue
                (value,) = abi_decode([kind], topic)
                values[str(item["name"])] = _normalise(item, value)
            decoded = abi_decode([_canonical_type(i) for i in plain], log.data)
            for item, value in zip(plain, decoded, strict=True):
                values[str(item["name"])] = _normalise(item, value)
        except (DecodingError, ValueError) as exc:
            raise ChainError(
                f"log {log.log_index} of tx 0x{log.tx_hash.hex()} does not decode as "
                f"{entry['name']}: {exc}"
            ) from None
        return DecodedLog(str(entry["name"]), values, log)
