//! The password-management safeguard (45 CFR 164.308(a)(5)(ii)(D)): gathers the facts behind
//! `passwords.quality` (libpwquality files, pam_pwquality lines and the values they leave in force)
//! and `passwords.aging` (`login.defs` and the ageing fields of existing accounts).

pub mod pwquality;

use std::collections::BTreeMap;

use phipolicy_parsers::accounts::{self, GroupEntry, PasswdEntry, PasswordState, ShadowEntry};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, parse_c_integer};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::pam::{self, PamStack, PamType};
use phipolicy_parsers::pam::exec::{self as pam_exec, LocalUser};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::{Value, json};

use crate::pwquality::{EffectiveSetting, PwqualityConfig};

/// shadow's login.defs.
pub const LOGIN_DEFS: &str = "/etc/login.defs";
const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";
const GROUP: &str = "/etc/group";

/// The login.defs keys the aging control reads.
const LOGIN_DEFS_KEYS: &[&str] = &["PASS_MAX_DAYS", "PASS_MIN_DAYS", "PASS_WARN_AGE", "UID_MIN"];

/// The password-management plugin.
pub struct PasswordManagement;

impl Plugin for PasswordManagement {
    fn manifest() -> Manifest {
        Manifest {
            id: "password-management",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "password-management",
            cfr: &["164.308(a)(5)(ii)(D)"],
            controls: &["passwords.quality", "passwords.aging"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/security/pwquality.conf",
                "/etc/security/pwquality.conf.d",
                "/etc/security/pwquality.conf.d/**",
                "/etc/pam.d",
                "/etc/pam.d/**",
                "/etc/authselect",
                "/etc/authselect/**",
                "/etc/login.defs",
                "/etc/passwd",
                "/etc/shadow",
                "/etc/group",
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

phipolicy_sdk::export_plugin!(PasswordManagement);

/// The PAM services whose password stacks must run pam_pwquality, by family. For an unknown
/// family: whichever of the known stack files exist (all of them when none does).
fn password_services(target: &dyn Target, family: Family) -> Vec<&'static str> {
    match family {
        Family::Debian => vec!["common-password"],
        Family::Rhel => vec!["system-auth", "password-auth"],
        Family::Unknown => {
            let all = ["common-password", "system-auth", "password-auth"];
            let present: Vec<_> = all
                .into_iter()
                .filter(|s| target.exists(&pam::service_path(s)))
                .collect();
            if present.is_empty() {
                all.to_vec()
            } else {
                present
            }
        }
    }
}

/// Gathers every fact of this safeguard.
pub fn collect_facts(target: &dyn Target) -> Value {
    let mut unreadable: Vec<Unreadable> = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();

    let os = OsRelease::load_or_record(target, &mut unreadable);
    let family = os.as_ref().map_or(Family::Unknown, |o| o.family);

    let config = PwqualityConfig::load(target);
    unreadable.extend(config.unreadable.iter().cloned());
    issues.extend(config.issues.iter().cloned());

    let (pam_facts, top_effective) =
        pam_facts(target, family, &config, &mut unreadable, &mut issues);

    let login_defs = login_defs_facts(target, &mut unreadable, &mut issues);
    let accounts = account_facts(target, &mut unreadable, &mut issues);

    json!({
        "os": os.as_ref().map(|o| json!({
            "id": o.id, "version_id": o.version_id, "family": o.family, "path": o.path,
        })),
        "family": family,
        "pwquality": config,
        "pam": pam_facts,
        "effective": top_effective,
        "login_defs": login_defs,
        "accounts": accounts,
        "unreadable": unreadable,
        "issues": issues,
    })
}

fn pam_facts(
    target: &dyn Target,
    family: Family,
    config: &PwqualityConfig,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> (Value, BTreeMap<String, EffectiveSetting>) {
    let services = password_services(target, family);
    let dirs = pam::module_dirs(family);
    let dirs_present: Vec<&str> = dirs
        .iter()
        .copied()
        .filter(|d| {
            target
                .stat(d)
                .is_ok_and(|s| s.kind == phipolicy_sdk::FileKind::Directory)
        })
        .collect();
    let mut stacks: Vec<PamStack> = Vec::new();
    let mut runs = Vec::new();
    let mut lines = Vec::new();
    let mut top_effective = None;
    for service in &services {
        let mut stack = pam::load_stack(target, service, PamType::Password);
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
        for entry in stack.entries_for("pam_pwquality.so") {
            let effective = config.effective_for(&entry.rule, issues);
            if top_effective.is_none() {
                top_effective = Some(effective.clone());
            }
            let args: BTreeMap<&str, &str> = entry.rule.key_value_args().into_iter().collect();
            let flags: Vec<&str> = entry
                .rule
                .args
                .iter()
                .map(String::as_str)
                .filter(|a| !a.contains('='))
                .collect();
            lines.push(json!({
                "service": service,
                "path": entry.rule.path,
                "line": entry.rule.line,
                "control": entry.rule.control,
                "failure_action": failure_action(&entry.rule.control),
                "ignore_if_missing": entry.rule.ignore_if_missing,
                "module": entry.rule.module,
                "module_exists": entry.module_exists,
                "module_file": entry.module_file,
                "argv": entry.rule.args,
                "args": args,
                "flags": flags,
                "via": entry.via,
                "effective": effective,
            }));
        }
        if stack.exists {
            runs.push(json!({
                "service": service,
                "path": stack.path,
                "weak_password": password_run(&stack, false),
                "strong_password": password_run(&stack, true),
            }));
        }
        stacks.push(stack);
    }
    let facts = json!({
        "runs": runs,
        "services": services,
        "module_dirs": dirs,
        "module_dirs_present": dirs_present,
        "stacks": stacks,
        "pwquality_lines": lines,
    });
    (
        facts,
        top_effective.unwrap_or_else(|| config.effective_from_files()),
    )
}

/// The password stack run as libpam runs it for a local user changing their password, with
/// pam_pwquality accepting (`strong`) or rejecting it: whether the change succeeds, and the lines
/// reached, with their files and lines.
fn password_run(stack: &PamStack, strong: bool) -> Value {
    let user = LocalUser {
        password_good: strong,
        locked: false,
    };
    let (run, unmodelled) = pam_exec::run_local_user(&stack.entries, user);
    let executed: Vec<Value> = run
        .executed
        .iter()
        .map(|&i| {
            let r = &stack.entries[i].rule;
            json!({"index": i, "path": r.path, "line": r.line, "control": r.control, "module": r.module, "module_name": r.module_name()})
        })
        .collect();
    json!({
        "success": run.success,
        "result": run.result,
        "executed": executed,
        "unmodelled": unmodelled.iter().map(|&i| {
            let r = &stack.entries[i].rule;
            json!({"path": r.path, "line": r.line, "module": r.module})
        }).collect::<Vec<_>>(),
    })
}

/// What libpam does with the stack when pam_pwquality rejects a password (`PAM_AUTHTOK_ERR`):
/// `bad`/`die` refuse the password; `ignore`, `ok`, `done` or a jump let it through.
fn failure_action(control: &pam::Control) -> String {
    use pam::Control;
    match control {
        Control::Required => "bad".into(),
        Control::Requisite => "die".into(),
        Control::Sufficient | Control::Optional => "ignore".into(),
        Control::Include | Control::Substack => "include".into(),
        Control::Actions(_) => control.action("authtok_err").unwrap_or("bad").to_string(),
    }
}

fn login_defs_facts(
    target: &dyn Target,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> Value {
    let text = match target.read_text(LOGIN_DEFS) {
        Ok(t) => t,
        Err(ReadError::NotFound) => return json!({"path": LOGIN_DEFS, "exists": false}),
        Err(e) => {
            unreadable.push(Unreadable::new(LOGIN_DEFS, &e));
            return json!({"path": LOGIN_DEFS, "exists": true, "readable": false});
        }
    };
    let file = KeyValueFile::parse(LOGIN_DEFS, &text, Dialect::Whitespace);
    issues.extend(file.issues.iter().cloned());
    let mut out = serde_json::Map::new();
    out.insert("path".into(), json!(LOGIN_DEFS));
    out.insert("exists".into(), json!(true));
    out.insert("readable".into(), json!(true));
    for key in LOGIN_DEFS_KEYS {
        let value = file.last(key).map(|s| {
            let raw = s.value.clone().unwrap_or_default();
            // shadow reads these with getlong (strtol base 0, whole string); anything else means
            // its built-in default applies.
            json!({"value": parse_c_integer(&raw), "raw": raw, "path": s.path, "line": s.line})
        });
        out.insert((*key).to_string(), value.unwrap_or(Value::Null));
    }
    Value::Object(out)
}

/// Reads an account database; a missing or unreadable file is recorded and yields `None`.
fn read_database(
    target: &dyn Target,
    path: &str,
    unreadable: &mut Vec<Unreadable>,
) -> Option<String> {
    match target.read_text(path) {
        Ok(t) => Some(t),
        Err(e) => {
            unreadable.push(Unreadable::new(path, &e));
            None
        }
    }
}

fn account_facts(
    target: &dyn Target,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> Value {
    let passwd =
        read_database(target, PASSWD, unreadable).map(|t| accounts::parse_passwd(PASSWD, &t));
    let shadow =
        read_database(target, SHADOW, unreadable).map(|t| accounts::parse_shadow(SHADOW, &t));
    let group = read_database(target, GROUP, unreadable).map(|t| accounts::parse_group(GROUP, &t));
    for db_issues in [
        passwd.as_ref().map(|d| &d.issues),
        shadow.as_ref().map(|d| &d.issues),
        group.as_ref().map(|d| &d.issues),
    ]
    .into_iter()
    .flatten()
    {
        issues.extend(db_issues.iter().cloned());
    }
    let Some(passwd) = passwd else {
        return json!([]);
    };
    // Indexed once (first record wins, as getspnam and getgrgid read them): a lookup per account
    // in a scan of every record was quadratic, which tens of thousands of accounts turned into
    // the plugin's wall-time limit.
    let shadow_by_name = shadow.as_ref().map(|s| s.first_by(|e| e.name.as_str()));
    let group_by_gid = group.as_ref().map(|g| g.first_by(|e| e.gid));
    let entries: Vec<Value> = passwd
        .entries
        .iter()
        .map(|p| {
            account(
                p,
                shadow_by_name
                    .as_ref()
                    .and_then(|m| m.get(p.name.as_str()).copied()),
                shadow.is_some(),
                group_by_gid.as_ref().and_then(|m| m.get(&p.gid).copied()),
            )
        })
        .collect();
    Value::Array(entries)
}

fn account(
    p: &PasswdEntry,
    s: Option<&ShadowEntry>,
    shadow_read: bool,
    g: Option<&GroupEntry>,
) -> Value {
    // The hash lives in /etc/shadow when the passwd field is `x` (and shadow has the user);
    // otherwise the passwd field itself is the hash.
    let (state, source) = match s {
        Some(s) if p.password == "x" => (Some(s.password_state()), "shadow"),
        _ if p.password != "x" => (Some(PasswordState::of(&p.password)), "passwd"),
        _ if shadow_read => (Some(PasswordState::None), "none"),
        _ => (None, "unknown"),
    };
    json!({
        "name": p.name,
        "uid": p.uid,
        "gid": p.gid,
        "group": g.map(|g| g.name.clone()),
        "shell": p.shell,
        "login_shell": p.has_login_shell(),
        "password_state": state.map_or(json!("unknown"), |s| json!(s)),
        "password_source": source,
        "max_days": s.and_then(|s| s.max_days),
        "max_days_field": s.map(|s| s.max_days_field.clone()),
        "min_days": s.and_then(|s| s.min_days),
        "warn_days": s.and_then(|s| s.warn_days),
        "passwd_path": PASSWD,
        "passwd_line": p.line,
        "shadow_path": SHADOW,
        "shadow_line": s.map(|s| s.line),
    })
}

#[cfg(test)]
mod tests;
