//! The phipolicy guest SDK: what a plugin author is handed.
//!
//! A plugin is plain Rust: a type implementing [`Plugin`], whose `collect` reads the audited target
//! through [`Target`] and returns facts (JSON, with file and line for everything it found). The same
//! code runs natively in tests (against [`testing::DirTarget`], a fixture directory) and as a
//! WebAssembly component inside the engine (against the host's `target` interface), where
//! [`export_plugin!`] wires it to the ABI in this crate's `wit/phipolicy.wit` (the one copy of the
//! ABI: the engine generates its host bindings from the same file).
//!
//! The SDK knows nothing of wasmtime or of the engine, and holds no configuration parser: those
//! live in `phipolicy-parsers` (sshd, PAM, shell profiles, TLS servers, schedules, ...).
//!
//! ```
//! use phipolicy_sdk::{Manifest, Params, Plugin, Target, TargetExt};
//!
//! struct Motd;
//! impl Plugin for Motd {
//!     fn manifest() -> Manifest {
//!         Manifest {
//!             id: "motd",
//!             version: "0.1.0",
//!             safeguard: "example",
//!             cfr: &[],
//!             controls: &["example.motd"],
//!             reads: &["/etc/motd"],
//!         }
//!     }
//!     fn collect(target: &dyn Target, _: &Params) -> Result<serde_json::Value, String> {
//!         let text = target.read_text_opt("/etc/motd").map_err(|e| e.to_string())?;
//!         Ok(serde_json::json!({ "motd_present": text.is_some() }))
//!     }
//! }
//! phipolicy_sdk::export_plugin!(Motd);
//! ```
//!
//! With the `testing` feature (a dev-dependency), [`testing::DirTarget::for_plugin`] runs the
//! plugin natively on a fixture tree under the same read rules as the engine.

pub mod facts;
pub mod glob;
#[cfg(all(feature = "grant", not(target_arch = "wasm32")))]
pub mod grant;
pub mod params;
pub mod path;
pub mod referenced;
pub mod target;
#[cfg(all(feature = "testing", unix))]
pub mod testing;

#[cfg(target_arch = "wasm32")]
mod host;

pub use facts::{Evidence, Located};
pub use params::Params;
pub use target::{DirEntry, FileKind, FileStat, ReadError, Target, TargetExt};

/// The ABI version this SDK builds plugins for (the WIT package version).
pub const ABI_VERSION: &str = "0.2.0";

/// Generated bindings of the plugin world (guest side). Plugin authors do not use these directly.
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "phipolicy:plugin/plugin",
        pub_export_macro: true,
        export_macro_name: "export_plugin_component",
        default_bindings_module: "phipolicy_sdk::bindings",
    });
}

/// What a plugin declares about itself; mirrors the WIT `manifest` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Stable plugin identifier (the safeguard name for built-in plugins).
    pub id: &'static str,
    /// The plugin's own version.
    pub version: &'static str,
    /// Safeguard the plugin gathers facts for.
    pub safeguard: &'static str,
    /// CFR citations of the safeguard.
    pub cfr: &'static [&'static str],
    /// Control ids fed by the facts.
    pub controls: &'static [&'static str],
    /// Paths or globs inside the target the plugin may read; `{param}` expands a parameter.
    pub reads: &'static [&'static str],
}

/// A phipolicy plugin: a manifest and a fact collector.
pub trait Plugin {
    /// The plugin's manifest.
    fn manifest() -> Manifest;
    /// Gather facts from `target`. Return `Err` only when nothing useful can be said at all;
    /// files that are missing or unreadable are facts, not errors.
    fn collect(target: &dyn Target, params: &Params) -> Result<serde_json::Value, String>;
}

#[doc(hidden)]
pub fn __manifest_to_wit(m: Manifest) -> bindings::phipolicy::plugin::types::Manifest {
    let strings = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect();
    bindings::phipolicy::plugin::types::Manifest {
        id: m.id.to_string(),
        version: m.version.to_string(),
        safeguard: m.safeguard.to_string(),
        cfr: strings(m.cfr),
        controls: strings(m.controls),
        reads: strings(m.reads),
    }
}

/// Runs a plugin's `collect` against the host target (inside the component).
#[doc(hidden)]
#[cfg(target_arch = "wasm32")]
pub fn __collect<P: Plugin>(params_json: &str) -> Result<String, String> {
    let params = Params::from_json(params_json)?;
    let facts = P::collect(&referenced::Citing::new(host::HostTarget), &params)?;
    serde_json::to_string(&facts).map_err(|e| format!("serializing facts: {e}"))
}

/// Exports a [`Plugin`] implementation as the component's `plugin` world.
///
/// ```text
/// struct Authentication;
/// impl phipolicy_sdk::Plugin for Authentication { /* ... */ }
/// phipolicy_sdk::export_plugin!(Authentication);
/// ```
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct PhipolicyComponent;
            impl $crate::bindings::Guest for PhipolicyComponent {
                fn manifest() -> $crate::bindings::phipolicy::plugin::types::Manifest {
                    $crate::__manifest_to_wit(<$plugin as $crate::Plugin>::manifest())
                }
                fn collect(params: ::std::string::String) -> ::std::result::Result<::std::string::String, ::std::string::String> {
                    $crate::__collect::<$plugin>(&params)
                }
            }
            $crate::bindings::export_plugin_component!(PhipolicyComponent with_types_in $crate::bindings);
        };
    };
}
