//! The host side of the `target` interface: per-store state, grant admission (declared globs,
//! citations, the symlink and secret rules) and the conversions to the WIT types. Every request a
//! plugin makes passes [`HostState::admit`] (or [`HostState::admit_listing`]) before
//! [`crate::fsview`] serves it, and [`HostState::admit_resolved`] after.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings;
use super::bindings::phipolicy::plugin::target as wit;
use super::store::PluginLimiter;
use super::{Reference, limits, truncate};
use crate::fsview::{self, Grant, TargetView, ViewError};

/// Per-store state: WASI (nothing granted) and the target view with this plugin's grant.
pub(super) struct HostState {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limits: PluginLimiter,
    /// `None` while reading the manifest: no target at all.
    pub(super) view: Option<TargetView>,
    pub(super) grant: Grant,
    /// Paths granted by citations ([`Self::cite`]), rebuilt on each citation.
    pub(super) cited: Grant,
    pub(super) references: Vec<Reference>,
    /// Files this run has read (requested and resolved paths): the files it may cite.
    pub(super) read_sources: std::collections::HashSet<String>,
    pub(super) requests: u64,
    pub(super) bytes_read: u64,
    pub(super) files_read: Vec<String>,
    pub(super) files_seen: std::collections::HashSet<String>,
    pub(super) denials: Vec<String>,
    pub(super) denied_count: u64,
    /// Attempts per recorded denial (so a later citation can take them back).
    pub(super) denial_counts: std::collections::HashMap<String, u64>,
    /// Configuration files served that have more than one link, and served paths on another
    /// filesystem than the target root (reported in the document's target section).
    pub(super) hard_links: Vec<String>,
    pub(super) mounts: Vec<String>,
}

/// Adds `path` to a short list for the report (at most [`limits::MAX_RECORDED_DENIALS`]).
fn note(list: &mut Vec<String>, path: &str) {
    if list.len() < fsview::limits::MAX_RECORDED_DENIALS && !list.iter().any(|p| p == path) {
        list.push(path.to_string());
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    /// The state of a fresh store: `view` is `None` while reading the manifest (no target).
    pub(super) fn new(wasi: WasiCtx, view: Option<TargetView>, grant: Grant) -> HostState {
        HostState {
            wasi,
            table: ResourceTable::new(),
            limits: PluginLimiter::default(),
            view,
            grant,
            cited: Grant::new(&[]).expect("the empty grant compiles"),
            references: Vec::new(),
            read_sources: std::collections::HashSet::new(),
            requests: 0,
            bytes_read: 0,
            files_read: Vec::new(),
            files_seen: std::collections::HashSet::new(),
            denials: Vec::new(),
            denied_count: 0,
            denial_counts: std::collections::HashMap::new(),
            hard_links: Vec::new(),
            mounts: Vec::new(),
        }
    }
}

fn wit_kind(k: fsview::Kind) -> wit::FileKind {
    match k {
        fsview::Kind::Regular => wit::FileKind::Regular,
        fsview::Kind::Directory => wit::FileKind::Directory,
        fsview::Kind::Symlink => wit::FileKind::Symlink,
        fsview::Kind::Fifo => wit::FileKind::Fifo,
        fsview::Kind::Socket => wit::FileKind::Socket,
        fsview::Kind::BlockDevice => wit::FileKind::BlockDevice,
        fsview::Kind::CharDevice => wit::FileKind::CharDevice,
        fsview::Kind::Unknown => wit::FileKind::Unknown,
    }
}

fn wit_error(e: ViewError) -> wit::ReadError {
    match e {
        ViewError::NotFound => wit::ReadError::NotFound,
        ViewError::Undeclared(p) => wit::ReadError::Undeclared(p),
        ViewError::PermissionDenied => wit::ReadError::PermissionDenied,
        ViewError::NotRegular(k) => wit::ReadError::NotRegular(wit_kind(k)),
        ViewError::TooLarge(n) => wit::ReadError::TooLarge(n),
        ViewError::InvalidPath(why) => wit::ReadError::InvalidPath(why),
        ViewError::BudgetExhausted => wit::ReadError::BudgetExhausted,
        ViewError::Io(msg) => wit::ReadError::Io(msg),
    }
}

fn wit_stat(s: fsview::Stat) -> wit::FileStat {
    wit::FileStat {
        kind: wit_kind(s.kind),
        mode: s.mode,
        uid: s.uid,
        gid: s.gid,
        size: s.size,
        mtime: s.mtime,
    }
}

impl HostState {
    /// Counts one request against the run's budget.
    fn count_request(&mut self) -> Result<(), ViewError> {
        self.requests += 1;
        if self.requests > fsview::limits::MAX_REQUESTS {
            return Err(ViewError::BudgetExhausted);
        }
        Ok(())
    }

    /// Whether the normalised in-target `path` is granted: declared, or cited.
    fn granted(&self, path: &str) -> bool {
        self.grant.allows(path) || self.cited.allows(path)
    }

    /// Counts the request and checks the requested path against the grant (declared globs and
    /// citations). Returns the normalised path.
    fn admit(&mut self, path: &str) -> Result<String, ViewError> {
        self.count_request()?;
        if path.len() > limits::MAX_PATH_BYTES {
            return Err(ViewError::InvalidPath("longer than PATH_MAX".into()));
        }
        let Some(norm) = fsview::normalize(path) else {
            return Err(ViewError::InvalidPath(format!("{path:?} is not absolute")));
        };
        if !self.granted(&norm) {
            return Err(self.deny(norm));
        }
        Ok(norm)
    }

    /// Like [`Self::admit`] for listings, which may also list the parent of a granted glob.
    fn admit_listing(&mut self, path: &str) -> Result<String, ViewError> {
        let norm = fsview::normalize(path).unwrap_or_default();
        if !norm.is_empty()
            && path.len() <= limits::MAX_PATH_BYTES
            && !self.granted(&norm)
            && (self.grant.allows_listing(&norm) || self.cited.allows_listing(&norm))
        {
            self.count_request()?;
            return Ok(norm);
        }
        self.admit(path)
    }

    /// Where an admitted request actually led (after symlinks). The symlink rule: a granted
    /// requested path is served wherever its links lead inside the root (distributions link
    /// configuration into /usr/share and /etc/alternatives), except that the *contents* of
    /// secret material ([`crate::secrets`]) are served only to a plugin that declared that exact
    /// path (`contents`: the bytes about to be served, for reads of file contents).
    fn admit_resolved(&mut self, resolved: &str, contents: Option<&[u8]>) -> Result<(), ViewError> {
        if let Some(bytes) = contents {
            let secret = if crate::secrets::is_secret(resolved, bytes) {
                Some(resolved.to_string())
            } else {
                self.linked_secret(resolved)
                    .filter(|s| crate::secrets::is_secret(s, bytes))
            };
            if let Some(secret) = secret
                && !self.grant.declares_exactly(&secret)
            {
                let how = if secret == resolved {
                    String::new()
                } else {
                    format!(", a hard link of {secret}")
                };
                return Err(self.deny(format!(
                    "{resolved} (secret material{how}: served only to a plugin that declares this exact path)"
                )));
            }
        }
        // A set beside the list: a walk of 100,000 entries made the linear search quadratic
        // (the PHI walk of a million-entry tree ran into the wall-time limit).
        if self.files_read.last().map(String::as_str) != Some(resolved)
            && self.files_seen.insert(resolved.to_string())
            && self.files_seen.len() <= limits::MAX_RECORDED_PATHS
        {
            self.files_read.push(resolved.to_string());
        }
        Ok(())
    }

    /// For a file about to be served: the secret it is a hard link of, if any; also notes hard
    /// links and mount crossings for the report.
    fn linked_secret(&mut self, resolved: &str) -> Option<String> {
        let view = self.view.clone()?;
        let (st, _) = view.stat(resolved, false).ok()?;
        if view.crosses_mount(&st) && !view.is_host_root() {
            note(&mut self.mounts, resolved);
        }
        if st.kind == fsview::Kind::Regular && st.nlink > 1 {
            note(&mut self.hard_links, resolved);
        }
        view.secret_linked_as(&st).map(String::from)
    }

    fn view(&self) -> Result<&TargetView, wit::ReadError> {
        self.view.as_ref().ok_or(wit::ReadError::Undeclared(
            "no target while reading the manifest".into(),
        ))
    }

    fn deny(&mut self, path: String) -> ViewError {
        self.denied_count += 1;
        tracing::debug!(path = %truncate(&path, 200), "denied: not declared in the plugin manifest");
        let recorded = truncate(&path, limits::MAX_RECORDED_DENIAL_BYTES);
        if self.denials.len() < fsview::limits::MAX_RECORDED_DENIALS
            && !self.denials.contains(&recorded)
        {
            self.denials.push(recorded.clone());
        }
        if let Some(n) = self.denial_counts.get_mut(&recorded) {
            *n += 1;
        } else if self.denials.contains(&recorded) {
            self.denial_counts.insert(recorded.clone(), 1);
        }
        ViewError::Undeclared(recorded)
    }

    /// Referenced reads: grants `path` (a path or a glob) because line `line` of `file`, which
    /// this run has read, names it. The engine re-reads that line from the target and checks it;
    /// a plugin cannot cite a file it has not read, nor a line that does not name the path.
    fn cite(&mut self, path: &str, file: &str, line: u32) -> Result<(), ViewError> {
        self.count_request()?;
        if path.len() > limits::MAX_PATH_BYTES || file.len() > limits::MAX_PATH_BYTES {
            return Err(ViewError::InvalidPath("longer than PATH_MAX".into()));
        }
        let (Some(path), Some(file)) = (fsview::normalize(path), fsview::normalize(file)) else {
            return Err(ViewError::InvalidPath(
                "a citation names absolute paths".into(),
            ));
        };
        if self.granted(&path) {
            return Ok(());
        }
        if self.references.len() >= limits::MAX_CITATIONS {
            return Err(ViewError::InvalidPath(format!(
                "more than {} referenced reads in one run",
                limits::MAX_CITATIONS
            )));
        }
        if !self.read_sources.contains(&file) {
            return Err(self.deny(format!(
                "{path} (cites {file}, which this plugin has not read)"
            )));
        }
        let remaining = fsview::limits::MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let cap = fsview::limits::MAX_FILE_BYTES.min(remaining);
        let view = self.view.as_ref().ok_or(ViewError::Undeclared(
            "no target while reading the manifest".into(),
        ))?;
        let (bytes, _) = view.read_file(&file, cap)?;
        self.bytes_read += bytes.len() as u64;
        let text = String::from_utf8_lossy(&bytes);
        let named = line
            .checked_sub(1)
            .and_then(|i| text.lines().nth(i as usize))
            .is_some_and(|l| phipolicy_sdk::referenced::line_names_path(l, &file, &path));
        if !named {
            return Err(self.deny(format!("{path} (not named by {file}:{line})")));
        }
        let mut patterns = self.cited.patterns().to_vec();
        patterns.push(crate::registry::cited_pattern(&path));
        self.cited = Grant::new(&patterns)
            .map_err(|e| ViewError::InvalidPath(format!("cited pattern {path:?}: {e}")))?;
        self.references.push(Reference {
            path,
            granted_by: format!("{file}:{line}"),
        });
        // A request refused before the citation that grants it was not, in the end, refused.
        let cited = &self.cited;
        let (granted, kept): (Vec<String>, Vec<String>) =
            self.denials.drain(..).partition(|d| cited.allows(d));
        self.denials = kept;
        for d in granted {
            let n = self.denial_counts.remove(&d).unwrap_or(0);
            self.denied_count = self.denied_count.saturating_sub(n);
        }
        Ok(())
    }
}

impl wit::Host for HostState {
    fn read_file(&mut self, path: String) -> Result<Vec<u8>, wit::ReadError> {
        let norm = self.admit(&path).map_err(wit_error)?;
        let remaining = fsview::limits::MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let cap = fsview::limits::MAX_FILE_BYTES.min(remaining);
        let (bytes, resolved) = self.view()?.read_file(&path, cap).map_err(wit_error)?;
        self.admit_resolved(&resolved, Some(&bytes))
            .map_err(wit_error)?;
        self.bytes_read += bytes.len() as u64;
        self.read_sources.insert(norm);
        self.read_sources.insert(resolved);
        Ok(bytes)
    }

    fn list_dir(&mut self, path: String) -> Result<Vec<wit::DirEntry>, wit::ReadError> {
        self.admit_listing(&path).map_err(wit_error)?;
        let (entries, resolved) = self
            .view()?
            .list_dir(&path, fsview::limits::MAX_DIR_ENTRIES)
            .map_err(wit_error)?;
        self.admit_resolved(&resolved, None).map_err(wit_error)?;
        // Listings count against the request budget by size, like one stat per entry.
        self.requests += entries.len() as u64 / 8;
        Ok(entries
            .into_iter()
            .map(|(name, kind)| wit::DirEntry {
                name,
                kind: wit_kind(kind),
            })
            .collect())
    }

    fn stat(&mut self, path: String) -> Result<wit::FileStat, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let (st, resolved) = self.view()?.stat(&path, true).map_err(wit_error)?;
        self.admit_resolved(&resolved, None).map_err(wit_error)?;
        Ok(wit_stat(st))
    }

    fn lstat(&mut self, path: String) -> Result<wit::FileStat, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let (st, resolved) = self.view()?.stat(&path, false).map_err(wit_error)?;
        self.admit_resolved(&resolved, None).map_err(wit_error)?;
        Ok(wit_stat(st))
    }

    fn read_link(&mut self, path: String) -> Result<String, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let (link, resolved) = self.view()?.read_link(&path).map_err(wit_error)?;
        self.admit_resolved(&resolved, None).map_err(wit_error)?;
        Ok(link)
    }

    fn cite(&mut self, path: String, file: String, line: u32) -> Result<(), wit::ReadError> {
        HostState::cite(self, &path, &file, line).map_err(wit_error)
    }
}

impl bindings::phipolicy::plugin::types::Host for HostState {}
