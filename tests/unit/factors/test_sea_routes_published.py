"""Sea routes against published port-to-port distances, via Suez and round the Cape.

Each pair: (origin, destination, Suez nm, Cape nm, source). The engine's route is in km on the
searoute maritime graph; a published figure in nautical miles (1 nm = 1.852 km exactly) must
agree within TOLERANCE (3 %: the graph runs between port nodes of its own and the tables
between their own reference points; the published figures are rounded, some to 100 nm).

Sources:
- SCA: Suez Canal Authority, table "Saving in distance (Suez Canal & Cape)", as reproduced at
  https://rafimar.com/Suez-Canal.html (columns "S.C." and "CAPE", nautical miles).
- PEMP: Notteboom, Pallis and Rodrigue, *Port Economics, Management and Policy*, "Routing
  options between Shanghai, Rotterdam and New York",
  https://porteconomicsmanagement.org/pemp/contents/part1/interoceanic-passages/routing-options-shanghai-rotterdam
  ("about 10,600 nautical miles" via Suez; "13,800 nautical miles" via the Cape).
- Drewry: Drewry Shipping Consultants, quoted in Oil & Gas Journal, 28 Dec 1992, "Watching the
  world: how to shorten tanker voyages" (Yokohama-London round trip 22,042 nm via Suez, 28,854 nm
  via the Cape; one way is half).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.factors.distances import Distance, Router
from ledger.factors.factorset import FactorSet, load_factor_set

NM_KM = Decimal("1.852")
TOLERANCE = Decimal("0.03")

PUBLISHED = [
    ("CNSHA", "NLRTM", "10600", "13800", "PEMP"),
    ("CNSHA", "ITGOA", "8670", "13619", "SCA (Shanghai-Genoa)"),
    ("INBOM", "NLRTM", "6337", "10743", "SCA (Bombay-Rotterdam)"),
    ("INBOM", "FRMRS", "4558", "10362", "SCA (Bombay-Marseille)"),
    ("SARTA", "NLRTM", "6436", "11169", "SCA (Ras Tanura-Rotterdam)"),
    ("JPYOK", "GBLON", "11021", "14427", "Drewry (Yokohama-London, half the round trip)"),
]


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


@pytest.fixture(scope="module")
def router() -> Router:
    return Router()


def _within(distance: Distance, published_nm: str) -> bool:
    km = Decimal(distance.distance_m) / 1000
    expected = Decimal(published_nm) * NM_KM
    return abs(km - expected) <= TOLERANCE * expected


@pytest.mark.parametrize("case", PUBLISHED, ids=[f"{p[0]}-{p[1]}" for p in PUBLISHED])
def test_suez_and_cape_routes_match_published_distances(
        router: Router, factor_set: FactorSet, case: tuple[str, str, str, str, str]) -> None:
    origin, destination, suez_nm, cape_nm, source = case
    suez = router.distance("sea", origin, destination, factor_set.params)
    cape = router.distance("sea", origin, destination, factor_set.params, avoid_suez=True)
    assert isinstance(suez, Distance) and isinstance(cape, Distance), (suez, cape)
    assert suez.method == "sea_route_suez"
    assert cape.method == "sea_route_cape"
    assert _within(suez, suez_nm), f"{suez.distance_m / 1000} km via Suez vs {source}"
    assert _within(cape, cape_nm), f"{cape.distance_m / 1000} km round the Cape vs {source}"
