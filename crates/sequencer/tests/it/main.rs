//! The pool's ordering and bookkeeping, and the sequencing loop against a real core and MDBX.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip7702, TxEnvelope};
use alloy_eips::{eip2718::Encodable2718, eip7702::Authorization};
use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use rollup_node_core::{NodeError, RollupNode};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L1Block, L1Chain, L1Notification, L2Genesis,
    L2Transaction, MAX_TX_SIZE, RollupConfig, decode_l1_origin,
};
use rollup_sequencer::{PoolBackup, PoolConfig, PoolError, Sequencer, SequencerConfig, TxPool};
use rollup_storage::Store;

mod throttle;

fn keys() -> Vec<PrivateKeySigner> {
    (1u8..=3)
        .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap())
        .collect()
}

/// A key that is none of [`keys`].
fn key(i: u64) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::from(U256::from(1_000_000 + i))).unwrap()
}

fn config() -> RollupConfig {
    config_funding(
        keys()
            .iter()
            .map(|k| (k.address(), U256::from(10u128.pow(20)))),
    )
}

fn config_funding(funded: impl IntoIterator<Item = (Address, U256)>) -> RollupConfig {
    let alloc: BTreeMap<Address, GenesisAccount> = funded
        .into_iter()
        .map(|(address, balance)| {
            (
                address,
                GenesisAccount {
                    balance,
                    ..Default::default()
                },
            )
        })
        .collect();
    RollupConfig {
        l1_chain_id: 1,
        l2_chain_id: 7,
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
            alloc,
        },
        sequencing_window: 10,
        max_sequencer_drift: u64::MAX / 4,
        batcher_address: Address::repeat_byte(4),
    }
}

fn raw(key: &PrivateKeySigner, nonce: u64, max_fee: u128) -> Bytes {
    raw_with_input(key, nonce, max_fee, 21_000, Bytes::new())
}

fn raw_with_input(
    key: &PrivateKeySigner,
    nonce: u64,
    max_fee: u128,
    gas_limit: u64,
    input: Bytes,
) -> Bytes {
    sign(
        key,
        TxEip1559 {
            chain_id: 7,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: max_fee / 10,
            to: TxKind::Call(Address::repeat_byte(0x99)),
            value: U256::from(1),
            access_list: Default::default(),
            input,
        },
    )
}

/// A 21 000-gas transfer of 1 wei paying `max_fee` and `tip`.
fn raw_tip(key: &PrivateKeySigner, nonce: u64, max_fee: u128, tip: u128) -> Bytes {
    sign(
        key,
        TxEip1559 {
            chain_id: 7,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(Address::repeat_byte(0x99)),
            value: U256::from(1),
            access_list: Default::default(),
            input: Bytes::new(),
        },
    )
}

fn sign<T>(key: &PrivateKeySigner, tx: T) -> Bytes
where
    T: SignableTransaction<Signature>,
    alloy_consensus::Signed<T>: Into<TxEnvelope>,
{
    let signature = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let envelope: TxEnvelope = tx.into_signed(signature).into();
    envelope.encoded_2718().into()
}

fn setup() -> (tempfile::TempDir, RollupNode, Arc<TxPool>) {
    setup_with(PoolConfig::default(), config())
}

fn setup_with(
    pool_config: PoolConfig,
    config: RollupConfig,
) -> (tempfile::TempDir, RollupNode, Arc<TxPool>) {
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(config);
    let store = Store::open(dir.path()).unwrap();
    let node = RollupNode::new(config.clone(), store.clone()).unwrap();
    let pool = Arc::new(TxPool::new(pool_config, &config, store));
    (dir, node, pool)
}

fn sequencer(pool: &Arc<TxPool>) -> Sequencer {
    Sequencer::new(
        SequencerConfig {
            block_time: Duration::from_millis(10),
        },
        pool.clone(),
    )
}

fn block_hashes(node: &RollupNode, number: u64) -> Vec<B256> {
    node.store()
        .reader()
        .unwrap()
        .body(number)
        .unwrap()
        .unwrap()
        .iter()
        .map(|tx| tx.hash())
        .collect()
}

const FEE: u128 = 10_000_000_000;
/// The base fee of the first block (genesis has 1 gwei and is empty).
const BASE_FEE: u128 = 875_000_000;

#[test]
fn best_at_equal_tips_is_first_come_first_served_in_nonce_order_and_stops_at_gaps() {
    let (_dir, _node, pool) = setup();
    let [a, b, c] = keys().try_into().unwrap();
    let b1 = pool.add_raw(&raw(&b, 1, FEE)).unwrap(); // queued behind b0
    let a0 = pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    let b0 = pool.add_raw(&raw(&b, 0, FEE)).unwrap();
    let c2 = pool.add_raw(&raw(&c, 2, FEE)).unwrap(); // gap: c0, c1 missing
    let a1 = pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    assert_eq!(pool.len(), 5);
    let best: Vec<B256> = pool
        .best(30_000_000, 110_000, 1_000_000_000, |_| 0)
        .iter()
        .map(|tx| tx.hash())
        .collect();
    // Arrival order, but never ahead of a lower nonce: a0, then b0, then b1 (it arrived first
    // and only had to wait for b0), then a1; c is not executable.
    assert_eq!(best, vec![a0, b0, b1, a1]);
    assert!(!best.contains(&c2));
    // Gas-limited: only what fits.
    assert_eq!(pool.best(42_000, 110_000, 1_000_000_000, |_| 0).len(), 2);
    // Fee cap below the base fee: nothing.
    assert!(
        pool.best(30_000_000, 110_000, FEE as u64 + 1, |_| 0)
            .is_empty()
    );
    assert_eq!(pool.pending_nonce(a.address(), 0), 2);
    assert_eq!(pool.pending_nonce(c.address(), 0), 0);
}

#[test]
fn replacement_needs_a_fee_bump_and_pruning_drops_used_nonces() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    assert_eq!(
        pool.add_raw(&raw(&a, 0, FEE + 1)),
        Err(PoolError::ReplacementUnderpriced)
    );
    let replacement = pool.add_raw(&raw(&a, 0, FEE * 2)).unwrap();
    assert_eq!(pool.len(), 1);
    assert_eq!(
        pool.best(30_000_000, 110_000, 1, |_| 0)[0].hash(),
        replacement
    );
    pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    pool.remove_and_prune(&[], |_| 1);
    assert_eq!(pool.len(), 1, "nonce 0 is used");
    assert_eq!(
        pool.add_raw(&raw(&a, 70, FEE)),
        Err(PoolError::NonceTooHigh {
            state: 0,
            tx: 70,
            max_gap: 64
        })
    );
}

#[test]
fn subscribers_hear_of_admitted_transactions_only() {
    let (_dir, _node, pool) = setup();
    let mut admitted = pool.subscribe_admitted();
    let a = keys().remove(0);
    let first = pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    assert_eq!(
        pool.add_raw(&raw(&a, 0, FEE + 1)),
        Err(PoolError::ReplacementUnderpriced)
    );
    let replacement = pool.add_raw(&raw(&a, 0, FEE * 2)).unwrap();
    assert_eq!(admitted.try_recv(), Ok(first));
    assert_eq!(
        admitted.try_recv(),
        Ok(replacement),
        "a refused one is not announced"
    );
    assert!(admitted.try_recv().is_err());
}

#[test]
fn a_burst_is_admissions_without_a_pause_and_ends_with_one() {
    let (_dir, _node, pool) = setup();
    assert_eq!(pool.burst(), None, "nothing admitted yet");
    let a = keys().remove(0);
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    assert!(pool.burst().is_some(), "one admission starts a burst");
    // A refusal is no arrival: the burst still ends after the last admitted one.
    let pause = rollup_sequencer::BURST_GAP + Duration::from_millis(50);
    std::thread::sleep(pause);
    assert_eq!(pool.add_raw(&raw(&a, 0, FEE)), Err(PoolError::AlreadyKnown));
    assert_eq!(pool.burst(), None, "a pause past the gap ends it");
    // Admissions closer together than the gap make one burst, which lasts from the first.
    pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    let started = std::time::Instant::now();
    let mut nonce = 2;
    while started.elapsed() < rollup_sequencer::BURST_GAP * 3 {
        std::thread::sleep(rollup_sequencer::BURST_GAP / 10);
        pool.add_raw(&raw(&a, nonce, FEE)).unwrap();
        nonce += 1;
    }
    let lasted = pool.burst().expect("still under way");
    assert!(
        lasted >= rollup_sequencer::BURST_GAP * 3 - Duration::from_millis(5),
        "it lasted {lasted:?}"
    );
    std::thread::sleep(pause);
    assert_eq!(pool.burst(), None);
}

#[test]
fn sequencing_includes_pool_transactions_and_empties_the_pool() {
    let (_dir, mut node, pool) = setup();
    let sequencer = Sequencer::new(
        SequencerConfig {
            block_time: Duration::from_millis(10),
        },
        pool.clone(),
    );
    let [a, b, _] = keys().try_into().unwrap();
    let hashes: Vec<B256> = [raw(&a, 0, FEE), raw(&a, 1, FEE), raw(&b, 0, FEE)]
        .iter()
        .map(|r| pool.add_raw(r).unwrap())
        .collect();
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    let reader = node.store().reader().unwrap();
    assert_eq!(reader.l2_head().unwrap(), Some(1));
    let included: Vec<B256> = reader
        .body(1)
        .unwrap()
        .unwrap()
        .iter()
        .map(|tx| tx.hash())
        .collect();
    assert_eq!(included, hashes);
    for hash in &hashes {
        assert!(reader.transaction(*hash).unwrap().unwrap().receipt.success);
    }
    assert_eq!(reader.account(a.address()).unwrap().unwrap().nonce, 2);
    // Nothing to do: no block.
    drop(reader);
    sequencer.sequence(&mut node).unwrap();
    assert_eq!(node.store().reader().unwrap().l2_head().unwrap(), Some(1));
    // A transaction whose nonce was used meanwhile is rejected at the pool door.
    assert_eq!(
        pool.add_raw(&raw(&a, 1, FEE * 3)),
        Err(PoolError::NonceTooLow { state: 2, tx: 1 })
    );
}

/// The pool as `txpool_content` shows it: sub-pool, sender, nonce and hash.
fn pooled(pool: &TxPool) -> Vec<(bool, Address, u64, B256)> {
    let content = pool.content();
    let mut all = Vec::new();
    for (pending, senders) in [(true, content.pending), (false, content.queued)] {
        for (sender, txs) in senders {
            for (nonce, tx) in txs {
                all.push((pending, sender, nonce, *tx.tx_hash()));
            }
        }
    }
    all
}

#[test]
fn a_backup_brings_the_pool_back_on_the_same_chain_and_is_removed_once_read() {
    let (dir, mut node, pool) = setup();
    let [a, b, c] = keys().try_into().unwrap();
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    sequencer(&pool).sequence(&mut node).unwrap();
    // a's next two, b's first and a queued one behind b's gap, c's first.
    for tx in [
        raw(&a, 1, FEE),
        raw(&b, 2, FEE),
        raw(&a, 2, FEE),
        raw(&b, 0, FEE),
        raw(&c, 0, FEE),
    ] {
        pool.add_raw(&tx).unwrap();
    }
    let before = pooled(&pool);
    let backup = rollup_sequencer::PoolBackup::new(dir.path().join("backup").join("pool.txt"));
    assert_eq!(backup.save(&pool).unwrap(), 5);
    let text = std::fs::read_to_string(backup.path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with('#'), "{text}");
    assert_eq!(lines.len(), 6, "{text}");
    // Each sender's in nonce order, each line a raw transaction as `cast publish` takes it.
    let position = |tx: Bytes| lines.iter().position(|line| *line == tx.to_string());
    assert!(position(raw(&a, 1, FEE)) < position(raw(&a, 2, FEE)));
    assert!(position(raw(&b, 0, FEE)) < position(raw(&b, 2, FEE)));

    // The node restarts: a new pool over the same store reads the backup back.
    let restarted = TxPool::new(PoolConfig::default(), &config(), node.store().clone());
    let restored = backup.restore(&restarted).unwrap().unwrap();
    assert_eq!(
        (
            restored.total,
            restored.added,
            restored.known,
            restored.refused
        ),
        (5, 5, 0, 0)
    );
    assert_eq!(
        pooled(&restarted),
        before,
        "the same sub-pools, senders and nonces"
    );
    assert!(!backup.path().exists(), "read once");
    assert!(backup.restore(&restarted).unwrap().is_none());

    // Saved again and restarted after a block took the ready ones: those are known, the queued
    // one comes back.
    assert_eq!(backup.save(&restarted).unwrap(), 5);
    sequencer(&Arc::new(restarted)).sequence(&mut node).unwrap();
    let again = TxPool::new(PoolConfig::default(), &config(), node.store().clone());
    let restored = backup.restore(&again).unwrap().unwrap();
    assert_eq!(
        (
            restored.total,
            restored.added,
            restored.known,
            restored.refused
        ),
        (5, 1, 4, 0)
    );
    assert_eq!(again.queued_len(), 1);

    // An empty pool leaves no file behind.
    let empty = TxPool::new(PoolConfig::default(), &config(), node.store().clone());
    std::fs::write(backup.path(), "# stale\n").unwrap();
    assert_eq!(backup.save(&empty).unwrap(), 0);
    assert!(!backup.path().exists());
}

/// A keeper the host never saved (it gave up on an error) writes the backup when dropped, and
/// one saved writes what the pool holds then.
#[test]
fn a_pool_keeper_saves_when_dropped_or_when_saved() {
    let (dir, _node, pool) = setup();
    let a = keys().remove(0);
    let path = dir.path().join("pool.txt");
    let backup = rollup_sequencer::PoolBackup::new(path.clone());
    let keeper = backup.clone().restore_into(&pool);
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    drop(keeper);
    let lines = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|line| line.starts_with("0x"))
            .count()
    };
    assert_eq!(lines(&path), 1, "dropped unsaved: written then");
    // Read back into a new pool; saved, then dropped: one write, with what the pool held then.
    let (_dir, _node, restarted) = setup();
    let keeper = backup.restore_into(&restarted);
    assert_eq!(restarted.len(), 1);
    restarted.add_raw(&raw(&a, 1, FEE)).unwrap();
    keeper.save();
    assert_eq!(lines(&path), 2);
}

#[test]
fn a_backup_line_that_is_no_transaction_is_refused_and_the_rest_restored() {
    let (dir, _node, pool) = setup();
    let [a, b, _] = keys().try_into().unwrap();
    let path = dir.path().join("pool.txt");
    let overlong = format!("0x{}", "ab".repeat(MAX_TX_SIZE + 10));
    std::fs::write(
        &path,
        format!(
            "# edited by hand\n\n0xzz\n0x02\n{}\r\n{overlong}\n{}\n{}",
            raw(&a, 0, FEE),
            // Past the usual nonce window, as transactions of a removed block may be: the pool
            // held it, so it comes back.
            raw(&a, 70, FEE),
            // The last line may lack its newline; a fee cap just below the next base fee is
            // kept (the pool held it; it waits for the fee to fall).
            raw(&b, 0, BASE_FEE - 1),
        ),
    )
    .unwrap();
    let restored = rollup_sequencer::PoolBackup::new(path.clone())
        .restore(&pool)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            restored.total,
            restored.added,
            restored.known,
            restored.refused
        ),
        (6, 3, 0, 3)
    );
    assert!(
        restored
            .first_reason
            .as_deref()
            .unwrap()
            .contains("not hex"),
        "{restored:?}"
    );
    assert_eq!((pool.pending_len(), pool.queued_len()), (2, 1));
    assert!(!path.exists());
}

#[test]
fn a_block_never_holds_more_transaction_bytes_than_one_batch_carries() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    let calldata = Bytes::from(vec![0xab; 20_000]);
    for nonce in 0..8 {
        pool.add_raw(&raw_with_input(&a, nonce, FEE, 1_000_000, calldata.clone()))
            .unwrap();
    }
    let best = pool.best(30_000_000, 110_000, 1, |_| 0);
    let bytes: usize = best
        .iter()
        .map(alloy_eips::eip2718::Encodable2718::encode_2718_len)
        .sum();
    assert_eq!(best.len(), 5, "{bytes} bytes");
    assert!(bytes <= rollup_primitives::DataPath::Calldata.max_block_tx_bytes());
}

#[test]
fn blocks_are_packed_by_gas_used_and_what_does_not_fit_waits() {
    let (_dir, mut node, pool) = setup();
    let sequencer = Sequencer::new(
        SequencerConfig {
            block_time: Duration::from_millis(10),
        },
        pool.clone(),
    );
    let [a, b, _] = keys().try_into().unwrap();
    // Each reserves 12M gas but uses 21 000: three fit a 30M block by gas used.
    for (key, nonce) in [(&a, 0), (&b, 0), (&a, 1)] {
        pool.add_raw(&raw_with_input(key, nonce, FEE, 12_000_000, Bytes::new()))
            .unwrap();
    }
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .body(1)
            .unwrap()
            .unwrap()
            .len(),
        3
    );

    // 29.99M each: after the first, the rest no longer fit and wait (in nonce order) for later
    // blocks instead of being dropped.
    for nonce in 2..5 {
        pool.add_raw(&raw_with_input(&a, nonce, FEE, 29_990_000, Bytes::new()))
            .unwrap();
    }
    sequencer.sequence(&mut node).unwrap();
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .body(2)
            .unwrap()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(pool.len(), 2, "deferred, not dropped");
    sequencer.sequence(&mut node).unwrap();
    sequencer.sequence(&mut node).unwrap();
    assert!(pool.is_empty());
    assert_eq!(
        node.store()
            .reader()
            .unwrap()
            .account(a.address())
            .unwrap()
            .unwrap()
            .nonce,
        5
    );
}

fn eip7702(a: &PrivateKeySigner) -> Bytes {
    let authorization = Authorization {
        chain_id: U256::from(7),
        address: Address::repeat_byte(0x42),
        nonce: 1,
    };
    let signature = a.sign_hash_sync(&authorization.signature_hash()).unwrap();
    let tx = TxEip7702 {
        chain_id: 7,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: FEE,
        max_priority_fee_per_gas: FEE / 10,
        to: Address::repeat_byte(0x99),
        value: U256::ZERO,
        access_list: Default::default(),
        authorization_list: vec![authorization.into_signed(signature)],
        input: Bytes::new(),
    };
    sign(a, tx)
}

/// Block building itself refuses a block that does not encode as a batch, whatever let its
/// transactions in: nothing that cannot be posted ever becomes unsafe.
#[test]
fn a_block_that_does_not_encode_as_a_batch_is_never_sequenced() {
    let (_dir, mut node, _pool) = setup();
    let a = keys().remove(0);
    let unbatchable = L2Transaction::decode_2718_recover(&eip7702(&a)).unwrap();
    let hash = unbatchable.hash();
    let err = node.build_block(vec![unbatchable], 1_000).unwrap_err();
    match err {
        NodeError::Unbatchable {
            number, rejected, ..
        } => {
            assert_eq!(number, 1);
            assert_eq!(
                rejected,
                vec![hash],
                "the transaction that cannot be carried is named"
            );
        }
        other => panic!("expected Unbatchable, got {other}"),
    }
    let reader = node.store().reader().unwrap();
    assert_eq!(reader.l2_head().unwrap(), Some(0), "nothing was stored");
    drop(reader);
    // A batchable transaction still makes a block.
    let ok = L2Transaction::decode_2718_recover(&raw(&a, 0, FEE)).unwrap();
    let block = node.build_block(vec![ok], 1_000).unwrap().unwrap();
    assert_eq!(block.number, 1);
}

#[test]
fn transaction_types_the_batch_codec_cannot_carry_are_refused() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    let err = pool.add_raw(&eip7702(&a)).unwrap_err();
    assert_eq!(err, PoolError::TxTypeNotSupported);
    assert_eq!(err.to_string(), "transaction type not supported");
    // A blob transaction in its network form (blob, commitment and proof after the fields) is
    // past the size limit whatever it carries: refused for its type, as geth refuses it, not
    // as oversized.
    let blob_network_form = [&[0x03, 0xfa][..], &[0u8; 140_000]].concat();
    assert_eq!(
        pool.add_raw(&blob_network_form),
        Err(PoolError::TxTypeNotSupported)
    );
    assert!(pool.is_empty());
    // A deposit, well formed or not, is refused for what it is, not for its encoding.
    for deposit in [&[0x7e, 0xc0][..], &[0x7e][..]] {
        let err = pool.add_raw(deposit).unwrap_err();
        assert_eq!(
            err.to_string(),
            "deposit transactions can only be derived from L1"
        );
    }
    // The types the codec carries are accepted.
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();
}

#[test]
fn a_cost_that_overflows_u256_is_insufficient_funds() {
    // No balance at all: `gas * maxFee + value` wrapping to 0 would let it in.
    let (_dir, _node, pool) = setup();
    let broke = key(1);
    let gas_cost = U256::from(21_000u64) * U256::from(FEE);
    let tx = TxEip1559 {
        chain_id: 7,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: FEE,
        max_priority_fee_per_gas: FEE / 10,
        to: TxKind::Call(Address::repeat_byte(0x99)),
        value: U256::MAX - gas_cost + U256::from(1),
        access_list: Default::default(),
        input: Bytes::new(),
    };
    let err = pool.add_raw(&sign(&broke, tx)).unwrap_err();
    assert_eq!(
        err,
        PoolError::InsufficientFunds {
            balance: U256::ZERO,
            cost: U256::MAX
        }
    );
    assert!(
        err.to_string()
            .starts_with("insufficient funds for gas * price + value")
    );
    assert!(pool.is_empty());
}

#[test]
fn a_sender_cannot_pool_more_than_its_balance_pays_for() {
    // Enough for two and a half transfers at the fee: each is affordable alone, but as in
    // geth's overdraft check, three together are not.
    let one = U256::from(21_000u64) * U256::from(FEE) + U256::from(1);
    let balance = one * U256::from(5) / U256::from(2);
    let poor = key(7);
    let (_dir, _node, pool) = setup_with(
        PoolConfig::default(),
        config_funding([(poor.address(), balance)]),
    );
    pool.add_raw(&raw(&poor, 0, FEE)).unwrap();
    pool.add_raw(&raw(&poor, 1, FEE)).unwrap();
    let err = pool.add_raw(&raw(&poor, 2, FEE)).unwrap_err();
    assert_eq!(
        err,
        PoolError::Overdraft {
            balance,
            queued: one * U256::from(2),
            cost: one,
        }
    );
    assert!(
        err.to_string()
            .starts_with("insufficient funds for gas * price + value")
    );
    // A nonce gap does not hide the cost of the transactions before it.
    assert!(matches!(
        pool.add_raw(&raw(&poor, 5, FEE)),
        Err(PoolError::Overdraft { .. })
    ));
    assert_eq!(pool.len(), 2);
    // A replacement counts instead of the transaction it replaces, not beside it: a 10% bump
    // fits, doubling the fee does not.
    let replacement = |max_fee: u128| raw_tip(&poor, 1, max_fee, max_fee / 5);
    assert!(matches!(
        pool.add_raw(&replacement(FEE * 2)),
        Err(PoolError::Overdraft { .. })
    ));
    pool.add_raw(&replacement(FEE + FEE / 10)).unwrap();
    assert_eq!(pool.len(), 2);
}

#[test]
fn transactions_behind_a_nonce_gap_do_not_count_toward_the_balance() {
    // As geth: only executable transactions are counted, so a stale gapped one cannot block
    // the sender's next nonce.
    let one = U256::from(21_000u64) * U256::from(FEE) + U256::from(1);
    let sender = key(8);
    let (_dir, _node, pool) = setup_with(
        PoolConfig::default(),
        config_funding([(sender.address(), one * U256::from(5) / U256::from(2))]),
    );
    pool.add_raw(&raw(&sender, 0, FEE)).unwrap();
    pool.add_raw(&raw(&sender, 5, FEE)).unwrap();
    pool.add_raw(&raw(&sender, 1, FEE)).unwrap();
    assert_eq!((pool.pending_len(), pool.queued_len()), (2, 1));
    assert!(matches!(
        pool.add_raw(&raw(&sender, 2, FEE)),
        Err(PoolError::Overdraft { .. })
    ));
}

#[test]
fn transactions_of_removed_blocks_come_back_past_the_nonce_window() {
    // An L1 reorg removed 100 sequenced transfers of one sender: a new send stops at the
    // nonce window (64 ahead), but all of the removed ones are pooled again, in order.
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    let decoded = |nonce| L2Transaction::decode_2718_recover(&raw(&a, nonce, FEE)).unwrap();
    assert!(matches!(
        pool.add(decoded(65)),
        Err(PoolError::NonceTooHigh { .. })
    ));
    for nonce in 0..100 {
        pool.readmit(decoded(nonce)).unwrap();
    }
    assert_eq!((pool.pending_len(), pool.queued_len()), (100, 0));
    // Every other check still applies.
    let err = pool.readmit(decoded(5)).unwrap_err();
    assert_eq!(err, PoolError::AlreadyKnown);
}

/// Thousands of one sender's transactions in the removed blocks of a deep L1 reorg all come
/// back: those past a 1 024-nonce window were dropped, receipts served as safe among them.
#[test]
fn every_removed_transaction_of_a_busy_sender_comes_back() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    for nonce in 0..3_000 {
        let tx = L2Transaction::decode_2718_recover(&raw(&a, nonce, FEE)).unwrap();
        pool.readmit(tx).unwrap();
    }
    assert_eq!((pool.pending_len(), pool.queued_len()), (3_000, 0));
    pool.self_check().unwrap();
}

/// The pool's indexes (sub-pools, counts, eviction tails, queued ages, hashes) stay what its
/// transactions say through appends in nonce order, which take a shortcut, and every other
/// kind of change.
#[test]
fn the_pool_indexes_agree_with_its_transactions_through_every_kind_of_change() {
    let (_dir, _node, pool) = setup();
    let keys = keys();
    let (a, b, c) = (&keys[0], &keys[1], &keys[2]);
    let check = |what: &str| {
        pool.self_check()
            .unwrap_or_else(|err| panic!("after {what}: {err}"));
    };
    for nonce in 0..10 {
        pool.add_raw(&raw(a, nonce, FEE)).unwrap();
        check("appends in nonce order");
    }
    for nonce in [5, 3, 9, 1] {
        pool.add_raw(&raw(b, nonce, FEE)).unwrap();
        check("inserts behind a gap");
    }
    pool.add_raw(&raw(b, 0, FEE)).unwrap();
    check("the start of a gap filled");
    pool.add_raw(&raw(b, 2, FEE)).unwrap();
    check("a gap filled");
    pool.add_raw(&raw(b, 12, FEE)).unwrap();
    check("an append behind a gap");
    pool.add_raw(&raw(a, 4, FEE * 2)).unwrap();
    check("a replacement");
    pool.add_raw(&raw(c, 3, FEE)).unwrap();
    check("a sender's first transaction, queued");
    pool.add_raw(&raw(c, 4, FEE * 3)).unwrap();
    check("an append to a queued run");
    pool.add_raw(&raw(c, 0, FEE)).unwrap();
    check("a pending start before a queued run");
    pool.add_raw(&raw(c, 1, FEE)).unwrap();
    check("an append to the pending run");
    assert_eq!(
        (pool.pending_len(), pool.queued_len()),
        (10 + 4 + 2, 2 + 1 + 2)
    );
    let (a_address, b_address) = (a.address(), b.address());
    pool.remove_and_prune(&[], |sender| {
        if sender == a_address {
            3
        } else if sender == b_address {
            4
        } else {
            0
        }
    });
    check("pruning used nonces");
    pool.add_raw(&raw(a, 10, FEE)).unwrap();
    check("an append after pruning");
    pool.add_raw(&raw(b, 13, FEE)).unwrap();
    check("an append to the queued run after pruning");
}

#[test]
fn a_transaction_no_block_can_carry_is_refused_at_the_door() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    // Under the old 128 KiB limit, over what one block (one batch) carries; and just over what
    // one batch segment is sure to carry, which a batcher could otherwise never post.
    for size in [115_000, MAX_TX_SIZE - 100] {
        let big = raw_with_input(&a, 0, FEE, 5_000_000, Bytes::from(vec![1; size]));
        assert!(big.len() > MAX_TX_SIZE);
        let err = pool.add_raw(&big).unwrap_err();
        assert_eq!(
            err,
            PoolError::Oversized {
                size: big.len(),
                limit: MAX_TX_SIZE
            }
        );
        assert!(err.to_string().starts_with("oversized data"));
    }
    let b = keys().remove(1);
    let largest = raw_with_input(
        &b,
        0,
        FEE,
        5_000_000,
        Bytes::from(vec![1; MAX_TX_SIZE - 200]),
    );
    assert!(largest.len() <= MAX_TX_SIZE);
    pool.add_raw(&largest).unwrap();
    let err = pool
        .add_raw(&raw_with_input(&a, 0, FEE, 30_000_001, Bytes::new()))
        .unwrap_err();
    assert_eq!(
        err,
        PoolError::GasLimitExceeded {
            gas_limit: 30_000_001,
            block_gas_limit: 30_000_000
        }
    );
    assert!(err.to_string().starts_with("exceeds block gas limit"));
    // Only the largest admissible transaction is in.
    assert_eq!(pool.len(), 1);
}

#[test]
fn queued_spam_from_1000_keys_does_not_keep_an_honest_transaction_out_of_the_next_block() {
    let spammers: Vec<PrivateKeySigner> = (0..1_000).map(key).collect();
    let honest = keys().remove(0);
    let funded = spammers
        .iter()
        .map(PrivateKeySigner::address)
        .chain([honest.address()])
        .map(|address| (address, U256::from(10u128.pow(20))));
    let (_dir, mut node, pool) = setup_with(PoolConfig::default(), config_funding(funded));
    let defaults = PoolConfig::default();
    // Every spammer skips nonce 0 and queues as far ahead as the pool lets it, at twice the
    // honest fee.
    let mut refused_full = 0;
    for spammer in &spammers {
        for nonce in 1..=64 {
            match pool.add_raw(&raw(spammer, nonce, 2 * FEE)) {
                Ok(_) => {}
                Err(PoolError::SenderQueueFull { max, .. }) => {
                    assert_eq!(max, defaults.max_queued_per_sender);
                    assert_eq!(nonce as usize, max + 1);
                    break;
                }
                Err(PoolError::PoolFull) => {
                    refused_full += 1;
                    break;
                }
                Err(err) => panic!("{err}"),
            }
        }
    }
    assert_eq!(pool.queued_len(), defaults.max_queued);
    assert_eq!(pool.pending_len(), 0);
    assert!(refused_full > 0, "the queued sub-pool filled up");

    let honest_hash = pool.add_raw(&raw(&honest, 0, FEE)).unwrap();
    assert_eq!(pool.pending_len(), 1);
    sequencer(&pool).sequence(&mut node).unwrap();
    assert_eq!(block_hashes(&node, 1), vec![honest_hash]);
    assert_eq!(
        pool.queued_len(),
        defaults.max_queued,
        "spam waits for its gaps"
    );
}

#[test]
fn a_higher_tip_is_included_first_and_each_sender_stays_in_nonce_order() {
    let (_dir, mut node, pool) = setup();
    let [spammer, payer, late] = keys().try_into().unwrap();
    // The spammer arrives first with a chain of low-tip transactions.
    let spam: Vec<B256> = (0..5)
        .map(|nonce| pool.add_raw(&raw_tip(&spammer, nonce, FEE, 1)).unwrap())
        .collect();
    // A low tip on its first nonce, a high one on its second: the second cannot jump ahead of
    // the first, but the pair outbids the spam once the first is in.
    let payer0 = pool.add_raw(&raw_tip(&payer, 0, FEE, 2)).unwrap();
    let payer1 = pool.add_raw(&raw_tip(&payer, 1, FEE, FEE / 2)).unwrap();
    // The tip is capped by `maxFee - baseFee`: a tip of almost 1 gwei under a fee cap 1 wei
    // above the base fee pays 1 wei.
    let capped = pool
        .add_raw(&raw_tip(&late, 0, BASE_FEE + 1, BASE_FEE + 1))
        .unwrap();
    let best: Vec<B256> = pool
        .best(30_000_000, 110_000, BASE_FEE as u64, |_| 0)
        .iter()
        .map(|tx| tx.hash())
        .collect();
    let mut expected = vec![payer0, payer1];
    expected.extend(&spam[..]);
    // Tip 1 wei like the spam but later: after it.
    expected.push(capped);
    assert_eq!(best, expected);

    sequencer(&pool).sequence(&mut node).unwrap();
    assert_eq!(block_hashes(&node, 1), expected);
    assert!(pool.is_empty());
}

#[test]
fn a_full_pool_evicts_the_cheapest_tail_for_a_better_payer_and_refuses_a_worse_one() {
    let senders: Vec<PrivateKeySigner> = (0..6).map(key).collect();
    let funded = senders
        .iter()
        .map(|k| (k.address(), U256::from(10u128.pow(20))));
    let pool_config = PoolConfig {
        max_pending: 4,
        max_queued: 2,
        ..PoolConfig::default()
    };
    let (_dir, _node, pool) = setup_with(pool_config, config_funding(funded));
    let [a, b, c, d, e, f] = senders.try_into().unwrap();
    let gwei = 1_000_000_000;

    // Pending: a0 (tip 5), a1 (tip 1, a's tail), b0 (tip 2), c0 (tip 3). Full.
    let a0 = pool.add_raw(&raw_tip(&a, 0, FEE, 5 * gwei)).unwrap();
    let a1 = pool.add_raw(&raw_tip(&a, 1, FEE, gwei)).unwrap();
    let b0 = pool.add_raw(&raw_tip(&b, 0, FEE, 2 * gwei)).unwrap();
    let c0 = pool.add_raw(&raw_tip(&c, 0, FEE, 3 * gwei)).unwrap();
    assert_eq!(pool.pending_len(), 4);

    // A worse (or equal) payer cannot make room: the cheapest tail, a1, pays 1 gwei.
    for tip in [gwei / 2, gwei] {
        let err = pool.add_raw(&raw_tip(&d, 0, FEE, tip)).unwrap_err();
        assert_eq!(err, PoolError::PoolFull);
        assert_eq!(err.to_string(), "txpool is full");
    }
    // A better one evicts a's tail (never a0, which would open a gap before a1).
    let d0 = pool.add_raw(&raw_tip(&d, 0, FEE, 4 * gwei)).unwrap();
    assert!(pool.get(&a1).is_none(), "the cheapest tail is evicted");
    for kept in [a0, b0, c0, d0] {
        assert!(pool.get(&kept).is_some());
    }
    assert_eq!(pool.pending_len(), 4);
    // Next cheapest tail is b0 (2 gwei); a0 (5 gwei) is now a's tail and safe from 2.5 gwei.
    pool.add_raw(&raw_tip(&e, 0, FEE, 5 * gwei / 2)).unwrap();
    assert!(pool.get(&b0).is_none());
    assert!(pool.get(&a0).is_some());

    // Queued has its own room: gapped transactions never evict pending ones.
    let f2 = pool.add_raw(&raw_tip(&f, 2, FEE, gwei)).unwrap();
    let f3 = pool.add_raw(&raw_tip(&f, 3, FEE, 3 * gwei)).unwrap();
    assert_eq!((pool.pending_len(), pool.queued_len()), (4, 2));
    // A sender cannot evict its own queued transactions to make room for more of them.
    assert_eq!(
        pool.add_raw(&raw_tip(&f, 4, FEE, 9 * gwei)),
        Err(PoolError::PoolFull)
    );
    // Another sender that pays more evicts f's queued tail f3 (its tail, though f2 pays less).
    let a5 = pool.add_raw(&raw_tip(&a, 5, FEE, 4 * gwei)).unwrap();
    assert!(pool.get(&f3).is_none());
    assert!(pool.get(&f2).is_some() && pool.get(&a5).is_some());
    assert_eq!((pool.pending_len(), pool.queued_len()), (4, 2));
    assert_eq!(pool.len(), 6);
}

#[test]
fn replacement_needs_the_bump_on_both_fees() {
    let (_dir, _node, pool) = setup();
    let a = keys().remove(0);
    let gwei = 1_000_000_000;
    let first = pool.add_raw(&raw_tip(&a, 0, 10 * gwei, gwei)).unwrap();
    // A higher fee cap alone, or a higher tip alone, is not enough.
    for (max_fee, tip) in [(20 * gwei, gwei), (10 * gwei, 2 * gwei), (11 * gwei, gwei)] {
        let err = pool.add_raw(&raw_tip(&a, 0, max_fee, tip)).unwrap_err();
        assert_eq!(err, PoolError::ReplacementUnderpriced, "{max_fee} {tip}");
        assert_eq!(err.to_string(), "replacement transaction underpriced");
    }
    // Just under 10% on the tip.
    assert_eq!(
        pool.add_raw(&raw_tip(&a, 0, 11 * gwei, 11 * gwei / 10 - 1)),
        Err(PoolError::ReplacementUnderpriced)
    );
    assert_eq!(
        pool.add_raw(&raw_tip(&a, 0, 10 * gwei, gwei)),
        Err(PoolError::AlreadyKnown)
    );
    // Exactly 10% more on both replaces it.
    let second = pool
        .add_raw(&raw_tip(&a, 0, 11 * gwei, 11 * gwei / 10))
        .unwrap();
    assert_eq!(pool.len(), 1);
    assert!(pool.get(&first).is_none());
    assert!(pool.get(&second).is_some());
}

#[test]
fn replacement_of_fees_near_u128_max_does_not_overflow() {
    let rich = key(1);
    let (_dir, _node, pool) = setup_with(
        PoolConfig::default(),
        config_funding([(rich.address(), U256::MAX)]),
    );
    // u128::MAX is 5.3% above 95% of it: not enough, and computing the bump must not overflow.
    let high = u128::MAX / 100 * 95;
    pool.add_raw(&raw_tip(&rich, 0, high, high)).unwrap();
    assert_eq!(
        pool.add_raw(&raw_tip(&rich, 0, u128::MAX, u128::MAX)),
        Err(PoolError::ReplacementUnderpriced)
    );
    // 11.1% above 90% of it: enough.
    let lower = u128::MAX / 100 * 90;
    pool.add_raw(&raw_tip(&rich, 1, lower, lower)).unwrap();
    let replacement = pool
        .add_raw(&raw_tip(&rich, 1, u128::MAX, u128::MAX))
        .unwrap();
    assert!(pool.get(&replacement).is_some());
    assert_eq!(pool.len(), 2);
}

#[test]
fn queued_transactions_expire_and_rejected_nonces_demote_the_rest() {
    let pool_config = PoolConfig {
        queued_lifetime: Duration::from_millis(200),
        ..PoolConfig::default()
    };
    let (_dir, _node, pool) = setup_with(pool_config, config());
    let [a, b, _] = keys().try_into().unwrap();
    let a0 = pool.add_raw(&raw(&a, 0, FEE)).unwrap();
    let a1 = pool.add_raw(&raw(&a, 1, FEE)).unwrap();
    let b2 = pool.add_raw(&raw(&b, 2, FEE)).unwrap();
    assert_eq!((pool.pending_len(), pool.queued_len()), (2, 1));
    // Block building rejected a0: a1 now waits behind a gap.
    pool.remove_and_prune(&[a0], |_| 0);
    assert_eq!((pool.pending_len(), pool.queued_len()), (0, 2));
    // Filling the gap promotes it again.
    let a0 = pool.add_raw(&raw(&a, 0, FEE * 2)).unwrap();
    assert_eq!((pool.pending_len(), pool.queued_len()), (2, 1));
    std::thread::sleep(Duration::from_millis(300));
    pool.remove_and_prune(&[], |_| 0);
    assert!(pool.get(&b2).is_none(), "queued past its lifetime");
    assert!(
        pool.get(&a0).is_some() && pool.get(&a1).is_some(),
        "pending never expires"
    );
    assert_eq!(pool.len(), 2);
}

/// Gives the node L1 blocks 1 to `count`, empty, block `n` at `timestamp(n)`.
fn follow_l1(node: &mut RollupNode, count: u64, timestamp: impl Fn(u64) -> u64) {
    let blocks: Vec<L1Block> = (1..=count)
        .map(|number| l1_block(number, timestamp(number)))
        .collect();
    node.handle_notification(&L1Notification::Committed {
        new: Arc::new(L1Chain::new(blocks).unwrap()),
    })
    .unwrap();
}

/// A pool and a node whose L2 blocks may run ten minutes ahead of their L1 origin.
fn setup_with_drift() -> (tempfile::TempDir, RollupNode, Arc<TxPool>) {
    setup_with(
        PoolConfig::default(),
        RollupConfig {
            max_sequencer_drift: 600,
            ..config()
        },
    )
}

/// The empty L1 block `number` as [`follow_l1`] gives it.
fn l1_block(number: u64, timestamp: u64) -> L1Block {
    let hash = |n: u64| B256::from(U256::from(n) << 8);
    L1Block {
        number,
        hash: hash(number),
        parent_hash: if number == 1 {
            B256::ZERO
        } else {
            hash(number - 1)
        },
        timestamp,
        mix_hash: B256::ZERO,
        base_fee_per_gas: Some(1),
        transactions: vec![],
        receipts: vec![],
    }
}

/// An L1 reorg removes an unsafe block holding a sender's first transactions while its later
/// ones still wait in the pool, more of them than the per-sender queued cap: every one is
/// pooled again, executable in nonce order, and the next block holds them all.
#[test]
fn an_unwind_keeps_every_transaction_of_a_sender_with_more_than_its_queued_cap_pooled() {
    let (_dir, mut node, pool) = setup_with_drift();
    let l1_timestamp = |number: u64| 1 + number;
    follow_l1(&mut node, 2, l1_timestamp);
    let sequencer = sequencer(&pool);
    // Catch up to origin 2 first, then a block on it with the sender's first 12 transfers.
    sequencer.sequence_at(&mut node, l1_timestamp(2)).unwrap();
    let a = keys().remove(0);
    for nonce in 0..12 {
        pool.add_raw(&raw(&a, nonce, FEE)).unwrap();
    }
    sequencer
        .sequence_at(&mut node, l1_timestamp(2) + 1)
        .unwrap();
    assert_eq!(pool.len(), 0, "the first 12 are in a block");
    let queued_cap = PoolConfig::default().max_queued_per_sender;
    let later = queued_cap as u64 + 12;
    for nonce in 12..12 + later {
        pool.add_raw(&raw(&a, nonce, FEE)).unwrap();
    }
    assert_eq!(pool.pending_len(), later as usize);

    // L1 block 2 leaves the canonical chain: its L2 blocks are unwound.
    let outcome = node
        .handle_notification(&L1Notification::Reverted {
            old: Arc::new(L1Chain::new(vec![l1_block(2, l1_timestamp(2))]).unwrap()),
        })
        .unwrap();
    assert!(outcome.unwound_l2_blocks > 0);
    sequencer.after_unwind(&mut node).unwrap();
    assert_eq!(
        (pool.pending_len(), pool.queued_len()),
        (12 + later as usize, 0),
        "every transaction is pooled again, none over the queued cap dropped"
    );

    // L1 goes on; the next block holds all of them, in nonce order.
    follow_l1(&mut node, 3, l1_timestamp);
    sequencer
        .sequence_at(&mut node, l1_timestamp(3) + 1)
        .unwrap();
    assert_eq!(pool.len(), 0);
    let reader = node.store().reader().unwrap();
    assert_eq!(
        reader.account(a.address()).unwrap().unwrap().nonce,
        12 + later
    );
}

/// The base fee was falling when a transaction with a fee cap just above it was sequenced; an
/// L1 reorg unwinds to a block whose next base fee is above that cap. The transaction stays in
/// the pool (as geth and reth keep such transactions), waits out the blocks whose base fee is
/// above its cap, and is included once the fee falls to it again.
#[test]
fn a_removed_transaction_below_the_unwound_base_fee_waits_for_the_fee_to_fall() {
    let (_dir, mut node, pool) = setup_with_drift();
    let l1_timestamp = |number: u64| 1 + number;
    let next_base_fee = |node: &RollupNode| {
        let reader = node.store().reader().unwrap();
        let head = reader.l2_head().unwrap().unwrap();
        let header = reader.header(head).unwrap().unwrap();
        u128::from(
            header
                .next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum())
                .unwrap(),
        )
    };
    let sequencer = sequencer(&pool);
    follow_l1(&mut node, 1, l1_timestamp);
    sequencer.sequence_at(&mut node, l1_timestamp(1)).unwrap();
    let before = next_base_fee(&node);
    // Empty blocks of origins 2 to 6: the base fee falls by an eighth in each.
    follow_l1(&mut node, 6, l1_timestamp);
    sequencer.sequence_at(&mut node, l1_timestamp(6)).unwrap();
    let fallen = next_base_fee(&node);
    assert!(fallen + 1 < before, "{fallen} < {before}");
    let a = keys().remove(0);
    let hash = pool.add_raw(&raw_tip(&a, 0, fallen + 1, 1)).unwrap();
    // Refused at the door above the next base fee, as before.
    assert!(matches!(
        pool.add_raw(&raw_tip(&keys().remove(1), 0, fallen - 1, 1)),
        Err(PoolError::FeeCapTooLow { .. })
    ));
    sequencer
        .sequence_at(&mut node, l1_timestamp(6) + 1)
        .unwrap();
    assert_eq!(pool.len(), 0, "sequenced");

    // L1 blocks 2 to 6 leave the canonical chain: the L2 chain goes back to origin 1.
    let old: Vec<L1Block> = (2..=6).map(|n| l1_block(n, l1_timestamp(n))).collect();
    node.handle_notification(&L1Notification::Reverted {
        old: Arc::new(L1Chain::new(old).unwrap()),
    })
    .unwrap();
    assert_eq!(next_base_fee(&node), before);
    sequencer.after_unwind(&mut node).unwrap();
    assert_eq!(
        (pool.pending_len(), pool.queued_len()),
        (1, 0),
        "kept, though its fee cap is below the next base fee"
    );
    assert!(
        pool.best(30_000_000, 110_000, before as u64, |_| 0)
            .is_empty(),
        "not offered to a block whose base fee is above its cap"
    );

    // L1 goes on: the blocks of origins 2 to 7 lower the base fee again, and one holds it.
    follow_l1(&mut node, 7, l1_timestamp);
    sequencer.sequence_at(&mut node, l1_timestamp(7)).unwrap();
    assert_eq!(pool.len(), 0);
    let reader = node.store().reader().unwrap();
    assert!(reader.transaction(hash).unwrap().is_some(), "included");
    assert_eq!(reader.account(a.address()).unwrap().unwrap().nonce, 1);
}

/// The transactions an L1 reorg takes out of blocks are on disk before the next block: a kill -9
/// right after the reorg (no backup written at the stop) finds them at the next start, where
/// only the pool held them before.
#[test]
fn transactions_a_reorg_gives_back_survive_a_kill() {
    let (dir, mut node, pool) = setup_with_drift();
    let l1_timestamp = |number: u64| 1 + number;
    let backup = PoolBackup::new(dir.path().join("backup.txt"));
    let sequencer = sequencer(&pool).with_backup(Some(backup.clone()));
    // The start reads what the last run left (nothing here); until it has, a reorg writes
    // nothing over it.
    pool.add_raw(&raw(&keys().remove(1), 0, FEE)).unwrap();
    assert_eq!(backup.save_unwound(&pool).unwrap(), 0);
    assert!(!backup.unwound_path().exists());
    assert!(backup.restore(&pool).unwrap().is_none());
    follow_l1(&mut node, 2, l1_timestamp);
    sequencer.sequence_at(&mut node, l1_timestamp(2)).unwrap();
    let a = keys().remove(0);
    let hashes: Vec<B256> = (0..3)
        .map(|nonce| pool.add_raw(&raw(&a, nonce, FEE)).unwrap())
        .collect();
    sequencer
        .sequence_at(&mut node, l1_timestamp(2) + 1)
        .unwrap();
    assert_eq!(pool.len(), 0, "sequenced");
    assert!(
        !backup.unwound_path().exists(),
        "nothing written without a reorg"
    );

    let old: Vec<L1Block> = (2..=2).map(|n| l1_block(n, l1_timestamp(n))).collect();
    node.handle_notification(&L1Notification::Reverted {
        old: Arc::new(L1Chain::new(old).unwrap()),
    })
    .unwrap();
    sequencer.after_unwind(&mut node).unwrap();
    assert_eq!(pool.len(), 3, "back in the pool");
    assert!(backup.unwound_path().exists());

    // A kill -9 now: the next start's pool reads them back.
    let restarted = TxPool::new(PoolConfig::default(), node.config(), node.store().clone());
    let restored = backup.restore(&restarted).unwrap().expect("a file to read");
    assert_eq!((restored.total, restored.added), (3, 3));
    for hash in &hashes {
        assert!(restarted.get(hash).is_some(), "{hash} back");
    }
    assert!(!backup.unwound_path().exists(), "removed once read");
}

/// An L1 origin that trails L1 by several blocks, within the drift (the node started late, or
/// L1 blocks come as fast as L2 blocks), is closed in one tick: each block adopts the next
/// origin, at most ten blocks a second, instead of one origin per block interval forever.
#[test]
fn a_trailing_l1_origin_is_caught_up_within_a_tick() {
    let (_dir, mut node, pool) = setup_with_drift();
    let l1_timestamp = |number: u64| 1 + number;
    follow_l1(&mut node, 8, l1_timestamp);
    let sequencer = sequencer(&pool);
    sequencer.sequence_at(&mut node, l1_timestamp(8)).unwrap();
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    let origin = decode_l1_origin(&reader.header(head).unwrap().unwrap().extra_data).unwrap();
    assert_eq!(
        origin.number, 8,
        "one tick adopted every L1 block up to the head ({head} blocks)"
    );
    // Nothing trails any more: the next tick builds nothing without transactions.
    drop(reader);
    sequencer.sequence_at(&mut node, l1_timestamp(8)).unwrap();
    assert_eq!(
        node.store().reader().unwrap().l2_head().unwrap().unwrap(),
        head
    );
}

/// A sequencer that was down far longer than the drift (production defaults: 600 s drift,
/// 3 600-block window) catches up alone: catch-up blocks in the past, each adopting the next L1
/// origin and never above origin + drift, then normal blocks with user transactions again.
#[test]
fn a_sequencer_stopped_for_longer_than_the_drift_catches_up_alone() {
    let config = RollupConfig {
        sequencing_window: 3_600,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(4),
        ..config()
    };
    let (_dir, mut node, pool) = setup_with(PoolConfig::default(), config);
    // 1 000 L1 blocks (about 3 h 20 min) went by while the sequencer was down.
    let l1_timestamp = |number: u64| 1 + 12 * number;
    follow_l1(&mut node, 1_000, l1_timestamp);
    let a = keys().remove(0);
    pool.add_raw(&raw(&a, 0, FEE)).unwrap();

    let now = l1_timestamp(1_000) + 5;
    let sequencer = sequencer(&pool);
    // Catch-up blocks go out in runs within one tick; once within the drift, each normal block
    // (one per tick) adopts the next origin until L1's head.
    let head_origin = |node: &RollupNode| {
        let reader = node.store().reader().unwrap();
        let header = reader
            .header(reader.l2_head().unwrap().unwrap())
            .unwrap()
            .unwrap();
        decode_l1_origin(&header.extra_data).unwrap().number
    };
    // One tick per second of wall-clock time: at most ten blocks share a second.
    let mut ticks = 0;
    let mut clock = now;
    while head_origin(&node) < 1_000 {
        sequencer.sequence_at(&mut node, clock).unwrap();
        ticks += 1;
        clock += 1;
        assert!(ticks <= 100, "stuck at origin {}", head_origin(&node));
    }
    sequencer.sequence_at(&mut node, clock).unwrap();
    let reader = node.store().reader().unwrap();
    let head = reader.l2_head().unwrap().unwrap();
    assert!(head >= 1_000, "one block per L1 origin, got {head}");
    let mut parent_timestamp = 0;
    let mut user_tx_block = None;
    for number in 1..=head {
        let header = reader.header(number).unwrap().unwrap();
        let origin = decode_l1_origin(&header.extra_data).unwrap();
        assert!(
            header.timestamp >= parent_timestamp,
            "L2 time never goes back"
        );
        assert!(header.timestamp >= l1_timestamp(origin.number));
        assert!(
            header.timestamp <= l1_timestamp(origin.number) + 600,
            "block {number} is beyond its origin's drift"
        );
        parent_timestamp = header.timestamp;
        if reader
            .body(number)
            .unwrap()
            .unwrap()
            .iter()
            .any(|tx| !tx.is_deposit())
        {
            user_tx_block.get_or_insert((number, header.timestamp, origin.number));
        }
    }
    let head_origin = decode_l1_origin(&reader.header(head).unwrap().unwrap().extra_data).unwrap();
    assert_eq!(head_origin.number, 1_000, "back at L1's head");
    let (_, timestamp, origin) = user_tx_block.expect("the user's transaction was included");
    assert!(
        timestamp >= now,
        "user transactions wait for a block at the current time"
    );
    assert!(
        timestamp <= l1_timestamp(origin) + 600,
        "the first block at the current time is back within the drift"
    );
    assert!(pool.is_empty());
}
