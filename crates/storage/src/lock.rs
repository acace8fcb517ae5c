//! One node per database: an exclusive lock on a file beside the MDBX files.

use std::{
    fs::{File, OpenOptions, TryLockError},
    io::Write,
    path::{Path, PathBuf},
};

use crate::{Result, StorageError};

/// Name of the lock file in the database directory.
pub const LOCK_FILE: &str = "node.lock";

/// Held while a node uses a database directory; dropping it (or the process ending, however it
/// ends) releases the directory. MDBX lets several processes open one environment, so without
/// this a second node started on the same `--datadir` would sequence, post batches and write
/// blocks beside the first.
#[derive(Debug)]
pub struct DatadirLock {
    _file: File,
    path: PathBuf,
}

impl DatadirLock {
    /// Takes the lock of the database directory `dir` (created if missing), or fails at once
    /// with [`StorageError::Locked`] if another process holds it. The file keeps the holder's
    /// process id, for the error another process reports.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let io_error = |what: &str, err: std::io::Error| {
            StorageError::Inconsistent(format!("cannot {what} {}: {err}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(|err| StorageError::Directory {
            path: dir.display().to_string(),
            reason: err.to_string(),
        })?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| io_error("open the lock file in", err))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(StorageError::Locked {
                    path: dir.display().to_string(),
                    holder: holder.trim().to_string(),
                });
            }
            Err(TryLockError::Error(err)) => return Err(io_error("lock", err)),
        }
        // Best effort: the lock itself is what counts.
        let _ = file
            .set_len(0)
            .and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(Self { _file: file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        let first = DatadirLock::acquire(&db).unwrap();
        assert!(first.path().ends_with(LOCK_FILE));
        let err = DatadirLock::acquire(&db).unwrap_err();
        assert!(matches!(err, StorageError::Locked { .. }), "{err}");
        let message = err.to_string();
        assert!(
            message.contains(&std::process::id().to_string()) && message.contains("--datadir"),
            "{message}"
        );
        drop(first);
        DatadirLock::acquire(&db).unwrap();
    }
}
