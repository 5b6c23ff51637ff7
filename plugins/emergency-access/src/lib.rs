//! The emergency-access safeguard (45 CFR 164.312(a)(2)(ii)): whether a break-glass procedure is
//! documented at one of the configured paths, and whether that document has content.
//!
//! Facts: [`Facts`], one [`Document`] per `emergency_procedure_paths` entry (schema:
//! `policies/hipaa/schemas/emergency-access.json`). The policy `emergency.procedure` judges them.

use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// One per `emergency_procedure_paths` entry, in parameter order.
    pub documents: Vec<Document>,
}

/// One candidate document: whether it exists, is a regular file and holds more than whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Document {
    /// The `emergency_procedure_paths` entry.
    pub path: String,
    /// Whether it exists (following links).
    pub exists: bool,
    /// What the path is (absent when it does not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// Size in bytes (absent when it does not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Only whitespace (present when the file was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blank: Option<bool>,
    /// The first non-blank line, trimmed, at most 120 characters; `null` when blank (present when
    /// the file was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_line: Option<Option<String>>,
    /// Why it could not be examined; `null` when nothing went wrong.
    pub error: Option<String>,
}

impl Document {
    fn missing(path: &str, error: Option<String>) -> Document {
        Document {
            path: path.to_string(),
            exists: false,
            kind: None,
            size: None,
            blank: None,
            first_line: None,
            error,
        }
    }
}

/// Characters of a document's first line kept as evidence (a title, not the document).
const FIRST_LINE_CHARS: usize = 120;

/// The emergency-access plugin.
#[derive(Debug)]
pub struct EmergencyAccess;

impl Plugin for EmergencyAccess {
    fn manifest() -> Manifest {
        Manifest {
            id: "emergency-access",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "emergency-access",
            cfr: &["164.312(a)(2)(ii)"],
            controls: &["emergency.procedure"],
            reads: &["{emergency_procedure_paths}"],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let documents = params
            .string_list("emergency_procedure_paths")
            .iter()
            .map(|p| document(target, p))
            .collect();
        phipolicy_sdk::facts::to_json(&Facts { documents })
    }
}

phipolicy_sdk::export_plugin!(EmergencyAccess);

/// One candidate document: whether it exists, is a regular file and holds more than whitespace.
fn document(target: &dyn Target, path: &str) -> Document {
    if !path.starts_with('/') {
        return Document::missing(path, Some("not an absolute path".into()));
    }
    let st = match target.stat(path) {
        Ok(s) => s,
        Err(ReadError::NotFound) => return Document::missing(path, None),
        Err(e) => return Document::missing(path, Some(e.to_string())),
    };
    let found = Document {
        exists: true,
        kind: Some(st.kind),
        size: Some(st.size),
        ..Document::missing(path, None)
    };
    if st.kind != FileKind::Regular {
        return found;
    }
    match target.read_text(path) {
        Ok(text) => {
            let first_line = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(FIRST_LINE_CHARS).collect::<String>());
            Document {
                blank: Some(first_line.is_none()),
                first_line: Some(first_line),
                ..found
            }
        }
        Err(e) => Document {
            error: Some(e.to_string()),
            ..found
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, tree};
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "emergency-access",
        ));
    }

    fn params(paths: &str) -> Params {
        Params::from_json(&format!(r#"{{"emergency_procedure_paths": {paths}}}"#)).expect("params")
    }

    #[test]
    fn fixture_document_has_content() {
        let root = format!(
            "{}/../../engine/tests/fixtures/emergency-documented/root",
            env!("CARGO_MANIFEST_DIR")
        );
        let f = EmergencyAccess::collect(
            &DirTarget::new(root),
            &params(r#"["/etc/hipaa/emergency-access.md"]"#),
        )
        .expect("collect");
        let d = &f["documents"][0];
        assert_eq!(
            (d["exists"].clone(), d["blank"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(
            d["first_line"],
            "# Emergency (break-glass) access to PHI systems"
        );
    }

    #[test]
    fn blank_missing_directory_and_relative() {
        let (_root, target) = tree(&[("/etc/hipaa/empty.md", " \n\n"), ("/srv/doc/x", "y")]);
        let f = EmergencyAccess::collect(
            &target,
            &params(r#"["/etc/hipaa/empty.md", "/etc/hipaa/none.md", "/srv/doc", "rel.md"]"#),
        )
        .expect("collect");
        let d = f["documents"].as_array().expect("documents");
        assert_eq!(d[0]["blank"], true);
        assert_eq!(d[1]["exists"], false);
        assert_eq!(d[2]["kind"], "directory");
        assert_eq!(d[3]["error"], "not an absolute path");
    }
}
