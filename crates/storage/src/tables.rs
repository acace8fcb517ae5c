//! Table names and handles.

use signet_libmdbx::{Database, DatabaseFlags, Environment, MdbxResult};

macro_rules! tables {
    ($($field:ident => $name:literal $(($flags:expr))?: $doc:literal),* $(,)?) => {
        /// Handles of every table, opened once per environment.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct Tables {
            $(#[doc = $doc] pub(crate) $field: Database,)*
        }

        impl Tables {
            pub(crate) const COUNT: usize = [$($name),*].len();

            pub(crate) fn create(env: &Environment) -> MdbxResult<Self> {
                let tx = env.begin_rw_sync()?;
                let tables = Self {
                    $($field: tx.create_db(Some($name), DatabaseFlags::empty() $(| $flags)?)?,)*
                };
                tx.commit()?;
                Ok(tables)
            }
        }
    };
}

tables! {
    accounts => "Accounts": "address → nonce ‖ balance ‖ code hash",
    storage => "Storage": "address ‖ slot → value (non-zero only)",
    bytecodes => "Bytecodes": "code hash → code",
    headers => "Headers": "L2 number → RLP header",
    canonical_hashes => "CanonicalHashes": "L2 number → block hash",
    block_numbers => "BlockNumbers": "block hash → L2 number",
    bodies => "Bodies": "L2 number → transactions with senders",
    receipts => "Receipts": "L2 number → receipts",
    tx_lookup => "TxLookup": "tx hash → L2 number ‖ index",
    changesets => "ChangeSets": "L2 number → prior values of what the block touched (legacy: written by older versions, read only to unwind or prune their blocks)",
    l1_blocks => "L1Blocks": "L1 number → hash, timestamp, prevrandao, safe L2 head after it, deposits",
    trie_nodes => "TrieNodes": "trie node path → node (the latest state's sparse Merkle trie)",
    trie_changesets => "TrieChangeSets": "L2 number → prior trie nodes the block rewrote (legacy, as `ChangeSets`)",
    account_changesets => "AccountChangeSets": "L2 number ‖ address → the account before the block changed it (0, or 1 ‖ account)",
    storage_changesets => "StorageChangeSets": "L2 number ‖ address ‖ slot → the slot's value before the block changed it",
    trie_node_changesets => "TrieNodeChangeSets": "L2 number ‖ trie node path → the node before the block rewrote it (empty: no node)",
    accounts_history => "AccountsHistory" (HISTORY_INDEX): "address → L2 numbers of the blocks that changed the account (sorted duplicates)",
    storages_history => "StoragesHistory" (HISTORY_INDEX): "address ‖ slot → L2 numbers of the blocks that changed the slot (sorted duplicates)",
    trie_nodes_history => "TrieNodesHistory" (HISTORY_INDEX): "trie node path → L2 numbers of the blocks that rewrote the node (sorted duplicates)",
    block_batches => "BlockBatches": "safe L2 number → batch hash (zero: forced), inbox record, position in it, L1 block",
    l1_block_derivations => "L1BlockDerivations": "L1 number → the batches posted in the block (L1 transaction, size, L2 blocks derived) and the L1 log of each of its deposits; only blocks with either",
    open_block_parts => "OpenBlockParts": "inbox record → the L2 block it left open and that block's transactions in its batch (kept until no L1 reorg the node follows can reopen the block; rewritten when the record is derived again)",
    meta => "Meta": "named singletons: genesis hash, L2 head, safe head, L1 cursor, L1 finalized",
}

/// Flags of the history indexes.
///
/// A history index maps a key (an address, an address ‖ slot, or a trie node path) to the
/// sorted set of L2 block numbers that changed it, as reth's `AccountsHistory` and
/// `StoragesHistory`. Reth shards each key's list into `key ‖ highest block` entries holding
/// compressed integer lists; MDBX's sorted duplicates give the same seek without the shard
/// bookkeeping: the block numbers are fixed 8-byte big-endian duplicates of the key
/// (`DUP_SORT | DUP_FIXED`, stored packed in the key's sub-page or sub-tree, 8 bytes each), so
/// - "first block after N that changed K" is one `MDBX_GET_BOTH_RANGE(K, N + 1)` seek,
/// - appending a block adds one duplicate per changed key, with no list to rewrite, and
/// - unwinding or pruning a block removes exactly its duplicates, one delete each.
const HISTORY_INDEX: DatabaseFlags = DatabaseFlags::DUP_SORT.union(DatabaseFlags::DUP_FIXED);

pub(crate) const META_GENESIS: &[u8] = b"genesis";
/// The rollup config (JSON) the database was created with: every consensus parameter.
pub(crate) const META_CONFIG: &[u8] = b"config";
pub(crate) const META_L2_HEAD: &[u8] = b"l2_head";
pub(crate) const META_L1_CURSOR: &[u8] = b"l1_cursor";
pub(crate) const META_SAFE_HEAD: &[u8] = b"safe_head";
/// The newest finalized L1 block the node was told of: the finalized L2 head follows from it,
/// and a restarted node serves that head before its L1 source answers again.
pub(crate) const META_L1_FINALIZED: &[u8] = b"l1_finalized";
/// The oldest L2 block whose state can still be read: every later block's changesets and
/// history index entries are kept. Rises as old history is pruned.
pub(crate) const META_HISTORY_START: &[u8] = b"history_start";
