"""Building blocks for report tests that need no node: real records, a real Merkle tree, and an
in-memory stand-in for the ledger contract's reads (the chain tests use a real Anvil instead).

The footprints come from a small calculator over DESNZ/DEFRA 2025 freight factors
(kg CO2e per t·km; TTW and WTT; "Greenhouse gas reporting: conversion factors 2025", flat-file
ids 27_304_3140_14_1 / 28_907_3140_14_1 and 27_320_3235_14_1 / 28_916_3235_14_1, as shipped in
``emission_factors/``): HGV all diesel, all HGVs, average laden 0.10163 / 0.02359; container
ship, average 0.01612 / 0.00365.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eth_account import Account

from ledger.chain.abi import RecordStatus, SubjectKind
from ledger.chain.contract import EXPORTER_ROLE
from ledger.chain.events import ChainEvent, EventMeta, RootAnchored
from ledger.chain.types import AnchorInfo, AttestationInfo, Receipt
from ledger.errors import FactorError
from ledger.records import merkle
from ledger.records import record as records
from ledger.reports import pact, qreport
from ledger.reports.document import build_report
from ledger.reports.model import Anchor, ReportItem, ShipmentFigures

EXPORTER_KEY = "0x" + "a1" * 32
EXPORTER = Account.from_key(EXPORTER_KEY).address
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CHAIN_ID = 31337
FACTOR_SET_ID = "0x" + "fa" * 32
FACTOR_SET_URI = "emission_factors/factor-set-2025.json"
TX_HASH = "0x" + "7e" * 32
BLOCK = 7
PERIOD = (date(2026, 1, 1), date(2026, 3, 31))
ISSUED_AT = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)

#: mode -> (TTW, WTT) kg CO2e per t·km, DEFRA/DESNZ 2025 "Freighting goods" (see module doc).
FACTORS = {
    "road": (Decimal("0.10163"), Decimal("0.02359")),
    "sea": (Decimal("0.01612"), Decimal("0.00365")),
}
SOURCES = (("DEFRA/DESNZ GHG conversion factors, freighting goods", "2025"),)


def _grams(kg: Decimal) -> int:
    return int((kg * 1000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def shipment(shipment_id: str, legs: list[tuple[str, str, str, int]], mass_kg: int,
             cn_code: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"shipment_id": shipment_id, "exporter": "Ningbo Appliance Co."}
    if cn_code:
        out["product"] = {"cn_code": cn_code, "net_mass_kg": str(mass_kg)}
    out["legs"] = [{"leg": i + 1, "mode": m, "origin": o, "destination": d,
                    "distance_km": str(km), "mass_kg": str(mass_kg)}
                   for i, (m, o, d, km) in enumerate(legs)]
    return out


def footprint(ship: Mapping[str, Any]) -> dict[str, Any]:
    """Per-leg footprint of a shipment dict (the test's stand-in for the footprint engine)."""
    legs = []
    for leg in ship["legs"]:
        if leg["mode"] not in FACTORS:
            raise FactorError(f"no factor for mode {leg['mode']!r}")
        ttw, wtt = FACTORS[leg["mode"]]
        tkm = Decimal(leg["mass_kg"]) / 1000 * Decimal(leg["distance_km"])
        ttw_g = _grams(tkm * ttw)
        legs.append({"leg": leg["leg"], "activity_tkm": str(tkm), "co2e_ttw_g": ttw_g,
                     "co2e_wtw_g": ttw_g + _grams(tkm * wtt)})
    return {"shipment_id": ship["shipment_id"], "legs": legs,
            "co2e_wtw_g": sum(x["co2e_wtw_g"] for x in legs),
            "co2e_ttw_g": sum(x["co2e_ttw_g"] for x in legs)}


def figures(record: Mapping[str, Any]) -> ShipmentFigures:
    ship, fp = record["shipment"], record["footprint"]
    tces = []
    for leg, result in zip(ship["legs"], fp["legs"], strict=True):
        tces.append(pact.Tce(
            tce_id=f"{ship['shipment_id']}-{leg['leg']}", mass_kg=Decimal(leg["mass_kg"]),
            distance_km=Decimal(leg["distance_km"]), distance_basis="actual",
            activity_tkm=Decimal(result["activity_tkm"]), co2e_wtw_g=result["co2e_wtw_g"],
            co2e_ttw_g=result["co2e_ttw_g"], toc_id=f"defra-2025:{leg['mode']}",
            origin=pact.Location(leg["origin"], "CN"),
            destination=pact.Location(leg["destination"], "NL"),
        ))
    cbam: qreport.CbamGood | qreport.OutOfScopeGood | None
    product = ship.get("product")
    if product and product["cn_code"].startswith("7318"):
        mass = Decimal(product["net_mass_kg"])
        see = Decimal("7.01")  # CN 7318 15, China, 2026 column incl. mark-up (Reg. 2025/2621)
        cbam = qreport.CbamGood(
            item_id=ship["shipment_id"], cn_code=product["cn_code"],
            description="Threaded screws and bolts", origin_country="CN", net_mass_kg=mass,
            embedded_direct_g=_grams(mass / 1000 * see * 1000), see_direct_t_per_t=see,
            method="default", value_source="Reg. (EU) 2025/2621, China, CN 7318 15",
            import_date=PERIOD[0], markup_year="2026")
    elif product:
        cbam = qreport.OutOfScopeGood(ship["shipment_id"], product["cn_code"], "goods",
                                      "not in Annex I of Reg. (EU) 2023/956")
    else:
        cbam = None
    return ShipmentFigures(
        shipment_id=ship["shipment_id"], exporter_name=ship["exporter"],
        exporter_id=EXPORTER.lower(), mass_kg=Decimal(ship["legs"][0]["mass_kg"]),
        tces=tuple(tces), factor_sources=SOURCES, gwp_set="AR5", cbam=cbam)


def recompute(record: Mapping[str, Any], period: tuple[date, date] = PERIOD
              ) -> tuple[ShipmentFigures, dict[str, Any]]:
    """Recomputes a shipment from its embedded inputs (the verifier's ``recompute``)."""
    if record["factor_set_id"] != FACTOR_SET_ID:
        raise FactorError(f"factor set {record['factor_set_id']} is not shipped here")
    fp = footprint(record["shipment"])
    rebuilt = records.build_record(record["shipment"], fp, exporter=record["exporter"],
                                   factor_set_id=record["factor_set_id"])
    return figures(rebuilt), rebuilt


DEMO_SHIPMENTS = [
    shipment("NGB-2026-0001", [("road", "Ningbo", "Ningbo-Zhoushan port", 35),
                               ("sea", "Ningbo-Zhoushan port", "Rotterdam", 19500)], 12000),
    shipment("HY-2026-0007", [("sea", "Zhapu", "Rotterdam", 19400)], 10000, cn_code="73181590"),
]


@dataclass
class Anchored:
    records: list[dict[str, Any]]
    tree: merkle.MerkleTree
    items: list[ReportItem]


def anchored(shipments: list[dict[str, Any]] | None = None) -> Anchored:
    recs = [records.build_record(s, footprint(s), exporter=EXPORTER.lower(),
                                 factor_set_id=FACTOR_SET_ID) for s in shipments or DEMO_SHIPMENTS]
    leaves = [records.record_leaf(r) for r in recs]
    tree = merkle.build_tree(leaves)
    items = []
    for rec, leaf in zip(recs, leaves, strict=True):
        anchor = Anchor(
            chain_id=CHAIN_ID, contract=CONTRACT, path="root", batch_id=tree.root,
            transaction_hash=TX_HASH, block_number=BLOCK, merkle_root=tree.root,
            chain_shipment_id="0x" + leaf.shipment_id.hex(), record_hash=records.record_hash(rec),
            co2e_wtw_g=leaf.co2e_wtw_g, co2e_ttw_g=leaf.co2e_ttw_g,
            proof=tuple(tree.proof(leaf.shipment_id)), record=rec, factor_set_id=FACTOR_SET_ID,
            factor_set_uri=FACTOR_SET_URI)
        items.append(ReportItem(figures(rec), anchor))
    return Anchored(recs, tree, items)


def signed_report(key: str = EXPORTER_KEY, items: list[ReportItem] | None = None
                  ) -> dict[str, Any]:
    return build_report(items or anchored().items, issuer_key=key, issued_at=ISSUED_AT,
                        period=PERIOD, report_id="urn:uuid:3f1e3c56-2a0c-4f3e-9d1e-5b7f0c2a9e41")


@dataclass
class MemoryLedger:
    """What the ledger contract would answer after anchoring the fixture's root."""

    root: str
    exporters: set[str] = field(default_factory=lambda: {EXPORTER})
    auditors: set[str] = field(default_factory=set)
    ended: dict[bytes, RecordStatus] = field(default_factory=dict)
    latest: int = BLOCK + 2
    tx_present: bool = True
    attested: dict[str, AttestationInfo] = field(default_factory=dict)

    def node_chain_id(self) -> int:
        return CHAIN_ID

    def block_number(self) -> int:
        return self.latest

    def receipt(self, tx_hash: bytes) -> Receipt | None:
        if not self.tx_present or "0x" + tx_hash.hex() != TX_HASH:
            return None
        return Receipt(tx_hash, 1, BLOCK, b"\x00" * 32, 60_000, 1, None, ())

    def events_in(self, receipt: Receipt) -> list[ChainEvent]:
        meta = EventMeta(CONTRACT, BLOCK, b"\x00" * 32, receipt.tx_hash, 0)
        return [RootAnchored(bytes.fromhex(self.root[2:]), EXPORTER,
                             bytes.fromhex(FACTOR_SET_ID[2:]), 2, meta)]

    def has_role(self, role: bytes, account: str, *, block: int | str = "latest") -> bool:
        return account in (self.exporters if role == EXPORTER_ROLE else self.auditors)

    def root_info(self, root: bytes) -> AnchorInfo:
        if self.tx_present and "0x" + root.hex() == self.root:
            return AnchorInfo(EXPORTER, BLOCK, 2)
        return AnchorInfo(None, 0, 0)

    def batch_info(self, batch_id: bytes) -> AnchorInfo:
        return AnchorInfo(None, 0, 0)

    def is_factor_set_registered(self, factor_set_id: bytes) -> bool:
        return "0x" + factor_set_id.hex() == FACTOR_SET_ID

    def factor_set_uri(self, factor_set_id: bytes) -> str:
        return FACTOR_SET_URI if "0x" + factor_set_id.hex() == FACTOR_SET_ID else ""

    def ended_records(self, exporter: str) -> dict[bytes, RecordStatus]:
        return dict(self.ended)

    def shipment_events(self, chain_shipment_id: bytes) -> list[Any]:
        return []

    def attestations(self, kind: SubjectKind, subject: bytes) -> list[AttestationInfo]:
        info = self.attested.get("0x" + subject.hex())
        return [info] if info else []
