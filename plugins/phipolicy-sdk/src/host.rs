//! [`Target`] over the engine's `target` host interface (only compiled into components).

use crate::bindings::phipolicy::plugin::target as wit;
use crate::target::{DirEntry, FileKind, FileStat, ReadError, Target};

/// The audited target as the engine serves it.
pub(crate) struct HostTarget;

fn kind(k: wit::FileKind) -> FileKind {
    match k {
        wit::FileKind::Regular => FileKind::Regular,
        wit::FileKind::Directory => FileKind::Directory,
        wit::FileKind::Symlink => FileKind::Symlink,
        wit::FileKind::Fifo => FileKind::Fifo,
        wit::FileKind::Socket => FileKind::Socket,
        wit::FileKind::BlockDevice => FileKind::BlockDevice,
        wit::FileKind::CharDevice => FileKind::CharDevice,
        wit::FileKind::Unknown => FileKind::Unknown,
    }
}

fn error(e: wit::ReadError) -> ReadError {
    match e {
        wit::ReadError::NotFound => ReadError::NotFound,
        wit::ReadError::Undeclared(p) => ReadError::Undeclared(p),
        wit::ReadError::PermissionDenied => ReadError::PermissionDenied,
        wit::ReadError::NotRegular(k) => ReadError::NotRegular(kind(k)),
        wit::ReadError::TooLarge(n) => ReadError::TooLarge(n),
        wit::ReadError::InvalidPath(why) => ReadError::InvalidPath(why),
        wit::ReadError::BudgetExhausted => ReadError::BudgetExhausted,
        wit::ReadError::Io(msg) => ReadError::Io(msg),
    }
}

fn stat(s: wit::FileStat) -> FileStat {
    FileStat {
        kind: kind(s.kind),
        mode: s.mode,
        uid: s.uid,
        gid: s.gid,
        size: s.size,
        mtime: s.mtime,
    }
}

impl Target for HostTarget {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        wit::read_file(path).map_err(error)
    }
    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        wit::list_dir(path)
            .map(|v| {
                v.into_iter()
                    .map(|e| DirEntry {
                        name: e.name,
                        kind: kind(e.kind),
                    })
                    .collect()
            })
            .map_err(|e| match error(e) {
                // The interface reports an over-long listing as `too-large` with the cap, which
                // counts entries here, not bytes.
                ReadError::TooLarge(n) => ReadError::TooManyEntries(n),
                other => other,
            })
    }
    fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
        wit::stat(path).map(stat).map_err(error)
    }
    fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
        wit::lstat(path).map(stat).map_err(error)
    }
    fn read_link(&self, path: &str) -> Result<String, ReadError> {
        wit::read_link(path).map_err(error)
    }
    fn cite(&self, path: &str, file: &str, line: u32) -> Result<(), ReadError> {
        wit::cite(path, file, line).map_err(error)
    }
}
