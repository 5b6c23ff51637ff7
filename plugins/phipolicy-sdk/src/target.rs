//! The read-only view of the audited target that plugins get, and helpers on top of it.
//!
//! Paths are absolute paths inside the target. Implementations: the engine's host interface inside
//! the component ([`crate::host`]), and [`crate::testing::DirTarget`] for native tests.

use std::fmt;

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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

    /// Referenced reads: asks for `path` (a path or a glob) outside the manifest's globs because
    /// line `line` (1-based) of `file`, a file this plugin has read, names it (the rule is
    /// [`crate::referenced::line_names_path`]). The engine checks the line, then serves `path`
    /// and records `path` granted by `file:line`. Plugins rarely call this themselves: every
    /// plugin's target is wrapped in [`crate::referenced::Citing`], which cites for them. Test
    /// doubles serve every path, so the default accepts.
    fn cite(&self, path: &str, file: &str, line: u32) -> Result<(), ReadError> {
        let _ = (path, file, line);
        Ok(())
    }
}

/// Convenience reads on any [`Target`].
pub trait TargetExt: Target {
    /// A text file; invalid UTF-8 is replaced (config files are ASCII in practice; a garbage byte
    /// must not hide the rest of the file).
    fn read_text(&self, path: &str) -> Result<String, ReadError> {
        // Valid UTF-8 (nearly every configuration file) is taken as it is, without a copy.
        self.read_file(path).map(|b| {
            String::from_utf8(b)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
        })
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

/// First character of the private-use range that carries raw bytes of non-UTF-8 names.
const RAW_BYTE_BASE: u32 = 0x10_FF00;

/// Encodes a file name (bytes) as the ABI's `string`: valid UTF-8 stays as it is, except the
/// characters U+10FF80..U+10FFFF; every byte that is not part of valid UTF-8, and every byte of
/// such a character, becomes U+10FF00 + byte. Injective: [`decode_name`] gives the bytes back.
pub fn encode_name(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    while !rest.is_empty() {
        let valid = match std::str::from_utf8(rest) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
        };
        for c in valid.chars() {
            if (c as u32) >= RAW_BYTE_BASE + 0x80 {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push(raw_byte(b));
                }
            } else {
                out.push(c);
            }
        }
        rest = &rest[valid.len()..];
        if let Some((&b, tail)) = rest.split_first() {
            out.push(raw_byte(b));
            rest = tail;
        }
    }
    out
}

fn raw_byte(b: u8) -> char {
    char::from_u32(RAW_BYTE_BASE + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// The bytes of a name [`encode_name`] produced (any other string: its UTF-8 bytes).
pub fn decode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for c in name.chars() {
        let code = c as u32;
        if (RAW_BYTE_BASE + 0x80..=RAW_BYTE_BASE + 0xFF).contains(&code) {
            out.push((code - RAW_BYTE_BASE) as u8);
        } else {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
    }
    out
}

/// A name for people: raw bytes shown as `\xNN`.
pub fn display_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let code = c as u32;
        if (RAW_BYTE_BASE + 0x80..=RAW_BYTE_BASE + 0xFF).contains(&code) {
            out.push_str(&format!("\\x{:02x}", code - RAW_BYTE_BASE));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod name_tests {
    use super::*;

    #[test]
    fn names_round_trip_byte_exactly() {
        let cases: &[&[u8]] = &[
            b"sshd_config",
            b"00-evil\xff.conf",
            b"\xc3\xa9t\xc3\xa9.conf",
            b"\xc3",
            b"\xf4\x8f\xbf\xbf-literal-private-use",
            b"\xf4\x8f\xbf",
            b"\x80\x81\xfe\xff",
        ];
        for bytes in cases {
            let enc = encode_name(bytes);
            assert_eq!(&decode_name(&enc), bytes, "{enc:?}");
        }
        assert_eq!(encode_name("caf\u{e9}".as_bytes()), "caf\u{e9}");
        assert_eq!(display_name(&encode_name(b"a\xffb")), "a\\xffb");
        // A literal U+10FFFF and the raw byte 0xff (its private-use carrier) stay distinct.
        let literal = encode_name("\u{10FFFF}".as_bytes());
        let raw = encode_name(b"\xff");
        assert_ne!(literal, raw);
        assert_eq!(decode_name(&literal), "\u{10FFFF}".as_bytes());
        assert_eq!(decode_name(&raw), b"\xff");
    }
}
