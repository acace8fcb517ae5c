//! The write transaction: blocks in, blocks out, the L1 cursor alongside.

use alloy_eips::BlockNumHash;
use alloy_primitives::{Address, B256, U256, keccak256};
use alloy_rlp::Encodable;
use revm::{
    bytecode::Bytecode,
    database::{BundleState, OriginalValuesKnown},
    primitives::KECCAK_EMPTY,
    state::AccountInfo,
};
use rollup_primitives::{L2Block, L2Receipt, RollupConfig};
use signet_libmdbx::{RwSync, WriteFlags, tx::aliases::RwTxSync};

use crate::{
    L1BlockRecord, Result, StorageError,
    codec::{self, ChangeSet, encode_num_hash, storage_key},
    reader::Reads,
    tables::{META_CONFIG, META_GENESIS, META_L1_CURSOR, META_L2_HEAD, META_SAFE_HEAD, Tables},
};

/// One MDBX read-write transaction. Dropping it without [`Self::commit`] discards everything.
#[derive(Debug)]
pub struct StoreWriter {
    tx: RwTxSync,
    tables: Tables,
}

impl StoreWriter {
    pub(crate) const fn new(tx: RwTxSync, tables: Tables) -> Self {
        Self { tx, tables }
    }

    fn reads(&self) -> Reads<'_, RwSync> {
        Reads {
            tx: &self.tx,
            tables: &self.tables,
        }
    }

    /// The state as this transaction sees it (including its own uncommitted writes), for revm.
    pub fn state(&self) -> impl revm::DatabaseRef<Error = StorageError> + '_ {
        self.reads()
    }

    /// The safe L2 head.
    pub fn safe_head(&self) -> Result<u64> {
        Ok(self.reads().safe_head()?.unwrap_or_default())
    }

    /// Records the batch commitment a safe block was derived from.
    pub fn set_block_batch(&mut self, number: u64, commitment: B256) -> Result<()> {
        self.tx.put(
            self.tables.block_batches,
            number.to_be_bytes(),
            commitment,
            WriteFlags::empty(),
        )?;
        Ok(())
    }

    /// Moves the safe head (never above the L2 head). Moving it back forgets the batch
    /// commitments of the blocks that are no longer safe.
    pub fn set_safe_head(&mut self, number: u64) -> Result<()> {
        let head = self.l2_head()?;
        if number > head {
            return Err(StorageError::Inconsistent(format!(
                "safe head {number} above L2 head {head}"
            )));
        }
        for block in number + 1..=self.safe_head()? {
            self.tx
                .del(self.tables.block_batches, block.to_be_bytes(), None)?;
        }
        self.tx.put(
            self.tables.meta,
            META_SAFE_HEAD,
            number.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        Ok(())
    }

    /// Transactions of L2 block `number`.
    pub fn body(&self, number: u64) -> Result<Option<Vec<rollup_primitives::L2Transaction>>> {
        self.reads().body(number)
    }

    /// Makes every write of this transaction durable and visible, atomically.
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }

    /// The genesis hash `config` describes.
    pub fn genesis_hash(config: &RollupConfig) -> Result<B256> {
        Ok(config
            .genesis_header(Self::genesis_state_root(config)?)
            .hash_slow())
    }

    /// The state root of `config`'s genesis state.
    pub fn genesis_state_root(config: &RollupConfig) -> Result<B256> {
        rollup_trie::apply_updates(
            &rollup_trie::MemoryStore::new(),
            &genesis_trie_updates(config),
        )
        .map(|update| update.root)
        .map_err(|err| StorageError::Trie(err.to_string()))
    }

    /// Records `config` as the one this database is bound to.
    pub(crate) fn write_config(&mut self, config: &RollupConfig) -> Result<()> {
        let json = serde_json::to_vec(config).map_err(|err| {
            StorageError::Inconsistent(format!("cannot serialise the rollup config: {err}"))
        })?;
        self.tx
            .put(self.tables.meta, META_CONFIG, json, WriteFlags::empty())?;
        Ok(())
    }

    pub(crate) fn write_genesis(&mut self, config: &RollupConfig) -> Result<B256> {
        for (address, account) in &config.genesis.alloc {
            let code_hash = match &account.code {
                Some(code) if !code.is_empty() => {
                    let hash = keccak256(code);
                    self.tx
                        .put(self.tables.bytecodes, hash, code, WriteFlags::empty())?;
                    hash
                }
                _ => KECCAK_EMPTY,
            };
            let info = AccountInfo {
                nonce: account.nonce,
                balance: account.balance,
                code_hash,
                account_id: None,
                code: None,
            };
            self.tx.put(
                self.tables.accounts,
                address,
                codec::encode_account(&info),
                WriteFlags::empty(),
            )?;
            for (slot, value) in &account.storage {
                if !value.is_zero() {
                    self.tx.put(
                        self.tables.storage,
                        storage_key(*address, (*slot).into()),
                        value,
                        WriteFlags::empty(),
                    )?;
                }
            }
        }
        let state_root = self.update_trie(&genesis_trie_updates(config), None)?;
        let header = config.genesis_header(state_root);
        let hash = header.hash_slow();
        self.put_block_data(
            &L2Block {
                header,
                transactions: vec![],
            },
            hash,
            &[],
        )?;
        self.tx
            .put(self.tables.meta, META_GENESIS, hash, WriteFlags::empty())?;
        self.write_config(config)?;
        self.tx.put(
            self.tables.meta,
            META_L2_HEAD,
            0u64.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        self.tx.put(
            self.tables.meta,
            META_SAFE_HEAD,
            0u64.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        self.record_l1_block(&L1BlockRecord {
            block: config.genesis.l1_origin,
            timestamp: config.genesis.timestamp,
            mix_hash: B256::ZERO,
            safe_l2_head: 0,
            deposits: Vec::new(),
            next_deposit_nonce: None,
        })?;
        Ok(hash)
    }

    /// The L2 head.
    pub fn l2_head(&self) -> Result<u64> {
        self.reads()
            .l2_head()?
            .ok_or_else(|| StorageError::NotFound("L2 head (genesis not written)".into()))
    }

    /// Header of L2 block `number`.
    pub fn header(&self, number: u64) -> Result<Option<alloy_consensus::Header>> {
        self.reads().header(number)
    }

    /// Hash of L2 block `number`.
    pub fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        self.reads().canonical_hash(number)
    }

    /// The L1 cursor.
    pub fn l1_cursor(&self) -> Result<Option<BlockNumHash>> {
        self.reads().l1_cursor()
    }

    /// A processed L1 block.
    pub fn l1_block(&self, number: u64) -> Result<Option<L1BlockRecord>> {
        self.reads().l1_block(number)
    }

    fn put_block_data(
        &mut self,
        block: &L2Block,
        hash: B256,
        receipts: &[L2Receipt],
    ) -> Result<()> {
        let number = block.number();
        let key = number.to_be_bytes();
        let mut header_rlp = Vec::with_capacity(600);
        block.header.encode(&mut header_rlp);
        self.tx
            .put(self.tables.headers, key, header_rlp, WriteFlags::empty())?;
        self.tx
            .put(self.tables.canonical_hashes, key, hash, WriteFlags::empty())?;
        self.tx
            .put(self.tables.block_numbers, hash, key, WriteFlags::empty())?;
        self.tx.put(
            self.tables.bodies,
            key,
            codec::encode_body(&block.transactions),
            WriteFlags::empty(),
        )?;
        self.tx.put(
            self.tables.receipts,
            key,
            codec::encode_receipts(receipts),
            WriteFlags::empty(),
        )?;
        for (index, tx) in block.transactions.iter().enumerate() {
            let mut location = [0u8; 12];
            location[..8].copy_from_slice(&key);
            location[8..].copy_from_slice(&(index as u32).to_be_bytes());
            self.tx.put(
                self.tables.tx_lookup,
                tx.hash(),
                location,
                WriteFlags::empty(),
            )?;
        }
        Ok(())
    }

    /// Appends an executed L2 block on top of the head: applies its state changes, records a
    /// changeset of prior values, updates the state trie and sets `block.header.state_root` to
    /// its root, stores header, body, receipts and the transaction index, and moves the head.
    /// Returns the block hash (which commits to the state root).
    pub fn append_block(
        &mut self,
        block: &mut L2Block,
        receipts: &[L2Receipt],
        bundle: &BundleState,
    ) -> Result<B256> {
        let number = block.number();
        let head = self.l2_head()?;
        if number != head + 1 {
            return Err(StorageError::Inconsistent(format!(
                "L2 block {number} does not follow head {head}"
            )));
        }
        let parent = self.reads().canonical_hash(head)?.unwrap_or_default();
        if block.header.parent_hash != parent {
            return Err(StorageError::Inconsistent(format!(
                "L2 block {number} has parent {} but block {head} is {parent}",
                block.header.parent_hash
            )));
        }
        let (changeset, trie) = self.apply_state(bundle)?;
        self.tx.put(
            self.tables.changesets,
            number.to_be_bytes(),
            changeset.encode(),
            WriteFlags::empty(),
        )?;
        block.header.state_root = self.update_trie(&trie, Some(number))?;
        let hash = block.hash();
        self.put_block_data(block, hash, receipts)?;
        self.tx.put(
            self.tables.meta,
            META_L2_HEAD,
            number.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        Ok(hash)
    }

    /// Applies key updates to the stored state trie and returns the new root.
    /// `record`: the L2 block whose trie changes to remember (their prior nodes), for proofs
    /// against older state roots.
    fn update_trie(&mut self, updates: &TrieUpdates, record: Option<u64>) -> Result<B256> {
        if updates.is_empty() {
            if let Some(block) = record {
                self.tx.put(
                    self.tables.trie_changesets,
                    block.to_be_bytes(),
                    codec::encode_trie_changeset(&[]),
                    WriteFlags::empty(),
                )?;
            }
            return rollup_trie::root(&self.reads())
                .map_err(|err| StorageError::Trie(err.to_string()));
        }
        let update = rollup_trie::apply_updates(&self.reads(), updates)
            .map_err(|err| StorageError::Trie(err.to_string()))?;
        if let Some(block) = record {
            let mut priors = Vec::with_capacity(update.writes.len());
            for path in update.writes.keys() {
                priors.push((
                    path.encode(),
                    rollup_trie::NodeStore::node(&self.reads(), path)?,
                ));
            }
            self.tx.put(
                self.tables.trie_changesets,
                block.to_be_bytes(),
                codec::encode_trie_changeset(&priors),
                WriteFlags::empty(),
            )?;
        }
        for (path, node) in &update.writes {
            let key = path.encode();
            match node {
                Some(node) => self.tx.put(
                    self.tables.trie_nodes,
                    key,
                    node.encode(),
                    WriteFlags::empty(),
                )?,
                None => {
                    self.tx.del(self.tables.trie_nodes, key, None)?;
                }
            }
        }
        Ok(update.root)
    }

    /// Writes the post-block values and returns the prior ones, with the trie updates.
    fn apply_state(&mut self, bundle: &BundleState) -> Result<(ChangeSet, TrieUpdates)> {
        let plain = bundle.to_plain_state(OriginalValuesKnown::Yes);
        let mut changeset = ChangeSet::default();
        let mut trie = TrieUpdates::new();
        let mut recorded = std::collections::HashSet::new();
        for (hash, code) in &plain.contracts {
            if *hash != KECCAK_EMPTY {
                self.tx.put(
                    self.tables.bytecodes,
                    hash,
                    code.original_bytes(),
                    WriteFlags::empty(),
                )?;
            }
        }
        for storage in &plain.storage {
            if storage.wipe_storage {
                for (slot, value) in self.reads().storage_of(storage.address)? {
                    changeset.storage.push((storage.address, slot, value));
                    recorded.insert((storage.address, slot));
                    trie.insert(rollup_trie::storage_key(storage.address, slot), None);
                    self.tx.del(
                        self.tables.storage,
                        storage_key(storage.address, slot),
                        None,
                    )?;
                }
            }
            for (slot, value) in &storage.storage {
                let prior = self.reads().storage(storage.address, *slot)?;
                if prior == *value {
                    continue;
                }
                if recorded.insert((storage.address, *slot)) {
                    changeset.storage.push((storage.address, *slot, prior));
                }
                trie.insert(
                    rollup_trie::storage_key(storage.address, *slot),
                    storage_leaf(*value),
                );
                let key = storage_key(storage.address, *slot);
                if value.is_zero() {
                    self.tx.del(self.tables.storage, key, None)?;
                } else {
                    self.tx.put(
                        self.tables.storage,
                        key,
                        value.to_be_bytes::<32>(),
                        WriteFlags::empty(),
                    )?;
                }
            }
        }
        for (address, info) in &plain.accounts {
            let prior = self.reads().account(*address)?;
            changeset.accounts.push((*address, prior));
            trie.insert(
                rollup_trie::account_key(*address),
                account_leaf(info.as_ref()),
            );
            self.put_account(*address, info.as_ref())?;
        }
        Ok((changeset, trie))
    }

    /// Removes L2 blocks above `number`, newest first, restoring the state exactly as it was
    /// after block `number`. Returns how many blocks were removed.
    pub fn unwind_l2_to(&mut self, number: u64) -> Result<u64> {
        let head = self.l2_head()?;
        if number >= head {
            return Ok(0);
        }
        // Newest first, so a key's entry from an older block overrides a newer one: what is left
        // is each key's value as of block `number`.
        let mut trie = TrieUpdates::new();
        for block in (number + 1..=head).rev() {
            let key = block.to_be_bytes();
            let changeset = self.reads().changeset(block)?.ok_or_else(|| {
                StorageError::Inconsistent(format!(
                    "no changeset for L2 block {block}: cannot unwind"
                ))
            })?;
            // Accounts and slots each appear once per changeset, so the order of undoing within
            // a block does not matter.
            for (address, prior) in &changeset.accounts {
                self.put_account(*address, prior.as_ref())?;
                trie.insert(
                    rollup_trie::account_key(*address),
                    account_leaf(prior.as_ref()),
                );
            }
            for (address, slot, prior) in &changeset.storage {
                trie.insert(
                    rollup_trie::storage_key(*address, *slot),
                    storage_leaf(*prior),
                );
                let key = storage_key(*address, *slot);
                if prior.is_zero() {
                    self.tx.del(self.tables.storage, key, None)?;
                } else {
                    self.tx.put(
                        self.tables.storage,
                        key,
                        prior.to_be_bytes::<32>(),
                        WriteFlags::empty(),
                    )?;
                }
            }
            if let Some(body) = self.reads().body(block)? {
                for tx in body {
                    self.tx.del(self.tables.tx_lookup, tx.hash(), None)?;
                }
            }
            if let Some(hash) = self.reads().canonical_hash(block)? {
                self.tx.del(self.tables.block_numbers, hash, None)?;
            }
            for table in [
                self.tables.headers,
                self.tables.canonical_hashes,
                self.tables.bodies,
                self.tables.receipts,
                self.tables.changesets,
                self.tables.trie_changesets,
            ] {
                self.tx.del(table, key, None)?;
            }
        }
        self.update_trie(&trie, None)?;
        self.tx.put(
            self.tables.meta,
            META_L2_HEAD,
            number.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        if self.safe_head()? > number {
            self.set_safe_head(number)?;
        }
        Ok(head - number)
    }

    /// Writes an account, or deletes it (`None`).
    fn put_account(&mut self, address: Address, info: Option<&AccountInfo>) -> Result<()> {
        match info {
            Some(info) => self.tx.put(
                self.tables.accounts,
                address,
                codec::encode_account(info),
                WriteFlags::empty(),
            )?,
            None => {
                self.tx.del(self.tables.accounts, address, None)?;
            }
        }
        Ok(())
    }

    /// Records a processed L1 block and moves the L1 cursor to it.
    pub fn record_l1_block(&mut self, record: &L1BlockRecord) -> Result<()> {
        self.tx.put(
            self.tables.l1_blocks,
            record.block.number.to_be_bytes(),
            record.encode(),
            WriteFlags::empty(),
        )?;
        self.tx.put(
            self.tables.meta,
            META_L1_CURSOR,
            encode_num_hash(record.block),
            WriteFlags::empty(),
        )?;
        Ok(())
    }

    /// Forgets processed L1 blocks numbered `from` and above, and moves the cursor to the block
    /// below. The caller unwinds L2 in the same transaction. Returns the new cursor record.
    pub fn remove_l1_blocks_from(&mut self, from: u64) -> Result<L1BlockRecord> {
        let below = from
            .checked_sub(1)
            .and_then(|n| self.l1_block(n).transpose())
            .transpose()?
            .ok_or_else(|| {
                StorageError::Inconsistent(format!(
                    "cannot revert L1 block {from}: no processed L1 block below it"
                ))
            })?;
        let mut doomed = Vec::new();
        let mut cursor = self.tx.cursor(self.tables.l1_blocks)?;
        let mut entry = cursor.set_range::<Vec<u8>, ()>(&from.to_be_bytes())?;
        while let Some((key, ())) = entry {
            doomed.push(key);
            entry = cursor.next::<Vec<u8>, ()>()?;
        }
        drop(cursor);
        for key in doomed {
            self.tx.del(self.tables.l1_blocks, key, None)?;
        }
        self.tx.put(
            self.tables.meta,
            META_L1_CURSOR,
            encode_num_hash(below.block),
            WriteFlags::empty(),
        )?;
        Ok(below)
    }

    /// Code by hash (used when building blocks inside the write transaction).
    pub fn code(&self, hash: B256) -> Result<Option<Bytecode>> {
        self.reads().code(hash)
    }

    /// A storage value (latest).
    pub fn storage(&self, address: Address, slot: U256) -> Result<U256> {
        self.reads().storage(address, slot)
    }
}

/// Trie key → new value hash (`None`: delete).
type TrieUpdates = std::collections::BTreeMap<B256, Option<B256>>;

fn account_leaf(info: Option<&AccountInfo>) -> Option<B256> {
    info.map(|info| rollup_trie::account_value_hash(info.nonce, info.balance, info.code_hash))
}

fn storage_leaf(value: U256) -> Option<B256> {
    (!value.is_zero()).then(|| rollup_trie::storage_value_hash(value))
}

/// The trie updates that build the genesis state from nothing.
fn genesis_trie_updates(config: &RollupConfig) -> TrieUpdates {
    let mut updates = TrieUpdates::new();
    for (address, account) in &config.genesis.alloc {
        let code_hash = account
            .code
            .as_ref()
            .filter(|c| !c.is_empty())
            .map_or(KECCAK_EMPTY, keccak256);
        updates.insert(
            rollup_trie::account_key(*address),
            Some(rollup_trie::account_value_hash(
                account.nonce,
                account.balance,
                code_hash,
            )),
        );
        for (slot, value) in &account.storage {
            updates.insert(
                rollup_trie::storage_key(*address, (*slot).into()),
                storage_leaf((*value).into()),
            );
        }
    }
    updates
}
