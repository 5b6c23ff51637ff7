//! phipolicy's one cache of precompiled plugin code, for built-in and third-party plugins alike,
//! held as one directory descriptor.
//!
//! The cache holds native code that wasmtime maps and runs without further checks, so whoever can
//! change a file in it runs code as the user running phipolicy (often root). The directory is
//! opened once, component by component from `/` with `O_NOFOLLOW | O_DIRECTORY`; every directory
//! on the way must be owned by root or by us and not writable by group or others (unless it is
//! sticky and root-owned, like `/tmp`), and the last two (`phipolicy/plugins`) must be ours and
//! private (mode 0700). Every later access is relative to that descriptor (`openat`, `renameat`,
//! `unlinkat`), files are created `O_EXCL | O_NOFOLLOW` with mode 0600, and a cached artifact is
//! used only when its sha256 is the one expected. The expected sha256 is the one rule that differs
//! between the two kinds of [`Entry`]: a built-in artifact's is the embedded artifact's (and its
//! length too), a third-party plugin's is the one recorded beside it when this code compiled it
//! (the name carries the component's sha256 and wasmtime's compatibility hash). [`PrivateCache::load`]
//! is the one place a cached file becomes code. Anything off: a warning, and the caller runs from
//! the embedded bytes or compiles again.

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{Mode, OFlags};
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::digest::hex;

/// Limits of the cache's files.
pub mod limits {
    /// Largest cached artifact read for verification (built-in artifacts are ~1 MB, a
    /// third-party plugin's a few MB).
    pub const MAX_ARTIFACT_BYTES: u64 = 256 << 20;
    /// Largest recorded sha256 file read (64 hex digits).
    pub const MAX_RECORD_BYTES: u64 = 64;
    /// The buffer an artifact is hashed through.
    pub const HASH_BUFFER_BYTES: usize = 256 << 10;
}

/// The opened, checked cache directory.
#[derive(Debug)]
pub struct PrivateCache {
    dir: OwnedFd,
    path: PathBuf,
}

/// Where the cache lives: `$XDG_CACHE_HOME/phipolicy/plugins`, else `~/.cache/phipolicy/plugins`.
pub fn default_location() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
    Some(base.join("phipolicy").join("plugins"))
}

/// Why the cache is not used (logged as a warning; the run goes on without it).
#[derive(Debug, thiserror::Error)]
pub enum CacheRefused {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: rustix::io::Errno,
    },
    #[error("{path} is owned by uid {uid}, neither root nor the user running phipolicy")]
    Owner { path: PathBuf, uid: u32 },
    #[error("{path} is writable by group or others (mode {mode:o})")]
    Writable { path: PathBuf, mode: u32 },
    #[error("{path} is not private (mode {mode:o}; 0700 expected)")]
    NotPrivate { path: PathBuf, mode: u32 },
    #[error("{path} lies inside the audited target {root}, which a scan never writes")]
    InsideTarget { path: PathBuf, root: PathBuf },
    #[error("{0} is not an absolute path")]
    Relative(PathBuf),
}

/// One artifact of the cache: its file name and what its contents must be.
#[derive(Debug, Clone)]
pub struct Entry {
    name: String,
    expected: Expected,
}

/// How a cached artifact is verified before it is used.
#[derive(Debug, Clone)]
enum Expected {
    /// A built-in plugin's artifact: the embedded bytes' sha256 and length (the name carries the
    /// sha256 too: a file of another build is never this one). `plugin`: the plugin's name, whose
    /// artifacts of other builds are removed when this one is written.
    Embedded {
        plugin: String,
        sha256: &'static str,
        len: u64,
    },
    /// A third-party plugin compiled here: the sha256 recorded in `<name>.sha256` when it was
    /// compiled (the name carries the component's sha256 and the engine's compatibility hash).
    Recorded,
}

impl Entry {
    /// The entry of a built-in plugin's embedded artifact (`cwasm`, whose sha256 is `sha256`).
    pub fn builtin(plugin: &str, sha256: &'static str, cwasm: &[u8]) -> Entry {
        Entry {
            name: format!("builtin-{plugin}-{sha256}.cwasm"),
            expected: Expected::Embedded {
                plugin: plugin.to_string(),
                sha256,
                len: cwasm.len() as u64,
            },
        }
    }

    /// The entry of a third-party component (`component_sha256`) compiled by `engine`.
    pub fn compiled(engine: &Engine, component_sha256: &str) -> Entry {
        let compat = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut h);
            format!("{:016x}", h.finish())
        };
        Entry {
            name: format!("{component_sha256}-{compat}.cwasm"),
            expected: Expected::Recorded,
        }
    }

    /// The artifact's file name in the cache.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn record_name(&self) -> String {
        format!("{}.sha256", self.name)
    }
}

impl PrivateCache {
    /// The entry's artifact as a component of `engine`, if the cache holds a verified copy.
    pub fn load(&self, engine: &Engine, entry: &Entry) -> Option<Component> {
        let verified = match &entry.expected {
            Expected::Embedded { sha256, len, .. } => {
                self.open_verified(&entry.name, sha256, Some(*len))?
            }
            Expected::Recorded => {
                let expected = self.read_small(&entry.record_name(), limits::MAX_RECORD_BYTES)?;
                self.open_verified(&entry.name, expected.trim(), None)?
            }
        };
        // SAFETY: `verified.path` names the descriptor `open_verified` opened in the checked
        // private cache directory (no symlink followed, a private regular file of ours) and whose
        // contents it hashed to the expected sha256: for a built-in entry the embedded artifact's
        // (the bytes build.rs produced for this engine configuration), for a compiled entry the
        // one recorded when this code serialized it with `Component::serialize` for this exact
        // engine (the compatibility hash is part of the name). wasmtime also checks the header
        // against this engine and rejects a mismatch.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &verified.path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %entry.name, error = %format!("{e:#}"), "ignoring an unusable cached artifact");
                None
            }
        }
    }

    /// Stores `artifact` as the entry's file: with its sha256 recorded beside it (a compiled
    /// entry), or removing the plugin's artifacts of other builds (a built-in entry: dead weight,
    /// 13 MB a build).
    pub fn store(&self, entry: &Entry, artifact: &[u8]) -> std::io::Result<()> {
        self.write(&entry.name, artifact)?;
        match &entry.expected {
            Expected::Recorded => self.write(
                &entry.record_name(),
                crate::digest::sha256_hex(artifact).as_bytes(),
            ),
            Expected::Embedded { plugin, .. } => {
                let prefix = format!("builtin-{plugin}-");
                self.remove_where(|n| {
                    n != entry.name
                        && n.strip_prefix(&prefix)
                            .and_then(|rest| rest.strip_suffix(".cwasm"))
                            .is_some_and(|sha| {
                                sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())
                            })
                });
                Ok(())
            }
        }
    }

    /// Opens (creating what is missing, mode 0700) and checks the cache directory at `path`.
    /// `target`: the root of the audited tree when it is not the live host; a cache inside it is
    /// refused (a scan never writes into its target).
    pub fn open(path: &Path, target: Option<&Path>) -> Result<PrivateCache, CacheRefused> {
        if !path.is_absolute() {
            return Err(CacheRefused::Relative(path.into()));
        }
        let me = rustix::process::geteuid().as_raw();
        let target_id = match target {
            Some(root) => {
                let st = rustix::fs::stat(root).map_err(|source| CacheRefused::Io {
                    path: root.into(),
                    source,
                })?;
                Some((st.st_dev, st.st_ino))
            }
            None => None,
        };
        let components: Vec<_> = path
            .components()
            .filter_map(|c| match c {
                std::path::Component::Normal(n) => Some(n.to_os_string()),
                _ => None,
            })
            .collect();
        // The cache directory itself must be ours and private; the directories above it must not
        // let anyone else rename or replace what lies below them.
        let private_from = components.len().saturating_sub(1);
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let mut here = PathBuf::from("/");
        let mut dir =
            rustix::fs::open("/", flags, Mode::empty()).map_err(|source| CacheRefused::Io {
                path: here.clone(),
                source,
            })?;
        check_dir(&dir, &here, me, false, target_id, target)?;
        for (i, name) in components.iter().enumerate() {
            here.push(name);
            let private = i >= private_from;
            let next = match rustix::fs::openat(&dir, name.as_os_str(), flags, Mode::empty()) {
                Err(rustix::io::Errno::NOENT) => {
                    match rustix::fs::mkdirat(&dir, name.as_os_str(), Mode::from_raw_mode(0o700)) {
                        Ok(()) | Err(rustix::io::Errno::EXIST) => {}
                        Err(source) => {
                            return Err(CacheRefused::Io {
                                path: here.clone(),
                                source,
                            });
                        }
                    }
                    rustix::fs::openat(&dir, name.as_os_str(), flags, Mode::empty())
                }
                other => other,
            }
            .map_err(|source| CacheRefused::Io {
                path: here.clone(),
                source,
            })?;
            check_dir(&next, &here, me, private, target_id, target)?;
            dir = next;
        }
        Ok(PrivateCache {
            dir,
            path: path.into(),
        })
    }

    /// The cache directory's path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the cache's file `name` if it is a regular file of ours with one link, not
    /// writable by others, of at most `max` bytes (and exactly `len` when given): the checks
    /// every file of the cache passes before it is read.
    fn open_private(&self, name: &str, max: u64, len: Option<u64>) -> Option<std::fs::File> {
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .ok()?;
        let st = rustix::fs::fstat(&fd).ok()?;
        let me = rustix::process::geteuid().as_raw();
        let regular = rustix::fs::FileType::from_raw_mode(st.st_mode).is_file();
        let size = st.st_size as u64;
        if !regular
            || st.st_uid != me
            || st.st_mode & 0o022 != 0
            || st.st_nlink != 1
            || size > max
            || len.is_some_and(|l| l != size)
        {
            tracing::warn!(file = %self.path.join(name).display(), "ignoring a cached file that is not a private regular file of the expected size");
            return None;
        }
        Some(std::fs::File::from(fd))
    }

    /// Opens the cached artifact `name` if [`Self::open_private`] accepts it and its sha256 is
    /// `sha256`; returns a path that names exactly the opened file (`/proc/self/fd/N`, valid
    /// while the descriptor lives) for wasmtime to map.
    fn open_verified(&self, name: &str, sha256: &str, len: Option<u64>) -> Option<VerifiedFile> {
        let mut file = self.open_private(name, limits::MAX_ARTIFACT_BYTES, len)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; limits::HASH_BUFFER_BYTES];
        loop {
            match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => hasher.update(&buf[..n]),
                Err(_) => return None,
            }
        }
        if hex(&hasher.finalize()) != sha256 {
            tracing::warn!(file = %self.path.join(name).display(), "ignoring a cached artifact whose sha256 is not the expected one");
            return None;
        }
        let fd = OwnedFd::from(file);
        let path = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        Some(VerifiedFile { _fd: fd, path })
    }

    /// Reads a small file of the cache (a recorded sha256) that [`Self::open_private`] accepts.
    fn read_small(&self, name: &str, max: u64) -> Option<String> {
        let mut text = String::new();
        self.open_private(name, max, None)?
            .take(max)
            .read_to_string(&mut text)
            .ok()?;
        Some(text)
    }

    /// Writes `bytes` as `name`: a fresh temporary file (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode
    /// 0600) renamed over `name`, all relative to the cache directory.
    fn write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tmp = format!(
            ".{name}.tmp-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let fd = rustix::fs::openat(
            &self.dir,
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let written = (|| -> std::io::Result<()> {
            let mut file = std::fs::File::from(fd);
            file.write_all(bytes)?;
            file.sync_all()?;
            rustix::fs::renameat(&self.dir, tmp.as_str(), &self.dir, name)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&self.dir, tmp.as_str(), rustix::fs::AtFlags::empty());
        }
        written
    }

    /// Removes the files whose names `stale` accepts (another build's artifacts).
    fn remove_where(&self, stale: impl Fn(&str) -> bool) {
        let Ok(fd) = rustix::fs::openat(
            &self.dir,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        ) else {
            return;
        };
        let Ok(mut listing) = rustix::fs::Dir::read_from(&fd) else {
            return;
        };
        let mut doomed = Vec::new();
        while let Some(Ok(entry)) = listing.read() {
            if let Ok(name) = entry.file_name().to_str()
                && stale(name)
            {
                doomed.push(name.to_string());
            }
        }
        for name in doomed {
            let _ = rustix::fs::unlinkat(&self.dir, name.as_str(), rustix::fs::AtFlags::empty());
        }
    }
}

/// A cached file opened and verified; `path` names the opened file itself.
#[derive(Debug)]
pub struct VerifiedFile {
    _fd: OwnedFd,
    pub path: PathBuf,
}

/// Checks one directory on the way to the cache (see the module docs).
fn check_dir(
    fd: &OwnedFd,
    path: &Path,
    me: u32,
    private: bool,
    target_id: Option<(u64, u64)>,
    target: Option<&Path>,
) -> Result<(), CacheRefused> {
    let st = rustix::fs::fstat(fd.as_fd()).map_err(|source| CacheRefused::Io {
        path: path.into(),
        source,
    })?;
    if target_id == Some((st.st_dev, st.st_ino)) {
        return Err(CacheRefused::InsideTarget {
            path: path.into(),
            root: target.map(Path::to_path_buf).unwrap_or_default(),
        });
    }
    let mode = st.st_mode & 0o7777;
    if private {
        if st.st_uid != me {
            return Err(CacheRefused::Owner {
                path: path.into(),
                uid: st.st_uid,
            });
        }
        if mode & 0o077 != 0 {
            return Err(CacheRefused::NotPrivate {
                path: path.into(),
                mode,
            });
        }
        return Ok(());
    }
    if st.st_uid != 0 && st.st_uid != me {
        return Err(CacheRefused::Owner {
            path: path.into(),
            uid: st.st_uid,
        });
    }
    let sticky_root = mode & 0o1000 != 0 && st.st_uid == 0;
    if mode & 0o022 != 0 && !sticky_root {
        return Err(CacheRefused::Writable {
            path: path.into(),
            mode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn set_mode(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_private_cache_round_trips_and_verifies() {
        let base = tempfile::tempdir().unwrap();
        set_mode(base.path(), 0o700);
        let dir = base.path().join("phipolicy/plugins");
        let cache = PrivateCache::open(&dir, None).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        cache.write("a.cwasm", b"artifact").unwrap();
        let sha = crate::digest::sha256_hex(b"artifact");
        let file = cache.open_verified("a.cwasm", &sha, Some(8)).unwrap();
        assert_eq!(std::fs::read(&file.path).unwrap(), b"artifact");
        assert!(cache.open_verified("a.cwasm", &sha, Some(9)).is_none());
        let other = crate::digest::sha256_hex(b"forged!!");
        assert!(cache.open_verified("a.cwasm", &other, Some(8)).is_none());
    }

    /// The regression of the poisoning report: a temp-file name planted as a symlink is never
    /// followed, a forged artifact is never used, and a parent writable by others refuses the
    /// whole cache.
    #[test]
    fn planted_links_forged_files_and_shared_parents_are_refused() {
        let base = tempfile::tempdir().unwrap();
        set_mode(base.path(), 0o700);
        let dir = base.path().join("phipolicy/plugins");
        let cache = PrivateCache::open(&dir, None).unwrap();
        // A symlink planted at the final name: opening it for verification refuses it.
        let victim = base.path().join("victim");
        std::fs::write(&victim, "root-owned content").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("b.cwasm")).unwrap();
        let sha = crate::digest::sha256_hex(b"root-owned content");
        assert!(cache.open_verified("b.cwasm", &sha, None).is_none());
        // Writing replaces the link itself, never the file it points to.
        cache.write("b.cwasm", b"new").unwrap();
        assert_eq!(std::fs::read(&victim).unwrap(), b"root-owned content");
        // A group-writable parent (not sticky) refuses the cache.
        set_mode(base.path(), 0o777);
        assert!(matches!(
            PrivateCache::open(&dir, None),
            Err(CacheRefused::Writable { .. })
        ));
        set_mode(base.path(), 0o700);
        // A cache directory that is not private is refused.
        set_mode(&dir, 0o755);
        assert!(matches!(
            PrivateCache::open(&dir, None),
            Err(CacheRefused::NotPrivate { .. })
        ));
        set_mode(&dir, 0o700);
        // Inside the audited tree: refused.
        assert!(matches!(
            PrivateCache::open(&dir, Some(base.path())),
            Err(CacheRefused::InsideTarget { .. })
        ));
        // A symlink anywhere on the way is refused (O_NOFOLLOW).
        let link = base.path().join("link");
        std::os::unix::fs::symlink(base.path().join("phipolicy"), &link).unwrap();
        assert!(PrivateCache::open(&link.join("plugins"), None).is_err());
    }
}
