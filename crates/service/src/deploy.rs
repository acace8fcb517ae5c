//! Deploying the rollup's L1 contracts, for a devnet or for a real L1.
//!
//! One deployment is: a `TimelockController` (delay longer than the challenge period, so users
//! can exit before a change they reject takes effect), and `StateManager`, `BatchInbox` and
//! `L1Bridge`, each behind a `TransparentUpgradeableProxy` whose `ProxyAdmin` the timelock owns.
//! The timelock also owns `StateManager` and `BatchInbox` (proposer, batcher and dispute game
//! changes). The fraud proof's `SegmentStore` (bound to the inbox and the L2 chain id),
//! `OneStepVerifier` (bound to the bridge and the segment store) and `DisputeGame` (immutable
//! contracts: a new game is a new contract the timelock sets) are deployed after the inbox; the
//! verifier and the game are set in the `StateManager` while the deployer still owns it, with
//! the preset's `permissionlessProposals`.
//! The deployer holds no power afterwards: [`deploy`] checks that before it returns.
//!
//! [`Preset::PRODUCTION`] (7-day challenge period) is the default everywhere but the devnet,
//! which uses [`Preset::DEVNET`] (seconds) so the whole life cycle runs in a test.

use std::{collections::BTreeMap, path::Path, time::Duration};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U256, b256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::RpcClient;
use alloy_rpc_types_eth::{BlockNumberOrTag, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolValue};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L2_BRIDGE, L2Genesis, RollupConfig, artifacts,
    bindings::{
        IBatchInbox, IDisputeGame, IERC20, IL1Bridge, IOneStepVerifier, IProxyAdmin, ISegmentStore,
        IStateManager, ITimelock,
    },
};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

/// The ERC-1967 admin slot of a proxy: `bytes32(uint256(keccak256("eip1967.proxy.admin")) - 1)`.
const ADMIN_SLOT: B256 =
    b256!("0xb53127684a568b3173ae13b9f8a6016e243e63b6e8ee1178d6a717850b5d6103");
/// The ERC-1967 implementation slot: `bytes32(uint256(keccak256("eip1967.proxy.implementation")) - 1)`.
const IMPLEMENTATION_SLOT: B256 =
    b256!("0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc");

/// Errors deploying.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The deployment parameters are not sound; nothing was sent.
    #[error("deployment config: {0}")]
    Config(String),
    /// An L1 call failed.
    #[error("L1 ({l1}): {what}: {reason}")]
    L1 {
        /// The L1 endpoint.
        l1: String,
        /// What was being done.
        what: String,
        /// Why it failed.
        reason: String,
    },
}

type Result<T, E = DeployError> = std::result::Result<T, E>;

/// Time and money parameters of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// Seconds after a proposal before it is final.
    pub challenge_period: u64,
    /// Seconds every upgrade or admin change waits in the timelock.
    pub timelock_delay: u64,
    /// Wei locked with each proposal.
    pub proposal_bond: U256,
    /// L1 blocks within which the sequencer must post a block's batch.
    pub sequencing_window: u64,
    /// Seconds an L2 block's timestamp may run ahead of its L1 origin.
    pub max_sequencer_drift: u64,
    /// Wei a challenger posts with each dispute game (`DisputeGame.challengerBond`).
    pub challenger_bond: U256,
    /// Seconds of thinking time each side of a game has (`DisputeGame.maxClockDuration`).
    pub max_clock_duration: u64,
    /// The least time a side gets when its turn starts (`DisputeGame.clockExtension`).
    pub clock_extension: u64,
    /// Whether anyone may propose (`StateManager.permissionlessProposals`): the devnet only.
    pub permissionless_proposals: bool,
}

/// The most gas the side that is right may spend to win one dispute game: every segment of a
/// batch opened on L1 (16, each one transaction under EIP-7825's 2^24), the whole blobs a blob
/// batch's openings read (5, under 8M each) and its own moves (21M: 36 bisections and a step at
/// the cap), as `Presets.WORST_CASE_GAME_GAS` states it.
pub const WORST_CASE_GAME_GAS: u64 = 16 * (1 << 24) + 5 * 8_000_000 + 21_000_000;

/// The gas price (wei) at which the production bonds pay [`WORST_CASE_GAME_GAS`]
/// (`Presets.BOND_REFERENCE_GAS_PRICE`).
pub const BOND_REFERENCE_GAS_PRICE: u64 = 30_000_000_000;

/// The share of a removed proposal's bond the challenger that removed it is paid, in basis
/// points (`StateManager.REMOVAL_REWARD_BPS`); the rest is burned, so a proposer that removes
/// its own false proposal from another account still loses it.
pub const REMOVAL_REWARD_BPS: u64 = 5_000;

/// What a challenger that wins is paid of a removed proposal's bond `bond`.
pub fn removal_reward(bond: U256) -> U256 {
    bond * U256::from(REMOVAL_REWARD_BPS) / U256::from(10_000)
}

/// The longest sequencing window `deploy` accepts, in L1 blocks: a batch lands up to two
/// windows after its first block's L1 origin, so with at most 4 000 its newest L1 header is
/// always one whose hash L1 still tells (8 191 blocks back with EIP-2935), and batches never
/// need old hashes proven (`BatchInbox.proveOriginHashes`, which only forcing does).
pub const MAX_SEQUENCING_WINDOW: u64 = 4_000;

impl Preset {
    /// A real L1: the 7-day challenge period, upgrades 10 days behind the timelock (the
    /// challenge period, the proposer's lag behind L1 finality and a margin to act), twenty
    /// ether per proposal and ten per challenge (what the winner is paid, half the proposal's
    /// bond or the challenger's whole one, covers its worst-case gas of one game, every segment
    /// a step can need opened, the blobs they read and the moves: about 329M gas, 9.88 ether at
    /// 30 gwei), a 12-hour
    /// sequencing window (3 600 L1 blocks) and 30 minutes of drift, 3.5 days of clock per side
    /// with 3-hour extensions, and allowlisted proposals (`contracts/src/libraries/Presets.sol`).
    pub const PRODUCTION: Self = Self {
        challenge_period: 7 * 86_400,
        timelock_delay: 10 * 86_400,
        proposal_bond: alloy_primitives::uint!(20_000_000_000_000_000_000_U256),
        sequencing_window: 3_600,
        max_sequencer_drift: 1_800,
        challenger_bond: U256::from_limbs([10_000_000_000_000_000_000, 0, 0, 0]),
        max_clock_duration: 302_400,
        clock_extension: 10_800,
        permissionless_proposals: false,
    };

    /// The devnet: everything in seconds, so a test sees withdrawals finalize, games end and
    /// upgrades land; anyone may propose, so a test can make a false proposal and challenge it.
    pub const DEVNET: Self = Self {
        challenge_period: 60,
        timelock_delay: 120,
        proposal_bond: U256::from_limbs([100_000_000_000_000_000, 0, 0, 0]),
        sequencing_window: 20,
        max_sequencer_drift: 600,
        challenger_bond: U256::from_limbs([100_000_000_000_000_000, 0, 0, 0]),
        max_clock_duration: 30,
        clock_extension: 10,
        permissionless_proposals: true,
    };

    /// The preset called `name` (`production` or `devnet`).
    pub fn named(name: &str) -> Result<Self> {
        match name {
            "production" => Ok(Self::PRODUCTION),
            "devnet" => Ok(Self::DEVNET),
            other => Err(DeployError::Config(format!(
                "unknown preset `{other}`: use `production` (7-day challenge period) or `devnet` (seconds)"
            ))),
        }
    }
}

/// An address of `deploy.toml`, with the flags' EIP-55 check ([`crate::parse_address`]): a
/// typo in an owner or proposer written in mixed case would otherwise hand the rollup to
/// another account.
fn checksummed<'de, D: serde::Deserializer<'de>>(from: D) -> Result<Address, D::Error> {
    let text = String::deserialize(from)?;
    crate::parse_address(&text).map_err(serde::de::Error::custom)
}

/// [`checksummed`] for an optional address.
fn checksummed_option<'de, D: serde::Deserializer<'de>>(
    from: D,
) -> Result<Option<Address>, D::Error> {
    Option::<String>::deserialize(from)?
        .map(|text| crate::parse_address(&text).map_err(serde::de::Error::custom))
        .transpose()
}

/// What `rollup-node deploy --config deploy.toml` reads. Every address is required; times and
/// amounts default to the preset's.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployConfig {
    /// The L2 chain id (withdrawals commit to it).
    pub l2_chain_id: u64,
    /// The account that schedules and executes timelocked changes: a multisig in production.
    #[serde(deserialize_with = "checksummed")]
    pub owner: Address,
    /// The only L1 account whose batches derivation reads.
    #[serde(deserialize_with = "checksummed")]
    pub batcher: Address,
    /// The only L1 account allowed to propose state roots.
    #[serde(deserialize_with = "checksummed")]
    pub proposer: Address,
    /// A guardian allowed to remove a proposal besides the deployed `DisputeGame` (a multisig):
    /// set as the StateManager's dispute game first, then replaced by the `DisputeGame`
    /// contract, so it keeps `isDisputeGame`. Required by the production preset: until the EVM
    /// one-step proof exists, a game that reaches a code-running step resolves for the
    /// allowlisted proposer, so only the guardian can remove such a false root.
    #[serde(default, deserialize_with = "checksummed_option")]
    pub dispute_game: Option<Address>,
    /// `production` (default) or `devnet`.
    #[serde(default = "default_preset")]
    pub preset: String,
    /// Overrides the preset's challenge period (`7d`, `3600s`, ...).
    #[serde(default)]
    pub challenge_period: Option<String>,
    /// Overrides the preset's timelock delay; must exceed the challenge period.
    #[serde(default)]
    pub timelock_delay: Option<String>,
    /// Overrides the preset's proposal bond, in wei (a decimal string).
    #[serde(default)]
    pub proposal_bond_wei: Option<String>,
    /// Overrides the preset's sequencing window (L1 blocks).
    #[serde(default)]
    pub sequencing_window: Option<u64>,
    /// Overrides the preset's maximum sequencer drift (seconds).
    #[serde(default)]
    pub max_sequencer_drift: Option<u64>,
    /// Overrides the preset's challenger bond, in wei (a decimal string).
    #[serde(default)]
    pub challenger_bond_wei: Option<String>,
    /// Overrides the preset's clock per side and game (`3.5d`, `30s`, ...).
    #[serde(default)]
    pub max_clock_duration: Option<String>,
    /// Overrides the preset's clock extension; below the clock.
    #[serde(default)]
    pub clock_extension: Option<String>,
    /// L2 block gas limit.
    #[serde(default = "default_gas_limit")]
    pub l2_gas_limit: u64,
    /// The L2 genesis base fee, in wei.
    #[serde(default = "default_base_fee")]
    pub l2_base_fee_wei: u64,
    /// L2 accounts funded at genesis: address → balance in wei (a decimal string).
    #[serde(default)]
    pub l2_alloc: BTreeMap<Address, String>,
}

fn default_preset() -> String {
    "production".into()
}
fn default_gas_limit() -> u64 {
    30_000_000
}
fn default_base_fee() -> u64 {
    1_000_000_000
}

/// A checked deployment plan.
#[derive(Debug, Clone)]
pub struct DeployPlan {
    /// The L2 chain id.
    pub l2_chain_id: u64,
    /// Schedules and executes timelocked changes.
    pub owner: Address,
    /// The batcher.
    pub batcher: Address,
    /// The proposer.
    pub proposer: Address,
    /// A guardian that keeps the right to remove proposals besides the `DisputeGame`, if any.
    pub dispute_game: Option<Address>,
    /// Times and bond.
    pub preset: Preset,
    /// L2 block gas limit.
    pub l2_gas_limit: u64,
    /// L2 genesis base fee.
    pub l2_base_fee: u64,
    /// Funded L2 accounts. Their total is locked in the `L1Bridge` at deployment
    /// ([`DeployPlan::genesis_eth`]), paid by the deployer.
    pub l2_alloc: BTreeMap<Address, U256>,
}

impl DeployPlan {
    /// The ETH (wei) the L2 genesis gives its accounts: what the deployment locks in the
    /// `L1Bridge` so that every genesis balance can be withdrawn. `None` above 2^128 - 1 wei
    /// (more than a deposit may mint, and more ETH than exists).
    pub fn genesis_eth(&self) -> Option<U256> {
        self.l2_alloc
            .values()
            .try_fold(U256::ZERO, |total, balance| total.checked_add(*balance))
            .filter(|total| *total <= U256::from(u128::MAX))
    }
}

impl DeployConfig {
    /// Reads and checks `path`.
    pub fn from_file(path: &Path) -> Result<DeployPlan> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| DeployError::Config(format!("{}: {err}", path.display())))?;
        let config: Self = toml::from_str(&text)
            .map_err(|err| DeployError::Config(format!("{}: {err}", path.display())))?;
        config.plan()
    }

    /// The plan, or what is wrong with the config.
    pub fn plan(&self) -> Result<DeployPlan> {
        let mut preset = Preset::named(&self.preset)?;
        let duration = |field: &str, text: &str| {
            crate::parse_duration(text)
                .map(|d: Duration| d.as_secs())
                .map_err(|err| DeployError::Config(format!("{field} = \"{text}\": {err}")))
        };
        if let Some(text) = &self.challenge_period {
            preset.challenge_period = duration("challenge_period", text)?;
        }
        if let Some(text) = &self.timelock_delay {
            preset.timelock_delay = duration("timelock_delay", text)?;
        }
        let wei = |field: &str, text: &str| {
            text.parse::<U256>().map_err(|err| {
                DeployError::Config(format!(
                    "{field} = \"{text}\": {err} (wei, a decimal number)"
                ))
            })
        };
        if let Some(text) = &self.proposal_bond_wei {
            preset.proposal_bond = wei("proposal_bond_wei", text)?;
        }
        if let Some(window) = self.sequencing_window {
            preset.sequencing_window = window;
        }
        if let Some(drift) = self.max_sequencer_drift {
            preset.max_sequencer_drift = drift;
        }
        if let Some(text) = &self.challenger_bond_wei {
            preset.challenger_bond = wei("challenger_bond_wei", text)?;
        }
        if let Some(text) = &self.max_clock_duration {
            preset.max_clock_duration = duration("max_clock_duration", text)?;
        }
        if let Some(text) = &self.clock_extension {
            preset.clock_extension = duration("clock_extension", text)?;
        }
        let l2_alloc = self
            .l2_alloc
            .iter()
            .map(|(address, text)| Ok((*address, wei(&format!("l2_alloc.{address}"), text)?)))
            .collect::<Result<_>>()?;
        let plan = DeployPlan {
            l2_chain_id: self.l2_chain_id,
            owner: self.owner,
            batcher: self.batcher,
            proposer: self.proposer,
            dispute_game: self.dispute_game,
            preset,
            l2_gas_limit: self.l2_gas_limit,
            l2_base_fee: self.l2_base_fee_wei,
            l2_alloc,
        };
        plan.check(self.preset == "production")?;
        Ok(plan)
    }
}

impl DeployPlan {
    /// Refuses plans that would deploy something broken or powerless. `production` adds the
    /// rules a real L1 needs: a challenge period of at least a day and a dispute game.
    pub fn check(&self, production: bool) -> Result<()> {
        let bad = |msg: String| Err(DeployError::Config(msg));
        for (name, address) in [
            ("owner", self.owner),
            ("batcher", self.batcher),
            ("proposer", self.proposer),
        ] {
            if address.is_zero() {
                return bad(format!("{name} must not be the zero address"));
            }
        }
        if self.dispute_game == Some(Address::ZERO) {
            return bad("dispute_game must not be the zero address".into());
        }
        // Each role sends from its own loop, and a node refuses one account for two roles: a
        // deployment with one could not be run until a timelocked change of one of them.
        if self.batcher == self.proposer {
            return bad(format!(
                "batcher and proposer are the same account {}: a node runs each role from its own account (two on one take each other's nonces) and refuses one key for both; give each its own",
                self.batcher
            ));
        }
        if self.dispute_game == Some(self.owner) {
            warn!(owner = %self.owner, "dispute_game (the guardian) is the owner: the guardian should be a multisig of its own, able to act at once while the owner acts through the timelock");
        }
        if self.l2_chain_id == 0 {
            return bad("l2_chain_id must not be 0".into());
        }
        if self.genesis_eth().is_none() {
            return bad(
                "[l2_alloc] gives more than 2^128 - 1 wei in total; the deployment locks that total in the L1Bridge, so it must be ETH the deployer holds".into(),
            );
        }
        let preset = &self.preset;
        if preset.challenge_period == 0 {
            return bad(
                "the challenge period must not be zero: every root would be final at once".into(),
            );
        }
        if preset.timelock_delay <= preset.challenge_period {
            return bad(format!(
                "the timelock delay ({} s) must exceed the challenge period ({} s), so users can exit before an upgrade they reject",
                preset.timelock_delay, preset.challenge_period
            ));
        }
        if preset.challenger_bond.is_zero() {
            return bad("the challenger bond must be positive".into());
        }
        if preset.clock_extension == 0 || preset.clock_extension >= preset.max_clock_duration {
            return bad(format!(
                "the clock extension ({} s) must be positive and below the clock ({} s)",
                preset.clock_extension, preset.max_clock_duration
            ));
        }
        if preset.sequencing_window < 2 {
            return bad("sequencing_window must be at least 2 L1 blocks".into());
        }
        // Below L1's block time (12 s on Ethereum) the sequencer could build blocks only as
        // fast as L1 makes them: no L2 block could run ahead of its L1 origin.
        if preset.max_sequencer_drift < 12 {
            return bad(format!(
                "max_sequencer_drift must be at least 12 seconds (one L1 block), got {}: the sequencer stalls between L1 blocks otherwise (the presets use 600 and 1 800)",
                preset.max_sequencer_drift
            ));
        }
        if preset.sequencing_window > MAX_SEQUENCING_WINDOW {
            return bad(format!(
                "sequencing_window must be at most {MAX_SEQUENCING_WINDOW} L1 blocks (the production preset's is 3 600, 12 hours): a batch lands up to two windows after its first L1 origin, and the inbox checks its newest L1 header against L1's hash of that block, which L1 tells only 8 191 blocks back (EIP-2935)"
            ));
        }
        if self.l2_gas_limit < rollup_primitives::DEPOSIT_GAS_PER_L1_BLOCK {
            return bad(format!(
                "l2_gas_limit must be at least {} (one L1 block's deposits)",
                rollup_primitives::DEPOSIT_GAS_PER_L1_BLOCK
            ));
        }
        if production {
            if preset.challenge_period < 86_400 {
                return bad(format!(
                    "the production preset needs a challenge period of at least 1 day (got {} s); use preset = \"devnet\" for a test network",
                    preset.challenge_period
                ));
            }
            if self.dispute_game.is_none() {
                return bad(
                    "the production preset needs dispute_game: a guardian that can remove a false root the DisputeGame cannot prove false yet (a multisig, until the EVM one-step proof exists)"
                        .into(),
                );
            }
            let worst = U256::from(WORST_CASE_GAME_GAS) * U256::from(BOND_REFERENCE_GAS_PRICE);
            for (name, bond, paid) in [
                (
                    "proposal_bond_wei",
                    preset.proposal_bond,
                    removal_reward(preset.proposal_bond),
                ),
                (
                    "challenger_bond_wei",
                    preset.challenger_bond,
                    preset.challenger_bond,
                ),
            ] {
                if paid < worst {
                    warn!(
                        %bond, paid_to_the_winner = %paid, worst_case = %worst,
                        "{name} pays the winner less than the worst-case cost of winning a game ({WORST_CASE_GAME_GAS} gas at 30 gwei; a removed proposal's bond pays half, the rest is burned): a game whose step needs many segments opened can cost its winner more than it is paid"
                    );
                }
            }
        }
        Ok(())
    }
}

/// Where everything landed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The timelock that owns every proxy admin, `StateManager` and `BatchInbox`.
    pub timelock: Address,
    /// `StateManager` (proxy).
    pub state_manager: Address,
    /// `BatchInbox` (proxy).
    pub batch_inbox: Address,
    /// `L1Bridge` (proxy).
    pub l1_bridge: Address,
    /// `DisputeGame`: where proposals are challenged (no proxy; the timelock may set another).
    #[serde(default)]
    pub dispute_game: Address,
    /// `OneStepVerifier`: behind `StateManager.verifyStateTransition`.
    #[serde(default)]
    pub one_step_verifier: Address,
    /// `SegmentStore`: the opened segments of calldata batches the `OneStepVerifier` reads
    /// (anyone opens a segment there before a batch transaction's step).
    #[serde(default)]
    pub segment_store: Address,
    /// `DisputeGame.genesisOutputRoot`: the output root of L2 block 0.
    #[serde(default)]
    pub genesis_output_root: B256,
    /// Each proxy's `ProxyAdmin` and implementation, by contract name.
    pub proxies: BTreeMap<String, ProxyInfo>,
    /// A mintable ERC-20 (devnet only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_token: Option<Address>,
    /// The rollup's L1 origin: the newest L1 block before the `L1Bridge` was deployed (the
    /// `BatchInbox` right after it).
    pub origin: BlockNumHash,
    /// Its timestamp.
    pub origin_timestamp: u64,
}

/// A proxy's admin and current implementation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyInfo {
    /// The `ProxyAdmin` (owned by the timelock).
    pub admin: Address,
    /// The implementation behind the proxy.
    pub implementation: Address,
}

impl Deployment {
    /// The rollup config of this deployment: `plan`'s chain and preset, the L2 bridge predeploy
    /// bound to this L1 bridge, and `plan.l2_alloc` funded.
    pub fn rollup_config(&self, l1_chain_id: u64, plan: &DeployPlan) -> RollupConfig {
        let mut alloc: BTreeMap<Address, GenesisAccount> = plan
            .l2_alloc
            .iter()
            .map(|(address, balance)| {
                (
                    *address,
                    GenesisAccount {
                        balance: *balance,
                        ..Default::default()
                    },
                )
            })
            .collect();
        alloc.insert(
            L2_BRIDGE,
            artifacts::l2_bridge_genesis_account(self.l1_bridge),
        );
        // Funds the plan gives these addresses stay theirs.
        for (address, code) in artifacts::preinstalls() {
            alloc.entry(address).or_default().code = Some(code);
        }
        RollupConfig {
            l1_chain_id,
            l2_chain_id: plan.l2_chain_id,
            contracts: ContractAddresses {
                l1_bridge: self.l1_bridge,
                batch_inbox: self.batch_inbox,
                state_manager: self.state_manager,
            },
            genesis: L2Genesis {
                l1_origin: self.origin,
                timestamp: self.origin_timestamp,
                gas_limit: plan.l2_gas_limit,
                base_fee_per_gas: plan.l2_base_fee,
                alloc,
            },
            sequencing_window: plan.preset.sequencing_window,
            max_sequencer_drift: plan.preset.max_sequencer_drift,
            batcher_address: plan.batcher,
        }
    }
}

/// Deploys `plan` from `deployer` through `client` (an L1 named `l1` in messages), then reads
/// every parameter back from L1 and checks it. `dev_token_holders`: deploy a `DevToken` and
/// mint to these accounts (devnet only; empty for none).
pub async fn deploy(
    client: RpcClient,
    l1: &str,
    deployer: PrivateKeySigner,
    plan: &DeployPlan,
    dev_token_holders: &[Address],
) -> Result<Deployment> {
    let failed = |what: &str, reason: String| DeployError::L1 {
        l1: l1.to_string(),
        what: what.to_string(),
        reason,
    };
    let me = deployer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer))
        .connect_client(client);
    let deployer = Deployer {
        provider: &provider,
        l1,
    };
    let preset = &plan.preset;
    // The bridge's proxy locks the genesis ETH when it is created, paid by the deployer: checked
    // first, so a deployer short of it does not leave half a deployment on L1.
    let genesis_eth = plan.genesis_eth().unwrap_or_default();
    if !genesis_eth.is_zero() {
        let balance = provider
            .get_balance(me)
            .await
            .map_err(|err| failed("reading the deployer's balance", err.to_string()))?;
        if balance <= genesis_eth {
            return Err(failed(
                "locking the L2 genesis ETH",
                format!(
                    "the deployer {me} holds {balance} wei; the deployment locks the {genesis_eth} wei [l2_alloc] gives L2 accounts in the L1Bridge (so they can be withdrawn) and needs gas besides: fund the deployer or shrink [l2_alloc]"
                ),
            ));
        }
    }

    let timelock = deployer
        .create(
            "TimelockController",
            &artifacts::TIMELOCK_CONTROLLER.bytecode,
            (
                U256::from(preset.timelock_delay),
                vec![plan.owner],
                vec![plan.owner],
                Address::ZERO,
            )
                .abi_encode_params(),
        )
        .await?;

    // The deployer owns the StateManager only long enough to set the guardian, the dispute game,
    // the one-step verifier and the preset's permissionless switch, then hands it to the
    // timelock; the check below makes sure it did.
    let manager_impl = deployer
        .create(
            "StateManager implementation",
            &artifacts::STATE_MANAGER.bytecode,
            (U256::from(preset.challenge_period), preset.proposal_bond).abi_encode_params(),
        )
        .await?;
    let state_manager = deployer
        .proxy(
            "StateManager",
            manager_impl,
            timelock,
            IStateManager::initializeCall {
                owner: me,
                proposer: plan.proposer,
            }
            .abi_encode(),
        )
        .await?;
    if let Some(guardian) = plan.dispute_game {
        // Set first, so the DisputeGame set below replaces it as `disputeGame` while the
        // guardian keeps `isDisputeGame` (the right to remove a proposal).
        deployer
            .call(
                "setting the guardian",
                state_manager,
                IStateManager::setDisputeGameCall {
                    disputeGame: guardian,
                }
                .abi_encode(),
            )
            .await?;
    }
    // Sent here, in the nonce the StateManager's hand-over took before the fraud proof, so a
    // fresh devnet's bridge and inbox keep their addresses.
    deployer
        .call(
            "setting permissionless proposals",
            state_manager,
            IStateManager::setPermissionlessProposalsCall {
                permissionless: preset.permissionless_proposals,
            }
            .abi_encode(),
        )
        .await?;

    let bridge_impl = deployer
        .create(
            "L1Bridge implementation",
            &artifacts::L1_BRIDGE.bytecode,
            (state_manager, U256::from(plan.l2_chain_id), genesis_eth).abi_encode_params(),
        )
        .await?;

    // The devnet token and its mints go before the bridge and the inbox: every L1 block
    // between the rollup's origin and the node's start is one its first L2 blocks' sequencing
    // window has lost.
    let dev_token = if dev_token_holders.is_empty() {
        None
    } else {
        let token = deployer
            .create("DevToken", &artifacts::DEV_TOKEN.bytecode, Vec::new())
            .await?;
        let mut pending = Vec::new();
        for holder in dev_token_holders {
            let mint = IERC20::mintCall {
                to: *holder,
                amount: U256::from(1_000_000u64) * U256::from(10u64).pow(U256::from(18)),
            };
            let tx = TransactionRequest::default()
                .with_to(token)
                .with_input(mint.abi_encode());
            pending.push(
                provider
                    .send_transaction(tx)
                    .await
                    .map_err(|err| failed("minting DevToken", err.to_string()))?,
            );
        }
        for tx in pending {
            tx.get_receipt()
                .await
                .map_err(|err| failed("waiting for a DevToken mint", err.to_string()))?;
        }
        Some(token)
    };

    // The inbox's implementation needs nothing from the origin: deployed before it is chosen.
    let inbox_impl = deployer
        .create(
            "BatchInbox implementation",
            &artifacts::BATCH_INBOX.bytecode,
            Vec::new(),
        )
        .await?;
    // The rollup's L1 origin: the newest block before the bridge exists, so the L2 derives
    // every deposit the bridge ever takes (one mined between the bridge and an origin chosen
    // later, anyone's call to the bridge's proxy, was taken on L1 and never credited). The
    // inbox records it as the first L1 origin and the L2 genesis takes its timestamp.
    let origin_block = provider
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .map_err(|err| failed("reading the latest block", err.to_string()))?
        .ok_or_else(|| failed("reading the latest block", "L1 has none".into()))?;
    // The proxy's constructor locks the L2 genesis' ETH, paid with it, so no genesis balance
    // is withdrawn out of depositors' ETH.
    let l1_bridge = deployer
        .proxy_paid(
            "L1Bridge",
            bridge_impl,
            timelock,
            IL1Bridge::lockGenesisEthCall {}.abi_encode(),
            genesis_eth,
        )
        .await?;
    let batch_inbox = deployer
        .proxy(
            "BatchInbox",
            inbox_impl,
            timelock,
            IBatchInbox::initializeCall {
                owner: timelock,
                batcher: plan.batcher,
                bridge: l1_bridge,
                sequencingWindow: preset.sequencing_window,
                maxSequencerDrift: preset.max_sequencer_drift,
                genesisOrigin: origin_block.header.number,
                genesisOriginHash: origin_block.header.hash,
                genesisOriginTimestamp: origin_block.header.timestamp,
                l2GenesisTimestamp: origin_block.header.timestamp,
            }
            .abi_encode(),
        )
        .await?;

    // The fraud proof: the game anchors proposals anchored on nothing on the L2 genesis' output
    // root, which follows from the rollup config this deployment makes.
    let l1_chain_id = provider
        .get_chain_id()
        .await
        .map_err(|err| failed("eth_chainId", err.to_string()))?;
    let genesis_output_root = genesis_output_root(
        &Deployment {
            timelock,
            state_manager,
            batch_inbox,
            l1_bridge,
            dispute_game: Address::ZERO,
            one_step_verifier: Address::ZERO,
            segment_store: Address::ZERO,
            genesis_output_root: B256::ZERO,
            proxies: BTreeMap::new(),
            dev_token: None,
            origin: BlockNumHash {
                number: origin_block.header.number,
                hash: origin_block.header.hash,
            },
            origin_timestamp: origin_block.header.timestamp,
        }
        .rollup_config(l1_chain_id, plan),
    )
    .map_err(|err| DeployError::Config(format!("the L2 genesis: {err}")))?;
    // After the inbox every L1 block counts against the first L2 blocks' sequencing window, so
    // what is left goes in two rounds of transactions sent together (nonce order keeps each
    // round in sequence): the SegmentStore and the DisputeGame, then the OneStepVerifier with
    // the StateManager's settings and its hand-over. The verifier waits for the second round
    // because its constructor reads the store (its gas is estimated against the mined store);
    // the StateManager is set to the verifier's address before it is mined, from the nonce its
    // deployment takes, and the receipt confirms it.
    let [segment_store, dispute_game] = deployer
        .send_all([
            (
                "deploying SegmentStore",
                TransactionRequest::default().with_deploy_code(
                    [
                        artifacts::SEGMENT_STORE.bytecode.to_vec(),
                        (batch_inbox, U256::from(plan.l2_chain_id)).abi_encode_params(),
                    ]
                    .concat(),
                ),
            ),
            (
                "deploying DisputeGame",
                TransactionRequest::default().with_deploy_code(
                    [
                        artifacts::DISPUTE_GAME.bytecode.to_vec(),
                        (
                            state_manager,
                            genesis_output_root,
                            preset.challenger_bond,
                            preset.max_clock_duration,
                            preset.clock_extension,
                        )
                            .abi_encode_params(),
                    ]
                    .concat(),
                ),
            ),
        ])
        .await?
        .map(|receipt| receipt.contract_address.unwrap_or_default());
    for (contract, address) in [
        ("SegmentStore", segment_store),
        ("DisputeGame", dispute_game),
    ] {
        if address.is_zero() {
            return Err(DeployError::Config(format!(
                "deploying {contract}: the receipt has no contract address"
            )));
        }
        info!(target: "rollup::deploy", contract, %address, "deployed");
    }
    // Every earlier transaction is mined, so the pending nonce is the verifier's: the first of
    // the round.
    let verifier_nonce = provider
        .get_transaction_count(me)
        .pending()
        .await
        .map_err(|err| failed("reading the deployer's nonce", err.to_string()))?;
    let one_step_verifier = me.create(verifier_nonce);
    let call =
        |to: Address, input: Vec<u8>| TransactionRequest::default().with_to(to).with_input(input);
    let [verifier_receipt, ..] = deployer
        .send_all([
            (
                "deploying OneStepVerifier",
                TransactionRequest::default().with_deploy_code(
                    [
                        artifacts::ONE_STEP_VERIFIER.bytecode.to_vec(),
                        (l1_bridge, segment_store).abi_encode_params(),
                    ]
                    .concat(),
                ),
            ),
            (
                "setting the dispute game",
                call(
                    state_manager,
                    IStateManager::setDisputeGameCall {
                        disputeGame: dispute_game,
                    }
                    .abi_encode(),
                ),
            ),
            // Proposals are bounded by what the inbox recorded: a block no batch contains can
            // neither be proposed nor disputed.
            (
                "setting the StateManager's batch inbox",
                call(
                    state_manager,
                    IStateManager::setBatchInboxCall { inbox: batch_inbox }.abi_encode(),
                ),
            ),
            (
                "setting the one-step verifier",
                call(
                    state_manager,
                    IStateManager::setOneStepVerifierCall {
                        verifier: one_step_verifier,
                    }
                    .abi_encode(),
                ),
            ),
            (
                "handing the StateManager to the timelock",
                call(
                    state_manager,
                    IStateManager::transferOwnershipCall { newOwner: timelock }.abi_encode(),
                ),
            ),
        ])
        .await?;
    if verifier_receipt.contract_address != Some(one_step_verifier) {
        return Err(failed(
            "deploying OneStepVerifier",
            format!(
                "it landed at {:?}, not at {one_step_verifier} (nonce {verifier_nonce}), which the StateManager was set to: another transaction from the deployer's account took that nonce; deploy again from an account nothing else uses",
                verifier_receipt.contract_address
            ),
        ));
    }
    info!(target: "rollup::deploy", contract = "OneStepVerifier", address = %one_step_verifier, "deployed");

    let mut proxies = BTreeMap::new();
    for (name, proxy) in [
        ("StateManager", state_manager),
        ("BatchInbox", batch_inbox),
        ("L1Bridge", l1_bridge),
    ] {
        proxies.insert(name.to_string(), deployer.proxy_info(proxy).await?);
    }
    let block = origin_block;
    let deployment = Deployment {
        timelock,
        state_manager,
        batch_inbox,
        l1_bridge,
        dispute_game,
        one_step_verifier,
        segment_store,
        genesis_output_root,
        proxies,
        dev_token,
        origin: BlockNumHash {
            number: block.header.number,
            hash: block.header.hash,
        },
        origin_timestamp: block.header.timestamp,
    };
    verify(&deployer, plan, &deployment).await?;
    Ok(deployment)
}

/// `DisputeGame.genesisOutputRoot` of a rollup with `config`: the output root of L2 block 0
/// ([`rollup_primitives::OutputRoot::genesis`]), from the genesis state root and block hash.
pub fn genesis_output_root(config: &RollupConfig) -> Result<B256, rollup_storage::StorageError> {
    Ok(rollup_primitives::OutputRoot::genesis(
        rollup_storage::StoreWriter::genesis_state_root(config)?,
        rollup_storage::StoreWriter::genesis_hash(config)?,
        config.genesis.l1_origin.number,
    )
    .hash())
}

/// Reads the deployment back from L1: every parameter as planned, every admin the timelock.
pub async fn verify_deployment(
    client: RpcClient,
    l1: &str,
    plan: &DeployPlan,
    deployment: &Deployment,
) -> Result<()> {
    let provider = ProviderBuilder::new().connect_client(client);
    verify(
        &Deployer {
            provider: &provider,
            l1,
        },
        plan,
        deployment,
    )
    .await
}

async fn verify(
    deployer: &Deployer<'_, impl Provider>,
    plan: &DeployPlan,
    d: &Deployment,
) -> Result<()> {
    let mismatch = |what: &str, want: String, got: String| DeployError::L1 {
        l1: deployer.l1.to_string(),
        what: format!("checking the deployment: {what}"),
        reason: format!("expected {want}, L1 holds {got}"),
    };
    let preset = &plan.preset;
    let delay = deployer
        .view(d.timelock, ITimelock::getMinDelayCall {})
        .await?;
    if delay != U256::from(preset.timelock_delay) {
        return Err(mismatch(
            "timelock delay",
            preset.timelock_delay.to_string(),
            delay.to_string(),
        ));
    }
    let checks = [
        (
            "StateManager owner",
            deployer
                .view(d.state_manager, IStateManager::ownerCall {})
                .await?,
            d.timelock,
        ),
        (
            "StateManager proposer",
            deployer
                .view(d.state_manager, IStateManager::proposerCall {})
                .await?,
            plan.proposer,
        ),
        (
            "L1Bridge stateManager",
            deployer
                .view(d.l1_bridge, IL1Bridge::stateManagerCall {})
                .await?,
            d.state_manager,
        ),
        (
            "BatchInbox batcher",
            deployer
                .view(d.batch_inbox, IBatchInbox::batcherCall {})
                .await?,
            plan.batcher,
        ),
        (
            "BatchInbox bridge",
            deployer
                .view(d.batch_inbox, IBatchInbox::bridgeCall {})
                .await?,
            d.l1_bridge,
        ),
    ];
    for (what, got, want) in checks {
        if got != want {
            return Err(mismatch(what, want.to_string(), got.to_string()));
        }
    }
    let inbox_params = [
        (
            "BatchInbox sequencing window",
            deployer
                .view(d.batch_inbox, IBatchInbox::sequencingWindowCall {})
                .await?,
            preset.sequencing_window,
        ),
        (
            "BatchInbox maximum sequencer drift",
            deployer
                .view(d.batch_inbox, IBatchInbox::maxSequencerDriftCall {})
                .await?,
            preset.max_sequencer_drift,
        ),
        (
            "BatchInbox first L1 origin",
            deployer
                .view(d.batch_inbox, IBatchInbox::lastRecordedOriginCall {})
                .await?,
            d.origin.number,
        ),
    ];
    for (what, got, want) in inbox_params {
        if got < want || (what != "BatchInbox first L1 origin" && got != want) {
            return Err(mismatch(what, want.to_string(), got.to_string()));
        }
    }
    let origin_hash = deployer
        .view(
            d.batch_inbox,
            IBatchInbox::originHashCall {
                number: U256::from(d.origin.number),
            },
        )
        .await?;
    if origin_hash != d.origin.hash {
        return Err(mismatch(
            "BatchInbox first L1 origin's hash",
            d.origin.hash.to_string(),
            origin_hash.to_string(),
        ));
    }
    // Derivation reads the L1 blocks after the origin: a bridge that took deposits by then
    // would hold ETH the L2 never credits.
    let bridge_at_origin = deployer
        .provider
        .get_code_at(d.l1_bridge)
        .block_id(d.origin.number.into())
        .await
        .map_err(|err| DeployError::L1 {
            l1: deployer.l1.to_string(),
            what: "checking the deployment: the L1Bridge's code at the L1 origin".into(),
            reason: err.to_string(),
        })?;
    if !bridge_at_origin.is_empty() {
        return Err(mismatch(
            "the L1Bridge deployed after the rollup's L1 origin",
            format!("no code at block {}", d.origin.number),
            format!("{} bytes", bridge_at_origin.len()),
        ));
    }
    let period = deployer
        .view(d.state_manager, IStateManager::challengePeriodCall {})
        .await?;
    if period != U256::from(preset.challenge_period) {
        return Err(mismatch(
            "challenge period",
            preset.challenge_period.to_string(),
            period.to_string(),
        ));
    }
    let chain = deployer
        .view(d.l1_bridge, IL1Bridge::l2ChainIdCall {})
        .await?;
    if chain != U256::from(plan.l2_chain_id) {
        return Err(mismatch(
            "L1Bridge l2ChainId",
            plan.l2_chain_id.to_string(),
            chain.to_string(),
        ));
    }
    let genesis_eth = plan.genesis_eth().unwrap_or_default();
    let bridge_genesis_eth = deployer
        .view(d.l1_bridge, IL1Bridge::genesisEthCall {})
        .await?;
    if bridge_genesis_eth != genesis_eth {
        return Err(mismatch(
            "L1Bridge genesisEth (the [l2_alloc] total)",
            genesis_eth.to_string(),
            bridge_genesis_eth.to_string(),
        ));
    }
    if !deployer
        .view(d.l1_bridge, IL1Bridge::genesisEthLockedCall {})
        .await?
    {
        return Err(mismatch(
            "L1Bridge genesisEthLocked",
            "true".into(),
            "false".into(),
        ));
    }
    let dispute_addresses = [
        (
            "StateManager disputeGame",
            deployer
                .view(d.state_manager, IStateManager::disputeGameCall {})
                .await?,
            d.dispute_game,
        ),
        (
            "StateManager oneStepVerifier",
            deployer
                .view(d.state_manager, IStateManager::oneStepVerifierCall {})
                .await?,
            d.one_step_verifier,
        ),
        (
            "StateManager batchInbox",
            deployer
                .view(d.state_manager, IStateManager::batchInboxCall {})
                .await?,
            d.batch_inbox,
        ),
        (
            "DisputeGame stateManager",
            deployer
                .view(d.dispute_game, IDisputeGame::stateManagerCall {})
                .await?,
            d.state_manager,
        ),
        (
            "OneStepVerifier depositChain",
            deployer
                .view(d.one_step_verifier, IOneStepVerifier::depositChainCall {})
                .await?,
            d.l1_bridge,
        ),
        (
            "OneStepVerifier segmentStore",
            deployer
                .view(d.one_step_verifier, IOneStepVerifier::segmentStoreCall {})
                .await?,
            d.segment_store,
        ),
        (
            "OneStepVerifier inbox",
            deployer
                .view(d.one_step_verifier, IOneStepVerifier::inboxCall {})
                .await?,
            d.batch_inbox,
        ),
        (
            "SegmentStore inbox",
            deployer
                .view(d.segment_store, ISegmentStore::inboxCall {})
                .await?,
            d.batch_inbox,
        ),
    ];
    for (what, got, want) in dispute_addresses {
        if got != want || want.is_zero() {
            return Err(mismatch(what, want.to_string(), got.to_string()));
        }
    }
    let segment_chain = deployer
        .view(d.segment_store, ISegmentStore::chainIdCall {})
        .await?;
    if segment_chain != U256::from(plan.l2_chain_id) {
        return Err(mismatch(
            "SegmentStore chainId",
            plan.l2_chain_id.to_string(),
            segment_chain.to_string(),
        ));
    }
    let permissionless = deployer
        .view(
            d.state_manager,
            IStateManager::permissionlessProposalsCall {},
        )
        .await?;
    if permissionless != preset.permissionless_proposals {
        return Err(mismatch(
            "StateManager permissionlessProposals",
            preset.permissionless_proposals.to_string(),
            permissionless.to_string(),
        ));
    }
    if let Some(guardian) = plan.dispute_game {
        let kept = deployer
            .view(
                d.state_manager,
                IStateManager::isDisputeGameCall { account: guardian },
            )
            .await?;
        if !kept {
            return Err(mismatch(
                "StateManager isDisputeGame(guardian)",
                "true".into(),
                "false".into(),
            ));
        }
    }
    let bond = deployer
        .view(d.dispute_game, IDisputeGame::challengerBondCall {})
        .await?;
    if bond != preset.challenger_bond {
        return Err(mismatch(
            "DisputeGame challengerBond",
            preset.challenger_bond.to_string(),
            bond.to_string(),
        ));
    }
    let clocks = [
        (
            "DisputeGame maxClockDuration",
            deployer
                .view(d.dispute_game, IDisputeGame::maxClockDurationCall {})
                .await?,
            preset.max_clock_duration,
        ),
        (
            "DisputeGame clockExtension",
            deployer
                .view(d.dispute_game, IDisputeGame::clockExtensionCall {})
                .await?,
            preset.clock_extension,
        ),
    ];
    for (what, got, want) in clocks {
        if got != want {
            return Err(mismatch(what, want.to_string(), got.to_string()));
        }
    }
    let root = deployer
        .view(d.dispute_game, IDisputeGame::genesisOutputRootCall {})
        .await?;
    if root != d.genesis_output_root || root.is_zero() {
        return Err(mismatch(
            "DisputeGame genesisOutputRoot",
            d.genesis_output_root.to_string(),
            root.to_string(),
        ));
    }
    for (name, proxy) in &d.proxies {
        let owner = deployer
            .view(proxy.admin, IProxyAdmin::ownerCall {})
            .await?;
        if owner != d.timelock {
            return Err(mismatch(
                &format!("{name}'s ProxyAdmin owner"),
                d.timelock.to_string(),
                owner.to_string(),
            ));
        }
    }
    Ok(())
}

/// Sends the deployment's transactions one at a time, each checked.
struct Deployer<'a, P> {
    provider: &'a P,
    l1: &'a str,
}

impl<P: Provider> Deployer<'_, P> {
    fn failed(&self, what: &str, reason: String) -> DeployError {
        DeployError::L1 {
            l1: self.l1.to_string(),
            what: what.to_string(),
            reason,
        }
    }

    async fn send(
        &self,
        what: &str,
        tx: TransactionRequest,
    ) -> Result<alloy_rpc_types_eth::TransactionReceipt> {
        let receipt = self
            .provider
            .send_transaction(tx)
            .await
            .map_err(|err| self.failed(what, err.to_string()))?
            .get_receipt()
            .await
            .map_err(|err| self.failed(what, err.to_string()))?;
        if !receipt.status() {
            return Err(self.failed(
                what,
                format!("the transaction reverted (tx {})", receipt.transaction_hash),
            ));
        }
        Ok(receipt)
    }

    /// Sends every transaction before waiting for any, so they can share L1 blocks (the
    /// provider numbers them in order); fails on the first that fails or reverts.
    async fn send_all<const N: usize>(
        &self,
        txs: [(&str, TransactionRequest); N],
    ) -> Result<[alloy_rpc_types_eth::TransactionReceipt; N]> {
        let mut pending = Vec::with_capacity(N);
        for (what, tx) in &txs {
            pending.push(
                self.provider
                    .send_transaction(tx.clone())
                    .await
                    .map_err(|err| self.failed(what, err.to_string()))?,
            );
        }
        let mut receipts = Vec::with_capacity(N);
        for ((what, _), tx) in txs.iter().zip(pending) {
            let receipt = tx
                .get_receipt()
                .await
                .map_err(|err| self.failed(what, err.to_string()))?;
            if !receipt.status() {
                return Err(self.failed(
                    what,
                    format!("the transaction reverted (tx {})", receipt.transaction_hash),
                ));
            }
            receipts.push(receipt);
        }
        Ok(receipts
            .try_into()
            .unwrap_or_else(|_| unreachable!("one receipt per transaction")))
    }

    async fn create(&self, name: &str, code: &Bytes, args: Vec<u8>) -> Result<Address> {
        self.create_paid(name, code, args, U256::ZERO).await
    }

    /// [`Self::create`] with `value` wei sent to the constructor.
    async fn create_paid(
        &self,
        name: &str,
        code: &Bytes,
        args: Vec<u8>,
        value: U256,
    ) -> Result<Address> {
        let what = format!("deploying {name}");
        let mut init = code.to_vec();
        init.extend(args);
        let receipt = self
            .send(
                &what,
                TransactionRequest::default()
                    .with_deploy_code(init)
                    .with_value(value),
            )
            .await?;
        let address = receipt
            .contract_address
            .ok_or_else(|| self.failed(&what, "the receipt has no contract address".into()))?;
        info!(target: "rollup::deploy", contract = name, %address, "deployed");
        Ok(address)
    }

    /// A `TransparentUpgradeableProxy` for `implementation`, its admin owned by `owner`,
    /// initialized by delegate-calling `init`.
    async fn proxy(
        &self,
        name: &str,
        implementation: Address,
        owner: Address,
        init: Vec<u8>,
    ) -> Result<Address> {
        self.proxy_paid(name, implementation, owner, init, U256::ZERO)
            .await
    }

    /// [`Self::proxy`] with `value` wei passed on to `init`.
    async fn proxy_paid(
        &self,
        name: &str,
        implementation: Address,
        owner: Address,
        init: Vec<u8>,
        value: U256,
    ) -> Result<Address> {
        self.create_paid(
            name,
            &artifacts::TRANSPARENT_PROXY.bytecode,
            (implementation, owner, Bytes::from(init)).abi_encode_params(),
            value,
        )
        .await
    }

    async fn call(&self, what: &str, to: Address, input: Vec<u8>) -> Result<()> {
        self.send(
            what,
            TransactionRequest::default().with_to(to).with_input(input),
        )
        .await
        .map(drop)
    }

    async fn view<C: SolCall>(&self, to: Address, call: C) -> Result<C::Return> {
        let what = format!("reading {to}");
        let out = self
            .provider
            .call(
                TransactionRequest::default()
                    .with_to(to)
                    .with_input(call.abi_encode()),
            )
            .await
            .map_err(|err| self.failed(&what, err.to_string()))?;
        rollup_primitives::decode_returns::<C>(to, &out)
            .map_err(|reason| self.failed(&what, reason))
    }

    async fn proxy_info(&self, proxy: Address) -> Result<ProxyInfo> {
        let slot = |slot: B256| async move {
            self.provider
                .get_storage_at(proxy, slot.into())
                .await
                .map(|word| Address::from_word(B256::from(word)))
                .map_err(|err| self.failed(&format!("reading proxy {proxy}"), err.to_string()))
        };
        Ok(ProxyInfo {
            admin: slot(ADMIN_SLOT).await?,
            implementation: slot(IMPLEMENTATION_SLOT).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> DeployConfig {
        toml::from_str(
            r#"
            l2_chain_id = 901
            owner = "0x1111111111111111111111111111111111111111"
            batcher = "0x2222222222222222222222222222222222222222"
            proposer = "0x3333333333333333333333333333333333333333"
            dispute_game = "0x4444444444444444444444444444444444444444"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn production_is_the_default_preset() {
        let plan = config().plan().unwrap();
        assert_eq!(plan.preset, Preset::PRODUCTION);
        assert_eq!(plan.preset.challenge_period, 7 * 86_400);
    }

    #[test]
    fn genesis_eth_is_the_alloc_total() {
        let mut config = config();
        assert_eq!(config.plan().unwrap().genesis_eth(), Some(U256::ZERO));
        config
            .l2_alloc
            .insert(Address::repeat_byte(5), "1000000000000000000".into());
        config.l2_alloc.insert(Address::repeat_byte(6), "2".into());
        // Backed by the bridge, so the production preset takes it.
        let plan = config.plan().unwrap();
        assert_eq!(
            plan.genesis_eth(),
            Some(U256::from(1_000_000_000_000_000_002u64))
        );
    }

    #[test]
    fn a_mixed_case_address_with_a_wrong_checksum_is_refused() {
        let with = |owner: &str, guardian: &str| {
            toml::from_str::<DeployConfig>(&format!(
                r#"
                l2_chain_id = 901
                owner = "{owner}"
                batcher = "0x2222222222222222222222222222222222222222"
                proposer = "0x3333333333333333333333333333333333333333"
                dispute_game = "{guardian}"
                "#
            ))
        };
        let right = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
        let typo = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD";
        let lower = right.to_lowercase();
        assert!(with(right, right).is_ok());
        assert!(with(&lower, &lower).is_ok(), "one case carries no checksum");
        for (owner, guardian) in [(typo, right), (right, typo)] {
            let err = with(owner, guardian).unwrap_err().to_string();
            assert!(err.contains("wrong EIP-55 checksum"), "{err}");
        }
    }

    #[test]
    fn nonsense_is_refused_with_what_to_fix() {
        let refused = |edit: &dyn Fn(&mut DeployConfig), needle: &str| {
            let mut config = config();
            edit(&mut config);
            let err = config.plan().unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        };
        refused(
            &|c| c.owner = Address::ZERO,
            "owner must not be the zero address",
        );
        refused(&|c| c.batcher = Address::ZERO, "batcher");
        refused(
            &|c| c.proposer = c.batcher,
            "batcher and proposer are the same account",
        );
        refused(&|c| c.l2_chain_id = 0, "l2_chain_id");
        // The genesis total is locked in the bridge, so it must be ETH that can exist.
        refused(
            &|c| {
                c.l2_alloc
                    .insert(Address::repeat_byte(5), u128::MAX.to_string());
                c.l2_alloc.insert(Address::repeat_byte(6), "1".into());
            },
            "more than 2^128 - 1 wei in total",
        );
        refused(
            &|c| c.challenge_period = Some("0s".into()),
            "must not be zero",
        );
        refused(
            &|c| c.timelock_delay = Some("7d".into()),
            "must exceed the challenge period",
        );
        refused(
            &|c| c.challenge_period = Some("1h".into()),
            "at least 1 day",
        );
        refused(&|c| c.dispute_game = None, "needs dispute_game");
        refused(&|c| c.preset = "fast".into(), "unknown preset");
        refused(&|c| c.proposal_bond_wei = Some("1 ether".into()), "wei");
        refused(
            &|c| c.challenger_bond_wei = Some("0".into()),
            "challenger bond must be positive",
        );
        refused(
            &|c| c.clock_extension = Some("4d".into()),
            "below the clock",
        );
        refused(
            &|c| c.clock_extension = Some("0s".into()),
            "below the clock",
        );
        refused(
            &|c| c.max_clock_duration = Some("soon".into()),
            "max_clock_duration",
        );
        refused(
            &|c| c.sequencing_window = Some(1),
            "sequencing_window must be at least 2",
        );
        refused(
            &|c| c.max_sequencer_drift = Some(0),
            "max_sequencer_drift must be at least 12 seconds",
        );
        // Past 4 000 a landable batch could name an L1 header whose hash L1 no longer tells.
        refused(
            &|c| c.sequencing_window = Some(MAX_SEQUENCING_WINDOW + 1),
            "sequencing_window must be at most 4000 L1 blocks",
        );
        let mut longest = config();
        longest.sequencing_window = Some(MAX_SEQUENCING_WINDOW);
        assert_eq!(
            longest.plan().unwrap().preset.sequencing_window,
            MAX_SEQUENCING_WINDOW
        );
    }

    /// The Rust presets mirror `contracts/src/libraries/Presets.sol`.
    #[test]
    fn presets_mirror_the_solidity_library() {
        let source = include_str!("../../../contracts/src/libraries/Presets.sol");
        let constant = |name: &str| {
            let line = source
                .lines()
                .find(|line| line.contains(&format!(" {name} = ")))
                .unwrap_or_else(|| panic!("Presets.sol has no {name}"));
            line.split(" = ")
                .nth(1)
                .unwrap()
                .trim_end_matches(';')
                .trim()
                .to_string()
        };
        let wei = |text: String| -> U256 {
            let (number, unit) = text.split_once(' ').unwrap_or((&text, ""));
            let scale = match unit {
                "ether" => U256::from(10u64).pow(U256::from(18)),
                "" => U256::from(1),
                other => panic!("unit {other}"),
            };
            let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
            let digits = format!("{whole}{fraction}").replace('_', "");
            U256::from_str_radix(&digits, 10).unwrap() * scale
                / U256::from(10u64).pow(U256::from(fraction.len()))
        };
        let seconds = |text: String| -> u64 {
            let (number, unit) = text.split_once(' ').unwrap_or((&text, ""));
            let factor = match unit {
                "days" => 86_400.0,
                "hours" => 3_600.0,
                "" => 1.0,
                other => panic!("unit {other}"),
            };
            (number.replace('_', "").parse::<f64>().unwrap() * factor) as u64
        };
        for (prefix, preset) in [
            ("PRODUCTION", Preset::PRODUCTION),
            ("DEVNET", Preset::DEVNET),
        ] {
            let c = |name: &str| constant(&format!("{prefix}_{name}"));
            assert_eq!(seconds(c("CHALLENGE_PERIOD")), preset.challenge_period);
            assert_eq!(seconds(c("TIMELOCK_DELAY")), preset.timelock_delay);
            assert_eq!(wei(c("PROPOSAL_BOND")), preset.proposal_bond);
            assert_eq!(seconds(c("SEQUENCING_WINDOW")), preset.sequencing_window);
            assert_eq!(
                seconds(c("MAX_SEQUENCER_DRIFT")),
                preset.max_sequencer_drift
            );
            assert_eq!(wei(c("CHALLENGER_BOND")), preset.challenger_bond);
            assert_eq!(seconds(c("MAX_CLOCK_DURATION")), preset.max_clock_duration);
            assert_eq!(seconds(c("CLOCK_EXTENSION")), preset.clock_extension);
            assert_eq!(
                c("PERMISSIONLESS_PROPOSALS") == "true",
                preset.permissionless_proposals
            );
            assert!(preset.timelock_delay > preset.challenge_period);
            assert!(preset.clock_extension < preset.max_clock_duration);
        }
        // The worst case the production bonds are sized for, term by term.
        assert_eq!(constant("BOND_REFERENCE_GAS_PRICE"), "30 gwei");
        assert_eq!(BOND_REFERENCE_GAS_PRICE, 30_000_000_000);
        assert_eq!(constant("WORST_CASE_OPENING_GAS"), "2 ** 24");
        assert_eq!(constant("WORST_CASE_OPENINGS"), "16");
        assert_eq!(constant("WORST_CASE_MOVES_GAS"), "21_000_000");
        assert_eq!(constant("WORST_CASE_BLOB_LOADS"), "5");
        assert_eq!(constant("WORST_CASE_BLOB_LOAD_GAS"), "8_000_000");
        assert_eq!(
            WORST_CASE_GAME_GAS,
            16 * (1 << 24) + 5 * 8_000_000 + 21_000_000
        );
        let worst = U256::from(WORST_CASE_GAME_GAS) * U256::from(BOND_REFERENCE_GAS_PRICE);
        let state_manager = include_str!("../../../contracts/src/L1/StateManager.sol");
        assert!(
            state_manager.contains(&format!(
                "uint256 public constant REMOVAL_REWARD_BPS = {}_{:03};",
                REMOVAL_REWARD_BPS / 1_000,
                REMOVAL_REWARD_BPS % 1_000
            )),
            "REMOVAL_REWARD_BPS differs from StateManager.sol's"
        );
        assert!(removal_reward(Preset::PRODUCTION.proposal_bond) >= worst);
        assert!(Preset::PRODUCTION.challenger_bond >= worst);
    }

    #[test]
    fn the_devnet_preset_may_use_seconds_and_no_dispute_game() {
        let mut config = config();
        config.preset = "devnet".into();
        config.dispute_game = None;
        let plan = config.plan().unwrap();
        assert_eq!(plan.preset.challenge_period, 60);
        assert!(plan.preset.timelock_delay > plan.preset.challenge_period);
        assert!(plan.preset.permissionless_proposals);
        assert_eq!(
            (plan.preset.max_clock_duration, plan.preset.clock_extension),
            (30, 10)
        );
    }
}
