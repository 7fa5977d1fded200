"""The VC 2.0 envelope and its EIP-712 proof, signed and recovered without a node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from ledger.errors import LedgerError, VerificationError
from ledger.records import canonical, keccak
from ledger.reports import vc

ROOT = Path(__file__).resolve().parents[3]
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


def test_signature_recovers_the_issuer_and_has_the_draft_shape() -> None:
    doc = _signed()
    proof = doc["proof"]
    assert isinstance(proof, dict)
    assert proof["type"] == "EthereumEip712Signature2021"
    assert proof["eip712"]["domain"] == {
        "name": vc.DOMAIN_NAME, "version": "1", "chainId": 31337, "verifyingContract": CONTRACT,
    }
    assert proof["verificationMethod"].endswith("#blockchainAccountId")
    assert vc.recover_issuer(doc) == Account.from_key(KEY).address


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d["credentialSubject"].__setitem__("note", "Ningbo → Hamburg"),
        lambda d: d.__setitem__("validFrom", "2026-04-01T12:00:00Z"),
        lambda d: d["proof"]["eip712"]["domain"].__setitem__("chainId", 1),
        lambda d: d["proof"].__setitem__("created", "2027-01-01T00:00:00Z"),
    ],
)
def test_any_change_breaks_the_signature(mutate) -> None:  # type: ignore[no-untyped-def]
    doc = _signed()
    mutate(doc)
    assert vc.recover_issuer(doc) != Account.from_key(KEY).address


def test_changed_types_are_refused() -> None:
    doc = _signed()
    doc["proof"]["eip712"]["types"]["Report"][0]["type"] = "bytes32"  # type: ignore[index]
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
    unsigned = {**doc, "proof": {k: v for k, v in doc["proof"].items()  # type: ignore[attr-defined]
                                 if k != "proofValue"}}
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
