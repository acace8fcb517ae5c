//! Reads, shared by read-only snapshots and the writer.

use std::borrow::Cow;

use alloy_consensus::Header;
use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, U256};
use alloy_rlp::Decodable;
use revm::{DatabaseRef, bytecode::Bytecode, state::AccountInfo};
use rollup_primitives::{L2Receipt, L2Transaction, RollupConfig};
use signet_libmdbx::{
    Database, TransactionKind,
    tx::{Tx, aliases::RoTxSync},
};

use crate::{
    BlockDerivation, L1BlockDerivation, L1BlockRecord, Result, StorageError,
    codec::{self, ChangeSet, changeset_key, decode_num_hash, decode_u64, storage_key},
    error::corrupt,
    store::get,
    tables::{
        META_CONFIG, META_HISTORY_START, META_L1_CURSOR, META_L1_FINALIZED, META_L2_HEAD,
        META_SAFE_HEAD, Tables,
    },
};

/// Typed reads over any transaction kind.
pub(crate) struct Reads<'a, K: TransactionKind> {
    pub(crate) tx: &'a Tx<K>,
    pub(crate) tables: &'a Tables,
}

impl<K: TransactionKind> Reads<'_, K> {
    pub(crate) fn meta_b256(&self, key: &[u8]) -> Result<Option<B256>> {
        get(self.tx, self.tables.meta, key)?
            .map(|v| B256::try_from(&*v).map_err(|_| corrupt("Meta", key, "expected 32 bytes")))
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

    pub(crate) fn l1_finalized(&self) -> Result<Option<BlockNumHash>> {
        get(self.tx, self.tables.meta, META_L1_FINALIZED)?
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
                Header::decode(&mut &*v).map_err(|e| corrupt("Headers", &number.to_be_bytes(), e))
            })
            .transpose()
    }

    pub(crate) fn canonical_hash(&self, number: u64) -> Result<Option<B256>> {
        get(self.tx, self.tables.canonical_hashes, &number.to_be_bytes())?
            .map(|v| {
                B256::try_from(&*v).map_err(|_| {
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

    /// Transaction `index` of block `number` (`None`: no such block or index).
    pub(crate) fn body_entry(&self, number: u64, index: usize) -> Result<Option<L2Transaction>> {
        Ok(get(self.tx, self.tables.bodies, &number.to_be_bytes())?
            .map(|v| codec::decode_body_entry(&v, index))
            .transpose()?
            .flatten())
    }

    /// Receipt `index` of block `number`, with what comes before it in the block.
    pub(crate) fn receipt_entry(
        &self,
        number: u64,
        index: usize,
    ) -> Result<Option<codec::ReceiptEntry>> {
        Ok(get(self.tx, self.tables.receipts, &number.to_be_bytes())?
            .map(|v| codec::decode_receipt_entry(&v, index))
            .transpose()?
            .flatten())
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

    /// The oldest L2 block whose state can be read (`None`: a database from before history
    /// indexes, not yet opened by [`crate::Store::init_genesis`]).
    pub(crate) fn history_start(&self) -> Result<Option<u64>> {
        get(self.tx, self.tables.meta, META_HISTORY_START)?
            .map(|v| decode_u64("Meta", &v))
            .transpose()
    }

    /// The prior values block `number` recorded: its legacy changeset blob if an older version
    /// wrote the block, else its keyed entries (empty for a block that changed nothing, or
    /// whose history was pruned: the caller checks [`Self::history_start`]).
    pub(crate) fn changeset(&self, number: u64) -> Result<ChangeSet> {
        if let Some(blob) = get(self.tx, self.tables.changesets, &number.to_be_bytes())? {
            return ChangeSet::decode(&blob);
        }
        let mut set = ChangeSet::default();
        for (key, value) in self.block_entries(self.tables.account_changesets, number)? {
            if key.len() != 20 {
                return Err(corrupt("AccountChangeSets", &key, "expected an address"));
            }
            set.accounts.push((
                Address::from_slice(&key),
                codec::decode_prior_account(&value)?,
            ));
        }
        for (key, value) in self.block_entries(self.tables.storage_changesets, number)? {
            if key.len() != 52 || value.len() != 32 {
                return Err(corrupt(
                    "StorageChangeSets",
                    &key,
                    "expected address ‖ slot → value",
                ));
            }
            set.storage.push((
                Address::from_slice(&key[..20]),
                U256::from_be_slice(&key[20..]),
                U256::from_be_slice(&value),
            ));
        }
        Ok(set)
    }

    /// Whether block `number` was written by an older version, with a changeset blob.
    pub(crate) fn changeset_is_legacy(&self, number: u64) -> Result<bool> {
        Ok(get(self.tx, self.tables.changesets, &number.to_be_bytes())?.is_some())
    }

    /// The entries of block `number` in a keyed changeset table, keys without the block prefix.
    pub(crate) fn block_entries(
        &self,
        table: Database,
        number: u64,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let prefix = number.to_be_bytes();
        let mut cursor = self.tx.cursor(table)?;
        let mut entries = Vec::new();
        let mut entry = cursor.set_range::<Vec<u8>, Vec<u8>>(&prefix)?;
        while let Some((key, value)) = entry {
            if !key.starts_with(&prefix) {
                break;
            }
            entries.push((key[8..].to_vec(), value));
            entry = cursor.next::<Vec<u8>, Vec<u8>>()?;
        }
        Ok(entries)
    }

    /// The first block after `block` that changed `key`, by one seek of a history index.
    pub(crate) fn changed_after(
        &self,
        index: Database,
        key: &[u8],
        block: u64,
    ) -> Result<Option<u64>> {
        let mut cursor = self.tx.cursor(index)?;
        cursor
            .get_both_range::<Vec<u8>>(key, &(block + 1).to_be_bytes())?
            .map(|v| decode_u64("history index", &v))
            .transpose()
    }

    /// The value `key` had before block `changed_in` changed it, from a keyed changeset.
    fn prior(
        &self,
        table: Database,
        name: &'static str,
        changed_in: u64,
        key: &[u8],
    ) -> Result<Cow<'_, [u8]>> {
        let entry = changeset_key(changed_in, key);
        get(self.tx, table, &entry)?.ok_or_else(|| {
            StorageError::Inconsistent(format!(
                "{name} has no entry {} although the history index says block {changed_in} changed it",
                alloy_primitives::hex::encode(&entry)
            ))
        })
    }

    /// The account as of after block `block`.
    pub(crate) fn account_at(&self, address: Address, block: u64) -> Result<Option<AccountInfo>> {
        match self.changed_after(self.tables.accounts_history, address.as_slice(), block)? {
            Some(changed_in) => codec::decode_prior_account(&self.prior(
                self.tables.account_changesets,
                "AccountChangeSets",
                changed_in,
                address.as_slice(),
            )?),
            None => self.account(address),
        }
    }

    /// The storage value as of after block `block`.
    pub(crate) fn storage_at(&self, address: Address, slot: U256, block: u64) -> Result<U256> {
        let key = storage_key(address, slot);
        match self.changed_after(self.tables.storages_history, &key, block)? {
            Some(changed_in) => {
                let value = self.prior(
                    self.tables.storage_changesets,
                    "StorageChangeSets",
                    changed_in,
                    &key,
                )?;
                if value.len() != 32 {
                    return Err(corrupt("StorageChangeSets", &key, "expected 32 bytes"));
                }
                Ok(U256::from_be_slice(&value))
            }
            None => self.storage(address, slot),
        }
    }

    /// The trie node at `path` as of after block `block`.
    pub(crate) fn node_at(
        &self,
        path: &rollup_trie::NodePath,
        block: u64,
    ) -> Result<Option<rollup_trie::Node>> {
        let key = path.encode();
        match self.changed_after(self.tables.trie_nodes_history, &key, block)? {
            Some(changed_in) => codec::decode_prior_node(&self.prior(
                self.tables.trie_node_changesets,
                "TrieNodeChangeSets",
                changed_in,
                &key,
            )?),
            None => rollup_trie::NodeStore::node(self, path),
        }
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
            .map(|v| Bytecode::new_raw(v.into_owned().into())))
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

/// The trie as of an older block: each node's prior value in the trie changeset of the first
/// later block that rewrote it (one history index seek), or the latest node if none did.
struct HistoricalTrie<'a> {
    reads: Reads<'a, signet_libmdbx::RoSync>,
    block: u64,
}

impl rollup_trie::NodeStore for HistoricalTrie<'_> {
    type Error = StorageError;

    fn node(&self, path: &rollup_trie::NodePath) -> Result<Option<rollup_trie::Node>> {
        self.reads.node_at(path, self.block)
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
    history_retention: u64,
}

impl StoreReader {
    pub(crate) const fn new(tx: RoTxSync, tables: Tables, history_retention: u64) -> Self {
        Self {
            tx,
            tables,
            history_retention,
        }
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

    /// The newest finalized L1 block the node recorded (see [`StoreWriter::set_l1_finalized`]).
    pub fn l1_finalized(&self) -> Result<Option<BlockNumHash>> {
        self.reads().l1_finalized()
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

    /// What derivation made of the L1 blocks that carried batches or deposits, newest first:
    /// blocks numbered below `below` (all if `None`), at most `limit` of them.
    pub fn l1_derivations(
        &self,
        below: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, L1BlockDerivation)>> {
        let mut cursor = self.tx.cursor(self.tables.l1_block_derivations)?;
        let mut out = Vec::new();
        let mut entry = match below {
            None => cursor.last::<Vec<u8>, Vec<u8>>()?,
            Some(below) => match cursor.set_range::<Vec<u8>, Vec<u8>>(&below.to_be_bytes())? {
                Some(_) => cursor.prev::<Vec<u8>, Vec<u8>>()?,
                None => cursor.last::<Vec<u8>, Vec<u8>>()?,
            },
        };
        while let Some((key, value)) = entry {
            if out.len() >= limit {
                break;
            }
            let number = decode_u64("L1BlockDerivations", &key)?;
            out.push((number, L1BlockDerivation::decode(number, &value)?));
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

    /// Transaction `index` of L2 block `number`, decoded alone (`None`: no such block or
    /// index).
    pub fn body_entry(&self, number: u64, index: usize) -> Result<Option<L2Transaction>> {
        self.reads().body_entry(number, index)
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
        // Only this transaction and its receipt are decoded: a receipt lookup in a block of
        // thousands must not decode them all.
        let i = index as usize;
        let transaction = reads.body_entry(block_number, i)?.ok_or_else(missing)?;
        let entry = reads.receipt_entry(block_number, i)?.ok_or_else(missing)?;
        let header = reads.header(block_number)?.ok_or_else(missing)?;
        let receipt = entry.receipt;
        Ok(Some(StoredTransaction {
            gas_used: receipt
                .cumulative_gas_used
                .checked_sub(entry.previous_gas)
                .ok_or_else(missing)?,
            transaction,
            receipt,
            first_log_index: entry.logs_before,
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

    /// keccak256 of the batch safe block `number` was derived from (zero: a forced block);
    /// `None` if the block is not safe.
    pub fn block_batch(&self, number: u64) -> Result<Option<B256>> {
        Ok(self.block_derivation(number)?.map(|at| at.batch))
    }

    /// Where safe block `number` was derived from; `None` if the block is not safe.
    pub fn block_derivation(&self, number: u64) -> Result<Option<BlockDerivation>> {
        get(&self.tx, self.tables.block_batches, &number.to_be_bytes())?
            .map(|v| BlockDerivation::decode(number, &v))
            .transpose()
    }

    /// The output root of L2 block `number` as this node derived it (what a proposal of it
    /// carries, hashed): `None` unless the block is stored and safe, since only safe blocks
    /// have a derivation cursor. Block 0 is `genesis` (its cursor is not recorded).
    pub fn output_root(&self, number: u64) -> Result<Option<rollup_primitives::OutputRoot>> {
        let derivation = if number == 0 {
            None
        } else {
            match self.block_derivation(number)? {
                Some(derivation) => Some(derivation),
                None => return Ok(None),
            }
        };
        let (Some(header), Some(hash)) = (self.header(number)?, self.block_hash(number)?) else {
            return Ok(None);
        };
        let Some(derivation) = derivation else {
            let origin = rollup_primitives::decode_l1_origin(&header.extra_data)
                .map_err(|err| corrupt("Headers", &number.to_be_bytes(), err))?;
            return Ok(Some(rollup_primitives::OutputRoot::genesis(
                header.state_root,
                hash,
                origin.number,
            )));
        };
        Ok(Some(rollup_primitives::OutputRoot {
            version: rollup_primitives::OUTPUT_ROOT_VERSION,
            l2_block_number: number,
            state_root: header.state_root,
            l2_block_hash: hash,
            inbox_record: derivation.inbox_record,
            block_in_record: derivation.block_in_record,
            l1_block: derivation.l1_block,
        }))
    }

    /// The root of the latest state trie.
    pub fn state_root(&self) -> Result<B256> {
        rollup_trie::root(&self.reads()).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// A proof of `key` in the latest state trie.
    pub fn trie_proof(&self, key: B256) -> Result<rollup_trie::Proof> {
        rollup_trie::prove(&self.reads(), key).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// The oldest L2 block whose state [`Self::state_at`] and [`Self::trie_proof_at`] serve:
    /// history before it has been pruned ([`crate::Store::history_retention`]).
    pub fn oldest_history_block(&self) -> Result<u64> {
        Ok(self.reads().history_start()?.unwrap_or_default())
    }

    /// Checks that the state after `number` is kept.
    fn check_history(&self, number: u64) -> Result<()> {
        let head = self.l2_head()?.unwrap_or_default();
        if number > head {
            return Err(StorageError::NotFound(format!("L2 block {number}")));
        }
        let oldest = self.oldest_history_block()?;
        if number < oldest {
            return Err(StorageError::HistoryPruned {
                requested: number,
                oldest,
                kept: self.history_retention,
            });
        }
        Ok(())
    }

    /// A proof of `key` in the state trie as of L2 block `number` (its header's `stateRoot`).
    /// Each node is one seek of the trie history index and, if a later block rewrote it, one
    /// read of that block's prior node: the cost does not grow with the distance to the head.
    pub fn trie_proof_at(&self, number: u64, key: B256) -> Result<rollup_trie::Proof> {
        self.check_history(number)?;
        let store = HistoricalTrie {
            reads: self.reads(),
            block: number,
        };
        rollup_trie::prove(&store, key).map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// The state trie as of L2 block `number` (its header's `stateRoot`), for computing roots
    /// on top of it (the dispute game's block trace). Fails like [`Self::state_at`].
    pub fn trie_at(
        &self,
        number: u64,
    ) -> Result<impl rollup_trie::NodeStore<Error = StorageError> + '_> {
        self.check_history(number)?;
        Ok(HistoricalTrie {
            reads: self.reads(),
            block: number,
        })
    }

    /// The state after L2 block `number`. Fails with [`StorageError::HistoryPruned`] if it is
    /// older than the history kept.
    pub fn state_at(&self, number: u64) -> Result<HistoricalState<'_>> {
        self.check_history(number)?;
        Ok(HistoricalState {
            reader: self,
            block: number,
        })
    }
}

/// State as of an L2 block. A value is the prior value recorded by the first later block that
/// changed it (found by one seek of a history index), or the latest value if no later block
/// did: every read costs the same however far back the block is.
#[derive(Debug)]
pub struct HistoricalState<'a> {
    reader: &'a StoreReader,
    block: u64,
}

impl HistoricalState<'_> {
    /// The block this state is at.
    pub const fn block(&self) -> u64 {
        self.block
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
        self.reader.reads().account_at(address, self.block)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode> {
        self.reader.code_by_hash_ref(code_hash)
    }

    fn storage_ref(&self, address: Address, index: U256) -> Result<U256> {
        self.reader.reads().storage_at(address, index, self.block)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256> {
        if number > self.block {
            return Ok(B256::ZERO);
        }
        self.reader.block_hash_ref(number)
    }
}
