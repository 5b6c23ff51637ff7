//! One evaluation: open the target, run the plugins the selected controls need (in parallel),
//! judge each control with its policy, apply waivers, and assemble the result document.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::Error;
use crate::document::{
    self, ControlResult, FactsDocument, FactsTarget, OsInfo, PluginFacts, PluginReport,
    ResultDocument, Status, TargetInfo, Tool,
};
use crate::fsview::{TargetView, limits as view_limits};
use crate::policy::facts_schema::Checked;
use crate::policy::{ControlMeta, PolicySet};
use crate::profile::ProfileSource;
use crate::registry::{Registry, expand_reads};
use crate::runner::{Origin, PluginHandle, PluginRun, Runner};
use crate::trust::TrustPolicy;
use crate::waivers::Waiver;

/// What to evaluate and how.
#[derive(Debug, Clone)]
pub struct EvalRequest {
    pub root: PathBuf,
    pub profile: ProfileSource,
    pub params_file: Option<PathBuf>,
    pub waivers_file: Option<PathBuf>,
    pub controls: Option<Vec<String>>,
    pub plugin_dirs: Vec<PathBuf>,
    /// Where compiled plugins are cached; default: phipolicy's private cache dir
    /// ([`crate::runner::cache::default_location`]). Never used when it lies inside the audited tree.
    pub plugin_cache: Option<PathBuf>,
    /// Use no cache at all (`--no-cache`): built-in plugins load from the embedded bytes and
    /// third-party plugins are compiled on every run; nothing is written anywhere.
    pub no_cache: bool,
    /// Which third-party plugins may run (lock file, trusted keys, `--allow-unverified`).
    pub trust: TrustPolicy,
    /// Evaluation time (`--now`); defaults to the current time.
    pub now: Option<SystemTime>,
    /// How policies are evaluated (tests compare the two).
    pub backend: crate::policy::Backend,
}

/// Everything a run needs before touching the target: validated inputs, loaded plugins.
pub struct Prepared {
    request: EvalRequest,
    policies: Arc<PolicySet>,
    controls: Vec<String>,
    metadata: BTreeMap<String, ControlMeta>,
    params: Map<String, Value>,
    waivers: Vec<Waiver>,
    runner: Arc<Runner>,
    plugins: Registry,
    view: TargetView,
    /// What the document's target section says (kind, name, image or container identity).
    described: Described,
}

/// The target as the result document describes it.
#[derive(Debug, Clone)]
struct Described {
    kind: &'static str,
    root: String,
    image: Option<crate::target::ImageInfo>,
    container: Option<crate::target::ContainerInfo>,
    ssh: Option<crate::target::ssh::SshInfo>,
}

impl Described {
    fn of(target: &crate::target::Target) -> Described {
        Described {
            kind: target.kind,
            root: target.name(),
            image: target.image.clone(),
            container: target.container.clone(),
            ssh: target.ssh.clone(),
        }
    }
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("controls", &self.controls)
            .finish_non_exhaustive()
    }
}

/// Validates every input (exit 2 on any problem) and loads the plugins; the target is the
/// directory `request.root`.
pub fn prepare(request: EvalRequest) -> Result<Prepared, Error> {
    let view = TargetView::open(&request.root)?;
    let described = Described {
        kind: if view.is_host_root() { "host" } else { "rootfs" },
        root: request.root.display().to_string(),
        image: None,
        container: None,
        ssh: None,
    };
    prepare_view(request, view, described)
}

/// [`prepare`] for an opened target (an image, a container, a directory, a remote host):
/// `request.root` must be its [`Target::root_dir`](crate::target::Target::root_dir) (empty for a
/// remote host, which has none).
pub fn prepare_for(request: EvalRequest, target: &crate::target::Target) -> Result<Prepared, Error> {
    let view = target.view()?;
    prepare_view(request, view, Described::of(target))
}

fn prepare_view(request: EvalRequest, view: TargetView, described: Described) -> Result<Prepared, Error> {
    let profile = &request.profile.profile;
    let controls = profile.select(request.controls.as_deref())?;
    let params = profile.resolve_params(request.params_file.as_deref())?;
    let waivers = match &request.waivers_file {
        Some(p) => crate::waivers::load(p, &profile.controls)?,
        None => Vec::new(),
    };
    // Parsing the policies and loading the plugins are independent: do them side by side.
    let t = Instant::now();
    let (policy_side, plugin_side) = std::thread::scope(|scope| {
        let policy_side = scope.spawn(|| -> Result<_, Error> {
            let policies =
                PolicySet::for_source(&request.profile, Some(&controls), request.backend)?;
            let metadata = crate::policy::catalogue(&policies, &controls)?;
            tracing::debug!(ms = t.elapsed().as_secs_f64() * 1e3, "policies loaded");
            Ok((policies, metadata))
        });
        let plugin_side = (|| -> Result<_, Error> {
            // phipolicy's private cache: built-in artifacts are mapped from it, third-party
            // plugins compiled into it.
            let cache = open_cache(&request, &view);
            let runner = Runner::new()?.with_artifact_cache(cache);
            let plugins = runner.builtin_plugins()?;
            tracing::debug!(
                ms = t.elapsed().as_secs_f64() * 1e3,
                count = plugins.len(),
                "built-in plugins loaded"
            );
            Ok((runner, plugins))
        })();
        (
            policy_side.join().expect("policy loading thread panicked"),
            plugin_side,
        )
    });
    let (policies, metadata) = policy_side?;
    let (runner, builtin) = plugin_side?;
    let runner = Arc::new(runner);
    let mut plugins = Registry::builtin(builtin);
    for dir in &request.plugin_dirs {
        for path in plugin_files(dir)? {
            // Read once: the bytes that are verified are the bytes that are compiled.
            let bytes = crate::operator_file::read(&path, limits::MAX_PLUGIN_BYTES).map_err(
                |source| Error::Io {
                    context: format!("plugin {}", path.display()),
                    source,
                },
            )?;
            let verification = request.trust.verify(&path, &bytes)?;
            let handle = runner.load_file(&path, &bytes)?;
            plugins.admit(
                handle,
                verification,
                &path,
                profile,
                request.trust.allow_broad_reads,
            )?;
        }
    }
    Ok(Prepared {
        request,
        policies: Arc::new(policies),
        controls,
        metadata,
        params,
        waivers,
        runner,
        plugins,
        view,
        described,
    })
}

/// Limits of the operator's inputs.
pub mod limits {
    /// Largest plugin component read from `--plugins` (the built-in ones are 1-2 MB).
    pub const MAX_PLUGIN_BYTES: u64 = 64 << 20;
    /// Largest `/etc/hostname` read: a host name is at most 64 bytes (HOST_NAME_MAX); the file
    /// may hold a comment or two.
    pub const MAX_HOSTNAME_BYTES: u64 = 4096;
}

/// phipolicy's private cache for this run, or `None` (`--no-cache`, no usable location, a
/// location inside the audited tree, or a directory that fails the checks of
/// [`crate::runner::cache::PrivateCache::open`]; a warning says which).
fn open_cache(request: &EvalRequest, view: &TargetView) -> Option<crate::runner::cache::PrivateCache> {
    if request.no_cache {
        return None;
    }
    let location = request
        .plugin_cache
        .clone()
        .or_else(crate::runner::cache::default_location)?;
    // The live host is the one target whose tree holds the cache: the documented exception. A
    // remote host's tree is not on this machine.
    let target = (!view.is_host_root() && !view.is_remote()).then(|| request.root.as_path());
    match crate::runner::cache::PrivateCache::open(&location, target) {
        Ok(cache) => Some(cache),
        Err(e) => {
            tracing::warn!("not using the plugin cache: {e}");
            None
        }
    }
}

fn plugin_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let io = |source| Error::Io {
        context: format!("plugin directory {}", dir.display()),
        source,
    };
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm"))
        .collect();
    out.sort();
    Ok(out)
}

impl Prepared {
    pub fn controls(&self) -> &[String] {
        &self.controls
    }

    /// The target's view (evidence bundles read the cited files through it).
    pub fn view(&self) -> &TargetView {
        &self.view
    }

    /// The same profile, policies, plugins and waivers on another target (a fleet run: nothing
    /// is loaded again). `params_file` replaces the run's parameters for this target.
    pub fn for_target(
        &self,
        target: &crate::target::Target,
        params_file: Option<&Path>,
    ) -> Result<Prepared, Error> {
        let params = match params_file {
            Some(file) => self.request.profile.profile.resolve_params(Some(file))?,
            None => self.params.clone(),
        };
        let mut request = self.request.clone();
        request.root = target.root_dir().map(Path::to_path_buf).unwrap_or_default();
        Ok(Prepared {
            request,
            policies: self.policies.clone(),
            controls: self.controls.clone(),
            metadata: self.metadata.clone(),
            params,
            waivers: self.waivers.clone(),
            runner: self.runner.clone(),
            plugins: self.plugins.clone(),
            view: target.view()?,
            described: Described::of(target),
        })
    }

    fn now(&self) -> SystemTime {
        self.request.now.unwrap_or_else(SystemTime::now)
    }

    /// The plugin feeding a selected control.
    fn plugin_for(&self, control: &str) -> Option<&Arc<PluginHandle>> {
        self.plugins.feeding(control)
    }

    fn os_info(&self) -> Option<OsInfo> {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let Ok((bytes, _)) = self.view.read_file(path, view_limits::MAX_FILE_BYTES) {
                let os = phipolicy_parsers::os_release::OsRelease::parse(
                    path,
                    &String::from_utf8_lossy(&bytes),
                );
                let family = serde_json::to_value(os.family)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                return Some(OsInfo {
                    id: os.id,
                    version_id: os.version_id,
                    family,
                });
            }
        }
        None
    }

    fn target_info(&self) -> TargetInfo {
        TargetInfo {
            kind: self.described.kind,
            root: self.described.root.clone(),
            image: self.described.image.clone(),
            container: self.described.container.clone(),
            ssh: self.described.ssh.clone(),
            os: self.os_info(),
            hard_links: Vec::new(),
            mounts: Vec::new(),
            hostname: self.hostname(),
        }
    }

    /// The first word of the target's `/etc/hostname`; for the live host and a remote one, the
    /// kernel's node name when that file is missing or empty.
    fn hostname(&self) -> Option<String> {
        let from_file = self
            .view
            .read_file("/etc/hostname", limits::MAX_HOSTNAME_BYTES)
            .ok()
            .and_then(|(bytes, _)| {
                String::from_utf8_lossy(&bytes)
                    .split_whitespace()
                    .next()
                    .map(String::from)
            });
        // The live host without /etc/hostname: the kernel's name (procfs, no extra feature of
        // the system-call crate, whose change would rebuild wasmtime).
        let kernel = if self.view.is_remote() {
            self.view
                .read_file("/proc/sys/kernel/hostname", limits::MAX_HOSTNAME_BYTES)
                .ok()
                .map(|(bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
        } else if self.view.is_host_root() {
            std::fs::read_to_string("/proc/sys/kernel/hostname").ok()
        } else {
            None
        };
        from_file.or_else(|| {
            kernel
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
    }

    /// Runs the plugins the selected controls need, in parallel; results keyed by plugin id.
    pub fn collect(&self, only_plugin: Option<&str>) -> BTreeMap<String, PluginRun> {
        let now = self
            .now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO);
        let params_json = Value::Object(self.params.clone()).to_string();
        let mut needed = self.plugins.needed(&self.controls);
        if let Some(id) = only_plugin {
            needed.retain(|p| p.manifest.id == id);
        }
        let runs: Vec<PluginRun> = std::thread::scope(|scope| {
            let handles: Vec<_> = needed
                .iter()
                .map(|plugin| {
                    let params_json = &params_json;
                    scope.spawn(move || {
                        let reads = match expand_reads(&plugin.manifest.reads, &self.params) {
                            Ok(r) => r,
                            Err(e) => {
                                return PluginRun::failed(
                                    &plugin.manifest.id,
                                    crate::runner::RunError::BadGrant(e.into()),
                                    Duration::ZERO,
                                );
                            }
                        };
                        let _span =
                            tracing::debug_span!("plugin", id = %plugin.manifest.id).entered();
                        let run = self
                            .runner
                            .run(plugin, &self.view, params_json, &reads, now);
                        tracing::debug!(
                            ms = run.duration.as_millis() as u64,
                            files = run.files_read.len(),
                            denied = run.denied_count,
                            "plugin finished"
                        );
                        run
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("plugin thread panicked"))
                .collect()
        });
        runs.into_iter().map(|r| (r.plugin.clone(), r)).collect()
    }

    /// The facts document of `phipolicy facts`.
    pub fn facts_document(&self, only_plugin: Option<&str>) -> FactsDocument {
        let plugins = self
            .collect(only_plugin)
            .into_iter()
            .map(|(id, run)| {
                let (facts, error) = match run.facts {
                    Ok(f) => (Some(f), None),
                    Err(e) => (None, Some(e.to_string())),
                };
                let entry = PluginFacts {
                    denied: run.denials,
                    error,
                    facts,
                    files_read: run.files_read,
                };
                (id, entry)
            })
            .collect();
        FactsDocument {
            plugins,
            schema: document::FACTS_SCHEMA,
            target: FactsTarget::from(&self.target_info()),
        }
    }

    /// The target as policies see it (`input.target`).
    fn target_info_json(&self) -> Value {
        serde_json::to_value(FactsTarget::from(&self.target_info())).unwrap_or(Value::Null)
    }

    /// Evaluates every selected control.
    pub fn evaluate(&self) -> ResultDocument {
        let started = Instant::now();
        let now = self.now();
        let now_unix = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let evaluated_at = humantime::format_rfc3339_seconds(now).to_string();
        let mut target = self.target_info();
        let t = Instant::now();
        let runs = self.collect(None);
        for run in runs.values() {
            target.hard_links.extend(run.hard_links.iter().cloned());
            target.mounts.extend(run.mounts.iter().cloned());
        }
        for list in [&mut target.hard_links, &mut target.mounts] {
            list.sort();
            list.dedup();
        }
        tracing::debug!(ms = t.elapsed().as_secs_f64() * 1e3, "plugins ran");
        let t = Instant::now();
        let target_json = self.target_info_json();
        // Each plugin's facts are checked against its schema once, before any policy reads them.
        let checks: BTreeMap<String, Checked> = runs
            .iter()
            .filter_map(|(id, run)| {
                let facts = run.facts.as_ref().ok()?;
                Some((id.clone(), crate::policy::facts_schema::check(id, facts)))
            })
            .collect();
        // Each control has its own policy engine: judge them in parallel, keeping catalogue order.
        let input = JudgeInput {
            runs: &runs,
            checks: &checks,
            target: &target_json,
            now: &evaluated_at,
            now_unix,
        };
        let judge_one = |control: &String| self.judge(control, &input);
        let mut results = crate::parallel::par_map(&self.controls, judge_one);
        tracing::debug!(ms = t.elapsed().as_secs_f64() * 1e3, "policies judged");
        crate::waivers::apply(&mut results, &self.waivers, now_unix);
        let plugins = self.plugin_reports(&runs);
        ResultDocument {
            schema: document::SCHEMA,
            tool: Tool {
                name: "phipolicy",
                version: env!("CARGO_PKG_VERSION"),
            },
            build: crate::build_info::BuildInfo::current(),
            profile: self.request.profile.profile.name.clone(),
            target,
            evaluated_at,
            duration_ms: started.elapsed().as_millis() as u64,
            summary: ResultDocument::summarize(&results),
            results,
            parameters: self.params.clone(),
            plugins,
        }
    }

    /// One control's result: its plugin's facts (checked against its plugin's schema, or the shape
    /// its policy declares) judged by its policy; `error` with the reason when either is missing or
    /// wrong.
    fn judge(&self, control: &str, input: &JudgeInput<'_>) -> ControlResult {
        let meta = &self.metadata[control];
        let mut result = ControlResult {
            control: control.to_string(),
            safeguard: meta.safeguard.clone(),
            cfr: meta.cfr.clone(),
            title: meta.title.clone(),
            severity: meta.severity.clone(),
            status: Status::Error,
            reasons: Vec::new(),
            evidence: Vec::new(),
            remediation: meta.remediation.clone(),
            waiver: None,
        };
        let facts = match self.facts_for(control, meta, input) {
            Ok(facts) => facts,
            Err(why) => {
                result.reasons.push(why.to_string());
                return result;
            }
        };
        let policy_input = json!({
            "facts": facts,
            "params": self.params,
            "target": input.target,
            "now": input.now,
            "now_unix": input.now_unix,
        });
        match self.policies.judge(control, &policy_input) {
            Ok(judgement) => apply_judgement(&mut result, judgement),
            Err(e) => result.reasons.push(format!("policy error: {e}")),
        }
        result
    }

    /// The facts of the plugin feeding `control`, if it ran and they match its schema (for a
    /// plugin without one: have the top-level shape the control's policy declares); else why the
    /// control is `error`.
    fn facts_for<'r>(
        &self,
        control: &str,
        meta: &ControlMeta,
        input: &JudgeInput<'r>,
    ) -> Result<&'r Value, NoFacts> {
        let runs = input.runs;
        let Some(plugin) = self.plugin_for(control) else {
            return Err(NoFacts::NoPlugin(control.to_string()));
        };
        let plugin = plugin.manifest.id.clone();
        let facts = match runs.get(&plugin).map(|r| &r.facts) {
            Some(Ok(f)) => f,
            Some(Err(error)) => {
                return Err(NoFacts::Failed {
                    plugin,
                    error: error.clone(),
                });
            }
            None => return Err(NoFacts::DidNotRun(plugin)),
        };
        match input.checks.get(&plugin) {
            Some(Checked::NoSchema) | None => {
                let problems = meta.facts_problems(facts);
                if !problems.is_empty() {
                    return Err(NoFacts::WrongShape { plugin, problems });
                }
            }
            Some(checked) => {
                if let Some(problem) = checked.problem(&plugin) {
                    return Err(NoFacts::SchemaMismatch { plugin, problem });
                }
            }
        }
        Ok(facts)
    }

    fn plugin_reports(&self, runs: &BTreeMap<String, PluginRun>) -> Vec<PluginReport> {
        let mut out = Vec::new();
        for (p, verification) in self.plugins.iter() {
            let Some(run) = runs.get(&p.manifest.id) else {
                continue;
            };
            let (origin, sha256) = match &p.origin {
                Origin::Builtin => ("builtin".to_string(), None),
                Origin::File { path, sha256 } => (path.display().to_string(), Some(sha256.clone())),
            };
            out.push(PluginReport {
                id: p.manifest.id.clone(),
                version: p.manifest.version.clone(),
                origin,
                sha256,
                verification: *verification,
                controls: p.manifest.controls.clone(),
                duration_ms: run.duration.as_millis() as u64,
                replaces_builtin: !matches!(p.origin, Origin::Builtin)
                    && crate::runner::is_builtin_id(&p.manifest.id),
                reads: expand_reads(&p.manifest.reads, &self.params)
                    .unwrap_or_else(|_| p.manifest.reads.clone()),
                files_read: run.served_count as usize,
                paths_read: run.files_read.clone(),
                referenced_reads: run.references.clone(),
                denied: run.denials.clone(),
                denied_count: run.denied_count,
                error: run.facts.as_ref().err().map(|e| e.to_string()),
            });
        }
        out
    }
}

/// What every control of one evaluation is judged with, besides its facts.
struct JudgeInput<'a> {
    runs: &'a BTreeMap<String, PluginRun>,
    /// Each plugin's facts checked against its schema (plugins whose run failed are absent).
    checks: &'a BTreeMap<String, Checked>,
    target: &'a Value,
    now: &'a str,
    now_unix: i64,
}

/// Copies a policy's judgement into the control's result.
fn apply_judgement(result: &mut ControlResult, j: crate::policy::Judgement) {
    result.status = j.status.into();
    result.reasons = j.reasons;
    // Line 0 means "the whole file": the document then omits the line.
    result.evidence = j
        .evidence
        .into_iter()
        .map(|mut e| {
            e.line = e.line.filter(|l| *l > 0);
            e
        })
        .collect();
    if let Some(r) = j.remediation.filter(|r| !r.is_empty()) {
        result.remediation = r;
    }
}

/// Why a control has no facts to judge (its result is `error` with this reason).
#[derive(Debug, thiserror::Error)]
enum NoFacts {
    #[error("no plugin provides facts for {0}")]
    NoPlugin(String),
    #[error("plugin {plugin} {error}")]
    Failed {
        plugin: String,
        error: crate::runner::RunError,
    },
    #[error("plugin {0} did not run")]
    DidNotRun(String),
    #[error(
        "plugin {plugin} returned facts of the wrong shape: {}",
        problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    WrongShape {
        plugin: String,
        problems: Vec<crate::policy::FactProblem>,
    },
    #[error("plugin {plugin} returned facts of the wrong shape: {problem}")]
    SchemaMismatch { plugin: String, problem: String },
}
