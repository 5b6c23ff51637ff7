//! The incident-response safeguard (45 CFR 164.308(a)(6)(ii)): the incident response script and
//! the evidence directory, as `stat` sees them (kind, mode, owner; the link itself when a path is a
//! symlink).
//!
//! Facts: `{"script": <file>, "evidence_dir": <file>}`, each `{"path", "exists", "kind", "mode",
//! "mode_octal", "uid", "gid", "symlink_to", "error"}`. The policy `incident.response` judges them.

use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target};
use serde_json::{Value, json};

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
        Ok(json!({
            "script": file_fact(target, script),
            "evidence_dir": file_fact(target, dir),
        }))
    }
}

phipolicy_sdk::export_plugin!(IncidentResponse);

/// What `stat` (following links) says about `path`, with the link target when it is a symlink.
fn file_fact(target: &dyn Target, path: &str) -> Value {
    if !path.starts_with('/') {
        return json!({"path": path, "exists": false, "error": "not an absolute path"});
    }
    let symlink_to = match target.lstat(path) {
        Ok(l) if l.kind == phipolicy_sdk::FileKind::Symlink => target.read_link(path).ok(),
        _ => None,
    };
    match target.stat(path) {
        Ok(s) => json!({
            "path": path, "exists": true, "kind": s.kind, "mode": s.mode,
            "mode_octal": format!("{:04o}", s.mode), "uid": s.uid, "gid": s.gid,
            "symlink_to": symlink_to, "error": null,
        }),
        Err(ReadError::NotFound) => {
            json!({"path": path, "exists": false, "symlink_to": symlink_to, "error": null})
        }
        Err(e) => {
            json!({"path": path, "exists": false, "symlink_to": symlink_to, "error": e.to_string()})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, tree};

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
