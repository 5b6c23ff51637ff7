//! The emergency-access safeguard (45 CFR 164.312(a)(2)(ii)): whether a break-glass procedure is
//! documented at one of the configured paths, and whether that document has content.
//!
//! Facts: `{"documents": [{"path", "exists", "kind", "size", "blank", "first_line", "error"}]}`, one
//! per `emergency_procedure_paths` entry. The policy `emergency.procedure` judges them.

use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::{Value, json};

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
        let documents: Vec<Value> = params
            .string_list("emergency_procedure_paths")
            .iter()
            .map(|p| document(target, p))
            .collect();
        Ok(json!({ "documents": documents }))
    }
}

phipolicy_sdk::export_plugin!(EmergencyAccess);

/// One candidate document: whether it exists, is a regular file and holds more than whitespace.
fn document(target: &dyn Target, path: &str) -> Value {
    if !path.starts_with('/') {
        return json!({"path": path, "exists": false, "error": "not an absolute path"});
    }
    let st = match target.stat(path) {
        Ok(s) => s,
        Err(ReadError::NotFound) => return json!({"path": path, "exists": false, "error": null}),
        Err(e) => return json!({"path": path, "exists": false, "error": e.to_string()}),
    };
    if st.kind != FileKind::Regular {
        return json!({"path": path, "exists": true, "kind": st.kind, "size": st.size, "error": null});
    }
    match target.read_text(path) {
        Ok(text) => {
            let first_line = text
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(|l| l.chars().take(120).collect::<String>());
            json!({
                "path": path, "exists": true, "kind": st.kind, "size": st.size,
                "blank": first_line.is_none(), "first_line": first_line, "error": null,
            })
        }
        Err(e) => {
            json!({"path": path, "exists": true, "kind": st.kind, "size": st.size, "error": e.to_string()})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, tree};

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
