//! Scheduled jobs and the restic command lines they run: cron tables (system and per-user), shell
//! scripts called from them, systemd unit files (`.timer`/`.service`, `Environment=`,
//! `EnvironmentFile=`) and restic's options (`-r`, `--password-file`, `RESTIC_*` variables).
//!
//! Every parser here is total: it never panics and reports what it could not use as [`ParseIssue`]s.
//! Values of `RESTIC_PASSWORD` are never copied into a serialisable field.
//!
//! ```
//! use phipolicy_parsers::schedule::{parse_crontab, split_commands};
//!
//! let tab = parse_crontab("RESTIC_REPOSITORY=/srv/backup\n0 2 * * * root restic backup /var/data\n", "/etc/cron.d/backup", true);
//! assert_eq!(tab.entries[0].user.as_deref(), Some("root"));
//! assert_eq!(split_commands(&tab.entries[0].command), vec![vec!["restic", "backup", "/var/data"]]);
//! ```

use serde::Serialize;

use crate::cursor::Cursor;
use phipolicy_sdk::facts::ParseIssue;

/// A variable assignment (`NAME=value`) with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub name: String,
    pub value: String,
    pub path: String,
    pub line: u32,
}

/// Whether `word` is a shell assignment `NAME=value` (NAME an identifier).
pub fn as_assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    if (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        Some((name, value))
    } else {
        None
    }
}

/// Splits shell text into simple commands (lists of words) the way `sh` would tokenise them, well
/// enough to find programs and their arguments: quotes and backslashes are honoured, `#` comments
/// dropped, `;`, `&`, `|`, `&&`, `||`, newlines, `(`, `)` end a command, `{` and `}` words are
/// dropped, and redirections (`>file`, `2>&1`, `<file`) are removed with their target. Expansions
/// (`$VAR`, `$(...)`) are kept as written.
pub fn split_commands(text: &str) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    // Set while the next word is a redirection target to drop.
    let mut redirect_target = false;
    let mut cur = Cursor::new(text);

    fn end_word(
        words: &mut Vec<String>,
        word: &mut String,
        in_word: &mut bool,
        redirect_target: &mut bool,
    ) {
        if *in_word {
            if *redirect_target {
                *redirect_target = false;
            } else if word != "{" && word != "}" {
                words.push(std::mem::take(word));
            }
            word.clear();
            *in_word = false;
        }
    }
    fn end_command(commands: &mut Vec<Vec<String>>, words: &mut Vec<String>) {
        if !words.is_empty() {
            commands.push(std::mem::take(words));
        }
    }

    while let Some(c) = cur.bump() {
        match c {
            '\'' => {
                in_word = true;
                while let Some(q) = cur.bump() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = cur.bump() {
                    match q {
                        '"' => break,
                        '\\' => match cur.peek() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => {
                                word.push(n);
                                cur.bump();
                            }
                            Some('\n') => {
                                cur.bump();
                            }
                            _ => word.push('\\'),
                        },
                        _ => word.push(q),
                    }
                }
            }
            '\\' => match cur.bump() {
                Some('\n') | None => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
            },
            '#' if !in_word => {
                while let Some(n) = cur.bump() {
                    if n == '\n' {
                        break;
                    }
                }
                end_word(&mut words, &mut word, &mut in_word, &mut redirect_target);
                end_command(&mut commands, &mut words);
            }
            ' ' | '\t' | '\r' => {
                end_word(&mut words, &mut word, &mut in_word, &mut redirect_target)
            }
            '\n' | ';' | '&' | '|' | '(' | ')' => {
                end_word(&mut words, &mut word, &mut in_word, &mut redirect_target);
                end_command(&mut commands, &mut words);
            }
            '>' | '<' => {
                // A file-descriptor number right before the operator belongs to it.
                if in_word && !word.is_empty() && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                } else {
                    end_word(&mut words, &mut word, &mut in_word, &mut redirect_target);
                }
                while let Some(n) = cur.peek() {
                    if n == '>' || n == '<' || n == '|' {
                        cur.bump();
                    } else {
                        break;
                    }
                }
                if cur.peek() == Some('&') {
                    // `>&2`, `2>&1`: the target is a descriptor.
                    cur.bump();
                    while cur.peek().is_some_and(|d| d.is_ascii_digit() || d == '-')
                    {
                        cur.bump();
                    }
                } else {
                    while cur.peek().is_some_and(|w| w == ' ' || w == '\t') {
                        cur.bump();
                    }
                    redirect_target = true;
                }
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    end_word(&mut words, &mut word, &mut in_word, &mut redirect_target);
    end_command(&mut commands, &mut words);
    commands
}

/// A command found in a cron table, script or unit, with the assignments in effect for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<String>,
    /// Variables in effect: the file's earlier assignments, then `NAME=value` prefixes of the command.
    pub env: Vec<Assignment>,
    pub path: String,
    pub line: u32,
}

/// Splits `text` (one command line written at `path:line`) into commands, moving leading
/// `NAME=value` words into each command's environment after `env`.
pub fn commands_of(text: &str, env: &[Assignment], path: &str, line: u32) -> Vec<Command> {
    split_commands(text)
        .into_iter()
        .map(|words| {
            let mut env = env.to_vec();
            let mut rest = Vec::new();
            for w in words {
                match as_assignment(&w) {
                    Some((n, v)) if rest.is_empty() => env.push(Assignment {
                        name: n.to_string(),
                        value: v.to_string(),
                        path: path.to_string(),
                        line,
                    }),
                    _ => rest.push(w),
                }
            }
            Command {
                words: rest,
                env,
                path: path.to_string(),
                line,
            }
        })
        .collect()
}

/// Programs that run their arguments as a command (`nice restic ...`), skipped to find the program.
const WRAPPERS: &[&str] = &[
    "env",
    "nice",
    "ionice",
    "nohup",
    "exec",
    "chronic",
    "sudo",
    "command",
    "time",
    "systemd-cat",
    "setsid",
];

/// Wrappers taking one operand (a lock file, a duration) before the command they run.
const LOCKING_WRAPPERS: &[&str] = &["flock", "timeout"];

/// Shells whose `-c STRING` or script argument is followed.
const SHELLS: &[&str] = &["sh", "bash", "dash", "ash", "ksh", "zsh"];

/// The last component of a command word.
pub fn program_name(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}

/// What a command runs, as far as following backups goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runs {
    /// restic itself (the word index of `restic` in [`Command::words`]).
    Restic(usize),
    /// A shell given an inline script with `-c`.
    InlineShell(String),
    /// A script file named by absolute path (run directly or through a shell).
    Script(String),
    /// Anything else.
    Other,
}

/// Classifies a command: restic, `sh -c '...'`, a script path, or something else.
pub fn classify(command: &Command) -> Runs {
    if let Some(i) = command
        .words
        .iter()
        .position(|w| program_name(w) == "restic")
    {
        return Runs::Restic(i);
    }
    let mut i = 0;
    while let Some(w) = command.words.get(i) {
        let name = program_name(w);
        if WRAPPERS.contains(&name)
            || w.starts_with('-')
            || w.chars().all(|c| c.is_ascii_digit())
            || as_assignment(w).is_some()
        {
            i += 1;
            continue;
        }
        if LOCKING_WRAPPERS.contains(&name) {
            // `flock [-opts] LOCKFILE cmd...`, `timeout [-opts] DURATION cmd...`: skip one operand.
            i += 1;
            while command.words.get(i).is_some_and(|o| o.starts_with('-')) {
                i += 1;
            }
            i += 1;
            continue;
        }
        if SHELLS.contains(&name) {
            let mut j = i + 1;
            while let Some(a) = command.words.get(j) {
                if a.starts_with('-') {
                    if a.contains('c') && !a.starts_with("--") {
                        return match command.words.get(j + 1) {
                            Some(s) => Runs::InlineShell(s.clone()),
                            None => Runs::Other,
                        };
                    }
                    j += 1;
                } else if a.starts_with('/') {
                    return Runs::Script(a.clone());
                } else {
                    return Runs::Other;
                }
            }
            return Runs::Other;
        }
        if w.starts_with('/') {
            return Runs::Script(w.clone());
        }
        return Runs::Other;
    }
    Runs::Other
}

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Variable assignments one cron table or script may make. Real ones make a handful; every job
    /// and command carries the variables set above it, so thousands of them are a file built to
    /// exhaust memory (3,000 variables over 3,000 jobs took 4 GB). Past the cap the rest of the file
    /// is not read, and [`Crontab::truncated`] / [`ShellScript::truncated`] say so.
    pub const MAX_ASSIGNMENTS: usize = 512;
}
use limits::*;

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

mod cron;
mod restic;
mod script;
mod systemd;
#[cfg(test)]
mod tests;

pub use cron::*;
pub use restic::*;
pub use script::*;
pub use systemd::*;
