"""Signed reports for one shipment or a set of shipments.

A report is a W3C VC 2.0 credential (:mod:`ledger.vc`) signed by the exporter's key. Its
``credentialSubject`` holds, per shipment, a PACT v2.3 ProductFootprint of the transport chain
(with the iLEAP ShipmentFootprint and the on-chain anchor as ``DataModelExtension`` s), a product
footprint where the good has production emissions, the CBAM data for the importer (or an
out-of-scope statement), and the report totals.

The subject is a pure function of the shipments' figures, their anchors and the issue time:
:func:`credential_subject`. Verification rebuilds it from the recomputed footprints and compares
it with the signed one, so every reported number is checked.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger import pact, qreport, vc
from ledger.errors import InputError, InputProblem

__all__ = [
    "ANCHOR_SCHEMA",
    "REPORT_TYPE",
    "Anchor",
    "ReportItem",
    "ShipmentFigures",
    "anchor_extension",
    "build_report",
    "cbam_goods_from_subject",
    "credential_subject",
    "figures_from_record",
    "period_from_subject",
    "reference_period",
    "report_anchors",
]

REPORT_TYPE = "ShipmentFootprintReport"
ANCHOR_SCHEMA = "https://carbon-ledger.invalid/schemas/anchor-v1.json"
ANCHOR_DOCUMENTATION = "https://carbon-ledger.invalid/docs/reports.md"
ANCHOR_PATHS = ("root", "per-shipment")


@dataclass(frozen=True)
class ShipmentFigures:
    """Everything a report says about one shipment, taken from its computed footprint."""

    shipment_id: str
    exporter_name: str
    exporter_id: str
    mass_kg: Decimal
    tces: tuple[pact.Tce, ...]
    factor_sources: tuple[tuple[str, str], ...]
    gwp_set: str
    production: pact.ProductionFigures | None = None
    cbam: qreport.CbamGood | qreport.OutOfScopeGood | None = None
    production_detail: Mapping[str, Any] | None = None

    @property
    def co2e_wtw_g(self) -> int:
        return sum(t.co2e_wtw_g for t in self.tces)

    @property
    def co2e_ttw_g(self) -> int:
        return sum(t.co2e_ttw_g for t in self.tces)


@dataclass(frozen=True)
class Anchor:
    """On-chain evidence of one shipment's record (from the anchoring proof bundle)."""

    chain_id: int
    contract: str
    path: str
    batch_id: str
    transaction_hash: str
    block_number: int
    merkle_root: str | None
    chain_shipment_id: str
    record_hash: str
    co2e_wtw_g: int
    co2e_ttw_g: int
    proof: tuple[str, ...]
    record: Mapping[str, Any]
    factor_set_id: str
    factor_set_uri: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "contract": self.contract,
            "anchoring": self.path,
            "batchId": self.batch_id,
            "transactionHash": self.transaction_hash,
            "blockNumber": self.block_number,
            "merkleRoot": self.merkle_root,
            "leaf": {
                "shipmentId": self.chain_shipment_id,
                "recordHash": self.record_hash,
                "co2eWtwG": self.co2e_wtw_g,
                "co2eTtwG": self.co2e_ttw_g,
            },
            "proof": list(self.proof),
            "factorSetId": self.factor_set_id,
            "factorSetUri": self.factor_set_uri,
            "record": dict(self.record),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Anchor:
        """Reads the anchor extension data (raises KeyError or TypeError when malformed)."""
        leaf = data["leaf"]
        return cls(
            chain_id=data["chainId"],
            contract=data["contract"],
            path=data["anchoring"],
            batch_id=data["batchId"],
            transaction_hash=data["transactionHash"],
            block_number=data["blockNumber"],
            merkle_root=data["merkleRoot"],
            chain_shipment_id=leaf["shipmentId"],
            record_hash=leaf["recordHash"],
            co2e_wtw_g=leaf["co2eWtwG"],
            co2e_ttw_g=leaf["co2eTtwG"],
            proof=tuple(data["proof"]),
            record=data["record"],
            factor_set_id=data["factorSetId"],
            factor_set_uri=data["factorSetUri"],
        )


@dataclass(frozen=True)
class ReportItem:
    """One shipment of a report: its figures and its anchor."""

    figures: ShipmentFigures
    anchor: Anchor
    extra_remarks: tuple[str, ...] = field(default_factory=tuple)


def anchor_extension(anchor: Anchor) -> dict[str, Any]:
    """The anchor as a PACT ``DataModelExtension``."""
    return {
        "specVersion": pact.EXTENSION_SPEC_VERSION,
        "dataSchema": ANCHOR_SCHEMA,
        "documentation": ANCHOR_DOCUMENTATION,
        "data": anchor.to_dict(),
    }


def _utc(day: date) -> str:
    return datetime(day.year, day.month, day.day).strftime("%Y-%m-%dT%H:%M:%SZ")


def reference_period(period: tuple[date, date]) -> tuple[str, str]:
    """First day (inclusive) to the day after the last day (exclusive), UTC timestamps."""
    return _utc(period[0]), _utc(period[1] + timedelta(days=1))


def period_from_subject(subject: Mapping[str, Any]) -> tuple[date, date]:
    """The reporting period a report's subject states (first and last day)."""
    period = subject["reportingPeriod"]
    return date.fromisoformat(period["firstDay"]), date.fromisoformat(period["lastDay"])


def _cbam_block(items: Sequence[ReportItem]) -> dict[str, Any]:
    goods = [i.figures.cbam for i in items if isinstance(i.figures.cbam, qreport.CbamGood)]
    out = [i.figures.cbam for i in items if isinstance(i.figures.cbam, qreport.OutOfScopeGood)]
    return qreport.declaration_summary(goods, out)


def credential_subject(
    items: Sequence[ReportItem], issued_at: str, period: tuple[date, date]
) -> dict[str, Any]:
    """The report's ``credentialSubject``: a pure function of the items, issue time and period."""
    footprints: list[dict[str, Any]] = []
    wtw_g = ttw_g = 0
    activity = Decimal(0)
    for item in items:
        fig, anchor = item.figures, item.anchor
        footprints.append(pact.shipment_footprint(
            pf_id=pact.deterministic_pf_id("transport", anchor.chain_shipment_id,
                                           anchor.record_hash),
            created=issued_at,
            company_name=fig.exporter_name,
            company_id=fig.exporter_id,
            shipment_id=fig.shipment_id,
            mass_kg=fig.mass_kg,
            tces=fig.tces,
            reference_period=reference_period(period),
            gwp_set=fig.gwp_set,
            factor_sources=fig.factor_sources,
            extensions=[anchor_extension(anchor)],
            comment=" ".join(item.extra_remarks),
        ))
        if fig.production is not None and fig.production.cpc_code:
            footprints.append(pact.product_footprint(
                pf_id=pact.deterministic_pf_id("product", anchor.chain_shipment_id,
                                               anchor.record_hash),
                created=issued_at,
                company_name=fig.exporter_name,
                company_id=fig.exporter_id,
                production=fig.production,
                reference_period=reference_period(period),
                gwp_set=fig.gwp_set,
                factor_sources=fig.factor_sources,
                comment=f"Production of the goods of shipment {fig.shipment_id}",
            ))
        wtw_g += fig.co2e_wtw_g
        ttw_g += fig.co2e_ttw_g
        activity += sum((t.activity_tkm for t in fig.tces), Decimal(0))
    return {
        "type": REPORT_TYPE,
        "shipmentIds": [i.figures.shipment_id for i in items],
        "reportingPeriod": {"firstDay": period[0].isoformat(), "lastDay": period[1].isoformat()},
        "productFootprints": footprints,
        "production": [
            {"shipmentId": i.figures.shipment_id, **i.figures.production_detail}
            for i in items if i.figures.production_detail is not None
        ],
        "cbam": _cbam_block(items),
        "totals": {
            "shipments": len(items),
            "transportActivityTkm": pact._plain(activity),
            "co2eWtwKg": pact.grams_to_kg(wtw_g),
            "co2eTtwKg": pact.grams_to_kg(ttw_g),
            "co2eWttKg": pact.grams_to_kg(wtw_g - ttw_g),
            "productionCo2eKg": pact.grams_to_kg(sum(
                i.figures.production.co2e_g for i in items if i.figures.production)),
        },
    }


def _check_items(items: Sequence[ReportItem], chain_id: int, contract: str) -> None:
    problems: list[InputProblem] = []
    if not items:
        problems.append(InputProblem("a report needs at least one anchored shipment"))
    seen: set[str] = set()
    for item in items:
        sid = item.figures.shipment_id
        if sid in seen:
            problems.append(InputProblem("shipment appears twice in one report", shipment_id=sid))
        seen.add(sid)
        anchor = item.anchor
        if anchor.path not in ANCHOR_PATHS:
            problems.append(InputProblem(f"unknown anchoring path {anchor.path!r}",
                                         shipment_id=sid))
        if anchor.chain_id != chain_id or anchor.contract.lower() != contract.lower():
            problems.append(InputProblem(
                "all shipments of a report must be anchored on the same chain and contract",
                shipment_id=sid))
        if (anchor.co2e_wtw_g, anchor.co2e_ttw_g) != (item.figures.co2e_wtw_g,
                                                      item.figures.co2e_ttw_g):
            problems.append(InputProblem(
                "the anchored totals differ from the footprint's totals", shipment_id=sid))
    if problems:
        raise InputError(problems)


def build_report(
    items: Sequence[ReportItem],
    *,
    issuer_key: bytes | str,
    issued_at: datetime,
    period: tuple[date, date],
    report_id: str | None = None,
) -> dict[str, Any]:
    """A signed report for the items, all anchored by the key's owner on one chain.

    ``period`` is the reporting period (first and last day) the shipments belong to.
    """
    from eth_account import Account

    if not items:
        raise InputError([InputProblem("a report needs at least one anchored shipment")])
    chain_id, contract = items[0].anchor.chain_id, items[0].anchor.contract
    _check_items(items, chain_id, contract)
    stamp = issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    issuer = vc.did_pkh(chain_id, Account.from_key(issuer_key).address)
    credential = {
        "@context": [vc.VC_CONTEXT],
        "id": report_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", REPORT_TYPE],
        "issuer": issuer,
        "validFrom": stamp,
        "credentialSubject": credential_subject(items, stamp, period),
    }
    return vc.sign_credential(credential, issuer_key, chain_id=chain_id,
                              verifying_contract=contract, created=stamp)


def report_anchors(document: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(shipment id, anchor data) of every transport footprint in a report, in order."""
    out: list[tuple[str, dict[str, Any]]] = []
    subject = document.get("credentialSubject")
    footprints = subject.get("productFootprints") if isinstance(subject, Mapping) else None
    if not isinstance(footprints, list):
        return out
    for footprint in footprints:
        if not isinstance(footprint, Mapping):
            continue
        extensions = [e for e in footprint.get("extensions") or [] if isinstance(e, Mapping)]
        ileap = next((e.get("data") for e in extensions
                      if e.get("dataSchema") == pact.ILEAP_SHIPMENT_SCHEMA), None)
        for extension in extensions:
            if extension.get("dataSchema") == ANCHOR_SCHEMA:
                shipment_id = ileap.get("shipmentId") if isinstance(ileap, Mapping) else None
                out.append((str(shipment_id), dict(extension.get("data") or {})))
    return out


def cbam_goods_from_subject(subject: Mapping[str, Any]) -> list[qreport.CbamGood]:
    """The CBAM goods of a report, rebuilt from its signed declaration summary."""
    goods = []
    for g in subject["cbam"]["goods"]:
        indirect = g.get("embeddedIndirectT")
        goods.append(qreport.CbamGood(
            item_id=g["itemId"],
            cn_code=g["cnCode"],
            description=g["description"],
            origin_country=g["originCountry"],
            net_mass_kg=Decimal(g["netMassT"]) * 1000,
            embedded_direct_g=int(Decimal(g["embeddedDirectT"]) * 1_000_000),
            see_direct_t_per_t=Decimal(g["specificEmbeddedEmissionsDirectTPerT"]),
            method=g["determination"],
            value_source=g["valueSource"],
            import_date=date.fromisoformat(g["importDate"]),
            embedded_indirect_g=None if indirect is None else int(Decimal(indirect) * 1_000_000),
            markup_year=g.get("markupYear"),
            markup_percent=g.get("markupPercent"),
        ))
    return goods


#: GWP set of the DEFRA/DESNZ factors (AR5; project emission-factor notes §2).
DEFAULT_GWP_SET = "AR5"


def _distance_basis(method: str) -> str:
    lowered = method.lower()
    if "gcd" in lowered or "great" in lowered:
        return "gcd"
    if "sea" in lowered or "sfd" in lowered or "route" in lowered:
        return "sfd"
    return "actual"


def _cbam_from_record(shipment_id: str, product: Mapping[str, Any],
                      cbam: Mapping[str, Any], period: tuple[date, date]
                      ) -> qreport.CbamGood | qreport.OutOfScopeGood | None:
    if not cbam.get("in_scope"):
        if not product:
            return None
        return qreport.OutOfScopeGood(
            item_id=shipment_id, cn_code=product.get("cn_code"),
            description=str(product.get("description") or "goods"),
            reason=str(cbam.get("reason") or "not a CBAM good"))
    year_label = str(cbam.get("markup_year") or "")
    markup_year = int(year_label[:4]) if year_label[:4].isdigit() else None
    indirect = cbam.get("specific_indirect_t_per_t")
    counted = bool(cbam.get("indirect_counted")) and indirect is not None
    return qreport.CbamGood(
        item_id=shipment_id,
        cn_code=str(cbam["cn_code"]),
        description=str(product.get("description") or cbam.get("sector") or "CBAM good"),
        origin_country=str(cbam.get("country_of_origin") or product.get("country_of_origin")),
        net_mass_kg=Decimal(str(cbam["net_mass_kg"])),
        embedded_direct_g=int(cbam["embedded_direct_g"]),
        see_direct_t_per_t=Decimal(str(cbam["specific_direct_t_per_t"])),
        method=str(cbam["method"]),
        value_source=str(cbam.get("factor_ref") or "factor set"),
        import_date=period[0],
        embedded_indirect_g=int(cbam["embedded_indirect_g"]) if counted else None,
        see_indirect_t_per_t=Decimal(str(indirect)) if counted else None,
        markup_year=markup_year if cbam.get("method") == "default" else None,
        markup_percent=(qreport.MARKUP_PERCENT_BY_YEAR.get(min(markup_year, 2028))
                        if markup_year and cbam.get("method") == "default" else None),
        annex_ii=not bool(cbam.get("indirect_counted")),
    )


def figures_from_record(
    record: Mapping[str, Any],
    *,
    period: tuple[date, date],
    factor_sources: Sequence[tuple[str, str]],
    gwp_set: str = DEFAULT_GWP_SET,
) -> ShipmentFigures:
    """The report figures of one canonical record (``Shipment.to_dict()`` + footprint)."""
    shipment, footprint = record["shipment"], record["footprint"]
    shipment_id = str(record["shipment_id"])
    legs_in = {int(leg["leg"]): leg for leg in shipment["legs"]}
    tces: list[pact.Tce] = []
    for result in footprint["legs"]:
        leg = legs_in[int(result["leg"])]
        mode = str(result["mode"])
        category = mode + (f":{leg['vehicle_class']}" if leg.get("vehicle_class") else "")
        is_hub = mode == "hub"
        tces.append(pact.Tce(
            tce_id=f"{shipment_id}#{result['leg']}",
            mass_kg=Decimal(str(leg["mass_kg"])),
            distance_km=Decimal(str(result["distance_km"])),
            distance_basis=_distance_basis(str(result.get("distance_method", ""))),
            activity_tkm=Decimal(str(result["activity_tkm"])),
            co2e_wtw_g=int(result["co2e_wtw_g"]),
            co2e_ttw_g=int(result["co2e_ttw_g"]),
            toc_id=None if is_hub else category,
            hoc_id=category if is_hub else None,
            prev_tce_ids=(tces[-1].tce_id,) if tces else (),
        ))
    product = shipment.get("product") or {}
    production = footprint.get("production")
    figures_production = None
    if production:
        figures_production = pact.ProductionFigures(
            product_description=str(product.get("description") or f"goods of {shipment_id}"),
            product_id=str(product.get("cn_code") or shipment_id),
            cpc_code=str(product.get("cpc_code") or ""),
            mass_kg=Decimal(str(production["net_mass_kg"])),
            co2e_g=int(production["co2e_g"]),
            geography_country=str(product.get("country_of_origin") or ""),
            source=str(production.get("factor_ref") or production.get("method")),
        )
    masses = [t.mass_kg for t in tces if t.hoc_id is None] or [Decimal(0)]
    return ShipmentFigures(
        shipment_id=shipment_id,
        exporter_name=str(shipment.get("exporter") or record["exporter"]),
        exporter_id=str(record["exporter"]),
        mass_kg=max(masses),
        tces=tuple(tces),
        factor_sources=tuple(factor_sources),
        gwp_set=gwp_set,
        production=figures_production,
        cbam=_cbam_from_record(shipment_id, product, footprint.get("cbam") or {}, period),
        production_detail=None if not production else {
            "method": production.get("method"), "dataType": production.get("data_type"),
            "netMassKg": production.get("net_mass_kg"),
            "co2eDirectKg": pact.grams_to_kg(int(production["co2e_direct_g"])),
            "co2eIndirectKg": pact.grams_to_kg(int(production["co2e_indirect_g"])),
            "co2eKg": pact.grams_to_kg(int(production["co2e_g"])),
            "source": production.get("factor_ref"),
        },
    )
