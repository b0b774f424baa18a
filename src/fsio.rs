//! Reading and writing whole files safely.
//!
//! Every file Tollgate writes replaces the old one whole or not at all: the
//! bytes go to a temporary file with a unique name in the same directory,
//! which is flushed to the disk and renamed over the target; then the
//! directory itself is flushed, so that the rename survives a power loss.
//! Every file Tollgate reads whole (policies, artifacts, throttle state) is
//! read under a size limit, and only if it is a regular file: a device such
//! as `/dev/zero` or a FIFO without a writer cannot hang a command or
//! exhaust its memory. Streams of records are read line by line instead
//! (see `tollgate eval`).

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(io::Error),
    /// The path names a device, FIFO, socket or directory.
    NotRegular(&'static str),
    /// The file holds more bytes than the limit.
    TooLarge {
        /// The file's size (at least), in bytes.
        size: u64,
        /// The limit, in bytes.
        limit: u64,
    },
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::NotRegular(what) => write!(
                f,
                "not a regular file (it is {what}); give a file, or `-` to read standard input where the command allows it"
            ),
            ReadError::TooLarge { size, limit } => write!(
                f,
                "file of {size} bytes is larger than the limit of {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl ReadError {
    /// Whether the file does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

/// What kind of file `meta` describes, when it is not a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a directory")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() || t.is_block_device() {
        Some("a device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Opens `path` for reading if it is a regular file. The kind of file is
/// looked up before opening (opening a FIFO waits for a writer) and checked
/// again on the open file.
///
/// # Errors
/// [`ReadError::NotRegular`] for anything but a regular file, or the
/// system's error.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    if let Some(what) = not_regular(&std::fs::metadata(path)?) {
        return Err(ReadError::NotRegular(what));
    }
    let file = File::open(path)?;
    if let Some(what) = not_regular(&file.metadata()?) {
        return Err(ReadError::NotRegular(what));
    }
    Ok(file)
}

/// Reads the regular file `path` whole if it holds at most `limit` bytes.
/// A file over the limit is refused from its size alone, without reading
/// it; one that grows while it is read is refused once it passes the limit.
///
/// # Errors
/// [`ReadError`]: not found, not a regular file, too large, or a read error.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    read_open(file, limit)
}

/// Reads the open regular file `file` whole, under `limit` bytes.
fn read_open(file: File, limit: u64) -> Result<Vec<u8>, ReadError> {
    let size = file.metadata()?.len();
    if size > limit {
        return Err(ReadError::TooLarge { size, limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(ReadError::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

/// Reads the regular file `path` whole; its first bytes choose the limit
/// (`limit_for(head)`, where `head` is at most `peek` bytes), so that a
/// binary artifact and a policy source can have different limits.
///
/// # Errors
/// As [`read_bounded`].
pub fn read_bounded_by(
    path: &Path,
    peek: usize,
    limit_for: impl FnOnce(&[u8]) -> u64,
) -> Result<Vec<u8>, ReadError> {
    let mut file = open_regular(path)?;
    let mut head = vec![0; peek];
    let mut filled = 0;
    while filled < peek {
        match file.read(head.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    head.truncate(filled);
    let limit = limit_for(&head);
    let rest = read_open(file, limit)?;
    // `read_open` measured the whole file's size but read only the rest.
    let mut bytes = head;
    bytes.extend_from_slice(&rest);
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// The longest part of the target's name kept in a temporary file's name,
/// in bytes, so that the temporary name stays within the file system's
/// limit of 255.
const TEMP_NAME_BYTES: usize = 128;

/// A name for a temporary file beside `path`, unique to this process, this
/// call and a random draw: `.NAME.PID.N.RANDOM.tmp` in the same directory (so
/// that the rename stays on one file system). The random part keeps a
/// leftover of a crashed run whose process id comes back (process 1 in a
/// container) from blocking later writes.
fn temp_beside(path: &Path) -> PathBuf {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut random = std::collections::hash_map::RandomState::new().build_hasher();
    random.write_u64(n);
    if let Ok(d) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        random.write_u128(d.as_nanos());
    }
    let name = path
        .file_name()
        .map_or_else(|| "tollgate".into(), |n| n.to_string_lossy().into_owned());
    let mut cut = name.len().min(TEMP_NAME_BYTES);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let short = name.get(..cut).unwrap_or("tollgate");
    path.with_file_name(format!(
        ".{short}.{}.{n}.{:08x}.tmp",
        std::process::id(),
        random.finish() as u32
    ))
}

/// The directory holding `path` (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Flushes a directory's entries to the disk, so that a rename or a new
/// file in it survives a power loss. A directory the user may write to but
/// not read cannot be opened to be flushed; the rename in it then stands,
/// as durable as the file system makes it without the flush.
///
/// # Errors
/// The system's error, other than a refusal to open the directory.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    match File::open(dir) {
        Ok(d) => d.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(()),
        Err(e) => Err(e),
    }
}

/// Writes `bytes` to a new unique temporary file beside `path`, with the
/// permissions `mode` (those of the file it replaces), and flushes it; the
/// file is removed again if anything fails.
fn write_temp(
    path: &Path,
    bytes: &[u8],
    mode: Option<std::fs::Permissions>,
) -> io::Result<PathBuf> {
    let mut attempts = 0;
    let (tmp, file) = loop {
        let tmp = temp_beside(path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        if let Some(mode) = &mode {
            // Created with the mode already: no moment where it is wider.
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(mode.mode());
        }
        match options.open(&tmp) {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 16 => {
                attempts += 1;
            }
            Err(e) => return Err(e),
        }
    };
    let written = (|| {
        let mut f = file;
        if let Some(mode) = mode {
            f.set_permissions(mode)?;
        }
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match written {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Where a write to `path` must land: `path` itself, or the file a
/// symbolic link at `path` points to (the link stays a link).
fn resolved(path: &Path) -> io::Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => std::fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// Whether `a` and `b` name one existing file (through links or not).
pub fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Whether `path` is a device, FIFO or socket (through links): a stream
/// to write to in place, not a file to replace.
pub fn is_stream(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| not_regular(&m).is_some() && !m.is_dir())
}

/// Replaces `path` with `bytes`, whole or not at all: a crash, a full disk
/// or a missing directory leaves the old file (or no file) and no temporary
/// file behind. The new file keeps the old one's permissions. A `path` that
/// is a symbolic link replaces the file it points to, and stays a link. A
/// `path` that is a device or a FIFO (`/dev/stdout` on a pipe) is written
/// in place, as a stream.
///
/// # Errors
/// The system's error; the old file is then unchanged.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if is_stream(path) {
        let mut f = OpenOptions::new().write(true).open(path)?;
        f.write_all(bytes)?;
        return f.flush();
    }
    let target = resolved(path)?;
    let mode = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let tmp = write_temp(&target, bytes, mode)?;
    if let Err(e) = std::fs::rename(&tmp, &target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(parent_dir(&target))
}

/// Creates `path` with `bytes`, whole or not at all, and refuses to replace
/// an existing file (for keys and other files that must never be
/// overwritten): the temporary file is linked to `path`, which fails if
/// `path` exists.
///
/// # Errors
/// [`io::ErrorKind::AlreadyExists`] when `path` exists, or the system's
/// error; nothing is left behind.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_new_with(path, bytes, None)
}

/// As [`write_new`], the file readable and writable by its owner alone
/// (mode 0600) before any byte is written to it: for secret keys.
///
/// # Errors
/// As [`write_new`].
pub fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    write_new_with(path, bytes, Some(std::fs::Permissions::from_mode(0o600)))
}

/// [`write_new`] with the new file's permissions.
fn write_new_with(path: &Path, bytes: &[u8], mode: Option<std::fs::Permissions>) -> io::Result<()> {
    let tmp = write_temp(path, bytes, mode)?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked?;
    sync_dir(parent_dir(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tollgate-fsio-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn write_atomic_replaces_and_leaves_nothing_else() {
        let dir = scratch("atomic");
        let path = dir.join("a.bin");
        write_atomic(&path, b"old").unwrap();
        write_atomic(&path, b"new contents").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new contents");
        assert_eq!(listing(&dir), ["a.bin"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_atomic_into_a_missing_directory_fails() {
        let dir = scratch("missing");
        let err = write_atomic(&dir.join("no/a.bin"), b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(listing(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_atomic_keeps_links_permissions_and_long_names() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("links");
        let target = dir.join("target.bin");
        write_atomic(&target, b"old").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("link.bin");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&target).unwrap(), b"new");
        let mode = std::fs::metadata(&target).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        // A name of 249 bytes: the temporary file's name must stay within 255.
        let long = dir.join(format!("{}.bin", "a".repeat(245)));
        write_atomic(&long, b"x").unwrap();
        assert_eq!(std::fs::read(&long).unwrap(), b"x");
        assert_eq!(listing(&dir).len(), 3);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_leftover_of_a_run_with_the_same_process_id_does_not_block() {
        let dir = scratch("leftover");
        let path = dir.join("p.bin");
        // What a crashed earlier run with this process id would have left
        // under the old naming, and under the new one with every counter.
        for n in 0..4 {
            let name = format!(".p.bin.{}.{n}.tmp", std::process::id());
            std::fs::write(dir.join(name), b"junk").unwrap();
        }
        write_atomic(&path, b"fresh").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"fresh");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn write_new_refuses_to_replace() {
        let dir = scratch("new");
        let path = dir.join("key");
        write_new(&path, b"first").unwrap();
        let err = write_new(&path, b"second").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert_eq!(listing(&dir), ["key"]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reads_are_bounded_and_regular_only() {
        let dir = scratch("read");
        let path = dir.join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        assert_eq!(read_bounded(&path, 10).unwrap(), b"0123456789");
        assert!(matches!(
            read_bounded(&path, 9),
            Err(ReadError::TooLarge { size: 10, limit: 9 })
        ));
        assert!(matches!(
            read_bounded(Path::new("/dev/zero"), 9),
            Err(ReadError::NotRegular("a device"))
        ));
        assert!(matches!(
            read_bounded(&dir, 9),
            Err(ReadError::NotRegular("a directory"))
        ));
        assert!(read_bounded(&dir.join("none"), 9)
            .unwrap_err()
            .is_not_found());
        let by = read_bounded_by(&path, 4, |head| if head == b"0123" { 10 } else { 3 });
        assert_eq!(by.unwrap(), b"0123456789");
        let by = read_bounded_by(&path, 4, |_| 5);
        assert!(matches!(by, Err(ReadError::TooLarge { .. })));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
