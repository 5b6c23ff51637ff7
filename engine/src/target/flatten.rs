//! The layer flattener: applies an image's layers, in order, to a private directory that the
//! target view then serves with the same chroot semantics as `--root`.
//!
//! Long file: the whiteout, hard-link and metadata rules are one state machine over the tar
//! entries of every layer, and its tests sit beside it.
//!
//! # Rules (OCI image spec, "Applying changesets"; what Docker's own unpacker does)
//!
//! - Entry names are relative to the image root. A leading `./` is dropped; an absolute name or a
//!   `..` component is refused (the layer is hostile or broken: the whole target is an error
//!   naming the layer and the entry). Hard-link targets follow the same rule.
//! - Parent directories of an entry are resolved inside the flattened root, following symlinks
//!   with chroot semantics (`openat2(RESOLVE_IN_ROOT)`): a layer whose `etc` is a symlink to `/`
//!   or `../../..` writes into the image's root, never outside it. Missing parents are created
//!   (mode 0755, owner 0:0, as Docker does).
//! - `DIR/.wh.NAME` (a whiteout) removes `DIR/NAME` and everything beneath it that lower layers
//!   put there. `DIR/.wh..wh..opq` (an opaque directory) removes every child of `DIR` from lower
//!   layers, keeping what the same layer adds wherever it sits in the layer's stream. Whiteout
//!   entries never appear in the result; other `.wh..wh.*` names (aufs bookkeeping) are ignored.
//! - A directory entry over an existing directory keeps its contents and takes the new metadata;
//!   any other entry replaces what was at its name (a directory is removed with its contents).
//!   A name is replaced by unlinking it, so the other names of a hard-linked file keep the old
//!   contents, as on a real overlay filesystem.
//! - Hard links are real hard links (within a layer and to files of lower layers) and, as in
//!   Docker's applier, the link entry's owner, mode and mtime become the file's (the names are one
//!   inode); a link to a name that does not exist or is a directory is an error naming layer and
//!   entry.
//! - Symlinks are kept as they are stored (their targets are never followed while flattening and
//!   may point anywhere: the view resolves them inside the root).
//! - Device nodes and FIFOs become empty placeholder files whose kind the metadata table records:
//!   the view reports them as devices/FIFOs and never opens them; nothing special is created.
//! - Ownership, permission bits (setuid/setgid/sticky included) and mtimes come from the layer's
//!   headers and live in a metadata table keyed by inode ([`crate::fsview::MetaTable`]), which the
//!   view consults. On disk every file is 0600 and every directory 0700, owned by the scanning
//!   user: no setuid file or device node ever exists on the scanning host, and extraction needs no
//!   privilege.
//! - Regular files larger than the view's read cap ([`crate::fsview::limits::MAX_FILE_BYTES`]) are
//!   created sparse at their size without their contents: the view reports their size and refuses
//!   to read them, exactly as it does for such a file under `--root`.
//! - Layers may be uncompressed, gzip or zstd (recognised by their magic bytes, whatever the
//!   media type says).
//!
//! # Bounds
//!
//! Memory: layers are streamed; what is kept is the metadata table (about 40 bytes per inode)
//! and, while a layer is applied, the set of names it touched (about its names' length plus 40
//! bytes each). Disk and time: [`Limits`] caps the bytes written, the number of entries and the
//! wall time of the whole flattening; past a cap the target is an error that says which cap.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::fsview::{FileMeta, Kind, MetaTable, limits::MAX_FILE_BYTES};

/// Caps of one flattening (all layers of one image together).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Bytes of file contents written to the private directory.
    pub max_bytes: u64,
    /// Tar entries read, whiteouts included.
    pub max_entries: u64,
    /// Wall time of the whole flattening.
    pub max_time: Duration,
}

/// The default caps.
pub mod limits {
    use std::time::Duration;
    /// Bytes written: contents above the view's read cap are never written, so this is the sum
    /// of the small files; 16 GiB of them is no image anyone ships.
    pub const MAX_IMAGE_BYTES: u64 = 16 << 30;
    /// Entries: a full distribution image has ~100,000; forty times that is a hostile layer.
    pub const MAX_IMAGE_ENTRIES: u64 = 4_000_000;
    /// Wall time: a multi-gigabyte image flattens in about a minute on a laptop.
    pub const MAX_FLATTEN_TIME: Duration = Duration::from_secs(15 * 60);
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: limits::MAX_IMAGE_BYTES,
            max_entries: limits::MAX_IMAGE_ENTRIES,
            max_time: limits::MAX_FLATTEN_TIME,
        }
    }
}

/// Why a layer could not be applied (bad input: the target is an error, exit 2 for one target).
#[derive(Debug, thiserror::Error)]
pub enum FlattenError {
    #[error("layer {layer}: entry {entry:?}: {reason}")]
    Entry {
        layer: String,
        entry: String,
        reason: String,
    },
    #[error("layer {layer}: {reason}")]
    Layer { layer: String, reason: String },
    #[error("flattening the image: {0}")]
    Limit(String),
}

/// Applies layers to a private root directory; [`Flattener::finish`] gives the metadata table.
pub struct Flattener {
    root: OwnedFd,
    table: MetaTable,
    limits: Limits,
    started: Instant,
    entries: u64,
    bytes: u64,
}

impl std::fmt::Debug for Flattener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flattener")
            .field("entries", &self.entries)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}

/// Root directory metadata when no layer names `./`.
const DEFAULT_DIR: FileMeta = FileMeta {
    kind: Kind::Directory,
    mode: 0o755,
    uid: 0,
    gid: 0,
    mtime: 0,
};

/// One layer being applied: its name for messages and the names it touched so far.
struct LayerState<'a> {
    name: &'a str,
    touched: HashSet<Vec<u8>>,
}

impl LayerState<'_> {
    fn err(&self, entry: &[u8], reason: impl Into<String>) -> FlattenError {
        FlattenError::Entry {
            layer: self.name.to_string(),
            entry: String::from_utf8_lossy(entry).into_owned(),
            reason: reason.into(),
        }
    }
}

impl Flattener {
    /// Flattens into `root`, an empty directory private to this process.
    pub fn new(root: &Path, limits: Limits) -> std::io::Result<Flattener> {
        let fd = rustix::fs::open(
            root,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NOFOLLOW,
            Mode::empty(),
        )?;
        let st = rustix::fs::fstat(&fd)?;
        let mut table = MetaTable::new(st.st_dev);
        table.insert(st.st_ino, DEFAULT_DIR);
        Ok(Flattener {
            root: fd,
            table,
            limits,
            started: Instant::now(),
            entries: 0,
            bytes: 0,
        })
    }

    /// The metadata table of the flattened tree.
    pub fn finish(self) -> MetaTable {
        self.table
    }

    /// Applies one layer (`name` is how messages call it: its digest or file name). The stream
    /// may be uncompressed, gzip or zstd.
    pub fn apply_layer(&mut self, name: &str, reader: impl Read) -> Result<(), FlattenError> {
        let layer_err = |reason: String| FlattenError::Layer {
            layer: name.to_string(),
            reason,
        };
        let mut buffered = BufReader::with_capacity(256 << 10, reader);
        let magic = buffered
            .fill_buf()
            .map_err(|e| layer_err(format!("reading: {e}")))?;
        let stream: Box<dyn Read + '_> = if magic.starts_with(&[0x1f, 0x8b]) {
            Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
        } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Box::new(
                zstd::stream::read::Decoder::with_buffer(buffered)
                    .map_err(|e| layer_err(format!("zstd: {e}")))?,
            )
        } else if magic.starts_with(b"BZh") || magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
            return Err(layer_err(
                "bzip2/xz compressed layers are not supported (the OCI spec allows uncompressed, gzip and zstd)".into(),
            ));
        } else {
            Box::new(buffered)
        };
        let mut archive = tar::Archive::new(stream);
        let mut layer = LayerState {
            name,
            touched: HashSet::new(),
        };
        let entries = archive
            .entries()
            .map_err(|e| layer_err(format!("not a tar stream: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| layer_err(format!("reading the tar stream: {e}")))?;
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(FlattenError::Limit(format!(
                    "more than {} entries in the image's layers",
                    self.limits.max_entries
                )));
            }
            self.check_time()?;
            self.apply_entry(&mut layer, &mut entry)?;
        }
        Ok(())
    }

    fn check_time(&self) -> Result<(), FlattenError> {
        if self.started.elapsed() > self.limits.max_time {
            return Err(FlattenError::Limit(format!(
                "took longer than {} s",
                self.limits.max_time.as_secs()
            )));
        }
        Ok(())
    }

    fn apply_entry<R: Read>(
        &mut self,
        layer: &mut LayerState<'_>,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), FlattenError> {
        let raw = entry.path_bytes().into_owned();
        let header = entry.header();
        let kind = header.entry_type();
        let base = FileMeta {
            kind: Kind::Regular,
            mode: header.mode().unwrap_or(0o644) & 0o7777,
            uid: header.uid().unwrap_or(0) as u32,
            gid: header.gid().unwrap_or(0) as u32,
            mtime: header.mtime().unwrap_or(0) as i64,
        };
        let meta = |kind: Kind| FileMeta { kind, ..base };
        let parts = components(&raw).map_err(|r| layer.err(&raw, r))?;
        use tar::EntryType as T;
        let Some((name, parents)) = parts.split_last() else {
            // `./`: the root directory itself.
            if kind == T::Directory {
                let st = rustix::fs::fstat(&self.root).map_err(|e| layer.err(&raw, e.to_string()))?;
                self.table.insert(st.st_ino, meta(Kind::Directory));
                return Ok(());
            }
            return Err(layer.err(&raw, "names the image root but is not a directory"));
        };
        // Whiteouts.
        if let Some(hidden) = name.strip_prefix(b".wh.") {
            if hidden == b".wh..opq" {
                return self.opaque(layer, parents, &raw);
            }
            if hidden.starts_with(b".wh.") || hidden.is_empty() {
                return Ok(());
            }
            let mut path = join(parents);
            if !path.is_empty() {
                path.push(b'/');
            }
            path.extend_from_slice(hidden);
            if layer.touched.contains(&path) {
                return Ok(());
            }
            if let Some(dir) = self.find_dir(parents).map_err(|e| layer.err(&raw, e))? {
                remove_all(&dir, hidden).map_err(|e| layer.err(&raw, format!("whiteout: {e}")))?;
            }
            return Ok(());
        }
        let path = join(&parts);
        let dir = self.make_parents(layer, parents, &raw)?;
        layer.touched.insert(path);
        let existing = rustix::fs::statat(&dir, *name, AtFlags::SYMLINK_NOFOLLOW).ok();
        let e = |r: String| layer.err(&raw, r);
        match kind {
            T::Directory => {
                let is_dir = existing.is_some_and(|st| kind_of(st.st_mode) == Kind::Directory);
                if !is_dir {
                    if existing.is_some() {
                        remove_all(&dir, name).map_err(|x| e(x.to_string()))?;
                    }
                    rustix::fs::mkdirat(&dir, *name, Mode::from_raw_mode(0o700))
                        .map_err(|x| e(format!("creating the directory: {x}")))?;
                }
                self.record(&dir, name, meta(Kind::Directory)).map_err(e)?;
            }
            T::Regular | T::Continuous | T::GNUSparse => {
                if existing.is_some() {
                    remove_all(&dir, name).map_err(|x| e(x.to_string()))?;
                }
                let fd = rustix::fs::openat(
                    &dir,
                    *name,
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|x| e(format!("creating the file: {x}")))?;
                let size = entry.size();
                let mut file = std::fs::File::from(fd);
                if size > MAX_FILE_BYTES {
                    // Never served (larger than the view's read cap): only its size matters.
                    file.set_len(size).map_err(|x| e(x.to_string()))?;
                } else {
                    self.bytes += size;
                    if self.bytes > self.limits.max_bytes {
                        return Err(FlattenError::Limit(format!(
                            "the image's files hold more than {} bytes",
                            self.limits.max_bytes
                        )));
                    }
                    let copied = std::io::copy(entry, &mut file)
                        .map_err(|x| e(format!("reading the contents: {x}")))?;
                    if copied != size {
                        return Err(e(format!("holds {copied} bytes, its header says {size}")));
                    }
                    file.flush().map_err(|x| e(x.to_string()))?;
                }
                self.record(&dir, name, meta(Kind::Regular)).map_err(e)?;
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| e("a symlink without a target".into()))?
                    .into_owned();
                if target.is_empty() || target.contains(&0) {
                    return Err(e("a symlink with an empty or NUL-containing target".into()));
                }
                if existing.is_some() {
                    remove_all(&dir, name).map_err(|x| e(x.to_string()))?;
                }
                rustix::fs::symlinkat(target.as_slice(), &dir, *name)
                    .map_err(|x| e(format!("creating the symlink: {x}")))?;
                let mut m = meta(Kind::Symlink);
                m.mode = 0o777;
                self.record(&dir, name, m).map_err(e)?;
            }
            T::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| e("a hard link without a target".into()))?
                    .into_owned();
                let tparts = components(&target)
                    .map_err(|r| e(format!("hard link to {:?}: {r}", String::from_utf8_lossy(&target))))?;
                let Some((tname, tparents)) = tparts.split_last() else {
                    return Err(e("a hard link to the image root".into()));
                };
                let missing = || {
                    e(format!(
                        "hard link to {:?}, which is not in the image",
                        String::from_utf8_lossy(&target)
                    ))
                };
                let tdir = self.find_dir(tparents).map_err(&e)?.ok_or_else(missing)?;
                let tst = rustix::fs::statat(&tdir, *tname, AtFlags::SYMLINK_NOFOLLOW)
                    .map_err(|_| missing())?;
                if kind_of(tst.st_mode) == Kind::Directory {
                    return Err(e("a hard link to a directory".into()));
                }
                if let Some(st) = existing {
                    if st.st_ino == tst.st_ino {
                        return Ok(());
                    }
                    remove_all(&dir, name).map_err(|x| e(x.to_string()))?;
                }
                rustix::fs::linkat(&tdir, *tname, &dir, *name, AtFlags::empty())
                    .map_err(|x| e(format!("creating the hard link: {x}")))?;
                // Docker's applier chmods and chowns the link's inode with the link entry's
                // metadata (the two names are one file); a symlink's mode stays 0777.
                let kind = self
                    .table
                    .get(tst.st_dev, tst.st_ino)
                    .map(|m| m.kind)
                    .unwrap_or_else(|| kind_of(tst.st_mode));
                let mut m = meta(kind);
                if kind == Kind::Symlink {
                    m.mode = 0o777;
                }
                self.table.insert(tst.st_ino, m);
            }
            T::Char | T::Block | T::Fifo => {
                if existing.is_some() {
                    remove_all(&dir, name).map_err(|x| e(x.to_string()))?;
                }
                // A placeholder: the table says what it is; the view never opens it.
                rustix::fs::openat(
                    &dir,
                    *name,
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|x| e(format!("creating the placeholder: {x}")))?;
                let k = match kind {
                    T::Char => Kind::CharDevice,
                    T::Block => Kind::BlockDevice,
                    _ => Kind::Fifo,
                };
                self.record(&dir, name, meta(k)).map_err(e)?;
            }
            other => {
                // pax/GNU long-name headers are consumed by the tar reader; anything else is
                // not a file of the image.
                tracing::debug!(layer = layer.name, entry = %String::from_utf8_lossy(&raw), kind = ?other, "tar entry type skipped");
            }
        }
        Ok(())
    }

    /// Records the metadata of `dir/name` (by inode).
    fn record(&mut self, dir: &OwnedFd, name: &[u8], meta: FileMeta) -> Result<(), String> {
        let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| e.to_string())?;
        self.table.insert(st.st_ino, meta);
        Ok(())
    }

    /// Opens the directory `parts` inside the root (symlinks resolved in the root), or `None` if
    /// it does not exist.
    fn find_dir(&self, parts: &[&[u8]]) -> Result<Option<OwnedFd>, String> {
        let path = join(parts);
        match open_in_root(&self.root, &path) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::NOTDIR) => Ok(None),
            Err(e) => Err(format!("resolving {:?}: {e}", String::from_utf8_lossy(&path))),
        }
    }

    /// Opens the directory `parts` inside the root, creating missing components (0755 0:0 in
    /// the table) and replacing non-directories in the way.
    fn make_parents(
        &mut self,
        layer: &mut LayerState<'_>,
        parts: &[&[u8]],
        raw: &[u8],
    ) -> Result<OwnedFd, FlattenError> {
        let path = join(parts);
        if let Ok(fd) = open_in_root(&self.root, &path) {
            return Ok(fd);
        }
        let mut dir = rustix::fs::openat(
            &self.root,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| layer.err(raw, e.to_string()))?;
        for (i, part) in parts.iter().enumerate() {
            let prefix = join(&parts[..=i]);
            match open_in_root(&self.root, &prefix) {
                Ok(fd) => dir = fd,
                Err(Errno::NOENT) | Err(Errno::NOTDIR) => {
                    // Missing, a non-directory, or a symlink that leads nowhere: a directory
                    // takes its place (what a layer naming a file under it implies).
                    if rustix::fs::statat(&dir, *part, AtFlags::SYMLINK_NOFOLLOW).is_ok() {
                        remove_all(&dir, part).map_err(|e| layer.err(raw, e.to_string()))?;
                    }
                    rustix::fs::mkdirat(&dir, *part, Mode::from_raw_mode(0o700))
                        .map_err(|e| layer.err(raw, format!("creating parent directory: {e}")))?;
                    self.record(&dir, part, DEFAULT_DIR)
                        .map_err(|e| layer.err(raw, e))?;
                    layer.touched.insert(prefix.clone());
                    dir = open_in_root(&self.root, &prefix)
                        .map_err(|e| layer.err(raw, format!("opening parent directory: {e}")))?;
                }
                Err(e) => return Err(layer.err(raw, format!("resolving parent directory: {e}"))),
            }
        }
        Ok(dir)
    }

    /// `DIR/.wh..wh..opq`: removes what lower layers put in `DIR`.
    fn opaque(
        &mut self,
        layer: &mut LayerState<'_>,
        parts: &[&[u8]],
        raw: &[u8],
    ) -> Result<(), FlattenError> {
        let dir = self.make_parents(layer, parts, raw)?;
        let prefix = join(parts);
        layer.touched.insert(prefix.clone());
        clear_lower(&dir, &prefix, &layer.touched)
            .map_err(|e| layer.err(raw, format!("opaque directory: {e}")))
    }
}

/// Removes the children of `dir` (named `prefix` in the image) that this layer did not touch,
/// descending into directories it did.
fn clear_lower(dir: &OwnedFd, prefix: &[u8], touched: &HashSet<Vec<u8>>) -> std::io::Result<()> {
    for (name, is_dir) in children(dir)? {
        let mut path = prefix.to_vec();
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(&name);
        if !touched.contains(&path) {
            remove_all(dir, &name)?;
        } else if is_dir {
            let sub = rustix::fs::openat(
                dir,
                name.as_slice(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            clear_lower(&sub, &path, touched)?;
        }
    }
    Ok(())
}

/// Names of `dir`'s entries and whether each is a directory (not following symlinks).
fn children(dir: &OwnedFd) -> std::io::Result<Vec<(Vec<u8>, bool)>> {
    let mut out = Vec::new();
    let mut d = rustix::fs::Dir::read_from(dir)?;
    while let Some(entry) = d.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        out.push((
            name.to_vec(),
            entry.file_type() == rustix::fs::FileType::Directory,
        ));
    }
    Ok(out)
}

/// Removes `dir/name`, recursively when it is a directory (never following symlinks).
pub(crate) fn remove_all(dir: &impl AsFd, name: &[u8]) -> std::io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(Errno::ISDIR) | Err(Errno::PERM) => {
            let sub = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            for (child, _) in children(&sub)? {
                remove_all(&sub, &child)?;
            }
            rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens a directory beneath `root` with chroot semantics (`.` for the empty path).
fn open_in_root(root: &OwnedFd, path: &[u8]) -> Result<OwnedFd, Errno> {
    let rel: &[u8] = if path.is_empty() { b"." } else { path };
    let mut attempts = 0;
    loop {
        match rustix::fs::openat2(
            root,
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            Err(Errno::AGAIN) if attempts < crate::fsview::limits::OPENAT2_RETRIES => attempts += 1,
            other => return other,
        }
    }
}

/// The components of an entry name; refuses absolute names and `..`.
fn components(raw: &[u8]) -> Result<Vec<&[u8]>, String> {
    if raw.starts_with(b"/") {
        return Err("an absolute name (refused: entries are relative to the image root)".into());
    }
    if raw.contains(&0) {
        return Err("a name containing NUL".into());
    }
    let mut out = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err("a `..` component (path traversal refused)".into());
            }
            p => out.push(p),
        }
    }
    Ok(out)
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&b'/')
}

fn kind_of(mode: u32) -> Kind {
    crate::fsview::kind_of(mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsview::TargetView;
    use std::sync::Arc;

    /// A layer built entry by entry.
    struct Layer(tar::Builder<Vec<u8>>);

    impl Layer {
        fn new() -> Layer {
            Layer(tar::Builder::new(Vec::new()))
        }
        fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(kind);
            h.set_mode(mode);
            h.set_size(size);
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            h
        }
        fn dir(mut self, path: &str, mode: u32) -> Layer {
            let mut h = Self::header(tar::EntryType::Directory, mode, 0);
            self.0.append_data(&mut h, path, std::io::empty()).unwrap();
            self
        }
        fn file(mut self, path: &str, mode: u32, body: &str) -> Layer {
            let mut h = Self::header(tar::EntryType::Regular, mode, body.len() as u64);
            h.set_path(path).unwrap_or_default();
            self.raw_append(h, path, body.as_bytes());
            self
        }
        fn raw_append(&mut self, mut h: tar::Header, path: &str, body: &[u8]) {
            // `set_path` refuses `..` and absolute names: write the name bytes directly.
            let name = &mut h.as_old_mut().name;
            name.fill(0);
            name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            self.0.append(&h, body).unwrap();
        }
        fn link(mut self, kind: tar::EntryType, path: &str, target: &str) -> Layer {
            let mut h = Self::header(kind, 0o777, 0);
            let link = &mut h.as_old_mut().linkname;
            link.fill(0);
            link[..target.len()].copy_from_slice(target.as_bytes());
            self.raw_append(h, path, b"");
            self
        }
        fn bytes(self) -> Vec<u8> {
            self.0.into_inner().unwrap()
        }
    }

    fn flatten(layers: Vec<Vec<u8>>) -> Result<(tempfile::TempDir, TargetView), FlattenError> {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Flattener::new(dir.path(), Limits::default()).unwrap();
        for (i, l) in layers.into_iter().enumerate() {
            f.apply_layer(&format!("layer{i}"), l.as_slice())?;
        }
        let table = Arc::new(f.finish());
        let view = TargetView::open_flattened(dir.path(), dir.path(), table).unwrap();
        Ok((dir, view))
    }

    fn names(view: &TargetView, dir: &str) -> Vec<String> {
        view.list_dir(dir, 1000)
            .unwrap()
            .0
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    #[test]
    fn whiteouts_and_opaque_directories_apply_in_layer_order() {
        let lower = Layer::new()
            .dir("etc/", 0o755)
            .file("etc/keep", 0o644, "keep")
            .file("etc/gone", 0o644, "gone")
            .dir("etc/sub/", 0o755)
            .file("etc/sub/old", 0o644, "old")
            .dir("opt/", 0o755)
            .file("opt/a", 0o644, "a")
            .bytes();
        let upper = Layer::new()
            .file("etc/.wh.gone", 0o644, "")
            .dir("etc/sub/", 0o750)
            .file("etc/sub/new", 0o644, "new")
            .file("etc/sub/.wh..wh..opq", 0o644, "")
            .file("opt/.wh..wh..opq", 0o644, "")
            .bytes();
        let (_d, view) = flatten(vec![lower, upper]).unwrap();
        assert_eq!(names(&view, "/etc"), ["keep", "sub"]);
        assert_eq!(names(&view, "/etc/sub"), ["new"]);
        assert!(names(&view, "/opt").is_empty());
        assert_eq!(view.stat("/etc/sub", false).unwrap().0.mode, 0o750);
    }

    #[test]
    fn metadata_comes_from_the_headers_and_devices_are_never_files() {
        let mut l = Layer::new().dir("usr/bin/", 0o755).file("usr/bin/su", 0o4755, "elf");
        let mut h = Layer::header(tar::EntryType::Regular, 0o640, 6);
        h.set_uid(0);
        h.set_gid(42);
        l.raw_append(h, "etc/shadow", b"root:!");
        let h = Layer::header(tar::EntryType::Char, 0o666, 0);
        l.raw_append(h, "dev/null", b"");
        let h = Layer::header(tar::EntryType::Fifo, 0o600, 0);
        l.raw_append(h, "run/initctl", b"");
        let (_d, view) = flatten(vec![l.bytes()]).unwrap();
        let (su, _) = view.stat("/usr/bin/su", false).unwrap();
        assert_eq!((su.mode, su.kind), (0o4755, Kind::Regular));
        let (shadow, _) = view.stat("/etc/shadow", false).unwrap();
        assert_eq!((shadow.mode, shadow.uid, shadow.gid), (0o640, 0, 42));
        let (etc, _) = view.stat("/etc", false).unwrap();
        assert_eq!((etc.kind, etc.mode), (Kind::Directory, 0o755));
        assert_eq!(view.stat("/dev/null", false).unwrap().0.kind, Kind::CharDevice);
        assert_eq!(
            view.read_file("/dev/null", 10).unwrap_err(),
            crate::fsview::ViewError::NotRegular(Kind::CharDevice)
        );
        assert_eq!(
            view.list_dir("/run", 10).unwrap().0,
            vec![("initctl".to_string(), Kind::Fifo)]
        );
    }

    #[test]
    fn hard_links_within_and_across_layers() {
        let lower = Layer::new().file("bin/a", 0o755, "same").bytes();
        let upper = Layer::new()
            .link(tar::EntryType::Link, "bin/b", "bin/a")
            .link(tar::EntryType::Link, "bin/c", "./bin/b")
            .bytes();
        let (_d, view) = flatten(vec![lower, upper]).unwrap();
        let (a, _) = view.stat("/bin/a", false).unwrap();
        let (c, _) = view.stat("/bin/c", false).unwrap();
        // The link entries' mode (0777 here) becomes the file's, as Docker applies it.
        assert_eq!((a.ino, a.nlink, c.mode), (c.ino, 3, 0o777));
        assert_eq!(view.read_file("/bin/c", 100).unwrap().0, b"same");
    }

    #[test]
    fn symlinked_parents_resolve_inside_the_image() {
        // A hostile layer: `etc` points at the scanning host's root, then a file is written
        // "through" it. It lands in the image's own /etc... of the image root.
        let lower = Layer::new()
            .link(tar::EntryType::Symlink, "etc", "../../../../..")
            .link(tar::EntryType::Symlink, "lib", "/usr/lib")
            .dir("usr/lib/", 0o755)
            .bytes();
        let upper = Layer::new()
            .file("etc/passwd-planted", 0o644, "x")
            .file("lib/os-release", 0o644, "ID=debian\n")
            .bytes();
        let (d, view) = flatten(vec![lower, upper]).unwrap();
        assert!(d.path().join("passwd-planted").is_file());
        assert_eq!(
            view.read_file("/lib/os-release", 100).unwrap(),
            (b"ID=debian\n".to_vec(), "/usr/lib/os-release".to_string())
        );
        assert_eq!(view.read_link("/etc").unwrap().0, "../../../../..");
    }

    #[test]
    fn traversal_and_absolute_names_are_refused_naming_layer_and_entry() {
        for (layer, want) in [
            (Layer::new().file("../escape", 0o644, "x").bytes(), "`..`"),
            (Layer::new().file("etc/../../escape", 0o644, "x").bytes(), "`..`"),
            (Layer::new().file("/etc/passwd", 0o644, "x").bytes(), "absolute"),
            (
                Layer::new()
                    .link(tar::EntryType::Link, "etc/shadow", "../../etc/shadow")
                    .bytes(),
                "hard link",
            ),
            (
                Layer::new()
                    .link(tar::EntryType::Link, "etc/shadow", "/etc/shadow")
                    .bytes(),
                "absolute",
            ),
        ] {
            let err = flatten(vec![layer]).unwrap_err().to_string();
            assert!(err.starts_with("layer layer0: entry "), "{err}");
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn compressed_layers() {
        let layer = Layer::new().file("etc/hostname", 0o644, "web1\n").bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(layer.as_slice(), 1).unwrap();
        for bytes in [gz, zst] {
            let (_d, view) = flatten(vec![bytes]).unwrap();
            assert_eq!(view.read_file("/etc/hostname", 100).unwrap().0, b"web1\n");
        }
    }

    #[test]
    fn limits_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Flattener::new(
            dir.path(),
            Limits {
                max_entries: 2,
                ..Limits::default()
            },
        )
        .unwrap();
        let layer = Layer::new()
            .file("a", 0o644, "1")
            .file("b", 0o644, "2")
            .file("c", 0o644, "3")
            .bytes();
        let err = f.apply_layer("l", layer.as_slice()).unwrap_err();
        assert!(err.to_string().contains("more than 2 entries"), "{err}");
    }
}
