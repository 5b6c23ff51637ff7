//! The read-only view of the audited target that plugins get, and helpers on top of it.
//!
//! Paths are absolute paths inside the target. Implementations: the engine's host interface inside
//! the component ([`crate::host`]), and [`crate::testing::DirTarget`] for native tests.

use std::fmt;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    Unknown,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            FileKind::Regular => "regular file",
            FileKind::Directory => "directory",
            FileKind::Symlink => "symlink",
            FileKind::Fifo => "FIFO",
            FileKind::Socket => "socket",
            FileKind::BlockDevice => "block device",
            FileKind::CharDevice => "character device",
            FileKind::Unknown => "unknown file type",
        };
        f.write_str(s)
    }
}

/// `stat(2)` inside the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FileStat {
    pub kind: FileKind,
    /// `st_mode & 0o7777`.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    /// Seconds since the Unix epoch.
    pub mtime: i64,
}

/// A directory entry (not followed if it is a symlink).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub name: String,
    pub kind: FileKind,
}

/// Why the target did not serve a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// The plugin did not declare the path (or where it leads) in its manifest.
    Undeclared(String),
    PermissionDenied,
    NotRegular(FileKind),
    TooLarge(u64),
    /// A directory listing longer than the engine's cap (the cap, in entries).
    TooManyEntries(u64),
    InvalidPath(String),
    BudgetExhausted,
    Io(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("not found"),
            ReadError::Undeclared(p) => write!(f, "not declared in the plugin manifest: {p}"),
            ReadError::PermissionDenied => f.write_str("permission denied"),
            ReadError::NotRegular(k) => write!(f, "not a regular file ({k})"),
            ReadError::TooLarge(n) => write!(f, "larger than the read cap ({n} bytes)"),
            ReadError::TooManyEntries(n) => {
                write!(f, "more entries than a listing may return ({n} entries)")
            }
            ReadError::InvalidPath(why) => write!(f, "invalid path: {why}"),
            ReadError::BudgetExhausted => f.write_str("request budget exhausted"),
            ReadError::Io(msg) => write!(f, "I/O error: {msg}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// Read-only access to the audited root filesystem, with chroot semantics.
pub trait Target {
    /// Whole contents of a regular file.
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError>;
    /// Directory entries sorted by name (byte order).
    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError>;
    /// `stat(2)` (follows symlinks inside the target).
    fn stat(&self, path: &str) -> Result<FileStat, ReadError>;
    /// `lstat(2)`.
    fn lstat(&self, path: &str) -> Result<FileStat, ReadError>;
    /// Symlink contents as stored.
    fn read_link(&self, path: &str) -> Result<String, ReadError>;
}

/// Convenience reads on any [`Target`].
pub trait TargetExt: Target {
    /// A text file; invalid UTF-8 is replaced (config files are ASCII in practice; a garbage byte
    /// must not hide the rest of the file).
    fn read_text(&self, path: &str) -> Result<String, ReadError> {
        self.read_file(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// A text file, `None` when it does not exist; other failures are errors.
    fn read_text_opt(&self, path: &str) -> Result<Option<String>, ReadError> {
        match self.read_text(path) {
            Ok(s) => Ok(Some(s)),
            Err(ReadError::NotFound) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether anything exists at `path` (following links inside the target).
    fn exists(&self, path: &str) -> bool {
        self.stat(path).is_ok()
    }

    /// Paths matching a glob (`*`, `?`, `[...]` per component), sorted in byte order like glob(3)
    /// in the C locale. A non-absolute pattern is resolved against `base`.
    fn glob(&self, base: &str, pattern: &str) -> Vec<String> {
        crate::glob::expand(self, base, pattern)
    }
}

impl<T: Target + ?Sized> TargetExt for T {}

/// Joins `rel` onto the absolute directory `base` (lexically; `rel` absolute wins).
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        rel.to_string()
    } else if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// The directory part of an absolute path ("/etc/ssh/sshd_config" -> "/etc/ssh").
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "/",
    }
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
