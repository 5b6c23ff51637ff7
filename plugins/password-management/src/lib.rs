//! The password-management safeguard (45 CFR 164.308(a)(5)(ii)(D)): gathers the facts behind
//! `passwords.quality` (libpwquality files, pam_pwquality lines and the values they leave in force)
//! and `passwords.aging` (`login.defs` and the ageing fields of existing accounts).

pub mod pwquality;

use std::collections::BTreeMap;

use phipolicy_parsers::accounts::{self, PasswordState};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, parse_c_integer};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::pam::{self, PamStack, PamType};
use phipolicy_parsers::pam::exec::{self as pam_exec, LocalUser};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde::Serialize;
use serde_json::{Value, json};

use crate::pwquality::{EffectiveSetting, PwqualityConfig};

/// shadow's login.defs.
pub const LOGIN_DEFS: &str = "/etc/login.defs";
const PASSWD: &str = "/etc/passwd";
const SHADOW: &str = "/etc/shadow";

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

    let (login_defs, uid_min) = login_defs_facts(target, &mut unreadable, &mut issues);
    let passwd = read_database(target, PASSWD, &mut unreadable);
    let shadow = read_database(target, SHADOW, &mut unreadable);
    let accounts = passwd.as_deref().map(|passwd| {
        account_facts(
            passwd,
            shadow.as_deref(),
            uid_min.unwrap_or(DEFAULT_UID_MIN),
            &mut issues,
        )
    });

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

/// login.defs' ageing settings and UID_MIN, and the UID_MIN value when shadow reads it as a number.
fn login_defs_facts(
    target: &dyn Target,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> (Value, Option<i64>) {
    let text = match target.read_text(LOGIN_DEFS) {
        Ok(t) => t,
        Err(ReadError::NotFound) => return (json!({"path": LOGIN_DEFS, "exists": false}), None),
        Err(e) => {
            unreadable.push(Unreadable::new(LOGIN_DEFS, &e));
            return (
                json!({"path": LOGIN_DEFS, "exists": true, "readable": false}),
                None,
            );
        }
    };
    let file = KeyValueFile::parse(LOGIN_DEFS, &text, Dialect::Whitespace);
    issues.extend(file.issues.iter().cloned());
    let mut out = serde_json::Map::new();
    out.insert("path".into(), json!(LOGIN_DEFS));
    out.insert("exists".into(), json!(true));
    out.insert("readable".into(), json!(true));
    let mut uid_min = None;
    for key in LOGIN_DEFS_KEYS {
        let value = file.last(key).map(|s| {
            let raw = s.value.clone().unwrap_or_default();
            // shadow reads these with getlong (strtol base 0, whole string); anything else means
            // its built-in default applies.
            let value = parse_c_integer(&raw);
            if *key == "UID_MIN" {
                uid_min = value;
            }
            json!({"value": value, "raw": raw, "path": s.path, "line": s.line})
        });
        out.insert((*key).to_string(), value.unwrap_or(Value::Null));
    }
    (Value::Object(out), uid_min)
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

/// How many login accounts [`AccountFacts::login`] lists: all of them up to this many, else the
/// worst this many. A directory-backed host has tens of thousands of accounts; one object each
/// ran this plugin out of memory and would have filled the result document with one reason per
/// account.
pub const LISTED_LOGIN_ACCOUNTS: usize = 20;

/// shadow's UID_MIN when login.defs does not set it (or not as a number getlong reads).
const DEFAULT_UID_MIN: i64 = 1000;

/// The accounts `passwords.aging` is about: those with `uid >= uid_min`, a login shell and a
/// usable password hash ("login accounts"), counted by maximum password age and the worst listed.
#[derive(Debug, Serialize)]
pub struct AccountFacts<'t> {
    /// Records in `/etc/passwd`.
    pub total: usize,
    /// The UID_MIN in force: login.defs' value when shadow can read it as a number, else 1000.
    pub uid_min: i64,
    /// How many login accounts there are.
    pub login_count: usize,
    /// How many login accounts have each maximum password age (`null`: no maximum, because the
    /// shadow field is empty or unreadable as a number, or the account has no shadow entry),
    /// ascending by age with `null` first.
    pub max_days_counts: Vec<MaxDaysCount>,
    /// Every login account when there are at most [`LISTED_LOGIN_ACCOUNTS`], else the worst
    /// that many: no maximum first, then negative maxima (also no limit), then the largest; ties
    /// in file order.
    pub login: Vec<Account<'t>>,
}

/// A maximum password age and how many login accounts have it.
#[derive(Debug, Serialize)]
pub struct MaxDaysCount {
    pub max_days: Option<i64>,
    pub count: usize,
}

/// A login account and where its ageing is written.
#[derive(Debug, Serialize)]
pub struct Account<'t> {
    pub name: &'t str,
    pub uid: u32,
    pub shell: &'t str,
    /// Where the hash lives: `shadow` or `passwd` (a hash in the passwd field itself).
    pub password_source: &'static str,
    /// shadow's maximum age in days (`null`: none).
    pub max_days: Option<i64>,
    /// The max-days field as written (`null`: no shadow entry).
    pub max_days_field: Option<&'t str>,
    pub passwd_path: &'static str,
    pub passwd_line: u32,
    pub shadow_path: &'static str,
    /// `null` when the account has no shadow entry.
    pub shadow_line: Option<u32>,
}

impl Account<'_> {
    /// Worst first: no maximum, a negative maximum (no limit either), then the largest.
    fn badness(&self) -> (u8, std::cmp::Reverse<i64>) {
        match self.max_days {
            None => (0, std::cmp::Reverse(0)),
            Some(d) if d < 0 => (1, std::cmp::Reverse(0)),
            Some(d) => (2, std::cmp::Reverse(d)),
        }
    }
}

/// The login accounts of `passwd` joined with `shadow` (first record wins, as getspnam reads
/// them), in one pass over each file.
fn account_facts<'t>(
    passwd: &'t str,
    shadow: Option<&'t str>,
    uid_min: i64,
    issues: &mut Vec<ParseIssue>,
) -> AccountFacts<'t> {
    let passwd = accounts::parse_passwd_borrowed(PASSWD, passwd);
    let shadow = shadow.map(|t| accounts::parse_shadow_borrowed(SHADOW, t));
    issues.extend(passwd.issues.iter().cloned());
    if let Some(s) = &shadow {
        issues.extend(s.issues.iter().cloned());
    }
    let shadow_by_name = shadow.as_ref().map(|s| s.first_by(|e| e.name));
    let mut login: Vec<Account<'t>> = Vec::new();
    let mut counts: BTreeMap<Option<i64>, usize> = BTreeMap::new();
    for p in &passwd.entries {
        if i64::from(p.uid) < uid_min || !p.has_login_shell() {
            continue;
        }
        let s = shadow_by_name.as_ref().and_then(|m| m.get(p.name).copied());
        // The hash lives in /etc/shadow when the passwd field is `x` (and shadow has the user);
        // otherwise the passwd field itself is the hash. An `x` without a shadow entry is no
        // usable password (shadow was read: callers without shadow judge nothing).
        let (state, source) = match s {
            Some(s) if p.password == "x" => (s.password_state(), "shadow"),
            _ if p.password != "x" => (PasswordState::of(p.password), "passwd"),
            _ => (PasswordState::None, "none"),
        };
        if state != PasswordState::Usable {
            continue;
        }
        let account = Account {
            name: p.name,
            uid: p.uid,
            shell: p.shell,
            password_source: source,
            max_days: s.and_then(|s| s.max_days),
            max_days_field: s.map(|s| s.max_days_field),
            passwd_path: PASSWD,
            passwd_line: p.line,
            shadow_path: SHADOW,
            shadow_line: s.map(|s| s.line),
        };
        *counts.entry(account.max_days).or_default() += 1;
        login.push(account);
    }
    let login_count = login.len();
    // Stable: ties stay in file order.
    login.sort_by_key(Account::badness);
    login.truncate(LISTED_LOGIN_ACCOUNTS);
    AccountFacts {
        total: passwd.entries.len(),
        uid_min,
        login_count,
        max_days_counts: counts
            .into_iter()
            .map(|(max_days, count)| MaxDaysCount { max_days, count })
            .collect(),
        login,
    }
}

#[cfg(test)]
mod tests;
