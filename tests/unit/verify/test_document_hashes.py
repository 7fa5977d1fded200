"""A signed document's hashes with its subject written once: the same hashes, the same signer
and the same refusals as the plain functions, on a signed report changed member by member."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from json_paths import leaf_paths
from report_fixtures import signed_report

from ledger.errors import LedgerError
from ledger.reports import vc
from ledger.verify.document_hashes import (
    _PLACEHOLDER,
    built_subject_digest,
    document_hashes,
    recover_issuer,
    subject_digest,
)


def _plain(document: dict[str, Any]) -> tuple[bytes | None, bytes | None]:
    hashes: list[bytes | None] = []
    for fn in (vc.report_hash, vc.document_hash):
        try:
            hashes.append(fn(document))
        except (LedgerError, TypeError, ValueError):
            hashes.append(None)
    return hashes[0], hashes[1]


def _signer(fn: Any, *args: Any) -> str:
    try:
        return str(fn(*args))
    except (LedgerError, TypeError, ValueError, KeyError, AttributeError) as exc:
        return f"{type(exc).__name__}: {exc}"


def _variants(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document, then each leaf changed in turn (a float, a character beyond the Basic
    Multilingual Plane, an integer beyond JSON's safe range, the subject's placeholder, null)."""
    yield document
    for number, path in enumerate(leaf_paths(document)):
        changed = copy.deepcopy(document)
        parent = changed
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = (1.5, "\U0001f600", 2**60, _PLACEHOLDER, None)[number % 5]
        yield changed


@pytest.mark.parametrize("subject_too", [False, True])
def test_the_hashes_and_the_signer_are_the_plain_ones(subject_too: bool) -> None:
    document = signed_report()
    if subject_too:  # a subject beside members whose names sort around it
        document = {**document, "credentialSubject": {"\U0001f600": 1, "\uffff": 2,
                                                      "items": [1, "x"]}}
    count = 0
    for variant in _variants(document):
        hashes = document_hashes(variant)
        assert (hashes.report_hash, hashes.document_hash) == _plain(variant)
        assert hashes.subject_digest == subject_digest(variant["credentialSubject"])
        assert _signer(recover_issuer, variant, hashes) == _signer(vc.recover_issuer, variant)
        count += 1
    assert count > 40


def test_the_subject_digest_tells_subjects_apart_as_canonical_json_does() -> None:
    subject = signed_report()["credentialSubject"]
    same = {k: subject[k] for k in reversed(list(subject))}  # members in another order
    assert subject_digest(same) == subject_digest(subject)
    changed = copy.deepcopy(subject)
    changed["extra"] = True
    assert subject_digest(changed) != subject_digest(subject)
    assert subject_digest({"x": 1.5}) is None


def test_a_built_subject_digest_is_the_subject_digest() -> None:
    subject = signed_report()["credentialSubject"]
    assert built_subject_digest(subject) == subject_digest(subject) is not None
    for extra in ({"\U0001f600": 1, "\uffff": 2}, {"operator": "Caf\u00e9 \U0001f600"},
                  {"big": 2**60}, {"nested": [{"b": 1, "a": [None, True, "x"]}]}):
        changed = {**subject, **extra}
        assert built_subject_digest(changed) == subject_digest(changed), extra
