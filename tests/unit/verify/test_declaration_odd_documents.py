"""Malformed declarations (built in Python, checked against a stand-in chain) are named the way
the verifier always named them: the faster paths give way where their inputs are odd."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ledger.verify.declaration import verify_declaration

EXPORTER = "0x" + "22" * 20


class _Chain:
    """A node that serves chain 31337 and knows no transaction."""

    def node_chain_id(self) -> int:
        return 31337

    def block_number(self) -> int:
        return 100

    def receipt(self, _hash: object) -> None:
        return None

    def events_in(self, _receipt: object) -> list[object]:
        return []

    def root_info(self, _root: object) -> SimpleNamespace:
        return SimpleNamespace(exporter=None)

    def ended_records(self, _exporter: str) -> dict[object, object]:
        return {}


def _entry(n: int) -> dict[str, Any]:
    return {"shipmentId": f"S-{n}", "exporter": EXPORTER, "recordHash": "0x" + "ab" * 32,
            "co2eWtwG": 10, "co2eTtwG": 1, "anchor": 0, "importDate": "2026-02-10",
            "netMassG": 1000, "embeddedEmissionsG": 3}


def _document(entries: list[dict[str, Any]], proofs: list[dict[str, Any]]) -> dict[str, Any]:
    contract = "0x" + "11" * 20
    return {
        "type": ["VerifiableCredential", "CbamAnnualDeclaration"],
        "issuer": "did:pkh:eip155:31337:0x" + "66" * 20,
        "credentialSubject": {
            "type": "CbamAnnualDeclaration", "reportingPeriod": {"year": 2026},
            "declarant": {"eori": "NL009900001"},
            "factorSet": {"id": "x", "consignmentFactorSetId": "y"},
            "anchors": [{"chainId": 31337, "contract": contract, "exporter": EXPORTER,
                         "path": "root", "merkleRoot": "0x" + "33" * 32,
                         "factorSetId": "0x" + "44" * 32, "transactionHash": "0x" + "55" * 32,
                         "blockNumber": 5}],
            "lines": [{"lineId": 1, "consignments": entries, "proofs": proofs}]},
        "proof": {"type": "EthereumEip712Signature2021", "proofValue": "0x00",
                  "eip712": {"domain": {"chainId": 31337, "verifyingContract": contract}}}}


def _details(document: dict[str, Any]) -> dict[str, str]:
    verdict = verify_declaration(document, _Chain())  # type: ignore[arg-type]
    return {c.name: c.detail for c in verdict.checks}


def test_an_entry_naming_no_exporter_is_named_with_no_store_given() -> None:
    entry = _entry(1)
    del entry["exporter"]
    assert _details(_document([entry], []))["record_hash"] == "KeyError: 'exporter'"


def test_proof_hashes_given_as_a_one_pass_iterator_are_each_read() -> None:
    proofs = [{"first": 0, "count": 1, "anchor": 0, "proof": iter(["0xzz"]), "flags": ""}]
    detail = _details(_document([_entry(1)], proofs))["merkle_proof"]
    assert detail.startswith("InputError"), detail
