#!/usr/bin/env bash
# Runs every test: contracts (forge), artifact freshness, and the Rust workspace (unit,
# integration, and end-to-end tests against a real anvil L1 and real MDBX).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/bootstrap.sh
source scripts/env.sh
# Build output outside the clone, so repeated runs reuse it (a cold run works too).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollup/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

echo "== contracts: forge test"
(cd contracts && forge test)
echo "== contracts: embedded artifacts are fresh"
scripts/check-artifacts.sh
echo "== rust: cargo test"
# As root the bootstrap installed Chromium, so the status page's browser test must run, not skip.
if [ "$(id -u)" -eq 0 ]; then export STATUS_PAGE_REQUIRE_BROWSER=1; fi
cargo test --workspace --locked
