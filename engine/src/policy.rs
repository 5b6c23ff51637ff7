//! Policy evaluation: the only code in phipolicy that calls regorus.
//!
//! A policy set is a directory of Rego modules (the built-in `hipaa` profile is embedded). Each
//! control has a package `phipolicy.hipaa.<control id with . and - as _>` defining `metadata` and
//! `result`; `*_test.rego` modules hold `test_*` rules that `phipolicy test` runs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use crate::policy_library::{is_library, package_line};
use crate::profile::ProfileSource;

/// Limits of policy evaluation.
pub mod limits {
    use std::time::Duration;

    /// Wall time one control's evaluation may take: real policies finish in microseconds.
    pub const REGO_EVAL_TIME: Duration = Duration::from_secs(5);
    /// Wall time the precompiled bytecode of one control may take before the interpreter
    /// re-judges it: the built-in policies run in microseconds, so more means a defect of the VM
    /// (regorus 0.14.1's RVM looped forever on `x := "a" if { count([1 | undefined]) > 0 } else
    /// := "b"`), which must cost a quarter of a second, not [`REGO_EVAL_TIME`].
    pub const REGO_BYTECODE_TIME: Duration = Duration::from_millis(250);
    /// Bytecode instructions one evaluation may execute. Not the bound that matters: it is set so
    /// far above any real input (an 8 MiB facts document runs a few million) that
    /// [`REGO_EVAL_TIME`] is what stops a runaway policy, exactly as for the interpreter, which
    /// has no instruction count. regorus' default (25,000) is a toy's: a host with a few hundred
    /// accounts exceeds it.
    pub const REGO_MAX_INSTRUCTIONS: usize = 1 << 40;
    /// Size of one policy file: Rego for a control is a few KiB.
    pub const MAX_POLICY_BYTES: u64 = 1 << 20;
    /// Memory one evaluation may allocate (its input is converted before, outside the budget):
    /// the built-in policies judging 60,000 accounts allocate a few tens of MiB; a builtin asked
    /// for more (`numbers.range(1, 400000000)` wants 10 GB at once) is stopped before the system
    /// allocator sees the request, and the control is `error`.
    pub const REGO_EVAL_MEMORY: u64 = 512 << 20;
    /// How long the policy layer waits for one evaluation: regorus' own timers stop it after
    /// [`REGO_BYTECODE_TIME`] plus [`REGO_EVAL_TIME`]; this catches a builtin that never checks
    /// them (the evaluation is abandoned and the control is `error`).
    pub const REGO_EVAL_DEADLINE: Duration = Duration::from_secs(8);
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
    /// The top-level facts the policy reads and the JSON types each may have ("object",
    /// "array", "string", "number", "boolean", "null"): checked before judging, so facts of the
    /// wrong shape are an `error`, not a verdict.
    #[serde(default)]
    pub facts: BTreeMap<String, Vec<String>>,
    pub remediation: String,
}

impl ControlMeta {
    /// What is wrong with `facts` for this policy (empty when they have the declared shape).
    pub fn facts_problems(&self, facts: &serde_json::Value) -> Vec<String> {
        let mut problems = Vec::new();
        for (key, types) in &self.facts {
            match facts.get(key) {
                None => problems.push(format!("no `{key}` fact")),
                Some(v) => {
                    let got = json_type(v);
                    if !types.iter().any(|t| t == got) {
                        problems.push(format!(
                            "`{key}` is {} {got}, the policy reads {}",
                            if got == "array" || got == "object" {
                                "an"
                            } else {
                                "a"
                            },
                            types.join(" or ")
                        ));
                    }
                }
            }
        }
        problems
    }
}

/// The JSON type name of a value, as policies declare it.
fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
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

/// How a module is evaluated. Both are regorus; the results are the same (the fixture suite
/// judges every case both ways and requires identical documents).
enum Evaluator {
    /// Parsed and analysed Rego source, evaluated by regorus' interpreter: policy directories
    /// (`--profile DIR`), `phipolicy test`.
    Interpreter(regorus::Engine),
    /// A program compiled to regorus' RVM bytecode at build time: the built-in profile. With
    /// the module's source, so the interpreter can re-judge when the VM fails.
    Bytecode {
        vm: regorus::rvm::vm::RegoVM,
        /// The library modules and the control's module, in that order.
        source: Option<Vec<RegoFile>>,
        interpreter: Option<regorus::Engine>,
    },
}

/// One policy module: a control's package.
struct Module {
    path: String,
    package: String,
    /// `None` once an evaluation was stopped at its memory or time limit (its thread keeps the
    /// evaluator; see [`crate::budget`]).
    evaluator: std::sync::Mutex<Option<Evaluator>>,
}

/// Which evaluator [`PolicySet::for_source`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Precompiled bytecode where the profile has it (the built-in one), else the interpreter.
    /// When the VM fails (an error, or [`limits::REGO_BYTECODE_TIME`]), the interpreter
    /// re-judges that control from the module's source, and a warning says so.
    Fastest,
    /// Bytecode without the interpreter behind it: tests use it so a VM defect fails them
    /// instead of being absorbed by the fallback.
    BytecodeOnly,
    /// Always parse the Rego source (the reference the bytecode is checked against).
    Interpreter,
}

/// A loaded set of policies: one evaluator per module (a control's policy is self-contained),
/// loaded and evaluated in parallel, each analysed once and reused (cloning an engine or
/// re-adding policies would redo the analysis).
pub struct PolicySet {
    modules: Vec<Module>,
    profile: String,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("modules", &self.modules.len())
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

fn new_vm(program: regorus::rvm::program::Program) -> regorus::rvm::vm::RegoVM {
    let mut vm = regorus::rvm::vm::RegoVM::new();
    vm.set_strict_builtin_errors(true);
    vm.set_max_instructions(limits::REGO_MAX_INSTRUCTIONS);
    vm.set_execution_timer_config(Some(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits::REGO_BYTECODE_TIME,
        check_interval: NonZeroU32::new(64).expect("non-zero"),
    }));
    vm.load_program(std::sync::Arc::new(program));
    vm
}

/// Adds `files` (for a control: the library modules, then its module) to `engine`; a syntax error
/// names the file, line and column.
fn add_files<'a>(
    engine: &mut regorus::Engine,
    files: impl IntoIterator<Item = &'a RegoFile>,
) -> Result<(), PolicyError> {
    for f in files {
        engine
            .add_policy(f.path.clone(), f.text.clone())
            .map_err(|e| PolicyError::Parse {
                path: f.path.clone(),
                message: format!("{e:#}"),
            })?;
    }
    Ok(())
}

/// Splits `files` into the library modules ([`crate::policy_library`]) and the others.
fn split_libraries(files: Vec<RegoFile>) -> (Vec<RegoFile>, Vec<RegoFile>) {
    files
        .into_iter()
        .partition(|f| package_line(&f.text).is_some_and(|p| is_library(&p)))
}

fn to_rego(v: &serde_json::Value) -> regorus::Value {
    regorus::Value::from(v.clone())
}

fn from_rego(v: &regorus::Value) -> Result<serde_json::Value, String> {
    serde_json::to_value(v).map_err(|e| e.to_string())
}

impl PolicySet {
    /// Parses policy files for the interpreter, each control's module with the library modules;
    /// a syntax error names the file, line and column.
    pub fn load(profile: &str, files: Vec<RegoFile>) -> Result<PolicySet, PolicyError> {
        let started = std::time::Instant::now();
        let (libraries, files) = split_libraries(files);
        let parsed = crate::util::par_map(&files, |f| {
            let mut engine = new_engine();
            add_files(&mut engine, libraries.iter().chain([f])).map(|()| Module {
                path: f.path.clone(),
                package: package_line(&f.text).unwrap_or_default(),
                evaluator: std::sync::Mutex::new(Some(Evaluator::Interpreter(engine))),
            })
        });
        let modules = parsed.into_iter().collect::<Result<Vec<_>, _>>()?;
        tracing::debug!(
            ms = started.elapsed().as_secs_f64() * 1e3,
            files = files.len(),
            "policies parsed"
        );
        Ok(PolicySet {
            modules,
            profile: profile.to_string(),
        })
    }

    /// The policies of `controls` (all of the profile's if `None`): the built-in profile's
    /// precompiled bytecode, or a profile directory's parsed Rego. Only the modules of the
    /// selected controls are loaded.
    pub fn for_source(
        source: &ProfileSource,
        controls: Option<&[String]>,
        backend: Backend,
    ) -> Result<PolicySet, PolicyError> {
        let profile = &source.profile.name;
        let wanted: Option<Vec<String>> =
            controls.map(|cs| cs.iter().map(|c| package_of(profile, c)).collect());
        let selected = |package: &str| {
            wanted
                .as_ref()
                .is_none_or(|w| w.iter().any(|p| p == package))
        };
        if let (Some(compiled), Backend::Fastest | Backend::BytecodeOnly) =
            (source.compiled, backend)
        {
            let started = std::time::Instant::now();
            let (libraries, _) = split_libraries(source.policy_files());
            let chosen: Vec<_> = compiled
                .iter()
                .filter(|(_, package, _)| selected(package))
                .collect();
            let loaded = crate::util::par_map(&chosen, |(path, package, bytes)| {
                let bad = |message: String| PolicyError::Parse {
                    path: path.to_string(),
                    message,
                };
                match regorus::rvm::program::Program::deserialize_binary(bytes).map_err(bad)? {
                    regorus::rvm::program::DeserializationResult::Complete(program) => Ok(Module {
                        path: path.to_string(),
                        package: package.to_string(),
                        evaluator: std::sync::Mutex::new(Some(Evaluator::Bytecode {
                            vm: new_vm(program),
                            source: (backend == Backend::Fastest)
                                .then(|| {
                                    source.files.iter().find(|f| f.path == *path).map(|f| {
                                        libraries.iter().chain([f]).cloned().collect()
                                    })
                                })
                                .flatten(),
                            interpreter: None,
                        })),
                    }),
                    regorus::rvm::program::DeserializationResult::Partial(_) => {
                        Err(bad("embedded RVM program is incomplete".into()))
                    }
                }
            });
            let modules = loaded.into_iter().collect::<Result<Vec<_>, _>>()?;
            tracing::debug!(
                ms = started.elapsed().as_secs_f64() * 1e3,
                modules = modules.len(),
                "policy bytecode loaded"
            );
            return Ok(PolicySet {
                modules,
                profile: profile.clone(),
            });
        }
        let files = source
            .policy_files()
            .into_iter()
            .filter(|f| package_line(&f.text).is_some_and(|p| selected(&p) || is_library(&p)))
            .collect();
        PolicySet::load(profile, files)
    }

    /// Evaluates `rule` with `input` (or an empty input) on module `index`, on a thread of its
    /// own under the memory budget [`limits::REGO_EVAL_MEMORY`] (see [`crate::budget`]).
    fn eval(
        &self,
        index: usize,
        rule: String,
        input: Option<&serde_json::Value>,
    ) -> Result<regorus::Value, String> {
        let module = &self.modules[index];
        let mut slot = module
            .evaluator
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(mut evaluator) = slot.take() else {
            return Err("not evaluated: an earlier evaluation of this policy was stopped at its memory or time limit".into());
        };
        let input = input
            .map(to_rego)
            .unwrap_or_else(regorus::Value::new_object);
        let path = module.path.clone();
        let outcome = crate::budget::run_bounded(
            limits::REGO_EVAL_MEMORY,
            limits::REGO_EVAL_DEADLINE,
            move || {
                let result = evaluate(&mut evaluator, &path, rule, input);
                (evaluator, result)
            },
        );
        match outcome {
            Ok((evaluator, result)) => {
                *slot = Some(evaluator);
                result
            }
            Err(stopped) => Err(stopped.to_string()),
        }
    }

    /// The index and path of the module holding the control's package.
    fn file_of(&self, control: &str) -> Result<(usize, String), PolicyError> {
        let package = package_of(&self.profile, control);
        self.modules
            .iter()
            .position(|m| m.package == package)
            .map(|i| (i, self.modules[i].path.clone()))
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
        let value = self
            .eval(index, rule, None)
            .map_err(|message| PolicyError::Eval {
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

/// One evaluation of `rule`: the interpreter, or the VM with the interpreter behind it.
fn evaluate(
    evaluator: &mut Evaluator,
    path: &str,
    rule: String,
    input: regorus::Value,
) -> Result<regorus::Value, String> {
    match evaluator {
        Evaluator::Interpreter(engine) => {
            engine.set_input(input);
            engine.eval_rule(rule).map_err(|e| format!("{e:#}"))
        }
        Evaluator::Bytecode {
            vm,
            source,
            interpreter,
        } => {
            vm.set_input(input.clone());
            let vm_error = match vm.execute_entry_point_by_name(&rule) {
                Ok(v) => return Ok(v),
                Err(e) => format!("{e:#}"),
            };
            let Some(files) = source else {
                return Err(vm_error);
            };
            tracing::warn!(policy = %path, rule = %rule, error = %vm_error, "the policy bytecode failed; the interpreter judges this control");
            if interpreter.is_none() {
                let mut engine = new_engine();
                add_files(&mut engine, files.iter()).map_err(|e| e.to_string())?;
                *interpreter = Some(engine);
            }
            let engine = interpreter.as_mut().expect("set above");
            engine.set_input(input);
            engine.eval_rule(rule).map_err(|e| format!("{e:#}"))
        }
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
    add_files(&mut engine, &files)?;
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

/// Metadata of every control of a profile, in order.
pub fn catalogue(
    set: &PolicySet,
    controls: &[String],
) -> Result<BTreeMap<String, ControlMeta>, PolicyError> {
    crate::util::par_map(controls, |c| set.metadata(c).map(|m| (c.clone(), m)))
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A construct regorus 0.14.1's RVM loops forever on (the interpreter answers "b").
    const VM_LOOPS: &str = r#"package phipolicy.t.c
ok if input.x == 1
result := "a" if { count([1 | ok]) > 0 } else := "b"
"#;

    /// A one-module set evaluated as bytecode, with or without the interpreter behind it.
    fn bytecode_set(text: &str, fallback: bool) -> PolicySet {
        bytecode_set_with(&[], text, fallback)
    }

    /// The same, with library modules compiled in and behind it.
    fn bytecode_set_with(libraries: &[&str], text: &str, fallback: bool) -> PolicySet {
        let mut files: Vec<RegoFile> = libraries
            .iter()
            .enumerate()
            .map(|(i, text)| RegoFile {
                path: format!("lib{i}.rego"),
                text: text.to_string(),
            })
            .collect();
        files.push(RegoFile {
            path: "t.rego".into(),
            text: text.to_string(),
        });
        let mut engine = regorus::Engine::new();
        add_files(&mut engine, &files).unwrap();
        let rule = "data.phipolicy.t.c.result";
        let compiled = engine.compile_with_entrypoint(&rule.into()).unwrap();
        let program =
            regorus::languages::rego::compiler::Compiler::compile_from_policy(&compiled, &[rule])
                .unwrap();
        let bytes = program.serialize_binary().unwrap();
        let program = match regorus::rvm::program::Program::deserialize_binary(&bytes).unwrap() {
            regorus::rvm::program::DeserializationResult::Complete(p) => p,
            regorus::rvm::program::DeserializationResult::Partial(_) => panic!("partial program"),
        };
        PolicySet {
            modules: vec![Module {
                path: "t.rego".into(),
                package: "phipolicy.t.c".into(),
                evaluator: std::sync::Mutex::new(Some(Evaluator::Bytecode {
                    vm: new_vm(program),
                    source: fallback.then_some(files),
                    interpreter: None,
                })),
            }],
            profile: "t".into(),
        }
    }

    #[test]
    fn a_looping_vm_stops_at_the_bytecode_time_limit_and_the_interpreter_judges() {
        let input = serde_json::json!({"x": 2});
        let started = std::time::Instant::now();
        let err = bytecode_set(VM_LOOPS, false)
            .eval(0, "data.phipolicy.t.c.result".into(), Some(&input))
            .unwrap_err();
        let took = started.elapsed();
        assert!(err.contains("time limit"), "{err}");
        assert!(
            took >= limits::REGO_BYTECODE_TIME && took < limits::REGO_BYTECODE_TIME * 8,
            "stopped after {took:?}"
        );
        let value = bytecode_set(VM_LOOPS, true)
            .eval(0, "data.phipolicy.t.c.result".into(), Some(&input))
            .unwrap();
        assert_eq!(value, regorus::Value::from("b"));
    }

    /// The interpreter that re-judges a control after the VM failed has the library modules too.
    #[test]
    fn the_interpreter_behind_the_bytecode_has_the_libraries() {
        let library = "package phipolicy.lib\nfallback := \"from the library\"\n";
        let module = VM_LOOPS
            .replace("package phipolicy.t.c\n", "package phipolicy.t.c\nimport data.phipolicy.lib\n")
            .replace("else := \"b\"", "else := lib.fallback");
        let value = bytecode_set_with(&[library], &module, true)
            .eval(0, "data.phipolicy.t.c.result".into(), Some(&serde_json::json!({"x": 2})))
            .unwrap();
        assert_eq!(value, regorus::Value::from("from the library"));
    }

    #[test]
    fn a_slow_policy_stops_at_the_eval_time_limit() {
        let text = "package phipolicy.t.c\nresult := count([x | some i in numbers.range(1, 4000); some j in numbers.range(1, 4000); x := i * j])\n";
        let set = PolicySet::load(
            "t",
            vec![RegoFile {
                path: "t.rego".into(),
                text: text.into(),
            }],
        )
        .unwrap();
        let started = std::time::Instant::now();
        let err = set
            .eval(0, "data.phipolicy.t.c.result".into(), None)
            .unwrap_err();
        let took = started.elapsed();
        assert!(
            err.contains("time limit") || err.contains("exceeded"),
            "{err}"
        );
        assert!(
            took >= limits::REGO_EVAL_TIME && took < limits::REGO_EVAL_TIME * 2,
            "stopped after {took:?}"
        );
    }
}
