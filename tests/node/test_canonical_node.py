"""Canonical JSON against an ECMAScript reference: JSON.stringify with UTF-16-sorted members."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.records.canonical import MAX_SAFE_INTEGER, canonical_json, canonical_json_reference

pytestmark = pytest.mark.node

SCRIPT = Path(__file__).resolve().parents[1] / "js" / "jcs.js"

names = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Cc", "Co", "Zs"]), max_size=6
)
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(st.characters(codec="utf-8"), max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(names, children, max_size=5),
    max_leaves=25,
)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH")
    return node


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents=st.lists(values, min_size=40, max_size=60))
def test_canonical_bytes_equal_the_ecmascript_reference(
    documents: list[Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    # fixed documents that exercise the UTF-16 ordering, plus generated ones
    documents = [
        {"\ufb33": 1, "\U0001f600": 2, "\ue000": 3, "\uffff": 4, "\U00010000": 5, "a": 6},
        {"escapes": "\x00\x07\b\t\n\x0b\f\r\x1f\"\\/\x7f\u2028\u2029"},
        *documents,
    ]
    path = tmp_path_factory.mktemp("jcs") / "documents.json"
    path.write_text(json.dumps(documents, ensure_ascii=True), encoding="ascii")
    result = subprocess.run(
        [_node(), str(SCRIPT), str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    expected = [bytes.fromhex(line) for line in result.stdout.splitlines()]
    assert len(expected) == len(documents)
    for document, reference in zip(documents, expected, strict=True):
        assert canonical_json(document) == reference
        assert canonical_json_reference(document) == reference
