"""The README's way to re-check a demo report later: restart the saved chain with ``devnet``
(nothing deployed: the demo's contract is reused) and ``verify`` a report against it."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger.cli.main import main
from ledger.dev.anvil import free_port
from ledger.dev.demo import run_demo

pytestmark = pytest.mark.chain
ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[list[str]]:
    """The commands of the README's re-check block (the ``devnet`` and ``verify`` lines)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## The demo"):text.index("## The command line")]
    lines = [line.split("#")[0] for line in section.splitlines()
             if line.startswith(".venv/bin/carbon-ledger ")]
    return [shlex.split(line)[1:] for line in lines]


def test_the_readme_recheck_reuses_the_demo_chain_and_verifies(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo-output"
    run = run_demo(out, block_time_s=0.25, echo=lambda _line: None)
    assert run.ok
    devnet, verify = _readme_commands()
    assert devnet[0] == "devnet" and verify[0] == "verify"
    port = str(free_port())

    def local(args: list[str]) -> list[str]:
        return [a.replace("demo-output", str(out)).replace("8545", port) for a in args]

    process = subprocess.Popen(
        [sys.executable, "-c", "from ledger.cli.main import main; main()", *local(devnet)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ready."):
                break
        text = "".join(lines)
        assert "Ready." in text, text
        (address,) = re.findall(r"^  CarbonLedger\s+(\S+)", text, re.MULTILINE)
        assert address == run.contract
        assert "(kept from the state file)" in text
        assert not (tmp_path / "var").exists(), "no other deployment file was written"
        for report in sorted(run.reports.values()):
            args = local(verify)
            args[1] = str(report)
            capsys.readouterr()
            try:
                main(args)
                code = 0
            except SystemExit as exc:
                code = int(exc.code or 0)
            printed = capsys.readouterr()
            assert code == 0, printed.out + printed.err
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=60)
