//! Many targets in one run: the targets file, a bounded worker pool in which one target's
//! failure (bad input, a hostile layer, a panic) is that target's `error` and nothing else's,
//! a progress bar, and the fleet summary (targets x status counts) as a table or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::document::Summary;
use crate::target::TargetSpec;

/// Schema of the fleet summary document.
pub const SCHEMA: &str = "phipolicy/fleet/v1";

/// Limits of a targets file.
pub mod limits {
    /// Largest targets file read (10,000 hosts at ~100 bytes each is 1 MB).
    pub const MAX_TARGETS_FILE_BYTES: u64 = 16 << 20;
    /// Longest target name (it becomes a file name).
    pub const MAX_NAME_BYTES: usize = 128;
    /// How often the progress bar's spinner moves while a target runs.
    pub const PROGRESS_TICK: std::time::Duration = std::time::Duration::from_millis(200);
}

/// One target of a fleet run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetEntry {
    /// Unique, file-name-safe: its documents are `NAME.json`, `NAME.sarif`, ...
    pub name: String,
    pub spec: TargetSpec,
    /// Its own parameters file (else the run's `--params`).
    pub params: Option<PathBuf>,
}

/// A bad targets file or target list (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax {
        path: String,
        line: Option<usize>,
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileEntry {
    name: String,
    target: String,
    #[serde(default)]
    params: Option<PathBuf>,
}

/// Reads a targets file: a YAML list of `{name, target, params}` (`params` relative to the file).
pub fn load_targets_file(path: &Path) -> Result<Vec<FleetEntry>, FleetError> {
    let display = path.display().to_string();
    let bytes = crate::operator_file::read(path, limits::MAX_TARGETS_FILE_BYTES).map_err(
        |source| FleetError::Read {
            path: display.clone(),
            source,
        },
    )?;
    let text = String::from_utf8_lossy(&bytes);
    let syntax = |line: Option<usize>, message: String| FleetError::Syntax {
        path: display.clone(),
        line,
        message,
    };
    let raw: Vec<FileEntry> = crate::yaml::from_str(&text).map_err(|e| {
        syntax(
            e.line.and_then(|l| usize::try_from(l).ok()),
            format!("{} (expected a list of {{name, target, params}})", e.message),
        )
    })?;
    if raw.is_empty() {
        return Err(syntax(None, "lists no targets".into()));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out: Vec<FleetEntry> = Vec::new();
    for e in raw {
        let line = line_of(&text, &e.name);
        check_name(&e.name).map_err(|m| syntax(line, m))?;
        if out.iter().any(|o| o.name == e.name) {
            return Err(syntax(line, format!("the name {:?} is used twice", e.name)));
        }
        let spec = TargetSpec::parse(&e.target).map_err(|m| syntax(line, m.to_string()))?;
        out.push(FleetEntry {
            name: e.name,
            spec,
            params: e.params.map(|p| if p.is_absolute() { p } else { base.join(p) }),
        });
    }
    Ok(out)
}

/// The line of `name: NAME` in the file, for messages.
fn line_of(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start().trim_start_matches("- ").trim_start();
            l.strip_prefix("name:")
                .is_some_and(|v| v.trim().trim_matches(['"', '\'']) == name)
        })
        .map(|i| i + 1)
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= limits::MAX_NAME_BYTES
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "target name {name:?}: use letters, digits, `.`, `_` and `-` (it names the target's report files)"
        ))
    }
}

/// Entries for `--target` given on the command line, named after the target.
pub fn entries_from_specs(specs: Vec<TargetSpec>) -> Vec<FleetEntry> {
    let mut out: Vec<FleetEntry> = Vec::new();
    for spec in specs {
        let base: String = spec
            .display()
            .trim_start_matches('/')
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' { c } else { '-' })
            .collect::<String>()
            .trim_matches(['-', '.'])
            .chars()
            .take(limits::MAX_NAME_BYTES - 8)
            .collect();
        let base = if base.is_empty() { "root".to_string() } else { base };
        let mut name = base.clone();
        let mut n = 1;
        while out.iter().any(|o| o.name == name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        out.push(FleetEntry {
            name,
            spec,
            params: None,
        });
    }
    out
}

/// How one target ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub name: String,
    pub target: String,
    /// `host`, `rootfs`, `image`, `container`, `ssh`; empty when the target could not be opened.
    pub kind: String,
    /// `done` (a result document exists) or `error` (the target could not be evaluated).
    pub state: String,
    /// The document's exit code (0, 1, 2); 2 for a target in error.
    pub exit_code: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// The image digest of image targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Files written for this target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_ms: u64,
}

impl Outcome {
    pub fn failed(entry: &FleetEntry, message: String, started: Instant) -> Outcome {
        Outcome {
            name: entry.name.clone(),
            target: entry.spec.display(),
            kind: String::new(),
            state: "error".into(),
            exit_code: 2,
            summary: None,
            digest: None,
            documents: Vec::new(),
            error: Some(message),
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }
}

/// Runs `scan` for every entry on at most `jobs` threads; outcomes in entry order. A panic in one
/// target's scan is that target's error. `progress` shows a bar on stderr.
pub fn run_pool<F>(entries: &[FleetEntry], jobs: usize, progress: bool, scan: F) -> Vec<Outcome>
where
    F: Fn(&FleetEntry) -> Outcome + Sync,
{
    let jobs = jobs.max(1).min(entries.len().max(1));
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(entries.len() as u64),
            indicatif::ProgressDrawTarget::stderr(),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} targets ({per_sec}, eta {eta}) {msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(limits::PROGRESS_TICK);
        bar
    });
    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Outcome>>> = entries.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(entry) = entries.get(i) else { break };
                    let started = Instant::now();
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scan(entry)))
                        .unwrap_or_else(|panic| {
                            let what = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "unknown panic".into());
                            Outcome::failed(entry, format!("internal error (panic): {what}"), started)
                        });
                    if outcome.state == "error" {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(bar) = &bar {
                        bar.set_message(format!("{} in error", errors.load(Ordering::Relaxed)));
                        bar.inc(1);
                    }
                    *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
                }
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    slots
        .into_iter()
        .map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every target ran"))
        .collect()
}

/// The fleet summary document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FleetSummary {
    pub schema: String,
    pub evaluated_at: String,
    pub duration_ms: u64,
    /// Targets by state and by verdict.
    pub totals: Totals,
    /// Control statuses summed over the targets that produced a document.
    pub statuses: Summary,
    pub targets: Vec<Outcome>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Totals {
    pub targets: usize,
    /// Targets with no failed control (exit 0).
    pub passed: usize,
    /// Targets with a failed control (exit 1).
    pub failed: usize,
    /// Targets with an undecided control (exit 2 with a document).
    pub undecided: usize,
    /// Targets that could not be evaluated at all.
    pub error: usize,
}

impl FleetSummary {
    pub fn new(targets: Vec<Outcome>, evaluated_at: String, duration: Duration) -> FleetSummary {
        let mut totals = Totals {
            targets: targets.len(),
            ..Totals::default()
        };
        let mut statuses = Summary::default();
        for t in &targets {
            match (&t.summary, t.exit_code) {
                (None, _) => totals.error += 1,
                (Some(_), 0) => totals.passed += 1,
                (Some(_), 1) => totals.failed += 1,
                (Some(_), _) => totals.undecided += 1,
            }
            if let Some(s) = &t.summary {
                statuses.pass += s.pass;
                statuses.fail += s.fail;
                statuses.error += s.error;
                statuses.not_applicable += s.not_applicable;
                statuses.manual += s.manual;
                statuses.waived += s.waived;
            }
        }
        FleetSummary {
            schema: SCHEMA.into(),
            evaluated_at,
            duration_ms: duration.as_millis() as u64,
            totals,
            statuses,
            targets,
        }
    }

    /// 2 when any target is in error or undecided, else 1 when any failed, else 0.
    pub fn exit_code(&self) -> u8 {
        self.targets.iter().map(|t| t.exit_code).max().unwrap_or(0)
    }

    pub fn json(&self) -> String {
        crate::report::json_value(self)
    }

    /// Targets x status counts, for a terminal (target text escaped).
    pub fn table(&self) -> String {
        use crate::report::terminal::clean_lines as clean;
        let headers = ["target", "kind", "pass", "fail", "error", "n/a", "manual", "waived", "exit"];
        let mut rows: Vec<Vec<String>> = Vec::new();
        for t in &self.targets {
            let mut row = vec![clean(&t.name), clean(&t.kind)];
            match &t.summary {
                Some(s) => row.extend(
                    [s.pass, s.fail, s.error, s.not_applicable, s.manual, s.waived].map(|n| n.to_string()),
                ),
                None => row.extend(std::iter::repeat_n("-".to_string(), 6)),
            }
            row.push(t.exit_code.to_string());
            rows.push(row);
        }
        let s = &self.statuses;
        let mut total = vec![format!("{} targets", self.totals.targets), String::new()];
        total.extend([s.pass, s.fail, s.error, s.not_applicable, s.manual, s.waived].map(|n| n.to_string()));
        total.push(self.exit_code().to_string());
        let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
        for r in rows.iter().chain(std::iter::once(&total)) {
            for (w, c) in widths.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut l = String::new();
            for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
                if i < 2 {
                    let _ = write!(l, "{c:<w$}  ");
                } else {
                    let _ = write!(l, "{c:>w$}  ");
                }
            }
            l.trim_end().to_string() + "\n"
        };
        let mut out = line(&headers.map(String::from));
        for r in &rows {
            out.push_str(&line(r));
        }
        out.push_str(&line(&total));
        let t = &self.totals;
        let _ = writeln!(
            out,
            "\n{} passed, {} failed, {} undecided, {} could not be evaluated ({:.1} s)",
            t.passed,
            t.failed,
            t.undecided,
            t.error,
            self.duration_ms as f64 / 1000.0
        );
        let errors: BTreeMap<&str, &str> = self
            .targets
            .iter()
            .filter_map(|t| t.error.as_deref().map(|e| (t.name.as_str(), e)))
            .collect();
        for (name, e) in errors {
            let _ = writeln!(out, "error: {}: {}", clean(name), clean(e));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(name: &str, summary: Option<Summary>, exit: u8) -> Outcome {
        Outcome {
            name: name.into(),
            target: format!("dir:/t/{name}"),
            kind: if summary.is_some() { "rootfs".into() } else { String::new() },
            state: if summary.is_some() { "done".into() } else { "error".into() },
            exit_code: exit,
            summary,
            digest: None,
            documents: Vec::new(),
            error: None,
            duration_ms: 1,
        }
    }

    #[test]
    fn targets_file_names_the_line_at_fault() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("fleet.yaml");
        std::fs::write(&f, "- name: web1\n  target: dir:/srv/web1\n  params: p/web1.yaml\n- name: db\n  target: docker:phipolicy/debian:12\n").unwrap();
        let e = load_targets_file(&f).unwrap();
        assert_eq!(e[0].params.as_deref(), Some(dir.path().join("p/web1.yaml").as_path()));
        assert_eq!(e[1].spec, TargetSpec::Docker("phipolicy/debian:12".into()));
        std::fs::write(&f, "- name: web1\n  target: dir:/a\n- name: web1\n  target: dir:/b\n").unwrap();
        let err = load_targets_file(&f).unwrap_err().to_string();
        assert!(err.ends_with(":1: the name \"web1\" is used twice") || err.contains(":3:"), "{err}");
        std::fs::write(&f, "- name: ../x\n  target: dir:/a\n").unwrap();
        assert!(load_targets_file(&f).unwrap_err().to_string().contains(":1: target name"));
        std::fs::write(&f, "- name: a\n  target: ftp:/a\n").unwrap();
        assert!(load_targets_file(&f).unwrap_err().to_string().contains("expected dir:PATH"));
        std::fs::write(&f, "- name: a\n  target: dir:/a\n  colour: blue\n").unwrap();
        assert!(load_targets_file(&f).unwrap_err().to_string().contains("colour"));
    }

    #[test]
    fn command_line_targets_get_unique_file_names() {
        let e = entries_from_specs(vec![
            TargetSpec::Docker("phipolicy/debian:12".into()),
            TargetSpec::Dir("/".into()),
            TargetSpec::Docker("phipolicy/debian:12".into()),
        ]);
        let names: Vec<_> = e.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["docker-phipolicy-debian-12", "root", "docker-phipolicy-debian-12-2"]);
    }

    #[test]
    fn one_panicking_target_does_not_affect_the_others() {
        let entries = entries_from_specs((0..20).map(|i| TargetSpec::Dir(format!("/t{i}").into())).collect());
        let out = run_pool(&entries, 4, false, |e| {
            if e.name == "t7" {
                panic!("boom");
            }
            outcome(&e.name, Some(Summary { pass: 1, ..Default::default() }), 0)
        });
        assert_eq!(out.len(), 20);
        assert_eq!(out[7].state, "error");
        assert!(out[7].error.as_deref().unwrap().contains("boom"));
        assert!(out.iter().enumerate().all(|(i, o)| i == 7 || o.state == "done"));
        let summary = FleetSummary::new(out, "2026-11-28T12:00:00Z".into(), Duration::from_millis(5));
        assert_eq!(summary.totals, Totals { targets: 20, passed: 19, failed: 0, undecided: 0, error: 1 });
        assert_eq!(summary.exit_code(), 2);
        let table = summary.table();
        assert!(table.contains("20 targets"), "{table}");
        assert!(table.contains("error: t7: internal error (panic): boom"), "{table}");
    }
}
