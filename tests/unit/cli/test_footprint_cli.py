"""The ``carbon-ledger footprint`` command: outputs, exit codes, nothing written on bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from ledger.cli.main import main

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _run(args: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(args)
        raise SystemExit(0)
    return int(info.value.code or 0)


def test_json_output_of_the_demo(tmp_path: Path) -> None:
    out = tmp_path / "fp.json"
    assert _run(["footprint", str(EXAMPLES / "demo-shipments.json"), "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    ids = [fp["shipment_id"] for fp in document["footprints"]]
    assert ids == ["NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001",
                   "HY-FAST-2026-0001"]
    assert document["factor_set"]["id"].startswith("0x")
    haiyan = document["footprints"][3]
    assert haiyan["cbam"]["embedded_g"] == 70_125_000  # 10 t x 6.375 t/t x 1.10
    assert all(isinstance(leg["co2e_wtw_g"], int) for fp in document["footprints"]
               for leg in fp["legs"])
    assert "e+" not in out.read_text()


def test_csv_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = str(EXAMPLES / "demo-shipments.csv")
    assert _run(["footprint", src, "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["shipment_id"] == "NB-APPL-2026-0001"
    assert rows[3]["cbam_embedded_g"] == "70125000"
    assert _run(["footprint", src, "--format", "csv", "--level", "leg"]) == 0
    legs = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(legs) == 8
    assert legs[1]["distance_method"] == "sea_route_cape"


def test_invalid_input_exits_2_lists_everything_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fp.csv"
    out_code = _run(["footprint", str(EXAMPLES / "bad-shipments.csv"), "--format", "csv",
                     "-o", str(out)])
    assert out_code == 2
    assert not out.exists() and not list(tmp_path.iterdir())
    err = capsys.readouterr().err
    for expected in ("row 2, shipment 'BAD-1', field 'mode'", "field 'mass_kg'",
                     "'NaN' is not a number", "unknown location code 'CNXXX'",
                     "unknown vehicle class 'truck'", "duplicate leg order",
                     "CN 7318 covers several lines of Annex I"):
        assert expected in err
    assert "9 problems" in err


def test_an_existing_output_survives_a_failed_run(tmp_path: Path) -> None:
    out = tmp_path / "fp.json"
    out.write_text("previous")
    assert _run(["footprint", str(EXAMPLES / "bad-shipments.csv"), "-o", str(out)]) == 2
    assert out.read_text() == "previous"


def test_csv_cells_with_commas_are_quoted(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "in.csv"
    src.write_text('shipment_id,leg,mode,mass_kg,distance_km\n"A,1 ""x""",1,road,1000,10\n')
    assert _run(["footprint", str(src), "--format", "csv"]) == 0
    (row,) = csv.DictReader(io.StringIO(capsys.readouterr().out))
    assert row["shipment_id"] == 'A,1 "x"'
    assert row["co2e_wtw_g"] == str(1 * 10 * (101_630 + 23_590) // 1000)
