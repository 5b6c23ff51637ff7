//! The plugin runner: the only code in phipolicy that calls wasmtime.
//!
//! One `Engine` and one `Linker` per process. Built-in plugins are precompiled at build time for
//! this exact engine configuration (`build.rs`) and embedded; a plugin loaded from `--plugins DIR`
//! is compiled once into the same private cache ([`cache`]), keyed by its sha256 and wasmtime's
//! compatibility hash. Each run gets a fresh `Store` ([`store`]) with a wall-time (epoch) deadline,
//! a memory limit and an output cap, and WASI with nothing granted: no preopens, no environment, no
//! arguments, no network, a frozen clock. The only way a plugin sees the target is the `target`
//! interface ([`host`]), served by [`crate::fsview`]. What a plugin declares about itself is read
//! and checked in [`manifest`].

pub mod cache;
mod host;
pub mod manifest;
mod store;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use wasmtime::Engine;
use wasmtime::component::{Component, HasSelf, Linker};

use crate::fsview::{Grant, TargetView};
use cache::{Entry, PrivateCache};
use host::HostState;
use manifest::builtin;
pub use manifest::{ManifestError, PluginManifest, is_builtin_id};
use store::{Ticker, classify, freeze_timers, new_store, with_watchdog};

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
    /// Referenced reads one run may add ([`super::host::HostState::cite`]): configurations name tens of
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
    /// Longest plugin id: ids name plugins in reports and file names.
    pub const MAX_PLUGIN_ID_BYTES: usize = 64;
    /// How much of an over-long manifest string an error message quotes.
    pub const MAX_QUOTED_BYTES: usize = 64;
    /// Longest message of a plugin's failure or trap kept in the result document.
    pub const MAX_PLUGIN_MESSAGE_BYTES: usize = 500;
    /// Longest denied path written to the debug log (the report keeps
    /// [`MAX_RECORDED_DENIAL_BYTES`]).
    pub const MAX_LOGGED_PATH_BYTES: usize = 200;
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
    #[error("plugin {path}: manifest: {problem}")]
    Manifest {
        path: PathBuf,
        problem: ManifestError,
    },
    #[error("wasmtime engine: {0}")]
    Engine(String),
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
    pre: OnceLock<Result<bindings::PluginPre<HostState>, Arc<LoadError>>>,
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
#[derive(Debug, Clone, thiserror::Error)]
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
    /// A built-in plugin's artifact could not be loaded (the error is kept, once per handle).
    #[error("could not be instantiated: {0}")]
    Load(Arc<LoadError>),
    #[error("declares a read pattern that cannot be used: {0}")]
    BadGrant(crate::registry::GrantError),
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
    /// Referenced reads granted during the run ([`host::HostState::cite`]).
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Reference {
    /// The path or glob granted.
    pub path: String,
    /// `file:line` of the line that names it.
    pub granted_by: String,
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
        let ticker = Ticker::start(&engine)
            .map_err(|e| LoadError::Engine(format!("starting the epoch thread: {e}")))?;
        Ok(Runner {
            engine,
            linker,
            artifact_cache: None,
            _ticker: ticker,
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
                Ok(PluginHandle {
                    manifest: PluginManifest::embedded(artifact)?,
                    origin: Origin::Builtin,
                    pre: OnceLock::new(),
                    artifact: Some(artifact),
                })
            })
            .collect()
    }

    /// Loads a built-in plugin's artifact (mapped from the private cache, else the embedded
    /// bytes, recompiled from the embedded component only if the artifact does not match this
    /// machine's CPU) and pre-instantiates it.
    fn load_builtin(
        &self,
        artifact: &builtin::Artifact,
    ) -> Result<bindings::PluginPre<HostState>, LoadError> {
        let path = manifest::builtin_path(artifact);
        if let Some(component) = self.builtin_from_cache(artifact) {
            return self.instantiate_pre(&component, &path);
        }
        // SAFETY: `cwasm` was produced by this crate's build script with
        // `wasm_config::config()`, the configuration of `self.engine`, and is embedded in
        // the binary (never read from a user-supplied file). wasmtime still checks the
        // artifact's header against the engine and rejects a mismatch.
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

    /// Maps a built-in artifact from phipolicy's private cache, writing it there first if it is
    /// not there yet. A file mapping is paged in from the page cache on demand; the in-memory
    /// path copies the whole artifact into fresh anonymous pages on every run, which was a third
    /// of a full run's CPU (page faults). `None`: no cache, or it failed (the caller falls back
    /// to the embedded bytes).
    fn builtin_from_cache(&self, artifact: &builtin::Artifact) -> Option<Component> {
        let cache = self.artifact_cache.as_deref()?;
        let entry = Entry::builtin(artifact.name, artifact.sha256, artifact.cwasm);
        if let Some(component) = cache.load(&self.engine, &entry) {
            return Some(component);
        }
        if let Err(e) = cache.store(&entry, artifact.cwasm) {
            tracing::debug!(cache = %cache.path().display(), error = %e, "cannot cache the built-in artifact");
            return None;
        }
        cache.load(&self.engine, &entry)
    }

    /// The plugin's pre-instantiated component, loading a built-in artifact on first use (a
    /// failure is kept, typed, and returned to every later run of the plugin).
    fn pre<'h>(
        &self,
        plugin: &'h PluginHandle,
    ) -> Result<&'h bindings::PluginPre<HostState>, RunError> {
        let artifact = plugin.artifact;
        plugin
            .pre
            .get_or_init(|| match artifact {
                Some(artifact) => self.load_builtin(artifact).map_err(Arc::new),
                // A third-party handle is created with its component (`prepare`).
                None => unreachable!("a plugin handle without a component"),
            })
            .as_ref()
            .map_err(|e| RunError::Load(Arc::clone(e)))
    }

    /// Loads a built-in plugin's artifact and checks that the manifest its component returns is
    /// the one `build.rs` embedded (`engine/tests/registry.rs` runs it for every built-in).
    pub fn verify_builtin(&self, plugin: &PluginHandle) -> Result<(), LoadError> {
        let Some(artifact) = plugin.artifact else {
            return Ok(());
        };
        let path = manifest::builtin_path(artifact);
        let pre = self.load_builtin(artifact)?;
        let live = manifest::read(&self.engine, &pre, &path)?;
        let embedded = &plugin.manifest;
        if !live.same_as(embedded) {
            return Err(LoadError::Manifest {
                path,
                problem: ManifestError::Differs {
                    embedded: Box::new(embedded.clone()),
                    live: Box::new(live),
                },
            });
        }
        Ok(())
    }

    /// Loads a third-party plugin, compiling it at most once per (sha256, engine) into the
    /// private cache.
    pub fn load_file(&self, path: &Path, bytes: &[u8]) -> Result<PluginHandle, LoadError> {
        let sha256 = crate::digest::sha256_hex(bytes);
        let entry = Entry::compiled(&self.engine, &sha256);
        let origin = Origin::File {
            path: path.into(),
            sha256,
        };
        let cache = self.artifact_cache.as_deref();
        if let Some(component) = cache.and_then(|c| c.load(&self.engine, &entry)) {
            tracing::debug!(plugin = %path.display(), "loaded precompiled plugin from cache");
            return self.prepare(component, path, origin);
        }
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: format!("{e:#}"),
        })?;
        if let Some(cache) = cache {
            match component.serialize() {
                Ok(artifact) => {
                    if let Err(e) = cache.store(&entry, &artifact) {
                        tracing::warn!(cache = %cache.path().display(), error = %e, "could not cache the compiled plugin");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "could not serialize the compiled plugin")
                }
            }
        }
        self.prepare(component, path, origin)
    }

    /// The names a component imports (`wasi:...`, `phipolicy:plugin/target@VERSION`), compiled
    /// with this engine: what `phipolicy plugin inspect` shows.
    pub fn component_imports(&self, path: &Path, bytes: &[u8]) -> Result<Vec<String>, LoadError> {
        let component = Component::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
            path: path.into(),
            reason: format!("{e:#}"),
        })?;
        Ok(component
            .component_type()
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect())
    }

    fn instantiate_pre(
        &self,
        component: &Component,
        path: &Path,
    ) -> Result<bindings::PluginPre<HostState>, LoadError> {
        let instance_pre = self.linker.instantiate_pre(component).map_err(|e| {
            manifest::abi_mismatch(&self.engine, component, path).unwrap_or_else(|| {
                LoadError::Invalid {
                    path: path.into(),
                    reason: format!("{e:#}"),
                }
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
        let manifest = manifest::read(&self.engine, &pre, path)?;
        Ok(PluginHandle {
            manifest,
            origin,
            pre: OnceLock::from(Ok(pre)),
            artifact: None,
        })
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
                return PluginRun::failed(
                    &id,
                    RunError::BadGrant(e.into()),
                    started.elapsed(),
                );
            }
        };
        let pre = match self.pre(plugin) {
            Ok(pre) => pre,
            Err(e) => return PluginRun::failed(&id, e, started.elapsed()),
        };
        let mut store = new_store(
            &self.engine,
            Some(view.clone()),
            grant,
            now,
            limits::PLUGIN_WALL_TIME,
        );
        let facts = (|| {
            let instance = pre
                .instantiate(&mut store)
                .map_err(|e| RunError::Instantiate(format!("{e:#}")))?;
            let out = instance
                .call_collect(&mut store, params_json)
                .map_err(|e| classify(e, limits::PLUGIN_WALL_TIME))?;
            let json = out.map_err(|msg| RunError::PluginFailed(truncate(&msg, limits::MAX_PLUGIN_MESSAGE_BYTES)))?;
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

/// Parses a plugin's facts, bounding the cost first: size, then the number of values and the
/// nesting depth counted on the raw text (so a hostile document never builds a huge tree).
fn parse_facts(json: &str) -> Result<serde_json::Value, RunError> {
    if json.len() > limits::MAX_FACTS_BYTES {
        return Err(RunError::OutputTooLarge(
            json.len(),
            limits::MAX_FACTS_BYTES,
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_are_counted_before_they_are_parsed() {
        assert_eq!(json_shape(br#"{"a":[1,2,{"b":"[,,]"}]}"#), (8, 3));
        let wide = format!("{{\"w\":[{}[]]}}", "[],".repeat(limits::MAX_FACTS_VALUES));
        assert!(
            matches!(parse_facts(&wide), Err(RunError::Malformed(m)) if m.contains("JSON values"))
        );
        let deep = format!("{{\"d\":{}{}}}", "[".repeat(100), "]".repeat(100));
        assert!(matches!(parse_facts(&deep), Err(RunError::Malformed(m)) if m.contains("deeper")));
        assert!(parse_facts(r#"{"ok": [1, "x,y", {"z": null}]}"#).is_ok());
    }
}
