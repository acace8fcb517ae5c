#!/usr/bin/env bash
# Starts the devnet: an anvil L1, the rollup contracts, and the L2 node, until Ctrl-C.
# Extra arguments go to `rollup-node devnet` (see `--help`); state lives in ./devnet-data unless
# they (or ROLLUP_DATADIR) name another --datadir.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
scripts/bootstrap.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/rollup/target}"
cargo build --release --locked -p rollup-node
# exec: the node replaces this shell (same pid, same process group), so Ctrl-C and SIGTERM reach
# it directly, with no shell left to swallow them; it stops its roles, then its anvil, and exits.
datadir=(--datadir ./devnet-data)
if [[ -n "${ROLLUP_DATADIR:-}" ]]; then datadir=(); fi
for arg in "$@"; do
  case "$arg" in --datadir | --datadir=*) datadir=() ;; esac
done
exec "$CARGO_TARGET_DIR/release/rollup-node" devnet "${datadir[@]}" "$@"
