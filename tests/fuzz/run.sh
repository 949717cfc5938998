#!/usr/bin/env bash
# cargo-fuzz (libFuzzer) over vouch's hostile-input parsers, for a bounded time each:
#   form_decoder   arbitrary bytes as query string + form body -> form::parse_into, a Params
#                  reader (create and list takes), finish, the error's Stripe rendering
#   expand_parser  arbitrary expand lists -> expand::session / expand::report, list and not
#
#   tests/fuzz/run.sh [SECONDS_PER_TARGET]     (default: FUZZ_SECONDS or 40)
#
# The toolchain here is stable; cargo-fuzz needs nightly's -Z flags, which RUSTC_BOOTSTRAP=1
# unlocks on stable. No sanitizer (-s none): the workspace forbids unsafe code, and a panic,
# an overflow (debug assertions are on) or a broken property is what we look for. Installs
# cargo-fuzz from crates.io when missing. Seeds: fuzz/seeds/<target> (the SDKs' wire bodies);
# the working corpus (fuzz/corpus) and crash artifacts (fuzz/artifacts) are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_TARGET="${1:-${FUZZ_SECONDS:-40}}"
CARGO_FUZZ_VERSION=0.13.2
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  echo "== installing cargo-fuzz $CARGO_FUZZ_VERSION (crates.io)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd fuzz
echo "== building fuzz targets"
cargo fuzz build -s none --debug-assertions

passed=0
failed=0
for target in form_decoder expand_parser; do
  echo "== fuzzing $target for ${SECONDS_PER_TARGET}s"
  mkdir -p "corpus/$target" "artifacts/$target"
  if ! cargo fuzz run -s none --debug-assertions "$target" "corpus/$target" "seeds/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -seed=1 -print_final_stats=1 \
      >"artifacts/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; last lines of fuzz/artifacts/$target.log:" >&2
    tail -n 40 "artifacts/$target.log" >&2
    failed=$((failed + 1))
  else
    grep -E '^(Done|stat::number_of_executed_units|stat::new_units_added)' "artifacts/$target.log" || true
    passed=$((passed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
