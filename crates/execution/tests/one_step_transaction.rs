//! Differential tests of the batch-transaction step of the L1 one-step verifier
//! (`contracts/src/dispute/OneStepVerifier.sol`, witness kind `STEP_TRANSACTION`) against the
//! node.
//!
//! The real `L1Bridge`, `BatchInbox` (behind its proxy), `SegmentStore` and `OneStepVerifier`
//! run in revm as an L1. L2 blocks of real signed transactions (valid or deliberately not) are
//! executed by the node (`execute_block`) and stored (`rollup_storage`); their batch is encoded
//! (`Batch::encode`, or segment by segment to choose the split), posted with `postBatch` by an
//! EOA batcher, its segments opened with `SegmentStore.open`, and decoded back as derivation
//! decodes it. Each batch transaction's step is then built by `transaction_step` and
//! `TransactionStep::witness`, with the block table and the leaf proof read from the batch as
//! the dispute agent reads them, and the verifier must accept the node's next trace state
//! (`trace_block` over `TraceInput::with_batch`) and refuse any other, skip exactly what the
//! node skips, and refuse to prove (`NotProvableYet`) exactly what `TransactionStep::provable`
//! says it cannot.
//!
//! The inbox records the L2 genesis origin at `initialize` (unchecked: L1 is still before it)
//! and the epoch's origin from a header inside the batch, whose hash the L1 serves through
//! `BLOCKHASH` (the revm database's block hash cache).

mod support;

use std::collections::{BTreeMap, HashMap};

use alloy_consensus::{
    Header, SignableTransaction, Signed, TxEip1559, TxEip2930, TxEnvelope, TxLegacy,
    crypto::secp256k1::{recover_signer, sign_message},
};
use alloy_eips::{
    eip1559::BaseFeeParams,
    eip2930::{AccessList, AccessListItem},
    eip4844::kzg_to_versioned_hash,
};
use alloy_primitives::{
    Address, B256, Bloom, Bytes, Signature, TxKind, U256, address, keccak256, uint,
};
use alloy_sol_types::{SolCall, SolError, SolValue};
use proptest::{prelude::*, test_runner::TestRunner};
use rollup_derive::derive_deposits;
use rollup_execution::{
    BlockInput, BlockTrace, MAX_STEP_CALLDATA, STEP_TRANSACTION, TraceInput, TraceState,
    TransactionStep, execute_block, input_witness, revm::DatabaseRef, seal_witness,
    transaction_step,
};
use rollup_primitives::{
    BLOB_DATA_SIZE, Batch, BatchBlock, BatchEnvelope, BatchParent, BlockNumHash, ContractAddresses,
    GenesisAccount, L1Block, L2Genesis, L2Transaction, OUTPUT_ROOT_VERSION, OutputRoot,
    RollupConfig, artifacts,
    bindings::{
        IBatchInbox, IL1Bridge,
        IOneStepVerifier::{self, SealWitness, TransactionWitness},
        ISegmentStore,
    },
    blob_commitment, blob_data, blob_element_proof, blob_elements_covering, decode_l1_origin,
    decode_segment, encode_segment, merkle_proof, to_blobs, tx_leaf, whole_blob_proof,
};
use support::{
    CONTRACT, CONTRACT_CODE, CallGas, DEPLOYER, DEPOSITOR, ETHER, EXISTING, GAS_BOUND, L1,
    L1_CHAIN_ID, L2, L2_CHAIN_ID, ORIGIN, STATE_MANAGER, STEP_INPUT, Verdict, decode_step_witness,
    l1_header, l1_timestamp, origin_hash, reverted, step_witness, tampered_claims,
};

/// The L1 origin of L2 genesis: recorded by `BatchInbox.initialize`.
const GENESIS_ORIGIN: u64 = 99;
/// The L1 block the contracts are deployed in (before the genesis origin, so `initialize`
/// cannot check its hash).
const DEPLOY_BLOCK: u64 = 90;
/// The inbox's batcher: an EOA posting its own transactions.
const BATCHER: Address = address!("0x00000000000000000000000000000000ba7c4e00");
/// An L2 account in the genesis with nonce 0, balance 0 and no code.
const EMPTY: Address = address!("0x00000000000000000000000000000000e3e3e300");
/// Another empty genesis account, used as a block's beneficiary.
const EMPTY_BENEFICIARY: Address = address!("0x00000000000000000000000000000000e4e4e400");
/// The default beneficiary: no account.
const FEES: Address = address!("0x00000000000000000000000000000000000fee00");
/// A genesis contract holding [`LOGGER_CODE`].
const LOGGER: Address = address!("0x00000000000000000000000000000000106e0000");
/// CALLVALUE PUSH0 MSTORE CALLVALUE CALLER PUSH1 32 PUSH0 LOG2 STOP: logs the value it is sent
/// under the topics (caller, value).
const LOGGER_CODE: &[u8] = &[0x34, 0x5f, 0x52, 0x34, 0x33, 0x60, 0x20, 0x5f, 0xa2, 0x00];
const GWEI: u128 = 1_000_000_000;
const L2_GAS_LIMIT: u64 = 30_000_000;
/// The order of secp256k1.
const SECP256K1N: U256 =
    uint!(0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141_U256);

// Keys, by number (`key(n)`).
const ALICE: u8 = 1;
const BOB: u8 = 2;
const CAROL: u8 = 3;
/// Funded by an L1 deposit in the epoch's block, not in the genesis.
const DAVE: u8 = 4;
/// Holds exactly what one 21,000-gas transfer of 5 wei at 2 gwei costs.
const POOR: u8 = 5;
/// Its nonce is `u64::MAX`: it can never send again.
const MAXED: u8 = 6;
/// Holds code (not a delegation): EIP-3607 refuses its transactions.
const CODED: u8 = 7;
/// Holds an EIP-7702 delegation: it may send, but it is code.
const DELEGATED: u8 = 8;
/// Not in the state.
const UNFUNDED: u8 = 9;

const POOR_BALANCE: u128 = 21_000 * 2 * GWEI + 5;

/// The L1 header of block `ORIGIN`, whose bridge messages the tested epoch deposits: it rides
/// in the batch, child of the genesis origin.
fn origin_header() -> Header {
    l1_header(ORIGIN, origin_hash(GENESIS_ORIGIN))
}

// ------------------------------------------------------------------------------------------
// Keys and transactions.

/// A secp256k1 key and its address.
#[derive(Debug, Clone, Copy)]
struct Key {
    secret: B256,
    address: Address,
}

fn key(n: u8) -> Key {
    let secret = B256::with_last_byte(n);
    let message = B256::repeat_byte(0x42);
    let signature = sign_message(secret, message).unwrap();
    Key {
        secret,
        address: recover_signer(&signature, message).unwrap(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TxType {
    Legacy,
    AccessList,
    DynamicFee,
}

/// A transaction's nonce, relative to the sender's next one in the block being built (its
/// nonce in the parent state plus the earlier `Next` transactions of the block).
#[derive(Debug, Clone, Copy)]
enum Nonce {
    /// The next nonce; later transactions count on it.
    Next,
    /// The next nonce plus this, not counted.
    Offset(i64),
    Fixed(u64),
}

/// The fee cap (EIP-1559) or gas price.
#[derive(Debug, Clone, Copy)]
enum Fee {
    /// The block's base fee plus this.
    AboveBase(u128),
    /// One wei below the block's base fee.
    BelowBase,
    Fixed(u128),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    Valid,
    /// The valid signature's twin `(r, n - s)`: it recovers the same key, but EIP-2 refuses it.
    HighS,
    /// `r = 0`: no point.
    NoPoint,
}

/// One batch transaction to sign.
#[derive(Debug, Clone)]
struct TxSpec {
    from: u8,
    ty: TxType,
    nonce: Nonce,
    /// `None` creates a contract.
    to: Option<Address>,
    value: U256,
    fee: Fee,
    /// The EIP-1559 tip cap (ignored by the other types).
    priority: u128,
    gas_limit: u64,
    input: Bytes,
    access_list: AccessList,
    signature: Sig,
}

/// A plain EIP-1559 transfer with a 1 gwei tip.
fn transfer(from: u8, to: Address, value: u128) -> TxSpec {
    TxSpec {
        from,
        ty: TxType::DynamicFee,
        nonce: Nonce::Next,
        to: Some(to),
        value: U256::from(value),
        fee: Fee::AboveBase(2 * GWEI),
        priority: GWEI,
        gas_limit: 21_000,
        input: Bytes::new(),
        access_list: AccessList::default(),
        signature: Sig::Valid,
    }
}

/// A legacy (EIP-155) transfer paying the base fee plus 3 gwei.
fn legacy(from: u8, to: Address, value: u128) -> TxSpec {
    TxSpec {
        ty: TxType::Legacy,
        fee: Fee::AboveBase(3 * GWEI),
        ..transfer(from, to, value)
    }
}

impl TxSpec {
    fn build(&self, nonce: u64, base_fee: u64) -> TxEnvelope {
        let fee = match self.fee {
            Fee::AboveBase(plus) => u128::from(base_fee) + plus,
            Fee::BelowBase => u128::from(base_fee) - 1,
            Fee::Fixed(fee) => fee,
        };
        let to = self.to.map_or(TxKind::Create, TxKind::Call);
        let key = key(self.from);
        match self.ty {
            TxType::Legacy => sign(
                TxLegacy {
                    chain_id: Some(L2_CHAIN_ID),
                    nonce,
                    gas_price: fee,
                    gas_limit: self.gas_limit,
                    to,
                    value: self.value,
                    input: self.input.clone(),
                },
                key,
                self.signature,
            ),
            TxType::AccessList => sign(
                TxEip2930 {
                    chain_id: L2_CHAIN_ID,
                    nonce,
                    gas_price: fee,
                    gas_limit: self.gas_limit,
                    to,
                    value: self.value,
                    access_list: self.access_list.clone(),
                    input: self.input.clone(),
                },
                key,
                self.signature,
            ),
            TxType::DynamicFee => sign(
                TxEip1559 {
                    chain_id: L2_CHAIN_ID,
                    nonce,
                    gas_limit: self.gas_limit,
                    max_fee_per_gas: fee,
                    max_priority_fee_per_gas: self.priority,
                    to,
                    value: self.value,
                    access_list: self.access_list.clone(),
                    input: self.input.clone(),
                },
                key,
                self.signature,
            ),
        }
    }
}

fn sign<T>(tx: T, key: Key, kind: Sig) -> TxEnvelope
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    let valid = sign_message(key.secret, tx.signature_hash()).unwrap();
    let signature = match kind {
        Sig::Valid => valid,
        Sig::HighS => Signature::new(valid.r(), SECP256K1N - valid.s(), !valid.v()),
        Sig::NoPoint => Signature::new(U256::ZERO, valid.s(), valid.v()),
    };
    TxEnvelope::from(tx.into_signed(signature))
}

// ------------------------------------------------------------------------------------------
// L1: the bridge, the inbox, the segment store and the verifier in revm.

/// An L1 at `DEPLOY_BLOCK` with the bridge, the inbox behind a proxy (initialized with the L2
/// genesis at `GENESIS_ORIGIN`), the segment store and the verifier; `BLOCKHASH` of `ORIGIN` is
/// the hash of [`origin_header`].
fn l1() -> L1 {
    let mut l1 = L1::with_bridge(DEPLOY_BLOCK, &[DEPLOYER, BATCHER, DEPOSITOR]);
    l1.db.cache.block_hashes.insert(
        U256::from(ORIGIN),
        keccak256(alloy_rlp::encode(origin_header())),
    );
    let implementation = l1.create(artifacts::BATCH_INBOX.bytecode.to_vec());
    let initialize = IBatchInbox::initializeCall {
        owner: DEPLOYER,
        batcher: BATCHER,
        bridge: l1.bridge,
        sequencingWindow: 1_000,
        maxSequencerDrift: 1_000_000,
        genesisOrigin: GENESIS_ORIGIN,
        genesisOriginHash: origin_hash(GENESIS_ORIGIN),
        genesisOriginTimestamp: l1_timestamp(GENESIS_ORIGIN),
        l2GenesisTimestamp: l1_timestamp(GENESIS_ORIGIN),
    }
    .abi_encode();
    let mut code = artifacts::TRANSPARENT_PROXY.bytecode.to_vec();
    code.extend((implementation, DEPLOYER, Bytes::from(initialize)).abi_encode_params());
    let inbox = l1.create(code);
    l1.deploy_verifier(inbox);
    l1
}

impl L1 {
    /// `depositCountAt(block)`.
    fn deposit_count_at(&mut self, block: u64) -> u64 {
        self.view(
            self.bridge,
            IL1Bridge::depositCountAtCall {
                l1Block: U256::from(block),
            },
        )
        .to()
    }

    /// L1 block `ORIGIN` as derivation sees it.
    fn origin_block(&self) -> L1Block {
        let header = origin_header();
        self.block(&header, keccak256(alloy_rlp::encode(&header)))
    }

    /// `postBatch(data)` by the batcher; returns the record's index.
    fn post_batch(&mut self, data: &[u8]) -> u64 {
        let call = IBatchInbox::postBatchCall {
            data: Bytes::copy_from_slice(data),
        };
        let (result, _) = self.exec(
            BATCHER,
            TxKind::Call(self.inbox),
            U256::ZERO,
            call.abi_encode(),
        );
        assert!(
            result.is_success(),
            "the inbox refused the batch: {result:?}"
        );
        let count: u64 = self.view(self.inbox, IBatchInbox::recordCountCall {}).to();
        count - 1
    }

    /// `postBlobBatch(envelope)` by the batcher, carrying blobs with `hashes`; returns the
    /// record's index.
    fn post_blob_batch(&mut self, envelope: &[u8], hashes: Vec<B256>) -> u64 {
        let call = IBatchInbox::postBlobBatchCall {
            envelope: Bytes::copy_from_slice(envelope),
        };
        let (result, _) = self.exec_with_blobs(
            BATCHER,
            TxKind::Call(self.inbox),
            U256::ZERO,
            call.abi_encode(),
            hashes,
        );
        assert!(
            result.is_success(),
            "the inbox refused the blob batch: {result:?}"
        );
        let count: u64 = self.view(self.inbox, IBatchInbox::recordCountCall {}).to();
        count - 1
    }

    /// `SegmentStore.loadWholeBlob` of blob `index` of blob batch `record`, by anyone: the
    /// call's gas, or the revert's data.
    fn load_whole_blob(
        &mut self,
        record: u64,
        (envelope, blobs, hashes): &(Bytes, Vec<Bytes>, Vec<B256>),
        index: usize,
    ) -> Result<CallGas, Bytes> {
        let (commitment, proof) = whole_blob_proof(&blobs[index]).unwrap();
        let call = ISegmentStore::loadWholeBlobCall {
            w: ISegmentStore::WholeBlob {
                record: U256::from(record),
                envelope: envelope.clone(),
                versionedHashes: hashes.clone(),
                blob: U256::from(index),
                commitment: commitment.to_vec().into(),
                values: blobs[index].clone(),
                proof: proof.to_vec().into(),
            },
        };
        let (result, gas) = self.exec(
            DEPOSITOR,
            TxKind::Call(self.segment_store),
            U256::ZERO,
            call.abi_encode(),
        );
        match result {
            revm::context::result::ExecutionResult::Success { .. } => Ok(gas),
            revm::context::result::ExecutionResult::Revert { output, .. } => Err(output),
            other => panic!("loadWholeBlob halted: {other:?}"),
        }
    }

    /// `SegmentStore.loadBlob` of `proven` elements (values and proofs) of segment `segment`
    /// of blob batch `record`, from element `from` of those covering it, by anyone.
    fn load_elements(
        &mut self,
        record: u64,
        (envelope, _, hashes): &(Bytes, Vec<Bytes>, Vec<B256>),
        commitments: &[u8],
        segment: usize,
        from: usize,
        proven: &[([u8; 32], [u8; 48])],
    ) -> CallGas {
        let call = ISegmentStore::loadBlobCall {
            e: ISegmentStore::BlobElements {
                record: U256::from(record),
                envelope: envelope.clone(),
                versionedHashes: hashes.clone(),
                segment: U256::from(segment),
                from: U256::from(from),
                commitments: commitments.to_vec().into(),
                payloads: proven
                    .iter()
                    .flat_map(|(payload, _)| *payload)
                    .collect::<Vec<u8>>()
                    .into(),
                proofs: proven
                    .iter()
                    .flat_map(|(_, proof)| *proof)
                    .collect::<Vec<u8>>()
                    .into(),
            },
        };
        self.call(DEPOSITOR, self.segment_store, call.abi_encode())
            .1
    }

    /// Proves the field elements covering segment `segment` of blob batch `record` with
    /// `SegmentStore.loadBlob`, `per_call` at a time (with `loadWholeBlob`, blob after blob, if
    /// `per_call` is 0), then opens it with `openBlob`: what the store kept, and the gas of
    /// every call (the opening last).
    fn open_blob(
        &mut self,
        record: u64,
        (envelope, blobs, hashes): &(Bytes, Vec<Bytes>, Vec<B256>),
        segment: usize,
        per_call: usize,
    ) -> (ISegmentStore::Segment, Vec<CallGas>) {
        let parsed = parse_blob_batch(envelope, blobs);
        let offset: usize = parsed.segments[..segment]
            .iter()
            .map(|(_, bytes)| bytes.len())
            .sum();
        let covering = blob_elements_covering(offset, parsed.segments[segment].1.len());
        let per_blob = BLOB_DATA_SIZE / 31;
        let blob = (envelope.clone(), blobs.clone(), hashes.clone());
        let mut gas = Vec::new();
        if per_call == 0 {
            for index in covering.start / per_blob..=(covering.end - 1) / per_blob {
                gas.push(self.load_whole_blob(record, &blob, index).unwrap());
            }
        } else {
            let commitments: Vec<u8> = blobs
                .iter()
                .flat_map(|blob| blob_commitment(blob).unwrap())
                .collect();
            let proven: Vec<([u8; 32], [u8; 48])> = covering
                .clone()
                .map(|element| {
                    blob_element_proof(&blobs[element / per_blob], element % per_blob).unwrap()
                })
                .collect();
            for (chunk, at) in proven.chunks(per_call).zip((0..).step_by(per_call)) {
                gas.push(self.load_elements(record, &blob, &commitments, segment, at, chunk));
            }
        }
        let call = ISegmentStore::openBlobCall {
            record: U256::from(record),
            envelope: envelope.clone(),
            segment: U256::from(segment),
            covered: stream_bytes(blobs, covering).into(),
        };
        let (out, spent) = self.call(DEPOSITOR, self.segment_store, call.abi_encode());
        gas.push(spent);
        (
            ISegmentStore::openBlobCall::abi_decode_returns(&out).unwrap(),
            gas,
        )
    }

    /// `SegmentStore.open(record, data, segment)`, by anyone.
    fn open(
        &mut self,
        record: u64,
        data: &[u8],
        segment: usize,
    ) -> (ISegmentStore::Segment, CallGas) {
        let call = ISegmentStore::openCall {
            record: U256::from(record),
            data: Bytes::copy_from_slice(data),
            segment: U256::from(segment),
        };
        let (out, gas) = self.call(DEPOSITOR, self.segment_store, call.abi_encode());
        (
            ISegmentStore::openCall::abi_decode_returns(&out).unwrap(),
            gas,
        )
    }
}

/// The stream bytes (1 to 31 of each field element) of `elements` of the blobs' stream: what
/// `openBlob` takes as `covered`.
fn stream_bytes(blobs: &[Bytes], elements: std::ops::Range<usize>) -> Vec<u8> {
    let per_blob = BLOB_DATA_SIZE / 31;
    elements
        .flat_map(|element| {
            let at = (element % per_blob) * 32;
            blobs[element / per_blob][at + 1..at + 32].to_vec()
        })
        .collect()
}

/// A blob batch as derivation reads it: its envelope and the data stream of its blobs.
fn parse_blob_batch(envelope: &[u8], blobs: &[Bytes]) -> BatchEnvelope {
    BatchEnvelope::parse_blob(envelope, &blob_data(blobs)).unwrap()
}

// ------------------------------------------------------------------------------------------
// L2: the node's execution, storage and trace.

/// The default genesis: funded keys, a funded account without key, two empty accounts, a
/// contract, and the keys with unusual accounts.
fn genesis_alloc() -> BTreeMap<Address, GenesisAccount> {
    let funded = |balance: u128, nonce: u64| GenesisAccount {
        balance: U256::from(balance),
        nonce,
        ..Default::default()
    };
    let mut delegation = vec![0xef, 0x01, 0x00];
    delegation.extend_from_slice(EXISTING.as_slice());
    BTreeMap::from([
        (key(ALICE).address, funded(1_000 * ETHER, 0)),
        (key(BOB).address, funded(1_000 * ETHER, 7)),
        (key(CAROL).address, funded(1_000 * ETHER, 1)),
        (key(POOR).address, funded(POOR_BALANCE, 0)),
        (key(MAXED).address, funded(ETHER, u64::MAX)),
        (
            key(CODED).address,
            GenesisAccount {
                code: Some(Bytes::from_static(&[0x00])),
                ..funded(ETHER, 1)
            },
        ),
        (
            key(DELEGATED).address,
            GenesisAccount {
                code: Some(delegation.into()),
                ..funded(ETHER, 0)
            },
        ),
        (EXISTING, funded(3 * ETHER, 4)),
        (EMPTY, GenesisAccount::default()),
        (EMPTY_BENEFICIARY, GenesisAccount::default()),
        (
            CONTRACT,
            GenesisAccount {
                code: Some(Bytes::from_static(CONTRACT_CODE)),
                ..funded(0, 1)
            },
        ),
        (
            LOGGER,
            GenesisAccount {
                code: Some(Bytes::from_static(LOGGER_CODE)),
                ..funded(0, 1)
            },
        ),
    ])
}

/// The node's store with `alloc` at genesis, whose origin is `GENESIS_ORIGIN`, reading `l1`'s
/// bridge and inbox.
fn l2(l1: &L1, alloc: BTreeMap<Address, GenesisAccount>) -> L2 {
    L2::new(RollupConfig {
        l1_chain_id: L1_CHAIN_ID,
        l2_chain_id: L2_CHAIN_ID,
        contracts: ContractAddresses {
            l1_bridge: l1.bridge,
            batch_inbox: l1.inbox,
            state_manager: STATE_MANAGER,
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash {
                number: GENESIS_ORIGIN,
                hash: origin_hash(GENESIS_ORIGIN),
            },
            timestamp: l1_timestamp(GENESIS_ORIGIN),
            gas_limit: L2_GAS_LIMIT,
            base_fee_per_gas: GWEI as u64,
            alloc,
        },
        sequencing_window: 1_000,
        max_sequencer_drift: 1_000_000,
        batcher_address: BATCHER,
    })
}

// ------------------------------------------------------------------------------------------
// Scenarios.

/// One L2 block to build.
#[derive(Debug, Clone)]
struct BlockPlan {
    /// Whether the block moves its origin to `ORIGIN` (from the genesis origin), starting the
    /// epoch that deposits `ORIGIN`'s messages.
    epoch: bool,
    beneficiary: Address,
    txs: Vec<TxSpec>,
}

fn block(beneficiary: Address, txs: Vec<TxSpec>) -> BlockPlan {
    BlockPlan {
        epoch: false,
        beneficiary,
        txs,
    }
}

fn epoch(beneficiary: Address, txs: Vec<TxSpec>) -> BlockPlan {
    BlockPlan {
        epoch: true,
        ..block(beneficiary, txs)
    }
}

/// One batch to post.
#[derive(Debug, Clone, Default)]
struct BatchPlan {
    blocks: Vec<BlockPlan>,
    /// The segments' transaction counts; `None`: as `Batch::encode` splits.
    segments: Option<Vec<usize>>,
    /// A segment replaced by bytes that do not decode (with `segments`).
    corrupt: Option<usize>,
    /// Post it in blobs (`postBlobBatch`), as `Batch::encode` splits it.
    blobs: bool,
}

fn batch(blocks: Vec<BlockPlan>) -> BatchPlan {
    BatchPlan {
        blocks,
        ..BatchPlan::default()
    }
}

/// One segment of a posted batch, as the node decodes it.
#[derive(Debug, Clone)]
struct SegmentInfo {
    first_tx: usize,
    count: usize,
    /// The transactions' leaves; `None` if the segment does not decode.
    leaves: Option<Vec<B256>>,
}

/// A posted batch.
#[derive(Debug, Clone)]
struct Posted {
    record: u64,
    /// For a blob batch: the envelope, the blobs and their versioned hashes.
    blob: Option<(Bytes, Vec<Bytes>, Vec<B256>)>,
    /// The L1 block that appended the record.
    l1_block: u64,
    /// The record's first L2 block.
    first_block: u64,
    data: Bytes,
    block_table: Bytes,
    segments: Vec<SegmentInfo>,
}

/// One L2 block as built, executed and posted.
#[derive(Debug, Clone)]
struct BlockInfo {
    /// Index in `Scenario::posted`.
    batch: usize,
    /// The batch index of its first transaction.
    first_tx: usize,
    /// Its batch transactions as derivation decodes them (skipped ones included).
    batch_txs: Vec<TxEnvelope>,
    deposits: u64,
}

struct Scenario {
    l1: L1,
    l2: L2,
    posted: Vec<Posted>,
    blocks: BTreeMap<u64, BlockInfo>,
    /// Gas of every `SegmentStore.open`, by (record, segment).
    open_gas: BTreeMap<(u64, usize), CallGas>,
}

/// The ETH deposits made in L1 block `ORIGIN`: 10 ether to DAVE and 1 wei to `EXISTING`.
fn deposits() -> [(Address, u128); 2] {
    [(key(DAVE).address, 10 * ETHER), (EXISTING, 1)]
}

impl Scenario {
    /// Builds, executes, posts and opens `batches` on the default genesis.
    fn new(batches: Vec<BatchPlan>) -> Self {
        Self::build(genesis_alloc(), batches, true)
    }

    /// Builds and executes `batches`' blocks, posts each batch (at successive L1 blocks after
    /// `ORIGIN`) and, if `open`, opens every segment.
    fn build(
        alloc: BTreeMap<Address, GenesisAccount>,
        batches: Vec<BatchPlan>,
        open: bool,
    ) -> Self {
        let mut l1 = l1();
        l1.at(ORIGIN);
        for (to, amount) in deposits() {
            l1.deposit(DEPOSITOR, Some(to), U256::from(amount), 21_000);
        }
        let l2 = l2(&l1, alloc);
        let mut s = Self {
            l1,
            l2,
            posted: Vec::new(),
            blocks: BTreeMap::new(),
            open_gas: BTreeMap::new(),
        };
        for (index, plan) in batches.into_iter().enumerate() {
            s.l1.at(ORIGIN + 1 + index as u64);
            s.post(plan, open);
        }
        s
    }

    /// Executes the blocks of `plan`, then posts their batch.
    fn post(&mut self, plan: BatchPlan, open: bool) {
        let origin_hash = keccak256(alloy_rlp::encode(origin_header()));
        let parent = self.l2.header(self.l2.head());
        let parent_origin = decode_l1_origin(&parent.extra_data).unwrap().number;
        let batch_parent = BatchParent {
            timestamp: parent.timestamp,
            l1_origin: parent_origin,
        };
        let first_block = parent.number + 1;
        // Which batch transactions sit in the corrupt segment.
        let corrupt = plan.corrupt.map(|j| {
            let sizes = plan
                .segments
                .as_ref()
                .expect("a corrupt segment needs a split");
            let start: usize = sizes[..j].iter().sum();
            start..start + sizes[j]
        });
        let deposits = derive_deposits(&self.l2.config, &self.l1.origin_block());
        assert!(deposits.skipped.is_empty(), "{:?}", deposits.skipped);

        let mut writer = self.l2.store.writer().unwrap();
        let mut batch_blocks = Vec::new();
        let mut first_tx = 0;
        for block in &plan.blocks {
            let head = writer.l2_head().unwrap();
            let parent = writer.header(head).unwrap().unwrap();
            let parent_hash = writer.block_hash(head).unwrap().unwrap();
            let parent_origin = decode_l1_origin(&parent.extra_data).unwrap();
            let origin = if block.epoch {
                assert_eq!(parent_origin.number, GENESIS_ORIGIN, "one epoch only");
                BlockNumHash {
                    number: ORIGIN,
                    hash: origin_hash,
                }
            } else {
                parent_origin
            };
            let timestamp = (parent.timestamp + 1).max(l1_timestamp(origin.number));
            let base_fee = parent
                .next_block_base_fee(BaseFeeParams::ethereum())
                .unwrap();
            let txs: Vec<TxEnvelope> = {
                let state = writer.state();
                let mut next = HashMap::new();
                block
                    .txs
                    .iter()
                    .map(|spec| {
                        let from = key(spec.from).address;
                        let next = next.entry(from).or_insert_with(|| {
                            state.basic_ref(from).unwrap().map_or(0, |info| info.nonce)
                        });
                        let nonce = match spec.nonce {
                            Nonce::Next => {
                                let nonce = *next;
                                *next = next.wrapping_add(1);
                                nonce
                            }
                            Nonce::Offset(offset) => next.wrapping_add_signed(offset),
                            Nonce::Fixed(nonce) => nonce,
                        };
                        spec.build(nonce, base_fee)
                    })
                    .collect()
            };
            let range = first_tx..first_tx + txs.len();
            let emptied = corrupt
                .as_ref()
                .is_some_and(|bad| range.start < bad.end && bad.start < range.end);
            let batch_txs = if emptied { Vec::new() } else { txs.clone() };
            let mut transactions: Vec<L2Transaction> = if block.epoch {
                deposits
                    .deposits
                    .iter()
                    .cloned()
                    .map(L2Transaction::Deposit)
                    .collect()
            } else {
                Vec::new()
            };
            let deposit_count = transactions.len() as u64;
            // Derivation skips a signature that does not recover.
            transactions.extend(batch_txs.iter().filter_map(|envelope| {
                match TraceInput::batch(envelope.clone()) {
                    TraceInput::Tx(tx) => Some(tx),
                    TraceInput::Unrecovered(_) => None,
                }
            }));
            let mut executed = execute_block(
                writer.state(),
                BlockInput {
                    timestamp,
                    parent,
                    parent_hash,
                    l1_origin: origin,
                    prevrandao: B256::with_last_byte(7),
                    beneficiary: block.beneficiary,
                    gas_limit: L2_GAS_LIMIT,
                    chain_id: L2_CHAIN_ID,
                    transactions,
                },
            )
            .unwrap();
            writer
                .append_block(&mut executed.block, &executed.receipts, &executed.bundle)
                .unwrap();
            self.blocks.insert(
                head + 1,
                BlockInfo {
                    batch: self.posted.len(),
                    first_tx,
                    batch_txs,
                    deposits: deposit_count,
                },
            );
            first_tx = range.end;
            batch_blocks.push(BatchBlock {
                timestamp,
                l1_origin: origin.number,
                transactions: txs,
            });
        }
        writer.commit().unwrap();

        let last_origin = batch_blocks.last().map_or(parent_origin, |b| b.l1_origin);
        let headers = if last_origin == ORIGIN && parent_origin == GENESIS_ORIGIN {
            vec![Bytes::from(alloy_rlp::encode(origin_header()))]
        } else {
            Vec::new()
        };
        let all_txs: Vec<TxEnvelope> = batch_blocks
            .iter()
            .flat_map(|b| b.transactions.iter().cloned())
            .collect();
        let batch = Batch {
            first_block,
            deposit_count: self.l1.deposit_count_at(last_origin),
            headers,
            blocks: batch_blocks,
            last_block_open: false,
        };
        let l1_block = self.l1.number;
        let (data, record, blob) = if plan.blobs {
            let (data, envelope_len) = batch
                .encode_unbounded(batch_parent)
                .expect("the batch encodes");
            let envelope = Bytes::copy_from_slice(&data[..envelope_len]);
            let blobs: Vec<Bytes> = to_blobs(&data[envelope_len..])
                .iter()
                .map(|blob| Bytes::copy_from_slice(blob.as_slice()))
                .collect();
            let hashes: Vec<B256> = blobs
                .iter()
                .map(|blob| kzg_to_versioned_hash(&blob_commitment(blob).unwrap()))
                .collect();
            let record = self.l1.post_blob_batch(&envelope, hashes.clone());
            (data, record, Some((envelope, blobs, hashes)))
        } else {
            let mut data = batch.encode(batch_parent).expect("the batch encodes");
            if let Some(sizes) = &plan.segments {
                data = resegment(&data, &all_txs, sizes, plan.corrupt);
            }
            let record = self.l1.post_batch(&data);
            (data, record, None)
        };

        // Derivation's view: the node must decode the blocks it executed.
        let envelope = match &blob {
            Some((envelope, blobs, _)) => parse_blob_batch(envelope, blobs),
            None => BatchEnvelope::parse(&data).unwrap(),
        };
        let (decoded, failed) = envelope.decode_blocks(batch_parent, L2_CHAIN_ID);
        assert_eq!(
            failed.iter().map(|(j, _)| *j).collect::<Vec<_>>(),
            plan.corrupt.into_iter().collect::<Vec<_>>()
        );
        for (offset, decoded) in decoded.iter().enumerate() {
            let info = &self.blocks[&(first_block + offset as u64)];
            assert_eq!(
                decoded.transactions,
                info.batch_txs,
                "block {}",
                first_block + offset as u64
            );
        }
        let mut segment_first = 0;
        let segments = envelope
            .segments
            .iter()
            .map(|(count, bytes)| {
                let leaves = decode_segment(bytes, *count, L2_CHAIN_ID)
                    .ok()
                    .map(|txs| txs.iter().map(tx_leaf).collect());
                let info = SegmentInfo {
                    first_tx: segment_first,
                    count: *count,
                    leaves,
                };
                segment_first += count;
                info
            })
            .collect::<Vec<_>>();
        let posted = Posted {
            record,
            blob,
            l1_block,
            first_block,
            data: data.into(),
            block_table: envelope.block_table().into(),
            segments,
        };
        self.posted.push(posted);
        if open {
            for j in 0..envelope.segments.len() {
                self.open(self.posted.len() - 1, j);
            }
        }
    }

    /// Opens segment `segment` of posted batch `batch` and checks what the store kept.
    fn open(&mut self, batch: usize, segment: usize) {
        let posted = &self.posted[batch];
        let (opened, gas) = match &posted.blob {
            Some(blob) => {
                // Both loaders: whole blobs for even segments, 64 elements a call for odd ones.
                let per_call = if segment.is_multiple_of(2) { 0 } else { 64 };
                let (opened, gas) = self.l1.open_blob(posted.record, blob, segment, per_call);
                (opened, *gas.last().unwrap())
            }
            None => self.l1.open(posted.record, &posted.data, segment),
        };
        let info = &posted.segments[segment];
        assert!(opened.opened);
        assert_eq!(opened.ok, info.leaves.is_some(), "segment {segment}");
        assert_eq!(usize::from(opened.firstTx), info.first_tx);
        assert_eq!(usize::from(opened.txCount), info.count);
        if let Some(leaves) = &info.leaves {
            assert_eq!(opened.txRoot, rollup_primitives::merkle_root(leaves));
        }
        self.open_gas.insert((posted.record, segment), gas);
    }

    fn inputs(&self, number: u64) -> Vec<TraceInput> {
        TraceInput::with_batch(
            &self.l2.body(number),
            self.blocks[&number].batch_txs.clone(),
        )
    }

    /// The trace of stored block `number`.
    fn trace(&self, number: u64) -> BlockTrace {
        self.l2.trace_with(number, &self.inputs(number))
    }

    /// The step at `position` of `number`, when it runs a batch transaction.
    fn step(&self, number: u64, position: u64) -> Option<TransactionStep> {
        let reader = self.l2.store.reader().unwrap();
        transaction_step(
            &reader.state_at(number - 1).unwrap(),
            reader.trie_at(number - 1).unwrap(),
            &self.l2.header(number),
            &self.l2.header(number - 1),
            L2_CHAIN_ID,
            &self.inputs(number),
            position,
        )
        .unwrap()
    }

    /// The positions of `number`'s batch transactions.
    fn batch_positions(&self, number: u64) -> std::ops::RangeInclusive<u64> {
        let info = &self.blocks[&number];
        info.deposits + 1..=info.deposits + info.batch_txs.len() as u64
    }

    /// What L1 fixes for the block's batch transaction `k`, read as the dispute agent reads
    /// it: the record's block table, the first segment with a transaction of the block, and
    /// the Merkle siblings of the transaction's leaf in its segment.
    fn leaf(&self, number: u64, k: usize) -> (Bytes, u64, Vec<B256>) {
        let info = &self.blocks[&number];
        let posted = &self.posted[info.batch];
        let holds =
            |at: usize| move |s: &&SegmentInfo| s.first_tx <= at && at < s.first_tx + s.count;
        let first = posted
            .segments
            .iter()
            .position(|s| holds(info.first_tx)(&s))
            .expect("a segment holds the block's first transaction");
        let target = info.first_tx + k;
        let segment = posted.segments.iter().find(holds(target)).unwrap();
        let leaves = segment.leaves.as_ref().expect("the segment decodes");
        let proof = merkle_proof(leaves, target - segment.first_tx).unwrap();
        (posted.block_table.clone(), first as u64, proof)
    }

    /// The step at `position` of `number` and its witness, built as the dispute agent builds
    /// them.
    fn witness(&self, number: u64, position: u64) -> (TransactionStep, Bytes) {
        let step = self
            .step(number, position)
            .expect("the position runs a batch transaction");
        let k = (position - 1 - self.blocks[&number].deposits) as usize;
        let (table, first, proof) = self.leaf(number, k);
        let witness = step.witness(table, first, proof);
        (step, witness)
    }

    /// What the verifier says at every batch position of `number` for the node's next state,
    /// with whether the node says L1 can decide it.
    fn verdicts(&mut self, number: u64) -> Vec<(u64, bool, Verdict)> {
        let trace = self.trace(number);
        self.batch_positions(number)
            .map(|position| {
                let (step, witness) = self.witness(number, position);
                let (verdict, _) = self.l1.verify_trace_step(&trace, number, position, witness);
                (position, step.provable(), verdict)
            })
            .collect()
    }

    /// The `STEP_INPUT` witness of the step at `position` of `number`.
    fn input_witness(&self, number: u64, position: u64, trace: &BlockTrace) -> Bytes {
        let info = &self.blocks[&number];
        let posted = &self.posted[info.batch];
        let body = input_witness(
            &self.l2.header(number),
            &self.l2.header(number - 1),
            trace.state(position).expect("a trace state"),
            posted.block_table.clone(),
            self.first_segment(number),
        );
        step_witness(STEP_INPUT, body)
    }

    /// The output root of stored block `number`, as derivation makes it safe from its record.
    fn output_root(&self, number: u64) -> B256 {
        let posted = &self.posted[self.blocks[&number].batch];
        let header = self.l2.header(number);
        OutputRoot {
            version: OUTPUT_ROOT_VERSION,
            l2_block_number: number,
            state_root: header.state_root,
            l2_block_hash: header.hash_slow(),
            inbox_record: posted.record,
            block_in_record: number - posted.first_block,
            l1_block: posted.l1_block,
        }
        .hash()
    }

    /// The first batch segment with a transaction of `number` (zero if it has none).
    fn first_segment(&self, number: u64) -> u64 {
        let info = &self.blocks[&number];
        self.posted[info.batch]
            .segments
            .iter()
            .position(|s| s.first_tx <= info.first_tx && info.first_tx < s.first_tx + s.count)
            .filter(|_| !info.batch_txs.is_empty())
            .unwrap_or(0) as u64
    }

    /// The seal of `number` in `trace`: its position (the step from the last trace state) and
    /// its `STEP_SEAL` witness, built as the dispute agent builds it.
    fn seal_witness(&self, number: u64, trace: &BlockTrace) -> (u64, TraceState, Bytes) {
        let position = trace.seal_position() - 1;
        let state = *trace.state(position).expect("the last trace state");
        let witness = seal_witness(
            &self.l2.header(number),
            &self.l2.header(number - 1),
            &state,
            self.posted[self.blocks[&number].batch].block_table.clone(),
            self.first_segment(number),
        );
        (position, state, witness)
    }

    /// The verifier's verdict on the seal of `number` from the node's last trace state to
    /// `to`, with `witness`.
    fn verify_seal(&mut self, number: u64, to: B256, witness: Bytes) -> (Verdict, CallGas) {
        let trace = self.trace(number);
        let position = trace.seal_position() - 1;
        self.l1
            .verify(number, position, trace.claim(position), to, witness)
    }

    /// Proves every batch transaction of `number`: the verifier accepts the node's next state
    /// and no other where the node says it can decide the step, and refuses to prove the rest.
    fn prove_all(&mut self, number: u64) -> Vec<Proven> {
        self.prove_positions(number, self.batch_positions(number), true)
    }

    fn prove_positions(
        &mut self,
        number: u64,
        positions: impl IntoIterator<Item = u64>,
        every_wrong_claim: bool,
    ) -> Vec<Proven> {
        let trace = self.trace(number);
        let mut proven = Vec::new();
        for position in positions {
            let (step, witness) = self.witness(number, position);
            assert_eq!(
                Some(&step.state),
                trace.state(position),
                "block {number} position {position}"
            );
            let from = trace.claim(position);
            let next = *trace.state(position + 1).unwrap();
            let (verdict, gas) =
                self.l1
                    .verify_trace_step(&trace, number, position, witness.clone());
            if !step.provable() {
                assert_eq!(
                    verdict,
                    Verdict::NotProvableYet(number, position),
                    "block {number} position {position}: {step:#?}"
                );
            } else {
                assert_eq!(
                    verdict,
                    Verdict::Returned(true),
                    "block {number} position {position}: {step:#?}"
                );
                let mut wrong = vec![
                    from,
                    TraceState {
                        included: next.included + 1,
                        ..next
                    }
                    .hash(),
                ];
                if every_wrong_claim {
                    wrong.push(trace.claim(position + 2));
                    wrong.extend(tampered_claims(next));
                    wrong.push(
                        TraceState {
                            receipt_root: B256::repeat_byte(3),
                            ..next
                        }
                        .hash(),
                    );
                }
                self.l1
                    .assert_refused(number, position, from, wrong, &witness);
            }
            let state = *trace.state(position).unwrap();
            proven.push(Proven {
                position,
                included: step.included,
                provable: step.provable(),
                skipped: next
                    == TraceState {
                        inputs: state.inputs + 1,
                        ..state
                    },
                gas,
                witness_bytes: witness.len(),
            });
        }
        proven
    }
}

/// What proving one step gave.
#[derive(Debug, Clone, Copy)]
struct Proven {
    position: u64,
    included: bool,
    provable: bool,
    /// The trace state only moved `inputs`.
    skipped: bool,
    gas: CallGas,
    witness_bytes: usize,
}

/// `data` (a batch as `Batch::encode` made it, of `txs`) with its transactions split into
/// segments of `sizes` transactions, segment `corrupt` replaced by bytes that do not decode.
fn resegment(data: &[u8], txs: &[TxEnvelope], sizes: &[usize], corrupt: Option<usize>) -> Vec<u8> {
    let envelope = BatchEnvelope::parse(data).unwrap();
    let table_end = 21
        + envelope.headers.iter().map(|h| 2 + h.len()).sum::<usize>()
        + envelope.blocks.len() * 7;
    let mut out = data[..table_end].to_vec();
    out[12] = u8::try_from(sizes.len()).unwrap();
    let mut rest = txs;
    let mut segments = Vec::new();
    for (j, &count) in sizes.iter().enumerate() {
        let (these, tail) = rest.split_at(count);
        rest = tail;
        let bytes = if corrupt == Some(j) {
            // A FastLZ literal run longer than the segment.
            vec![0x1f, 0x01]
        } else {
            encode_segment(these).unwrap()
        };
        segments.push((count, bytes));
    }
    assert!(rest.is_empty(), "the sizes cover every transaction");
    for (count, bytes) in &segments {
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&u16::try_from(*count).unwrap().to_be_bytes());
    }
    for (_, bytes) in segments {
        out.extend_from_slice(&bytes);
    }
    out
}

fn decode_witness(witness: &Bytes) -> TransactionWitness {
    decode_step_witness(STEP_TRANSACTION, witness)
}

fn encode_witness(w: &TransactionWitness) -> Bytes {
    step_witness(STEP_TRANSACTION, w.abi_encode())
}

// ------------------------------------------------------------------------------------------
// Tests.

/// Plain transfers of every kind the verifier decides: EIP-1559, legacy and EIP-2930, to
/// existing, fresh and empty accounts, to self, to and from the beneficiary, with a fee cap
/// that binds or not, with zero value, and from an account a deposit of the same block funded;
/// and accounts left empty are removed (EIP-161).
#[test]
fn every_plain_transfer_is_proven_as_the_node_runs_it() {
    let fresh = Address::repeat_byte(0x51);
    let zero_fresh = Address::repeat_byte(0x52);
    let alice = key(ALICE).address;
    let bob = key(BOB).address;
    let carol = key(CAROL).address;
    let blocks = vec![
        block(
            FEES,
            vec![
                TxSpec {
                    priority: 2 * GWEI,
                    ..transfer(ALICE, EXISTING, ETHER)
                },
                legacy(BOB, fresh, 3 * ETHER),
                transfer(ALICE, alice, 5),
                transfer(CAROL, FEES, 7),
                transfer(BOB, zero_fresh, 0),
                // A touched empty account is removed (EIP-161).
                legacy(ALICE, EMPTY, 0),
                TxSpec {
                    ty: TxType::AccessList,
                    gas_limit: 60_000,
                    ..transfer(CAROL, EXISTING, 1)
                },
                // The fee cap binds: the effective price is the fee cap (base fee + 1 gwei),
                // below base fee + tip.
                TxSpec {
                    fee: Fee::AboveBase(GWEI),
                    priority: 3 * GWEI / 2,
                    ..transfer(ALICE, bob, 11)
                },
                // No tip: the beneficiary gets nothing.
                TxSpec {
                    fee: Fee::AboveBase(0),
                    priority: 0,
                    ..transfer(BOB, carol, 13)
                },
                // Spends its whole balance: gasLimit * fee + value.
                TxSpec {
                    ty: TxType::Legacy,
                    fee: Fee::Fixed(2 * GWEI),
                    ..transfer(POOR, alice, 5)
                },
            ],
        ),
        epoch(
            alice,
            vec![
                transfer(ALICE, bob, ETHER),
                legacy(DAVE, alice, ETHER),
                transfer(ALICE, alice, 17),
                transfer(DAVE, Address::repeat_byte(0x53), 8 * ETHER),
            ],
        ),
        // The beneficiary is an existing empty account: touched without a tip it is removed,
        // then a tip creates it again.
        block(
            EMPTY_BENEFICIARY,
            vec![
                TxSpec {
                    fee: Fee::AboveBase(0),
                    priority: 0,
                    ..transfer(BOB, carol, 1)
                },
                transfer(CAROL, bob, 2),
            ],
        ),
        block(
            carol,
            vec![
                transfer(CAROL, carol, 3),
                legacy(BOB, EXISTING, 4),
                transfer(ALICE, carol, 0),
            ],
        ),
    ];
    let mut s = Scenario::new(vec![batch(blocks)]);
    let mut typical = None;
    for number in 1..=4 {
        let count = s.blocks[&number].batch_txs.len();
        let receipts =
            s.l2.store
                .reader()
                .unwrap()
                .receipts(number)
                .unwrap()
                .unwrap();
        let included: Vec<B256> = s.l2.body(number).iter().map(L2Transaction::hash).collect();
        let missing: Vec<usize> = s.blocks[&number]
            .batch_txs
            .iter()
            .enumerate()
            .filter(|(_, tx)| !included.contains(tx.tx_hash()))
            .map(|(k, _)| k)
            .collect();
        assert!(
            missing.is_empty(),
            "block {number}: batch transactions {missing:?} are left out"
        );
        assert_eq!(
            receipts.len() as u64,
            s.blocks[&number].deposits + count as u64
        );
        assert!(receipts.iter().all(|r| r.success));
        let proven = s.prove_all(number);
        assert!(
            proven
                .iter()
                .all(|p| p.included && p.provable && !p.skipped)
        );
        if number == 1 {
            typical = Some(proven[0]);
        }
    }
    // EIP-161: the empty accounts touched are gone, the one tipped after is back.
    let reader = s.l2.store.reader().unwrap();
    let state = reader.state_at(4).unwrap();
    assert!(state.basic_ref(EMPTY).unwrap().is_none());
    assert!(state.basic_ref(zero_fresh).unwrap().is_none());
    assert!(
        reader
            .state_at(3)
            .unwrap()
            .basic_ref(EMPTY_BENEFICIARY)
            .unwrap()
            .is_some()
    );
    let typical = typical.unwrap();
    eprintln!(
        "typical transaction step (EIP-1559 transfer to an existing account, {} witness bytes): verifier {} gas, step transaction {} gas",
        typical.witness_bytes, typical.gas.execution, typical.gas.transaction
    );
    for ((record, segment), gas) in &s.open_gas {
        eprintln!(
            "SegmentStore.open record {record} segment {segment} ({} transactions): {} gas execution, {} gas transaction",
            s.posted[0].segments[*segment].count, gas.execution, gas.transaction
        );
    }
    assert!(typical.gas.execution < GAS_BOUND);
}

/// Transactions the node skips, put in the batch on purpose: each step moves only `inputs`,
/// and the verifier proves exactly that.
#[test]
fn skipped_transactions_move_only_the_inputs() {
    let bob = key(BOB).address;
    let alice = key(ALICE).address;
    let txs = vec![
        // 1: included, so the block has used 21,000 gas.
        transfer(ALICE, bob, 1),
        // 2, 3: nonce too high, too low.
        TxSpec {
            nonce: Nonce::Offset(1),
            ..transfer(ALICE, bob, 1)
        },
        TxSpec {
            nonce: Nonce::Offset(-1),
            ..transfer(ALICE, bob, 1)
        },
        // 4: balance one wei short of gasLimit * fee + value.
        TxSpec {
            ty: TxType::Legacy,
            fee: Fee::Fixed(2 * GWEI),
            nonce: Nonce::Offset(0),
            ..transfer(POOR, alice, 6)
        },
        // 5, 6: fee cap, gas price below the base fee.
        TxSpec {
            fee: Fee::BelowBase,
            priority: 0,
            nonce: Nonce::Offset(0),
            ..transfer(CAROL, bob, 1)
        },
        TxSpec {
            fee: Fee::BelowBase,
            nonce: Nonce::Offset(0),
            ..legacy(CAROL, bob, 1)
        },
        // 7: tip cap above the fee cap.
        TxSpec {
            fee: Fee::AboveBase(0),
            priority: 2 * GWEI,
            nonce: Nonce::Offset(0),
            ..transfer(CAROL, bob, 1)
        },
        // 8: gas limit below the intrinsic 21,000.
        TxSpec {
            gas_limit: 20_999,
            nonce: Nonce::Offset(0),
            ..transfer(CAROL, bob, 1)
        },
        // 9: the whole block's gas, of which 21,000 are used: does not fit.
        TxSpec {
            gas_limit: L2_GAS_LIMIT,
            nonce: Nonce::Offset(0),
            ..transfer(BOB, alice, 1)
        },
        // 10, 11: signatures that do not recover.
        TxSpec {
            signature: Sig::HighS,
            nonce: Nonce::Offset(0),
            ..transfer(BOB, alice, 1)
        },
        TxSpec {
            signature: Sig::NoPoint,
            nonce: Nonce::Offset(0),
            ..legacy(BOB, alice, 1)
        },
        // 12: a signer without an account.
        transfer(UNFUNDED, alice, 0),
        // 13: a sender whose nonce cannot grow.
        TxSpec {
            nonce: Nonce::Fixed(u64::MAX),
            ..transfer(MAXED, alice, 1)
        },
        // 14: value beyond any balance; 15: gas cost beyond 128 bits.
        TxSpec {
            value: U256::from(10u8).pow(U256::from(77)),
            nonce: Nonce::Offset(0),
            ..transfer(ALICE, bob, 0)
        },
        TxSpec {
            fee: Fee::Fixed(10u128.pow(38)),
            priority: 0,
            nonce: Nonce::Offset(0),
            ..transfer(ALICE, bob, 0)
        },
        // 16: exactly the block's remaining gas: included (the nonce 9 left unused).
        TxSpec {
            gas_limit: L2_GAS_LIMIT - 21_000,
            ..transfer(BOB, alice, 1)
        },
        // 17: included after it.
        transfer(CAROL, bob, 1),
    ];
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    let proven = s.prove_all(1);
    let included: Vec<u64> = proven
        .iter()
        .filter(|p| p.included)
        .map(|p| p.position)
        .collect();
    assert_eq!(included, [1, 16, 17]);
    for p in &proven {
        assert!(p.provable, "position {}", p.position);
        assert_eq!(p.skipped, !p.included, "position {}", p.position);
    }
    let body = s.l2.body(1);
    assert_eq!(body.len(), 3, "the node includes the same three");
}

/// Transactions that run code (a contract, a precompile, a creation) or come from an account
/// with code: the verifier refuses to prove them, as `provable()` says. Calls to accounts
/// without code are proven whatever they carry (calldata, an access list; their gas is the
/// intrinsic gas or the calldata floor), and so is a transfer to the first address past the
/// precompiles.
#[test]
fn transactions_that_run_code_are_not_provable() {
    let bob = key(BOB).address;
    let call = |to: Address, gas_limit: u64| TxSpec {
        gas_limit,
        ..transfer(ALICE, to, 1)
    };
    let txs = vec![
        TxSpec {
            input: Bytes::from_static(&[1, 2, 3]),
            ..call(bob, 30_000)
        },
        // Code that uses no gas (STOP): the sender pays 21,000 as in a transfer.
        call(key(CODED).address, 21_000),
        call(Address::with_last_byte(0x01), 30_000),
        call(Address::with_last_byte(0x11), 30_000),
        call(Address::with_last_byte(0x12), 21_000),
        // The zero address is no precompile.
        call(Address::ZERO, 21_000),
        TxSpec {
            to: None,
            input: Bytes::from_static(&[0x00]),
            ..call(bob, 60_000)
        },
        TxSpec {
            ty: TxType::AccessList,
            access_list: AccessList(vec![AccessListItem {
                address: EXISTING,
                storage_keys: vec![B256::ZERO],
            }]),
            ..call(bob, 30_000)
        },
        TxSpec {
            access_list: AccessList(vec![AccessListItem {
                address: EXISTING,
                storage_keys: Vec::new(),
            }]),
            ..call(bob, 30_000)
        },
        // An EIP-7702 delegated account may send, and may be called: both are code.
        transfer(DELEGATED, bob, 1),
        call(key(DELEGATED).address, 50_000),
        // After all that, a plain transfer is still proven.
        call(bob, 21_000),
    ];
    let count = txs.len() as u64;
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    let proven = s.prove_all(1);
    let provable: Vec<u64> = proven
        .iter()
        .filter(|p| p.provable)
        .map(|p| p.position)
        .collect();
    assert_eq!(provable, [1, 5, 6, 8, 9, count]);
    assert!(proven.iter().all(|p| p.included), "{proven:#?}");
}

/// Calls to accounts without code that carry calldata or an access list: included with the
/// intrinsic gas or the EIP-7623 floor, whichever is larger, as revm charges them; skipped when
/// their gas limit is below it; unprovable beyond the step's calldata and access-list bounds.
#[test]
fn calls_with_calldata_and_access_lists_are_proven() {
    let bob = key(BOB).address;
    let with = |input: Vec<u8>, gas_limit: u64| TxSpec {
        input: Bytes::from(input),
        gas_limit,
        ..transfer(ALICE, bob, 1)
    };
    let list = |addresses: usize, keys: usize| {
        AccessList(
            (0..addresses)
                .map(|i| AccessListItem {
                    address: Address::with_last_byte(0x40 + i as u8),
                    storage_keys: (0..keys).map(|k| B256::with_last_byte(k as u8)).collect(),
                })
                .collect(),
        )
    };
    let txs = vec![
        // Floor above the intrinsic gas: 21,000 + 10 × 4 × 100 = 25,000.
        with(vec![0xff; 100], 25_000),
        // One gas short of that floor: skipped (its nonce is not counted).
        TxSpec {
            nonce: Nonce::Offset(0),
            ..with(vec![0xff; 100], 24_999)
        },
        // Zero bytes: intrinsic 21,000 + 4 × 64, floor 21,640.
        with(vec![0; 64], 21_640),
        // An access list: intrinsic above the floor.
        TxSpec {
            ty: TxType::AccessList,
            access_list: list(2, 3),
            input: Bytes::from(vec![1, 0, 2]),
            ..with(Vec::new(), 40_000)
        },
        // Exactly its intrinsic gas: 21,000 + 16 × 10 + 2,400.
        TxSpec {
            access_list: list(1, 0),
            ..with(vec![7; 10], 23_560)
        },
        // At the calldata bound and one byte past it.
        with(vec![0x11; MAX_STEP_CALLDATA], 300_000),
        with(vec![0x11; MAX_STEP_CALLDATA + 1], 300_000),
        // A legacy one with calldata.
        TxSpec {
            input: Bytes::from(vec![9; 33]),
            gas_limit: 30_000,
            ..legacy(CAROL, bob, 2)
        },
    ];
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    let proven = s.prove_all(1);
    let summary: Vec<(u64, bool, bool)> = proven
        .iter()
        .map(|p| (p.position, p.included, p.provable))
        .collect();
    assert_eq!(
        summary,
        [
            (1, true, true),
            (2, false, true),
            (3, true, true),
            (4, true, true),
            (5, true, true),
            (6, true, true),
            (7, true, false),
            (8, true, true),
        ]
    );
    let receipts = s.l2.store.reader().unwrap().receipts(1).unwrap().unwrap();
    let used: Vec<u64> = receipts
        .iter()
        .scan(0, |before, r| {
            let used = r.cumulative_gas_used - *before;
            *before = r.cumulative_gas_used;
            Some(used)
        })
        .collect();
    assert_eq!(
        used[..4],
        [
            25_000,
            21_640,
            21_000 + 16 * 2 + 4 + 2 * 2400 + 6 * 1900,
            23_560
        ],
        "revm charges what the verifier computes"
    );
    let gas = proven.iter().map(|p| p.gas.transaction).max().unwrap();
    eprintln!("the dearest step with calldata: {gas} gas");
    assert!(gas < GAS_BOUND, "{gas}");
}

/// A call to a contract whose code uses gas: the node's witness proves the recipient against
/// the trie with the sender's real update (it paid for the code's gas too), while the verifier
/// recomputes the sender's update as a 21,000-gas transfer and verifies the recipient's proof
/// against that root before it reads the recipient's code. The proof fails
/// (`SparseMerkleTrie_InvalidProof`) instead of `NotProvableYet`: a proposer cannot step there
/// and the game does not resolve by its allowlisting.
#[test]
fn a_call_to_a_contract_is_not_provable_yet() {
    let txs = vec![TxSpec {
        gas_limit: 50_000,
        ..transfer(ALICE, CONTRACT, 1)
    }];
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    let receipts = s.l2.store.reader().unwrap().receipts(1).unwrap().unwrap();
    assert!(receipts[0].cumulative_gas_used > 21_000);
    let verdicts = s.verdicts(1);
    assert_eq!(verdicts, [(1, false, Verdict::NotProvableYet(1, 1))]);
}

/// Transactions the node skips for want of their intrinsic gas are proven skipped, whatever
/// code they would run (revm refuses them before it looks at code): a creation, a call to a
/// precompile or to a contract, a sender with code. A sender with code and gas enough
/// (EIP-3607, which the verifier does not model) stays unprovable. `TransactionStep::provable`
/// says the same as L1 for every one: had it not, the dispute agent would step where L1 cannot
/// decide, or leave a step L1 decides to the allowlist.
#[test]
fn transactions_below_their_intrinsic_gas_are_proven_skipped() {
    let bob = key(BOB).address;
    let data = || Bytes::from(vec![1u8; 10]);
    let txs = vec![
        // A creation with gas for a call, not for its 53,000 + init code.
        TxSpec {
            to: None,
            input: data(),
            gas_limit: 50_000,
            ..transfer(ALICE, bob, 1)
        },
        // Calls whose calldata costs 160 gas more than the limit leaves: to a precompile, to
        // a contract, from an account with code.
        TxSpec {
            input: data(),
            nonce: Nonce::Fixed(0),
            ..transfer(ALICE, Address::with_last_byte(0x04), 1)
        },
        TxSpec {
            input: data(),
            nonce: Nonce::Fixed(0),
            ..transfer(ALICE, key(CODED).address, 1)
        },
        TxSpec {
            input: data(),
            nonce: Nonce::Offset(0),
            ..transfer(CODED, bob, 1)
        },
        // EIP-3607 with gas enough: skipped by the node, not provable on L1.
        transfer(CODED, bob, 1),
    ];
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    assert!(s.l2.body(1).is_empty(), "the node skips every one");
    assert_eq!(
        s.verdicts(1),
        [
            (1, true, Verdict::Returned(true)),
            (2, true, Verdict::Returned(true)),
            (3, true, Verdict::Returned(true)),
            (4, true, Verdict::Returned(true)),
            (5, false, Verdict::NotProvableYet(1, 5)),
        ]
    );
}

/// Every skipped transaction's step: `TransactionStep::provable` says what L1 does, proven
/// skipped (`Returned(true)`) or `NotProvableYet`.
#[test]
fn provable_agrees_with_the_verifier_on_skipped_transactions() {
    let bob = key(BOB).address;
    let txs = vec![
        // Intrinsic gas 21,000 + 100 * 16 > 21,000: revm refuses it.
        TxSpec {
            input: Bytes::from(vec![1u8; 100]),
            ..transfer(ALICE, bob, 1)
        },
        // A sender with code: EIP-3607.
        transfer(CODED, bob, 1),
        // A creation below its 53,000 intrinsic gas (ALICE's nonce is still 0).
        TxSpec {
            to: None,
            nonce: Nonce::Fixed(0),
            ..transfer(ALICE, bob, 1)
        },
        // An access list whose 2,400 gas the limit leaves out.
        TxSpec {
            ty: TxType::AccessList,
            access_list: AccessList(vec![AccessListItem {
                address: EXISTING,
                storage_keys: Vec::new(),
            }]),
            nonce: Nonce::Fixed(0),
            ..transfer(ALICE, bob, 1)
        },
    ];
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    assert!(s.l2.body(1).is_empty(), "the node skips every one");
    let disagreements: Vec<_> = s
        .verdicts(1)
        .into_iter()
        .filter(|(position, provable, verdict)| {
            *verdict
                != if *provable {
                    Verdict::Returned(true)
                } else {
                    Verdict::NotProvableYet(1, *position)
                }
        })
        .collect();
    assert!(
        disagreements.is_empty(),
        "provable() disagrees with L1 at (position, provable, verdict): {disagreements:?}"
    );
}

/// `STEP_INPUT` decides only the seal: at a deposit it reverts `DepositStep`, at a batch
/// transaction `BatchTransactionStep`, at the seal `NotProvableYet` (also of a block without
/// batch transactions). And `STEP_TRANSACTION` at a deposit reverts `DepositStep`, at the seal
/// `NotProvableYet`.
#[test]
fn an_input_witness_decides_nothing_l1_can_prove() {
    let bob = key(BOB).address;
    let blocks = vec![
        epoch(
            FEES,
            vec![
                transfer(ALICE, bob, 1),
                transfer(DAVE, bob, 2),
                legacy(CAROL, bob, 3),
            ],
        ),
        block(FEES, Vec::new()),
        block(FEES, vec![transfer(ALICE, bob, 4)]),
    ];
    let mut s = Scenario::new(vec![batch(blocks)]);
    for number in 1..=3 {
        let trace = s.trace(number);
        let info = s.blocks[&number].clone();
        let seal = info.deposits + info.batch_txs.len() as u64 + 1;
        assert_eq!(trace.seal_position(), seal + 1);
        for position in 1..=seal {
            let witness = s.input_witness(number, position, &trace);
            let (verdict, _) = s.l1.verify_trace_step(&trace, number, position, witness);
            let (block, position_) = (U256::from(number), U256::from(position));
            let expected = if position <= info.deposits {
                reverted(IOneStepVerifier::OneStepVerifier_DepositStep {
                    l2Block: block,
                    position: position_,
                })
            } else if position < seal {
                reverted(IOneStepVerifier::OneStepVerifier_BatchTransactionStep {
                    l2Block: block,
                    position: position_,
                })
            } else {
                // Every block here is small enough for `STEP_SEAL`.
                reverted(IOneStepVerifier::OneStepVerifier_SealStep {
                    l2Block: block,
                    position: position_,
                })
            };
            assert_eq!(verdict, expected, "block {number} position {position}");
        }
    }
    // A transaction witness opening the state at a deposit's position or at the seal.
    let trace = s.trace(1);
    let (_, witness) = s.witness(1, 3);
    let honest = decode_witness(&witness);
    for (position, expected) in [
        (
            1,
            reverted(IOneStepVerifier::OneStepVerifier_DepositStep {
                l2Block: U256::from(1),
                position: U256::from(1),
            }),
        ),
        (
            6,
            reverted(IOneStepVerifier::OneStepVerifier_SealStep {
                l2Block: U256::from(1),
                position: U256::from(6),
            }),
        ),
    ] {
        let mut w = honest.clone();
        w.state = trace.state(position).unwrap().to_sol();
        let (verdict, _) =
            s.l1.verify_trace_step(&trace, 1, position, encode_witness(&w));
        assert_eq!(verdict, expected, "position {position}");
    }
}

/// A step needs every segment with a transaction of its block opened in the `SegmentStore`.
#[test]
fn a_step_needs_the_blocks_segments_opened() {
    let bob = key(BOB).address;
    let plan = BatchPlan {
        blocks: vec![
            block(
                FEES,
                vec![
                    transfer(ALICE, bob, 1),
                    transfer(ALICE, bob, 2),
                    transfer(CAROL, bob, 3),
                ],
            ),
            block(FEES, vec![transfer(ALICE, bob, 4)]),
        ],
        segments: Some(vec![2, 2]),
        corrupt: None,
        blobs: false,
    };
    let mut s = Scenario::build(genesis_alloc(), vec![plan], false);
    let not_opened = |segment: u64| {
        reverted(IOneStepVerifier::OneStepVerifier_SegmentNotOpened {
            record: U256::ZERO,
            segment: U256::from(segment),
        })
    };
    let verdict = |s: &mut Scenario, number: u64, position: u64| {
        let trace = s.trace(number);
        let (_, witness) = s.witness(number, position);
        s.l1.verify_trace_step(&trace, number, position, witness).0
    };
    assert_eq!(verdict(&mut s, 1, 1), not_opened(0));
    assert_eq!(verdict(&mut s, 2, 1), not_opened(1));
    s.open(0, 0);
    // Block 1 spans both segments: its first transaction's step needs the second too.
    assert_eq!(verdict(&mut s, 1, 1), not_opened(1));
    assert_eq!(verdict(&mut s, 1, 3), not_opened(1));
    s.open(0, 1);
    for (number, position) in [(1, 1), (1, 2), (1, 3), (2, 1)] {
        assert_eq!(verdict(&mut s, number, position), Verdict::Returned(true));
    }
}

/// A witness that misstates the leaf proof, the block table, the first segment, the
/// transaction, the trace state or the accounts is refused.
#[test]
fn a_tampered_witness_is_refused() {
    let bob = key(BOB).address;
    let alice = key(ALICE).address;
    let plan = BatchPlan {
        blocks: vec![
            block(
                FEES,
                vec![
                    transfer(ALICE, bob, 1),
                    transfer(CAROL, alice, 2),
                    transfer(ALICE, EXISTING, 3),
                    legacy(BOB, alice, 4),
                    transfer(CAROL, bob, 5),
                ],
            ),
            block(FEES, vec![transfer(ALICE, bob, 6), transfer(BOB, alice, 7)]),
        ],
        segments: Some(vec![4, 3]),
        corrupt: None,
        blobs: false,
    };
    let mut s = Scenario::new(vec![plan]);
    let (number, position) = (1, 2);
    let trace = s.trace(number);
    let (from, to) = (trace.claim(position), trace.claim(position + 1));
    let (_, witness) = s.witness(number, position);
    let honest = decode_witness(&witness);
    assert_eq!(honest.txProof.len(), 2);
    assert_eq!(
        s.l1.verify(number, position, from, to, witness.clone()).0,
        Verdict::Returned(true)
    );

    let mut lies: Vec<(&str, TransactionWitness)> = Vec::new();
    let mut w = honest.clone();
    w.txProof[0] = B256::repeat_byte(9);
    lies.push(("leaf proof sibling", w));
    let mut w = honest.clone();
    w.txProof.pop();
    lies.push(("leaf proof too short", w));
    let mut w = honest.clone();
    w.txProof.push(B256::ZERO);
    lies.push(("leaf proof too long", w));
    let mut w = honest.clone();
    w.txProof.swap(0, 1);
    lies.push(("leaf proof order", w));
    let mut w = honest.clone();
    let mut table = w.blockTable.to_vec();
    table[6] ^= 1;
    w.blockTable = table.into();
    lies.push(("block table count", w));
    let mut w = honest.clone();
    w.blockTable = w.blockTable[..7].to_vec().into();
    lies.push(("block table truncated", w));
    let mut w = honest.clone();
    w.firstSegment = U256::from(1);
    lies.push(("first segment", w));
    let mut w = honest.clone();
    w.transaction.value += U256::from(1);
    lies.push(("transaction value", w));
    let mut w = honest.clone();
    w.transaction.txHash = B256::repeat_byte(4);
    lies.push(("transaction hash", w));
    let mut w = honest.clone();
    w.state.cumulativeGas += U256::from(1);
    lies.push(("trace state", w));
    let mut w = honest.clone();
    w.context.beneficiary = alice;
    lies.push(("context", w));
    let mut w = honest.clone();
    w.parentHeader = Bytes::from_static(&[0xc0]);
    lies.push(("parent header", w));
    // The next transaction with its own valid proof: its leaf is at another index.
    let (_, other) = s.witness(number, position + 1);
    let other = decode_witness(&other);
    let mut w = honest.clone();
    w.transaction = other.transaction;
    w.txProof = other.txProof;
    lies.push(("another position's transaction", w));
    for (what, w) in lies {
        let (verdict, _) = s.l1.verify(number, position, from, to, encode_witness(&w));
        assert_eq!(verdict, Verdict::BadWitness, "{what}");
    }
    // Block 2 starts in segment 1: segment 0 does not hold it.
    let trace2 = s.trace(2);
    let (_, witness2) = s.witness(2, 1);
    let mut w = decode_witness(&witness2);
    w.firstSegment = U256::ZERO;
    let (verdict, _) = s.l1.verify_trace_step(&trace2, 2, 1, encode_witness(&w));
    assert_eq!(verdict, Verdict::BadWitness, "first segment of block 2");
    // Another block's block table (a record it is not in): refused.
    let mut w = honest.clone();
    w.blockTable = Bytes::from(vec![0u8; 14]);
    let (verdict, _) = s.l1.verify(number, position, from, to, encode_witness(&w));
    assert_eq!(verdict, Verdict::BadWitness, "foreign block table");
    // Accounts that are not the trie's fail their proofs (whatever the error).
    let mut w = honest.clone();
    w.sender.balance += U256::from(1);
    let mut v = honest.clone();
    v.recipient.nonce += 1;
    let mut u = honest;
    u.senderProof = u.recipientProof.clone();
    for (what, w) in [("sender", w), ("recipient", v), ("sender proof", u)] {
        let (verdict, _) = s.l1.verify(number, position, from, to, encode_witness(&w));
        assert!(
            matches!(verdict, Verdict::Reverted(_) | Verdict::BadWitness),
            "{what}: {verdict:?}"
        );
    }
    // The honest witness at another position opens the wrong state.
    let (verdict, _) =
        s.l1.verify_trace_step(&trace, number, position + 1, witness);
    assert_eq!(verdict, Verdict::BadWitness);
}

/// Blocks that start inside a segment and span several, an empty block between them, two
/// inbox records, and an epoch's deposits before the batch transactions of a later record.
#[test]
fn blocks_spanning_segments_and_records_are_proven() {
    let bob = key(BOB).address;
    let alice = key(ALICE).address;
    let carol = key(CAROL).address;
    let first = BatchPlan {
        blocks: vec![
            block(
                FEES,
                vec![
                    transfer(ALICE, bob, 1),
                    legacy(BOB, carol, 2),
                    transfer(CAROL, alice, 3),
                ],
            ),
            block(FEES, Vec::new()),
            block(
                alice,
                vec![
                    transfer(ALICE, EXISTING, 4),
                    TxSpec {
                        nonce: Nonce::Offset(5),
                        ..transfer(BOB, alice, 5)
                    },
                    transfer(BOB, alice, 6),
                    transfer(CAROL, FEES, 7),
                ],
            ),
        ],
        segments: Some(vec![2, 3, 2]),
        corrupt: None,
        blobs: false,
    };
    let second = batch(vec![
        block(FEES, vec![transfer(ALICE, bob, 8), transfer(BOB, carol, 9)]),
        epoch(
            bob,
            vec![
                transfer(DAVE, bob, 10),
                transfer(BOB, key(DAVE).address, 11),
                legacy(CAROL, bob, 12),
            ],
        ),
    ]);
    let mut s = Scenario::new(vec![first, second]);
    assert_eq!(s.posted[1].record, 1);
    assert_eq!(s.blocks[&5].deposits, deposits().len() as u64);
    for number in 1..=5 {
        let proven = s.prove_all(number);
        assert_eq!(proven.len(), s.blocks[&number].batch_txs.len());
    }
}

/// A segment that does not decode empties every block with a transaction in it (derivation
/// decodes the same); the blocks after it are proven as usual. L1 refuses to prove the emptied
/// block's positions: their transaction witness reverts `NotProvableYet`.
#[test]
fn an_undecodable_segment_empties_its_blocks() {
    let bob = key(BOB).address;
    let plan = BatchPlan {
        blocks: vec![
            block(
                FEES,
                vec![
                    transfer(ALICE, bob, 1),
                    transfer(ALICE, bob, 2),
                    transfer(CAROL, bob, 3),
                ],
            ),
            block(FEES, vec![transfer(ALICE, bob, 4)]),
            block(FEES, vec![transfer(CAROL, bob, 5)]),
        ],
        segments: Some(vec![2, 2, 1]),
        corrupt: Some(1),
        blobs: false,
    };
    let mut s = Scenario::new(vec![plan]);
    assert!(s.blocks[&1].batch_txs.is_empty() && s.blocks[&2].batch_txs.is_empty());
    assert!(s.l2.body(1).is_empty() && s.l2.body(2).is_empty());
    // The nonces of the emptied blocks were never used: block 3's transaction is CAROL's
    // first, with the nonce her emptied transaction had, and it is proven.
    let proven = s.prove_all(3);
    assert!(proven[0].included);
    // Block 1's first position is its seal in the node's trace, and L1 tells so from the
    // undecodable segment: a transaction witness there is refused for `STEP_SEAL`'s.
    let trace = s.trace(1);
    assert_eq!(trace.seal_position(), 2);
    let (_, witness) = s.witness(3, 1);
    let mut w = decode_witness(&witness);
    let (step_state, context, parent) = {
        let header = s.l2.header(1);
        (
            trace.state(1).unwrap().to_sol(),
            rollup_execution::block_context(&header),
            Bytes::from(alloy_rlp::encode(s.l2.header(0))),
        )
    };
    w.state = step_state;
    w.context = context;
    w.parentHeader = parent;
    w.firstSegment = U256::ZERO;
    let (verdict, _) = s.l1.verify_trace_step(&trace, 1, 1, encode_witness(&w));
    assert_eq!(
        verdict,
        reverted(IOneStepVerifier::OneStepVerifier_SealStep {
            l2Block: U256::from(1),
            position: U256::from(1),
        })
    );
}

/// The seal of a block that a segment which does not decode emptied: the node traces it as
/// the block's only input step (`transaction_step` gives `None` there), L1 tells it from a
/// batch transaction by the opened segments, and `STEP_SEAL` proves it (`STEP_INPUT` may not
/// stand for it).
#[test]
fn the_seal_of_an_emptied_block_is_proven() {
    let bob = key(BOB).address;
    let plan = BatchPlan {
        blocks: vec![block(
            FEES,
            vec![transfer(ALICE, bob, 1), transfer(ALICE, bob, 2)],
        )],
        segments: Some(vec![2]),
        corrupt: Some(0),
        blobs: false,
    };
    let mut s = Scenario::new(vec![plan]);
    let trace = s.trace(1);
    let seal = trace.seal_position() - 1;
    assert_eq!(seal, 1);
    assert!(
        s.step(1, seal).is_none(),
        "the node has no transaction at the seal"
    );
    let witness = s.input_witness(1, seal, &trace);
    let (verdict, _) = s.l1.verify_trace_step(&trace, 1, seal, witness);
    assert_eq!(
        verdict,
        reverted(IOneStepVerifier::OneStepVerifier_SealStep {
            l2Block: U256::from(1),
            position: U256::from(seal),
        })
    );
    let (_, _, witness) = s.seal_witness(1, &trace);
    let output = s.output_root(1);
    let (verdict, _) = s.verify_seal(1, output, witness);
    assert_eq!(verdict, Verdict::Returned(true));
}

/// Output roots that differ from block `number`'s true one in each field the seal fixes.
fn wrong_outputs(s: &Scenario, number: u64) -> Vec<B256> {
    let posted = &s.posted[s.blocks[&number].batch];
    let header = s.l2.header(number);
    let honest = OutputRoot {
        version: OUTPUT_ROOT_VERSION,
        l2_block_number: number,
        state_root: header.state_root,
        l2_block_hash: header.hash_slow(),
        inbox_record: posted.record,
        block_in_record: number - posted.first_block,
        l1_block: posted.l1_block,
    };
    assert_eq!(honest.hash(), s.output_root(number));
    let mut wrong = Vec::new();
    for change in 0..5 {
        let mut output = honest;
        match change {
            0 => output.state_root = B256::repeat_byte(1),
            1 => {
                let mut other = header.clone();
                other.gas_used += 1;
                output.l2_block_hash = other.hash_slow();
            }
            2 => output.inbox_record += 1,
            3 => output.block_in_record += 1,
            _ => output.l1_block += 1,
        }
        wrong.push(output.hash());
    }
    wrong
}

/// Every seal is proven as the node builds the block: deposits, every transaction type, logs
/// (the bloom), skipped transactions, an empty block and a beneficiary; the verifier accepts
/// the node's output root and refuses any other, under the gas bound.
#[test]
fn every_seal_is_proven_as_the_node_builds_it() {
    let bob = key(BOB).address;
    let blocks = vec![
        epoch(
            FEES,
            vec![
                transfer(ALICE, bob, 1),
                transfer(DAVE, bob, 2),
                legacy(CAROL, bob, 3),
            ],
        ),
        block(FEES, Vec::new()),
        block(
            EMPTY_BENEFICIARY,
            vec![
                TxSpec {
                    gas_limit: 60_000,
                    ..transfer(ALICE, LOGGER, 5)
                },
                TxSpec {
                    ty: TxType::AccessList,
                    gas_limit: 60_000,
                    ..legacy(CAROL, LOGGER, 6)
                },
                // Skipped: a nonce from the future.
                TxSpec {
                    nonce: Nonce::Offset(5),
                    ..transfer(BOB, EMPTY, 1)
                },
                TxSpec {
                    gas_limit: 60_000,
                    ..transfer(ALICE, CONTRACT, 7)
                },
                TxSpec {
                    input: Bytes::from(vec![0xab; 300]),
                    gas_limit: 40_000,
                    ..transfer(BOB, EMPTY, 8)
                },
            ],
        ),
    ];
    let mut s = Scenario::new(vec![batch(blocks)]);
    let receipts = s.l2.store.reader().unwrap().receipts(3).unwrap().unwrap();
    assert_eq!(
        receipts.len(),
        4,
        "one of block 3's transactions is skipped"
    );
    assert!(
        receipts.iter().filter(|r| !r.logs.is_empty()).count() == 2,
        "the logger logged twice"
    );
    for number in 1..=3 {
        let trace = s.trace(number);
        let (position, state, witness) = s.seal_witness(number, &trace);
        let header = s.l2.header(number);
        assert_eq!(
            (state.tx_root, state.receipt_root, state.logs_bloom),
            (
                header.transactions_root,
                header.receipts_root,
                header.logs_bloom
            ),
            "block {number}: the last trace state holds the header's commitments"
        );
        let output = s.output_root(number);
        let (verdict, gas) = s.verify_seal(number, output, witness.clone());
        assert_eq!(verdict, Verdict::Returned(true), "block {number}");
        eprintln!(
            "seal of block {number} ({} transactions): {gas:?}",
            state.included
        );
        assert!(gas.transaction < GAS_BOUND, "block {number}: {gas:?}");
        let from = trace.claim(position);
        let wrong = wrong_outputs(&s, number);
        s.l1.assert_refused(number, position, from, wrong, &witness);
    }
}

fn decode_seal(witness: &Bytes) -> SealWitness {
    support::decode_step_witness::<SealWitness>(rollup_execution::STEP_SEAL, witness)
}

fn encode_seal(w: &SealWitness) -> Bytes {
    step_witness(rollup_execution::STEP_SEAL, w.abi_encode())
}

/// A seal witness whose bloom is not the trace state's, or that opens another position than
/// the seal, is refused; a trace state with other tries' roots is another claim.
#[test]
fn a_tampered_seal_witness_is_refused() {
    let bob = key(BOB).address;
    let blocks = vec![epoch(
        FEES,
        vec![
            TxSpec {
                gas_limit: 60_000,
                ..transfer(ALICE, LOGGER, 5)
            },
            transfer(CAROL, bob, 2),
        ],
    )];
    let mut s = Scenario::new(vec![batch(blocks)]);
    let trace = s.trace(1);
    let (position, state, witness) = s.seal_witness(1, &trace);
    assert_ne!(state.logs_bloom, Bloom::ZERO, "the logger logged");
    let honest = decode_seal(&witness);
    let output = s.output_root(1);
    let mut tampered = Vec::new();
    let mut w = honest.clone();
    let mut bloom = w.logsBloom.to_vec();
    bloom[17] ^= 1;
    w.logsBloom = bloom.into();
    tampered.push(w);
    let mut w = honest.clone();
    w.logsBloom = Bytes::from(vec![0; 256]);
    tampered.push(w);
    let mut w = honest.clone();
    w.logsBloom = Bytes::copy_from_slice(&honest.logsBloom[..255]);
    tampered.push(w);
    let mut w = honest.clone();
    w.blockTable = Bytes::new();
    tampered.push(w);
    // The verifier builds the header from the state's roots: other roots are another state,
    // which the claim does not open.
    let mut w = honest.clone();
    w.state.txRoot = state.receipt_root;
    tampered.push(w);
    for (i, w) in tampered.iter().enumerate() {
        let (verdict, _) = s.verify_seal(1, output, encode_seal(w));
        assert_eq!(verdict, Verdict::BadWitness, "tampering {i}");
    }
    // The same witness opening the state at a deposit's or a batch transaction's position.
    for (at, expected) in [
        (
            1,
            reverted(IOneStepVerifier::OneStepVerifier_DepositStep {
                l2Block: U256::from(1),
                position: U256::from(1),
            }),
        ),
        (
            position - 1,
            reverted(IOneStepVerifier::OneStepVerifier_BatchTransactionStep {
                l2Block: U256::from(1),
                position: U256::from(position - 1),
            }),
        ),
    ] {
        let mut w = honest.clone();
        w.state = trace.state(at).unwrap().to_sol();
        let (verdict, _) = s.l1.verify(1, at, trace.claim(at), output, encode_seal(&w));
        assert_eq!(verdict, expected, "position {at}");
    }
}

/// The seal of a block of any size is proven, at the cost of one of a single transaction: the
/// trace state carries both tries' roots (each step that includes a transaction appends to
/// them, `OrderedTrie.append`). The steps whose appends cross the keys' length changes (128
/// and 256 transactions, where `rlp(i)` grows a byte) are proven too.
#[test]
fn a_large_blocks_seal_is_proven() {
    let bob = key(BOB).address;
    let senders = [ALICE, BOB, CAROL];
    let count = 300;
    let txs: Vec<TxSpec> = (0..count)
        .map(|i| transfer(senders[i % 3], bob, i as u128 + 1))
        .collect();
    let mut s = Scenario::new(vec![batch(vec![block(FEES, txs)])]);
    let trace = s.trace(1);
    let (position, state, witness) = s.seal_witness(1, &trace);
    let header = s.l2.header(1);
    assert_eq!(state.included, count as u64);
    assert_eq!(
        (state.tx_root, state.receipt_root),
        (header.transactions_root, header.receipts_root)
    );
    let output = s.output_root(1);
    let (verdict, gas) = s.verify_seal(1, output, witness.clone());
    assert_eq!(verdict, Verdict::Returned(true));
    eprintln!("seal of a block of {count} transactions: {gas:?}");
    assert!(gas.transaction < GAS_BOUND, "{gas:?}");
    let wrong = wrong_outputs(&s, 1);
    s.l1.assert_refused(1, position, trace.claim(position), wrong, &witness);
    let first = *s.batch_positions(1).start();
    let positions = [0, 1, 126, 127, 128, 129, 255, 256, 257, count as u64 - 1].map(|k| first + k);
    for proven in s.prove_positions(1, positions, false) {
        assert!(proven.included && proven.provable, "{proven:?}");
        eprintln!(
            "transfer at position {} of {count}: verifier {} gas",
            proven.position, proven.gas.execution
        );
        assert!(proven.gas.transaction < GAS_BOUND, "{proven:?}");
    }
}

/// A blob batch's transactions and seals are proven as a calldata batch's, once its segments'
/// bytes are loaded into the `SegmentStore` by point evaluation (`loadBlob`, then `openBlob`).
#[test]
fn blob_batch_steps_are_proven() {
    let bob = key(BOB).address;
    let plan = BatchPlan {
        blocks: vec![
            epoch(
                FEES,
                vec![
                    transfer(ALICE, bob, 1),
                    transfer(DAVE, bob, 2),
                    TxSpec {
                        nonce: Nonce::Offset(3),
                        ..legacy(CAROL, bob, 3)
                    },
                ],
            ),
            block(FEES, Vec::new()),
            block(EMPTY_BENEFICIARY, vec![transfer(ALICE, bob, 4)]),
        ],
        blobs: true,
        ..BatchPlan::default()
    };
    let mut s = Scenario::new(vec![plan]);
    assert!(s.posted[0].blob.is_some());
    for number in [1, 3] {
        let proven = s.prove_all(number);
        assert!(
            proven.iter().all(|p| p.provable),
            "block {number}: {proven:?}"
        );
        assert_eq!(
            proven.iter().filter(|p| p.skipped).count(),
            usize::from(number == 1),
            "block {number}"
        );
    }
    for number in 1..=3 {
        let trace = s.trace(number);
        let (_, _, witness) = s.seal_witness(number, &trace);
        let (verdict, _) = s.verify_seal(number, s.output_root(number), witness);
        assert_eq!(verdict, Verdict::Returned(true), "block {number}");
    }
}

/// `loadBlob` proves elements only in order, against the record's versioned hashes and
/// envelope, with valid proofs; `openBlob` opens a segment only from the bytes proven, and a
/// calldata batch's segments only with `open` (and the other way round).
#[test]
fn blob_loading_refuses_what_it_cannot_prove() {
    let bob = key(BOB).address;
    let mut s = Scenario::build(
        genesis_alloc(),
        vec![
            BatchPlan {
                blocks: vec![block(
                    FEES,
                    (1..=12).map(|i| transfer(ALICE, bob, i)).collect(),
                )],
                blobs: true,
                ..BatchPlan::default()
            },
            batch(vec![block(FEES, vec![transfer(CAROL, bob, 1)])]),
        ],
        false,
    );
    let record = s.posted[0].record;
    let (envelope, blobs, hashes) = s.posted[0].blob.clone().unwrap();
    let data = s.posted[0].data.to_vec();
    assert_eq!(
        blob_data(&blobs)[..data.len() - envelope.len()],
        data[envelope.len()..]
    );
    let length = BatchEnvelope::parse(&data).unwrap().segments[0].1.len();
    let elements = blob_elements_covering(0, length);
    assert!(elements.len() > 4, "the segment spans several elements");
    let commitments: Vec<u8> = blobs
        .iter()
        .flat_map(|blob| blob_commitment(blob).unwrap())
        .collect();
    let proven: Vec<([u8; 32], [u8; 48])> = elements
        .clone()
        .map(|i| blob_element_proof(&blobs[0], i).unwrap())
        .collect();
    let load = |from: usize, to: usize| ISegmentStore::BlobElements {
        record: U256::from(record),
        envelope: envelope.clone(),
        versionedHashes: hashes.clone(),
        segment: U256::ZERO,
        from: U256::from(from),
        commitments: commitments.clone().into(),
        payloads: proven[from..to]
            .iter()
            .flat_map(|(p, _)| *p)
            .collect::<Vec<u8>>()
            .into(),
        proofs: proven[from..to]
            .iter()
            .flat_map(|(_, q)| *q)
            .collect::<Vec<u8>>()
            .into(),
    };
    let store = s.l1.segment_store;
    let refused = |l1: &mut L1, call: Vec<u8>| -> Bytes {
        match l1.exec(DEPOSITOR, TxKind::Call(store), U256::ZERO, call).0 {
            revm::context::result::ExecutionResult::Revert { output, .. } => output,
            other => panic!("the store accepted it: {other:?}"),
        }
    };
    let encode = |e: ISegmentStore::BlobElements| ISegmentStore::loadBlobCall { e }.abi_encode();
    // A blob batch has no calldata to open.
    let out = refused(
        &mut s.l1,
        ISegmentStore::openCall {
            record: U256::from(record),
            data: data.into(),
            segment: U256::ZERO,
        }
        .abi_encode(),
    );
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_NotCalldataBatch {
                record: U256::from(record)
            }
            .abi_encode()
        )
    );
    // Out of order: from 2 before 0..2.
    let out = refused(&mut s.l1, encode(load(2, 4)));
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_BlobLoadOutOfOrder {
                next: U256::ZERO,
                from: U256::from(2),
                total: U256::from(elements.len()),
            }
            .abi_encode()
        )
    );
    // Another batch's hashes, envelope or a wrong payload.
    let mut other = load(0, 2);
    other.versionedHashes = vec![B256::repeat_byte(1)];
    let out = refused(&mut s.l1, encode(other));
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_BlobHashesMismatch {
                record: U256::from(record)
            }
            .abi_encode()
        )
    );
    let mut other = load(0, 2);
    other.envelope = Bytes::from([envelope.as_ref(), &[0]].concat());
    let out = refused(&mut s.l1, encode(other));
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_DataMismatch {
                record: U256::from(record)
            }
            .abi_encode()
        )
    );
    let mut other = load(0, 2);
    let mut payloads = other.payloads.to_vec();
    payloads[40] ^= 1;
    other.payloads = payloads.into();
    let out = refused(&mut s.l1, encode(other));
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_BadElementProof {
                element: U256::from(1)
            }
            .abi_encode()
        )
    );
    // Opening before every element is proven, then with other bytes.
    let covered: Vec<u8> = proven.iter().flat_map(|(p, _)| p[1..].to_vec()).collect();
    let open = |covered: Vec<u8>| {
        ISegmentStore::openBlobCall {
            record: U256::from(record),
            envelope: envelope.clone(),
            segment: U256::ZERO,
            covered: covered.into(),
        }
        .abi_encode()
    };
    let not_loaded = Bytes::from(
        ISegmentStore::SegmentStore_BlobNotLoaded {
            record: U256::from(record),
            segment: U256::ZERO,
        }
        .abi_encode(),
    );
    s.l1.call(DEPOSITOR, store, encode(load(0, 2)));
    assert_eq!(refused(&mut s.l1, open(covered.clone())), not_loaded);
    // A competing load never makes another stale: one from 0 to 3 lands after the load to 2,
    // and a load from 2 still lands after it.
    s.l1.call(DEPOSITOR, store, encode(load(0, 3)));
    let progress = s.l1.view(
        store,
        ISegmentStore::blobLoadsCall {
            record: U256::from(record),
            segment: U256::ZERO,
        },
    );
    assert_eq!(progress.next, 3);
    s.l1.call(DEPOSITOR, store, encode(load(2, elements.len())));
    let mut wrong = covered.clone();
    wrong[0] ^= 1;
    assert_eq!(refused(&mut s.l1, open(wrong)), not_loaded);
    // Past the segment.
    let out = refused(&mut s.l1, encode(load(elements.len() - 1, elements.len())));
    assert!(out.starts_with(&ISegmentStore::SegmentStore_BlobLoadOutOfOrder::SELECTOR));
    let (out, _) = s.l1.call(DEPOSITOR, store, open(covered));
    let opened = ISegmentStore::openBlobCall::abi_decode_returns(&out).unwrap();
    assert!(opened.opened && opened.ok);
    assert_eq!(opened.txCount, 12);
    // A calldata batch has no blobs to load.
    let calldata = s.posted[1].record;
    let mut other = load(0, 2);
    other.record = U256::from(calldata);
    let out = refused(&mut s.l1, encode(other));
    assert_eq!(
        out,
        Bytes::from(
            ISegmentStore::SegmentStore_NotBlobBatch {
                record: U256::from(calldata)
            }
            .abi_encode()
        )
    );
}

/// `count` transfers to Bob with 3,800 bytes of random-looking calldata each (a segment of
/// them barely compresses), from `senders` in turn.
fn incompressible_transfers(count: u32, senders: &[u8]) -> Vec<TxSpec> {
    let bob = key(BOB).address;
    (0..count)
        .map(|i| TxSpec {
            input: Bytes::from(
                (0..3_800u32)
                    .map(|j| keccak256((i * 10_000 + j).to_be_bytes())[0])
                    .collect::<Vec<u8>>(),
            ),
            gas_limit: 200_000,
            ..transfer(senders[i as usize % senders.len()], bob, u128::from(i) + 1)
        })
        .collect()
}

/// A scenario of one blob batch of one block of `txs`, its segments not opened.
fn one_blob_block(txs: Vec<TxSpec>) -> Scenario {
    Scenario::build(
        genesis_alloc(),
        vec![BatchPlan {
            blocks: vec![block(FEES, txs)],
            blobs: true,
            ..BatchPlan::default()
        }],
        false,
    )
}

/// The gas of loading a blob segment of two incompressible 3,800-byte calldatas: every
/// `loadBlob` call of 200 elements (6,200 bytes) stays under 16 M gas (EIP-7825 caps a
/// transaction at 2^24), and so does `openBlob`. (Eight of them, a full 32 KiB segment, took six calls
/// and 59.2 M gas in all; see docs/benchmarks.md.)
#[test]
fn loading_a_blob_segment_fits_transactions() {
    let txs = incompressible_transfers(2, &[ALICE]);
    let mut s = one_blob_block(txs.clone());
    let record = s.posted[0].record;
    let blob = s.posted[0].blob.clone().unwrap();
    let (opened, gas) = s.l1.open_blob(record, &blob, 0, 200);
    assert!(opened.ok);
    let (loads, open) = gas.split_at(gas.len() - 1);
    let elements: u64 = loads.iter().map(|g| g.transaction).sum();
    eprintln!(
        "blob segment: {} loadBlob calls, {} gas in all, the largest {:?}; openBlob {:?}",
        loads.len(),
        elements,
        loads.iter().map(|g| g.transaction).max(),
        open[0]
    );
    assert!(
        loads.iter().all(|g| g.transaction < 16_000_000),
        "{loads:?}"
    );
    assert!(open[0].transaction < 16_000_000, "{open:?}");

    // The same segment from its whole blob: one call, a fraction of the gas.
    let mut s = one_blob_block(txs);
    let record = s.posted[0].record;
    let (opened, gas) = s.l1.open_blob(record, &blob, 0, 0);
    assert!(opened.ok);
    eprintln!(
        "blob segment from its whole blob: loadWholeBlob {:?}; openBlob {:?}",
        gas[0], gas[1]
    );
    assert_eq!(gas.len(), 2);
    assert!(gas[0].transaction < 8_000_000, "{gas:?}");
}

/// A segment across two blobs: loading the second blob first chains the segments wholly inside
/// it and leaves the crossing one waiting (or is refused if it would chain nothing); element
/// loads of the crossing segment past the boundary leave the chain at the boundary, so the
/// second blob whole then completes it; the first blob chains the rest, and every segment opens
/// to the leaves of its transactions.
#[test]
fn whole_blobs_chain_a_segment_across_blobs() {
    // About 133 kB of incompressible calldata: more than one blob's 126,976 bytes.
    let mut s = one_blob_block(incompressible_transfers(35, &[ALICE, CAROL, DAVE]));
    let record = s.posted[0].record;
    let blob = s.posted[0].blob.clone().unwrap();
    assert_eq!(blob.1.len(), 2, "the batch takes two blobs");
    let parsed = parse_blob_batch(&blob.0, &blob.1);
    let per_blob = BLOB_DATA_SIZE / 31;
    let mut offset = 0;
    let ranges: Vec<_> = parsed
        .segments
        .iter()
        .map(|(_, bytes)| {
            let range = blob_elements_covering(offset, bytes.len());
            offset += bytes.len();
            range
        })
        .collect();
    let crossing = ranges
        .iter()
        .position(|r| r.start / per_blob == 0 && (r.end - 1) / per_blob == 1)
        .expect("a segment across the two blobs");
    let next = |l1: &mut L1, segment: usize| -> usize {
        let call = ISegmentStore::blobLoadsCall {
            record: U256::from(record),
            segment: U256::from(segment),
        };
        l1.view(l1.segment_store, call).next as usize
    };

    // The second blob first: the segments starting in it are chained, the crossing one waits;
    // if none starts there, the load chains nothing and is refused.
    match s.l1.load_whole_blob(record, &blob, 1) {
        Ok(gas) => {
            eprintln!("loadWholeBlob of a blob holding about 6 kB: {gas:?}");
            assert!(gas.transaction < 8_000_000, "{gas:?}");
            assert!(ranges.iter().any(|r| r.start / per_blob == 1));
        }
        Err(out) => {
            assert_eq!(
                out,
                Bytes::from(
                    ISegmentStore::SegmentStore_BlobPartsWaiting {
                        record: U256::from(record),
                        blob: U256::from(1),
                    }
                    .abi_encode()
                )
            );
            assert!(ranges.iter().all(|r| r.start / per_blob == 0));
        }
    }
    for (segment, range) in ranges.iter().enumerate() {
        let expected = if range.start / per_blob == 1 {
            range.len()
        } else {
            0
        };
        assert_eq!(next(&mut s.l1, segment), expected, "segment {segment}");
    }
    // Element loads of the crossing segment past the boundary (as a front-runner might): the
    // store keeps the chain at the boundary, so the second blob whole still completes it.
    let part = per_blob - ranges[crossing].start;
    let proven: Vec<([u8; 32], [u8; 48])> = (ranges[crossing].start..per_blob + 3)
        .map(|element| blob_element_proof(&blob.1[element / per_blob], element % per_blob).unwrap())
        .collect();
    let commitments: Vec<u8> = blob
        .1
        .iter()
        .flat_map(|b| blob_commitment(b).unwrap())
        .collect();
    for (at, chunk) in (0..).step_by(200).zip(proven.chunks(200)) {
        s.l1.load_elements(record, &blob, &commitments, crossing, at, chunk);
    }
    assert_eq!(next(&mut s.l1, crossing), part + 3);
    s.l1.load_whole_blob(record, &blob, 1).unwrap();
    assert_eq!(next(&mut s.l1, crossing), ranges[crossing].len());
    let gas = s.l1.load_whole_blob(record, &blob, 0).unwrap();
    eprintln!("loadWholeBlob of a blob full of incompressible data: {gas:?}");
    assert!(gas.transaction < 8_000_000, "{gas:?}");
    for (segment, range) in ranges.iter().enumerate() {
        assert_eq!(next(&mut s.l1, segment), range.len(), "segment {segment}");
    }
    // Every segment opens from the chained bytes, to the leaves of its transactions.
    for (segment, range) in ranges.iter().enumerate() {
        let covered = stream_bytes(&blob.1, range.clone());
        let call = ISegmentStore::openBlobCall {
            record: U256::from(record),
            envelope: blob.0.clone(),
            segment: U256::from(segment),
            covered: covered.into(),
        };
        let (out, _) = s.l1.call(DEPOSITOR, s.l1.segment_store, call.abi_encode());
        let opened = ISegmentStore::openBlobCall::abi_decode_returns(&out).unwrap();
        let info = &s.posted[0].segments[segment];
        assert!(opened.ok, "segment {segment}");
        assert_eq!(
            opened.txRoot,
            rollup_primitives::merkle_root(info.leaves.as_ref().unwrap())
        );
    }
}

fn arb_tx() -> impl Strategy<Value = TxSpec> {
    let from = prop_oneof![
        4 => Just(ALICE),
        4 => Just(BOB),
        4 => Just(CAROL),
        1 => Just(POOR),
        1 => Just(UNFUNDED),
    ];
    let to = prop_oneof![
        Just(key(ALICE).address),
        Just(key(BOB).address),
        Just(key(CAROL).address),
        Just(EXISTING),
        Just(EMPTY),
        Just(FEES),
        (0x13u8..=0x20).prop_map(Address::repeat_byte),
        any::<[u8; 20]>().prop_map(Address::from),
    ];
    let value = prop_oneof![
        3 => Just(0u128),
        3 => 1u128..1_000_000,
        3 => Just(ETHER),
        1 => Just(2_000 * ETHER),
    ];
    let ty = prop_oneof![
        Just(TxType::Legacy),
        Just(TxType::AccessList),
        Just(TxType::DynamicFee)
    ];
    let nonce = prop_oneof![
        8 => Just(Nonce::Next),
        1 => Just(Nonce::Offset(1)),
        1 => Just(Nonce::Offset(-1)),
    ];
    let fee = prop_oneof![
        6 => (0u128..5 * GWEI).prop_map(Fee::AboveBase),
        1 => Just(Fee::BelowBase),
    ];
    let priority = prop_oneof![Just(0u128), 0u128..4 * GWEI];
    let gas_limit = prop_oneof![
        6 => Just(21_000u64),
        2 => 21_000u64..100_000,
        1 => 20_000u64..21_000,
        1 => Just(L2_GAS_LIMIT),
    ];
    let signature = prop_oneof![10 => Just(Sig::Valid), 1 => Just(Sig::HighS)];
    // Calldata of zero and other bytes (its gas, or the floor, decides whether the gas limit
    // is enough) and short access lists (ignored by legacy transactions).
    let input = prop_oneof![
        6 => Just(Vec::new()),
        2 => proptest::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 1..400),
    ];
    let access_list = prop_oneof![
        4 => Just(AccessList::default()),
        1 => (1usize..3, 0usize..3).prop_map(|(addresses, keys)| {
            AccessList(
                (0..addresses)
                    .map(|i| AccessListItem {
                        address: Address::with_last_byte(0x60 + i as u8),
                        storage_keys: (0..keys).map(|k| B256::with_last_byte(k as u8)).collect(),
                    })
                    .collect(),
            )
        }),
    ];
    (
        (from, to, value, ty, nonce),
        (fee, priority, gas_limit, signature, input, access_list),
    )
        .prop_map(
            |(
                (from, to, value, ty, nonce),
                (fee, priority, gas_limit, signature, input, access_list),
            )| TxSpec {
                from,
                ty,
                nonce,
                to: Some(to),
                value: U256::from(value),
                fee,
                priority,
                gas_limit,
                input: input.into(),
                access_list: if ty == TxType::Legacy {
                    AccessList::default()
                } else {
                    access_list
                },
                signature,
            },
        )
}

fn arb_block() -> impl Strategy<Value = BlockPlan> {
    let beneficiary = prop_oneof![
        Just(FEES),
        Just(key(ALICE).address),
        Just(key(BOB).address),
        Just(EXISTING),
        Just(EMPTY_BENEFICIARY),
    ];
    (beneficiary, proptest::collection::vec(arb_tx(), 0..7))
        .prop_map(|(beneficiary, txs)| block(beneficiary, txs))
}

/// Random transfers (some invalid): the verifier agrees with the node at every position.
#[test]
fn random_transfers_are_proven() {
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let strategy = (
        proptest::collection::vec(arb_block(), 1..3),
        proptest::option::of(1usize..4),
    );
    // (included, skipped) over every case: both kinds must come up.
    let seen = std::cell::Cell::new((0usize, 0usize));
    TestRunner::new(config)
        .run(&strategy, |(blocks, chunk)| {
            let total: usize = blocks.iter().map(|b| b.txs.len()).sum();
            let segments = chunk.filter(|_| total > 0).map(|chunk| {
                let mut sizes = vec![chunk; total / chunk];
                if !total.is_multiple_of(chunk) {
                    sizes.push(total % chunk);
                }
                sizes
            });
            let count = blocks.len() as u64;
            let mut s = Scenario::new(vec![BatchPlan {
                blocks,
                segments,
                corrupt: None,
                blobs: false,
            }]);
            for number in 1..=count {
                let positions = s.batch_positions(number);
                let proven = s.prove_positions(number, positions, false);
                for p in proven {
                    prop_assert!(p.provable, "a transfer is always provable: {p:?}");
                    prop_assert_eq!(p.skipped, !p.included);
                    let (included, skipped) = seen.get();
                    seen.set((
                        included + usize::from(p.included),
                        skipped + usize::from(p.skipped),
                    ));
                }
            }
            Ok(())
        })
        .unwrap();
    let (included, skipped) = seen.get();
    eprintln!("random transfers: {included} included and {skipped} skipped steps proven");
    assert!(included > 0 && skipped > 0);
}

/// The costliest step of one shape: the target block is the last of a record of
/// `record_blocks` blocks (the verifier walks the block table up to it), its transactions span
/// `segments` segments (each one read from the store: `segments - 1` of one transaction, then
/// a full one of 256), and the target is the last transaction of the full segment, from one
/// existing account to another, with a third as the beneficiary, in a trie of thousands of
/// accounts. Returns the most expensive of the first, next-to-last and last positions, and the
/// gas of opening the full segment.
fn costliest_step(record_blocks: usize, segments: usize) -> (Proven, CallGas) {
    let mut alloc = genesis_alloc();
    let filler = |i: u64| Address::from_word(keccak256(i.to_be_bytes()));
    for i in 0..4_000 {
        alloc.insert(
            filler(i),
            GenesisAccount {
                balance: U256::from(i + 1),
                ..Default::default()
            },
        );
    }
    let full = rollup_primitives::MAX_TRANSACTIONS_PER_SEGMENT;
    let count = segments - 1 + full;
    let senders = [ALICE, BOB, CAROL];
    let txs: Vec<TxSpec> = (0..count)
        .map(|i| transfer(senders[i % 3], filler(i as u64 + 7), 1 + i as u128))
        .collect();
    let mut blocks: Vec<BlockPlan> = (1..record_blocks)
        .map(|_| block(FEES, Vec::new()))
        .collect();
    blocks.push(block(filler(3), txs));
    let mut sizes = vec![1; segments - 1];
    sizes.push(full);
    let plan = BatchPlan {
        blocks,
        segments: Some(sizes),
        corrupt: None,
        blobs: false,
    };
    let mut s = Scenario::build(alloc, vec![plan], true);
    let number = record_blocks as u64;
    let positions = [1, count as u64 - 1, count as u64];
    let proven = s.prove_positions(number, positions, false);
    let mut worst = proven[0];
    for p in &proven {
        assert!(p.included && p.provable);
        if p.gas.execution > worst.gas.execution {
            worst = *p;
        }
    }
    (worst, s.open_gas[&(0, segments - 1)])
}

fn print_shape(record_blocks: usize, segments: usize, worst: &Proven, open: &CallGas) {
    eprintln!(
        "transaction step, the last block of {record_blocks} in its record, its transactions over {segments} segment(s), target at position {} ({} witness bytes): verifier {} gas, step transaction {} gas; SegmentStore.open of its full segment (256 transfers) {} gas execution, {} gas transaction",
        worst.position,
        worst.witness_bytes,
        worst.gas.execution,
        worst.gas.transaction,
        open.execution,
        open.transaction
    );
}

/// The gas of the transaction step by what it walks: the opened segments (up to
/// `MAX_SEGMENTS_PER_BATCH` holding the block's transactions) and the block table (1,024
/// blocks before the target here; the full `MAX_BLOCKS_PER_BATCH` in the next test).
#[test]
fn the_transaction_step_stays_under_the_gas_bound() {
    let max_segments = rollup_primitives::MAX_SEGMENTS_PER_BATCH;
    for (record_blocks, segments) in [(1, 1), (1, max_segments), (1_024, max_segments)] {
        let (worst, open) = costliest_step(record_blocks, segments);
        print_shape(record_blocks, segments, &worst, &open);
        assert!(worst.gas.execution < GAS_BOUND, "{worst:?}");
    }
}

/// The worst case found: the target block is the last of a record of `MAX_BLOCKS_PER_BATCH`
/// (4,096) blocks, its transactions span all 16 segments, and the target is its 271st
/// transaction, whose appends to the trace state's tries walk the deepest paths (keys of three
/// bytes). The block table (28 kB of witness, summed entry by entry) and the two append proofs
/// make it; the whole step transaction must stay under the bound too.
#[test]
fn the_worst_case_transaction_step_stays_under_the_gas_bound() {
    let record_blocks = rollup_primitives::MAX_BLOCKS_PER_BATCH;
    let segments = rollup_primitives::MAX_SEGMENTS_PER_BATCH;
    let (worst, open) = costliest_step(record_blocks, segments);
    print_shape(record_blocks, segments, &worst, &open);
    assert!(worst.gas.execution < GAS_BOUND, "{worst:?}");
    assert!(worst.gas.transaction < GAS_BOUND, "{worst:?}");
}
