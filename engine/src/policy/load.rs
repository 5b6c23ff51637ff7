//! Loading a policy set: the Rego files of a directory (bounded in size), parsed for the
//! interpreter, or the built-in profile's precompiled bytecode; only the selected controls'
//! modules are loaded, in parallel.

use std::path::Path;

use super::evaluator::{Evaluator, Module, new_engine, new_vm};
use super::library::{is_library, package_line};
use super::{Backend, PolicyError, PolicySet, RegoFile, limits};
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

/// Adds `files` (for a control: the library modules, then its module) to `engine`; a syntax error
/// names the file, line and column.
pub(super) fn add_files<'a>(
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

/// Splits `files` into the library modules ([`super::library`]) and the others.
fn split_libraries(files: Vec<RegoFile>) -> (Vec<RegoFile>, Vec<RegoFile>) {
    files
        .into_iter()
        .partition(|f| package_line(&f.text).is_some_and(|p| is_library(&p)))
}

impl PolicySet {
    /// Parses policy files for the interpreter, each control's module with the library modules;
    /// a syntax error names the file, line and column.
    pub fn load(profile: &str, files: Vec<RegoFile>) -> Result<PolicySet, PolicyError> {
        let started = std::time::Instant::now();
        let (libraries, files) = split_libraries(files);
        let parsed = crate::parallel::par_map(&files, |f| {
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
            owners: Default::default(),
        })
    }

    /// The policies of `controls` (all of the profile's if `None`): the built-in profile's
    /// precompiled bytecode, or a profile directory's parsed Rego; an overlay's modules (and the
    /// built-in modules it replaced) are parsed, the rest keep their bytecode. Only the modules of
    /// the selected controls are loaded.
    pub fn for_source(
        source: &ProfileSource,
        controls: Option<&[String]>,
        backend: Backend,
    ) -> Result<PolicySet, PolicyError> {
        let mut set = PolicySet::for_source_modules(source, controls, backend)?;
        set.owners = source.profile.owners.clone();
        Ok(set)
    }

    fn for_source_modules(
        source: &ProfileSource,
        controls: Option<&[String]>,
        backend: Backend,
    ) -> Result<PolicySet, PolicyError> {
        let profile = &source.profile.name;
        let wanted: Option<Vec<String>> =
            controls.map(|cs| cs.iter().map(|c| source.profile.package_of(c)).collect());
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
                .filter(|(_, package, _)| selected(package) && !source.replaced.contains(*package))
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
            let mut modules = loaded.into_iter().collect::<Result<Vec<_>, _>>()?;
            tracing::debug!(
                ms = started.elapsed().as_secs_f64() * 1e3,
                modules = modules.len(),
                "policy bytecode loaded"
            );
            // An overlay's modules: selected packages no bytecode was loaded for.
            let compiled_packages: Vec<&str> = chosen.iter().map(|(_, p, _)| *p).collect();
            let parsed: Vec<RegoFile> = source
                .policy_files()
                .into_iter()
                .filter(|f| {
                    package_line(&f.text).is_some_and(|p| {
                        is_library(&p) || (selected(&p) && !compiled_packages.contains(&p.as_str()))
                    })
                })
                .collect();
            if parsed.iter().any(|f| package_line(&f.text).is_some_and(|p| !is_library(&p))) {
                modules.extend(PolicySet::load(profile, parsed)?.modules);
            }
            return Ok(PolicySet {
                modules,
                profile: profile.clone(),
                owners: Default::default(),
            });
        }
        let files = source
            .policy_files()
            .into_iter()
            .filter(|f| package_line(&f.text).is_some_and(|p| selected(&p) || is_library(&p)))
            .collect();
        PolicySet::load(profile, files)
    }
}
