#!/usr/bin/env bash
# Builds contracts/ with forge and writes contracts/artifacts/<Name>.json ({"bytecode","deployedBytecode"},
# creation and runtime code) for the contracts the Rust node embeds, so the devnet needs no forge at
# run time, and contracts/artifacts/errors.json, the custom errors they can revert with. Output is compact with sorted keys and a trailing newline, hence stable across runs.
# Usage: scripts/gen-artifacts.sh [OUT_DIR]   (default: contracts/artifacts)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_dir=${1:-"$root/contracts/artifacts"}
# shellcheck source=env.sh
source "$root/scripts/env.sh"

# Name:File[:predeploy] (forge writes out/<File>.sol/<Name>.json). A predeploy is placed in the
# L2 genesis from its runtime code alone, so it must not use immutables. TimelockController and
# TransparentUpgradeableProxy (OpenZeppelin, compiled because script/Deploy.s.sol imports them)
# govern the L1 contracts; the proxy deploys its own ProxyAdmin, so that needs no artifact.
# SegmentOpenerHarness is test-only: crates/execution/tests/segment_opener.rs runs the on-chain
# segment opener in revm against the Rust codec.
contracts=(
  L1Bridge:L1Bridge
  BatchInbox:BatchInbox
  StateManager:StateManager
  DevToken:DevToken
  L2Bridge:L2Bridge:predeploy
  Multicall3:Multicall3:predeploy
  BridgedERC20:BridgedERC20
  TimelockController:TimelockController
  TransparentUpgradeableProxy:TransparentUpgradeableProxy
  DisputeGame:DisputeGame
  OneStepVerifier:OneStepVerifier
  SegmentStore:SegmentStore
  SegmentOpenerHarness:SegmentOpenerHarness
)

(cd "$root/contracts" && forge build --quiet)

mkdir -p "$out_dir"
node - "$root/contracts/out" "$out_dir" "${contracts[@]}" <<'JS'
const fs = require("fs");
const path = require("path");
const [forgeOut, outDir, ...entries] = process.argv.slice(2);
// Every custom error the embedded contracts can revert with (their own, inherited and of the
// libraries they call), as `Name(type name,...)`, so the node names the errors in its logs.
const errors = new Set();
const canonical = (input) =>
  input.type.startsWith("tuple")
    ? `(${input.components.map(canonical).join(",")})${input.type.slice(5)}`
    : input.type;
for (const entry of entries) {
  const [name, file, kind] = entry.split(":");
  const src = path.join(forgeOut, `${file}.sol`, `${name}.json`);
  const built = JSON.parse(fs.readFileSync(src, "utf8"));
  for (const item of built.abi.filter((item) => item.type === "error")) {
    const params = item.inputs.map((input) => `${canonical(input)} ${input.name}`.trim());
    errors.add(`${item.name}(${params.join(",")})`);
  }
  const bytecode = built.bytecode && built.bytecode.object;
  const deployedBytecode = built.deployedBytecode && built.deployedBytecode.object;
  for (const [field, code] of [["bytecode", bytecode], ["deployedBytecode", deployedBytecode]]) {
    if (typeof code !== "string" || !/^0x([0-9a-f]{2})+$/.test(code)) {
      console.error(`${src}: ${field} is missing or not fully linked hex`);
      process.exit(1);
    }
  }
  const immutables = (built.deployedBytecode && built.deployedBytecode.immutableReferences) || {};
  if (kind === "predeploy" && Object.keys(immutables).length > 0) {
    console.error(`${name} is a predeploy (genesis gets its runtime code only) but uses immutables`);
    process.exit(1);
  }
  // Keys in sorted order; compact; trailing newline.
  const json = JSON.stringify({ bytecode, deployedBytecode }) + "\n";
  fs.writeFileSync(path.join(outDir, `${name}.json`), json);
}
fs.writeFileSync(path.join(outDir, "errors.json"), JSON.stringify([...errors].sort(), null, 1) + "\n");
JS
echo "wrote ${#contracts[@]} artifacts to $out_dir" >&2
