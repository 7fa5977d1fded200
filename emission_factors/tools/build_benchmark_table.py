"""Build the CBAM benchmark table of this folder from its sources.

Not part of the package: run by hand when a source changes, then review the diff.

    python emission_factors/tools/build_benchmark_table.py --column-b PATH/cbam-benchmarks.csv
    python emission_factors/tools/build_benchmark_table.py --check --column-b SOURCE.csv

``--check`` writes nothing: it exits with status 1 when the table here differs from what the
source gives (a row missing, added or with another value), and prints the count of rows.

``--column-b``: the third-party CSV copy of the Commission's workbook "CBAM Benchmarks_20260206"
(Implementing Regulation (EU) 2025/2620): ``CN code;Column B``, UTF-8 with BOM, decimal comma,
the route or footnote marker inside the value cell (``73181588;1,364 (C)``), sector banner rows
with an empty value. Column B is the benchmark used with default values.

Column A (the benchmark used with actual values) is not in that file. The rows below were read
in another third-party extract of the same workbook, ``neod00/cbam-local-pwa``,
``cbamy/data/cbam-defaults.json`` at commit ``c236a434d70a91bc284b7f75323e39f34de786fd``: an
abridged extract (every row of cement, hydrogen, fertilisers and aluminium; for iron and steel
only codes whose values differ from the code before them). Only codes that extract lists by name
are written here; a code it leaves out has no Column A row, so a declaration on actual values
for it is refused rather than given a value inferred from a neighbour. Where the extract shows
Column A on the first route row only (aluminium), the value has no route: it applies to every
route of the code.

Writes ``eu-cbam-2025-2620-benchmarks.csv`` next to this folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "eu-cbam-2025-2620-benchmarks.csv"

SECTORS = {"Cement": "cement", "Hydrogen": "hydrogen", "Fertilisers": "fertilisers",
           "Iron & Steel": "iron_and_steel", "Aluminium": "aluminium"}

COLUMN_B_SOURCE = ("Commission workbook CBAM Benchmarks_20260206.xlsx, Column B; third-party "
                   "CSV Imsullabulla/cbam-cost-estimator-@6aeefb54 cbam-benchmarks.csv")
COLUMN_A_SOURCE = ("Commission workbook CBAM Benchmarks_20260206.xlsx, Column A; third-party "
                   "abridged extract neod00/cbam-local-pwa@c236a434 cbamy/data/cbam-defaults.json")

#: Column A rows as (CN code, route or "", value in t CO2e per t), read in the extract named in
#: the module docstring.
COLUMN_A = (
    ("73181100", "", "0.038"), ("73181210", "", "0.038"),
    ("76011010", "K", "1.423"), ("76011010", "L", "0.091"),
    ("76011090", "K", "1.423"), ("76011090", "L", "0.091"),
    ("76012030", "K", "1.423"), ("76012030", "L", "0.091"),
    ("76012040", "K", "1.423"), ("76012040", "L", "0.091"),
    ("76012080", "K", "1.423"), ("76012080", "L", "0.091"),
    ("76031000", "", "0.046"), ("76032000", "", "0.046"),
    ("76041010", "", "0.056"), ("76041090", "", "0.06"), ("76042100", "", "0.06"),
    ("76042910", "", "0.056"), ("76042990", "", "0.06"),
    ("76051100", "", "0.056"), ("76051900", "", "0.056"), ("76052100", "", "0.056"),
    ("76052900", "", "0.056"),
)

_CELL = re.compile(r"^([0-9]+),([0-9]+)\s*((?:\([A-Z0-9]+\))*)$")


def _route(markers: str) -> str:
    return "".join(re.findall(r"\(([A-Z0-9]+)\)", markers))


def column_b_rows(raw: bytes) -> list[dict[str, str]]:
    text = raw.decode("utf-8").removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader)
    if header != ["CN code", "Column B"]:
        raise SystemExit(f"unexpected header {header}")
    sector = ""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for number, cells in enumerate(reader, start=2):
        code, value = (cells + ["", ""])[:2]
        code, value = code.strip(), value.strip()
        if not code and not value:
            continue
        if not value:
            sector = SECTORS[code]
            continue
        match = _CELL.match(value)
        if match is None or not code.isdigit():
            raise SystemExit(f"line {number}: cannot read {code!r};{value!r}")
        number_text = f"{match.group(1)}.{match.group(2)}".rstrip("0").rstrip(".")
        route = _route(match.group(3))
        slot = (code, route)
        row = {"key": f"B.{code}.{route or 'any'}", "sector": sector, "cn_code": code,
               "column": "B", "route": route, "benchmark_t_per_t": number_text,
               "act": "2025/2620", "edition": "2026-02-06", "status": "secondary",
               "source": COLUMN_B_SOURCE}
        if slot in rows and rows[slot] != row:
            raise SystemExit(f"line {number}: {code} route {route!r} twice with other values")
        rows[slot] = row
    return list(rows.values())


def column_a_rows(sectors: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": f"A.{code}.{route or 'any'}", "sector": sectors[code], "cn_code": code,
             "column": "A", "route": route, "benchmark_t_per_t": value, "act": "2025/2620",
             "edition": "2026-02-06", "status": "secondary", "source": COLUMN_A_SOURCE}
            for code, route, value in COLUMN_A]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--column-b", type=Path, required=True)
    parser.add_argument("--check", action="store_true",
                        help="compare with the table here instead of writing it")
    args = parser.parse_args()
    rows_b = column_b_rows(args.column_b.read_bytes())
    sectors = {r["cn_code"]: r["sector"] for r in rows_b}
    rows = rows_b + column_a_rows(sectors)
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if args.check:
        same = OUT.read_text(encoding="utf-8") == out.getvalue()
        print(f"{OUT.name}: {'matches' if same else 'DIFFERS FROM'} the source: "
              f"{len(rows_b)} Column B rows, {len(rows) - len(rows_b)} Column A rows")
        raise SystemExit(0 if same else 1)
    OUT.write_text(out.getvalue(), encoding="utf-8")
    print(f"{OUT.name}: {len(rows_b)} Column B rows, {len(rows) - len(rows_b)} Column A rows")


if __name__ == "__main__":
    main()
