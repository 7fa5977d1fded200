#!/usr/bin/env bash
# The main job: the end-to-end demo on an embedded local chain (see README).
# Sets itself up first (scripts/bootstrap.sh); outputs go to demo-output/ (or the --out given).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/bootstrap.sh
exec .venv/bin/carbon-ledger demo "$@"
