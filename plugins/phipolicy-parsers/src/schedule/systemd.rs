//! systemd unit files: sections, `Key=Value` entries, `Environment=`/`EnvironmentFile=` and
//! `ExecStart=` command words.

use super::*;

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
