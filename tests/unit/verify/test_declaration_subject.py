"""The verifier's shortcuts for a large declaration (the signed subject judged to be the rebuilt
one, whose canonical bytes are then hashed for the signature; or, with the subject rebuilt
without its entries, the signed entries compared with the columns they would be built from) are
taken only where canonical JSON writes the signed subject, at its depth in the document, as the
rebuilt subject's bytes: values of other types that orjson would write the same way, containers
of other types, and members nested too deep for the whole document are never let through; and
the pieces hashed are the signed subject's canonical bytes."""

from __future__ import annotations

import copy
import enum
import math
from collections import deque
from types import MappingProxyType, SimpleNamespace
from typing import Any

import numpy as np
import orjson
import pytest

from ledger.declaration.document import ENTRY_MEMBERS, Columns, _item
from ledger.errors import InputError
from ledger.records.canonical import canonical_json
from ledger.verify.declaration import _places_written_as, _Rebuilt, _subject_written_as
from ledger.verify.document_hashes import built_subject_bytes


class _Key(str):
    """A member name of another type than text."""


class _Kind(enum.Enum):
    ONE = 1


def _entry(n: int) -> dict[str, Any]:
    return {"shipmentId": f"S-{n}", "exporter": "0x" + "22" * 20, "recordHash": "0x" + "ab" * 32,
            "co2eWtwG": 10 + n, "co2eTtwG": 1, "anchor": 0, "importDate": "2026-02-10",
            "netMassG": 1000 * n, "embeddedEmissionsG": 3 * n}


def _subject() -> dict[str, Any]:
    return {"type": "CbamAnnualDeclaration", "declarant": {"eori": "NL009900001"},
            "threshold": {"liable": True, "netMassG": 1},
            "lines": [{"lineId": 1, "verifier": None,
                       "consignments": [_entry(n) for n in range(3)]},
                      {"lineId": 2, "verifier": "V", "consignments": [_entry(7)]}]}


def _canonical(subject: Any) -> bytes | None:
    """The subject's canonical bytes at its depth in a document, ``None`` where it has none."""
    try:
        data = canonical_json({"credentialSubject": subject})
    except (InputError, TypeError, ValueError):
        return None
    return data[len(b'{"credentialSubject":'):-1]


def _judged(candidate: Any, rebuilt: dict[str, Any]) -> bool:
    data = built_subject_bytes(rebuilt)
    assert data is not None
    lines = candidate.get("lines") if hasattr(candidate, "get") else None
    parsed = SimpleNamespace(subject=candidate, consignments=[
        c for line in (lines or []) for c in line.get("consignments", [])])
    return _subject_written_as(parsed, _Rebuilt(0, rebuilt, data))  # type: ignore[arg-type]


def _deep(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def _variants() -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["same"] = _subject()
    for name, value in (("bool for 1", True), ("float 1.0", 1.0), ("enum", _Kind.ONE),
                        ("fragment", orjson.Fragment(b"1")), ("text '1'", "1")):
        changed = _subject()
        changed["lines"][0]["consignments"][1]["co2eTtwG"] = value
        out[f"entry {name}"] = changed
    changed = _subject()
    changed["lines"][0]["verifier"] = math.nan
    out["NaN for null"] = changed
    changed = _subject()
    changed["threshold"]["liable"] = 1
    out["1 for true"] = changed
    changed = _subject()
    entry = changed["lines"][1]["consignments"][0]
    changed["lines"][1]["consignments"][0] = {_Key(k) if k == "anchor" else k: v
                                              for k, v in entry.items()}
    out["member name of another type"] = changed
    changed = _subject()
    changed["lines"] = deque(changed["lines"])
    out["lines not a list"] = changed
    changed = _subject()
    changed["lines"][0]["consignments"] = tuple(changed["lines"][0]["consignments"])
    out["entries not a list"] = changed
    out["subject not a dict"] = MappingProxyType(_subject())
    for levels in (61, 62):  # a member the rebuilt subject has too (an embedded record's)
        deep = _subject()
        deep["lines"][1]["extra"] = _deep(levels)
        out[f"{levels} levels"] = deep
    changed = _subject()
    changed["lines"][1]["consignments"][0]["netMassG"] += 1
    out["a figure changed"] = changed
    return out


@pytest.mark.parametrize("name", list(_variants()))
def test_the_subject_is_judged_the_rebuilt_one_exactly_when_canonical_json_says_so(
        name: str) -> None:
    candidate = _variants()[name]
    rebuilt = copy.deepcopy(candidate) if name.endswith("levels") else _subject()
    data = built_subject_bytes(rebuilt)
    assert data is not None  # orjson writes it (nesting included)
    same = _canonical(candidate) == data
    judged = _judged(candidate, rebuilt)
    # never judged the same where canonical JSON says otherwise (62 levels: too deep for the
    # document, though orjson writes it); the usual documents are judged the same. A tuple of
    # entries or a member name of a text subclass writes the same, and is left to the full
    # comparison.
    assert not judged or same, name
    assert same is (name in ("same", "61 levels", "entries not a list",
                             "member name of another type")), name
    assert judged is (name in ("same", "61 levels")), name


def _columns_of(subject: dict[str, Any]) -> Columns:
    """The columns a verifier would have read for the subject's entries."""
    entries = [c for line in subject["lines"] for c in line["consignments"]]
    exporters = sorted({e["exporter"] for e in entries})

    def numbers(name: str) -> np.ndarray:
        return np.array([e[name] for e in entries], dtype=np.int64)

    return Columns(
        shipment_ids=[e["shipmentId"] for e in entries],
        record_hashes=[e["recordHash"] for e in entries], co2e_wtw_g=numbers("co2eWtwG"),
        co2e_ttw_g=numbers("co2eTtwG"), anchors=numbers("anchor"),
        release_dates=[e["importDate"] for e in entries], net_mass_g=numbers("netMassG"),
        embedded_g=numbers("embeddedEmissionsG"),
        profile=np.array([exporters.index(e["exporter"]) for e in entries], dtype=np.int64),
        profiles=[SimpleNamespace(exporter=x) for x in exporters])  # type: ignore[misc]


def _places(subject: dict[str, Any]) -> dict[str, Any]:
    """The subject as it is rebuilt without its entries: each line's entries by their places."""
    lines, start = [], 0
    for line in subject["lines"]:
        count = len(line["consignments"])
        lines.append({**line, "consignments": list(range(start, start + count))})
        start += count
    return {**subject, "lines": lines}


def _lean_variants() -> dict[str, tuple[Any, dict[str, Any]]]:
    """(signed subject, the subject rebuilt from the columns) by name."""
    out: dict[str, tuple[Any, dict[str, Any]]] = {
        name: (candidate, copy.deepcopy(candidate) if name.endswith("levels") else _subject())
        for name, candidate in _variants().items()}
    changed = _subject()
    entry = changed["lines"][0]["consignments"][2]
    changed["lines"][0]["consignments"][2] = dict(reversed(entry.items()))
    out["members in another order"] = (changed, _subject())
    changed = _subject()
    changed["lines"][0]["consignments"][0]["extra"] = 1
    out["an entry with a tenth member"] = (changed, _subject())
    changed = _subject()
    del changed["lines"][0]["consignments"][0]["anchor"]
    changed["lines"][0]["consignments"][0]["anchors"] = 0
    out["a member renamed"] = (changed, _subject())
    changed = _subject()
    entries = changed["lines"][0]["consignments"]
    entries[0], entries[1] = entries[1], entries[0]
    out["two entries swapped"] = (changed, _subject())
    changed = _subject()
    changed["lines"][1]["consignments"].insert(0, changed["lines"][0]["consignments"].pop())
    out["an entry in the next line"] = (changed, _subject())
    changed = _subject()
    changed["lines"][0]["consignments"][0]["exporter"] = "0x" + "22" * 19 + "2A"
    out["the exporter in capitals"] = (changed, _subject())
    big = _subject()
    big["lines"][0]["consignments"][1]["netMassG"] = 2**53
    out["a mass beyond canonical JSON's integers"] = (big, copy.deepcopy(big))
    for value in (-(2**63), -(2**53)):
        low = _subject()
        low["lines"][0]["consignments"][0]["co2eWtwG"] = value
        out[f"a figure of {value}"] = (low, copy.deepcopy(low))
    odd = _subject()
    odd["lines"][1]["consignments"][0]["shipmentId"] = 'S-"7"\\ 宁波 \U0001f600 \u2028'
    out["a shipment id to escape"] = (odd, copy.deepcopy(odd))
    changed = _subject()
    changed["threshold"]["liable"] = False
    out["the rest changed"] = (changed, _subject())
    return out


@pytest.mark.parametrize("name", list(_lean_variants()))
def test_the_subject_rebuilt_without_entries_is_judged_exactly_when_canonical_json_says_so(
        name: str) -> None:
    candidate, rebuilt = _lean_variants()[name]
    lines = candidate.get("lines") if hasattr(candidate, "get") else None
    parsed = SimpleNamespace(subject=candidate, consignments=[
        c for line in (lines or []) for c in line.get("consignments", [])],
        entry_columns=None, entry_columns_taken=False)
    pieces = _places_written_as(parsed, _places(rebuilt),  # type: ignore[arg-type]
                                _columns_of(rebuilt))
    written = _canonical(candidate)
    same = written is not None and written == _canonical(rebuilt)
    assert pieces is None or same, name  # never judged the same where canonical JSON differs
    if pieces is not None:  # the pieces are the signed subject's canonical bytes
        assert b"".join(pieces()) == written, name
    assert (pieces is not None) is (name in (
        "same", "61 levels", "members in another order", "a shipment id to escape")), name


def test_an_entry_is_built_with_the_members_a_verifier_compares_in_their_order() -> None:
    # the verifier compares ENTRY_MEMBERS[k] of each signed entry with entry_values()[k]; an
    # entry built otherwise would never be judged the same without being built
    built = _item(*(f"value {k}" for k in range(len(ENTRY_MEMBERS))))
    assert list(built.items()) == [(name, f"value {k}") for k, name in enumerate(ENTRY_MEMBERS)]
    columns = _columns_of(_subject())
    values = [v.tolist() if isinstance(v, np.ndarray) else v for v in columns.entry_values()]
    entries = [c for line in _subject()["lines"] for c in line["consignments"]]
    assert [dict(zip(ENTRY_MEMBERS, row, strict=True)) for row in zip(*values, strict=True)] \
        == entries
