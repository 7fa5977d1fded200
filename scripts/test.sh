#!/usr/bin/env bash
# Runs every check and every test: lint, types, contract format, Foundry tests, Slither, pytest.
# Sets itself up first (scripts/bootstrap.sh). Extra arguments go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/bootstrap.sh
export PATH="$ROOT/node_modules/.bin:$PATH"

step() { printf '\n== %s\n' "$*"; }

step "ruff"
.venv/bin/ruff check ledger api tests scripts
step "mypy (ledger/)"
.venv/bin/mypy
step "forge fmt --check"
forge fmt --check
step "forge test"
forge test
step "forge snapshot --check (gas of the unit and gas tests)"
forge snapshot --no-match-contract 'Fuzz|Invariant' --check
step "slither"
bash scripts/slither.sh

# Tiers that must run (not be skipped) when this runs in CI.
if [ "${CI:-}" = "true" ]; then
  export CARBON_LEDGER_REQUIRE_TIERS="${CARBON_LEDGER_REQUIRE_TIERS:-chain,node}"
fi

step "pytest"
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then
  echo "error: pytest collected no tests" >&2
  exit 1
fi
exit "$rc"
