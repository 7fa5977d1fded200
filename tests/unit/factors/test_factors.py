"""Factor tables: published rows recomputed by hand, invalid tables refused, factor-set ids."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.errors import FactorError
from ledger.factors.factorset import (
    DEFAULT_MANIFEST,
    FactorSet,
    build_manifest,
    load_factor_set,
    shipped_factor_dir,
)
from ledger.factors.tables import canonical_bytes, parse_table, scaled_int

SHIPPED = shipped_factor_dir()


@pytest.fixture(scope="module")
def factor_set() -> FactorSet:
    return load_factor_set()


def test_shipped_factor_set_loads_with_a_bytes32_id(factor_set: FactorSet) -> None:
    assert factor_set.id.startswith("0x") and len(factor_set.id) == 66
    int(factor_set.id, 16)
    assert factor_set.uri == "carbon-ledger:emission_factors/factor-set-2026.json"
    recorded = json.loads((SHIPPED / DEFAULT_MANIFEST).read_text())["id"]
    assert factor_set.id == recorded


@pytest.mark.parametrize("case", [
    # DESNZ/DEFRA 2025 flat-file rows (IDs of the official file)
    ("road.hgv_all.average", "0.10163", "0.02359", "27_304_3140_14_1", "28_907_3140_14_1"),
    ("road.hgv_all.average.refrigerated", "0.11894", "0.02769", "27_306_3140_14_1",
     "28_908_3140_14_1"),
    ("rail.freight_train", "0.02779", "0.00691", "27_315_3151_14_1", "28_911_3151_14_1"),
    ("sea.container_ship_average", "0.01612", "0.00365", "27_320_3235_14_1",
     "28_916_3235_14_1"),
    ("sea.container_ship_8000_plus_teu", "0.01266", "0.00287", "27_320_3229_14_1",
     "28_916_3229_14_1"),
    ("air.freight_flight_international_non_uk.with_rf", "0.89939", "0.13516",
     "27_317_3158_14_1", "28_913_3158_14_1"),
    ("air.freight_flight_international_non_uk.without_rf", "0.5313", "0.13516",
     "27_317_3159_14_1", "28_913_3159_14_1"),
    ("sea.bulk_carrier_average", "0.00353", "0.0008", "27_320_3221_14_1", "28_916_3221_14_1"),
])
def test_defra_rows_carry_the_published_values_and_row_ids(
        factor_set: FactorSet, case: tuple[str, str, str, str, str]) -> None:
    key, ttw, wtt, ttw_id, wtt_id = case
    ttw_row = factor_set.table("freight_ttw").by_key[key]
    wtt_row = factor_set.table("freight_wtt").by_key[key]
    assert Decimal(ttw_row["kg_co2e_per_tkm"]) == Decimal(ttw)
    assert Decimal(wtt_row["kg_co2e_per_tkm"]) == Decimal(wtt)
    assert (ttw_row["defra_id"], wtt_row["defra_id"]) == (ttw_id, wtt_id)


def test_hgv_250_km_12_t_recomputes_the_published_example(factor_set: FactorSet) -> None:
    # 12 t x 250 km x 0.10163 = 304.89 kg TTW; x (0.10163 + 0.02359) = 375.66 kg WTW
    factor = factor_set.freight.resolve("road", None, None, None, None)
    tkm = Decimal(12) * Decimal(250)
    assert tkm * Decimal(factor.ttw_u) / 10**6 == Decimal("304.89")
    assert tkm * Decimal(factor.ttw_u + factor.wtt_u) / 10**6 == Decimal("375.66")


def test_every_defra_category_has_both_scopes(factor_set: FactorSet) -> None:
    ttw, wtt = factor_set.table("freight_ttw"), factor_set.table("freight_wtt")
    assert set(ttw.by_key) == set(wtt.by_key)
    assert len(ttw.rows) >= 100
    modes = {row["mode"] for row in ttw.rows}
    assert modes == {"road", "rail", "sea", "air"}


@pytest.mark.parametrize("case", [
    ("inland_waterway", None, None, None, None, "mode"),
    ("road", "truck", None, None, None, "vehicle_class"),
    ("road", "hgv_all", "75", None, None, "laden_state"),
    ("road", "van_average_diesel", "50", None, None, "laden_state"),
    ("sea", None, None, True, None, "refrigerated"),
    ("road", None, None, None, True, "radiative_forcing"),
])
def test_unknown_categories_are_named(factor_set: FactorSet, case: tuple[object, ...]) -> None:
    mode, vclass, laden, refr, rf, field = case
    found = factor_set.freight.resolve(mode, vclass, laden, refr, rf)
    assert isinstance(found, tuple)
    assert found[0] == field


def test_defaults_come_from_the_method_table(factor_set: FactorSet) -> None:
    assert factor_set.freight.resolve("air", None, None, None, None).key == \
        "air.freight_flight_international_non_uk.without_rf"
    assert factor_set.freight.resolve("sea", None, None, None, None).key == \
        "sea.container_ship_average"
    assert factor_set.freight.resolve("road", "hgv_all", "100", True, None).key == \
        "road.hgv_all.laden_100.refrigerated"


def test_grid_series_are_kept_apart(factor_set: FactorSet) -> None:
    assert factor_set.grid.get("cn_mee_nbs.national_average.2022")[0] == 536_600
    assert factor_set.grid.get("cn_mee_nbs.east.2023")[0] == 550_000
    assert isinstance(factor_set.grid.get("cn_ets.0.5703"), str)


def test_scaled_int_is_exact_and_strict() -> None:
    assert scaled_int("0.10163") == 101_630
    assert scaled_int("12") == 12_000_000
    for bad in ("-1", "1e3", "NaN", "", "0.1234567"):
        with pytest.raises(FactorError) as info:
            scaled_int(bad)
        assert repr(bad) in str(info.value)


def test_canonical_bytes_ignore_line_endings_and_bom() -> None:
    assert canonical_bytes(b"\xef\xbb\xbfa,b\r\n1,2\r\n\r\n") == b"a,b\n1,2\n"


def _copy_set(tmp_path: Path) -> Path:
    for item in SHIPPED.iterdir():
        if item.suffix in (".csv", ".json"):
            shutil.copy(item, tmp_path / item.name)
    return tmp_path / DEFAULT_MANIFEST


def test_same_files_give_the_same_id_with_other_line_endings(
        tmp_path: Path, factor_set: FactorSet) -> None:
    manifest = _copy_set(tmp_path)
    for table in tmp_path.glob("*.csv"):
        table.write_bytes(table.read_bytes().replace(b"\n", b"\r\n"))
    assert load_factor_set(manifest).id == factor_set.id


def test_a_changed_value_is_refused(tmp_path: Path) -> None:
    manifest = _copy_set(tmp_path)
    table = tmp_path / "defra-2025-freighting-goods-ttw.csv"
    table.write_text(table.read_text().replace(",0.10163\n", ",0.10162\n"))
    with pytest.raises(FactorError, match="does not match the manifest"):
        load_factor_set(manifest)


def test_a_rebuilt_manifest_gets_a_new_id(tmp_path: Path, factor_set: FactorSet) -> None:
    manifest = _copy_set(tmp_path)
    table = tmp_path / "defra-2025-freighting-goods-ttw.csv"
    table.write_text(table.read_text().replace(",0.10163\n", ",0.10162\n"))
    files = {t["kind"]: t["file"] for t in json.loads(manifest.read_text())["tables"]}
    manifest.write_text(json.dumps(build_manifest(tmp_path, "changed", files)))
    changed = load_factor_set(manifest)
    assert changed.id != factor_set.id
    assert changed.uri.startswith("file://")


def test_a_recorded_id_that_does_not_match_is_refused(tmp_path: Path) -> None:
    manifest = _copy_set(tmp_path)
    data = json.loads(manifest.read_text())
    data["id"] = "0x" + "00" * 32
    manifest.write_text(json.dumps(data))
    with pytest.raises(FactorError, match="recorded id"):
        load_factor_set(manifest)


HEADER = ("key,mode,vehicle_class,laden_state,refrigerated,radiative_forcing,defra_id,"
          "defra_level_2,defra_level_3,defra_level_4,defra_column_text,unit,kg_co2e_per_tkm\n")


@pytest.mark.parametrize(("row", "message"), [
    ("a,road,x,average,no,,id,l2,l3,,c,kg CO2e per tonne.km,-0.1\n", "non-negative"),
    ("a,road,x,average,no,,id,l2,l3,,c,kg CO2e per tonne.km,abc\n", "not a non-negative"),
    ("a,road,x,average,no,,id,l2,l3,,c,kg CO2e per km,0.1\n", "unit"),
    ("a,ship,x,average,no,,id,l2,l3,,c,kg CO2e per tonne.km,0.1\n", "mode"),
    ("a,road,x,average,no,,id,l2,l3,,c,kg CO2e per tonne.km,0.1\n"
     "a,road,y,average,no,,id,l2,l3,,c,kg CO2e per tonne.km,0.1\n", "duplicate key"),
])
def test_invalid_tables_are_refused(row: str, message: str) -> None:
    with pytest.raises(FactorError, match=message):
        parse_table("t", "freight_ttw", (HEADER + row).encode())


def test_wrong_columns_are_refused() -> None:
    with pytest.raises(FactorError, match="columns"):
        parse_table("t", "freight_ttw", b"key,value\na,1\n")
