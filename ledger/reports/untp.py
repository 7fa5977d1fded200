"""UN Transparency Protocol (UNTP 0.7.0) credentials for the goods of a signed report.

:func:`product_passports` makes, per shipped good of a report, a **Digital Product Passport**
(``DigitalProductPassport``, schema ``dpp/DigitalProductPassport.json`` of UNTP 0.7.0) whose
``credentialSubject`` is the product (batch = the shipment): name, EU Combined Nomenclature code
(and UN CPC where given), net mass, country of production, installation, exporter and importer,
and two performance claims, the *emissions scorecard*:

- production (cradle-to-gate) emissions of the batch, metric ``product-carbon-footprint``
  (kg CO2e, UNTP performance-metrics vocabulary), where the record has them;
- for CBAM goods, the CBAM embedded emissions of the batch (same metric, kg CO2e), saying whether
  they are the published default value (with its mark-up column) or the installation's data;
- transport emissions of the shipment, well-to-wheel, ISO 14083, metric
  ``scope-3-upstream-emissions`` (t CO2e, the unit the vocabulary allows), the tank-to-wheel part
  and the factor-set id in its description.

Each claim's evidence, and the passport's ``relatedDocument``, is the signed report itself: the
anchored evidence (record, Merkle proof, transaction), linked by the report id with the SHA-256
``digestMultibase`` of its RFC 8785 bytes, so a holder of the report file can check the link.
The passport is signed by the exporter with the report's Data Integrity proof
(:mod:`ledger.reports.integrity`; same derived P-256 key).

:func:`conformity_credential` makes, for a CBAM good whose production data are
``actual-verified``, a **Digital Conformity Credential** issued by the verifier named in the
record: a third-party ``verification`` attestation of the installation's specific embedded
emissions, signed with the verifier's own key (its P-256 ``did:key``). The exporter cannot sign
it; the verifier runs it with its key.

Numbers in UNTP ``Measure`` are JSON numbers (the schema's type), converted from the report's
decimal strings; the credentials are canonicalised with RFC 8785, which fixes their bytes.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import base58
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.errors import InputError, InputProblem
from ledger.reports import integrity
from ledger.reports.model import ANCHOR_SCHEMA

__all__ = [
    "CN_SCHEME",
    "UNTP_CONTEXT",
    "actual_verified_goods",
    "conformity_credential",
    "digest_multibase",
    "product_passports",
]

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
UNTP_CONTEXT = "https://vocabulary.uncefact.org/untp/0.7.0/context/"
#: The EU Combined Nomenclature: Annex I to Council Regulation (EEC) No 2658/87 (ELI).
CN_SCHEME = ("http://data.europa.eu/eli/reg/1987/2658/oj", "EU Combined Nomenclature (CN)")
_CPC_SCHEME = ("https://unstats.un.org/unsd/classifications/Econ/cpc/",
               "UN Central Product Classification (CPC)")
_METRICS = "https://vocabulary.uncefact.org/performance-metrics/"
_GHG_TOPIC = {"type": ["ConformityTopic"],
              "id": "https://vocabulary.uncefact.org/conformity-topics/greenhouse-gas-emissions",
              "name": "Greenhouse Gas Emissions"}
#: ISO 14083:2023 (transport chains) and ISO 14067:2018 (product carbon footprint), RFC 5141 URNs.
_ISO_14083 = {"type": ["Standard"], "id": "urn:iso:std:iso:14083:ed-1",
              "name": "ISO 14083:2023 Quantification and reporting of greenhouse gas emissions "
                      "arising from transport chain operations"}
_ISO_14067 = {"type": ["Standard"], "id": "urn:iso:std:iso:14067:ed-1",
              "name": "ISO 14067:2018 Carbon footprint of products"}
#: Regulation (EU) 2023/956 (CBAM), ELI.
_CBAM_REGULATION = {"type": ["Regulation"], "id": "http://data.europa.eu/eli/reg/2023/956/oj",
                    "name": "Regulation (EU) 2023/956 establishing a carbon border adjustment "
                            "mechanism"}


def digest_multibase(document: Mapping[str, Any]) -> str:
    """Multibase (base58btc) multihash (sha2-256) of a document's RFC 8785 bytes."""
    digest = hashlib.sha256(rfc8785.dumps(dict(document))).digest()
    return "z" + base58.b58encode(b"\x12\x20" + digest).decode("ascii")


def _number(text: Any) -> int | float:
    value = Decimal(str(text))
    return int(value) if value == value.to_integral_value() else float(value)


def _kg(grams: int) -> int | float:
    return _number(Decimal(grams) / 1000)


def _did_url(did: str, kind: str, name: str) -> str:
    return f"{did}#{kind}-{quote(name, safe='')}"


def _credential_id(report_id: str, kind: str, shipment_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{report_id}/{kind}/{shipment_id}')}"


def _party(did: str, name: str, registered_id: str | None = None,
           scheme: tuple[str, str] | None = None) -> dict[str, Any]:
    party: dict[str, Any] = {"type": ["Party"], "id": did, "name": name}
    if registered_id:
        party["registeredId"] = registered_id
        if scheme:
            party["idScheme"] = {"type": ["IdentifierScheme"], "id": scheme[0],
                                 "name": scheme[1]}
    return party


def _report_link(document: Mapping[str, Any], anchor: Mapping[str, Any],
                 report_url: str | None) -> dict[str, Any]:
    return {
        "linkURL": report_url or str(document["id"]),
        "linkName": (f"Signed footprint report (W3C VC 2.0) with the record anchored on chain "
                     f"eip155:{anchor['chainId']} in transaction {anchor['transactionHash']} "
                     f"(block {anchor['blockNumber']})"),
        "digestMultibase": digest_multibase(document),
        "mediaType": "application/vc+ld+json",
    }


def _claims(record: Mapping[str, Any], anchor: Mapping[str, Any], *, period: Mapping[str, str],
            claim_date: str, evidence: dict[str, Any], issuer: str,
            shipment_id: str) -> list[dict[str, Any]]:
    footprint = record["footprint"]
    legs = footprint["legs"]
    wtw_g = sum(int(leg["co2e_wtw_g"]) for leg in legs)
    ttw_g = sum(int(leg["co2e_ttw_g"]) for leg in legs)
    applicable = {"startDate": period["firstDay"],
                  "endDate": period["lastDay"],
                  "periodInformation": "reporting period of the signed report"}
    factor_set = anchor["factorSetId"]
    claims = []
    production = footprint.get("production")
    if production:
        claims.append({
            "type": ["Claim"], "id": _did_url(issuer, "production-claim", shipment_id),
            "name": "Production emissions (cradle-to-gate) of the batch",
            "description": (f"{production.get('method')} data "
                            f"({production.get('data_type') or 'not stated'}): "
                            f"{production.get('factor_ref') or 'supplier data'}; "
                            f"direct {_kg(int(production['co2e_direct_g']))} kg, indirect "
                            f"{_kg(int(production['co2e_indirect_g']))} kg CO2e; factor set "
                            f"{factor_set}"),
            "referenceCriteria": [{"type": ["Criterion"], "id": _ISO_14067["id"],
                                   "name": "Cradle-to-gate carbon footprint of the goods"}],
            "referenceStandard": [_ISO_14067],
            "claimDate": claim_date, "applicablePeriod": applicable,
            "claimedPerformance": [{
                "metric": {"type": ["PerformanceMetric"],
                           "id": _METRICS + "product-carbon-footprint",
                           "name": "Product Carbon Footprint"},
                "measure": {"value": _kg(int(production["co2e_g"])),
                            "unit": "KGM"},
            }],
            "evidence": [evidence], "conformityTopic": [_GHG_TOPIC],
        })
    cbam = footprint.get("cbam") or {}
    if cbam.get("in_scope"):
        basis = (f"default value of Implementing Regulation (EU) 2025/2621, column "
                 f"{cbam.get('markup_year')} ({cbam.get('factor_ref')})"
                 if cbam.get("method") == "default" else
                 f"installation's actual data ({cbam.get('data_type')})")
        claims.append({
            "type": ["Claim"], "id": _did_url(issuer, "cbam-claim", shipment_id),
            "name": "CBAM embedded emissions of the batch",
            "description": (f"CN {cbam.get('cn_code')}, {basis}; direct "
                            f"{_kg(int(cbam['embedded_direct_g']))} kg CO2e, counted "
                            f"{_kg(int(cbam['embedded_g']))} kg CO2e; transport not "
                            f"included; factor set {factor_set}"),
            "referenceCriteria": [{"type": ["Criterion"], "id": _CBAM_REGULATION["id"],
                                   "name": "Embedded emissions per Annex IV of Regulation (EU) "
                                           "2023/956"}],
            "referenceRegulation": [_CBAM_REGULATION],
            "claimDate": claim_date, "applicablePeriod": applicable,
            "claimedPerformance": [{
                "metric": {"type": ["PerformanceMetric"],
                           "id": _METRICS + "product-carbon-footprint",
                           "name": "Product Carbon Footprint"},
                "measure": {"value": _kg(int(cbam["embedded_g"])), "unit": "KGM"},
            }],
            "evidence": [evidence], "conformityTopic": [_GHG_TOPIC],
        })
    claims.append({
        "type": ["Claim"], "id": _did_url(issuer, "transport-claim", shipment_id),
        "name": "Transport emissions of the shipment (well-to-wheel)",
        "description": (f"ISO 14083 / GLEC transport chain of {len(legs)} element(s): "
                        f"well-to-wheel {_kg(wtw_g)} kg CO2e, of which tank-to-wheel "
                        f"{_kg(ttw_g)} kg; factor set {factor_set}"),
        "referenceCriteria": [{"type": ["Criterion"], "id": _ISO_14083["id"],
                               "name": "Well-to-wheel GHG emissions of the transport chain"}],
        "referenceStandard": [_ISO_14083],
        "claimDate": claim_date, "applicablePeriod": applicable,
        "claimedPerformance": [{
            "metric": {"type": ["PerformanceMetric"],
                       "id": _METRICS + "scope-3-upstream-emissions",
                       "name": "Scope 3 Upstream Emissions"},
            "measure": {"value": _number(Decimal(wtw_g) / 1_000_000),
                        "unit": "TNE"},
        }],
        "evidence": [evidence], "conformityTopic": [_GHG_TOPIC],
    })
    return claims


def _product(record: Mapping[str, Any], anchor: Mapping[str, Any], *, issuer: str,
             exporter_name: str, period: Mapping[str, str], claim_date: str,
             evidence: dict[str, Any]) -> dict[str, Any]:
    shipment = record["shipment"]
    shipment_id = str(record["shipment_id"])
    product = shipment.get("product") or {}
    description = str(product.get("description") or f"Goods of shipment {shipment_id}")
    categories = []
    if product.get("cn_code"):
        categories.append({"code": str(product["cn_code"]),
                           "name": description, "schemeId": CN_SCHEME[0],
                           "schemeName": CN_SCHEME[1]})
    if product.get("cpc_code"):
        categories.append({"code": str(product["cpc_code"]),
                           "name": description, "schemeId": _CPC_SCHEME[0],
                           "schemeName": _CPC_SCHEME[1]})
    installation = product.get("installation") or {}
    facility_name = installation.get("operator") or "production site not declared"
    facility: dict[str, Any] = {
        "type": ["Facility"],
        "id": _did_url(issuer, "facility",
                       str(installation.get("installation_id") or "undeclared")),
        "name": str(facility_name),
    }
    if installation.get("installation_id"):
        facility["registeredId"] = str(installation["installation_id"])
    country = str(product.get("country_of_origin") or installation.get("country") or "")
    parties = [{"role": "exporter",
                "party": _party(issuer, exporter_name)}]
    if installation.get("operator"):
        parties.append({"role": "manufacturer", "party": _party(
            _did_url(issuer, "party", str(installation["operator"])),
            str(installation["operator"]))})
    consignment = shipment.get("consignment") or {}
    importer = consignment.get("importer") or {}
    if importer.get("name") or importer.get("eori"):
        name = str(importer.get("name") or importer.get("eori"))
        parties.append({"role": "importer", "party": _party(
            _did_url(issuer, "party", str(importer.get("eori") or name)), name,
            importer.get("eori"), ("https://ec.europa.eu/taxation_customs/dds2/eos/",
                                   "EU Economic Operators Registration and Identification "
                                   "(EORI)"))})
    subject: dict[str, Any] = {
        "type": ["Product"],
        "id": _did_url(issuer, "product", shipment_id),
        "name": description,
        "idScheme": {"type": ["IdentifierScheme"], "id": issuer,
                     "name": f"{exporter_name} shipment identifiers"},
        "batchNumber": shipment_id,
        "idGranularity": "batch",
        "productCategory": categories,
        "relatedDocument": [evidence],
        "relatedParty": parties,
        "producedAtFacility": facility,
        "countryOfProduction": {"countryCode": country or "ZZ"},
        "characteristics": {"shipmentId": shipment_id,
                            "factorSetId": anchor["factorSetId"],
                            "recordHash": anchor["leaf"]["recordHash"]},
        "performanceClaim": _claims(record, anchor, period=period, claim_date=claim_date,
                                    evidence=evidence, issuer=issuer, shipment_id=shipment_id),
    }
    if not country:
        subject["countryOfProduction"]["countryName"] = "not declared"
    net_mass = product.get("net_mass_kg")
    if net_mass is not None:
        subject["dimensions"] = {"weight": {
            "value": _number(net_mass), "unit": "KGM"}}
    if consignment.get("dispatch_date"):
        subject["productionDate"] = str(consignment["dispatch_date"])
    return subject


def _transport_anchors(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    anchors = []
    for footprint in document["credentialSubject"]["productFootprints"]:
        for extension in footprint.get("extensions") or []:
            if extension.get("dataSchema") == ANCHOR_SCHEMA:
                anchors.append(extension["data"])
    return anchors


def product_passports(document: Mapping[str, Any], *, signing_key: bytes | str,
                      report_url: str | None = None) -> list[dict[str, Any]]:
    """One signed UNTP Digital Product Passport per shipped good of a signed report.

    ``signing_key`` is the exporter's key (the report's issuer): the passports carry a Data
    Integrity proof by its derived P-256 key. ``report_url`` is where the signed report is
    published, if anywhere; without it the link names the report's id.
    """
    key = integrity.derive_signing_key(signing_key)
    subject = document["credentialSubject"]
    period = subject["reportingPeriod"]
    issuer = str(document["issuer"])
    issued = str(document["validFrom"])
    passports = []
    for anchor in _transport_anchors(document):
        record = anchor["record"]
        shipment = record["shipment"]
        exporter_name = str(shipment.get("exporter") or record["exporter"])
        evidence = _report_link(document, anchor, report_url)
        product = _product(record, anchor, issuer=issuer, exporter_name=exporter_name,
                           period=period, claim_date=issued[:10], evidence=evidence)
        credential: dict[str, Any] = {
            "type": ["DigitalProductPassport", "VerifiableCredential"],
            "@context": [VC_CONTEXT, UNTP_CONTEXT],
            "id": _credential_id(str(document["id"]), "dpp", str(record["shipment_id"])),
            "issuer": {"type": ["CredentialIssuer"], "id": issuer, "name": exporter_name},
            "validFrom": issued,
            "name": f"Digital Product Passport: {product['name']} "
                    f"(shipment {record['shipment_id']})",
            "credentialSubject": product,
        }
        credential["proof"] = integrity.create_proof(credential, key, created=issued)
        passports.append(credential)
    return passports


def actual_verified_goods(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The anchor data of the report's CBAM goods on ``actual-verified`` production data with
    a named verifier: the goods that get a conformity credential."""
    out: list[Mapping[str, Any]] = []
    for anchor in _transport_anchors(document):
        record = anchor["record"]
        product = record["shipment"].get("product") or {}
        production = product.get("production") or {}
        cbam = record["footprint"].get("cbam") or {}
        if cbam.get("in_scope") and production.get("data_type") == "actual-verified" \
                and (production.get("verification") or {}).get("verifier"):
            out.append(anchor)
    return out


def conformity_credential(document: Mapping[str, Any], shipment_id: str, *,
                          verifier_key: ec.EllipticCurvePrivateKey,
                          issued_at: str) -> dict[str, Any]:
    """The verifier's UNTP Digital Conformity Credential for one CBAM good of a signed report
    whose production data are ``actual-verified``, signed with the verifier's P-256 key."""
    anchor = next((a for a in actual_verified_goods(document)
                   if a["record"]["shipment_id"] == shipment_id), None)
    if anchor is None:
        raise InputError([InputProblem(
            "no CBAM good with actual-verified production data and a named verifier in this "
            "report", shipment_id=shipment_id, field="production_data_type")])
    record = anchor["record"]
    product = record["shipment"]["product"]
    production, installation = product["production"], product.get("installation") or {}
    verification = production["verification"]
    cbam = record["footprint"]["cbam"]
    verifier_did = integrity.did_key(verifier_key.public_key())
    exporter = str(record["shipment"].get("exporter") or record["exporter"])
    operator = str(installation.get("operator") or exporter)
    issuer = str(document["issuer"])
    performance = [{
        "metric": {"type": ["PerformanceMetric"], "id": _METRICS + "ghg-emissions-intensity",
                   "name": "Specific direct embedded emissions (t CO2e per t of good)"},
        "measure": {"value": _number(cbam["specific_direct_t_per_t"]),
                    "unit": "TNE"},
    }]
    if cbam.get("specific_indirect_t_per_t") is not None:
        performance.append({
            "metric": {"type": ["PerformanceMetric"], "id": _METRICS + "ghg-emissions-intensity",
                       "name": "Specific indirect embedded emissions (t CO2e per t of good)"},
            "measure": {"value": _number(cbam["specific_indirect_t_per_t"]), "unit": "TNE"},
        })
    assessment: dict[str, Any] = {
        "type": ["ConformityAssessment"],
        "id": _credential_id(str(document["id"]), "dcc-assessment", shipment_id),
        "name": f"Verification of the embedded emissions of CN {cbam['cn_code']}",
        "description": (f"Specific embedded emissions of {product.get('description')} from "
                        f"installation {installation.get('installation_id') or 'not stated'}, "
                        "verified under Regulation (EU) 2023/956 Article 8"),
        "assessmentCriteria": [{"type": ["Criterion"], "id": _CBAM_REGULATION["id"],
                                "name": "Embedded emissions determined per Annex IV and "
                                        "verified per Annex VI of Regulation (EU) 2023/956"}],
        "assessmentDate": str(verification.get("date") or issued_at[:10]),
        "assessedPerformance": performance,
        "assessedFacility": [{"type": ["FacilityVerification"], "facility": {
            "type": ["Facility"],
            "id": _did_url(issuer, "facility",
                           str(installation.get("installation_id") or "undeclared")),
            "name": operator}}],
        "referenceRegulation": [_CBAM_REGULATION],
        "conformityTopic": [_GHG_TOPIC],
        "conformance": True,
    }
    credential: dict[str, Any] = {
        "type": ["DigitalConformityCredential", "VerifiableCredential"],
        "@context": [VC_CONTEXT, UNTP_CONTEXT],
        "id": _credential_id(str(document["id"]), "dcc", shipment_id),
        "issuer": {"type": ["CredentialIssuer"], "id": verifier_did,
                   "name": str(verification["verifier"])},
        "validFrom": issued_at,
        "name": f"CBAM emissions verification: {product.get('description')} "
                f"(shipment {shipment_id})",
        "credentialSubject": {
            "type": ["ConformityAttestation"],
            "id": _credential_id(str(document["id"]), "dcc-attestation", shipment_id),
            "name": f"Verified embedded emissions, installation "
                    f"{installation.get('installation_id') or 'not stated'}",
            "assessorLevel": "3rdParty",
            "assessmentLevel": "authority-mandate",
            "attestationType": "verification",
            "issuedToParty": _party(_did_url(issuer, "party", operator), operator),
            "referenceScheme": {"type": ["ConformityScheme"], "id": _CBAM_REGULATION["id"],
                                "name": "EU Carbon Border Adjustment Mechanism"},
            "conformityAssessment": [assessment],
        },
    }
    if verification.get("accreditation"):
        credential["credentialSubject"]["description"] = (
            f"Verifier accreditation: {verification['accreditation']}")
    credential["proof"] = integrity.create_proof(credential, verifier_key, created=issued_at)
    return credential
