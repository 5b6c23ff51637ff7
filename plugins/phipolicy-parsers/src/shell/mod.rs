//! Shell profile files as an interactive bash login shell reads them, reduced to what decides the
//! idle timeout: where `TMOUT` is assigned, made readonly and exported, and what bash ends up with.
//!
//! The reader follows `/etc/profile` the way bash runs it, as far as static reading can: the loop
//! over `/etc/profile.d` (only the files its patterns match, `*.sh` on Debian and Rocky) and
//! `. /etc/bash.bashrc` / `. /etc/bashrc` are followed where they appear, so the order is the real
//! one (Debian sources `/etc/bash.bashrc` before the `profile.d` loop, Rocky sources `/etc/bashrc`
//! after it). Assignments inside `if`, loops, `case`, functions or after `&&`/`||` are counted but
//! flagged conditional; assignments to an already readonly `TMOUT` are refused, as bash refuses
//! them. The conditions around the distributions' own hooks (`[ -r "$i" ]`, `[ "${PS1-}" ]`,
//! `[ -n "${BASH_VERSION-}" ]`) hold for interactive bash login shells, the only shells `TMOUT`
//! acts on, so a file they source starts unconditional. A conditional `return` (Debian's
//! `[ -z "$PS1" ] && return`) stops only non-interactive shells and is not modelled.
//!
//! ```
//! use phipolicy_parsers::shell::tmout_seconds;
//!
//! // What bash's `atoi` makes of a `TMOUT` value.
//! assert_eq!(tmout_seconds("900"), 900);
//! assert_eq!(tmout_seconds(" 600s"), 600);
//! assert_eq!(tmout_seconds("abc"), 0);
//! ```

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Serialize;

use phipolicy_sdk::facts::ParseIssue;
use crate::os_release::Family;
use phipolicy_sdk::target::{FileKind, ReadError, Target, TargetExt};

/// The variable this module models.
const TMOUT: &str = "TMOUT";
/// The file every bash login shell reads first.
pub const PROFILE: &str = "/etc/profile";
/// The directory whose matching files `/etc/profile` sources.
pub const PROFILE_D: &str = "/etc/profile.d";
/// Debian's system-wide bashrc.
pub const DEBIAN_BASHRC: &str = "/etc/bash.bashrc";
/// Red Hat's system-wide bashrc.
pub const RHEL_BASHRC: &str = "/etc/bashrc";
/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Nesting of `.`/`source` followed before giving up (bash has no limit; a loop would never end).
    pub const MAX_SOURCE_DEPTH: usize = 8;

    /// Files read for one login (re-reads included). Each file sourcing the next many times over,
    /// down a chain of files, multiplies the reads at every level; a real login reads a few dozen, so
    /// past this the target is hostile and sourcing stops (reported as an issue).
    pub const MAX_SOURCED_FILES: usize = 256;
}
use limits::*;


/// What happened to one statement that touches `TMOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Took effect in the model.
    Applied,
    /// bash refuses it: `TMOUT` is readonly by then.
    Refused,
    /// Never runs: bash abandoned the command after a refused assignment, or the file returned.
    NotRun,
    /// The file is not read by login shells.
    NotSourced,
    /// Runs, but does not change the login shell's `TMOUT` (subshell, command prefix, local).
    NoEffect,
}

/// One statement that assigns `TMOUT` or changes its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TmoutStatement {
    /// The file of the statement.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// `assignment`, `prefix-assignment`, `export`, `readonly`, `declare`, `typeset`, `local` or `unset`.
    pub command: String,
    /// The command as written (words joined by one space).
    pub text: String,
    /// The assigned value after quote removal (as written when it expands at run time); `None`
    /// when the statement assigns nothing.
    pub value: Option<String>,
    /// The value contains an expansion (`$X`, `$(...)`, `$((...))`): unknown until run time.
    pub value_expands: bool,
    /// The seconds bash derives from the value (leading decimal digits, like `atoi`), when known.
    pub seconds: Option<i64>,
    /// The value is a plain decimal integer (nothing else around it).
    pub numeric: bool,
    /// The statement makes `TMOUT` readonly.
    pub readonly: bool,
    /// `true`: exports; `false`: removes the export attribute (`export -n`, `declare +x`).
    pub exported: Option<bool>,
    /// The statement may not run (inside `if`, `case`, `&&`, a function, ...).
    pub conditional: bool,
    /// Why the statement may not run (innermost construct first), when conditional.
    pub condition: Option<String>,
    /// The file is read by login shells.
    pub sourced: bool,
    /// What happened to it in the model.
    pub outcome: Outcome,
    /// Why it has that outcome, when it is not plain.
    pub note: Option<String>,
}

/// Where an attribute of `TMOUT` was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AttributeAt {
    /// The file of the statement.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The statement is conditional.
    pub conditional: bool,
}

/// An assignment bash refuses because `TMOUT` is already readonly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RefusedAssignment {
    /// The file of the assignment.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The command as written.
    pub text: String,
    /// The value it would have assigned.
    pub value: Option<String>,
    /// Where `TMOUT` became readonly.
    pub readonly_path: String,
    /// The line of the statement that made it readonly.
    pub readonly_line: u32,
}

/// What an interactive login shell ends up with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EffectiveTmout {
    /// `TMOUT` has a value (it may be readonly yet unset: `readonly TMOUT` alone).
    pub set: bool,
    /// The value (as written when it expands at run time).
    pub value: Option<String>,
    /// The value contains an expansion: unknown until run time.
    pub value_expands: bool,
    /// The seconds bash derives from the value, when known.
    pub seconds: Option<i64>,
    /// The value is a plain decimal integer.
    pub numeric: bool,
    /// The statement that decided the value (an assignment or an `unset`).
    pub path: Option<String>,
    /// Its line (0 when nothing decided it).
    pub line: u32,
    /// The deciding statement is conditional.
    pub conditional: bool,
    /// Where `TMOUT` became readonly, if it did.
    pub readonly: Option<AttributeAt>,
    /// Where `TMOUT` was exported, if it was.
    pub exported: Option<AttributeAt>,
    /// Assignments bash refuses because `TMOUT` was readonly by then.
    pub refused: Vec<RefusedAssignment>,
}

/// Which statement sourced a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SourcedFrom {
    /// The file of the `.`/`source` statement.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// A file read by login shells, in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProfileFile {
    /// The file.
    pub path: String,
    /// `None` for `/etc/profile` itself (bash reads it).
    pub sourced_from: Option<SourcedFrom>,
}

/// A file that exists where profile snippets live but that login shells do not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IgnoredFile {
    /// The file.
    pub path: String,
    /// Why login shells do not read it.
    pub reason: String,
}

/// A file login shells read that could not be read here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct UnreadableProfile {
    /// The file.
    pub path: String,
    /// Why it could not be read.
    pub error: String,
    /// The statement that sources it (`None` for `/etc/profile`).
    pub sourced_from: Option<SourcedFrom>,
    /// `TMOUT` was already unconditionally readonly when the file is sourced, so the file cannot
    /// change its value.
    pub readonly_before: bool,
}

/// A `.`/`source` of a literal path outside the profile files, recorded but not followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SourceNotFollowed {
    /// The file of the `.`/`source` statement.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The path it sources.
    pub file: String,
}

/// The `for` loop in `/etc/profile` that sources `/etc/profile.d`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProfileDirLoop {
    /// The file of the loop.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The loop's words, e.g. `["/etc/profile.d/*.sh", "/etc/profile.d/sh.local"]`.
    pub patterns: Vec<String>,
}

/// The `TMOUT` model of the login shell profile files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LoginTmout {
    /// The distribution family (which files login shells read).
    pub family: Family,
    /// Whether `/etc/profile` exists.
    pub profile_found: bool,
    /// Files login shells read, in order.
    pub files: Vec<ProfileFile>,
    /// The loop of `/etc/profile` that sources `/etc/profile.d`, if found.
    pub profile_d_loop: Option<ProfileDirLoop>,
    /// Files where profile snippets live that login shells do not read.
    pub ignored: Vec<IgnoredFile>,
    /// Files login shells read that could not be read here.
    pub unreadable: Vec<UnreadableProfile>,
    /// Lines that could not be parsed, sourcing stopped at a limit.
    pub issues: Vec<ParseIssue>,
    /// `.`/`source` of paths outside the profile files, not followed.
    pub sources_not_followed: Vec<SourceNotFollowed>,
    /// Every statement touching `TMOUT`, read files first in order, then files not read.
    pub assignments: Vec<TmoutStatement>,
    /// What an interactive login shell ends up with.
    pub effective: EffectiveTmout,
}

/// Reads the target's login profile files and models `TMOUT`.
pub fn login_tmout(target: &dyn Target, family: Family) -> LoginTmout {
    let mut interp = Interp::new(target);
    interp.source(PROFILE, None, 0);
    let profile_found = interp.files.iter().any(|f| f.path == PROFILE)
        || interp.unreadable.iter().any(|u| u.path == PROFILE);

    let mut ignored = Vec::new();
    let read: BTreeSet<String> = interp.files.iter().map(|f| f.path.clone()).collect();
    let mut not_read = Vec::new();
    if let Ok(entries) = target.list_dir(PROFILE_D) {
        for entry in entries {
            if entry.kind == FileKind::Directory {
                continue;
            }
            let path = format!("{PROFILE_D}/{}", entry.name);
            if read.contains(&path) || interp.unreadable.iter().any(|u| u.path == path) {
                continue;
            }
            let reason = match (&interp.profile_d_loop, profile_found) {
                (Some(l), _) => format!(
                    "{PROFILE} reads only {} (loop at {}:{})",
                    l.patterns.join(" "),
                    l.path,
                    l.line
                ),
                (None, true) => format!("{PROFILE} has no loop that sources {PROFILE_D}"),
                (None, false) => {
                    format!("{PROFILE} does not exist, so nothing sources {PROFILE_D}")
                }
            };
            not_read.push(path.clone());
            ignored.push(IgnoredFile { path, reason });
        }
    }
    let rc_files: &[&str] = match family {
        Family::Debian => &[DEBIAN_BASHRC],
        Family::Rhel => &[RHEL_BASHRC],
        Family::Unknown => &[DEBIAN_BASHRC, RHEL_BASHRC],
    };
    for rc in rc_files {
        if read.contains(*rc)
            || interp.unreadable.iter().any(|u| u.path == *rc)
            || !target.exists(rc)
        {
            continue;
        }
        not_read.push((*rc).to_string());
        ignored.push(IgnoredFile {
            path: (*rc).to_string(),
            reason: format!("{PROFILE} does not source it, so login shells do not read it"),
        });
    }
    for path in not_read {
        if let Ok(text) = target.read_text(&path) {
            interp.run_text(&path, &text, false, 0);
        }
    }

    let effective = interp.effective();
    LoginTmout {
        family,
        profile_found,
        files: interp.files,
        profile_d_loop: interp.profile_d_loop,
        ignored,
        unreadable: interp.unreadable,
        issues: interp.issues,
        sources_not_followed: interp.sources_not_followed,
        assignments: interp.statements,
        effective,
    }
}

/// The seconds bash's `atoi` makes of a `TMOUT` value: optional blanks and sign, then digits.
pub fn tmout_seconds(value: &str) -> i64 {
    let s = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -n } else { n }
}

/// Whether a value is a plain decimal integer.
fn is_plain_integer(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Lexer: words, operators and newlines with line numbers; quotes, expansions, comments,
// continuations and here-documents handled the way bash's parser delimits them.

mod lexer;
mod state;
#[cfg(test)]
mod tests;
mod walker;

use state::*;
use walker::*;
