//! [`Report`]: the result document as every reporter reads it, deserialized from its JSON form
//! (so `eval` and `report --from` render the same thing). Fields the reporters do not use are
//! kept only in [`Report::raw`], which the `json` format prints unchanged.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::document::{ControlResult as Control, Summary};
use crate::document::{ResultDocument, SCHEMA, Status};

/// A result document that cannot be rendered (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a JSON result document: {source}")]
    Parse {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "{path}: unknown schema `{found}` (this phipolicy reads `{SCHEMA}`; render it with the phipolicy that wrote it)"
    )]
    Schema { path: String, found: String },
}

#[derive(Debug, Clone, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Os {
    pub id: String,
    pub version_id: String,
    pub family: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Target {
    pub kind: String,
    pub root: String,
    pub os: Option<Os>,
    #[serde(default)]
    pub hostname: Option<String>,
    #[serde(default)]
    pub image: Option<crate::target::ImageInfo>,
    #[serde(default)]
    pub container: Option<crate::target::ContainerInfo>,
}

impl Target {
    /// The digest that names an image target (manifest digest, else config digest).
    pub fn image_digest(&self) -> Option<&str> {
        self.image.as_ref().map(|i| i.best_digest())
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Plugin {
    pub id: String,
    pub version: String,
    pub origin: String,
    #[serde(default)]
    pub sha256: Option<String>,
    pub verification: String,
    #[serde(default)]
    pub controls: Vec<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// A third-party plugin that took a built-in plugin's id.
    #[serde(default)]
    pub replaces_builtin: bool,
}

impl Plugin {
    /// One line naming a plugin that is not built in, for every format: which plugin, from where,
    /// how it was trusted, and whether it replaced a built-in one (SECURITY.md: every format shows
    /// replaced and unverified plugins).
    pub fn third_party_line(&self) -> String {
        format!(
            "third-party plugin {} {} from {} ({}{}) feeds {}",
            self.id,
            self.version,
            self.origin,
            self.verification,
            if self.replaces_builtin {
                ", replaces the built-in plugin of that id"
            } else {
                ""
            },
            self.controls.join(", ")
        )
    }
}

impl Report {
    /// The plugins that are not built in.
    pub fn third_party_plugins(&self) -> impl Iterator<Item = &Plugin> {
        self.plugins.iter().filter(|p| p.verification != "builtin")
    }
}

/// The result document as the reporters read it.
#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    pub schema: String,
    pub tool: ToolInfo,
    pub profile: String,
    pub target: Target,
    pub evaluated_at: String,
    pub duration_ms: u64,
    pub summary: Summary,
    pub results: Vec<Control>,
    #[serde(default)]
    pub parameters: Map<String, Value>,
    #[serde(default)]
    pub plugins: Vec<Plugin>,
    /// The whole document as read, printed unchanged by the `json` format.
    #[serde(skip)]
    pub raw: Value,
}

impl Report {
    /// The view of a document this run built.
    pub fn from_document(doc: &ResultDocument) -> Report {
        let raw = serde_json::to_value(doc).expect("result document serializes");
        Report::from_value(raw, "result document").expect("own document reads back")
    }

    /// Reads a saved result document (`phipolicy report --from`, `phipolicy diff`).
    pub fn from_file(path: &Path) -> Result<Report, ReportError> {
        let name = path.display().to_string();
        let text = std::fs::read(path).map_err(|source| ReportError::Read {
            path: name.clone(),
            source,
        })?;
        let raw: Value = serde_json::from_slice(&text).map_err(|source| ReportError::Parse {
            path: name.clone(),
            source,
        })?;
        Report::from_value(raw, &name)
    }

    fn from_value(raw: Value, name: &str) -> Result<Report, ReportError> {
        let found = raw.get("schema").and_then(Value::as_str).unwrap_or("");
        if found != SCHEMA {
            return Err(ReportError::Schema {
                path: name.into(),
                found: if found.is_empty() {
                    "(none)".into()
                } else {
                    found.into()
                },
            });
        }
        let mut report: Report =
            serde_json::from_value(raw.clone()).map_err(|source| ReportError::Parse {
                path: name.into(),
                source,
            })?;
        report.raw = raw;
        Ok(report)
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

    /// The verdict in words, as the exit code says it.
    pub fn verdict(&self) -> &'static str {
        match self.exit_code() {
            0 => "no control failed (exit 0)",
            1 => "at least one control failed (exit 1)",
            _ => "at least one control could not be decided (exit 2)",
        }
    }

    /// "debian 12 (debian family)" or "unknown OS".
    pub fn os_line(&self) -> String {
        self.target
            .os
            .as_ref()
            .map(|o| format!("{} {} ({} family)", o.id, o.version_id, o.family))
            .unwrap_or_else(|| "unknown OS".into())
    }

    /// What names this target across scans: its host name, else its root.
    pub fn target_name(&self) -> &str {
        self.target
            .hostname
            .as_deref()
            .filter(|h| !h.is_empty())
            .unwrap_or(&self.target.root)
    }
}

/// Human label of a status.
pub fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
        Status::NotApplicable => "N/A",
        Status::Manual => "MANUAL",
        Status::Waived => "WAIVED",
    }
}
