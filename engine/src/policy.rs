//! Policy evaluation: the only code in phipolicy that calls regorus.
//!
//! A policy set is a directory of Rego modules (the built-in `hipaa` profile is embedded). Each
//! control has a package `phipolicy.hipaa.<control id with . and - as _>` defining `metadata` and
//! `result`; `*_test.rego` modules hold `test_*` rules that `phipolicy test` runs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

/// Limits of policy evaluation.
pub mod limits {
    use std::time::Duration;

    /// Wall time one control's evaluation may take: real policies finish in microseconds.
    pub const REGO_EVAL_TIME: Duration = Duration::from_secs(5);
    /// Size of one policy file: Rego for a control is a few KiB.
    pub const MAX_POLICY_BYTES: u64 = 1 << 20;
}

/// Policy errors (bad input: exit 2). regorus messages carry `file:line:col`.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("control {control}: no policy package {package} (expected a file {file})")]
    Missing {
        control: String,
        package: String,
        file: String,
    },
    #[error("control {control}: policy {path}: {message}")]
    Eval {
        control: String,
        path: String,
        message: String,
    },
    #[error("control {control}: policy {path}: `result` has the wrong shape: {message}")]
    Shape {
        control: String,
        path: String,
        message: String,
    },
    #[error("control {control}: policy {path}: `metadata` has the wrong shape: {message}")]
    Metadata {
        control: String,
        path: String,
        message: String,
    },
}

/// One Rego source file.
#[derive(Debug, Clone)]
pub struct RegoFile {
    pub path: String,
    pub text: String,
}

/// What a control's `metadata` rule says (the source of `controls` and `explain`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlMeta {
    pub id: String,
    pub safeguard: String,
    pub cfr: Vec<String>,
    pub title: String,
    pub severity: String,
    pub description: String,
    #[serde(default)]
    pub parameters: Vec<String>,
    pub remediation: String,
}

/// One piece of evidence in a result.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Evidence {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub detail: String,
}

/// What a control's `result` rule returns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Judgement {
    pub status: String,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub evidence: Vec<Evidence>,
    #[serde(default)]
    pub remediation: Option<String>,
}

/// The package of a control: `auth.ssh` -> `phipolicy.hipaa.auth_ssh`.
pub fn package_of(profile: &str, control: &str) -> String {
    format!("phipolicy.{}.{}", profile, module_of(control))
}

/// The module name of a control: `logoff.shell-timeout` -> `logoff_shell_timeout`.
pub fn module_of(control: &str) -> String {
    control.replace(['.', '-'], "_")
}

/// A loaded, parsed set of policies: one regorus engine per module (a control's policy is
/// self-contained), parsed and evaluated in parallel, each analysed once and reused (cloning an
/// engine or re-adding policies would redo the analysis).
pub struct PolicySet {
    engines: Vec<std::sync::Mutex<regorus::Engine>>,
    files: Vec<RegoFile>,
    profile: String,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("files", &self.files.len())
            .finish()
    }
}

/// Reads every `.rego` file of a directory (sorted), with tests or without.
pub fn read_dir(dir: &Path, with_tests: bool) -> Result<Vec<RegoFile>, PolicyError> {
    let entries = std::fs::read_dir(dir).map_err(|source| PolicyError::Dir {
        path: dir.into(),
        source,
    })?;
    let mut paths = Vec::new();
    for e in entries {
        let e = e.map_err(|source| PolicyError::Dir {
            path: dir.into(),
            source,
        })?;
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rego") && (with_tests || !name.ends_with("_test.rego")) {
            paths.push(p);
        }
    }
    paths.sort();
    let mut files = Vec::new();
    for p in paths {
        let display = p.display().to_string();
        let meta = std::fs::metadata(&p).map_err(|source| PolicyError::Dir {
            path: p.clone(),
            source,
        })?;
        if meta.len() > limits::MAX_POLICY_BYTES {
            return Err(PolicyError::TooLarge {
                path: display,
                max: limits::MAX_POLICY_BYTES,
            });
        }
        let text = std::fs::read_to_string(&p).map_err(|source| PolicyError::Dir {
            path: p.clone(),
            source,
        })?;
        files.push(RegoFile {
            path: display,
            text,
        });
    }
    Ok(files)
}

fn new_engine() -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits::REGO_EVAL_TIME,
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    });
    engine
}

fn to_rego(v: &serde_json::Value) -> regorus::Value {
    regorus::Value::from(v.clone())
}

fn from_rego(v: &regorus::Value) -> Result<serde_json::Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

impl PolicySet {
    /// Parses policy files; a syntax error names the file, line and column.
    pub fn load(profile: &str, files: Vec<RegoFile>) -> Result<PolicySet, PolicyError> {
        let started = std::time::Instant::now();
        let parsed = crate::util::par_map(&files, |f| {
            let mut engine = new_engine();
            engine
                .add_policy(f.path.clone(), f.text.clone())
                .map(|_| std::sync::Mutex::new(engine))
                .map_err(|e| PolicyError::Parse {
                    path: f.path.clone(),
                    message: format!("{e:#}"),
                })
        });
        let engines = parsed.into_iter().collect::<Result<Vec<_>, _>>()?;
        tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, files = files.len(), "policies parsed");
        Ok(PolicySet {
            engines,
            files,
            profile: profile.to_string(),
        })
    }

    pub fn files(&self) -> &[RegoFile] {
        &self.files
    }

    /// Evaluates `rule` with `input` (or an empty input) on the engine of file `index`.
    fn eval(
        &self,
        index: usize,
        rule: String,
        input: Option<&serde_json::Value>,
    ) -> Result<regorus::Value, String> {
        let mut engine = self.engines[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        engine.set_input(
            input
                .map(to_rego)
                .unwrap_or_else(regorus::Value::new_object),
        );
        engine.eval_rule(rule).map_err(|e| format!("{e:#}"))
    }

    /// The index and path of the file holding the control's package.
    fn file_of(&self, control: &str) -> Result<(usize, String), PolicyError> {
        let package = package_of(&self.profile, control);
        let needle = format!("package {package}");
        self.files
            .iter()
            .position(|f| f.text.lines().any(|l| l.trim() == needle))
            .map(|i| (i, self.files[i].path.clone()))
            .ok_or_else(|| PolicyError::Missing {
                control: control.to_string(),
                package,
                file: format!("{}.rego", module_of(control)),
            })
    }

    /// The control's `metadata`.
    pub fn metadata(&self, control: &str) -> Result<ControlMeta, PolicyError> {
        let (index, path) = self.file_of(control)?;
        let rule = format!("data.{}.metadata", package_of(&self.profile, control));
        let value = self.eval(index, rule, None).map_err(|message| PolicyError::Eval {
            control: control.into(),
            path: path.clone(),
            message,
        })?;
        let json = from_rego(&value).map_err(|message| PolicyError::Metadata {
            control: control.into(),
            path: path.clone(),
            message,
        })?;
        let meta: ControlMeta =
            serde_json::from_value(json).map_err(|e| PolicyError::Metadata {
                control: control.into(),
                path: path.clone(),
                message: e.to_string(),
            })?;
        if meta.id != control {
            return Err(PolicyError::Metadata {
                control: control.into(),
                path,
                message: format!("metadata.id is {:?}", meta.id),
            });
        }
        Ok(meta)
    }

    /// Evaluates the control's `result` with `input`.
    pub fn judge(
        &self,
        control: &str,
        input: &serde_json::Value,
    ) -> Result<Judgement, PolicyError> {
        let (index, path) = self.file_of(control)?;
        let rule = format!("data.{}.result", package_of(&self.profile, control));
        let value = self
            .eval(index, rule, Some(input))
            .map_err(|message| PolicyError::Eval {
                control: control.into(),
                path: path.clone(),
                message,
            })?;
        if value == regorus::Value::Undefined {
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: "`result` is undefined for this input".into(),
            });
        }
        let json = from_rego(&value).map_err(|message| PolicyError::Shape {
            control: control.into(),
            path: path.clone(),
            message,
        })?;
        let judgement: Judgement =
            serde_json::from_value(json).map_err(|e| PolicyError::Shape {
                control: control.into(),
                path: path.clone(),
                message: e.to_string(),
            })?;
        const STATUSES: [&str; 5] = ["pass", "fail", "error", "not_applicable", "manual"];
        if !STATUSES.contains(&judgement.status.as_str()) {
            return Err(PolicyError::Shape {
                control: control.into(),
                path,
                message: format!(
                    "status {:?} is not one of {}",
                    judgement.status,
                    STATUSES.join(", ")
                ),
            });
        }
        Ok(judgement)
    }
}

/// The outcome of one Rego unit test.
#[derive(Debug, Clone, Serialize)]
pub struct TestOutcome {
    pub package: String,
    pub name: String,
    pub file: String,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub duration_us: u128,
}

/// Per-file line coverage of the non-test modules.
#[derive(Debug, Clone, Serialize)]
pub struct FileCoverage {
    pub path: String,
    pub covered: usize,
    pub not_covered: Vec<u32>,
}

/// The result of `phipolicy test`.
#[derive(Debug, Clone, Serialize)]
pub struct TestReport {
    pub tests: Vec<TestOutcome>,
    pub coverage: Vec<FileCoverage>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed).count()
    }
    pub fn failed(&self) -> usize {
        self.tests.len() - self.passed()
    }
}

/// The `test_*` rules of a test module: (package, rule names), found by reading the source.
fn test_rules(file: &RegoFile) -> Option<(String, Vec<String>)> {
    let mut package = None;
    let mut names = Vec::new();
    for line in file.text.lines() {
        let t = line.trim_start();
        if let Some(p) = t.strip_prefix("package ") {
            package = Some(p.trim().to_string());
            continue;
        }
        if line.starts_with("test_") {
            let name: String = t
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    package.map(|p| (p, names))
}

/// Runs every `test_*` rule of `files` (a test passes when the rule is `true`), with coverage of
/// the non-test modules.
pub fn run_tests(files: Vec<RegoFile>, filter: Option<&str>) -> Result<TestReport, PolicyError> {
    let mut engine = new_engine();
    engine.set_enable_coverage(true);
    for f in &files {
        engine
            .add_policy(f.path.clone(), f.text.clone())
            .map_err(|e| PolicyError::Parse {
                path: f.path.clone(),
                message: format!("{e:#}"),
            })?;
    }
    let mut tests = Vec::new();
    for f in files.iter().filter(|f| f.path.ends_with("_test.rego")) {
        let Some((package, names)) = test_rules(f) else {
            continue;
        };
        for name in names {
            if filter.is_some_and(|flt| !name.contains(flt) && !package.contains(flt)) {
                continue;
            }
            let started = std::time::Instant::now();
            let outcome = engine.eval_rule(format!("data.{package}.{name}"));
            let (passed, error) = match outcome {
                Ok(v) if v == regorus::Value::from(true) => (true, None),
                Ok(regorus::Value::Undefined) => (
                    false,
                    Some("undefined (a condition did not hold)".to_string()),
                ),
                Ok(v) => (
                    false,
                    Some(format!(
                        "evaluated to {}",
                        from_rego(&v).map(|j| j.to_string()).unwrap_or_default()
                    )),
                ),
                Err(e) => (false, Some(format!("{e:#}"))),
            };
            tests.push(TestOutcome {
                package: package.clone(),
                name,
                file: f.path.clone(),
                passed,
                error,
                duration_us: started.elapsed().as_micros(),
            });
        }
    }
    let report = engine
        .get_coverage_report()
        .map_err(|e| PolicyError::Parse {
            path: "<coverage>".into(),
            message: format!("{e:#}"),
        })?;
    let mut coverage: Vec<FileCoverage> = report
        .files
        .into_iter()
        .filter(|f| !f.path.ends_with("_test.rego"))
        .map(|f| FileCoverage {
            path: f.path,
            covered: f.covered.len(),
            not_covered: f.not_covered.into_iter().collect(),
        })
        .collect();
    coverage.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(TestReport { tests, coverage })
}

/// Whole-set coverage ratio (covered lines / coverable lines).
pub fn coverage_ratio(cov: &[FileCoverage]) -> f64 {
    let covered: usize = cov.iter().map(|c| c.covered).sum();
    let total: usize = covered + cov.iter().map(|c| c.not_covered.len()).sum::<usize>();
    if total == 0 {
        1.0
    } else {
        covered as f64 / total as f64
    }
}

/// Metadata of every control of a profile, in order.
pub fn catalogue(
    set: &PolicySet,
    controls: &[String],
) -> Result<BTreeMap<String, ControlMeta>, PolicyError> {
    crate::util::par_map(controls, |c| set.metadata(c).map(|m| (c.clone(), m)))
        .into_iter()
        .collect()
}
