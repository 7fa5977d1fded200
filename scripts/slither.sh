#!/usr/bin/env bash
# Static analysis of the contracts with Slither, through Foundry.
#
# Slither pins web3 < 8, so it lives in its own virtual environment, .venv-slither/, created here
# when missing or when the pins below change. The build goes to cache/slither/ so that the
# project's out/ and cache/ are left alone (crytic-compile runs `forge clean` before it builds).
#
# Exits non-zero when a finding of high or medium impact is reported, or when a
# `slither-disable-next-line` comment in contracts/ has no explanation on the line above it.
# Usage: bash scripts/slither.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV=.venv-slither
PINS='slither-analyzer==0.11.6
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
annotated-types==0.8.0
attrs==26.1.0
bitarray==3.12.3
cbor2==6.3.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
ckzg==2.1.8
crytic-compile==0.4.2
cytoolz==1.2.0
eth-account==0.14.0
eth-hash==0.8.0
eth-keyfile==0.10.0
eth-keys==0.8.0
eth-rlp==3.0.0
eth-typing==6.0.0
eth-utils==6.0.0
eth_abi==6.0.0
frozenlist==1.8.0
hexbytes==2.0.0
idna==3.20
multidict==7.2.1
packaging==26.4
parsimonious==0.10.0
prettytable==3.18.0
propcache==0.5.4
py-ecc==8.0.0
pycryptodome==3.24.1
pydantic==2.14.4
pydantic_core==2.50.5
pyunormalize==18.0.0
regex==2026.11.19
requests==2.34.2
rlp==5.0.0
solc-select==1.2.0
toolz==1.2.0
types-requests==2.33.0.20261030
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
wcwidth==0.9.4
web3==7.16.0
websockets==15.0.1
yarl==1.25.1'

pick_python() {
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "error: Python >= 3.10 is required for Slither (set PYTHON=/path/to/python3)" >&2
  return 1
}

want="$(printf '%s\n' "$PINS" | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.pins-sha256" 2>/dev/null || true)" != "$want" ] || [ ! -x "$VENV/bin/slither" ]; then
  echo "[slither] creating $VENV"
  rm -rf "$VENV"
  "$(pick_python)" -m venv "$VENV"
  printf '%s\n' "$PINS" >"$VENV/pins.txt"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$VENV/pins.txt"
  echo "$want" >"$VENV/.pins-sha256"
fi

# Every `slither-disable-next-line` must say why on the line above it.
unexplained=0
while IFS= read -r file; do
  awk -v f="$file" '
    /slither-disable-next-line/ {
      detector = $0
      sub(/.*slither-disable-next-line[[:space:]]*/, "", detector)
      if (prev !~ /^[[:space:]]*\/\// || prev ~ /slither-disable/) {
        printf "%s:%d: slither-disable-next-line without an explanation on the line above\n", f, NR
        bad = 1
      } else {
        reason = prev
        sub(/^[[:space:]]*\/\/[[:space:]]*/, "", reason)
        printf "[slither] explained: %s:%d %s: %s\n", f, NR + 1, detector, reason
      }
    }
    { prev = $0 }
    END { exit bad }
  ' "$file" || unexplained=1
done < <(find contracts -name '*.sol' -not -path 'contracts/test/*' | sort)

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
report="$workdir/slither.json"
start_ns=$(date +%s%N)
set +e
PATH="$ROOT/node_modules/.bin:$PATH" FOUNDRY_OUT=cache/slither/out FOUNDRY_CACHE_PATH=cache/slither/cache \
  "$VENV/bin/slither" . --config-file slither.config.json --compile-force-framework foundry \
  --warn-unused-ignores --json "$report" --disable-color
slither_status=$?
set -e
elapsed_ms=$((($(date +%s%N) - start_ns) / 1000000))

"$VENV/bin/python" - "$report" "$elapsed_ms" <<'EOF'
import json
import sys

path, elapsed_s = sys.argv[1], int(sys.argv[2]) / 1000
with open(path) as fh:
    data = json.load(fh)
if not data.get("success"):
    print(f"[slither] failed: {data.get('error')}")
    sys.exit(2)
detectors = data.get("results", {}).get("detectors", [])
order = ["High", "Medium", "Low", "Informational", "Optimization"]
counts = {impact: 0 for impact in order}
for finding in detectors:
    counts[finding["impact"]] = counts.get(finding["impact"], 0) + 1
summary = ", ".join(f"{impact.lower()} {counts[impact]}" for impact in order)
print(f"[slither] findings: {summary} ({elapsed_s:.1f} s)")
for finding in detectors:
    first = finding["description"].strip().splitlines()[0]
    print(f"[slither]   {finding['impact']}/{finding['check']}: {first}")
EOF

if [ "$unexplained" -ne 0 ]; then
  echo "[slither] FAIL: unexplained slither-disable comments" >&2
  exit 1
fi
if [ "$slither_status" -ne 0 ]; then
  echo "[slither] FAIL: finding(s) of medium or high impact (see above)" >&2
  exit 1
fi
echo "[slither] OK: no unexplained finding of medium or high impact"
