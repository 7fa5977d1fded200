"""Reports anchored for real on the session's Anvil: engine footprints, the anchoring pipeline
(store, outbox, Merkle root or per-shipment events), proof bundles, and a report issued from them
with :func:`ledger.reports.issue.issue_report` (no test here; imported by the chain-tier report
tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from devchain import DevChain

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.anchoring.proofs import proof_bundle
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES, dev_key
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.reports.issue import issue_report
from ledger.store.store import open_store

PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
ISSUED_AT = datetime(2026, 3, 31, 12, tzinfo=UTC)
EXPORTER_INDEX = DEV_EXPORTER_INDEXES[0]

#: A CBAM good (CN 7318 15 90 screws from China on the 2026 default value) and an appliance
#: shipment outside CBAM: truck to the port, container ship to Rotterdam (distances given, so
#: no sea routing is needed), truck to the warehouse.
SHIPMENTS: list[dict[str, Any]] = [
    {"shipment_id": "HY-2026-0007", "exporter": "Haiyan Fasteners Co.",
     "product": {"description": "Threaded screws and bolts", "cn_code": "73181590",
                 "country_of_origin": "CN", "net_mass_kg": "10000", "cbam_year": 2026},
     "legs": [{"leg": 1, "mode": "road", "origin": "CNHYN", "destination": "CNNGB",
               "distance_km": "160", "mass_kg": "10000"},
              {"leg": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
               "distance_km": "19376", "mass_kg": "10000"}]},
    {"shipment_id": "NGB-2026-0001", "exporter": "Ningbo Appliance Co.",
     "legs": [{"leg": 1, "mode": "road", "origin": "CNNGB", "destination": "CNNGB",
               "distance_km": "35", "mass_kg": "12000"},
              {"leg": 2, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
               "distance_km": "19376", "mass_kg": "12000"},
              {"leg": 3, "mode": "road", "origin": "NLRTM", "destination": "DEDUI",
               "distance_km": "230", "mass_kg": "12000"}]},
]


@dataclass
class AnchoredReport:
    document: dict[str, Any]
    bundles: list[dict[str, Any]]
    factor_set: FactorSet


def register_shipped_factor_set(chain: DevChain) -> FactorSet:
    factor_set = load_factor_set()
    fsid = bytes.fromhex(factor_set.id[2:])
    if not chain.admin.is_factor_set_registered(fsid):
        chain.admin.register_factor_set(fsid, factor_set.uri)
    return factor_set


def anchor_and_issue(chain: DevChain, tmp_path: Path, *, path: str = "root",
                     shipments: list[dict[str, Any]] | None = None) -> AnchoredReport:
    """Anchors the shipments with the exporter's key on ``path`` (``root`` or ``events``) and
    issues one report from their proof bundles."""
    factor_set = register_shipped_factor_set(chain)
    exporter = chain.ledger(EXPORTER_INDEX)
    parsed = [Shipment.from_dict(s) for s in shipments or SHIPMENTS]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    with open_store(tmp_path / f"ledger-{path}.sqlite") as store:
        result = anchor_footprints(pairs, store=store, ledger=exporter,
                                   factor_set_id=factor_set.id, options=AnchorOptions(path=path))
        bundles = [proof_bundle(store, result.scope, s.shipment_id) for s in parsed]
    document = issue_report(bundles, issuer_key=dev_key(EXPORTER_INDEX).private_key,
                            period=PERIOD, issued_at=ISSUED_AT, factor_set=factor_set)
    return AnchoredReport(document, bundles, factor_set)
