"""Signed reports for one shipment or a set of shipments.

A report is a W3C VC 2.0 credential (:mod:`ledger.reports.vc`) signed by the exporter's key. Its
``credentialSubject`` holds, per shipment, a PACT v2.3 ProductFootprint of the transport chain
(with the iLEAP ShipmentFootprint and the on-chain anchor as ``DataModelExtension`` s), a product
footprint where the good has production emissions, the CBAM data for the importer (or an
out-of-scope statement), and the report totals.

The subject is a pure function of the shipments' figures, their anchors and the issue time:
:func:`credential_subject`. Verification rebuilds it from the recomputed footprints and compares
it with the signed one, so every reported number is checked.

Related modules: :mod:`ledger.reports.model` (the value types), :mod:`ledger.reports.figures`
(record to figures, engine recomputation), :mod:`ledger.reports.parse` (reading a report back),
:mod:`ledger.reports.issue` (issuing report files from proof bundles).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from ledger.errors import InputError, InputProblem
from ledger.reports import hoc, pact, qreport, toc, vc
from ledger.reports.cbam import declaration_summary
from ledger.reports.model import (
    ANCHOR_DOCUMENTATION,
    ANCHOR_PATHS,
    ANCHOR_SCHEMA,
    REPORT_FORMAT,
    REPORT_TYPE,
    Anchor,
    ReportItem,
)

__all__ = ["anchor_extension", "build_report", "credential_subject", "reference_period"]


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


def _cbam_block(items: Sequence[ReportItem]) -> dict[str, Any]:
    goods = [i.figures.cbam for i in items if isinstance(i.figures.cbam, qreport.CbamGood)]
    out = [i.figures.cbam for i in items if isinstance(i.figures.cbam, qreport.OutOfScopeGood)]
    return declaration_summary(goods, out)


def credential_subject(
    items: Sequence[ReportItem], issued_at: str, period: tuple[date, date]
) -> dict[str, Any]:
    """The report's ``credentialSubject``: a pure function of the items, issue time and period."""
    footprints: list[dict[str, Any]] = []
    tocs: dict[tuple[str, str], tuple[str, toc.Toc, Sequence[tuple[str, str]], str]] = {}
    hocs: dict[tuple[str, str], tuple[str, hoc.Hoc, str]] = {}
    wtw_g = ttw_g = 0
    activity = Decimal(0)
    for item in items:
        fig, anchor = item.figures, item.anchor
        for found in toc.leg_tocs(anchor.record).values():
            tocs.setdefault((fig.exporter_id, found.toc_id),
                            (fig.exporter_name, found, fig.factor_sources, fig.gwp_set))
        for hub in hoc.leg_hocs(anchor.record).values():
            hocs.setdefault((fig.exporter_id, hub.hoc_id), (fig.exporter_name, hub, fig.gwp_set))
        footprints.append(pact.shipment_footprint(
            pf_id=pact.deterministic_pf_id("transport", anchor.chain_shipment_id,
                                           anchor.record_hash),
            created=issued_at,
            company_name=fig.exporter_name,
            company_id=fig.exporter_id,
            shipment_id=fig.shipment_id,
            mass_kg=fig.mass_kg,
            tces=hoc.with_hoc_ids(toc.with_toc_ids(fig.tces, anchor.record), anchor.record),
            reference_period=reference_period(period),
            gwp_set=fig.gwp_set,
            factor_sources=fig.factor_sources,
            extensions=[anchor_extension(anchor)],
            comment=" ".join(item.extra_remarks),
        ))
        if fig.production is not None and fig.production.mass_kg > 0:
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
    for (company_id, toc_id), (company, found, sources, gwp_set) in tocs.items():
        footprints.append(toc.toc_footprint(
            found, pf_id=pact.deterministic_pf_id("toc", company_id, toc_id), created=issued_at,
            company_name=company, company_id=company_id,
            reference_period=reference_period(period), gwp_set=gwp_set,
            factor_sources=sources))
    for (company_id, hoc_id), (company, hub, gwp_set) in hocs.items():
        footprints.append(hoc.hoc_footprint(
            hub, pf_id=pact.deterministic_pf_id("hoc", company_id, hoc_id),
            created=issued_at, company_name=company, company_id=company_id,
            reference_period=reference_period(period), gwp_set=gwp_set))
    return {
        "type": REPORT_TYPE,
        "reportFormat": REPORT_FORMAT,
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
