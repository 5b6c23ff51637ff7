//! The incident-response safeguard (45 CFR 164.308(a)(6)(ii)): the incident response script and
//! the evidence directory, as `stat` sees them (kind, mode, owner; the link itself when a path is a
//! symlink).
//!
//! Facts: [`Facts`], a [`FileFact`] for the script and one for the evidence directory (schema:
//! `policies/hipaa/schemas/incident-response.json`). The policy `incident.response` judges them.

use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The `incident_script` parameter's file.
    pub script: FileFact,
    /// The `incident_evidence_dir` parameter's directory.
    pub evidence_dir: FileFact,
}

/// What `stat` (following links) says about a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FileFact {
    /// The parameter's path.
    pub path: String,
    /// Whether it exists (following links).
    pub exists: bool,
    /// The following fields are present when the path exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<FileKind>,
    /// `st_mode & 0o7777`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// The mode as four octal digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode_octal: Option<String>,
    /// Owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Group.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// Where the path links to when it is a symlink (`null` otherwise); absent for a relative path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symlink_to: Option<Option<String>>,
    /// Why it could not be examined; `null` when nothing went wrong.
    pub error: Option<String>,
}

/// The incident-response plugin.
#[derive(Debug)]
pub struct IncidentResponse;

impl Plugin for IncidentResponse {
    fn manifest() -> Manifest {
        Manifest {
            id: "incident-response",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "incident-response",
            cfr: &["164.308(a)(6)(ii)"],
            controls: &["incident.response"],
            reads: &["{incident_script}", "{incident_evidence_dir}"],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let script = params
            .string("incident_script")
            .ok_or("parameter incident_script is missing")?;
        let dir = params
            .string("incident_evidence_dir")
            .ok_or("parameter incident_evidence_dir is missing")?;
        phipolicy_sdk::facts::to_json(&Facts {
            script: file_fact(target, script),
            evidence_dir: file_fact(target, dir),
        })
    }
}

phipolicy_sdk::export_plugin!(IncidentResponse);

/// What `stat` (following links) says about `path`, with the link target when it is a symlink.
fn file_fact(target: &dyn Target, path: &str) -> FileFact {
    let absent = |symlink_to, error| FileFact {
        path: path.to_string(),
        exists: false,
        kind: None,
        mode: None,
        mode_octal: None,
        uid: None,
        gid: None,
        symlink_to,
        error,
    };
    if !path.starts_with('/') {
        return absent(None, Some("not an absolute path".into()));
    }
    let symlink_to = match target.lstat(path) {
        Ok(l) if l.kind == FileKind::Symlink => target.read_link(path).ok(),
        _ => None,
    };
    match target.stat(path) {
        Ok(s) => FileFact {
            exists: true,
            kind: Some(s.kind),
            mode: Some(s.mode),
            mode_octal: Some(format!("{:04o}", s.mode)),
            uid: Some(s.uid),
            gid: Some(s.gid),
            ..absent(Some(symlink_to), None)
        },
        Err(ReadError::NotFound) => absent(Some(symlink_to), None),
        Err(e) => absent(Some(symlink_to), Some(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, tree};

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "incident-response",
        ));
    }

    fn params() -> Params {
        Params::from_json(r#"{"incident_script": "/usr/local/bin/hipaa-incident-response.sh", "incident_evidence_dir": "/var/log/hipaa-incidents"}"#)
            .expect("params")
    }

    #[test]
    fn fixture_script_and_directory_are_stat_ed() {
        let root = format!(
            "{}/../../engine/tests/fixtures/incident-hardened/root",
            env!("CARGO_MANIFEST_DIR")
        );
        let f = IncidentResponse::collect(&DirTarget::new(root), &params()).expect("collect");
        assert_eq!(f["script"]["exists"], true);
        assert_eq!(f["script"]["kind"], "regular");
        assert_eq!(f["script"]["mode"].as_u64().map(|m| m & 0o100), Some(0o100));
        assert_eq!(f["evidence_dir"]["kind"], "directory");
        assert_eq!(f["evidence_dir"]["path"], "/var/log/hipaa-incidents");
    }

    #[test]
    fn missing_paths_and_symlinks() {
        let (root, target) = tree(&[("/opt/ir/respond.sh", "#!/bin/sh\n")]);
        root.symlink(
            "/usr/local/bin/hipaa-incident-response.sh",
            "/opt/ir/respond.sh",
        );
        let f = IncidentResponse::collect(&target, &params()).expect("collect");
        assert_eq!(f["script"]["symlink_to"], "/opt/ir/respond.sh");
        assert_eq!(f["script"]["kind"], "regular");
        assert_eq!(f["evidence_dir"]["exists"], false);
        assert_eq!(f["evidence_dir"]["error"], Value::Null);
        let relative =
            Params::from_json(r#"{"incident_script": "x.sh", "incident_evidence_dir": "/d"}"#)
                .expect("params");
        let f = IncidentResponse::collect(&target, &relative).expect("collect");
        assert_eq!(f["script"]["error"], "not an absolute path");
        assert!(IncidentResponse::collect(&target, &Params::default()).is_err());
    }
}
