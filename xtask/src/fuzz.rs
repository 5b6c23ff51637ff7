//! `cargo xtask fuzz [--seconds N] [--target NAME]`: runs the cargo-fuzz targets of `fuzz/` one
//! after the other, N seconds each, on their seed corpus (`fuzz/seeds/<target>`, real files from
//! Debian's packages) plus the corpus earlier runs grew (`fuzz/corpus/<target>`, not committed).
//!
//! It builds with cargo-fuzz (installed if missing) on the stable toolchain (`RUSTC_BOOTSTRAP=1`
//! lets stable rustc take the instrumentation flags), without a sanitizer (the SDK is safe Rust;
//! overflow checks stay on), then runs each fuzzer binary directly and reads libFuzzer's output. A
//! crash (panic, timeout, out-of-memory) is copied to `plugins/phipolicy-parsers/tests/
//! fuzz_regressions/<target>/`, which the SDK's `fuzz_regressions` test replays under plain
//! `cargo test`, and the fuzzer is restarted for the rest of the target's time. Prints a table of
//! executions and crashes per target; exits non-zero when anything crashed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cargo, run, show, workspace};

const USAGE: &str = "usage: cargo xtask fuzz [--seconds N] [--target NAME]";

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 60;

/// One input running longer than this is a hang (libFuzzer's `-timeout`).
const INPUT_TIMEOUT_SECS: u64 = 10;

/// Memory one fuzzer process may use (libFuzzer's `-rss_limit_mb`; its default, stated).
const RSS_LIMIT_MB: u64 = 2048;

/// Fuzzer restarts after crashes within one target's time: a crash not fixed yet tends to be
/// found again at once, so more restarts would only repeat it.
const MAX_RUNS_PER_TARGET: usize = 5;

/// What one target's runs came to.
#[derive(Debug, Default)]
struct Outcome {
    executions: u64,
    wall: Duration,
    /// Crash artifacts (copied to the regression directory), with what libFuzzer said.
    crashes: Vec<(PathBuf, String)>,
    corpus: Option<u64>,
    slowest_secs: u64,
}

pub fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .context(USAGE)?
                    .parse()
                    .context("--seconds takes a whole number of seconds")?;
            }
            "--target" => only = Some(it.next().context(USAGE)?.clone()),
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    let fuzz_dir = workspace().join("fuzz");
    let all = targets(&fuzz_dir)?;
    let selected: Vec<String> = match &only {
        Some(name) if all.contains(name) => vec![name.clone()],
        Some(name) => bail!("no fuzz target `{name}`; targets: {}", all.join(", ")),
        None => all,
    };
    ensure_cargo_fuzz()?;
    build(&fuzz_dir, only.as_deref())?;

    let mut rows = Vec::new();
    for name in &selected {
        eprintln!("xtask: fuzzing {name} for {seconds} s");
        let outcome = fuzz_target(&fuzz_dir, name, Duration::from_secs(seconds))?;
        rows.push((name.clone(), outcome));
    }
    print_table(&rows);
    let crashed: Vec<&(String, Outcome)> =
        rows.iter().filter(|(_, o)| !o.crashes.is_empty()).collect();
    if !crashed.is_empty() {
        for (name, o) in &crashed {
            for (path, what) in &o.crashes {
                eprintln!("xtask: {name}: {what}: {}", path.display());
            }
        }
        bail!(
            "{} target(s) crashed; the inputs are in plugins/phipolicy-parsers/tests/fuzz_regressions/ \
             (replayed by `cargo test -p phipolicy-parsers --features fuzzing --test fuzz_regressions`)",
            crashed.len()
        );
    }
    Ok(())
}

/// The fuzz targets: `fuzz/fuzz_targets/<name>.rs`, each with a seed corpus.
fn targets(fuzz_dir: &Path) -> Result<Vec<String>> {
    let dir = fuzz_dir.join("fuzz_targets");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "rs")
            && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
        {
            let seeds = fuzz_dir.join("seeds").join(stem);
            if !seeds.is_dir() {
                bail!(
                    "fuzz target {stem} has no seed corpus at {}",
                    seeds.display()
                );
            }
            names.push(stem.to_string());
        }
    }
    names.sort();
    Ok(names)
}

fn ensure_cargo_fuzz() -> Result<()> {
    let present = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-fuzz");
    run(cargo().args(["install", "cargo-fuzz", "--locked"]))
}

/// cargo-fuzz's flags for every build: no sanitizer (safe Rust), debug assertions (overflow
/// checks) on, the fuzz workspace's own target directory.
fn fuzz_flags(fuzz_dir: &Path) -> Vec<String> {
    vec![
        "--sanitizer".into(),
        "none".into(),
        "--debug-assertions".into(),
        "--fuzz-dir".into(),
        fuzz_dir.display().to_string(),
        "--target-dir".into(),
        fuzz_dir.join("target").display().to_string(),
    ]
}

fn build(fuzz_dir: &Path, only: Option<&str>) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["fuzz", "build"])
        .args(fuzz_flags(fuzz_dir))
        .args(only)
        .env("RUSTC_BOOTSTRAP", "1");
    run(&mut cmd)
}

fn binary(fuzz_dir: &Path, name: &str) -> PathBuf {
    fuzz_dir
        .join("target")
        .join(host_triple())
        .join("release")
        .join(name)
}

/// cargo-fuzz builds for the host triple (`--target` defaults to it).
fn host_triple() -> String {
    let out = Command::new("rustc").arg("-vV").output();
    out.ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        })
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".into())
}

fn fuzz_target(fuzz_dir: &Path, name: &str, budget: Duration) -> Result<Outcome> {
    let bin = binary(fuzz_dir, name);
    let corpus = fuzz_dir.join("corpus").join(name);
    let seeds = fuzz_dir.join("seeds").join(name);
    let artifacts = fuzz_dir.join("artifacts").join(name);
    let logs = fuzz_dir.join("logs");
    for d in [&corpus, &artifacts, &logs] {
        std::fs::create_dir_all(d)?;
    }
    let regressions = workspace()
        .join("plugins/phipolicy-parsers/tests/fuzz_regressions")
        .join(name);
    let mut outcome = Outcome::default();
    let mut locations: Vec<String> = Vec::new();
    for attempt in 0..MAX_RUNS_PER_TARGET {
        let left = budget.saturating_sub(outcome.wall);
        if left < Duration::from_secs(1) {
            break;
        }
        let log = logs.join(format!("{name}.{attempt}.log"));
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("-max_total_time={}", left.as_secs()))
            .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
            .arg(format!("-rss_limit_mb={RSS_LIMIT_MB}"))
            .arg("-print_final_stats=1")
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg(&corpus)
            .arg(&seeds)
            .current_dir(workspace())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?);
        eprintln!("xtask: $ {} 2> {}", show(&cmd), log.display());
        let started = Instant::now();
        let status = cmd
            .status()
            .with_context(|| format!("running {}", bin.display()))?;
        outcome.wall += started.elapsed();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let run = parse_log(&text);
        outcome.executions += run.executions;
        outcome.corpus = run.corpus.or(outcome.corpus);
        outcome.slowest_secs = outcome.slowest_secs.max(run.slowest_secs);
        if status.success() {
            break;
        }
        let Some(artifact) = run.artifact else {
            bail!(
                "{name}: the fuzzer failed ({status}) without writing a crash input; see {}",
                log.display()
            );
        };
        let artifact = workspace().join(artifact);
        std::fs::create_dir_all(&regressions)?;
        let file_name = artifact.file_name().context("artifact name")?;
        let kept = regressions.join(file_name);
        std::fs::copy(&artifact, &kept)
            .with_context(|| format!("copying {} to {}", artifact.display(), kept.display()))?;
        let what = run.what.unwrap_or_else(|| format!("crash ({status})"));
        eprintln!("xtask: {name}: {what}; input kept as {}", kept.display());
        let again = locations.contains(&what);
        locations.push(what.clone());
        outcome.crashes.push((kept, what));
        if again {
            // The same failure twice: the rest of the time would only find it again.
            break;
        }
    }
    Ok(outcome)
}

/// What one libFuzzer run printed.
#[derive(Debug, Default, PartialEq)]
struct RunLog {
    executions: u64,
    corpus: Option<u64>,
    slowest_secs: u64,
    /// `Test unit written to PATH` after a crash.
    artifact: Option<String>,
    /// The panic location, or the kind of failure.
    what: Option<String>,
}

fn parse_log(text: &str) -> RunLog {
    let mut out = RunLog::default();
    let mut last_status_execs = 0;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            out.executions = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("stat::slowest_unit_time_sec:") {
            out.slowest_secs = v.trim().parse().unwrap_or(0);
        } else if let Some(rest) = line.strip_prefix('#') {
            // `#73776	DONE   cov: 1598 ft: 8639 corp: 1104/2502Kb lim: ...`
            let mut words = rest.split_whitespace();
            if let Some(n) = words.next().and_then(|n| n.parse::<u64>().ok()) {
                last_status_execs = n;
            }
            if let Some(corp) = rest
                .split_whitespace()
                .skip_while(|w| *w != "corp:")
                .nth(1)
                .and_then(|c| c.split('/').next())
                .and_then(|c| c.parse().ok())
            {
                out.corpus = Some(corp);
            }
        } else if let Some(p) = line.split("Test unit written to ").nth(1).map(str::trim) {
            out.artifact = Some(p.to_string());
        } else if let Some(at) = line.split("panicked at ").nth(1) {
            out.what = Some(format!("panic at {}", at.trim_end_matches(':')));
        } else if line.contains("ERROR: libFuzzer: timeout") {
            out.what = Some(format!(
                "timeout (one input ran more than {INPUT_TIMEOUT_SECS} s)"
            ));
        } else if line.contains("ERROR: libFuzzer: out-of-memory") {
            out.what = Some(format!("out of memory (more than {RSS_LIMIT_MB} MB)"));
        } else if out.what.is_none() && line.contains("ERROR: libFuzzer: deadly signal") {
            out.what = Some("deadly signal".into());
        }
    }
    // A run that crashed prints no final stats: count up to the last status line.
    if out.executions == 0 {
        out.executions = last_status_execs;
    }
    out
}

fn print_table(rows: &[(String, Outcome)]) {
    println!();
    println!("| target        | executions | exec/s | crashes | corpus | slowest input |");
    println!("|---------------|-----------:|-------:|--------:|-------:|--------------:|");
    for (name, o) in rows {
        let secs = o.wall.as_secs_f64().max(0.001);
        let corpus = o.corpus.map_or("?".to_string(), |c| c.to_string());
        println!(
            "| {:<13} | {:>10} | {:>6.0} | {:>7} | {:>6} | {:>11} s |",
            name,
            o.executions,
            o.executions as f64 / secs,
            o.crashes.len(),
            corpus,
            o.slowest_secs
        );
    }
    let total: u64 = rows.iter().map(|(_, o)| o.executions).sum();
    let crashes: usize = rows.iter().map(|(_, o)| o.crashes.len()).sum();
    println!();
    println!(
        "{} target(s), {total} executions, {crashes} crash(es)",
        rows.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_clean_run() {
        let log = "INFO: Seed: 1\n#2\tINITED cov: 10 ft: 12 corp: 9/3Kb exec/s: 0 rss: 30Mb\n\
                   #73776\tDONE   cov: 1598 ft: 8639 corp: 1104/2502Kb lim: 3733 exec/s: 3513 rss: 36Mb\n\
                   stat::number_of_executed_units: 73776\nstat::average_exec_per_sec:     3513\n\
                   stat::slowest_unit_time_sec:    2\n";
        let r = parse_log(log);
        assert_eq!(
            r,
            RunLog {
                executions: 73776,
                corpus: Some(1104),
                slowest_secs: 2,
                artifact: None,
                what: None,
            }
        );
    }

    #[test]
    fn reads_a_crash() {
        let log = "#1024\tpulse  cov: 10 ft: 12 corp: 50/3Kb exec/s: 512 rss: 30Mb\n\
                   #1500\tNEW    cov: 11 ft: 13 corp: 51/3Kb lim: 40 exec/s: 500 rss: 30Mb\n\n\
                   thread '<unnamed>' panicked at /w/plugins/phipolicy-parsers/src/pam/mod.rs:42:9:\n\
                   attempt to subtract with overflow\n\
                   ==1== ERROR: libFuzzer: deadly signal\n\
                   artifact_prefix='fuzz/artifacts/pam/'; Test unit written to fuzz/artifacts/pam/crash-abc\n";
        let r = parse_log(log);
        assert_eq!(r.executions, 1500);
        assert_eq!(r.artifact.as_deref(), Some("fuzz/artifacts/pam/crash-abc"));
        assert_eq!(
            r.what.as_deref(),
            Some("panic at /w/plugins/phipolicy-parsers/src/pam/mod.rs:42:9")
        );
    }

    #[test]
    fn reads_a_timeout() {
        let log = "ALARM: working on the last Unit for 11 seconds\n\
                   ==7== ERROR: libFuzzer: timeout after 11 seconds\n\
                   Test unit written to fuzz/artifacts/pam/timeout-123\n";
        let r = parse_log(log);
        assert_eq!(
            r.artifact.as_deref(),
            Some("fuzz/artifacts/pam/timeout-123")
        );
        assert!(r.what.is_some_and(|w| w.starts_with("timeout")));
    }
}
