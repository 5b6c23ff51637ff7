//! The built-in policies keep the Rego style ARCHITECTURE.md describes ("Rego style"): lines under
//! 120 columns, the shared helpers defined once (in `lib.rego` and `testing_test.rego`), no
//! positional tuples for remediation steps.

use std::path::{Path, PathBuf};

/// Widest line, tabs counted as four columns.
const MAX_COLUMNS: usize = 119;

/// Helpers that live in the shared modules and must not be defined again elsewhere.
const SHARED_HELPERS: &[(&str, &str)] = &[
    ("any_reason(", "testing_test.rego"),
    ("any_evidence(", "testing_test.rego"),
    ("step_texts(", "lib.rego"),
    ("sshd_origin(", "lib.rego"),
    ("sshd_files_read(", "lib.rego"),
];

/// The names `testing.any_reason` had in test files before it was shared.
const RETIRED_HELPERS: &[&str] = &["has_reason(", "some_reason_contains("];

/// Files not in this style yet, with the reason. A listed file that meets the style fails the
/// test: take it off the list.
const PENDING: &[(&str, &str)] = &[];

fn pending(file: &str) -> bool {
    PENDING.iter().any(|(f, _)| *f == file)
}

/// Every Rego file of the built-in profile: (file name, text), sorted.
fn policy_files() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/hipaa");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("policies/hipaa")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "rego"))
        .collect();
    paths.sort();
    assert!(paths.len() > 20, "policies went missing: {}", paths.len());
    paths
        .iter()
        .map(|p| {
            let name = p
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read_to_string(p).expect("read policy"))
        })
        .collect()
}

/// The lines of `text` wider than [`MAX_COLUMNS`]: (line number, columns).
fn long_lines(text: &str) -> Vec<(usize, usize)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            (
                i + 1,
                line.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum(),
            )
        })
        .filter(|(_, columns)| *columns > MAX_COLUMNS)
        .collect()
}

#[test]
fn lines_are_under_120_columns() {
    let mut problems = Vec::new();
    for (file, text) in policy_files() {
        let long = long_lines(&text);
        if pending(&file) {
            if long.is_empty() {
                problems.push(format!("{file} meets the style: take it off PENDING"));
            }
            continue;
        }
        for (line, columns) in long {
            problems.push(format!("{file}:{line} ({columns} columns)"));
        }
    }
    assert!(
        problems.is_empty(),
        "lines of 120 columns or more:\n{}",
        problems.join("\n")
    );
}

#[test]
fn shared_helpers_are_defined_once() {
    let mut problems = Vec::new();
    for (file, text) in policy_files() {
        if pending(&file) {
            continue;
        }
        for (helper, home) in SHARED_HELPERS {
            let defined = text.lines().any(|l| l.starts_with(helper));
            if defined && file != *home {
                problems.push(format!(
                    "{file} defines {helper}...) again; use the one in {home}"
                ));
            }
            if !defined && file == *home {
                problems.push(format!("{file} no longer defines {helper}...)"));
            }
        }
        for helper in RETIRED_HELPERS {
            if text.lines().any(|l| l.starts_with(helper)) {
                problems.push(format!(
                    "{file} defines {helper}...): use testing.any_reason"
                ));
            }
        }
        // Remediation steps are objects ({"order": n, "text": t}), not positional tuples.
        if let Some((i, _)) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.starts_with("steps contains ["))
        {
            problems.push(format!("{file}:{}: a step as a positional tuple", i + 1));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
