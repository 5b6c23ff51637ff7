//! The documentation a user gets with the repository stands on its own and says what the code
//! does: the control catalogue (`docs/controls.md`) is what the policies' metadata generates, and
//! no document points outside the repository or at a file that does not exist.

use std::path::{Path, PathBuf};

use engine::catalogue_doc::{CONTROLS_DOC, controls_markdown};
use engine::profile::ProfileSource;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The documents a user reads: the top-level ones and everything under docs/.
fn documents() -> Vec<PathBuf> {
    let root = workspace();
    let mut docs: Vec<PathBuf> = ["README.md", "ARCHITECTURE.md", "SECURITY.md"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    for entry in std::fs::read_dir(root.join("docs")).expect("docs/") {
        let path = entry.expect("docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            docs.push(path);
        }
    }
    docs.sort();
    docs
}

#[test]
fn the_control_catalogue_is_generated_from_the_policies() {
    let source = ProfileSource::builtin().expect("built-in profile");
    let want = controls_markdown(&source).expect("catalogue");
    let path = workspace().join(CONTROLS_DOC);
    let have = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask docs`", path.display()));
    if have != want {
        let line = have
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| have.lines().count().min(want.lines().count()), |i| i)
            + 1;
        panic!(
            "{CONTROLS_DOC} is stale (first difference at line {line}): run `cargo xtask docs` \
             (or `phipolicy generate --controls-doc {CONTROLS_DOC}`) and commit it"
        );
    }
    for control in &source.profile.controls {
        assert!(
            want.contains(&format!("\n### {control}\n")),
            "{control} has no section"
        );
    }
    for parameter in source.profile.parameters.keys() {
        assert!(
            want.contains(&format!("| `{parameter}` |")),
            "{parameter} is not in the parameters table"
        );
    }
}

#[test]
fn no_document_points_outside_the_repository() {
    let mut problems = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("read document");
        for (i, line) in text.lines().enumerate() {
            if line.contains("../shared") || line.contains("shared/spec") {
                problems.push(format!("{}:{}: {line}", doc.display(), i + 1));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "documents that point outside the repository (a user who clones it has no ../shared):\n{}",
        problems.join("\n")
    );
}

#[test]
fn relative_links_in_documents_resolve() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(&doc).expect("read document");
        let dir = doc.parent().expect("document dir");
        for (i, line) in text.lines().enumerate() {
            let mut rest = line;
            while let Some(start) = rest.find("](") {
                let after = &rest[start + 2..];
                let Some(end) = after.find(')') else { break };
                let target = &after[..end];
                rest = &after[end..];
                let file = target.split('#').next().unwrap_or("");
                if file.is_empty() || file.contains("://") || file.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                if !dir.join(file).exists() {
                    problems.push(format!("{}:{}: {target}", doc.display(), i + 1));
                }
            }
        }
    }
    assert!(
        checked >= 5,
        "only {checked} relative links found: the scan is broken"
    );
    assert!(
        problems.is_empty(),
        "links to files that do not exist:\n{}",
        problems.join("\n")
    );
}
