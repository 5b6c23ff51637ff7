//! Linux audit rules (`auditctl` syntax) parsed to a normalised model, and the rule set auditd loads:
//! `/etc/audit/rules.d/*.rules` compiled the way `augenrules` does, else `/etc/audit/audit.rules`.
//!
//! Equivalent spellings normalise to one form: `-w /etc/passwd -p wa` and `-a always,exit -F
//! path=/etc/passwd -F perm=wa` are both a watch on `/etc/passwd` with perms `wa`; `exit,always` is
//! `always,exit`; syscall numbers become names; `-D` and `-e 2` are applied in load order.
//!
//! ```
//! use phipolicy_parsers::audit_rules::{Command, parse_file};
//!
//! let mut issues = Vec::new();
//! let lines = parse_file("/etc/audit/rules.d/phi.rules", "-w /etc/shadow -p wa -k identity\n-e 2\n", &mut issues);
//! assert!(issues.is_empty());
//! assert!(matches!(lines[0].command, Command::Add(_)));
//! assert!(matches!(&lines[1].command, Command::Enable(mode) if mode == "2"));
//! ```

use schemars::JsonSchema;
use serde::Serialize;

use phipolicy_sdk::facts::{Located, ParseIssue, Unreadable};
use phipolicy_sdk::target::{FileKind, ReadError, Target, TargetExt};

/// Where augenrules reads rule fragments from.
pub const RULES_DIR: &str = "/etc/audit/rules.d";
/// The compiled rules file `auditctl -R` loads when there are no fragments.
pub const RULES_FILE: &str = "/etc/audit/audit.rules";

/// A `-F`/`-C` field filter kept as written (`euid=0`, `auid>=1000`, `auid!=unset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Field {
    /// The field (`euid`, `auid`, ...).
    pub name: String,
    /// The operator (`=`, `!=`, `>=`, ...).
    pub op: String,
    /// The value as written.
    pub value: String,
    /// A `-C` comparison between two fields (`-C euid!=uid`).
    pub compare: bool,
}

/// One audit rule in normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditRule {
    /// `watch` for a filesystem watch (`-w`, or `-F path=`/`-F dir=`), `syscall` otherwise.
    pub kind: String,
    /// `exit`, `task`, `user`, `exclude`, `filesystem` or `io_uring`.
    pub list: String,
    /// `always` or `never`.
    pub action: String,
    /// The watched path (trailing `/` removed), for watches.
    pub watch: Option<String>,
    /// Whether the watch covers everything below the path when it is a directory (`-w`, `-F dir=`);
    /// `-F path=` watches the path itself only.
    pub recursive: bool,
    /// Watch permissions as a subset of `rwxa` in that order (`-w` without `-p` watches all four).
    pub perms: String,
    /// `b64`, `b32`, or the architecture name as written when it is neither.
    pub arch: Option<String>,
    /// Syscall names, sorted; `all` when the rule names none or says `-S all`.
    pub syscalls: Vec<String>,
    /// The other field filters in order.
    pub fields: Vec<Field>,
    /// Keys from `-k` and `-F key=`.
    pub keys: Vec<String>,
    /// `-A` (prepend) rather than `-a`/`-w`.
    pub prepend: bool,
    /// The file of the rule.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// The rule as written.
    pub text: String,
}

/// What one rules line does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-a`, `-A` or `-w`: add a rule.
    Add(AuditRule),
    /// `-d` or `-W`: remove the rule equal to this one.
    Remove(AuditRule),
    /// `-D`, optionally restricted to a key (`-D -k key`).
    DeleteAll(Option<String>),
    /// `-e N`.
    Enable(String),
    /// Settings that do not change the rule set (`-b`, `-f`, `-r`, `--backlog_wait_time`, ...).
    Setting(String),
}

/// A command with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleLine {
    pub command: Command,
    pub path: String,
    pub line: u32,
    pub text: String,
}

/// Syscall numbers of the syscalls the audit controls look for, per architecture.
const X86_64_SYSCALLS: &[(u32, &str)] = &[
    (59, "execve"),
    (87, "unlink"),
    (263, "unlinkat"),
    (82, "rename"),
    (264, "renameat"),
    (316, "renameat2"),
    (322, "execveat"),
];
const I386_SYSCALLS: &[(u32, &str)] = &[
    (11, "execve"),
    (10, "unlink"),
    (301, "unlinkat"),
    (38, "rename"),
    (302, "renameat"),
    (353, "renameat2"),
    (358, "execveat"),
];

/// Parses one rules file. Never fails: lines it cannot use become issues.
pub fn parse_file(path: &str, text: &str, issues: &mut Vec<ParseIssue>) -> Vec<RuleLine> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        match parse_line(trimmed, path, line) {
            Ok(command) => out.push(RuleLine {
                command,
                path: path.to_string(),
                line,
                text: trimmed.to_string(),
            }),
            Err(message) => issues.push(ParseIssue {
                path: path.to_string(),
                line,
                message,
            }),
        }
    }
    out
}

/// Short options that take an argument (auditctl's getopt string).
const WITH_ARG: &str = "aAbCdefFkmpqrRSwW";

/// Splits a line into (option, argument) pairs the way getopt would (`-wpath` == `-w path`).
fn options(line: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(tok) = tokens.get(i) {
        i += 1;
        if let Some(long) = tok.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => {
                    let takes = matches!(long, "backlog_wait_time" | "signal");
                    let v = if takes {
                        i += 1;
                        tokens.get(i - 1).map(|s| (*s).to_string())
                    } else {
                        None
                    };
                    (long.to_string(), v)
                }
            };
            out.push((format!("--{name}"), value));
            continue;
        }
        let Some(rest) = tok.strip_prefix('-') else {
            return Err(format!("unexpected argument {tok:?}"));
        };
        let mut chars = rest.chars();
        let Some(opt) = chars.next() else {
            return Err("lone '-'".into());
        };
        let tail: String = chars.collect();
        if WITH_ARG.contains(opt) {
            let value = if tail.is_empty() {
                i += 1;
                match tokens.get(i - 1) {
                    Some(v) => (*v).to_string(),
                    None => return Err(format!("-{opt} needs an argument")),
                }
            } else {
                tail
            };
            out.push((format!("-{opt}"), Some(value)));
        } else if tail.is_empty() {
            out.push((format!("-{opt}"), None));
        } else {
            return Err(format!("-{opt} takes no argument (got {tail:?})"));
        }
    }
    Ok(out)
}

/// Splits `name<op>value` at the first operator.
fn split_field(spec: &str) -> Option<(String, String, String)> {
    let pos = spec.find(['=', '!', '<', '>', '&'])?;
    let (name, rest) = spec.split_at(pos);
    let op_len = rest
        .chars()
        .take_while(|c| matches!(c, '=' | '!' | '<' | '>' | '&'))
        .count();
    let (op, value) = rest.split_at(op_len);
    let valid = matches!(op, "=" | "!=" | "<" | ">" | "<=" | ">=" | "&" | "&=");
    if name.is_empty() || !valid {
        return None;
    }
    Some((name.to_string(), op.to_string(), value.to_string()))
}

fn normalise_arch(value: &str) -> String {
    match value {
        "b64" | "x86_64" | "aarch64" | "ppc64" | "ppc64le" | "s390x" => "b64".into(),
        "b32" | "i386" | "i486" | "i586" | "i686" | "arm" | "ppc" | "s390" => "b32".into(),
        other => other.to_string(),
    }
}

/// Permissions as a subset of `rwxa` in canonical order; `None` when a letter is not one of them.
fn normalise_perms(value: &str) -> Option<String> {
    let v = value.to_ascii_lowercase();
    if v.chars().any(|c| !"rwxa".contains(c)) {
        return None;
    }
    Some("rwxa".chars().filter(|c| v.contains(*c)).collect())
}

fn strip_slash(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() { "/".into() } else { t.into() }
}

/// A syscall named or numbered in `-S`, as a name (numbers via the rule's architecture, b64 when
/// none is given, auditctl's default on x86_64).
fn syscall_name(spec: &str, arch: Option<&str>) -> String {
    match spec.parse::<u32>() {
        Ok(n) => {
            let table = if arch == Some("b32") {
                I386_SYSCALLS
            } else {
                X86_64_SYSCALLS
            };
            table
                .iter()
                .find(|(num, _)| *num == n)
                .map_or_else(|| format!("#{n}"), |(_, name)| (*name).to_string())
        }
        Err(_) => spec.to_string(),
    }
}

fn parse_line(line: &str, path: &str, lineno: u32) -> Result<Command, String> {
    let opts = options(line)?;
    let Some((first, first_arg)) = opts.first() else {
        return Err("empty rule".into());
    };
    match first.as_str() {
        "-D" => {
            let key = opts
                .iter()
                .find(|(o, _)| o == "-k")
                .and_then(|(_, v)| v.clone());
            return Ok(Command::DeleteAll(key));
        }
        "-e" => return Ok(Command::Enable(first_arg.clone().unwrap_or_default())),
        "-a" | "-A" | "-d" | "-w" | "-W" => {}
        _ => return Ok(Command::Setting(line.to_string())),
    }
    let mut rule = AuditRule {
        kind: "syscall".into(),
        list: "exit".into(),
        action: "always".into(),
        watch: None,
        recursive: false,
        perms: String::new(),
        arch: None,
        syscalls: Vec::new(),
        fields: Vec::new(),
        keys: Vec::new(),
        prepend: first == "-A",
        path: path.to_string(),
        line: lineno,
        text: line.to_string(),
    };
    let mut syscall_specs: Vec<String> = Vec::new();
    let mut perms_given = false;
    for (opt, arg) in &opts {
        let arg = arg.clone().unwrap_or_default();
        match opt.as_str() {
            "-a" | "-A" | "-d" => {
                let mut list = None;
                let mut action = None;
                for part in arg.split(',') {
                    match part {
                        "always" | "never" => action = Some(part.to_string()),
                        "exit" | "task" | "user" | "exclude" | "filesystem" | "io_uring"
                        | "entry" => list = Some(part.to_string()),
                        other => {
                            return Err(format!("unknown list or action {other:?} in {arg:?}"));
                        }
                    }
                }
                match (list, action) {
                    (Some(l), Some(a)) => {
                        rule.list = l;
                        rule.action = a;
                    }
                    _ => return Err(format!("{opt} needs list,action (got {arg:?})")),
                }
            }
            "-w" | "-W" => {
                // A watch on a directory covers everything below it.
                rule.kind = "watch".into();
                rule.watch = Some(strip_slash(&arg));
                rule.recursive = true;
            }
            "-p" => {
                rule.perms = normalise_perms(&arg)
                    .ok_or_else(|| format!("invalid permissions {arg:?} (only r, w, x, a)"))?;
                perms_given = true;
            }
            "-k" => rule.keys.push(arg),
            "-S" => syscall_specs.extend(arg.split(',').map(str::to_string)),
            "-F" | "-C" => {
                let (name, op, value) =
                    split_field(&arg).ok_or_else(|| format!("invalid field {arg:?}"))?;
                match (opt.as_str(), name.as_str()) {
                    ("-F", "arch") => rule.arch = Some(normalise_arch(&value)),
                    ("-F", "path") => {
                        rule.kind = "watch".into();
                        rule.watch = Some(strip_slash(&value));
                    }
                    ("-F", "dir") => {
                        rule.kind = "watch".into();
                        rule.watch = Some(strip_slash(&value));
                        rule.recursive = true;
                    }
                    ("-F", "perm") => {
                        rule.perms = normalise_perms(&value)
                            .ok_or_else(|| format!("invalid perm {value:?}"))?;
                        perms_given = true;
                    }
                    ("-F", "key") => rule.keys.push(value),
                    _ => rule.fields.push(Field {
                        name,
                        op,
                        value,
                        compare: opt == "-C",
                    }),
                }
            }
            _ => {}
        }
    }
    if rule.kind == "watch" && !perms_given {
        rule.perms = "rwxa".into();
    }
    let arch = rule.arch.clone();
    let mut names: Vec<String> = syscall_specs
        .iter()
        .filter(|s| !s.is_empty())
        .map(|s| syscall_name(s, arch.as_deref()))
        .collect();
    if names.iter().any(|n| n == "all") || (names.is_empty() && rule.list == "exit") {
        names = vec!["all".into()];
    }
    names.sort();
    names.dedup();
    rule.syscalls = names;
    Ok(match first.as_str() {
        "-d" | "-W" => Command::Remove(rule),
        _ => Command::Add(rule),
    })
}

/// A rule that auditd will not have, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct NotLoaded {
    /// The rule.
    pub rule: AuditRule,
    /// Why auditd will not have it.
    pub reason: String,
}

/// The rule set auditd ends up with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LoadedRules {
    /// `rules.d` (augenrules), `audit.rules` or `none`.
    pub source: String,
    /// Files read, in load order.
    pub files: Vec<String>,
    /// The rules auditd loads, in order.
    pub rules: Vec<AuditRule>,
    /// Rules written but not loaded (deleted by `-D`, after `-e 2`, ...).
    pub not_loaded: Vec<NotLoaded>,
    /// The last `-e` in force, with where it was written.
    pub enabled: Option<Located<String>>,
    /// Whether the last command applied is `-e 2`.
    pub immutable_at_end: bool,
    /// How augenrules reordered or dropped `-D` and `-e` lines of the fragments.
    pub augenrules_notes: Vec<Located<String>>,
    /// Lines auditctl would reject.
    pub issues: Vec<ParseIssue>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// Orders rule fragment names the way `ls -v` does (runs of digits compare as numbers).
fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            let end = i == bytes.len();
            let boundary = end
                || bytes.get(i).map(u8::is_ascii_digit) != bytes.get(i - 1).map(u8::is_ascii_digit);
            if boundary {
                if let Some(chunk) = s.get(start..i) {
                    out.push((
                        chunk.as_bytes().first().is_some_and(u8::is_ascii_digit),
                        chunk,
                    ));
                }
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = if x.0 && y.0 {
            let (xt, yt) = (x.1.trim_start_matches('0'), y.1.trim_start_matches('0'));
            xt.len().cmp(&yt.len()).then_with(|| xt.cmp(yt))
        } else {
            x.1.cmp(y.1)
        };
        if ord != std::cmp::Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// Applies `augenrules`' compilation to the concatenated fragments: the last bare `-D`, `-b` and
/// `-f` move to the top, the last `-e` to the end, everything else keeps its order. Also returns
/// a note for each `-D`/`-e` line it moved or dropped.
pub fn augenrules_order(lines: Vec<RuleLine>) -> (Vec<RuleLine>, Vec<Located<String>>) {
    let mut minus_d: Option<RuleLine> = None;
    let mut minus_e: Option<RuleLine> = None;
    let mut notes = Vec::new();
    let mut head_settings: Vec<(char, RuleLine)> = Vec::new();
    let mut rest = Vec::new();
    let drop_note = |l: &RuleLine, what: &str| {
        Located::new(
            format!(
                "augenrules drops `{}`: only the last {what} line is kept",
                l.text
            ),
            l.path.clone(),
            l.line,
        )
    };
    for l in lines {
        let setting_kind = l.text.trim_start().get(..2).map(str::to_string);
        match (&l.command, setting_kind.as_deref()) {
            (Command::Enable(_), _) => {
                if let Some(old) = minus_e.replace(l) {
                    notes.push(drop_note(&old, "-e"));
                }
            }
            (Command::DeleteAll(None), _) if l.text.trim() == "-D" => {
                if let Some(old) = minus_d.replace(l) {
                    notes.push(drop_note(&old, "-D"));
                }
            }
            (Command::Setting(_), Some(k @ ("-b" | "-f"))) => {
                let c = if k == "-b" { 'b' } else { 'f' };
                head_settings.retain(|(x, _)| *x != c);
                head_settings.push((c, l));
            }
            _ => rest.push(l),
        }
    }
    if let Some(d) = &minus_d {
        notes.push(Located::new(
            "augenrules moves `-D` to the top of the compiled rules: it deletes only the rules loaded before, not those of other fragments".to_string(),
            d.path.clone(),
            d.line,
        ));
    }
    if let Some(e) = &minus_e {
        notes.push(Located::new(
            format!("augenrules moves `{}` to the end of the compiled rules, after every fragment's rules", e.text),
            e.path.clone(),
            e.line,
        ));
    }
    let mut out: Vec<RuleLine> = minus_d.into_iter().collect();
    head_settings.sort_by_key(|(c, _)| *c);
    out.extend(head_settings.into_iter().map(|(_, l)| l));
    out.extend(rest);
    out.extend(minus_e);
    (out, notes)
}

/// Applies commands in order, as `auditctl -R` does, to the rule set.
pub fn apply(lines: &[RuleLine], source: &str, files: Vec<String>) -> LoadedRules {
    let mut loaded = LoadedRules {
        source: source.to_string(),
        files,
        rules: Vec::new(),
        not_loaded: Vec::new(),
        enabled: None,
        immutable_at_end: false,
        augenrules_notes: Vec::new(),
        issues: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut immutable: Option<String> = None;
    for l in lines {
        let at = format!("{}:{}", l.path, l.line);
        if let Some(since) = &immutable {
            if let Command::Add(rule) = &l.command {
                loaded.not_loaded.push(NotLoaded {
                    rule: rule.clone(),
                    reason: format!(
                        "after -e 2 at {since}: the audit configuration is immutable, auditctl refuses further rules"
                    ),
                });
            }
            continue;
        }
        match &l.command {
            Command::Add(rule) => {
                if rule.prepend {
                    loaded.rules.insert(0, rule.clone());
                } else {
                    loaded.rules.push(rule.clone());
                }
            }
            Command::Remove(rule) => {
                let same = |r: &AuditRule| {
                    r.kind == rule.kind
                        && r.list == rule.list
                        && r.action == rule.action
                        && r.watch == rule.watch
                        && r.arch == rule.arch
                        && r.syscalls == rule.syscalls
                        && r.fields == rule.fields
                        && (rule.kind == "watch" || r.perms == rule.perms)
                };
                if let Some(pos) = loaded.rules.iter().position(same) {
                    let removed = loaded.rules.remove(pos);
                    loaded.not_loaded.push(NotLoaded {
                        rule: removed,
                        reason: format!("removed by `{}` at {at}", l.text),
                    });
                }
            }
            Command::DeleteAll(key) => {
                let (gone, kept): (Vec<AuditRule>, Vec<AuditRule>) =
                    std::mem::take(&mut loaded.rules)
                        .into_iter()
                        .partition(|r| match key {
                            Some(k) => r.keys.contains(k),
                            None => true,
                        });
                loaded.rules = kept;
                loaded
                    .not_loaded
                    .extend(gone.into_iter().map(|rule| NotLoaded {
                        rule,
                        reason: format!("deleted by `{}` at {at}", l.text),
                    }));
            }
            Command::Enable(value) => {
                loaded.enabled = Some(Located::new(value.clone(), l.path.clone(), l.line));
                if value == "2" {
                    immutable = Some(at);
                }
            }
            Command::Setting(_) => {}
        }
    }
    loaded.immutable_at_end = immutable.is_some();
    loaded
}

/// Reads the rules auditd loads from `target`.
pub fn load(target: &dyn Target) -> LoadedRules {
    let mut issues = Vec::new();
    let mut unreadable = Vec::new();
    let mut fragments: Vec<String> = match target.list_dir(RULES_DIR) {
        Ok(entries) => entries
            .into_iter()
            .filter(|e| e.name.ends_with(".rules"))
            .filter(|e| {
                e.kind == FileKind::Regular
                    || (e.kind == FileKind::Symlink
                        && target
                            .stat(&format!("{RULES_DIR}/{}", e.name))
                            .is_ok_and(|s| s.kind == FileKind::Regular))
            })
            .map(|e| e.name)
            .collect(),
        Err(ReadError::NotFound) => Vec::new(),
        Err(e) => {
            unreadable.push(Unreadable::new(RULES_DIR, &e));
            Vec::new()
        }
    };
    fragments.sort_by(|a, b| version_cmp(a, b));
    let mut notes = Vec::new();
    let (source, lines, files) = if fragments.is_empty() {
        match target.read_text(RULES_FILE) {
            Ok(text) => {
                let lines = parse_file(RULES_FILE, &text, &mut issues);
                ("audit.rules", lines, vec![RULES_FILE.to_string()])
            }
            Err(ReadError::NotFound) => ("none", Vec::new(), Vec::new()),
            Err(e) => {
                unreadable.push(Unreadable::new(RULES_FILE, &e));
                ("none", Vec::new(), Vec::new())
            }
        }
    } else {
        let mut all = Vec::new();
        let mut files = Vec::new();
        for name in &fragments {
            let path = format!("{RULES_DIR}/{name}");
            match target.read_text(&path) {
                Ok(text) => all.extend(parse_file(&path, &text, &mut issues)),
                Err(e) => unreadable.push(Unreadable::new(path.clone(), &e)),
            }
            files.push(path);
        }
        let (ordered, moved) = augenrules_order(all);
        notes = moved;
        ("rules.d", ordered, files)
    };
    let mut loaded = apply(&lines, source, files);
    loaded.augenrules_notes = notes;
    loaded.issues = issues;
    loaded.unreadable = unreadable;
    loaded
}

#[cfg(test)]
mod tests;
