# Source this file: puts the project's pinned Foundry tools on PATH.
_rollup_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_rollup_root/node_modules/.bin:$PATH"
unset _rollup_root
