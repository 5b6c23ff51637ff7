//! Loading a policy set: the Rego files of a directory (bounded in size), parsed for the
//! interpreter, or the built-in profile's precompiled bytecode; only the selected controls'
//! modules are loaded, in parallel.

use std::path::Path;

use super::evaluator::{Evaluator, Module, new_engine, new_vm};
use super::{Backend, PolicyError, PolicySet, RegoFile, limits, package_of};
use crate::profile::ProfileSource;

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

/// The package a module declares (`package a.b.c` -> `a.b.c`), read from its source.
pub(super) fn package_line(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .map(|p| p.trim().to_string())
}

impl PolicySet {
    /// Parses policy files for the interpreter; a syntax error names the file, line and column.
    pub fn load(profile: &str, files: Vec<RegoFile>) -> Result<PolicySet, PolicyError> {
        let started = std::time::Instant::now();
        let parsed = crate::parallel::par_map(&files, |f| {
            let mut engine = new_engine();
            engine
                .add_policy(f.path.clone(), f.text.clone())
                .map(|_| Module {
                    path: f.path.clone(),
                    package: package_line(&f.text).unwrap_or_default(),
                    evaluator: std::sync::Mutex::new(Some(Evaluator::Interpreter(engine))),
                })
                .map_err(|e| PolicyError::Parse {
                    path: f.path.clone(),
                    message: format!("{e:#}"),
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
            let chosen: Vec<_> = compiled
                .iter()
                .filter(|(_, package, _)| selected(package))
                .collect();
            let loaded = crate::parallel::par_map(&chosen, |(path, package, bytes)| {
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
                                    source
                                        .files
                                        .iter()
                                        .find(|f| f.path == *path)
                                        .map(|f| f.text.clone())
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
            .filter(|f| package_line(&f.text).is_some_and(|p| selected(&p)))
            .collect();
        PolicySet::load(profile, files)
    }
}
