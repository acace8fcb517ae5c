//! Free space under the database: MDBX cannot commit on a full disk, so a node stops cleanly
//! before it gets there (geth's `--datadir.minfreedisk`).

use std::{ffi::CString, os::unix::ffi::OsStrExt, path::Path};

/// Bytes an unprivileged process may still write on the filesystem holding `path`.
pub fn free_disk_bytes(path: &Path) -> std::io::Result<u64> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|err| std::io::Error::new(std::io::ErrorKind::InvalidInput, err))?;
    let mut stats = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c_path` is a valid C string and `stats` a valid place for the result.
    if unsafe { libc::statvfs(c_path.as_ptr(), stats.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: statvfs succeeded, so it filled `stats`.
    let stats = unsafe { stats.assume_init() };
    // Both are narrower than 64 bits on some targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(stats.f_bavail).saturating_mul(u64::from(stats.f_frsize)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_read_and_a_missing_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_disk_bytes(dir.path()).unwrap() > 0);
        assert!(free_disk_bytes(&dir.path().join("missing")).is_err());
    }
}
