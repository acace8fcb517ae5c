//! History over real MDBX: historical state and trie proofs are seeks whatever their distance
//! to the head, and history beyond the retention is pruned with a clear error.

use std::time::{Duration, Instant};

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use revm::{
    DatabaseRef,
    database::BundleState,
    primitives::{KECCAK_EMPTY, StorageKey, StorageValue},
    state::AccountInfo,
};
use rollup_primitives::{
    BlockNumHash, ContractAddresses, GenesisAccount, L2Block, L2Genesis, RollupConfig,
};
use rollup_storage::{StorageError, Store, StoreWriter};

const HOT: Address = Address::repeat_byte(0xaa);
const CONTRACT: Address = Address::repeat_byte(0xcc);

fn config() -> RollupConfig {
    let alloc = (1..=2u8)
        .map(|i| {
            (
                Address::repeat_byte(i),
                GenesisAccount {
                    balance: U256::from(i),
                    nonce: 0,
                    code: None,
                    storage: Default::default(),
                },
            )
        })
        .collect();
    RollupConfig {
        l1_chain_id: 31337,
        l2_chain_id: 42069,
        contracts: ContractAddresses {
            l1_bridge: Address::repeat_byte(1),
            batch_inbox: Address::repeat_byte(2),
            state_manager: Address::repeat_byte(3),
        },
        genesis: L2Genesis {
            l1_origin: BlockNumHash {
                number: 100,
                hash: B256::repeat_byte(100),
            },
            timestamp: 1_000,
            gas_limit: 30_000_000,
            base_fee_per_gas: 1_000_000_000,
            alloc,
        },
        sequencing_window: 2,
        max_sequencer_drift: 600,
        batcher_address: Address::repeat_byte(0x19),
    }
}

fn account(balance: u64) -> AccountInfo {
    AccountInfo {
        nonce: 0,
        balance: U256::from(balance),
        code_hash: KECCAK_EMPTY,
        account_id: None,
        code: None,
    }
}

/// Appends the next block through the real apply path: `HOT`'s balance becomes `number`, and
/// with `slot`, `CONTRACT`'s storage slot gets `number`.
fn append(writer: &mut StoreWriter, slot: Option<U256>) {
    let head = writer.l2_head().unwrap();
    // As if derived from L1 long ago: the retention alone decides what is pruned.
    writer.settle_l2_through(head).unwrap();
    let number = head + 1;
    let state = writer.state();
    let mut changes = vec![(
        HOT,
        state.basic_ref(HOT).unwrap(),
        Some(account(number)),
        Default::default(),
    )];
    if let Some(slot) = slot {
        let contract_before = state.basic_ref(CONTRACT).unwrap();
        let value_before = state.storage_ref(CONTRACT, slot).unwrap();
        changes.push((
            CONTRACT,
            contract_before,
            Some(account(1)),
            [(
                slot as StorageKey,
                (value_before, StorageValue::from(number)),
            )]
            .into_iter()
            .collect(),
        ));
    }
    drop(state);
    let bundle = BundleState::new(
        changes,
        Vec::<
            Vec<(
                Address,
                Option<Option<AccountInfo>>,
                Vec<(StorageKey, StorageValue)>,
            )>,
        >::new(),
        Vec::new(),
    );
    let mut block = L2Block {
        header: Header {
            number,
            parent_hash: writer.block_hash(head).unwrap().unwrap(),
            timestamp: 1_000 + number,
            ..Default::default()
        },
        transactions: vec![],
    };
    writer.append_block(&mut block, &[], &bundle).unwrap();
}

fn open(dir: &std::path::Path, retention: Option<u64>) -> Store {
    let mut store = Store::open(dir).unwrap();
    if let Some(blocks) = retention {
        store = store.with_history_retention(blocks);
    }
    store.init_genesis(&config()).unwrap();
    store
}

/// `HOT`'s balance at `block`, checked against a proof under that block's state root.
fn proven_balance(store: &Store, block: u64) -> (U256, Duration, Duration) {
    let reader = store.reader().unwrap();
    let started = Instant::now();
    let balance = reader
        .state_at(block)
        .unwrap()
        .basic_ref(HOT)
        .unwrap()
        .map(|info| info.balance)
        .unwrap_or_default();
    let read = started.elapsed();
    let started = Instant::now();
    let key = rollup_trie::account_key(HOT);
    let proof = reader.trie_proof_at(block, key).unwrap();
    let proved = started.elapsed();
    let root = reader.header(block).unwrap().unwrap().state_root;
    let value = (!balance.is_zero() || block > 0)
        .then(|| rollup_trie::account_value_hash(0, balance, KECCAK_EMPTY));
    rollup_trie::verify(root, key, value, &proof)
        .unwrap_or_else(|err| panic!("proof of block {block}: {err}"));
    (balance, read, proved)
}

#[test]
fn history_100_000_blocks_back_is_a_seek() {
    const BLOCKS: u64 = 100_000;
    const PER_TRANSACTION: u64 = 5_000;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), None);
    let started = Instant::now();
    for _ in 0..BLOCKS / PER_TRANSACTION {
        let mut writer = store.writer().unwrap();
        for _ in 0..PER_TRANSACTION {
            let number = writer.l2_head().unwrap() + 1;
            // A storage change every 1 000 blocks, to slot `number / 1000 % 4`.
            let slot = number
                .is_multiple_of(1_000)
                .then(|| U256::from(number / 1_000 % 4));
            append(&mut writer, slot);
        }
        writer.commit().unwrap();
    }
    println!("built {BLOCKS} blocks in {:?}", started.elapsed());

    let reader = store.reader().unwrap();
    assert_eq!(reader.l2_head().unwrap(), Some(BLOCKS));
    assert_eq!(reader.oldest_history_block().unwrap(), 0);
    drop(reader);
    for block in [1, 2, 3, 999, 50_000, BLOCKS - 1, BLOCKS] {
        let (balance, read, proved) = proven_balance(&store, block);
        assert_eq!(balance, U256::from(block), "balance at block {block}");
        println!("block {block}: historical read {read:?}, historical trie proof {proved:?}");
        assert!(
            read < Duration::from_millis(200),
            "read at {block} took {read:?}"
        );
        assert!(
            proved < Duration::from_millis(200),
            "proof at {block} took {proved:?}"
        );
    }
    // Genesis: HOT did not exist yet.
    let reader = store.reader().unwrap();
    let genesis = reader.state_at(0).unwrap();
    assert_eq!(genesis.basic_ref(HOT).unwrap(), None);
    assert_eq!(
        genesis
            .basic_ref(Address::repeat_byte(2))
            .unwrap()
            .unwrap()
            .balance,
        U256::from(2)
    );
    // Storage: slot 1 was written at blocks 1 000, 5 000, 9 000, …
    let started = Instant::now();
    let at_1500 = reader
        .state_at(1_500)
        .unwrap()
        .storage_ref(CONTRACT, U256::from(1))
        .unwrap();
    let read = started.elapsed();
    println!("storage at block 1500: {read:?}");
    assert_eq!(at_1500, U256::from(1_000));
    assert!(
        read < Duration::from_millis(200),
        "storage read took {read:?}"
    );
    let state = reader.state_at(4_999).unwrap();
    assert_eq!(
        state.storage_ref(CONTRACT, U256::from(1)).unwrap(),
        U256::from(1_000)
    );
    assert_eq!(
        state.storage_ref(CONTRACT, U256::from(0)).unwrap(),
        U256::from(4_000)
    );
    assert_eq!(
        state.storage_ref(CONTRACT, U256::from(3)).unwrap(),
        U256::from(3_000)
    );
    assert_eq!(
        reader
            .state_at(999)
            .unwrap()
            .storage_ref(CONTRACT, U256::from(1))
            .unwrap(),
        U256::ZERO
    );
    assert_eq!(
        reader
            .state_at(BLOCKS)
            .unwrap()
            .storage_ref(CONTRACT, U256::from(0))
            .unwrap(),
        U256::from(BLOCKS)
    );
}

#[test]
fn history_beyond_the_retention_is_pruned_with_a_clear_error() {
    const RETENTION: u64 = 100;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path(), Some(RETENTION));
    assert_eq!(store.history_retention(), RETENTION);
    for _ in 0..300 {
        let mut writer = store.writer().unwrap();
        append(&mut writer, Some(U256::from(7)));
        writer.commit().unwrap();
    }
    let reader = store.reader().unwrap();
    assert_eq!(reader.oldest_history_block().unwrap(), 200);
    for block in [0, 1, 150, 199] {
        let err = reader.state_at(block).unwrap_err();
        assert!(
            matches!(
                err,
                StorageError::HistoryPruned { requested, oldest: 200, kept: RETENTION }
                    if requested == block
            ),
            "{err}"
        );
        assert!(err.to_string().contains("pruned"), "{err}");
        assert!(matches!(
            reader.trie_proof_at(block, B256::ZERO).unwrap_err(),
            StorageError::HistoryPruned { .. }
        ));
    }
    drop(reader);
    for block in [200, 201, 250, 300] {
        assert_eq!(proven_balance(&store, block).0, U256::from(block));
        let reader = store.reader().unwrap();
        assert_eq!(
            reader
                .state_at(block)
                .unwrap()
                .storage_ref(CONTRACT, U256::from(7))
                .unwrap(),
            U256::from(block)
        );
    }

    // A lower retention is caught up in bounded steps: 16 blocks per appended block.
    let store = store.with_history_retention(10);
    let mut writer = store.writer().unwrap();
    append(&mut writer, None);
    writer.commit().unwrap();
    assert_eq!(store.reader().unwrap().oldest_history_block().unwrap(), 216);
    for _ in 0..10 {
        let mut writer = store.writer().unwrap();
        append(&mut writer, None);
        writer.commit().unwrap();
    }
    let reader = store.reader().unwrap();
    assert_eq!(reader.oldest_history_block().unwrap(), 301);
    assert_eq!(
        reader
            .state_at(301)
            .unwrap()
            .basic_ref(HOT)
            .unwrap()
            .unwrap()
            .balance,
        U256::from(301)
    );
    drop(reader);

    // An unwind within the kept history works; one below it is refused and changes nothing.
    let mut writer = store.writer().unwrap();
    assert_eq!(writer.unwind_l2_to(305).unwrap(), 6);
    writer.commit().unwrap();
    let mut writer = store.writer().unwrap();
    let err = writer.unwind_l2_to(290).unwrap_err();
    assert!(err.to_string().contains("pruned"), "{err}");
    drop(writer);
    let reader = store.reader().unwrap();
    assert_eq!(reader.l2_head().unwrap(), Some(305));
    assert_eq!(
        reader.account(HOT).unwrap().unwrap().balance,
        U256::from(305)
    );
}

/// A datadir is bound to the consensus parameters it was created with, not to the batcher's
/// address: a batcher replaced on L1 needs a new address in the batcher's config only.
#[test]
fn a_datadir_takes_a_new_batcher_and_refuses_other_consensus_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let genesis = {
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&config()).unwrap()
    };
    let mut rotated = config();
    rotated.batcher_address = Address::repeat_byte(0x5b);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.init_genesis(&rotated).unwrap(), genesis);
    drop(store);

    let mut other = rotated;
    other.sequencing_window += 1;
    let store = Store::open(dir.path()).unwrap();
    match store.init_genesis(&other) {
        Err(StorageError::ConfigMismatch { changes, .. }) => {
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert!(changes[0].starts_with("sequencingWindow: "), "{changes:?}");
        }
        result => panic!("a changed sequencing window was accepted: {result:?}"),
    }
}

/// A data file cut short (emptied, or truncated to a few pages) stops the open with an error
/// that says what happened and what to do, instead of MDBX starting an empty database in its
/// place (the chain silently gone); a new database is created whole and reopens with its data.
#[test]
fn a_truncated_database_file_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let genesis = {
        let store = open(&path, None);
        let hash = store.reader().unwrap().block_hash(0).unwrap();
        assert!(hash.is_some());
        hash
    };
    assert!(
        !path.join("creating").exists(),
        "the staging directory is gone"
    );
    assert_eq!(
        open(&path, None).reader().unwrap().block_hash(0).unwrap(),
        genesis
    );
    let data = path.join("mdbx.dat");
    for len in [8192, 100, 0] {
        std::fs::OpenOptions::new()
            .write(true)
            .open(&data)
            .unwrap()
            .set_len(len)
            .unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, StorageError::Truncated { len: l, .. } if l == len),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(&format!("is {len} bytes"))
                && message.contains("move the datadir away"),
            "{message}"
        );
        assert_eq!(
            std::fs::metadata(&data).unwrap().len(),
            len,
            "left as it was"
        );
    }
}
