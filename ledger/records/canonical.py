"""Canonical JSON (RFC 8785, restricted to integers) and the on-chain shipment id.

Canonical JSON is the JSON Canonicalization Scheme (JCS, RFC 8785) over a strict subset of JSON:

- objects (``dict`` with ``str`` keys), arrays (``list``; a ``tuple`` is written as an array),
  strings, ``true``/``false``, ``null`` and **integers** in the I-JSON safe range
  ``-(2**53 - 1) .. 2**53 - 1``. Floats (NaN and infinities included) are refused: a fraction or a
  larger integer goes into a record as a decimal string (``"12.345"``, ``"123456789012345678901"``).
  ``True``/``False`` are JSON booleans, never the numbers 1/0 (``bool`` is checked before ``int``).
- no whitespace; object members sorted by the UTF-16 code units of their names; strings written as
  ECMAScript's ``JSON.stringify`` writes them (``\\"``, ``\\\\``, ``\\b \\f \\n \\r \\t``, other
  control characters as lower-case ``\\u00xx``, everything else as itself); UTF-8 output.
- strings must be valid Unicode (a lone surrogate is refused, as I-JSON requires).

Within that subset the output is byte-for-byte the JCS output, and integers are written the way
ECMAScript writes them, so any JCS implementation reproduces our bytes. Two writers give them:
orjson (:func:`canonical_json`, the fast path) and an exact writer in plain Python
(:func:`canonical_json_reference`, the simplest correct path). The tests hold both against
``rfc8785.dumps``, an independent implementation.

The record hash is keccak-256 (:mod:`ledger.records.keccak`) of the canonical bytes. The on-chain
shipment id is :func:`chain_shipment_id`, derived by the contract from the writer and the
shipment key :func:`chain_shipment_key` that the writer sends (see their docstrings and
``docs/records.md`` for why).
"""

from __future__ import annotations

import gc
import json
import numbers
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

import orjson

from ledger.errors import InputError, InputProblem
from ledger.records.keccak import keccak256, keccak256_hex, keccak_many

__all__ = [
    "MAX_SAFE_INTEGER",
    "SHIPMENT_ID_NAMESPACE",
    "SHIPMENT_ID_RULE",
    "canonical_hash",
    "canonical_json",
    "canonical_json_is",
    "canonical_json_many",
    "canonical_json_reference",
    "chain_shipment_id",
    "chain_shipment_id_bytes",
    "chain_shipment_id_function",
    "chain_shipment_ids",
    "chain_shipment_key",
    "chain_shipment_key_bytes",
    "chain_shipment_key_function",
    "loads_canonical_unchecked",
    "normalise_address",
    "parse_canonical",
    "plain_json_types",
    "shipment_id_of",
]

#: Largest integer allowed in canonical JSON (I-JSON / IEEE 754 exact integers).
MAX_SAFE_INTEGER = 2**53 - 1

#: Prefix of the preimage of a shipment key (see :func:`chain_shipment_key`).
SHIPMENT_ID_NAMESPACE = "carbon-ledger/shipment-id/v2"

#: The contract's ``shipmentIdRule()`` that :func:`chain_shipment_id` computes: the id is
#: ``keccak256(abi.encode(writer, shipmentKey))``, derived on chain from the sender.
SHIPMENT_ID_RULE = 2

_MAX_DEPTH = 64
_ASTRAL_UTF8 = re.compile(b"[\xf0-\xf4]")  # lead byte of a 4-byte UTF-8 sequence
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CONTROL = re.compile("[\x00-\x1f\x7f]")


# ---------------------------------------------------------------------------- canonical JSON


def _problem(message: str, path: str) -> InputError:
    return InputError([InputProblem(message, field=path or None)])


def _type_problem(value: object, path: str) -> InputError:
    if isinstance(value, numbers.Integral):
        return _problem(
            f"integer of type {type(value).__name__} ({value!r}) is not a Python int; "
            "convert it with int() before building a record",
            path,
        )
    if isinstance(value, float):
        return _problem(
            f"float {value!r} cannot go into a canonical record; write an integer of a named "
            "unit (e.g. grams) or a decimal string such as \"12.345\"",
            path,
        )
    return _problem(
        f"{type(value).__name__} is not a JSON value; canonical records hold only objects, "
        "arrays, strings, integers, booleans and null",
        path,
    )


def _check(value: object, path: str, depth: int) -> None:
    """Raise on anything outside the subset.

    ``path`` is the JSONPath of ``value`` (``$`` for the whole document); member paths are only
    built on the way to a problem.
    """
    if depth > _MAX_DEPTH:
        raise _problem(f"nested deeper than {_MAX_DEPTH} levels (or circular)", path)
    kind = type(value)
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str and not isinstance(key, str):
                raise _problem(f"object member name {key!r} is not a string", path)
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            _check(item, f"{path}.{key}", depth + 1)
        return
    if kind is list or kind is tuple:
        for index, item in enumerate(value):  # type: ignore[arg-type]
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                continue
            _check(item, f"{path}[{index}]", depth + 1)
        return
    if kind is str or value is None or isinstance(value, (bool, str)):
        return
    if isinstance(value, int):
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return
        raise _integer_problem(value, path)
    # subclasses (OrderedDict, list subclasses) are written as their base type
    if isinstance(value, dict):
        _check(dict(value), path, depth)
        return
    if isinstance(value, list):
        _check(list(value), path, depth)
        return
    raise _type_problem(value, path)


def _integer_problem(value: object, path: str) -> InputError:
    return _problem(
        f"integer {value} is outside the exact range ±(2**53 - 1) of canonical JSON; "
        "write it as a decimal string",
        path,
    )


def _utf16_key(name: str) -> bytes:
    return name.encode("utf-16-be", "surrogatepass")


def _write_exact(value: Any, out: list[str]) -> None:
    """JCS writer for values already checked by :func:`_check` (any key order issue)."""
    if isinstance(value, bool):
        out.append("true" if value else "false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(encode_basestring(str(value)))
    elif isinstance(value, dict):
        out.append("{")
        for position, name in enumerate(sorted(map(str, value), key=_utf16_key)):
            if position:
                out.append(",")
            out.append(encode_basestring(name))
            out.append(":")
            _write_exact(value[name], out)
        out.append("}")
    else:
        out.append("[")
        for position, item in enumerate(value):
            if position:
                out.append(",")
            _write_exact(item, out)
        out.append("]")


def canonical_json(value: object) -> bytes:
    """The canonical (RFC 8785) UTF-8 bytes of ``value``.

    Raises :class:`~ledger.errors.InputError` naming the JSONPath of the first value outside the
    subset (a float, an integer beyond ±(2**53 - 1), a non-string member name, a lone surrogate,
    a non-JSON object).

    Written by orjson (sorted members, strict integers): on 1.3 kB records, about 30 times
    faster than the exact writer of :func:`canonical_json_reference`, and the whole call with its
    check about 7 times (``scripts/bench_merkle.py``). Where orjson refuses the value or a member
    name may sort otherwise by UTF-16 code units, the exact writer writes it; both give the same
    bytes. A value of exact JSON types throughout is cleared by a type walk in C
    (:func:`_plain_types`) instead of the per-value check: what keeps a signed document of a
    million consignments from spending seconds in Python on the check alone.
    """
    if _plain_types([value]):  # the type walk in C; orjson refuses out-of-range integers
        data = _orjson_plain(value)
        if data is not None:
            return data
    _check(value, "$", 0)
    data = _orjson_plain(value)
    return _exact_bytes(value) if data is None else data


def plain_json_types(value: object) -> bool:
    """Whether ``value``, all the way down, is of exact JSON types (``dict`` with string keys,
    ``list``, ``tuple``, ``str``, ``int``, ``bool``, ``None``) and nested at most as deep as
    canonical JSON allows; integer ranges are not looked at. A walk in C (about 0.1 µs a
    value)."""
    return _plain_types([value])


def canonical_json_is(value: object, data: bytes) -> bool:
    """Whether ``data`` (bytes known to be canonical JSON) is :func:`canonical_json` of
    ``value``, whose types the caller has checked (:func:`plain_json_types`): written once by
    orjson and compared (no per-value check); by the exact writer where orjson refuses it or a
    member name may sort otherwise; ``False`` where it has no canonical form."""
    written = _orjson_plain(value)
    if written is not None:
        return written == data
    try:
        return canonical_json(value) == data
    except (InputError, TypeError, ValueError):
        return False


def canonical_json_reference(value: object) -> bytes:
    """:func:`canonical_json` by the simplest path: the exact writer alone, members sorted by
    their UTF-16 code units. The reference the fast path is tested against."""
    _check(value, "$", 0)
    return _exact_bytes(value)


#: The exact types :func:`_plain_types` lets through (subclasses take the exact path).
_SCALAR_TYPES = frozenset({str, int, bool, type(None)})
_PLAIN_TYPES = _SCALAR_TYPES | {dict, list, tuple}


def _plain_types(values: list[Any]) -> bool:
    """Whether every value in ``values``, all the way down, is of an exact JSON type and at most
    :data:`_MAX_DEPTH` levels deep (a cycle is too deep); integer ranges are not looked at.

    One level of all the values at a time: the garbage collector's referents of a level's
    containers are the next level (a dict with string keys gives its values, a list or tuple its
    items; strings and numbers give nothing), so the walk runs in C, not value by value.
    """
    level = values
    for _ in range(_MAX_DEPTH + 1):  # containers may sit up to _MAX_DEPTH levels down
        if not level:
            return True
        if not _PLAIN_TYPES.issuperset(map(type, level)):
            return False
        level = gc.get_referents(*level)
    return _SCALAR_TYPES.issuperset(map(type, level))


def canonical_json_many(values: list[Any]) -> list[bytes]:
    """:func:`canonical_json` of each value, in order: the same bytes and the same error.

    For many values (records of a batch): a type walk in C (:func:`_plain_types`) and orjson's
    own refusals (integers beyond ±(2**53 - 1), non-string member names, lone surrogates) stand
    in for the per-value check; a value they do not clear goes through :func:`canonical_json`,
    which names the problem.
    """
    fast = _orjson_plain
    out = []
    for value in values:  # one value at a time: orjson finds it still in the CPU's caches
        data = fast(value) if _plain_types([value]) else None
        out.append(canonical_json(value) if data is None else data)
    return out


_ORJSON_OPTION = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _orjson_plain(value: object) -> bytes | None:
    """The canonical bytes of a checked value by orjson, or ``None`` where orjson refuses it or
    a member name may sort differently by UTF-16 code units than by code points (a character
    beyond the Basic Multilingual Plane in the output)."""
    try:
        data: bytes = orjson.dumps(value, option=_ORJSON_OPTION)
    except orjson.JSONEncodeError:
        return None
    if not data.isascii() and _ASTRAL_UTF8.search(data) is not None:
        return None
    return data


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _problem(
            f"string holds a lone surrogate {text[exc.start:exc.end]!r}; canonical JSON needs "
            "valid Unicode",
            "$",
        ) from None


def loads_canonical_unchecked(data: bytes) -> Any:
    """Parse bytes that :func:`canonical_json` wrote, without :func:`parse_canonical`'s checks.

    The result is made of plain ``dict``/``list``/``str``/``int``/``bool``/``None`` and
    re-serialises to ``data``. Use :func:`parse_canonical` for bytes from anywhere else.
    """
    return orjson.loads(data)


def _exact_bytes(value: object) -> bytes:
    out: list[str] = []
    _write_exact(value, out)
    return _utf8("".join(out))


def canonical_hash(value: object) -> str:
    """keccak-256 of the canonical bytes of ``value``, as ``0x`` + 64 hex digits."""
    return keccak256_hex(canonical_json(value))


def _reject_float(text: str) -> Any:
    raise _problem(
        f"number {text} is not an integer; canonical records carry integers or decimal strings",
        "",
    )


def _reject_constant(text: str) -> Any:
    raise _problem(f"{text} is not JSON", "")


def _strict_int(text: str) -> int:
    number = int(text)
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise _integer_problem(number, "$")
    return number


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _problem(f"object member {name!r} appears twice", "")
            seen.add(name)
    return result


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_members,
    parse_float=_reject_float,
    parse_int=_strict_int,
    parse_constant=_reject_constant,
)


def parse_canonical(data: bytes | str, *, require_canonical: bool = True) -> Any:
    """Parse JSON in the canonical subset.

    Refuses invalid UTF-8, duplicate member names, non-integer numbers and integers beyond
    ±(2**53 - 1). With ``require_canonical`` (the default) the input must also be byte-identical
    to its canonical form, so a parsed record re-serialises to exactly the bytes that were hashed.
    """
    if isinstance(data, str):
        text = data
        raw = None
    else:
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _problem(f"not UTF-8 ({exc.reason} at byte {exc.start})", "") from None
    try:
        value = _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        raise _problem(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", "") from None
    except RecursionError:
        raise _problem("nested too deeply", "") from None
    if require_canonical:
        again = canonical_json(value)
        original = raw if raw is not None else _encode_text(text)
        if again != original:
            raise _problem(
                "JSON is not in canonical form (RFC 8785: sorted members, no whitespace, "
                "minimal escapes); re-serialise it with canonical_json",
                "",
            )
    return value


def _encode_text(text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise _problem("string holds a lone surrogate; canonical JSON needs valid Unicode",
                       "") from None


# ---------------------------------------------------------------------------- identities


def normalise_address(address: str) -> str:
    """An Ethereum address as ``0x`` + 40 lower-case hex digits.

    Accepts all-lower-case, all-upper-case or EIP-55 checksummed input; a mixed-case address whose
    checksum is wrong is refused (it is most likely mistyped).
    """
    if type(address) is not str:
        raise InputError([InputProblem(
            f"{address!r} is not an address; expected 0x followed by 40 hex digits",
            field="exporter",
        )])
    return _normalise_address(address)


@lru_cache(maxsize=1024)  # a batch names few exporters, many times
def _normalise_address(address: str) -> str:
    if _ADDRESS.fullmatch(address) is None:
        raise InputError([InputProblem(
            f"{address!r} is not an address; expected 0x followed by 40 hex digits",
            field="exporter",
        )])
    digits = address[2:]
    lower = digits.lower()
    if digits not in (lower, digits.upper()):
        digest = keccak256(lower.encode("ascii")).hex()
        expected = "".join(
            c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c
            for i, c in enumerate(lower)
        )
        if digits != expected:
            raise InputError([InputProblem(
                f"address {address!r} has a wrong EIP-55 checksum (expected 0x{expected}); "
                "check it for typos",
                field="exporter",
            )])
    return "0x" + lower


def _check_shipment_id(shipment_id: str) -> None:
    if not isinstance(shipment_id, str) or not shipment_id:
        raise InputError([InputProblem("shipment id must be a non-empty string",
                                       field="shipment_id")])
    if shipment_id != shipment_id.strip() or _CONTROL.search(shipment_id) is not None:
        raise InputError([InputProblem(
            "shipment id has surrounding whitespace or control characters",
            shipment_id=shipment_id, field="shipment_id",
        )])


def chain_shipment_key_bytes(exporter: str, shipment_id: str) -> bytes:
    """The 32-byte shipment key an exporter sends to the contract (see
    :func:`chain_shipment_key`)."""
    _check_shipment_id(shipment_id)
    preimage = f"{SHIPMENT_ID_NAMESPACE}|{normalise_address(exporter)}|{shipment_id}"
    try:
        return keccak256(preimage.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError([InputProblem("shipment id is not valid Unicode",
                                       field="shipment_id")]) from None


def shipment_id_of(writer: str, shipment_key: bytes) -> bytes:
    """The shipment id the contract records under when ``writer`` sends ``shipment_key``:
    ``keccak256(abi.encode(writer, shipmentKey))`` (the contract's ``shipmentIdOf``)."""
    if not isinstance(shipment_key, bytes) or len(shipment_key) != 32:
        raise InputError([InputProblem("must be 32 bytes", field="shipment_key")])
    address = bytes.fromhex(normalise_address(writer)[2:])
    return keccak256(bytes(12) + address + shipment_key)


def chain_shipment_id_bytes(exporter: str, shipment_id: str) -> bytes:
    """The 32-byte shipment id used on chain (see :func:`chain_shipment_id`)."""
    return shipment_id_of(exporter, chain_shipment_key_bytes(exporter, shipment_id))


def chain_shipment_key_function(exporter: str) -> Callable[[str], bytes]:
    """:func:`chain_shipment_key_bytes` for one exporter, with the exporter checked once: for
    loops over many shipments of the same exporter."""
    prefix = f"{SHIPMENT_ID_NAMESPACE}|{normalise_address(exporter)}|".encode()
    control = _CONTROL.search

    def shipment_key(shipment_id: str) -> bytes:
        if type(shipment_id) is not str or not shipment_id or shipment_id != shipment_id.strip() \
                or control(shipment_id) is not None:
            return chain_shipment_key_bytes(exporter, shipment_id)  # raises the problem
        try:
            return keccak256(prefix + shipment_id.encode("utf-8"))
        except UnicodeEncodeError:
            return chain_shipment_key_bytes(exporter, shipment_id)

    return shipment_key


def chain_shipment_id_function(exporter: str) -> Callable[[str], bytes]:
    """:func:`chain_shipment_id_bytes` for one exporter, with the exporter checked once."""
    shipment_key = chain_shipment_key_function(exporter)
    word = bytes(12) + bytes.fromhex(normalise_address(exporter)[2:])

    def shipment_id(shipment_id: str) -> bytes:
        return keccak256(word + shipment_key(shipment_id))

    return shipment_id


def chain_shipment_ids(exporter: str, shipment_ids: Sequence[str]) -> list[bytes]:
    """:func:`chain_shipment_id_bytes` of each of ``shipment_ids`` (one exporter's), in order:
    checked together and hashed in two passes over the list; one by one
    (:func:`chain_shipment_id_function`, which raises the first one's problem) where one is not
    plain text."""
    address = normalise_address(exporter)
    plain = {str}.issuperset(map(type, shipment_ids)) and all(shipment_ids) \
        and all(map(str.__eq__, shipment_ids, map(str.strip, shipment_ids))) \
        and _CONTROL.search("".join(shipment_ids)) is None
    if plain:
        prefix = f"{SHIPMENT_ID_NAMESPACE}|{address}|".encode()
        try:
            keys = keccak_many([prefix + s.encode("utf-8") for s in shipment_ids])
        except UnicodeEncodeError:
            plain = False
    if not plain:
        one = chain_shipment_id_function(exporter)
        return [one(s) for s in shipment_ids]
    word = bytes(12) + bytes.fromhex(address[2:])
    return keccak_many([word + key for key in keys])


def chain_shipment_key(exporter: str, shipment_id: str) -> str:
    """The ``bytes32`` key an exporter sends for its shipment (in ``recordShipments`` calldata,
    ``revokeRecord`` and ``supersedeRecord``), as ``0x`` + 64 hex digits.

    ``keccak256(utf8("carbon-ledger/shipment-id/v2|" + exporter + "|" + shipment_id))`` with the
    exporter address in lower-case hex and the shipment id exactly as the exporter wrote it.
    Hashed, not padded: the chain never shows the commercial shipment number, and guessing it
    still needs the exporter's address. The contract turns it into the shipment id
    (:func:`chain_shipment_id`).
    """
    return "0x" + chain_shipment_key_bytes(exporter, shipment_id).hex()


def chain_shipment_id(exporter: str, shipment_id: str) -> str:
    """The on-chain ``bytes32`` id of an exporter's shipment, as ``0x`` + 64 hex digits.

    ``keccak256(abi.encode(exporter, chain_shipment_key(exporter, shipment_id)))``: what the
    contract derives from the sender of the key (``shipmentIdRule() == 2``). It is the indexed
    topic of the exporter's ``ShipmentRecorded``, ``RecordRevoked`` and ``RecordSuperseded``
    events and the first value of its Merkle leaves.

    - Hashed, not padded: the chain never shows the commercial shipment number.
    - Namespaced by the writer, enforced by the contract: two exporters' "0001" never collide,
      and a key holding the exporter role that sends another exporter's key writes under its
      own id, never under the other's.
    - Built only from what a replacement record keeps (exporter and shipment id), so a record and
      its replacement share the id and two live records of one shipment are visible on chain.

    Shipment numbers are often guessable (``NGB-2026-0001``): whoever knows an exporter's address
    and numbering can test a guess. That reveals only that such a shipment was recorded and its
    totals, never the record itself.
    """
    return "0x" + chain_shipment_id_bytes(exporter, shipment_id).hex()
