//! Reads, shared by read-only snapshots and the writer.

use alloy_consensus::Header;
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Decodable;
use revm::{DatabaseRef, bytecode::Bytecode, state::AccountInfo};
use rollup_primitives::{L2Receipt, L2Transaction, RollupConfig};
use signet_libmdbx::{
    TransactionKind,
    tx::{Tx, aliases::RoTxSync},
};

use crate::{
    L1BlockRecord, Result, StorageError,
    codec::{self, ChangeSet, decode_num_hash, decode_u64, storage_key},
    error::corrupt,
    store::get,
    tables::{META_CONFIG, META_L1_CURSOR, META_L2_HEAD, META_SAFE_HEAD, Tables},
};

/// How many blocks back [`HistoricalState`] reconstructs state from changesets.
pub(crate) const HISTORY_BLOCKS: u64 = 100_000;

/// Typed reads over any transaction kind.
pub(crate) struct Reads<'a, K: TransactionKind> {
    pub(crate) tx: &'a Tx<K>,
    pub(crate) tables: &'a Tables,
}

impl<K: TransactionKind> Reads<'_, K> {
    pub(crate) fn meta_b256(&self, key: &[u8]) -> Result<Option<B256>> {
        get(self.tx, self.tables.meta, key)?
            .map(|v| {
                B256::try_from(v.as_slice()).map_err(|_| corrupt("Meta", key, "expected 32 bytes"))
            })
            .transpose()
    }

    pub(crate) fn l2_head(&self) -> Result<Option<u64>> {
        get(self.tx, self.tables.meta, META_L2_HEAD)?
            .map(|v| decode_u64("Meta", &v))
            .transpose()
    }

    pub(crate) fn safe_head(&self) -> Result<Option<u64>> {
        get(self.tx, self.tables.meta, META_SAFE_HEAD)?
            .map(|v| decode_u64("Meta", &v))
            .transpose()
    }

    pub(crate) fn l1_cursor(&self) -> Result<Option<BlockNumHash>> {
        get(self.tx, self.tables.meta, META_L1_CURSOR)?
            .map(|v| decode_num_hash("Meta", &v))
            .transpose()
    }

    pub(crate) fn l1_block(&self, number: u64) -> Result<Option<L1BlockRecord>> {
        get(self.tx, self.tables.l1_blocks, &number.to_be_bytes())?
            .map(|v| L1BlockRecord::decode(number, &v))
            .transpose()
    }

    pub(crate) fn header(&self, number: u64) -> Result<Option<Header>> {
        get(self.tx, self.tables.headers, &number.to_be_bytes())?
            .map(|v| {
                Header::decode(&mut v.as_slice())
                    .map_err(|e| corrupt("Headers", &number.to_be_bytes(), e))
            })
            .transpose()
    }

    pub(crate) fn canonical_hash(&self, number: u64) -> Result<Option<B256>> {
        get(self.tx, self.tables.canonical_hashes, &number.to_be_bytes())?
            .map(|v| {
                B256::try_from(v.as_slice()).map_err(|_| {
                    corrupt(
                        "CanonicalHashes",
                        &number.to_be_bytes(),
                        "expected 32 bytes",
                    )
                })
            })
            .transpose()
    }

    pub(crate) fn block_number(&self, hash: B256) -> Result<Option<u64>> {
        get(self.tx, self.tables.block_numbers, hash.as_slice())?
            .map(|v| decode_u64("BlockNumbers", &v))
            .transpose()
    }

    pub(crate) fn body(&self, number: u64) -> Result<Option<Vec<L2Transaction>>> {
        get(self.tx, self.tables.bodies, &number.to_be_bytes())?
            .map(|v| codec::decode_body(&v))
            .transpose()
    }

    pub(crate) fn receipts(&self, number: u64) -> Result<Option<Vec<L2Receipt>>> {
        get(self.tx, self.tables.receipts, &number.to_be_bytes())?
            .map(|v| codec::decode_receipts(&v))
            .transpose()
    }

    pub(crate) fn tx_location(&self, hash: B256) -> Result<Option<(u64, u32)>> {
        get(self.tx, self.tables.tx_lookup, hash.as_slice())?
            .map(|v| {
                let mut cur = codec::Cursor::new("TxLookup", &v);
                let location = (cur.u64()?, cur.u32()?);
                cur.finish()?;
                Ok(location)
            })
            .transpose()
    }

    pub(crate) fn changeset(&self, number: u64) -> Result<Option<ChangeSet>> {
        get(self.tx, self.tables.changesets, &number.to_be_bytes())?
            .map(|v| ChangeSet::decode(&v))
            .transpose()
    }

    pub(crate) fn account(&self, address: Address) -> Result<Option<AccountInfo>> {
        get(self.tx, self.tables.accounts, address.as_slice())?
            .map(|v| codec::decode_account(&v))
            .transpose()
    }

    pub(crate) fn storage(&self, address: Address, slot: U256) -> Result<U256> {
        Ok(
            get(self.tx, self.tables.storage, &storage_key(address, slot))?
                .map(|v| U256::from_be_slice(&v))
                .unwrap_or_default(),
        )
    }

    pub(crate) fn code(&self, code_hash: B256) -> Result<Option<Bytecode>> {
        Ok(get(self.tx, self.tables.bytecodes, code_hash.as_slice())?
            .map(|v| Bytecode::new_raw(v.into())))
    }

    /// All non-zero storage slots of `address`.
    pub(crate) fn storage_of(&self, address: Address) -> Result<Vec<(U256, U256)>> {
        let mut cursor = self.tx.cursor(self.tables.storage)?;
        let mut slots = Vec::new();
        let mut entry = cursor.set_range::<Vec<u8>, Vec<u8>>(address.as_slice())?;
        while let Some((key, value)) = entry {
            if key.len() != 52 || &key[..20] != address.as_slice() {
                break;
            }
            slots.push((U256::from_be_slice(&key[20..]), U256::from_be_slice(&value)));
            entry = cursor.next::<Vec<u8>, Vec<u8>>()?;
        }
        Ok(slots)
    }
}

impl<K: TransactionKind> rollup_trie::NodeStore for Reads<'_, K> {
    type Error = StorageError;

    fn node(&self, path: &rollup_trie::NodePath) -> Result<Option<rollup_trie::Node>> {
        let key = path.encode();
        get(self.tx, self.tables.trie_nodes, &key)?
            .map(|bytes| {
                rollup_trie::Node::decode(&bytes).map_err(|err| corrupt("TrieNodes", &key, err))
            })
            .transpose()
    }
}

/// The trie as of an older block: each node's first prior value in a later block's trie
/// changeset, or the latest node if no later block touched it.
struct HistoricalTrie<'a> {
    latest: Reads<'a, signet_libmdbx::RoSync>,
    changesets: Vec<codec::TrieChangeSet>,
}

impl rollup_trie::NodeStore for HistoricalTrie<'_> {
    type Error = StorageError;

    fn node(&self, path: &rollup_trie::NodePath) -> Result<Option<rollup_trie::Node>> {
        let key = path.encode();
        for changeset in &self.changesets {
            if let Some((_, prior)) = changeset.iter().find(|(p, _)| *p == key) {
                return Ok(*prior);
            }
        }
        rollup_trie::NodeStore::node(&self.latest, path)
    }
}

/// A transaction found by hash, with its position.
#[derive(Debug, Clone)]
pub struct StoredTransaction {
    /// The transaction.
    pub transaction: L2Transaction,
    /// Its receipt.
    pub receipt: L2Receipt,
    /// Gas used by this transaction alone.
    pub gas_used: u64,
    /// Index of its first log within the block.
    pub first_log_index: u64,
    /// Block number.
    pub block_number: u64,
    /// Block hash.
    pub block_hash: B256,
    /// Index in the block.
    pub index: u32,
    /// The block's base fee.
    pub base_fee: Option<u64>,
}

/// A read-only snapshot of the database. Serves revm with the state at the L2 head.
#[derive(Debug)]
pub struct StoreReader {
    tx: RoTxSync,
    tables: Tables,
}

impl StoreReader {
    pub(crate) const fn new(tx: RoTxSync, tables: Tables) -> Self {
        Self { tx, tables }
    }

    pub(crate) const fn reads(&self) -> Reads<'_, signet_libmdbx::RoSync> {
        Reads {
            tx: &self.tx,
            tables: &self.tables,
        }
    }

    pub(crate) fn meta_b256(&self, key: &[u8]) -> Result<Option<B256>> {
        self.reads().meta_b256(key)
    }

    /// The rollup config this database was created with (`None` for a new database, or one
    /// created before configs were recorded).
    pub fn stored_config(&self) -> Result<Option<RollupConfig>> {
        get(&self.tx, self.tables.meta, META_CONFIG)?
            .map(|json| {
                serde_json::from_slice(&json).map_err(|err| StorageError::Corrupt {
                    table: "Meta",
                    key: "config".into(),
                    reason: err.to_string(),
                })
            })
            .transpose()
    }

    /// The L2 head block number (`None` before genesis is written).
    pub fn l2_head(&self) -> Result<Option<u64>> {
        self.reads().l2_head()
    }

    /// The safe L2 head: the newest block derived from L1 data.
    pub fn safe_head(&self) -> Result<Option<u64>> {
        self.reads().safe_head()
    }

    /// The last L1 block whose effects are stored.
    pub fn l1_cursor(&self) -> Result<Option<BlockNumHash>> {
        self.reads().l1_cursor()
    }

    /// A processed L1 block by number.
    pub fn l1_block(&self, number: u64) -> Result<Option<L1BlockRecord>> {
        self.reads().l1_block(number)
    }

    /// Processed L1 blocks from the cursor downwards, at most `limit`: what a follower needs to
    /// find the fork point after a restart.
    pub fn recent_l1_blocks(&self, limit: usize) -> Result<Vec<L1BlockRecord>> {
        let mut cursor = self.tx.cursor(self.tables.l1_blocks)?;
        let mut out = Vec::new();
        let mut entry = cursor.last::<Vec<u8>, Vec<u8>>()?;
        while let Some((key, value)) = entry {
            if out.len() >= limit {
                break;
            }
            out.push(L1BlockRecord::decode(
                decode_u64("L1Blocks", &key)?,
                &value,
            )?);
            entry = cursor.prev::<Vec<u8>, Vec<u8>>()?;
        }
        Ok(out)
    }

    /// Header of L2 block `number`.
    pub fn header(&self, number: u64) -> Result<Option<Header>> {
        self.reads().header(number)
    }

    /// Hash of L2 block `number`.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        self.reads().canonical_hash(number)
    }

    /// Number of the L2 block with `hash`.
    pub fn block_number(&self, hash: B256) -> Result<Option<u64>> {
        self.reads().block_number(hash)
    }

    /// Transactions of L2 block `number`.
    pub fn body(&self, number: u64) -> Result<Option<Vec<L2Transaction>>> {
        self.reads().body(number)
    }

    /// Receipts of L2 block `number`.
    pub fn receipts(&self, number: u64) -> Result<Option<Vec<L2Receipt>>> {
        self.reads().receipts(number)
    }

    /// A transaction by hash, with receipt and position.
    pub fn transaction(&self, hash: B256) -> Result<Option<StoredTransaction>> {
        let reads = self.reads();
        let Some((block_number, index)) = reads.tx_location(hash)? else {
            return Ok(None);
        };
        let missing = || {
            StorageError::Inconsistent(format!(
                "tx {hash} indexed in block {block_number} which is incomplete"
            ))
        };
        let body = reads.body(block_number)?.ok_or_else(missing)?;
        let receipts = reads.receipts(block_number)?.ok_or_else(missing)?;
        let header = reads.header(block_number)?.ok_or_else(missing)?;
        let i = index as usize;
        let (Some(transaction), Some(receipt)) = (body.get(i).cloned(), receipts.get(i).cloned())
        else {
            return Err(missing());
        };
        let previous_gas = if i == 0 {
            0
        } else {
            receipts[i - 1].cumulative_gas_used
        };
        let first_log_index = receipts[..i].iter().map(|r| r.logs.len() as u64).sum();
        Ok(Some(StoredTransaction {
            gas_used: receipt.cumulative_gas_used - previous_gas,
            transaction,
            receipt,
            first_log_index,
            block_number,
            block_hash: reads.canonical_hash(block_number)?.ok_or_else(missing)?,
            index,
            base_fee: header.base_fee_per_gas,
        }))
    }

    /// Latest account state.
    pub fn account(&self, address: Address) -> Result<Option<AccountInfo>> {
        self.reads().account(address)
    }

    /// Latest storage value.
    pub fn storage(&self, address: Address, slot: U256) -> Result<U256> {
        self.reads().storage(address, slot)
    }

    /// Code by hash.
    pub fn code(&self, code_hash: B256) -> Result<Option<Bytecode>> {
        self.reads().code(code_hash)
    }

    /// keccak256 of the batch safe block `number` was derived from (zero: derived without a
    /// batch); `None` if the block is not safe.
    pub fn block_batch(&self, number: u64) -> Result<Option<B256>> {
        get(&self.tx, self.tables.block_batches, &number.to_be_bytes())?
            .map(|v| {
                B256::try_from(v.as_slice()).map_err(|_| {
                    corrupt("BlockBatches", &number.to_be_bytes(), "expected 32 bytes")
                })
            })
            .transpose()
    }

    /// The root of the latest state trie.
    pub fn state_root(&self) -> Result<B256> {
        rollup_trie::root(&self.reads()).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// A proof of `key` in the latest state trie.
    pub fn trie_proof(&self, key: B256) -> Result<rollup_trie::Proof> {
        rollup_trie::prove(&self.reads(), key).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// A proof of `key` in the state trie as of L2 block `number` (its header's `stateRoot`),
    /// rebuilt from the trie changesets of later blocks.
    pub fn trie_proof_at(&self, number: u64, key: B256) -> Result<rollup_trie::Proof> {
        let head = self.l2_head()?.unwrap_or_default();
        if number > head {
            return Err(StorageError::NotFound(format!("L2 block {number}")));
        }
        if head - number > HISTORY_BLOCKS {
            return Err(StorageError::HistoryPruned {
                requested: number,
                kept: HISTORY_BLOCKS,
            });
        }
        let changesets = (number + 1..=head)
            .map(|block| {
                Ok(
                    get(&self.tx, self.tables.trie_changesets, &block.to_be_bytes())?
                        .map(|bytes| codec::decode_trie_changeset(&bytes))
                        .transpose()?
                        .unwrap_or_default(),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        let store = HistoricalTrie {
            latest: self.reads(),
            changesets,
        };
        rollup_trie::prove(&store, key).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// The state after L2 block `number`, reconstructed from changesets if it is not the head.
    pub fn state_at(&self, number: u64) -> Result<HistoricalState<'_>> {
        let head = self.l2_head()?.unwrap_or_default();
        if number > head {
            return Err(StorageError::NotFound(format!("L2 block {number}")));
        }
        if head - number > HISTORY_BLOCKS {
            return Err(StorageError::HistoryPruned {
                requested: number,
                kept: HISTORY_BLOCKS,
            });
        }
        Ok(HistoricalState {
            reader: self,
            block: number,
            head,
        })
    }
}

/// State as of an L2 block: the head's state with the changesets of later blocks undone.
#[derive(Debug)]
pub struct HistoricalState<'a> {
    reader: &'a StoreReader,
    block: u64,
    head: u64,
}

impl HistoricalState<'_> {
    /// The block this state is at.
    pub const fn block(&self) -> u64 {
        self.block
    }

    /// The first change after `block` to `address` (its value as of `block`), if any.
    fn account_before_later_blocks(&self, address: Address) -> Result<Option<Option<AccountInfo>>> {
        for number in self.block + 1..=self.head {
            if let Some(set) = self.reader.reads().changeset(number)?
                && let Some((_, info)) = set.accounts.into_iter().find(|(a, _)| *a == address)
            {
                return Ok(Some(info));
            }
        }
        Ok(None)
    }

    fn storage_before_later_blocks(&self, address: Address, slot: U256) -> Result<Option<U256>> {
        for number in self.block + 1..=self.head {
            if let Some(set) = self.reader.reads().changeset(number)?
                && let Some((_, _, value)) = set
                    .storage
                    .into_iter()
                    .find(|(a, s, _)| *a == address && *s == slot)
            {
                return Ok(Some(value));
            }
        }
        Ok(None)
    }
}

impl<K: TransactionKind> DatabaseRef for Reads<'_, K> {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>> {
        self.account(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode> {
        Ok(self.code(code_hash)?.unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256> {
        self.storage(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256> {
        Ok(self.canonical_hash(number)?.unwrap_or_default())
    }
}

impl DatabaseRef for StoreReader {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>> {
        self.account(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode> {
        Ok(self.code(code_hash)?.unwrap_or_default())
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256> {
        self.storage(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256> {
        Ok(self.block_hash(number)?.unwrap_or_default())
    }
}

impl DatabaseRef for HistoricalState<'_> {
    type Error = StorageError;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>> {
        match self.account_before_later_blocks(address)? {
            Some(info) => Ok(info),
            None => self.reader.account(address),
        }
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode> {
        self.reader.code_by_hash_ref(code_hash)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256> {
        match self.storage_before_later_blocks(address, index)? {
            Some(value) => Ok(value),
            None => self.reader.storage(address, index),
        }
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256> {
        if number > self.block {
            return Ok(B256::ZERO);
        }
        self.reader.block_hash_ref(number)
    }
}
