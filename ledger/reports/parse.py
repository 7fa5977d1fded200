"""Reading a signed report back: its anchors, chain, period and CBAM goods, and the strict
parse that verification starts from.

Everything here reads only the report document; nothing talks to a node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ledger.errors import VerificationError
from ledger.reports import pact, qreport, vc
from ledger.reports.model import (
    ANCHOR_PATHS,
    ANCHOR_SCHEMA,
    REPORT_FORMAT,
    REPORT_FORMATS,
    REPORT_TYPE,
    Anchor,
)

__all__ = [
    "ParsedReport",
    "cbam_goods_from_subject",
    "parse_report",
    "period_from_subject",
    "read_report",
    "report_anchors",
    "report_chain",
]

_HEX32 = re.compile(r"^0x[0-9a-f]{64}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def read_report(path: Path) -> Any:
    """The JSON document of a report file (``VerificationError`` when it cannot be read)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationError(f"{path}: not a readable JSON file: {exc}") from None


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


def report_chain(document: Any) -> tuple[int, str]:
    """(chain id, ledger contract) a report names in its first anchor."""
    anchors = report_anchors(document) if isinstance(document, Mapping) else []
    if not anchors:
        raise VerificationError("the report names no anchor (chain and contract)")
    chain_id, contract = anchors[0][1].get("chainId"), anchors[0][1].get("contract")
    if type(chain_id) is not int or chain_id <= 0 or not isinstance(contract, str) \
            or not _ADDRESS.match(contract):
        raise VerificationError("the report's anchor does not name a chain id and a contract "
                                "address")
    return chain_id, contract


def period_from_subject(subject: Mapping[str, Any]) -> tuple[date, date]:
    """The reporting period a report's subject states (first and last day)."""
    period = subject["reportingPeriod"]
    return date.fromisoformat(period["firstDay"]), date.fromisoformat(period["lastDay"])


def _grams(tonnes: str) -> int:
    return int(Decimal(tonnes) * 1_000_000)


def cbam_goods_from_subject(subject: Mapping[str, Any]) -> list[qreport.CbamGood]:
    """The CBAM goods of a report, rebuilt from its signed declaration summary."""
    goods = []
    try:
        for g in subject["cbam"]["goods"]:
            indirect = g.get("embeddedIndirectT")
            see_indirect = g.get("specificEmbeddedEmissionsIndirectTPerT")
            goods.append(qreport.CbamGood(
                item_id=g["itemId"],
                cn_code=g["cnCode"],
                description=g["description"],
                origin_country=g["originCountry"],
                net_mass_kg=Decimal(g["netMassT"]) * 1000,
                embedded_direct_g=_grams(g["embeddedDirectT"]),
                see_direct_t_per_t=Decimal(g["specificEmbeddedEmissionsDirectTPerT"]),
                method=g["determination"],
                value_source=g["valueSource"],
                import_date=date.fromisoformat(g["importDate"]),
                embedded_indirect_g=None if indirect is None else _grams(indirect),
                see_indirect_t_per_t=None if see_indirect is None else Decimal(see_indirect),
                markup_year=g.get("markupYear"),
                annex_ii=bool(g.get("annexII", True)),
            ))
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise VerificationError(f"the report's CBAM summary cannot be read: {exc!r}") from None
    return goods


@dataclass(frozen=True)
class ParsedReport:
    """A report that passed the format check: issuer, chain, contract and typed anchors."""

    document: Mapping[str, Any]
    issuer: str
    chain_id: int
    contract: str
    anchors: list[tuple[str, Anchor]]
    #: ``credentialSubject.reportFormat`` (1 when absent: reports issued before it existed)
    report_format: int = REPORT_FORMAT


def parse_report(document: Any) -> ParsedReport:
    """The strict reading of a report (``VerificationError`` naming what is malformed)."""
    if not isinstance(document, Mapping):
        raise VerificationError("the report is not a JSON object")
    context = document.get("@context")
    if not isinstance(context, list) or not context or context[0] != vc.VC_CONTEXT:
        raise VerificationError(f"@context must start with {vc.VC_CONTEXT}")
    types = document.get("type")
    if not isinstance(types, list) or types != ["VerifiableCredential", REPORT_TYPE]:
        raise VerificationError(f"type must be [VerifiableCredential, {REPORT_TYPE}]")
    chain_id, issuer = vc.address_from_did(str(document.get("issuer")))
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != REPORT_TYPE:
        raise VerificationError("credentialSubject is not a shipment footprint report")
    report_format = subject.get("reportFormat", 1)
    if type(report_format) is not int or report_format not in REPORT_FORMATS:
        newest = max(REPORT_FORMATS)
        raise VerificationError(
            f"credentialSubject.reportFormat {report_format!r} is not a format this verifier "
            f"reads (1 to {newest}); a newer release of carbon-ledger may read it")
    anchors: list[tuple[str, Anchor]] = []
    for shipment_id, data in report_anchors(document):
        try:
            anchor = Anchor.from_dict(data)
        except (KeyError, TypeError) as exc:
            raise VerificationError(
                f"shipment {shipment_id}: anchor extension lacks {exc}") from None
        _check_anchor_types(shipment_id, anchor)
        anchors.append((shipment_id, anchor))
    if not anchors or len(anchors) != len(subject.get("shipmentIds") or []):
        raise VerificationError("every shipment of the report needs exactly one anchor extension")
    return ParsedReport(document, issuer, chain_id, anchors[0][1].contract, anchors,
                        report_format)


def _check_anchor_types(shipment_id: str, a: Anchor) -> None:
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise VerificationError(f"shipment {shipment_id}: {what}")

    need(type(a.chain_id) is int and a.chain_id > 0, "chainId must be a positive integer")
    need(isinstance(a.contract, str) and bool(_ADDRESS.match(a.contract)), "contract address")
    need(a.path in ANCHOR_PATHS, f"anchoring must be one of {ANCHOR_PATHS}")
    for name, value in (("batchId", a.batch_id), ("transactionHash", a.transaction_hash),
                        ("leaf.shipmentId", a.chain_shipment_id),
                        ("leaf.recordHash", a.record_hash), ("factorSetId", a.factor_set_id)):
        need(isinstance(value, str) and bool(_HEX32.match(value)), f"{name} must be 0x+64 hex")
    need(a.merkle_root is None or (isinstance(a.merkle_root, str)
                                   and bool(_HEX32.match(a.merkle_root))), "merkleRoot")
    need(a.path != "root" or a.merkle_root is not None, "root anchoring needs a merkleRoot")
    need(isinstance(a.proof, tuple) and all(isinstance(p, str) and _HEX32.match(p)
                                            for p in a.proof), "proof elements")
    need(type(a.block_number) is int and a.block_number >= 0, "blockNumber")
    need(type(a.co2e_wtw_g) is int and type(a.co2e_ttw_g) is int, "leaf grams must be integers")
    need(isinstance(a.record, Mapping), "record must be an object")
    need(isinstance(a.factor_set_uri, str), "factorSetUri must be a string")
