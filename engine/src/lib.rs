//! phipolicy's engine: evaluates HIPAA technical safeguards on a Linux host or root filesystem.
//!
//! `fsview` serves the target, `runner` runs plugins, `registry` says which plugin feeds which
//! control and what it may read, `policy` judges facts, `report` renders the result document;
//! `eval` ties them together for one run. See ARCHITECTURE.md.

pub mod budget;
pub mod build_info;
pub mod catalogue_doc;
pub mod digest;
pub mod document;
pub mod eval;
pub mod evidence;
pub mod fleet;
pub mod fsview;
pub mod operator_file;
pub mod parallel;
pub mod plugin_tool;
pub mod policy;
pub mod profile;
pub mod registry;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod target;
pub mod trust;
pub mod waivers;
pub mod wasm_config;
pub mod yaml;

/// The plugin artifact cache, at its former path (it lives in [`runner::cache`]).
pub use runner::cache;

/// Every error that makes a run exit 2 before (or instead of) producing a result document.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Root(#[from] fsview::RootError),
    #[error(transparent)]
    Target(#[from] target::TargetError),
    #[error(transparent)]
    Fleet(#[from] fleet::FleetError),
    #[error(transparent)]
    Profile(#[from] profile::ProfileError),
    #[error(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    Plugin(#[from] runner::LoadError),
    #[error(transparent)]
    Trust(#[from] trust::TrustError),
    #[error(transparent)]
    Waiver(#[from] waivers::WaiverError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}
