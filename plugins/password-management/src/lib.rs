//! The password-management safeguard (45 CFR 164.308(a)(5)(ii)(D)): gathers the facts behind
//! `passwords.quality` (libpwquality files, pam_pwquality lines and the values they leave in force)
//! and `passwords.aging` (`login.defs` and the ageing fields of existing accounts).
//!
//! Facts: [`Facts`] (schema: `policies/hipaa/schemas/password-management.json`).

pub mod pwquality;

use std::collections::BTreeMap;

use phipolicy_parsers::accounts::{self, PasswordState};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, parse_c_integer};
use phipolicy_parsers::os_release::{Family, OsRelease, OsSummary};
use phipolicy_parsers::pam::{self, Control, IncludeStep, PamStack, PamType};
use phipolicy_parsers::pam::exec::{self as pam_exec, LocalUser};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

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
        let passwd = target.read_text(PASSWD);
        let shadow = target.read_text(SHADOW);
        phipolicy_sdk::facts::to_json(&collect_facts(target, &passwd, &shadow))
    }
}

phipolicy_sdk::export_plugin!(PasswordManagement);

/// What this plugin returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Facts<'t> {
    /// The target's os-release (identification only), `null` when it has none.
    pub os: Option<OsSummary>,
    /// Its distribution family (which PAM services and module directories apply).
    pub family: Family,
    /// libpwquality's configuration files and the settings they leave in force.
    pub pwquality: PwqualityConfig,
    /// The password stacks and their pam_pwquality lines.
    pub pam: PamFacts,
    /// The values in force for the first pam_pwquality line found (else from the files alone),
    /// by setting name.
    pub effective: BTreeMap<String, EffectiveSetting>,
    /// login.defs' ageing settings and UID_MIN.
    pub login_defs: LoginDefs,
    /// The login accounts and their ageing; `null` when /etc/passwd could not be read.
    pub accounts: Option<AccountFacts<'t>>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed or used.
    pub issues: Vec<ParseIssue>,
}

/// The password stacks of the family's services.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PamFacts {
    /// Each existing service's password stack, run as libpam runs it for a local user changing
    /// their password.
    pub runs: Vec<PasswordRuns>,
    /// The services whose password stacks must run pam_pwquality.
    pub services: Vec<String>,
    /// The directories libpam loads relative module names from, for this family.
    pub module_dirs: Vec<String>,
    /// Those of them that exist in the target.
    pub module_dirs_present: Vec<String>,
    /// The password stacks, includes expanded.
    pub stacks: Vec<PamStack>,
    /// Every pam_pwquality line of those stacks, with the values it leaves in force.
    pub pwquality_lines: Vec<PwqualityLine>,
}

/// One service's password stack run with pam_pwquality rejecting and accepting the password.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PasswordRuns {
    /// The service.
    pub service: String,
    /// Its file.
    pub path: String,
    /// pam_pwquality rejects the new password.
    pub weak_password: PasswordRun,
    /// pam_pwquality accepts it.
    pub strong_password: PasswordRun,
}

/// One run of a password stack.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PasswordRun {
    /// Whether the password change succeeds.
    pub success: bool,
    /// The return value the application gets.
    pub result: &'static str,
    /// The lines whose module was called, in order.
    pub executed: Vec<ExecutedLine>,
    /// Lines whose module the model does not know (taken as `ignore`).
    pub unmodelled: Vec<UnmodelledLine>,
}

/// A line a run called.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ExecutedLine {
    /// Its position in the stack.
    pub index: usize,
    /// Its file.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// Its control field.
    pub control: Control,
    /// The module as written.
    pub module: String,
    /// The module's file name.
    pub module_name: String,
}

/// A line whose module the stack model does not know.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UnmodelledLine {
    /// Its file.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The module as written.
    pub module: String,
}

/// A pam_pwquality line and what it leaves in force.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PwqualityLine {
    /// The service whose stack holds it.
    pub service: String,
    /// Its file.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// Its control field.
    pub control: Control,
    /// What libpam does when pam_pwquality rejects the password: `bad`/`die` refuse it,
    /// `ignore`, `ok`, `done` or a jump let it through (`include` for an include line).
    pub failure_action: String,
    /// A leading `-`: a missing module is skipped silently.
    pub ignore_if_missing: bool,
    /// The module as written.
    pub module: String,
    /// Whether the module file exists in the target.
    pub module_exists: Option<bool>,
    /// The module file found in the target.
    pub module_file: Option<String>,
    /// Its arguments as written.
    pub argv: Vec<String>,
    /// Its `name=value` arguments (the last of a name wins).
    pub args: BTreeMap<String, String>,
    /// Its arguments without `=`.
    pub flags: Vec<String>,
    /// Include lines from the service file down to this line's file.
    pub via: Vec<IncludeStep>,
    /// The values in force for this line (its arguments over the files), by setting name.
    pub effective: BTreeMap<String, EffectiveSetting>,
}

/// login.defs as the ageing control reads it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LoginDefs {
    /// `/etc/login.defs`.
    pub path: &'static str,
    /// Whether it exists.
    pub exists: bool,
    /// Whether it could be read (absent when it does not exist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable: Option<bool>,
    /// PASS_MAX_DAYS, PASS_MIN_DAYS, PASS_WARN_AGE and UID_MIN when the file was read: the last
    /// setting of each, `null` when unset.
    #[serde(flatten)]
    pub settings: BTreeMap<&'static str, Option<DefsSetting>>,
}

/// A login.defs setting.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DefsSetting {
    /// The number shadow reads (getlong: strtol base 0, whole string); `null` when it reads
    /// none, so its built-in default applies.
    pub value: Option<i64>,
    /// As written.
    pub raw: String,
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
}

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

/// Gathers every fact of this safeguard (`passwd` and `shadow`: the account databases as read,
/// borrowed by the account facts).
pub fn collect_facts<'t>(
    target: &dyn Target,
    passwd: &'t Result<String, ReadError>,
    shadow: &'t Result<String, ReadError>,
) -> Facts<'t> {
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
    let passwd = database(PASSWD, passwd, &mut unreadable);
    let shadow = database(SHADOW, shadow, &mut unreadable);
    let accounts = passwd.map(|passwd| {
        account_facts(
            passwd,
            shadow,
            uid_min.unwrap_or(DEFAULT_UID_MIN),
            &mut issues,
        )
    });

    Facts {
        os: os.map(OsSummary::from),
        family,
        pwquality: config,
        pam: pam_facts,
        effective: top_effective,
        login_defs,
        accounts,
        unreadable,
        issues,
    }
}

fn pam_facts(
    target: &dyn Target,
    family: Family,
    config: &PwqualityConfig,
    unreadable: &mut Vec<Unreadable>,
    issues: &mut Vec<ParseIssue>,
) -> (PamFacts, BTreeMap<String, EffectiveSetting>) {
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
            let args: BTreeMap<String, String> = entry
                .rule
                .key_value_args()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let flags: Vec<String> = entry
                .rule
                .args
                .iter()
                .filter(|a| !a.contains('='))
                .cloned()
                .collect();
            lines.push(PwqualityLine {
                service: service.to_string(),
                path: entry.rule.path.clone(),
                line: entry.rule.line,
                control: entry.rule.control.clone(),
                failure_action: failure_action(&entry.rule.control),
                ignore_if_missing: entry.rule.ignore_if_missing,
                module: entry.rule.module.clone(),
                module_exists: entry.module_exists,
                module_file: entry.module_file.clone(),
                argv: entry.rule.args.clone(),
                args,
                flags,
                via: entry.via.clone(),
                effective,
            });
        }
        if stack.exists {
            runs.push(PasswordRuns {
                service: service.to_string(),
                path: stack.path.clone(),
                weak_password: password_run(&stack, false),
                strong_password: password_run(&stack, true),
            });
        }
        stacks.push(stack);
    }
    let facts = PamFacts {
        runs,
        services: services.iter().map(|s| s.to_string()).collect(),
        module_dirs: dirs.iter().map(|d| d.to_string()).collect(),
        module_dirs_present: dirs_present.iter().map(|d| d.to_string()).collect(),
        stacks,
        pwquality_lines: lines,
    };
    (
        facts,
        top_effective.unwrap_or_else(|| config.effective_from_files()),
    )
}

/// The password stack run as libpam runs it for a local user changing their password, with
/// pam_pwquality accepting (`strong`) or rejecting it: whether the change succeeds, and the lines
/// reached, with their files and lines.
fn password_run(stack: &PamStack, strong: bool) -> PasswordRun {
    let user = LocalUser {
        password_good: strong,
        locked: false,
    };
    let (run, unmodelled) = pam_exec::run_local_user(&stack.entries, user);
    let executed = run
        .executed
        .iter()
        .map(|&i| {
            let r = &stack.entries[i].rule;
            ExecutedLine {
                index: i,
                path: r.path.clone(),
                line: r.line,
                control: r.control.clone(),
                module: r.module.clone(),
                module_name: r.module_name().to_string(),
            }
        })
        .collect();
    PasswordRun {
        success: run.success,
        result: run.result,
        executed,
        unmodelled: unmodelled
            .iter()
            .map(|&i| {
                let r = &stack.entries[i].rule;
                UnmodelledLine {
                    path: r.path.clone(),
                    line: r.line,
                    module: r.module.clone(),
                }
            })
            .collect(),
    }
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
) -> (LoginDefs, Option<i64>) {
    let mut defs = LoginDefs {
        path: LOGIN_DEFS,
        exists: true,
        readable: Some(true),
        settings: BTreeMap::new(),
    };
    let text = match target.read_text(LOGIN_DEFS) {
        Ok(t) => t,
        Err(ReadError::NotFound) => {
            defs.exists = false;
            defs.readable = None;
            return (defs, None);
        }
        Err(e) => {
            unreadable.push(Unreadable::new(LOGIN_DEFS, &e));
            defs.readable = Some(false);
            return (defs, None);
        }
    };
    let file = KeyValueFile::parse(LOGIN_DEFS, &text, Dialect::Whitespace);
    issues.extend(file.issues.iter().cloned());
    let mut uid_min = None;
    for key in LOGIN_DEFS_KEYS {
        let setting = file.last(key).map(|s| {
            let raw = s.value.clone().unwrap_or_default();
            // shadow reads these with getlong (strtol base 0, whole string); anything else means
            // its built-in default applies.
            let value = parse_c_integer(&raw);
            if *key == "UID_MIN" {
                uid_min = value;
            }
            DefsSetting {
                value,
                raw,
                path: s.path.clone(),
                line: s.line,
            }
        });
        defs.settings.insert(key, setting);
    }
    (defs, uid_min)
}

/// An account database's text; a missing or unreadable file is recorded and yields `None`.
fn database<'t>(
    path: &str,
    read: &'t Result<String, ReadError>,
    unreadable: &mut Vec<Unreadable>,
) -> Option<&'t str> {
    match read {
        Ok(t) => Some(t),
        Err(e) => {
            unreadable.push(Unreadable::new(path, e));
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
#[derive(Debug, Serialize, JsonSchema)]
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
#[derive(Debug, Serialize, JsonSchema)]
pub struct MaxDaysCount {
    pub max_days: Option<i64>,
    pub count: usize,
}

/// A login account and where its ageing is written.
#[derive(Debug, Serialize, JsonSchema)]
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
