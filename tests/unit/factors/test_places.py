"""Places: UN/LOCODE entries (inland too), the coordinate check, and airport positions."""

from __future__ import annotations

import math

import airportsdata
import pytest

from ledger.factors.distances import Location, LocationBook, great_circle_km
from ledger.factors.places import airport_override, normalise_locode, place

BOOK = LocationBook()


def _dms(text: str) -> float:
    """Degrees from an AIP position such as ``503811N`` or ``0052634E``."""
    digits, hemisphere = text[:-1], text[-1]
    width = 2 if hemisphere in "NS" else 3
    value = (int(digits[:width]) + int(digits[width:width + 2]) / 60
             + int(digits[width + 2:]) / 3600)
    return -value if hemisphere in "SW" else value


@pytest.mark.parametrize(("code", "name", "lat", "lon"), [
    # UNECE's own coordinates (UN/LOCODE "Coordinates" column, degrees and minutes)
    ("CNYIU", "Yiwu", 29 + 18 / 60, 120 + 4 / 60),
    ("CNXIA", "Xian", 34 + 17 / 60, 108 + 57 / 60),
    ("DEMUC", "Munchen", 48 + 9 / 60, 11 + 35 / 60),
])
def test_inland_places_resolve_to_unece_positions(code: str, name: str, lat: float,
                                                  lon: float) -> None:
    entry = place(code)
    assert entry is not None and entry.name == name and entry.coordinates == "unece"
    found = BOOK.resolve(code)
    assert isinstance(found, Location)
    assert (round(found.lat, 5), round(found.lon, 5)) == (round(lat, 5), round(lon, 5))


@pytest.mark.parametrize("written", ["CN NGB", "cnngb", "cn ngb", "Cn Ngb"])
def test_locodes_are_accepted_with_the_space_and_in_lower_case(written: str) -> None:
    assert normalise_locode(written) == "CNNGB"
    found, canonical = BOOK.resolve(written), BOOK.resolve("CNNGB")
    assert isinstance(found, Location) and isinstance(canonical, Location)
    assert (found.lat, found.lon) == (canonical.lat, canonical.lon)
    assert found.ref == written


def test_a_geocoded_position_outside_its_province_is_refused() -> None:
    # Shenzhen Bao'an airport (Guangdong) was geocoded to 37.75 N 75.23 E, in Xinjiang
    szx = place("CNSZX")
    assert szx is not None and szx.subdivision == "GD"
    assert szx.coordinates == "refused" and szx.lat is None
    meixian = BOOK.resolve("CNMXZ")  # Meixian airport, Guangdong, geocoded to Shandong
    assert isinstance(meixian, str) and "no checked position" in meixian
    # the code still resolves where the sea-port list knows it: Shenzhen's port, Guangdong
    port = BOOK.resolve("CNSZX")
    assert isinstance(port, Location) and 22 < port.lat < 23 and 113 < port.lon < 115


def test_a_port_listed_under_another_places_code_takes_the_un_locode_position() -> None:
    # the searoute port list puts ZAPOR at Zaporizhzhia (47.87 N 35.10 E); UN/LOCODE ZAPOR is
    # Porterville, Western Cape (UNECE: 33 00S 018 59E)
    found = BOOK.resolve("ZAPOR")
    assert isinstance(found, Location)
    assert (round(found.lat, 5), round(found.lon, 5)) == (-33.0, round(18 + 59 / 60, 5))
    # a port within 50 km of its UN/LOCODE position keeps its node on the maritime graph
    rotterdam, listed = BOOK.resolve("NLRTM"), place("NLRTM")
    assert isinstance(rotterdam, Location) and listed is not None and listed.lat is not None
    assert (rotterdam.lat, rotterdam.lon) != (listed.lat, listed.lon)
    assert listed.lon is not None
    assert great_circle_km(rotterdam, Location("unece", listed.lat, listed.lon)) < 50


def test_a_row_whose_name_holds_a_comma_is_read_whole() -> None:
    entry = place("ATMLD")
    assert entry is not None and entry.name == "Mollersdorf, Baden"
    assert entry.function == "--3-----" and entry.lat is not None
    bad = place("IDPNT")  # latitude 95.1 in the source
    assert bad is not None and bad.coordinates == "invalid" and bad.lat is None


def test_an_unknown_code_names_the_airport_it_may_mean() -> None:
    found = BOOK.resolve("CNYIW")
    assert isinstance(found, str) and "unknown location code 'CNYIW'" in found
    assert "write YIW" in found
    assert isinstance(BOOK.resolve("YIW"), Location)


def test_liege_airport_is_at_its_aip_position() -> None:
    lgg = BOOK.resolve("LGG")
    assert isinstance(lgg, Location)
    # AIP Belgium and Luxembourg, EBLG AD 2.2: ARP 503811N 0052634E
    assert (lgg.lat, lgg.lon) == (round(_dms("503811N"), 6), round(_dms("0052634E"), 6))
    raw = airportsdata.load("IATA")["LGG"]
    moved = great_circle_km(lgg, Location("raw", float(raw["lat"]), float(raw["lon"])))
    assert moved > 25  # the package's position is about 31 km off


def _unece_airports() -> dict[tuple[str, str], tuple[float, float]]:
    """(country, code) -> UNECE's own position of UN/LOCODE entries with an air function."""
    found: dict[tuple[str, str], tuple[float, float]] = {}
    for code, a in airportsdata.load("IATA").items():
        entry = place(str(a["country"]) + code)
        if (entry is not None and entry.coordinates == "unece" and entry.lat is not None
                and entry.lon is not None and entry.function[3:4] == "4"):
            found[(str(a["country"]), code)] = (entry.lat, entry.lon)
    return found


def _as_dms(value: float) -> float | None:
    """``50.3811`` read as 50 deg 38' 11'' (None if the digits cannot be minutes/seconds)."""
    sign = -1 if value < 0 else 1
    degrees = int(abs(value))
    rest = round((abs(value) - degrees) * 10000)
    minutes, seconds = divmod(rest, 100)
    if minutes >= 60 or seconds >= 60:
        return None
    return sign * (degrees + minutes / 60 + seconds / 3600)


#: Airports whose package position is right although its digits read as DMS land near the
#: UN/LOCODE place by chance (each checked by hand to lie on the airport, not the city): Araxos
#: airport (GPA) lies 27 km from Patras, the city UN/LOCODE GRGPA names; Baghdad International
#: (BGW) 16 km from the centre of Baghdad (IQBGW).
CHECKED_CORRECT = {"GPA", "BGW"}


def test_airport_positions_are_cross_checked_against_un_locode() -> None:
    """A position that is degree-minute-second digits read as decimal degrees is caught.

    Second source: UNECE's own position of the UN/LOCODE entry with the same code and country
    and an air-transport function. An airport more than 15 km from it whose digits, read as
    degrees-minutes-seconds, fall within 15 km of it must be corrected or refused by the shipped
    override table (or be listed as checked); every correction lies within 15 km of UNECE's
    position and moves the airport.
    """
    unece = _unece_airports()
    assert len(unece) > 1500
    airports = airportsdata.load("IATA")
    flagged = set()
    for (_, code), (lat, lon) in unece.items():
        raw = airports[code]
        given = Location(code, float(raw["lat"]), float(raw["lon"]))
        ref = Location("unece", lat, lon)
        dms_lat, dms_lon = _as_dms(given.lat), _as_dms(given.lon)
        if great_circle_km(given, ref) <= 15 or dms_lat is None or dms_lon is None:
            continue
        if great_circle_km(Location("dms", dms_lat, dms_lon), ref) <= 15:
            flagged.add(code)
    assert "LGG" in flagged and "BRU" in flagged
    for code in flagged - CHECKED_CORRECT:
        assert airport_override(code) is not None, f"{code}: position not corrected or refused"
    for code in ("LGG", "BRU", "LUX"):
        fixed = BOOK.resolve(code)
        assert isinstance(fixed, Location)
        raw = airports[code]
        listed = place(str(raw["country"]) + code)  # LULUX: geocoded, checked in the country
        assert listed is not None and listed.lat is not None and listed.lon is not None
        assert great_circle_km(fixed, Location("listed", listed.lat, listed.lon)) <= 15
        assert not math.isclose(fixed.lat, float(raw["lat"]))


def test_a_refused_airport_says_what_to_give() -> None:
    found = BOOK.resolve("ANR")
    assert isinstance(found, str) and "geo:LAT,LON" in found and "EBAW" in found
