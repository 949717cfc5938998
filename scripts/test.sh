#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone:
#   1. Rust unit tests, the storage contract (SQLite and PostgreSQL) and the HTTP integration
#      suite (each test starts the real `vouch` binary on port 0 against a fresh SQLite file);
#   2. the HTTP integration suite again against a fresh PostgreSQL database per test;
#   3. the hosted page in headless Chromium (tests/browser; screenshots in
#      target/browser-artifacts/), as part of step 1;
#   4. the official Stripe SDKs (Python `stripe` from PyPI, Node `stripe` from npm) against
#      the built binary (installed into tests/compat/, nothing global).
# PostgreSQL: VOUCH_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
# It is started if it is installed but down. VOUCH_REQUIRE_POSTGRES=1 (CI sets it) makes a
# missing PostgreSQL a failure; otherwise its tests say they are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_url="${VOUCH_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pg_up() { command -v pg_isready >/dev/null && pg_isready -q -d "$pg_url"; }
if ! pg_up && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  echo "== starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
fi
have_pg=0
if pg_up; then have_pg=1; fi
if [ "$have_pg" = 0 ] && [ "${VOUCH_REQUIRE_POSTGRES:-0}" = 1 ]; then
  echo "PostgreSQL at $pg_url is required (VOUCH_REQUIRE_POSTGRES=1) but not reachable" >&2
  exit 1
fi

# The hosted page's browser tests (crates/server/tests/browser) drive Debian's chromium with
# chromedriver. Installed here when missing and we are root; VOUCH_REQUIRE_BROWSER=1 (CI sets
# it) makes their absence a failure, otherwise those tests print SKIPPED.
if ! { command -v chromium && command -v chromedriver; } >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing chromium and chromium-driver (browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null \
      || echo "could not install chromium (browser tests will say SKIPPED unless required)"
  fi
fi

# axe-core for the dashboard's accessibility checks in the browser tests, pinned in
# tests/browser-deps/package-lock.json (its node_modules/ is git-ignored).
if command -v npm >/dev/null; then
  echo "== npm ci in tests/browser-deps (axe-core)"
  (cd tests/browser-deps && npm ci --no-audit --no-fund --loglevel=error)
else
  echo "npm not found: the dashboard's axe-core checks will say SKIPPED unless required"
fi

echo "== cargo test (unit, storage contract, HTTP integration on SQLite)"
cargo test --workspace --locked

if [ "$have_pg" = 1 ]; then
  echo "== HTTP integration suite on PostgreSQL"
  VOUCH_TEST_BACKEND=postgres VOUCH_REQUIRE_POSTGRES=1 cargo test --locked -p vouch-server --test it
else
  echo "== PostgreSQL not reachable at $pg_url: integration suite on PostgreSQL SKIPPED"
fi

echo "== official SDK compatibility (tests/compat)"
cargo build --locked -p vouch-server --bin vouch
bash tests/compat/run.sh target/debug/vouch

# Hostile input: schemathesis generates valid and invalid requests for every operation of
# vouch's OpenAPI document (no 5xx, responses as documented), then libFuzzer runs the form
# decoder and the expand parser for a bounded time (cargo-fuzz on stable via RUSTC_BOOTSTRAP).
echo "== schemathesis against GET /openapi.json (tests/schemathesis)"
bash tests/schemathesis/run.sh target/debug/vouch

echo "== cargo fuzz: form decoder and expand parser (tests/fuzz)"
bash tests/fuzz/run.sh
