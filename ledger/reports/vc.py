"""W3C Verifiable Credential 2.0 envelope with an EIP-712 proof.

A report is a VC 2.0 JSON document whose ``proof`` has the shape of the W3C-CCG draft
``EthereumEip712Signature2021``: ``type``, ``created``, ``proofPurpose``,
``verificationMethod``, ``proofValue`` (the 65-byte secp256k1 signature, hex) and
``eip712 = {domain, types, primaryType}``.

What is signed is the EIP-712 struct ``Report(string id, address issuer, string validFrom,
bytes32 documentHash)`` where ``documentHash`` is the keccak-256 of the canonical JSON of the
whole document with only ``proof.proofValue`` removed. Every other byte of the document,
including the rest of the proof, is therefore covered by the signature. The domain binds the
signature to one chain id and one ledger contract.

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

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "PROOF_TYPE",
    "REPORT_TYPES",
    "VC_CONTEXT",
    "address_from_did",
    "did_pkh",
    "document_hash",
    "eip712_domain",
    "recover_issuer",
    "report_hash",
    "sign_credential",
    "typed_data",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
PROOF_TYPE = "EthereumEip712Signature2021"
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


def document_hash(document: Mapping[str, Any]) -> bytes:
    """keccak-256 of the canonical document without ``proof.proofValue``."""
    unsigned = copy.deepcopy(dict(document))
    proof = unsigned.get("proof")
    if isinstance(proof, dict):
        proof.pop("proofValue", None)
    return keccak256(canonical_json(unsigned))


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
    proof = document.get("proof")
    if not isinstance(proof, Mapping) or not isinstance(proof.get("eip712"), Mapping):
        raise VerificationError("the document has no proof.eip712 block")
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
    """Adds an EIP-712 proof to an unsigned credential; the key must be the issuer's."""
    account = Account.from_key(private_key)
    issuer_chain, issuer = address_from_did(str(credential.get("issuer")))
    if issuer != account.address:
        raise LedgerError(
            f"the signing key belongs to {account.address}, not to the issuer {issuer}"
        )
    if issuer_chain != chain_id:
        raise LedgerError(f"issuer DID names chain {issuer_chain}, the report chain is {chain_id}")
    document = copy.deepcopy(dict(credential))
    document["proof"] = {
        "type": PROOF_TYPE,
        "created": created,
        "proofPurpose": "assertionMethod",
        "verificationMethod": f"{credential['issuer']}#blockchainAccountId",
        "eip712": {
            "domain": eip712_domain(chain_id, verifying_contract),
            "types": copy.deepcopy(REPORT_TYPES),
            "primaryType": "Report",
        },
    }
    signable = encode_typed_data(full_message=typed_data(document))
    signed = account.sign_message(signable)
    document["proof"]["proofValue"] = "0x" + bytes(signed.signature).hex()
    return document


def recover_issuer(document: Mapping[str, Any]) -> str:
    """The address whose key produced ``proof.proofValue`` over the document."""
    full = typed_data(document)
    proof = document["proof"]
    if proof.get("type") != PROOF_TYPE:
        raise VerificationError(f"proof type {proof.get('type')!r} is not {PROOF_TYPE}")
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
