"""CBAM consignments of 2026 for two EU importers, anchored for real on the session's Anvil
(no test here; imported by the declaration tests).

Every company, EORI number, installation and actual-emissions figure here is fictitious; the
default values, benchmarks, CBAM factor and price come from the shipped declaration factor set.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devchain import DevChain

from ledger.anchoring.anchor import anchor_footprints
from ledger.anchoring.options import AnchorOptions
from ledger.declaration.build import declaration_factor_set
from ledger.dev.devkeys import DEV_EXPORTER_INDEXES
from ledger.factors.factorset import FactorSet, load_factor_set
from ledger.footprint.single import compute_shipment
from ledger.inputs.shipments import Shipment
from ledger.store.store import LedgerStore

STEEL_IMPORTER = "NL009900001"
ALUMINIUM_IMPORTER = "DE009900002"


def consignment(shipment_id: str, *, cn: str, mass_kg: str, importer: str, released: str,
                production: dict[str, Any], installation: str, route: str = "",
                declarant: bool = True) -> dict[str, Any]:
    """One CBAM consignment from China by sea (distances given: no routing)."""
    party = {"name": "Importer (fictitious)", "eori": importer}
    cons: dict[str, Any] = {"dispatch_date": "2026-01-05", "arrival_date": released,
                            "customs_release_date": released, "importer": party}
    if declarant:
        cons["declarant"] = party
    product: dict[str, Any] = {
        "description": "CBAM good", "cn_code": cn, "country_of_origin": "CN",
        "net_mass_kg": mass_kg, "production": production,
        "installation": {"operator": "Operator (fictitious)", "installation_id": installation,
                         "country": "CN", **({"production_route": route} if route else {})}}
    return {"shipment_id": shipment_id, "exporter": "Exporter (fictitious)",
            "product": product, "consignment": cons,
            "legs": [{"leg": 1, "mode": "sea", "origin": "CNNGB", "destination": "NLRTM",
                      "distance_km": "19376", "mass_kg": mass_kg}]}


DEFAULT = {"data_type": "default"}


def actual(direct: str, indirect: str = "0") -> dict[str, Any]:
    return {"data_type": "actual-verified", "direct_t_per_t": direct,
            "indirect_t_per_t": indirect,
            "verification": {"verifier": "Verifier (fictitious)",
                             "accreditation": "ACC-0 (fictitious)", "date": "2026-01-20"}}


#: The steel trader: 30 t of coach screws on the default value and 25 t on verified actual
#: values, released in the first quarter of 2026 (55 t: above the 50 t threshold).
STEEL = [
    consignment("ST-2026-001", cn="7318 11 00", mass_kg="30000", importer=STEEL_IMPORTER,
                released="2026-02-10", production=DEFAULT, installation="CN-INST-S1"),
    consignment("ST-2026-002", cn="7318 11 00", mass_kg="25000", importer=STEEL_IMPORTER,
                released="2026-03-02", production=actual("1.9", "0.3"),
                installation="CN-INST-S2", route="BF-BOF"),
]

#: The aluminium distributor: 20 t of profiles on the default value and 10 t on verified actual
#: values, first quarter of 2026 (30 t: below the threshold).
ALUMINIUM = [
    consignment("AL-2026-001", cn="7604 10 90", mass_kg="20000", importer=ALUMINIUM_IMPORTER,
                released="2026-01-28", production=DEFAULT, installation="CN-INST-A1"),
    consignment("AL-2026-002", cn="7604 10 90", mass_kg="10000", importer=ALUMINIUM_IMPORTER,
                released="2026-03-15", production=actual("6.5"), installation="CN-INST-A2",
                route="(K) primary smelting"),
]


def register(chain: DevChain) -> FactorSet:
    """Registers the consignments' factor set (the shipped one) and returns it."""
    factor_set = load_factor_set()
    fsid = bytes.fromhex(factor_set.id[2:])
    if not chain.admin.is_factor_set_registered(fsid):
        chain.admin.register_factor_set(fsid, factor_set.uri)
    return factor_set


def anchor(chain: DevChain, store: LedgerStore, shipments: list[dict[str, Any]], *,
           exporter_index: int = DEV_EXPORTER_INDEXES[0], path: str = "root") -> None:
    factor_set = register(chain)
    parsed = [Shipment.from_dict(s) for s in shipments]
    pairs = [(s.to_dict(), compute_shipment(s, factor_set).to_dict()) for s in parsed]
    anchor_footprints(pairs, store=store, ledger=chain.ledger(exporter_index),
                      factor_set_id=factor_set.id, options=AnchorOptions(path=path))


def store_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


__all__ = ["ALUMINIUM", "ALUMINIUM_IMPORTER", "STEEL", "STEEL_IMPORTER", "actual", "anchor",
           "consignment", "declaration_factor_set", "register", "store_path"]
