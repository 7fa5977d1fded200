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
step "mypy (ledger/, api/)"
.venv/bin/mypy
step "forge fmt --check"
forge fmt --check
step "forge test"
forge test
step "forge snapshot --check (gas of the unit and gas tests)"
forge snapshot --no-match-contract 'Fuzz|Invariant' --check
step "slither"
bash scripts/slither.sh

step "browser for the web-page tests"
bash scripts/install-chromium.sh

# In CI every tier must run: Anvil (chain), Node (node), the service (api), PostgreSQL
# (postgres: the project's machines run one on 127.0.0.1:5432) and Chromium (browser).
# Elsewhere the PostgreSQL tier runs when CARBON_LEDGER_TEST_POSTGRES_URL is set, and is
# skipped with a notice otherwise.
if [ "${CI:-}" = "true" ]; then
  export CARBON_LEDGER_REQUIRE_TIERS="${CARBON_LEDGER_REQUIRE_TIERS:-chain,node,api,postgres,browser}"
  export CARBON_LEDGER_TEST_POSTGRES_URL="${CARBON_LEDGER_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}"
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "PostgreSQL is not answering on 127.0.0.1:5432; trying to start it"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
elif [ -z "${CARBON_LEDGER_TEST_POSTGRES_URL:-}" ] && command -v pg_isready >/dev/null &&
  pg_isready -q -h 127.0.0.1 -p 5432; then
  # a local server answers: run the PostgreSQL tier against its `test` database
  export CARBON_LEDGER_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
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
