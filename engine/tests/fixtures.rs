//! End-to-end fixture tests, one test per case: `phipolicy eval --root` on a temporary copy of each
//! fixture tree `tests/fixtures/<case>/root` (its sidecar files applied to the copy, never to the
//! checked-out tree), asserting the statuses the case is about (`expect.yaml`), that the RVM
//! bytecode and the interpreter judge it identically, and snapshotting what the case is about:
//! the results of the controls its `expect.yaml` names and the target section. The document's
//! shape is snapshotted once (`document_shape`), so a control added elsewhere changes no case's
//! snapshot. The list of tests is the fixture directory, read at run time:
//! `cargo test -p engine --test fixtures -- rocky9-stock` runs one case.
//!
//! `PHIPOLICY_FIXTURE_DOCUMENTS=DIR` also writes each case's whole normalised result document to
//! `DIR/<case>.json` (how a refactor proves every document unchanged).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::{Map, Value, json};

mod common;

use engine::eval::{EvalRequest, prepare};
use engine::policy::Backend;
use engine::profile::ProfileSource;

/// The evaluation time of every fixture run (reproducible snapshots).
const NOW_UNIX: u64 = 1_795_867_200; // 2026-11-28T12:00:00Z

/// Fewer cases than this means the directory was damaged, not that the suite shrank on purpose.
const MIN_CASES: usize = 20;

/// The case whose document is the source of the shape snapshot: it runs every control.
const SHAPE_CASE: &str = "rocky9-stock";

fn main() {
    let args = Arguments::from_args();
    let cases = cases();
    let mut trials: Vec<Trial> = cases
        .iter()
        .map(|case| {
            let case = case.clone();
            Trial::test(case_name(&case), move || check(&case))
        })
        .collect();
    let count = cases.len();
    trials.push(Trial::test("fixture_cases_are_present", move || {
        if count < MIN_CASES {
            return Err(format!("fixture cases went missing: {count}").into());
        }
        Ok(())
    }));
    trials.push(Trial::test("document_shape", document_shape));
    trials.push(Trial::test(
        "merged_hardened_tree_judged_identically",
        merged_hardened_tree_judged_identically,
    ));
    libtest_mimic::run(&args, trials).exit();
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The fixture cases: directories under tests/fixtures with an `expect.yaml`, sorted.
fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("expect.yaml").is_file())
        .collect();
    cases.sort();
    cases
}

fn case_name(case: &Path) -> String {
    case.file_name()
        .and_then(|n| n.to_str())
        .expect("case name")
        .to_string()
}

/// A temporary copy of the case's tree with its sidecars applied (modes, mtimes, empty
/// directories): the checked-out tree is never changed.
fn copy_of(case: &Path) -> Result<tempfile::TempDir, Failed> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", case.join("root").display()))
        .arg(dir.path())
        .status()
        .map_err(|e| format!("cp: {e}"))?;
    if !status.success() {
        return Err(format!("copying {} failed ({status})", case.display()).into());
    }
    common::apply_sidecars(case, dir.path());
    Ok(dir)
}

/// The validator of `docs/results-v1.schema.json`, built once.
fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/results-v1.schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::validator_for(&schema).expect("the schema compiles")
    })
}

/// Evaluates a root with the built-in profile and returns the result document, checked against
/// the published JSON Schema (`docs/results-v1.schema.json`), then normalised.
fn evaluate(root: &Path, backend: Backend) -> Value {
    let request = EvalRequest {
        root: root.to_path_buf(),
        profile: ProfileSource::builtin().expect("built-in profile"),
        params_file: None,
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
    let mut json: Value = serde_json::from_str(&engine::report::json(&doc)).expect("json");
    let problems: Vec<String> = schema()
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "the result document does not match docs/results-v1.schema.json:\n{}",
        problems.join("\n")
    );
    // Machine-dependent fields.
    json["duration_ms"] = 0.into();
    json["target"]["root"] = "<fixture>".into();
    // The build (commit, plugin hashes) changes with every build and is not what a case is about:
    // `tests/dist.rs` checks it.
    json["build"] = "<build>".into();
    for p in json["plugins"].as_array_mut().expect("plugins") {
        p["duration_ms"] = 0.into();
        // What each plugin may read is its manifest's (registry.rs checks the manifests), and
        // the paths it was served are counted in `files_read`.
        p["reads"] = "<manifest>".into();
        p["paths_read"] = "<files_read>".into();
    }
    json
}

/// The whole document of a case, judged by the bytecode and by the interpreter, which must agree.
fn judged(case: &Path) -> Result<Value, Failed> {
    let name = case_name(case);
    let copy = copy_of(case)?;
    let doc = evaluate(copy.path(), Backend::BytecodeOnly);
    // The built-in policies run as bytecode compiled at build time; the interpreter, which
    // `phipolicy test` and policy directories use, must judge every case identically.
    let interpreted = evaluate(copy.path(), Backend::Interpreter);
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
    if !differing.is_empty() || doc != interpreted {
        return Err(format!(
            "{name}: the RVM bytecode and the interpreter disagree:\n{}",
            differing.join("\n")
        )
        .into());
    }
    if let Some(dir) = std::env::var_os("PHIPOLICY_FIXTURE_DOCUMENTS") {
        let path = Path::new(&dir).join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&doc).expect("json"))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(doc)
}

/// The statuses `expect.yaml` asserts, control -> status.
fn expectations(case: &Path) -> Result<BTreeMap<String, String>, Failed> {
    let file = case.join("expect.yaml");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let expect: BTreeMap<String, String> =
        common::yaml(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    if expect.is_empty() {
        return Err(format!("{}: names no control", file.display()).into());
    }
    Ok(expect)
}

/// One case: `expect.yaml` holds, and the snapshot of what the case is about.
fn check(case: &Path) -> Result<(), Failed> {
    let name = case_name(case);
    let expect = expectations(case)?;
    let doc = judged(case)?;
    let results = doc["results"].as_array().expect("results");
    let mut wrong = Vec::new();
    for (control, want) in &expect {
        let Some(result) = results.iter().find(|r| r["control"] == control.as_str()) else {
            wrong.push(format!("no result for {control}"));
            continue;
        };
        let got = result["status"].as_str().unwrap_or("?");
        if got != want {
            wrong.push(format!(
                "{control} is {got}, expected {want}; reasons: {}",
                result["reasons"]
            ));
        }
    }
    if !wrong.is_empty() {
        return Err(format!("{name}: {}", wrong.join("\n")).into());
    }
    let about = about(&doc, &expect);
    insta::with_settings!({ snapshot_path => "snapshots/fixtures", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(name, serde_json::to_string_pretty(&about).unwrap());
    });
    Ok(())
}

/// What a case is about: the results of the controls its `expect.yaml` names (in catalogue
/// order), what the plugins feeding them were granted by citation or refused, and the target.
fn about(doc: &Value, expect: &BTreeMap<String, String>) -> Value {
    let results: Vec<&Value> = doc["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["control"].as_str().is_some_and(|c| expect.contains_key(c)))
        .collect();
    let plugins: Vec<Value> = doc["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter(|p| {
            p["controls"].as_array().is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.as_str().is_some_and(|c| expect.contains_key(c)))
            })
        })
        .map(|p| {
            let mut kept = Map::new();
            for key in ["id", "referenced_reads", "denied", "denied_count", "error"] {
                if let Some(v) = p.get(key) {
                    kept.insert(key.to_string(), v.clone());
                }
            }
            Value::Object(kept)
        })
        .collect();
    json!({
        "target": doc["target"],
        "results": results,
        "plugins": plugins,
    })
}

/// The document's shape, once: every key, and the type of every value (arrays by the union of
/// their elements' shapes), from the case that runs every control.
fn document_shape() -> Result<(), Failed> {
    let case = fixtures_dir().join(SHAPE_CASE);
    let doc = judged(&case)?;
    insta::with_settings!({ snapshot_path => "snapshots/fixtures", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!("_document_shape", serde_json::to_string_pretty(&shape(&doc)).unwrap());
    });
    Ok(())
}

/// The shape of a JSON value: objects keep their keys, arrays merge their elements' shapes,
/// scalars become their type's name.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(items) => {
            let mut merged: Option<Value> = None;
            for item in items {
                let s = shape(item);
                merged = Some(match merged {
                    None => s,
                    Some(m) => merge(m, s),
                });
            }
            json!([merged.unwrap_or(json!("empty"))])
        }
    }
}

/// Two shapes as one: objects merge their keys, differing scalars become `"a|b"`.
fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (Value::Object(mut x), Value::Object(y)) => {
            for (k, v) in y {
                let merged = match x.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                x.insert(k, merged);
            }
            Value::Object(x)
        }
        (Value::Array(mut x), Value::Array(mut y)) => match (x.pop(), y.pop()) {
            (Some(p), Some(q)) => json!([merge(p, q)]),
            (p, q) => json!([p.or(q).unwrap_or(json!("empty"))]),
        },
        (a, b) if a == b => a,
        (Value::String(a), Value::String(b)) => {
            let mut kinds: Vec<&str> = a.split('|').chain(b.split('|')).collect();
            kinds.sort();
            kinds.dedup();
            json!(kinds.join("|"))
        }
        (a, _) => a,
    }
}

/// Every `*-hardened` fixture merged into one tree (what `cargo xtask bench` measures): larger
/// inputs than any single case (regorus' RVM stopped at its default 25,000-instruction budget on
/// it), judged identically by the bytecode and the interpreter, with no control in error.
fn merged_hardened_tree_judged_identically() -> Result<(), Failed> {
    let merged = tempfile::tempdir().expect("tempdir");
    let hardened: Vec<PathBuf> = cases()
        .into_iter()
        .filter(|c| case_name(c).ends_with("-hardened"))
        .collect();
    if hardened.len() < 5 {
        return Err("hardened fixtures went missing".into());
    }
    for case in &hardened {
        let copy = copy_of(case)?;
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", copy.path().display()))
            .arg(merged.path())
            .status()
            .map_err(|e| format!("cp: {e}"))?;
        if !status.success() {
            return Err(format!("copying {}", case.display()).into());
        }
    }
    let bytecode = evaluate(merged.path(), Backend::BytecodeOnly);
    let interpreted = evaluate(merged.path(), Backend::Interpreter);
    if bytecode["results"] != interpreted["results"] {
        return Err("the bytecode and the interpreter judge the merged tree differently".into());
    }
    for r in bytecode["results"].as_array().expect("results") {
        if r["status"] == "error" {
            return Err(format!("{}: {}", r["control"], r["reasons"]).into());
        }
    }
    Ok(())
}
