//! `phipolicy test`: runs the `test_*` rules of the `*_test.rego` modules, each under the
//! evaluation budgets, with line coverage of the other modules.

use serde::Serialize;

use super::evaluator::{from_rego, new_engine};
use super::{PolicyError, RegoFile, limits};

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
    // Each test runs on a thread of its own under the evaluation memory budget; a test stopped
    // at a limit keeps the engine, and the tests after it are reported as not run.
    let mut engine = Some(engine);
    let mut stopped: Option<String> = None;
    for f in files.iter().filter(|f| f.path.ends_with("_test.rego")) {
        let Some((package, names)) = test_rules(f) else {
            continue;
        };
        for name in names {
            if filter.is_some_and(|flt| !name.contains(flt) && !package.contains(flt)) {
                continue;
            }
            let started = std::time::Instant::now();
            let rule = format!("data.{package}.{name}");
            let outcome = match engine.take() {
                Some(mut e) => match crate::budget::run_bounded(
                    limits::REGO_EVAL_MEMORY,
                    limits::REGO_EVAL_DEADLINE,
                    move || {
                        let r = e.eval_rule(rule);
                        (e, r)
                    },
                ) {
                    Ok((e, r)) => {
                        engine = Some(e);
                        r.map_err(|e| format!("{e:#}"))
                    }
                    Err(why) => {
                        stopped = Some(format!("{package}.{name}"));
                        Err(why.to_string())
                    }
                },
                None => Err(format!(
                    "not run: test {} was stopped at a limit and kept the engine",
                    stopped.as_deref().unwrap_or("?")
                )),
            };
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
                Err(e) => (false, Some(e)),
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
    let Some(engine) = engine else {
        // No coverage without the engine; the stopped test already fails the run.
        return Ok(TestReport {
            tests,
            coverage: Vec::new(),
        });
    };
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
