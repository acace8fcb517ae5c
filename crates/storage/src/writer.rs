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
use signet_libmdbx::{Database, RwSync, WriteFlags, tx::aliases::RwTxSync};

use crate::{
    BlockDerivation, L1BlockDerivation, L1BlockRecord, OpenBlockPart, Result, StorageError,
    codec::{self, ChangeSet, changeset_key, encode_num_hash, storage_key},
    reader::Reads,
    tables::{
        META_CONFIG, META_GENESIS, META_HISTORY_START, META_L1_CURSOR, META_L1_FINALIZED,
        META_L2_HEAD, META_SAFE_HEAD, Tables,
    },
};

/// At most this many blocks of old history are pruned per appended block. Pruning keeps up
/// with the head in steady state (one block pruned per block appended) and catches up on a
/// backlog (after lowering the retention) in bounded steps, so no write transaction grows
/// without limit.
pub const PRUNE_BLOCKS_PER_APPEND: u64 = 16;

/// The deepest L1 reorg, in L1 blocks, whose L2 blocks' history is kept whatever the retention:
/// the depth the L1 follower can unwind (`rollup_l1::WINDOW_DEPTH`). Pruning stops at the safe
/// L2 head as of the L1 block this far below the L1 cursor, the lowest block such a reorg can
/// unwind to; above it the changesets an unwind needs are always there.
pub const L1_REORG_DEPTH: u64 = 1024;

/// One MDBX read-write transaction. Dropping it without [`Self::commit`] discards everything.
#[derive(Debug)]
pub struct StoreWriter {
    tx: RwTxSync,
    tables: Tables,
    history_retention: u64,
}

impl StoreWriter {
    pub(crate) const fn new(tx: RwTxSync, tables: Tables, history_retention: u64) -> Self {
        Self {
            tx,
            tables,
            history_retention,
        }
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

    /// The part of an open block inbox record `index` holds, if that record left its last
    /// block open (as derivation last saw the record).
    pub fn open_block_part(&self, index: u64) -> Result<Option<OpenBlockPart>> {
        crate::store::get(&self.tx, self.tables.open_block_parts, &index.to_be_bytes())?
            .map(|v| OpenBlockPart::decode(index, &v))
            .transpose()
    }

    /// Records (or, with `None`, forgets) the open block part of inbox record `index`.
    /// Derivation sets it for every record it derives, so a record derived again after an L1
    /// reorg replaces what an earlier one at its index left.
    pub fn set_open_block_part(&mut self, index: u64, part: Option<&OpenBlockPart>) -> Result<()> {
        let key = index.to_be_bytes();
        match part {
            Some(part) => self.tx.put(
                self.tables.open_block_parts,
                key,
                part.encode(),
                WriteFlags::empty(),
            )?,
            None => {
                self.tx.del(self.tables.open_block_parts, key, None)?;
            }
        }
        Ok(())
    }

    /// The safe L2 head.
    pub fn safe_head(&self) -> Result<u64> {
        Ok(self.reads().safe_head()?.unwrap_or_default())
    }

    /// Records where a safe block was derived from.
    pub fn set_block_derivation(&mut self, number: u64, at: &BlockDerivation) -> Result<()> {
        self.tx.put(
            self.tables.block_batches,
            number.to_be_bytes(),
            at.encode(),
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
        // When MDBX fails a commit (ENOSPC while writing its pages) it aborts the transaction
        // itself, and the binding's drop then aborts it again, gets `BadTxn` and panics: a
        // full disk killed the node with a panic and no fatal-error line (an outsider's
        // finding). The panic is caught here and becomes the error it stands for; the other
        // commit errors come back as they are. The panic hook stays quiet for it: the operator
        // reads the error, not a panic message and a backtrace that look like a crash.
        match catch_quietly(move || self.tx.commit()) {
            Some(committed) => {
                committed?;
                Ok(())
            }
            None => Err(StorageError::CommitFailed),
        }
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
        self.set_history_start(0)?;
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
            // The origin precedes the bridge (`deploy` takes the newest L1 block before it, and
            // the deployment check refuses a config whose origin does not): its first message
            // is nonce 0, so a dropped first log is a gap like any other.
            next_deposit_nonce: Some(0),
            next_inbox_record: 0,
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
        self.record_changeset(number, &changeset)?;
        block.header.state_root = self.update_trie(&trie, Some(number))?;
        let hash = block.hash();
        self.put_block_data(block, hash, receipts)?;
        self.tx.put(
            self.tables.meta,
            META_L2_HEAD,
            number.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        self.prune_history(number)?;
        Ok(hash)
    }

    /// Records what block `number` changed: each prior value keyed by block and key, and the
    /// block in the history index of each key.
    fn record_changeset(&mut self, number: u64, changeset: &ChangeSet) -> Result<()> {
        let block = number.to_be_bytes();
        for (address, prior) in &changeset.accounts {
            self.tx.put(
                self.tables.account_changesets,
                changeset_key(number, address.as_slice()),
                codec::encode_prior_account(prior.as_ref()),
                WriteFlags::empty(),
            )?;
            self.tx.put(
                self.tables.accounts_history,
                address,
                block,
                WriteFlags::empty(),
            )?;
        }
        for (address, slot, prior) in &changeset.storage {
            let key = storage_key(*address, *slot);
            self.tx.put(
                self.tables.storage_changesets,
                changeset_key(number, &key),
                prior.to_be_bytes::<32>(),
                WriteFlags::empty(),
            )?;
            self.tx.put(
                self.tables.storages_history,
                key,
                block,
                WriteFlags::empty(),
            )?;
        }
        Ok(())
    }

    /// Removes everything block `number` recorded for history: its changesets (keyed, or the
    /// legacy blobs of an older version) and its entries in the history indexes.
    fn forget_history_of(&mut self, number: u64, changeset: &ChangeSet) -> Result<()> {
        let block = number.to_be_bytes();
        for (address, _) in &changeset.accounts {
            self.tx.del(
                self.tables.account_changesets,
                changeset_key(number, address.as_slice()),
                None,
            )?;
            self.tx
                .del(self.tables.accounts_history, address, Some(&block))?;
        }
        for (address, slot, _) in &changeset.storage {
            let key = storage_key(*address, *slot);
            self.tx.del(
                self.tables.storage_changesets,
                changeset_key(number, &key),
                None,
            )?;
            self.tx
                .del(self.tables.storages_history, key, Some(&block))?;
        }
        for (path, _) in self
            .reads()
            .block_entries(self.tables.trie_node_changesets, number)?
        {
            self.tx.del(
                self.tables.trie_node_changesets,
                changeset_key(number, &path),
                None,
            )?;
            self.tx
                .del(self.tables.trie_nodes_history, path, Some(&block))?;
        }
        self.tx.del(self.tables.changesets, block, None)?;
        self.tx.del(self.tables.trie_changesets, block, None)?;
        Ok(())
    }

    /// Sets the oldest block whose state is kept.
    pub(crate) fn set_history_start(&mut self, number: u64) -> Result<()> {
        self.tx.put(
            self.tables.meta,
            META_HISTORY_START,
            number.to_be_bytes(),
            WriteFlags::empty(),
        )?;
        Ok(())
    }

    fn history_start(&self) -> Result<u64> {
        Ok(self.reads().history_start()?.unwrap_or_default())
    }

    /// Prunes the history of blocks more than the retention behind `head`, at most
    /// [`PRUNE_BLOCKS_PER_APPEND`] blocks at a time. Returns how many blocks it pruned.
    fn prune_history(&mut self, head: u64) -> Result<u64> {
        let start = self.history_start()?;
        let target = head
            .saturating_sub(self.history_retention)
            .min(self.unwind_floor()?);
        if target <= start {
            return Ok(0);
        }
        let until = target.min(start + PRUNE_BLOCKS_PER_APPEND);
        // The state after `until` stays readable: it needs the changesets of `until + 1` on.
        for number in start + 1..=until {
            let changeset = self.reads().changeset(number)?;
            self.forget_history_of(number, &changeset)?;
        }
        self.set_history_start(until)?;
        tracing::trace!(target: "rollup::storage", from = start + 1, to = until, "pruned history");
        Ok(until - start)
    }

    /// The lowest L2 block an L1 reorg of up to [`L1_REORG_DEPTH`] blocks can unwind to: the safe
    /// head recorded for the L1 block that far below the cursor; 0 while no such block was
    /// processed (a young rollup), so nothing is pruned yet.
    fn unwind_floor(&self) -> Result<u64> {
        let Some(cursor) = self.l1_cursor()? else {
            return Ok(0);
        };
        let Some(deepest) = cursor.number.checked_sub(L1_REORG_DEPTH) else {
            return Ok(0);
        };
        Ok(self
            .l1_block(deepest)?
            .map_or(0, |record| record.safe_l2_head))
    }

    /// Applies key updates to the stored state trie and returns the new root.
    /// `record`: the L2 block whose trie changes to remember (their prior nodes), for proofs
    /// against older state roots.
    fn update_trie(&mut self, updates: &TrieUpdates, record: Option<u64>) -> Result<B256> {
        if updates.is_empty() {
            return rollup_trie::root(&self.reads())
                .map_err(|err| StorageError::Trie(err.to_string()));
        }
        let update = rollup_trie::apply_updates(&self.reads(), updates)
            .map_err(|err| StorageError::Trie(err.to_string()))?;
        if let Some(block) = record {
            for (path, prior) in &update.priors {
                let key = path.encode();
                self.tx.put(
                    self.tables.trie_node_changesets,
                    changeset_key(block, &key),
                    codec::encode_prior_node(prior.as_ref()),
                    WriteFlags::empty(),
                )?;
                self.tx.put(
                    self.tables.trie_nodes_history,
                    key,
                    block.to_be_bytes(),
                    WriteFlags::empty(),
                )?;
            }
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
        let history_start = self.history_start()?;
        // Newest first, so a key's entry from an older block overrides a newer one: what is left
        // is each key's value as of block `number`.
        let mut trie = TrieUpdates::new();
        for block in (number + 1..=head).rev() {
            let key = block.to_be_bytes();
            let legacy = self.reads().changeset_is_legacy(block)?;
            if block <= history_start && !legacy {
                return Err(StorageError::Inconsistent(format!(
                    "cannot unwind L2 block {block}: its changeset was pruned (history is kept \
                     from L2 block {history_start}), so this L1 reorg is deeper than the \
                     {L1_REORG_DEPTH} L1 blocks the node keeps history for; resync from an empty \
                     datadir"
                )));
            }
            let changeset = self.reads().changeset(block)?;
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
            self.forget_history_of(block, &changeset)?;
            for table in [
                self.tables.headers,
                self.tables.canonical_hashes,
                self.tables.bodies,
                self.tables.receipts,
            ] {
                self.tx.del(table, key, None)?;
            }
        }
        if history_start > number {
            // Only a database from before history indexes unwinds below its history start
            // (with the legacy changesets): the state now at the head is all it can serve.
            self.set_history_start(number)?;
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

    /// Records `block` as the newest finalized L1 block the node was told of.
    pub fn set_l1_finalized(&mut self, block: BlockNumHash) -> Result<()> {
        self.tx.put(
            self.tables.meta,
            META_L1_FINALIZED,
            encode_num_hash(block),
            WriteFlags::empty(),
        )?;
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
        self.prune_open_block_parts()?;
        Ok(())
    }

    /// Forgets the stored parts of open blocks that no L1 reorg the node follows can reopen: those
    /// of L2 blocks at or below [`Self::unwind_floor`] (safe as of an L1 block [`L1_REORG_DEPTH`]
    /// deep), at most [`PRUNE_BLOCKS_PER_APPEND`] parts per L1 block. Records, and so their parts'
    /// blocks, ascend with their index, so the oldest entries go first and the scan stops at the
    /// first part still needed. Returns how many parts it forgot.
    fn prune_open_block_parts(&mut self) -> Result<u64> {
        let floor = self.unwind_floor()?;
        let mut doomed = Vec::new();
        let mut cursor = self.tx.cursor(self.tables.open_block_parts)?;
        // Values are copied (see `store::get` for why a write transaction does not borrow); the
        // scan stops at the first part still needed, so it reads few.
        let mut entry = cursor.first::<Vec<u8>, Vec<u8>>()?;
        while let Some((key, value)) = entry {
            if doomed.len() as u64 == PRUNE_BLOCKS_PER_APPEND {
                break;
            }
            if OpenBlockPart::decode_l2_block(&value)? > floor {
                break;
            }
            doomed.push(key);
            entry = cursor.next::<Vec<u8>, Vec<u8>>()?;
        }
        drop(cursor);
        let pruned = doomed.len() as u64;
        for key in doomed {
            self.tx.del(self.tables.open_block_parts, key, None)?;
        }
        if pruned > 0 {
            tracing::trace!(target: "rollup::storage", pruned, floor, "pruned open block parts");
        }
        Ok(pruned)
    }

    /// Records what derivation made of L1 block `number` (its batches and the origins of its
    /// deposits); an empty one is not stored.
    pub fn record_l1_derivation(
        &mut self,
        number: u64,
        derivation: &L1BlockDerivation,
    ) -> Result<()> {
        let key = number.to_be_bytes();
        if derivation.is_empty() {
            self.tx.del(self.tables.l1_block_derivations, key, None)?;
        } else {
            self.tx.put(
                self.tables.l1_block_derivations,
                key,
                derivation.encode(),
                WriteFlags::empty(),
            )?;
        }
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
        self.delete_from(self.tables.l1_blocks, from)?;
        self.delete_from(self.tables.l1_block_derivations, from)?;
        self.tx.put(
            self.tables.meta,
            META_L1_CURSOR,
            encode_num_hash(below.block),
            WriteFlags::empty(),
        )?;
        Ok(below)
    }

    /// Deletes every entry of `table` (keyed by a big-endian block number) from block `from` on.
    fn delete_from(&mut self, table: Database, from: u64) -> Result<()> {
        let mut doomed = Vec::new();
        let mut cursor = self.tx.cursor(table)?;
        let mut entry = cursor.set_range::<Vec<u8>, ()>(&from.to_be_bytes())?;
        while let Some((key, ())) = entry {
            doomed.push(key);
            entry = cursor.next::<Vec<u8>, ()>()?;
        }
        drop(cursor);
        for key in doomed {
            self.tx.del(table, key, None)?;
        }
        Ok(())
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

thread_local! {
    /// Whether this thread runs [`catch_quietly`], whose panics become errors.
    static CATCHING_QUIETLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, and `None` if it panicked, without the panic hook printing that panic. The hook of
/// the process is wrapped once: every other panic, on any thread, goes to the hook that was
/// there before.
fn catch_quietly<T>(f: impl FnOnce() -> T) -> Option<T> {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CATCHING_QUIETLY.get() {
                previous(info);
            }
        }));
    });
    let outer = CATCHING_QUIETLY.replace(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok();
    CATCHING_QUIETLY.set(outer);
    result
}

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

#[cfg(any(test, feature = "test-utils"))]
impl StoreWriter {
    /// Records two L1 blocks above the cursor that put L2 blocks up to `l2` deeper than any L1
    /// reorg the store keeps history for, so that pruning may reach them (for tests that
    /// append L2 blocks without deriving them from L1).
    pub fn settle_l2_through(&mut self, l2: u64) -> Result<()> {
        let first = self.l1_cursor()?.map_or(0, |cursor| cursor.number + 1);
        for number in [first, first + L1_REORG_DEPTH] {
            self.record_l1_block(&L1BlockRecord {
                block: BlockNumHash {
                    number,
                    hash: B256::with_last_byte(1),
                },
                timestamp: 0,
                mix_hash: B256::ZERO,
                safe_l2_head: l2,
                deposits: Vec::new(),
                next_deposit_nonce: None,
                next_inbox_record: 0,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::Address;
    use revm::{
        DatabaseRef,
        primitives::{StorageKey, StorageValue},
    };
    use rollup_primitives::{BlockNumHash, ContractAddresses, L2Genesis};
    use signet_libmdbx::Database;

    use super::*;
    use crate::Store;

    fn config() -> RollupConfig {
        RollupConfig {
            l1_chain_id: 1,
            l2_chain_id: 2,
            contracts: ContractAddresses {
                l1_bridge: Address::repeat_byte(1),
                batch_inbox: Address::repeat_byte(2),
                state_manager: Address::repeat_byte(3),
            },
            genesis: L2Genesis {
                l1_origin: BlockNumHash {
                    number: 1,
                    hash: B256::repeat_byte(1),
                },
                timestamp: 0,
                gas_limit: 30_000_000,
                base_fee_per_gas: 1,
                alloc: Default::default(),
            },
            sequencing_window: 2,
            max_sequencer_drift: 600,
            batcher_address: Address::repeat_byte(4),
        }
    }

    /// Appends a block where account `1 + number % 3` gets balance `number` and slot
    /// `number % 5` of account 9 gets `number`.
    fn append(writer: &mut StoreWriter) {
        let number = writer.l2_head().unwrap() + 1;
        let info = |balance: u64| AccountInfo {
            balance: U256::from(balance),
            ..Default::default()
        };
        let target = Address::repeat_byte(1 + (number % 3) as u8);
        let contract = Address::repeat_byte(9);
        let slot = U256::from(number % 5);
        let state = writer.state();
        let changes = vec![
            (
                target,
                state.basic_ref(target).unwrap(),
                Some(info(number)),
                Default::default(),
            ),
            (
                contract,
                state.basic_ref(contract).unwrap(),
                Some(info(1)),
                [(
                    slot as StorageKey,
                    (
                        state.storage_ref(contract, slot).unwrap(),
                        StorageValue::from(number),
                    ),
                )]
                .into_iter()
                .collect(),
            ),
        ];
        drop(state);
        let bundle = BundleState::new(
            changes,
            Vec::<Vec<(Address, Option<Option<AccountInfo>>, Vec<(U256, U256)>)>>::new(),
            Vec::new(),
        );
        let mut block = L2Block {
            header: alloy_consensus::Header {
                number,
                parent_hash: writer.block_hash(number - 1).unwrap().unwrap(),
                ..Default::default()
            },
            transactions: vec![],
        };
        writer.append_block(&mut block, &[], &bundle).unwrap();
    }

    /// Every entry of every history table, as (table, key, value).
    fn history(store: &Store) -> Vec<(usize, Vec<u8>, Vec<u8>)> {
        let reader = store.reader().unwrap();
        let reads = reader.reads();
        let tables: [Database; 6] = [
            reads.tables.account_changesets,
            reads.tables.storage_changesets,
            reads.tables.trie_node_changesets,
            reads.tables.accounts_history,
            reads.tables.storages_history,
            reads.tables.trie_nodes_history,
        ];
        let mut entries = Vec::new();
        for (index, table) in tables.into_iter().enumerate() {
            let mut cursor = reads.tx.cursor(table).unwrap();
            let mut entry = cursor.first::<Vec<u8>, Vec<u8>>().unwrap();
            while let Some((key, value)) = entry {
                entries.push((index, key, value));
                entry = cursor.next::<Vec<u8>, Vec<u8>>().unwrap();
            }
        }
        entries
    }

    fn build(store: &Store, blocks: u64) {
        for _ in 0..blocks {
            let mut writer = store.writer().unwrap();
            append(&mut writer);
            writer.commit().unwrap();
        }
    }

    /// [`build`], each block appended when its parent is beyond any L1 reorg.
    fn build_settled(store: &Store, blocks: u64) {
        for _ in 0..blocks {
            let mut writer = store.writer().unwrap();
            let head = writer.l2_head().unwrap();
            writer.settle_l2_through(head).unwrap();
            append(&mut writer);
            writer.commit().unwrap();
        }
    }

    /// A processed L1 block `number` that left the safe L2 head at `safe_l2_head`.
    fn l1_record(number: u64, safe_l2_head: u64) -> L1BlockRecord {
        L1BlockRecord {
            block: BlockNumHash {
                number,
                hash: B256::with_last_byte(1),
            },
            timestamp: 0,
            mix_hash: B256::ZERO,
            safe_l2_head,
            deposits: Vec::new(),
            next_deposit_nonce: None,
            next_inbox_record: 0,
        }
    }

    /// Whatever the retention, blocks an L1 reorg the node follows could unwind keep their
    /// history: pruning waits until the L1 block that made them safe is that deep.
    #[test]
    fn pruning_keeps_what_an_l1_reorg_can_unwind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap().with_history_retention(0);
        store.init_genesis(&config()).unwrap();
        build(&store, 30);
        let reader = store.reader().unwrap();
        assert_eq!(reader.oldest_history_block().unwrap(), 0);
        drop(reader);

        // L1 block 1 made L2 blocks up to 20 safe; once the cursor is L1_REORG_DEPTH above it,
        // they are pruned (16 per appended block), the rest stays.
        let mut writer = store.writer().unwrap();
        writer.record_l1_block(&l1_record(1, 20)).unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH, 25))
            .unwrap();
        writer.commit().unwrap();
        build(&store, 3);
        assert_eq!(store.reader().unwrap().oldest_history_block().unwrap(), 0);

        let mut writer = store.writer().unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH + 1, 25))
            .unwrap();
        writer.commit().unwrap();
        build(&store, 3);
        assert_eq!(store.reader().unwrap().oldest_history_block().unwrap(), 20);
        // An unwind to the floor still has every changeset it needs.
        let mut writer = store.writer().unwrap();
        assert_eq!(writer.unwind_l2_to(20).unwrap(), 16);
        writer.commit().unwrap();
    }

    /// Parts of open blocks stay while an L1 reorg the node follows could reopen their block,
    /// and go once the block was safe as of an L1 block that deep.
    #[test]
    fn open_block_parts_are_pruned_once_no_reorg_can_reopen_their_block() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&config()).unwrap();
        let part = |l2_block| OpenBlockPart {
            l2_block,
            timestamp: 7,
            l1_origin: 1,
            closed_here: BlockDerivation {
                batch: B256::ZERO,
                inbox_record: 0,
                block_in_record: 0,
                l1_block: 1,
            },
            transactions: Some(vec![vec![2, 3]]),
        };
        // Records 0 and 1 left block 10 open, record 2 block 12; 20 more left block 30 open.
        let mut writer = store.writer().unwrap();
        for (index, block) in [(0, 10), (1, 10), (2, 12)] {
            writer
                .set_open_block_part(index, Some(&part(block)))
                .unwrap();
        }
        for index in 3..23 {
            writer.set_open_block_part(index, Some(&part(30))).unwrap();
        }
        // L1 block 1 made L2 block 11 safe, L1 blocks 2 and 3 block 40.
        writer.record_l1_block(&l1_record(1, 11)).unwrap();
        writer.record_l1_block(&l1_record(2, 40)).unwrap();
        writer.record_l1_block(&l1_record(3, 40)).unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH, 11))
            .unwrap();
        writer.commit().unwrap();
        let kept = |store: &Store| {
            let writer = store.writer().unwrap();
            (0..23)
                .filter(|index| writer.open_block_part(*index).unwrap().is_some())
                .count()
        };
        assert_eq!(kept(&store), 23, "nothing is safe that deep yet");

        // Block 11 is safe as of L1 block 1, now L1_REORG_DEPTH deep: block 10's parts go.
        let mut writer = store.writer().unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH + 1, 11))
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(kept(&store), 21);
        let writer = store.writer().unwrap();
        assert_eq!(writer.open_block_part(2).unwrap(), Some(part(12)));
        drop(writer);

        // Block 40 safe that deep: the rest go, at most PRUNE_BLOCKS_PER_APPEND per L1 block.
        let mut writer = store.writer().unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH + 2, 40))
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(kept(&store), 21 - PRUNE_BLOCKS_PER_APPEND as usize);
        let mut writer = store.writer().unwrap();
        writer
            .record_l1_block(&l1_record(L1_REORG_DEPTH + 3, 40))
            .unwrap();
        writer.commit().unwrap();
        assert_eq!(kept(&store), 0);
    }

    #[test]
    fn unwind_removes_exactly_the_history_of_the_removed_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.init_genesis(&config()).unwrap();
        build(&store, 10);
        let at_10 = history(&store);
        assert!(at_10.len() > 60, "{} entries", at_10.len());
        build(&store, 10);
        assert!(history(&store).len() > at_10.len());
        let mut writer = store.writer().unwrap();
        assert_eq!(writer.unwind_l2_to(10).unwrap(), 10);
        writer.commit().unwrap();
        assert_eq!(history(&store), at_10);
        // And re-applying the same blocks indexes them again, identically.
        build(&store, 10);
        let mut writer = store.writer().unwrap();
        writer.unwind_l2_to(10).unwrap();
        writer.commit().unwrap();
        assert_eq!(history(&store), at_10);
    }

    #[test]
    fn pruning_removes_exactly_the_history_of_the_pruned_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap().with_history_retention(5);
        store.init_genesis(&config()).unwrap();
        build_settled(&store, 40);
        let entries = history(&store);
        let reader = store.reader().unwrap();
        assert_eq!(reader.oldest_history_block().unwrap(), 35);
        // Only blocks 36..=40 are left: in the changesets by key prefix, in the indexes by
        // value.
        for (table, key, value) in &entries {
            let block = if *table < 3 {
                u64::from_be_bytes(key[..8].try_into().unwrap())
            } else {
                u64::from_be_bytes(value[..].try_into().unwrap())
            };
            assert!(
                (36..=40).contains(&block),
                "table {table} keeps block {block}"
            );
        }
        // Each kept block changed two accounts' worth of entries plus one slot, at least.
        assert!(entries.len() > 5 * 6, "{} entries", entries.len());
        // The oldest kept state still reads right.
        let state = reader.state_at(35).unwrap();
        assert_eq!(
            state
                .storage_ref(Address::repeat_byte(9), U256::from(0))
                .unwrap(),
            U256::from(35)
        );
        assert_eq!(
            state
                .basic_ref(Address::repeat_byte(3))
                .unwrap()
                .unwrap()
                .balance,
            U256::from(35)
        );
    }

    /// Runs in a child process of its own (the panic hook is the process's): a panic caught by
    /// `catch_quietly` prints nothing, the next one elsewhere prints as before.
    #[test]
    fn a_panic_caught_in_a_commit_prints_nothing_and_other_panics_still_do() {
        const CHILD: &str = "ROLLUP_STORAGE_QUIET_PANIC_CHILD";
        const NAME: &str =
            "writer::tests::a_panic_caught_in_a_commit_prints_nothing_and_other_panics_still_do";
        if std::env::var_os(CHILD).is_some() {
            assert_eq!(catch_quietly(|| panic!("inside the commit")), None::<()>);
            assert_eq!(catch_quietly(|| 7), Some(7));
            let outside = std::thread::spawn(|| panic!("outside the commit")).join();
            assert!(outside.is_err());
            return;
        }
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&child.stderr);
        assert!(child.status.success(), "{stderr}");
        assert!(!stderr.contains("inside the commit"), "{stderr}");
        assert!(stderr.contains("outside the commit"), "{stderr}");
    }
}
