//! A PAM stack as libpam runs it: each module's return value goes through its control (`required`,
//! `requisite`, `sufficient`, `optional`, or `[value=action ...]`), and the stack's result and the
//! lines reached follow Linux-PAM's `_pam_dispatch_aux` (libpam/pam_dispatch.c): impressions,
//! `ok`/`done`/`bad`/`die`/`ignore`/`reset`, jumps that count a substack as one module, `done`
//! and `die` that end only the substack they are in.
//!
//! What each module returns is the caller's scenario ([`Outcome`]): this module only runs the
//! stack, it never decides whether a result is acceptable.

use serde::Serialize;

use crate::pam::{Control, PamEntry};

/// libpam's return values, by the names `pam.conf(5)` uses in `[value=action]`, in `_pam_types.h`
/// order.
pub const RETURN_VALUES: &[&str] = &[
    "success",
    "open_err",
    "symbol_err",
    "service_err",
    "system_err",
    "buf_err",
    "perm_denied",
    "auth_err",
    "cred_insufficient",
    "authinfo_unavail",
    "user_unknown",
    "maxtries",
    "new_authtok_reqd",
    "acct_expired",
    "session_err",
    "cred_unavail",
    "cred_expired",
    "cred_err",
    "no_module_data",
    "conv_err",
    "authtok_err",
    "authtok_recover_err",
    "authtok_lock_busy",
    "authtok_disable_aging",
    "try_again",
    "ignore",
    "abort",
    "authtok_expired",
    "module_unknown",
    "bad_item",
    "conv_again",
    "incomplete",
];

/// What libpam returns for a line it could not use (`PAM_MUST_FAIL_CODE`).
pub const MUST_FAIL: &str = "perm_denied";

/// What one module returns in a scenario: a name of [`RETURN_VALUES`].
pub type Outcome = &'static str;

/// What a control does with one return value (`_PAM_ACTION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Ignore,
    Ok,
    Done,
    Bad,
    Die,
    Reset,
    Jump(usize),
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "ignore" => Action::Ignore,
            "ok" => Action::Ok,
            "done" => Action::Done,
            "bad" => Action::Bad,
            "die" => Action::Die,
            "reset" => Action::Reset,
            n => Action::Jump(n.parse().ok().filter(|n: &usize| *n > 0)?),
        })
    }
}

/// The action `control` takes for `value` (pam_handlers.c: the keywords are shorthands for
/// bracketed lists; an unlisted value of a bracketed list with no `default=` is `bad`).
fn action(control: &Control, value: &str) -> Action {
    let success_like = value == "success" || value == "new_authtok_reqd";
    match control {
        Control::Required if success_like => Action::Ok,
        Control::Required if value == "ignore" => Action::Ignore,
        Control::Required => Action::Bad,
        Control::Requisite if success_like => Action::Ok,
        Control::Requisite if value == "ignore" => Action::Ignore,
        Control::Requisite => Action::Die,
        Control::Sufficient if success_like => Action::Done,
        Control::Sufficient => Action::Ignore,
        Control::Optional if success_like => Action::Ok,
        Control::Optional => Action::Ignore,
        // Expanded away before a stack runs; a stray one cannot decide anything.
        Control::Include | Control::Substack => Action::Bad,
        Control::Actions(_) => control
            .action(value)
            .and_then(Action::parse)
            .unwrap_or(Action::Bad),
    }
}

/// The result of running a stack in one scenario.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct StackRun {
    /// Whether the stack returns `PAM_SUCCESS`.
    pub success: bool,
    /// The return value the application gets (a name of [`RETURN_VALUES`]).
    pub result: &'static str,
    /// Indexes (into the entries) of the lines whose module was called, in order.
    pub executed: Vec<usize>,
    /// The line whose `done` or `die` ended the stack, if one did.
    pub decided_at: Option<usize>,
    /// A jump past the end of its stack ("bad jump in stack": the stack fails), at this line.
    pub bad_jump_at: Option<usize>,
}

/// One handler of libpam's list: a module line, or the place-holder a `substack` line leaves at its
/// own level (skipped when run, counted by jumps).
#[derive(Debug, Clone, Copy)]
enum Handler {
    Module { index: usize, level: usize },
    Substack { level: usize },
}

impl Handler {
    fn level(self) -> usize {
        match self {
            Handler::Module { level, .. } | Handler::Substack { level } => level,
        }
    }
}

/// libpam's handler list for a flattened stack: `include`s vanish (their lines join the list),
/// each `substack` adds a place-holder and puts its lines one level deeper.
fn handlers(entries: &[PamEntry]) -> Vec<Handler> {
    let mut out = Vec::new();
    let mut previous: Vec<(String, u32)> = Vec::new();
    for (index, e) in entries.iter().enumerate() {
        let chain: Vec<(String, u32)> = e
            .via
            .iter()
            .filter(|s| s.directive == "substack")
            .map(|s| (s.path.clone(), s.line))
            .collect();
        let common = previous
            .iter()
            .zip(&chain)
            .take_while(|(a, b)| a == b)
            .count();
        for level in common..chain.len() {
            out.push(Handler::Substack { level });
        }
        out.push(Handler::Module {
            index,
            level: chain.len(),
        });
        previous = chain;
    }
    out
}

/// Runs the stack: `outcome(index, entry)` is what the module of that line returns in the scenario.
pub fn run(entries: &[PamEntry], mut outcome: impl FnMut(usize, &PamEntry) -> Outcome) -> StackRun {
    const UNDEF: i8 = 0;
    const POSITIVE: i8 = 1;
    const NEGATIVE: i8 = -1;
    let list = handlers(entries);
    let mut impression = UNDEF;
    let mut status: &'static str = MUST_FAIL;
    // Impression and status on entering each substack level, for `reset`.
    let mut saved: Vec<(i8, &'static str)> = vec![(UNDEF, MUST_FAIL)];
    let mut executed = Vec::new();
    let mut decided_at = None;
    let mut bad_jump_at = None;
    let mut prev_level = 0;
    let mut i = 0;
    while i < list.len() {
        let level = list[i].level();
        if prev_level < level {
            saved.resize(level + 1, (UNDEF, MUST_FAIL));
            saved[level] = (impression, status);
        }
        prev_level = level;
        let Handler::Module { index, .. } = list[i] else {
            i += 1;
            continue;
        };
        let entry = &entries[index];
        executed.push(index);
        let retval = if entry.module_exists == Some(false) {
            "module_unknown"
        } else {
            outcome(index, entry)
        };
        let mut decided = false;
        match action(&entry.rule.control, retval) {
            Action::Reset => (impression, status) = saved[level],
            a @ (Action::Ok | Action::Done) => {
                // libpam keeps an `ignore` out of the status only when replaying a frozen chain
                // (setcred, close_session), which these runs never are.
                if impression == UNDEF || (impression == POSITIVE && status == "success") {
                    impression = POSITIVE;
                    status = retval;
                }
                decided = impression == POSITIVE && a == Action::Done;
            }
            a @ (Action::Bad | Action::Die) => {
                if impression != NEGATIVE {
                    impression = NEGATIVE;
                    status = if retval == "ignore" {
                        MUST_FAIL
                    } else {
                        retval
                    };
                }
                decided = a == Action::Die;
            }
            Action::Ignore => {}
            Action::Jump(mut n) => {
                while n > 0 && i + 1 < list.len() && list[i + 1].level() >= level {
                    i += 1;
                    while i + 1 < list.len() && list[i + 1].level() > level {
                        i += 1;
                    }
                    n -= 1;
                }
                if n > 0 {
                    bad_jump_at.get_or_insert(index);
                    impression = NEGATIVE;
                    status = MUST_FAIL;
                }
            }
        }
        if decided {
            decided_at = Some(index);
            while i + 1 < list.len() && list[i + 1].level() >= level {
                i += 1;
            }
        }
        i += 1;
    }
    if status == "success" && impression != POSITIVE {
        status = MUST_FAIL;
    }
    StackRun {
        success: status == "success",
        result: status,
        executed,
        decided_at,
        bad_jump_at,
    }
}

/// A login by a local, regular user whose password is in `/etc/shadow`, the case the lockout and
/// password-quality controls are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LocalUser {
    /// Whether the password typed is the account's (auth) or strong enough (password).
    pub password_good: bool,
    /// Whether pam_faillock / pam_tally2 already hold the account locked.
    pub locked: bool,
}

/// Modules whose return value for a local regular user is known without running them: they pass
/// (`pam_env`, `pam_succeed_if uid >= 1000`, `pam_localuser`, `pam_usertype isregular`, ...).
const PASSING_MODULES: &[&str] = &[
    "pam_env.so",
    "pam_faildelay.so",
    "pam_succeed_if.so",
    "pam_localuser.so",
    "pam_usertype.so",
    "pam_nologin.so",
    "pam_securetty.so",
    "pam_access.so",
    "pam_shells.so",
    "pam_time.so",
    "pam_group.so",
    "pam_cap.so",
    "pam_echo.so",
    "pam_motd.so",
    "pam_mail.so",
    "pam_lastlog.so",
    "pam_lastlog2.so",
    "pam_limits.so",
    "pam_keyinit.so",
    "pam_loginuid.so",
    "pam_selinux.so",
    "pam_namespace.so",
    "pam_umask.so",
    "pam_systemd.so",
    "pam_permit.so",
    "pam_pwhistory.so",
    "pam_gnome_keyring.so",
    "pam_mkhomedir.so",
    "pam_oddjob_mkhomedir.so",
];

/// Modules of directory services that do not know a local user (`PAM_USER_UNKNOWN`).
const REMOTE_IDENTITY_MODULES: &[&str] = &[
    "pam_sss.so",
    "pam_sss_gss.so",
    "pam_winbind.so",
    "pam_ldap.so",
    "pam_krb5.so",
    "pam_systemd_home.so",
];

/// Second factors with nothing enrolled for the user (`PAM_AUTHINFO_UNAVAIL`).
const UNENROLLED_MODULES: &[&str] = &[
    "pam_fprintd.so",
    "pam_u2f.so",
    "pam_google_authenticator.so",
];

/// What the module of `entry` returns for [`LocalUser`] `user`, and whether that is modelled
/// (`false`: a module this model does not know, taken as `ignore`).
pub fn local_user_outcome(user: LocalUser, entry: &PamEntry) -> (Outcome, bool) {
    use crate::pam::PamType;
    let rule = &entry.rule;
    let has = |arg: &str| rule.args.iter().any(|a| a == arg);
    let out = match (rule.kind, rule.module_name()) {
        (PamType::Auth, "pam_unix.so") if user.password_good => "success",
        (PamType::Auth, "pam_unix.so") => "auth_err",
        (PamType::Password, "pam_unix.so") => "success",
        (PamType::Auth, "pam_faillock.so") if has("preauth") => {
            if user.locked {
                "auth_err"
            } else {
                "success"
            }
        }
        // pam_faillock.c: authfail records the failure and returns PAM_IGNORE, unless the
        // account is already locked.
        (PamType::Auth, "pam_faillock.so") if has("authfail") => {
            if user.locked {
                "auth_err"
            } else {
                "ignore"
            }
        }
        (_, "pam_faillock.so") => "success",
        (PamType::Auth, "pam_tally2.so") => {
            if user.locked {
                "auth_err"
            } else {
                "success"
            }
        }
        (_, "pam_tally2.so") => "success",
        (PamType::Password, "pam_pwquality.so" | "pam_cracklib.so") => {
            if user.password_good {
                "success"
            } else {
                "authtok_err"
            }
        }
        (PamType::Auth, "pam_deny.so") => "auth_err",
        (PamType::Account, "pam_deny.so") => "acct_expired",
        (PamType::Password, "pam_deny.so") => "authtok_err",
        (PamType::Session, "pam_deny.so") => "session_err",
        // pam_rootok passes only for root; the user here is not.
        (_, "pam_rootok.so") => "auth_err",
        (_, "pam_succeed_if.so") if !succeed_if_uid(&rule.args) => "auth_err",
        (_, m) if PASSING_MODULES.contains(&m) => "success",
        (_, m) if REMOTE_IDENTITY_MODULES.contains(&m) => "user_unknown",
        (_, m) if UNENROLLED_MODULES.contains(&m) => "authinfo_unavail",
        _ => return ("ignore", false),
    };
    (out, true)
}

/// Runs the stack for [`LocalUser`] `user`; also returns the indexes of the lines whose module the
/// model does not know (taken as `ignore`), which the facts should say.
pub fn run_local_user(entries: &[PamEntry], user: LocalUser) -> (StackRun, Vec<usize>) {
    let mut unmodelled = Vec::new();
    let run = run(entries, |i, e| {
        let (out, known) = local_user_outcome(user, e);
        if !known {
            unmodelled.push(i);
        }
        out
    });
    (run, unmodelled)
}

/// The UID of the regular user the model logs in as (the first `UID_MIN` of login.defs).
const LOCAL_USER_UID: i64 = 1000;

/// Whether every `uid <op> N` condition of a pam_succeed_if line holds for [`LOCAL_USER_UID`]
/// (conditions on other fields are taken to hold).
fn succeed_if_uid(args: &[String]) -> bool {
    args.windows(3).all(|w| {
        if w[0] != "uid" {
            return true;
        }
        let Ok(n) = w[2].parse::<i64>() else {
            return true;
        };
        match w[1].as_str() {
            "<" | "lt" => LOCAL_USER_UID < n,
            "<=" | "le" => LOCAL_USER_UID <= n,
            ">" | "gt" => LOCAL_USER_UID > n,
            ">=" | "ge" => LOCAL_USER_UID >= n,
            "=" | "eq" => LOCAL_USER_UID == n,
            "!=" | "ne" => LOCAL_USER_UID != n,
            _ => true,
        }
    })
}

/// The action a line's control takes for `value`, as pam.conf(5) names it (`ok`, `bad`, `die`,
/// `done`, `ignore`, `reset`, or the jump count).
pub fn action_name(control: &Control, value: &str) -> String {
    match action(control, value) {
        Action::Ignore => "ignore".into(),
        Action::Ok => "ok".into(),
        Action::Done => "done".into(),
        Action::Bad => "bad".into(),
        Action::Die => "die".into(),
        Action::Reset => "reset".into(),
        Action::Jump(n) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pam::{PamType, parse_file};

    fn stack(text: &str) -> Vec<PamEntry> {
        let file = parse_file("/etc/pam.d/test", text);
        assert!(file.issues.is_empty(), "{:?}", file.issues);
        file.items
            .into_iter()
            .filter_map(|i| match i {
                crate::pam::PamItem::Rule(r) if r.kind == PamType::Auth => Some(PamEntry {
                    rule: r,
                    via: Vec::new(),
                    module_file: None,
                    module_exists: None,
                }),
                _ => None,
            })
            .collect()
    }

    /// A local user: pam_unix returns `unix`, pam_faillock preauth `preauth`, pam_deny fails.
    fn scenario(unix: Outcome, preauth: Outcome) -> impl Fn(usize, &PamEntry) -> Outcome {
        move |_, e| match e.rule.module_name() {
            "pam_unix.so" => unix,
            "pam_deny.so" => "auth_err",
            "pam_faillock.so" if e.rule.args.iter().any(|a| a == "preauth") => preauth,
            "pam_faillock.so" if e.rule.args.iter().any(|a| a == "authfail") => "ignore",
            _ => "success",
        }
    }

    const DEBIAN_FAILLOCK: &str = "\
auth required pam_faillock.so preauth
auth [success=2 default=ignore] pam_unix.so nullok
auth [default=die] pam_faillock.so authfail
auth requisite pam_deny.so
auth required pam_permit.so
";

    #[test]
    fn debian_faillock_stack_runs_as_pam_runs_it() {
        let s = stack(DEBIAN_FAILLOCK);
        let good = run(&s, scenario("success", "success"));
        assert!(good.success);
        assert_eq!(good.executed, vec![0, 1, 4]);
        let bad = run(&s, scenario("auth_err", "success"));
        assert!(!bad.success);
        assert_eq!(bad.executed, vec![0, 1, 2]);
        assert_eq!(bad.decided_at, Some(2));
        let locked = run(&s, scenario("success", "auth_err"));
        assert!(!locked.success, "a locked account must not log in");
    }

    #[test]
    fn sufficient_preauth_does_not_lock() {
        let s = stack(&DEBIAN_FAILLOCK.replacen("required", "sufficient", 1));
        assert!(run(&s, scenario("success", "auth_err")).success);
    }

    #[test]
    fn a_jump_onto_pam_deny_refuses_every_good_password() {
        let s = stack(&DEBIAN_FAILLOCK.replace("success=2", "success=1"));
        let good = run(&s, scenario("success", "success"));
        assert!(!good.success);
        assert_eq!(good.executed, vec![0, 1, 3]);
    }

    #[test]
    fn rhel_sufficient_unix_skips_authfail_only_on_success() {
        let s = stack(
            "auth required pam_env.so\n\
             auth required pam_faillock.so preauth silent\n\
             auth sufficient pam_unix.so nullok\n\
             auth required pam_faillock.so authfail\n\
             auth required pam_deny.so\n",
        );
        let good = run(&s, scenario("success", "success"));
        assert!(good.success);
        assert_eq!(good.decided_at, Some(2));
        let bad = run(&s, scenario("auth_err", "success"));
        assert!(!bad.success);
        assert!(bad.executed.contains(&3));
        assert!(!run(&s, scenario("success", "auth_err")).success);
    }

    #[test]
    fn a_jump_past_the_end_fails() {
        let s = stack("auth [success=5 default=ignore] pam_unix.so\nauth required pam_permit.so\n");
        let r = run(&s, scenario("success", "success"));
        assert!(!r.success);
        assert_eq!(r.bad_jump_at, Some(0));
    }

    #[test]
    fn a_missing_module_is_module_unknown() {
        let mut s = stack("auth required pam_tally2.so deny=5\nauth required pam_unix.so\n");
        s[0].module_exists = Some(false);
        let r = run(&s, scenario("success", "success"));
        assert!(!r.success);
        assert_eq!(r.result, "module_unknown");
    }

    #[test]
    fn reset_and_an_empty_stack() {
        assert_eq!(run(&[], scenario("success", "success")).result, MUST_FAIL);
        let s = stack("auth [default=reset] pam_deny.so\nauth required pam_unix.so\n");
        assert!(run(&s, scenario("success", "success")).success);
    }
}
