//! What this binary was built from — version, git commit, compiler, the wasmtime and regorus it
//! embeds and the sha256 of each built-in plugin component — so an auditor can tie a result
//! document (its `build` section) or `phipolicy --version --verbose` to the exact build.

use std::fmt::Write as _;

use schemars::JsonSchema;
use serde::Serialize;

/// A built-in plugin as built into this binary.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct BuiltinPlugin {
    pub id: &'static str,
    pub version: &'static str,
    /// sha256 of the WebAssembly component (the `.wasm` the plugin crate builds to), lowercase hex.
    pub sha256: &'static str,
}

mod generated {
    use super::BuiltinPlugin;
    include!(concat!(env!("OUT_DIR"), "/build_info.rs"));
}

/// The git commit `cargo xtask` builds from (`git rev-parse HEAD`, with `-modified` appended
/// when the work tree had uncommitted changes). Unset in a plain `cargo build`.
const COMMIT: Option<&str> = option_env!("PHIPOLICY_BUILD_COMMIT");

/// The suffix `cargo xtask` appends to the commit of a work tree with uncommitted changes.
const MODIFIED_SUFFIX: &str = "-modified";

/// The build, as every result document's `build` section and `--version --verbose` report it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BuildInfo {
    pub version: &'static str,
    /// The git commit built; `null` when the binary was not built by `cargo xtask` from a git
    /// checkout.
    pub commit: Option<&'static str>,
    /// Whether the checkout had uncommitted changes (then the commit alone does not identify the
    /// source); `null` when the commit is unknown.
    pub modified: Option<bool>,
    pub target: &'static str,
    pub rustc: &'static str,
    pub wasmtime: &'static str,
    pub regorus: &'static str,
    pub plugins: &'static [BuiltinPlugin],
}

impl BuildInfo {
    /// This binary's build.
    pub fn current() -> BuildInfo {
        let commit = COMMIT.map(str::trim).filter(|c| !c.is_empty());
        BuildInfo {
            version: env!("CARGO_PKG_VERSION"),
            commit: commit.map(|c| c.strip_suffix(MODIFIED_SUFFIX).unwrap_or(c)),
            modified: commit.map(|c| c.ends_with(MODIFIED_SUFFIX)),
            target: generated::TARGET,
            rustc: generated::RUSTC,
            wasmtime: generated::WASMTIME,
            regorus: generated::REGORUS,
            plugins: generated::PLUGINS,
        }
    }

    /// The text of `phipolicy --version --verbose`.
    pub fn verbose_text(&self) -> String {
        let commit = match (self.commit, self.modified) {
            (Some(c), Some(true)) => format!("{c} (with uncommitted changes)"),
            (Some(c), _) => c.to_string(),
            (None, _) => "unknown (not built by `cargo xtask` from a git checkout)".to_string(),
        };
        let mut s = format!("phipolicy {}\n", self.version);
        let _ = writeln!(s, "commit:   {commit}");
        let _ = writeln!(s, "target:   {}", self.target);
        let _ = writeln!(s, "rustc:    {}", self.rustc);
        let _ = writeln!(s, "wasmtime: {}", self.wasmtime);
        let _ = writeln!(s, "regorus:  {}", self.regorus);
        let _ = writeln!(s, "built-in plugins (sha256 of the component):");
        let width = self.plugins.iter().map(|p| p.id.len()).max().unwrap_or(0);
        for p in self.plugins {
            let _ = writeln!(s, "  {:<width$}  {:<7}  {}", p.id, p.version, p.sha256);
        }
        s
    }
}
