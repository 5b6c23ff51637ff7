//! The login-monitoring safeguard (45 CFR 164.308(a)(5)(ii)(C)): gathers the facts behind
//! `lockout.failed-logins`: the auth and account PAM stacks of the family's common service files
//! (includes expanded, module files looked up in the target), and the `deny`/`unlock_time` every
//! pam_faillock or pam_tally2 line really uses.
//!
//! Facts: [`Facts`], one [`StackFact`] per (service, type) stack with its entries ([`EntryFact`])
//! and, for auth stacks, the stack run as PAM runs it ([`AuthRuns`]) (schema:
//! `policies/hipaa/schemas/login-monitoring.json`).

pub mod faillock;

use std::collections::BTreeMap;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease, OsSummary};
use phipolicy_parsers::pam::{self, Control, IncludeStep, PamEntry, PamStack, PamType, StackFile};
use phipolicy_parsers::pam::exec::{self as pam_exec, LocalUser, StackRun};
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::faillock::{FAILLOCK_CONF, FaillockConf, LockoutValues};

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release (identification only), `null` when it has none.
    pub os: Option<OsSummary>,
    /// Its distribution family (which service files and module directories apply).
    pub family: Family,
    /// The directories libpam loads relative module names from, for this family.
    pub module_dirs: Vec<String>,
    /// Those of them that exist in the target.
    pub module_dirs_present: Vec<String>,
    /// The faillock configuration files: the default one first, then those `conf=` names.
    pub faillock_confs: Vec<FaillockConf>,
    /// The auth and account stacks of the family's common service files.
    pub stacks: Vec<StackFact>,
    /// Lines whose module file is not in the target (each line once).
    pub missing_modules: Vec<MissingModule>,
    /// Files that could not be read (a missing service file is not one: see `stacks`).
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed or used.
    pub issues: Vec<ParseIssue>,
}

/// A PAM line whose module file is not in the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MissingModule {
    /// The file of the line.
    pub path: String,
    /// The line.
    pub line: u32,
    /// Its management group.
    #[serde(rename = "type")]
    pub kind: PamType,
    /// The module as written.
    pub module: String,
    /// A leading `-`: libpam skips the line silently.
    pub ignore_if_missing: bool,
    /// Every path looked at, in order.
    pub searched: Vec<String>,
}

/// One (service, type) stack, includes expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StackFact {
    /// Auth stacks that exist: the stack run for a local user; else `null`.
    pub runs: Option<AuthRuns>,
    /// The service (`common-auth`, `system-auth`, ...).
    pub service: String,
    /// Its file.
    pub path: String,
    /// The management group.
    #[serde(rename = "type")]
    pub kind: PamType,
    /// Whether the service file was read.
    pub exists: bool,
    /// Where the service file's symlinks lead inside the target, when it is a symlink.
    pub real_path: Option<String>,
    /// Files read, in order.
    pub files: Vec<StackFile>,
    /// Files of the stack that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// The rules of the stack, in the order libpam runs them.
    pub entries: Vec<EntryFact>,
}

/// The auth stack run as libpam runs it, in three scenarios.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuthRuns {
    /// A correct password.
    pub good_password: Run,
    /// A wrong password.
    pub wrong_password: Run,
    /// A correct password on an account pam_faillock (or pam_tally2) holds locked.
    pub locked_good_password: Run,
}

/// One run of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Run {
    /// What the stack did.
    #[serde(flatten)]
    pub run: StackRun,
    /// Indexes of the lines whose module the model does not know (taken as `ignore`).
    pub unmodelled: Vec<usize>,
}

/// One rule of a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EntryFact {
    /// Its position in the stack (what [`Run`] indexes refer to).
    pub index: usize,
    /// The file of the rule.
    pub path: String,
    /// Its first line.
    pub line: u32,
    /// Its management group.
    #[serde(rename = "type")]
    pub kind: PamType,
    /// The control field.
    pub control: Control,
    /// The module as written.
    pub module: String,
    /// The module's file name (`pam_faillock.so`).
    pub module_name: String,
    /// Its arguments.
    pub argv: Vec<String>,
    /// A leading `-`: a missing module is skipped silently.
    pub ignore_if_missing: bool,
    /// Whether the module file exists in the target.
    pub module_exists: Option<bool>,
    /// The module file found in the target.
    pub module_file: Option<String>,
    /// Include lines from the stack's file down to this rule's file.
    pub via: Vec<IncludeStep>,
    /// pam_faillock lines: `preauth`, `authfail` or `authsucc`.
    pub faillock_mode: Option<String>,
    /// What the control does when the module fails (`bad`/`die` make the failure count).
    pub on_failure: String,
    /// pam_faillock lines: the configuration file they read.
    pub faillock_conf: Option<String>,
    /// pam_faillock and pam_tally2 lines: `deny` and `unlock_time` in force.
    pub lockout: Option<LockoutValues>,
}

/// Debian and Ubuntu: pam-auth-update's common files.
const DEBIAN_SERVICES: &[(&str, PamType)] = &[
    ("common-auth", PamType::Auth),
    ("common-account", PamType::Account),
];

/// Rocky, Alma, RHEL: authselect's two stacks, each with an auth and an account part.
const RHEL_SERVICES: &[(&str, PamType)] = &[
    ("system-auth", PamType::Auth),
    ("system-auth", PamType::Account),
    ("password-auth", PamType::Auth),
    ("password-auth", PamType::Account),
];

/// The login-monitoring plugin.
pub struct LoginMonitoring;

impl Plugin for LoginMonitoring {
    fn manifest() -> Manifest {
        Manifest {
            id: "login-monitoring",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "login-monitoring",
            cfr: &["164.308(a)(5)(ii)(C)"],
            controls: &["lockout.failed-logins"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/pam.d",
                "/etc/pam.d/**",
                "/etc/authselect",
                "/etc/authselect/**",
                "/etc/security",
                "/etc/security/**",
                "/usr/lib/x86_64-linux-gnu/security",
                "/usr/lib/x86_64-linux-gnu/security/**",
                "/lib/x86_64-linux-gnu/security",
                "/lib/x86_64-linux-gnu/security/**",
                "/usr/lib/security",
                "/usr/lib/security/**",
                "/lib/security",
                "/lib/security/**",
                "/usr/lib64/security",
                "/usr/lib64/security/**",
            ],
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<Value, String> {
        phipolicy_sdk::facts::to_json(&collect_facts(target))
    }
}

phipolicy_sdk::export_plugin!(LoginMonitoring);

/// The (service, type) stacks to read. Unknown family: the Debian files when `common-auth`
/// exists, else the RHEL ones.
fn services(target: &dyn Target, family: Family) -> &'static [(&'static str, PamType)] {
    match family {
        Family::Debian => DEBIAN_SERVICES,
        Family::Rhel => RHEL_SERVICES,
        Family::Unknown if target.exists(&pam::service_path("common-auth")) => DEBIAN_SERVICES,
        Family::Unknown => RHEL_SERVICES,
    }
}

/// Gathers every fact of this safeguard.
pub fn collect_facts(target: &dyn Target) -> Facts {
    let mut unreadable: Vec<Unreadable> = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();
    let os = OsRelease::load_or_record(target, &mut unreadable);
    let family = os.as_ref().map_or(Family::Unknown, |o| o.family);
    let dirs = pam::module_dirs(family);
    let dirs_present: Vec<&str> = dirs
        .iter()
        .copied()
        .filter(|d| target.stat(d).is_ok_and(|s| s.kind == FileKind::Directory))
        .collect();

    let default_conf = FaillockConf::load(target, FAILLOCK_CONF, &mut unreadable);
    if let Some(file) = &default_conf.file {
        issues.extend(file.issues.iter().cloned());
    }
    let mut other_confs: BTreeMap<String, FaillockConf> = BTreeMap::new();

    let mut stacks = Vec::new();
    let mut missing_modules: BTreeMap<(String, u32), MissingModule> = BTreeMap::new();
    for (service, kind) in services(target, family) {
        let mut stack = pam::load_stack(target, service, *kind);
        pam::check_modules(target, &mut stack, dirs);
        // A missing service file is a finding for the policy, not an unreadable file.
        unreadable.extend(
            stack
                .unreadable
                .iter()
                .filter(|u| !(u.path == stack.path && u.error == ReadError::NotFound.to_string()))
                .cloned(),
        );
        issues.extend(stack.issues.iter().cloned());
        let entries: Vec<EntryFact> = stack
            .entries
            .iter()
            .enumerate()
            .map(|(index, e)| {
                entry_fact(
                    target,
                    index,
                    e,
                    &default_conf,
                    &mut other_confs,
                    &mut unreadable,
                    &mut issues,
                )
            })
            .collect();
        for e in stack
            .entries
            .iter()
            .filter(|e| e.module_exists == Some(false))
        {
            let lookup = pam::find_module(target, &e.rule.module, dirs);
            missing_modules
                .entry((e.rule.path.clone(), e.rule.line))
                .or_insert_with(|| MissingModule {
                    path: e.rule.path.clone(),
                    line: e.rule.line,
                    kind: e.rule.kind,
                    module: e.rule.module.clone(),
                    ignore_if_missing: e.rule.ignore_if_missing,
                    searched: lookup.searched,
                });
        }
        stacks.push(stack_fact(target, &stack, entries));
    }

    let faillock_confs: Vec<FaillockConf> = std::iter::once(default_conf)
        .chain(other_confs.into_values())
        .collect();
    Facts {
        os: os.map(OsSummary::from),
        family,
        module_dirs: dirs.iter().map(|d| d.to_string()).collect(),
        module_dirs_present: dirs_present.iter().map(|d| d.to_string()).collect(),
        faillock_confs,
        stacks,
        missing_modules: missing_modules.into_values().collect(),
        unreadable,
        issues,
    }
}

/// The auth stack run as PAM runs it for a local user: a correct password, a wrong one, and a
/// correct one on an account pam_faillock (or pam_tally2) already holds locked.
fn auth_runs(stack: &PamStack) -> AuthRuns {
    let run = |user: LocalUser| {
        let (run, unmodelled) = pam_exec::run_local_user(&stack.entries, user);
        Run { run, unmodelled }
    };
    AuthRuns {
        good_password: run(LocalUser { password_good: true, locked: false }),
        wrong_password: run(LocalUser { password_good: false, locked: false }),
        locked_good_password: run(LocalUser { password_good: true, locked: true }),
    }
}

fn stack_fact(target: &dyn Target, stack: &PamStack, entries: Vec<EntryFact>) -> StackFact {
    StackFact {
        runs: (stack.kind == PamType::Auth && stack.exists).then(|| auth_runs(stack)),
        service: stack.service.clone(),
        path: stack.path.clone(),
        kind: stack.kind,
        exists: stack.exists,
        real_path: pam::real_path(target, &stack.path),
        files: stack.files.clone(),
        unreadable: stack.unreadable.clone(),
        entries,
    }
}

fn entry_fact(
    target: &dyn Target,
    index: usize,
    e: &PamEntry,
    default_conf: &FaillockConf,
    other_confs: &mut BTreeMap<String, FaillockConf>,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> EntryFact {
    let rule = &e.rule;
    let module_name = rule.module_name();
    let (mode, lockout, conf_path) = match module_name {
        "pam_faillock.so" => {
            let conf = match faillock::conf_argument(rule) {
                Some(path) if path != FAILLOCK_CONF => {
                    other_confs.entry(path.to_string()).or_insert_with(|| {
                        let c = FaillockConf::load(target, path, unreadable);
                        if !c.exists {
                            // pam_faillock ignores only its default file being absent.
                            unreadable.push(Unreadable::new(path, &ReadError::NotFound));
                        }
                        if let Some(file) = &c.file {
                            issues.extend(file.issues.iter().cloned());
                        }
                        c
                    })
                }
                _ => default_conf,
            };
            (
                faillock::faillock_mode(rule),
                Some(faillock::faillock_values(rule, conf, issues)),
                Some(conf.path.clone()),
            )
        }
        "pam_tally2.so" => (None, Some(faillock::tally2_values(rule, issues)), None),
        _ => (None, None, None),
    };
    EntryFact {
        index,
        path: rule.path.clone(),
        line: rule.line,
        kind: rule.kind,
        control: rule.control.clone(),
        module: rule.module.clone(),
        module_name: module_name.to_string(),
        argv: rule.args.clone(),
        ignore_if_missing: rule.ignore_if_missing,
        module_exists: e.module_exists,
        module_file: e.module_file.clone(),
        via: e.via.clone(),
        faillock_mode: mode.map(str::to_string),
        on_failure: pam_exec::action_name(&rule.control, "auth_err"),
        faillock_conf: conf_path,
        lockout,
    }
}

#[cfg(test)]
mod tests;
