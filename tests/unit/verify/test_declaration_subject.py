"""The verifier's shortcut for a large declaration (the signed subject judged to be the rebuilt
one, whose canonical bytes are then hashed for the signature) is taken only where canonical
JSON writes the signed subject, at its depth in the document, as the rebuilt subject's bytes:
values of other types that orjson would write the same way, containers of other types, and
members nested too deep for the whole document are never let through."""

from __future__ import annotations

import copy
import enum
import math
from collections import deque
from types import MappingProxyType, SimpleNamespace
from typing import Any

import orjson
import pytest

from ledger.errors import InputError
from ledger.records.canonical import canonical_json
from ledger.verify.declaration import _Rebuilt, _subject_written_as
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
