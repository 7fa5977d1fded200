"""W3C Data Integrity proofs with the ``ecdsa-jcs-2019`` cryptosuite (P-256).

A report carries, beside its EIP-712 proof, a ``DataIntegrityProof`` that any generic verifier of
W3C Verifiable Credentials checks without knowing this project: ``type: DataIntegrityProof``,
``cryptosuite: ecdsa-jcs-2019``, ``created``, ``proofPurpose: assertionMethod``,
``verificationMethod`` (a ``did:key`` P-256 Multikey) and ``proofValue`` (multibase base58btc of
the 64-byte ``r || s`` signature). The algorithm is the one of *Data Integrity ECDSA Cryptosuites
v1.0*, section 3.3 (W3C Recommendation, 2025):

- the unsecured document is the credential without ``proof``; the proof configuration is the proof
  without ``proofValue``, with the document's ``@context`` (as the signed proof carries it);
- hash data = SHA-256(JCS(proof configuration)) || SHA-256(JCS(unsecured document)), JCS being
  RFC 8785 (:func:`jcs`: the project's canonical writer within its subset, the ``rfc8785``
  library for the rest, such as floats);
- the signature is ECDSA P-256 with SHA-256 over the hash data (the ``cryptography`` library).

JCS needs no JSON-LD processing, so nothing is fetched at verification time; the only context a
report names is the VC 2.0 context, which defines ``DataIntegrityProof`` and is shipped in
``ledger/reports/contexts/`` for verifiers that expand documents.

**The key and its binding.** The P-256 key is derived from the exporter's secp256k1 key
(HKDF-SHA256, RFC 5869, with :data:`KEY_DERIVATION_INFO`; the scalar is reduced into
``[1, n - 1]`` from 48 bytes, as FIPS 186-5 A.2.1 does), so an exporter manages one key. Its
``did:key`` is bound to the exporter's address by the report's EIP-712 proof, which signs the
document *including* this proof (a proof chain: the EIP-712 proof names this one as
``previousProof``). A verifier therefore knows the ``did:key`` speaks for the ``did:pkh`` issuer.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import base58
import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ledger.errors import InputError, LedgerError, VerificationError
from ledger.records.canonical import canonical_json

__all__ = [
    "CRYPTOSUITE",
    "DI_PROOF_TYPE",
    "KEY_DERIVATION_INFO",
    "create_proof",
    "derive_signing_key",
    "did_key",
    "public_key_from_method",
    "verification_method",
    "verify_proof",
]

DI_PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "ecdsa-jcs-2019"
#: HKDF ``info`` of the P-256 report key derived from the exporter's secp256k1 key.
KEY_DERIVATION_INFO = b"carbon-ledger report data-integrity ecdsa-jcs-2019 P-256 v1"
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_P256_MULTICODEC = b"\x80\x24"  # varint of 0x1200, p256-pub (multicodec table)
_DID_KEY = re.compile(r"^did:key:(zDn[1-9A-HJ-NP-Za-km-z]+)#(zDn[1-9A-HJ-NP-Za-km-z]+)$")


def _key_bytes(private_key: bytes | str) -> bytes:
    if isinstance(private_key, str):
        text = private_key[2:] if private_key.startswith("0x") else private_key
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise LedgerError("the signing key is not hex") from None
    return bytes(private_key)


def derive_signing_key(exporter_key: bytes | str) -> ec.EllipticCurvePrivateKey:
    """The P-256 key of an exporter's reports, derived from its secp256k1 key (see above)."""
    material = HKDF(algorithm=hashes.SHA256(), length=48, salt=None,
                    info=KEY_DERIVATION_INFO).derive(_key_bytes(exporter_key))
    scalar = int.from_bytes(material, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def did_key(public_key: ec.EllipticCurvePublicKey) -> str:
    """``did:key`` of a P-256 public key (Multikey: multicodec p256-pub, compressed point)."""
    point = public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    return "did:key:z" + base58.b58encode(_P256_MULTICODEC + point).decode("ascii")


def verification_method(public_key: ec.EllipticCurvePublicKey) -> str:
    """The ``did:key`` verification method URL (``did:key:<mk>#<mk>``) of a public key."""
    did = did_key(public_key)
    return f"{did}#{did.removeprefix('did:key:')}"


def public_key_from_method(method: object) -> ec.EllipticCurvePublicKey:
    """The P-256 public key a ``did:key`` verification method URL names."""
    match = _DID_KEY.match(method) if isinstance(method, str) else None
    if match is None or match.group(1) != match.group(2):
        raise VerificationError(f"verificationMethod {method!r} is not a did:key P-256 "
                                "Multikey (did:key:zDn...#zDn...)")
    raw = base58.b58decode(match.group(1)[1:])
    if not raw.startswith(_P256_MULTICODEC) or len(raw) != 35:
        raise VerificationError(f"verificationMethod {method!r} is not a P-256 public key")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
    except ValueError:
        raise VerificationError(f"verificationMethod {method!r} is not a point on P-256") from None


def jcs(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of ``value``: the project's canonical writer where the value is in its
    subset (no floats: byte for byte what ``rfc8785`` writes, held against it by the tests, and
    about 40 times faster on a declaration of a million consignments), else ``rfc8785``."""
    try:
        return canonical_json(dict(value))
    except InputError:
        return rfc8785.dumps(dict(value))


def _hash_data(unsecured: Mapping[str, Any], config: Mapping[str, Any]) -> bytes:
    try:
        return (hashlib.sha256(jcs(config)).digest() + hashlib.sha256(jcs(unsecured)).digest())
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise VerificationError(f"the document cannot be canonicalised (RFC 8785): {exc}") \
            from None


def create_proof(
    unsecured: Mapping[str, Any],
    key: ec.EllipticCurvePrivateKey,
    *,
    created: str,
    proof_id: str | None = None,
) -> dict[str, Any]:
    """A ``DataIntegrityProof`` (ecdsa-jcs-2019) over a document without ``proof``."""
    if "proof" in unsecured:
        raise LedgerError("a Data Integrity proof is made over the document without 'proof'")
    proof: dict[str, Any] = {}
    if "@context" in unsecured:
        proof["@context"] = copy.deepcopy(unsecured["@context"])
    if proof_id is not None:
        proof["id"] = proof_id
    proof.update({
        "type": DI_PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method(key.public_key()),
        "proofPurpose": "assertionMethod",
    })
    der = key.sign(_hash_data(unsecured, proof), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    proof["proofValue"] = "z" + base58.b58encode(
        r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode("ascii")
    return proof


def verify_proof(document: Mapping[str, Any], proof: Mapping[str, Any]) -> str:
    """Checks one ecdsa-jcs-2019 proof of a secured document; returns its verification method.

    Raises ``VerificationError`` naming what is wrong.
    """
    if proof.get("type") != DI_PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise VerificationError(f"not a {DI_PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    if proof.get("proofPurpose") != "assertionMethod":
        raise VerificationError("the Data Integrity proof's proofPurpose is not assertionMethod")
    if not isinstance(proof.get("created"), str):
        raise VerificationError("the Data Integrity proof has no 'created' time")
    public_key = public_key_from_method(proof.get("verificationMethod"))
    value = proof.get("proofValue")
    try:
        raw = base58.b58decode(value[1:]) if isinstance(value, str) and value[:1] == "z" else b""
    except ValueError:
        raw = b""
    if len(raw) != 64:
        raise VerificationError("proofValue is not a multibase base58btc 64-byte signature")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config:
        context, wanted = document.get("@context"), config["@context"]
        have = context if isinstance(context, list) else [context]
        want = wanted if isinstance(wanted, list) else [wanted]
        if have[:len(want)] != want:
            raise VerificationError("the document's @context does not start with the proof's")
        unsecured["@context"] = wanted
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                     int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(signature, _hash_data(unsecured, config), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VerificationError("the Data Integrity signature does not verify") from None
    return str(proof["verificationMethod"])
