"""Places: UN/LOCODE entries with checked coordinates, and corrections to airport positions.

Two shipped tables (sources, licences and the coordinate rule in ``emission_factors/README.md``):

- ``unece-un-locode-places-geoapify-2024-10.csv.gz``: every UN/LOCODE entry (115,883) with its
  name, subdivision, function classifier and, where one passed the check, a position in decimal
  degrees. ``coordinates`` says where the position comes from: ``unece`` (UNECE's own),
  ``geocoded_in_subdivision`` / ``geocoded_in_country`` (geocoded, inside the box of UNECE's own
  positions of the subdivision / country), ``refused`` (geocoded outside that box: no position),
  ``invalid`` (out of range in the source: no position) or ``none`` (no position in the source).
- ``airport-positions-aip-overrides.csv``: airports whose position in the ``airportsdata``
  package is known to be wrong, each either ``corrected`` (the position published in the
  country's AIP, cited per row) or ``refused`` (a message saying why and what to give instead).

The places table is read on first use (about 0.2 s) and kept for the process; nothing is read at
import. Codes are looked up in the form ``CNNGB``; :func:`normalise_locode` turns ``CN NGB`` or
``cnngb`` into it.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ledger.errors import FactorError

__all__ = [
    "AIRPORT_OVERRIDES_FILE",
    "PLACES_FILE",
    "AirportOverride",
    "Place",
    "airport_override",
    "normalise_locode",
    "place",
    "places_tables",
]

PLACES_FILE = "unece-un-locode-places-geoapify-2024-10.csv.gz"
AIRPORT_OVERRIDES_FILE = "airport-positions-aip-overrides.csv"

_LOCODE_TEXT = re.compile(r"^([A-Za-z]{2}) ?([A-Za-z2-9]{3})$")


def normalise_locode(text: str) -> str | None:
    """``CNNGB`` for ``CNNGB``, ``CN NGB``, ``cnngb`` or ``cn ngb``; None if not of that form."""
    found = _LOCODE_TEXT.match(text)
    if found is None:
        return None
    return (found.group(1) + found.group(2)).upper()


@dataclass(frozen=True)
class Place:
    """One UN/LOCODE entry. ``lat``/``lon`` are None when no position passed the check."""

    locode: str
    name: str
    subdivision: str
    function: str
    lat: float | None
    lon: float | None
    coordinates: str


@dataclass(frozen=True)
class AirportOverride:
    """A correction (``status`` = ``corrected``, with a position) or a refusal of an airport."""

    iata: str
    icao: str
    status: str
    lat: float | None
    lon: float | None
    source: str


def _data_dir() -> Path:
    from importlib import resources

    try:
        found = Path(str(resources.files("emission_factors")))
        if (found / PLACES_FILE).is_file():
            return found
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parents[2] / "emission_factors"


@lru_cache(maxsize=1)
def _place_lines() -> dict[str, str]:
    """Code -> the table's line (parsed on lookup: most lines are never asked for)."""
    text = gzip.decompress((_data_dir() / PLACES_FILE).read_bytes()).decode("utf-8")
    lines = text.split("\n")
    if not lines or lines[0] != "locode,name,subdivision,function,lat,lon,coordinates":
        raise FactorError(f"{PLACES_FILE}: unexpected header {lines[:1]!r}")
    return {line[:5]: line for line in lines[1:] if line}


@lru_cache(maxsize=8192)
def place(code: str) -> Place | None:
    """The entry of a normalised UN/LOCODE (``CNNGB``), or None if the list has no such code."""
    line = _place_lines().get(code)
    if line is None:
        return None
    row = next(csv.reader([line]))
    locode, name, subdivision, function, lat, lon, kind = row
    return Place(locode, name, subdivision, function, float(lat) if lat else None,
                 float(lon) if lon else None, kind)


@lru_cache(maxsize=1)
def _overrides() -> dict[str, AirportOverride]:
    raw = (_data_dir() / AIRPORT_OVERRIDES_FILE).read_text(encoding="utf-8")
    found: dict[str, AirportOverride] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        corrected = row["status"] == "corrected"
        found[row["iata"]] = AirportOverride(
            row["iata"], row["icao"], row["status"],
            float(row["lat"]) if corrected else None, float(row["lon"]) if corrected else None,
            row["source"])
    return found


def airport_override(iata: str) -> AirportOverride | None:
    """The shipped correction or refusal of an airport's position, if there is one."""
    return _overrides().get(iata)


@lru_cache(maxsize=1)
def places_tables() -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256 hex of its content) of the places tables this installation
    computes positions with (the places table's decompressed text, the airport corrections'
    canonical bytes): a position-derived distance depends on them, not only on the factor
    set, so a verifier names them when a recomputation differs."""
    import hashlib

    from ledger.factors.tables import canonical_bytes

    directory = _data_dir()
    places = gzip.decompress((directory / PLACES_FILE).read_bytes())
    overrides = canonical_bytes((directory / AIRPORT_OVERRIDES_FILE).read_bytes())
    return ((PLACES_FILE, hashlib.sha256(places).hexdigest()),
            (AIRPORT_OVERRIDES_FILE, hashlib.sha256(overrides).hexdigest()))
