"""A human-readable, self-contained HTML rendering of a signed report.

One file, no scripts, no external resources: totals, a per-leg chart (inline SVG bars, each WTW
bar split into TTW and WTT), the factor sources, the CBAM section, the on-chain evidence and the
commands that verify it. Print CSS keeps it readable on paper. Everything shown is read from the
signed JSON report, so the page says nothing the signature does not cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from html import escape
from typing import Any

from ledger.reports import vc
from ledger.reports.model import ANCHOR_SCHEMA
from ledger.reports.vc import report_hash

__all__ = ["RPC_PLACEHOLDER", "render_html"]

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;
color:#1b1f24;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #d0d7de}h3{font-size:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem;word-break:break-all}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap}
.muted{color:#57606a}.totals td{font-size:1rem}.legend span{display:inline-block;width:.8rem;
height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
.note{background:#fff8c5;padding:.5rem;border:1px solid #d4a72c}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}
section{break-inside:avoid}pre{white-space:pre-wrap}a{color:inherit;text-decoration:none}}
"""
_TTW_COLOUR, _WTT_COLOUR = "#0969da", "#8fc3ff"


def _kg(text: str) -> str:
    value = Decimal(text)
    return f"{value:,.3f}"


def _cell(value: Any, numeric: bool = False) -> str:
    css = ' class="n"' if numeric else ""
    return f"<td{css}>{escape(str(value))}</td>"


def _chart(tces: Sequence[Mapping[str, Any]]) -> str:
    """Horizontal bars per leg: TTW then WTT, together WTW (kg CO2e)."""
    rows = [(str(t.get("tceId")), Decimal(t["co2eTTW"]), Decimal(t["co2eWTW"])) for t in tces]
    peak = max((w for _, _, w in rows), default=Decimal(0)) or Decimal(1)
    label_w, bar_w, row_h = 170, 430, 26
    height = row_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{label_w + bar_w + 110}"'
             f' height="{height}" aria-label="Emissions per leg, kg CO2e">']
    for index, (name, ttw, wtw) in enumerate(rows):
        y = 5 + index * row_h
        ttw_px = float(ttw / peak) * bar_w
        wtt_px = float((wtw - ttw) / peak) * bar_w
        parts.append(f'<text x="0" y="{y + 16}" font-size="12">{escape(name[:26])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{ttw_px:.1f}" height="18" '
                     f'fill="{_TTW_COLOUR}"><title>TTW {ttw} kg</title></rect>')
        parts.append(f'<rect x="{label_w + ttw_px:.1f}" y="{y}" width="{wtt_px:.1f}" '
                     f'height="18" fill="{_WTT_COLOUR}"><title>WTT {wtw - ttw} kg</title></rect>')
        parts.append(f'<text x="{label_w + ttw_px + wtt_px + 6:.1f}" y="{y + 14}" '
                     f'font-size="12">{escape(_kg(str(wtw)))} kg</text>')
    parts.append("</svg>")
    legend = (f'<p class="legend muted">WTW = <span style="background:{_TTW_COLOUR}"></span>TTW '
              f'(tank-to-wheel) + <span style="background:{_WTT_COLOUR}"></span>WTT '
              "(well-to-tank)</p>")
    return "".join(parts) + legend


def _extension(footprint: Mapping[str, Any], schema: str) -> Mapping[str, Any] | None:
    for extension in footprint.get("extensions") or []:
        if extension.get("dataSchema") == schema:
            data: Mapping[str, Any] = extension.get("data") or {}
            return data
    return None


#: What the verify commands show where no public RPC URL was given.
RPC_PLACEHOLDER = "<RPC URL>"


def _shipment_section(footprint: Mapping[str, Any], rpc_hint: str, report_file: str) -> str:
    ileap: Mapping[str, Any] = next((e["data"] for e in footprint.get("extensions", [])
                  if e.get("dataSchema", "").endswith("shipment-footprint.json")), {})
    anchor = _extension(footprint, ANCHOR_SCHEMA) or {}
    pcf = footprint["pcf"]
    tces = ileap.get("tces", [])
    rows = "".join(
        "<tr>" + _cell(t.get("tceId")) + _cell(t.get("tocId") or t.get("hocId") or "")
        + _cell(", ".join(f"{v} km ({k})" for k, v in t.get("distance", {}).items()))
        + _cell(t.get("transportActivity"), True) + _cell(_kg(t["co2eTTW"]), True)
        + _cell(_kg(str(Decimal(t["co2eWTW"]) - Decimal(t["co2eTTW"]))), True)
        + _cell(_kg(t["co2eWTW"]), True) + "</tr>"
        for t in tces
    )
    sources = "".join(f"<li>{escape(s['name'])} ({escape(s['version'])})</li>"
                      for s in pcf.get("secondaryEmissionFactorSources", []))
    leaf = anchor.get("leaf", {})
    contract, root = anchor.get("contract", ""), anchor.get("merkleRoot")
    commands = [f"carbon-ledger verify {report_file} --rpc {rpc_hint}"]
    if root:
        commands.append(f'cast call {contract} "rootInfo(bytes32)(address,uint64,uint32)" '
                        f"{root} --rpc-url {rpc_hint}")
    else:
        commands.append(f'cast call {contract} "batchInfo(bytes32)(address,uint64,uint32)" '
                        f"{anchor.get('batchId')} --rpc-url {rpc_hint}")
    commands.append(f"cast receipt {anchor.get('transactionHash')} --rpc-url {rpc_hint}")
    evidence = [
        ("Anchoring", anchor.get("anchoring")), ("Chain id", anchor.get("chainId")),
        ("Ledger contract", contract), ("Transaction", anchor.get("transactionHash")),
        ("Block", anchor.get("blockNumber")), ("Merkle root", root or "none (per-shipment)"),
        ("Batch id", anchor.get("batchId")), ("On-chain shipment id", leaf.get("shipmentId")),
        ("Record hash", leaf.get("recordHash")),
        ("Leaf totals", f"WTW {leaf.get('co2eWtwG')} g, TTW {leaf.get('co2eTtwG')} g"),
        ("Proof", f"{len(anchor.get('proof', []))} sibling hash(es)"),
        ("Factor set", f"{anchor.get('factorSetId')} {anchor.get('factorSetUri', '')}"),
    ]
    evidence_rows = "".join(f"<tr><th>{escape(k)}</th><td class=\"mono\">{escape(str(v))}</td>"
                            "</tr>" for k, v in evidence)
    return (
        f"<section><h2>Shipment {escape(str(ileap.get('shipmentId')))}</h2>"
        f"<p>Mass {escape(str(ileap.get('mass')))} kg; transport activity "
        f"{escape(pcf['unitaryProductAmount'])} t·km; WTW {_kg(pcf['pCfExcludingBiogenic'])} "
        f"kg CO2e. {escape(pcf.get('boundaryProcessesDescription', ''))}</p>"
        + _chart(tces)
        + "<table><tr><th>Leg</th><th>Operation category / factor</th><th>Distance</th>"
          "<th>t·km</th><th>TTW kg</th><th>WTT kg</th><th>WTW kg</th></tr>" + rows + "</table>"
        + f"<h3>Factor sources</h3><ul>{sources}</ul>"
        + f"<h3>On-chain evidence</h3><table>{evidence_rows}</table>"
        + "<h3>Verify it yourself</h3><pre>" + escape("\n".join(commands)) + "</pre></section>"
    )


def _determination(good: Mapping[str, Any]) -> str:
    if not good.get("markupYear"):
        return str(good["determination"])
    return (f"{good['determination']} value, published {good['markupYear']} column "
            f"(mark-up included): {good.get('valueSource', '')}")


def _cbam_section(cbam: Mapping[str, Any]) -> str:
    rows = "".join(
        "<tr>" + _cell(g["itemId"]) + _cell(g["cnCode"]) + _cell(g["description"])
        + _cell(g["netMassT"], True) + _cell(g["specificEmbeddedEmissionsDirectTPerT"], True)
        + _cell(g["embeddedTotalT"], True)
        + _cell(_determination(g)) + "</tr>"
        for g in cbam.get("goods", [])
    )
    out_rows = "".join(f"<li>{escape(o['itemId'])} ({escape(str(o.get('cnCode')))}): "
                       f"{escape(o['reason'])}</li>" for o in cbam.get("outOfScope", []))
    goods = ("<table><tr><th>Shipment</th><th>CN</th><th>Good</th><th>Net mass t</th>"
             "<th>SEE tCO2e/t</th><th>Embedded tCO2e</th><th>Determination</th></tr>"
             + rows + "</table>") if rows else "<p>No CBAM good in this report.</p>"
    outside = f"<h3>Outside CBAM</h3><ul>{out_rows}</ul>" if out_rows else ""
    return ("<section><h2>EU CBAM</h2><p class=\"note\">CBAM embedded emissions are production "
            "emissions of Annex I goods; transport emissions are not part of them and are not "
            "included here.</p>" + goods + outside + "</section>")


def render_html(document: Mapping[str, Any], *, report_file: str = "REPORT.json",
                rpc_hint: str | None = None) -> str:
    """The HTML page of a signed report (a string; write it with UTF-8).

    ``rpc_hint`` is the RPC URL written into the page's verify commands: give only a URL that is
    safe to publish (provider URLs often carry an API key). Without one the commands read
    ``--rpc <RPC URL>`` for the reader to fill in.
    """
    rpc_hint = rpc_hint or RPC_PLACEHOLDER
    subject = document["credentialSubject"]
    totals = subject["totals"]
    transport = [f for f in subject["productFootprints"] if _extension(f, ANCHOR_SCHEMA)]
    products = [f for f in subject["productFootprints"] if not _extension(f, ANCHOR_SCHEMA)]
    total_rows = "".join(f"<tr><th>{escape(k)}</th>{_cell(v, True)}</tr>" for k, v in [
        ("Shipments", totals["shipments"]),
        ("Transport activity, t·km", totals["transportActivityTkm"]),
        ("Transport WTW, kg CO2e", _kg(totals["co2eWtwKg"])),
        ("of which TTW, kg CO2e", _kg(totals["co2eTtwKg"])),
        ("of which WTT, kg CO2e", _kg(totals["co2eWttKg"])),
        ("Production (cradle-to-gate), kg CO2e", _kg(totals["productionCo2eKg"])),
    ])
    product_rows = "".join(
        "<tr>" + _cell(f["productDescription"]) + _cell(f["pcf"]["unitaryProductAmount"], True)
        + _cell(f["pcf"]["pCfExcludingBiogenic"], True)
        + _cell(f["pcf"]["boundaryProcessesDescription"]) + "</tr>" for f in products)
    production = ("<section><h2>Production emissions</h2><table><tr><th>Good</th><th>kg</th>"
                  "<th>kg CO2e per kg</th><th>Source</th></tr>" + product_rows
                  + "</table></section>") if product_rows else ""
    proof = vc.eip712_proof(document)
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>Carbon footprint report {escape(str(document.get('id')))}</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>Shipment carbon footprint report</h1>"
        f"<p class=\"muted\">Report <span class=\"mono\">{escape(str(document.get('id')))}"
        f"</span><br>Issued by <span class=\"mono\">{escape(str(document.get('issuer')))}"
        f"</span> on {escape(str(document.get('validFrom')))}<br>Report hash "
        f"<span class=\"mono\">0x{report_hash(document).hex()}</span><br>Signature "
        f"{escape(str(proof.get('type')))}, <span class=\"mono\">"
        f"{escape(str(proof.get('proofValue', ''))[:20])}…</span></p>"
        f"<section><h2>Totals</h2><table class=\"totals\">{total_rows}</table></section>"
        + "".join(_shipment_section(f, rpc_hint, report_file) for f in transport)
        + production + _cbam_section(subject.get("cbam", {}))
        + "<section><h2>About this report</h2><p>Transport emissions follow ISO 14083 / GLEC "
          "(well-to-wheel = tank-to-wheel + well-to-tank) with the factor tables named above; "
          "the JSON report beside this page is the signed original (W3C Verifiable Credential "
          "2.0, EIP-712 signature), and this page is a rendering of it.</p></section>"
        "</body></html>"
    )
