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
# In CI the shared target dir must not grow with every run: incremental caches of the
# workspace crates reached tens of GiB and a full disk fails MDBX commits mid-test.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"; fi
mkdir -p "$CARGO_TARGET_DIR"
free_kib=$(df -Pk "$CARGO_TARGET_DIR" | awk 'NR == 2 { print $4 }')
if [ "${free_kib:-0}" -lt $((8 * 1024 * 1024)) ]; then
  echo "warning: $((free_kib / 1024)) MiB free under $CARGO_TARGET_DIR; the build and the" \
    "MDBX tests need about 8 GiB (remove $CARGO_TARGET_DIR/debug/incremental to reclaim space)" >&2
fi

echo "== contracts: forge test"
(cd contracts && forge test)
echo "== contracts: embedded artifacts are fresh"
scripts/check-artifacts.sh
echo "== rust: cargo test"
# As root the bootstrap installed Chromium, so the status page's browser test must run, not skip.
if [ "$(id -u)" -eq 0 ]; then export STATUS_PAGE_REQUIRE_BROWSER=1; fi
cargo test --workspace --locked
