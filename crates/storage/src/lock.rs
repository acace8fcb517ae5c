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
    /// The directories [`Self::acquire`] created, the deepest first.
    created: Vec<PathBuf>,
}

impl DatadirLock {
    /// Takes the lock of the database directory `dir` (created if missing), or fails at once
    /// with [`StorageError::Locked`] if another process holds it. The file keeps the holder's
    /// process id, for the error another process reports.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let io_error = |what: &str, err: std::io::Error| {
            StorageError::Inconsistent(format!("cannot {what} {}: {err}", dir.display()))
        };
        let created: Vec<PathBuf> = dir
            .ancestors()
            .take_while(|ancestor| !ancestor.as_os_str().is_empty() && !ancestor.exists())
            .map(Path::to_path_buf)
            .collect();
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
        Ok(Self {
            _file: file,
            path,
            created,
        })
    }

    /// Lets the lock go after a start that failed; if the directory holds nothing but the lock
    /// file (the database was never created), removes the file and the directories
    /// [`Self::acquire`] created, so a start refused for a wrong flag leaves no empty datadir
    /// behind. A directory that holds anything else is left as it is.
    pub fn release_unused(self) {
        let Self {
            _file: file,
            path,
            created,
        } = self;
        let Some(dir) = path.parent() else { return };
        let only_the_lock = std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(std::result::Result::ok)
                .all(|entry| entry.file_name() == LOCK_FILE)
        });
        if !only_the_lock {
            return;
        }
        drop(file);
        let _ = std::fs::remove_file(&path);
        for dir in &created {
            // Stops at the first that is not empty (something else wrote there meanwhile).
            if std::fs::remove_dir(dir).is_err() {
                break;
            }
        }
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

    /// A failed start removes what it created if the database never was; an existing
    /// datadir, or a database directory with anything in it, stays.
    #[test]
    fn a_failed_start_leaves_no_empty_datadir() {
        let dir = tempfile::tempdir().unwrap();
        let datadir = dir.path().join("new").join("node");
        DatadirLock::acquire(&datadir.join("db"))
            .unwrap()
            .release_unused();
        assert!(!dir.path().join("new").exists(), "created, then removed");

        std::fs::create_dir(dir.path().join("kept")).unwrap();
        let kept = dir.path().join("kept");
        DatadirLock::acquire(&kept.join("db"))
            .unwrap()
            .release_unused();
        assert!(kept.exists() && !kept.join("db").exists());

        let lock = DatadirLock::acquire(&kept.join("db")).unwrap();
        std::fs::write(kept.join("db").join("mdbx.dat"), b"data").unwrap();
        lock.release_unused();
        assert!(kept.join("db").join("mdbx.dat").exists());
        assert!(kept.join("db").join(LOCK_FILE).exists());
        // And it can be taken again.
        DatadirLock::acquire(&kept.join("db")).unwrap();
    }
}
