#!/usr/bin/env bash
# Installs what building, testing and running the rollup needs, and nothing that is already there.
# Idempotent; safe to run on every invocation. Only package registries are used:
#   - npm (pinned in package.json + package-lock.json): forge, anvil, cast, solcjs, solady, OpenZeppelin,
#     viem (the live-data test drives its watchers)
#   - Debian apt: only if a required tool is missing
# Afterwards `source scripts/env.sh` puts the pinned tools first on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

need_cmd() { command -v "$1" >/dev/null 2>&1; }

# --- system packages --------------------------------------------------------------------------
missing_apt=()
need_cmd cc || missing_apt+=(gcc)
need_cmd make || missing_apt+=(make)
need_cmd node || missing_apt+=(nodejs)
need_cmd npm || missing_apt+=(npm)
if [ ${#missing_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "missing system packages: ${missing_apt[*]}; install them with apt-get (needs root)"; exit 1
  fi
  log "installing system packages: ${missing_apt[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_apt[@]}"
fi
need_cmd cargo || { log "cargo not found: install the Rust toolchain (rustup) first"; exit 1; }
# Debian's chromium, for the status page's headless browser test (tests/status/page.mjs drives
# it with playwright-core from npm, which downloads no browser). Needs root; without it the test
# says so and skips.
if ! need_cmd chromium; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing chromium (headless browser for the status page test)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
  else
    log "chromium is missing and installing it needs root: the status page browser test will skip (apt-get install chromium)"
  fi
fi

# --- npm toolchain ----------------------------------------------------------------------------
stamp=node_modules/.bootstrap-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x node_modules/.bin/forge ]; then
  log "installing pinned Foundry + solc from npm"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
chmod +x scripts/solc node_modules/@foundry-rs/*/bin/* 2>/dev/null || true
log "forge $(node_modules/.bin/forge --version | head -1 | awk '{print $3}'), solc $(scripts/solc --version | tail -1 | awk '{print $2}')"
