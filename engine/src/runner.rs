//! The plugin runner: the only code in phipolicy that calls wasmtime.
//!
//! One `Engine` and one `Linker` per process. Built-in plugins are precompiled at build time for
//! this exact engine configuration (`build.rs`) and embedded; a plugin loaded from `--plugins DIR`
//! is compiled once into a cache keyed by its sha256 and wasmtime's compatibility hash. Each run gets
//! a fresh `Store` with a wall-time (epoch) deadline, a memory limit and an output cap, and WASI with
//! nothing granted: no preopens, no environment, no arguments, no network, a frozen clock. The only
//! way a plugin sees the target is the `target` interface, served by [`crate::fsview`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::cache::PrivateCache;
use crate::fsview::{self, Grant, TargetView, ViewError};

/// The version of the WIT package `phipolicy:plugin` this host implements (`plugins/phipolicy-sdk/wit`).
pub const ABI_VERSION: &str = "0.2.0";

/// Limits of one plugin run.
pub mod limits {
    use std::time::Duration;

    /// Epoch tick: the granularity of the wall-time limit.
    pub const EPOCH_TICK: Duration = Duration::from_millis(10);
    /// Wall time one plugin run may take: the slowest real plugin (the PHI walk) needs well under 1 s.
    pub const PLUGIN_WALL_TIME: Duration = Duration::from_secs(10);
    /// Linear memory one plugin instance may grow to: facts for a whole host fit in a few MiB.
    pub const PLUGIN_MEMORY_BYTES: usize = 128 << 20;
    /// Facts document one plugin may return: larger is a runaway plugin, not facts.
    pub const MAX_FACTS_BYTES: usize = 8 << 20;
    /// Instances, tables and memories per store: one component needs a handful.
    pub const MAX_INSTANCES: usize = 64;
    pub const MAX_TABLES: usize = 64;
    pub const MAX_MEMORIES: usize = 16;
    /// Table elements of all tables of one store together: a Rust component's function tables
    /// hold a few thousand; each element costs host memory that `PLUGIN_MEMORY_BYTES` does not see.
    pub const MAX_TABLE_ELEMENTS: usize = 1 << 16;
    /// How long after a plugin's wall-time limit the watchdog stops waiting for it. Epoch
    /// interruption stops wasm code at the limit; a plugin blocked in a host call is abandoned
    /// (its thread is left to the process's exit) and its controls are `error`.
    pub const WATCHDOG_GRACE: Duration = Duration::from_secs(2);
    /// Wall time a plugin's `manifest()` may take (it only returns constants).
    pub const MANIFEST_WALL_TIME: Duration = Duration::from_secs(5);
    /// Longest path a plugin may ask for (Linux's PATH_MAX).
    pub const MAX_PATH_BYTES: usize = 4096;
    /// Longest denied path kept in the report (the count stays exact): a denial names a path,
    /// it does not carry 20 MiB of it into the result document.
    pub const MAX_RECORDED_DENIAL_BYTES: usize = 512;
    /// Referenced reads one run may add ([`super::HostState::cite`]): configurations name tens of
    /// files; thousands of citations is a plugin probing the target.
    pub const MAX_CITATIONS: usize = 1024;
    /// Paths served and citations recorded per plugin in the result document (counts stay exact).
    pub const MAX_RECORDED_PATHS: usize = 10_000;
    /// JSON values (objects, arrays, scalars) in one facts document: bounds what parsing facts
    /// may allocate (8 MiB of `[[],[],...]` built an 873 MB tree). Real facts of a whole host
    /// hold tens of thousands.
    pub const MAX_FACTS_VALUES: usize = 500_000;
    /// Nesting depth of a facts document (facts are a few levels deep).
    pub const MAX_FACTS_DEPTH: usize = 64;
    /// Longest string field of a manifest (id, version, safeguard, a CFR citation, a control id,
    /// a read pattern) and most entries of one list field.
    pub const MAX_MANIFEST_STRING: usize = 256;
    pub const MAX_MANIFEST_ENTRIES: usize = 256;
    /// The bytes `wasi:random` hands out, over and over: plugins get no real randomness, so two
    /// runs on the same target produce the same facts.
    pub const RANDOM_SEED: &[u8] = b"phipolicy: plugins get fixed bytes";
}

mod bindings {
    wasmtime::component::bindgen!({
        path: "../plugins/phipolicy-sdk/wit",
        world: "phipolicy:plugin/plugin",
    });
}

use bindings::phipolicy::plugin::target as wit;

/// Errors loading a plugin (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("plugin {path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("plugin {path}: not a valid phipolicy plugin component: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error(
        "plugin {path}: built against the plugin ABI {found} (it imports `{import}`); this phipolicy speaks phipolicy:plugin@{ABI_VERSION}: rebuild the plugin with a matching phipolicy-sdk"
    )]
    Abi {
        path: PathBuf,
        found: String,
        import: String,
    },
    #[error("plugin {path}: manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("wasmtime engine: {0}")]
    Engine(String),
}

/// What a plugin declared about itself (validated).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PluginManifest {
    pub id: String,
    pub version: String,
    pub safeguard: String,
    pub cfr: Vec<String>,
    pub controls: Vec<String>,
    pub reads: Vec<String>,
}

/// Where a plugin came from.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Origin {
    Builtin,
    File { path: PathBuf, sha256: String },
}

/// A plugin ready to run: its manifest, and its pre-instantiated component. A built-in plugin's
/// manifest was read at build time, and its precompiled artifact is deserialized only when the plugin
/// first runs (in the run's own thread), so a run pays only for the plugins its controls need.
pub struct PluginHandle {
    pub manifest: PluginManifest,
    pub origin: Origin,
    pre: OnceLock<Result<bindings::PluginPre<HostState>, String>>,
    artifact: Option<&'static builtin::Artifact>,
}

impl std::fmt::Debug for PluginHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHandle")
            .field("manifest", &self.manifest)
            .field("origin", &self.origin)
            .finish()
    }
}

/// Why a plugin run produced no facts. Each becomes `error` on the plugin's controls.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RunError {
    #[error("exceeded the wall-time limit of {0:?}")]
    Timeout(Duration),
    #[error(
        "did not finish within the wall-time limit of {0:?} (blocked outside wasm code; the watchdog abandoned it)"
    )]
    Unresponsive(Duration),
    #[error("exceeded the table limit of {0} elements")]
    Tables(usize),
    #[error("exceeded the memory limit of {0} MiB")]
    Memory(usize),
    #[error("exhausted its stack (unbounded recursion)")]
    StackOverflow,
    #[error("trapped: {0}")]
    Trap(String),
    #[error("returned {0} bytes of facts, more than the {1} byte cap")]
    OutputTooLarge(usize, usize),
    #[error("returned malformed facts: {0}")]
    Malformed(String),
    #[error("reported failure: {0}")]
    PluginFailed(String),
    #[error("could not be instantiated: {0}")]
    Instantiate(String),
    #[error("declares a read pattern that cannot be used: {0}")]
    BadGrant(String),
}

/// The outcome of one plugin run, with what it read and what it was refused.
#[derive(Debug)]
pub struct PluginRun {
    pub plugin: String,
    pub facts: Result<serde_json::Value, RunError>,
    pub duration: Duration,
    /// In-target paths served (files read, directories listed), in request order, deduplicated
    /// (the first [`limits::MAX_RECORDED_PATHS`]; `served_count` counts them all).
    pub files_read: Vec<String>,
    pub served_count: u64,
    /// Requests refused because the manifest did not declare them (first few).
    pub denials: Vec<String>,
    pub denied_count: u64,
    /// Referenced reads granted during the run ([`HostState::cite`]).
    pub references: Vec<Reference>,
    /// Files served with more than one link, and paths served from another filesystem.
    pub hard_links: Vec<String>,
    pub mounts: Vec<String>,
}

impl PluginRun {
    /// A run that ended before the plugin was called.
    pub fn failed(plugin: &str, error: RunError, duration: Duration) -> PluginRun {
        PluginRun {
            plugin: plugin.to_string(),
            facts: Err(error),
            duration,
            files_read: Vec::new(),
            served_count: 0,
            denials: Vec::new(),
            denied_count: 0,
            references: Vec::new(),
            hard_links: Vec::new(),
            mounts: Vec::new(),
        }
    }
}

/// A path served outside the manifest's globs because a configuration line names it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reference {
    /// The path or glob granted.
    pub path: String,
    /// `file:line` of the line that names it.
    pub granted_by: String,
}

/// Sums every memory and every table of one store against one budget (wasmtime's
/// `StoreLimits` bounds each memory and table on its own: 16 memories or a growable table went
/// to gigabytes).
#[derive(Debug, Default)]
struct PluginLimiter {
    memory_bytes: usize,
    table_elements: usize,
}

impl wasmtime::ResourceLimiter for PluginLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = (self.memory_bytes - current.min(self.memory_bytes)).saturating_add(desired);
        if total > limits::PLUGIN_MEMORY_BYTES {
            wasmtime::bail!(
                "memory limit: all memories of the plugin together would exceed {} MiB",
                limits::PLUGIN_MEMORY_BYTES >> 20
            );
        }
        self.memory_bytes = total;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total =
            (self.table_elements - current.min(self.table_elements)).saturating_add(desired);
        if total > limits::MAX_TABLE_ELEMENTS {
            wasmtime::bail!(
                "table limit: all tables of the plugin together would exceed {} elements",
                limits::MAX_TABLE_ELEMENTS
            );
        }
        self.table_elements = total;
        Ok(true)
    }

    fn instances(&self) -> usize {
        limits::MAX_INSTANCES
    }
    fn tables(&self) -> usize {
        limits::MAX_TABLES
    }
    fn memories(&self) -> usize {
        limits::MAX_MEMORIES
    }
}

/// Per-store state: WASI (nothing granted) and the target view with this plugin's grant.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: PluginLimiter,
    /// `None` while reading the manifest: no target at all.
    view: Option<TargetView>,
    grant: Grant,
    /// Paths granted by citations ([`Self::cite`]), rebuilt on each citation.
    cited: Grant,
    references: Vec<Reference>,
    /// Files this run has read (requested and resolved paths): the files it may cite.
    read_sources: std::collections::HashSet<String>,
    requests: u64,
    bytes_read: u64,
    files_read: Vec<String>,
    files_seen: std::collections::HashSet<String>,
    denials: Vec<String>,
    denied_count: u64,
    /// Attempts per recorded denial (so a later citation can take them back).
    denial_counts: std::collections::HashMap<String, u64>,
    /// Configuration files served that have more than one link, and served paths on another
    /// filesystem than the target root (reported in the document's target section).
    hard_links: Vec<String>,
    mounts: Vec<String>,
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

/// A wall clock frozen at the evaluation time: plugins never see the real time.
struct FrozenWallClock(Duration);

impl wasmtime_wasi::HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// A monotonic clock that never advances.
struct FrozenMonotonicClock;

impl wasmtime_wasi::HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// The monotonic clock's timers, always due: `subscribe-duration` and `subscribe-instant` return
/// a pollable that is ready at once, so `sleep` and `poll` never block the host thread (the clock
/// is frozen: no time passes for a plugin). Replaces wasmtime-wasi's timers, which wait in real
/// time where epoch interruption cannot stop them.
fn freeze_timers(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime::StoreContextMut;
    use wasmtime::component::Resource;
    use wasmtime_wasi::p2::DynPollable;

    struct Due;
    #[async_trait::async_trait]
    impl wasmtime_wasi::p2::Pollable for Due {
        async fn ready(&mut self) {}
    }
    fn due(mut cx: StoreContextMut<'_, HostState>) -> wasmtime::Result<Resource<DynPollable>> {
        let table = &mut cx.data_mut().table;
        let timer = table.push(Due)?;
        wasmtime_wasi::p2::subscribe(table, timer)
    }
    linker.allow_shadowing(true);
    let mut clock = linker.instance(MONOTONIC_CLOCK)?;
    clock.func_wrap("subscribe-duration", |cx, (_,): (u64,)| Ok((due(cx)?,)))?;
    clock.func_wrap("subscribe-instant", |cx, (_,): (u64,)| Ok((due(cx)?,)))?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The WASI clock interface wasmtime-wasi 48 links (components importing any 0.2.x resolve to it).
const MONOTONIC_CLOCK: &str = "wasi:clocks/monotonic-clock@0.2.12";

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
            return Err(self.deny(format!("{path} (cites {file}, which this plugin has not read)")));
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
        patterns.push(phipolicy_sdk::grant::glob_escape_if_literal(&path));
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
        self.admit_resolved(&resolved, Some(&bytes)).map_err(wit_error)?;
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

/// The built-in plugins, precompiled by `build.rs`.
mod builtin {
    /// One embedded plugin: the precompiled artifact, the component it came from, and the manifest
    /// the component returned when `build.rs` called it.
    pub struct Artifact {
        pub name: &'static str,
        pub cwasm: &'static [u8],
        /// sha256 of `cwasm`, lowercase hex.
        pub sha256: &'static str,
        pub wasm: &'static [u8],
        pub manifest: Manifest,
    }
    /// A manifest as read at build time.
    pub struct Manifest {
        pub id: &'static str,
        pub version: &'static str,
        pub safeguard: &'static str,
        pub cfr: &'static [&'static str],
        pub controls: &'static [&'static str],
        pub reads: &'static [&'static str],
    }
    include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
}

/// Stops the epoch ticker thread when the runner goes away.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // Wake the ticker from its park so the join does not wait out a tick.
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Loads plugins and runs them against a target.
pub struct Runner {
    engine: Engine,
    linker: Linker<HostState>,
    /// Where built-in artifacts are mapped from and third-party plugins are compiled into
    /// (phipolicy's private cache); `None`: from the embedded bytes, compiled every run.
    artifact_cache: Option<Arc<PrivateCache>>,
    _ticker: Ticker,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

impl Runner {
    pub fn new() -> Result<Runner, LoadError> {
        let engine = Engine::new(&crate::wasm_config::config())
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        freeze_timers(&mut linker).map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        bindings::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("phipolicy-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        // park_timeout may wake early (unpark on drop, or spuriously):
                        // tick only when a whole tick has passed, so limits never shrink.
                        let tick_end = Instant::now() + limits::EPOCH_TICK;
                        while !stop.load(Ordering::Relaxed) {
                            let now = Instant::now();
                            if now >= tick_end {
                                break;
                            }
                            std::thread::park_timeout(tick_end - now);
                        }
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| LoadError::Engine(format!("starting the epoch thread: {e}")))?
        };
        Ok(Runner {
            engine,
            linker,
            artifact_cache: None,
            _ticker: Ticker {
                stop,
                thread: Some(thread),
            },
        })
    }

    /// Maps built-in artifacts from phipolicy's private cache ([`PrivateCache`]), writing them
    /// there on first use, and compiles third-party plugins into it.
    pub fn with_artifact_cache(mut self, cache: Option<PrivateCache>) -> Runner {
        self.artifact_cache = cache.map(Arc::new);
        self
    }

    /// The built-in plugins, with the manifests read at build time. Nothing is deserialized
    /// here: each artifact loads when its plugin first runs ([`Self::pre`]).
    pub fn builtin_plugins(&self) -> Result<Vec<PluginHandle>, LoadError> {
        builtin::PLUGINS
            .iter()
            .map(|artifact| {
                let m = &artifact.manifest;
                let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
                let manifest = PluginManifest {
                    id: m.id.into(),
                    version: m.version.into(),
                    safeguard: m.safeguard.into(),
                    cfr: owned(m.cfr),
                    controls: owned(m.controls),
                    reads: owned(m.reads),
                };
                validate_manifest(&manifest).map_err(|reason| LoadError::Manifest {
                    path: builtin_path(artifact),
                    reason,
                })?;
                Ok(PluginHandle {
                    manifest,
                    origin: Origin::Builtin,
                    pre: OnceLock::new(),
                    artifact: Some(artifact),
                })
            })
            .collect()
    }

    /// Loads a built-in plugin's embedded artifact (recompiled from the embedded component only if
    /// the artifact does not match this machine's CPU) and pre-instantiates it.
    fn load_builtin(
        &self,
        artifact: &builtin::Artifact,
    ) -> Result<bindings::PluginPre<HostState>, LoadError> {
        let path = builtin_path(artifact);
        // SAFETY: `cwasm` was produced by this crate's build script with
        // `wasm_config::config()`, the configuration of `self.engine`, and is embedded in
        // the binary (never read from a user-supplied file). wasmtime still checks the
        // artifact's header against the engine and rejects a mismatch.
        if let Some(component) = self.builtin_from_file(artifact) {
            return self.instantiate_pre(&component, &path);
        }
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize(&self.engine, artifact.cwasm) };
        let component = match loaded {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(plugin = artifact.name, error = %format!("{e:#}"), "precompiled built-in plugin does not match this engine; compiling it");
                Component::new(&self.engine, artifact.wasm).map_err(|e| LoadError::Invalid {
                    path: path.clone(),
                    reason: format!("{e:#}"),
                })?
            }
        };
        self.instantiate_pre(&component, &path)
    }

    /// Maps a built-in artifact from phipolicy's private cache directory, writing it there first
    /// if it is not there yet. A file mapping is paged in from the page cache on demand; the
    /// in-memory path copies the whole artifact into fresh anonymous pages on every run, which
    /// was a third of a full run's CPU (page faults). `None`: no cache, or it failed (the caller
    /// falls back to the embedded bytes).
    fn builtin_from_file(&self, artifact: &builtin::Artifact) -> Option<Component> {
        let cache = self.artifact_cache.as_deref()?;
        // The name carries the artifact's sha256: a file of another build is never this one.
        let name = format!("builtin-{}-{}.cwasm", artifact.name, artifact.sha256);
        let len = Some(artifact.cwasm.len() as u64);
        let verified = match cache.open_verified(&name, artifact.sha256, len) {
            Some(v) => v,
            None => {
                if let Err(e) = cache.write(&name, artifact.cwasm) {
                    tracing::debug!(cache = %cache.path().display(), error = %e, "cannot cache the built-in artifact");
                    return None;
                }
                // Another build's copies of this plugin are dead weight (13 MB a build).
                let prefix = format!("builtin-{}-", artifact.name);
                cache.remove_where(|n| {
                    n != name
                        && n.strip_prefix(&prefix)
                            .and_then(|rest| rest.strip_suffix(".cwasm"))
                            .is_some_and(|sha| {
                                sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())
                            })
                });
                cache.open_verified(&name, artifact.sha256, len)?
            }
        };
        // SAFETY: `verified.path` names the descriptor `PrivateCache::open_verified` opened in
        // the checked private cache directory (no symlink followed, a private regular file of
        // ours) and whose contents it hashed to the embedded artifact's sha256: these are the
        // bytes build.rs produced for this engine configuration. wasmtime also checks the header
        // against this engine and rejects a mismatch.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(&self.engine, &verified.path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %name, error = %format!("{e:#}"), "ignoring unusable cached built-in artifact");
                None
            }
        }
    }

    /// The plugin's pre-instantiated component, loading a built-in artifact on first use.
    fn pre<'h>(
        &self,
        plugin: &'h PluginHandle,
    ) -> Result<&'h bindings::PluginPre<HostState>, RunError> {
        plugin
            .pre
            .get_or_init(|| match plugin.artifact {
                Some(artifact) => self.load_builtin(artifact).map_err(|e| e.to_string()),
                None => Err("plugin has no component".into()),
            })
            .as_ref()
            .map_err(|e| RunError::Instantiate(e.clone()))
    }

    /// Loads a built-in plugin's artifact and checks that the manifest its component returns is
    /// the one `build.rs` embedded (`engine/tests/registry.rs` runs it for every built-in).
    pub fn verify_builtin(&self, plugin: &PluginHandle) -> Result<(), LoadError> {
        let Some(artifact) = plugin.artifact else {
            return Ok(());
        };
        let path = builtin_path(artifact);
        let pre = self.load_builtin(artifact)?;
        let live = self.read_manifest(&pre, &path)?;
        let embedded = &plugin.manifest;
        let same = live.id == embedded.id
            && live.version == embedded.version
            && live.safeguard == embedded.safeguard
            && live.cfr == embedded.cfr
            && live.controls == embedded.controls
            && live.reads == embedded.reads;
        if !same {
            return Err(LoadError::Manifest {
                path,
                reason: format!(
                    "embedded manifest {embedded:?} differs from the component's {live:?}"
                ),
            });
        }
        Ok(())
    }

    /// Loads a third-party plugin, compiling it at most once per (sha256, engine) into the
    /// private cache.
    pub fn load_file(&self, path: &Path, bytes: &[u8]) -> Result<PluginHandle, LoadError> {
        let sha256 = crate::util::sha256_hex(bytes);
        let origin = || Origin::File {
            path: path.into(),
            sha256: sha256.clone(),
        };
        let compat = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.engine.precompile_compatibility_hash().hash(&mut h);
            format!("{:016x}", h.finish())
        };
        let name = format!("{sha256}-{compat}.cwasm");
        let recorded = format!("{name}.sha256");
        let cache = self.artifact_cache.as_deref();
        let verified = cache.and_then(|c| {
            let expected = c.read_small(&recorded, 64)?;
            c.open_verified(&name, expected.trim(), None)
        });
        if let Some(verified) = verified {
            // SAFETY: `verified.path` names a private regular file of the checked cache
            // directory whose sha256 is the one recorded when this code compiled it with
            // `Component::serialize` for this exact engine (the compatibility hash is part of
            // the name); wasmtime checks the header against this engine.
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize_file(&self.engine, &verified.path) };
            match loaded {
                Ok(component) => {
                    tracing::debug!(plugin = %path.display(), "loaded precompiled plugin from cache");
                    return self.prepare(component, path, origin());
                }
                Err(e) => {
                    tracing::warn!(file = %name, error = %format!("{e:#}"), "ignoring unusable cache entry")
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: format!("{e:#}"),
        })?;
        if let Some(cache) = cache {
            match component.serialize() {
                Ok(artifact) => {
                    let stored = cache.write(&name, &artifact).and_then(|()| {
                        cache.write(&recorded, crate::util::sha256_hex(&artifact).as_bytes())
                    });
                    if let Err(e) = stored {
                        tracing::warn!(cache = %cache.path().display(), error = %e, "could not cache the compiled plugin");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "could not serialize the compiled plugin")
                }
            }
        }
        self.prepare(component, path, origin())
    }

    fn instantiate_pre(
        &self,
        component: &Component,
        path: &Path,
    ) -> Result<bindings::PluginPre<HostState>, LoadError> {
        let instance_pre = self.linker.instantiate_pre(component).map_err(|e| {
            abi_mismatch(&self.engine, component, path).unwrap_or_else(|| LoadError::Invalid {
                path: path.into(),
                reason: format!("{e:#}"),
            })
        })?;
        bindings::PluginPre::new(instance_pre).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: format!("{e:#}"),
        })
    }

    /// Pre-instantiates a third-party plugin and reads its manifest.
    fn prepare(
        &self,
        component: Component,
        path: &Path,
        origin: Origin,
    ) -> Result<PluginHandle, LoadError> {
        let pre = self.instantiate_pre(&component, path)?;
        let manifest = self.read_manifest(&pre, path)?;
        Ok(PluginHandle {
            manifest,
            origin,
            pre: OnceLock::from(Ok(pre)),
            artifact: None,
        })
    }

    fn new_store(&self, view: Option<TargetView>, grant: Grant, now: Duration) -> Store<HostState> {
        new_store(&self.engine, view, grant, now, limits::PLUGIN_WALL_TIME)
    }

    fn read_manifest(
        &self,
        pre: &bindings::PluginPre<HostState>,
        path: &Path,
    ) -> Result<PluginManifest, LoadError> {
        let bad = |reason: String| LoadError::Manifest {
            path: path.into(),
            reason,
        };
        // The manifest call gets no target access: an empty grant denies every request. It runs
        // under the watchdog: a plugin that blocks in `manifest()` is refused, not waited for.
        let grant = Grant::new(&[]).map_err(|e| bad(e.to_string()))?;
        let engine = self.engine.clone();
        let pre = pre.clone();
        let called = with_watchdog(
            "phipolicy-manifest",
            limits::MANIFEST_WALL_TIME + limits::WATCHDOG_GRACE,
            move || -> Result<_, String> {
                let mut store = new_store(&engine, None, grant, Duration::ZERO, limits::MANIFEST_WALL_TIME);
                let plugin = pre.instantiate(&mut store).map_err(|e| format!("{e:#}"))?;
                plugin
                    .call_manifest(&mut store)
                    .map_err(|e| classify(e, limits::MANIFEST_WALL_TIME).to_string())
            },
        );
        let m = match called {
            Some(result) => result.map_err(bad)?,
            None => {
                return Err(bad(
                    RunError::Unresponsive(limits::MANIFEST_WALL_TIME).to_string()
                ));
            }
        };
        let manifest = PluginManifest {
            id: m.id,
            version: m.version,
            safeguard: m.safeguard,
            cfr: m.cfr,
            controls: m.controls,
            reads: m.reads,
        };
        validate_manifest(&manifest).map_err(bad)?;
        Ok(manifest)
    }

    /// Runs one plugin against the target with the given parameters and read grant, under the
    /// watchdog: a plugin that does not return within its wall-time limit (plus
    /// [`limits::WATCHDOG_GRACE`]), whatever it is doing, is abandoned and reported
    /// [`RunError::Unresponsive`].
    pub fn run(
        self: &Arc<Self>,
        plugin: &Arc<PluginHandle>,
        view: &TargetView,
        params_json: &str,
        reads: &[String],
        now: Duration,
    ) -> PluginRun {
        let started = Instant::now();
        let id = plugin.manifest.id.clone();
        let (runner, plugin_c, view, params, reads) = (
            self.clone(),
            plugin.clone(),
            view.clone(),
            params_json.to_string(),
            reads.to_vec(),
        );
        let run = with_watchdog(
            "phipolicy-plugin",
            limits::PLUGIN_WALL_TIME + limits::WATCHDOG_GRACE,
            move || runner.run_here(&plugin_c, &view, &params, &reads, now),
        );
        run.unwrap_or_else(|| {
            tracing::warn!(plugin = %id, "plugin abandoned by the watchdog");
            PluginRun::failed(
                &id,
                RunError::Unresponsive(limits::PLUGIN_WALL_TIME),
                started.elapsed(),
            )
        })
    }

    /// [`Self::run`] in the calling thread, without the watchdog.
    fn run_here(
        &self,
        plugin: &PluginHandle,
        view: &TargetView,
        params_json: &str,
        reads: &[String],
        now: Duration,
    ) -> PluginRun {
        let started = Instant::now();
        let id = plugin.manifest.id.clone();
        let grant = match Grant::new(reads) {
            Ok(g) => g,
            Err(e) => {
                return PluginRun::failed(&id, RunError::BadGrant(e.to_string()), started.elapsed());
            }
        };
        let pre = match self.pre(plugin) {
            Ok(pre) => pre,
            Err(e) => return PluginRun::failed(&id, e, started.elapsed()),
        };
        let mut store = self.new_store(Some(view.clone()), grant, now);
        let facts = (|| {
            let instance = pre
                .instantiate(&mut store)
                .map_err(|e| RunError::Instantiate(format!("{e:#}")))?;
            let out = instance
                .call_collect(&mut store, params_json)
                .map_err(|e| classify(e, limits::PLUGIN_WALL_TIME))?;
            let json = out.map_err(|msg| RunError::PluginFailed(truncate(&msg, 500)))?;
            parse_facts(&json)
        })();
        let state = store.into_data();
        PluginRun {
            plugin: id,
            facts,
            duration: started.elapsed(),
            served_count: state.files_seen.len() as u64,
            files_read: state.files_read,
            denials: state.denials,
            denied_count: state.denied_count,
            references: state.references,
            hard_links: state.hard_links,
            mounts: state.mounts,
        }
    }
}

/// A fresh store: WASI with nothing granted (no preopens, environment, arguments or network; a
/// frozen clock whose timers are always due; fixed bytes for randomness), the plugin's resource
/// limits and an epoch deadline of `wall_time`.
fn new_store(
    engine: &Engine,
    view: Option<TargetView>,
    grant: Grant,
    now: Duration,
    wall_time: Duration,
) -> Store<HostState> {
    let wasi = WasiCtx::builder()
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenWallClock(now))
        .monotonic_clock(FrozenMonotonicClock)
        .secure_random(wasmtime_wasi::Deterministic::new(limits::RANDOM_SEED.to_vec()))
        .insecure_random(wasmtime_wasi::Deterministic::new(limits::RANDOM_SEED.to_vec()))
        .insecure_random_seed(0)
        .build();
    let state = HostState {
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
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    let ticks = (wall_time.as_millis() / limits::EPOCH_TICK.as_millis()) as u64;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();
    store
}

/// Runs `work` on a thread of its own and waits at most `deadline` for it. `None`: it did not
/// finish in time; the thread is left behind (it holds nothing but its own store) and ends with
/// the process.
fn with_watchdog<R: Send + 'static>(
    name: &str,
    deadline: Duration,
    work: impl FnOnce() -> R + Send + 'static,
) -> Option<R> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = tx.send(work());
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start a plugin thread");
        return None;
    }
    rx.recv_timeout(deadline).ok()
}

/// Parses a plugin's facts, bounding the cost first: size, then the number of values and the
/// nesting depth counted on the raw text (so a hostile document never builds a huge tree).
fn parse_facts(json: &str) -> Result<serde_json::Value, RunError> {
    if json.len() > limits::MAX_FACTS_BYTES {
        return Err(RunError::OutputTooLarge(json.len(), limits::MAX_FACTS_BYTES));
    }
    let (values, depth) = json_shape(json.as_bytes());
    if values > limits::MAX_FACTS_VALUES {
        return Err(RunError::Malformed(format!(
            "more than {} JSON values",
            limits::MAX_FACTS_VALUES
        )));
    }
    if depth > limits::MAX_FACTS_DEPTH {
        return Err(RunError::Malformed(format!(
            "nested deeper than {} levels",
            limits::MAX_FACTS_DEPTH
        )));
    }
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| RunError::Malformed(format!("not JSON: {e}")))?;
    if !value.is_object() {
        return Err(RunError::Malformed("facts are not a JSON object".into()));
    }
    Ok(value)
}

/// An upper bound of the number of values in a JSON text (one per `[`, `{`, `,` and `:` outside
/// strings, plus one) and its maximum nesting depth. Invalid JSON is bounded the same way;
/// serde reports what is wrong with it.
fn json_shape(bytes: &[u8]) -> (usize, usize) {
    let (mut values, mut depth, mut max_depth) = (1usize, 0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                values += 1;
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' | b':' => values += 1,
            _ => {}
        }
    }
    (values, max_depth)
}

/// A component that imports `phipolicy:plugin/...` at another version than [`ABI_VERSION`] was
/// built against another ABI: say that, rather than wasmtime's "no matching implementation".
fn abi_mismatch(engine: &Engine, component: &Component, path: &Path) -> Option<LoadError> {
    component
        .component_type()
        .imports(engine)
        .find_map(|(name, _)| {
            let version = name.strip_prefix("phipolicy:plugin/")?.split_once('@')?.1;
            (version != ABI_VERSION).then(|| LoadError::Abi {
                path: path.into(),
                found: format!("phipolicy:plugin@{version}"),
                import: name.to_string(),
            })
        })
}

/// Whether `id` is the id of a built-in plugin.
pub fn is_builtin_id(id: &str) -> bool {
    builtin::PLUGINS.iter().any(|a| a.manifest.id == id)
}

fn builtin_path(artifact: &builtin::Artifact) -> PathBuf {
    PathBuf::from(format!("<builtin>/{}.wasm", artifact.name))
}

/// Turns a wasmtime error into the reason a user reads.
fn classify(e: wasmtime::Error, wall_time: Duration) -> RunError {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => RunError::Timeout(wall_time),
            wasmtime::Trap::StackOverflow => RunError::StackOverflow,
            other => RunError::Trap(other.to_string()),
        };
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory") || text.contains("memory limit") {
        return RunError::Memory(limits::PLUGIN_MEMORY_BYTES >> 20);
    }
    if text.contains("table limit") {
        return RunError::Tables(limits::MAX_TABLE_ELEMENTS);
    }
    RunError::Trap(truncate(&text, 500))
}

fn truncate(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    if first.len() <= max {
        first.to_string()
    } else {
        let mut end = max;
        while !first.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &first[..end])
    }
}

/// Checks a manifest's shape: ids, controls and read patterns must be usable.
fn validate_manifest(m: &PluginManifest) -> Result<(), String> {
    let id_ok = !m.id.is_empty()
        && m.id.len() <= 64
        && m.id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok {
        return Err(format!(
            "id {:?} must be 1-64 characters of a-z, 0-9 and '-'",
            m.id
        ));
    }
    if m.controls.is_empty() {
        return Err("declares no controls".into());
    }
    let lists = [("cfr", &m.cfr), ("controls", &m.controls), ("reads", &m.reads)];
    for (field, list) in lists {
        if list.len() > limits::MAX_MANIFEST_ENTRIES {
            return Err(format!(
                "{field} has {} entries, more than {}",
                list.len(),
                limits::MAX_MANIFEST_ENTRIES
            ));
        }
    }
    let strings = [("version", &m.version), ("safeguard", &m.safeguard)]
        .into_iter()
        .chain(lists.iter().flat_map(|(f, l)| l.iter().map(move |s| (*f, s))));
    for (field, value) in strings {
        if value.len() > limits::MAX_MANIFEST_STRING {
            return Err(format!(
                "{field} {:?} is longer than {} bytes",
                truncate(value, 64),
                limits::MAX_MANIFEST_STRING
            ));
        }
    }
    for r in &m.reads {
        if !r.starts_with('/') && !r.starts_with('{') {
            return Err(format!("read pattern {r:?} is not an absolute path"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watchdog stops waiting at its deadline whatever the work is doing (here: blocked in
    /// a sleep far longer than the deadline, as a plugin blocked in a host call would be).
    #[test]
    fn the_watchdog_stops_waiting() {
        let started = Instant::now();
        let got = with_watchdog("test", Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(30));
            1
        });
        assert_eq!(got, None);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(with_watchdog("test", Duration::from_secs(5), || 7), Some(7));
    }

    #[test]
    fn facts_are_counted_before_they_are_parsed() {
        assert_eq!(json_shape(br#"{"a":[1,2,{"b":"[,,]"}]}"#), (8, 3));
        let wide = format!("{{\"w\":[{}[]]}}", "[],".repeat(limits::MAX_FACTS_VALUES));
        assert!(matches!(parse_facts(&wide), Err(RunError::Malformed(m)) if m.contains("JSON values")));
        let deep = format!("{{\"d\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(parse_facts(&deep), Err(RunError::Malformed(m)) if m.contains("deeper")));
        assert!(parse_facts(r#"{"ok": [1, "x,y", {"z": null}]}"#).is_ok());
    }

    #[test]
    fn cited_literal_paths_are_granted_literally() {
        assert_eq!(glob_escape_if_literal("/srv/a[1].txt"), "/srv/a\\[1\\].txt");
        assert_eq!(glob_escape_if_literal("/opt/x/*.conf"), "/opt/x/*.conf");
        assert_eq!(glob_escape_if_literal("/opt/{a,b}/*.conf"), "/opt/\\{a,b\\}/*.conf");
    }
}
