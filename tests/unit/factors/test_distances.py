"""Leg distances: air great circle + 95 km, sea routes, estimated road/rail, and the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.factors.distances import (
    Distance,
    Location,
    LocationBook,
    Router,
    great_circle_km,
    location_syntax_problem,
)
from ledger.factors.factorset import FactorSet, load_factor_set


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


@pytest.fixture(scope="module")
def router() -> Router:
    return Router()


def test_great_circle_of_a_quarter_meridian() -> None:
    km = great_circle_km(Location("a", 0.0, 0.0), Location("b", 90.0, 0.0))
    assert round(km, 3) == round(3.141592653589793 / 2 * 6371.0088, 3)


def test_air_is_great_circle_plus_95_km(router: Router, factor_set: FactorSet) -> None:
    found = router.distance("air", "PVG", "LGG", factor_set.params)
    assert isinstance(found, Distance)
    book = LocationBook()
    pvg, lgg = book.resolve("PVG"), book.resolve("LGG")
    assert isinstance(pvg, Location) and isinstance(lgg, Location)
    assert found.distance_m == (round(great_circle_km(pvg, lgg)) + 95) * 1000
    assert (found.method, found.estimated) == ("great_circle_plus_95km", False)


def test_sea_route_names_its_passage_and_avoid_suez_goes_round_the_cape(
        router: Router, factor_set: FactorSet) -> None:
    suez = router.distance("sea", "CNNGB", "NLRTM", factor_set.params)
    cape = router.distance("sea", "CNNGB", "NLRTM", factor_set.params, avoid_suez=True)
    assert isinstance(suez, Distance) and isinstance(cape, Distance)
    assert suez.method == "sea_route_suez" and cape.method == "sea_route_cape"
    assert 18_000_000 < suez.distance_m < 21_000_000  # via Suez, whole km
    assert cape.distance_m > suez.distance_m + 4_000_000  # round the Cape
    assert suez.distance_m % 1000 == 0
    # the shortest route avoiding Suez alone runs through Panama: avoid_suez is not that
    both = router.distance("sea", "CNNGB", "NLRTM", factor_set.params, avoid_suez=True,
                           avoid_panama=True)
    assert both == cape


def test_avoid_suez_leaves_a_route_that_never_passed_suez(router: Router,
                                                          factor_set: FactorSet) -> None:
    plain = router.distance("sea", "USLAX", "NLRTM", factor_set.params)
    no_suez = router.distance("sea", "USLAX", "NLRTM", factor_set.params, avoid_suez=True)
    assert isinstance(plain, Distance) and plain.method == "sea_route_panama"
    assert no_suez == plain


def test_avoid_panama_takes_the_next_passage(router: Router, factor_set: FactorSet) -> None:
    plain = router.distance("sea", "USLAX", "NLRTM", factor_set.params)
    horn = router.distance("sea", "USLAX", "NLRTM", factor_set.params, avoid_panama=True)
    assert isinstance(plain, Distance) and isinstance(horn, Distance)
    assert horn.method == "sea_route_cape_horn"
    assert horn.distance_m > plain.distance_m + 8_000_000
    # a route through neither canal is direct
    direct = router.distance("sea", "CNSHA", "USLAX", factor_set.params, avoid_panama=True)
    assert isinstance(direct, Distance) and direct.method == "sea_route_direct"


@pytest.mark.parametrize("option", ["avoid_suez", "avoid_panama"])
def test_passage_options_apply_to_sea_legs_only(router: Router, factor_set: FactorSet,
                                                option: str) -> None:
    found = router.distance("road", "NLRTM", "DEDUI", factor_set.params, **{option: True})
    assert isinstance(found, tuple) and found[0] == option


def test_road_without_distance_is_estimated(router: Router, factor_set: FactorSet) -> None:
    found = router.distance("road", "NLRTM", "DEDUI", factor_set.params)
    assert isinstance(found, Distance)
    assert (found.method, found.estimated) == ("estimated_great_circle", True)
    book = LocationBook()
    a, b = book.resolve("NLRTM"), book.resolve("DEDUI")
    assert isinstance(a, Location) and isinstance(b, Location)
    assert found.distance_m == round(great_circle_km(a, b) * 1.3) * 1000


@pytest.mark.parametrize(("origin", "destination", "field"), [
    ("CNXXX", "NLRTM", "origin"), ("CNNGB", "ZZZ", "destination"),
])
def test_unknown_locations_are_named(router: Router, factor_set: FactorSet, origin: str,
                                     destination: str, field: str) -> None:
    found = router.distance("road", origin, destination, factor_set.params)
    assert isinstance(found, tuple) and found[0] == field


def test_location_syntax() -> None:
    for good in ("CNNGB", "CN NGB", "cnngb", "cn ngb", "PVG", "geo:29.31,120.07",
                 "geo:-33.9,18.4"):
        assert location_syntax_problem(good) is None
    for bad in ("Ningbo", "CN  NGB", "CNN GB", "pvg", "geo:91,0", "geo:1;2"):
        assert location_syntax_problem(bad) is not None


def test_sea_routes_are_cached_across_runs(tmp_path: Path, factor_set: FactorSet) -> None:
    cache = tmp_path / "routes.json"
    first = Router(cache_path=cache)
    a = first.distance("sea", "CNSHA", "BEANR", factor_set.params)
    first.save()
    assert first.sea_routes_computed == 1
    second = Router(cache_path=cache)
    b = second.distance("sea", "CNSHA", "BEANR", factor_set.params)
    assert a == b and second.sea_routes_computed == 0
    assert isinstance(b, Distance) and b.method == "sea_route_suez"


def test_a_cache_of_lengths_without_passages_is_routed_again(tmp_path: Path,
                                                             factor_set: FactorSet) -> None:
    cache = tmp_path / "routes.json"
    first = Router(cache_path=cache)
    a = first.distance("sea", "CNSHA", "BEANR", factor_set.params)
    first.save()
    old = {key: value[0] for key, value in json.loads(cache.read_text("utf-8")).items()}
    cache.write_text(json.dumps(old), encoding="utf-8")
    second = Router(cache_path=cache)
    assert second.distance("sea", "CNSHA", "BEANR", factor_set.params) == a
    assert second.sea_routes_computed == 1
