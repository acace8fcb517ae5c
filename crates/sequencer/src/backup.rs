//! The pool's transactions kept across a restart, as reth keeps its local transactions
//! (`--txpool.transactions-backup`): written to a file when the node stops, read back into the
//! pool when it starts, and the file removed once read.
//!
//! The file is text: one signed transaction per line in its EIP-2718 encoding as `0x` hex, each
//! sender's in nonce order, after a `#` comment line. An operator can read it, and send any line
//! to a node as it is (`cast publish 0x…`). A kill -9 writes nothing: what the pool held then is
//! lost, as with reth, except the transactions an L1 reorg took out of blocks, for which the
//! pool is written as soon as they are back in it ([`PoolBackup::save_unwound`]).

use std::{
    fs::{self, File},
    io::{self, BufRead, BufReader, Read, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::hex;
use rollup_primitives::L2Transaction;
use tracing::{debug, error, info, warn};

use crate::{PoolError, TxPool};

/// The file's name in a node's datadir unless `--txpool.transactions-backup` names another.
pub const BACKUP_FILE_NAME: &str = "txpool-transactions-backup.txt";

const HEADER: &str = "# transaction pool backup: one signed transaction per line (EIP-2718, hex), each sender's in nonce order; read back and removed when the node starts";

/// What reading a backup into the pool did.
#[derive(Debug, Default)]
pub struct Restored {
    /// Transactions in the file.
    pub total: usize,
    /// Taken by the pool.
    pub added: usize,
    /// Already on chain or in the pool (their nonce is used, or the same transaction is there).
    pub known: usize,
    /// Refused for another reason (the pool's limits, a fee cap below the base fee, a line that
    /// is no transaction).
    pub refused: usize,
    /// Why the first refused one was.
    pub first_reason: Option<String>,
    /// Why the file could not be removed once read, if it could not (the next start reads it
    /// again; what this one took back then counts as known or is taken again).
    pub not_removed: Option<String>,
}

/// The backup file of one pool. Clones share whether it was read yet ([`Self::restore`]).
#[derive(Debug, Clone)]
pub struct PoolBackup {
    path: PathBuf,
    /// Set once the files were read at start: until then [`Self::save_unwound`] writes nothing,
    /// or a reorg handled before the start read them would write over the last run's file.
    read: Arc<std::sync::atomic::AtomicBool>,
}

impl PoolBackup {
    /// A backup at `path`.
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            read: Arc::default(),
        }
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes every transaction of `pool` to the file, replacing it whole (a new file written
    /// beside it, synced, then renamed over it), and returns how many. An empty pool leaves no
    /// file.
    pub fn save(&self, pool: &TxPool) -> io::Result<usize> {
        self.save_to(&self.path, pool)
    }

    /// Writes the pool as [`Self::save`] does, beside the backup ([`Self::unwound_path`]):
    /// called after an L1 reorg gave the pool back the transactions of the blocks it removed,
    /// whose receipts users may have seen, so that a kill -9 before they are included again
    /// does not lose them (a depth-10 reorg and a kill -9 0.2 s later lost 2 736, 2 016 of
    /// them served as safe). The next start reads it after the backup, and a stop that writes
    /// the backup removes it.
    pub fn save_unwound(&self, pool: &TxPool) -> io::Result<usize> {
        if !self.read.load(std::sync::atomic::Ordering::Acquire) {
            return Ok(0);
        }
        self.save_to(&self.unwound_path(), pool)
    }

    /// Where [`Self::save_unwound`] writes.
    pub fn unwound_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".unwound");
        self.path.with_file_name(name)
    }

    fn save_to(&self, path: &Path, pool: &TxPool) -> io::Result<usize> {
        let content = pool.content();
        let mut senders = content.pending;
        for (sender, queued) in content.queued {
            senders.entry(sender).or_default().extend(queued);
        }
        let count = senders.values().map(|txs| txs.len()).sum();
        if count == 0 {
            return match fs::remove_file(path) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                _ => Ok(0),
            };
        }
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let staged = Self::staged_path(path);
        let mut out = io::BufWriter::new(File::create(&staged)?);
        writeln!(out, "{HEADER}")?;
        let mut encoded = Vec::new();
        for tx in senders.values().flat_map(|txs| txs.values()) {
            encoded.clear();
            tx.encode_2718(&mut encoded);
            writeln!(out, "0x{}", hex::encode(&encoded))?;
        }
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&staged, path)?;
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(count)
    }

    /// Reads the file into `pool` and removes it; `None` when there is no file. Each
    /// transaction goes through [`TxPool::readmit`], as one of a block an L1 reorg removed: the
    /// pool held it, so neither the sequencer's throttle nor the checks it may have been let
    /// past when it was taken back before (the nonce window, the overdraft check) refuse it now;
    /// the pool's sizes and every other check apply. A line that is no transaction is counted as
    /// refused; a file that cannot be read at all is an error and stays where it is.
    ///
    /// Then the same for the pool written after an L1 reorg ([`Self::save_unwound`]), if a
    /// kill -9 left it: its transactions already taken back or included count as known.
    pub fn restore(&self, pool: &TxPool) -> io::Result<Option<Restored>> {
        let mut restored = None;
        for path in [self.path.clone(), self.unwound_path()] {
            let file = match File::open(&path) {
                Ok(file) => file,
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Err(err),
            };
            Self::restore_file(
                &path,
                file,
                pool,
                restored.get_or_insert_with(Restored::default),
            )?;
        }
        self.read.store(true, std::sync::atomic::Ordering::Release);
        Ok(restored)
    }

    fn restore_file(
        path: &Path,
        file: File,
        pool: &TxPool,
        restored: &mut Restored,
    ) -> io::Result<()> {
        // A line longer than the largest transaction the pool takes is refused unread.
        let longest = 2 * (pool.max_tx_size() + 1) + 2;
        let mut reader = BufReader::new(file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = (&mut reader)
                .take(longest as u64 + 1)
                .read_until(b'\n', &mut line)?;
            if read == 0 {
                break;
            }
            if !line.ends_with(b"\n") && read > longest {
                // Skip the rest of an overlong line.
                let mut rest = Vec::new();
                reader.read_until(b'\n', &mut rest)?;
                restored.total += 1;
                restored.refused += 1;
                restored
                    .first_reason
                    .get_or_insert_with(|| "a line longer than any transaction".into());
                continue;
            }
            let text = line.trim_ascii();
            if text.is_empty() || text.starts_with(b"#") {
                continue;
            }
            restored.total += 1;
            let result = hex::decode(text)
                .map_err(|err| PoolError::Decode(format!("not hex: {err}")))
                .and_then(|raw| {
                    L2Transaction::decode_2718_recover(&raw)
                        .map_err(|err| PoolError::Decode(err.to_string()))
                })
                .and_then(|tx| pool.readmit(tx));
            match result {
                Ok(_) => restored.added += 1,
                Err(PoolError::NonceTooLow { .. } | PoolError::AlreadyKnown) => {
                    restored.known += 1;
                }
                Err(err) => {
                    restored.refused += 1;
                    restored.first_reason.get_or_insert_with(|| err.to_string());
                }
            }
        }
        if let Err(err) = fs::remove_file(path) {
            restored.not_removed = Some(err.to_string());
        }
        Ok(())
    }

    /// Reads the file into `pool` as [`Self::restore`] does, logging what came back, and
    /// returns the keeper that writes it again when the node stops. Called once the node can no
    /// longer fail to start: from here on only the keeper holds what the file held.
    pub fn restore_into(self, pool: &Arc<TxPool>) -> PoolKeeper {
        let path = self.path.display().to_string();
        match self.restore(pool) {
            Ok(None) => {}
            Ok(Some(restored)) => {
                info!(target: "rollup::sequencer", backup = %path, total = restored.total, added = restored.added, already_included = restored.known, "pooled transactions of the last stop taken back");
                if let Some(reason) = restored.first_reason {
                    warn!(target: "rollup::sequencer", backup = %path, refused = restored.refused, first_reason = %reason, "some transactions of the backup were refused by the pool and are dropped; their senders must send them again");
                }
                if let Some(err) = restored.not_removed {
                    warn!(target: "rollup::sequencer", backup = %path, %err, "the backup was read but cannot be removed: the next start reads it again (what it took back now then counts as included, or is taken back again)");
                }
            }
            Err(err) => {
                warn!(target: "rollup::sequencer", backup = %path, %err, "cannot read the pool's backup: the pool starts empty, and the next stop writes over the file (copy it away to keep it)");
            }
        }
        PoolKeeper {
            pool: Arc::clone(pool),
            backup: self,
            saved: false,
        }
    }

    fn staged_path(path: &Path) -> PathBuf {
        let mut name = path.file_name().unwrap_or_default().to_os_string();
        name.push(".staged");
        path.with_file_name(name)
    }
}

/// A sequencer's pool and the file it is kept in across a stop ([`PoolBackup::restore_into`]).
/// It writes the backup once: when [`Self::save`] is called, or else when it is dropped, so a
/// host that stops on an error after start (its RPC port taken, say) keeps the transactions the
/// start read back.
#[derive(Debug)]
pub struct PoolKeeper {
    pool: Arc<TxPool>,
    backup: PoolBackup,
    saved: bool,
}

impl PoolKeeper {
    /// Writes the pool's transactions to its backup, for the next start to read back; a failure
    /// is logged (the node is stopping either way).
    pub fn save(mut self) {
        self.write();
    }

    fn write(&mut self) {
        if std::mem::replace(&mut self.saved, true) {
            return;
        }
        let path = self.backup.path().display().to_string();
        let saved = self.backup.save(&self.pool);
        if saved.is_ok() {
            // The backup holds the whole pool now, what the last reorg's snapshot held too.
            match fs::remove_file(self.backup.unwound_path()) {
                Err(err) if err.kind() != io::ErrorKind::NotFound => {
                    warn!(target: "rollup::sequencer", %err, "cannot remove the pool's snapshot of the last L1 reorg: the next start reads it too (what it holds is then known)");
                }
                _ => {}
            }
        }
        match saved {
            Ok(0) => {
                debug!(target: "rollup::sequencer", backup = %path, "the pool is empty: no backup written");
            }
            Ok(saved) => {
                info!(target: "rollup::sequencer", saved, backup = %path, "pooled transactions written; the next start takes them back");
            }
            Err(err) => {
                error!(target: "rollup::sequencer", %err, backup = %path, pooled = self.pool.len(), "cannot write the pool's backup: its transactions are lost with this stop");
            }
        }
    }
}

impl Drop for PoolKeeper {
    fn drop(&mut self) {
        self.write();
    }
}
