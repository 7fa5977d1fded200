"""CBAM: Annex I scope by CN prefix; the first China-only table with its published columns.

The factor set ``factor-set-2025.json`` (China, 11 rows of Implementing Regulation (EU)
2025/2621 as rendered with two decimals) stays loadable with its own rules, so that records
computed with it recompute to the same figures. The current default values are tested in
``test_cbam_defaults.py``.
"""

from __future__ import annotations

import pytest

from ledger.factors.cbam import CbamResult, embedded_emissions, normalise_cn
from ledger.factors.factorset import FactorSet, load_factor_set, shipped_factor_dir


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set(shipped_factor_dir() / "factor-set-2025.json")


def _embedded(fs: FactorSet, cn: str, *, country: str | None = "CN", year: int | None = 2026,
              mass_kg: int = 10_000,
              actual_u: tuple[int, int] | None = None) -> CbamResult | tuple[str, str]:
    return embedded_emissions(fs.cbam_scope, fs.cbam_defaults, cn=normalise_cn(cn) or "",
                              country=country, year=year, mass_g=mass_kg * 1000,
                              net_mass_kg=str(mass_kg), actual_u=actual_u)


def test_ten_tonnes_of_chinese_screws_in_2026_embed_70_1_t(factor_set: FactorSet) -> None:
    result = _embedded(factor_set, "7318 15")
    assert isinstance(result, CbamResult)
    assert result.embedded_g == 70_100_000  # 10 t x 7.01 t/t (published 2026 column)
    assert (result.method, result.markup_year, result.specific_direct_t_per_t) == \
        ("default", "2026", "7.01")
    assert result.factor_ref == "eu-cbam-2025-2621-default-values-cn#CN.731815"
    assert result.indirect_counted is False  # Annex II: iron and steel, direct only


@pytest.mark.parametrize(("year", "grams"), [(2026, 70_100_000), (2027, 76_500_000),
                                            (2028, 82_900_000), (2031, 82_900_000)])
def test_the_published_column_is_used_not_base_times_markup(
        factor_set: FactorSet, year: int, grams: int) -> None:
    # 6.38 x 1.1 = 7.018 but the published 2026 column reads 7.01
    result = _embedded(factor_set, "7318 15 90", year=year)
    assert isinstance(result, CbamResult)
    assert result.embedded_g == grams


def test_actual_installation_data_has_no_markup(factor_set: FactorSet) -> None:
    result = _embedded(factor_set, "7318 15", actual_u=(1_850_000, 300_000))
    assert isinstance(result, CbamResult)
    assert result.method == "actual"
    assert result.embedded_g == 18_500_000  # indirect not counted for iron and steel


def test_more_specific_rows_win(factor_set: FactorSet) -> None:
    result = _embedded(factor_set, "7318 23 00")
    assert isinstance(result, CbamResult)
    assert result.embedded_g == 30_100_000  # 3.01 t/t (rivets)


@pytest.mark.parametrize("case", [
    ("7318 15", "IN", 2026, "country_of_origin", "no CBAM default value for CN 7318 15"),
    ("7318 16", "CN", 2026, "country_of_origin", "no CBAM default value"),
    ("7318", "CN", 2026, "cn_code", "narrower code"),
    ("7318 15", "CN", None, "cbam_year", "cbam_year"),
    ("7318 15", "CN", 2025, "cbam_year", "from 2026"),
    ("7318 15", None, 2026, "country_of_origin", "country of origin"),
    ("7202", "CN", 2026, "cn_code", "partly covered"),
])
def test_missing_defaults_are_errors_never_guesses(
        factor_set: FactorSet, case: tuple[str, str | None, int | None, str, str]) -> None:
    cn, country, year, field, message = case
    result = _embedded(factor_set, cn, country=country, year=year)
    assert isinstance(result, tuple)
    assert result[0] == field
    assert message in result[1]


@pytest.mark.parametrize(("cn", "in_scope"), [
    ("7208 51 20", True), ("7204 10 00", False), ("7202 30 00", False), ("3105 60 00", False),
    ("2523 29 00", True), ("2716 00 00", True), ("8418 21 10", False), ("7317 00", False),
    ("7616 99 10", True), ("2804 10 00", True),
])
def test_annex_i_scope(factor_set: FactorSet, cn: str, in_scope: bool) -> None:
    match = factor_set.cbam_scope.classify(normalise_cn(cn) or "")
    assert not isinstance(match, str)
    assert match.in_scope is in_scope


def test_cn_codes_are_normalised() -> None:
    assert normalise_cn("7318 15 90") == "73181590"
    assert normalise_cn("7318.15") == "731815"
    assert normalise_cn("2523 10 00 90") == "2523100090"  # TARIC
    assert normalise_cn("73181") is None
    assert normalise_cn("252310009") is None
    assert normalise_cn("abc") is None


@pytest.mark.parametrize("manifest", ["factor-set-2025.json", "factor-set-2026.json",
                                      "factor-set-2026-cbam-as-adopted.json"])
def test_electricity_has_no_default_and_the_refusal_names_the_missing_figure(
        manifest: str) -> None:
    fs = load_factor_set(shipped_factor_dir() / manifest)
    result = _embedded(fs, "2716 00 00", country="CN")
    assert isinstance(result, tuple)
    field, message = result
    assert field == "cn_code"
    assert "no default value for imported electricity" in message
    assert "CO2 emission factor of the exporting country in t CO2 per MWh" in message
    assert "no such figure for country CN is loaded" in message
    # actual data of the electricity are used as given (no mark-up)
    actual = _embedded(fs, "2716 00 00", country="CN", actual_u=(600_000, 0))
    assert isinstance(actual, CbamResult)
    assert (actual.method, actual.embedded_g) == ("actual", 6_000_000)
