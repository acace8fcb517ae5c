//! Compiled contract bytecode, embedded so the node and devnet need no Solidity toolchain at run
//! time. Generated from `contracts/` by `scripts/gen-artifacts.sh`; CI checks they are fresh.

use std::sync::LazyLock;

use alloy_primitives::{Address, B256, Bytes, keccak256};
use serde::Deserialize;

use crate::{GenesisAccount, L2_BRIDGE, L2_BRIDGE_L1_BRIDGE_SLOT};

/// Creation and runtime bytecode of one contract.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// Creation code (constructor arguments are appended ABI-encoded).
    pub bytecode: Bytes,
    /// Runtime code.
    pub deployed_bytecode: Bytes,
}

fn parse(name: &str, json: &str) -> Artifact {
    serde_json::from_str(json)
        .unwrap_or_else(|err| panic!("embedded artifact {name} is corrupt (regenerate it): {err}"))
}

macro_rules! artifact {
    ($(#[$doc:meta])* $ident:ident, $name:literal) => {
        $(#[$doc])*
        pub static $ident: LazyLock<Artifact> = LazyLock::new(|| {
            parse($name, include_str!(concat!("../../../contracts/artifacts/", $name, ".json")))
        });
    };
}

artifact!(
    /// `L1Bridge`: deposits and withdrawals on L1.
    L1_BRIDGE, "L1Bridge");
artifact!(
    /// `BatchInbox`: batch commitments on L1.
    BATCH_INBOX, "BatchInbox");
artifact!(
    /// `StateManager`: state root proposals on L1.
    STATE_MANAGER, "StateManager");
artifact!(
    /// `DisputeGame`: bisection games on `StateManager` proposals (fraud proof part 1).
    DISPUTE_GAME, "DisputeGame");
artifact!(
    /// `OneStepVerifier`: the one-step verifier behind `StateManager.verifyStateTransition`.
    ONE_STEP_VERIFIER, "OneStepVerifier");
artifact!(
    /// `SegmentStore`: segments of calldata batches opened on L1 for the one-step verifier.
    SEGMENT_STORE, "SegmentStore");
artifact!(
    /// `DevToken`: a mintable ERC-20 for devnets.
    DEV_TOKEN, "DevToken");
artifact!(
    /// `L2Bridge`: the L2 bridge predeploy.
    L2_BRIDGE_CODE, "L2Bridge");
artifact!(
    /// `Multicall3`: preinstalled at [`crate::MULTICALL3`].
    MULTICALL3_CODE, "Multicall3");
artifact!(
    /// `BridgedERC20`: the L2 token the L2 bridge deploys per L1 token.
    BRIDGED_ERC20, "BridgedERC20");
artifact!(
    /// OpenZeppelin's `TimelockController`: owns every upgrade and admin change on L1.
    TIMELOCK_CONTROLLER, "TimelockController");
artifact!(
    /// OpenZeppelin's `TransparentUpgradeableProxy` (it creates its own `ProxyAdmin`).
    TRANSPARENT_PROXY, "TransparentUpgradeableProxy");

/// The L2 bridge predeploy's genesis account: its runtime code, and the L1 bridge's address in
/// storage slot [`L2_BRIDGE_L1_BRIDGE_SLOT`] (withdrawal hashes commit to it).
pub fn l2_bridge_genesis_account(l1_bridge: Address) -> GenesisAccount {
    GenesisAccount {
        code: Some(L2_BRIDGE_CODE.deployed_bytecode.clone()),
        storage: [(
            B256::from(alloy_primitives::U256::from(L2_BRIDGE_L1_BRIDGE_SLOT)),
            l1_bridge.into_word(),
        )]
        .into(),
        ..Default::default()
    }
}

/// The contracts every L2 genesis carries at the addresses tools expect on any chain: the
/// CREATE2 deployer ([`crate::CREATE2_DEPLOYER`]) and Multicall3 ([`crate::MULTICALL3`]).
pub fn preinstalls() -> [(Address, Bytes); 2] {
    [
        (
            crate::CREATE2_DEPLOYER,
            Bytes::from_static(&crate::CREATE2_DEPLOYER_CODE),
        ),
        (crate::MULTICALL3, MULTICALL3_CODE.deployed_bytecode.clone()),
    ]
}

/// keccak256 of `BridgedERC20`'s creation code, the CREATE2 init code hash.
pub static BRIDGED_ERC20_INIT_CODE_HASH: LazyLock<B256> =
    LazyLock::new(|| keccak256(&BRIDGED_ERC20.bytecode));

/// The L2 token the L2 bridge deploys for `l1_token` (CREATE2 from the bridge, salt = the L1
/// token address left-padded). `L1Bridge.predictL2Token` computes the same address.
pub fn predict_l2_token(l1_token: Address) -> Address {
    L2_BRIDGE.create2(l1_token.into_word(), *BRIDGED_ERC20_INIT_CODE_HASH)
}
