"""The README's main command: the whole journey on its own embedded Anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from ledger.dev.demo import run_demo, summary_lines

pytestmark = pytest.mark.chain


def test_demo_journey_ends_with_every_report_verified_and_one_attested(tmp_path: Path) -> None:
    run = run_demo(tmp_path / "out", block_time_s=0.25, echo=lambda _line: None)

    assert run.ok
    by_id = {row.shipment_id: row for row in run.rows}
    assert set(by_id) == {"NB-APPL-2026-0001", "YW-RAIL-2026-0001", "HZ-AIR-2026-0001",
                          "HY-FAST-2026-0001"}
    assert {row.path for row in run.rows} == {"events", "root"}
    # The CBAM good: 10 t of CN 7318 15 from China in 2026 = 10 x 6.375 t x 1.10 (Reg. 2025/2621
    # as corrected by Reg. 2026/1740).
    fasteners = by_id["HY-FAST-2026-0001"]
    assert fasteners.cbam.startswith("in scope: 70,125.0 kg embedded")
    assert fasteners.attested_by, "the auditor's attestation is listed by the second verify"
    others = [row for sid, row in by_id.items() if sid != "HY-FAST-2026-0001"]
    assert all(row.cbam == "out of scope" for row in others)
    # per-shipment path: exactly one live record of each shipment on chain
    assert all(row.on_chain_records == 1 for row in run.rows if row.path == "events")

    reports = {p.name for p in (run.out_dir / "reports").iterdir()}
    stems = {Path(p).stem for p in reports if p.endswith(".json") and ".cbam" not in p}
    assert len(stems) == 4
    for stem in stems:
        assert f"{stem}.html" in reports
    xml_files = [p for p in reports if p.endswith(".cbam.xml")]
    assert len(xml_files) == 1, "only the CBAM good gets a QReport"
    etree.parse(str(run.out_dir / "reports" / xml_files[0]))

    bundle = json.loads((run.out_dir / "proofs" / "YW-RAIL-2026-0001.json").read_text())
    assert bundle["path"] == "root" and bundle["proof"] is not None
    assert run.state_path.is_file(), "the chain is saved for later verification"

    table = summary_lines(run)
    assert len(table) == 2 + len(run.rows)
    assert "NO" not in " ".join(table).split()
