//! What a plugin declares about itself: the manifest (read from a component under the watchdog,
//! or embedded by `build.rs` for the built-in plugins), its validation, and the ABI check that
//! names the version a component was built against.

use std::path::{Path, PathBuf};
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Component;

use super::host::HostState;
use super::store::{classify, new_store, with_watchdog};
use super::{ABI_VERSION, LoadError, RunError, bindings, limits, truncate};
use crate::fsview::Grant;

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

/// The built-in plugins, precompiled by `build.rs`.
pub(super) mod builtin {
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

impl PluginManifest {
    /// The manifest `build.rs` embedded for a built-in plugin, validated.
    pub(super) fn embedded(artifact: &builtin::Artifact) -> Result<PluginManifest, LoadError> {
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
        validate(&manifest).map_err(|reason| LoadError::Manifest {
            path: builtin_path(artifact),
            reason,
        })?;
        Ok(manifest)
    }

    /// Whether two manifests declare the same (the embedded one and the component's).
    pub(super) fn same_as(&self, other: &PluginManifest) -> bool {
        self.id == other.id
            && self.version == other.version
            && self.safeguard == other.safeguard
            && self.cfr == other.cfr
            && self.controls == other.controls
            && self.reads == other.reads
    }
}

/// Calls a pre-instantiated component's `manifest()` and validates what it returns. The call gets
/// no target access (an empty grant denies every request) and runs under the watchdog: a plugin
/// that blocks in `manifest()` is refused, not waited for.
pub(super) fn read(
    engine: &Engine,
    pre: &bindings::PluginPre<HostState>,
    path: &Path,
) -> Result<PluginManifest, LoadError> {
    let bad = |reason: String| LoadError::Manifest {
        path: path.into(),
        reason,
    };
    let grant = Grant::new(&[]).map_err(|e| bad(e.to_string()))?;
    let engine = engine.clone();
    let pre = pre.clone();
    let called = with_watchdog(
        "phipolicy-manifest",
        limits::MANIFEST_WALL_TIME + limits::WATCHDOG_GRACE,
        move || -> Result<_, String> {
            let mut store = new_store(
                &engine,
                None,
                grant,
                Duration::ZERO,
                limits::MANIFEST_WALL_TIME,
            );
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
    validate(&manifest).map_err(bad)?;
    Ok(manifest)
}

/// A component that imports `phipolicy:plugin/...` at another version than [`ABI_VERSION`] was
/// built against another ABI: say that, rather than wasmtime's "no matching implementation".
pub(super) fn abi_mismatch(
    engine: &Engine,
    component: &Component,
    path: &Path,
) -> Option<LoadError> {
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

pub(super) fn builtin_path(artifact: &builtin::Artifact) -> PathBuf {
    PathBuf::from(format!("<builtin>/{}.wasm", artifact.name))
}

/// Checks a manifest's shape: ids, controls and read patterns must be usable.
pub(super) fn validate(m: &PluginManifest) -> Result<(), String> {
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
    let lists = [
        ("cfr", &m.cfr),
        ("controls", &m.controls),
        ("reads", &m.reads),
    ];
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
        .chain(
            lists
                .iter()
                .flat_map(|(f, l)| l.iter().map(move |s| (*f, s))),
        );
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
