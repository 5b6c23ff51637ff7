//! Scheduled jobs and the restic command lines they run: cron tables (system and per-user), shell
//! scripts called from them, systemd unit files (`.timer`/`.service`, `Environment=`,
//! `EnvironmentFile=`) and restic's options (`-r`, `--password-file`, `RESTIC_*` variables).
//!
//! Every parser here is total: it never panics and reports what it could not use as [`ParseIssue`]s.
//! Values of `RESTIC_PASSWORD` are never copied into a serialisable field.

use serde::Serialize;

use crate::facts::ParseIssue;

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
    let mut chars = text.chars().peekable();

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

    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => match chars.peek().copied() {
                            Some(n @ ('"' | '\\' | '$' | '`')) => {
                                word.push(n);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        _ => word.push(q),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(n) => {
                    in_word = true;
                    word.push(n);
                }
            },
            '#' if !in_word => {
                for n in chars.by_ref() {
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
                while let Some(&n) = chars.peek() {
                    if n == '>' || n == '<' || n == '|' {
                        chars.next();
                    } else {
                        break;
                    }
                }
                if chars.peek() == Some(&'&') {
                    // `>&2`, `2>&1`: the target is a descriptor.
                    chars.next();
                    while chars
                        .peek()
                        .is_some_and(|d| d.is_ascii_digit() || *d == '-')
                    {
                        chars.next();
                    }
                } else {
                    while chars.peek().is_some_and(|w| *w == ' ' || *w == '\t') {
                        chars.next();
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

/// A setting of a restic invocation and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResticSetting {
    pub value: String,
    /// `option` (on the command line) or `environment` (a `RESTIC_*` variable).
    pub source: String,
    /// The option or variable name as written.
    pub name: String,
    pub path: String,
    pub line: u32,
}

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub line: u32,
}

/// One restic command line, with the repository and password sources it would use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResticInvocation {
    /// `backup`, `forget`, ...; `None` when no subcommand was found.
    pub subcommand: Option<String>,
    pub repository: Option<ResticSetting>,
    pub repository_file: Option<ResticSetting>,
    pub password_file: Option<ResticSetting>,
    pub password_command: Option<ResticSetting>,
    /// Where `RESTIC_PASSWORD` was set for this command (the value is not kept).
    pub inline_password: Option<Location>,
    /// Path arguments of `backup`.
    pub paths: Vec<String>,
    /// `--files-from`, `--files-from-verbatim`, `--files-from-raw` files.
    pub files_from: Vec<String>,
    /// `backup --stdin`.
    pub stdin: bool,
    pub path: String,
    pub line: u32,
}

/// restic options (global and `backup`) that take a value, long and short forms.
const RESTIC_VALUE_OPTIONS: &[&str] = &[
    "-r",
    "--repo",
    "--repository-file",
    "-p",
    "--password-file",
    "--password-command",
    "--cacert",
    "--cache-dir",
    "--compression",
    "--key-hint",
    "--limit-download",
    "--limit-upload",
    "-o",
    "--option",
    "--pack-size",
    "--tls-client-cert",
    "--retry-lock",
    "--stuck-request-timeout",
    "-e",
    "--exclude",
    "--exclude-file",
    "--exclude-if-present",
    "--exclude-larger-than",
    "--files-from",
    "--files-from-raw",
    "--files-from-verbatim",
    "-H",
    "--host",
    "--iexclude",
    "--iexclude-file",
    "--parent",
    "--tag",
    "--time",
    "--stdin-filename",
    "--stdin-from-command",
    "--read-concurrency",
    "-g",
    "--group-by",
    "--keep-last",
    "--keep-hourly",
    "--keep-daily",
    "--keep-weekly",
    "--keep-monthly",
    "--keep-yearly",
    "--keep-within",
    "--keep-tag",
    "--max-unused",
    "--max-repack-size",
    "--read-data-subset",
    "--target",
    "-t",
    "--include",
    "-i",
];

/// Parses the restic command line starting at `command.words[at]` (the `restic` word).
pub fn parse_restic(command: &Command, at: usize) -> ResticInvocation {
    let mut inv = ResticInvocation {
        subcommand: None,
        repository: None,
        repository_file: None,
        password_file: None,
        password_command: None,
        inline_password: None,
        paths: Vec::new(),
        files_from: Vec::new(),
        stdin: false,
        path: command.path.clone(),
        line: command.line,
    };
    let option = |name: &str, value: &str| ResticSetting {
        value: value.to_string(),
        source: "option".into(),
        name: name.to_string(),
        path: command.path.clone(),
        line: command.line,
    };
    let words = command.words.get(at + 1..).unwrap_or_default();
    let mut i = 0;
    let mut only_args = false;
    while let Some(w) = words.get(i) {
        i += 1;
        if only_args || !w.starts_with('-') || w == "-" {
            if inv.subcommand.is_none() {
                inv.subcommand = Some(w.clone());
            } else {
                inv.paths.push(w.clone());
            }
            continue;
        }
        if w == "--" {
            only_args = true;
            continue;
        }
        let (name, inline_value) = match w.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (w.as_str(), None),
        };
        // Short options with the value attached (`-r/srv/repo`).
        let (name, inline_value) = if inline_value.is_none()
            && !name.starts_with("--")
            && name.len() > 2
            && RESTIC_VALUE_OPTIONS.contains(&name.get(..2).unwrap_or(""))
        {
            (
                name.get(..2).unwrap_or(name),
                name.get(2..).map(str::to_string),
            )
        } else {
            (name, inline_value)
        };
        if name == "--stdin" {
            inv.stdin = true;
            continue;
        }
        if !RESTIC_VALUE_OPTIONS.contains(&name) {
            continue;
        }
        let value = match inline_value {
            Some(v) => v,
            None => {
                let v = words.get(i).cloned().unwrap_or_default();
                i += 1;
                v
            }
        };
        match name {
            "-r" | "--repo" => inv.repository = Some(option(name, &value)),
            "--repository-file" => inv.repository_file = Some(option(name, &value)),
            "-p" | "--password-file" => inv.password_file = Some(option(name, &value)),
            "--password-command" => inv.password_command = Some(option(name, &value)),
            "--files-from" | "--files-from-raw" | "--files-from-verbatim" => {
                inv.files_from.push(value)
            }
            _ => {}
        }
    }
    // Variables apply when no option says otherwise; the last assignment wins.
    for a in &command.env {
        let setting = || ResticSetting {
            value: a.value.clone(),
            source: "environment".into(),
            name: a.name.clone(),
            path: a.path.clone(),
            line: a.line,
        };
        match a.name.as_str() {
            "RESTIC_REPOSITORY" if !is_option(&inv.repository) => inv.repository = Some(setting()),
            "RESTIC_REPOSITORY_FILE" if !is_option(&inv.repository_file) => {
                inv.repository_file = Some(setting())
            }
            "RESTIC_PASSWORD_FILE" if !is_option(&inv.password_file) => {
                inv.password_file = Some(setting())
            }
            "RESTIC_PASSWORD_COMMAND" if !is_option(&inv.password_command) => {
                inv.password_command = Some(setting())
            }
            "RESTIC_PASSWORD" => {
                inv.inline_password = Some(Location {
                    path: a.path.clone(),
                    line: a.line,
                })
            }
            _ => {}
        }
    }
    inv
}

fn is_option(s: &Option<ResticSetting>) -> bool {
    s.as_ref().is_some_and(|s| s.source == "option")
}

/// Variable assignments one cron table or script may make. Real ones make a handful; every job
/// and command carries the variables set above it, so thousands of them are a file built to
/// exhaust memory (3,000 variables over 3,000 jobs took 4 GB). Past the cap the rest of the file
/// is not read, and [`Crontab::truncated`] / [`ShellScript::truncated`] say so.
pub const MAX_ASSIGNMENTS: usize = 512;

/// One job line of a cron table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronEntry {
    /// The five time fields joined by spaces, or an `@keyword`.
    pub schedule: String,
    /// The user field of system tables (`/etc/crontab`, `/etc/cron.d/*`).
    pub user: Option<String>,
    /// The command as cron hands it to the shell (up to the first unescaped `%`).
    pub command: String,
    /// The table's assignments above this line.
    pub env: Vec<Assignment>,
    pub path: String,
    pub line: u32,
}

/// A parsed cron table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crontab {
    pub path: String,
    pub entries: Vec<CronEntry>,
    pub assignments: Vec<Assignment>,
    pub issues: Vec<ParseIssue>,
    /// Why the table was not read to its end (more than [`MAX_ASSIGNMENTS`] assignments).
    pub truncated: Option<String>,
}

/// Parses a cron table as cronie and Debian's Vixie cron read it; `system` tables have a user field.
pub fn parse_crontab(text: &str, path: &str, system: bool) -> Crontab {
    let mut tab = Crontab {
        path: path.to_string(),
        entries: Vec::new(),
        assignments: Vec::new(),
        issues: Vec::new(),
        truncated: None,
    };
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let first = trimmed.chars().next().unwrap_or(' ');
        let is_entry = first == '@' || first == '*' || first.is_ascii_digit();
        if !is_entry {
            match trimmed.split_once('=') {
                Some(_) if tab.assignments.len() >= MAX_ASSIGNMENTS => {
                    tab.truncated = Some(format!(
                        "more than {MAX_ASSIGNMENTS} variable assignments (line {line}): the rest of the table was not read"
                    ));
                    break;
                }
                Some((name, value)) if !name.trim().is_empty() && !name.trim().contains(' ') => {
                    tab.assignments.push(Assignment {
                        name: name.trim().to_string(),
                        value: unquote(value.trim()).to_string(),
                        path: path.to_string(),
                        line,
                    })
                }
                _ => tab.issues.push(ParseIssue {
                    path: path.to_string(),
                    line,
                    message: "neither a job nor a variable assignment; cron rejects the table"
                        .into(),
                }),
            }
            continue;
        }
        let time_fields = if first == '@' { 1 } else { 5 };
        let fields_needed = time_fields + usize::from(system);
        let mut rest = trimmed;
        let mut fields = Vec::new();
        while fields.len() < fields_needed {
            let r = rest.trim_start();
            let end = r.find([' ', '\t']).unwrap_or(r.len());
            let (f, tail) = r.split_at(end);
            if f.is_empty() {
                break;
            }
            fields.push(f);
            rest = tail;
        }
        let command = rest.trim_start();
        if fields.len() < fields_needed || command.is_empty() {
            tab.issues.push(ParseIssue {
                path: path.to_string(),
                line,
                message: format!(
                    "job line has too few fields (expected {} time field(s){} and a command)",
                    time_fields,
                    if system { ", a user" } else { "" }
                ),
            });
            continue;
        }
        tab.entries.push(CronEntry {
            schedule: fields.get(..time_fields).unwrap_or_default().join(" "),
            user: if system {
                fields.get(time_fields).map(|u| (*u).to_string())
            } else {
                None
            },
            command: cron_command(command),
            env: tab.assignments.clone(),
            path: path.to_string(),
            line,
        });
    }
    tab
}

/// The part of a cron command the shell runs: up to the first unescaped `%` (the rest is stdin),
/// with `\%` unescaped.
fn cron_command(command: &str) -> String {
    let mut out = String::new();
    let mut chars = command.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                out.push('%');
                chars.next();
            }
            '%' => break,
            _ => out.push(c),
        }
    }
    out
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// A shell script read for the commands it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellScript {
    pub commands: Vec<Command>,
    /// Top-level assignments (`NAME=value`, `export NAME=value`) in file order.
    pub assignments: Vec<Assignment>,
    /// Files read with `.` or `source`, with where.
    pub sourced: Vec<(String, u32)>,
    /// Why the script was not read to its end (more than [`MAX_ASSIGNMENTS`] assignments).
    pub truncated: Option<String>,
}

/// Reads a shell script line by line (continuation lines joined): assignments on their own apply
/// to later commands, `export`/`readonly` assignments too. A `.`/`source` line is listed and
/// `source` is asked for the assignments the sourced file makes (they apply to later commands).
pub fn parse_shell_script(
    text: &str,
    path: &str,
    inherited: &[Assignment],
    source: &mut dyn FnMut(&str, u32) -> Vec<Assignment>,
) -> ShellScript {
    let mut script = ShellScript {
        commands: Vec::new(),
        assignments: Vec::new(),
        sourced: Vec::new(),
        truncated: None,
    };
    let mut env = inherited.to_vec();
    let mut logical = String::new();
    let mut start = 0u32;
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        if logical.is_empty() {
            start = line;
        }
        if let Some(body) = raw.strip_suffix('\\') {
            logical.push_str(body);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let text = std::mem::take(&mut logical);
        if env.len() > MAX_ASSIGNMENTS {
            script.truncated = Some(format!(
                "more than {MAX_ASSIGNMENTS} variable assignments (line {start}): the rest of the script was not read"
            ));
            break;
        }
        for mut command in commands_of(&text, &env, path, start) {
            let exported = matches!(
                command.words.first().map(String::as_str),
                Some("export" | "readonly" | "declare" | "local")
            );
            if exported {
                for w in command.words.iter().skip(1) {
                    if let Some((n, v)) = as_assignment(w) {
                        let a = Assignment {
                            name: n.to_string(),
                            value: v.to_string(),
                            path: path.to_string(),
                            line: start,
                        };
                        env.push(a.clone());
                        script.assignments.push(a);
                    }
                }
                continue;
            }
            if command.words.is_empty() {
                // Only assignments: they stay in effect for the rest of the script.
                let own: Vec<Assignment> = command.env.split_off(env.len().min(command.env.len()));
                env.extend(own.iter().cloned());
                script.assignments.extend(own);
                continue;
            }
            if matches!(
                command.words.first().map(String::as_str),
                Some("." | "source")
            ) && let Some(file) = command.words.get(1)
            {
                script.sourced.push((file.clone(), start));
                let own = source(file, start);
                env.extend(own.iter().cloned());
                script.assignments.extend(own);
            }
            script.commands.push(command);
        }
    }
    script
}

/// One `Key=Value` line of a systemd unit file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitEntry {
    pub section: String,
    pub key: String,
    pub value: String,
    pub line: u32,
}

/// A parsed systemd unit file (sections and keys in file order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitFile {
    pub path: String,
    pub entries: Vec<UnitEntry>,
    pub issues: Vec<ParseIssue>,
}

impl UnitFile {
    /// Parses systemd's unit syntax: `[Section]`, `Key=Value`, `#`/`;` comments, a trailing
    /// backslash continues the line (joined with a space).
    pub fn parse(text: &str, path: &str) -> UnitFile {
        let mut unit = UnitFile {
            path: path.to_string(),
            entries: Vec::new(),
            issues: Vec::new(),
        };
        let mut section = String::new();
        let mut logical = String::new();
        let mut start = 0u32;
        for (n, raw) in text.lines().enumerate() {
            let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
            let trimmed = raw.trim();
            if logical.is_empty() {
                if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                    continue;
                }
                start = line;
            } else if trimmed.starts_with('#') || trimmed.starts_with(';') {
                // Comment lines inside a continuation are skipped by systemd.
                continue;
            }
            if let Some(body) = trimmed.strip_suffix('\\') {
                logical.push_str(body);
                logical.push(' ');
                continue;
            }
            logical.push_str(trimmed);
            let text = std::mem::take(&mut logical);
            if let Some(name) = text.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = name.to_string();
                continue;
            }
            match text.split_once('=') {
                Some((k, v)) if !section.is_empty() => unit.entries.push(UnitEntry {
                    section: section.clone(),
                    key: k.trim().to_string(),
                    value: v.trim().to_string(),
                    line: start,
                }),
                _ => unit.issues.push(ParseIssue {
                    path: path.to_string(),
                    line: start,
                    message: "not a [Section] header or a Key=Value line inside a section".into(),
                }),
            }
        }
        unit
    }

    /// Values of a list-valued key in effect: an empty assignment resets the earlier ones.
    pub fn values(&self, section: &str, key: &str) -> Vec<&UnitEntry> {
        let mut out: Vec<&UnitEntry> = Vec::new();
        for e in &self.entries {
            if e.section == section && e.key == key {
                if e.value.is_empty() {
                    out.clear();
                } else {
                    out.push(e);
                }
            }
        }
        out
    }

    /// The last value of a single-valued key.
    pub fn value(&self, section: &str, key: &str) -> Option<&UnitEntry> {
        self.entries
            .iter()
            .rfind(|e| e.section == section && e.key == key)
    }
}

/// The assignments of an `Environment=` value (space-separated, quotes allowed).
pub fn environment_assignments(entry: &UnitEntry, path: &str) -> Vec<Assignment> {
    split_commands(&entry.value)
        .into_iter()
        .flatten()
        .filter_map(|w| {
            as_assignment(&w).map(|(n, v)| Assignment {
                name: n.to_string(),
                value: v.to_string(),
                path: path.to_string(),
                line: entry.line,
            })
        })
        .collect()
}

/// The file named by an `EnvironmentFile=` value and whether it is optional (`-` prefix).
pub fn environment_file(value: &str) -> (String, bool) {
    match value.strip_prefix('-') {
        Some(p) => (p.trim().to_string(), true),
        None => (value.trim().to_string(), false),
    }
}

/// Parses a systemd environment file (`KEY=VALUE` lines, `#`/`;` comments, quotes stripped).
pub fn parse_environment_file(text: &str, path: &str) -> Vec<Assignment> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
        if let Some((k, v)) = t.split_once('=') {
            let k = k.trim();
            if as_assignment(&format!("{k}=")).is_some() {
                out.push(Assignment {
                    name: k.to_string(),
                    value: unquote(v.trim()).to_string(),
                    path: path.to_string(),
                    line,
                });
            }
        }
    }
    out
}

/// The command words of an `ExecStart=` value (prefix characters `@-:+!` removed).
pub fn exec_words(value: &str) -> String {
    value
        .trim_start_matches(['@', '-', ':', '+', '!'])
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Vec<String>> {
        split_commands(s)
    }

    fn w(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_string()).collect()
    }

    /// Debian 12's /etc/crontab (cron-daemon-common 3.0pl1-162).
    const DEBIAN_CRONTAB: &str = "# /etc/crontab: system-wide crontab\n# Unlike any other crontab you don't have to run the `crontab'\n# command to install the new version when you edit this file\n# and files in /etc/cron.d. These files also have username fields,\n# that none of the other crontabs do.\n\nSHELL=/bin/sh\nPATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin\n\n# Example of job definition:\n# .---------------- minute (0 - 59)\n# |  .------------- hour (0 - 23)\n# |  |  .---------- day of month (1 - 31)\n# |  |  |  .------- month (1 - 12) OR jan,feb,mar,apr ...\n# |  |  |  |  .---- day of week (0 - 6) (Sunday=0 or 7) OR sun,mon,tue,wed,thu,fri,sat\n# |  |  |  |  |\n# *  *  *  *  * user-name command to be executed\n17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n25 6\t* * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }\n47 6\t* * 7\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }\n52 6\t1 * *\troot\ttest -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }\n#\n";

    /// e2fsprogs 1.47's /etc/cron.d/e2scrub_all.
    const E2SCRUB_CRON_D: &str = "30 3 * * 0 root test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron\n10 3 * * * root test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r\n";

    /// logrotate 3.21's /etc/cron.daily/logrotate.
    const LOGROTATE_DAILY: &str = "#!/bin/sh\n\n# skip in favour of systemd timer\nif [ -d /run/systemd/system ]; then\n    exit 0\nfi\n\n# this cronjob persists removals (but not purges)\nif [ ! -x /usr/sbin/logrotate ]; then\n    exit 0\nfi\n\n/usr/sbin/logrotate /etc/logrotate.conf\nEXITVALUE=$?\nif [ $EXITVALUE != 0 ]; then\n    /usr/bin/logger -t logrotate \"ALERT exited abnormally with [$EXITVALUE]\"\nfi\nexit $EXITVALUE\n";

    /// logrotate 3.21's logrotate.service (hardening comments included).
    const LOGROTATE_SERVICE: &str = "[Unit]\nDescription=Rotate log files\nDocumentation=man:logrotate(8) man:logrotate.conf(5)\nRequiresMountsFor=/var/log\nConditionACPower=true\n\n[Service]\nType=oneshot\nExecStart=/usr/sbin/logrotate /etc/logrotate.conf\n\n# performance options\nNice=19\nIOSchedulingClass=best-effort\nIOSchedulingPriority=7\n";

    /// apt 2.6's apt-daily.timer.
    const APT_DAILY_TIMER: &str = "[Unit]\nDescription=Daily apt download activities\n\n[Timer]\nOnCalendar=*-*-* 6,18:00\nRandomizedDelaySec=12h\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n";

    #[test]
    fn debian_crontab_has_run_parts_jobs_and_assignments() {
        let tab = parse_crontab(DEBIAN_CRONTAB, "/etc/crontab", true);
        assert!(tab.issues.is_empty(), "{:?}", tab.issues);
        assert_eq!(tab.assignments.len(), 2);
        assert_eq!(tab.assignments[1].name, "PATH");
        assert_eq!(tab.entries.len(), 4);
        let daily = &tab.entries[1];
        assert_eq!(
            (daily.schedule.as_str(), daily.user.as_deref(), daily.line),
            ("25 6 * * *", Some("root"), 19)
        );
        assert_eq!(
            words(&daily.command),
            vec![
                w(&["test", "-x", "/usr/sbin/anacron"]),
                w(&["cd", "/"]),
                w(&["run-parts", "--report", "/etc/cron.daily"]),
            ]
        );
        assert_eq!(daily.env.len(), 2);
    }

    #[test]
    fn cron_d_prefix_assignment_moves_into_env() {
        let tab = parse_crontab(E2SCRUB_CRON_D, "/etc/cron.d/e2scrub_all", true);
        let e = &tab.entries[1];
        let cmds = commands_of(&e.command, &e.env, &e.path, e.line);
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[1].words, w(&["/sbin/e2scrub_all", "-A", "-r"]));
        assert_eq!(cmds[1].env[0].name, "SERVICE_MODE");
        assert_eq!(classify(&cmds[1]), Runs::Script("/sbin/e2scrub_all".into()));
    }

    #[test]
    fn user_crontab_and_percent_and_keywords() {
        let tab = parse_crontab(
            "MAILTO=\"\"\n@daily restic backup /srv % stdin\n0 1 * * * echo 50\\% done\nbogus\n* * *\n",
            "/var/spool/cron/crontabs/root",
            false,
        );
        assert_eq!(tab.assignments[0].value, "");
        assert_eq!(tab.entries[0].schedule, "@daily");
        assert_eq!(tab.entries[0].command, "restic backup /srv ");
        assert_eq!(tab.entries[1].command, "echo 50% done");
        assert_eq!(tab.issues.len(), 2);
    }

    #[test]
    fn logrotate_script_commands_and_assignments() {
        let s = parse_shell_script(
            LOGROTATE_DAILY,
            "/etc/cron.daily/logrotate",
            &[],
            &mut |_, _| Vec::new(),
        );
        assert!(s.commands.iter().any(|c| c.words
            == w(&["/usr/sbin/logrotate", "/etc/logrotate.conf"])
            && c.line == 13));
        assert_eq!(s.assignments[0].name, "EXITVALUE");
        assert!(s.commands.iter().all(|c| !c.words.is_empty()));
    }

    #[test]
    fn script_exports_and_sources_reach_restic() {
        let s = parse_shell_script(
            "#!/bin/sh\nset -eu\n. /etc/restic/env\nexport RESTIC_REPOSITORY=sftp:b@h:/r\nrestic backup \\\n  /var/data/phi \\\n  --tag nightly >>/var/log/backup.log 2>&1\n",
            "/usr/local/bin/backup.sh",
            &[],
            &mut |file, line| {
                vec![Assignment {
                    name: "RESTIC_PASSWORD_FILE".into(),
                    value: format!("{file}:{line}"),
                    path: file.into(),
                    line: 1,
                }]
            },
        );
        assert_eq!(s.sourced, vec![("/etc/restic/env".to_string(), 3)]);
        let c = s.commands.last().expect("restic command");
        assert_eq!(c.line, 5);
        let inv = match classify(c) {
            Runs::Restic(i) => parse_restic(c, i),
            other => panic!("{other:?}"),
        };
        assert_eq!(inv.subcommand.as_deref(), Some("backup"));
        assert_eq!(inv.paths, w(&["/var/data/phi"]));
        assert_eq!(
            inv.repository.as_ref().map(|r| r.value.as_str()),
            Some("sftp:b@h:/r")
        );
        assert_eq!(
            inv.password_file
                .as_ref()
                .map(|r| (r.source.as_str(), r.value.as_str())),
            Some(("environment", "/etc/restic/env:3"))
        );
    }

    #[test]
    fn restic_options_forms() {
        let cmds = commands_of(
            "RESTIC_PASSWORD=hunter2 nice -n 19 /usr/bin/restic -r s3:s3.amazonaws.com/b --password-file=/etc/restic/pw backup --exclude '*.tmp' --files-from /etc/restic/files -x /a \"/b c\"",
            &[],
            "/etc/cron.d/backup",
            4,
        );
        let c = &cmds[0];
        let Runs::Restic(i) = classify(c) else {
            panic!("not restic")
        };
        let inv = parse_restic(c, i);
        assert_eq!(
            inv.repository
                .as_ref()
                .map(|r| (r.name.as_str(), r.value.as_str())),
            Some(("-r", "s3:s3.amazonaws.com/b"))
        );
        assert_eq!(
            inv.password_file.as_ref().map(|r| r.value.as_str()),
            Some("/etc/restic/pw")
        );
        assert_eq!(inv.files_from, w(&["/etc/restic/files"]));
        assert_eq!(inv.paths, w(&["/a", "/b c"]));
        assert_eq!(
            inv.inline_password,
            Some(Location {
                path: "/etc/cron.d/backup".into(),
                line: 4
            })
        );
        let short = commands_of("restic -r/srv/repo -p/x backup /a", &[], "/p", 1);
        let inv = parse_restic(&short[0], 0);
        assert_eq!(inv.repository.map(|r| r.value), Some("/srv/repo".into()));
        assert_eq!(inv.password_file.map(|r| r.value), Some("/x".into()));
    }

    #[test]
    fn option_beats_environment() {
        let env = vec![Assignment {
            name: "RESTIC_REPOSITORY".into(),
            value: "/local".into(),
            path: "/etc/crontab".into(),
            line: 3,
        }];
        let c = commands_of(
            "restic --repo rest:https://h/r backup /a",
            &env,
            "/etc/crontab",
            9,
        );
        let inv = parse_restic(&c[0], 0);
        assert_eq!(
            inv.repository.map(|r| r.value),
            Some("rest:https://h/r".into())
        );
    }

    #[test]
    fn shell_dash_c_and_script_paths() {
        let c = commands_of("/bin/sh -c 'restic backup /a'", &[], "/p", 1);
        assert_eq!(
            classify(&c[0]),
            Runs::InlineShell("restic backup /a".into())
        );
        let c = commands_of(
            "flock -n /run/b.lock bash -ec \"/usr/local/bin/backup.sh\"",
            &[],
            "/p",
            1,
        );
        assert_eq!(
            classify(&c[0]),
            Runs::InlineShell("/usr/local/bin/backup.sh".into())
        );
        let c = commands_of(
            "timeout 2h nice -n 10 bash /usr/local/sbin/backup",
            &[],
            "/p",
            1,
        );
        assert_eq!(
            classify(&c[0]),
            Runs::Script("/usr/local/sbin/backup".into())
        );
        let c = commands_of("run-parts --report /etc/cron.daily", &[], "/p", 1);
        assert_eq!(classify(&c[0]), Runs::Other);
        let c = commands_of("bash -c '/usr/local/bin/b.sh'", &[], "/p", 1);
        assert_eq!(
            classify(&c[0]),
            Runs::InlineShell("/usr/local/bin/b.sh".into())
        );
    }

    #[test]
    fn units_real_files() {
        let s = UnitFile::parse(LOGROTATE_SERVICE, "/lib/systemd/system/logrotate.service");
        assert!(s.issues.is_empty());
        let exec = s.values("Service", "ExecStart");
        assert_eq!(
            (exec[0].value.as_str(), exec[0].line),
            ("/usr/sbin/logrotate /etc/logrotate.conf", 9)
        );
        let t = UnitFile::parse(APT_DAILY_TIMER, "/lib/systemd/system/apt-daily.timer");
        assert_eq!(
            t.value("Timer", "OnCalendar").map(|e| e.value.as_str()),
            Some("*-*-* 6,18:00")
        );
        assert_eq!(t.value("Timer", "Unit"), None);
    }

    #[test]
    fn unit_environment_continuation_and_reset() {
        let u = UnitFile::parse(
            "[Service]\nEnvironment=\"RESTIC_REPOSITORY=sftp:b@h:/r\" A=1\nEnvironmentFile=-/etc/restic/env\nExecStart=\nExecStart=-/usr/bin/restic backup \\\n  /var/data/phi\nstray\n",
            "/etc/systemd/system/b.service",
        );
        let env = environment_assignments(u.value("Service", "Environment").expect("env"), &u.path);
        assert_eq!(
            (env[0].name.as_str(), env[0].value.as_str(), env[0].line),
            ("RESTIC_REPOSITORY", "sftp:b@h:/r", 2)
        );
        assert_eq!(
            environment_file(&u.values("Service", "EnvironmentFile")[0].value),
            ("/etc/restic/env".into(), true)
        );
        let exec = u.values("Service", "ExecStart");
        assert_eq!(exec.len(), 1);
        assert_eq!(
            exec_words(&exec[0].value),
            "/usr/bin/restic backup  /var/data/phi"
        );
        assert_eq!(u.issues.len(), 1);
        let f = parse_environment_file(
            "# c\nRESTIC_PASSWORD_FILE=\"/etc/restic/pw\"\nexport X=1\nbad line\n",
            "/etc/restic/env",
        );
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].value.as_str(), f[0].line), ("/etc/restic/pw", 2));
    }

    #[test]
    fn redirections_are_dropped() {
        assert_eq!(
            words("restic backup /a >/var/log/b 2>&1 < /dev/null; echo done"),
            vec![w(&["restic", "backup", "/a"]), w(&["echo", "done"])]
        );
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let alphabet: Vec<char> = "ab=/ \t\n\\'\"#%;&|<>(){}[]-@:+!$`é\u{0}*0123456789restic"
            .chars()
            .collect();
        for _ in 0..3000 {
            let mut s = String::new();
            for _ in 0..(seed % 60) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let idx = usize::try_from(seed % alphabet.len() as u64).unwrap_or(0);
                s.push(alphabet.get(idx).copied().unwrap_or('x'));
            }
            for c in commands_of(&s, &[], "/g", 1) {
                if let Runs::Restic(i) = classify(&c) {
                    let _ = parse_restic(&c, i);
                }
            }
            let _ = parse_crontab(&s, "/g", true);
            let _ = parse_crontab(&s, "/g", false);
            let _ = parse_shell_script(&s, "/g", &[], &mut |_, _| Vec::new());
            let u = UnitFile::parse(&s, "/g");
            for e in &u.entries {
                let _ = environment_assignments(e, "/g");
                let _ = exec_words(&e.value);
            }
            let _ = parse_environment_file(&s, "/g");
        }
    }
}
