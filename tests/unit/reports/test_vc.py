"""The VC 2.0 envelope and its two proofs (W3C Data Integrity ecdsa-jcs-2019 and EIP-712), signed
and checked without a node; reports of the earlier proof type still verify."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from ledger.errors import LedgerError, VerificationError
from ledger.records import canonical, keccak
from ledger.reports import integrity, vc

ROOT = Path(__file__).resolve().parents[3]
#: A credential signed by the earlier release (one proof object, EthereumEip712Signature2021).
LEGACY = Path(__file__).with_name("data") / "legacy-eip712-credential.json"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
KEY = "0x" + "42" * 32


def _credential(address: str, chain_id: int = 31337) -> dict[str, object]:
    return {
        "@context": [vc.VC_CONTEXT],
        "id": "urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
        "type": ["VerifiableCredential", "ShipmentFootprintReport"],
        "issuer": vc.did_pkh(chain_id, address),
        "validFrom": "2026-03-31T12:00:00Z",
        "credentialSubject": {
            "totals": {"co2eWtwKg": "4626.180"},
            "note": "Ningbo → Rotterdam, 集装箱",
            "version": 1,
        },
    }


def _signed() -> dict[str, object]:
    account = Account.from_key(KEY)
    return vc.sign_credential(
        _credential(account.address), KEY, chain_id=31337, verifying_contract=CONTRACT,
        created="2026-03-31T12:00:01Z",
    )


def _eip712(doc: dict[str, object]) -> dict[str, object]:
    proof = vc.eip712_proof(doc)
    assert isinstance(proof, dict)
    return proof


def test_signature_recovers_the_issuer_and_the_proofs_form_a_chain() -> None:
    doc = _signed()
    proofs = doc["proof"]
    assert isinstance(proofs, list) and len(proofs) == 2
    data_integrity, proof = proofs
    assert proof["type"] == "CarbonLedgerEip712Signature2026" == vc.PROOF_TYPE
    assert proof["eip712"]["domain"] == {
        "name": vc.DOMAIN_NAME, "version": "1", "chainId": 31337, "verifyingContract": CONTRACT,
    }
    assert proof["verificationMethod"].endswith("#blockchainAccountId")
    assert proof["previousProof"] == data_integrity["id"]
    assert (data_integrity["type"], data_integrity["cryptosuite"]) == (
        "DataIntegrityProof", "ecdsa-jcs-2019")
    assert vc.recover_issuer(doc) == Account.from_key(KEY).address
    assert integrity.verify_proof(doc, data_integrity) == data_integrity["verificationMethod"]


def test_the_data_integrity_key_is_the_exporters_derived_p256_did_key() -> None:
    doc = _signed()
    method = vc.data_integrity_proofs(doc)[0]["verificationMethod"]
    derived = integrity.derive_signing_key(KEY)
    assert method == integrity.verification_method(derived.public_key())
    assert method.startswith("did:key:zDn")  # P-256 Multikey
    assert integrity.derive_signing_key(KEY).private_numbers() == derived.private_numbers()
    other = integrity.derive_signing_key("0x" + "43" * 32)
    assert integrity.did_key(other.public_key()) != integrity.did_key(derived.public_key())


@pytest.mark.parametrize("mutate", [
    lambda d: d["credentialSubject"].__setitem__("note", "Ningbo → Hamburg"),
    lambda d: d.__setitem__("validFrom", "2026-04-01T12:00:00Z"),
    lambda d: d["proof"][0].__setitem__("created", "2027-01-01T00:00:00Z"),
    lambda d: d["proof"][0].__setitem__(
        "verificationMethod", integrity.verification_method(
            integrity.derive_signing_key("0x" + "43" * 32).public_key())),
    lambda d: d["proof"][0].__setitem__("proofValue", d["proof"][0]["proofValue"][:-2] + "11"),
    lambda d: d["@context"].insert(0, "https://vocabulary.uncefact.org/untp/0.7.0/context/"),
], ids=["subject", "validFrom", "created", "other-key", "proofValue", "context"])
def test_any_change_breaks_the_data_integrity_proof(mutate) -> None:  # type: ignore[no-untyped-def]
    doc = _signed()
    mutate(doc)
    with pytest.raises(VerificationError):
        integrity.verify_proof(doc, vc.data_integrity_proofs(doc)[0])


def test_the_eip712_proof_covers_the_data_integrity_proof() -> None:
    doc = _signed()
    doc["proof"][0]["created"] = "2027-01-01T00:00:00Z"  # type: ignore[index]
    assert vc.recover_issuer(doc) != Account.from_key(KEY).address


def test_a_report_of_the_earlier_proof_type_still_recovers_its_issuer() -> None:
    legacy = json.loads(LEGACY.read_text(encoding="utf-8"))
    assert legacy["proof"]["type"] == vc.LEGACY_PROOF_TYPE == "EthereumEip712Signature2021"
    assert vc.recover_issuer(legacy) == Account.from_key(KEY).address
    assert vc.data_integrity_proofs(legacy) == []
    legacy["credentialSubject"]["note"] = "changed"
    assert vc.recover_issuer(legacy) != Account.from_key(KEY).address


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["credentialSubject"].__setitem__("note", "Ningbo → Hamburg"),
        lambda d: d.__setitem__("validFrom", "2026-04-01T12:00:00Z"),
        lambda d: _eip712(d)["eip712"]["domain"].__setitem__("chainId", 1),
        lambda d: _eip712(d).__setitem__("created", "2027-01-01T00:00:00Z"),
    ],
)
def test_any_change_breaks_the_signature(mutate) -> None:  # type: ignore[no-untyped-def]
    doc = _signed()
    mutate(doc)
    assert vc.recover_issuer(doc) != Account.from_key(KEY).address


def test_changed_types_are_refused() -> None:
    doc = _signed()
    _eip712(doc)["eip712"]["types"]["Report"][0]["type"] = "bytes32"  # type: ignore[index]
    with pytest.raises(VerificationError, match="types"):
        vc.recover_issuer(doc)


def test_signing_with_another_key_than_the_issuer_is_refused() -> None:
    other = Account.create()
    with pytest.raises(LedgerError, match="not to the issuer"):
        vc.sign_credential(_credential(other.address), KEY, chain_id=31337,
                           verifying_contract=CONTRACT, created="2026-03-31T12:00:01Z")


def test_floats_are_refused_in_signed_documents() -> None:
    doc = _signed()
    doc["credentialSubject"]["totals"] = {"co2eWtwKg": 4626.18}  # type: ignore[index]
    with pytest.raises(VerificationError, match=r"float 4626\.18"):
        vc.recover_issuer(doc)
    with pytest.raises(LedgerError, match=r"\$\.credentialSubject\.totals\.co2eWtwKg"):
        vc.report_hash(doc)


def test_documents_are_hashed_over_the_project_canonical_json() -> None:
    doc = _signed()
    data_integrity, eip712 = doc["proof"]  # type: ignore[misc]
    unsigned = {**doc, "proof": [data_integrity, {k: v for k, v in eip712.items()
                                                  if k != "proofValue"}]}
    assert vc.document_hash(doc) == keccak.keccak256(canonical.canonical_json(unsigned))
    assert vc.report_hash(doc) == keccak.keccak256(canonical.canonical_json(doc))


def test_did_round_trip_and_bad_did() -> None:
    address = Account.from_key(KEY).address
    assert vc.address_from_did(vc.did_pkh(11155111, address.lower())) == (11155111, address)
    with pytest.raises(VerificationError, match="did:pkh"):
        vc.address_from_did("did:web:example.com")


def _full_report() -> dict[str, object]:
    from report_fixtures import signed_report

    return signed_report()


@pytest.mark.node
@pytest.mark.parametrize("make", [_signed, _full_report], ids=["credential", "full-report"])
def test_ethers_recovers_the_same_issuer(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "ethers").is_dir():
        pytest.skip("NODE TIER SKIPPED: node or node_modules/ethers missing (run npm ci)")
    doc = make()
    path = tmp_path / "report.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run(
        [node, str(ROOT / "tests" / "js" / "eip712_verify.mjs"), str(path)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )
    result = json.loads(out.stdout)
    assert result["documentHash"] == "0x" + vc.document_hash(doc).hex()
    assert result["recovered"] == vc.recover_issuer(doc) == result["issuer"]


def _node_with(*packages: str) -> str:
    node = shutil.which("node")
    missing = [p for p in packages if not (ROOT / "node_modules" / p).is_dir()]
    if node is None or missing:
        pytest.skip(f"NODE TIER SKIPPED: node or node_modules/{missing} missing (run npm ci)")
    return node


@pytest.mark.node
def test_a_generic_w3c_verifier_accepts_the_data_integrity_proof(tmp_path: Path) -> None:
    """Digital Bazaar's jsonld-signatures + data-integrity + ecdsa-jcs-2019 cryptosuite (npm),
    resolving the did:key itself, verify the proof; a tampered copy and a proof by another key
    are refused."""
    node = _node_with("jsonld-signatures", "@digitalbazaar/ecdsa-jcs-2019-cryptosuite")
    doc = _full_report()
    tampered = json.loads(json.dumps(doc))
    tampered["credentialSubject"]["totals"]["co2eWtwKg"] = "1.000"
    forged = json.loads(json.dumps(doc))
    forged["proof"][0] = integrity.create_proof(
        {k: v for k, v in forged.items() if k != "proof"},
        integrity.derive_signing_key("0x" + "43" * 32), created="2026-03-31T12:00:01Z")
    forged["proof"][0]["verificationMethod"] = doc["proof"][0]["verificationMethod"]
    paths = []
    for name, content in (("report", doc), ("tampered", tampered), ("forged", forged)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run(
        [node, str(ROOT / "tests" / "js" / "di_verify.mjs"),
         str(ROOT / "ledger" / "reports" / "contexts"), *map(str, paths)],
        check=True, capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["verified"] for r in results] == [True, False, False], results
    assert results[0]["verificationMethod"] == doc["proof"][0]["verificationMethod"]


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [True, None, "x"], "é": {"𝄞": "clef", "z": "\u2028\u007f\n"}},
    {"\U0001f600": 1, "\ufb33": 2, "n": -(2**53 - 1)},
    {"k": 1.5, "e": 1e21, "s": "float outside the canonical subset"},
    {"big": 2**53 + 1},
])
def test_the_data_integrity_canonical_form_is_rfc8785(value: dict[str, object]) -> None:
    """Within the canonical subset the project's writer gives the bytes; outside it (floats,
    integers beyond 2**53) the rfc8785 library does: either way what rfc8785 writes."""
    import rfc8785

    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            integrity.jcs(value)
    else:
        assert integrity.jcs(value) == expected


def test_signing_leaves_the_credential_as_it_was() -> None:
    account = Account.from_key(KEY)
    credential = _credential(account.address)
    before = json.dumps(credential, sort_keys=True)
    doc = vc.sign_credential(credential, KEY, chain_id=31337, verifying_contract=CONTRACT,
                             created="2026-03-31T12:00:01Z")
    assert "proof" in doc and "proof" not in credential
    assert json.dumps(credential, sort_keys=True) == before
