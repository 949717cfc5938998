#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone: Rust unit, contract and HTTP integration tests
# (each integration test starts the real `vouch` binary on port 0 against a fresh SQLite file),
# then the official Stripe SDKs (Python `stripe` from PyPI, Node `stripe` from npm) against
# the built binary. Installs what it needs (the SDKs go into tests/compat/, nothing global).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (unit, store contract, HTTP integration)"
cargo test --workspace --locked

echo "== official SDK compatibility (tests/compat)"
cargo build --locked -p vouch-server --bin vouch
bash tests/compat/run.sh target/debug/vouch
