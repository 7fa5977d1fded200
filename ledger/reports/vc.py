"""W3C Verifiable Credential 2.0 envelope with two proofs: Data Integrity and EIP-712.

A report is a VC 2.0 JSON document whose ``proof`` is a list of two proofs (a proof chain):

1. a W3C ``DataIntegrityProof`` with the ``ecdsa-jcs-2019`` cryptosuite
   (:mod:`ledger.reports.integrity`) over the document without ``proof``, which any generic
   VC verifier checks;
2. the project's EIP-712 proof, type :data:`PROOF_TYPE` (``CarbonLedgerEip712Signature2026``),
   with ``previousProof`` naming the first: ``type``, ``created``, ``proofPurpose``,
   ``verificationMethod`` (the issuer's ``did:pkh`` account), ``proofValue`` (the 65-byte
   secp256k1 signature, hex) and ``eip712 = {domain, types, primaryType}``.

The EIP-712 proof signs the struct ``Report(string id, address issuer, string validFrom,
bytes32 documentHash)`` where ``documentHash`` is the keccak-256 of the canonical JSON of the
whole document with only that proof's ``proofValue`` removed. Every other byte of the document,
the Data Integrity proof included, is therefore covered by the exporter's Ethereum key: this is
what binds the Data Integrity ``did:key`` to the issuer's address. The domain binds the signature
to one chain id and one ledger contract.

This proof is *not* the W3C-CCG ``EthereumEip712Signature2021`` suite, which signs the credential
itself as typed data; it has its own type name. Reports issued before this version carry one
proof object of type :data:`LEGACY_PROOF_TYPE` (``EthereumEip712Signature2021``) with the same
struct, domain and ``documentHash`` rule; :func:`recover_issuer` still verifies them.

Canonical JSON is the project's one definition, :func:`ledger.records.canonical.canonical_json`
(RFC 8785 over documents without floating-point numbers, integers within ±(2**53 - 1)); emission
figures are decimal strings, so any JCS implementation reproduces the bytes.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.address import to_checksum_address

from ledger.errors import LedgerError, VerificationError
from ledger.records.canonical import canonical_json
from ledger.records.keccak import keccak256
from ledger.reports import integrity

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_PROOF_TYPES",
    "LEGACY_PROOF_TYPE",
    "PROOF_TYPE",
    "REPORT_TYPES",
    "VC_CONTEXT",
    "address_from_did",
    "data_integrity_proofs",
    "did_pkh",
    "document_hash",
    "eip712_domain",
    "eip712_proof",
    "recover_issuer",
    "report_hash",
    "sign_credential",
    "typed_data",
    "unsigned_document",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PROOF_TYPE = "CarbonLedgerEip712Signature2026"
#: The proof type of reports issued before the Data Integrity proof (same struct and domain).
LEGACY_PROOF_TYPE = "EthereumEip712Signature2021"
EIP712_PROOF_TYPES = (PROOF_TYPE, LEGACY_PROOF_TYPE)
DOMAIN_NAME = "CarbonLedger Report"
DOMAIN_VERSION = "1"

#: The EIP-712 types of a report signature (``EIP712Domain`` first, as the draft spec shows).
REPORT_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Report": [
        {"name": "id", "type": "string"},
        {"name": "issuer", "type": "address"},
        {"name": "validFrom", "type": "string"},
        {"name": "documentHash", "type": "bytes32"},
    ],
}

_DID_PKH = re.compile(r"^did:pkh:eip155:(\d+):(0x[0-9a-fA-F]{40})$")


def did_pkh(chain_id: int, address: str) -> str:
    """The ``did:pkh`` identifier of an Ethereum account on one chain."""
    return f"did:pkh:eip155:{chain_id}:{to_checksum_address(address)}"


def address_from_did(did: str) -> tuple[int, str]:
    """Chain id and checksummed address of a ``did:pkh:eip155`` identifier."""
    match = _DID_PKH.match(did) if isinstance(did, str) else None
    if match is None:
        raise VerificationError(
            f"issuer {did!r} is not a did:pkh:eip155:<chainId>:<address> identifier"
        )
    address = match.group(2)
    if address != to_checksum_address(address):
        raise VerificationError(f"issuer address {address} is not in checksum form")
    return int(match.group(1)), address


def _proof_list(document: Mapping[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if isinstance(proof, list):
        return proof
    return [] if proof is None else [proof]


def eip712_proof(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The document's one EIP-712 proof (``VerificationError`` when none or several)."""
    found = [p for p in _proof_list(document)
             if isinstance(p, Mapping) and p.get("type") in EIP712_PROOF_TYPES]
    if len(found) != 1:
        raise VerificationError(f"the document needs exactly one proof of type {PROOF_TYPE} "
                                f"(or the earlier {LEGACY_PROOF_TYPE}); found {len(found)}")
    return found[0]


def data_integrity_proofs(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The document's W3C Data Integrity proofs (``type: DataIntegrityProof``)."""
    return [p for p in _proof_list(document)
            if isinstance(p, Mapping) and p.get("type") == integrity.DI_PROOF_TYPE]


def document_hash(document: Mapping[str, Any]) -> bytes:
    """keccak-256 of the canonical document without the EIP-712 proof's ``proofValue``."""
    return keccak256(canonical_json(unsigned_document(document)))


def unsigned_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document as :func:`document_hash` hashes it: without the EIP-712 proof's
    ``proofValue``. A copy of the proofs only: the rest is read, never changed (a
    declaration's subject holds a million consignments)."""
    unsigned = dict(document)
    proof = unsigned.get("proof")
    if isinstance(proof, list):
        unsigned["proof"] = [_without_value(p) for p in proof]
    elif proof is not None:
        unsigned["proof"] = _without_value(proof)
    return unsigned


def _without_value(proof: Any) -> Any:
    if isinstance(proof, dict) and proof.get("type") in EIP712_PROOF_TYPES:
        return {k: v for k, v in proof.items() if k != "proofValue"}
    return proof


def report_hash(document: Mapping[str, Any]) -> bytes:
    """keccak-256 of the whole canonical signed document: the subject auditors attest."""
    return keccak256(canonical_json(dict(document)))


def eip712_domain(chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The EIP-712 domain of report signatures on one chain and ledger contract."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": int(chain_id),
        "verifyingContract": to_checksum_address(verifying_contract),
    }


def typed_data(document: Mapping[str, Any]) -> dict[str, Any]:
    """The full EIP-712 message (types, primaryType, domain, message) a document is signed as."""
    proof = eip712_proof(document)
    if not isinstance(proof.get("eip712"), Mapping):
        raise VerificationError("the EIP-712 proof has no eip712 block")
    eip712 = proof["eip712"]
    if eip712.get("types") != REPORT_TYPES or eip712.get("primaryType") != "Report":
        raise VerificationError(
            "proof.eip712 types or primaryType are not the report types this verifier knows"
        )
    domain = eip712.get("domain")
    if not isinstance(domain, Mapping) or set(domain) != {
        "name", "version", "chainId", "verifyingContract"
    }:
        raise VerificationError("proof.eip712.domain must have name, version, chainId, "
                                "verifyingContract")
    _, issuer = address_from_did(str(document.get("issuer")))
    report_id, valid_from = document.get("id"), document.get("validFrom")
    if not isinstance(report_id, str) or not isinstance(valid_from, str):
        raise VerificationError("the document needs string 'id' and 'validFrom'")
    try:
        digest = document_hash(document)
    except LedgerError as exc:
        raise VerificationError(str(exc)) from exc
    return {
        "types": REPORT_TYPES,
        "primaryType": "Report",
        "domain": dict(domain),
        "message": {
            "id": report_id,
            "issuer": issuer,
            "validFrom": valid_from,
            "documentHash": "0x" + digest.hex(),
        },
    }


def sign_credential(
    credential: Mapping[str, Any],
    private_key: bytes | str,
    *,
    chain_id: int,
    verifying_contract: str,
    created: str,
) -> dict[str, Any]:
    """Adds the two proofs to an unsigned credential; the key must be the issuer's.

    The Data Integrity proof is made with the P-256 key derived from ``private_key``
    (:func:`ledger.reports.integrity.derive_signing_key`), then the EIP-712 proof over the
    document that carries it.
    """
    account = Account.from_key(private_key)
    issuer_chain, issuer = address_from_did(str(credential.get("issuer")))
    if issuer != account.address:
        raise LedgerError(
            f"the signing key belongs to {account.address}, not to the issuer {issuer}"
        )
    if issuer_chain != chain_id:
        raise LedgerError(f"issuer DID names chain {issuer_chain}, the report chain is {chain_id}")
    # a new top level; the members are shared with ``credential``, never changed here (a
    # declaration's subject holds a million consignments: a deep copy cost seconds)
    document = dict(credential)
    document.pop("proof", None)
    report_id = str(document.get("id"))
    data_integrity = integrity.create_proof(
        document, integrity.derive_signing_key(private_key), created=created,
        proof_id=f"{report_id}#data-integrity-proof")
    eip712: dict[str, Any] = {
        "id": f"{report_id}#eip712-proof",
        "type": PROOF_TYPE,
        "created": created,
        "proofPurpose": "assertionMethod",
        "verificationMethod": f"{credential['issuer']}#blockchainAccountId",
        "previousProof": data_integrity["id"],
        "eip712": {
            "domain": eip712_domain(chain_id, verifying_contract),
            "types": copy.deepcopy(REPORT_TYPES),
            "primaryType": "Report",
        },
    }
    document["proof"] = [data_integrity, eip712]
    signable = encode_typed_data(full_message=typed_data(document))
    signed = account.sign_message(signable)
    eip712["proofValue"] = "0x" + bytes(signed.signature).hex()
    return document


def recover_issuer(document: Mapping[str, Any]) -> str:
    """The address whose key produced ``proof.proofValue`` over the document."""
    full = typed_data(document)
    proof = eip712_proof(document)
    value = proof.get("proofValue")
    if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{130}", value):
        raise VerificationError("proof.proofValue is not a 65-byte hex signature")
    try:
        recovered: str = Account.recover_message(
            encode_typed_data(full_message=full), signature=bytes.fromhex(value[2:])
        )
    except Exception as exc:  # eth-keys raises several types for bad signatures
        raise VerificationError(f"the signature cannot be recovered: {exc}") from exc
    return to_checksum_address(recovered)
