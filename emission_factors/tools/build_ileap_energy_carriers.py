"""Build the iLEAP energy-carrier table of this folder from the DESNZ 2025 flat file.

Not part of the package: run by hand when the source changes, then review the diff.

    python emission_factors/tools/build_ileap_energy_carriers.py --flat-file PATH.xlsx
    python emission_factors/tools/build_ileap_energy_carriers.py --check --flat-file PATH.xlsx

``--check`` writes nothing: it exits with status 1 when the table here differs from what the
flat file gives (a row missing, added or with another value) or when the file's SHA-256 is not
the one the table names, and prints what it compared.

Source: UK Government GHG Conversion Factors for Company Reporting 2025 (DESNZ with Defra), the
"flat file for automatic processing" ``ghg-conversion-factors-2025-flat-format.xlsx`` (version 1,
SHA-256 :data:`SOURCE_SHA256`), sheet "Factors by Category", column "GHG Conversion Factor 2025".
Licence: Open Government Licence v3.0.

Per fuel, two rows of that sheet, both in kg CO2e per kWh (Net CV):

- TTW: Level 1 "Fuels", Level 2 "Liquid fuels", GHG/Unit "kg CO2e" (direct combustion);
- WTT: Level 1 "WTT- fuels", Level 2 "Liquid fuels", GHG/Unit "kg CO2e" (extraction, refining,
  transport of the fuel).

The table keeps both values as published and the iLEAP form: kg CO2e per MJ (Net CV), the
published value divided by 3.6 (1 kWh = 3.6 MJ exactly), WTW = TTW + WTT per kWh before the
division, each rounded half up to 6 decimal places. ``freight_categories`` lists the DESNZ
"Freighting goods" categories (Level 2, and for vans the column text) whose label names the fuel,
or (air) whose vehicles burn it; each is checked to exist in the same sheet.

Writes ``desnz-2025-fuels-ileap-energy-carriers.csv`` next to this folder.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "desnz-2025-fuels-ileap-energy-carriers.csv"
SOURCE_FILE = "ghg-conversion-factors-2025-flat-format.xlsx"
SOURCE_SHA256 = "8bfdb45b81ec4a88e3bdf4584637330f62e6bd09ce1940e654c5d7b7f736de94"
SHEET = "Factors by Category"
VALUE_COLUMN = "GHG Conversion Factor 2025"
UNIT = "kWh (Net CV)"
MJ_PER_KWH = Decimal("3.6")
PLACES = Decimal("0.000001")

#: key, iLEAP EnergyCarrierType (iLEAP v1.0.0 §6.6.7), DESNZ fuel (Level 3 of "Liquid fuels"),
#: the "Freighting goods" categories that burn it (Level 2, or "Vans/<column text>").
FUELS = (
    ("diesel", "Diesel", "Diesel (average biofuel blend)",
     ("HGV (all diesel)", "HGV refrigerated (all diesel)", "Vans/Diesel")),
    ("petrol", "Petrol", "Petrol (average biofuel blend)", ("Vans/Petrol",)),
    ("aviation_fuel", "Aviation fuel", "Aviation turbine fuel", ("Freight flights",)),
)

COLUMNS = ("key", "ileap_energy_carrier", "desnz_fuel", "freight_categories", "ttw_id",
           "ttw_kg_co2e_per_kwh_net_cv", "wtt_id", "wtt_kg_co2e_per_kwh_net_cv",
           "ttw_kg_co2e_per_mj", "wtw_kg_co2e_per_mj", "source_file", "source_sha256")


def per_mj(kwh_value: Decimal) -> str:
    """kg CO2e per kWh as kg CO2e per MJ, rounded half up to 6 decimal places."""
    return _plain((kwh_value / MJ_PER_KWH).quantize(PLACES, rounding=ROUND_HALF_UP))


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _sheet_rows(path: Path) -> list[dict[str, object]]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    rows = workbook[SHEET].iter_rows(values_only=True)
    header: tuple[object, ...] | None = None
    out: list[dict[str, object]] = []
    for row in rows:
        if header is None:
            if row and row[0] == "ID":
                header = row
            continue
        if row and row[0]:
            out.append({str(name): value for name, value in zip(header, row, strict=False)})
    if header is None:
        raise SystemExit(f"{path}: no header row starting with 'ID' in sheet {SHEET!r}")
    return out


def _one(rows: list[dict[str, object]], level_1: str, fuel: str) -> dict[str, object]:
    found = [r for r in rows if r["Level 1"] == level_1 and r["Level 2"] == "Liquid fuels"
             and r["Level 3"] == fuel and r["UOM"] == UNIT and r["GHG/Unit"] == "kg CO2e"]
    if len(found) != 1:
        raise SystemExit(f"{len(found)} rows for {level_1} / {fuel} / {UNIT} / kg CO2e; "
                         "expected exactly one")
    return found[0]


def _freight_labels(rows: list[dict[str, object]]) -> set[str]:
    labels = set()
    for r in rows:
        if r["Level 1"] == "Freighting goods" and r["UOM"] == "tonne.km":
            level_2 = str(r["Level 2"])
            labels.add(f"Vans/{r['Column Text']}" if level_2 == "Vans" else level_2)
    return labels


def build(path: Path) -> str:
    """The table's text from the flat file at ``path``."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SOURCE_SHA256:
        raise SystemExit(f"{path}: SHA-256 {digest}, expected {SOURCE_SHA256} (the 2025 flat "
                         "file, version 1)")
    rows = _sheet_rows(path)
    labels = _freight_labels(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for key, carrier, fuel, categories in FUELS:
        missing = [c for c in categories if c not in labels]
        if missing:
            raise SystemExit(f"freight categories {missing} are not in the flat file")
        ttw, wtt = _one(rows, "Fuels", fuel), _one(rows, "WTT- fuels", fuel)
        ttw_value = Decimal(str(ttw[VALUE_COLUMN]))
        wtt_value = Decimal(str(wtt[VALUE_COLUMN]))
        writer.writerow((key, carrier, fuel, ";".join(categories), ttw["ID"], _plain(ttw_value),
                         wtt["ID"], _plain(wtt_value), per_mj(ttw_value),
                         per_mj(ttw_value + wtt_value), SOURCE_FILE, SOURCE_SHA256))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flat-file", type=Path, required=True,
                        help=f"the DESNZ 2025 flat file ({SOURCE_FILE})")
    parser.add_argument("--check", action="store_true",
                        help="compare with the table here; write nothing")
    args = parser.parse_args(argv)
    text = build(args.flat_file)
    if args.check:
        here = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if here != text:
            print(f"{OUT.name} differs from the flat file:\n--- here\n{here}--- source\n{text}")
            return 1
        print(f"{OUT.name}: {len(FUELS)} fuels, {2 * len(FUELS)} flat-file rows, every value "
              "matches")
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.name} ({len(FUELS)} fuels)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
