//! Config mistakes are refused at start with a message that says what to fix.

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use alloy_primitives::Address;
use rollup_primitives::{BlockNumHash, ContractAddresses, L2Genesis, RollupConfig};

use crate::support::Anvil;

fn config(l1_chain_id: u64) -> RollupConfig {
    RollupConfig {
        l1_chain_id,
        l2_chain_id: 42069,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash::default(),
            timestamp: 1,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc: Default::default(),
        },
        sequencing_window: 3_600,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(4),
    }
}

/// A replica pointed at an L1 of another chain than its config names stops at once and says
/// which two chains disagree, instead of deriving nothing forever.
#[test]
fn a_replica_refuses_an_l1_of_another_chain() {
    let anvil = Anvil::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rollup.json");
    std::fs::write(&path, serde_json::to_string(&config(1)).unwrap()).unwrap();
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_rollup-node"))
        .arg("node")
        .arg("--config")
        .arg(&path)
        .args(["--l1-rpc-url", &anvil.url, "--rpc-addr", "127.0.0.1:0"])
        .arg("--datadir")
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("is chain 31337") && stderr.contains("for L1 chain 1"),
        "{stderr}"
    );
}
