"""The report page: a one-page summary, one compact section per shipment, the evidence appendix
once, and verify commands that carry an RPC URL only where one is given as public."""

from __future__ import annotations

import re
from decimal import Decimal
from html import escape, unescape

from engine_report_fixtures import EXPORTER, engine_report
from report_fixtures import signed_report

from ledger.reports.html import RPC_PLACEHOLDER, render_html, route_kind


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def _summary(page: str) -> str:
    start = page.index('<section class="summary">')
    return _text(page[start:page.index("</section>", start)])


def test_without_a_public_rpc_url_the_commands_ask_the_reader_for_one() -> None:
    page = render_html(signed_report(), report_file="ngb.json")
    assert f"carbon-ledger verify ngb.json --rpc {escape(RPC_PLACEHOLDER)}" in page
    assert f"--rpc-url {escape(RPC_PLACEHOLDER)}" in page
    assert "127.0.0.1" not in page


def test_a_public_rpc_url_is_written_into_every_command_once() -> None:
    page = render_html(signed_report(), report_file="ngb.json",
                       rpc_hint="https://rpc.sepolia.example.org")
    assert "carbon-ledger verify ngb.json --rpc https://rpc.sepolia.example.org" in page
    assert "cast receipt" in page
    # verify, the root's rootInfo and the one anchoring transaction: both shipments share them
    assert page.count("https://rpc.sepolia.example.org") == 3
    assert RPC_PLACEHOLDER not in page and escape(RPC_PLACEHOLDER) not in page


def test_the_summary_names_exporter_binding_period_products_and_totals() -> None:
    document = engine_report("demo-shipments.json")
    summary = _summary(render_html(document))
    for name in ("Ningbo Cixi Home Appliances Co., Ltd.",
                 "Haiyan Fastener Manufacturing Co., Ltd."):
        assert name in summary
    assert EXPORTER in summary and "exporter role" in summary
    assert "2026-01-01 to 2026-06-30" in summary
    assert "not stated in the records" in summary  # the demo names no importer
    for cn, mass in (("8418 21", "11,200"), ("7318 15 88", "10,000")):
        assert re.search(rf"{re.escape(cn)} {re.escape(mass)} ", summary), cn
    totals = document["credentialSubject"]["totals"]
    cbam_kg = sum(Decimal(g["embeddedTotalT"]) * 1000
                  for g in document["credentialSubject"]["cbam"]["goods"])
    assert f"Transport, well-to-wheel (WTW) {Decimal(totals['co2eWtwKg']):,.3f}" in summary
    assert f"of which tank-to-wheel (TTW) {Decimal(totals['co2eTtwKg']):,.3f}" in summary
    production = Decimal(totals["productionCo2eKg"])
    assert f"Production, cradle-to-gate (where stated) {production:,.3f}" in summary
    assert f"CBAM embedded emissions (Annex I goods) {cbam_kg:,.3f}" in summary
    # refrigerators: production stated; bolts: no production stated, so CBAM embedded counts
    grand = Decimal(totals["co2eWtwKg"]) + production + cbam_kg
    assert f"Grand total {grand:,.3f}" in summary
    assert "Share of primary data 0.0 %" in summary  # no installation's actual data in the demo


def test_importers_and_the_share_of_primary_data_come_from_the_records() -> None:
    document = engine_report("cbam-consignments-2026.json")
    summary = _summary(render_html(document))
    assert "Maas Steel Trading B.V. (fictitious) (EORI NL009900001)" in summary
    primary = sum(Decimal(p["co2eKg"]) for p in document["credentialSubject"]["production"]
                  if p["dataType"].startswith("actual"))
    share = re.search(r"Share of primary data (\d+\.\d) %", summary)
    assert share is not None and Decimal(share.group(1)) > 0
    grand = re.search(r"Grand total ([\d,]+\.\d+)", summary)
    assert grand is not None
    expected = primary / Decimal(grand.group(1).replace(",", "")) * 100
    assert Decimal(share.group(1)) == expected.quantize(Decimal("0.1"))


def test_each_shipment_has_its_section_with_routes_and_factor_references() -> None:
    page = render_html(engine_report("demo-shipments.json"))
    sections = re.findall(r'<section class="shipment">(.*?)</section>', page, re.S)
    ids = ["NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001", "HY-FAST-2026-0001"]
    assert [re.search(r"Shipment ([\w-]+)", s).group(1) for s in sections] == ids  # type: ignore[union-attr]
    ningbo, yiwu, hangzhou, haiyan = (_text(s) for s in sections)
    assert "CNNGB → NLRTM" in ningbo and route_kind("sea_route_cape") in ningbo
    assert "NLRTM → DEDUI" in ningbo and route_kind("estimated_great_circle") in ningbo
    assert "defra-2025-freighting-goods-ttw#sea.container_ship_8000_plus_teu" in ningbo
    assert "production 2,587.200 kg CO2e" in ningbo
    assert route_kind("actual") in yiwu and "13052" in yiwu
    assert "PVG → LGG" in hangzhou and route_kind("great_circle_plus_95km") in hangzhou
    assert "not included" in hangzhou  # radiative forcing of the air leg
    assert route_kind("sea_route_suez") in haiyan and "CBAM embedded 70,125.000 kg" in haiyan
    assert "Evidence appendix" not in "".join(sections)
    assert page.count("Evidence appendix") == 1
    assert page.index("Evidence appendix") > page.index("HY-FAST-2026-0001</h2>")
    assert page.index('<section class="summary">') < page.index('<section class="shipment">')


def test_route_kinds_name_each_passage_and_the_older_method_names() -> None:
    assert route_kind("sea_route_cape") == "sea route round the Cape of Good Hope"
    assert route_kind("sea_route_suez") == "sea route via Suez"
    assert route_kind("sea_route_cape_and_panama") == (
        "sea route round the Cape of Good Hope, via Panama")
    assert route_kind("sea_route_avoiding_suez") == "Cape route, Suez avoided"  # older records
    assert route_kind("sea_route_atlantis") == "sea_route_atlantis"  # unknown: as written
