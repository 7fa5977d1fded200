"""Read-only commands (``proof``, ``status``, ``lookup``) never create a store: a missing store
is an error naming the path looked at, and the folder they run in stays as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

COMMANDS = [("proof", "S-1"), ("status",), ("status", "--no-sync"), ("lookup", "S-1")]


def _run(args: tuple[str, ...], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CARBON_LEDGER_")}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "ledger.cli.main", *args], cwd=cwd,
                          env=environ, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_missing_default_store_is_named_and_not_created(args: tuple[str, ...],
                                                           tmp_path: Path) -> None:
    done = _run(args, tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"no ledger store at {tmp_path / 'var' / 'ledger.sqlite'}" in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_a_missing_given_store_is_named_with_where_it_came_from(args: tuple[str, ...],
                                                                tmp_path: Path) -> None:
    given = tmp_path / "sub" / "ledger.sqlite"
    by_option = _run((*args, "--store", str(given)), tmp_path)
    assert f"no ledger store at {given} (--store)" in by_option.stderr
    by_env = _run(args, tmp_path, CARBON_LEDGER_STORE=str(given))
    assert f"no ledger store at {given} ($CARBON_LEDGER_STORE)" in by_env.stderr
    assert list(tmp_path.iterdir()) == []
