"""iLEAP Transport Activity Data from a served footprint (``ledger.reports.ileap``): which legs
get a TAD, what each property is read from, why a leg gets none, and the filter rule."""

from __future__ import annotations

from typing import Any

from pact_schemas import errors, ileap_validator

from ledger.reports.ileap import filter_problem, matches, tad_location, transport_activities
from ledger.reports.model import ANCHOR_SCHEMA
from ledger.reports.pact import ILEAP_SHIPMENT_SCHEMA


def _tce(leg: int, distance: dict[str, str], hub: bool = False) -> dict[str, Any]:
    return {"tceId": f"S-1#{leg}", ("hocId" if hub else "tocId"): "x", "shipmentId": "S-1",
            "mass": "1000", "distance": distance, "transportActivity": "1",
            "co2eWTW": "1", "co2eTTW": "1"}


def _footprint(legs: list[dict[str, Any]], consignment: dict[str, Any] | None,
               record: bool = True) -> dict[str, Any]:
    tces = [_tce(leg["leg"], {"actual": "10"}, hub=leg["mode"] == "hub") for leg in legs]
    shipment: dict[str, Any] = {"shipment_id": "S-1", "legs": legs}
    if consignment is not None:
        shipment["consignment"] = consignment
    return {"id": "pf-1", "extensions": [
        {"dataSchema": ILEAP_SHIPMENT_SCHEMA,
         "data": {"mass": "1000", "shipmentId": "S-1", "tces": tces}},
        {"dataSchema": ANCHOR_SCHEMA,
         "data": {"record": {"shipment": shipment} if record else None}}]}


DATES = {"dispatch_date": "2026-01-12", "arrival_date": "2026-02-18"}
LEGS = [
    {"leg": 1, "mode": "road", "mass_kg": "1000", "origin": "geo:30.5,120.9",
     "destination": "CNSHA"},
    {"leg": 2, "mode": "air", "mass_kg": "1000", "origin": "PVG", "destination": "LGG"},
    {"leg": 3, "mode": "hub", "mass_kg": "1000"},
    {"leg": 4, "mode": "road", "mass_kg": "1000", "origin": "LGG", "destination": "BE LGG",
     "refrigerated": True},
]


def test_each_transport_leg_between_named_places_of_a_dated_shipment_has_a_tad() -> None:
    tads, skipped = transport_activities(_footprint(LEGS, DATES))
    assert [t["activityId"] for t in tads] == ["pf-1/S-1#2", "pf-1/S-1#4"]
    for tad in tads:
        assert errors(ileap_validator("tad.json"), tad) == []
        assert (tad["departureAt"], tad["arrivalAt"]) == ("2026-01-12T00:00:00Z",
                                                          "2026-02-18T00:00:00Z")
        assert tad["consignmentIds"] == ["S-1"] and tad["mass"] == "1000"
    air, road = tads
    assert air["mode"] == "Air" and air["origin"] == {"city": "Shanghai", "country": "CN",
                                                      "iata": "PVG"}
    assert "temperatureControl" not in air
    # the same airport on a road leg: no iata (iLEAP §6.6.2: air only); a UN/LOCODE names it
    assert road["origin"] == {"city": "Liege", "country": "BE"}
    assert road["destination"]["locode"] == "BELGG" and road["mode"] == "Road"
    assert road["temperatureControl"] == "refrigerated"
    reasons = {s.tce_id: s.reason for s in skipped}
    assert set(reasons) == {"S-1#1", "S-1#3"}
    assert "named place" in reasons["S-1#1"] and "hub" in reasons["S-1#3"]


def test_no_tad_without_both_consignment_dates_or_without_the_record() -> None:
    tads, skipped = transport_activities(_footprint(LEGS, {"dispatch_date": "2026-01-12"}))
    assert tads == [] and any("arrival_date" in s.reason for s in skipped)
    tads, skipped = transport_activities(_footprint(LEGS, None))
    assert tads == []
    tads, skipped = transport_activities(_footprint(LEGS, DATES, record=False))
    assert tads == [] and len(skipped) == len(LEGS)
    assert all("not disclosed" in s.reason for s in skipped)
    assert transport_activities({"id": "product", "pcf": {}}) == ([], [])


def test_places_without_a_name_have_no_location() -> None:
    assert tad_location("geo:30.5,120.9", "road") is None
    assert tad_location("ZZZZZ", "road") is None
    assert tad_location("", "road") is None
    assert tad_location("NLRTM", "sea") == {"city": "Rotterdam", "country": "NL",
                                            "locode": "NLRTM"}


def test_filters_name_a_property_exactly_and_match_values_in_any_case() -> None:
    tad = {"mode": "Sea", "consignmentIds": ["A", "B"], "activityId": "x"}
    assert matches(tad, {"mode": ["sea"]}) and matches(tad, {"mode": ["Rail", "SEA"]})
    assert matches(tad, {"consignmentIds": ["b"], "mode": ["Sea"]})
    assert not matches(tad, {"consignmentIds": ["b"], "mode": ["Road"]})
    assert not matches(tad, {"temperatureControl": ["ambient"]})  # not stated: no match
    assert filter_problem("mode") is None
    assert "'Mode'" in str(filter_problem("Mode"))
