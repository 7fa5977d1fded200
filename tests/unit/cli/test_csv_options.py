"""``footprint`` on a spreadsheet's CSV: detected separator and encoding, ignored columns."""

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


def _excel_file(tmp_path: Path) -> Path:
    """The demo as a Chinese Excel saves it: GB18030, semicolons, an ERP column, empty rows."""
    with (EXAMPLES / "demo-shipments.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[0] = [name.upper() for name in rows[0]] + ["订单号"]
    rows[1:] = [[*row, f"PO{i}"] for i, row in enumerate(rows[1:])]
    rows += [[""] * len(rows[0])] * 3
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path = tmp_path / "excel.csv"
    path.write_bytes(out.getvalue().encode("gb18030"))
    return path


def test_footprint_of_an_excel_export_equals_the_demo(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _excel_file(tmp_path)
    assert _run(["footprint", str(path)]) == 2
    err = capsys.readouterr().err
    assert "unknown column '订单号'" in err
    assert "--ignore-column" in err
    assert "Traceback" not in err
    ours, demo = tmp_path / "ours.json", tmp_path / "demo.json"
    assert _run(["footprint", str(path), "--ignore-column", "订单号", "-o", str(ours)]) == 0
    assert "warning: " in capsys.readouterr().err
    assert _run(["footprint", str(EXAMPLES / "demo-shipments.csv"), "-o", str(demo)]) == 0
    assert json.loads(ours.read_text()) == json.loads(demo.read_text())


def test_a_wrong_named_separator_or_encoding_is_a_usage_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _excel_file(tmp_path)
    assert _run(["footprint", str(path), "--separator", "pipe"]) == 2
    assert "--separator" in capsys.readouterr().err
    assert _run(["footprint", str(path), "--encoding", "ebcdic-martian"]) == 2
    err = capsys.readouterr().err
    assert "unknown encoding 'ebcdic-martian'" in err
    assert _run(["footprint", str(EXAMPLES / "demo-shipments.json"),
                 "--ignore-column", "x"]) == 2
    assert "apply to .csv files only" in capsys.readouterr().err
