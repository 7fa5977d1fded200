"""Every leaf value of a valid report, changed one at a time, fails verification by name."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from typing import Any

from test_report_fixtures import MemoryLedger, anchored, recompute, signed_report

from ledger.verify import CHECK_NAMES, verify_report

Path = tuple[str | int, ...]


def leaves(value: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """(path, value) of every number, string, boolean and null in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def mutated(value: Any) -> Any:
    """A different value of the same kind (hex stays hex of the same length)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value is None:
        return "0x" + "00" * 32
    text = str(value)
    if text.startswith("0x") and len(text) > 2:
        last = text[-1].lower()
        return text[:-1] + ("0" if last != "0" else "1")
    if text and text[-1].isdigit():
        return text[:-1] + str((int(text[-1]) + 1) % 10)
    return text + "x"


def _set(document: dict[str, Any], path: Path, value: Any) -> None:
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def test_every_mutation_of_a_valid_report_is_caught_by_a_named_check() -> None:
    document = signed_report()
    ledger = MemoryLedger(root=anchored().tree.root)
    assert verify_report(document, ledger, recompute=recompute).ok
    caught_by: Counter[str] = Counter()
    tried = 0
    for path, value in leaves(document):
        copy_ = copy.deepcopy(document)
        _set(copy_, path, mutated(value))
        verdict = verify_report(copy_, ledger, recompute=recompute)
        tried += 1
        assert not verdict.ok, f"mutation of {'/'.join(map(str, path))} was not caught"
        assert verdict.failed and set(verdict.failed) <= set(CHECK_NAMES)
        caught_by.update(verdict.failed)
    print(f"\ntamper test: {tried} mutations tried, {tried} caught; failing checks: "
          + ", ".join(f"{name} {count}" for name, count in caught_by.most_common()))
    assert tried > 200
    # the signature alone is not what catches them: the independent checks do too
    assert caught_by["recompute"] > 0 and caught_by["record_hash"] > 0
    assert caught_by["merkle_proof"] > 0 and caught_by["anchor"] > 0
