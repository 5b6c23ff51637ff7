//! The documents phipolicy writes: the result document, schema `phipolicy/results/v1` (whose JSON
//! Schema, [`results_schema`], is generated from these types and checked in as
//! `docs/results-v1.schema.json`), and the facts document of `phipolicy facts`
//! (`phipolicy/facts/v1`). Only [`crate::report`] serializes them (see docs/contract.md).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::policy::Evidence;

pub const SCHEMA: &str = "phipolicy/results/v1";

/// Status of one control.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Error,
    NotApplicable,
    Manual,
    Waived,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pass" => Status::Pass,
            "fail" => Status::Fail,
            "error" => Status::Error,
            "not_applicable" => Status::NotApplicable,
            "manual" => Status::Manual,
            "waived" => Status::Waived,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::NotApplicable => "not_applicable",
            Status::Manual => "manual",
            Status::Waived => "waived",
        }
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OsInfo {
    pub id: String,
    pub version_id: String,
    pub family: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TargetInfo {
    /// `host` (the live system, `/`), `rootfs` (a directory holding a root filesystem), `image`
    /// (an OCI layout, an image archive or an engine's image, flattened) or `container` (a
    /// container's filesystem through the engine's export) or `ssh` (a remote host's `/` over
    /// SFTP).
    #[schemars(extend("enum" = ["host", "rootfs", "image", "container", "ssh"]))]
    pub kind: &'static str,
    /// The directory, or the target as given (`docker:phipolicy/debian:12`).
    pub root: String,
    /// An image's identity and configuration (digests, os, architecture, created, labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<crate::target::ImageInfo>,
    /// A container's identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<crate::target::ContainerInfo>,
    /// A remote host's address and the host key ssh verified against known_hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<crate::target::ssh::SshInfo>,
    pub os: Option<OsInfo>,
    /// Configuration files the plugins were served that have more than one hard link (the same
    /// file may be reachable under another name), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hard_links: Vec<String>,
    /// Paths served from another filesystem than the target root (a mount or bind mount inside
    /// a `--root` tree), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mounts: Vec<String>,
    /// The target's host name (`/etc/hostname`; for the live host, the kernel's when that file is
    /// missing), for reports that name a host (JUnit, SARIF automation ids). Absent when unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub not_applicable: usize,
    pub manual: usize,
    pub waived: usize,
}

/// The waiver applied to (or considered for) a control.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WaiverInfo {
    pub justification: String,
    pub expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// Whether the waiver was in force at evaluation time.
    pub in_force: bool,
    /// The status the control had before the waiver.
    pub original_status: Status,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ControlResult {
    pub control: String,
    pub safeguard: String,
    pub cfr: Vec<String>,
    pub title: String,
    pub severity: String,
    pub status: Status,
    pub reasons: Vec<String>,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
    pub waiver: Option<WaiverInfo>,
}

/// What each plugin did during the run (for auditors and plugin authors).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PluginReport {
    pub id: String,
    pub version: String,
    pub origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// builtin, pinned (lock file), signed (trusted key) or unverified (`--allow-unverified`).
    pub verification: crate::trust::Verification,
    pub controls: Vec<String>,
    pub duration_ms: u64,
    /// A third-party plugin that took the id of a built-in one (and so replaced it).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub replaces_builtin: bool,
    /// The read patterns its manifest declared (parameters expanded): what it was allowed.
    pub reads: Vec<String>,
    /// How many distinct in-target paths it was served, and the first
    /// `runner::limits::MAX_RECORDED_PATHS` of them (resolved, in request order).
    pub files_read: usize,
    pub paths_read: Vec<String>,
    /// Paths served outside `reads` because a configuration line names them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub referenced_reads: Vec<crate::runner::Reference>,
    pub denied: Vec<String>,
    pub denied_count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ResultDocument {
    /// Always `phipolicy/results/v1`.
    #[schemars(extend("const" = SCHEMA))]
    pub schema: &'static str,
    pub tool: Tool,
    /// What the binary was built from (version, commit, wasmtime, regorus, built-in plugins).
    pub build: crate::build_info::BuildInfo,
    pub profile: String,
    pub target: TargetInfo,
    pub evaluated_at: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub results: Vec<ControlResult>,
    pub parameters: Map<String, Value>,
    pub plugins: Vec<PluginReport>,
}

impl ResultDocument {
    pub fn summarize(results: &[ControlResult]) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match r.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Error => s.error += 1,
                Status::NotApplicable => s.not_applicable += 1,
                Status::Manual => s.manual += 1,
                Status::Waived => s.waived += 1,
            }
        }
        s
    }

    /// 0 no control failed; 1 at least one `fail`; 2 at least one `error` (outranks `fail`).
    pub fn exit_code(&self) -> i32 {
        if self.summary.error > 0 {
            2
        } else if self.summary.fail > 0 {
            1
        } else {
            0
        }
    }
}

/// The JSON Schema (draft 2020-12) of `phipolicy/results/v1`, generated from [`ResultDocument`]
/// as it serializes; `docs/results-v1.schema.json` is this text, kept fresh by a test.
pub fn results_schema() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema = generator.into_root_schema_for::<ResultDocument>().to_value();
    if let Some(root) = schema.as_object_mut() {
        root.insert("title".into(), Value::String(SCHEMA.into()));
    }
    schema
}

/// The schema of the facts document.
pub const FACTS_SCHEMA: &str = "phipolicy/facts/v1";

/// The facts document of `phipolicy facts`: what each plugin returned, unjudged. Fields are in
/// the order they serialize (alphabetical, like the JSON objects it was built from before).
#[derive(Debug, Clone, Serialize)]
pub struct FactsDocument {
    /// Plugin id -> what it returned.
    pub plugins: BTreeMap<String, PluginFacts>,
    /// Always `phipolicy/facts/v1`.
    pub schema: &'static str,
    pub target: FactsTarget,
}

/// One plugin's facts, or why there are none, with what it read and was refused.
#[derive(Debug, Clone, Serialize)]
pub struct PluginFacts {
    pub denied: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Value>,
    pub files_read: Vec<String>,
}

/// The target as the facts document and the policies' `input.target` see it.
#[derive(Debug, Clone, Serialize)]
pub struct FactsTarget {
    pub kind: &'static str,
    pub os: Option<FactsOs>,
    pub root: String,
}

/// The target's distribution, as [`FactsTarget`] names it.
#[derive(Debug, Clone, Serialize)]
pub struct FactsOs {
    pub family: String,
    pub id: String,
    pub version_id: String,
}

impl From<&TargetInfo> for FactsTarget {
    fn from(t: &TargetInfo) -> FactsTarget {
        FactsTarget {
            kind: t.kind,
            os: t.os.as_ref().map(|o| FactsOs {
                family: o.family.clone(),
                id: o.id.clone(),
                version_id: o.version_id.clone(),
            }),
            root: t.root.clone(),
        }
    }
}
