//! End-to-end fixture tests: `phipolicy eval --root` on each fixture root filesystem under
//! `tests/fixtures/<case>/root`, asserting the statuses the case is about (`expect.yaml`) and
//! snapshotting the whole result document (insta).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

mod common;

use engine::eval::{EvalRequest, prepare};
use engine::policy::Backend;
use engine::profile::ProfileSource;

/// The evaluation time of every fixture run (reproducible snapshots).
const NOW_UNIX: u64 = 1_795_867_200; // 2026-11-28T12:00:00Z

/// Evaluates a fixture root with the built-in profile and returns the normalised result document.
fn evaluate(root: &Path, params: Option<&Path>, backend: Backend) -> serde_json::Value {
    let request = EvalRequest {
        root: root.to_path_buf(),
        profile: ProfileSource::builtin().expect("built-in profile"),
        params_file: params.map(Path::to_path_buf),
        waivers_file: None,
        controls: None,
        plugin_dirs: Vec::new(),
        plugin_cache: None,
        no_cache: false,
        trust: Default::default(),
        now: Some(UNIX_EPOCH + Duration::from_secs(NOW_UNIX)),
        backend,
    };
    let doc = prepare(request).expect("inputs are valid").evaluate();
    let mut json: serde_json::Value =
        serde_json::from_str(&engine::report::json(&doc)).expect("json");
    // Machine-dependent fields.
    json["duration_ms"] = 0.into();
    json["target"]["root"] = "<fixture>".into();
    // The build (commit, plugin hashes) changes with every build and is not what a case is about:
    // `tests/dist.rs` checks it.
    json["build"] = "<build>".into();
    for p in json["plugins"].as_array_mut().expect("plugins") {
        p["duration_ms"] = 0.into();
        // What each plugin may read is its manifest's (registry.rs checks the manifests), and
        // the paths it was served are counted in `files_read`: listing both in every snapshot
        // would rewrite them all whenever a plugin's globs change. `referenced_reads` and
        // `denied` stay: they are what a case is about.
        p["reads"] = "<manifest>".into();
        p["paths_read"] = "<files_read>".into();
    }
    json
}

/// The fixture cases: directories under tests/fixtures with an `expect.yaml`, sorted.
fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.yaml").is_file())
        .collect();
    cases.sort();
    cases
}

/// Evaluates one case: asserts `expect.yaml` and the snapshot.
fn check(case: &Path) {
    let name = case
        .file_name()
        .and_then(|n| n.to_str())
        .expect("case name");
    let expect_text = std::fs::read_to_string(case.join("expect.yaml")).expect("read expect.yaml");
    let expect: BTreeMap<String, String> =
        serde_yaml::from_str(&expect_text).expect("expect.yaml is a map");
    assert!(!expect.is_empty(), "{name}: expect.yaml names no control");
    common::apply_sidecars(case, &case.join("root"));
    let params = case.join("params.yaml");
    let params = params.is_file().then_some(params.as_path());
    let doc = evaluate(&case.join("root"), params, Backend::BytecodeOnly);
    // The built-in policies run as bytecode compiled at build time; the interpreter, which
    // `phipolicy test` and policy directories use, must judge every case identically.
    let interpreted = evaluate(&case.join("root"), params, Backend::Interpreter);
    let differing: Vec<String> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .zip(interpreted["results"].as_array().expect("results"))
        .filter(|(b, i)| b != i)
        .map(|(b, i)| {
            format!(
                "{}: bytecode {} {}, interpreter {} {}",
                b["control"], b["status"], b["reasons"], i["status"], i["reasons"]
            )
        })
        .collect();
    assert!(
        differing.is_empty() && doc == interpreted,
        "{name}: the RVM bytecode and the interpreter disagree:\n{}",
        differing.join("\n")
    );
    let results = doc["results"].as_array().expect("results");
    for (control, want) in &expect {
        let result = results
            .iter()
            .find(|r| r["control"] == control.as_str())
            .unwrap_or_else(|| panic!("{name}: no result for {control}"));
        let got = result["status"].as_str().expect("status");
        assert_eq!(
            got, want,
            "{name}: {control} is {got}, expected {want}; reasons: {}",
            result["reasons"]
        );
    }
    insta::with_settings!({ snapshot_path => "snapshots/fixtures", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, serde_json::to_string_pretty(&doc).unwrap());
    });
}

#[test]
fn fixtures() {
    let cases = cases();
    assert!(
        cases.len() >= 20,
        "fixture cases went missing: {}",
        cases.len()
    );
    let mut failed = Vec::new();
    for case in &cases {
        if std::panic::catch_unwind(|| check(case)).is_err() {
            failed.push(case.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} fixture cases failed: {}",
        failed.len(),
        cases.len(),
        failed.join(", ")
    );
}

/// Every `*-hardened` fixture merged into one tree (what `cargo xtask bench` measures): larger
/// inputs than any single case (regorus' RVM stopped at its default 25,000-instruction budget on
/// it), judged identically by the bytecode and the interpreter, with no control in error.
#[test]
fn merged_hardened_tree_judged_identically() {
    let merged = tempfile::tempdir().expect("tempdir");
    let hardened: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|c| {
            c.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-hardened"))
        })
        .collect();
    assert!(hardened.len() >= 5, "hardened fixtures went missing");
    for case in &hardened {
        common::apply_sidecars(case, &case.join("root"));
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", case.join("root").display()))
            .arg(merged.path())
            .status()
            .expect("cp");
        assert!(status.success(), "copying {}", case.display());
    }
    let bytecode = evaluate(merged.path(), None, Backend::BytecodeOnly);
    let interpreted = evaluate(merged.path(), None, Backend::Interpreter);
    assert_eq!(bytecode["results"], interpreted["results"]);
    for r in bytecode["results"].as_array().expect("results") {
        assert_ne!(r["status"], "error", "{}: {}", r["control"], r["reasons"]);
    }
}
