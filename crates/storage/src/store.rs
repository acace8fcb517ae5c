//! The MDBX environment.

use std::{
    borrow::Cow,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use alloy_primitives::B256;
use rollup_primitives::RollupConfig;
use signet_libmdbx::{Database, Environment, Geometry, TransactionKind, tx::Tx};
use tracing::info;

use crate::{
    Result, StorageError, StoreReader, StoreWriter,
    tables::{META_GENESIS, Tables},
};

/// The L2 database. Cheap to clone; every clone shares one MDBX environment.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    env: Environment,
    tables: Tables,
    path: PathBuf,
    history_retention: AtomicU64,
}

/// Upper bound of the memory map; MDBX grows the file on demand up to it.
const MAX_MAP_SIZE: usize = 4 << 40;

/// What failed on the database directory `path`.
fn directory_error(path: &Path, err: std::io::Error) -> StorageError {
    StorageError::Directory {
        path: path.display().to_string(),
        reason: err.to_string(),
    }
}

/// MDBX's data file in the database directory.
const DATA_FILE: &str = "mdbx.dat";

/// The shortest data file MDBX writes: its three meta pages of at least 4 KiB.
const MIN_DATA_FILE: u64 = 3 * 4096;

/// The MDBX environment of the database directory `path`.
fn open_env(path: &Path, max_readers: u64) -> Result<Environment> {
    Ok(Environment::builder()
        .set_max_dbs(Tables::COUNT + 4)
        .set_max_readers(max_readers)
        .set_geometry(Geometry {
            size: Some(0..MAX_MAP_SIZE),
            growth_step: Some(GROWTH_STEP),
            ..Default::default()
        })
        .open(path)?)
}

/// Creates an empty database with every table in a directory beside `path`, then moves its
/// data file into `path` (a rename, atomic): a process killed while MDBX writes a new data file
/// leaves no short file behind for [`Store::open`] to take for damage.
fn create_data_file(path: &Path, max_readers: u64) -> Result<()> {
    let directory = |err| directory_error(path, err);
    let staging = path.join("creating");
    match std::fs::remove_dir_all(&staging) {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(directory(err)),
    }
    std::fs::create_dir(&staging).map_err(directory)?;
    {
        let env = open_env(&staging, max_readers)?;
        Tables::create(&env)?;
    }
    std::fs::rename(staging.join(DATA_FILE), path.join(DATA_FILE)).map_err(directory)?;
    // The rename is durable only once the directory is synced: MDBX's own syncs cover the
    // file's contents, not its name, and a power loss could otherwise leave the directory
    // without the file whose genesis was committed.
    std::fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(directory)?;
    std::fs::remove_dir_all(&staging).map_err(directory)?;
    Ok(())
}
const GROWTH_STEP: isize = 256 << 20;

/// MDBX reader slots: one per read transaction open at a time, over every thread of the process.
///
/// As reth: just under MDBX's own limit (32 767), so that slots are never what runs out first.
/// What bounds concurrent readers is the work that holds them: the RPC holds one per request it
/// is running, and runs those on tokio's blocking pool (at most 512 threads by default); the
/// node core holds a handful. A slot costs 32 bytes of the lock file.
/// Should they still run out, opening a reader fails with a temporary error
/// ([`StorageError::is_temporary`]) that the caller retries.
pub const DEFAULT_MAX_READERS: u64 = 32_000;

/// L2 blocks of history kept behind the head by default: state, storage and trie proofs at any
/// of the last 2 200 000 blocks can be read ([`crate::StoreReader::state_at`],
/// [`crate::StoreReader::trie_proof_at`]).
///
/// A fault proof needs the state of any block whose output root can still be disputed: a
/// challenge may open on the last day of the 7-day challenge period and its game may then run
/// to the production preset's longest, about 16.1 days, so a proposal can wait about 23.1 days
/// (docs/fraud-proof.md), 1 995 840 one-second blocks. The default keeps that plus about 2.4
/// days of margin (for an output proposed late, and the node having been down). Older changesets and history index entries are pruned
/// as the head advances, at most [`crate::PRUNE_BLOCKS_PER_APPEND`] blocks per appended block
/// so no write transaction grows without bound.
///
/// Change it with [`Store::with_history_retention`]. Set it to at least the challenge period
/// in blocks plus margin on a node that serves proofs. Any value is safe for reorgs: the blocks
/// an L1 reorg of up to [`crate::L1_REORG_DEPTH`] blocks could unwind are kept regardless (an
/// unwind needs the changesets of the blocks it removes).
/// Raising it keeps more from then on; it does not bring back what was pruned.
pub const DEFAULT_HISTORY_RETENTION: u64 = 2_200_000;

impl Store {
    /// Opens (creating if needed) the database directory at `path`, with
    /// [`DEFAULT_MAX_READERS`] reader slots.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_max_readers(path, DEFAULT_MAX_READERS)
    }

    /// [`Self::open`] with `max_readers` reader slots (MDBX may round the number up to fill
    /// its lock file's pages).
    pub fn open_with_max_readers(path: &Path, max_readers: u64) -> Result<Self> {
        let directory = |err| directory_error(path, err);
        std::fs::create_dir_all(path).map_err(directory)?;
        // MDBX starts an empty database in place of a data file it cannot read as one (an
        // empty or truncated file): that would silently lose the chain. A data file is only
        // ever created whole, elsewhere, then moved in; so a short one here is damage.
        let data = path.join(DATA_FILE);
        match std::fs::metadata(&data) {
            Ok(meta) if meta.len() < MIN_DATA_FILE => {
                return Err(StorageError::Truncated {
                    path: data.display().to_string(),
                    len: meta.len(),
                });
            }
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                create_data_file(path, max_readers)?;
            }
            Err(err) => return Err(directory(err)),
        }
        let env = open_env(path, max_readers)?;
        let tables = Tables::create(&env)?;
        Ok(Self {
            inner: Arc::new(Inner {
                env,
                tables,
                path: path.to_path_buf(),
                history_retention: AtomicU64::new(DEFAULT_HISTORY_RETENTION),
            }),
        })
    }

    /// Keeps the history of the last `blocks` L2 blocks (default
    /// [`DEFAULT_HISTORY_RETENTION`]); applies to every clone of this store, from the next
    /// write transaction on.
    pub fn with_history_retention(self, blocks: u64) -> Self {
        self.inner
            .history_retention
            .store(blocks, Ordering::Relaxed);
        self
    }

    /// L2 blocks of history kept behind the head.
    pub fn history_retention(&self) -> u64 {
        self.inner.history_retention.load(Ordering::Relaxed)
    }

    /// A consistent read-only snapshot. Fails with a temporary error
    /// ([`StorageError::is_temporary`]) while every reader slot is taken.
    pub fn reader(&self) -> Result<StoreReader> {
        Ok(StoreReader::new(
            self.inner.env.begin_ro_sync()?,
            self.inner.tables,
            self.history_retention(),
        ))
    }

    /// Starts the (single) write transaction. MDBX serialises writers; nothing is visible to
    /// readers until [`StoreWriter::commit`].
    pub fn writer(&self) -> Result<StoreWriter> {
        Ok(StoreWriter::new(
            self.inner.env.begin_rw_sync()?,
            self.inner.tables,
            self.history_retention(),
        ))
    }

    /// Writes the genesis block and state if the database is new, or checks that the stored
    /// genesis matches `config`. Returns the genesis block hash.
    pub fn init_genesis(&self, config: &RollupConfig) -> Result<B256> {
        let expected = StoreWriter::genesis_hash(config)?;
        let reader = self.reader()?;
        let stored_config = reader.stored_config()?;
        if let Some(stored_config) = &stored_config {
            let changes = stored_config.differences(config);
            if !changes.is_empty() {
                return Err(StorageError::ConfigMismatch {
                    path: self.inner.path.display().to_string(),
                    changes,
                });
            }
        }
        if let Some(stored) = reader.meta_b256(META_GENESIS)? {
            if stored != expected {
                return Err(StorageError::GenesisMismatch {
                    path: self.inner.path.display().to_string(),
                    stored: stored.to_string(),
                    expected: expected.to_string(),
                });
            }
            let history_start = reader.reads().history_start()?;
            if stored_config.is_none() || history_start.is_none() {
                let head = reader.l2_head()?.unwrap_or_default();
                drop(reader);
                let mut writer = self.writer()?;
                if stored_config.is_none() {
                    // A database from before configs were recorded: bind it to this one.
                    writer.write_config(config)?;
                }
                if history_start.is_none() {
                    // A database from before history indexes: its blocks are not indexed, so
                    // history starts at today's head (its old changesets still serve unwinds).
                    writer.set_history_start(head)?;
                    info!(target: "rollup::storage", head, "history indexes start at the current head");
                }
                writer.commit()?;
            }
            return Ok(stored);
        }
        drop(reader);
        let mut writer = self.writer()?;
        let hash = writer.write_genesis(config)?;
        writer.commit()?;
        info!(target: "rollup::storage", genesis = %hash, path = %self.inner.path.display(), "initialised L2 genesis");
        Ok(hash)
    }

    /// The database directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// Reads one value from any kind of transaction. A read-only transaction lends the value
/// straight from the memory map (no copy: a receipt lookup reads one entry of a block's
/// receipts and body, each up to a batch's worth of bytes); a write transaction copies it.
///
/// A write transaction never borrows: to lend a value it would ask libmdbx whether the value's
/// page is one the transaction changed (`mdbx_is_dirty`), and libmdbx 0.13 keeps that pointer's
/// page number in 32 bits. A changed page lives in heap memory; when that memory lies 16 TiB
/// (2^32 pages) or more above the map, which happens once four stores of 4 TiB are open in one
/// process (the reth host's database beside ours, tests run side by side), the truncated number
/// names some page of the map and the read fails with `EINVAL` although the value is there.
pub(crate) fn get<'tx, K: TransactionKind>(
    tx: &'tx Tx<K>,
    db: Database,
    key: &[u8],
) -> Result<Option<Cow<'tx, [u8]>>> {
    if K::IS_READ_ONLY {
        Ok(tx.get::<Cow<'tx, [u8]>>(db.dbi(), key)?)
    } else {
        Ok(tx.get::<Vec<u8>>(db.dbi(), key)?.map(Cow::Owned))
    }
}

#[cfg(test)]
mod tests {
    use signet_libmdbx::{MdbxError, ReadError, WriteFlags};

    use super::*;

    #[test]
    fn a_full_reader_table_is_a_temporary_error_that_passes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with_max_readers(dir.path(), 8).unwrap();
        let mut held = Vec::new();
        let err = loop {
            match store.reader() {
                Ok(reader) => held.push(reader),
                Err(err) => break err,
            }
            assert!(held.len() < 10_000, "reader slots never ran out");
        };
        assert!(err.is_temporary(), "{err}");
        assert!(held.len() >= 8, "only {} readers", held.len());
        // Writers take no reader slot: the core keeps writing while readers are exhausted.
        store.writer().unwrap().commit().unwrap();
        held.pop();
        store.reader().unwrap();
    }

    #[test]
    fn thousands_of_readers_fit_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let held = (0..4_096)
            .map(|_| store.reader())
            .collect::<Result<Vec<_>>>()
            .unwrap();
        assert_eq!(held.len(), 4_096);
        // All the slots cost about a megabyte of lock file.
        let lock_file = std::fs::metadata(dir.path().join("mdbx.lck"))
            .unwrap()
            .len();
        assert!(lock_file < 4 << 20, "lock file of {lock_file} bytes");
    }

    /// See [`get`]: a write transaction copies every value, clean or changed, and so never asks
    /// libmdbx about the page it sits on.
    #[test]
    fn a_write_transaction_copies_what_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let meta = store.inner.tables.meta;
        let tx = store.inner.env.begin_rw_sync().unwrap();
        tx.put(meta, b"committed", [7u8; 300], WriteFlags::empty())
            .unwrap();
        tx.commit().unwrap();

        // On a page this transaction has not changed, then on one it has.
        let tx = store.inner.env.begin_rw_sync().unwrap();
        let clean = get(&tx, meta, b"committed").unwrap().unwrap();
        assert!(matches!(clean, Cow::Owned(_)), "a clean value was lent");
        assert_eq!(*clean, [7; 300]);
        tx.put(meta, b"changed", [9u8; 300], WriteFlags::empty())
            .unwrap();
        let dirty = get(&tx, meta, b"changed").unwrap().unwrap();
        assert!(matches!(dirty, Cow::Owned(_)), "a changed value was lent");
        assert_eq!(*dirty, [9; 300]);
        drop(tx);

        let reader = store.inner.env.begin_ro_sync().unwrap();
        let value = get(&reader, meta, b"committed").unwrap().unwrap();
        assert!(matches!(value, Cow::Borrowed(_)), "a reader copied");
    }

    /// A --datadir that names a file is a directory problem, not a corrupt write.
    #[test]
    fn a_database_directory_under_a_file_says_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("afile");
        std::fs::write(&file, b"").unwrap();
        for err in [
            Store::open(&file.join("db")).err().unwrap(),
            crate::DatadirLock::acquire(&file.join("db")).err().unwrap(),
        ] {
            let err = err.to_string();
            assert!(
                err.starts_with("cannot create the database directory"),
                "{err}"
            );
            assert!(
                err.contains("must name a directory this user can create"),
                "{err}"
            );
        }
    }

    #[test]
    fn only_a_full_reader_table_is_temporary() {
        assert!(StorageError::Mdbx(MdbxError::ReadersFull).is_temporary());
        assert!(StorageError::Read(ReadError::Mdbx(MdbxError::ReadersFull)).is_temporary());
        assert!(!StorageError::Mdbx(MdbxError::MapFull).is_temporary());
        assert!(!StorageError::Mdbx(MdbxError::Corrupted).is_temporary());
        assert!(!StorageError::NotFound("block 7".into()).is_temporary());
    }
}
