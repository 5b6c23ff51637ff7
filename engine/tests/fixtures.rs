//! End-to-end fixture tests: `phipolicy eval --root` on each fixture root filesystem under
//! `tests/fixtures/<case>/root`, asserting the statuses the case is about (`expect.yaml`) and
//! snapshotting the whole result document (insta).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use engine::eval::{EvalRequest, prepare};
use engine::profile::ProfileSource;

/// The evaluation time of every fixture run (reproducible snapshots).
const NOW_UNIX: u64 = 1_795_867_200; // 2026-11-28T12:00:00Z

/// Evaluates a fixture root with the built-in profile and returns the normalised result document.
fn evaluate(root: &Path, params: Option<&Path>) -> serde_json::Value {
    let request = EvalRequest {
        root: root.to_path_buf(),
        profile: ProfileSource::builtin().expect("built-in profile"),
        params_file: params.map(Path::to_path_buf),
        waivers_file: None,
        controls: None,
        plugin_dirs: Vec::new(),
        plugin_cache: None,
        now: Some(UNIX_EPOCH + Duration::from_secs(NOW_UNIX)),
    };
    let doc = prepare(request).expect("inputs are valid").evaluate();
    let mut json: serde_json::Value =
        serde_json::from_str(&engine::report::json(&doc)).expect("json");
    // Machine-dependent fields.
    json["duration_ms"] = 0.into();
    json["target"]["root"] = "<fixture>".into();
    for p in json["plugins"].as_array_mut().expect("plugins") {
        p["duration_ms"] = 0.into();
    }
    json
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*/expect.yaml", |expect_path| {
        let case = expect_path.parent().expect("case dir");
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .expect("case name");
        let expect: BTreeMap<String, String> =
            serde_yaml::from_str(&std::fs::read_to_string(expect_path).expect("read expect.yaml"))
                .expect("expect.yaml is a map");
        assert!(!expect.is_empty(), "{name}: expect.yaml names no control");
        let params = case.join("params.yaml");
        let doc = evaluate(
            &case.join("root"),
            params.is_file().then_some(params.as_path()),
        );
        let statuses: BTreeMap<String, String> = doc["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["control"].as_str().unwrap().to_string(),
                    r["status"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for (control, want) in &expect {
            let got = statuses
                .get(control)
                .unwrap_or_else(|| panic!("{name}: no result for {control}"));
            let reasons = doc["results"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["control"] == control.as_str())
                .unwrap()["reasons"]
                .clone();
            assert_eq!(
                got, want,
                "{name}: {control} is {got}, expected {want}; reasons: {reasons}"
            );
        }
        insta::assert_snapshot!(name, serde_json::to_string_pretty(&doc).unwrap());
    });
}
