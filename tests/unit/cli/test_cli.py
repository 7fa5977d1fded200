"""The console script's exit codes, as a shell or CI job sees them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger.cli.main", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


def test_invalid_input_exits_2_and_names_the_problem(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = _run("footprint", str(ROOT / "examples" / "bad-shipments.csv"), "-o", str(out))
    assert done.returncode == 2
    assert "problem" in done.stderr
    assert not out.exists(), "no partial output on bad input"


def test_a_command_ending_in_a_failure_exits_non_zero(tmp_path: Path) -> None:
    # `proof --check` of a shipment that is not in the store: a ledger error, exit 1
    done = _run("proof", "NO-SUCH-SHIPMENT", "--store", str(tmp_path / "empty.sqlite"),
                cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "error:" in done.stderr


EXPECTED_COMMANDS = {
    "demo", "devnet", "footprint", "anchor", "proof", "status", "lookup", "report", "verify",
    "declaration",
    "attest", "revoke-attestation", "serve", "revoke", "supplier-data",
    "deploy", "grant-role", "revoke-role", "register-factor-set", "factor-sets", "alternatives",
    "supersede", "recover",
}


def test_the_app_registers_exactly_the_documented_commands() -> None:
    import typer.main

    from ledger.cli.main import build_app

    commands = getattr(typer.main.get_command(build_app()), "commands", None)
    assert isinstance(commands, dict), "the app is a group of commands"
    assert set(commands) == EXPECTED_COMMANDS


def test_help_lists_every_command() -> None:
    done = _run("--help")
    assert done.returncode == 0
    section = done.stdout.split("Commands", 1)[1]
    # a command's row starts with its name; continuation rows start with spaces
    listed = set(re.findall(r"^\W? ?([a-z][a-z-]*)  ", section, flags=re.MULTILINE))
    assert listed == EXPECTED_COMMANDS


def test_exit_code_of_a_command_reaches_the_shell(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest
    import typer

    from ledger.cli import main as cli

    app = typer.Typer()

    @app.command()
    def fails() -> None:
        raise typer.Exit(3)

    @app.command()
    def other() -> None:
        pass

    monkeypatch.setattr(cli, "build_app", lambda: app)
    with pytest.raises(SystemExit) as exited:
        cli.main(["fails"])
    assert exited.value.code == 3


def test_serve_prints_an_rpc_url_without_what_may_carry_a_key() -> None:
    from ledger.cli.serve import shown_rpc_url

    assert shown_rpc_url("http://127.0.0.1:8545") == "http://127.0.0.1:8545"
    assert shown_rpc_url("http://127.0.0.1:8545/") == "http://127.0.0.1:8545"
    for keyed in ("https://eth-sepolia.example.org/v2/k3yK3yK3y",
                  "https://eth-sepolia.example.org/?apikey=k3yK3yK3y",
                  "https://user:k3yK3yK3y@eth-sepolia.example.org"):
        shown = shown_rpc_url(keyed)
        assert shown == "https://eth-sepolia.example.org/…", keyed
        assert "k3yK3yK3y" not in shown


def test_verify_of_a_malformed_report_names_format_as_the_only_failure(tmp_path: Path) -> None:
    report = tmp_path / "not-a-report.json"
    report.write_text('{"hello": 1}', encoding="utf-8")
    done = _run("verify", str(report), "--rpc", "http://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert done.stdout.rstrip().endswith("NOT VERIFIED: failed: format (13 checks not run)")
    assert "report not verified: failed: format (13 checks not run)" in done.stderr
