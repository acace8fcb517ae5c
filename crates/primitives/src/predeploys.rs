//! Addresses and limits shared with the Solidity contracts (`contracts/src/libraries`).
//! A test in `tests/` checks these against the deployed contracts.

use alloy_primitives::{Address, address};

/// The L2 bridge predeploy: mints bridged ERC-20s for deposits (and burns them for withdrawals).
pub const L2_BRIDGE: Address = address!("0x4200000000000000000000000000000000000010");

/// The system sender of ERC-20 deposit transactions on L2. Nobody holds its key, so only
/// derivation can produce transactions from it; the L2 bridge trusts exactly this sender.
pub const DEPOSITOR: Address = address!("0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001");

/// Smallest gas limit of an ETH deposit (a plain value transfer).
pub const MIN_ETH_DEPOSIT_GAS: u64 = 21_000;

/// Smallest gas limit of an ERC-20 deposit: enough for `L2Bridge.finalizeDeposit` including the
/// first-time deployment of the bridged token, with headroom.
pub const MIN_ERC20_DEPOSIT_GAS: u64 = 900_000;

/// Largest gas limit of one deposit.
pub const MAX_DEPOSIT_GAS: u64 = 5_000_000;

/// Largest sum of deposit gas limits from one L1 block.
pub const DEPOSIT_GAS_PER_L1_BLOCK: u64 = 30_000_000;
