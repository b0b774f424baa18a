//! The exclusive lock that keeps two runs off one state file.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

/// Takes the exclusive lock on `path` (created if missing), waiting for
/// another run that holds it; says once on stderr that it waits. The lock
/// lasts as long as the returned file is open, and the operating system
/// releases it when the process ends, however it ends.
///
/// # Errors
/// The lock file cannot be created or locked.
pub fn exclusive(path: &Path, shown: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => {
            eprintln!(
                "{}: the state is held by another run; waiting for it to end",
                shown.display()
            );
            file.lock()?;
            Ok(file)
        }
        Err(TryLockError::Error(e)) => Err(e),
    }
}
