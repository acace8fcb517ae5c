//! User commands for the bridge: `deposit`, `withdraw`, `withdrawal-status`, `prove`, `finalize`.
//!
//! They read the chains, contract addresses and dev accounts from the `devnet.json` that
//! `rollup-node devnet` writes (URLs and key can be overridden), or the contract addresses from
//! a `rollup.json` (`--config`) with URLs and key from flags; they sign with alloy wallets and
//! explain reverts by the contracts' custom error names. The withdrawal life cycle they walk
//! through is described in `docs/withdrawals.md`.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{
    Address, B256, Bytes, U64, U256, keccak256,
    utils::{format_ether, parse_ether},
};
use alloy_provider::{
    DynProvider, Provider, ProviderBuilder,
    transport::{RpcError, TransportErrorKind},
};
use alloy_rpc_types_eth::{Log, TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use eyre::{WrapErr, bail, eyre};
use rollup_primitives::{
    L2_BRIDGE, MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS, RollupConfig,
    artifacts::predict_l2_token,
    bindings::{
        IERC20, IL1Bridge, IL2Bridge, IStateManager, Proposal, ProvenWithdrawal, TrieProof,
        Withdrawal, WithdrawalProof,
    },
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{ClientArgs, FinalizeArgs, ProveArgs, TokenAmountArgs, WithdrawalTxArgs};

/// Every custom error of the rollup contracts (and the solady libraries they use), with what the
/// user should do about it. All of them take no arguments, so the selector of `name()` decodes
/// them.
const KNOWN_ERRORS: &[(&str, &str)] = &[
    ("L1Bridge_ZeroAmount", "the amount must be positive"),
    (
        "L1Bridge_ValueMismatch",
        "ETH deposits send exactly the amount as value; ERC-20 deposits send no ETH",
    ),
    (
        "L1Bridge_UnknownTokenMapping",
        "the L2 token must be the bridge's prediction for the L1 token (ETH: both zero)",
    ),
    (
        "L1Bridge_GasLimitOutOfRange",
        "the deposit's L2 gas limit is outside the bridge's bounds",
    ),
    (
        "L1Bridge_BlockDepositGasExhausted",
        "this L1 block's deposit gas is used up: retry in the next block",
    ),
    (
        "L1Bridge_NotAContract",
        "--token must be an ERC-20 contract on L1",
    ),
    (
        "L1Bridge_FeeOnTransferToken",
        "fee-on-transfer tokens cannot be bridged",
    ),
    (
        "L1Bridge_WithdrawOnL2",
        "withdrawals start on L2: use `rollup-node withdraw`",
    ),
    (
        "L1Bridge_UnknownProposal",
        "no proposal has that index: run `rollup-node prove <l2 tx>`, which picks a live one",
    ),
    (
        "L1Bridge_ProposalRemoved",
        "the proposal was removed (by the StateManager's dispute-game address, which no deployment sets yet), which invalidates proofs against it: run `rollup-node prove <l2 tx>` again to prove against a newer proposal",
    ),
    (
        "L1Bridge_ProposalNotFinal",
        "the proposal's challenge period has not passed yet: `rollup-node withdrawal-status <l2 tx>` shows when it does, `rollup-node finalize <l2 tx> --wait` waits for it",
    ),
    (
        "L1Bridge_WithdrawalNotProven",
        "prove the withdrawal first: `rollup-node prove <l2 tx>`",
    ),
    (
        "L1Bridge_WithdrawalAlreadyProven",
        "it is already proven against a live proposal: finalize it once that is final",
    ),
    (
        "L1Bridge_WithdrawalAlreadyFinalized",
        "the withdrawal was already paid out; there is nothing left to do",
    ),
    (
        "L1Bridge_WithdrawalMismatch",
        "recipient and amount must be the proven withdrawal's",
    ),
    (
        "L1Bridge_InsufficientLocked",
        "the bridge holds less than the payout (should never happen): report it",
    ),
    (
        "L1Bridge_StateRootMismatch",
        "the L2 node's state root for the proposal's block differs from the proposed one: check --l2-rpc-url points at this rollup, and do not trust that proposal",
    ),
    (
        "L1Bridge_WrongSlot",
        "the proof is for another storage slot: fetch it again with rollup_getWithdrawalProof",
    ),
    (
        "L1Bridge_ProofKeyMismatch",
        "the proof is for another withdrawal: fetch it again with rollup_getWithdrawalProof",
    ),
    (
        "SparseMerkleTrie_InvalidProof",
        "the proof does not match the proposal's state root: fetch it again at the proposal's L2 block",
    ),
    (
        "SparseMerkleTrie_KeyAbsent",
        "the withdrawal is not in the proposal's state: use a proposal at or after its L2 block",
    ),
    (
        "SparseMerkleTrie_ValueMismatch",
        "the proven slot holds another value: fetch the proof again",
    ),
    (
        "SparseMerkleTrie_NonCanonicalProof",
        "the proof is not canonical: fetch it again",
    ),
    (
        "SparseMerkleTrie_TooManySiblings",
        "the proof is malformed: fetch it again",
    ),
    (
        "SparseMerkleTrie_KeyMismatch",
        "the proof is for another key: fetch it again",
    ),
    (
        "SparseMerkleTrie_KeyPresent",
        "the proof is malformed: fetch it again",
    ),
    (
        "SparseMerkleTrie_MissingLastSibling",
        "the proof is malformed: fetch it again",
    ),
    (
        "SparseMerkleTrie_LastSiblingMismatch",
        "the proof is malformed: fetch it again",
    ),
    ("L2Bridge_ZeroAmount", "the amount must be positive"),
    (
        "L2Bridge_ValueMismatch",
        "ETH withdrawals send exactly the amount as value; token withdrawals send no ETH",
    ),
    (
        "L2Bridge_TokenMismatch",
        "--token must be the L1 token of a bridged token",
    ),
    (
        "L2Bridge_UnknownToken",
        "nothing of that token was ever deposited to L2: deposit it first",
    ),
    (
        "StateManager_NoProposal",
        "no proposal exists yet: wait for the proposer",
    ),
    ("StateManager_UnknownProposal", "no proposal has that index"),
    (
        "InsufficientBalance",
        "the sender holds less of the token than the amount",
    ),
    (
        "InsufficientAllowance",
        "approve the bridge for the amount first",
    ),
    (
        "TransferFromFailed",
        "the token transfer failed: check balance and allowance",
    ),
    ("TransferFailed", "the token transfer failed"),
    (
        "ETHTransferFailed",
        "the ETH payout failed: the recipient rejects ETH",
    ),
    ("Reentrancy", "reentrant call"),
];

/// The name and advice of a known custom error, from revert data.
pub(crate) fn decode_revert(data: &[u8]) -> Option<(&'static str, &'static str)> {
    let selector = data.get(..4)?;
    KNOWN_ERRORS
        .iter()
        .find(|(name, _)| &keccak256(format!("{name}()"))[..4] == selector)
        .copied()
}

/// Turns an RPC error into a message naming the contract's custom error when there is one.
fn explain(what: &str, err: &RpcError<TransportErrorKind>) -> eyre::Report {
    if let Some(payload) = err.as_error_resp() {
        if let Some(data) = payload.as_revert_data() {
            return match decode_revert(&data) {
                Some((name, advice)) => eyre!("{what} reverts with {name}: {advice}"),
                None => eyre!("{what} reverts (revert data {data}): {}", payload.message),
            };
        }
        return eyre!("{what} failed: {}", payload.message);
    }
    eyre!("{what} failed: {err}")
}

/// The parts of `devnet.json` the client needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevnetFile {
    l1_rpc_url: String,
    l2_rpc_url: String,
    contracts: DevnetContracts,
    accounts: Vec<DevnetAccount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevnetContracts {
    l1_bridge: Address,
    state_manager: Address,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevnetAccount {
    private_key: B256,
}

/// `rollup_getWithdrawalProof`'s result.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProofResponse {
    withdrawal: WithdrawalResponse,
    withdrawal_hash: B256,
    l2_block_number: U64,
    state_root: B256,
    slot: U256,
    proof: TrieProofResponse,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WithdrawalResponse {
    nonce: U256,
    from: Address,
    to: Address,
    l1_token: Address,
    l2_token: Address,
    amount: U256,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TrieProofResponse {
    siblings: Vec<B256>,
    terminal: Option<TerminalResponse>,
    last_sibling: Option<Bytes>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TerminalResponse {
    key: B256,
    value_hash: B256,
}

/// A withdrawal as its L2 transaction recorded it.
#[derive(Debug, Clone)]
struct L2Withdrawal {
    withdrawal: Withdrawal,
    hash: B256,
    l2_block: u64,
}

/// Connected providers and the addresses the commands use.
struct Client {
    l1: DynProvider,
    l2: DynProvider,
    l2_url: String,
    sender: Address,
    l1_bridge: Address,
    state_manager: Address,
}

/// Where a user command connects and what it signs with, before connecting.
#[derive(Debug)]
struct Endpoints {
    l1_url: String,
    l2_url: String,
    l1_bridge: Address,
    state_manager: Address,
    signer: PrivateKeySigner,
}

impl Endpoints {
    /// From `--config <rollup.json>` plus the URL and key flags, or else from the devnet file
    /// (whose URLs and key the flags override).
    fn resolve(args: &ClientArgs) -> eyre::Result<Self> {
        match &args.config {
            Some(path) => Self::from_config(args, path),
            None => Self::from_devnet(args),
        }
    }

    fn from_config(args: &ClientArgs, path: &Path) -> eyre::Result<Self> {
        let config = RollupConfig::from_file(path).map_err(|err| eyre!("--config: {err}"))?;
        let required = |value: &Option<String>, flag: &str, env: &str, what: &str| {
            value.clone().ok_or_else(|| {
                eyre!(
                    "{flag} (or {env}) is required with --config: {} holds no {what}",
                    path.display()
                )
            })
        };
        let l1_url = required(
            &args.l1_rpc_url,
            "--l1-rpc-url",
            "ROLLUP_L1_RPC_URL",
            "RPC URLs",
        )?;
        let l2_url = required(
            &args.l2_rpc_url,
            "--l2-rpc-url",
            "ROLLUP_L2_RPC_URL",
            "RPC URLs",
        )?;
        let key = required(
            &args.private_key,
            "--private-key",
            "ROLLUP_PRIVATE_KEY",
            "keys (--account picks a dev account of a devnet.json only)",
        )?;
        Ok(Self {
            l1_url,
            l2_url,
            l1_bridge: config.contracts.l1_bridge,
            state_manager: config.contracts.state_manager,
            signer: parse_key(&key)?,
        })
    }

    fn from_devnet(args: &ClientArgs) -> eyre::Result<Self> {
        let file = read_devnet_file(&args.devnet)?;
        let l1_url = args
            .l1_rpc_url
            .clone()
            .or_else(|| file.as_ref().map(|f| f.l1_rpc_url.clone()));
        let l2_url = args
            .l2_rpc_url
            .clone()
            .or_else(|| file.as_ref().map(|f| f.l2_rpc_url.clone()));
        let missing = |what: &str| {
            eyre!(
                "no {what}: {} does not exist; run `rollup-node devnet` (it writes that file) or pass --devnet <path to devnet.json>, or for another deployment --config <rollup.json> with --l1-rpc-url, --l2-rpc-url and --private-key",
                args.devnet.display()
            )
        };
        let file_ref = file.as_ref();
        let (l1_url, l2_url) = (
            l1_url.ok_or_else(|| missing("L1 RPC URL"))?,
            l2_url.ok_or_else(|| missing("L2 RPC URL"))?,
        );
        let contracts = file_ref
            .map(|f| f.contracts.clone())
            .ok_or_else(|| missing("contract addresses"))?;
        let signer = match &args.private_key {
            Some(key) => parse_key(key)?,
            None => {
                let accounts = &file_ref.ok_or_else(|| missing("accounts"))?.accounts;
                let account = accounts.get(args.account).ok_or_else(|| {
                    eyre!(
                        "--account {} does not exist: {} has accounts 0..{}",
                        args.account,
                        args.devnet.display(),
                        accounts.len()
                    )
                })?;
                PrivateKeySigner::from_bytes(&account.private_key)?
            }
        };
        Ok(Self {
            l1_url,
            l2_url,
            l1_bridge: contracts.l1_bridge,
            state_manager: contracts.state_manager,
            signer,
        })
    }
}

fn parse_key(key: &str) -> eyre::Result<PrivateKeySigner> {
    key.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| eyre!("--private-key is not a hex private key"))
}

impl Client {
    fn new(args: &ClientArgs) -> eyre::Result<Self> {
        let Endpoints {
            l1_url,
            l2_url,
            l1_bridge,
            state_manager,
            signer,
        } = Endpoints::resolve(args)?;
        let sender = signer.address();
        let wallet = EthereumWallet::from(signer);
        let connect = |url: &str, which: &str| -> eyre::Result<DynProvider> {
            let parsed = url
                .parse()
                .wrap_err_with(|| format!("the {which} RPC URL {url} is not a URL"))?;
            Ok(ProviderBuilder::new()
                .wallet(wallet.clone())
                .connect_http(parsed)
                .erased())
        };
        Ok(Self {
            l1: connect(&l1_url, "L1")?,
            l2: connect(&l2_url, "L2")?,
            l2_url,
            sender,
            l1_bridge,
            state_manager,
        })
    }

    /// A view call on L1.
    async fn l1_view<C: SolCall>(&self, to: Address, call: C) -> eyre::Result<C::Return> {
        view(&self.l1, to, call).await
    }

    /// A view call on L2.
    async fn l2_view<C: SolCall>(&self, to: Address, call: C) -> eyre::Result<C::Return> {
        view(&self.l2, to, call).await
    }

    /// Simulates, then sends a transaction and waits for its receipt; a revert is reported with
    /// the contract's error name.
    async fn send(
        &self,
        l2: bool,
        to: Address,
        input: Vec<u8>,
        value: U256,
        what: &str,
    ) -> eyre::Result<TransactionReceipt> {
        let provider = if l2 { &self.l2 } else { &self.l1 };
        let tx = TransactionRequest::default()
            .with_from(self.sender)
            .with_to(to)
            .with_input(input)
            .with_value(value);
        provider
            .call(tx.clone())
            .await
            .map_err(|err| explain(what, &err))?;
        let pending = provider
            .send_transaction(tx)
            .await
            .map_err(|err| explain(what, &err))?;
        let hash = *pending.tx_hash();
        let receipt = pending
            .with_timeout(Some(Duration::from_secs(120)))
            .get_receipt()
            .await
            .wrap_err_with(|| format!("waiting for the receipt of {what} (tx {hash})"))?;
        if !receipt.status() {
            bail!(
                "{what} reverted on chain (tx {hash}); run `rollup-node withdrawal-status` or try again"
            );
        }
        Ok(receipt)
    }

    async fn l2_rpc(&self, method: &str, params: Value) -> eyre::Result<Value> {
        self.l2
            .raw_request::<_, Value>(method.to_string().into(), params)
            .await
            .map_err(|err| match err.as_error_resp() {
                Some(payload) => eyre!("L2 {method}: {}", payload.message),
                None => eyre!(
                    "L2 {method} at {}: {err} (is the L2 node running?)",
                    self.l2_url
                ),
            })
    }

    /// The withdrawal an L2 transaction initiated, from its receipt.
    async fn l2_withdrawal(&self, tx: B256) -> eyre::Result<L2Withdrawal> {
        let receipt = self
            .l2_rpc("eth_getTransactionReceipt", json!([tx]))
            .await?;
        if receipt.is_null() {
            bail!(
                "L2 transaction {tx} is not in the L2 chain (yet): check the hash, or wait for it to be sequenced"
            );
        }
        if quantity(&receipt["status"]) != Some(1) {
            bail!("L2 transaction {tx} failed, so it initiated no withdrawal");
        }
        let l2_block = quantity(&receipt["blockNumber"])
            .ok_or_else(|| eyre!("L2 receipt of {tx} has no block number"))?;
        let logs: Vec<Log> =
            serde_json::from_value(receipt["logs"].clone()).wrap_err("decoding L2 receipt logs")?;
        let event = logs
            .iter()
            .filter(|log| log.address() == L2_BRIDGE)
            .find_map(|log| IL2Bridge::WithdrawalInitiated::decode_log_data(log.data()).ok())
            .ok_or_else(|| eyre!("L2 transaction {tx} initiated no withdrawal (no WithdrawalInitiated from the L2 bridge)"))?;
        Ok(L2Withdrawal {
            withdrawal: Withdrawal {
                nonce: event.nonce,
                from: event.from,
                to: event.to,
                l1Token: event.l1Token,
                l2Token: event.l2Token,
                amount: event.amount,
            },
            hash: event.withdrawalHash,
            l2_block,
        })
    }

    /// The latest live proposal, if any.
    async fn latest_proposal(&self) -> eyre::Result<Option<(u64, Proposal)>> {
        let tx = TransactionRequest::default()
            .with_to(self.state_manager)
            .with_input(IStateManager::latestProposalCall {}.abi_encode());
        match self.l1.call(tx).await {
            Ok(out) => {
                let latest = IStateManager::latestProposalCall::abi_decode_returns(&out)?;
                Ok(Some((latest.index.to::<u64>(), latest.proposal)))
            }
            Err(err) => {
                let data = err.as_error_resp().and_then(|p| p.as_revert_data());
                if data
                    .as_ref()
                    .and_then(|d| decode_revert(d))
                    .is_some_and(|(name, _)| name == "StateManager_NoProposal")
                {
                    Ok(None)
                } else {
                    Err(explain("StateManager.latestProposal", &err))
                }
            }
        }
    }

    async fn proven(&self, hash: B256) -> eyre::Result<ProvenWithdrawal> {
        self.l1_view(
            self.l1_bridge,
            IL1Bridge::provenWithdrawalsCall { withdrawalId: hash },
        )
        .await
    }

    async fn finalized(&self, hash: B256) -> eyre::Result<bool> {
        self.l1_view(
            self.l1_bridge,
            IL1Bridge::finalizedWithdrawalsCall { withdrawalId: hash },
        )
        .await
    }

    async fn challenge_period(&self) -> eyre::Result<u64> {
        Ok(self
            .l1_view(self.state_manager, IStateManager::challengePeriodCall {})
            .await?
            .to::<u64>())
    }

    async fn l1_time(&self) -> eyre::Result<u64> {
        let block = self
            .l1
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
            .await
            .map_err(|err| explain("reading the latest L1 block", &err))?
            .ok_or_else(|| eyre!("L1 has no latest block"))?;
        Ok(block.header.timestamp)
    }

    async fn safe_head(&self) -> Option<u64> {
        let status = self.l2_rpc("rollup_syncStatus", json!([])).await.ok()?;
        quantity(&status["safeL2"]["number"])
    }
}

fn read_devnet_file(path: &Path) -> eyre::Result<Option<DevnetFile>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).wrap_err_with(|| {
            format!(
                "{} is not a devnet.json written by `rollup-node devnet`",
                path.display()
            )
        })?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).wrap_err_with(|| format!("reading {}", path.display())),
    }
}

/// A JSON quantity: a number or a `0x` hex string.
fn quantity(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
    })
}

fn parse_amount(text: &str) -> eyre::Result<U256> {
    let amount = parse_ether(text.trim()).map_err(|_| {
        eyre!("--amount {text:?} is not an amount like 1.5 (in ether / whole tokens, 18 decimals)")
    })?;
    if amount.is_zero() {
        bail!("--amount must be positive");
    }
    Ok(amount)
}

fn describe(w: &Withdrawal) -> String {
    let what = if w.l1Token.is_zero() {
        "ETH".to_string()
    } else {
        format!("of L1 token {}", w.l1Token)
    };
    format!(
        "{} {what} from {} (L2) to {} (L1)",
        format_ether(w.amount),
        w.from,
        w.to
    )
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// `rollup-node deposit`: ETH or an ERC-20 from L1 to the same account on L2.
pub(crate) async fn deposit(args: TokenAmountArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client)?;
    let amount = parse_amount(&args.amount)?;
    let receipt = match args.token {
        None => {
            let call = IL1Bridge::depositCall {
                l1Token: Address::ZERO,
                l2Token: Address::ZERO,
                amount,
                gasLimit: MIN_ETH_DEPOSIT_GAS as u32,
            };
            client
                .send(
                    false,
                    client.l1_bridge,
                    call.abi_encode(),
                    amount,
                    "the deposit",
                )
                .await?
        }
        Some(token) => {
            let allowance = client
                .l1_view(
                    token,
                    IERC20::allowanceCall {
                        owner: client.sender,
                        spender: client.l1_bridge,
                    },
                )
                .await?;
            if allowance < amount {
                let approve = IERC20::approveCall {
                    spender: client.l1_bridge,
                    amount,
                };
                let receipt = client
                    .send(
                        false,
                        token,
                        approve.abi_encode(),
                        U256::ZERO,
                        "approving the bridge",
                    )
                    .await?;
                println!(
                    "approved the L1 bridge for {} tokens (L1 tx {})",
                    format_ether(amount),
                    receipt.transaction_hash
                );
            }
            let call = IL1Bridge::depositCall {
                l1Token: token,
                l2Token: predict_l2_token(token),
                amount,
                gasLimit: MIN_ERC20_DEPOSIT_GAS as u32,
            };
            client
                .send(
                    false,
                    client.l1_bridge,
                    call.abi_encode(),
                    U256::ZERO,
                    "the deposit",
                )
                .await?
        }
    };
    println!(
        "deposited {} {} to {} on L2",
        format_ether(amount),
        token_name(args.token),
        client.sender
    );
    println!("L1 tx: {}", receipt.transaction_hash);
    println!("L1 block: {}", receipt.block_number.unwrap_or_default());
    if let Some(token) = args.token {
        println!("L2 token: {}", predict_l2_token(token));
    }
    println!("it is credited on L2 as soon as the node has read this L1 block (usually seconds)");
    Ok(())
}

fn token_name(token: Option<Address>) -> String {
    token.map_or_else(|| "ETH".to_string(), |t| format!("of L1 token {t}"))
}

/// `rollup-node withdraw`: starts a withdrawal on L2.
pub(crate) async fn withdraw(args: TokenAmountArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client)?;
    let amount = parse_amount(&args.amount)?;
    let (l1_token, l2_token, value) = match args.token {
        None => (Address::ZERO, Address::ZERO, amount),
        Some(token) => {
            let l2_token = predict_l2_token(token);
            let balance = client
                .l2_view(
                    l2_token,
                    IERC20::balanceOfCall {
                        owner: client.sender,
                    },
                )
                .await
                .unwrap_or_default();
            if balance < amount {
                bail!(
                    "{} holds {} of the L2 token {l2_token} (bridged from {token}) on L2, less than {}: deposit more first",
                    client.sender,
                    format_ether(balance),
                    format_ether(amount)
                );
            }
            (token, l2_token, U256::ZERO)
        }
    };
    let call = IL2Bridge::withdrawCall {
        l1Token: l1_token,
        l2Token: l2_token,
        amount,
    };
    let receipt = client
        .send(true, L2_BRIDGE, call.abi_encode(), value, "the withdrawal")
        .await?;
    let tx = receipt.transaction_hash;
    let withdrawal = client.l2_withdrawal(tx).await?;
    println!("withdrawal initiated: {}", describe(&withdrawal.withdrawal));
    println!("L2 tx: {tx}");
    println!("L2 block: {}", withdrawal.l2_block);
    println!("withdrawal hash: {}", withdrawal.hash);
    println!(
        "next: `rollup-node prove {tx}` once a proposal covers L2 block {} (it waits for one)",
        withdrawal.l2_block
    );
    Ok(())
}

/// `rollup-node withdrawal-status`.
pub(crate) async fn status(args: WithdrawalTxArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client)?;
    let w = client.l2_withdrawal(args.tx).await?;
    println!("withdrawal {}: {}", w.hash, describe(&w.withdrawal));
    println!("L2 block: {}", w.l2_block);
    if client.finalized(w.hash).await? {
        println!("finalized: yes, paid out on L1");
        return Ok(());
    }
    let period = client.challenge_period().await?;
    let proven = client.proven(w.hash).await?;
    if proven.provenAt != 0 {
        let index = proven.proposalIndex.to::<u64>();
        let proposal = client
            .l1_view(
                client.state_manager,
                IStateManager::proposalsCall {
                    index: U256::from(index),
                },
            )
            .await?;
        println!(
            "proven: yes, against proposal #{index} (L2 block {}) at {}",
            proposal.l2BlockNumber,
            utc(proven.provenAt)
        );
        if proposal.removed {
            println!(
                "proposal #{index} was REMOVED on L1: run `rollup-node prove {}` again",
                args.tx
            );
        } else {
            print_finality(&client, proposal.timestamp, period).await?;
            println!(
                "finalized: no — `rollup-node finalize {}` once final",
                args.tx
            );
        }
        return Ok(());
    }
    match client.latest_proposal().await? {
        Some((index, proposal)) if proposal.l2BlockNumber >= w.l2_block => {
            println!(
                "proposal: #{index} covers it (L2 block {})",
                proposal.l2BlockNumber
            );
            println!("proven: no — run `rollup-node prove {}`", args.tx);
            print_finality(&client, proposal.timestamp, period).await?;
        }
        latest => {
            let latest = latest.map_or_else(
                || "none yet".to_string(),
                |(i, p)| format!("#{i} at L2 block {}", p.l2BlockNumber),
            );
            println!(
                "proposal: waiting for a proposal covering L2 block {} (latest proposal: {latest})",
                w.l2_block
            );
            println!("proven: no");
        }
    }
    println!("finalized: no");
    Ok(())
}

async fn print_finality(client: &Client, proposal_time: u64, period: u64) -> eyre::Result<()> {
    let final_at = proposal_time + period;
    let l1_now = client.l1_time().await?;
    if l1_now >= final_at {
        println!(
            "final at: {} (passed; challenge period {period} s)",
            utc(final_at)
        );
    } else {
        println!(
            "final at: {} (in {} s of L1 time; challenge period {period} s)",
            utc(final_at),
            final_at - l1_now
        );
    }
    Ok(())
}

/// `rollup-node prove`: waits for a proposal covering the withdrawal, then proves it on L1.
pub(crate) async fn prove(args: ProveArgs) -> eyre::Result<()> {
    let client = Client::new(&args.tx.client)?;
    let tx = args.tx.tx;
    let w = client.l2_withdrawal(tx).await?;
    println!("withdrawal {}: {}", w.hash, describe(&w.withdrawal));
    if client.finalized(w.hash).await? {
        println!("already finalized: nothing to do");
        return Ok(());
    }
    let proven = client.proven(w.hash).await?;
    if proven.provenAt != 0 {
        let proposal = client
            .l1_view(
                client.state_manager,
                IStateManager::proposalsCall {
                    index: proven.proposalIndex,
                },
            )
            .await?;
        if !proposal.removed {
            println!(
                "already proven against proposal #{}: next, `rollup-node finalize {tx} --wait`",
                proven.proposalIndex
            );
            return Ok(());
        }
        println!(
            "proposal #{} it was proven against was removed; proving again",
            proven.proposalIndex
        );
    }

    let start = Instant::now();
    let mut last_report = None::<Instant>;
    let (index, proposal) = loop {
        let latest = client.latest_proposal().await?;
        if let Some((index, proposal)) = latest.as_ref()
            && proposal.l2BlockNumber >= w.l2_block
        {
            break (*index, proposal.clone());
        }
        if args.timeout.is_some_and(|limit| start.elapsed() > limit) {
            bail!(
                "no proposal covers L2 block {} after {:?}: is the proposer running? (`rollup-node withdrawal-status {tx}`)",
                w.l2_block,
                start.elapsed()
            );
        }
        if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            let latest = latest.map_or_else(
                || "none yet".to_string(),
                |(i, p)| format!("#{i} at L2 block {}", p.l2BlockNumber),
            );
            let safe = client
                .safe_head()
                .await
                .map_or_else(|| "?".to_string(), |n| n.to_string());
            println!(
                "waiting for a proposal covering L2 block {} (latest proposal: {latest}; L2 safe head: {safe}; {} s so far)",
                w.l2_block,
                start.elapsed().as_secs()
            );
            last_report = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    println!(
        "proposal #{index} covers L2 block {} (proposal at L2 block {})",
        w.l2_block, proposal.l2BlockNumber
    );

    let response = client
        .l2_rpc(
            "rollup_getWithdrawalProof",
            json!([tx, format!("{:#x}", proposal.l2BlockNumber)]),
        )
        .await?;
    let response: ProofResponse =
        serde_json::from_value(response).wrap_err("decoding rollup_getWithdrawalProof")?;
    if response.state_root != proposal.stateRoot {
        bail!(
            "the L2 node's state root at L2 block {} is {}, but proposal #{index} proposed {}: this node disagrees with the proposal \
             (wrong --l2-rpc-url, or an invalid proposal: nothing on L1 can challenge it yet, so report it to the rollup's operators); not proving against it",
            response.l2_block_number,
            response.state_root,
            proposal.stateRoot
        );
    }
    if response.withdrawal_hash != w.hash {
        bail!(
            "the L2 node returned the proof of withdrawal {} instead of {}",
            response.withdrawal_hash,
            w.hash
        );
    }
    let withdrawal = Withdrawal {
        nonce: response.withdrawal.nonce,
        from: response.withdrawal.from,
        to: response.withdrawal.to,
        l1Token: response.withdrawal.l1_token,
        l2Token: response.withdrawal.l2_token,
        amount: response.withdrawal.amount,
    };
    let proof = WithdrawalProof {
        stateRoot: response.state_root,
        slot: response.slot,
        trieProof: TrieProof {
            siblings: response.proof.siblings,
            terminalKey: response
                .proof
                .terminal
                .as_ref()
                .map(|t| t.key)
                .unwrap_or_default(),
            terminalValueHash: response
                .proof
                .terminal
                .as_ref()
                .map(|t| t.value_hash)
                .unwrap_or_default(),
            lastSibling: response.proof.last_sibling.unwrap_or_default(),
        },
    };
    let call = IL1Bridge::proveWithdrawalCall {
        proposalIndex: U256::from(index),
        withdrawal,
        proof,
    };
    let receipt = client
        .send(
            false,
            client.l1_bridge,
            call.abi_encode(),
            U256::ZERO,
            "proveWithdrawal",
        )
        .await?;
    let period = client.challenge_period().await?;
    println!("proven against proposal #{index}");
    println!("L1 tx: {}", receipt.transaction_hash);
    println!(
        "final at: {} (proposal time + challenge period of {period} s)",
        utc(proposal.timestamp + period)
    );
    println!("next: `rollup-node finalize {tx} --wait`");
    Ok(())
}

/// `rollup-node finalize`: pays out a proven withdrawal on L1.
pub(crate) async fn finalize(args: FinalizeArgs) -> eyre::Result<()> {
    let client = Client::new(&args.tx.client)?;
    let tx = args.tx.tx;
    let w = client.l2_withdrawal(tx).await?;
    println!("withdrawal {}: {}", w.hash, describe(&w.withdrawal));
    if args.wait {
        let start = Instant::now();
        let mut last_report = None::<Instant>;
        loop {
            if client.finalized(w.hash).await? {
                break; // the send below reports it
            }
            let proven = client.proven(w.hash).await?;
            if proven.provenAt == 0 {
                bail!(
                    "withdrawal {} is not proven: run `rollup-node prove {tx}` first",
                    w.hash
                );
            }
            let proposal = client
                .l1_view(
                    client.state_manager,
                    IStateManager::proposalsCall {
                        index: proven.proposalIndex,
                    },
                )
                .await?;
            if proposal.removed {
                bail!(
                    "proposal #{} the withdrawal was proven against was removed on L1: run `rollup-node prove {tx}` again",
                    proven.proposalIndex
                );
            }
            let is_final = client
                .l1_view(
                    client.state_manager,
                    IStateManager::isFinalCall {
                        index: proven.proposalIndex,
                    },
                )
                .await?;
            if is_final {
                break;
            }
            if args.timeout.is_some_and(|limit| start.elapsed() > limit) {
                bail!(
                    "proposal #{} is still not final after {:?}",
                    proven.proposalIndex,
                    start.elapsed()
                );
            }
            if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                let final_at = proposal.timestamp + client.challenge_period().await?;
                let l1_now = client.l1_time().await?;
                println!(
                    "waiting for proposal #{} to become final at {} ({} s of L1 time left)",
                    proven.proposalIndex,
                    utc(final_at),
                    final_at.saturating_sub(l1_now)
                );
                last_report = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    let call = IL1Bridge::finalizeWithdrawalCall {
        withdrawalId: w.hash,
        recipient: w.withdrawal.to,
        amount: w.withdrawal.amount,
    };
    let receipt = client
        .send(
            false,
            client.l1_bridge,
            call.abi_encode(),
            U256::ZERO,
            "finalizeWithdrawal",
        )
        .await?;
    println!(
        "finalized: paid {} to {} on L1",
        format_ether(w.withdrawal.amount),
        w.withdrawal.to
    );
    println!("L1 tx: {}", receipt.transaction_hash);
    Ok(())
}

/// A view call through `provider`, with the contract's error named if it reverts.
async fn view<C: SolCall>(
    provider: &impl Provider,
    to: Address,
    call: C,
) -> eyre::Result<C::Return> {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(call.abi_encode());
    let out = provider
        .call(tx)
        .await
        .map_err(|err| explain(C::SIGNATURE, &err))?;
    C::abi_decode_returns(&out).wrap_err_with(|| format!("decoding {}", C::SIGNATURE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_names() {
        let data = keccak256("L1Bridge_ProposalNotFinal()")[..4].to_vec();
        assert_eq!(decode_revert(&data).unwrap().0, "L1Bridge_ProposalNotFinal");
        assert!(decode_revert(&[1, 2, 3, 4]).is_none());
        assert!(decode_revert(&[]).is_none());
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    /// A minimal valid `rollup.json`.
    const ROLLUP_JSON: &str = r#"{
        "l1ChainId": 31337,
        "l2ChainId": 42069,
        "contracts": {
            "l1Bridge": "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0",
            "batchInbox": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
            "stateManager": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
        },
        "genesis": {
            "l1Origin": {"number": 5, "hash": "0x0000000000000000000000000000000000000000000000000000000000000005"},
            "timestamp": 1700000000,
            "gasLimit": 30000000,
            "baseFeePerGas": 1000000000,
            "alloc": {}
        },
        "batcherAddress": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    }"#;

    /// Anvil's dev account 5 (a public test key).
    const KEY: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";

    fn client_args(line: &[&str]) -> ClientArgs {
        use clap::Parser;
        let base = ["rollup-node", "deposit", "--amount", "1"];
        match crate::cli::Cli::try_parse_from(base.iter().chain(line))
            .unwrap()
            .command
        {
            crate::cli::Command::Deposit(args) => args.client,
            command => panic!("parsed as {command:?}"),
        }
    }

    #[test]
    fn endpoints_from_a_rollup_config() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("rollup.json");
        std::fs::write(&config, ROLLUP_JSON).unwrap();
        let config = config.to_str().unwrap();
        let full = [
            "--config",
            config,
            "--l1-rpc-url",
            "http://l1.example:8545",
            "--l2-rpc-url",
            "http://l2.example:9545",
            "--private-key",
            KEY,
        ];
        let endpoints = Endpoints::resolve(&client_args(&full)).unwrap();
        assert_eq!(endpoints.l1_url, "http://l1.example:8545");
        assert_eq!(endpoints.l2_url, "http://l2.example:9545");
        assert_eq!(
            endpoints.l1_bridge,
            "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(
            endpoints.state_manager,
            "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
                .parse::<Address>()
                .unwrap()
        );
        assert_eq!(
            endpoints.signer.address(),
            "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"
                .parse::<Address>()
                .unwrap()
        );

        // Each missing flag is named.
        for (drop, flag) in [
            (2, "--l1-rpc-url"),
            (4, "--l2-rpc-url"),
            (6, "--private-key"),
        ] {
            let mut line = full.to_vec();
            line.drain(drop..drop + 2);
            let err = Endpoints::resolve(&client_args(&line)).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{flag} (or ")),
                "{err}"
            );
        }

        // An unreadable config says so.
        let mut line = full.to_vec();
        let absent = dir.path().join("absent.json");
        line[1] = absent.to_str().unwrap();
        let err = Endpoints::resolve(&client_args(&line)).unwrap_err();
        assert!(err.to_string().contains("absent.json"), "{err}");
    }

    #[test]
    fn a_missing_devnet_file_points_at_both_sources() {
        let dir = tempfile::tempdir().unwrap();
        let devnet = dir.path().join("devnet.json");
        let err = Endpoints::resolve(&client_args(&["--devnet", devnet.to_str().unwrap()]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rollup-node devnet") && err.contains("--config"),
            "{err}"
        );
    }

    #[test]
    fn amounts() {
        assert_eq!(
            parse_amount("1.5").unwrap(),
            U256::from(1_500_000_000_000_000_000u128)
        );
        assert!(parse_amount("0").is_err());
        assert!(parse_amount("abc").is_err());
    }
}
