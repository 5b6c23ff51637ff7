//! What the packages ship besides the engine (`cargo xtask dist`): the build every binary reports
//! (`--version --verbose`, the result document's `build` section), the man pages and shell
//! completions `phipolicy generate` writes, and the example parameters and waivers files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::Digest;

const BIN: &str = env!("CARGO_BIN_EXE_phipolicy");
const NOW: &str = "2026-11-28T12:00:00Z";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn phipolicy(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("run phipolicy")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `phipolicy eval --format json` of a fixture, with extra arguments.
fn eval_json(case: &str, extra: &[&str]) -> (Output, serde_json::Value) {
    let root = workspace()
        .join("engine/tests/fixtures")
        .join(case)
        .join("root");
    let mut args = vec![
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        NOW,
    ];
    args.extend_from_slice(extra);
    let o = phipolicy(&args);
    let doc = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON document ({e}); stderr: {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o, doc)
}

/// The version of `package` in the workspace's Cargo.lock, read independently of build.rs.
fn locked_version(package: &str) -> String {
    let lock = std::fs::read_to_string(workspace().join("Cargo.lock")).unwrap();
    let entry = lock
        .split("[[package]]")
        .find(|e| e.lines().any(|l| l == format!("name = \"{package}\"")))
        .unwrap_or_else(|| panic!("{package} not in Cargo.lock"));
    entry
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .unwrap()
        .trim_matches('"')
        .to_string()
}

/// sha256 of every component the nested plugin build produced (what an auditor can rebuild).
fn built_component_hashes() -> BTreeSet<String> {
    let dir = match std::env::var_os("PHIPOLICY_PLUGIN_WASM_DIR") {
        Some(d) => PathBuf::from(d),
        // CARGO_BIN_EXE_phipolicy = <target>/release/phipolicy; build.rs builds into
        // <target>/plugins-wasm.
        None => Path::new(BIN)
            .ancestors()
            .nth(2)
            .unwrap()
            .join("plugins-wasm/wasm32-wasip2/release"),
    };
    let hashes: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .map(|p| format!("{:x}", sha2::Sha256::digest(std::fs::read(p).unwrap())))
        .collect();
    assert!(!hashes.is_empty(), "no components under {}", dir.display());
    hashes
}

#[test]
fn version_is_one_line_and_verbose_version_reports_the_build() {
    let want = format!("phipolicy {}\n", env!("CARGO_PKG_VERSION"));
    for flag in ["--version", "-V"] {
        let o = phipolicy(&[flag]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(stdout(&o), want);
    }
    let (_, doc) = eval_json("ssh-defaults", &[]);
    let build = &doc["build"];
    for args in [&["--version", "--verbose"][..], &["-vV"][..]] {
        let o = phipolicy(args);
        assert_eq!(o.status.code(), Some(0));
        let text = stdout(&o);
        assert!(text.starts_with(&want), "{text}");
        for (label, value) in [
            ("wasmtime:", locked_version("wasmtime")),
            ("regorus:", locked_version("regorus")),
            ("target:", build["target"].as_str().unwrap().to_string()),
            ("rustc:", build["rustc"].as_str().unwrap().to_string()),
        ] {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(label) && l.ends_with(&value)),
                "{label} {value} missing from:\n{text}"
            );
        }
        match build["commit"].as_str() {
            Some(commit) => assert!(text.contains(commit), "{text}"),
            None => assert!(text.contains("commit:   unknown"), "{text}"),
        }
        for p in build["plugins"].as_array().unwrap() {
            let line = format!(
                "{} {}",
                p["version"].as_str().unwrap(),
                p["sha256"].as_str().unwrap()
            );
            assert!(
                text.lines().any(|l| {
                    l.split_whitespace().next() == p["id"].as_str()
                        && l.split_whitespace().skip(1).collect::<Vec<_>>().join(" ") == line
                }),
                "{p} missing from:\n{text}"
            );
        }
    }
}

#[test]
fn every_result_document_records_the_build() {
    let (_, doc) = eval_json("ssh-defaults", &[]);
    let build = &doc["build"];
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(build["version"], doc["tool"]["version"]);
    assert_eq!(build["wasmtime"], locked_version("wasmtime"));
    assert_eq!(build["regorus"], locked_version("regorus"));
    assert!(
        build["rustc"].as_str().unwrap().starts_with("rustc 1."),
        "{build}"
    );
    assert!(!build["target"].as_str().unwrap().is_empty(), "{build}");
    // The commit is what `cargo xtask` passed when this crate was compiled, or null.
    match option_env!("PHIPOLICY_BUILD_COMMIT") {
        Some(c) => {
            let commit = c.trim_end_matches("-modified");
            assert_eq!(build["commit"], commit);
            assert_eq!(build["modified"], c.ends_with("-modified"));
            assert!(
                commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
                "{commit}"
            );
        }
        None => {
            assert!(build["commit"].is_null(), "{build}");
            assert!(build["modified"].is_null(), "{build}");
        }
    }
    // One entry per built-in plugin that ran, same id and version, with the sha256 of the
    // component the plugin crate built to.
    let builtin: BTreeSet<(String, String)> = doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["origin"] == "builtin")
        .map(|p| (p["id"].to_string(), p["version"].to_string()))
        .collect();
    let plugins = build["plugins"].as_array().unwrap();
    let listed: BTreeSet<(String, String)> = plugins
        .iter()
        .map(|p| (p["id"].to_string(), p["version"].to_string()))
        .collect();
    assert_eq!(listed, builtin);
    assert_eq!(listed.len(), plugins.len(), "one entry per plugin");
    let components = built_component_hashes();
    for p in plugins {
        let sha = p["sha256"].as_str().unwrap();
        assert!(
            components.contains(sha),
            "{p}: not a built component's sha256"
        );
    }
}

/// The commands `phipolicy --help` lists.
fn commands() -> Vec<String> {
    let help = stdout(&phipolicy(&["--help"]));
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section");
    section
        .lines()
        .take_while(|l| l.starts_with("  "))
        // A command's own line is indented two spaces; a wrapped description, more.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn generate_writes_a_man_page_per_command_and_the_completions() {
    let dir = tempfile::tempdir().unwrap();
    let o = phipolicy(&["generate", dir.path().to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let commands = commands();
    assert!(commands.len() >= 5, "{commands:?}");
    let mut want: BTreeSet<String> = commands
        .iter()
        .map(|c| format!("phipolicy-{c}.1"))
        .collect();
    want.insert("phipolicy.1".to_string());
    let pages: BTreeSet<String> = std::fs::read_dir(dir.path().join("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(pages, want);
    let eval = std::fs::read_to_string(dir.path().join("man/phipolicy-eval.1")).unwrap();
    assert!(eval.starts_with(".ie \\n(.g .ds Aq") || eval.contains(".TH phipolicy-eval 1"));
    for flag in [
        "\\-\\-root",
        "\\-\\-params",
        "\\-\\-waivers",
        "\\-\\-format",
    ] {
        assert!(eval.contains(flag), "phipolicy-eval.1 lacks {flag}");
    }
    let top = std::fs::read_to_string(dir.path().join("man/phipolicy.1")).unwrap();
    assert!(
        top.contains("EXIT STATUS"),
        "phipolicy.1 documents exit codes"
    );
    assert!(!top.contains("generate"), "the generator is not documented");
    for (file, needle) in [
        ("phipolicy.bash", "complete -F _phipolicy"),
        ("_phipolicy", "#compdef phipolicy"),
        ("phipolicy.fish", "complete -c phipolicy"),
    ] {
        let text = std::fs::read_to_string(dir.path().join("completions").join(file)).unwrap();
        assert!(text.contains(needle), "{file} lacks {needle:?}");
        for c in &commands {
            assert!(text.contains(c.as_str()), "{file} does not complete {c}");
        }
        assert!(!text.contains("generate"), "{file} offers the generator");
    }
    let o = phipolicy(&["generate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("usage: phipolicy generate DIR"));
}

#[test]
fn no_command_is_a_usage_error() {
    let o = phipolicy(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    assert!(String::from_utf8_lossy(&o.stderr).contains("Usage: phipolicy"));
}

#[test]
fn example_params_are_every_parameter_at_its_default() {
    let path = workspace().join("examples/params.yaml");
    let example: serde_json::Map<String, serde_json::Value> =
        engine::yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let profile = engine::profile::ProfileSource::builtin().unwrap().profile;
    let names: BTreeSet<&String> = example.keys().collect();
    let want: BTreeSet<&String> = profile.parameters.keys().collect();
    assert_eq!(
        names,
        want,
        "{} must set every parameter of the profile",
        path.display()
    );
    for (name, spec) in &profile.parameters {
        assert_eq!(
            example[name],
            spec.default,
            "{}: {name} is not the profile's default",
            path.display()
        );
    }
}

/// The example files are valid input, the parameters change nothing (they are the defaults) and
/// the waivers apply on top of the same verdicts.
#[test]
fn example_files_are_accepted_and_change_only_what_the_waivers_waive() {
    let params = workspace().join("examples/params.yaml");
    let waivers = workspace().join("examples/waivers.yaml");
    let (plain_out, plain) = eval_json("ssh-defaults", &[]);
    let (o, doc) = eval_json(
        "ssh-defaults",
        &[
            "--params",
            params.to_str().unwrap(),
            "--waivers",
            waivers.to_str().unwrap(),
        ],
    );
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(doc["parameters"], plain["parameters"]);
    let results = doc["results"].as_array().unwrap();
    let plain_results = plain["results"].as_array().unwrap();
    assert_eq!(results.len(), plain_results.len());
    let mut waived = 0;
    for (r, p) in results.iter().zip(plain_results) {
        assert_eq!(r["control"], p["control"]);
        if r["waiver"].is_null() {
            assert_eq!(r["status"], p["status"], "{r}");
        } else {
            assert_eq!(r["waiver"]["in_force"], true, "{r}");
            assert_eq!(r["waiver"]["original_status"], p["status"], "{r}");
            if r["status"] == "waived" {
                waived += 1;
            }
        }
    }
    assert!(waived > 0, "the example waivers waive a failing control");
    assert!(
        o.status.code() <= plain_out.status.code(),
        "waivers never raise the exit code"
    );
}
