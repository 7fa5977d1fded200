"""UNTP 0.7.0 credentials of a report's goods: a Digital Product Passport per shipped good and the
verifier's Digital Conformity Credential for CBAM goods on actual-verified data, validated
against the official UNTP schemas (jsonschema, draft 2020-12) and by ``dppvalidator``, and their
Data Integrity proofs checked here and by a generic verifier under Node."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from engine_report_fixtures import KEY, engine_report, example_shipments

from ledger.errors import InputError, VerificationError
from ledger.reports import integrity, untp

ROOT = Path(__file__).resolve().parents[3]
#: The official UNTP 0.7.0 artefacts (schemas), beside the repository or named by the variable.
UNTP = Path(os.environ.get("CARBON_LEDGER_UNTP_ARTEFACTS",
                           ROOT.parent / "shared" / "reference" / "data" / "untp-v0.7.0"))
VERIFIER_KEY = ec.derive_private_key(0x5EED, ec.SECP256R1())
ISSUED = "2026-07-01T09:00:00Z"


def _schema(path: str) -> Any:
    file = UNTP / "schema" / "v0.7.0" / path
    if not file.is_file():
        pytest.skip(f"UNTP 0.7.0 schemas not found at {UNTP} (set CARBON_LEDGER_UNTP_ARTEFACTS)")
    return json.loads(file.read_text(encoding="utf-8"))


def _errors(schema: Any, document: Any) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def cbam_report() -> dict[str, Any]:
    return engine_report("cbam-consignments-2026.json")


@pytest.fixture(scope="module")
def passports(cbam_report: dict[str, Any]) -> list[dict[str, Any]]:
    return untp.product_passports(cbam_report, signing_key=KEY)


def _conformity(report: dict[str, Any]) -> dict[str, Any]:
    return untp.conformity_credential(report, "HY-FAST-2026-0102", verifier_key=VERIFIER_KEY,
                                      issued_at=ISSUED)


def test_every_shipped_good_has_a_passport_valid_against_the_untp_schema(
        passports: list[dict[str, Any]]) -> None:
    schema = _schema("dpp/DigitalProductPassport.json")
    shipments = example_shipments("cbam-consignments-2026.json")
    assert [p["credentialSubject"]["batchNumber"] for p in passports] == [
        s["shipment_id"] for s in shipments]
    for passport in passports:
        assert _errors(schema, passport) == [], passport["credentialSubject"]["batchNumber"]
    broken = copy.deepcopy(passports[0])
    del broken["credentialSubject"]["countryOfProduction"]
    assert any("countryOfProduction" in e for e in _errors(schema, broken))


def test_a_passport_carries_the_product_the_scorecard_and_the_evidence(
        cbam_report: dict[str, Any], passports: list[dict[str, Any]]) -> None:
    anchors = {e["data"]["record"]["shipment_id"]: e["data"]
               for f in cbam_report["credentialSubject"]["productFootprints"]
               for e in f.get("extensions") or [] if e["dataSchema"].endswith("anchor-v1.json")}
    production = {p["shipmentId"]: p for p in cbam_report["credentialSubject"]["production"]}
    for passport, shipment in zip(passports, example_shipments("cbam-consignments-2026.json"),
                                  strict=True):
        product = passport["credentialSubject"]
        sid = shipment["shipment_id"]
        assert product["name"] == shipment["product"]["description"]
        assert product["productCategory"][0]["code"] == shipment["product"]["cn_code"]
        assert Decimal(str(product["dimensions"]["weight"]["value"])) == Decimal(
            shipment["product"]["net_mass_kg"])
        assert product["producedAtFacility"]["registeredId"] == shipment["product"][
            "installation"]["installation_id"]
        roles = {r["role"]: r["party"]["name"] for r in product["relatedParty"]}
        assert roles["importer"] == shipment["consignment"]["importer"]["name"]
        claims = {c["id"].rsplit("#", 1)[1].removesuffix(f"-claim-{sid}"): c
                  for c in product["performanceClaim"]}
        assert set(claims) == ({"production", "cbam", "transport"} if sid in production
                               else {"cbam", "transport"})
        transport = claims["transport"]["claimedPerformance"][0]["measure"]
        anchor = anchors[sid]
        leaf_wtw_g = anchor["leaf"]["co2eWtwG"]
        assert leaf_wtw_g == sum(leg["co2e_wtw_g"] for leg in anchor["record"]["footprint"]["legs"])
        assert Decimal(str(transport["value"])) == Decimal(leaf_wtw_g) / 1_000_000, sid
        assert transport["unit"] == "TNE"
        if sid in production:
            made = claims["production"]["claimedPerformance"][0]["measure"]
            assert Decimal(str(made["value"])) == Decimal(production[sid]["co2eKg"])
        cbam = next(g for g in cbam_report["credentialSubject"]["cbam"]["goods"]
                    if g["itemId"] == sid)
        embedded = claims["cbam"]["claimedPerformance"][0]["measure"]
        assert Decimal(str(embedded["value"])) == Decimal(cbam["embeddedTotalT"]) * 1000
        factor_set = anchor["factorSetId"]
        assert product["characteristics"]["factorSetId"] == factor_set
        assert all(factor_set in c["description"] for c in product["performanceClaim"])
        link = product["relatedDocument"][0]
        assert link["linkURL"] == cbam_report["id"]
        assert link["digestMultibase"] == untp.digest_multibase(cbam_report)
        assert anchor["transactionHash"] in link["linkName"]


def test_the_passports_pass_dppvalidator(passports: list[dict[str, Any]]) -> None:
    from dppvalidator import ValidationEngine

    engine = ValidationEngine(schema_version="0.7.0", layers=["schema", "model", "semantic"])
    for passport in passports:
        result = engine.validate(passport)
        assert result.valid, [(e.path, e.message) for e in result.errors]
    broken = copy.deepcopy(passports[0])
    broken["credentialSubject"]["idGranularity"] = "pallet"
    assert not engine.validate(broken).valid


def test_the_passports_are_signed_by_the_exporters_report_key(
        cbam_report: dict[str, Any], passports: list[dict[str, Any]]) -> None:
    report_method = cbam_report["proof"][0]["verificationMethod"]
    for passport in passports:
        assert passport["issuer"]["id"] == cbam_report["issuer"]
        assert integrity.verify_proof(passport, passport["proof"]) == report_method
    changed = copy.deepcopy(passports[0])
    changed["credentialSubject"]["performanceClaim"][-1]["claimedPerformance"][0][
        "measure"]["value"] = 0
    with pytest.raises(VerificationError, match="does not verify"):
        integrity.verify_proof(changed, changed["proof"])


def test_the_verifier_issues_a_conformity_credential_for_actual_verified_goods_only(
        cbam_report: dict[str, Any]) -> None:
    schema = _schema("dcc/ConformityCredential.json")
    goods = [a["record"]["shipment_id"] for a in untp.actual_verified_goods(cbam_report)]
    assert goods == ["HY-FAST-2026-0102"]
    credential = _conformity(cbam_report)
    assert _errors(schema, credential) == []
    assert credential["issuer"]["name"] == "Example Verification GmbH (fictitious)"
    assert credential["issuer"]["id"] == integrity.did_key(VERIFIER_KEY.public_key())
    assessment = credential["credentialSubject"]["conformityAssessment"][0]
    values = [p["measure"]["value"] for p in assessment["assessedPerformance"]]
    assert values == [2.31, 0.44]  # the installation's verified direct and indirect t CO2e/t
    assert assessment["assessmentDate"] == "2026-01-30"
    assert credential["credentialSubject"]["attestationType"] == "verification"
    assert integrity.verify_proof(credential, credential["proof"]).startswith(
        credential["issuer"]["id"])
    with pytest.raises(InputError, match="HY-FAST-2026-0101"):
        untp.conformity_credential(cbam_report, "HY-FAST-2026-0101", verifier_key=VERIFIER_KEY,
                                   issued_at=ISSUED)


@pytest.mark.node
def test_a_generic_verifier_accepts_the_untp_credentials(
        tmp_path: Path, cbam_report: dict[str, Any], passports: list[dict[str, Any]]) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "jsonld-signatures").is_dir():
        pytest.skip("NODE TIER SKIPPED: node or node_modules/jsonld-signatures missing (npm ci)")
    tampered = copy.deepcopy(passports[1])
    tampered["credentialSubject"]["name"] = "Something else"
    files = []
    for index, credential in enumerate([*passports, _conformity(cbam_report), tampered]):
        files.append(tmp_path / f"credential-{index}.json")
        files[-1].write_text(json.dumps(credential), encoding="utf-8")
    out = subprocess.run(
        [node, str(ROOT / "tests" / "js" / "di_verify.mjs"),
         str(ROOT / "ledger" / "reports" / "contexts"), *map(str, files)],
        check=True, capture_output=True, text=True, cwd=ROOT, timeout=120)
    verified = [json.loads(line)["verified"] for line in out.stdout.splitlines()]
    assert verified == [True] * (len(passports) + 1) + [False]
