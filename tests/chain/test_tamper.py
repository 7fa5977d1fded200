"""The tamper test on a real chain: a report anchored on the session's Anvil, then every leaf
value of its JSON changed one at a time; each copy is verified against the node and must fail,
naming the check that caught it."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from devchain import DevChain
from json_paths import leaf_paths
from report_chain_fixtures import anchor_and_issue

from ledger.chain.client import connect
from ledger.chain.contract import CarbonLedgerContract
from ledger.reports.figures import shipped_recompute
from ledger.verify.verdict import CHECK_NAMES
from ledger.verify.verifier import verify_report


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


def _get(document: dict[str, Any], path: tuple[Any, ...]) -> Any:
    target: Any = document
    for key in path:
        target = target[key]
    return target


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


@pytest.mark.parametrize("path", ["root", "events"])
def test_every_mutation_of_an_anchored_report_fails_on_chain_by_a_named_check(
    chain: DevChain, tmp_path: Path, path: str,
) -> None:
    document = anchor_and_issue(chain, tmp_path, path=path).document
    chain.node.rpc("evm_mine")
    with connect(chain.settings, read_only=True) as client:
        reader = CarbonLedgerContract(client, chain.deployment.address)
        recompute = shipped_recompute()
        valid = verify_report(document, reader, recompute=recompute)
        assert valid.ok, valid.to_dict()
        caught_by: Counter[str] = Counter()  # checks that failed (not merely skipped)
        tried = 0
        for where in leaf_paths(document):
            changed = copy.deepcopy(document)
            _set(changed, where, mutated(_get(document, where)))
            verdict = verify_report(changed, reader, recompute=recompute)
            tried += 1
            at = "/".join(map(str, where))
            assert not verdict.ok, f"mutation of {at} was not caught"
            failing = [c.name for c in verdict.checks if c.status == "fail"]
            assert failing, f"mutation of {at} only skipped checks: {verdict.to_dict()}"
            assert set(failing) <= set(CHECK_NAMES)
            caught_by.update(failing)
    print(f"\ntamper test ({path} anchoring, on chain): {tried} mutations tried, "
          "each caught by at least one failing check; failing checks: "
          + ", ".join(f"{n} {c}" for n, c in caught_by.most_common()))
    assert tried > 300
    # the signature alone is not what catches them: the independent checks do too
    for name in ("recompute", "record_hash", "anchor", "signature", "data_integrity"):
        assert caught_by[name] > 0, name
    assert caught_by["merkle_proof" if path == "root" else "uniqueness"] > 0
