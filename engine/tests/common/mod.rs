//! Helpers shared by the engine's integration tests: a fixture's sidecar files (`dirs.yaml`,
//! `modes.yaml`, `mtimes.yaml`) hold what git cannot store; they are applied to a root before
//! it is evaluated (the checked-out tree or a copy of it).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

/// Applies every sidecar of the fixture `case` to `root` (the case's tree or a copy). Idempotent.
pub fn apply_sidecars(case: &Path, root: &Path) {
    apply_dirs(case, root);
    apply_modes(case, root);
    apply_mtimes(case, root);
}

/// Creates the empty directories `dirs.yaml` lists (git keeps no empty directory, and an empty
/// `sshd_config.d` or `rsyslog.d` is not the same target as a missing one).
fn apply_dirs(case: &Path, root: &Path) {
    let file = case.join("dirs.yaml");
    if !file.is_file() {
        return;
    }
    let dirs: Vec<String> = engine::yaml::from_str(&std::fs::read_to_string(&file).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    for dir in dirs {
        let target = root.join(dir.trim_start_matches('/'));
        std::fs::create_dir_all(&target)
            .unwrap_or_else(|e| panic!("{}: mkdir {}: {e}", file.display(), target.display()));
    }
}

/// Applies `modes.yaml` (in-root path -> octal mode) to the checked-out fixture: git keeps only
/// the executable bit, and permission checks need exact modes. Idempotent.
fn apply_modes(case: &Path, root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let file = case.join("modes.yaml");
    if !file.is_file() {
        return;
    }
    let modes: BTreeMap<String, String> =
        engine::yaml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    for (path, mode) in modes {
        let mode = u32::from_str_radix(mode.trim_start_matches("0o"), 8)
            .unwrap_or_else(|_| panic!("{}: bad mode {mode:?}", file.display()));
        let target = root.join(path.trim_start_matches('/'));
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{}: chmod {}: {e}", file.display(), target.display()));
    }
}

/// Applies `mtimes.yaml` (in-root path -> RFC 3339 time): a checkout stamps every file with the
/// checkout time, and age checks (restore tests, risk evidence) need fixed times. Idempotent.
fn apply_mtimes(case: &Path, root: &Path) {
    let file = case.join("mtimes.yaml");
    if !file.is_file() {
        return;
    }
    let times: BTreeMap<String, String> =
        engine::yaml::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    for (path, time) in times {
        let when = humantime::parse_rfc3339(&time)
            .unwrap_or_else(|e| panic!("{}: {time:?}: {e}", file.display()));
        let target = root.join(path.trim_start_matches('/'));
        std::fs::File::options()
            .write(true)
            .open(&target)
            .and_then(|f| f.set_modified(when))
            .unwrap_or_else(|e| {
                panic!("{}: set mtime of {}: {e}", file.display(), target.display())
            });
    }
}


/// Parses a fixture's YAML file (expect.yaml, sidecars) with the engine's YAML reader.
pub fn yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, engine::yaml::YamlError> {
    engine::yaml::from_str(text)
}

/// Running the `phipolicy` binary as users and scripts do.
pub mod cli {
    use std::path::{Path, PathBuf};
    use std::process::{Command, Output};

    /// The evaluation time tests pin (`--now`).
    pub const NOW: &str = "2026-11-28T12:00:00Z";

    /// The root of the fixture `case` (the checked-out tree: for read-only uses).
    pub fn fixture(case: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(case)
            .join("root")
    }

    /// Runs `phipolicy ARGS`.
    pub fn phipolicy(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_phipolicy"))
            .args(args)
            .output()
            .expect("run phipolicy")
    }

    pub fn stderr(o: &Output) -> String {
        String::from_utf8_lossy(&o.stderr).into_owned()
    }

    /// Exit 2, nothing on stdout, and stderr names `needle`.
    pub fn assert_bad_input(o: &Output, needle: &str) {
        assert_eq!(o.status.code(), Some(2), "stderr: {}", stderr(o));
        assert!(
            o.stdout.is_empty(),
            "no partial document on stdout: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert!(
            stderr(o).contains(needle),
            "stderr {:?} should contain {needle:?}",
            stderr(o)
        );
    }
}
