"""CBAM default values of Annex I, Implementing Regulation (EU) 2025/2621 as corrected by 2026/1740.

Golden values: each case cites the row of the transcription of the corrected dataset it comes
from (``Ddscully/dlt-dbt-duckdb-evidence`` ``dbt/seeds/cbam_default_values.csv`` at
``c68a320d``: country, ISO3, good key, direct, indirect, total, route) and recomputes the
figure by hand: the value that counts (the direct value where Annex II of Regulation (EU)
2023/956 counts direct emissions only, the total otherwise) times the mark-up of the import
year (+10 % 2026, +20 % 2027, +30 % from 2028; fertilisers +1 %), for 10 t of goods.
"""

from __future__ import annotations

import csv
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import FactorError
from ledger.factors.cbam import CbamResult, embedded_emissions, normalise_cn
from ledger.factors.factorset import FactorSet, load_factor_set, shipped_factor_dir

SHIPPED = shipped_factor_dir()
CORRECTED = SHIPPED / "eu-cbam-2025-2621-annex-i-corrected-2026-1740.csv"
AS_ADOPTED = SHIPPED / "eu-cbam-2025-2621-annex-i-as-adopted-v20260204.csv"
TONNES = Decimal(10)


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


@pytest.fixture(scope="module")
def as_adopted() -> FactorSet:
    return load_factor_set(SHIPPED / "factor-set-2026-cbam-as-adopted.json")


def _embedded(fs: FactorSet, code: str, country: str, year: int = 2026,
              ) -> CbamResult | tuple[str, str]:
    grams = int(TONNES * 1_000_000)
    return embedded_emissions(fs.cbam_scope, fs.cbam_defaults, cn=normalise_cn(code) or "",
                              country=country, year=year, mass_g=grams,
                              net_mass_kg=str(TONNES * 1000), actual_u=None)


def _grams(t_per_t: Decimal) -> int:
    """10 t of goods at ``t_per_t`` t CO2e per tonne, in grams."""
    grams = TONNES * t_per_t * 1_000_000
    assert grams == grams.to_integral_value()
    return int(grams)


# (code given, country, year, hand computation in t CO2e per t, row used)
GOLDEN = [
    # China,CHN,731815-threaded-screws-and-bolts-of-iron-or-ste,6.375,,6.375,C
    ("7318 15 88", "CN", 2026, Decimal("6.375") * Decimal("1.10"), "CN.731815"),
    ("7318 15 88 00", "CN", 2027, Decimal("6.375") * Decimal("1.20"), "CN.731815"),
    ("7318 15", "CN", 2031, Decimal("6.375") * Decimal("1.30"), "CN.731815"),
    # China,CHN,731816-nuts-of-iron-or-steel,5.045,,5.045,C
    ("7318 16 91", "CN", 2026, Decimal("5.045") * Decimal("1.10"), "CN.731816"),
    # China,CHN,73182300-rivets-of-iron-or-steel-excl-tubular-and,2.738,,2.738,C
    # (7318 23 has one eight-digit subdivision, 7318 23 00)
    ("7318 23", "CN", 2026, Decimal("2.738") * Decimal("1.10"), "CN.73182300"),
    # China,CHN,73063077-other-tubes-pipes-and-hollow-profiles-we,3.565,,3.565,C
    ("7306 30 77", "CN", 2026, Decimal("3.565") * Decimal("1.10"), "CN.73063077"),
    # China,CHN,72142000-bars-and-rods-of-iron-or-non-alloy-steel,3.169,,3.169,C
    ("7214 20 00", "CN", 2026, Decimal("3.169") * Decimal("1.10"), "CN.72142000"),
    # China,CHN,7308-structures-and-parts-of-structures-e-g-b,6.035,,6.035,C
    ("7308 90 98", "CN", 2028, Decimal("6.035") * Decimal("1.30"), "CN.7308"),
    # China,CHN,26011200-agglomerated-iron-ores-and-concentrates,0.2,0.06,0.26,
    # (not in Annex II: direct + indirect count, the total)
    ("2601 12 00", "CN", 2026, Decimal("0.26") * Decimal("1.10"), "CN.26011200"),
    # China,CHN,76041010-bars-and-rods,4.881,,4.881,K
    ("7604 10 10", "CN", 2026, Decimal("4.881") * Decimal("1.10"), "CN.76041010"),
    # China,CHN,7606-aluminium-plates-sheets-and-strip-of-a-t,4.12,,4.12,K
    ("7606 12 20", "CN", 2026, Decimal("4.12") * Decimal("1.10"), "CN.7606"),
    # China,CHN,7601-unwrought-aluminium,3.0,,3.0,K
    ("7601 10 00", "CN", 2027, Decimal("3.0") * Decimal("1.20"), "CN.7601"),
    # China,CHN,31021012-urea-in-aqueous-solution-containing-45-n,0.9,0.05,0.94,
    ("3102 10 12", "CN", 2026, Decimal("0.94") * Decimal("1.01"), "CN.31021012"),
    # China,CHN,31053000-diammonium-hydrogenorthophosphate-diammo,0.97,0.08,1.04,
    ("3105 30 00", "CN", 2028, Decimal("1.04") * Decimal("1.01"), "CN.31053000"),
    # China,CHN,28141000-anhydrous-ammonia,4.17,0.19,4.36,
    ("2814 10 00", "CN", 2027, Decimal("4.36") * Decimal("1.01"), "CN.28141000"),
    # China,CHN,2523100090-other-clinker-including-grey-clinker,1.35,0.04,1.39,A
    ("2523 10 00 90", "CN", 2026, Decimal("1.39") * Decimal("1.10"), "CN.2523100090"),
    # China,CHN,2523100010-white-clinker,1.24,0.06,1.3,B
    ("2523 10 00 10", "CN", 2026, Decimal("1.3") * Decimal("1.10"), "CN.2523100010"),
    # China,CHN,25232900-grey-portland-cement,1.35,0.07,1.42,
    ("2523 29 00", "CN", 2026, Decimal("1.42") * Decimal("1.10"), "CN.25232900"),
    # China,CHN,2507008080-calcined-clay,0.21,0.11,0.32,
    ("2507 00 80 80", "CN", 2026, Decimal("0.32") * Decimal("1.10"), "CN.2507008080"),
    # China,CHN,28041000-hydrogen,26.64,,26.64,
    ("2804 10 00", "CN", 2026, Decimal("26.64") * Decimal("1.10"), "CN.28041000"),
    # Albania,ALB,2523100090-other-clinker-including-grey-clinker,0.87,0.0,0.87,A
    ("2523 10 00 90", "AL", 2026, Decimal("0.87") * Decimal("1.10"), "AL.2523100090"),
    # Zambia,ZMB,7601-unwrought-aluminium,0.36,,0.36,L
    ("7601 20", "ZM", 2026, Decimal("0.36") * Decimal("1.10"), "ZM.7601"),
    # Zimbabwe,ZWE,31023090-ammonium-nitrate-excl-that-in-aqueous-so,1.73,0.12,1.85,
    ("3102 30 90", "ZW", 2026, Decimal("1.85") * Decimal("1.01"), "ZW.31023090"),
    # Yemen,YEM,28041000-hydrogen,10.82,,10.82,
    ("2804 10 00", "YE", 2028, Decimal("10.82") * Decimal("1.30"), "YE.28041000"),
    # Türkiye,TUR,731815-threaded-screws-and-bolts-of-iron-or-ste,5.43,,5.43,C
    ("7318 15 88", "TR", 2026, Decimal("5.43") * Decimal("1.10"), "TR.731815"),
    # Türkiye,TUR,76041090-profiles,3.741,,3.741,K
    ("7604 10 90", "TR", 2027, Decimal("3.741") * Decimal("1.20"), "TR.76041090"),
    # Tunisia,TUN,76169990-other,1.44,,1.44,L  (7615 20 00 in the act as adopted)
    ("7616 99 90", "TN", 2026, Decimal("1.44") * Decimal("1.10"), "TN.76169990"),
    # South Africa,ZAF,7601-unwrought-aluminium,2.358,,2.358,K
    ("7601 10 00", "ZA", 2026, Decimal("2.358") * Decimal("1.10"), "ZA.7601"),
    # South Africa,ZAF,720241-ferro-chromium-containing-by-weight-4-of,2.35,,2.35,
    ("7202 41 10", "ZA", 2028, Decimal("2.35") * Decimal("1.30"), "ZA.720241"),
    # Viet Nam,VNM,731815-threaded-screws-and-bolts-of-iron-or-ste,2.75,,2.75,C
    ("7318 15 88", "VN", 2026, Decimal("2.75") * Decimal("1.10"), "VN.731815"),
    # Viet Nam,VNM,76041090-profiles,2.04,,2.04,L
    ("7604 10 90", "VN", 2026, Decimal("2.04") * Decimal("1.10"), "VN.76041090"),
    # India,IND,731815-threaded-screws-and-bolts-of-iron-or-ste,5.72,,5.72,C
    ("7318 15 88", "IN", 2026, Decimal("5.72") * Decimal("1.10"), "IN.731815"),
    # India,IND,7601-unwrought-aluminium,1.87,,1.87,K
    ("7601 10 00", "IN", 2027, Decimal("1.87") * Decimal("1.20"), "IN.7601"),
    # India,IND,31021019-urea-whether-or-not-in-aqueous-solution,2.05,0.17,2.22,
    ("3102 10 19", "IN", 2026, Decimal("2.22") * Decimal("1.01"), "IN.31021019"),
    # India,IND,2523100090-other-clinker-including-grey-clinker,1.39,0.05,1.44,A
    ("2523 10 00 90", "IN", 2026, Decimal("1.44") * Decimal("1.10"), "IN.2523100090"),
    # "Korea, Republic of (South Korea",KOR,72071111-semi-finished-products-of-non-alloy-free,
    #   2.118,,2.118,C
    ("7207 11 11", "KR", 2026, Decimal("2.118") * Decimal("1.10"), "KR.72071111"),
    # "Korea, Republic of (South Korea",KOR,731815-threaded-screws-and-bolts-of-iron-or-ste,
    #   3.474,,3.474,C
    ("7318 15 88", "KR", 2028, Decimal("3.474") * Decimal("1.30"), "KR.731815"),
    # "Korea, Republic of (South Korea",KOR,28041000-hydrogen,14.03,,14.03,
    ("2804 10 00", "KR", 2026, Decimal("14.03") * Decimal("1.10"), "KR.28041000"),
    # Ukraine,UKR,7208-flat-rolled-products-of-iron-or-non-allo,2.483,,2.483,C
    ("7208 51 20", "UA", 2026, Decimal("2.483") * Decimal("1.10"), "UA.7208"),
    # Ukraine,UKR,7201-pig-iron-and-spiegeleisen-in-pigs-blocks,2.173,,2.173,
    ("7201 10 11", "UA", 2026, Decimal("2.173") * Decimal("1.10"), "UA.7201"),
    # Ukraine,UKR,31023090-ammonium-nitrate-excl-that-in-aqueous-so,2.53,0.07,2.6,
    ("3102 30 90", "UA", 2027, Decimal("2.6") * Decimal("1.01"), "UA.31023090"),
]

# a country without a value: (code, country, year, hand computation, row used, rule starts)
FALLBACK = [
    # China,CHN,7203-ferrous-products-obtained-by-direct-redu,,,,  (empty cell) ->
    # Other countries and territories,,7203-ferrous-products-obtained-by-direct-redu,1.325,,1.325,
    ("7203 10 00", "CN", 2026, Decimal("1.325") * Decimal("1.10"), "other.7203",
     "China has no value for CN 7203"),
    # Albania,ALB,2523100010-white-clinker,,,,  (empty cell) ->
    # Other countries and territories,,2523100010-white-clinker,1.32,0.06,1.37,B
    ("2523 10 00 10", "AL", 2026, Decimal("1.37") * Decimal("1.10"), "other.2523100010",
     "Albania has no value for CN 2523 10 00 10"),
    # Albania has no aluminium row at all ->
    # Other countries and territories,,76041090-profiles,3.251,,3.251,K
    ("7604 10 90", "AL", 2027, Decimal("3.251") * Decimal("1.20"), "other.76041090",
     "Albania has no value for CN 7604 10 90"),
    # Türkiye,TUR,2523100090-other-clinker-including-grey-clinker,,,,  (empty cell) ->
    # Other countries and territories,,2523100090-other-clinker-including-grey-clinker,
    #   1.37,0.05,1.41,A
    ("2523 10 00 90", "TR", 2026, Decimal("1.41") * Decimal("1.10"), "other.2523100090",
     "Türkiye has no value for CN 2523 10 00 90"),
    # Viet Nam has no cement line ->
    # Other countries and territories,,25232900-grey-portland-cement,1.36,0.08,1.44,
    ("2523 29 00", "VN", 2026, Decimal("1.44") * Decimal("1.10"), "other.25232900",
     "Viet Nam has no value for CN 2523 29 00"),
    # Viet Nam,VNM,72181000-steel-stainless-in-ingots-and-other-prim,,,,  (empty cell) ->
    # Other countries and territories,,72181000-steel-stainless-in-ingots-and-other-prim,
    #   5.006,,5.006,
    ("7218 10 00", "VN", 2026, Decimal("5.006") * Decimal("1.10"), "other.72181000",
     "Viet Nam has no value for CN 7218 10 00"),
    # "Korea, Republic of (South Korea",KOR,28141000-anhydrous-ammonia,,,,  (empty cell) ->
    # Other countries and territories,,28141000-anhydrous-ammonia,2.97,0.15,3.13,
    ("2814 10 00", "KR", 2026, Decimal("3.13") * Decimal("1.01"), "other.28141000",
     "Korea, Republic of (South Korea has no value for CN 2814 10 00"),
    # Taiwan,TWN,72191100-flat-rolled-products-of-stainless-steel,,,,  (empty cell; 8.69 in the
    # act as adopted) -> Other countries and territories,,72191100-flat-rolled-products-of-
    # stainless-steel,4.94,,4.94,
    ("7219 11 00", "TW", 2026, Decimal("4.94") * Decimal("1.10"), "other.72191100",
     "Taiwan has no value for CN 7219 11 00"),
    # Bhutan (BT) is not listed in Annex I ->
    # Other countries and territories,,731815-threaded-screws-and-bolts-of-iron-or-ste,
    #   4.801,,4.801,C
    ("7318 15 90", "BT", 2026, Decimal("4.801") * Decimal("1.10"), "other.731815",
     "BT is not listed in Annex I"),
    # Other countries and territories,,31021019-urea-whether-or-not-in-aqueous-solution,
    #   2.6,0.12,2.72,
    ("3102 10 19", "BT", 2026, Decimal("2.72") * Decimal("1.01"), "other.31021019",
     "BT is not listed in Annex I"),
]


@pytest.mark.parametrize("case", GOLDEN)
def test_default_values_recomputed_by_hand(
        factor_set: FactorSet, case: tuple[str, str, int, Decimal, str]) -> None:
    code, country, year, t_per_t, row = case
    result = _embedded(factor_set, code, country, year)
    assert isinstance(result, CbamResult), result
    assert result.embedded_g == _grams(t_per_t)
    assert Decimal(result.specific_direct_t_per_t or "") == t_per_t
    assert result.factor_ref == f"eu-cbam-2025-2621-annex-i-corrected-2026-1740#{row}"
    assert result.default_rule is None
    assert result.to_dict()["default_row"] != "Other countries and territories"


@pytest.mark.parametrize("case", FALLBACK)
def test_a_country_without_a_value_takes_the_other_countries_row(
        factor_set: FactorSet, case: tuple[str, str, int, Decimal, str, str]) -> None:
    code, country, year, t_per_t, row, rule = case
    result = _embedded(factor_set, code, country, year)
    assert isinstance(result, CbamResult), result
    assert result.embedded_g == _grams(t_per_t)
    assert result.factor_ref == f"eu-cbam-2025-2621-annex-i-corrected-2026-1740#{row}"
    assert result.default_row == "Other countries and territories"
    assert (result.default_rule or "").startswith(rule)
    assert "'Other countries and territories' applies" in (result.default_rule or "")


def test_the_fertiliser_markup_is_one_percent_in_every_year(factor_set: FactorSet) -> None:
    # China,CHN,31023090-ammonium-nitrate-excl-that-in-aqueous-so,3.23,0.14,3.37,
    figures = {year: _embedded(factor_set, "3102 30 90", "CN", year) for year in (2026, 2030)}
    assert {y: r.embedded_g for y, r in figures.items() if isinstance(r, CbamResult)} == {
        2026: _grams(Decimal("3.37") * Decimal("1.01")),
        2030: _grams(Decimal("3.37") * Decimal("1.01"))}


@pytest.mark.parametrize(("code", "country", "field", "message"), [
    ("2523 10 00", "CN", "cn_code", "give the 10-digit TARIC code"),
    ("2523 90 00", "CN", "cn_code", "2523 90 00 10, 2523 90 00 90"),
    ("2507 00 80", "CN", "cn_code", "per TARIC code (2507 00 80 80)"),
    ("7318", "CN", "cn_code", "covers several lines of Annex I"),
    ("7306", "CN", "cn_code", "7306 11 00, 7306 19 00"),
    ("2507 00 80 90", "CN", "cn_code", "has no line of CBAM Annex I default values"),
])
def test_codes_and_countries_that_cannot_be_resolved_say_why(
        factor_set: FactorSet, code: str, country: str, field: str, message: str) -> None:
    result = _embedded(factor_set, code, country)
    assert isinstance(result, tuple)
    assert result[0] == field
    assert message in result[1]


def _copy_factor_set(tmp_path: Path, edit: dict[str, str] | None = None) -> Path:
    """The shipped default factor set in ``tmp_path``; ``edit`` replaces whole tables' text."""
    import json

    from ledger.factors.factorset import build_manifest
    shipped = json.loads((SHIPPED / "factor-set-2026.json").read_text(encoding="utf-8"))
    files = {t["kind"]: t["file"] for t in shipped["tables"]}
    for name in files.values():
        text = (edit or {}).get(name)
        target = tmp_path / name
        if text is None:
            target.write_bytes((SHIPPED / name).read_bytes())
        else:
            target.write_text(text, encoding="utf-8")
    manifest = tmp_path / "set.json"
    manifest.write_text(json.dumps(build_manifest(tmp_path, "set", files)))
    return manifest


def test_a_listed_country_whose_rows_are_not_loaded_is_an_error(tmp_path: Path) -> None:
    # every listed country is loaded in the shipped table; a table that marks a country
    # "rows_loaded = no" (India here) must not fall back to other countries and territories
    countries = SHIPPED / "eu-cbam-2025-2621-annex-i-countries.csv"
    corrected = [line for line in CORRECTED.read_text(encoding="utf-8").splitlines(keepends=True)
                 if not line.startswith("IN.")]
    text = countries.read_text(encoding="utf-8").replace("IN,IN,India,yes\n", "IN,IN,India,no\n")
    assert "IN,IN,India,no\n" in text
    fs = load_factor_set(_copy_factor_set(tmp_path, {countries.name: text,
                                                     CORRECTED.name: "".join(corrected)}))
    result = _embedded(fs, "7318 15", "IN")
    assert isinstance(result, tuple)
    assert result[0] == "country_of_origin"
    assert "India (IN) is listed in Annex I but its default values are not loaded" in result[1]


def test_the_act_as_adopted_can_be_pinned(as_adopted: FactorSet) -> None:
    # CN 7318 15, China, as adopted: 6.375, published 2026 column 7.0125
    result = _embedded(as_adopted, "7318 15 88", "CN")
    assert isinstance(result, CbamResult)
    assert result.embedded_g == _grams(Decimal("7.0125"))
    assert result.factor_ref == "eu-cbam-2025-2621-annex-i-as-adopted-v20260204#CN.731815"
    # every listed country has rows there: Vietnam 7318 15 = 2.75, 2026 column 3.025
    result = _embedded(as_adopted, "7318 15", "VN")
    assert isinstance(result, CbamResult)
    assert result.embedded_g == _grams(Decimal("3.025"))
    # white and grey clinker share one CN code in the act as adopted
    problem = _embedded(as_adopted, "2523 10 00", "CN")
    assert isinstance(problem, tuple) and "cannot tell them apart" in problem[1]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_row_counts_per_sector_match_the_annex() -> None:
    rows = _rows(CORRECTED)
    # the transcription of the corrected dataset: 12,540 rows, every listed country loaded
    assert len(rows) == 12_540
    corrected = Counter((r["country"], r["sector"]) for r in rows)
    # 283 lines for China and for other countries and territories (the annex as adopted has
    # the same 283 lines for both; the corrected act splits 3 CN codes into 5 TARIC codes and
    # merges the two white/grey pairs of the act as adopted)
    lines = {"iron_and_steel": 221, "aluminium": 24, "cement": 8, "fertilisers": 29,
             "hydrogen": 1}
    for country in ("CN", "other"):
        assert {s: corrected[(country, s)] for s in lines} == lines
    assert Counter(r["sector"] for r in rows) == {
        "iron_and_steel": 7365, "aluminium": 1632, "cement": 808, "fertilisers": 2639,
        "hydrogen": 96}
    adopted = _rows(AS_ADOPTED)
    assert len(adopted) == 12_532  # the parse of "DVs as adopted_v20260204"
    assert len({r["country"] for r in adopted}) == 120  # 119 countries + other
    assert Counter(r["sector"] for r in adopted) == {
        "iron_and_steel": 7359, "aluminium": 1632, "cement": 808, "fertilisers": 2639,
        "hydrogen": 94}
    assert sum(1 for r in adopted if r["country"] == "CN") == 283
    # per country, the same number of rows as the act as adopted, except the 8 rows the parse
    # lacks: Albania 7202 41, Zambia 7202 11, Zimbabwe 7202 11 and 7202 41, Gabon and Liberia
    # hydrogen, Guatemala and New Caledonia ferro-nickel (Liberia and New Caledonia have no
    # sheet in the parse)
    per_country = Counter(r["country"] for r in rows)
    was = Counter(r["country"] for r in adopted)
    extra = {c: per_country[c] - was[c] for c in per_country | was if per_country[c] != was[c]}
    assert extra == {"AL": 1, "ZM": 1, "ZW": 2, "GA": 1, "LR": 1, "GT": 1, "NC": 1}
    countries = _rows(SHIPPED / "eu-cbam-2025-2621-annex-i-countries.csv")
    assert len(countries) == 122  # 121 countries + other
    assert {r["country"] for r in countries} == set(per_country)
    assert {r["rows_loaded"] for r in countries} == {"yes"}


#: Cells of the corrected transcription that differ from the act as adopted by more than its
#: rounding to three decimals (see the README): (key, as adopted, as corrected), direct = total.
CHANGED_BY_THE_CORRECTION = {
    ("other.72262000", "5.588", "5.5"),
    ("AO.26011200", "0.616583", ""),
    ("RU.720241", "2.35", ""),
    # Taiwan stainless steel: values in the parse of the act as adopted, empty when corrected
    *((f"TW.{code}", "8.67", "") for code in (
        "72181000", "721891", "72189911", "72189919", "72189920", "72189980", "72192300",
        "72192400")),
    *((f"TW.{code}", "8.69", "") for code in (
        "72191100", "721912", "721913", "721914", "721921", "72193100", "721932", "721933",
        "721935", "721990", "72201200", "722090")),
    ("TW.72201100", "8.63", ""),
    *((f"TW.{code}", "10.0", "") for code in (
        "722211", "722219", "722220", "722230", "722240", "722300")),
}


def test_the_correction_rounds_the_act_as_adopted_except_the_listed_changes() -> None:
    taric = {"2523100010": "25231000.white", "2523100090": "25231000.grey",
             "2523900010": "25239000.white", "2523900090": "25239000.grey",
             "2507008080": "25070080"}
    adopted = {r["key"]: r for r in _rows(AS_ADOPTED)}
    changed = set()
    for row in _rows(CORRECTED):
        was = adopted.get(f"{row['country']}.{taric.get(row['cn_code'], row['cn_code'])}")
        if was is None:
            continue  # the 8 rows the parse lacks, and Tunisia 7616 (7615 in the parse)
        for column in ("direct_t_per_t", "indirect_t_per_t", "total_t_per_t"):
            new, old = row[column], was[column]
            if (new == "") != (old == "") or (
                    new and abs(Decimal(new) - Decimal(old)) > Decimal("0.0005")):
                changed.add((row["key"], old, new))
    # TW 7218 (a heading) has a direct value and no total in the parse; empty when corrected
    assert changed - CHANGED_BY_THE_CORRECTION == {("TW.7218", "8.67", "")}
    assert changed >= CHANGED_BY_THE_CORRECTION


def test_the_published_columns_of_the_act_as_adopted_are_the_markup_table() -> None:
    percent = {"fertilisers": (1, 1, 1)}
    differ = []
    for row in _rows(AS_ADOPTED):
        if not row["total_t_per_t"]:
            continue
        for i, year in enumerate(("2026", "2027", "2028")):
            factor = 100 + percent.get(row["sector"], (10, 20, 30))[i]
            expected = Decimal(row["total_t_per_t"]) * factor / 100
            published = row[f"markup_{year}_t_per_t"]
            # the workbook marked up unrounded totals; the parse kept 6 decimals
            if not published or abs(Decimal(published) - expected) > Decimal("0.000001"):
                differ.append(f"{row['key']} {year}")
    # Angola and Argentina cement compound the 2026 mark-up (x 1.21, x 1.331); Chile 7306 11 00
    # has no 2026 column: the engine uses the mark-up table, never these columns
    assert differ == [
        "AO.25231000.grey 2027", "AO.25231000.grey 2028", "AO.25232900 2027", "AO.25232900 2028",
        "AO.25239000.grey 2027", "AO.25239000.grey 2028", "AR.25231000.grey 2027",
        "AR.25231000.grey 2028", "AR.25232900 2027", "AR.25232900 2028", "CL.73061100 2026"]


def test_annex_ii_lines_have_no_indirect_value() -> None:
    for path in (CORRECTED, AS_ADOPTED):
        for row in _rows(path):
            if row["sector"] in ("aluminium", "hydrogen") or (
                    row["sector"] == "iron_and_steel" and row["cn_code"] != "26011200"):
                assert row["indirect_t_per_t"] == "", row["key"]
                # one heading of the act as adopted has a direct value and no total
                if row["key"] != "TW.7218":
                    assert row["direct_t_per_t"] == row["total_t_per_t"], row["key"]


def test_the_default_factor_set_uses_the_corrected_act(factor_set: FactorSet) -> None:
    assert factor_set.uri == "carbon-ledger:emission_factors/factor-set-2026.json"
    assert factor_set.table("cbam_annex_i").name == CORRECTED.stem


def test_a_factor_set_names_one_kind_of_cbam_table(tmp_path: Path) -> None:
    from ledger.factors.factorset import build_manifest
    files = {
        "cbam_scope": "eu-cbam-annex-i-2023-956-consolidated-2025-10-20.csv",
        "freight_ttw": "defra-2025-freighting-goods-ttw.csv",
        "freight_wtt": "defra-2025-wtt-freight.csv",
        "grid_electricity": "cn-mee-nbs-grid-electricity-2021-2023.csv",
        "method_parameters": "method-parameters-v1.csv",
        "product_defaults": "product-cradle-to-gate-worldsteel-iai.csv",
        "cbam_annex_i": CORRECTED.name,
    }
    for name in files.values():
        (tmp_path / name).write_bytes((SHIPPED / name).read_bytes())
    manifest = tmp_path / "set.json"
    import json
    manifest.write_text(json.dumps(build_manifest(tmp_path, "set", files)))
    with pytest.raises(FactorError, match="cbam_annex_i and cbam_markups"):
        load_factor_set(manifest)
