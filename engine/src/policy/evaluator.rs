//! Evaluating one rule of one module: regorus' interpreter, or the precompiled RVM bytecode with
//! the interpreter behind it, each evaluation on a thread of its own under the memory and time
//! budgets ([`crate::budget`]).

use std::num::NonZeroU32;

use super::load::add_files;
use super::{PolicySet, RegoFile, limits};

/// Why one evaluation gave no value (the control is `error`, naming it).
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// regorus refused or failed the evaluation; its text carries `file:line:col`.
    #[error("{0}")]
    Rego(String),
    /// Stopped at the evaluation's memory or time budget.
    #[error(transparent)]
    Stopped(#[from] crate::budget::Stopped),
    /// An earlier evaluation of the module was stopped and kept its evaluator.
    #[error(
        "not evaluated: an earlier evaluation of this policy was stopped at its memory or time limit"
    )]
    Poisoned,
    /// The value regorus returned is not JSON.
    #[error("{0}")]
    Value(#[from] serde_json::Error),
}

/// regorus' error as the text a user reads (its alternate form holds the whole chain).
fn rego(e: impl std::fmt::Display) -> EvalError {
    EvalError::Rego(format!("{e:#}"))
}

/// How a module is evaluated. Both are regorus; the results are the same (the fixture suite
/// judges every case both ways and requires identical documents).
pub(super) enum Evaluator {
    /// Parsed and analysed Rego source, evaluated by regorus' interpreter: policy directories
    /// (`--profile DIR`), `phipolicy test`.
    Interpreter(regorus::Engine),
    /// A program compiled to regorus' RVM bytecode at build time: the built-in profile. With
    /// the sources (the library modules, then the module), so the interpreter can re-judge when
    /// the VM fails.
    Bytecode {
        vm: regorus::rvm::vm::RegoVM,
        source: Option<Vec<RegoFile>>,
        interpreter: Option<regorus::Engine>,
    },
}

/// One policy module: a control's package.
pub(super) struct Module {
    pub(super) path: String,
    pub(super) package: String,
    /// `None` once an evaluation was stopped at its memory or time limit (its thread keeps the
    /// evaluator; see [`crate::budget`]).
    pub(super) evaluator: std::sync::Mutex<Option<Evaluator>>,
}

pub(super) fn new_engine() -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits::REGO_EVAL_TIME,
        check_interval: NonZeroU32::new(limits::REGO_TIMER_CHECK_INTERVAL).expect("non-zero"),
    });
    engine
}

pub(super) fn new_vm(program: regorus::rvm::program::Program) -> regorus::rvm::vm::RegoVM {
    let mut vm = regorus::rvm::vm::RegoVM::new();
    vm.set_strict_builtin_errors(true);
    vm.set_max_instructions(limits::REGO_MAX_INSTRUCTIONS);
    vm.set_execution_timer_config(Some(regorus::utils::limits::ExecutionTimerConfig {
        limit: limits::REGO_BYTECODE_TIME,
        check_interval: NonZeroU32::new(limits::REGO_TIMER_CHECK_INTERVAL).expect("non-zero"),
    }));
    vm.load_program(std::sync::Arc::new(program));
    vm
}

fn to_rego(v: &serde_json::Value) -> regorus::Value {
    regorus::Value::from(v.clone())
}

pub(super) fn from_rego(v: &regorus::Value) -> Result<serde_json::Value, EvalError> {
    Ok(serde_json::to_value(v)?)
}

impl PolicySet {
    /// Evaluates `rule` with `input` (or an empty input) on module `index`, on a thread of its
    /// own under the memory budget [`limits::REGO_EVAL_MEMORY`] (see [`crate::budget`]).
    pub(super) fn eval(
        &self,
        index: usize,
        rule: String,
        input: Option<&serde_json::Value>,
    ) -> Result<regorus::Value, EvalError> {
        let module = &self.modules[index];
        let mut slot = module
            .evaluator
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let Some(mut evaluator) = slot.take() else {
            return Err(EvalError::Poisoned);
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
            Err(stopped) => Err(stopped.into()),
        }
    }
}

/// One evaluation of `rule`: the interpreter, or the VM with the interpreter behind it.
fn evaluate(
    evaluator: &mut Evaluator,
    path: &str,
    rule: String,
    input: regorus::Value,
) -> Result<regorus::Value, EvalError> {
    match evaluator {
        Evaluator::Interpreter(engine) => {
            engine.set_input(input);
            engine.eval_rule(rule).map_err(rego)
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
                return Err(EvalError::Rego(vm_error));
            };
            tracing::warn!(policy = %path, rule = %rule, error = %vm_error, "the policy bytecode failed; the interpreter judges this control");
            if interpreter.is_none() {
                let mut engine = new_engine();
                add_files(&mut engine, files.iter()).map_err(rego)?;
                *interpreter = Some(engine);
            }
            let engine = interpreter.as_mut().expect("set above");
            engine.set_input(input);
            engine.eval_rule(rule).map_err(rego)
        }
    }
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
            owners: Default::default(),
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
        let err = err.to_string();
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
            .replace(
                "package phipolicy.t.c\n",
                "package phipolicy.t.c\nimport data.phipolicy.lib\n",
            )
            .replace("else := \"b\"", "else := lib.fallback");
        let value = bytecode_set_with(&[library], &module, true)
            .eval(
                0,
                "data.phipolicy.t.c.result".into(),
                Some(&serde_json::json!({"x": 2})),
            )
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
        let err = err.to_string();
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
