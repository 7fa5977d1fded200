"""Unknown JSON keys are refused, as unknown CSV columns are: each named with its shipment, leg
and key, with a hint when a known key is close."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError
from ledger.inputs.read import read_shipments
from ledger.inputs.shipments import shipments_from_json

ROOT = Path(__file__).resolve().parents[3]


def _shipment(**extra: Any) -> dict[str, Any]:
    leg = {"leg": 1, "mode": "sea", "mass_kg": "1000", "distance_km": "100"}
    leg.update(extra.pop("leg_extra", {}))
    return {"shipment_id": "S-1", "legs": [leg], **extra}


def _problems(document: Any) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(InputError) as raised:
        shipments_from_json(document)
    return [(p.shipment_id, p.field, p.message) for p in raised.value.problems]


def test_a_misspelt_leg_key_is_refused_with_the_key_it_resembles() -> None:
    problems = _problems({"shipments": [_shipment(leg_extra={"vessel_class": "x"})]})
    assert problems == [("S-1", "legs[1].vessel_class",
                         "unknown key 'vessel_class'; did you mean 'vehicle_class'?")]


def test_unknown_keys_at_every_level_are_each_named() -> None:
    shipment = _shipment(
        colour="red",
        product={"cn_code": "7208", "productoin": {},
                 "production": {"data_type": "actual-verified", "direct_t_per_t": "1",
                                "verification": {"verifier": "V", "acreditation": "A"},
                                "precursors": [{"cn_code": "7201", "quantity_t_per_t": "1",
                                                "embeded_t_per_t": "2"}]},
                 "installation": {"operater": "x"}},
        consignment={"importer": {"nmae": "A"}, "incoterms": "FOB"})
    fields = {field: message for _, field, message in _problems({"shipments": [shipment]})}
    assert set(fields) == {
        "colour", "product.productoin", "product.production.verification.acreditation",
        "product.production.precursors[1].embeded_t_per_t", "product.installation.operater",
        "consignment.importer.nmae", "consignment.incoterms"}
    assert fields["consignment.incoterms"].endswith("did you mean 'incoterm'?")
    assert "expected one of consignment, exporter, legs, product, shipment_id" \
        in fields["colour"]


def test_an_unknown_document_key_is_refused() -> None:
    problems = _problems({"shipments": [_shipment()], "shipmets": []})
    assert problems == [(None, "shipmets", "unknown key 'shipmets'; did you mean 'shipments'?")]


def test_a_note_beside_the_shipments_is_allowed() -> None:
    assert len(shipments_from_json({"note": "free text", "shipments": [_shipment()]})) == 1


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.json")
                                        if "shipments" in json.loads(p.read_text("utf-8"))))
def test_every_example_shipment_file_is_read(name: str) -> None:
    assert read_shipments(ROOT / "examples" / name)


def test_every_key_the_model_writes_is_read_back() -> None:
    document = json.loads((ROOT / "examples" / "cbam-consignments-2026.json").read_text("utf-8"))
    shipments = shipments_from_json(document)
    again = shipments_from_json({"shipments": [s.to_dict() for s in shipments]})
    assert again == shipments
