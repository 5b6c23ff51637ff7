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
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::fsview::{self, Grant, TargetView, ViewError};

/// The version of the WIT package `phipolicy:plugin` this host implements (`plugins/wit`).
pub const ABI_VERSION: &str = "0.1.0";

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
}

mod bindings {
    wasmtime::component::bindgen!({
        path: "../plugins/wit",
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
    /// In-target paths served (files read, directories listed), in request order, deduplicated.
    pub files_read: Vec<String>,
    /// Requests refused because the manifest did not declare them (first few).
    pub denials: Vec<String>,
    pub denied_count: u64,
}

/// Per-store state: WASI (nothing granted) and the target view with this plugin's grant.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    /// `None` while reading the manifest: no target at all.
    view: Option<TargetView>,
    grant: Grant,
    requests: u64,
    bytes_read: u64,
    files_read: Vec<String>,
    files_seen: std::collections::HashSet<String>,
    denials: Vec<String>,
    denied_count: u64,
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
    /// Counts the request and checks the requested path against the grant.
    fn admit(&mut self, path: &str) -> Result<(), ViewError> {
        self.requests += 1;
        if self.requests > fsview::limits::MAX_REQUESTS {
            return Err(ViewError::BudgetExhausted);
        }
        let Some(norm) = fsview::normalize(path) else {
            return Err(ViewError::InvalidPath(format!("{path:?} is not absolute")));
        };
        if !self.grant.allows(&norm) {
            return Err(self.deny(norm));
        }
        Ok(())
    }

    /// Like [`Self::admit`] for listings, which may also list the parent of a granted glob.
    fn admit_listing(&mut self, path: &str) -> Result<(), ViewError> {
        let norm = fsview::normalize(path).unwrap_or_default();
        if !norm.is_empty() && !self.grant.allows(&norm) && self.grant.allows_listing(&norm) {
            self.requests += 1;
            return if self.requests > fsview::limits::MAX_REQUESTS {
                Err(ViewError::BudgetExhausted)
            } else {
                Ok(())
            };
        }
        self.admit(path)
    }

    /// Like [`Self::admit_resolved`] for listings.
    fn admit_resolved_listing(&mut self, resolved: &str) -> Result<(), ViewError> {
        if !self.grant.allows(resolved) && self.grant.allows_listing(resolved) {
            return Ok(());
        }
        self.admit_resolved(resolved)
    }

    /// Checks where a request actually led (after symlinks) against the grant.
    fn admit_resolved(&mut self, resolved: &str) -> Result<(), ViewError> {
        if !self.grant.allows(resolved) {
            return Err(self.deny(resolved.to_string()));
        }
        // A set beside the list: a walk of 100,000 entries made the linear search quadratic
        // (the PHI walk of a million-entry tree ran into the wall-time limit).
        if self.files_read.last().map(String::as_str) != Some(resolved)
            && self.files_seen.insert(resolved.to_string())
        {
            self.files_read.push(resolved.to_string());
        }
        Ok(())
    }

    fn view(&self) -> Result<&TargetView, wit::ReadError> {
        self.view.as_ref().ok_or(wit::ReadError::Undeclared(
            "no target while reading the manifest".into(),
        ))
    }

    fn deny(&mut self, path: String) -> ViewError {
        self.denied_count += 1;
        tracing::debug!(path = %path, "denied: not declared in the plugin manifest");
        if self.denials.len() < fsview::limits::MAX_RECORDED_DENIALS
            && !self.denials.contains(&path)
        {
            self.denials.push(path.clone());
        }
        ViewError::Undeclared(path)
    }
}

impl wit::Host for HostState {
    fn read_file(&mut self, path: String) -> Result<Vec<u8>, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let remaining = fsview::limits::MAX_TOTAL_BYTES.saturating_sub(self.bytes_read);
        let cap = fsview::limits::MAX_FILE_BYTES.min(remaining);
        let (bytes, resolved) = self.view()?.read_file(&path, cap).map_err(wit_error)?;
        self.admit_resolved(&resolved).map_err(wit_error)?;
        self.bytes_read += bytes.len() as u64;
        Ok(bytes)
    }

    fn list_dir(&mut self, path: String) -> Result<Vec<wit::DirEntry>, wit::ReadError> {
        self.admit_listing(&path).map_err(wit_error)?;
        let (entries, resolved) = self
            .view()?
            .list_dir(&path, fsview::limits::MAX_DIR_ENTRIES)
            .map_err(wit_error)?;
        self.admit_resolved_listing(&resolved).map_err(wit_error)?;
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
        self.admit_resolved(&resolved).map_err(wit_error)?;
        Ok(wit_stat(st))
    }

    fn lstat(&mut self, path: String) -> Result<wit::FileStat, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let (st, resolved) = self.view()?.stat(&path, false).map_err(wit_error)?;
        self.admit_resolved(&resolved).map_err(wit_error)?;
        Ok(wit_stat(st))
    }

    fn read_link(&mut self, path: String) -> Result<String, wit::ReadError> {
        self.admit(&path).map_err(wit_error)?;
        let (link, resolved) = self.view()?.read_link(&path).map_err(wit_error)?;
        self.admit_resolved(&resolved).map_err(wit_error)?;
        Ok(link)
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
    /// Where built-in artifacts are mapped from (phipolicy's private cache); `None`: from the
    /// embedded bytes.
    artifact_cache: Option<PathBuf>,
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

    /// Maps built-in artifacts from files in `dir` (a private cache directory, see
    /// [`crate::util::private_cache_dir`]), writing them there on first use.
    pub fn with_artifact_cache(mut self, dir: Option<PathBuf>) -> Runner {
        self.artifact_cache = dir;
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
        let dir = self.artifact_cache.as_deref()?;
        // The name carries the artifact's sha256: a file of another build is never this one.
        let file = dir.join(format!(
            "builtin-{}-{}.cwasm",
            artifact.name, artifact.sha256
        ));
        let present = std::fs::metadata(&file)
            .is_ok_and(|m| m.is_file() && m.len() == artifact.cwasm.len() as u64);
        if !present {
            if let Err(e) = crate::util::write_atomically(&file, artifact.cwasm) {
                tracing::debug!(file = %file.display(), error = %e, "cannot cache the built-in artifact");
                return None;
            }
            // Another build's copies of this plugin are dead weight (13 MB a build): remove them.
            let prefix = format!("builtin-{}-", artifact.name);
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let stale = name
                    .strip_prefix(&prefix)
                    .and_then(|rest| rest.strip_suffix(".cwasm"))
                    .is_some_and(|sha| {
                        sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit())
                    });
                if stale && entry.path() != file {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        // SAFETY: the file lives in the directory `crate::util::private_cache_dir` created with mode
        // 0700 and checked to be ours; it was written above from the embedded artifact (produced by
        // build.rs for this engine configuration) under a name that is that artifact's sha256.
        // wasmtime checks the header against this engine and rejects a mismatch.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(&self.engine, &file) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %format!("{e:#}"), "ignoring unusable cached built-in artifact");
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

    /// Loads a third-party plugin, compiling it at most once per (sha256, engine) into `cache_dir`.
    pub fn load_file(
        &self,
        path: &Path,
        bytes: &[u8],
        cache_dir: Option<&Path>,
    ) -> Result<PluginHandle, LoadError> {
        let sha256 = crate::util::sha256_hex(bytes);
        let compat = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            self.engine.precompile_compatibility_hash().hash(&mut h);
            format!("{:016x}", h.finish())
        };
        let cached = cache_dir.map(|d| d.join(format!("{sha256}-{compat}.cwasm")));
        if let Some(cached) = cached.as_deref().filter(|p| p.is_file()) {
            // SAFETY: the cache directory is created by phipolicy with mode 0700 and checked to be
            // owned by us (crate::util::private_cache_dir); files in it are written only by the
            // code below from `Engine::precompile_component` output for this exact engine
            // (the compatibility hash is part of the name).
            #[allow(unsafe_code)]
            let loaded = unsafe { Component::deserialize_file(&self.engine, cached) };
            match loaded {
                Ok(component) => {
                    tracing::debug!(plugin = %path.display(), cache = %cached.display(), "loaded precompiled plugin from cache");
                    return self.prepare(
                        component,
                        path,
                        Origin::File {
                            path: path.into(),
                            sha256,
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(cache = %cached.display(), error = %format!("{e:#}"), "ignoring unusable cache entry")
                }
            }
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: format!("{e:#}"),
        })?;
        if let Some(cached) = cached {
            match component.serialize() {
                Ok(artifact) => {
                    if let Err(e) = crate::util::write_atomically(&cached, &artifact) {
                        tracing::warn!(cache = %cached.display(), error = %e, "could not cache the compiled plugin");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "could not serialize the compiled plugin")
                }
            }
        }
        self.prepare(
            component,
            path,
            Origin::File {
                path: path.into(),
                sha256,
            },
        )
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
        let wasi = WasiCtx::builder()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenWallClock(now))
            .monotonic_clock(FrozenMonotonicClock)
            .insecure_random_seed(0)
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(limits::PLUGIN_MEMORY_BYTES)
            .instances(limits::MAX_INSTANCES)
            .tables(limits::MAX_TABLES)
            .memories(limits::MAX_MEMORIES)
            .trap_on_grow_failure(true)
            .build();
        let state = HostState {
            wasi,
            table: ResourceTable::new(),
            limits,
            view,
            grant,
            requests: 0,
            bytes_read: 0,
            files_read: Vec::new(),
            files_seen: std::collections::HashSet::new(),
            denials: Vec::new(),
            denied_count: 0,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        let ticks = (limits::PLUGIN_WALL_TIME.as_millis() / limits::EPOCH_TICK.as_millis()) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        store
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
        // The manifest call gets no target access: an empty grant denies every request.
        let grant = Grant::new(&[]).map_err(|e| bad(e.to_string()))?;
        let mut store = self.new_store(None, grant, Duration::ZERO);
        let plugin = pre
            .instantiate(&mut store)
            .map_err(|e| bad(format!("{e:#}")))?;
        let m = plugin
            .call_manifest(&mut store)
            .map_err(|e| bad(classify(e).to_string()))?;
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

    /// Runs one plugin against the target with the given parameters and read grant.
    pub fn run(
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
                return PluginRun {
                    plugin: id,
                    facts: Err(RunError::BadGrant(e.to_string())),
                    duration: started.elapsed(),
                    files_read: Vec::new(),
                    denials: Vec::new(),
                    denied_count: 0,
                };
            }
        };
        let pre = match self.pre(plugin) {
            Ok(pre) => pre,
            Err(e) => {
                return PluginRun {
                    plugin: id,
                    facts: Err(e),
                    duration: started.elapsed(),
                    files_read: Vec::new(),
                    denials: Vec::new(),
                    denied_count: 0,
                };
            }
        };
        let mut store = self.new_store(Some(view.clone()), grant, now);
        let facts = (|| {
            let instance = pre
                .instantiate(&mut store)
                .map_err(|e| RunError::Instantiate(format!("{e:#}")))?;
            let out = instance
                .call_collect(&mut store, params_json)
                .map_err(classify)?;
            let json = out.map_err(|msg| RunError::PluginFailed(truncate(&msg, 500)))?;
            if json.len() > limits::MAX_FACTS_BYTES {
                return Err(RunError::OutputTooLarge(
                    json.len(),
                    limits::MAX_FACTS_BYTES,
                ));
            }
            let value: serde_json::Value = serde_json::from_str(&json)
                .map_err(|e| RunError::Malformed(format!("not JSON: {e}")))?;
            if !value.is_object() {
                return Err(RunError::Malformed("facts are not a JSON object".into()));
            }
            Ok(value)
        })();
        let state = store.into_data();
        PluginRun {
            plugin: id,
            facts,
            duration: started.elapsed(),
            files_read: state.files_read,
            denials: state.denials,
            denied_count: state.denied_count,
        }
    }
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

fn builtin_path(artifact: &builtin::Artifact) -> PathBuf {
    PathBuf::from(format!("<builtin>/{}.wasm", artifact.name))
}

/// Turns a wasmtime error into the reason a user reads.
fn classify(e: wasmtime::Error) -> RunError {
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        return match trap {
            wasmtime::Trap::Interrupt => RunError::Timeout(limits::PLUGIN_WALL_TIME),
            wasmtime::Trap::StackOverflow => RunError::StackOverflow,
            other => RunError::Trap(other.to_string()),
        };
    }
    let text = format!("{e:#}");
    if text.contains("forcing trap when growing memory") || text.contains("memory limit") {
        return RunError::Memory(limits::PLUGIN_MEMORY_BYTES >> 20);
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
    for r in &m.reads {
        if !r.starts_with('/') && !r.starts_with('{') {
            return Err(format!("read pattern {r:?} is not an absolute path"));
        }
    }
    Ok(())
}
