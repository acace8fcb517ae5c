//! Command line: every flag can also come from the environment (`ROLLUP_*`), and the rollup
//! parameters from a config file.

use rollup_service::{
    ProposalHead, parse_address, parse_duration, parse_http_url, parse_nonzero_duration,
    parse_proposal_head,
};
use std::{net::SocketAddr, path::PathBuf, time::Duration};

use alloy_primitives::{Address, B256};
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use rollup_primitives::{MAX_DEPOSIT_GAS, MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS};

/// An optimistic rollup node: derives the L2 chain from L1 (deposits and batches), executes it
/// with revm into MDBX, serves it over JSON-RPC, and runs the sequencer, batcher and proposer
/// roles.
///
/// Quick start: `rollup-node devnet` starts a local L1 (anvil), deploys the rollup contracts and
/// runs the L2 node with every role; it prints the URLs and writes them, with funded accounts,
/// to `<datadir>/devnet.json` (default ./devnet-data). From the same folder, `rollup-node
/// deposit --amount 1 --account 5` moves 1 ETH of dev account 5 from L1 to L2; `withdraw`,
/// `prove` and `finalize` move it back. `force-withdraw` starts a withdrawal from L1 instead,
/// the way out when the sequencer censors you or is gone.
///
/// A real deployment: `rollup-node deploy --l1-rpc-url URL --config deploy.toml` deploys the
/// contracts to an L1 and writes the `rollup.json` every replica needs; `rollup-node node
/// --config rollup.json --l1-rpc-url URL --l1-beacon-url http://beacon:5052` runs a replica
/// anywhere (the L1's beacon API serves the blobs of blob batches). Against a deployment other
/// than the devnet, the user commands take `--config rollup.json --l1-rpc-url URL --l2-rpc-url
/// URL` and a key in `ROLLUP_PRIVATE_KEY`.
#[derive(Debug, Parser)]
#[command(name = "rollup-node", version, about, long_about)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags shared by every command.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// What to log, as a tracing filter: `info`, `rollup=debug`, `warn,rollup::node=trace`.
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    pub(crate) log_filter: String,
    /// Log as human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "ROLLUP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub(crate) log_format: LogFormat,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines, for log collectors.
    Json,
}

/// Where the batcher puts batches' transactions (`--batcher-data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BatcherData {
    /// Blobs if this node can read them back (`--l1-beacon-url` is set) and L1 takes blob
    /// transactions (it answers `eth_blobBaseFee`), calldata otherwise.
    Auto,
    /// EIP-4844 blobs: the envelope in calldata, the transactions in up to 5 blobs per batch.
    Blobs,
    /// Calldata only: at most 120 000 bytes per batch.
    Calldata,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a replica: follow an L1 node over JSON-RPC and serve the derived L2 chain.
    Node(NodeArgs),
    /// Run a local devnet: anvil L1 + deployed contracts + the L2 node, in one process.
    ///
    /// A second run with the same --datadir resumes the same chains.
    Devnet(DevnetArgs),
    /// Deploy the rollup's L1 contracts and write the `rollup.json` replicas run from
    ///
    /// Deploys a TimelockController and StateManager, BatchInbox and L1Bridge, each behind a
    /// TransparentUpgradeableProxy whose ProxyAdmin the timelock owns (the timelock also owns
    /// StateManager and BatchInbox), then the fraud proof's SegmentStore, OneStepVerifier and
    /// DisputeGame, the last two set in the StateManager before it goes to the timelock. It
    /// reads every parameter back from L1 and checks that the deployer kept no power, then
    /// writes <out>/rollup.json (give it to every replica:
    /// `rollup-node node --config rollup.json --l1-rpc-url URL --l1-beacon-url
    /// http://beacon:5052`) and <out>/deployment.json
    /// (every address, for operators). Existing files are not overwritten without --force, and
    /// nothing is sent when the config is unsound or the deployer cannot pay.
    ///
    /// deploy.toml (every address is required; times and amounts default to the preset's):
    ///
    ///     l2_chain_id = 901  # the L2 chain id; withdrawals commit to it
    ///     owner = "0x1111111111111111111111111111111111111111"  # schedules and executes timelocked changes: a multisig
    ///     batcher = "0x2222222222222222222222222222222222222222"  # the only L1 account whose batches derivation reads
    ///     proposer = "0x3333333333333333333333333333333333333333"  # the only L1 account allowed to propose state roots
    ///     dispute_game = "0x4444444444444444444444444444444444444444"  # a guardian (multisig) that may remove a false root besides the DisputeGame; required by `production`
    ///     preset = "production"  # or "devnet"
    ///     # challenge_period = "7d"       # overrides the preset's (7d, 3600s, ...)
    ///     # timelock_delay = "10d"        # must exceed the challenge period
    ///     # proposal_bond_wei = "1000000000000000000"  # wei, a decimal string
    ///     # sequencing_window = 3600      # L1 blocks within which a block's batch must land (2 to 4000)
    ///     # max_sequencer_drift = 1800    # seconds an L2 block may run ahead of its L1 origin
    ///     # challenger_bond_wei = "1000000000000000000"  # wei a challenger posts per game
    ///     # max_clock_duration = "84h"    # each side's clock per game (3.5 days)
    ///     # clock_extension = "3h"        # the least a side gets when its turn starts
    ///     l2_gas_limit = 30000000         # L2 block gas limit
    ///     l2_base_fee_wei = 1000000000    # the L2 genesis base fee
    ///     # [l2_alloc]    # L2 accounts funded at genesis; the deployer locks their total in the L1Bridge
    ///     # "0x5555555555555555555555555555555555555555" = "1000000000000000000000"  # address = "wei"
    ///
    /// Presets: `production` (the default): challenge period 7 days, timelock delay 10 days,
    /// bond 20 ETH per proposal, sequencing window 3600 L1 blocks (12 hours), drift 30 minutes,
    /// challenger bond 10 ETH (what each pays the winner, half a removed proposal's bond, the
    /// rest burned, or a lost challenger's whole, covers the worst-case game at 30 gwei), game clock 3.5 days per side with 3-hour extensions, allowlisted
    /// proposals; it needs a challenge period of at least a day and a dispute_game (guardian).
    /// `devnet`: 60 s, 120 s, 0.1 ETH, 20 L1 blocks, 10 minutes, 0.1 ETH, 30 s and 10 s, and
    /// permissionless proposals, for test networks.
    #[command(verbatim_doc_comment)]
    Deploy(DeployArgs),
    /// Deposit ETH or an ERC-20 from L1 to your account on L2 (or to --to).
    ///
    /// Locks the amount in the L1 bridge (approving it first for an ERC-20), prints the L2
    /// deposit transaction that the L1 transaction becomes (`L2 tx: 0x…`), and waits
    /// (--wait-l2) until L2 has run it. An ERC-20 whose credit fails on L2 (for any reason: out
    /// of gas, a reverting mint) is not lost: the L2 bridge records a refund withdrawal to your
    /// L1 address instead, which `rollup-node prove <L2 tx>` and `rollup-node finalize <L2 tx>`
    /// pay out.
    ///
    /// A deposit uses up one L2 nonce of the depositing account, as on OP Stack chains: an L2
    /// transaction sent from it with other tools while the deposit is on its way can be dropped
    /// (the `rollup-node` commands notice and send again).
    Deposit(DepositArgs),
    /// Start a withdrawal on L2 (ETH, or a bridged ERC-20 back to its L1 token); prints the L2
    /// transaction hash the other withdrawal commands take.
    ///
    /// A withdrawal takes three steps: this one burns or locks the amount on L2; `rollup-node
    /// prove <L2 tx>` proves it on L1 once a state root proposal covers its L2 block (it waits
    /// for one); `rollup-node finalize <L2 tx> --wait` pays it out on L1 once that proposal is
    /// final (the challenge period: 7 days in production, 60 s on the devnet).
    /// `rollup-node withdrawal-status <L2 tx>` shows where it stands at any time. An ETH
    /// withdrawal to an L1 address that rejects ETH (a contract without `receive`) is refused
    /// before anything is sent: L1 could not pay it.
    Withdraw(WithdrawArgs),
    /// Start a withdrawal from L1, without the sequencer: the way out when it censors you or is
    /// gone.
    ///
    /// Sends `L1Bridge.withdraw` (or `withdrawTo` with --to) on L1. Every replica turns it into
    /// an L2 transaction from your L2 account (your own address) calling `L2Bridge.withdrawTo`,
    /// like a deposit: the sequencer must include it with the L1 block, and if it does not,
    /// anyone can force it in with `rollup-node force-include` once that block's sequencing
    /// window closes (12 hours in production). This command prints that L2 transaction (`L2 tx: 0x…`) and waits for it
    /// (--wait-l2); then `prove` and `finalize` it as any withdrawal (proving still needs a
    /// state root proposal covering it). Your L2 account must hold the amount, or the L2
    /// transaction fails and only L1 gas is spent: this command checks the balance first
    /// (--force sends anyway), and that an ETH recipient on L1 accepts ETH. Without a sequencer, point --l2-rpc-url at your own replica
    /// (`rollup-node node`), which derives L2 from L1 alone.
    ForceWithdraw(ForceWithdrawArgs),
    /// Force the next L1 epoch into L2 when the sequencer has not posted it in time: its
    /// deposits and forced withdrawals, in a block of their own.
    ///
    /// Sends `BatchInbox.forceInclude` on L1 (anyone may), with the L1 headers the inbox has not
    /// recorded yet. The inbox accepts it only once the epoch's sequencing window has closed
    /// (`sequencingWindow` L1 blocks after it) without a batch adopting it, and then forces
    /// every epoch whose window has closed (up to 256 per call, and 150 whose L1 headers it must
    /// record), one deposit-only L2 block each;
    /// every replica derives them, and the sequencer's unposted blocks from there are replaced.
    /// A running batcher does this itself; this command is for when there is none. After a
    /// silence longer than L1 remembers block hashes (8 191 blocks, about a day), it first
    /// proves the old hashes the headers must match (`BatchInbox.proveOriginHashes`, 150 a
    /// transaction, from the oldest block L1 still tells).
    ForceInclude(ClientArgs),
    /// Where a withdrawal stands: its L2 block, the proposal covering it, who proved it, final
    /// at, finalized.
    ///
    /// Takes the L2 transaction hash `withdraw` (or `force-withdraw`) printed. What it says
    /// about proofs is about this account's (--account, default 0) and lists every other
    /// account's proof, any of which `finalize --prover <address>` can use.
    WithdrawalStatus(WithdrawalTxArgs),
    /// Prove a withdrawal on L1: waits for a proposal covering its L2 block, then sends
    /// `L1Bridge.proveWithdrawal` with the proof against that proposal's state root.
    ///
    /// The proposal is a live one at or after the withdrawal's block whose output root your L2
    /// node (--l2-rpc-url) computes too: the oldest without an open dispute game, as it is final
    /// soonest. Proposals with another root are passed over and named, so a false proposal
    /// cannot keep you from proving against a true one.
    ///
    /// Proofs are per prover: the proof is stored under the account that sends it, anyone may
    /// prove any withdrawal (it always pays the withdrawal's recipient), and proving again
    /// replaces only your own proof. `finalize` uses your own proof unless given --prover.
    Prove(ProveArgs),
    /// Pay out a proven withdrawal on L1 once its proposal is final (after the challenge period).
    ///
    /// Uses the proof this account made; `--prover <ADDRESS>` uses another account's proof
    /// instead (`withdrawal-status` lists who proved it). Either way it pays the withdrawal's
    /// recipient, whoever sends it.
    Finalize(FinalizeArgs),
    /// Propose an output root to the StateManager: the output root of an L2 block as your node
    /// derived it (or, with --state-root, any root you choose).
    ///
    /// Only the allowlisted proposer may propose, unless the deployment's proposals are
    /// permissionless (the devnet's are: any funded dev account may). The proposal draws the
    /// StateManager's proposal bond from your bond balance, which this command tops up first
    /// (`StateManager.depositBond`); the bond comes back once the proposal is final, and goes
    /// to a challenger that proves it wrong. It anchors the proposal on the latest final
    /// proposal below the block whose root your node agrees with (the genesis if none), as the
    /// proposer role does: a dispute bisects the blocks between the anchor and the proposal.
    /// Your next proposal must be for a later block than your own latest live one.
    ///
    /// The proposal is yours to defend: a challenge opens a game played move by move on a
    /// clock, and a proposer that does not answer loses the game and the bond, even for a true
    /// root. `rollup-node node --proposer-key <your key>` defends the proposals of that key (and
    /// proposes by itself); without such a node, `disputes` shows the games to answer. Collect
    /// returned bonds with `rollup-node claim`.
    Propose(ProposeArgs),
    /// Challenge a proposal: open a dispute game on it in the DisputeGame, posting the
    /// challenger bond (read from the contract).
    ///
    /// Refuses a proposal whose root your node agrees with (its output root of that L2 block
    /// equals the proposal's), or whose block your node has not derived, unless --force: a
    /// challenge of a true root loses the bond to the proposer. In the game the proposer
    /// bisects and the challenger answers each bisection (`pick`) before its clock runs out;
    /// the challenger role of a node does that. `rollup-node disputes` shows where games stand.
    Challenge(ChallengeArgs),
    /// List the latest proposals and dispute games, read from the StateManager and the
    /// DisputeGame on L1, with whether your node agrees with each root.
    Disputes(DisputesArgs),
    /// Collect what the fraud proof owes your account on L1: the DisputeGame credit of games you
    /// won or were refunded (`claimCredit`), the bonds of your final proposals
    /// (`StateManager.returnBond`), and your StateManager bond balance (`withdrawBond`).
    ///
    /// A node with --proposer-key or --challenger-key collects for its own account by itself;
    /// this command is for proposals and challenges made with `propose` and `challenge`. It
    /// first resolves this account's games that are over in its favour and that nobody
    /// resolved yet (its challenge of a proposal since removed: a refund; an opponent out of
    /// time), and lists those still running. A bond still drawn by a live proposal, or held by
    /// a running game, stays where it is until the proposal is final or the game ends: run it
    /// again then.
    Claim(ClaimArgs),
}

/// `rollup-node propose`.
#[derive(Debug, Args)]
pub(crate) struct ProposeArgs {
    /// The L2 block to propose (default: the node's safe head).
    #[arg(long, value_name = "N")]
    pub(crate) l2_block: Option<u64>,
    /// Propose this root instead of the block's output root. A root that is not the block's
    /// output root is false: any challenger wins its game and takes your proposal bond.
    #[arg(long, value_name = "ROOT", value_parser = parse_b256)]
    pub(crate) state_root: Option<B256>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node challenge`.
#[derive(Debug, Args)]
pub(crate) struct ChallengeArgs {
    /// The index of the proposal to challenge (`rollup-node disputes` lists them).
    #[arg(long, value_name = "INDEX")]
    pub(crate) proposal: u64,
    /// Challenge even though your node agrees with the proposal's root (or has not derived
    /// its block): the bond is lost if the root is true. Also challenges a proposal your
    /// account already plays a game on, or while transactions of your account wait in the
    /// L1 pool (either may be a second bond on the same dispute).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node claim`.
#[derive(Debug, Args)]
pub(crate) struct ClaimArgs {
    /// Leave the StateManager bond balance in place (for the next `propose`, which draws its
    /// bond from it), and collect only the rest.
    #[arg(long)]
    pub(crate) keep_bond: bool,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node disputes`.
#[derive(Debug, Args)]
pub(crate) struct DisputesArgs {
    /// How many of the latest proposals and of the latest games to list.
    #[arg(long, default_value_t = 20)]
    pub(crate) count: u64,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// Where the user commands (`deposit`, `withdraw`, ...) find the chains, contracts and key.
///
/// On the devnet everything comes from its `devnet.json`. Against any other deployment, pass
/// its `rollup.json` with `--config` (contract addresses), `--l1-rpc-url`, `--l2-rpc-url` and
/// `--private-key` (or their environment variables).
#[derive(Debug, Args, Clone)]
pub(crate) struct ClientArgs {
    /// The `devnet.json` that `rollup-node devnet` writes: RPC URLs, contract addresses and the
    /// funded dev accounts. Not read when --config is given (so an exported ROLLUP_DEVNET_FILE
    /// does not get in its way).
    #[arg(
        long,
        env = "ROLLUP_DEVNET_FILE",
        default_value = "./devnet-data/devnet.json"
    )]
    pub(crate) devnet: PathBuf,
    /// A rollup config (`rollup.json`, as `node --config` takes) to read the contract addresses
    /// from instead of a devnet file; then --l1-rpc-url, --l2-rpc-url and --private-key are
    /// required.
    #[arg(long, value_name = "ROLLUP_JSON", env = "ROLLUP_CLIENT_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// L1 JSON-RPC URL (default: the devnet file's; required with --config).
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: Option<String>,
    /// L2 JSON-RPC URL (default: the devnet file's; required with --config).
    #[arg(long, env = "ROLLUP_L2_RPC_URL")]
    pub(crate) l2_rpc_url: Option<String>,
    /// Sign with this dev account of the devnet file (0-10; its `roles` name each role's).
    #[arg(long, env = "ROLLUP_ACCOUNT", default_value_t = 0)]
    pub(crate) account: usize,
    /// Sign with this private key (hex) instead of a dev account. Prefer the environment
    /// variable over the flag.
    #[arg(long, env = "ROLLUP_PRIVATE_KEY", hide_env_values = true)]
    pub(crate) private_key: Option<String>,
}

/// `rollup-node deposit`.
#[derive(Debug, Args)]
pub(crate) struct DepositArgs {
    /// Amount in ether, or in whole tokens of the ERC-20 with the decimals its `decimals()`
    /// returns on L1 (1.5 of a 6-decimal token is 1 500 000 base units), e.g. `1.5`.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) amount: String,
    /// The L1 address of the ERC-20 to deposit (default: ETH). Its L2 token is the bridge's
    /// `BridgedERC20` for it, deployed by the first deposit with the L1 token's name, symbol and
    /// decimals.
    #[arg(long, value_name = "L1_TOKEN", value_parser = parse_token)]
    pub(crate) token: Option<Address>,
    /// The L2 recipient (`L1Bridge.depositTo`). Default: your own L2 account (`deposit`), which
    /// for the key signing here is its own address. (An L1 contract calling `deposit` is
    /// credited at its alias, its address + 0x1111000000000000000000000000000000001111, since it
    /// holds no key for its own address on L2.)
    #[arg(long, value_name = "L2_ADDRESS", value_parser = parse_address)]
    pub(crate) to: Option<Address>,
    #[arg(long, help = gas_limit_help())]
    pub(crate) gas_limit: Option<u32>,
    /// How long to wait for L2 to run the deposit (and report whether it was credited), e.g.
    /// `2m`; `0` returns right after the L1 transaction.
    #[arg(long, value_name = "DURATION", env = "ROLLUP_WAIT_L2", default_value = "60s", value_parser = parse_duration)]
    pub(crate) wait_l2: Duration,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `deposit --gas-limit`'s help, with the bridge's bounds.
fn gas_limit_help() -> String {
    format!(
        "Gas limit of the L2 deposit transaction; default and minimum: {MIN_ETH_DEPOSIT_GAS} for ETH \
         (a plain transfer), {MIN_ERC20_DEPOSIT_GAS} for an ERC-20 (enough to deploy its L2 token on \
         the first deposit); at most {MAX_DEPOSIT_GAS}. Raise it for ETH sent to an L2 contract that \
         runs code on receipt"
    )
}

/// `rollup-node withdraw`.
#[derive(Debug, Args)]
pub(crate) struct WithdrawArgs {
    /// Amount in ether, or in whole tokens with the decimals of the bridged L2 token (those of
    /// its L1 token), e.g. `1.5`.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) amount: String,
    /// The L1 address of the ERC-20 to withdraw (default: ETH): its bridged L2 token is burned
    /// and the L1 token paid out.
    #[arg(long, value_name = "L1_TOKEN", value_parser = parse_token)]
    pub(crate) token: Option<Address>,
    /// The L1 recipient (`L2Bridge.withdrawTo`); default: your own address.
    #[arg(long, value_name = "L1_ADDRESS", value_parser = parse_address)]
    pub(crate) to: Option<Address>,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node force-withdraw`.
#[derive(Debug, Args)]
pub(crate) struct ForceWithdrawArgs {
    /// Amount in ether, or in whole tokens with the decimals of the bridged L2 token, e.g.
    /// `1.5`.
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) amount: String,
    /// The L1 address of the ERC-20 to withdraw (default: ETH): its bridged L2 token is burned
    /// from your L2 account and the L1 token paid out.
    #[arg(long, value_name = "L1_TOKEN", value_parser = parse_token)]
    pub(crate) token: Option<Address>,
    /// The L1 recipient (`L1Bridge.withdrawTo`); default: your own address.
    #[arg(long, value_name = "L1_ADDRESS", value_parser = parse_address)]
    pub(crate) to: Option<Address>,
    /// How long to wait for L2 to run the withdrawal, e.g. `10m`; `0` returns right after the
    /// L1 transaction. Without a sequencer it runs only after the sequencing window closes and
    /// `force-include` forces it in, hours later: check then with `withdrawal-status <L2 tx>`.
    #[arg(long, value_name = "DURATION", env = "ROLLUP_WAIT_L2", default_value = "60s", value_parser = parse_duration)]
    pub(crate) wait_l2: Duration,
    /// Send even if your L2 account holds less than the amount, or its balance cannot be read,
    /// or the L1 recipient rejects ETH (the withdrawal would then stay unpaid until it accepts).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// A withdrawal, named by the L2 transaction that started it.
#[derive(Debug, Args)]
pub(crate) struct WithdrawalTxArgs {
    /// Hash of the L2 transaction that started the withdrawal: the `L2 tx` that `withdraw` or
    /// `force-withdraw` prints, or that of an ERC-20 deposit whose credit failed (its refund).
    #[arg(value_parser = parse_b256)]
    pub(crate) tx: B256,
    #[command(flatten)]
    pub(crate) client: ClientArgs,
}

/// `rollup-node prove`.
#[derive(Debug, Args)]
pub(crate) struct ProveArgs {
    #[command(flatten)]
    pub(crate) tx: WithdrawalTxArgs,
    /// Give up waiting for a covering proposal after this long, e.g. `10m` (default: wait forever).
    #[arg(long, value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
    /// Prove again although this account already proved it against a live proposal: replaces
    /// this account's proof (nobody else's) with one against the proposal chosen anew, whose
    /// own challenge period then has to pass.
    #[arg(long)]
    pub(crate) again: bool,
}

/// `rollup-node finalize`.
#[derive(Debug, Args)]
pub(crate) struct FinalizeArgs {
    #[command(flatten)]
    pub(crate) tx: WithdrawalTxArgs,
    /// Wait until the proposal the withdrawal was proven against is final, then finalize
    /// (without it, send now: too early fails with `L1Bridge_ProposalNotFinal`).
    #[arg(long)]
    pub(crate) wait: bool,
    /// With --wait: give up after this long, e.g. `10m` (default: wait forever).
    #[arg(long, value_parser = parse_duration, requires = "wait")]
    pub(crate) timeout: Option<Duration>,
    /// Use the proof this account made (`L1Bridge.finalizeWithdrawalWithProof`) instead of
    /// your own; it pays the same recipient.
    #[arg(long, value_name = "ADDRESS", value_parser = parse_address)]
    pub(crate) prover: Option<Address>,
}

/// `rollup-node deploy`.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// JSON-RPC URL of the L1 to deploy to.
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: String,
    /// The deployment parameters (TOML, keys above).
    #[arg(long, value_name = "DEPLOY_TOML", env = "ROLLUP_DEPLOY_CONFIG")]
    pub(crate) config: PathBuf,
    /// Private key (hex) of the deployer, which pays for the deployment and holds no power
    /// afterwards. Prefer the environment variable over the flag.
    #[arg(long, env = "ROLLUP_PRIVATE_KEY", hide_env_values = true)]
    pub(crate) private_key: Option<String>,
    /// Directory to write rollup.json and deployment.json to (created if missing).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub(crate) out: PathBuf,
    /// Overwrite rollup.json and deployment.json if --out already holds them.
    #[arg(long)]
    pub(crate) force: bool,
}

/// A 32-byte hash or root: `0x` and 64 hex digits.
fn parse_b256(text: &str) -> Result<B256, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a 32-byte hex value (0x and 64 hex digits)"))
}

/// `--token`: an address that is not the zero address, which stands for ETH in the bridge's
/// calls and is no token.
fn parse_token(text: &str) -> Result<alloy_primitives::Address, String> {
    let address = parse_address(text)?;
    if address.is_zero() {
        return Err("the zero address is no token: leave --token out to move ETH".into());
    }
    Ok(address)
}

/// Flags of the L2 node itself (shared by `node` and `devnet`).
#[derive(Debug, Args, Clone)]
pub(crate) struct RunArgs {
    /// Where the L2 data lives (its MDBX database is `<dir>/db`) [default: ./rollup-data for
    /// `node`; ./devnet-data for `devnet`, where the user commands look for `devnet.json`].
    #[arg(long, env = "ROLLUP_DATADIR")]
    pub(crate) datadir: Option<PathBuf>,
    /// Address of the L2 JSON-RPC server (HTTP and WebSocket on the same port).
    #[arg(long, env = "ROLLUP_RPC_ADDR", default_value = "127.0.0.1:9545", value_parser = rollup_service::parse_socket_addr)]
    pub(crate) rpc_addr: SocketAddr,
    /// Serve Prometheus metrics at this address (`/metrics`); off if unset.
    #[arg(long, env = "ROLLUP_METRICS_ADDR", value_parser = rollup_service::parse_socket_addr)]
    pub(crate) metrics_addr: Option<SocketAddr>,
    /// How often to poll L1 for new blocks, e.g. `500ms`, `2s`.
    #[arg(long, env = "ROLLUP_L1_POLL_INTERVAL", default_value = "1s", value_parser = parse_nonzero_duration)]
    pub(crate) l1_poll_interval: Duration,
    /// Follow L1 this many blocks behind its head (0 follows the tip; reorgs are handled
    /// either way).
    #[arg(long, env = "ROLLUP_L1_CONFIRMATIONS", default_value_t = 0)]
    pub(crate) l1_confirmations: u64,
    /// Largest `eth_getLogs` block range (reth's `--rpc.max-blocks-per-filter`; 0 for no
    /// limit).
    #[arg(
        long,
        env = "ROLLUP_RPC_MAX_BLOCK_RANGE",
        value_name = "BLOCKS",
        default_value_t = 10_000
    )]
    pub(crate) rpc_max_block_range: u64,
    /// Most logs one `eth_getLogs` over several blocks returns (reth's
    /// `--rpc.max-logs-per-response`; 0 for no limit); past it the request is refused with the
    /// range that fits, so the client can page. One block's logs always come whole.
    #[arg(long, env = "ROLLUP_RPC_MAX_LOGS_PER_RESPONSE", value_name = "LOGS", default_value_t = rollup_rpc::DEFAULT_MAX_LOGS_PER_RESPONSE)]
    pub(crate) rpc_max_logs_per_response: usize,
    /// Web origins a browser page may call the HTTP RPC from (CORS, geth's
    /// `--http.corsdomain`): `*` for any, or a comma-separated list such as
    /// `http://localhost:3000,https://app.example`. Unset: no CORS headers, so a dapp served
    /// from another origin can use only the WebSocket endpoint. The devnet defaults to `*`.
    #[arg(long, env = "ROLLUP_RPC_CORS_DOMAIN", value_name = "ORIGINS", value_parser = rollup_service::parse_cors_domains)]
    pub(crate) rpc_cors_domain: Option<String>,
    /// How many L2 blocks of history (old state, old proofs) the node keeps; older history is
    /// pruned. On a node that proposes, challenges or serves withdrawal proofs, keep it above
    /// the worst-case finality in blocks (the challenge period plus the longest game: about
    /// 23.1 days with the production preset) plus margin; the default, 2 200 000 blocks, is
    /// 25.5 days at 1 s blocks. A replica that serves none of these may keep less, even 0: the
    /// blocks an L1 reorg of up to 1 024 L1 blocks could unwind are kept whatever this says.
    #[arg(long, env = "ROLLUP_HISTORY_RETENTION", value_name = "BLOCKS", default_value_t = rollup_storage::DEFAULT_HISTORY_RETENTION)]
    pub(crate) history_retention: u64,
    /// Stop cleanly once the filesystem holding --datadir has less than this many MiB free
    /// (geth's --datadir.minfreedisk): MDBX cannot commit on a full disk. Checked at start (the
    /// node refuses to start below it) and every few seconds while it runs; 0 turns it off.
    #[arg(
        long,
        env = "ROLLUP_MIN_FREE_DISK",
        value_name = "MIB",
        default_value_t = 1024
    )]
    pub(crate) min_free_disk: u64,
    /// Most gas one `eth_call` or `eth_estimateGas` may use (reth's `--rpc.gascap`): an
    /// `eth_call` asking for more is refused, one asking for none gets this much;
    /// `eth_estimateGas` searches up to it.
    #[arg(long, env = "ROLLUP_RPC_GASCAP", default_value_t = rollup_rpc::DEFAULT_GAS_CAP, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) rpc_gascap: u64,
    /// Wall-clock limit of one `eth_call` or `eth_estimateGas`, e.g. `5s`, `500ms` (reth's
    /// `--rpc.evm-timeout`); a call still running then is stopped with an error.
    #[arg(long, env = "ROLLUP_RPC_EVM_TIMEOUT", default_value = "5s", value_parser = parse_nonzero_duration)]
    pub(crate) rpc_evm_timeout: Duration,
    /// Most heavy requests (`eth_call`, `eth_estimateGas`, `eth_createAccessList`,
    /// `eth_getLogs`, `eth_getFilterLogs`, `eth_feeHistory`, `rollup_getProof`,
    /// `rollup_getWithdrawalProof`, `rollup_getTraceClaim`, `debug_trace*`, `txpool_content*`,
    /// `txpool_inspect`, the status page's scans) running at once; default: twice the CPU
    /// cores. Others wait for a slot up to --rpc-heavy-queue-timeout.
    #[arg(long, env = "ROLLUP_RPC_MAX_HEAVY_REQUESTS", default_value_t = rollup_rpc::default_max_heavy_requests(), value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(crate) rpc_max_heavy_requests: usize,
    /// Longest a heavy request waits for a slot before it is answered "server busy" (-32005).
    #[arg(long, env = "ROLLUP_RPC_HEAVY_QUEUE_TIMEOUT", default_value = "5s", value_parser = parse_duration)]
    pub(crate) rpc_heavy_queue_timeout: Duration,
    /// How long an HTTP connection may go without sending a whole request's headers (idle
    /// between requests, or a request half sent) before it is closed: geth's keep-alive idle
    /// timeout, above the 90 s client pools (reqwest's, Go's) keep idle connections. Lower it
    /// to free connection slots sooner when idle clients crowd --rpc-max-connections.
    #[arg(long, env = "ROLLUP_RPC_HTTP_IDLE_TIMEOUT", default_value = "120s", value_parser = parse_nonzero_duration)]
    pub(crate) rpc_http_idle_timeout: Duration,
    /// Most `eth_subscribe` subscriptions one WebSocket connection may hold; one more is
    /// refused (-32006).
    #[arg(long, env = "ROLLUP_RPC_MAX_SUBSCRIPTIONS_PER_CONNECTION", default_value_t = rollup_rpc::DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) rpc_max_subscriptions_per_connection: u32,
    /// Most filters (`eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`)
    /// installed at once, for all clients together; one more is refused (-32005). Filters not
    /// polled for 5 minutes expire.
    #[arg(long, env = "ROLLUP_RPC_MAX_FILTERS", default_value_t = rollup_rpc::DEFAULT_MAX_FILTERS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub(crate) rpc_max_filters: usize,
    /// Most connections (HTTP and WebSocket together) the RPC holds open at once (reth's
    /// `--rpc.max-connections`).
    #[arg(long, env = "ROLLUP_RPC_MAX_CONNECTIONS", value_name = "N", default_value_t = rollup_rpc::DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) rpc_max_connections: u32,
    /// Most of those one client address may hold (0 for no cap), so one client cannot lock the
    /// others out; one more is answered HTTP 429 and closed. Loopback clients are not capped:
    /// behind a reverse proxy on this host, cap clients there.
    #[arg(long, env = "ROLLUP_RPC_MAX_CONNECTIONS_PER_IP", value_name = "N", default_value_t = rollup_rpc::DEFAULT_MAX_CONNECTIONS_PER_IP)]
    pub(crate) rpc_max_connections_per_ip: u32,
    /// Reverse proxies in front of the RPC whose `X-Forwarded-For` header names the client,
    /// comma-separated addresses or ranges (`127.0.0.1,10.0.0.0/8`). Their requests are held to
    /// the per-client shares (connections aside, filters and log criteria) as the client the
    /// proxies recorded, and their own connections are not capped per address. The header is
    /// ignored from any other address. None by default.
    #[arg(
        long,
        env = "ROLLUP_RPC_TRUSTED_PROXIES",
        value_name = "RANGES",
        value_delimiter = ','
    )]
    pub(crate) rpc_trusted_proxies: Vec<rollup_rpc::IpRange>,
    /// Sequencer block interval, e.g. `1s`, `250ms`. A block is built when there are
    /// transactions, or a newer L1 block to adopt as origin (every L1 block gets one).
    #[arg(long, env = "ROLLUP_BLOCK_TIME", default_value = "1s", value_parser = parse_nonzero_duration)]
    pub(crate) block_time: Duration,
    /// How often the batcher looks for new L2 blocks to post.
    #[arg(long, env = "ROLLUP_BATCHER_INTERVAL", default_value = "2s", value_parser = parse_nonzero_duration)]
    pub(crate) batcher_interval: Duration,
    /// Post a batch at the latest this long after the oldest unposted L2 block with transactions
    /// (deposits included) was sealed, even if the batch is not full [default: 60s; 1s for
    /// `devnet`]. Full batches go out at once; blocks without transactions wait for a batch
    /// that goes out anyway, or for --batcher-window-margin.
    #[arg(long, env = "ROLLUP_BATCHER_MAX_DELAY", value_parser = parse_duration)]
    pub(crate) batcher_max_delay: Option<Duration>,
    /// L1 blocks to spare: the batcher posts pending L2 blocks, even without transactions, once
    /// only this many L1 blocks remain before the sequencing window of the oldest would close
    /// (after which derivation replaces it). A margin as large as the window posts every block
    /// at once.
    #[arg(long, env = "ROLLUP_BATCHER_WINDOW_MARGIN", default_value_t = 10)]
    pub(crate) batcher_window_margin: u64,
    /// How often the proposer considers proposing a new state root [default: 1h; 30s for
    /// `devnet`]. Each proposal locks its bond for the challenge period, so the proposer's locked
    /// capital is bond × period ÷ interval (20 ETH × 7 days ÷ 1 h = 3,360 ETH); withdrawals wait up
    /// to one interval for a proposal covering them.
    #[arg(long, env = "ROLLUP_PROPOSAL_INTERVAL", value_parser = parse_nonzero_duration)]
    pub(crate) proposal_interval: Option<Duration>,
    /// Which L2 head the proposer proposes: `finalized` (derived from finalized L1 blocks, so no
    /// L1 reorg can change it) or `safe` [default: finalized; safe for `devnet`, whose L1
    /// finality is simulated].
    #[arg(long, env = "ROLLUP_PROPOSER_HEAD", value_name = "HEAD", value_parser = parse_proposal_head)]
    pub(crate) proposer_head: Option<ProposalHead>,
    /// How often the challenger, and the proposer defending its proposals, look at the
    /// DisputeGame and move. Keep it far inside the game's clock (3.5 days in production, 30 s
    /// on the devnet): a side that does not move in time loses [default: 12s; 1s for `devnet`].
    #[arg(long, env = "ROLLUP_DISPUTE_INTERVAL", value_parser = parse_nonzero_duration)]
    pub(crate) dispute_interval: Option<Duration>,
    /// How long the batcher waits for an L1 transaction before resubmitting it with higher fees.
    #[arg(long, env = "ROLLUP_L1_RESUBMIT_AFTER", default_value = "12s", value_parser = parse_nonzero_duration)]
    pub(crate) l1_resubmit_after: Duration,
    /// Bytes of batch data the batcher gets onto L1 per L1 block. The sequencer takes no more
    /// transactions than this rate can post before the sequencing window of each pending block
    /// closes (keeping a quarter of the window in hand); past that it builds deposit-only
    /// blocks and `eth_sendRawTransaction` answers "sequencer is throttled" until the batcher
    /// catches up [default: one full batch per L1 block: 120 000 bytes with calldata, 524 288
    /// with blobs (16 segments of 32 KiB, 4.13 blobs)].
    #[arg(long, env = "ROLLUP_SEQUENCER_L1_BYTES_PER_BLOCK", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) sequencer_l1_bytes_per_block: Option<u64>,
    /// Beacon API of the L1 (e.g. `http://localhost:5052`), where the node reads the blobs of
    /// blob batches: a node that derives a chain posted in blobs needs it, and the proposer and
    /// challenger fetch a disputed batch's blobs there when they cannot rebuild them. For anvil, its
    /// JSON-RPC URL (anvil serves the beacon blob endpoint); `devnet` uses its own anvil's.
    /// Checked at start: a URL that serves no blobs of the rollup's L1 is refused.
    #[arg(long, env = "ROLLUP_L1_BEACON_URL", value_name = "URL", value_parser = parse_http_url)]
    pub(crate) l1_beacon_url: Option<String>,
    /// Where the batcher puts batches' transactions: `auto` (blobs when --l1-beacon-url is set
    /// and L1 takes blob transactions, else calldata), `blobs` or `calldata`.
    #[arg(long, env = "ROLLUP_BATCHER_DATA", value_enum, default_value_t = BatcherData::Auto)]
    pub(crate) batcher_data: BatcherData,
    /// Most batch transactions the batcher has in flight at once, at consecutive nonces, each
    /// continuing the one before: more than one lets a backlog use more than one batch's worth
    /// of each L1 block. 1 waits for every batch to be mined before the next; at most 16, what
    /// geth's and reth's pools keep pending per account.
    #[arg(long, env = "ROLLUP_BATCHER_MAX_IN_FLIGHT", default_value_t = rollup_service::DEFAULT_MAX_IN_FLIGHT, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=16))]
    pub(crate) batcher_max_in_flight: usize,
    #[command(flatten)]
    pub(crate) txpool: TxPoolArgs,
}

rollup_sequencer::txpool_args!(
    /// Transaction pool limits (the sequencer's pool), named as reth names its own.
    pub(crate) struct TxPoolArgs,
    prefix = ""
);

/// `rollup-node node`.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// Rollup config (JSON): chain ids, L1 contract addresses, L2 genesis. `devnet` writes one
    /// to `<datadir>/rollup.json`.
    #[arg(long, env = "ROLLUP_CONFIG")]
    pub(crate) config: PathBuf,
    /// JSON-RPC URL of the L1 execution node (reth, geth, anvil).
    #[arg(long, env = "ROLLUP_L1_RPC_URL")]
    pub(crate) l1_rpc_url: String,
    /// Sequence: accept transactions (`eth_sendRawTransaction`) and build unsafe blocks.
    /// Without it the node is a replica that derives the chain from L1 only.
    #[arg(long, env = "ROLLUP_SEQUENCER")]
    pub(crate) sequencer: bool,
    /// Private key (hex) of the batcher account, which posts batches to the BatchInbox; the
    /// batcher runs only when set. Prefer the environment variable over the flag.
    #[arg(long, env = "ROLLUP_BATCHER_KEY", hide_env_values = true)]
    pub(crate) batcher_key: Option<String>,
    /// Private key (hex) of the StateManager's proposer account; the proposer runs only when
    /// set. It proposes the output root of the head `--proposer-head` names (the finalized head
    /// by default) with the required bond, and defends its proposals in disputes.
    #[arg(long, env = "ROLLUP_PROPOSER_KEY", hide_env_values = true)]
    pub(crate) proposer_key: Option<String>,
    /// Private key (hex) of a challenger account; the challenger runs only when set. It
    /// challenges every proposal in its challenge period whose output root differs from this
    /// node's, posting the DisputeGame's challenger bond (funds the account must hold on L1),
    /// plays the games, resolves them and claims what it wins. The proposer defends its own
    /// proposals without this flag.
    #[arg(long, env = "ROLLUP_CHALLENGER_KEY", hide_env_values = true)]
    pub(crate) challenger_key: Option<String>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

/// `rollup-node devnet`.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Use this L1 instead of starting anvil (it must have anvil's funded dev accounts, e.g.
    /// another anvil). Its own variable: the clients' ROLLUP_L1_RPC_URL, exported for a
    /// deployment elsewhere, does not move the devnet.
    #[arg(long, env = "ROLLUP_DEVNET_L1_RPC_URL")]
    pub(crate) l1_rpc_url: Option<String>,
    /// Port of the anvil this command starts.
    #[arg(long, env = "ROLLUP_DEVNET_L1_PORT", default_value_t = 8545)]
    pub(crate) l1_port: u16,
    /// L1 block time of the anvil this command starts, in seconds.
    #[arg(long, env = "ROLLUP_DEVNET_L1_BLOCK_TIME", default_value_t = 2)]
    pub(crate) l1_block_time: u64,
    /// The anvil binary (default: the project's pinned one under node_modules, then PATH).
    #[arg(long, env = "ANVIL_BIN")]
    pub(crate) anvil_bin: Option<PathBuf>,
    /// L2 chain id of a new devnet [default: 42069]. It is fixed at genesis: a devnet resumed
    /// from its datadir keeps its own and refuses a different value.
    #[arg(long, env = "ROLLUP_DEVNET_L2_CHAIN_ID", value_name = "ID")]
    pub(crate) l2_chain_id: Option<u64>,
    /// Block gas limit of a new devnet's L2 [default: 30000000; at least that, one L1 block's
    /// deposits]. It is part of the chain, fixed at genesis: a devnet resumed from its datadir
    /// keeps its own and refuses a different value. With 100 ms blocks the default allows
    /// about 14 000 ETH transfers per second; raise it to load the node past that (and
    /// --rpc-gascap with it above 50000000, for calls of a whole block's gas).
    #[arg(long, env = "ROLLUP_DEVNET_L2_GAS_LIMIT", value_name = "GAS", value_parser = clap::value_parser!(u64).range(rollup_primitives::DEPOSIT_GAS_PER_L1_BLOCK..))]
    pub(crate) l2_gas_limit: Option<u64>,
    #[command(flatten)]
    pub(crate) run: RunArgs,
}

impl Cli {
    pub(crate) async fn run(self) -> eyre::Result<()> {
        match self.command {
            Command::Node(args) => crate::runner::run_replica(args).await,
            Command::Devnet(args) => crate::devnet::run(args).await,
            Command::Deploy(args) => crate::deploy::run(args).await,
            Command::Deposit(args) => crate::client::deposit(args).await,
            Command::Withdraw(args) => crate::client::withdraw(args).await,
            Command::ForceWithdraw(args) => crate::client::force_withdraw(args).await,
            Command::ForceInclude(args) => crate::client::force_include(args).await,
            Command::WithdrawalStatus(args) => crate::client::status(args).await,
            Command::Prove(args) => crate::client::prove(args).await,
            Command::Finalize(args) => crate::client::finalize(args).await,
            Command::Propose(args) => crate::dispute::propose(args).await,
            Command::Challenge(args) => crate::dispute::challenge(args).await,
            Command::Disputes(args) => crate::dispute::disputes(args).await,
            Command::Claim(args) => crate::dispute::claim(args).await,
        }
    }
}

/// Role flags typed for a role the node does not run, each with the switches it needs.
type UnusedFlags = Vec<(String, String)>;

impl Cli {
    /// Parses the command line, and the flags typed on it that tune a role `rollup-node node`
    /// does not run (`--block-time` without `--sequencer`, say): each with the switch it
    /// needs, for a warning once logging is up (a replica silently ignored them).
    pub(crate) fn parse_with_unused() -> (Self, UnusedFlags) {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        Self::try_parse_with_unused(args.clone()).unwrap_or_else(|err| {
            rollup_service::cli::naming_the_environment(err, &Self::command(), &args, |name| {
                std::env::var_os(name).is_some()
            })
            .exit()
        })
    }

    fn try_parse_with_unused<T: Into<std::ffi::OsString> + Clone>(
        args: impl IntoIterator<Item = T>,
    ) -> Result<(Self, UnusedFlags), clap::Error> {
        let matches = Self::command().try_get_matches_from(args)?;
        let cli =
            Self::from_arg_matches(&matches).map_err(|err| err.format(&mut Self::command()))?;
        let unused = match (&cli.command, matches.subcommand()) {
            (Command::Node(args), Some(("node", node))) => args.unused_role_flags(node),
            _ => Vec::new(),
        };
        Ok((cli, unused))
    }
}

impl NodeArgs {
    /// The role flags given on the command line for roles this node does not run.
    fn unused_role_flags(&self, matches: &ArgMatches) -> UnusedFlags {
        use rollup_service::cli::RoleSwitch;
        let runs = |role: RoleSwitch| match role {
            RoleSwitch::Sequencer => self.sequencer,
            RoleSwitch::Batcher => self.batcher_key.is_some(),
            RoleSwitch::Proposer => self.proposer_key.is_some(),
            RoleSwitch::Dispute => self.proposer_key.is_some() || self.challenger_key.is_some(),
            RoleSwitch::L1Sender => {
                self.batcher_key.is_some()
                    || self.proposer_key.is_some()
                    || self.challenger_key.is_some()
            }
        };
        let command = Cli::command();
        let Some(node) = command.find_subcommand("node") else {
            return Vec::new();
        };
        rollup_service::cli::typed_role_flags(node, matches, "")
            .into_iter()
            .filter(|(_, role)| !runs(*role))
            .map(|(flag, role)| (flag, role.flags("")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared helper, with this binary's commands.
    fn naming_the_environment(
        err: clap::Error,
        args: &[std::ffi::OsString],
        is_set: impl Fn(&str) -> bool,
    ) -> clap::Error {
        rollup_service::cli::naming_the_environment(err, &Cli::command(), args, is_set)
    }

    /// A bad value from the environment names its variable; one typed on the command line, or
    /// an error about no flag's value, is left as clap words it.
    #[test]
    fn a_bad_value_from_the_environment_names_its_variable() {
        let line = |extra: &[&str]| -> Vec<std::ffi::OsString> {
            [
                "rollup-node",
                "node",
                "--config",
                "rollup.json",
                "--l1-rpc-url",
                "http://a",
            ]
            .iter()
            .chain(extra)
            .map(Into::into)
            .collect()
        };
        let typed = line(&["--l1-confirmations", "abc"]);
        let bad = || Cli::try_parse_with_unused(typed.clone()).err().unwrap();
        let tip = "environment variable ROLLUP_L1_CONFIRMATIONS";
        let set = |name: &str| name == "ROLLUP_L1_CONFIRMATIONS";
        // The same error as clap raises for the variable's value: the flag is not on the line.
        let from_env = naming_the_environment(bad(), &line(&[]), set).to_string();
        assert!(from_env.contains(tip), "{from_env}");
        assert!(from_env.contains("--l1-confirmations"), "{from_env}");
        // Typed on the command line (either spelling), or the variable unset: no tip.
        for (args, is_set) in [
            (typed.clone(), true),
            (line(&["--l1-confirmations=abc"]), true),
            (line(&[]), false),
        ] {
            let err = naming_the_environment(bad(), &args, |name| is_set && set(name)).to_string();
            assert!(!err.contains(tip), "{err}");
        }
        // A flag whose long name starts the same is another flag.
        let err = naming_the_environment(bad(), &line(&["--l1-confirmations-x"]), set).to_string();
        assert!(err.contains(tip), "{err}");
        // A subcommand's flag: its variable.
        let bad_port = Cli::try_parse_with_unused(["rollup-node", "devnet", "--l1-port", "x"])
            .err()
            .unwrap();
        let devnet: Vec<std::ffi::OsString> = vec!["rollup-node".into(), "devnet".into()];
        let err = naming_the_environment(bad_port, &devnet, |_| true).to_string();
        assert!(err.contains("ROLLUP_DEVNET_L1_PORT"), "{err}");
        let missing = Cli::try_parse_with_unused(["rollup-node", "node"])
            .err()
            .unwrap();
        let err = naming_the_environment(missing, &[], |_| true).to_string();
        assert!(!err.contains("environment variable"), "{err}");
    }

    #[test]
    fn role_flags_without_their_role_are_named() {
        let node = |extra: &[&str]| {
            let mut line = vec![
                "rollup-node",
                "node",
                "--config",
                "rollup.json",
                "--l1-rpc-url",
                "http://127.0.0.1:8545",
            ];
            line.extend_from_slice(extra);
            Cli::try_parse_with_unused(line).unwrap().1
        };
        assert_eq!(
            node(&[
                "--block-time",
                "2s",
                "--txpool.pending-max-count",
                "10",
                "--proposal-interval",
                "1m",
            ]),
            vec![
                ("--block-time".to_string(), "--sequencer".to_string()),
                (
                    "--proposal-interval".to_string(),
                    "--proposer-key".to_string()
                ),
                (
                    "--txpool.pending-max-count".to_string(),
                    "--sequencer".to_string()
                ),
            ]
        );
        // With their roles, and for defaults, nothing.
        assert!(
            node(&[
                "--sequencer",
                "--block-time",
                "2s",
                "--txpool.pending-max-count",
                "10"
            ])
            .is_empty()
        );
        assert!(node(&[]).is_empty());
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        assert!(
            node(&[
                "--challenger-key",
                key,
                "--dispute-interval",
                "5s",
                "--l1-resubmit-after",
                "30s"
            ])
            .is_empty()
        );
        assert_eq!(
            node(&["--challenger-key", key, "--batcher-data", "calldata"]),
            vec![("--batcher-data".to_string(), "--batcher-key".to_string())]
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7_200));
        assert!(parse_duration("2w").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// Every `rollup-node …` code span in `help`, whitespace-normalised (clap wraps long help).
    fn command_lines(help: &str) -> Vec<String> {
        let flat = help.split_whitespace().collect::<Vec<_>>().join(" ");
        flat.split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|span| {
                if span.starts_with("rollup-node ") {
                    Some(span.to_owned())
                } else if span.starts_with("--config ") {
                    // Flags the help gives the user commands: try them on one.
                    Some(format!("rollup-node deposit --amount 1 {span}"))
                } else {
                    None
                }
            })
            .collect()
    }

    /// The quick start in `rollup-node --help` and `rollup-node devnet --help`, as written:
    /// every command line it prints parses with the real command line.
    #[test]
    fn help_quick_start_parses() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let mut lines = command_lines(&cli.render_long_help().to_string());
        let devnet = cli
            .find_subcommand_mut("devnet")
            .expect("a devnet subcommand");
        lines.extend(command_lines(&devnet.render_long_help().to_string()));
        for expected in [
            "rollup-node devnet",
            "rollup-node deposit --amount 1 --account 5",
            "rollup-node node --config rollup.json --l1-rpc-url URL --l1-beacon-url http://beacon:5052",
            "rollup-node deposit --amount 1 --config rollup.json --l1-rpc-url URL --l2-rpc-url URL",
            "rollup-node deploy --l1-rpc-url URL --config deploy.toml",
        ] {
            assert!(
                lines.iter().any(|line| line == expected),
                "the quick start no longer shows `{expected}`: {lines:?}"
            );
        }
        for line in &lines {
            let cli = Cli::try_parse_from(line.split(' '))
                .unwrap_or_else(|err| panic!("`{line}` from --help does not parse:\n{err}"));
            // The devnet and the user commands agree on where devnet.json lives.
            match cli.command {
                Command::Devnet(args) => assert_eq!(args.run.datadir, None),
                Command::Deposit(args) if args.client.config.is_none() => assert_eq!(
                    args.client.devnet,
                    PathBuf::from(format!("{}/devnet.json", crate::devnet::DEFAULT_DATADIR))
                ),
                _ => {}
            }
        }
    }

    /// The user commands against a deployment other than the devnet.
    #[test]
    fn user_commands_take_a_rollup_config() {
        let cli = Cli::try_parse_from([
            "rollup-node",
            "deposit",
            "--amount",
            "0.5",
            "--config",
            "deploy/rollup.json",
            "--l1-rpc-url",
            "https://l1.example",
            "--l2-rpc-url",
            "https://l2.example",
            "--private-key",
            "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        ])
        .unwrap();
        let Command::Deposit(args) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(args.amount, "0.5");
        let client = args.client;
        assert_eq!(client.config, Some(PathBuf::from("deploy/rollup.json")));
        assert_eq!(client.l1_rpc_url.as_deref(), Some("https://l1.example"));
        assert_eq!(client.l2_rpc_url.as_deref(), Some("https://l2.example"));
        assert!(client.private_key.is_some());

        // A devnet file named too (as an exported ROLLUP_DEVNET_FILE does) is not in the way:
        // --config wins and the file is not read.
        Cli::try_parse_from([
            "rollup-node",
            "deposit",
            "--amount",
            "0.5",
            "--config",
            "deploy/rollup.json",
            "--devnet",
            "devnet-data/devnet.json",
        ])
        .unwrap();

        // The same for a command that takes a transaction hash.
        let hash = format!("0x{}", "ab".repeat(32));
        let cli = Cli::try_parse_from([
            "rollup-node",
            "prove",
            &hash,
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "https://l1.example",
            "--l2-rpc-url",
            "https://l2.example",
        ])
        .unwrap();
        let Command::Prove(args) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(args.tx.client.config, Some(PathBuf::from("rollup.json")));
    }

    fn parse(line: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once(&"rollup-node").chain(line))
            .unwrap_or_else(|err| panic!("{line:?} does not parse:\n{err}"))
            .command
    }

    #[test]
    fn deposit_flags() {
        let token = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
        let to = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
        let Command::Deposit(args) = parse(&[
            "deposit",
            "--amount",
            "1.5",
            "--token",
            token,
            "--to",
            to,
            "--gas-limit",
            "1000000",
            "--wait-l2",
            "2m",
        ]) else {
            panic!("not a deposit");
        };
        assert_eq!(args.token, Some(token.parse().unwrap()));
        assert_eq!(args.to, Some(to.parse().unwrap()));
        assert_eq!(args.gas_limit, Some(1_000_000));
        assert_eq!(args.wait_l2, Duration::from_secs(120));

        let Command::Deposit(args) = parse(&["deposit", "--amount", "1"]) else {
            panic!("not a deposit");
        };
        assert_eq!((args.to, args.gas_limit), (None, None));
        assert_eq!(args.wait_l2, Duration::from_secs(60));
        let Command::Deposit(args) = parse(&["deposit", "--amount", "1", "--wait-l2", "0"]) else {
            panic!("not a deposit");
        };
        assert!(args.wait_l2.is_zero(), "0 skips the wait");
        assert!(
            Cli::try_parse_from(["rollup-node", "deposit", "--amount", "1", "--to", "bob"])
                .is_err()
        );
        // A negative amount reaches the amount check (which says it is negative), not clap's
        // "unexpected argument".
        assert!(Cli::try_parse_from(["rollup-node", "withdraw", "--amount", "-1"]).is_ok());
        // Mixed case must be a valid EIP-55 checksum; one case is taken as written.
        let checksummed = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
        for good in [checksummed, &checksummed.to_lowercase()] {
            assert!(parse_address(good).is_ok(), "{good}");
        }
        // The zero address stands for ETH in the bridge's calls: as --token it is refused with
        // the way to move ETH.
        let zero = format!("{}", alloy_primitives::Address::ZERO);
        for command in ["deposit", "withdraw", "force-withdraw"] {
            let err =
                Cli::try_parse_from(["rollup-node", command, "--amount", "1", "--token", &zero])
                    .unwrap_err()
                    .to_string();
            assert!(
                err.contains("leave --token out to move ETH"),
                "{command}: {err}"
            );
        }
        let typo = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4DC";
        let err = parse_address(typo).unwrap_err();
        assert!(err.contains("wrong EIP-55 checksum"), "{err}");
        assert!(
            Cli::try_parse_from(["rollup-node", "deposit", "--amount", "1", "--to", typo]).is_err()
        );
        assert!(
            Cli::try_parse_from([
                "rollup-node",
                "deposit",
                "--amount",
                "1",
                "--gas-limit",
                "5000000000"
            ])
            .is_err()
        );
    }

    #[test]
    fn withdraw_and_force_withdraw_flags() {
        let to = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
        let Command::Withdraw(args) = parse(&["withdraw", "--amount", "1", "--to", to]) else {
            panic!("not a withdraw");
        };
        assert_eq!(args.to, Some(to.parse().unwrap()));

        let Command::ForceWithdraw(args) = parse(&[
            "force-withdraw",
            "--amount",
            "0.5",
            "--to",
            to,
            "--force",
            "--wait-l2",
            "10m",
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "http://l1",
            "--l2-rpc-url",
            "http://l2",
        ]) else {
            panic!("not a force-withdraw");
        };
        assert_eq!(args.amount, "0.5");
        assert_eq!(args.to, Some(to.parse().unwrap()));
        assert!(args.force);
        assert_eq!(args.wait_l2, Duration::from_secs(600));
        assert_eq!(args.client.config, Some(PathBuf::from("rollup.json")));
        let Command::ForceWithdraw(args) = parse(&["force-withdraw", "--amount", "1"]) else {
            panic!("not a force-withdraw");
        };
        assert!(!args.force && args.token.is_none() && args.to.is_none());
    }

    #[test]
    fn claim_flags_and_hash_errors() {
        let Command::Claim(args) = parse(&["claim", "--keep-bond", "--account", "4"]) else {
            panic!("not a claim");
        };
        assert!(args.keep_bond);
        let Command::Claim(args) = parse(&["claim"]) else {
            panic!("not a claim");
        };
        assert!(!args.keep_bond);
        // A malformed root or transaction hash says what a hash looks like.
        for line in [
            vec!["rollup-node", "propose", "--state-root", "zz"],
            vec!["rollup-node", "prove", "nothex"],
        ] {
            let err = Cli::try_parse_from(&line).unwrap_err().to_string();
            assert!(err.contains("0x and 64 hex digits"), "{line:?}: {err}");
        }
    }

    #[test]
    fn proofs_are_per_prover() {
        let hash = format!("0x{}", "ab".repeat(32));
        let prover = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
        let Command::Finalize(args) = parse(&["finalize", &hash, "--prover", prover, "--wait"])
        else {
            panic!("not a finalize");
        };
        assert_eq!(args.prover, Some(prover.parse().unwrap()));
        assert!(args.wait);
        let Command::Finalize(args) = parse(&["finalize", &hash]) else {
            panic!("not a finalize");
        };
        assert_eq!(args.prover, None, "default: this account's own proof");
        let Command::Prove(args) = parse(&["prove", &hash, "--again"]) else {
            panic!("not a prove");
        };
        assert!(args.again);
        let Command::Prove(args) = parse(&["prove", &hash]) else {
            panic!("not a prove");
        };
        assert!(!args.again);
    }

    #[test]
    fn deploy_flags() {
        let Command::Deploy(args) = parse(&[
            "deploy",
            "--l1-rpc-url",
            "https://l1.example",
            "--config",
            "deploy.toml",
            "--private-key",
            "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
            "--out",
            "deployed",
            "--force",
        ]) else {
            panic!("not a deploy");
        };
        assert_eq!(args.l1_rpc_url, "https://l1.example");
        assert_eq!(args.config, PathBuf::from("deploy.toml"));
        assert!(args.private_key.is_some());
        assert_eq!(args.out, PathBuf::from("deployed"));
        assert!(args.force);

        let Command::Deploy(args) = parse(&[
            "deploy",
            "--l1-rpc-url",
            "http://l1",
            "--config",
            "deploy.toml",
        ]) else {
            panic!("not a deploy");
        };
        assert_eq!(args.out, PathBuf::from("."));
        assert!(!args.force);
        // The deploy.toml is required (--config names it; there is no rollup.json to default to).
        assert!(
            Cli::try_parse_from(["rollup-node", "deploy", "--l1-rpc-url", "http://l1"]).is_err()
        );
    }

    /// The example deploy.toml in `rollup-node deploy --help`, as printed, is a valid plan.
    #[test]
    fn deploy_help_example_is_a_valid_config() {
        use clap::CommandFactory;
        let mut cli = Cli::command();
        let help = cli
            .find_subcommand_mut("deploy")
            .expect("a deploy subcommand")
            .render_long_help()
            .to_string();
        let example: String = help
            .lines()
            .skip_while(|line| !line.starts_with("    l2_chain_id"))
            .take_while(|line| line.starts_with("    "))
            .map(|line| format!("{}\n", line.trim_start()))
            .collect();
        assert!(example.contains("[l2_alloc]"), "no example in:\n{help}");
        let config: rollup_service::deploy::DeployConfig =
            toml::from_str(&example).unwrap_or_else(|err| panic!("{err}\n{example}"));
        let plan = config.plan().unwrap();
        assert_eq!(plan.preset, rollup_service::deploy::Preset::PRODUCTION);
        assert_eq!(plan.l2_chain_id, 901);
        assert!(plan.l2_alloc.is_empty());
        // Uncommented, [l2_alloc] is taken, and its total is what the bridge locks.
        let funded = example
            .replace("# [l2_alloc]", "[l2_alloc]")
            .replace("# \"0x5555", "\"0x5555");
        let config: rollup_service::deploy::DeployConfig = toml::from_str(&funded).unwrap();
        let funded_plan = config.plan().unwrap();
        assert_eq!(funded_plan.l2_alloc.len(), 1);
        assert_eq!(
            funded_plan.genesis_eth(),
            Some(alloy_primitives::U256::from(10u64).pow(alloy_primitives::U256::from(21)))
        );
        // The preset numbers the help quotes.
        assert_eq!(plan.preset.challenge_period, 7 * 86_400);
        assert_eq!(plan.preset.timelock_delay, 10 * 86_400);
        assert_eq!(plan.preset.sequencing_window, 3600);
        assert_eq!(plan.preset.max_sequencer_drift, 1800);
        let devnet = rollup_service::deploy::Preset::DEVNET;
        assert_eq!(
            (
                devnet.challenge_period,
                devnet.timelock_delay,
                devnet.sequencing_window,
                devnet.max_sequencer_drift
            ),
            (60, 120, 20, 600)
        );
    }

    fn run_args(line: &[&str]) -> Result<RunArgs, clap::Error> {
        let base = [
            "rollup-node",
            "node",
            "--config",
            "rollup.json",
            "--l1-rpc-url",
            "http://l1",
        ];
        let cli = Cli::try_parse_from(base.iter().chain(line))?;
        match cli.command {
            Command::Node(args) => Ok(args.run),
            command => panic!("parsed as {command:?}"),
        }
    }

    #[test]
    fn batcher_posting_flags() {
        let defaults = run_args(&[]).unwrap();
        // Unset: 60s for `node`, the devnet's own default for `devnet`.
        assert_eq!(defaults.batcher_max_delay, None);
        assert_eq!(defaults.batcher_window_margin, 10);
        let set =
            run_args(&["--batcher-max-delay", "30s", "--batcher-window-margin", "4"]).unwrap();
        assert_eq!(set.batcher_max_delay, Some(Duration::from_secs(30)));
        assert_eq!(set.batcher_window_margin, 4);
    }

    #[test]
    fn rpc_limits_default_to_the_servers_and_can_be_set() {
        let defaults = run_args(&[]).unwrap();
        assert_eq!(defaults.rpc_gascap, rollup_rpc::DEFAULT_GAS_CAP);
        assert_eq!(defaults.rpc_evm_timeout, rollup_rpc::DEFAULT_EVM_TIMEOUT);
        assert_eq!(
            defaults.rpc_max_heavy_requests,
            rollup_rpc::default_max_heavy_requests()
        );
        assert_eq!(
            defaults.rpc_heavy_queue_timeout,
            rollup_rpc::DEFAULT_HEAVY_QUEUE_TIMEOUT
        );
        assert_eq!(
            defaults.rpc_http_idle_timeout,
            rollup_rpc::DEFAULT_HTTP_IDLE_TIMEOUT
        );

        let set = run_args(&[
            "--rpc-gascap",
            "1000000",
            "--rpc-evm-timeout",
            "500ms",
            "--rpc-max-heavy-requests",
            "32",
            "--rpc-heavy-queue-timeout",
            "1s",
            "--rpc-http-idle-timeout",
            "30s",
        ])
        .unwrap();
        assert_eq!(set.rpc_gascap, 1_000_000);
        assert_eq!(set.rpc_evm_timeout, Duration::from_millis(500));
        assert_eq!(set.rpc_max_heavy_requests, 32);
        assert_eq!(set.rpc_heavy_queue_timeout, Duration::from_secs(1));
        assert_eq!(set.rpc_http_idle_timeout, Duration::from_secs(30));

        let live = run_args(&[
            "--rpc-max-subscriptions-per-connection",
            "8",
            "--rpc-max-filters",
            "100",
        ])
        .unwrap();
        assert_eq!(
            (
                defaults.rpc_max_subscriptions_per_connection,
                defaults.rpc_max_filters
            ),
            (
                rollup_rpc::DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
                rollup_rpc::DEFAULT_MAX_FILTERS
            )
        );
        assert_eq!(
            (
                live.rpc_max_subscriptions_per_connection,
                live.rpc_max_filters
            ),
            (8, 100)
        );

        // Trusted proxies: none by default; a list, comma-separated; a bad one named.
        assert!(defaults.rpc_trusted_proxies.is_empty());
        let proxied = run_args(&["--rpc-trusted-proxies", "127.0.0.1,10.0.0.0/8"]).unwrap();
        assert_eq!(
            proxied
                .rpc_trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["127.0.0.1/32", "10.0.0.0/8"]
        );
        let err = run_args(&["--rpc-trusted-proxies", "127.0.0.1,proxy.local"]).unwrap_err();
        assert!(err.to_string().contains("proxy.local"), "{err}");

        for zero in [
            ["--rpc-gascap", "0"],
            ["--rpc-evm-timeout", "0s"],
            ["--rpc-max-heavy-requests", "0"],
            ["--rpc-max-subscriptions-per-connection", "0"],
            ["--rpc-max-filters", "0"],
            // A zero period panics a timer or spins a loop: refused with what to give instead.
            ["--block-time", "0s"],
            ["--l1-poll-interval", "0s"],
            ["--batcher-interval", "0ms"],
            ["--proposal-interval", "0s"],
            ["--dispute-interval", "0s"],
            ["--l1-resubmit-after", "0s"],
            ["--l1-beacon-url", "foo"],
        ] {
            let err = run_args(&zero)
                .err()
                .unwrap_or_else(|| panic!("{zero:?} accepted"));
            if zero[1].ends_with('s') {
                assert!(
                    err.to_string().contains("give a positive duration"),
                    "{zero:?}: {err}"
                );
            }
        }
    }
}
