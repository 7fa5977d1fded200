"""Leg distances: air great circle + 95 km, sea routes, estimated road/rail, and the cache."""

from __future__ import annotations

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


def test_sea_route_and_the_cape_alternative(router: Router, factor_set: FactorSet) -> None:
    suez = router.distance("sea", "CNNGB", "NLRTM", factor_set.params)
    cape = router.distance("sea", "CNNGB", "NLRTM", factor_set.params, avoid_suez=True)
    assert isinstance(suez, Distance) and isinstance(cape, Distance)
    assert suez.method == "sea_route" and cape.method == "sea_route_avoiding_suez"
    assert 18_000_000 < suez.distance_m < 21_000_000  # via Suez, whole km
    assert cape.distance_m > suez.distance_m + 4_000_000  # round the Cape
    assert suez.distance_m % 1000 == 0


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
    for good in ("CNNGB", "PVG", "geo:29.31,120.07", "geo:-33.9,18.4"):
        assert location_syntax_problem(good) is None
    for bad in ("Ningbo", "cnngb", "geo:91,0", "geo:1;2"):
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
