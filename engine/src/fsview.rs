//! Long file: the view's one definition (local openat2 backend, the dispatch to the SFTP backend,
//! the stat and error mappings) and its tests, which exercise the resolution rules side by side.
//! The target view: the only code in phipolicy that opens host paths of the audited target.
//!
//! A read-only view of a root directory with chroot semantics. Every lookup is one `openat2` beneath
//! the root's directory descriptor with `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS`: absolute and
//! relative symlinks resolve inside the root, `..` clamps at the root, `/proc` magic links are
//! refused, and nothing can reach the scanning host's files. Only regular files are read, up to
//! [`limits::MAX_FILE_BYTES`]; FIFOs, sockets and devices are stat'ed through an `O_PATH` descriptor
//! and never opened. Each plugin gets a [`Grant`]: the globs its manifest declared; requests outside
//! it (on the requested or the resolved path) are denied and recorded.
//!
//! A flattened image ([`crate::target::flatten`]) is served the same way, from its private
//! directory, with a [`MetaTable`]: kind, owner, mode and mtime of each inode as the image's
//! layers declared them (the files on disk are the scanning user's, 0600/0700, and device nodes
//! are empty placeholders), so controls see the image's metadata, not the extraction's.
//!
//! A remote host (`--target ssh://`) is served through the same calls by
//! [`crate::target::sftp`], which resolves every path component itself with the same chroot
//! semantics (links followed inside the remote root, `..` clamped, bounded hops) and the same
//! caps; SFTP carries no device, inode or link count, so hard links and mounts are not reported
//! for it.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Limits of the target view (per plugin run where it says so).
pub mod limits {
    /// Largest file served: config files are kilobytes; anything bigger is not a config file.
    pub const MAX_FILE_BYTES: u64 = 16 << 20;
    /// Total bytes one plugin run may read: bounds the memory a hostile target can make us use.
    pub const MAX_TOTAL_BYTES: u64 = 256 << 20;
    /// Requests one plugin run may make: the PHI walk needs ~100,000; more is a runaway plugin.
    pub const MAX_REQUESTS: u64 = 400_000;
    /// Entries one directory listing may return: beyond this a directory is a hostile farm.
    pub const MAX_DIR_ENTRIES: usize = 200_000;
    /// Denials remembered per plugin for the report (the count is always exact).
    pub const MAX_RECORDED_DENIALS: usize = 100;
    /// Retries of an `openat2` that the kernel answered with EAGAIN (a concurrent rename or mount
    /// on the system): each retry is immediate and a race rarely repeats; past this the error
    /// is reported as an I/O error on that path.
    pub const OPENAT2_RETRIES: u32 = 64;
    /// Longest in-target path looked up (Linux's PATH_MAX).
    pub const MAX_PATH_BYTES: usize = 4096;
}

/// Kind of a file inside the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    BlockDevice,
    CharDevice,
    Unknown,
}

/// `stat(2)` inside the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub kind: Kind,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    /// Identity and link count (not part of the plugin ABI): hard links and mounts are reported.
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

/// Why a request was refused (mirrors the WIT `read-error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    #[error("not found")]
    NotFound,
    #[error("not declared in the plugin manifest: {0}")]
    Undeclared(String),
    #[error("permission denied")]
    PermissionDenied,
    #[error("not a regular file ({0:?})")]
    NotRegular(Kind),
    #[error("larger than the read cap ({0} bytes)")]
    TooLarge(u64),
    #[error("invalid path: {0}")]
    InvalidPath(String),
    #[error("request budget exhausted")]
    BudgetExhausted,
    #[error("I/O error: {0}")]
    Io(String),
}

/// The metadata of one file of a flattened image, as its layer declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub kind: Kind,
    /// Permission bits, setuid/setgid/sticky included.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
}

/// Image metadata by inode of the flattened directory (one filesystem: `dev`).
#[derive(Debug, Clone)]
pub struct MetaTable {
    dev: u64,
    by_ino: std::collections::HashMap<u64, FileMeta>,
}

impl MetaTable {
    pub fn new(dev: u64) -> MetaTable {
        MetaTable {
            dev,
            by_ino: std::collections::HashMap::new(),
        }
    }

    pub fn insert(&mut self, ino: u64, meta: FileMeta) {
        self.by_ino.insert(ino, meta);
    }

    pub fn get(&self, dev: u64, ino: u64) -> Option<&FileMeta> {
        if dev != self.dev {
            return None;
        }
        self.by_ino.get(&ino)
    }

    pub fn len(&self) -> usize {
        self.by_ino.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_ino.is_empty()
    }
}

/// Errors opening the root itself (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    #[error("target root {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("target root {path} is not a directory")]
    NotADirectory { path: PathBuf },
    #[error(
        "target root {path}: the kernel does not support openat2(RESOLVE_IN_ROOT) (Linux >= 5.6 needed): {source}"
    )]
    NoOpenat2 {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A read-only view of a target root. Cheap to clone (shared descriptor or session).
#[derive(Debug, Clone)]
pub struct TargetView {
    backend: Backend,
}

/// Where the view's files are: a local directory (a `--root` tree, the live host, a flattened
/// image), or a remote host over SFTP ([`crate::target::sftp`], which resolves paths with the
/// same chroot semantics itself).
#[derive(Debug, Clone)]
enum Backend {
    Local(LocalView),
    Remote(Arc<crate::target::ssh::Remote>),
}

/// The local backend.
#[derive(Debug, Clone)]
struct LocalView {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: cap_std::fs::Dir,
    /// The root as the kernel names it (for mapping resolved descriptors back into the target).
    root_host: PathBuf,
    display: PathBuf,
    /// The root directory's device: a served file on another device crossed a mount.
    root_dev: u64,
    /// Secret files of this target by (device, inode), found on first need: a hard link to one
    /// under another name is the same secret.
    secrets: std::sync::OnceLock<std::collections::HashMap<(u64, u64), String>>,
    /// A flattened image's metadata (None: the files' own metadata is the target's).
    meta: Option<Arc<MetaTable>>,
}

impl TargetView {
    /// Opens `root` (the only ambient-authority open in phipolicy).
    pub fn open(root: &Path) -> Result<TargetView, RootError> {
        LocalView::open_with(root, root, None).map(TargetView::local)
    }

    /// Opens a flattened image at `root` (its private directory), whose metadata is `meta`;
    /// `display` is how the target is named.
    pub fn open_flattened(
        root: &Path,
        display: &Path,
        meta: Arc<MetaTable>,
    ) -> Result<TargetView, RootError> {
        LocalView::open_with(root, display, Some(meta)).map(TargetView::local)
    }

    /// The view of a remote host's `/`, over a connected SFTP session.
    pub fn remote(remote: Arc<crate::target::ssh::Remote>) -> TargetView {
        TargetView {
            backend: Backend::Remote(remote),
        }
    }

    fn local(view: LocalView) -> TargetView {
        TargetView {
            backend: Backend::Local(view),
        }
    }

    /// The root as given on the command line (`ssh://...` for a remote host).
    pub fn root(&self) -> &Path {
        match &self.backend {
            Backend::Local(l) => &l.inner.display,
            Backend::Remote(r) => Path::new(&r.display),
        }
    }

    /// Whether this is the live host (`/`) phipolicy runs on.
    pub fn is_host_root(&self) -> bool {
        match &self.backend {
            Backend::Local(l) => l.is_host_root(),
            Backend::Remote(_) => false,
        }
    }

    /// Whether the files are a remote host's (nothing of the target is on this machine).
    pub fn is_remote(&self) -> bool {
        matches!(self.backend, Backend::Remote(_))
    }

    /// For a remote host whose connection dropped or timed out: why (the scan of it is then an
    /// error, not a set of verdicts on partial reads).
    pub fn failure(&self) -> Option<String> {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Remote(r) => r.sftp.failure(),
        }
    }

    /// Whether `st` (of a served path) lies on another filesystem than the target root: a mount
    /// inside the tree (meaningful for `--root` trees; the live host has its usual mounts; SFTP
    /// does not say, so never for a remote host).
    pub fn crosses_mount(&self, st: &Stat) -> bool {
        match &self.backend {
            Backend::Local(l) => st.dev != l.inner.root_dev,
            Backend::Remote(_) => false,
        }
    }

    /// The secret file ([`crate::secrets`]) that `st` (a regular file with more than one link) is
    /// a hard link of, if any. A remote host's stats carry no inode or link count: there, a
    /// regular file with the size, mode, owner and mtime of a secret file is taken for it.
    pub fn secret_linked_as(&self, st: &Stat) -> Option<&str> {
        match &self.backend {
            Backend::Local(l) => l.secret_linked_as(st),
            Backend::Remote(r) => {
                if st.kind != Kind::Regular {
                    return None;
                }
                r.secrets
                    .get_or_init(|| {
                        secret_files(
                            |dir| r.sftp.list_dir(dir, limits::MAX_DIR_ENTRIES).ok().map(|(e, _)| e),
                            |p| r.sftp.stat(p, false).ok().map(|(st, _)| st),
                        )
                        .into_iter()
                        .map(|(st, p)| (remote_identity(&st), p))
                        .collect()
                    })
                    .get(&remote_identity(st))
                    .map(String::as_str)
            }
        }
    }

    /// `stat` (follow = true) or `lstat` of `path`, and the in-target path it resolved to.
    pub fn stat(&self, path: &str, follow: bool) -> Result<(Stat, String), ViewError> {
        match &self.backend {
            Backend::Local(l) => l.stat(path, follow),
            Backend::Remote(r) => r.sftp.stat(path, follow),
        }
    }

    /// Reads a regular file (following links inside the root), at most `cap` bytes.
    pub fn read_file(&self, path: &str, cap: u64) -> Result<(Vec<u8>, String), ViewError> {
        match &self.backend {
            Backend::Local(l) => l.read_file(path, cap),
            Backend::Remote(r) => r.sftp.read_file(path, cap),
        }
    }

    /// Lists a directory (sorted by name, byte order), at most `max` entries.
    pub fn list_dir(
        &self,
        path: &str,
        max: usize,
    ) -> Result<(Vec<(String, Kind)>, String), ViewError> {
        match &self.backend {
            Backend::Local(l) => l.list_dir(path, max),
            Backend::Remote(r) => r.sftp.list_dir(path, max),
        }
    }

    /// The stored target of a symlink.
    pub fn read_link(&self, path: &str) -> Result<(String, String), ViewError> {
        match &self.backend {
            Backend::Local(l) => l.read_link(path),
            Backend::Remote(r) => r.sftp.read_link(path),
        }
    }
}

impl LocalView {
    fn open_with(
        root: &Path,
        display: &Path,
        table: Option<Arc<MetaTable>>,
    ) -> Result<LocalView, RootError> {
        let meta = std::fs::metadata(root).map_err(|source| RootError::Open {
            path: root.into(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(RootError::NotADirectory { path: root.into() });
        }
        let dir = cap_std::fs::Dir::open_ambient_dir(root, cap_std::ambient_authority()).map_err(
            |source| RootError::Open {
                path: root.into(),
                source,
            },
        )?;
        // Probe openat2 support once, on the root itself.
        let probe = rustix::fs::openat2(
            dir.as_fd(),
            ".",
            OFlags::PATH | OFlags::CLOEXEC | OFlags::DIRECTORY,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
        .map_err(|e| RootError::NoOpenat2 {
            path: root.into(),
            source: e.into(),
        })?;
        let root_host = fd_path(&probe).unwrap_or_else(|| root.to_path_buf());
        let root_dev = rustix::fs::fstat(&probe).map(|st| st.st_dev).unwrap_or(0);
        Ok(LocalView {
            inner: Arc::new(Inner {
                root: dir,
                root_host,
                display: display.to_path_buf(),
                root_dev,
                secrets: std::sync::OnceLock::new(),
                meta: table,
            }),
        })
    }

    /// Whether this is the live host (`/`).
    fn is_host_root(&self) -> bool {
        self.inner.meta.is_none() && self.inner.root_host == Path::new("/")
    }

    /// `stat` of a descriptor, with a flattened image's metadata applied.
    fn stat_fd(&self, fd: &OwnedFd) -> Result<Stat, ViewError> {
        let st = rustix::fs::fstat(fd).map_err(errno)?;
        Ok(self.overlay(stat_of(&st)))
    }

    fn overlay(&self, mut st: Stat) -> Stat {
        if let Some(m) = self.inner.meta.as_ref().and_then(|t| t.get(st.dev, st.ino)) {
            st.kind = m.kind;
            st.mode = m.mode;
            st.uid = m.uid;
            st.gid = m.gid;
            st.mtime = m.mtime;
            if !matches!(m.kind, Kind::Regular | Kind::Directory | Kind::Symlink) {
                st.size = 0;
            }
        }
        st
    }

    fn secret_linked_as(&self, st: &Stat) -> Option<&str> {
        if st.kind != Kind::Regular || st.nlink <= 1 {
            return None;
        }
        self.inner
            .secrets
            .get_or_init(|| self.find_secrets())
            .get(&(st.dev, st.ino))
            .map(String::as_str)
    }

    /// The target's secret files by identity: the fixed paths, sshd's private host keys and the
    /// private-key directories (one level).
    fn find_secrets(&self) -> std::collections::HashMap<(u64, u64), String> {
        secret_files(
            |dir| self.list_dir(dir, limits::MAX_DIR_ENTRIES).ok().map(|(e, _)| e),
            |p| self.stat(p, false).ok().map(|(st, _)| st),
        )
        .into_iter()
        .map(|(st, p)| ((st.dev, st.ino), p))
        .collect()
    }

    fn open_in_root(&self, path: &str, flags: OFlags) -> Result<OwnedFd, ViewError> {
        let rel = in_target_relative(path)?;
        // Names that are not UTF-8 arrive in the ABI's escaped form: back to the bytes on disk.
        let rel = phipolicy_sdk::target::decode_name(rel);
        // openat2 is strict: O_PATH accepts only O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC beside it.
        let extra = if flags.contains(OFlags::PATH) {
            OFlags::CLOEXEC
        } else {
            OFlags::CLOEXEC | OFlags::NOCTTY
        };
        // openat2 fails with EAGAIN when a rename or mount anywhere on the system raced with a
        // resolution that went through `..` (Debian 13's /etc/os-release -> ../usr/lib/os-release):
        // the kernel asks the caller to retry. Seen in the conformance run inside a container.
        let mut attempts = 0;
        loop {
            match rustix::fs::openat2(
                self.inner.root.as_fd(),
                rel.as_slice(),
                flags | extra,
                Mode::empty(),
                ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
            ) {
                Err(Errno::AGAIN) if attempts < limits::OPENAT2_RETRIES => attempts += 1,
                other => return other.map_err(errno),
            }
        }
    }

    /// Maps a descriptor back to its in-target path ("/etc/authselect/system-auth").
    fn resolved_path(&self, fd: &OwnedFd) -> Result<String, ViewError> {
        let host = fd_path(fd).ok_or_else(|| {
            ViewError::Io("cannot determine the resolved path (/proc unavailable)".into())
        })?;
        let rel = host.strip_prefix(&self.inner.root_host).map_err(|_| {
            ViewError::InvalidPath(format!(
                "resolves outside the target root: {}",
                host.display()
            ))
        })?;
        Ok(format!(
            "/{}",
            phipolicy_sdk::target::encode_name(rel.as_os_str().as_encoded_bytes())
        ))
    }

    /// `stat` (follow = true) or `lstat` of `path`, and the in-target path it resolved to.
    fn stat(&self, path: &str, follow: bool) -> Result<(Stat, String), ViewError> {
        let mut flags = OFlags::PATH;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        let fd = self.open_in_root(path, flags)?;
        let st = self.stat_fd(&fd)?;
        let resolved = self.resolved_path(&fd)?;
        Ok((st, resolved))
    }

    /// Reads a regular file (following links inside the root), at most `cap` bytes.
    fn read_file(&self, path: &str, cap: u64) -> Result<(Vec<u8>, String), ViewError> {
        // First look without opening for I/O: FIFOs and devices must never be opened.
        let pathfd = self.open_in_root(path, OFlags::PATH)?;
        let before = rustix::fs::fstat(&pathfd).map_err(errno)?;
        let kind = self.overlay(stat_of(&before)).kind;
        if kind != Kind::Regular {
            return Err(ViewError::NotRegular(kind));
        }
        if before.st_size as u64 > cap {
            return Err(ViewError::TooLarge(cap));
        }
        let resolved = self.resolved_path(&pathfd)?;
        refuse_process_files(&pathfd, &resolved)?;
        // Re-open the resolved path for reading without following anything, non-blocking, and make
        // sure it is still the same regular file (a swap in between is refused, never followed).
        let fd = self.open_in_root(
            &resolved,
            OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOFOLLOW,
        )?;
        let after = rustix::fs::fstat(&fd).map_err(errno)?;
        if after.st_dev != before.st_dev
            || after.st_ino != before.st_ino
            || kind_of(after.st_mode) != Kind::Regular
        {
            return Err(ViewError::Io("file changed while being opened".into()));
        }
        let file = std::fs::File::from(fd);
        let mut buf = Vec::with_capacity((after.st_size as u64).min(cap) as usize);
        use std::io::Read;
        file.take(cap + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ViewError::Io(e.to_string()))?;
        if buf.len() as u64 > cap {
            return Err(ViewError::TooLarge(cap));
        }
        Ok((buf, resolved))
    }

    /// Lists a directory (sorted by name, byte order), at most `max` entries.
    fn list_dir(
        &self,
        path: &str,
        max: usize,
    ) -> Result<(Vec<(String, Kind)>, String), ViewError> {
        let fd = self.open_in_root(path, OFlags::RDONLY | OFlags::DIRECTORY)?;
        let resolved = self.resolved_path(&fd)?;
        refuse_process_files(&fd, &resolved)?;
        let mut dir = rustix::fs::Dir::read_from(&fd).map_err(errno)?;
        let mut out = Vec::new();
        while let Some(entry) = dir.read() {
            let entry = entry.map_err(errno)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if out.len() >= max {
                return Err(ViewError::TooLarge(max as u64));
            }
            let mut kind = match entry.file_type() {
                rustix::fs::FileType::RegularFile => Kind::Regular,
                rustix::fs::FileType::Directory => Kind::Directory,
                rustix::fs::FileType::Symlink => Kind::Symlink,
                rustix::fs::FileType::Fifo => Kind::Fifo,
                rustix::fs::FileType::Socket => Kind::Socket,
                rustix::fs::FileType::BlockDevice => Kind::BlockDevice,
                rustix::fs::FileType::CharacterDevice => Kind::CharDevice,
                rustix::fs::FileType::Unknown => Kind::Unknown,
            };
            if let Some(meta) = &self.inner.meta
                && let Some(m) = meta.get(meta.dev, entry.ino())
            {
                kind = m.kind;
            }
            // Byte-exact: a name that is not UTF-8 is escaped, never replaced (a lossy name would
            // be a file the plugin cannot ask for, and a failure it never sees).
            out.push((phipolicy_sdk::target::encode_name(name), kind));
        }
        out.sort_by_cached_key(|e| phipolicy_sdk::target::decode_name(&e.0));
        Ok((out, resolved))
    }

    /// The stored target of a symlink.
    fn read_link(&self, path: &str) -> Result<(String, String), ViewError> {
        let fd = self.open_in_root(path, OFlags::PATH | OFlags::NOFOLLOW)?;
        let st = rustix::fs::fstat(&fd).map_err(errno)?;
        if kind_of(st.st_mode) != Kind::Symlink {
            return Err(ViewError::InvalidPath("not a symlink".into()));
        }
        let resolved = self.resolved_path(&fd)?;
        refuse_process_files(&fd, &resolved)?;
        let link = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(errno)?;
        Ok((
            phipolicy_sdk::target::encode_name(link.as_bytes()),
            resolved,
        ))
    }
}

/// The secret files of a target with their `lstat`: the fixed paths, sshd's private host keys and
/// the private-key directories (one level); regular files only.
fn secret_files(
    list_dir: impl Fn(&str) -> Option<Vec<(String, Kind)>>,
    stat: impl Fn(&str) -> Option<Stat>,
) -> Vec<(Stat, String)> {
    let mut paths: Vec<String> = crate::secrets::SECRET_FILES
        .iter()
        .map(|p| p.to_string())
        .collect();
    for dir in ["/etc/ssh", "/etc/ssl/private", "/etc/pki/tls/private"] {
        if let Some(entries) = list_dir(dir) {
            paths.extend(
                entries
                    .into_iter()
                    .map(|(name, _)| format!("{dir}/{name}"))
                    .filter(|p| crate::secrets::is_secret_path(p)),
            );
        }
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let st = stat(&p)?;
            (st.kind == Kind::Regular).then_some((st, p))
        })
        .collect()
}

/// What identifies a remote file when SFTP gives no inode: a hard link shares size, mode, owner
/// and mtime with the file it links, so a file that matches a secret file in all of them is
/// treated as that secret (a different file matching to the second is refused too: the safe
/// side).
pub(crate) type RemoteIdentity = (u64, u32, u32, u32, i64);

fn remote_identity(st: &Stat) -> RemoteIdentity {
    (st.size, st.mode, st.uid, st.gid, st.mtime)
}

/// Validates an in-target path and makes it relative to the root descriptor.
pub(crate) fn in_target_relative(path: &str) -> Result<&str, ViewError> {
    if !path.starts_with('/') {
        return Err(ViewError::InvalidPath(format!("{path:?} is not absolute")));
    }
    if path.contains('\0') {
        return Err(ViewError::InvalidPath("contains NUL".into()));
    }
    if path.len() > limits::MAX_PATH_BYTES {
        return Err(ViewError::InvalidPath("longer than PATH_MAX".into()));
    }
    let rel = path.trim_start_matches('/');
    Ok(if rel.is_empty() { "." } else { rel })
}

/// procfs' `statfs` magic number.
const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// Refuses the per-process files of a real procfs (`/proc/<pid>/...`, which `/proc/self` resolves
/// to) other than the mount tables: on a live host they are the scanning process's own
/// environment, memory, descriptors and command line (`/proc/self/environ` may hold a CI
/// token), not the target's configuration. A file planted at such a path in an image is not on
/// procfs and is served like any other.
fn refuse_process_files(fd: &OwnedFd, resolved: &str) -> Result<(), ViewError> {
    let on_procfs = rustix::fs::fstatfs(fd).is_ok_and(|fs| fs.f_type as i64 == PROC_SUPER_MAGIC);
    if !on_procfs {
        return Ok(());
    }
    let parts: Vec<&str> = resolved.split('/').filter(|p| !p.is_empty()).collect();
    let process = parts.iter().position(|p| {
        *p == "self"
            || *p == "thread-self"
            || (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    });
    match process {
        None => Ok(()),
        Some(i) if matches!(&parts[i + 1..], ["mountinfo"] | ["mounts"]) => Ok(()),
        Some(_) => Err(ViewError::InvalidPath(format!(
            "{resolved} is a per-process /proc file of the scanning host (only mountinfo and mounts are served)"
        ))),
    }
}

fn fd_path(fd: &OwnedFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()
}

fn errno(e: Errno) -> ViewError {
    match e {
        Errno::NOENT | Errno::NOTDIR => ViewError::NotFound,
        Errno::ACCESS | Errno::PERM => ViewError::PermissionDenied,
        Errno::XDEV => {
            ViewError::InvalidPath("resolves through a /proc magic link or leaves the root".into())
        }
        Errno::LOOP => ViewError::Io("too many levels of symbolic links".into()),
        Errno::NAMETOOLONG => ViewError::InvalidPath("name too long".into()),
        other => ViewError::Io(std::io::Error::from(other).to_string()),
    }
}

pub(crate) fn kind_of(mode: u32) -> Kind {
    match rustix::fs::FileType::from_raw_mode(mode) {
        rustix::fs::FileType::RegularFile => Kind::Regular,
        rustix::fs::FileType::Directory => Kind::Directory,
        rustix::fs::FileType::Symlink => Kind::Symlink,
        rustix::fs::FileType::Fifo => Kind::Fifo,
        rustix::fs::FileType::Socket => Kind::Socket,
        rustix::fs::FileType::BlockDevice => Kind::BlockDevice,
        rustix::fs::FileType::CharacterDevice => Kind::CharDevice,
        rustix::fs::FileType::Unknown => Kind::Unknown,
    }
}

fn stat_of(st: &rustix::fs::Stat) -> Stat {
    Stat {
        kind: kind_of(st.st_mode),
        mode: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u64,
        mtime: st.st_mtime,
        dev: st.st_dev,
        ino: st.st_ino,
        nlink: st.st_nlink,
    }
}

/// The paths one plugin may read (defined beside the rules that template it).
pub use crate::registry::Grant;

/// Lexical normalisation of in-target paths (`.`, `..` clamped at the root): one definition,
/// shared with the plugins' SDK, so the engine and a plugin agree on what a path names.
pub use phipolicy_sdk::path::normalize;

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn tree() -> (tempfile::TempDir, TargetView) {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("etc/authselect")).unwrap();
        std::fs::create_dir_all(r.join("etc/pam.d")).unwrap();
        std::fs::write(
            r.join("etc/authselect/system-auth"),
            "auth required pam_unix.so\n",
        )
        .unwrap();
        symlink(
            "/etc/authselect/system-auth",
            r.join("etc/pam.d/system-auth"),
        )
        .unwrap();
        symlink(
            "../../../../../../etc/authselect/system-auth",
            r.join("etc/pam.d/dotdot"),
        )
        .unwrap();
        symlink("/proc/self/root/etc/passwd", r.join("etc/magic")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            r.join("etc/fifo"),
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let view = TargetView::open(r).unwrap();
        (dir, view)
    }

    #[test]
    fn absolute_symlinks_resolve_inside_the_root() {
        let (_d, view) = tree();
        let (bytes, resolved) = view.read_file("/etc/pam.d/system-auth", 1024).unwrap();
        assert_eq!(bytes, b"auth required pam_unix.so\n");
        assert_eq!(resolved, "/etc/authselect/system-auth");
        let (_, resolved) = view.read_file("/etc/pam.d/dotdot", 1024).unwrap();
        assert_eq!(resolved, "/etc/authselect/system-auth");
        let (st, _) = view.stat("/etc/pam.d/system-auth", false).unwrap();
        assert_eq!(st.kind, Kind::Symlink);
        assert_eq!(
            view.read_link("/etc/pam.d/system-auth").unwrap().0,
            "/etc/authselect/system-auth"
        );
    }

    #[test]
    fn dotdot_clamps_at_the_root() {
        let (_d, view) = tree();
        // /../../etc/passwd is /etc/passwd of the target, which does not exist there.
        assert_eq!(
            view.read_file("/../../etc/passwd", 1024).unwrap_err(),
            ViewError::NotFound
        );
    }

    #[test]
    fn fifos_are_never_opened_and_magic_links_refused() {
        let (_d, view) = tree();
        assert_eq!(
            view.read_file("/etc/fifo", 1024).unwrap_err(),
            ViewError::NotRegular(Kind::Fifo)
        );
        // Inside the root, /proc does not exist: the link resolves to nothing.
        assert!(view.read_file("/etc/magic", 1024).is_err());
    }

    #[test]
    fn size_cap() {
        let (_d, view) = tree();
        assert_eq!(
            view.read_file("/etc/authselect/system-auth", 4)
                .unwrap_err(),
            ViewError::TooLarge(4)
        );
    }

    /// Renames elsewhere on the system make openat2 answer EAGAIN to a resolution through `..`
    /// (Debian 13's /etc/os-release is `../usr/lib/os-release`); the view retries, so reads of
    /// such a path never fail while something renames in a loop.
    #[test]
    fn concurrent_renames_do_not_fail_dotdot_resolution() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        std::fs::create_dir_all(dir.path().join("usr/lib")).unwrap();
        std::fs::write(dir.path().join("usr/lib/os-release"), "ID=debian\n").unwrap();
        symlink("../usr/lib/os-release", dir.path().join("etc/os-release")).unwrap();
        let view = TargetView::open(dir.path()).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let (a, b) = (scratch.path().join("a"), scratch.path().join("b"));
        std::fs::write(&a, "x").unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::fs::rename(&a, &b).unwrap();
                    std::fs::rename(&b, &a).unwrap();
                }
            });
            let mut failures = 0;
            for _ in 0..20_000 {
                if view.read_file("/etc/os-release", 1024).is_err() {
                    failures += 1;
                }
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert_eq!(failures, 0, "reads through .. failed while renames ran");
        });
    }

    /// `limits::MAX_DIR_ENTRIES`: a directory with one entry more than the cap is refused, not
    /// listed partially; one at the cap is listed whole.
    #[test]
    fn listing_cap() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big");
        std::fs::create_dir(&big).unwrap();
        for i in 0..limits::MAX_DIR_ENTRIES {
            std::os::unix::fs::symlink("x", big.join(format!("{i:06}"))).unwrap();
        }
        let view = TargetView::open(dir.path()).unwrap();
        let (entries, _) = view.list_dir("/big", limits::MAX_DIR_ENTRIES).unwrap();
        assert_eq!(entries.len(), limits::MAX_DIR_ENTRIES);
        std::os::unix::fs::symlink("x", big.join("one-more")).unwrap();
        assert_eq!(
            view.list_dir("/big", limits::MAX_DIR_ENTRIES).unwrap_err(),
            ViewError::TooLarge(limits::MAX_DIR_ENTRIES as u64)
        );
    }
}
