//! Replays, under plain `cargo test`, what the fuzzers of `fuzz/` run on:
//!
//! - every input a fuzzer crashed on, kept by `cargo xtask fuzz` in
//!   `tests/fuzz_regressions/<target>/` (the bug it found must stay fixed);
//! - every seed of `fuzz/seeds/<target>/` (real files from Debian's packages: the invariants hold
//!   on them).
//!
//! Each input goes through `phipolicy_parsers::fuzzing::<target>`, the very function the fuzz target
//! calls, in a thread of its own with a time limit (a fixed hang must not come back as a slow
//! test). A missing directory fails the test instead of passing with nothing replayed. The entry points
//! are behind the crate's `fuzzing` feature (`cargo xtask test` turns it on); without it this file
//! is one failing test that says so, never a silent pass.

#[cfg(not(feature = "fuzzing"))]
#[test]
fn fuzzing_feature_is_on() {
    panic!(
        "the fuzz regressions need the `fuzzing` feature: \
         cargo test -p phipolicy-parsers --features fuzzing (cargo xtask test does this)"
    );
}

#[cfg(feature = "fuzzing")]
mod replay {
    use std::path::{Path, PathBuf};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use phipolicy_parsers::fuzzing::{TARGETS, run};

    /// Time one input may take (debug builds included; libFuzzer's hang limit is 10 s in release).
    const PER_INPUT: Duration = Duration::from_secs(30);

    fn sdk_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    fn regressions_dir() -> PathBuf {
        sdk_dir().join("tests/fuzz_regressions")
    }

    fn seeds_dir() -> PathBuf {
        sdk_dir().join("../../fuzz/seeds")
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .filter(|p| p.is_file())
            .collect();
        out.sort();
        out
    }

    /// Runs `target` on the file at `path`; `Err` says why it failed.
    fn replay(target: &'static str, path: &Path) -> Result<Duration, String> {
        let data = std::fs::read(path).map_err(|e| format!("reading: {e}"))?;
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::Builder::new()
            .name(format!("{target}:{}", path.display()))
            .spawn(move || {
                assert!(run(target, &data), "unknown target {target}");
                let _ = tx.send(());
            })
            .map_err(|e| format!("spawning: {e}"))?;
        match rx.recv_timeout(PER_INPUT) {
            Ok(()) => Ok(started.elapsed()),
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "still running after {}s (hang)",
                PER_INPUT.as_secs()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err("panicked (message above)".into()),
        }
    }

    fn target_name(dir: &Path) -> &'static str {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        TARGETS
            .iter()
            .map(|(n, _)| *n)
            .find(|n| *n == name)
            .unwrap_or_else(|| {
                panic!(
                    "{} is not named after a fuzz target ({:?})",
                    dir.display(),
                    TARGETS.iter().map(|(n, _)| n).collect::<Vec<_>>()
                )
            })
    }

    fn replay_all(inputs: &[(&'static str, PathBuf)]) {
        let mut failures = Vec::new();
        for (target, path) in inputs {
            match replay(target, path) {
                Ok(took) => eprintln!("{target}: {} ok in {took:.1?}", path.display()),
                Err(why) => failures.push(format!("{target}: {}: {why}", path.display())),
            }
        }
        assert!(
            failures.is_empty(),
            "{} input(s) failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }

    #[test]
    fn crashes_found_by_fuzzing_stay_fixed() {
        let root = regressions_dir();
        assert!(
            root.is_dir(),
            "{} is missing: it holds the inputs `cargo xtask fuzz` found crashes with",
            root.display()
        );
        let mut inputs = Vec::new();
        for entry in std::fs::read_dir(&root).expect("regression directory") {
            let dir = entry.expect("directory entry").path();
            if !dir.is_dir() {
                continue;
            }
            let target = target_name(&dir);
            for file in files_in(&dir) {
                inputs.push((target, file));
            }
        }
        assert!(
            !inputs.is_empty(),
            "no regression inputs under {}",
            root.display()
        );
        replay_all(&inputs);
    }

    #[test]
    fn every_target_has_seeds_and_they_pass() {
        let root = seeds_dir();
        assert!(root.is_dir(), "{} is missing", root.display());
        let mut inputs = Vec::new();
        for (target, _) in TARGETS {
            let dir = root.join(target);
            assert!(
                dir.is_dir(),
                "fuzz target {target} has no seeds at {}",
                dir.display()
            );
            let files = files_in(&dir);
            assert!(!files.is_empty(), "{} is empty", dir.display());
            inputs.extend(files.into_iter().map(|f| (*target, f)));
        }
        for entry in std::fs::read_dir(&root).expect("seed directory") {
            let dir = entry.expect("directory entry").path();
            if dir.is_dir() {
                target_name(&dir);
            }
        }
        replay_all(&inputs);
    }

    #[test]
    fn every_target_has_a_fuzz_target_file() {
        let dir = sdk_dir().join("../../fuzz/fuzz_targets");
        for (target, _) in TARGETS {
            let file = dir.join(format!("{target}.rs"));
            let text =
                std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(
                text.contains(&format!("phipolicy_parsers::fuzzing::{target}(")),
                "{} does not call phipolicy_parsers::fuzzing::{target}",
                file.display()
            );
        }
    }
}
