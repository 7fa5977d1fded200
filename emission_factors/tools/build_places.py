"""Build the UN/LOCODE places table of this folder from its sources.

Not part of the package: run by hand when a source changes, then review the diff.

    python emission_factors/tools/build_places.py --per-country DIR --countries PATH

``--per-country``: the per-country CSV files of the Geoapify derivative of UN/LOCODE (columns
``country,location,name,nameWoDiacritics,subdivision,status,function,iata,lat,lon[,geocoded]``,
decimal degrees converted from UNECE's ``ddmmN dddmmE``; ``geocoded=true`` marks a position
filled by a geocoder because UNECE gives none). ``--countries``: the ISO 3166 alpha-2 list of
the UN/LOCODE code lists (``CountryCode,CountryName``); every country code written here is
checked against it.

The rule for coordinates (stated again in ``emission_factors/README.md``):

- ``unece``: UNECE's own coordinates, kept as given (rounded to 5 decimals, about 1 m).
- a geocoded position is kept only if it lies inside the box of UNECE's own positions of the
  same subdivision (at least 3 of them), widened by 1 degree on each side
  (``geocoded_in_subdivision``); when the subdivision has fewer than 3 UNECE positions (or the
  entry names none), inside the box of the country's UNECE positions, widened by 1 degree
  (``geocoded_in_country``). Boxes of 10 or more positions span the 2.5th to 97.5th
  percentile, so that one wrong UNECE position does not widen them.
- any other geocoded position is refused (``refused``: no coordinates, the entry is kept so
  that a message can name it); an entry with no position at all is ``none``.
- ``invalid``: a position out of range in the source (e.g. latitude 95.1): no position.
- a row whose name holds a comma is split by the source into two badly quoted fields for each
  name, losing ``status`` and ``iata``: the names are joined again (``_repair``).
- an entry listed twice (a second name, e.g. "Mariehamn (Maarianhamina)") keeps its first row,
  or the first with a position.

Writes ``unece-un-locode-places-geoapify-2024-10.csv.gz`` next to this folder (gzip with no
file name and mtime 0, so the bytes depend on the content alone).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "unece-un-locode-places-geoapify-2024-10.csv.gz"
HEADER = ("locode", "name", "subdivision", "function", "lat", "lon", "coordinates")
MARGIN_DEG = 1.0
MIN_POINTS = 3

Box = tuple[float, float, float, float]


FUNCTION = re.compile(r"^[0-9AB-]{8}$")


def _repair(fields: list[str]) -> list[str]:
    """A row whose name held a comma, split by the source into two badly quoted fields each
    for ``name`` and ``nameWoDiacritics``, with ``status`` and ``iata`` lost: the names joined
    again, the two lost fields empty."""
    def joined(a: str, b: str) -> str:
        return (a + "," + b).replace('"', "").strip()

    return [fields[0], fields[1], joined(fields[2], fields[3]), joined(fields[4], fields[5]),
            fields[6], "", fields[7], "", *fields[8:]]


def _valid(lat: str, lon: str) -> bool:
    try:
        y, x = float(lat), float(lon)
    except ValueError:
        return False
    return math.isfinite(y) and math.isfinite(x) and -90 <= y <= 90 and -180 <= x <= 180


def _box(points: list[tuple[float, float]]) -> Box:
    lats = sorted(p[0] for p in points)
    lons = sorted(p[1] for p in points)
    if len(points) >= 10:
        lo, hi = round(0.025 * (len(points) - 1)), round(0.975 * (len(points) - 1))
    else:
        lo, hi = 0, len(points) - 1
    return (lats[lo] - MARGIN_DEG, lats[hi] + MARGIN_DEG,
            lons[lo] - MARGIN_DEG, lons[hi] + MARGIN_DEG)


def _inside(box: Box, lat: float, lon: float) -> bool:
    return box[0] <= lat <= box[1] and box[2] <= lon <= box[3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-country", type=Path, required=True)
    parser.add_argument("--countries", type=Path, required=True)
    args = parser.parse_args()
    with args.countries.open(encoding="utf-8", newline="") as handle:
        countries = {row["CountryCode"] for row in csv.DictReader(handle)}
    rows: list[dict[str, str]] = []
    repaired = 0
    for path in sorted(args.per_country.glob("*.csv")):
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for read in reader:
                fields = read
                if not FUNCTION.match(read[6]) and FUNCTION.match(read[7]):
                    fields = _repair(read)
                    repaired += 1
                row = dict(zip(header, fields, strict=False))
                if not FUNCTION.match(row["function"]):
                    raise SystemExit(f"{path.name}: cannot read the row {read!r}")
                rows.append(row)
    by_sub: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    by_country: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        if _valid(row["lat"], row["lon"]) and row.get("geocoded") != "true":
            point = (float(row["lat"]), float(row["lon"]))
            by_country[row["country"]].append(point)
            if row["subdivision"]:
                by_sub[(row["country"], row["subdivision"])].append(point)
    sub_box = {k: _box(v) for k, v in by_sub.items() if len(v) >= MIN_POINTS}
    country_box = {k: _box(v) for k, v in by_country.items() if len(v) >= MIN_POINTS}
    out: dict[str, tuple[str, ...]] = {}
    repeated = 0
    for row in rows:
        country = row["country"]
        if country not in countries:
            raise SystemExit(f"unknown country code {country!r} in the source")
        code = country + row["location"]
        if len(code) != 5:
            raise SystemExit(f"bad code {code!r}")
        lat = lon = ""
        if not (row["lat"] and row["lon"]):
            kind = "none"
        elif not _valid(row["lat"], row["lon"]):
            kind = "invalid"
        else:
            y, x = float(row["lat"]), float(row["lon"])
            if row.get("geocoded") != "true":
                kind = "unece"
            elif (country, row["subdivision"]) in sub_box:
                kind = ("geocoded_in_subdivision"
                        if _inside(sub_box[(country, row["subdivision"])], y, x) else "refused")
            elif country in country_box:
                kind = "geocoded_in_country" if _inside(country_box[country], y, x) else "refused"
            else:
                kind = "refused"
            if kind != "refused":
                lat, lon = f"{y:.5f}", f"{x:.5f}"
        if code in out:  # a second name of the same entry: keep the first, unless it has no
            repeated += 1  # position and this one has
            if out[code][4] or not lat:
                continue
        out[code] = (code, row["nameWoDiacritics"].strip(), row["subdivision"],
                     row["function"], lat, lon, kind)
    tally = Counter(entry[6] for entry in out.values())
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    for code in sorted(out):
        writer.writerow(out[code])
    OUT.write_bytes(gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT.name}: {len(out):,} entries, {OUT.stat().st_size:,} bytes; "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.items()))
          + f"; {repeated} second names of an entry skipped, {repaired} rows repaired")


if __name__ == "__main__":
    main()
