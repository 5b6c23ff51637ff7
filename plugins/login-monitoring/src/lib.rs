//! The login-monitoring safeguard (45 CFR 164.308(a)(5)(ii)(C)): gathers the facts behind
//! `lockout.failed-logins`: the auth and account PAM stacks of the family's common service files
//! (includes expanded, module files looked up in the target), and the `deny`/`unlock_time` every
//! pam_faillock or pam_tally2 line really uses.

pub mod faillock;

use std::collections::BTreeMap;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::pam::{self, PamEntry, PamStack, PamType};
use phipolicy_parsers::pam::exec::{self as pam_exec, LocalUser};
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::{Value, json};

use crate::faillock::{FAILLOCK_CONF, FaillockConf};

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
        Ok(collect_facts(target))
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
pub fn collect_facts(target: &dyn Target) -> Value {
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
    let mut missing_modules: BTreeMap<(String, u32), Value> = BTreeMap::new();
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
        let entries: Vec<Value> = stack
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
                .or_insert_with(|| {
                    json!({
                        "path": e.rule.path,
                        "line": e.rule.line,
                        "type": e.rule.kind,
                        "module": e.rule.module,
                        "ignore_if_missing": e.rule.ignore_if_missing,
                        "searched": lookup.searched,
                    })
                });
        }
        stacks.push(stack_fact(target, &stack, entries));
    }

    let confs: Vec<&FaillockConf> = std::iter::once(&default_conf)
        .chain(other_confs.values())
        .collect();
    json!({
        "os": os.as_ref().map(|o| json!({
            "id": o.id, "version_id": o.version_id, "family": o.family, "path": o.path,
        })),
        "family": family,
        "module_dirs": dirs,
        "module_dirs_present": dirs_present,
        "faillock_confs": confs,
        "stacks": stacks,
        "missing_modules": missing_modules.into_values().collect::<Vec<_>>(),
        "unreadable": unreadable,
        "issues": issues,
    })
}

/// The auth stack run as PAM runs it for a local user: a correct password, a wrong one, and a
/// correct one on an account pam_faillock (or pam_tally2) already holds locked.
fn auth_runs(stack: &PamStack) -> Value {
    let run = |user: LocalUser| {
        let (r, unmodelled) = pam_exec::run_local_user(&stack.entries, user);
        let mut v = json!(r);
        v["unmodelled"] = json!(unmodelled);
        v
    };
    json!({
        "good_password": run(LocalUser { password_good: true, locked: false }),
        "wrong_password": run(LocalUser { password_good: false, locked: false }),
        "locked_good_password": run(LocalUser { password_good: true, locked: true }),
    })
}

fn stack_fact(target: &dyn Target, stack: &PamStack, entries: Vec<Value>) -> Value {
    let runs = (stack.kind == PamType::Auth && stack.exists).then(|| auth_runs(stack));
    json!({
        "runs": runs,
        "service": stack.service,
        "path": stack.path,
        "type": stack.kind,
        "exists": stack.exists,
        "real_path": pam::real_path(target, &stack.path),
        "files": stack.files,
        "unreadable": stack.unreadable,
        "entries": entries,
    })
}

fn entry_fact(
    target: &dyn Target,
    index: usize,
    e: &PamEntry,
    default_conf: &FaillockConf,
    other_confs: &mut BTreeMap<String, FaillockConf>,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> Value {
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
    json!({
        "index": index,
        "path": rule.path,
        "line": rule.line,
        "type": rule.kind,
        "control": rule.control,
        "module": rule.module,
        "module_name": module_name,
        "argv": rule.args,
        "ignore_if_missing": rule.ignore_if_missing,
        "module_exists": e.module_exists,
        "module_file": e.module_file,
        "via": e.via,
        "faillock_mode": mode,
        // What the control does when the module fails (`bad`/`die` make the failure count).
        "on_failure": pam_exec::action_name(&rule.control, "auth_err"),
        "faillock_conf": conf_path,
        "lockout": lockout,
    })
}

#[cfg(test)]
mod tests;
