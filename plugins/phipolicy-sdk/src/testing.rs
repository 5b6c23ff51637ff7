//! A [`Target`] over a fixture directory, for native tests of plugins and parsers.
//!
//! It follows the engine's rules in user space: symlinks (absolute or relative) resolve inside the
//! fixture root, `..` stops at the root, only regular files are read. Made with
//! [`DirTarget::for_plugin`], it also enforces the plugin's manifest exactly as the engine does
//! (the same [`crate::grant::ReadRules`]: declared globs after parameter expansion, listings of a
//! glob's directory, citations checked against the cited line), so an undeclared read fails in
//! the plugin's own test. It is a test double, not a security boundary: the engine's view (openat2
//! `RESOLVE_IN_ROOT`) is the real one, and the engine alone withholds undeclared secret material.
//!
//! ```
//! use phipolicy_sdk::testing::{DirTarget, tree};
//! use phipolicy_sdk::{Manifest, Params, ReadError, Target};
//!
//! let (root, _) = tree(&[("/etc/ssh/sshd_config", "Port 22\n"), ("/etc/shadow", "root:*:1::::::\n")]);
//! let manifest = Manifest {
//!     id: "example",
//!     version: "0.1.0",
//!     safeguard: "example",
//!     cfr: &[],
//!     controls: &["example.control"],
//!     reads: &["/etc/ssh/**"],
//! };
//! let target = DirTarget::with_manifest(root.path(), &manifest, &Params::default()).unwrap();
//! assert!(target.read_file("/etc/ssh/sshd_config").is_ok());
//! assert!(matches!(target.read_file("/etc/shadow"), Err(ReadError::Undeclared(_))));
//! ```

use std::cell::RefCell;
use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::PathBuf;

use crate::grant::{Grant, ReadRules, Refusal, expand_reads};
use crate::target::{DirEntry, FileKind, FileStat, ReadError, Target};

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Symlinks followed while resolving one path before giving up (Linux's limit).
    pub const MAX_SYMLINK_HOPS: usize = 40;
}
use limits::*;

/// A fixture root directory seen as a target.
#[derive(Debug, Clone)]
pub struct DirTarget {
    root: PathBuf,
    /// The manifest's read rules, when the target enforces them ([`DirTarget::for_plugin`]).
    rules: Option<RefCell<ReadRules>>,
}

impl DirTarget {
    /// A target serving every path of the fixture root (for parser tests).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirTarget {
            root: root.into(),
            rules: None,
        }
    }

    /// A target serving only what `manifest` declares, with `{param}` expanded from `params`,
    /// plus what the plugin cites: the engine's rule ([`crate::grant`]).
    pub fn with_manifest(
        root: impl Into<PathBuf>,
        manifest: &crate::Manifest,
        params: &crate::Params,
    ) -> Result<Self, String> {
        let reads: Vec<String> = manifest.reads.iter().map(|r| (*r).to_string()).collect();
        let expanded = expand_reads(&reads, params.as_map())?;
        let grant = Grant::new(&expanded).map_err(|e| format!("manifest reads: {e}"))?;
        Ok(DirTarget {
            root: root.into(),
            rules: Some(RefCell::new(ReadRules::new(grant))),
        })
    }

    /// [`DirTarget::with_manifest`] with plugin `P`'s manifest.
    pub fn for_plugin<P: crate::Plugin>(
        root: impl Into<PathBuf>,
        params: &crate::Params,
    ) -> Result<Self, String> {
        Self::with_manifest(root, &P::manifest(), params)
    }

    /// Checks a request against the manifest's rules (when enforced); the normalised path.
    fn admit(&self, path: &str, listing: bool) -> Result<(), ReadError> {
        let Some(rules) = &self.rules else {
            return Ok(());
        };
        let rules = rules.borrow();
        let checked = if listing {
            rules.admit_listing(path)
        } else {
            rules.admit(path)
        };
        checked.map(drop).map_err(refused)
    }

    /// Records a served file as citable (as requested and as resolved).
    fn note_read(&self, requested: &str, resolved: &str) {
        if let Some(rules) = &self.rules {
            let mut rules = rules.borrow_mut();
            if let Some(norm) = crate::path::normalize(requested) {
                rules.note_read(&norm);
            }
            rules.note_read(resolved);
        }
    }

    /// Resolves `path` inside the root; `follow_last` follows a final symlink. Returns the
    /// in-target path with every symlink resolved.
    fn resolve(&self, path: &str, follow_last: bool) -> Result<String, ReadError> {
        if !path.starts_with('/') {
            return Err(ReadError::InvalidPath(format!("{path:?} is not absolute")));
        }
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|c| !c.is_empty())
            .map(String::from)
            .rev()
            .collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(comp) = pending.pop() {
            match comp.as_str() {
                "." => continue,
                ".." => {
                    resolved.pop();
                    continue;
                }
                _ => {}
            }
            let candidate = format!(
                "/{}",
                resolved
                    .iter()
                    .chain(std::iter::once(&comp))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let host = self.host_path(&candidate);
            let meta = match fs::symlink_metadata(&host) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(ReadError::NotFound);
                }
                Err(e) => return Err(io_error(e)),
            };
            let is_last = pending.is_empty();
            if meta.file_type().is_symlink() && (follow_last || !is_last) {
                hops += 1;
                if hops > MAX_SYMLINK_HOPS {
                    return Err(ReadError::Io("too many levels of symbolic links".into()));
                }
                let link = fs::read_link(&host).map_err(io_error)?;
                let link = crate::target::encode_name(link.as_os_str().as_encoded_bytes());
                if link.starts_with('/') {
                    resolved.clear();
                }
                for c in link.split('/').filter(|c| !c.is_empty()).rev() {
                    pending.push(c.to_string());
                }
            } else {
                resolved.push(comp);
            }
        }
        Ok(format!("/{}", resolved.join("/")))
    }

    fn host_path(&self, inner: &str) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let bytes = crate::target::decode_name(inner.trim_start_matches('/'));
        self.root.join(std::ffi::OsStr::from_bytes(&bytes))
    }

    fn metadata(&self, path: &str, follow: bool) -> Result<fs::Metadata, ReadError> {
        let inner = self.resolve(path, follow)?;
        fs::symlink_metadata(self.host_path(&inner)).map_err(io_error)
    }
}

fn io_error(e: std::io::Error) -> ReadError {
    match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        std::io::ErrorKind::PermissionDenied => ReadError::PermissionDenied,
        _ => ReadError::Io(e.to_string()),
    }
}

fn kind_of(ft: fs::FileType) -> FileKind {
    if ft.is_file() {
        FileKind::Regular
    } else if ft.is_dir() {
        FileKind::Directory
    } else if ft.is_symlink() {
        FileKind::Symlink
    } else if ft.is_fifo() {
        FileKind::Fifo
    } else if ft.is_socket() {
        FileKind::Socket
    } else if ft.is_block_device() {
        FileKind::BlockDevice
    } else if ft.is_char_device() {
        FileKind::CharDevice
    } else {
        FileKind::Unknown
    }
}

fn stat_of(m: &fs::Metadata) -> FileStat {
    FileStat {
        kind: kind_of(m.file_type()),
        mode: m.mode() & 0o7777,
        uid: m.uid(),
        gid: m.gid(),
        size: m.size(),
        mtime: m.mtime(),
    }
}

fn refused(r: Refusal) -> ReadError {
    match r {
        Refusal::InvalidPath(why) => ReadError::InvalidPath(why),
        Refusal::Undeclared(what) => ReadError::Undeclared(what),
    }
}

impl Target for DirTarget {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        self.admit(path, false)?;
        let inner = self.resolve(path, true)?;
        let host = self.host_path(&inner);
        let meta = fs::symlink_metadata(&host).map_err(io_error)?;
        let kind = kind_of(meta.file_type());
        if kind != FileKind::Regular {
            return Err(ReadError::NotRegular(kind));
        }
        let bytes = fs::read(host).map_err(io_error)?;
        self.note_read(path, &inner);
        Ok(bytes)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        self.admit(path, true)?;
        let inner = self.resolve(path, true)?;
        let mut out = Vec::new();
        for entry in fs::read_dir(self.host_path(&inner)).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let kind = entry.file_type().map(kind_of).unwrap_or(FileKind::Unknown);
            out.push(DirEntry {
                name: crate::target::encode_name(entry.file_name().as_encoded_bytes()),
                kind,
            });
        }
        out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
        Ok(out)
    }

    fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.admit(path, false)?;
        self.metadata(path, true).map(|m| stat_of(&m))
    }

    fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.admit(path, false)?;
        self.metadata(path, false).map(|m| stat_of(&m))
    }

    fn read_link(&self, path: &str) -> Result<String, ReadError> {
        self.admit(path, false)?;
        let inner = self.resolve(path, false)?;
        fs::read_link(self.host_path(&inner))
            .map(|p| crate::target::encode_name(p.as_os_str().as_encoded_bytes()))
            .map_err(io_error)
    }

    /// Without enforced rules every path is served, so every citation is accepted; with them,
    /// the engine's check: `file` was read by this target and its line `line` names `path`.
    fn cite(&self, path: &str, file: &str, line: u32) -> Result<(), ReadError> {
        let Some(rules) = &self.rules else {
            return Ok(());
        };
        let (path, file) = rules.borrow().citation_paths(path, file).map_err(refused)?;
        if rules.borrow().granted(&path) {
            return Ok(());
        }
        rules.borrow().check_source(&path, &file).map_err(refused)?;
        let inner = self.resolve(&file, true)?;
        let bytes = fs::read(self.host_path(&inner)).map_err(io_error)?;
        let text = String::from_utf8_lossy(&bytes);
        let line_text = line.checked_sub(1).and_then(|i| text.lines().nth(i as usize));
        let mut rules = rules.borrow_mut();
        rules.check_line(&path, &file, line, line_text).map_err(refused)?;
        rules.add_citation(&path, &file, line).map_err(refused)
    }
}

/// Builds a fixture tree in a temporary directory from `(path, contents)` pairs, for parser tests.
pub fn tree(files: &[(&str, &str)]) -> (TempRoot, DirTarget) {
    let root = TempRoot::new();
    for (path, contents) in files {
        root.write(path, contents);
    }
    let target = DirTarget::new(root.path());
    (root, target)
}

/// `/etc/passwd`, `/etc/shadow` and `/etc/group` of root and `n` login accounts `u0`.. (UID and
/// GID from 10,000, password hash usable, maximum age 90 days, each with a group `gN`): the local
/// databases of a directory-backed host, for tests of scale.
pub fn many_accounts(n: u32) -> (String, String, String) {
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
    let mut shadow = String::from("root:*:19800:0:99999:7:::\n");
    let mut group = String::from("root:x:0:\n");
    for i in 0..n {
        let id = 10_000 + i;
        passwd.push_str(&format!("u{i}:x:{id}:{id}:User {i}:/home/u{i}:/bin/bash\n"));
        shadow.push_str(&format!("u{i}:$6$salt$hash{i}:19800:7:90:14:::\n"));
        group.push_str(&format!("g{i}:x:{id}:u{i}\n"));
    }
    (passwd, shadow, group)
}

/// A temporary fixture root, removed on drop.
#[derive(Debug)]
pub struct TempRoot(PathBuf);

impl TempRoot {
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "phipolicy-sdk-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&dir).expect("create fixture root");
        TempRoot(dir)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    /// Writes `contents` at the in-target `path`, creating parents.
    pub fn write(&self, path: &str, contents: &str) {
        let host = self.0.join(path.trim_start_matches('/'));
        fs::create_dir_all(host.parent().expect("parent")).expect("create parents");
        fs::write(host, contents).expect("write fixture file");
    }

    /// Creates a symlink at the in-target `path` pointing to `to` (stored as given).
    pub fn symlink(&self, path: &str, to: &str) {
        let host = self.0.join(path.trim_start_matches('/'));
        fs::create_dir_all(host.parent().expect("parent")).expect("create parents");
        std::os::unix::fs::symlink(to, host).expect("create symlink");
    }
}

impl Default for TempRoot {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TempRoot {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// The root of the engine's end-to-end fixture `case` (`engine/tests/fixtures/<case>/root`), which
/// plugin tests reuse so a plugin's facts and the engine's snapshot come from the same tree.
pub fn fixture_root(case: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../engine/tests/fixtures")
        .join(case)
        .join("root")
}

/// A plugin's facts on an engine fixture case, with no parameters set. Reads are not enforced
/// here: a manifest's `{param}` patterns need the profile's parameter values, which this helper
/// does not have; [`DirTarget::for_plugin`] with the parameters enforces them.
pub fn fixture_facts<P: crate::Plugin>(case: &str) -> serde_json::Value {
    P::collect(
        &DirTarget::new(fixture_root(case)),
        &crate::Params::default(),
    )
    .unwrap_or_else(|e| panic!("{case}: collect failed: {e}"))
}

/// Where a built-in plugin's facts schema is checked in: `policies/hipaa/schemas/<plugin>.json` of
/// this repository.
pub fn builtin_schema_path(plugin: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../policies/hipaa/schemas")
        .join(format!("{plugin}.json"))
}

/// The facts schema of `T` as it is checked in: pretty JSON and a final newline.
pub fn schema_text<T: schemars::JsonSchema>() -> String {
    let schema = schemars::schema_for!(T);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

/// Asserts that the file at `path` holds the schema of `T`; with `PHIPOLICY_UPDATE_SCHEMAS=1` in
/// the environment it writes it instead (then review and commit the change).
pub fn check_schema_file<T: schemars::JsonSchema>(path: &std::path::Path) {
    let want = schema_text::<T>();
    if std::env::var_os("PHIPOLICY_UPDATE_SCHEMAS").is_some() {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("create the schema directory");
        }
        fs::write(path, &want).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let have = fs::read_to_string(path).unwrap_or_default();
    assert!(
        have == want,
        "{} is not the schema of the plugin's facts type: rerun the test with \
         PHIPOLICY_UPDATE_SCHEMAS=1, review the change and commit it",
        path.display()
    );
}

/// 2,000 deterministic pseudo-random strings over the characters config parsers treat specially
/// (brackets, escapes, comments, separators, quotes, whitespace, non-ASCII, NUL): parsers must
/// never panic on any of them.
pub fn generated_inputs() -> impl Iterator<Item = String> {
    const ALPHABET: &[char] = &[
        '[', ']', '\\', '#', '=', '-', '@', ':', ',', '"', ' ', '\t', '\n', 'a', 'x', '0', '9',
        '\u{e9}', '\u{0}',
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..2000).map(move |_| {
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(state >> 33).unwrap_or(0)
        };
        let len = next() % 40;
        (0..len)
            .map(|_| ALPHABET[next() % ALPHABET.len()])
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::TargetExt;

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let (root, t) = tree(&[("/etc/authselect/system-auth", "auth required pam_unix.so\n")]);
        root.symlink("/etc/pam.d/system-auth", "/etc/authselect/system-auth");
        root.symlink("/etc/escape", "../../../../etc/authselect/system-auth");
        root.symlink("/etc/hostfile", "/this/exists/only/on/host/passwd");
        assert_eq!(
            t.read_text("/etc/pam.d/system-auth").unwrap(),
            "auth required pam_unix.so\n"
        );
        assert_eq!(
            t.read_text("/etc/escape").unwrap(),
            "auth required pam_unix.so\n"
        );
        assert_eq!(t.read_text("/etc/hostfile"), Err(ReadError::NotFound));
        assert_eq!(
            t.lstat("/etc/pam.d/system-auth").unwrap().kind,
            FileKind::Symlink
        );
        assert_eq!(
            t.read_link("/etc/pam.d/system-auth").unwrap(),
            "/etc/authselect/system-auth"
        );
    }

    /// The manifest is enforced as the engine enforces it: declared globs, `{param}` expansion,
    /// listings of a glob's directory, and citations only of a line of a file already read.
    #[test]
    fn a_plugin_target_refuses_what_the_engine_refuses() {
        let (root, _) = tree(&[
            ("/etc/ssh/sshd_config", "Port 22\nBanner /srv/banner.txt\n"),
            ("/etc/shadow", "root:*:19800:0:99999:7:::\n"),
            ("/srv/banner.txt", "Authorized use only\n"),
            ("/srv/other.txt", "x\n"),
            ("/var/log/risk-2026.txt", "assessed\n"),
            ("/var/log/syslog", "noise\n"),
            ("/data/phi/a.db", "x\n"),
        ]);
        let manifest = crate::Manifest {
            id: "t",
            version: "0",
            safeguard: "t",
            cfr: &[],
            controls: &[],
            reads: &["/etc/ssh/**", "/var/log/risk-*.txt", "{phi_paths}/**"],
        };
        let mut params = serde_json::Map::new();
        params.insert("phi_paths".into(), serde_json::json!(["/data/phi"]));
        let params = crate::Params::from_map(params);
        let t = DirTarget::with_manifest(root.path(), &manifest, &params).unwrap();
        assert!(t.read_text("/etc/ssh/sshd_config").is_ok());
        assert!(matches!(t.read_file("/etc/shadow"), Err(ReadError::Undeclared(p)) if p == "/etc/shadow"));
        assert!(matches!(t.read_file("/etc/ssh/../shadow"), Err(ReadError::Undeclared(_))));
        assert!(matches!(t.stat("/srv/banner.txt"), Err(ReadError::Undeclared(_))));
        assert!(t.read_text("/data/phi/a.db").is_ok());
        // The directory of a glob may be listed (names only), nothing else in it read.
        assert_eq!(t.glob("/", "/var/log/risk-*.txt"), vec!["/var/log/risk-2026.txt"]);
        assert!(matches!(t.read_file("/var/log/syslog"), Err(ReadError::Undeclared(_))));
        assert!(matches!(t.list_dir("/var"), Err(ReadError::Undeclared(_))));
        // Citations: only a line that names the path, of a file this target served.
        assert!(t.cite("/srv/other.txt", "/etc/ssh/sshd_config", 2).is_err());
        assert!(t.cite("/srv/banner.txt", "/etc/ssh/sshd_config", 1).is_err());
        t.cite("/srv/banner.txt", "/etc/ssh/sshd_config", 2).unwrap();
        assert_eq!(t.read_text("/srv/banner.txt").unwrap(), "Authorized use only\n");
        assert!(matches!(t.read_file("/srv/other.txt"), Err(ReadError::Undeclared(_))));
        // Wrapped in `Citing`, as every plugin's target is, the citation happens by itself.
        let t = crate::referenced::Citing::new(
            DirTarget::with_manifest(root.path(), &manifest, &params).unwrap(),
        );
        t.read_text("/etc/ssh/sshd_config").unwrap();
        assert_eq!(t.read_text("/srv/banner.txt").unwrap(), "Authorized use only\n");
    }

    #[test]
    fn glob_sorts_like_glob3() {
        let (_root, t) = tree(&[
            ("/etc/ssh/sshd_config.d/50-cloud-init.conf", ""),
            ("/etc/ssh/sshd_config.d/10-a.conf", ""),
            ("/etc/ssh/sshd_config.d/Z.conf", ""),
            ("/etc/ssh/sshd_config.d/.hidden.conf", ""),
            ("/etc/ssh/sshd_config.d/x.conf.bak", ""),
        ]);
        assert_eq!(
            t.glob("/etc/ssh", "sshd_config.d/*.conf"),
            vec![
                "/etc/ssh/sshd_config.d/10-a.conf",
                "/etc/ssh/sshd_config.d/50-cloud-init.conf",
                "/etc/ssh/sshd_config.d/Z.conf",
            ]
        );
        assert!(t.glob("/etc/ssh", "/nonexistent/*.conf").is_empty());
    }
}
