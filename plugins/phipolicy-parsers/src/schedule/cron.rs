//! cron tables (system `/etc/crontab`, `/etc/cron.d`, per-user spools): variables, job lines and
//! the part of a command the shell runs.

use super::*;

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
