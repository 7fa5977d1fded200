"""The hashes a large signed document is verified with, its subject written once.

A declaration's document is mostly its ``credentialSubject`` (a million consignments) beside a
few small members, and its verification needs three things of it: the hash of the whole
canonical document (:func:`ledger.reports.vc.report_hash`, the verdict's report hash), the hash
the EIP-712 signature signs (:func:`ledger.reports.vc.document_hash`: the same document without
the signature's ``proofValue``), and the subject's canonical bytes, compared with those of the
subject rebuilt from the consignments.

Canonical JSON (RFC 8785) writes each member's value on its own, so the canonical document is
the canonical document with its subject replaced by a placeholder string, the placeholder
replaced by the subject's canonical bytes. :func:`document_hashes` writes the subject once and
hashes it once: the keccak state after the document's beginning and the subject is copied for
both endings (the two documents differ only after the subject, in ``proof``). Where the
placeholder cannot be found once, or the subject is not canonical JSON, the plain functions
answer (the same hashes, and the same errors). A verifier that has already found the subject's
canonical bytes to be those of the subject it rebuilt (:func:`built_subject_bytes`) passes them
in, and the subject is not written at all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from itertools import chain
from typing import Any, NamedTuple

import orjson
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address

from ledger.errors import LedgerError, VerificationError
from ledger.records.canonical import canonical_json
from ledger.records.keccak import keccak256_endings
from ledger.reports import vc

__all__ = ["DocumentHashes", "built_subject_bytes", "built_subject_digest", "document_hashes",
           "recover_issuer", "subject_digest"]

_SUBJECT = "credentialSubject"
#: Stands for the subject while the rest of the document is written (found once, else unused).
_PLACEHOLDER = "carbon-ledger/verify/subject-written-apart/7c1e5b0a"
_PLACEHOLDER_JSON = b'"' + _PLACEHOLDER.encode() + b'"'
_ERRORS = (LedgerError, TypeError, ValueError)


class DocumentHashes(NamedTuple):
    """A document's hashes (module docstring); each ``None`` where the document is not
    canonical JSON."""

    #: :func:`ledger.reports.vc.report_hash`
    report_hash: bytes | None
    #: :func:`ledger.reports.vc.document_hash` (what the EIP-712 signature signs)
    document_hash: bytes | None
    #: :func:`subject_digest` of the document's subject
    subject_digest: bytes | None


def _subject_bytes(subject: Any) -> memoryview | None:
    """The canonical bytes of a document's subject, written at the depth it has in the
    document (so that a subject nested too deep is refused as in the whole); ``None`` when it
    is not canonical JSON."""
    try:
        data = canonical_json({_SUBJECT: subject})
    except _ERRORS:
        return None
    head = b'{"' + _SUBJECT.encode() + b'":'
    if not (data.startswith(head) and data.endswith(b"}")):
        return None
    return memoryview(data)[len(head):-1]


def subject_digest(subject: Any) -> bytes | None:
    """SHA-256 of the subject's canonical bytes (only ever compared with another such digest
    in the same verification), ``None`` when it is not canonical JSON."""
    data = _subject_bytes(subject)
    return None if data is None else hashlib.sha256(data).digest()


#: A character beyond the Basic Multilingual Plane in UTF-8 (its first byte): where orjson's
#: member order (by code point) may differ from RFC 8785's (by UTF-16 code unit).
_ASTRAL = re.compile(rb"[\xf0-\xf4]")


def built_subject_bytes(subject: Any) -> bytes | None:
    """The canonical bytes of a subject this verifier built itself (of plain JSON types, a few
    levels deep), without the type walk that canonical JSON makes of a value from elsewhere:
    orjson writes such a value as canonical JSON unless it refuses it (an integer beyond
    ±(2**53 - 1)) or a member name may sort otherwise (a character beyond the Basic
    Multilingual Plane): ``None`` there."""
    try:
        data = orjson.dumps(subject, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    except orjson.JSONEncodeError:
        return None
    if not data.isascii() and _ASTRAL.search(data) is not None:
        return None
    return data


def built_subject_digest(subject: Any, data: bytes | None = None) -> bytes | None:
    """:func:`subject_digest` of a subject this verifier built itself: SHA-256 of its
    :func:`built_subject_bytes` (``data`` where already written), the full writer's where
    those are ``None``."""
    if data is None:
        data = built_subject_bytes(subject)
    return subject_digest(subject) if data is None else hashlib.sha256(data).digest()


def _around(document: Mapping[str, Any]) -> tuple[bytes, bytes] | None:
    """The canonical document before and after its subject (the placeholder in its place),
    ``None`` when it cannot be written or the placeholder is not found exactly once."""
    try:
        data = canonical_json({**document, _SUBJECT: _PLACEHOLDER})
    except _ERRORS:
        return None
    at = data.find(_PLACEHOLDER_JSON)
    if at < 0 or data.find(_PLACEHOLDER_JSON, at + 1) >= 0:
        return None
    return data[:at], data[at + len(_PLACEHOLDER_JSON):]


def _plain(document: Mapping[str, Any]) -> DocumentHashes:
    report = document_hash = None
    with suppress(*_ERRORS):
        report = vc.report_hash(document)
    with suppress(*_ERRORS):
        document_hash = vc.document_hash(document)
    return DocumentHashes(report, document_hash, subject_digest(document.get(_SUBJECT)))


def document_hashes(document: Mapping[str, Any],
                    subject_bytes: bytes | Iterable[bytes | memoryview] | None = None
                    ) -> DocumentHashes:
    """The document's hashes (module docstring), its subject written once; not at all where
    the caller knows its canonical bytes (``subject_bytes``: in one piece, or pieces to be
    joined, taken one at a time; see :func:`built_subject_bytes` and
    :func:`ledger.records.canonical.canonical_json_is`), whose digest is then not taken
    (``subject_digest`` is ``None``: the caller has compared the subject already)."""
    if _SUBJECT not in document:
        return _plain(document)
    parts: Iterable[bytes | memoryview] | None
    digest = None
    if isinstance(subject_bytes, bytes):
        parts = (subject_bytes,)
    elif subject_bytes is not None:
        parts = subject_bytes
    else:
        written = _subject_bytes(document[_SUBJECT])
        parts = None if written is None else (written,)
        digest = None if written is None else hashlib.sha256(written).digest()
    signed, unsigned = _around(document), _around(vc.unsigned_document(document))
    if parts is None or signed is None or unsigned is None or signed[0] != unsigned[0]:
        return _plain(document)
    report, document_hash = keccak256_endings(chain((signed[0],), parts),
                                              (signed[1], unsigned[1]))
    return DocumentHashes(report, document_hash, digest)


def recover_issuer(document: Mapping[str, Any], hashes: DocumentHashes) -> str:
    """:func:`ledger.reports.vc.recover_issuer` with the document's hash already known
    (``hashes``): the typed data is checked and built on the document with its subject left
    out, then given the known hash. Where it is not known, the plain function answers."""
    if hashes.document_hash is None or _SUBJECT not in document:
        return vc.recover_issuer(document)
    full = vc.typed_data({**document, _SUBJECT: _PLACEHOLDER})
    full["message"]["documentHash"] = "0x" + hashes.document_hash.hex()
    value = vc.eip712_proof(document).get("proofValue")
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{130}", value):
        raise VerificationError("proof.proofValue is not a 65-byte hex signature")
    try:
        recovered: str = Account.recover_message(
            encode_typed_data(full_message=full), signature=bytes.fromhex(value[2:]))
    except Exception as exc:  # eth-keys raises several types for bad signatures
        raise VerificationError(f"the signature cannot be recovered: {exc}") from exc
    return to_checksum_address(recovered)
