#!/usr/bin/env bash
# Sets up everything the project runs with, from the files in the repository alone:
#   node_modules/  (npm ci: anvil, forge, cast, the Solidity compiler, OpenZeppelin)
#   .venv/         (Python >= 3.11 with the package and its dev tools, pinned by constraints.txt)
# Safe to run any number of times: each part is redone only when its lock file changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python >= 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# --- Node side -------------------------------------------------------------------------------
command -v npm >/dev/null || { echo "error: npm (Node 20) is required" >&2; exit 1; }
want_npm="$(digest package-lock.json)"
if [ "$(cat node_modules/.bootstrap-stamp 2>/dev/null || true)" != "$want_npm" ]; then
  echo "[bootstrap] npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want_npm" > node_modules/.bootstrap-stamp
fi

# --- Python side -----------------------------------------------------------------------------
want_py="$(digest pyproject.toml constraints.txt)"
if [ "$(cat .venv/.bootstrap-stamp 2>/dev/null || true)" != "$want_py" ]; then
  PY="$(pick_python)"
  echo "[bootstrap] Python venv with $("$PY" --version)"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  log="$(mktemp)"
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
    .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "error: installing the Python dependencies failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "$want_py" > .venv/.bootstrap-stamp
fi
