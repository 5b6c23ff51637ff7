//! Conformance is enumerable: every control of the built-in profile must have a plugin that feeds
//! it, a Rego unit-test module, `explain` text and a remediation, and fixture cases that make it
//! pass and fail. Adding a control without them cannot go green.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use engine::policy::{PolicySet, module_of};
use engine::profile::ProfileSource;
use engine::runner::Runner;

/// Controls the spec never fails, with the status that takes `fail`'s place in the fixture
/// requirement: controls.md says a missing emergency procedure is `manual`, never `fail`.
const NEVER_FAILS: [(&str, &str); 1] = [("emergency.procedure", "manual")];

/// control -> statuses some fixture case expects for it.
fn fixture_statuses() -> BTreeMap<String, BTreeSet<String>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let expect = entry.unwrap().path().join("expect.yaml");
        if !expect.is_file() {
            continue;
        }
        let map: BTreeMap<String, String> =
            engine::yaml::from_str(&std::fs::read_to_string(&expect).unwrap()).unwrap();
        for (control, status) in map {
            out.entry(control).or_default().insert(status);
        }
    }
    out
}

/// The catalogue is profile.yaml's list: every control it names has its policy module, and every
/// policy module of the built-in profile is a control it names (a module left behind by a removed
/// control, or a control added without its module, fails here).
#[test]
fn the_catalogue_is_the_profile_and_its_policy_modules() {
    let source = ProfileSource::builtin().unwrap();
    let controls: BTreeSet<String> = source.profile.controls.iter().cloned().collect();
    assert_eq!(
        controls.len(),
        source.profile.controls.len(),
        "profile.yaml lists a control twice: {:?}",
        source.profile.controls
    );
    let modules: BTreeSet<String> = source
        .policy_files()
        .iter()
        .filter_map(|f| {
            let name = Path::new(&f.path).file_name()?.to_str()?;
            name.strip_suffix(".rego").map(String::from)
        })
        .collect();
    let expected: BTreeSet<String> = controls.iter().map(|c| module_of(c)).collect();
    let missing: Vec<&String> = expected.difference(&modules).collect();
    let extra: Vec<&String> = modules
        .difference(&expected)
        .filter(|m| !is_library_module(&source, m))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "policy modules missing for controls: {missing:?}; modules no control of profile.yaml names: {extra:?}"
    );
}

/// A module that is not a control's: a library the controls import (package outside
/// `phipolicy.<profile>.`).
fn is_library_module(source: &ProfileSource, module: &str) -> bool {
    let prefix = format!("package phipolicy.{}.", source.profile.name);
    source
        .files
        .iter()
        .filter(|f| f.path.ends_with(&format!("/{module}.rego")))
        .all(|f| !f.text.lines().any(|l| l.trim_start().starts_with(&prefix)))
}

#[path = "../src/builtin_crates.rs"]
mod builtin_crates;

/// The workspace's built-in plugin crates (`plugins/*` marked `builtin = true`).
fn workspace_builtin_plugins() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins");
    builtin_crates::builtin_plugins(&dir).into_iter().collect()
}

#[test]
fn every_control_is_complete() {
    let source = ProfileSource::builtin().unwrap();
    let policies = PolicySet::load(&source.profile.name, source.policy_files()).unwrap();
    let runner = Runner::new().unwrap();
    let plugins = runner.builtin_plugins().unwrap();
    let fixtures = fixture_statuses();
    let mut problems = Vec::new();
    for control in &source.profile.controls {
        let feeders: Vec<&str> = plugins
            .iter()
            .filter(|p| p.manifest.controls.contains(control))
            .map(|p| p.manifest.id.as_str())
            .collect();
        if feeders.len() != 1 {
            problems.push(format!(
                "{control}: fed by {} built-in plugins ({feeders:?}), expected exactly one",
                feeders.len()
            ));
        }
        match policies.metadata(control) {
            Ok(m) => {
                for (field, value) in [
                    ("title", &m.title),
                    ("description", &m.description),
                    ("remediation", &m.remediation),
                ] {
                    if value.trim().len() < 20 {
                        problems.push(format!(
                            "{control}: metadata.{field} is missing or too short"
                        ));
                    }
                }
                if m.cfr.is_empty() {
                    problems.push(format!("{control}: metadata.cfr is empty"));
                }
                if m.facts.is_empty() {
                    problems.push(format!(
                        "{control}: metadata.facts does not declare the facts the policy reads"
                    ));
                }
                const TYPES: [&str; 6] = ["object", "array", "string", "number", "boolean", "null"];
                for (key, types) in &m.facts {
                    if types.is_empty() || types.iter().any(|t| !TYPES.contains(&t.as_str())) {
                        problems.push(format!(
                            "{control}: metadata.facts.{key} has bad types {types:?}"
                        ));
                    }
                }
                for p in &m.parameters {
                    if !source.profile.parameters.contains_key(p) {
                        problems.push(format!("{control}: metadata names unknown parameter {p}"));
                    }
                }
            }
            Err(e) => problems.push(format!("{control}: {e}")),
        }
        let test_file = format!("{}_test.rego", module_of(control));
        let has_tests = source.files.iter().any(|f| {
            f.path.ends_with(&format!("/{test_file}"))
                && f.text.lines().any(|l| l.starts_with("test_"))
        });
        if !has_tests {
            problems.push(format!(
                "{control}: no test_* rules in policies/hipaa/{test_file}"
            ));
        }
        let statuses = fixtures.get(control).cloned().unwrap_or_default();
        let instead_of_fail = NEVER_FAILS
            .iter()
            .find(|(c, _)| c == control)
            .map_or("fail", |(_, s)| *s);
        for needed in ["pass", instead_of_fail] {
            if !statuses.contains(needed) {
                problems.push(format!("{control}: no fixture case expects `{needed}` (engine/tests/fixtures/*/expect.yaml)"));
            }
        }
    }
    for plugin in &plugins {
        for c in &plugin.manifest.controls {
            if !source.profile.controls.contains(c) {
                problems.push(format!(
                    "plugin {} declares {c}, which the profile does not list",
                    plugin.manifest.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "incomplete controls:\n  {}",
        problems.join("\n  ")
    );
}

/// The manifests `build.rs` embedded are the ones the components themselves return, and every
/// built-in artifact loads on this machine.
#[test]
fn embedded_manifests_match_the_components() {
    let runner = Runner::new().unwrap();
    let plugins = runner.builtin_plugins().unwrap();
    let embedded: BTreeSet<String> = plugins.iter().map(|p| p.manifest.id.clone()).collect();
    assert_eq!(
        embedded,
        workspace_builtin_plugins(),
        "the embedded plugins are the workspace's built-in plugin crates (id = crate name)"
    );
    for plugin in &plugins {
        runner
            .verify_builtin(plugin)
            .unwrap_or_else(|e| panic!("{}: {e}", plugin.manifest.id));
    }
}

/// Built-in artifacts are mapped from the private cache: written on first use under their
/// sha256, another build's copies removed, unrelated files left alone; the run's facts are the
/// same as from the embedded bytes.
#[test]
fn builtin_artifacts_are_cached_by_sha256_and_stale_copies_removed() {
    let cache = tempfile::tempdir().unwrap();
    let stale = cache
        .path()
        .join(format!("builtin-integrity-{}.cwasm", "a".repeat(64)));
    let unrelated = cache.path().join("builtin-integrity-notes.cwasm");
    std::fs::write(&stale, b"old build").unwrap();
    std::fs::write(&unrelated, b"not ours").unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/integrity-750/root");
    let view = engine::fsview::TargetView::open(&root).unwrap();
    let run = |runner: Runner| {
        let runner = std::sync::Arc::new(runner);
        let plugins = runner.builtin_plugins().unwrap();
        let p = std::sync::Arc::new(
            plugins
                .into_iter()
                .find(|p| p.manifest.id == "integrity")
                .unwrap(),
        );
        let reads = vec!["/var/data/phi/**".to_string(), "/etc/**".to_string()];
        let r = runner.run(
            &p,
            &view,
            "{\"phi_paths\": [\"/var/data/phi\"]}",
            &reads,
            std::time::Duration::ZERO,
        );
        r.facts.expect("facts")
    };
    std::fs::set_permissions(
        cache.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    let private = engine::runner::cache::PrivateCache::open(cache.path(), None).unwrap();
    let cached = run(Runner::new().unwrap().with_artifact_cache(Some(private)));
    let embedded = run(Runner::new().unwrap());
    assert_eq!(cached, embedded);
    let names: Vec<String> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!stale.exists(), "stale copy removed: {names:?}");
    assert!(unrelated.exists(), "unrelated file kept: {names:?}");
    assert!(
        names.iter().any(|n| n.starts_with("builtin-integrity-")
            && n.len() == "builtin-integrity-.cwasm".len() + 64),
        "{names:?}"
    );
}
