#!/usr/bin/env bash
# schemathesis (PyPI) against a built vouch, driven by vouch's own OpenAPI document
# (GET /openapi.json): every operation, Stripe's and vouch's, with generated valid and invalid
# input. Checks: no 5xx, every response conforms to the documented schema, content type and
# status code.
#
#   tests/schemathesis/run.sh [PATH_TO_VOUCH_BINARY]   (default: <repo>/target/debug/vouch)
#
# Installs schemathesis into tests/schemathesis/.venv (pinned in requirements.txt). Bounded
# and reproducible: fixed seed, no example database, ST_MAX_EXAMPLES generated cases per
# operation and phase (default 40); a run longer than ST_TIMEOUT seconds (default 300) fails.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$DIR/../.." && pwd)"
BIN="${1:-$REPO_ROOT/target/debug/vouch}"
case "$BIN" in /*) ;; *) BIN="$PWD/$BIN" ;; esac
[ -x "$BIN" ] || { echo "schemathesis: vouch binary not found: $BIN" >&2; exit 2; }

VENV="$DIR/.venv"
if [ ! -x "$VENV/bin/st" ] || ! cmp -s "$DIR/requirements.txt" "$VENV/.requirements.txt"; then
  echo "== setup: schemathesis venv ($VENV)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$DIR/requirements.txt"
  cp "$DIR/requirements.txt" "$VENV/.requirements.txt"
fi
"$VENV/bin/st" --version

TMP="$(mktemp -d)"
KEY="sk_test_schemathesis$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# A fresh database; port 0 picks a free port, read back from the banner. The webhook worker
# polls once a day: endpoints that schemathesis creates get no deliveries, so no request leaves
# this machine whatever URL it generated.
"$BIN" serve --listen 127.0.0.1:0 --database-url "sqlite://$TMP/vouch.db" --api-key "$KEY" \
  --webhook-poll-interval 24h --log-format json >"$TMP/stdout" 2>"$TMP/vouch.log" &
PID=$!
BASE=""
for _ in $(seq 1 100); do
  BASE="$(grep -ohE 'listening on http://[0-9.:]+' "$TMP/stdout" "$TMP/vouch.log" 2>/dev/null | head -n1 | sed 's/listening on //')" || true
  [ -n "$BASE" ] && break
  kill -0 "$PID" 2>/dev/null || { cat "$TMP/vouch.log" >&2; echo "schemathesis: vouch did not start" >&2; exit 2; }
  sleep 0.1
done
[ -n "$BASE" ] || { echo "schemathesis: no 'listening on' line from vouch" >&2; exit 2; }
echo "vouch at $BASE"

"$VENV/bin/python" "$DIR/seed.py" "$BASE" "$KEY" "$TMP/schemathesis.toml"

rc=0
# From the temporary directory: schemathesis keeps a crash cache in ./.schemathesis.
cd "$TMP"
timeout "${ST_TIMEOUT:-300}" "$VENV/bin/st" --config-file "$TMP/schemathesis.toml" run "$BASE/openapi.json" \
  --header "Authorization: Bearer $KEY" \
  --checks not_a_server_error,response_schema_conformance,content_type_conformance,status_code_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-40}" \
  --seed "${ST_SEED:-20261130}" \
  --generation-database none \
  --workers 1 \
  --request-timeout 10 \
  --no-color --output-truncate true ${ST_EXTRA_ARGS:-} \
  || rc=$?

if grep -q '"level":"ERROR"' "$TMP/vouch.log"; then
  echo "== vouch logged errors during the run:" >&2
  grep '"level":"ERROR"' "$TMP/vouch.log" | head -n 20 >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
