"""CBAM QReport XML against the Commission schema, and the annual-declaration summary."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from ledger.errors import InputError
from ledger.reports import qreport
from ledger.reports.cbam import declaration_summary

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_CBAM = ROOT / "ledger" / "reports" / "schemas" / "cbam"
NS = {"q": qreport.CBAM_NAMESPACE}

DECLARANT = qreport.Declarant(
    eori="NL123456789", name="Rotterdam Fastener Imports B.V.",
    address=qreport.Address(country="NL", city="Rotterdam", street="Waalhaven", postcode="3089"),
    nca_reference="NL-NCA-0001", signature_place="Rotterdam", signatory="J. de Vries",
    position="Customs manager",
)


def _screws(mass_kg: int = 10_000) -> qreport.CbamGood:
    # CN 7318 15, China, 2026 default incl. mark-up: 7.01 tCO2e/t (the published 2026 column of
    # Implementing Regulation (EU) 2025/2621, as rendered at cbamdefaults.com/cbam/product/731815
    # and shipped in emission_factors/; 10 t -> 70.1 t).
    see = Decimal("7.01")
    return qreport.CbamGood(
        item_id="HY-2026-0001", cn_code="7318 15 90", description="Threaded screws and bolts",
        origin_country="CN", net_mass_kg=Decimal(mass_kg),
        embedded_direct_g=int(Decimal(mass_kg) / 1000 * see * 1_000_000), see_direct_t_per_t=see,
        method="default", value_source="Reg. (EU) 2025/2621 default value, China, CN 7318 15",
        import_date=date(2026, 3, 2), markup_year="2026",
    )


def _xml(goods: list[qreport.CbamGood]) -> bytes:
    return qreport.qreport_xml(
        goods, DECLARANT, draft_report_id="CL0f8fad5bd9cb469fa165",
        submitted_at="2026-03-31T12:00:00Z", signed_on=date(2026, 3, 31),
        report_reference="urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
    )


def test_the_shipped_schema_files_have_the_digests_their_readme_records() -> None:
    readme = (SHIPPED_CBAM / "README.md").read_text(encoding="utf-8")
    recorded = dict(re.findall(r"^\| `([^`]+\.xsd)` \| `([0-9a-f]{64})` \|", readme,
                               flags=re.MULTILINE))
    shipped = {p.name for p in SHIPPED_CBAM.glob("*.xsd")}
    assert set(recorded) == shipped == {"QReport_v17.03.xsd", "stypes.xsd"}
    for name, digest in recorded.items():
        assert hashlib.sha256((SHIPPED_CBAM / name).read_bytes()).hexdigest() == digest, name


def test_screws_qreport_validates_against_the_commission_xsd() -> None:
    import xmlschema

    xml = _xml([_screws()])
    schema = xmlschema.XMLSchema(str(SHIPPED_CBAM / "QReport_v17.03.xsd"))
    schema.validate(xml.decode())  # raises with the failing path when invalid
    root = etree.fromstring(xml)
    good = root.find("q:ImportedGood", NS)
    assert good is not None
    assert good.findtext("q:CommodityCode/q:HsCode", namespaces=NS) == "731815"
    assert good.findtext("q:CommodityCode/q:CnCode", namespaces=NS) == "90"
    assert good.findtext("q:MeasureImported/q:NetMass", namespaces=NS) == "10"
    # 10 t x 7.01 tCO2e/t = 70.1 tCO2e (published worked example)
    assert good.findtext("q:TotalEmissions/q:OverallEmissions", namespaces=NS) == "70.1"
    assert good.findtext("q:TotalEmissions/q:TotalIndirect", namespaces=NS) == "0"
    direct = good.find("q:GoodsEmissions/q:DirectEmissions", NS)
    assert direct is not None
    assert direct.findtext("q:SpecificEmbeddedEmissions", namespaces=NS) == "7.01"
    assert "2026" in (direct.findtext("q:ApplicableReportingMethodology", namespaces=NS) or "")
    assert root.findtext("q:ReportingPeriod", namespaces=NS) == "Q1"
    assert root.findtext("q:TotalEmissions", namespaces=NS) == "70.1"
    assert b"Transport emissions are not included" in xml


def test_decimal_rules_of_the_schema_hold_for_awkward_masses() -> None:
    good = _screws(mass_kg=1)  # 0.001 t
    xml = _xml([good])
    assert qreport.validate_qreport(xml) == []
    root = etree.fromstring(xml)
    assert root.findtext("q:ImportedGood/q:MeasureImported/q:NetMass", namespaces=NS) == "0.001"
    assert root.findtext("q:TotalEmissions", namespaces=NS) == "0.00701"


def test_a_broken_document_is_reported_by_the_validator() -> None:
    xml = _xml([_screws()]).replace(b"<Year>2026", b"<Year>20261")
    assert qreport.validate_qreport(xml)


def test_goods_of_two_quarters_are_refused() -> None:
    later = qreport.CbamGood(**{**_screws().__dict__, "import_date": date(2026, 4, 2)})
    with pytest.raises(InputError, match="quarters"):
        _xml([_screws(), later])


def test_six_digit_cn_code_is_refused_with_the_reason() -> None:
    short = qreport.CbamGood(**{**_screws().__dict__, "cn_code": "731815"})
    with pytest.raises(InputError, match="8 digits"):
        _xml([short])


def test_summary_lists_out_of_scope_goods_without_a_figure() -> None:
    parcels = qreport.OutOfScopeGood(item_id="HZ-1", cn_code="9503 00", description="Toys",
                                     reason="CN 9503 is not in Annex I of Reg. (EU) 2023/956")
    summary = declaration_summary([_screws()], [parcels])
    assert summary["totalEmbeddedEmissionsT"] == "70.1"
    assert summary["goods"][0]["determination"] == "default"
    assert summary["goods"][0]["markupYear"] == "2026"
    assert summary["transportEmissionsIncluded"] is False
    (out,) = summary["outOfScope"]
    assert out["itemId"] == "HZ-1"
    assert not any("mission" in key for key in out)
