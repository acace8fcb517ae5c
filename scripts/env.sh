# Source this file: puts the project's pinned Foundry tools on PATH, and the `rollup-node` that
# scripts/devnet.sh builds (release, in $CARGO_TARGET_DIR or ~/.cache/rollup/target).
_rollup_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_rollup_root/node_modules/.bin:${CARGO_TARGET_DIR:-$HOME/.cache/rollup/target}/release:$PATH"
unset _rollup_root
