#!/usr/bin/env bash
# Run the official Stripe SDKs (Python `stripe`, Node `stripe`) against a built vouch binary.
#
#   tests/compat/run.sh [PATH_TO_VOUCH_BINARY]     (default: <repo>/target/debug/vouch)
#
# Sets everything up itself: a venv in tests/compat/.venv, pip install of python/requirements.txt,
# npm ci in tests/compat/node. Exits non-zero if either suite fails or runs no test.
set -euo pipefail

COMPAT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$COMPAT_DIR/../.." && pwd)"

section() {
  printf '\n==================== %s ====================\n' "$*"
}
die() {
  echo "compat: $*" >&2
  exit 2
}

# ---- the binary under test -------------------------------------------------------------------
BIN="${1:-$REPO_ROOT/target/debug/vouch}"
case "$BIN" in
  /*) ;;
  *) BIN="$PWD/$BIN" ;;
esac
[ -f "$BIN" ] || die "vouch binary not found: $BIN (build it first, e.g. cargo build -p vouch-server)"
[ -x "$BIN" ] || die "vouch binary is not executable: $BIN"
export VOUCH_BIN="$BIN"

command -v python3 >/dev/null || die "python3 not found"
command -v node >/dev/null || die "node not found"
command -v npm >/dev/null || die "npm not found"

section "setup: python venv (tests/compat/.venv)"
VENV="$COMPAT_DIR/.venv"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$COMPAT_DIR/python/requirements.txt"
"$VENV/bin/python" -c 'import stripe, pytest; print("python", __import__("sys").version.split()[0], "| stripe", stripe.VERSION, "| pytest", pytest.__version__)'

section "setup: node packages (tests/compat/node)"
(
  cd "$COMPAT_DIR/node"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  echo "node $(node --version) | stripe $(node -p 'require("./node_modules/stripe/package.json").version')"
)

echo
echo "vouch binary: $VOUCH_BIN"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

TIMEOUT=()
if command -v timeout >/dev/null; then
  TIMEOUT=(timeout 300)
fi

# ---- python ----------------------------------------------------------------------------------
section "python: pytest (stripe==16.1.0)"
py_rc=0
(
  cd "$COMPAT_DIR/python"
  "${TIMEOUT[@]}" "$VENV/bin/python" -m pytest -q
) || py_rc=$?
if [ "$py_rc" -eq 5 ]; then
  echo "python: pytest collected no tests" >&2
fi

# ---- node ------------------------------------------------------------------------------------
section "node: node --test (stripe@23.1.0)"
node_rc=0
(
  cd "$COMPAT_DIR/node"
  shopt -s nullglob
  files=(*.test.mjs)
  if [ "${#files[@]}" -eq 0 ]; then
    echo "node: no *.test.mjs files" >&2
    exit 1
  fi
  "${TIMEOUT[@]}" node --test \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$TMP/node.tap" \
    "${files[@]}"
) || node_rc=$?
# node 20 reports a test file that defines no tests as one passing "test" named after the file,
# so count only passed tests that are not whole files (and not skipped/todo).
node_pass="$(grep -E '^ok [0-9]+ - ' "$TMP/node.tap" 2>/dev/null | grep -vE '\.test\.mjs$|# (SKIP|TODO)' | wc -l | tr -d ' ')" || node_pass=0
node_fail="$(sed -n 's/^# fail \([0-9][0-9]*\)$/\1/p' "$TMP/node.tap" 2>/dev/null | tail -n1)" || true
if [ "${node_pass:-0}" -eq 0 ]; then
  echo "node: no test ran" >&2
  [ "$node_rc" -ne 0 ] || node_rc=1
fi

# ---- summary ---------------------------------------------------------------------------------
section "summary"
status_word() { if [ "$1" -eq 0 ]; then echo "PASS"; else echo "FAIL (exit $1)"; fi; }
echo "python (pytest):    $(status_word "$py_rc")"
echo "node (node --test): $(status_word "$node_rc")  [pass ${node_pass:-0}, fail ${node_fail:-?}]"
if [ "$py_rc" -ne 0 ] || [ "$node_rc" -ne 0 ]; then
  exit 1
fi
