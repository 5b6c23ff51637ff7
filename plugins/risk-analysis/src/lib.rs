//! The risk-analysis safeguard (45 CFR 164.308(a)(1)(ii)(A)): the risk-assessment evidence files
//! matching `risk_evidence_glob`, with their modification times.
//!
//! Facts: [`Facts`], the glob, one [`Match`] per matching path and the paths that could not be
//! listed or examined (schema: `policies/hipaa/schemas/risk-analysis.json`). The policy
//! `risk.evidence` compares the newest regular file's time with the evaluation time.

use phipolicy_sdk::facts::Unreadable;
use phipolicy_sdk::glob::fnmatch;
use phipolicy_sdk::path::{file_name, join, parent};
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The `risk_evidence_glob` parameter.
    pub glob: String,
    /// Every path matching the glob, in byte order.
    pub matches: Vec<Match>,
    /// Directories that could not be listed and matches that could not be examined; `error` is a
    /// phrase: "could not be listed: ..." or "could not be examined: ..." (or "not an absolute
    /// pattern" for the glob itself).
    pub errors: Vec<Unreadable>,
}

/// A path matching the glob, as `stat` sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Match {
    /// The path inside the target.
    pub path: String,
    /// What it is (only regular files count as evidence).
    pub kind: FileKind,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Size in bytes.
    pub size: u64,
}

/// An entry of [`Facts::errors`].
fn problem(path: &str, error: String) -> Unreadable {
    Unreadable {
        path: path.to_string(),
        error,
    }
}

/// The risk-analysis plugin.
#[derive(Debug)]
pub struct RiskAnalysis;

impl Plugin for RiskAnalysis {
    fn manifest() -> Manifest {
        Manifest {
            id: "risk-analysis",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "risk-analysis",
            cfr: &["164.308(a)(1)(ii)(A)"],
            controls: &["risk.evidence"],
            reads: &["{risk_evidence_glob}"],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let pattern = params
            .string("risk_evidence_glob")
            .ok_or("parameter risk_evidence_glob is missing")?;
        if !pattern.starts_with('/') {
            return phipolicy_sdk::facts::to_json(&Facts {
                glob: pattern.to_string(),
                matches: Vec::new(),
                errors: vec![problem(pattern, "not an absolute pattern".into())],
            });
        }
        let mut matches = Vec::new();
        let mut errors = Vec::new();
        for path in candidates(target, pattern, &mut errors) {
            match target.stat(&path) {
                Ok(s) => matches.push(Match {
                    path,
                    kind: s.kind,
                    mtime: s.mtime,
                    size: s.size,
                }),
                Err(e) => {
                    let error = format!("could not be examined: {e}");
                    errors.push(problem(&path, error));
                }
            }
        }
        phipolicy_sdk::facts::to_json(&Facts {
            glob: pattern.to_string(),
            matches,
            errors,
        })
    }
}

phipolicy_sdk::export_plugin!(RiskAnalysis);

/// Paths matching `pattern`. When only the last component has wildcards (the usual
/// `/var/log/hipaa-risk-assessment-*.txt`) its directory is listed here, so that a listing the
/// target refuses is reported in `errors` instead of looking like "no evidence"; deeper patterns
/// use the SDK's glob.
fn candidates(target: &dyn Target, pattern: &str, errors: &mut Vec<Unreadable>) -> Vec<String> {
    let dir = parent(pattern);
    if dir.contains(['*', '?', '[']) {
        return target.glob("/", pattern);
    }
    let name_pattern = file_name(pattern);
    match target.list_dir(dir) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| !e.name.starts_with('.') || name_pattern.starts_with('.'))
            .filter(|e| fnmatch(name_pattern, &e.name))
            .map(|e| join(dir, &e.name))
            .collect(),
        Err(ReadError::NotFound) => Vec::new(),
        Err(e) => {
            errors.push(problem(dir, format!("could not be listed: {e}")));
            Vec::new()
        }
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
            "risk-analysis",
        ));
    }

    fn params(glob: &str) -> Params {
        Params::from_json(&format!(r#"{{"risk_evidence_glob": "{glob}"}}"#)).expect("params")
    }

    #[test]
    fn fixture_evidence_files_match_the_default_glob() {
        let root = format!(
            "{}/../../engine/tests/fixtures/risk-recent/root",
            env!("CARGO_MANIFEST_DIR")
        );
        let f = RiskAnalysis::collect(
            &DirTarget::new(root),
            &params("/var/log/hipaa-risk-assessment-*.txt"),
        )
        .expect("collect");
        let m = f["matches"].as_array().expect("matches");
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[1]["path"],
            "/var/log/hipaa-risk-assessment-2026-06-30.txt"
        );
        assert_eq!(m[1]["kind"], "regular");
    }

    #[test]
    fn unlistable_directory_is_an_error_not_an_absence() {
        let (root, target) = tree(&[("/etc/os-release", "ID=debian\n")]);
        std::fs::write(
            root.path().join("var"),
            "a file where a directory should be",
        )
        .expect("write");
        let f = RiskAnalysis::collect(&target, &params("/var/log/hipaa-risk-assessment-*.txt"))
            .expect("collect");
        assert_eq!(f["errors"][0]["path"], "/var/log");
        assert!(
            f["errors"][0]["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("could not be listed"))
        );
    }

    #[test]
    fn no_match_directories_and_relative_patterns() {
        let (_root, target) = tree(&[
            ("/var/log/hipaa-risk-assessment-a.txt/inner", "x"),
            ("/var/log/other.txt", "x"),
        ]);
        let f = RiskAnalysis::collect(&target, &params("/var/log/hipaa-risk-assessment-*.txt"))
            .expect("collect");
        assert_eq!(f["matches"][0]["kind"], "directory");
        let f = RiskAnalysis::collect(&target, &params("/srv/none-*.txt")).expect("collect");
        assert_eq!(f["matches"], json!([]));
        let f = RiskAnalysis::collect(&target, &params("/var/*/hipaa-risk-assessment-*.txt"))
            .expect("collect");
        assert_eq!(
            f["matches"][0]["path"],
            "/var/log/hipaa-risk-assessment-a.txt"
        );
        let f = RiskAnalysis::collect(&target, &params("risk-*.txt")).expect("collect");
        assert_eq!(f["errors"][0]["error"], "not an absolute pattern");
    }
}
