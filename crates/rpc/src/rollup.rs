//! The `rollup_*` handlers.

use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bloom, Bytes, U64, U256};
use alloy_sol_types::SolValue;
use jsonrpsee::RpcModule;
use rollup_execution::{BlockTrace, TRACE_DEPTH, TraceInput, TraceState};
use rollup_primitives::{OutputRoot, decode_l1_origin};
use rollup_storage::{StorageError, StoreReader};
use rollup_trie::{Proof, Terminal};
use serde::Serialize;
use tracing::debug;

use crate::{
    RpcError,
    eth::{Args, EthApi, heavy_method, method},
    types::SyncStatus,
};

/// A sparse Merkle proof in JSON: what `rollup_trie::verify` and the Solidity
/// `SparseMerkleTrie.verify` take.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProofJson {
    /// Sibling hashes, root first.
    pub siblings: Vec<B256>,
    /// The leaf at the end of the path (this key, or another one proving absence); `null` if the
    /// path ends in an empty subtree.
    pub terminal: Option<TerminalJson>,
    /// The 65-byte preimage of the deepest sibling, when it is not empty (needed to prove a
    /// deletion).
    pub last_sibling: Option<Bytes>,
}

/// A leaf in a proof.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TerminalJson {
    /// Leaf key.
    pub key: B256,
    /// Leaf value hash.
    pub value_hash: B256,
}

impl From<Proof> for ProofJson {
    fn from(proof: Proof) -> Self {
        Self {
            siblings: proof.siblings,
            terminal: match proof.terminal {
                Terminal::Leaf { key, value_hash } => Some(TerminalJson { key, value_hash }),
                Terminal::Empty => None,
            },
            last_sibling: proof
                .last_sibling
                .map(|node| Bytes::copy_from_slice(&node.encode())),
        }
    }
}

/// One storage slot's proof.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageProofJson {
    /// The slot.
    pub slot: U256,
    /// Its trie key.
    pub key: B256,
    /// Its value (zero: absent).
    pub value: U256,
    /// The proof.
    pub proof: ProofJson,
}

/// An output root preimage (`Withdrawals.OutputRoot`, [`OutputRoot`]): what a proposal of an L2
/// block claims, and the `output` of `L1Bridge.proveWithdrawal`'s proof. Quantities are hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputRootJson {
    /// Layout version ([`rollup_primitives::OUTPUT_ROOT_VERSION`]).
    pub version: U64,
    /// The L2 block.
    pub l2_block_number: U64,
    /// Its state root.
    pub state_root: B256,
    /// Its hash.
    pub l2_block_hash: B256,
    /// The `BatchInbox` record it was derived from.
    pub inbox_record: U64,
    /// Its position among that record's blocks, from 0.
    pub block_in_record: U64,
    /// The L1 block that appended that record.
    pub l1_block: U64,
}

impl From<OutputRoot> for OutputRootJson {
    fn from(output: OutputRoot) -> Self {
        Self {
            version: U64::from(output.version),
            l2_block_number: U64::from(output.l2_block_number),
            state_root: output.state_root,
            l2_block_hash: output.l2_block_hash,
            inbox_record: U64::from(output.inbox_record),
            block_in_record: U64::from(output.block_in_record),
            l1_block: U64::from(output.l1_block),
        }
    }
}

/// The output root of L2 block `number` as this node derived it; `None` unless the block is
/// stored and safe (only safe blocks have a derivation cursor, and only they are proposed), or
/// is the genesis (the root every dispute range may start at).
pub(crate) fn local_output_root(
    reader: &StoreReader,
    number: u64,
) -> Result<Option<OutputRoot>, RpcError> {
    Ok(reader.output_root(number)?)
}

/// `rollup_getProof` result.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountProofJson {
    /// The account.
    pub address: Address,
    /// Its trie key.
    pub key: B256,
    /// Nonce.
    pub nonce: U64,
    /// Balance.
    pub balance: U256,
    /// Code hash.
    pub code_hash: B256,
    /// The state root the proofs verify against (the block's `stateRoot`).
    pub state_root: B256,
    /// Block number.
    pub block_number: U64,
    /// Block hash.
    pub block_hash: B256,
    /// The block's output root preimage, whose `stateRoot` the proofs verify against; `null`
    /// if this node has not derived the block as safe.
    pub output_root: Option<OutputRootJson>,
    /// Its hash: the root a proposal of the block carries; `null` with `outputRoot`.
    pub output_root_hash: Option<B256>,
    /// The hash of `outputRoot.l1Block` as this node processed that L1 block, read with the
    /// rest of the answer: what a proposal of the block names beside it, so that L1 refuses the
    /// proposal on a chain where that block is another; `null` with `outputRoot`.
    pub output_l1_block_hash: Option<B256>,
    /// The account proof.
    pub account_proof: ProofJson,
    /// Storage proofs, in request order.
    pub storage_proof: Vec<StorageProofJson>,
}

/// A withdrawal as `L2Bridge.withdraw` recorded it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalJson {
    /// L2 bridge withdrawal nonce.
    pub nonce: U256,
    /// Sender on L2.
    pub from: Address,
    /// Recipient on L1.
    pub to: Address,
    /// Token on L1 (zero: ETH).
    pub l1_token: Address,
    /// Token on L2 (zero: ETH).
    pub l2_token: Address,
    /// Amount.
    pub amount: U256,
}

/// `rollup_getWithdrawalProof` result: everything `L1Bridge.proveWithdrawal` takes
/// (`proof = (outputRoot, slot, proof)`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawalProofJson {
    /// The withdrawal.
    pub withdrawal: WithdrawalJson,
    /// Its hash: the `withdrawalId` of `finalizeWithdrawal`.
    pub withdrawal_hash: B256,
    /// The L2 block whose state the proof is against.
    pub l2_block_number: U64,
    /// That block's state root: the root of `proof` (`outputRoot.stateRoot`).
    pub state_root: B256,
    /// That block's output root preimage (the proof's `output`); `null` if this node has not
    /// derived the block as safe, and then nothing can be proven against it yet.
    pub output_root: Option<OutputRootJson>,
    /// Its hash: must equal the proposal's root (its `stateRoot` field); `null` with
    /// `outputRoot`.
    pub output_root_hash: Option<B256>,
    /// Storage slot of `L2Bridge.sentWithdrawals[withdrawalHash]`.
    pub slot: U256,
    /// Proof that the slot holds 1.
    pub proof: ProofJson,
}

/// A trace state in JSON ([`TraceState`]): what a level-1 claim of the dispute game commits to
/// between a block's preamble and its seal. Quantities are hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStateJson {
    /// The block being built.
    pub l2_block: U64,
    /// Inputs consumed: 1 after the preamble, `1 + i` after input `i`.
    pub inputs: U64,
    /// The state root after them.
    pub state_root: B256,
    /// Gas used by the block so far.
    pub cumulative_gas: U64,
    /// Transactions included so far.
    pub included: U64,
    /// Root of the ordered trie of the included transactions.
    pub tx_root: B256,
    /// Root of the ordered trie of their EIP-2718 receipts.
    pub receipt_root: B256,
    /// The union of their receipts' blooms.
    pub logs_bloom: Bloom,
    /// `keccak256` of the block context.
    pub context: B256,
}

impl From<TraceState> for TraceStateJson {
    fn from(state: TraceState) -> Self {
        Self {
            l2_block: U64::from(state.l2_block),
            inputs: U64::from(state.inputs),
            state_root: state.state_root,
            cumulative_gas: U64::from(state.cumulative_gas),
            included: U64::from(state.included),
            tx_root: state.tx_root,
            receipt_root: state.receipt_root,
            logs_bloom: state.logs_bloom,
            context: state.context,
        }
    }
}

/// `rollup_getTraceClaim` result: this node's claim at one position of an L2 block's input
/// trace, the one level 1 of the dispute game bisects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceClaimJson {
    /// The claim: the parent's output root at position 0, `keccak256(abi.encode(state))` from
    /// the preamble to the seal, the block's output root from the seal on.
    pub claim: B256,
    /// The seal's position (`inputs + 2`): the first whose claim is the block's output root.
    pub seal: U64,
    /// The trace state behind the claim, for `1 <= position < seal`; `null` elsewhere (the
    /// claim is an output root there).
    pub state: Option<TraceStateJson>,
}

/// The input trace of stored, safe L2 block `block`, re-executed on its parent's historical
/// state with the block's own transactions ([`TraceInput::stored`]), as the dispute agent does
/// when L1 does not give it the block's batch: the same positions unless derivation skipped
/// one of the batch's transactions. Unknown, unsafe and pruned blocks are the caller's
/// mistake (`-32602`); a re-execution that does not end at the block's header is the node's.
///
/// A re-execution still running at `limits`' deadline (the node's EVM timeout) is stopped: a
/// block's trace runs every transaction and a trie root after each, and without a bound a few
/// requests naming the heaviest blocks held every heavy slot.
fn block_trace(
    reader: &StoreReader,
    chain_id: u64,
    block: u64,
    limits: &crate::eth::CallLimits,
) -> Result<BlockTrace, RpcError> {
    let Some(parent) = block.checked_sub(1) else {
        return Err(RpcError::InvalidParams(
            "L2 block 0 is the genesis and has no trace: its output root is position 0 of block 1's trace".into(),
        ));
    };
    let header = reader.header(block)?.ok_or_else(|| {
        RpcError::InvalidParams(format!("L2 block {block} is not stored on this node"))
    })?;
    let output = local_output_root(reader, block)?.ok_or_else(|| {
        RpcError::InvalidParams(format!(
            "L2 block {block} is not safe on this node yet: its trace ends at its output root, which only blocks derived from L1 have; retry once the safe head passed it"
        ))
    })?;
    let parent_output = local_output_root(reader, parent)?.ok_or_else(|| {
        RpcError::Internal(format!("safe L2 block {block}'s parent has no output root"))
    })?;
    let body = reader
        .body(block)?
        .ok_or_else(|| RpcError::Internal(format!("L2 block {block} has a header but no body")))?;
    let unkept = |err: StorageError| match err {
        StorageError::HistoryPruned { .. } => {
            RpcError::InvalidParams(format!("cannot trace L2 block {block}: {err}"))
        }
        err => err.into(),
    };
    let state = reader.state_at(parent).map_err(unkept)?;
    let trie = reader.trie_at(parent).map_err(unkept)?;
    rollup_execution::trace_block_until(
        &state,
        trie,
        &header,
        chain_id,
        &TraceInput::stored(&body),
        (parent_output.hash(), output.hash()),
        Some(limits.deadline),
    )
    .map_err(|err| match err {
        rollup_execution::ExecutionError::CallTimedOut => crate::eth::call_error(err, limits),
        err => RpcError::Internal(format!("tracing L2 block {block} failed: {err}")),
    })
}

/// Argument `index` as a hex quantity (`"0x1a"`); a JSON number or a decimal string is refused,
/// as for block numbers.
fn hex_quantity(args: &Args, index: usize, name: &str) -> Result<u64, RpcError> {
    let text: String = args.required(index, name)?;
    text.strip_prefix("0x")
        // from_str_radix takes a leading '+', which no hex quantity has.
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_hexdigit()))
        .and_then(|digits| u64::from_str_radix(digits, 16).ok())
        .ok_or_else(|| {
            RpcError::InvalidParams(format!(
                "invalid argument {index} ({name}): {text:?} is not a hex quantity such as \"0x1a\""
            ))
        })
}

/// Registers the `rollup_*` methods.
pub(crate) fn register(module: &mut RpcModule<EthApi>) {
    heavy_method(module, "rollup_getWithdrawalProof", |api, args| {
        use alloy_sol_types::SolEvent;
        use rollup_primitives::bindings::IL2Bridge::WithdrawalInitiated;
        let tx_hash: B256 = args.required(0, "withdrawal transaction hash")?;
        let block: Option<BlockId> = args.optional(1, "block")?;
        let reader = api.reader()?;
        let stored = reader.transaction(tx_hash)?.ok_or_else(|| {
            RpcError::InvalidParams(format!("transaction {tx_hash} is not in the L2 chain"))
        })?;
        let event = stored
            .receipt
            .logs
            .iter()
            .filter(|log| log.address == rollup_primitives::L2_BRIDGE)
            .find_map(|log| WithdrawalInitiated::decode_log_data(&log.data).ok())
            .ok_or_else(|| {
                RpcError::InvalidParams(format!("transaction {tx_hash} initiated no withdrawal"))
            })?;
        let number = api.existing_block_number(&reader, block.unwrap_or_default())?;
        if number < stored.block_number {
            return Err(RpcError::InvalidParams(format!(
                "the withdrawal is in L2 block {}, after block {number}",
                stored.block_number
            )));
        }
        let slot = U256::from_be_bytes(
            alloy_primitives::keccak256((event.withdrawalHash, U256::ZERO).abi_encode_params()).0,
        );
        let state = reader.state_at(number)?;
        let value = rollup_execution::revm::DatabaseRef::storage_ref(
            &state,
            rollup_primitives::L2_BRIDGE,
            slot,
        )?;
        if value != U256::from(1) {
            return Err(RpcError::Internal(format!(
                "withdrawal {} is not recorded in L2Bridge storage at block {number}",
                event.withdrawalHash
            )));
        }
        let header = reader
            .header(number)?
            .ok_or_else(|| RpcError::UnknownBlock(format!("block {number}")))?;
        let key = rollup_trie::storage_key(rollup_primitives::L2_BRIDGE, slot);
        let output = local_output_root(&reader, number)?;
        Ok(WithdrawalProofJson {
            withdrawal: WithdrawalJson {
                nonce: event.nonce,
                from: event.from,
                to: event.to,
                l1_token: event.l1Token,
                l2_token: event.l2Token,
                amount: event.amount,
            },
            withdrawal_hash: event.withdrawalHash,
            l2_block_number: U64::from(number),
            state_root: header.state_root,
            output_root: output.map(Into::into),
            output_root_hash: output.map(|output| output.hash()),
            slot,
            proof: reader.trie_proof_at(number, key)?.into(),
        })
    });

    heavy_method(module, "rollup_getProof", |api, args| {
        let address: Address = args.required(0, "address")?;
        let slots: Vec<U256> = args.optional(1, "storage slots")?.unwrap_or_default();
        let block: Option<BlockId> = args.optional(2, "block")?;
        if slots.len() > 1024 {
            return Err(RpcError::InvalidParams(
                "at most 1024 storage slots per request".into(),
            ));
        }
        let reader = api.reader()?;
        let number = api.existing_block_number(&reader, block.unwrap_or_default())?;
        let header = reader
            .header(number)?
            .ok_or_else(|| RpcError::UnknownBlock(format!("block {number}")))?;
        // State and trie as of `number`: the latest ones, or rebuilt from later changesets.
        let state = reader.state_at(number)?;
        let account = rollup_execution::revm::DatabaseRef::basic_ref(&state, address)?;
        let key = rollup_trie::account_key(address);
        let account_proof = reader.trie_proof_at(number, key)?.into();
        let storage_proof = slots
            .into_iter()
            .map(|slot| {
                let key = rollup_trie::storage_key(address, slot);
                Ok(StorageProofJson {
                    slot,
                    key,
                    value: rollup_execution::revm::DatabaseRef::storage_ref(&state, address, slot)?,
                    proof: reader.trie_proof_at(number, key)?.into(),
                })
            })
            .collect::<Result<Vec<_>, RpcError>>()?;
        let output = local_output_root(&reader, number)?;
        Ok(AccountProofJson {
            address,
            key,
            nonce: U64::from(account.as_ref().map_or(0, |a| a.nonce)),
            balance: account.as_ref().map_or(U256::ZERO, |a| a.balance),
            code_hash: account
                .as_ref()
                .map_or(alloy_primitives::KECCAK256_EMPTY, |a| a.code_hash),
            state_root: header.state_root,
            block_number: U64::from(number),
            block_hash: reader.block_hash(number)?.unwrap_or_default(),
            output_root: output.map(Into::into),
            output_root_hash: output.map(|output| output.hash()),
            output_l1_block_hash: output
                .map(|output| reader.l1_block(output.l1_block))
                .transpose()?
                .flatten()
                .map(|record| record.block.hash),
            account_proof,
            storage_proof,
        })
    });

    heavy_method(module, "rollup_getTraceClaim", |api, args| {
        let tag: BlockNumberOrTag = args.required(0, "L2 block number")?;
        let position = hex_quantity(&args, 1, "trace position")?;
        let last = 1u64 << TRACE_DEPTH;
        if position > last {
            return Err(RpcError::InvalidParams(format!(
                "trace position {position} is past the trace's last, {last} (2^{TRACE_DEPTH})"
            )));
        }
        let reader = api.reader()?;
        let block = api
            .block_number(&reader, BlockId::Number(tag))?
            .ok_or_else(|| {
                RpcError::InvalidParams(format!("L2 block {tag} is not stored on this node"))
            })?;
        let started = std::time::Instant::now();
        let limits = api.call_limits();
        let trace = block_trace(&reader, api.ctx.config.l2_chain_id, block, &limits)?;
        debug!(target: "rollup::rpc", block, position, seal = trace.seal_position(), elapsed = ?started.elapsed(), "traced a block for a claim");
        Ok(TraceClaimJson {
            claim: trace.claim(position),
            seal: U64::from(trace.seal_position()),
            state: trace.state(position).copied().map(Into::into),
        })
    });

    method(module, "rollup_syncStatus", |api, _| {
        let heads = *api.ctx.heads.borrow();
        let reader = api.reader()?;
        let mut failure = None;
        let status = SyncStatus::new(&heads, |number| match reader.header(number) {
            Ok(header) => header.and_then(|header| decode_l1_origin(&header.extra_data).ok()),
            Err(err) => {
                failure = Some(err);
                None
            }
        });
        let da_backlog = api.ctx.pool.as_ref().map(|pool| {
            let backlog = pool.throttle().backlog();
            crate::types::DaBacklogJson {
                bytes: backlog.bytes,
                blocks: backlog.blocks,
                throttled: backlog.throttled,
                headroom: backlog.headroom,
            }
        });
        match failure {
            Some(err) => Err(err.into()),
            None => Ok(SyncStatus {
                da_backlog,
                ..status
            }),
        }
    });
}
