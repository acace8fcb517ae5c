#!/usr/bin/env bash
# Starts the devnet: an anvil L1, the rollup contracts, and the L2 node, until Ctrl-C.
# Extra arguments go to `rollup-node devnet` (see `--help`); state lives in ./devnet-data.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/bootstrap.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollup/target}"
cargo build --release --locked -p rollup-node
exec "$CARGO_TARGET_DIR/release/rollup-node" devnet --datadir ./devnet-data "$@"
