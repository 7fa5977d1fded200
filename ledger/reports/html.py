"""A human-readable, self-contained HTML rendering of a signed report, printable as a PDF.

One file, no scripts, no external resources (the stylesheet ``report.css`` is inlined). In order:

1. **Summary** (one printed page): the exporter's company name and how it is bound to the
   signing address, the buyers / importers named in the records, the reporting period, the
   products with CN codes and net masses, the totals (transport WTW and TTW, production, CBAM
   embedded, grand total) and the share of primary data.
2. **One compact section per shipment** (at most one printed page each): every leg as
   origin -> destination with mode and vehicle, the kind of route (sea route through or avoiding
   Suez, great circle + 95 km for air, great-circle estimate, or a given distance), radiative
   forcing for air legs, distance, t·km, TTW / WTW, the factor references, and the production and
   CBAM figures of the goods, with the supplier document (file name, SHA-256, installation,
   reporting period, template version) their actual emissions were read from.
3. **The evidence appendix**, once: factor set and its tables, the CBAM data, the on-chain
   anchors, the two proofs and the commands that verify it all.

Definitions (stated on the page too): *grand total* = transport WTW + per good its production
(cradle-to-gate) emissions where the record states them, else its CBAM embedded emissions, else
nothing; *share of primary data* = the part of the grand total computed from the installation's
own (``actual-*``) production data; transport figures use secondary (DESNZ/DEFRA) intensities.

Everything shown is read from the signed JSON report, so the page says nothing the signatures do
not cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from html import escape
from importlib import resources
from typing import Any

from ledger.inputs.supplier_document import describe
from ledger.reports import integrity, vc
from ledger.reports.model import ANCHOR_SCHEMA
from ledger.reports.vc import report_hash

__all__ = ["RPC_PLACEHOLDER", "render_html", "route_kind"]

_TTW_COLOUR, _WTT_COLOUR = "#0969da", "#8fc3ff"
#: What the verify commands show where no public RPC URL was given.
RPC_PLACEHOLDER = "<RPC URL>"
_ROUTES = {
    "sea_route": "shortest sea route, Suez allowed",  # records made before routes named passages
    "sea_route_avoiding_suez": "Cape route, Suez avoided",
    "great_circle_plus_95km": "great circle + 95 km",
    "great_circle": "great circle (the factor includes the distance uplift)",
    "estimated_great_circle": "great circle × factor (estimate)",
    "actual": "given",
    "hub": "hub operation",
}
#: The passages a sea route's method names (``sea_route_suez``, ``sea_route_cape_and_panama``).
_PASSAGES = {"suez": "via Suez", "panama": "via Panama",
             "cape": "round the Cape of Good Hope", "cape_horn": "round Cape Horn",
             "direct": "through no canal or cape"}


@cache
def _css() -> str:
    return resources.files("ledger.reports").joinpath("report.css").read_text(encoding="utf-8")


def route_kind(distance_method: str) -> str:
    """The route kind a leg's distance method stands for, as the report prints it."""
    if distance_method in _ROUTES:
        return _ROUTES[distance_method]
    passages = distance_method.removeprefix("sea_route_").split("_and_")
    if distance_method.startswith("sea_route_") and all(p in _PASSAGES for p in passages):
        return "sea route " + ", ".join(_PASSAGES[p] for p in passages)
    return distance_method or "not stated"


def _kg(value: Decimal | str | int) -> str:
    return f"{Decimal(value):,.3f}"


def _e(value: Any) -> str:
    return escape(str(value))


def _cell(value: Any, numeric: bool = False) -> str:
    css = ' class="n"' if numeric else ""
    return f"<td{css}>{_e(value)}</td>"


def _extension(footprint: Mapping[str, Any], schema: str) -> Mapping[str, Any] | None:
    for extension in footprint.get("extensions") or []:
        if extension.get("dataSchema") == schema:
            data: Mapping[str, Any] = extension.get("data") or {}
            return data
    return None


@dataclass(frozen=True)
class _Shipment:
    shipment_id: str
    anchor: Mapping[str, Any]
    pcf: Mapping[str, Any]

    @property
    def record(self) -> Mapping[str, Any]:
        record: Mapping[str, Any] = self.anchor.get("record") or {}
        return record

    @property
    def inputs(self) -> Mapping[str, Any]:
        shipment: Mapping[str, Any] = self.record.get("shipment") or {}
        return shipment

    @property
    def product(self) -> Mapping[str, Any]:
        product: Mapping[str, Any] = self.inputs.get("product") or {}
        return product

    @property
    def legs(self) -> list[tuple[Mapping[str, Any], Mapping[str, Any]]]:
        given = {int(leg["leg"]): leg for leg in self.inputs.get("legs") or []}
        footprint = self.record.get("footprint") or {}
        return [(given.get(int(result["leg"]), {}), result)
                for result in footprint.get("legs") or []]

    @property
    def wtw_g(self) -> int:
        return int(self.anchor.get("leaf", {}).get("co2eWtwG", 0))

    @property
    def ttw_g(self) -> int:
        return int(self.anchor.get("leaf", {}).get("co2eTtwG", 0))


def _shipments(subject: Mapping[str, Any]) -> list[_Shipment]:
    out = []
    for footprint in subject.get("productFootprints") or []:
        anchor = _extension(footprint, ANCHOR_SCHEMA)
        if anchor is None:
            continue
        shipment_id = str((anchor.get("record") or {}).get("shipment_id", ""))
        out.append(_Shipment(shipment_id, anchor, footprint.get("pcf") or {}))
    return out


@dataclass(frozen=True)
class _Totals:
    transport_wtw_kg: Decimal
    transport_ttw_kg: Decimal
    production_kg: Decimal
    cbam_kg: Decimal
    grand_kg: Decimal
    primary_kg: Decimal


def _totals(shipments: Sequence[_Shipment], production: Mapping[str, Mapping[str, Any]],
            cbam: Mapping[str, Mapping[str, Any]]) -> _Totals:
    wtw = sum((Decimal(s.wtw_g) / 1000 for s in shipments), Decimal(0))
    ttw = sum((Decimal(s.ttw_g) / 1000 for s in shipments), Decimal(0))
    made = sum((Decimal(p["co2eKg"]) for p in production.values()), Decimal(0))
    embedded = sum((Decimal(g["embeddedTotalT"]) * 1000 for g in cbam.values()), Decimal(0))
    goods = Decimal(0)
    primary = Decimal(0)
    for s in shipments:
        stated = production.get(s.shipment_id)
        if stated is not None:
            goods += Decimal(stated["co2eKg"])
            if str(stated.get("dataType") or "").startswith("actual"):
                primary += Decimal(stated["co2eKg"])
        elif s.shipment_id in cbam:
            goods += Decimal(cbam[s.shipment_id]["embeddedTotalT"]) * 1000
    return _Totals(wtw, ttw, made, embedded, wtw + goods, primary)


def _exporter_block(document: Mapping[str, Any], shipments: Sequence[_Shipment]) -> str:
    names = sorted({str(s.inputs.get("exporter") or "") for s in shipments} - {""})
    try:
        chain_id, address = vc.address_from_did(str(document.get("issuer")))
        account = f"{address} (chain {chain_id})"
    except Exception:  # a malformed issuer is shown as it is; verify names the problem
        account = str(document.get("issuer"))
    name = "; ".join(names) or "not stated in the records"
    importers: dict[str, str] = {}
    for s in shipments:
        party = (s.inputs.get("consignment") or {}).get("importer") or {}
        if party.get("name") or party.get("eori"):
            key = str(party.get("eori") or party.get("name"))
            importers[key] = str(party.get("name") or "") + (
                f" (EORI {party['eori']})" if party.get("eori") else "")
    buyers = "; ".join(importers.values()) or "not stated in the records"
    period = (document.get("credentialSubject") or {}).get("reportingPeriod") or {}
    facts = (
        f"<tr><th>Exporter</th><td>{_e(name)}</td><th>Buyer / importer</th>"
        f"<td>{_e(buyers)}</td></tr>"
        f"<tr><th>Signing address</th><td class=\"mono\">{_e(account)}</td>"
        f"<th>Reporting period</th><td>{_e(period.get('firstDay'))} to "
        f"{_e(period.get('lastDay'))}</td></tr>"
        "<tr><th>Name-to-address binding</th><td colspan=\"3\">the name is stated in the "
        "records this address signed and anchored as holder of the ledger's exporter role "
        "(verify: issuer_role); the name itself is the exporter's declaration</td></tr>"
        f"<tr><th>Issued</th><td colspan=\"3\">{_e(document.get('validFrom'))}, report "
        f"<span class=\"mono\">{_e(document.get('id'))}</span></td></tr>"
    )
    return f"<table class=\"facts\">{facts}</table>"


def _summary(document: Mapping[str, Any], shipments: Sequence[_Shipment],
             production: Mapping[str, Mapping[str, Any]],
             cbam: Mapping[str, Mapping[str, Any]]) -> str:
    t = _totals(shipments, production, cbam)
    products = "".join(
        f"<tr><td class=\"id\">{_e(s.shipment_id)}</td>"
        + _cell(s.product.get("description") or "not stated")
        + f"<td class=\"id\">{_e(s.product.get('cn_code') or 'not stated')}</td>"
        + _cell(f"{Decimal(s.product['net_mass_kg']):,}" if s.product.get("net_mass_kg")
                else "not stated", True)
        + _cell(_kg(Decimal(s.wtw_g) / 1000), True) + "</tr>" for s in shipments)
    share = "n/a" if not t.grand_kg else f"{t.primary_kg / t.grand_kg * 100:.1f} %"
    total_rows = [
        ("Transport, well-to-wheel (WTW)", _kg(t.transport_wtw_kg), ""),
        ("of which tank-to-wheel (TTW)", _kg(t.transport_ttw_kg), ""),
        ("Production, cradle-to-gate (where stated)", _kg(t.production_kg), ""),
        ("CBAM embedded emissions (Annex I goods)", _kg(t.cbam_kg), ""),
        ("Grand total", _kg(t.grand_kg), "grand"),
        ("Share of primary data", share, ""),
    ]
    totals = "".join(f"<tr class=\"{cls}\"><th>{_e(k)}</th><td class=\"n\">{_e(v)}</td></tr>"
                     for k, v, cls in total_rows)
    return (
        "<section class=\"summary\"><h1>Carbon footprint report</h1>"
        + _exporter_block(document, shipments)
        + "<h2>Products</h2><table class=\"products\"><tr><th>Shipment</th><th>Product</th>"
          "<th>CN code</th><th class=\"n\">Net mass, kg</th>"
          "<th class=\"n\">Transport WTW, kg CO2e</th></tr>"
        + products + "</table>"
        + "<h2>Totals, kg CO2e</h2><table class=\"totals\">" + totals + "</table>"
        + "<p class=\"muted small\">Grand total = transport WTW + per good its production "
          "(cradle-to-gate) emissions where stated, else its CBAM embedded emissions (production "
          "emissions of Annex I goods, Regulation (EU) 2023/956; never transport). Primary data: "
          "the installations' own (actual) production data; transport uses secondary "
          "DESNZ/DEFRA 2025 intensities (ISO 14083 / GLEC, WTW = TTW + well-to-tank). Signed "
          f"with {_proof_line(document)}; every figure is anchored on chain and recomputable "
          "(evidence appendix).</p></section>"
    )


def _proof_line(document: Mapping[str, Any]) -> str:
    parts = []
    for proof in vc.data_integrity_proofs(document):
        parts.append(f"a W3C Data Integrity proof ({proof.get('cryptosuite')})")
    try:
        parts.append(f"an EIP-712 proof ({vc.eip712_proof(document).get('type')})")
    except Exception:  # shown as unsigned; verify names the problem
        parts.append("no EIP-712 proof")
    return " and ".join(parts)


def _chart(legs: Sequence[tuple[str, Decimal, Decimal]]) -> str:
    """Horizontal bars per leg: TTW then WTT, together WTW (kg CO2e)."""
    peak = max((w for _, _, w in legs), default=Decimal(0)) or Decimal(1)
    label_w, bar_w, row_h = 150, 420, 18
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 110}"'
             f' height="{row_h * len(legs) + 4}" aria-label="Emissions per leg, kg CO2e">']
    for index, (name, ttw, wtw) in enumerate(legs):
        y = 2 + index * row_h
        ttw_px = float(ttw / peak) * bar_w
        wtt_px = float((wtw - ttw) / peak) * bar_w
        parts.append(f'<text x="0" y="{y + 12}" font-size="11">{_e(name[:24])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{ttw_px:.1f}" height="13" '
                     f'fill="{_TTW_COLOUR}"><title>TTW {ttw} kg</title></rect>')
        parts.append(f'<rect x="{label_w + ttw_px:.1f}" y="{y}" width="{wtt_px:.1f}" '
                     f'height="13" fill="{_WTT_COLOUR}"><title>WTT {wtw - ttw} kg</title></rect>')
        parts.append(f'<text x="{label_w + ttw_px + wtt_px + 5:.1f}" y="{y + 11}" '
                     f'font-size="11">{_e(_kg(wtw))} kg</text>')
    parts.append("</svg>")
    return "".join(parts) + (
        f'<p class="legend muted small">WTW = <span style="background:{_TTW_COLOUR}"></span>TTW '
        f'(tank-to-wheel) + <span style="background:{_WTT_COLOUR}"></span>WTT (well-to-tank)</p>')


def _radiative_forcing(given: Mapping[str, Any], result: Mapping[str, Any]) -> str:
    if result.get("mode") != "air":
        return "n/a"
    factor = str(result.get("factor_ttw") or "")
    if "with_rf" in factor or given.get("radiative_forcing") is True:
        return "included"
    return "not included"


def _shipment_section(s: _Shipment, production: Mapping[str, Any] | None,
                      cbam: Mapping[str, Any] | None, out_of_scope: Mapping[str, Any] | None
                      ) -> str:
    rows, bars, factors = [], [], []
    for given, result in s.legs:
        mode = str(result.get("mode", given.get("mode", "")))
        vehicle = given.get("vehicle_class")
        origin = given.get("origin") or given.get("location") or "—"
        destination = given.get("destination") or "—"
        km = str(result.get("distance_km", ""))
        estimated = " (est.)" if result.get("distance_estimated") else ""
        ttw = Decimal(int(result.get("co2e_ttw_g", 0))) / 1000
        wtw = Decimal(int(result.get("co2e_wtw_g", 0))) / 1000
        rows.append(
            "<tr>" + _cell(result.get("leg")) + _cell(f"{origin} → {destination}")
            + _cell(mode + (f" ({str(vehicle).replace('_', ' ')})" if vehicle else ""))
            + _cell(route_kind(str(result.get("distance_method", ""))))
            + _cell(_radiative_forcing(given, result)) + _cell(f"{km}{estimated}", True)
            + _cell(result.get("activity_tkm", ""), True) + _cell(_kg(ttw), True)
            + _cell(_kg(wtw), True) + "</tr>")
        bars.append((f"{result.get('leg')}. {origin} → {destination}", ttw, wtw))
        refs = [str(result[k]) for k in ("factor_ttw", "factor_wtt") if result.get(k)]
        if refs:
            factors.append(f"<li>Leg {_e(result.get('leg'))}: <code>{_e(refs[0])}</code>"
                           + (f" + <code>{_e(refs[1])}</code>" if len(refs) > 1 else "")
                           + "</li>")
    goods = []
    if production is not None:
        goods.append(f"production {_kg(production['co2eKg'])} kg CO2e "
                     f"({_e(production.get('method'))}"
                     + (f", {_e(production['dataType'])}" if production.get("dataType") else "")
                     + (f"; {_e(production['source'])}" if production.get("source") else "")
                     + ")")
    if cbam is not None:
        goods.append(f"CBAM embedded {_kg(Decimal(cbam['embeddedTotalT']) * 1000)} kg CO2e "
                     f"({_e(cbam['determination'])}"
                     + (f", {_e(cbam['markupYear'])} mark-up column" if cbam.get("markupYear")
                        else "") + ")")
    elif out_of_scope is not None:
        goods.append(f"outside CBAM: {_e(out_of_scope.get('reason'))}")
    product = s.product
    document = (product.get("production") or {}).get("supplier_document")
    if isinstance(document, Mapping):
        goods.append(_supplier_document(document))
    headline = (f"{_e(product.get('description') or 'goods not described')}"
                + (f", CN {_e(product['cn_code'])}" if product.get("cn_code") else "")
                + (f", net {_e(product['net_mass_kg'])} kg" if product.get("net_mass_kg")
                   else ""))
    return (
        f"<section class=\"shipment\"><h2>Shipment {_e(s.shipment_id)}</h2>"
        f"<p class=\"lead\">{headline}. Transport WTW <b>{_kg(Decimal(s.wtw_g) / 1000)}</b> kg "
        f"CO2e (TTW {_kg(Decimal(s.ttw_g) / 1000)}), "
        f"{sum((Decimal(str(r.get('activity_tkm', 0))) for _, r in s.legs), Decimal(0)):,} t·km"
        + ("; " + "; ".join(goods) if goods else "") + ".</p>"
        + "<table><tr><th>Leg</th><th>Origin → destination</th><th>Mode (vehicle)</th>"
          "<th>Route</th><th>Radiative forcing</th><th class=\"n\">km</th>"
          "<th class=\"n\">t·km</th><th class=\"n\">TTW kg</th><th class=\"n\">WTW kg</th></tr>"
        + "".join(rows) + "</table>" + _chart(bars)
        + "<h3>Factor references (TTW + WTT)</h3><ul class=\"small\">" + "".join(factors)
        + "</ul></section>"
    )


def _supplier_document(document: Mapping[str, Any]) -> str:
    """The file a good's actual emissions were read from (its SHA-256 may break anywhere)."""
    digest = str(document.get("sha256"))
    text = _e(describe(document)).replace(digest, f"<code>{digest}</code>", 1)
    return f"actual emissions from the supplier document {text}"


def _determination(good: Mapping[str, Any]) -> str:
    if not good.get("markupYear"):
        return str(good["determination"])
    return (f"{good['determination']} value, published {good['markupYear']} column "
            f"(mark-up included): {good.get('valueSource', '')}")


def _cbam_table(cbam: Mapping[str, Any]) -> str:
    rows = "".join(
        "<tr>" + _cell(g["itemId"]) + _cell(g["cnCode"]) + _cell(g["description"])
        + _cell(g["netMassT"], True) + _cell(g["specificEmbeddedEmissionsDirectTPerT"], True)
        + _cell(g["embeddedTotalT"], True) + _cell(_determination(g)) + "</tr>"
        for g in cbam.get("goods", []))
    out_rows = "".join(f"<li>{_e(o['itemId'])} ({_e(o.get('cnCode'))}): {_e(o['reason'])}</li>"
                       for o in cbam.get("outOfScope", []))
    goods = ("<table><tr><th>Shipment</th><th>CN</th><th>Good</th><th class=\"n\">Net mass t</th>"
             "<th class=\"n\">SEE tCO2e/t</th><th class=\"n\">Embedded tCO2e</th>"
             "<th>Determination</th></tr>" + rows + "</table>"
             ) if rows else "<p>No CBAM good in this report.</p>"
    outside = f"<p class=\"small\">Outside CBAM:</p><ul class=\"small\">{out_rows}</ul>" \
        if out_rows else ""
    return ("<h3>EU CBAM</h3><p class=\"note\">CBAM embedded emissions are production emissions "
            "of Annex I goods; transport emissions are not part of them.</p>" + goods + outside)


def _appendix(document: Mapping[str, Any], shipments: Sequence[_Shipment], rpc_hint: str,
              report_file: str) -> str:
    subject = document.get("credentialSubject") or {}
    factor_sets = sorted({(str(s.anchor.get("factorSetId")), str(s.anchor.get("factorSetUri", "")))
                          for s in shipments})
    sources: list[Mapping[str, Any]] = []
    for footprint in subject.get("productFootprints") or []:
        sources = list((footprint.get("pcf") or {}).get("secondaryEmissionFactorSources") or [])
        if sources:
            break
    factor_html = ("<ul class=\"small\">" + "".join(
        f"<li>Factor set <code>{_e(i)}</code> {_e(u)}</li>" for i, u in factor_sets)
        + "".join(f"<li>{_e(src.get('name'))} <code>{_e(src.get('version'))}</code></li>"
                  for src in sources) + "</ul>")
    anchor_rows = "".join(
        "<tr>" + _cell(s.shipment_id) + _cell(s.anchor.get("anchoring"))
        + f"<td class=\"mono\">{_e(s.anchor.get('transactionHash'))}</td>"
        + _cell(s.anchor.get("blockNumber"), True)
        + f"<td class=\"mono\">{_e(s.anchor.get('leaf', {}).get('recordHash'))}</td>"
        + _cell(len(s.anchor.get("proof") or []), True) + "</tr>" for s in shipments)
    first = shipments[0].anchor if shipments else {}
    chain = (f"<p class=\"small\">Chain {_e(first.get('chainId'))}, ledger contract "
             f"<code>{_e(first.get('contract'))}</code>; Merkle root(s): "
             + ", ".join(f"<code>{_e(r)}</code>" for r in sorted(
                 {str(s.anchor.get("merkleRoot")) for s in shipments
                  if s.anchor.get("merkleRoot")})) + "</p>")
    commands = [f"carbon-ledger verify {report_file} --rpc {rpc_hint}"]
    seen: set[str] = set()
    for s in shipments:
        root, contract = s.anchor.get("merkleRoot"), s.anchor.get("contract", "")
        call = (f'cast call {contract} "rootInfo(bytes32)(address,uint64,uint32)" {root} '
                if root else
                f'cast call {contract} "batchInfo(bytes32)(address,uint64,uint32)" '
                f"{s.anchor.get('batchId')} ") + f"--rpc-url {rpc_hint}"
        receipt = f"cast receipt {s.anchor.get('transactionHash')} --rpc-url {rpc_hint}"
        for command in (call, receipt):
            if command not in seen:
                seen.add(command)
                commands.append(command)
    proofs = []
    for proof in vc.data_integrity_proofs(document):
        proofs.append(("W3C Data Integrity", f"{proof.get('cryptosuite')} by "
                       f"{str(proof.get('verificationMethod', '')).split('#')[0]}"))
    try:
        eip712 = vc.eip712_proof(document)
        proofs.append(("EIP-712", f"{eip712.get('type')} by {document.get('issuer')}, "
                       f"{str(eip712.get('proofValue', ''))[:20]}…"))
    except Exception:  # shown as missing; verify names the problem
        proofs.append(("EIP-712", "missing"))
    proofs.append(("Report hash (attested)", "0x" + report_hash(document).hex()))
    proof_rows = "".join(f"<tr><th>{_e(k)}</th><td class=\"mono\">{_e(v)}</td></tr>"
                         for k, v in proofs)
    return (
        "<section class=\"appendix\"><h2>Evidence appendix</h2>"
        "<h3>Factor set and tables</h3>" + factor_html
        + _cbam_table(subject.get("cbam") or {})
        + "<h3>On-chain anchors</h3>" + chain
        + "<table><tr><th>Shipment</th><th>Anchoring</th><th>Transaction</th>"
          "<th class=\"n\">Block</th><th>Record hash</th><th class=\"n\">Proof</th></tr>"
        + anchor_rows + "</table>"
        + "<h3>Proofs</h3><table class=\"facts\">" + proof_rows + "</table>"
        + f"<p class=\"muted small\">The Data Integrity proof verifies with any W3C VC "
          f"verifier ({integrity.CRYPTOSUITE}); the EIP-712 proof covers it and binds its key "
          "to the exporter's address. The JSON report beside this page is the signed original; "
          "this page is a rendering of it.</p>"
        + "<h3>Verify it yourself</h3><pre>" + _e("\n".join(commands)) + "</pre></section>"
    )


def render_html(document: Mapping[str, Any], *, report_file: str = "REPORT.json",
                rpc_hint: str | None = None) -> str:
    """The HTML page of a signed report (a string; write it with UTF-8).

    ``rpc_hint`` is the RPC URL written into the page's verify commands: give only a URL that is
    safe to publish (provider URLs often carry an API key). Without one the commands read
    ``--rpc <RPC URL>`` for the reader to fill in.
    """
    rpc_hint = rpc_hint or RPC_PLACEHOLDER
    subject = document["credentialSubject"]
    shipments = _shipments(subject)
    production = {str(p["shipmentId"]): p for p in subject.get("production") or []}
    cbam_block = subject.get("cbam") or {}
    cbam = {str(g["itemId"]): g for g in cbam_block.get("goods") or []}
    outside = {str(o["itemId"]): o for o in cbam_block.get("outOfScope") or []}
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Carbon footprint report {_e(document.get('id'))}</title>"
        f"<style>{_css()}</style></head><body>"
        + _summary(document, shipments, production, cbam)
        + "".join(_shipment_section(s, production.get(s.shipment_id), cbam.get(s.shipment_id),
                                    outside.get(s.shipment_id)) for s in shipments)
        + _appendix(document, shipments, rpc_hint, report_file)
        + "</body></html>"
    )
