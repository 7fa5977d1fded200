"""Misuse of the command line as a new user meets it: one message, exit 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "demo-shipments.csv"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


MISUSES = [
    (("footprint", str(EXAMPLE), "--format", "xlsx"), ["--format", "csv", "json"]),
    (("footprint", str(EXAMPLE), "--level", "row"), ["--level", "shipment", "leg"]),
    (("footprint", "no-such-file.csv"), ["no-such-file.csv", "does not exist"]),
    (("report",), ["BUNDLE"]),
    (("report", str(EXAMPLE)), ["--first-day"]),
    (("no-such-command",), ["no-such-command"]),
    (("footprint", str(EXAMPLE), "--no-such-option"), ["--no-such-option"]),
    (("verify", str(EXAMPLE), "--confirmations", "0"), ["--confirmations", "1"]),
    (("anchor", str(EXAMPLE), "--wait", "forever"), ["--wait", "final", "mined", "sent"]),
    (("anchor", str(EXAMPLE), "--path", "tree"), ["--path", "events", "root"]),
]


@pytest.mark.parametrize(("args", "named"), MISUSES, ids=[" ".join(a[:1] + a[2:]) or a[0]
                                                          for a, _ in MISUSES])
def test_misuse_exits_2_with_one_message_naming_the_flag(
        args: tuple[str, ...], named: list[str], tmp_path: Path) -> None:
    done = _run(*args, cwd=tmp_path)
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert done.stderr.startswith("error: "), done.stderr
    for word in named:
        assert word in done.stderr, (word, done.stderr)
    assert list(tmp_path.iterdir()) == [], "a usage error creates nothing"


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = _run("--debug", "footprint", str(EXAMPLE), "--format", "xlsx", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" in done.stderr
    assert "--format" in done.stderr


def test_help_marks_required_options_and_shows_choices(tmp_path: Path) -> None:
    footprint = _run("footprint", "--help", cwd=tmp_path)
    assert footprint.returncode == 0
    assert "json|csv" in footprint.stdout
    assert "shipment|leg" in footprint.stdout
    report = _run("report", "--help", cwd=tmp_path)
    first_day = next(line for line in report.stdout.splitlines() if "--first-day" in line)
    assert "*" in first_day
    assert "[required]" in report.stdout


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    done = _run("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"carbon-ledger {version('carbon-ledger')}"
