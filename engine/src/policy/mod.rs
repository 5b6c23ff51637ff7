//! Policy evaluation: the only code in phipolicy that calls regorus.
//!
//! A policy set is a directory of Rego modules (the built-in `hipaa` profile is embedded). Each
//! control has a package `phipolicy.hipaa.<control id with . and - as _>` defining `metadata` and
//! `result`; `*_test.rego` modules hold `test_*` rules that `phipolicy test` runs. [`load`] reads
//! and parses (or loads precompiled bytecode), [`evaluator`] runs one rule under the budgets,
//! [`contract`] holds the shapes `metadata` and `result` must have, [`facts_schema`] validates a
//! plugin's facts against its JSON Schema, [`testing`] runs the Rego unit tests with coverage.

mod contract;
mod evaluator;
pub mod facts_schema;
pub mod library;
mod load;
mod testing;

use std::collections::BTreeMap;
use std::path::PathBuf;

pub use contract::{ControlMeta, Evidence, FactProblem, Judgement, Verdict};
pub use evaluator::EvalError;
use evaluator::Module;
pub use load::read_dir;
pub use testing::{FileCoverage, TestOutcome, TestReport, coverage_ratio, run_tests};

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
    /// Schema violations of one plugin's facts named in its controls' reason (the rest are
    /// counted): the first few locate the defect, hundreds would only bury it.
    pub const MAX_REPORTED_SCHEMA_VIOLATIONS: usize = 5;
    /// How often (in regorus' steps) the evaluators look at their timers: often enough to stop
    /// within milliseconds of a limit, rarely enough to cost nothing measurable.
    pub const REGO_TIMER_CHECK_INTERVAL: u32 = 64;
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
    #[error("control {control}: policy {path}: {source}")]
    Eval {
        control: String,
        path: String,
        source: EvalError,
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

/// The package of a control: `auth.ssh` -> `phipolicy.hipaa.auth_ssh`.
pub fn package_of(profile: &str, control: &str) -> String {
    format!("phipolicy.{}.{}", profile, module_of(control))
}

/// The module name of a control: `logoff.shell-timeout` -> `logoff_shell_timeout`.
pub fn module_of(control: &str) -> String {
    control.replace(['.', '-'], "_")
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
    /// Controls whose package is another profile's (an overlay's base): control -> profile.
    owners: BTreeMap<String, String>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("modules", &self.modules.len())
            .finish()
    }
}

impl PolicySet {
    /// The package of the control's policy.
    fn package(&self, control: &str) -> String {
        package_of(self.owners.get(control).unwrap_or(&self.profile), control)
    }

    /// The index and path of the module holding the control's package.
    fn file_of(&self, control: &str) -> Result<(usize, String), PolicyError> {
        let package = self.package(control);
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
}

/// Metadata of every control of a profile, in order.
pub fn catalogue(
    set: &PolicySet,
    controls: &[String],
) -> Result<BTreeMap<String, ControlMeta>, PolicyError> {
    crate::parallel::par_map(controls, |c| set.metadata(c).map(|m| (c.clone(), m)))
        .into_iter()
        .collect()
}
