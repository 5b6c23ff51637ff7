//! Native tests of the integrity plugin on the `integrity-*` fixture trees (their `modes.yaml`
//! applied first, as the engine's fixture test does) and on generated trees.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use phipolicy_sdk::testing::{DirTarget, TempRoot};
use phipolicy_sdk::{Params, Plugin};
use serde_json::{Value, json};

use super::limits::{MAX_REPORTED, MAX_WALK_ENTRIES};
use super::{Facts, Integrity, collect_facts, normalize, walk};

/// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn schema_is_fresh() {
    phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
        "integrity",
    ));
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Applies the case's `modes.yaml` (lines `/in/root/path: "0750"`).
fn apply_modes(case: &Path) {
    let Ok(text) = std::fs::read_to_string(case.join("modes.yaml")) else {
        return;
    };
    for line in text.lines().filter(|l| l.starts_with('/')) {
        let (path, mode) = line.split_once(':').unwrap();
        let mode = u32::from_str_radix(mode.trim().trim_matches('"'), 8).unwrap();
        chmod(&case.join("root").join(path.trim_start_matches('/')), mode);
    }
}

fn fixture(case: &str) -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../engine/tests/fixtures")
        .join(case);
    apply_modes(&dir);
    Integrity::collect(&DirTarget::new(dir.join("root")), &Params::default()).expect("collect")
}

#[test]
fn manifest_declares_the_phi_paths() {
    let m = Integrity::manifest();
    assert_eq!(m.controls, &["integrity.phi-permissions"]);
    assert!(m.reads.contains(&"{phi_paths}/**"));
}

#[test]
fn mode_750_directory() {
    let f = fixture("integrity-750");
    assert_eq!(f["limits"]["max_walk_entries"], MAX_WALK_ENTRIES);
    let d = &f["phi_paths"][0];
    assert_eq!(d["path"], "/var/data/phi");
    assert_eq!(d["kind"], "directory");
    assert_eq!(d["mode_octal"], "0750");
    let w = &d["walk"];
    assert_eq!(w["entries"], 3);
    assert_eq!(w["truncated"], false);
    assert_eq!(w["world_readable_count"], 0);
    assert_eq!(w["world_accessible"], json!([]));
}

#[test]
fn owner_and_group_are_named_from_the_target() {
    let f = fixture("integrity-700");
    let d = &f["phi_paths"][0];
    assert_eq!(d["mode_octal"], "0700");
    let uid = d["uid"].as_u64().unwrap();
    // The checkout belongs to whoever runs the tests; only root is in the fixture's passwd.
    if uid == 0 {
        assert_eq!(
            d["owner"],
            json!({"name": "root", "path": "/etc/passwd", "line": 1})
        );
    }
}

#[test]
fn world_accessible_files_and_outside_links() {
    let f = fixture("integrity-world-readable-file");
    let w = &f["phi_paths"][0]["walk"];
    assert_eq!(w["world_readable_count"], 2);
    assert_eq!(w["world_writable_count"], 1);
    assert_eq!(
        w["world_accessible"][0],
        json!({"path": "/var/data/phi/intake.txt", "kind": "regular", "mode_octal": "0666", "world_readable": true, "world_writable": true})
    );
    assert_eq!(
        w["world_accessible"][1]["path"],
        "/var/data/phi/patients/records.csv"
    );
    assert_eq!(w["symlinks"], 1);
    assert_eq!(
        w["symlinks_outside"],
        json!([{"path": "/var/data/phi/patients/extract.csv", "link": "/srv/exports/phi-extract.csv", "resolves_to": "/srv/exports/phi-extract.csv"}])
    );
}

#[test]
fn missing_directory() {
    let f = fixture("integrity-missing");
    assert_eq!(f["phi_paths"][0]["exists"], false);
    assert_eq!(f["unreadable"], json!([]));
}

#[test]
fn walk_stops_at_the_entry_limit_and_says_so() {
    let root = TempRoot::new();
    for i in 0..30 {
        root.write(&format!("/phi/f{i:02}"), "x");
    }
    let target = DirTarget::new(root.path());
    let summary = walk(&target, "/phi", 10);
    assert_eq!(summary.entries, 10);
    assert!(summary.truncated);
    assert_eq!(
        summary.truncated_reason.as_deref(),
        Some("stopped after 10 entries (limit of the walk)")
    );
    let facts = serde_json::to_value(collect_facts(&target, &["/phi".to_string()], 10)).expect("facts");
    assert_eq!(facts["phi_paths"][0]["walk"]["truncated"], true);
    assert_eq!(facts["limits"]["max_walk_entries"], 10);
}

#[test]
fn only_the_first_world_accessible_entries_are_listed() {
    let root = TempRoot::new();
    for i in 0..25 {
        root.write(&format!("/phi/f{i:02}"), "x");
        chmod(&root.path().join(format!("phi/f{i:02}")), 0o644);
    }
    let summary = walk(&DirTarget::new(root.path()), "/phi", MAX_WALK_ENTRIES);
    assert_eq!(summary.world_readable_count, 25);
    assert_eq!(summary.world_accessible.len(), MAX_REPORTED);
    assert_eq!(summary.world_accessible[0].path, "/phi/f00");
}

#[test]
fn symlinks_are_not_followed() {
    let root = TempRoot::new();
    root.write("/elsewhere/big/secret", "x");
    chmod(&root.path().join("elsewhere/big/secret"), 0o644);
    root.write("/phi/a", "x");
    chmod(&root.path().join("phi/a"), 0o600);
    root.symlink("/phi/loop", "/phi");
    root.symlink("/phi/out", "../elsewhere/big");
    root.symlink("/phi/in", "a");
    let summary = walk(&DirTarget::new(root.path()), "/phi", MAX_WALK_ENTRIES);
    assert_eq!(summary.entries, 4);
    assert_eq!(summary.world_readable_count, 0);
    assert_eq!(summary.symlinks, 3);
    let outside: Vec<_> = summary
        .symlinks_outside
        .iter()
        .map(|l| l.resolves_to.as_str())
        .collect();
    assert_eq!(outside, vec!["/elsewhere/big"]);
}

#[test]
fn custom_phi_paths_and_non_directories() {
    let root = TempRoot::new();
    root.write("/srv/phi.db", "x");
    let params = Params::from_json(r#"{"phi_paths": ["/srv/phi.db", "/nope"]}"#).unwrap();
    let f = Integrity::collect(&DirTarget::new(root.path()), &params).unwrap();
    assert_eq!(f["phi_paths"][0]["kind"], "regular");
    assert_eq!(f["phi_paths"][0]["walk"], Value::Null);
    assert_eq!(f["phi_paths"][1]["exists"], false);
    let none = Params::from_json(r#"{"phi_paths": []}"#).unwrap();
    let f = Integrity::collect(&DirTarget::new(root.path()), &none).unwrap();
    assert_eq!(f["phi_paths"], json!([]));
}

#[test]
fn normalize_is_lexical() {
    assert_eq!(normalize("/a/./b/../c/"), "/a/c");
    assert_eq!(normalize("/../.."), "/");
    assert_eq!(normalize(""), "/");
}
