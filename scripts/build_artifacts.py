#!/usr/bin/env python3
"""Regenerate ledger/chain/artifacts/*.json (ABI + bytecode) from contracts/ with the pinned
compiler.

Usage: .venv/bin/python scripts/build_artifacts.py [--check]

--check compiles and exits 1 (writing nothing) when a committed artifact differs from the build.
The compiler is CARBON_LEDGER_SOLC when set, else scripts/solc (npm `solc`, needs `npm ci`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ledger.config import load_toolchain_settings  # noqa: E402
from ledger.dev.compile import build_artifacts  # noqa: E402
from ledger.errors import LedgerError  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail on a stale artifact")
    options = parser.parse_args()
    try:
        artifacts = build_artifacts(load_toolchain_settings(), project_root=ROOT)
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    folder = ROOT / "ledger" / "chain" / "artifacts"
    stale = []
    for name, artifact in sorted(artifacts.items()):
        path = folder / f"{name}.json"
        text = artifact.dumps()
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            print(f"{path.relative_to(ROOT)}: up to date ({artifact.artifact_hash})")
            continue
        if options.check:
            stale.append(path)
            print(f"{path.relative_to(ROOT)}: STALE", file=sys.stderr)
            continue
        path.write_text(text, encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: written ({artifact.artifact_hash})")
    if stale:
        print("run `.venv/bin/python scripts/build_artifacts.py` and commit the result",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
