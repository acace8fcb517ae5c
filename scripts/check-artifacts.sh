#!/usr/bin/env bash
# Fails if contracts/artifacts differs from what scripts/gen-artifacts.sh produces from the
# current sources (CI guard: the Rust node embeds these files).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$root/scripts/gen-artifacts.sh" "$tmp"
if ! diff -r "$root/contracts/artifacts" "$tmp" >/dev/null 2>&1; then
  diff -rq "$root/contracts/artifacts" "$tmp" >&2 || true
  echo "contracts/artifacts is stale: run scripts/gen-artifacts.sh and commit" >&2
  exit 1
fi
echo "contracts/artifacts is up to date" >&2
