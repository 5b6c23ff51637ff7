//! restic's command line: the repository, password and cache settings of a `restic` invocation,
//! from options and `RESTIC_*` variables (values of `RESTIC_PASSWORD` are never copied).

use super::*;

/// A setting of a restic invocation and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ResticSetting {
    /// The value.
    pub value: String,
    /// `option` (on the command line) or `environment` (a `RESTIC_*` variable).
    pub source: String,
    /// The option or variable name as written.
    pub name: String,
    /// The file it was written in.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// Where something was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Location {
    /// The file.
    pub path: String,
    /// The line.
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
