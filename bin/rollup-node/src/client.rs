//! User commands for the bridge: `deposit`, `withdraw`, `force-withdraw`, `withdrawal-status`,
//! `prove`, `finalize`.
//!
//! They read the chains, contract addresses and dev accounts from the `devnet.json` that
//! `rollup-node devnet` writes (URLs and key can be overridden), or the contract addresses from
//! a `rollup.json` (`--config`) with URLs and key from flags; they sign with alloy wallets and
//! explain reverts by the contracts' custom error names. Amounts are read and printed with the
//! token's own decimals. The withdrawal life cycle they walk through is described in
//! `docs/withdrawals.md`.
//!
//! An L1 bridge message (a deposit or a forced withdrawal) becomes an L2 deposit transaction
//! whose hash follows from the L1 log alone ([`rollup_derive::bridge_message_transaction`]), so
//! the commands that send one print its L2 transaction before L2 has run it, then wait for it.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_primitives::{Address, B256, Bytes, U64, U256, keccak256};
use alloy_provider::{
    DynProvider, Provider, ProviderBuilder,
    transport::{RpcError, TransportErrorKind},
};
use alloy_rpc_types_eth::{BlockId, Filter, Log, TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use eyre::{WrapErr, bail, eyre};
use rollup_primitives::{
    L2_BRIDGE, MAX_DEPOSIT_GAS, MIN_ERC20_DEPOSIT_GAS, MIN_ETH_DEPOSIT_GAS, OUTPUT_ROOT_VERSION,
    OutputRoot, RollupConfig,
    artifacts::predict_l2_token,
    bindings::{
        IBatchInbox, IERC20, IERC20Metadata, IL1Bridge, IL2Bridge, IStateManager, Proposal,
        ProvenWithdrawal, TrieProof, Withdrawal, WithdrawalProof,
    },
    decode_l1_origin,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::{
    ClientArgs, DepositArgs, FinalizeArgs, ForceWithdrawArgs, ProveArgs, WithdrawArgs,
    WithdrawalTxArgs,
};

/// Every custom error without arguments of the rollup contracts (and of the solady libraries
/// they use), with what the user should do about it; the selector of `name()` decodes them. A
/// test checks that every such error the contracts declare is here.
const KNOWN_ERRORS: &[(&str, &str)] = &[
    // L1Bridge: deposits and forced withdrawals.
    ("L1Bridge_ZeroAmount", "the amount must be positive"),
    (
        "L1Bridge_AmountTooLarge",
        "an ETH amount must be below 2^128 wei",
    ),
    (
        "L1Bridge_ValueMismatch",
        "ETH deposits send exactly the amount as value; ERC-20 deposits and forced withdrawals send no ETH",
    ),
    (
        "L1Bridge_UnknownTokenMapping",
        "the L2 token must be the bridge's prediction for the L1 token (ETH: both zero)",
    ),
    (
        "L1Bridge_GasLimitOutOfRange",
        "--gas-limit is outside the bridge's bounds (`rollup-node deposit --help` lists them)",
    ),
    (
        "L1Bridge_BlockDepositGasExhausted",
        "this L1 block's deposit gas (shared by deposits and forced withdrawals) is used up: retry in the next block",
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
        "L1Bridge_ZeroRecipient",
        "--to must not be the zero address",
    ),
    (
        "L1Bridge_RecipientIsBridge",
        "--to must not be the L1 bridge: it cannot take ETH, and tokens paid to it would be stranded there",
    ),
    (
        "L1Bridge_InsufficientGasForMetadata",
        "the L1 transaction had too little gas left to read the token's name, symbol and decimals: send it with a higher L1 gas limit (not --gas-limit, which is L2 gas)",
    ),
    (
        "L1Bridge_ZeroAddress",
        "the L1Bridge needs a StateManager address: check the deployment",
    ),
    (
        "L1Bridge_ZeroChainId",
        "the L1Bridge needs a non-zero L2 chain id: check l2_chain_id in deploy.toml",
    ),
    // L1Bridge: the genesis ETH, locked once when the deployment creates the bridge.
    (
        "L1Bridge_GenesisEthTooLarge",
        "the L2 genesis gives more than 2^128 - 1 wei: shrink [l2_alloc]",
    ),
    (
        "L1Bridge_GenesisEthAlreadyLocked",
        "the bridge's genesis ETH is already locked (the deployment locks it when it creates the bridge); nothing to do",
    ),
    (
        "L1Bridge_WrongGenesisEth",
        "send exactly the bridge's genesisEth: the total of the L2 genesis balances",
    ),
    // L1Bridge: proofs and payouts.
    (
        "L1Bridge_UnknownProposal",
        "no proposal has that index: run `rollup-node prove <l2 tx>`, which picks a live one",
    ),
    (
        "L1Bridge_ProposalRemoved",
        "the proposal was removed (a challenger won a dispute game on it, or the guardian removed it), which invalidates proofs against it: run `rollup-node prove <l2 tx>` again to prove against another proposal",
    ),
    (
        "L1Bridge_ProposalNotFinal",
        "the proposal is not final yet: its challenge period has not passed, or a dispute game on it is still open (`rollup-node disputes`); `rollup-node withdrawal-status <l2 tx>` shows which, `rollup-node finalize <l2 tx> --wait` waits for it",
    ),
    (
        "L1Bridge_WithdrawalNotProven",
        "this prover has not proven the withdrawal: `rollup-node prove <l2 tx>` first, or use another account's proof with `rollup-node finalize <l2 tx> --prover <address>` (`rollup-node withdrawal-status <l2 tx>` lists who proved it)",
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
        "the bridge holds less of this token than the payout, which a sound L2 never asks: every deposit and the L2 genesis' ETH are locked there. A deployment made before the genesis ETH was locked (an older devnet datadir) backs genesis balances with nothing: deposit first, or withdraw less",
    ),
    (
        "L1Bridge_GenesisEthNotLocked",
        "the bridge has not locked the ETH the L2 genesis gives its accounts, so it pays no ETH withdrawal (that would come out of depositors' ETH); deployments lock it when they create the bridge. Anyone may lock it: `cast send <L1Bridge> 'lockGenesisEth()' --value <genesisEth()>`, then finalize again",
    ),
    (
        "L1Bridge_UnknownOutputRootVersion",
        "the proof's output root has a layout version the L1Bridge does not know: update rollup-node, or the L2 node at --l2-rpc-url",
    ),
    (
        "L1Bridge_L2BlockMismatch",
        "the proof's output root is for another L2 block than the proposal's: fetch it again at the proposal's L2 block (`rollup-node prove <l2 tx>` does)",
    ),
    (
        "L1Bridge_L2BlockHashMismatch",
        "the L2 node's block at the proposal's height has another hash than the proposed one: check --l2-rpc-url points at this rollup, and do not trust that proposal",
    ),
    (
        "L1Bridge_OutputRootMismatch",
        "the L2 node's output root for the proposal's block (state root, block hash, derivation cursor) differs from the proposed one: check --l2-rpc-url points at this rollup, and do not trust that proposal",
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
    // L2Bridge.
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
        "L2Bridge_ZeroRecipient",
        "--to must not be the zero address",
    ),
    (
        "L2Bridge_RecipientIsL1Bridge",
        "--to must not be the L1 bridge: it cannot take ETH, and tokens paid to it would be stranded there",
    ),
    (
        "L2Bridge_NotDepositor",
        "only deposit transactions derived from L1 credit deposits: deposit on L1 with `rollup-node deposit`",
    ),
    (
        "L2Bridge_NotSelf",
        "the L2 bridge credits deposits only from its own finalizeDeposit: deposit with `rollup-node deposit`",
    ),
    (
        "L2Bridge_ZeroL1Token",
        "an ERC-20 deposit must name its L1 token (ETH deposits are credited natively)",
    ),
    (
        "L2Bridge_L1BridgeNotSet",
        "this L2's genesis does not name the L1 bridge, so no withdrawal could be paid out: the rollup.json is wrong; report it to the rollup's operators",
    ),
    (
        "L2Bridge_MalformedMetadata",
        "the L1 token's name, symbol or decimals did not decode: the deposit became a refund withdrawal; `rollup-node prove <l2 tx>` and `rollup-node finalize <l2 tx>` pay it back on L1",
    ),
    (
        "L2Bridge_MetadataTooLong",
        "the L1 token's name or symbol is too long: the deposit became a refund withdrawal; `rollup-node prove <l2 tx>` and `rollup-node finalize <l2 tx>` pay it back on L1",
    ),
    // BridgedERC20.
    (
        "BridgedERC20_NotBridge",
        "only the L2 bridge mints and burns bridged tokens: use `rollup-node deposit` and `rollup-node withdraw`",
    ),
    (
        "BridgedERC20_AlreadyInitialized",
        "a bridged token is initialized once, by the L2 bridge's first deposit",
    ),
    (
        "BridgedERC20_ZeroL1Token",
        "a bridged token needs its L1 token",
    ),
    (
        "BridgedERC20_MetadataTooLong",
        "the L1 token's name or symbol is longer than 64 bytes: the deposit became a refund withdrawal; `rollup-node prove <l2 tx>` and `rollup-node finalize <l2 tx>` pay it back on L1",
    ),
    // StateManager.
    (
        "StateManager_NotProposer",
        "only the StateManager's proposer may propose (proposals are not permissionless here): check that --proposer-key is this deployment's proposer",
    ),
    (
        "StateManager_InsufficientBond",
        "the proposer's bond balance is below the proposal bond: fund the proposer account (the node's proposer deposits the bond itself with StateManager.depositBond)",
    ),
    (
        "StateManager_ZeroAmount",
        "the bond amount must be positive",
    ),
    (
        "StateManager_ZeroChallengePeriod",
        "the challenge period must be positive: check challenge_period in deploy.toml",
    ),
    (
        "StateManager_ZeroRoot",
        "a proposal needs non-zero state and batch roots",
    ),
    (
        "StateManager_ZeroBlockHash",
        "a proposal needs its L2 block hash",
    ),
    (
        "StateManager_MalformedProof",
        "submitStateRoot's proof must be abi.encode(uint64 l2Block, bytes32 l2BlockHash), with uint256 anchor appended, or with anchor, uint256 l1Block and bytes32 l1BlockHash appended",
    ),
    (
        "StateManager_L1BlockHashMismatch",
        "the L1 block the proposal names has another hash on L1 now: L1 reorganised since the output was derived; wait for the node to follow and propose again",
    ),
    (
        "StateManager_L1BlockHashUnavailable",
        "L1 does not tell the hash of the L1 block the proposal names (a future block, or one older than it remembers): name a recent one",
    ),
    (
        "StateManager_L2BlockNotIncreasing",
        "a proposal must be for a later L2 block than the proposer's own latest live one: nothing new to propose yet",
    ),
    (
        "StateManager_ZeroAddress",
        "the owner, proposer or dispute game must not be the zero address",
    ),
    ("StateManager_UnknownProposal", "no proposal has that index"),
    (
        "StateManager_NoProposal",
        "no proposal exists yet: wait for the proposer",
    ),
    (
        "StateManager_ProposalNotFinal",
        "the proposal's challenge period has not passed: its bond returns once it is final",
    ),
    (
        "StateManager_ProposalRemoved",
        "the proposal was removed by the dispute game: half its bond went to the dispute game's recipient (the other half is burned), and proofs against it no longer count (prove again)",
    ),
    (
        "StateManager_BondAlreadyReturned",
        "the bond was already returned; there is nothing left to do",
    ),
    (
        "StateManager_ProposalFinal",
        "a final proposal can no longer be removed",
    ),
    (
        "StateManager_NotDisputeGame",
        "only a dispute game (or the guardian) of the StateManager may open, close or win games on a proposal",
    ),
    (
        "StateManager_BadAnchor",
        "the anchor must be 0 (the genesis) or 1 + the index of a final proposal below the proposed L2 block: `rollup-node propose` picks one",
    ),
    (
        "StateManager_ChallengePeriodOver",
        "the proposal's challenge period is over: it can no longer be challenged",
    ),
    (
        "StateManager_NoOpenGame",
        "the proposal has no open game to close",
    ),
    (
        "StateManager_BlockNotInInbox",
        "the L2 block is not in the batch inbox yet: only blocks a batch on L1 contains can be proposed (wait for the batcher, or propose an earlier block)",
    ),
    (
        "StateManager_NoVerifier",
        "no one-step verifier is set in the StateManager: the timelock sets one (setOneStepVerifier)",
    ),
    // DisputeGame and OneStepVerifier.
    (
        "DisputeGame_BadParameter",
        "the DisputeGame's parameters are unsound (zero address, root or bond, or an extension not below the clock)",
    ),
    (
        "DisputeGame_WrongBond",
        "a challenge must send exactly the DisputeGame's challengerBond as value",
    ),
    ("DisputeGame_UnknownGame", "no game has that id"),
    (
        "DisputeGame_GameOver",
        "the game is already resolved: `rollup-node disputes` shows its outcome",
    ),
    (
        "DisputeGame_NotYourTurn",
        "it is not this account's turn: the proposal's proposer bisects, the game's challenger picks",
    ),
    (
        "DisputeGame_WrongRange",
        "the move does not fit the disputed range (bisect needs two steps or more, step exactly one at level 1)",
    ),
    (
        "DisputeGame_ClockExpired",
        "the mover's clock ran out: anyone can end the game with resolve",
    ),
    (
        "DisputeGame_ClockRunning",
        "the side to move still has time: the game cannot be resolved yet",
    ),
    ("DisputeGame_ZeroClaim", "a claim must not be zero"),
    (
        "DisputeGame_NoCredit",
        "this account has no credit to claim in the DisputeGame",
    ),
    (
        "DisputeGame_StaleMove",
        "the proposal or game is no longer what the move names (another transaction came first, or an L1 reorg): read it again (`rollup-node disputes`) and decide anew",
    ),
    (
        "OneStepVerifier_BadWitness",
        "the witness does not open the agreed state of the disputed block",
    ),
    (
        "OrderedTrie_BadProof",
        "an append proof does not open the trace state's transactions or receipts trie down to the next key: rebuild the step's witness from the node's trace",
    ),
    (
        "OrderedTrie_ShortValue",
        "a transaction or receipt appended to a trace state's trie is under 32 bytes: the witness's encoding is not the transaction's",
    ),
    (
        "OneStepVerifier_ZeroAddress",
        "the OneStepVerifier needs the L1 bridge (its deposit chain) and the SegmentStore: deploy it with both addresses",
    ),
    (
        "SegmentStore_BadConfig",
        "the SegmentStore needs the BatchInbox and the L2 chain id (non-zero, at most 64 bits)",
    ),
    (
        "SegmentStore_BlobLoadMalformed",
        "loadBlob takes 32 value bytes and a 48-byte proof per element and a 48-byte commitment per blob of the batch; loadWholeBlob one of the batch's blobs as 4096 values below the BLS modulus, its 48-byte commitment and a 48-byte proof",
    ),
    // BatchInbox.
    (
        "BatchInbox_NotBatcher",
        "only the rollup's batcher may post batches: check that --batcher-key is rollup.json's batcherAddress",
    ),
    (
        "BatchInbox_ZeroAddress",
        "the owner, batcher or bridge must not be the zero address",
    ),
    (
        "BatchInbox_ZeroSequencingWindow",
        "the sequencing window must be at least one L1 block",
    ),
    (
        "BatchInbox_ZeroGenesisOriginHash",
        "the genesis L1 origin's hash must be set",
    ),
    (
        "BatchInbox_CallerNotEOA",
        "batches must be posted by the batcher account itself, in a top-level call (not through a contract)",
    ),
    (
        "BatchInbox_NonCanonicalCalldata",
        "postBatch's calldata must be the canonical ABI encoding of its bytes argument",
    ),
    (
        "BatchInbox_BatchTruncated",
        "the batch ends before its envelope does: it was cut short",
    ),
    (
        "BatchInbox_NoBlobData",
        "a blob batch must carry transactions: post a batch without any with postBatch (calldata)",
    ),
    (
        "L1Bridge_UnknownCheckpoint",
        "the bridge has no deposit checkpoint with that index",
    ),
    // solady.
    (
        "Unauthorized",
        "only the owner (the timelock) may do this: schedule it through the TimelockController",
    ),
    (
        "InvalidInitialization",
        "the contract is already initialized (a proxy initializes once, an implementation never)",
    ),
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
pub(crate) fn explain(what: &str, err: &RpcError<TransportErrorKind>) -> eyre::Report {
    if let Some(payload) = err.as_error_resp() {
        if let Some(data) = payload.as_revert_data() {
            return match decode_revert(&data) {
                Some((name, advice)) => eyre!("{what} reverts with {name}: {advice}"),
                None => eyre!(
                    "{what} reverts with {}",
                    rollup_primitives::describe_revert(&data)
                ),
            };
        }
        return eyre!("{what} failed: {}", payload.message);
    }
    eyre!("{what} failed: {err} (no answer from the node: is it running, and is its URL right?)")
}

/// The parts of `devnet.json` the client needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevnetFile {
    l1_rpc_url: String,
    l2_rpc_url: String,
    l1_chain_id: u64,
    l2_chain_id: u64,
    contracts: DevnetContracts,
    accounts: Vec<DevnetAccount>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DevnetContracts {
    l1_bridge: Address,
    batch_inbox: Address,
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
    output_root: Option<OutputRootResponse>,
    output_root_hash: Option<B256>,
    slot: U256,
    proof: TrieProofResponse,
}

/// The output root preimage in `rollup_getWithdrawalProof`'s result.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutputRootResponse {
    version: U64,
    l2_block_number: U64,
    state_root: B256,
    l2_block_hash: B256,
    inbox_record: U64,
    block_in_record: U64,
    l1_block: U64,
}

impl From<OutputRootResponse> for OutputRoot {
    fn from(output: OutputRootResponse) -> Self {
        Self {
            version: output.version.to(),
            l2_block_number: output.l2_block_number.to(),
            state_root: output.state_root,
            l2_block_hash: output.l2_block_hash,
            inbox_record: output.inbox_record.to(),
            block_in_record: output.block_in_record.to(),
            l1_block: output.l1_block.to(),
        }
    }
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

/// The parts of an L2 transaction receipt the commands read.
#[derive(Debug, Clone)]
struct L2TxReceipt {
    success: bool,
    block: u64,
    logs: Vec<Log>,
}

impl L2TxReceipt {
    /// The first event `E` the L2 bridge emitted in this transaction.
    fn bridge_event<E: SolEvent>(&self) -> Option<E> {
        self.logs
            .iter()
            .filter(|log| log.address() == L2_BRIDGE)
            .find_map(|log| E::decode_log_data(log.data()).ok())
    }
}

/// A token's symbol as these commands print it: whatever its contract returns (anyone can
/// deploy a token and bridge it), with control characters and the invisible or
/// direction-changing ones escaped, so that a symbol cannot print extra lines, colours or
/// reordered text (`USD\n\x1b[31mfinalized: yes` showed as a red second line); `None` if empty.
fn shown_symbol(symbol: Option<String>) -> Option<String> {
    let symbol = symbol.filter(|symbol| !symbol.is_empty())?;
    let mut shown = String::with_capacity(symbol.len());
    for c in symbol.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else if matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
        {
            shown.extend(c.escape_unicode());
        } else {
            shown.push(c);
        }
    }
    Some(shown)
}

/// How amounts of one asset are written: ETH, or an ERC-20 with its decimals and symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Asset {
    /// The L1 token, `None` for ETH.
    l1_token: Option<Address>,
    /// Decimals of one whole unit; `None` if the token's could not be read (amounts are then
    /// written in base units).
    decimals: Option<u8>,
    symbol: Option<String>,
}

impl Asset {
    const ETH: Self = Self {
        l1_token: None,
        decimals: Some(18),
        symbol: None,
    };

    /// `1.5 ETH`, `1.5 USDC (L1 token 0x…)`, `1.5 of L1 token 0x…`.
    fn format(&self, amount: U256) -> String {
        let Some(token) = self.l1_token else {
            return format!("{} ETH", format_amount(amount, 18));
        };
        match (self.decimals, &self.symbol) {
            (Some(decimals), Some(symbol)) => format!(
                "{} {symbol} (L1 token {token})",
                format_amount(amount, decimals)
            ),
            (Some(decimals), None) => {
                format!("{} of L1 token {token}", format_amount(amount, decimals))
            }
            (None, _) => format!("{amount} base units of L1 token {token}"),
        }
    }

    /// The amount alone, for a sentence that names the token already: `1.5 USDC`, `1.5`.
    fn short(&self, amount: U256) -> String {
        match (self.l1_token, self.decimals, &self.symbol) {
            (None, _, _) => format!("{} ETH", format_amount(amount, 18)),
            (Some(_), Some(decimals), Some(symbol)) => {
                format!("{} {symbol}", format_amount(amount, decimals))
            }
            (Some(_), Some(decimals), None) => format_amount(amount, decimals),
            (Some(_), None, _) => format!("{amount} base units"),
        }
    }

    /// `--amount` in this asset's whole units.
    fn parse(&self, text: &str) -> eyre::Result<U256> {
        let decimals = self.decimals.ok_or_else(|| {
            eyre!("cannot read the decimals of the token, so --amount cannot be converted")
        })?;
        parse_amount(text, decimals)
    }
}

/// Connected providers and the addresses the commands use.
pub(crate) struct Client {
    pub(crate) l1: DynProvider,
    l2: DynProvider,
    l2_url: String,
    pub(crate) sender: Address,
    l1_bridge: Address,
    batch_inbox: Address,
    pub(crate) state_manager: Address,
    /// What a printed next command must repeat to reach the same chain and sign as this one
    /// does (` --account 3`, ` --devnet other/devnet.json`, ` --config … --l1-rpc-url …`), so
    /// that following a hint does not switch chains or accounts. A private key is never
    /// printed: with `--private-key` the user passes it again.
    pub(crate) signer_flag: String,
}

/// Where a user command connects and what it signs with, before connecting.
#[derive(Debug)]
struct Endpoints {
    l1_url: String,
    l2_url: String,
    l1_bridge: Address,
    batch_inbox: Address,
    state_manager: Address,
    signer: PrivateKeySigner,
    signer_flag: String,
    /// The L1 and L2 chain ids the URLs must serve, and where they come from.
    chains: ChainIds,
}

/// The chains a user command expects at its URLs.
#[derive(Debug)]
struct ChainIds {
    l1: u64,
    l2: u64,
    /// The file that names them, for the error.
    source: String,
}

impl Endpoints {
    /// From `--config <rollup.json>` plus the URL and key flags, or else from the devnet file
    /// (whose URLs and key the flags override).
    /// `needs_l2`: false for the commands that only use L1 (`force-include`), which a user runs
    /// when the sequencer is gone and may have no L2 RPC to name.
    fn resolve(args: &ClientArgs, needs_l2: bool) -> eyre::Result<Self> {
        match &args.config {
            Some(path) => Self::from_config(args, path, needs_l2),
            None => Self::from_devnet(args),
        }
    }

    fn from_config(args: &ClientArgs, path: &Path, needs_l2: bool) -> eyre::Result<Self> {
        // The devnet file is not read with --config, but a dev account cannot be honoured.
        if args.account != 0 {
            return Err(eyre!(
                "--account (or ROLLUP_ACCOUNT) picks a dev account of a devnet.json, which is not read with --config: sign with --private-key (or ROLLUP_PRIVATE_KEY) instead"
            ));
        }
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
        let l2_url = if needs_l2 {
            required(
                &args.l2_rpc_url,
                "--l2-rpc-url",
                "ROLLUP_L2_RPC_URL",
                "RPC URLs",
            )?
        } else {
            args.l2_rpc_url.clone().unwrap_or_else(|| NO_L2_URL.into())
        };
        let key = required(
            &args.private_key,
            "--private-key",
            "ROLLUP_PRIVATE_KEY",
            "keys (--account picks a dev account of a devnet.json only)",
        )?;
        let mut signer_flag = format!(" --config {} --l1-rpc-url {l1_url}", path.display());
        if needs_l2 {
            signer_flag += &format!(" --l2-rpc-url {l2_url}");
        }
        Ok(Self {
            l1_url,
            l2_url,
            l1_bridge: config.contracts.l1_bridge,
            batch_inbox: config.contracts.batch_inbox,
            state_manager: config.contracts.state_manager,
            signer: parse_key(&key)?,
            signer_flag,
            chains: ChainIds {
                l1: config.l1_chain_id,
                l2: config.l2_chain_id,
                source: path.display().to_string(),
            },
        })
    }

    fn from_devnet(args: &ClientArgs) -> eyre::Result<Self> {
        // An exported ROLLUP_PRIVATE_KEY would otherwise sign instead of the account asked for
        // (or, as a clap conflict, refuse a --account the user typed alone without naming why).
        if args.private_key.is_some() && args.account != 0 {
            return Err(eyre!(
                "--account {} and a private key (--private-key, or ROLLUP_PRIVATE_KEY in the environment) both pick the signer: drop one (`unset ROLLUP_PRIVATE_KEY` to sign with a dev account)",
                args.account
            ));
        }
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
        let chains = file_ref
            .map(|f| ChainIds {
                l1: f.l1_chain_id,
                l2: f.l2_chain_id,
                source: args.devnet.display().to_string(),
            })
            .ok_or_else(|| missing("chain ids"))?;
        let signer = match &args.private_key {
            Some(key) => parse_key(key)?,
            None => {
                let accounts = &file_ref.ok_or_else(|| missing("accounts"))?.accounts;
                let account = accounts.get(args.account).ok_or_else(|| {
                    eyre!(
                        "--account {} does not exist: {} has accounts 0 to {}",
                        args.account,
                        args.devnet.display(),
                        accounts.len().saturating_sub(1)
                    )
                })?;
                PrivateKeySigner::from_bytes(&account.private_key)?
            }
        };
        Ok(Self {
            l1_url,
            l2_url,
            l1_bridge: contracts.l1_bridge,
            batch_inbox: contracts.batch_inbox,
            state_manager: contracts.state_manager,
            signer,
            chains,
            signer_flag: {
                let mut flags = match (&args.private_key, args.account) {
                    (None, account) if account != 0 => format!(" --account {account}"),
                    _ => String::new(),
                };
                if args.devnet
                    != std::path::Path::new(crate::devnet::DEFAULT_DATADIR).join("devnet.json")
                {
                    flags += &format!(" --devnet {}", args.devnet.display());
                }
                flags
            },
        })
    }
}

fn parse_key(key: &str) -> eyre::Result<PrivateKeySigner> {
    key.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|_| eyre!("--private-key is not a hex private key"))
}

/// How long one request to the L2 node may take before the command treats the node as not
/// answering (as if it refused the connection): a node that took the connection and never
/// answered held every command for ever, `force-withdraw --force` (the way out when the
/// sequencer is stuck) included.
const L2_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The same for the L1 node, which log queries over many blocks may keep busy for longer.
const L1_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The L2 URL of a client that needs none (`Endpoints::resolve` with `needs_l2` false): a name
/// that never resolves, so a use by mistake fails naming what is missing.
const NO_L2_URL: &str = "http://no-l2-rpc-url-given.invalid";

impl Client {
    pub(crate) async fn new(args: &ClientArgs) -> eyre::Result<Self> {
        Self::with_l2(args, true).await
    }

    /// A client for the commands that read and write L1 only.
    pub(crate) async fn l1_only(args: &ClientArgs) -> eyre::Result<Self> {
        Self::with_l2(args, false).await
    }

    /// Connects, and checks that each URL that answers serves the chain the config (or the
    /// devnet file) names: swapped URLs, or a config of another deployment, would otherwise
    /// send real funds to an address nobody controls on the wrong chain. A URL that does not
    /// answer is reported by the first call that needs it.
    async fn with_l2(args: &ClientArgs, needs_l2: bool) -> eyre::Result<Self> {
        let Endpoints {
            l1_url,
            l2_url,
            l1_bridge,
            batch_inbox,
            state_manager,
            signer,
            signer_flag,
            chains,
        } = Endpoints::resolve(args, needs_l2)?;
        let sender = signer.address();
        let wallet = EthereumWallet::from(signer);
        let connect = |url: &str, which: &str, timeout: Duration| -> eyre::Result<DynProvider> {
            let parsed = url
                .parse()
                .wrap_err_with(|| format!("the {which} RPC URL {url} is not a URL"))?;
            Ok(ProviderBuilder::new()
                .wallet(wallet.clone())
                .connect_client(rollup_l1::http_client_with_timeout(parsed, timeout))
                .erased())
        };
        let (l1, l2) = (
            connect(&l1_url, "L1", L1_REQUEST_TIMEOUT)?,
            connect(&l2_url, "L2", L2_REQUEST_TIMEOUT)?,
        );
        let check = async |provider: &DynProvider,
                           url: &str,
                           which: &str,
                           want: u64,
                           other: u64| {
            let Ok(got) = provider.get_chain_id().await else {
                return Ok(());
            };
            if got == want {
                return Ok(());
            }
            let hint = if got == other {
                "--l1-rpc-url and --l2-rpc-url look swapped"
            } else {
                "a wrong URL, or the config of another deployment"
            };
            Err(eyre!(
                "the {which} RPC URL {url} serves chain {got}, but {} says the {which} is chain {want}: {hint}; nothing was sent",
                chains.source
            ))
        };
        check(&l1, &l1_url, "L1", chains.l1, chains.l2).await?;
        if needs_l2 {
            check(&l2, &l2_url, "L2", chains.l2, chains.l1).await?;
        }
        Ok(Self {
            l1,
            l2,
            l2_url,
            sender,
            l1_bridge,
            batch_inbox,
            state_manager,
            signer_flag,
        })
    }

    /// A view call on L1.
    pub(crate) async fn l1_view<C: SolCall>(
        &self,
        to: Address,
        call: C,
    ) -> eyre::Result<C::Return> {
        view(&self.l1, to, call).await
    }

    /// A view call on L2.
    async fn l2_view<C: SolCall>(&self, to: Address, call: C) -> eyre::Result<C::Return> {
        view(&self.l2, to, call).await
    }

    /// Simulates, then sends a transaction and waits for its receipt; a revert is reported with
    /// the contract's error name.
    pub(crate) async fn send(
        &self,
        l2: bool,
        to: Address,
        input: Vec<u8>,
        value: U256,
        what: &str,
    ) -> eyre::Result<TransactionReceipt> {
        self.send_with_headroom(l2, to, input, value, what, GAS_HEADROOM_PERCENT)
            .await
    }

    /// Runs a call of `input` to `to` on L1 from this account, as [`Self::send`] first does,
    /// and reports its revert unless it is `allowed` (an error name such as
    /// `StateManager_InsufficientBond`, the one a later transaction of the command makes good).
    pub(crate) async fn check_l1_call(
        &self,
        to: Address,
        input: Vec<u8>,
        allowed: Option<&str>,
        what: &str,
    ) -> eyre::Result<()> {
        let tx = TransactionRequest::default()
            .with_from(self.sender)
            .with_to(to)
            .with_input(input);
        match self.l1.call(tx).block(BlockId::latest()).await {
            Ok(_) => Ok(()),
            Err(err) => {
                let name = err
                    .as_error_resp()
                    .and_then(|payload| payload.as_revert_data())
                    .and_then(|data| decode_revert(&data).map(|(name, _)| name));
                if name.is_some() && name == allowed {
                    Ok(())
                } else {
                    Err(explain(what, &err))
                }
            }
        }
    }

    /// Why L1 could not pay `amount` of ETH to `recipient` now, if it could not: the bridge pays
    /// a withdrawal with a plain call carrying the ETH, so a recipient whose code reverts on it
    /// (a contract without `receive`) leaves the withdrawal unpaid at every try, its recipient
    /// being fixed. Asked as that call from the bridge; `None` also when L1 cannot say (a node
    /// error other than a revert).
    async fn rejects_eth(&self, recipient: Address, amount: U256) -> Option<String> {
        let tx = TransactionRequest::default()
            .with_from(self.l1_bridge)
            .with_to(recipient)
            .with_value(amount);
        let err = self.l1.call(tx).block(BlockId::latest()).await.err()?;
        let payload = err.as_error_resp()?;
        let reverted =
            payload.as_revert_data().is_some() || payload.message.to_lowercase().contains("revert");
        reverted.then(|| {
            format!(
                "the L1 recipient {recipient} rejects ETH (a call paying it {} ETH reverts: {}): L1 could not pay this withdrawal, whose recipient cannot change afterwards",
                format_amount(amount, 18),
                payload.message
            )
        })
    }

    /// [`Self::send`] with a gas limit `headroom_percent` above the estimate (0: the provider's
    /// own estimate), for a call whose gas can grow between the estimate and its block.
    pub(crate) async fn send_with_headroom(
        &self,
        l2: bool,
        to: Address,
        input: Vec<u8>,
        value: U256,
        what: &str,
        headroom_percent: u64,
    ) -> eyre::Result<TransactionReceipt> {
        let provider = if l2 { &self.l2 } else { &self.l1 };
        // A refusal for want of funds names the account, the chain and what it was to pay.
        let explain = |what: &str, err: &RpcError<TransportErrorKind>| {
            let unfunded = err.as_error_resp().is_some_and(|payload| {
                payload
                    .message
                    .to_lowercase()
                    .contains("insufficient funds")
            });
            let report = explain(what, err);
            if unfunded {
                report.wrap_err(format!(
                    "{} cannot pay for {what} on {}: it needs ETH there for the gas{}",
                    self.sender,
                    if l2 { "L2" } else { "L1" },
                    if value.is_zero() {
                        String::new()
                    } else {
                        format!(
                            " and the {} ETH the transaction sends",
                            format_amount(value, 18)
                        )
                    }
                ))
            } else {
                report
            }
        };
        let mut tx = TransactionRequest::default()
            .with_from(self.sender)
            .with_to(to)
            .with_input(input)
            .with_value(value);
        provider
            .call(tx.clone())
            .await
            .map_err(|err| explain(what, &err))?;
        if headroom_percent > 0 {
            let estimate = provider
                .estimate_gas(tx.clone())
                .await
                .map_err(|err| explain(what, &err))?;
            // Never above the per-transaction gas cap of EIP-7825 (Osaka), unless the estimate
            // itself is.
            let padded = estimate.saturating_mul(100 + headroom_percent) / 100;
            tx = tx.with_gas_limit(padded.min(MAX_TX_GAS.max(estimate)));
        }
        // The nonce is named so that a transaction another one displaced is noticed at once,
        // and sent again: on L2 a deposit from L1 uses up a nonce of its sender too, so a
        // transaction sent while one is on its way loses its nonce to it.
        let mut displaced = 0;
        let (hash, receipt) = loop {
            let nonce = provider
                .get_transaction_count(self.sender)
                .pending()
                .await
                .map_err(|err| explain(what, &err))?;
            let sent = provider
                .send_transaction(tx.clone().with_nonce(nonce))
                .await;
            // Another transaction of the account (another command's, sent at the same moment)
            // took the nonce between the read and the send: the same as being displaced.
            let taken = |err: &RpcError<TransportErrorKind>| {
                err.as_error_resp().is_some_and(|payload| {
                    payload.message.contains("nonce too low")
                        || payload
                            .message
                            .contains("replacement transaction underpriced")
                })
            };
            let hash = match sent {
                Ok(pending) => {
                    let hash = *pending.tx_hash();
                    if let Some(receipt) = self.receipt_of(provider, hash, nonce, what).await? {
                        break (hash, receipt);
                    }
                    hash
                }
                Err(err) if taken(&err) => B256::ZERO,
                Err(err) => return Err(explain(what, &err)),
            };
            displaced += 1;
            if displaced == MAX_DISPLACED {
                bail!(
                    "{what} was displaced {MAX_DISPLACED} times: other transactions of {} (deposits from L1 use up its L2 nonces too) took each nonce first; nothing was spent, so run the command again once they are in",
                    self.sender
                );
            }
            let which = if hash.is_zero() {
                String::new()
            } else {
                format!(" (tx {hash})")
            };
            out!(
                "{what}{which} was displaced: another transaction of this account used its nonce {nonce} first (a deposit from L1 uses up an L2 nonce too); sending it again"
            );
        };
        if !receipt.status() {
            bail!(
                "{what} reverted on chain (tx {hash}); run `rollup-node withdrawal-status` or try again"
            );
        }
        Ok(receipt)
    }

    /// Waits for the receipt of `hash`, which this account sent with `nonce`; `None` as soon as
    /// another transaction of the account took that nonce first (this one can then never be
    /// mined). A failed read is retried: the wait outlives a node that drops a request.
    async fn receipt_of(
        &self,
        provider: &DynProvider,
        hash: B256,
        nonce: u64,
        what: &str,
    ) -> eyre::Result<Option<TransactionReceipt>> {
        let start = Instant::now();
        let mut nonce_used = false;
        loop {
            if let Ok(Some(receipt)) = provider.get_transaction_receipt(hash).await {
                return Ok(Some(receipt));
            }
            if nonce_used {
                return Ok(None);
            }
            // Looked at after the receipt: the nonce is then used by someone else, unless this
            // transaction landed in between (the next look at its receipt tells), or the node
            // still holds it: an L1 reorg took it out of a block and put it back in the pool, and
            // sending it again under the next nonce would have both run.
            nonce_used = provider
                .get_transaction_count(self.sender)
                .await
                .is_ok_and(|latest| latest > nonce)
                && provider
                    .get_transaction_by_hash(hash)
                    .await
                    .is_ok_and(|known| known.is_none());
            if start.elapsed() > RECEIPT_TIMEOUT {
                bail!(
                    "no receipt of {what} (tx {hash}) within {} s: it may still be mined; look it up later, or send again once it is gone from the node's pool",
                    RECEIPT_TIMEOUT.as_secs()
                );
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub(crate) async fn l2_rpc(&self, method: &str, params: Value) -> eyre::Result<Value> {
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

    /// The receipt of L2 transaction `tx`, if L2 has run it. Read as JSON: deposit
    /// transactions have a type alloy's Ethereum receipt does not know.
    async fn l2_receipt(&self, tx: B256) -> eyre::Result<Option<L2TxReceipt>> {
        let receipt = self
            .l2_rpc("eth_getTransactionReceipt", json!([tx]))
            .await?;
        if receipt.is_null() {
            return Ok(None);
        }
        let block = quantity(&receipt["blockNumber"])
            .ok_or_else(|| eyre!("L2 receipt of {tx} has no block number"))?;
        let logs: Vec<Log> =
            serde_json::from_value(receipt["logs"].clone()).wrap_err("decoding L2 receipt logs")?;
        Ok(Some(L2TxReceipt {
            success: quantity(&receipt["status"]) == Some(1),
            block,
            logs,
        }))
    }

    /// Waits up to `limit` for L2 to run `tx` (an L2 deposit transaction derived from L1 block
    /// `l1_block`); `None` if it has not by then. An L2 node that cannot be read is waited for
    /// too (the L1 transaction is sent either way): its last error is printed at the end.
    async fn wait_l2_receipt(
        &self,
        tx: B256,
        l1_block: u64,
        limit: Duration,
    ) -> Option<L2TxReceipt> {
        let start = Instant::now();
        let mut last_report = Instant::now();
        loop {
            let error = match self.l2_receipt(tx).await {
                Ok(Some(receipt)) => return Some(receipt),
                Ok(None) => None,
                Err(err) => Some(err),
            };
            if start.elapsed() >= limit {
                if let Some(err) = error {
                    out!("cannot read L2: {err:#}");
                }
                return None;
            }
            if last_report.elapsed() >= Duration::from_secs(10) {
                out!(
                    "waiting for L2 to run {tx} (derived from L1 block {l1_block}; {} s so far)",
                    start.elapsed().as_secs()
                );
                last_report = Instant::now();
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The withdrawal an L2 transaction initiated, from its receipt.
    async fn l2_withdrawal(&self, tx: B256) -> eyre::Result<L2Withdrawal> {
        let Some(receipt) = self.l2_receipt(tx).await? else {
            // The L1 transaction of a forced withdrawal (or a refunded deposit) is a likely
            // mix-up: name the L2 transaction it became.
            if let Ok(Some(l1)) = self.l1.get_transaction_receipt(tx).await {
                match self.l2_transaction_of(&l1) {
                    Ok(l2_tx) => bail!(
                        "{tx} is an L1 transaction; the L2 transaction it became is {l2_tx}: give that one{}",
                        if self.l2_receipt(l2_tx).await?.is_some() {
                            ""
                        } else {
                            " (not on L2 yet: the sequencer includes it with its L1 block, or `rollup-node force-include` forces it once that block's sequencing window closes)"
                        }
                    ),
                    Err(_) => bail!(
                        "{tx} is an L1 transaction, not the L2 transaction of a withdrawal: give the `L2 tx:` hash `withdraw` or `force-withdraw` printed"
                    ),
                }
            }
            bail!(
                "L2 transaction {tx} is not in the L2 chain (yet): give the `L2 tx:` hash `withdraw` or `force-withdraw` printed (not the withdrawal hash), or wait for it to be sequenced"
            );
        };
        if !receipt.success {
            bail!("L2 transaction {tx} failed, so it initiated no withdrawal");
        }
        let event = receipt
            .bridge_event::<IL2Bridge::WithdrawalInitiated>()
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
            l2_block: receipt.block,
        })
    }

    /// ETH, or the L1 token `token` with the decimals and symbol it reports on L1. A token
    /// without `decimals()` counts as 18 decimals, as the bridge passes it to L2.
    async fn l1_asset(&self, token: Option<Address>) -> eyre::Result<Asset> {
        let Some(token) = token else {
            return Ok(Asset::ETH);
        };
        let code = self
            .l1
            .get_code_at(token)
            .await
            .map_err(|err| explain("reading the token's code on L1", &err))?;
        if code.is_empty() {
            bail!("--token {token} has no code on L1: it is not an ERC-20 contract there");
        }
        let decimals = match self.bridged_decimals(token).await? {
            Ok(decimals) => decimals,
            Err(why) => {
                out!(
                    "note: L1 token {token} {why}; amounts are in 18 decimals, as the bridge then gives its L2 token"
                );
                18
            }
        };
        let symbol = self
            .l1_view(token, IERC20Metadata::symbolCall {})
            .await
            .ok();
        Ok(Asset {
            l1_token: Some(token),
            decimals: Some(decimals),
            symbol: shown_symbol(symbol),
        })
    }

    /// ETH, or the bridged L2 token of `l1_token` with its decimals and symbol; `None` if that
    /// L2 token does not exist yet (nothing of the L1 token was ever deposited).
    async fn l2_asset(&self, l1_token: Option<Address>) -> eyre::Result<Option<Asset>> {
        let Some(l1_token) = l1_token else {
            return Ok(Some(Asset::ETH));
        };
        let l2_token = predict_l2_token(l1_token);
        let code = self
            .l2
            .get_code_at(l2_token)
            .await
            .map_err(|err| explain("reading the L2 token's code", &err))?;
        if code.is_empty() {
            return Ok(None);
        }
        let decimals = self
            .l2_view(l2_token, IERC20Metadata::decimalsCall {})
            .await?;
        let symbol = self
            .l2_view(l2_token, IERC20Metadata::symbolCall {})
            .await
            .ok();
        Ok(Some(Asset {
            l1_token: Some(l1_token),
            decimals: Some(decimals),
            symbol: shown_symbol(symbol),
        }))
    }

    /// How to write a withdrawal's amount: the L2 token's decimals, else the L1 token's, else
    /// base units.
    async fn withdrawal_asset(&self, w: &Withdrawal) -> Asset {
        if w.l1Token.is_zero() {
            return Asset::ETH;
        }
        if let Ok(Some(asset)) = self.l2_asset(Some(w.l1Token)).await {
            return asset;
        }
        Asset {
            l1_token: Some(w.l1Token),
            decimals: self
                .bridged_decimals(w.l1Token)
                .await
                .ok()
                .map(|decimals| decimals.unwrap_or(18)),
            symbol: None,
        }
    }

    /// The decimals the L1 bridge gives `token`'s bridged token, read as the bridge reads them
    /// (`L1Bridge._readDecimals`): `decimals()` with its gas cap, or, as `Err` saying why, the
    /// bridge's 18 where that call fails, answers short or names more than 255. Decoded as a
    /// `uint8`, 300 read as 44 and `--amount` moved 10^26 times what was typed. An L1 that
    /// cannot be asked is an error of its own.
    async fn bridged_decimals(&self, token: Address) -> eyre::Result<Result<u8, &'static str>> {
        let call = TransactionRequest::default()
            .with_to(token)
            .with_input(IERC20Metadata::decimalsCall {}.abi_encode())
            .with_gas_limit(DECIMALS_CALL_GAS);
        let answer = match self.l1.call(call).block(BlockId::latest()).await {
            Ok(answer) => Some(answer),
            // The node answered: the call reverted or ran out of gas.
            Err(err) if err.as_error_resp().is_some() => None,
            Err(err) => return Err(explain("decimals()", &err)),
        };
        Ok(decimals_as_bridged(answer.as_ref().map(|bytes| &bytes[..])))
    }

    /// What `owner` holds on L2 of ETH or of the bridged token of `l1_token`, at `block`
    /// (default: latest). Zero if the bridged token does not exist.
    async fn l2_holding(
        &self,
        l1_token: Option<Address>,
        owner: Address,
        block: Option<u64>,
    ) -> eyre::Result<U256> {
        let block = block.map_or(BlockId::latest(), BlockId::number);
        match l1_token {
            None => self
                .l2
                .get_balance(owner)
                .block_id(block)
                .await
                .map_err(|err| explain("reading the L2 balance", &err)),
            Some(token) => {
                let l2_token = predict_l2_token(token);
                let code = self
                    .l2
                    .get_code_at(l2_token)
                    .block_id(block)
                    .await
                    .map_err(|err| explain("reading the L2 token's code", &err))?;
                if code.is_empty() {
                    return Ok(U256::ZERO);
                }
                let call = IERC20::balanceOfCall { owner };
                let out = self
                    .l2
                    .call(
                        TransactionRequest::default()
                            .with_to(l2_token)
                            .with_input(call.abi_encode()),
                    )
                    .block(block)
                    .await
                    .map_err(|err| explain("reading the L2 token balance", &err))?;
                rollup_primitives::decode_returns::<IERC20::balanceOfCall>(l2_token, &out)
                    .map_err(|reason| eyre::eyre!(reason))
            }
        }
    }

    /// The L2 deposit transaction that the first bridge message (deposit or forced
    /// withdrawal) of an L1 receipt becomes, by the derivation rules every replica applies.
    fn l2_transaction_of(&self, receipt: &TransactionReceipt) -> eyre::Result<B256> {
        let built = receipt
            .inner
            .logs()
            .iter()
            .find_map(|log| rollup_derive::bridge_message_transaction(self.l1_bridge, &log.inner))
            .ok_or_else(|| {
                eyre!(
                    "L1 transaction {} emitted no bridge message from {}",
                    receipt.transaction_hash,
                    self.l1_bridge
                )
            })?;
        let deposit = built.map_err(|reason| {
            eyre!(
                "derivation skips the bridge message of L1 transaction {} ({reason:?}): it has no L2 transaction; report it to the rollup's operators",
                receipt.transaction_hash
            )
        })?;
        Ok(deposit.hash())
    }

    /// Every account other than `except` holding a proof of withdrawal `w`, with its proof:
    /// the provers named by `WithdrawalProven` logs since the L1 origin of the withdrawal's L2
    /// block (no proof can be older), each read back (a prover may have proved again since).
    async fn other_proofs(
        &self,
        w: &L2Withdrawal,
        except: Address,
    ) -> eyre::Result<Vec<(Address, ProvenWithdrawal)>> {
        let block = self
            .l2_rpc(
                "eth_getBlockByNumber",
                json!([format!("{:#x}", w.l2_block), false]),
            )
            .await?;
        let from_block = block["extraData"]
            .as_str()
            .and_then(|hex| alloy_primitives::hex::decode(hex).ok())
            .and_then(|extra| decode_l1_origin(&extra).ok())
            .map_or(0, |origin| origin.number);
        let filter = Filter::new()
            .address(self.l1_bridge)
            .event_signature(IL1Bridge::WithdrawalProven::SIGNATURE_HASH)
            .topic1(w.hash)
            .from_block(from_block);
        let logs = self
            .l1
            .get_logs(&filter)
            .await
            .map_err(|err| explain("searching L1 for WithdrawalProven logs", &err))?;
        let mut provers: Vec<Address> = logs
            .iter()
            .filter_map(|log| IL1Bridge::WithdrawalProven::decode_log_data(log.data()).ok())
            .map(|event| event.prover)
            .filter(|prover| *prover != except)
            .collect();
        provers.sort();
        provers.dedup();
        let mut proofs = Vec::with_capacity(provers.len());
        for prover in provers {
            let proof = self.proven(w.hash, prover).await?;
            if proof.provenAt != 0 {
                proofs.push((prover, proof));
            }
        }
        Ok(proofs)
    }

    /// The latest live proposal, if any.
    async fn latest_proposal(&self) -> eyre::Result<Option<(u64, Proposal)>> {
        let tx = TransactionRequest::default()
            .with_to(self.state_manager)
            .with_input(IStateManager::latestProposalCall {}.abi_encode());
        // The latest block, not alloy's default pending one: a proposal still in L1's pool has
        // only a provisional timestamp there, and "final at" would be off by a block or two.
        match self.l1.call(tx).block(BlockId::latest()).await {
            Ok(out) => {
                let latest =
                    rollup_primitives::decode_returns::<IStateManager::latestProposalCall>(
                        self.state_manager,
                        &out,
                    )
                    .map_err(|reason| eyre::eyre!(reason))?;
                Ok(Some((latest.index.saturating_to::<u64>(), latest.proposal)))
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

    /// The proposal to prove a withdrawal of L2 block `block` against: live, at or after the
    /// block, and with the output root the L2 node computes for its block. Of those, the oldest
    /// of the allowlisted proposer without an open dispute game, else the oldest of anyone's
    /// without one (each is final soonest among its kind), else the oldest with one. A newer
    /// proposal anyone made with a root the node does not compute is passed over (and named),
    /// so a false proposal cannot keep a withdrawal from being proven against a true one. The
    /// allowlisted proposer comes first because its defender answers a challenge: where anyone
    /// may propose, a true proposal whose proposer stays away from its game loses it on its
    /// clock, and every withdrawal proven against it must be proven again.
    pub(crate) async fn proposal_to_prove(&self, block: u64) -> eyre::Result<ProposalChoice> {
        let Some(latest) = self.latest_proposal().await? else {
            return Ok(ProposalChoice::default());
        };
        // Live proposals have increasing L2 blocks by index, so the ones covering `block` are
        // the live ones from the latest back to the first below it.
        let mut covering = Vec::new();
        let mut index = latest.0;
        loop {
            let proposal = if index == latest.0 {
                latest.1.clone()
            } else {
                self.proposal(U256::from(index)).await?
            };
            if !proposal.removed {
                if proposal.l2BlockNumber < block {
                    break;
                }
                covering.push((index, proposal));
            }
            if index == 0 || latest.0 - index >= MAX_PROPOSALS_SCANNED {
                break;
            }
            index -= 1;
        }
        covering.reverse();
        let mut choice = ProposalChoice {
            latest: Some(latest),
            ..ProposalChoice::default()
        };
        let allowlisted = self
            .l1_view(self.state_manager, IStateManager::proposerCall {})
            .await?;
        let mut agreed = Vec::new();
        for (index, proposal) in covering {
            match self
                .local_output(proposal.l2BlockNumber)
                .await?
                .map(|local| local.judge(&proposal))
            {
                Some(Agreement::Agrees) => {}
                Some(Agreement::Disagrees) => {
                    choice.disagreed.push(index);
                    continue;
                }
                Some(Agreement::OtherBlockHash) => {
                    choice.other_block_hash.push(index);
                    continue;
                }
                None => {
                    choice.not_derived.push(index);
                    continue;
                }
            }
            let challenged = self.open_games(U256::from(index)).await? != 0;
            let preferred = !challenged && proposal.proposer == allowlisted;
            agreed.push((index, proposal, challenged));
            if preferred {
                break;
            }
        }
        if let Some(at) = pick_proposal(&agreed, allowlisted) {
            let (index, proposal, challenged) = agreed.swap_remove(at);
            choice.challenged = challenged;
            choice.chosen = Some((index, proposal));
        }
        Ok(choice)
    }

    /// The L2 node's output root of L2 block `number` (`None` if it has not derived it as
    /// safe).
    pub(crate) async fn local_output_root(&self, number: u64) -> eyre::Result<Option<B256>> {
        Ok(self.local_output(number).await?.map(|local| local.root))
    }

    /// The L2 node's output root of L2 block `number` and the block's hash (`None` if it has
    /// not derived it as safe).
    pub(crate) async fn local_output(&self, number: u64) -> eyre::Result<Option<LocalOutput>> {
        let proof = self
            .l2_rpc(
                "rollup_getProof",
                json!([Address::ZERO, [], format!("{number:#x}")]),
            )
            .await?;
        let field = |value: &serde_json::Value| value.as_str().and_then(|hash| hash.parse().ok());
        Ok(field(&proof["outputRootHash"])
            .zip(field(&proof["outputRoot"]["l2BlockHash"]))
            .map(|(root, block_hash)| LocalOutput { root, block_hash }))
    }

    /// Proposal `index` of the StateManager.
    pub(crate) async fn proposal(
        &self,
        index: U256,
    ) -> eyre::Result<<IStateManager::proposalsCall as SolCall>::Return> {
        self.l1_view(self.state_manager, IStateManager::proposalsCall { index })
            .await
    }

    /// Whether proposal `index` of the StateManager is final.
    async fn is_final(&self, index: U256) -> eyre::Result<bool> {
        self.l1_view(self.state_manager, IStateManager::isFinalCall { index })
            .await
    }

    /// The proof `prover` made of withdrawal `hash` (`provenAt == 0`: none).
    async fn proven(&self, hash: B256, prover: Address) -> eyre::Result<ProvenWithdrawal> {
        self.l1_view(
            self.l1_bridge,
            IL1Bridge::provenWithdrawalsCall {
                withdrawalId: hash,
                prover,
            },
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
            .saturating_to::<u64>())
    }

    /// Games still open on proposal `index`: it is not final while any is.
    pub(crate) async fn open_games(&self, index: U256) -> eyre::Result<u64> {
        Ok(self
            .l1_view(self.state_manager, IStateManager::disputeOfCall { index })
            .await?
            .openGames)
    }

    pub(crate) async fn l1_time(&self) -> eyre::Result<u64> {
        let block = self
            .l1
            .get_block_by_number(alloy_rpc_types_eth::BlockNumberOrTag::Latest)
            .await
            .map_err(|err| explain("reading the latest L1 block", &err))?
            .ok_or_else(|| eyre!("L1 has no latest block"))?;
        Ok(block.header.timestamp)
    }

    pub(crate) async fn safe_head(&self) -> Option<u64> {
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
pub(crate) fn quantity(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_str()
            .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
    })
}

/// `--amount` in whole units of an asset with `decimals` decimals: digits with at most one `.`
/// and at most `decimals` digits after it (more would be cut silently), and positive.
fn parse_amount(text: &str, decimals: u8) -> eyre::Result<U256> {
    let text = text.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if text.starts_with('-') {
        bail!("--amount {text} is negative: give a positive amount like 1.5");
    }
    if (whole.is_empty() && fraction.is_empty()) || !digits(whole) || !digits(fraction) {
        bail!("--amount {text:?} is not an amount like 1.5 (in whole units, {decimals} decimals)");
    }
    if fraction.len() > usize::from(decimals) {
        bail!(
            "--amount {text} has {} decimals, but the token has {decimals}",
            fraction.len()
        );
    }
    // Digit by digit rather than through 10^decimals, which passes 2^256 from 78 decimals on:
    // a token of more decimals could not be moved at all, however small the amount.
    let padding = usize::from(decimals) - fraction.len();
    let mut amount = U256::ZERO;
    for digit in whole
        .bytes()
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', padding))
    {
        amount = amount
            .checked_mul(U256::from(10))
            .and_then(|amount| amount.checked_add(U256::from(digit - b'0')))
            .ok_or_else(|| {
                eyre!(
                    "--amount {text} is too large: more than 2^256 base units with {decimals} decimals"
                )
            })?;
    }
    if amount.is_zero() {
        bail!("--amount must be positive");
    }
    Ok(amount)
}

/// `amount` base units in whole units of `decimals` decimals, without trailing zeros: `1.5`.
pub(crate) fn format_amount(amount: U256, decimals: u8) -> String {
    let digits = amount.to_string();
    let decimals = usize::from(decimals);
    if decimals == 0 {
        return digits;
    }
    let padded = format!("{digits:0>width$}", width = decimals + 1);
    let (whole, fraction) = padded.split_at(padded.len() - decimals);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

fn describe(w: &Withdrawal, asset: &Asset) -> String {
    format!(
        "{} from {} (L2) to {} (L1)",
        asset.format(w.amount),
        w.from,
        w.to
    )
}

/// The L1 and L2 token addresses of ETH (both zero) or of an L1 token and its bridged token.
fn token_pair(token: Option<Address>) -> (Address, Address) {
    token.map_or((Address::ZERO, Address::ZERO), |token| {
        (token, predict_l2_token(token))
    })
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc(secs: u64) -> String {
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

/// How far above its estimate the L1 gas limit of a deposit or forced withdrawal is set. Each
/// burns L1 gas for the L2 gas it asks (`gasLimit × depositBaseFee / block.basefee`): the
/// deposit base fee rises by up to 3/8 after a block that filled the deposit budget, and L1's
/// base fee can fall by 1/8, so the burn can grow by 11/7 (57%) if the transaction lands a
/// block later than estimated. Unused gas costs nothing.
const DEPOSIT_GAS_HEADROOM_PERCENT: u64 = 60;

/// After a failed read in a wait that started at `start`: says so and pauses 5 s, or gives the
/// error back once the wait is past its `timeout`.
async fn pause_after_failed_read(
    err: eyre::Report,
    start: Instant,
    timeout: Option<Duration>,
) -> eyre::Result<()> {
    eprintln!("reading L1 failed ({err}); trying again in 5 s");
    if timeout.is_some_and(|limit| start.elapsed() > limit) {
        return Err(err);
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    Ok(())
}

/// How many times a user command sends a transaction again after another one of the account
/// took its nonce.
const MAX_DISPLACED: u32 = 3;

/// How long a user command waits for the receipt of a transaction it sent.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// How far above its estimate a user command's transaction asks for gas. An estimate is the
/// least gas that succeeded on the state it ran on; a proof that replaces another, or any call
/// near the EIP-2200 stipend, can need a few hundred more in its block (a `prove --again` ran
/// out of gas 730 above its estimate). Unused gas costs nothing.
const GAS_HEADROOM_PERCENT: u64 = 20;

/// The most gas one transaction may ask for on an L1 with EIP-7825 (2^24).
const MAX_TX_GAS: u64 = 1 << 24;

/// `rollup-node deposit`: ETH or an ERC-20 from L1 to L2, then waits for L2 to credit it.
pub(crate) async fn deposit(args: DepositArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    if args.to == Some(Address::ZERO) {
        bail!("--to must not be the zero address");
    }
    let asset = client.l1_asset(args.token).await?;
    let amount = asset.parse(&args.amount)?;
    let (l1_token, l2_token) = token_pair(args.token);
    let min_gas = if args.token.is_some() {
        MIN_ERC20_DEPOSIT_GAS
    } else {
        MIN_ETH_DEPOSIT_GAS
    };
    let gas_limit = args.gas_limit.map_or(min_gas, u64::from);
    if !(min_gas..=MAX_DEPOSIT_GAS).contains(&gas_limit) {
        bail!(
            "--gas-limit {gas_limit} is outside the bridge's bounds for this deposit: {min_gas} to {MAX_DEPOSIT_GAS}"
        );
    }
    // The key signs as an EOA, whose L2 identity is its own address.
    let recipient = args.to.unwrap_or(client.sender);

    let value = if let Some(token) = args.token {
        let balance = client
            .l1_view(
                token,
                IERC20::balanceOfCall {
                    owner: client.sender,
                },
            )
            .await?;
        if balance < amount {
            bail!(
                "{} holds {} on L1, less than the {} to deposit",
                client.sender,
                asset.format(balance),
                asset.short(amount)
            );
        }
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
            out!(
                "approved the L1 bridge for {} (L1 tx {})",
                asset.format(amount),
                receipt.transaction_hash
            );
        }
        U256::ZERO
    } else {
        // Said in ETH, before the node's own "insufficient funds" in wei.
        let balance = client
            .l1
            .get_balance(client.sender)
            .await
            .map_err(|err| explain("reading the L1 balance", &err))?;
        if balance <= amount {
            bail!(
                "{} holds {} on L1, not more than the {} to deposit (the L1 gas is paid on top)",
                client.sender,
                asset.format(balance),
                asset.short(amount)
            );
        }
        amount
    };
    let gas_limit = gas_limit as u32; // at most MAX_DEPOSIT_GAS, checked above
    let input = match args.to {
        Some(to) => IL1Bridge::depositToCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
            gasLimit: gas_limit,
            to,
        }
        .abi_encode(),
        None => IL1Bridge::depositCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
            gasLimit: gas_limit,
        }
        .abi_encode(),
    };
    let receipt = client
        .send_with_headroom(
            false,
            client.l1_bridge,
            input,
            value,
            "the deposit",
            DEPOSIT_GAS_HEADROOM_PERCENT,
        )
        .await?;
    let l1_block = receipt.block_number.unwrap_or_default();
    out!(
        "deposited {} from {} (L1) to {recipient} on L2",
        asset.format(amount),
        client.sender
    );
    out!("L1 tx: {}", receipt.transaction_hash);
    out!("L1 block: {l1_block}");
    if args.token.is_some() {
        out!("L2 token: {l2_token}");
    }
    let l2_tx = client.l2_transaction_of(&receipt)?;
    out!("L2 tx: {l2_tx}");

    if args.wait_l2.is_zero() {
        out!("L2 runs it as soon as the node has read L1 block {l1_block} (usually seconds)");
        return Ok(());
    }
    let Some(l2) = client.wait_l2_receipt(l2_tx, l1_block, args.wait_l2).await else {
        out!(
            "not on L2 after {} s: L2 runs it once the sequencer adopts L1 block {l1_block} (usually seconds); if it does not, anyone can force it in with `rollup-node force-include` once that block's sequencing window closes; look up L2 tx {l2_tx} later",
            args.wait_l2.as_secs()
        );
        return Ok(());
    };
    report_deposit(&client, &asset, amount, recipient, l2_tx, &l2)
}

/// What became of a deposit on L2: credited, or not (and then where the funds are).
fn report_deposit(
    client: &Client,
    asset: &Asset,
    amount: U256,
    recipient: Address,
    l2_tx: B256,
    l2: &L2TxReceipt,
) -> eyre::Result<()> {
    let again = &client.signer_flag;
    if asset.l1_token.is_none() {
        if l2.success {
            out!(
                "credited: {} to {recipient} on L2 (L2 block {})",
                asset.format(amount),
                l2.block
            );
            return Ok(());
        }
        // The deposit transaction mints to the depositor's L2 identity before the transfer.
        out!(
            "the L2 transfer to {recipient} FAILED (L2 block {}): the {} stay with {}, your L2 account",
            l2.block,
            asset.format(amount),
            client.sender
        );
        bail!(
            "deposit not credited to {recipient}: --to rejects ETH or needs more than --gas-limit; the ETH is in your own L2 account"
        );
    }
    if let Some(failed) = l2.bridge_event::<IL2Bridge::DepositFailed>() {
        out!(
            "the L2 credit FAILED (L2 block {}): the L2 bridge recorded a refund withdrawal of {} to {} on L1 instead",
            l2.block,
            asset.format(failed.amount),
            failed.refundTo
        );
        out!("withdrawal hash: {}", failed.withdrawalHash);
        out!(
            "to get the tokens back on L1: `rollup-node prove {l2_tx}{again}` once a proposal covers L2 block {}, then `rollup-node finalize {l2_tx} --wait{again}`",
            l2.block
        );
        bail!(
            "deposit not credited on L2; its refund withdrawal is waiting to be proven and finalized"
        );
    }
    if !l2.success {
        bail!(
            "the L2 deposit transaction {l2_tx} failed without a refund (L2 block {}): the tokens are locked in the L1 bridge; report it to the rollup's operators",
            l2.block
        );
    }
    out!(
        "credited: {} to {recipient} on L2 (L2 block {})",
        asset.format(amount),
        l2.block
    );
    Ok(())
}

/// `rollup-node withdraw`: starts a withdrawal on L2.
pub(crate) async fn withdraw(args: WithdrawArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let again = &client.signer_flag;
    if args.to == Some(Address::ZERO) {
        bail!("--to must not be the zero address");
    }
    if args.to == Some(client.l1_bridge) {
        // New chains' bridges refuse it too; a chain deployed before keeps its L2 bridge's code.
        bail!(
            "--to must not be the L1 bridge: it cannot take ETH, and tokens paid to it would be stranded there"
        );
    }
    let (l1_token, l2_token) = token_pair(args.token);
    let asset = client.l2_asset(args.token).await?.ok_or_else(|| {
        eyre!(
            "nothing of L1 token {l1_token} was ever deposited to L2 (its L2 token {l2_token} does not exist yet): deposit it first"
        )
    })?;
    let amount = asset.parse(&args.amount)?;
    let value = if args.token.is_some() {
        let balance = client.l2_holding(args.token, client.sender, None).await?;
        if balance < amount {
            bail!(
                "{} holds {} on L2, less than {}: deposit more first",
                client.sender,
                asset.format(balance),
                asset.short(amount)
            );
        }
        U256::ZERO
    } else {
        let balance = client.l2_holding(None, client.sender, None).await?;
        if balance <= amount {
            bail!(
                "{} holds {} on L2, not more than the {} to withdraw (the L2 gas is paid on top)",
                client.sender,
                asset.format(balance),
                asset.short(amount)
            );
        }
        amount
    };
    if args.token.is_none()
        && let Some(why) = client
            .rejects_eth(args.to.unwrap_or(client.sender), amount)
            .await
    {
        bail!("{why}; nothing was sent: withdraw to an address that accepts ETH");
    }
    let input = match args.to {
        Some(to) => IL2Bridge::withdrawToCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
            to,
        }
        .abi_encode(),
        None => IL2Bridge::withdrawCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
        }
        .abi_encode(),
    };
    let receipt = client
        .send(true, L2_BRIDGE, input, value, "the withdrawal")
        .await?;
    let tx = receipt.transaction_hash;
    let withdrawal = client.l2_withdrawal(tx).await?;
    out!(
        "withdrawal initiated: {}",
        describe(&withdrawal.withdrawal, &asset)
    );
    out!("L2 tx: {tx}");
    out!("L2 block: {}", withdrawal.l2_block);
    out!("withdrawal hash: {}", withdrawal.hash);
    out!(
        "next: `rollup-node prove {tx}{again}` once a proposal covers L2 block {} (it waits for one)",
        withdrawal.l2_block
    );
    Ok(())
}

/// Most epochs one `forceInclude` forces (the inbox's limit).
const MAX_FORCED_BLOCKS: u64 = 256;

/// Proves the hashes of L1 blocks `lowest..` backwards (`BatchInbox.proveOriginHashes`), one
/// chunk per transaction ([`rollup_batcher::origins::origin_proof_chunks`]). After a silence
/// longer than L1 remembers block hashes, recording origins needs it first.
async fn prove_origin_hashes(client: &Client, lowest: u64, head: u64) -> eyre::Result<()> {
    let has_history = !client
        .l1
        .get_code_at(rollup_batcher::origins::HISTORY_STORAGE_ADDRESS)
        .await
        .wrap_err("reading L1's EIP-2935 history contract")?
        .is_empty();
    let anchor = rollup_batcher::origins::proof_anchor(head, has_history);
    // Below what an earlier run (or anyone) proved already, if it stopped part way.
    let anchor =
        rollup_batcher::origins::resume_anchor(&client.l1, client.batch_inbox, lowest, anchor)
            .await
            .unwrap_or_else(|err| {
                eprintln!("warning: {err}; proving from block {anchor}");
                anchor
            });
    let chunks = rollup_batcher::origins::origin_proof_chunks(lowest, anchor);
    let Some(&(_, newest)) = chunks.first() else {
        bail!("L1 block {lowest} is too recent to prove");
    };
    out!(
        "L1 no longer tells the hash of block {lowest}: proving the hashes of L1 blocks {lowest}..={newest} backwards first, in {} transactions",
        chunks.len()
    );
    for (done, (low, high)) in chunks.iter().copied().enumerate() {
        let mut headers = Vec::new();
        for number in low..=high {
            headers.push(
                rollup_l1::header_rlp(&client.l1, number)
                    .await
                    .map_err(|err| eyre!("reading L1 header {number}: {err}"))?
                    .ok_or_else(|| eyre!("L1 block {number} does not exist"))?,
            );
        }
        let receipt = client
            .send(
                false,
                client.batch_inbox,
                IBatchInbox::proveOriginHashesCall { headers }.abi_encode(),
                U256::ZERO,
                "proveOriginHashes",
            )
            .await?;
        out!(
            "proved L1 block hashes {low}..={high} ({}/{}, L1 tx {})",
            done + 1,
            chunks.len(),
            receipt.transaction_hash
        );
    }
    Ok(())
}

/// `rollup-node force-include`: the next epoch's deposits, forced into L2 from L1 once its
/// sequencing window closed without a batch.
pub(crate) async fn force_include(args: ClientArgs) -> eyre::Result<()> {
    let client = Client::l1_only(&args).await?;
    let inbox = client.batch_inbox;
    let last_origin = client
        .l1_view(inbox, IBatchInbox::lastOriginCall {})
        .await?;
    let recorded = client
        .l1_view(inbox, IBatchInbox::lastRecordedOriginCall {})
        .await?;
    let next_block = client.l1_view(inbox, IBatchInbox::nextBlockCall {}).await?;
    let window = client
        .l1_view(inbox, IBatchInbox::sequencingWindowCall {})
        .await?;
    let head = client
        .l1
        .get_block_number()
        .await
        .wrap_err("reading the L1 head")?;
    // The transaction lands in `head + 1`: epochs whose window has closed by then can be forced.
    let epoch = last_origin + 1;
    let Some(last_closed) = (head + 1).checked_sub(window).filter(|last| *last >= epoch) else {
        bail!(
            "the sequencing window of L1 epoch {epoch} closes at L1 block {}; L1 is at {head}: a batch may still adopt it, so it cannot be forced yet",
            epoch + window
        );
    };
    let last_forced = last_closed
        .min(last_origin + MAX_FORCED_BLOCKS)
        .min(recorded + rollup_batcher::origins::MAX_NEW_ORIGINS_PER_CALL);
    let mut headers = Vec::new();
    for number in recorded + 1..=last_forced {
        let header = rollup_l1::header_rlp(&client.l1, number)
            .await
            .map_err(|err| eyre!("reading L1 header {number}: {err}"))?
            .ok_or_else(|| eyre!("L1 block {number} does not exist yet"))?;
        headers.push(header);
    }
    out!(
        "forcing L1 epochs {epoch}..={last_forced} into L2 blocks from {next_block} ({} L1 headers to record)",
        headers.len()
    );
    // After a long silence L1 no longer tells the hash the run ends at: prove it first.
    let force = TransactionRequest::default()
        .with_from(client.sender)
        .with_to(inbox)
        .with_input(
            IBatchInbox::forceIncludeCall {
                headers: headers.clone(),
            }
            .abi_encode(),
        );
    if let Err(err) = client.l1.call(force).await
        && rollup_batcher::origins::refused_for_unknown_hash(&err)
    {
        prove_origin_hashes(&client, last_forced, head).await?;
    }
    let receipt = client
        .send(
            false,
            inbox,
            IBatchInbox::forceIncludeCall { headers }.abi_encode(),
            U256::ZERO,
            "forceInclude (the epoch's sequencing window must have closed without a batch)",
        )
        .await?;
    out!("L1 tx: {}", receipt.transaction_hash);
    out!(
        "L1 block: {}: replicas derive one L2 block per forced epoch, each with that L1 block's deposits",
        receipt.block_number.unwrap_or_default()
    );
    Ok(())
}

/// `rollup-node force-withdraw`: a withdrawal started on L1, which every replica runs on L2
/// as the caller's L2 account, with or without the sequencer.
pub(crate) async fn force_withdraw(args: ForceWithdrawArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let again = &client.signer_flag;
    if args.to == Some(Address::ZERO) {
        bail!("--to must not be the zero address");
    }
    if args.to == Some(client.l1_bridge) {
        // New chains' bridges refuse it too; a chain deployed before keeps its L2 bridge's code.
        bail!(
            "--to must not be the L1 bridge: it cannot take ETH, and tokens paid to it would be stranded there"
        );
    }
    let recipient = args.to.unwrap_or(client.sender);
    // The key signs as an EOA, whose L2 identity is its own address.
    let l2_account = client.sender;
    let (l1_token, l2_token) = token_pair(args.token);

    // The L2 token's decimals when it exists; else the L1 token's (the L2 account then holds
    // none, which the balance check reports).
    let l2_asset = client.l2_asset(args.token).await;
    let asset = match &l2_asset {
        Ok(Some(asset)) => asset.clone(),
        _ => client.l1_asset(args.token).await?,
    };
    let amount = asset.parse(&args.amount)?;
    let holding = match l2_asset {
        Ok(_) => client.l2_holding(args.token, l2_account, None).await,
        Err(err) => Err(err),
    };
    match holding {
        Ok(balance) if balance >= amount => {
            out!(
                "your L2 account {l2_account} holds {}",
                asset.format(balance)
            );
        }
        Ok(balance) => {
            let what = format!(
                "your L2 account {l2_account} holds {}, less than the {} to withdraw: the L2 transaction would fail and only the L1 gas would be spent",
                asset.format(balance),
                asset.short(amount)
            );
            if !args.force {
                bail!("{what} (--force sends anyway)");
            }
            out!("warning: {what}; sending anyway (--force)");
        }
        Err(err) => {
            let what = format!("cannot read your L2 balance ({err:#})");
            if !args.force {
                bail!(
                    "{what}: if the sequencer's RPC is gone, run your own replica (`rollup-node node --config rollup.json --l1-rpc-url URL` derives L2 from L1 alone) and pass its --l2-rpc-url, or send without the check with --force"
                );
            }
            out!("warning: {what}; sending anyway (--force)");
        }
    }
    if args.token.is_none()
        && let Some(why) = client.rejects_eth(recipient, amount).await
    {
        if !args.force {
            bail!(
                "{why}; nothing was sent: withdraw to an address that accepts ETH (--force sends anyway)"
            );
        }
        out!("warning: {why}; sending anyway (--force)");
    }

    let input = match args.to {
        Some(to) => IL1Bridge::withdrawToCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
            to,
        }
        .abi_encode(),
        None => IL1Bridge::withdrawCall {
            l1Token: l1_token,
            l2Token: l2_token,
            amount,
        }
        .abi_encode(),
    };
    let receipt = client
        .send_with_headroom(
            false,
            client.l1_bridge,
            input,
            U256::ZERO,
            "the forced withdrawal",
            DEPOSIT_GAS_HEADROOM_PERCENT,
        )
        .await?;
    let l1_block = receipt.block_number.unwrap_or_default();
    out!(
        "forced withdrawal sent on L1: {} from {l2_account} (L2) to {recipient} (L1)",
        asset.format(amount)
    );
    out!("L1 tx: {}", receipt.transaction_hash);
    out!("L1 block: {l1_block}");
    let tx = client.l2_transaction_of(&receipt)?;
    out!("L2 tx: {tx}");
    let next = format!(
        "next: `rollup-node prove {tx}{again}` once a proposal covers its L2 block (it waits for one), then `rollup-node finalize {tx} --wait{again}`"
    );

    if args.wait_l2.is_zero() {
        out!(
            "L2 runs it with L1 block {l1_block}: at once if the sequencer includes it, else once that block's sequencing window closes and someone runs `rollup-node force-include`; `rollup-node withdrawal-status {tx}{again}` shows when it has"
        );
        out!("{next}");
        return Ok(());
    }
    let Some(l2) = client.wait_l2_receipt(tx, l1_block, args.wait_l2).await else {
        out!(
            "not on L2 after {} s: if the sequencer does not include it, anyone can force it in with `rollup-node force-include{again}` once the sequencing window of L1 block {l1_block} closes; `rollup-node withdrawal-status {tx}{again}` shows when it has run",
            args.wait_l2.as_secs()
        );
        out!("{next}");
        return Ok(());
    };
    if !l2.success {
        let held = client
            .l2_holding(args.token, l2_account, Some(l2.block))
            .await;
        let why = match &held {
            Ok(balance) if *balance < amount => "your L2 account lacked the amount",
            _ => "see the L2 transaction",
        };
        out!(
            "the withdrawal FAILED on L2 (L2 block {}): your L2 account {l2_account} held {} there, and {} was to be withdrawn",
            l2.block,
            held.map_or_else(|err| format!("unknown ({err:#})"), |b| asset.format(b)),
            asset.short(amount)
        );
        bail!(
            "forced withdrawal failed on L2 ({why}): nothing was withdrawn, only the L1 gas is spent"
        );
    }
    let w = client.l2_withdrawal(tx).await?;
    out!(
        "withdrawal initiated on L2: {}",
        describe(&w.withdrawal, &asset)
    );
    out!("L2 block: {}", w.l2_block);
    out!("withdrawal hash: {}", w.hash);
    out!("{next}");
    Ok(())
}

/// `rollup-node withdrawal-status`.
pub(crate) async fn status(args: WithdrawalTxArgs) -> eyre::Result<()> {
    let client = Client::new(&args.client).await?;
    let again = &client.signer_flag;
    let tx = args.tx;
    let w = client.l2_withdrawal(tx).await?;
    let asset = client.withdrawal_asset(&w.withdrawal).await;
    out!("withdrawal {}: {}", w.hash, describe(&w.withdrawal, &asset));
    out!("L2 block: {}", w.l2_block);
    if client.finalized(w.hash).await? {
        out!("finalized: yes, paid out on L1");
        return Ok(());
    }
    let period = client.challenge_period().await?;
    let me = client.sender;
    // Other accounts' proofs first: whether one still counts changes what to do next.
    let others = match client.other_proofs(&w, me).await {
        Ok(others) => {
            let mut listed = Vec::with_capacity(others.len());
            for (prover, proof) in others {
                let proposal = client.proposal(proof.proposalIndex).await?;
                listed.push((prover, proof, proposal));
            }
            Ok(listed)
        }
        Err(err) => Err(err),
    };
    let other_counts = others
        .as_ref()
        .is_ok_and(|others| others.iter().any(|(.., proposal)| !proposal.removed));
    let own = client.proven(w.hash, me).await?;
    // Whether this account's own proof is against a live proposal, and if so whether it is final.
    let mut own_finality = None;
    if own.provenAt != 0 {
        let index = own.proposalIndex.saturating_to::<u64>();
        let proposal = client.proposal(own.proposalIndex).await?;
        out!(
            "proven: yes, by this account ({me}), against proposal #{index} (L2 block {}) at {}",
            proposal.l2BlockNumber,
            utc(own.provenAt)
        );
        if proposal.removed {
            out!("proposal #{index} was REMOVED on L1: run `rollup-node prove {tx}{again}` again");
        } else {
            own_finality = Some(print_finality(&client, index, proposal.timestamp, period).await?);
        }
    } else {
        let what_next = if other_counts {
            format!(
                "`rollup-node finalize {tx} --prover <account>{again}` with a proof listed below, or `rollup-node prove {tx}{again}` for one of this account's own"
            )
        } else {
            format!("run `rollup-node prove {tx}{again}`")
        };
        let choice = client.proposal_to_prove(w.l2_block).await?;
        match &choice.chosen {
            Some((index, proposal)) => {
                out!(
                    "proposal: #{index} covers it (L2 block {}), and the L2 node agrees with it",
                    proposal.l2BlockNumber
                );
                if !choice.disagreed.is_empty() {
                    out!("passed over: {}", disagreement(&choice.disagreed));
                }
                out!("proven: no, not by this account ({me}) — {what_next}");
                print_finality(&client, *index, proposal.timestamp, period).await?;
            }
            None => {
                out!("proposal: waiting: {}", choice.why_none(w.l2_block));
                out!("proven: no, not by this account ({me})");
            }
        }
    }
    match others {
        Ok(others) if others.is_empty() => out!("proofs by other accounts: none"),
        Ok(others) => {
            out!(
                "proofs by other accounts (`finalize` uses one only when given `--prover <account>`):"
            );
            for (prover, proof, proposal) in others {
                // A proof against a removed proposal finalizes nothing: no command to offer.
                if proposal.removed {
                    out!(
                        "  {prover}: against proposal #{} (REMOVED, the proof no longer counts)",
                        proof.proposalIndex
                    );
                } else if let Ok(Some(local)) = client.local_output(proposal.l2BlockNumber).await
                    && local.judge(&proposal) == Agreement::Disagrees
                {
                    // Anyone may prove against a false root for the price of a proposal's bond:
                    // no command to offer for one this L2 node disagrees with.
                    out!(
                        "  {prover}: against proposal #{} (FALSE: the L2 node disagrees with its root; it is to be challenged and removed, and then the proof no longer counts; do not finalize with it)",
                        proof.proposalIndex
                    );
                } else {
                    let final_at = utc(proposal.timestamp + period);
                    // As for this account's own proof: an open game holds finality back.
                    let when = match client.open_games(proof.proposalIndex).await {
                        Ok(0) => format!("final at {final_at}"),
                        Ok(open) => format!(
                            "CHALLENGED, {open} open game(s): final only once they end in its favour, and not before {final_at}"
                        ),
                        Err(_) => format!("final at {final_at} unless challenged"),
                    };
                    out!(
                        "  {prover}: against proposal #{} ({when}) — `rollup-node finalize {tx} --prover {prover}{again}`",
                        proof.proposalIndex
                    );
                }
            }
        }
        Err(err) => out!("proofs by other accounts: unknown ({err:#})"),
    }
    match own_finality {
        Some(Finality::Final) => {
            // Final is not always payable: a recipient that rejects ETH, or a token that no
            // longer transfers, makes the payout revert. L1 is asked, as `finalize` would send.
            let input = IL1Bridge::finalizeWithdrawalCall {
                withdrawalId: U256::from_be_bytes(w.hash.0),
                recipient: w.withdrawal.to,
                amount: w.withdrawal.amount,
            }
            .abi_encode();
            match client
                .check_l1_call(client.l1_bridge, input, None, "finalizeWithdrawal")
                .await
            {
                Ok(()) => out!("finalized: no — run `rollup-node finalize {tx}{again}` now"),
                Err(err) => out!(
                    "finalized: no — final, but finalizing now would fail: {err:#}; the withdrawal's recipient and amount cannot change, so it can be paid only once the recipient takes the payout"
                ),
            }
        }
        Some(Finality::Pending) => {
            out!("finalized: no — `rollup-node finalize {tx}{again}` once final");
        }
        None => out!("finalized: no"),
    }
    Ok(())
}

/// Most proposals `prove` and `withdrawal-status` read back from the latest when they look for
/// one to prove against: far more than stand between a withdrawal and the first proposal
/// covering it while a withdrawal waits to be proven.
const MAX_PROPOSALS_SCANNED: u64 = 1_000;

/// Which of `agreed` (covering proposals the L2 node agrees with, oldest first, each with
/// whether it has an open dispute game) to prove against: the oldest unchallenged one of the
/// `allowlisted` proposer, else the oldest unchallenged one, else the oldest.
fn pick_proposal(agreed: &[(u64, Proposal, bool)], allowlisted: Address) -> Option<usize> {
    agreed
        .iter()
        .position(|(_, proposal, challenged)| !challenged && proposal.proposer == allowlisted)
        .or_else(|| agreed.iter().position(|(_, _, challenged)| !challenged))
        .or((!agreed.is_empty()).then_some(0))
}

/// The L2 node's output root of a block, and the block's hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LocalOutput {
    /// The output root (`rollup_getProof`'s `outputRootHash`).
    pub(crate) root: B256,
    /// The block's hash (`outputRoot.l2BlockHash`).
    pub(crate) block_hash: B256,
}

impl LocalOutput {
    /// How `proposal` stands against the node's output.
    pub(crate) fn judge(&self, proposal: &Proposal) -> Agreement {
        if self.root != proposal.stateRoot {
            Agreement::Disagrees
        } else if self.block_hash != proposal.l2BlockHash {
            Agreement::OtherBlockHash
        } else {
            Agreement::Agrees
        }
    }
}

/// How a proposal stands against the node's output root of its block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Agreement {
    /// Root and block hash are the node's.
    Agrees,
    /// Another root: a false proposal (or another chain).
    Disagrees,
    /// The node's root, but another L2 block hash beside it. `L1Bridge` proves withdrawals only
    /// against a proposal whose block hash is the output root's, so none can be proven against
    /// it; and no game removes it, since its root is true.
    OtherBlockHash,
}

/// What [`Client::proposal_to_prove`] found.
#[derive(Debug, Default)]
pub(crate) struct ProposalChoice {
    /// The proposal to prove against, if any.
    pub(crate) chosen: Option<(u64, Proposal)>,
    /// The latest live proposal, if any.
    pub(crate) latest: Option<(u64, Proposal)>,
    /// Covering proposals whose root the L2 node does not compute, oldest first.
    pub(crate) disagreed: Vec<u64>,
    /// Covering proposals of blocks the L2 node has not derived as safe yet.
    pub(crate) not_derived: Vec<u64>,
    /// Covering proposals with the L2 node's root but another L2 block hash beside it, which
    /// `L1Bridge` refuses to prove against.
    pub(crate) other_block_hash: Vec<u64>,
    /// Every covering proposal the L2 node agrees with has an open dispute game, the chosen one
    /// too.
    pub(crate) challenged: bool,
}

impl ProposalChoice {
    /// Why no proposal was chosen, and what to do.
    fn why_none(&self, block: u64) -> String {
        let latest = self.latest.as_ref().map_or_else(
            || "none yet".to_string(),
            |(i, p)| format!("#{i} at L2 block {}", p.l2BlockNumber),
        );
        let mut why =
            format!("no live proposal covering L2 block {block} (latest proposal: {latest})");
        if !self.disagreed.is_empty() {
            why = format!(
                "{}: the L2 node computes another output root for each (false proposals, or a wrong --l2-rpc-url); challenge one with `rollup-node challenge --proposal {}`",
                disagreement(&self.disagreed),
                self.disagreed[0]
            );
        }
        if !self.not_derived.is_empty() {
            why.push_str(&format!(
                "; the L2 node has not derived the block of proposal(s) {} as safe yet",
                list_proposals(&self.not_derived)
            ));
        }
        if !self.other_block_hash.is_empty() {
            why.push_str(&format!(
                "; proposal(s) {} carry the L2 node's output root but name another L2 block hash beside it, which L1Bridge refuses to prove against (and no game removes, the root being true): waiting for another proposal",
                list_proposals(&self.other_block_hash)
            ));
        }
        why
    }
}

fn list_proposals(indexes: &[u64]) -> String {
    indexes
        .iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn disagreement(indexes: &[u64]) -> String {
    format!(
        "the L2 node disagrees with proposal(s) {}, which cover the block",
        list_proposals(indexes)
    )
}

/// Whether a proposal a withdrawal is proven against is final on L1 yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finality {
    /// Its challenge period passed and no dispute game on it is open: `finalize` pays.
    Final,
    /// A game is open, or the challenge period has not passed.
    Pending,
}

/// Prints when proposal `index` is final (or why it is not yet), and returns whether it is.
async fn print_finality(
    client: &Client,
    index: u64,
    proposal_time: u64,
    period: u64,
) -> eyre::Result<Finality> {
    let open = client.open_games(U256::from(index)).await?;
    if open > 0 {
        out!(
            "CHALLENGED: {open} dispute game(s) on proposal #{index} still open; it is final only once every game ended in its favour and its challenge period passed ({}) — `rollup-node disputes` shows the games",
            utc(proposal_time + period)
        );
        return Ok(Finality::Pending);
    }
    let final_at = proposal_time + period;
    let l1_now = client.l1_time().await?;
    if l1_now >= final_at {
        out!(
            "final at: {} (passed; challenge period {period} s)",
            utc(final_at)
        );
        Ok(Finality::Final)
    } else {
        out!(
            "final at: {} (in {} s of L1 time; challenge period {period} s)",
            utc(final_at),
            final_at - l1_now
        );
        Ok(Finality::Pending)
    }
}

/// `rollup-node prove`: waits for a proposal covering the withdrawal, then proves it on L1
/// under this account.
pub(crate) async fn prove(args: ProveArgs) -> eyre::Result<()> {
    let client = Client::new(&args.tx.client).await?;
    let again = &client.signer_flag;
    let tx = args.tx.tx;
    let w = client.l2_withdrawal(tx).await?;
    let asset = client.withdrawal_asset(&w.withdrawal).await;
    out!("withdrawal {}: {}", w.hash, describe(&w.withdrawal, &asset));
    if client.finalized(w.hash).await? {
        out!("already finalized: nothing to do");
        return Ok(());
    }
    let me = client.sender;
    let own = client.proven(w.hash, me).await?;
    if own.provenAt != 0 {
        let proposal = client.proposal(own.proposalIndex).await?;
        if proposal.removed {
            out!(
                "proposal #{} this account proved it against was removed; proving again",
                own.proposalIndex
            );
        } else if args.again {
            out!(
                "proving again (--again): replaces this account's proof against proposal #{} (other accounts' proofs are untouched)",
                own.proposalIndex
            );
        } else {
            out!(
                "already proven by this account ({me}) against proposal #{}: next, `rollup-node finalize {tx} --wait{again}` (`--again` proves it again, replacing only this account's proof)",
                own.proposalIndex
            );
            return Ok(());
        }
    }

    let start = Instant::now();
    let mut last_report = None::<Instant>;
    let (index, proposal) = loop {
        // As in `finalize --wait`: a dropped request does not end the wait.
        let choice = match client.proposal_to_prove(w.l2_block).await {
            Ok(choice) => choice,
            Err(err) => {
                pause_after_failed_read(err, start, args.timeout).await?;
                continue;
            }
        };
        if let Some((index, proposal)) = choice.chosen {
            if !choice.disagreed.is_empty() {
                out!("passed over: {}", disagreement(&choice.disagreed));
            }
            if choice.challenged {
                out!(
                    "note: proposal #{index} is challenged (an open dispute game), like every covering one the L2 node agrees with: it is final only once its games end in its favour, and if it loses, this withdrawal must be proven again against another (`rollup-node withdrawal-status {tx}`)"
                );
            }
            break (index, proposal);
        }
        if args.timeout.is_some_and(|limit| start.elapsed() > limit) {
            bail!(
                "{} after {:?}: is the proposer running? (`rollup-node withdrawal-status {tx}{again}`)",
                choice.why_none(w.l2_block),
                start.elapsed()
            );
        }
        if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
            let safe = client
                .safe_head()
                .await
                .map_or_else(|| "?".to_string(), |n| n.to_string());
            out!(
                "waiting: {} (L2 safe head: {safe}; {} s so far)",
                choice.why_none(w.l2_block),
                start.elapsed().as_secs()
            );
            last_report = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    // `--again` with no better proposal than the one this account's live proof is against:
    // a new proof would be the same one, for the gas of a transaction.
    if own.provenAt != 0 && own.proposalIndex == U256::from(index) && !proposal.removed {
        out!(
            "proposal #{index} is still the one to prove against, and this account's proof is against it: nothing to do (`rollup-node withdrawal-status {tx}{again}`)"
        );
        return Ok(());
    }
    out!(
        "proposal #{index} covers L2 block {} (proposal at L2 block {}), and the L2 node agrees with it",
        w.l2_block,
        proposal.l2BlockNumber
    );

    let response = client
        .l2_rpc(
            "rollup_getWithdrawalProof",
            json!([tx, format!("{:#x}", proposal.l2BlockNumber)]),
        )
        .await?;
    let response: ProofResponse =
        serde_json::from_value(response).wrap_err("decoding rollup_getWithdrawalProof")?;
    // The proposal's root (its `stateRoot` field) is an output root: check the node's preimage
    // hashes to it, so a disagreement is reported here rather than as a reverted transaction.
    let Some(output) = response.output_root.map(OutputRoot::from) else {
        bail!(
            "the L2 node has not derived L2 block {} as safe yet, so it has no output root for it: wait for it to catch up, or use a node that has (--l2-rpc-url)",
            response.l2_block_number
        );
    };
    let output_root = output.hash();
    if response.output_root_hash != Some(output_root) {
        bail!(
            "the L2 node's output root hash ({:?}) is not the hash of its preimage ({output_root}): the node at --l2-rpc-url is faulty",
            response.output_root_hash
        );
    }
    if output.state_root != response.state_root {
        bail!(
            "the L2 node's output root has state root {}, but its proof is against {}: the node at --l2-rpc-url is faulty",
            output.state_root,
            response.state_root
        );
    }
    if output.version != OUTPUT_ROOT_VERSION {
        bail!(
            "the L2 node serves output root version {}, this client knows version {OUTPUT_ROOT_VERSION}: update rollup-node or the L2 node",
            output.version
        );
    }
    if output.l2_block_number != proposal.l2BlockNumber
        || output.l2_block_hash != proposal.l2BlockHash
        || output_root != proposal.stateRoot
    {
        bail!(
            "the L2 node's output root at L2 block {} is {output_root} (block hash {}, state root {}), but proposal #{index} proposed {} for L2 block {} (block hash {}): this node disagrees with the proposal \
             (wrong --l2-rpc-url, or a false proposal: challenge it with `rollup-node challenge --proposal {index}`); not proving against it",
            output.l2_block_number,
            output.l2_block_hash,
            output.state_root,
            proposal.stateRoot,
            proposal.l2BlockNumber,
            proposal.l2BlockHash
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
        output: output.into(),
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
    out!(
        "proven against proposal #{index}, by this account ({})",
        client.sender
    );
    out!("L1 tx: {}", receipt.transaction_hash);
    out!(
        "final at: {} (proposal time + challenge period of {period} s)",
        utc(proposal.timestamp + period)
    );
    out!("next: `rollup-node finalize {tx} --wait{again}`");
    Ok(())
}

/// `rollup-node finalize`: pays out a proven withdrawal on L1, with this account's proof or
/// `--prover`'s.
pub(crate) async fn finalize(args: FinalizeArgs) -> eyre::Result<()> {
    let client = Client::new(&args.tx.client).await?;
    let w = client.l2_withdrawal(args.tx.tx).await?;
    let asset = client.withdrawal_asset(&w.withdrawal).await;
    out!("withdrawal {}: {}", w.hash, describe(&w.withdrawal, &asset));
    let prover = args.prover.unwrap_or(client.sender);
    let whose = if args.prover.is_some() {
        format!("the proof of {prover}")
    } else {
        format!("the proof of this account ({prover})")
    };
    // As `prove` does: running it again after it paid is not an error.
    if client.finalized(w.hash).await? {
        out!("already finalized: nothing to do");
        return Ok(());
    }
    // The contract takes the withdrawal hash as a uint256.
    let withdrawal_id = U256::from_be_bytes(w.hash.0);
    let (input, what) = match args.prover {
        Some(prover) => (
            IL1Bridge::finalizeWithdrawalWithProofCall {
                withdrawalId: withdrawal_id,
                recipient: w.withdrawal.to,
                amount: w.withdrawal.amount,
                prover,
            }
            .abi_encode(),
            "finalizeWithdrawalWithProof",
        ),
        None => (
            IL1Bridge::finalizeWithdrawalCall {
                withdrawalId: withdrawal_id,
                recipient: w.withdrawal.to,
                amount: w.withdrawal.amount,
            }
            .abi_encode(),
            "finalizeWithdrawal",
        ),
    };
    let start = Instant::now();
    let mut retries = 0;
    // With --wait, a finalization L1 refuses as not final yet (an L1 reorg put it in a block
    // older than the one the wait saw final) waits again.
    let receipt = loop {
        if args.wait
            && wait_until_final(&client, &args, &w, (prover, &whose), start).await? == Waited::Paid
        {
            // Paid while it waited (by another run): nothing left to send.
            out!("already finalized: nothing to do");
            return Ok(());
        }
        match client
            .send(false, client.l1_bridge, input.clone(), U256::ZERO, what)
            .await
        {
            Ok(receipt) => break receipt,
            Err(err)
                if args.wait
                    && retries < 3
                    && (format!("{err:#}").contains("L1Bridge_ProposalNotFinal")
                        || format!("{err:#}").contains("reverted on chain")) =>
            {
                // Refused as not final, or reverted in its block (one an L1 reorg made older
                // than the proposal's final time): the wait reads L1 again, and stops if it
                // was paid.
                retries += 1;
                out!("{err:#}; L1 may have reorganised: waiting again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => return Err(err),
        }
    };
    out!(
        "finalized: paid {} to {} on L1 (with {whose})",
        asset.format(w.withdrawal.amount),
        w.withdrawal.to
    );
    out!("L1 tx: {}", receipt.transaction_hash);
    Ok(())
}

/// How [`wait_until_final`] ended.
#[derive(Debug, PartialEq, Eq)]
enum Waited {
    /// The proposal the withdrawal is proven against is final.
    Final,
    /// The withdrawal was paid meanwhile.
    Paid,
}

/// `finalize --wait`: waits until the proposal that `prover` proved withdrawal `w` against is
/// final (or the withdrawal was paid meanwhile), saying every 5 s what it waits for (`whose`
/// names that proof). Fails if the withdrawal is not proven by `prover`, its proposal was
/// removed, or `--timeout` passed since `start`. A wait can last the whole challenge period:
/// an L1 node that drops a request or restarts meanwhile does not end it.
async fn wait_until_final(
    client: &Client,
    args: &FinalizeArgs,
    w: &L2Withdrawal,
    (prover, whose): (Address, &str),
    start: Instant,
) -> eyre::Result<Waited> {
    let again = &client.signer_flag;
    let tx = args.tx.tx;
    let mut last_report = None::<Instant>;
    loop {
        let read = async {
            let finalized = client.finalized(w.hash).await?;
            let proven = client.proven(w.hash, prover).await?;
            let proposal = client.proposal(proven.proposalIndex).await?;
            let is_final = client.is_final(proven.proposalIndex).await?;
            Ok::<_, eyre::Report>((finalized, proven, proposal, is_final))
        };
        let (finalized, proven, proposal, is_final) = match read.await {
            Ok(read) => read,
            Err(err) => {
                pause_after_failed_read(err, start, args.timeout).await?;
                continue;
            }
        };
        if finalized {
            return Ok(Waited::Paid);
        }
        if proven.provenAt == 0 {
            if args.prover.is_some() {
                bail!(
                    "{prover} has not proven withdrawal {}: `rollup-node withdrawal-status {tx}{again}` lists who did",
                    w.hash
                );
            }
            bail!(
                "withdrawal {} is not proven by this account ({prover}): run `rollup-node prove {tx}{again}` first, or finalize with another account's proof: `rollup-node finalize {tx}{again} --prover <address>` (`rollup-node withdrawal-status {tx}{again}` lists who proved it)",
                w.hash
            );
        }
        if proposal.removed {
            bail!(
                "proposal #{} that {whose} is against was removed on L1: run `rollup-node prove {tx}{again}` again",
                proven.proposalIndex
            );
        }
        if is_final {
            return Ok(Waited::Final);
        }
        if args.timeout.is_some_and(|limit| start.elapsed() > limit) {
            bail!(
                "proposal #{} is still not final after {:?}",
                proven.proposalIndex,
                start.elapsed()
            );
        }
        if last_report.is_none_or(|t| t.elapsed() >= Duration::from_secs(5))
            && let (Ok(period), Ok(l1_now), Ok(open)) = (
                client.challenge_period().await,
                client.l1_time().await,
                client.open_games(proven.proposalIndex).await,
            )
        {
            let final_at = proposal.timestamp + period;
            if open > 0 {
                out!(
                    "waiting for proposal #{}: {open} dispute game(s) on it still open (`rollup-node disputes`); final once they end in its favour",
                    proven.proposalIndex
                );
            } else {
                out!(
                    "waiting for proposal #{} to become final at {} ({} s of L1 time left)",
                    proven.proposalIndex,
                    utc(final_at),
                    final_at.saturating_sub(l1_now)
                );
            }
            last_report = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// A view call through `provider`, with the contract's error named if it reverts.
/// Gas for an `eth_call` of a token's `decimals()` that leaves the call the bridge's cap
/// (`L1Bridge.TOKEN_METADATA_READ_GAS`, 30 000) after the transaction's intrinsic gas and its
/// four bytes of input.
const DECIMALS_CALL_GAS: u64 = 30_000 + 21_000 + 4 * 16;

/// A token's decimals as the L1 bridge takes them from `decimals()`'s answer (`None`: the call
/// failed): the first word if at most 255, else `Err` with why the bridge uses 18.
fn decimals_as_bridged(answer: Option<&[u8]>) -> Result<u8, &'static str> {
    let answer = answer.ok_or("has no decimals() that answers within the bridge's gas cap")?;
    let word = answer
        .get(..32)
        .ok_or("answers decimals() with fewer than 32 bytes")?;
    u8::try_from(U256::from_be_slice(word)).map_err(|_| "names more than 255 decimals")
}

async fn view<C: SolCall>(
    provider: &impl Provider,
    to: Address,
    call: C,
) -> eyre::Result<C::Return> {
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(call.abi_encode());
    // What the latest block holds, as `cast call` reads it (alloy's default is the pending
    // block, whose transactions and timestamp are provisional).
    let out = provider
        .call(tx)
        .block(BlockId::latest())
        .await
        .map_err(|err| explain(C::SIGNATURE, &err))?;
    rollup_primitives::decode_returns::<C>(to, &out).map_err(|reason| eyre::eyre!(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decimals are taken as the bridge takes them: 300 is no 44.
    #[test]
    fn decimals_are_read_as_the_bridge_reads_them() {
        let word = |value: u64| U256::from(value).to_be_bytes::<32>().to_vec();
        assert_eq!(decimals_as_bridged(Some(&word(6))), Ok(6));
        assert_eq!(decimals_as_bridged(Some(&word(255))), Ok(255));
        assert!(decimals_as_bridged(Some(&word(300))).is_err());
        assert!(decimals_as_bridged(Some(&[0u8; 31])).is_err());
        assert!(decimals_as_bridged(None).is_err());
        // More than a word is read as the bridge reads it: the first word.
        assert_eq!(
            decimals_as_bridged(Some(&[word(8), word(9)].concat())),
            Ok(8)
        );
    }

    #[test]
    fn revert_names() {
        let data = keccak256("L1Bridge_ProposalNotFinal()")[..4].to_vec();
        assert_eq!(decode_revert(&data).unwrap().0, "L1Bridge_ProposalNotFinal");
        assert!(decode_revert(&[1, 2, 3, 4]).is_none());
        assert!(decode_revert(&[]).is_none());
    }

    /// The allowlisted proposer's unchallenged proposal comes first (its defender answers a
    /// challenge; where anyone may propose, anyone's true proposal can be left to lose its
    /// game on its clock, voiding the proof), then anyone's unchallenged one, then the oldest.
    #[test]
    fn the_allowlisted_proposers_unchallenged_proposal_is_proven_against_first() {
        let ours = Address::repeat_byte(2);
        let theirs = Address::repeat_byte(4);
        let proposal = |proposer| Proposal {
            stateRoot: B256::ZERO,
            batchRoot: B256::ZERO,
            l2BlockHash: B256::ZERO,
            l2BlockNumber: 0,
            proposer,
            timestamp: 0,
            l1Block: 0,
            removed: false,
            bondReturned: false,
            bond: U256::ZERO,
        };
        let pick = |agreed: &[(u64, Address, bool)]| {
            let agreed: Vec<_> = agreed
                .iter()
                .map(|(index, proposer, challenged)| (*index, proposal(*proposer), *challenged))
                .collect();
            pick_proposal(&agreed, ours).map(|at| agreed[at].0)
        };
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[(3, theirs, false), (5, ours, false)]), Some(5));
        assert_eq!(pick(&[(3, theirs, false), (5, ours, true)]), Some(3));
        assert_eq!(pick(&[(3, theirs, true), (5, ours, true)]), Some(3));
        assert_eq!(pick(&[(3, ours, false), (5, ours, false)]), Some(3));
    }

    /// A proposal with the node's root but another L2 block hash is neither agreed with (no
    /// withdrawal can be proven against it) nor disagreed with (no game can remove it): `prove`
    /// waits past it, and says why.
    #[test]
    fn a_true_root_with_another_block_hash_is_not_proven_against() {
        let local = LocalOutput {
            root: B256::repeat_byte(1),
            block_hash: B256::repeat_byte(2),
        };
        let proposal = |root, block_hash| Proposal {
            stateRoot: root,
            batchRoot: B256::ZERO,
            l2BlockHash: block_hash,
            l2BlockNumber: 7,
            proposer: Address::ZERO,
            timestamp: 0,
            l1Block: 0,
            removed: false,
            bondReturned: false,
            bond: U256::ZERO,
        };
        let agree = |root, block_hash| local.judge(&proposal(root, block_hash));
        assert_eq!(agree(local.root, local.block_hash), Agreement::Agrees);
        assert_eq!(agree(B256::ZERO, local.block_hash), Agreement::Disagrees);
        assert_eq!(agree(B256::ZERO, B256::ZERO), Agreement::Disagrees);
        assert_eq!(agree(local.root, B256::ZERO), Agreement::OtherBlockHash);
        let choice = ProposalChoice {
            other_block_hash: vec![7],
            ..ProposalChoice::default()
        };
        let why = choice.why_none(7);
        assert!(
            why.contains("#7 carry the L2 node's output root but name another L2 block hash"),
            "{why}"
        );
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
        let endpoints = Endpoints::resolve(&client_args(&full), true).unwrap();
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
            let err = Endpoints::resolve(&client_args(&line), true).unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("{flag} (or ")),
                "{err}"
            );
        }
        // A command that uses only L1 (force-include) needs no L2 URL.
        let mut line = full.to_vec();
        line.drain(4..6);
        let endpoints = Endpoints::resolve(&client_args(&line), false).unwrap();
        assert_eq!(endpoints.l2_url, NO_L2_URL);

        // An unreadable config says so.
        let mut line = full.to_vec();
        let absent = dir.path().join("absent.json");
        line[1] = absent.to_str().unwrap();
        let err = Endpoints::resolve(&client_args(&line), true).unwrap_err();
        assert!(err.to_string().contains("absent.json"), "{err}");
    }

    #[test]
    fn a_missing_devnet_file_points_at_both_sources() {
        let dir = tempfile::tempdir().unwrap();
        let devnet = dir.path().join("devnet.json");
        let err = Endpoints::resolve(&client_args(&["--devnet", devnet.to_str().unwrap()]), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("rollup-node devnet") && err.contains("--config"),
            "{err}"
        );
    }

    #[test]
    fn a_rollup_config_takes_no_dev_account() {
        let err = Endpoints::resolve(
            &client_args(&["--config", "rollup.json", "--account", "5"]),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--account (or ROLLUP_ACCOUNT)") && err.contains("--private-key"),
            "{err}"
        );
    }

    #[test]
    fn a_dev_account_and_a_private_key_are_refused_together_by_name() {
        let err = Endpoints::resolve(
            &client_args(&["--account", "3", "--private-key", "0x01"]),
            true,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("--account 3 and a private key")
                && err.contains("ROLLUP_PRIVATE_KEY in the environment"),
            "{err}"
        );
    }

    #[test]
    fn amounts_use_the_token_decimals() {
        assert_eq!(
            parse_amount("1.5", 18).unwrap(),
            U256::from(1_500_000_000_000_000_000u128)
        );
        // A 6-decimal token (USDC): 1.5 tokens are 1 500 000 base units.
        assert_eq!(parse_amount("1.5", 6).unwrap(), U256::from(1_500_000u64));
        assert_eq!(parse_amount(" 2 ", 6).unwrap(), U256::from(2_000_000u64));
        assert_eq!(parse_amount(".25", 6).unwrap(), U256::from(250_000u64));
        assert_eq!(parse_amount("7", 0).unwrap(), U256::from(7u64));
        // More decimals than the token has would be cut silently: refused.
        let err = parse_amount("1.0000001", 6).unwrap_err().to_string();
        assert!(err.contains("has 7 decimals") && err.contains("6"), "{err}");
        for bad in [
            "0", "0.000", "abc", "", ".", "-1", "1.2.3", "1e6", "1,5", "+1",
        ] {
            assert!(parse_amount(bad, 6).is_err(), "{bad:?} accepted");
        }
        // A token of more decimals than 10^decimals fits in 256 bits: what fits is moved.
        assert!(parse_amount("1", 78).is_err());
        let tiny = format!("0.{}1", "0".repeat(254));
        assert_eq!(parse_amount(&tiny, 255).unwrap(), U256::from(1u64));
        assert_eq!(format_amount(U256::from(1u64), 255), tiny);
        assert_eq!(
            parse_amount("0.5", 77).unwrap(),
            U256::from(5u64) * U256::from(10u64).pow(U256::from(76u64))
        );
        // The mistakes users make get messages that name them.
        let negative = parse_amount("-1", 18).unwrap_err().to_string();
        assert!(negative.contains("is negative"), "{negative}");
        let huge = parse_amount(&"9".repeat(80), 18).unwrap_err().to_string();
        assert!(huge.contains("is too large"), "{huge}");
    }

    #[test]
    fn a_token_symbol_cannot_print_lines_colours_or_reordered_text() {
        assert_eq!(shown_symbol(Some("USDC".into())).as_deref(), Some("USDC"));
        assert_eq!(shown_symbol(Some(String::new())), None);
        assert_eq!(shown_symbol(None), None);
        assert_eq!(
            shown_symbol(Some("USD\n\u{1b}[31mfinalized: yes".into())).as_deref(),
            Some("USD\\n\\u{1b}[31mfinalized: yes")
        );
        assert_eq!(
            shown_symbol(Some("A\u{202e}BC\u{200b}".into())).as_deref(),
            Some("A\\u{202e}BC\\u{200b}")
        );
        assert_eq!(shown_symbol(Some("€uro".into())).as_deref(), Some("€uro"));
    }

    #[test]
    fn amounts_print_with_the_token_decimals() {
        assert_eq!(format_amount(U256::from(1_500_000u64), 6), "1.5");
        assert_eq!(format_amount(U256::from(2_000_000u64), 6), "2");
        assert_eq!(format_amount(U256::from(1u64), 6), "0.000001");
        assert_eq!(format_amount(U256::from(7u64), 0), "7");
        let token = Address::repeat_byte(0x11);
        let usdc = Asset {
            l1_token: Some(token),
            decimals: Some(6),
            symbol: Some("USDC".into()),
        };
        assert_eq!(
            usdc.format(U256::from(1_500_000u64)),
            format!("1.5 USDC (L1 token {token})")
        );
        assert_eq!(usdc.parse("1.5").unwrap(), U256::from(1_500_000u64));
        let unnamed = Asset {
            symbol: None,
            ..usdc
        };
        assert_eq!(
            unnamed.format(U256::from(250_000u64)),
            format!("0.25 of L1 token {token}")
        );
        assert_eq!(usdc.short(U256::from(1_500_000u64)), "1.5 USDC");
        let unknown = Asset {
            decimals: None,
            ..usdc
        };
        assert_eq!(
            unknown.format(U256::from(5u64)),
            format!("5 base units of L1 token {token}")
        );
        assert!(unknown.parse("1").is_err());
        assert_eq!(unknown.short(U256::from(5u64)), "5 base units");
        assert_eq!(unnamed.short(U256::from(250_000u64)), "0.25");
        assert_eq!(
            Asset::ETH.format(U256::from(1_250_000_000_000_000_000u128)),
            "1.25 ETH"
        );
    }

    /// The `error Name();` declarations (no arguments) of a Solidity source.
    fn argumentless_errors(source: &str) -> Vec<&str> {
        source
            .lines()
            .filter_map(|line| line.trim().strip_prefix("error "))
            .filter_map(|rest| rest.split_once('('))
            .filter(|(_, args)| args.trim_start().starts_with(')'))
            .map(|(name, _)| name.trim())
            .collect()
    }

    /// Every argument-free custom error the contracts declare has a name and advice here, so
    /// no revert reaches the user as bare revert data.
    #[test]
    fn every_contract_error_is_known() {
        let sources = [
            (
                "L1Bridge.sol",
                include_str!("../../../contracts/src/L1/L1Bridge.sol"),
            ),
            (
                "L2Bridge.sol",
                include_str!("../../../contracts/src/L2/L2Bridge.sol"),
            ),
            (
                "StateManager.sol",
                include_str!("../../../contracts/src/L1/StateManager.sol"),
            ),
            (
                "BatchInbox.sol",
                include_str!("../../../contracts/src/L1/BatchInbox.sol"),
            ),
            (
                "BridgedERC20.sol",
                include_str!("../../../contracts/src/L2/BridgedERC20.sol"),
            ),
            (
                "DisputeGame.sol",
                include_str!("../../../contracts/src/dispute/DisputeGame.sol"),
            ),
            (
                "OneStepVerifier.sol",
                include_str!("../../../contracts/src/dispute/OneStepVerifier.sol"),
            ),
            (
                "SegmentStore.sol",
                include_str!("../../../contracts/src/dispute/SegmentStore.sol"),
            ),
            (
                "SparseMerkleTrie.sol",
                include_str!("../../../contracts/src/libraries/SparseMerkleTrie.sol"),
            ),
            (
                "OrderedTrie.sol",
                include_str!("../../../contracts/src/libraries/OrderedTrie.sol"),
            ),
        ];
        let mut missing = Vec::new();
        for (file, source) in sources {
            let declared = argumentless_errors(source);
            assert!(!declared.is_empty(), "{file} declares no errors?");
            for name in declared {
                let selector = keccak256(format!("{name}()"));
                match decode_revert(&selector[..4]) {
                    Some((known, advice)) if known == name && !advice.is_empty() => {}
                    _ => missing.push(format!("{file}: {name}")),
                }
            }
        }
        assert!(
            missing.is_empty(),
            "add these contract errors to KNOWN_ERRORS with advice: {missing:?}"
        );
        // The withdrawal that starts on L1 is now a forced withdrawal, not an error.
        assert!(
            !KNOWN_ERRORS
                .iter()
                .any(|(name, _)| *name == "L1Bridge_WithdrawOnL2")
        );
        // No name twice (the first would shadow the second's advice).
        let mut names: Vec<&str> = KNOWN_ERRORS.iter().map(|(name, _)| *name).collect();
        names.sort_unstable();
        let count = names.len();
        names.dedup();
        assert_eq!(names.len(), count, "a name appears twice in KNOWN_ERRORS");
    }

    #[test]
    fn declared_errors_are_parsed() {
        let source =
            "    error A_One();\n  error A_Two(uint256 x);\nerror A_Three( );\n// error Not_This()";
        assert_eq!(argumentless_errors(source), ["A_One", "A_Three"]);
    }
}
