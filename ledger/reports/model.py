"""The value types of a report: one shipment's figures, its on-chain anchor, and the pair.

:class:`ShipmentFigures` is what a report says about a shipment (from its computed footprint),
:class:`Anchor` the on-chain evidence of its record (from the anchoring proof bundle, in the
form of the report's anchor extension), :class:`ReportItem` the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.reports import pact, qreport

__all__ = [
    "ANCHOR_DOCUMENTATION",
    "ANCHOR_PATHS",
    "ANCHOR_SCHEMA",
    "REPORT_FORMAT",
    "REPORT_FORMATS",
    "REPORT_TYPE",
    "Anchor",
    "ReportItem",
    "ShipmentFigures",
]

REPORT_TYPE = "ShipmentFootprintReport"
#: The rendering of a report's ``credentialSubject`` that this version issues and rebuilds.
#: A report states it as ``credentialSubject.reportFormat``; a report without it is format 1.
#: The number goes up whenever the rendering of the same records changes, so that a verifier
#: tells "issued in another format" apart from "numbers changed".
REPORT_FORMAT = 2
#: What each format is (shown by the verifier when it meets a format it does not rebuild).
REPORT_FORMATS = {
    1: "before December 2026: PACT values per shipment rather than per declared unit",
    2: "from December 2026: PACT v2.3 values per declared unit, a product footprint for every "
       "produced good, iLEAP extensions, TCEs naming their DESNZ category as tocId and an "
       "iLEAP TOC footprint for each category that names its fuel (road, air), and an iLEAP "
       "HOC footprint for each hub its operator describes (hub type, energy carriers)",
}
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
