"""Build the CBAM Annex I default-value tables of this folder from their sources.

Not part of the package: run by hand when a source changes, then review the diff.

    python emission_factors/tools/build_cbam_tables.py \
        --as-adopted PATH/cbam_defaults.csv \
        --corrected-pages DIR \
        --iso-names PATH/country-codes.csv

``--as-adopted``: the third-party parse of the Commission's workbook "DVs as adopted_v20260204"
(Annex I of Implementing Regulation (EU) 2025/2621 as adopted; Latin-1, ``;``-separated).
``--corrected-pages``: CSV files holding pages read from the transcription of the corrected
dataset (Implementing Regulation (EU) 2026/1740), each line
``country_or_territory,country_iso3,good_key,direct,indirect,total,route`` (the header line may
appear once; ``good_key`` is the transcription's ``<code>-<slug>`` or the code alone, only the
code is used; the files are read in the order of their names). ``--iso-names``: the ISO 3166
alpha-2 list of the UN/LOCODE code lists (``CountryCode,CountryName``), used to check every
country code written here.

Writes ``eu-cbam-2025-2621-annex-i-as-adopted-v20260204.csv``,
``eu-cbam-2025-2621-annex-i-corrected-2026-1740.csv`` and
``eu-cbam-2025-2621-annex-i-countries.csv`` next to this folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import re
from collections import Counter
from pathlib import Path

OUT = Path(__file__).resolve().parents[1]

#: Sheet names of the as-adopted workbook (and the corrected transcription's names) that differ
#: from the ISO 3166 short names of the UN/LOCODE list, with their alpha-2 code.
ALIASES = {
    "Bolivia": "BO", "Brunei": "BN", "Congo": "CG", "Congo, Democratic Republic of": "CD",
    "Côte d'Ivoire": "CI", "Curaçao": "CW", "Democratic Republic of the Cong": "CD",
    "Dominican Republic": "DO", "Hong Kong": "HK", "Iran": "IR",
    "Iran, Islamic Republic of": "IR", "Ivory Coast": "CI", "Korea, Republic of (South Korea": "KR",
    "Laos": "LA", "Moldova": "MD", "Moldova, Republic of": "MD", "Myanmar": "MM",
    "Myanmar_Burma": "MM", "New Caledonia and dependencies": "NC", "Niger": "NE",
    "North Korea": "KP", "North Korea (Democratic People\u2019": "KP", "North Macedonia": "MK",
    "Philippines": "PH", "Russia": "RU", "Russian Federation": "RU", "South Korea": "KR",
    "Sudan": "SD", "Syria": "SY", "Taiwan": "TW", "Tanzania": "TZ",
    "Tanzania, United Republic of": "TZ", "Türkiye": "TR", "United Arab Emirates": "AE",
    "United Kingdom": "GB", "United States": "US", "Venezuela": "VE", "Vietnam": "VN",
    "Viet Nam": "VN",
}
OTHER_SHEET = "_Other Countries and Territorie"
OTHER_NAME = "Other countries and territories"
OTHER = "other"

#: ISO 3166 alpha-3 codes of the transcription, checked against the alpha-2 code of its name.
ISO3 = {"ALB": "AL", "AGO": "AO", "ARE": "AE", "ARG": "AR", "ARM": "AM", "AUS": "AU",
        "AZE": "AZ", "BEN": "BJ", "BGD": "BD", "BHR": "BH", "BIH": "BA", "BLR": "BY",
        "BOL": "BO", "BRA": "BR", "BRN": "BN", "CAN": "CA", "CHL": "CL", "CHN": "CN",
        "CIV": "CI", "CMR": "CM", "COD": "CD", "COG": "CG", "COL": "CO", "CRI": "CR",
        "CUB": "CU", "CUW": "CW", "DOM": "DO", "DZA": "DZ", "ECU": "EC", "EGY": "EG",
        "ERI": "ER", "ETH": "ET", "GAB": "GA", "GBR": "GB", "GEO": "GE", "GHA": "GH",
        "GNQ": "GQ", "GTM": "GT", "HKG": "HK", "HND": "HN", "HTI": "HT", "IDN": "ID",
        "IND": "IN", "IRN": "IR", "IRQ": "IQ", "ISR": "IL", "JAM": "JM", "JOR": "JO",
        "JPN": "JP", "KAZ": "KZ", "KEN": "KE", "KGZ": "KG", "KHM": "KH", "KOR": "KR",
        "KWT": "KW", "LAO": "LA", "LBN": "LB", "LBR": "LR", "LBY": "LY", "LKA": "LK",
        "MAR": "MA", "MDA": "MD", "MDG": "MG", "MEX": "MX", "MKD": "MK", "MLI": "ML",
        "MMR": "MM", "MNE": "ME", "MNG": "MN", "MOZ": "MZ", "MRT": "MR", "MUS": "MU",
        "MYS": "MY", "NAM": "NA", "NCL": "NC", "NER": "NE", "NGA": "NG", "NIC": "NI",
        "NPL": "NP", "NZL": "NZ", "OMN": "OM", "PAK": "PK", "PAN": "PA", "PER": "PE",
        "PHL": "PH", "PNG": "PG", "PRK": "KP", "PRY": "PY", "QAT": "QA", "RUS": "RU",
        "RWA": "RW", "SAU": "SA", "SDN": "SD", "SEN": "SN", "SGP": "SG", "SLE": "SL",
        "SLV": "SV", "SRB": "RS", "SUR": "SR", "SWZ": "SZ", "SYR": "SY", "TGO": "TG",
        "THA": "TH", "TJK": "TJ", "TKM": "TM", "TTO": "TT", "TUN": "TN", "TUR": "TR",
        "TWN": "TW", "TZA": "TZ", "UGA": "UG", "UKR": "UA", "URY": "UY", "USA": "US",
        "UZB": "UZ", "VEN": "VE", "VNM": "VN", "YEM": "YE", "ZAF": "ZA", "ZMB": "ZM",
        "ZWE": "ZW"}

#: Descriptions of the TARIC lines of the corrected annex, as the transcription's companion
#: seed ``cbam_goods.csv`` (commit f748ed65) gives them.
TARIC_DESCRIPTIONS = {
    "2507008080": "Calcined clay",
    "2523100010": "White clinker",
    "2523100090": "Other clinker including grey clinker",
    "2523900010": "White hydraulic cement",
    "2523900090": "Other hydraulic cements including grey hydraulic cements",
}
#: The as-adopted annex gives these lines under one CN code, told apart by the description.
SPLIT_BY_DESCRIPTION = {"25231000", "25239000"}

COLUMNS = ("key", "country", "annex_country", "sector", "cn_code", "description",
           "direct_t_per_t", "indirect_t_per_t", "total_t_per_t", "markup_2026_t_per_t",
           "markup_2027_t_per_t", "markup_2028_t_per_t", "route", "act", "edition", "status")
SECTORS = {"Iron and steel": "iron_and_steel", "Aluminium": "aluminium", "Cement": "cement",
           "Fertilisers": "fertilisers", "Hydrogen": "hydrogen"}


def iso_codes(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return {r["CountryName"]: r["CountryCode"] for r in csv.DictReader(f)}


def alpha2(name: str, iso: dict[str, str]) -> str:
    if name in (OTHER_SHEET, OTHER_NAME):
        return OTHER
    code = ALIASES.get(name) or iso.get(name)
    if code is None:
        raise SystemExit(f"no ISO 3166 alpha-2 code for {name!r}: add it to ALIASES")
    if code not in iso.values():
        raise SystemExit(f"{code} ({name}) is not in the ISO list")
    return code


def number(text: str) -> str:
    """A cell as a plain decimal ('' stays '')."""
    text = text.strip()
    if text == "":
        return ""
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        raise SystemExit(f"not a decimal: {text!r}")
    return text


def route(text: str) -> str:
    """'(C)' or 'C/F' -> 'C' or 'C/F'."""
    return "/".join(part.strip("() ") for part in text.split("/")) if text.strip() else ""


def sector_of(code: str) -> str:
    """The Annex I (Regulation (EU) 2023/956) sector of an annex line, by its CN chapter."""
    if code.startswith("280410"):
        return "hydrogen"
    if code[:2] in ("28", "31"):
        return "fertilisers"
    if code[:2] == "25":
        return "cement"
    if code[:2] == "76":
        return "aluminium"
    if code[:2] in ("26", "72", "73"):
        return "iron_and_steel"
    raise SystemExit(f"no sector for CN {code}")


def build_as_adopted(path: Path, iso: dict[str, str],
                     ) -> tuple[list[dict[str, str]], dict[str, str]]:
    text = path.read_bytes().decode("latin-1")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    out: list[dict[str, str]] = []
    descriptions: dict[str, str] = {}
    for cells in rows[1:]:
        name, sector, code, description = cells[0], cells[1], cells[2], cells[3]
        country = alpha2(name, iso)
        key = f"{country}.{code}"
        if code in SPLIT_BY_DESCRIPTION:
            key += "." + description.split()[0].lower()
        if sector_of(code) != SECTORS[sector]:
            raise SystemExit(f"{name} {code}: sector {sector} differs from the CN chapter")
        descriptions.setdefault(code, description)
        out.append({
            "key": key, "country": country,
            "annex_country": OTHER_NAME if country == OTHER else name,
            "sector": SECTORS[sector], "cn_code": code, "description": description,
            "direct_t_per_t": number(cells[4]), "indirect_t_per_t": number(cells[5]),
            "total_t_per_t": number(cells[6]), "markup_2026_t_per_t": number(cells[7]),
            "markup_2027_t_per_t": number(cells[8]), "markup_2028_t_per_t": number(cells[9]),
            "route": route(cells[10]), "act": "2025/2621", "edition": "v20260204",
            "status": "secondary",
        })
    return out, descriptions


def build_corrected(pages: Path, iso: dict[str, str],
                    descriptions: dict[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for page in sorted(pages.glob("*.csv")):
        for cells in csv.reader(page.read_text(encoding="utf-8").splitlines()):
            if not cells or cells[0] == "country_or_territory":
                continue
            name, iso3, good_key, direct, indirect, total, rte = cells
            country = alpha2(name, iso)
            if country != OTHER and ISO3[iso3] != country:
                raise SystemExit(f"{name}: {iso3} does not match {country}")
            code = good_key.split("-", 1)[0]
            description = TARIC_DESCRIPTIONS.get(code) or descriptions[code]
            out.append({
                "key": f"{country}.{code}", "country": country, "annex_country": name,
                "sector": sector_of(code), "cn_code": code, "description": description,
                "direct_t_per_t": number(direct), "indirect_t_per_t": number(indirect),
                "total_t_per_t": number(total), "markup_2026_t_per_t": "",
                "markup_2027_t_per_t": "", "markup_2028_t_per_t": "", "route": route(rte),
                "act": "2025/2621 as corrected by 2026/1740", "edition": "2026-08-06",
                "status": "secondary",
            })
    keys = Counter(r["key"] for r in out)
    dupes = [k for k, n in keys.items() if n > 1]
    if dupes:
        raise SystemExit(f"duplicate rows in the pages: {dupes[:5]}")
    return out


def write(name: str, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (OUT / name).write_text(buf.getvalue(), encoding="utf-8")
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--as-adopted", type=Path, required=True)
    ap.add_argument("--corrected-pages", type=Path, required=True)
    ap.add_argument("--iso-names", type=Path, required=True)
    args = ap.parse_args()
    iso = iso_codes(args.iso_names)
    adopted, descriptions = build_as_adopted(args.as_adopted, iso)
    corrected = build_corrected(args.corrected_pages, iso, descriptions)
    write("eu-cbam-2025-2621-annex-i-as-adopted-v20260204.csv", COLUMNS, adopted)
    write("eu-cbam-2025-2621-annex-i-corrected-2026-1740.csv", COLUMNS, corrected)
    loaded = {r["country"] for r in corrected}
    names: dict[str, str] = {}
    for r in adopted:
        names.setdefault(r["country"], r["annex_country"])
    for r in corrected:
        names[r["country"]] = r["annex_country"]
    countries = [{"key": c, "country": c, "annex_country": names[c],
                  "rows_loaded": "yes" if c in loaded else "no"}
                 for c in sorted(names, key=lambda c: (c == OTHER, c))]
    write("eu-cbam-2025-2621-annex-i-countries.csv",
          ("key", "country", "annex_country", "rows_loaded"), countries)
    per_sector = Counter((r["country"], r["sector"]) for r in corrected)
    was = Counter((r["country"], r["sector"]) for r in adopted)
    for country in sorted(loaded):
        print(country, {s: (per_sector[(country, s)], was[(country, s)])
                        for s in SECTORS.values()})


if __name__ == "__main__":
    main()
