//! phipolicy's engine: evaluates HIPAA technical safeguards on a Linux host or root filesystem.
//!
//! `fsview` serves the target, `runner` runs plugins, `policy` judges facts, `report` renders the
//! result document; `eval` ties them together for one run. See ARCHITECTURE.md.

pub mod build_info;
pub mod cache;
pub mod budget;
pub mod document;
pub mod eval;
pub mod evidence;
pub mod fleet;
pub mod fsview;
pub mod policy;
pub mod profile;
pub mod report;
pub mod runner;
pub mod secrets;
pub mod target;
pub mod trust;
pub mod util;
pub mod waivers;
pub mod wasm_config;

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
