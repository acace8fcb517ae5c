//! Table names and handles.

use signet_libmdbx::{Database, DatabaseFlags, Environment, MdbxResult};

macro_rules! tables {
    ($($field:ident => $name:literal: $doc:literal),* $(,)?) => {
        /// Handles of every table, opened once per environment.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct Tables {
            $(#[doc = $doc] pub(crate) $field: Database,)*
        }

        impl Tables {
            pub(crate) const COUNT: usize = [$($name),*].len();

            pub(crate) fn create(env: &Environment) -> MdbxResult<Self> {
                let tx = env.begin_rw_sync()?;
                let tables = Self { $($field: tx.create_db(Some($name), DatabaseFlags::empty())?,)* };
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
    changesets => "ChangeSets": "L2 number → prior values of what the block touched",
    l1_blocks => "L1Blocks": "L1 number → hash, timestamp, prevrandao, safe L2 head after it, deposits",
    trie_nodes => "TrieNodes": "trie node path → node (the latest state's sparse Merkle trie)",
    trie_changesets => "TrieChangeSets": "L2 number → prior trie nodes the block rewrote (historical proofs)",
    block_batches => "BlockBatches": "safe L2 number → keccak256 of the batch it was derived from (zero: forced)",
    meta => "Meta": "named singletons: genesis hash, L2 head, safe head, L1 cursor",
}

pub(crate) const META_GENESIS: &[u8] = b"genesis";
/// The rollup config (JSON) the database was created with: every consensus parameter.
pub(crate) const META_CONFIG: &[u8] = b"config";
pub(crate) const META_L2_HEAD: &[u8] = b"l2_head";
pub(crate) const META_L1_CURSOR: &[u8] = b"l1_cursor";
pub(crate) const META_SAFE_HEAD: &[u8] = b"safe_head";
