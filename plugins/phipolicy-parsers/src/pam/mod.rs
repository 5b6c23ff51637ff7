//! PAM stack files (`/etc/pam.d/<service>`), parsed the way Linux-PAM's `pam_handlers.c` reads
//! them, and flattened: `include`, `substack` and Debian's `@include` are expanded into one list of
//! entries of a type, each keeping its own file, line and the chain of includes it came through.
//!
//! ```
//! use phipolicy_parsers::pam::{PamItem, parse_file};
//!
//! let file = parse_file("/etc/pam.d/sshd", "auth required pam_faillock.so preauth\n@include common-auth\n");
//! assert!(file.issues.is_empty());
//! assert!(matches!(&file.items[0], PamItem::Rule(r) if r.module == "pam_faillock.so" && r.line == 1));
//! assert!(matches!(&file.items[1], PamItem::AtInclude { name, .. } if name == "common-auth"));
//! ```

use std::fmt;

use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use crate::os_release::Family;
use phipolicy_sdk::target::{FileKind, Target, TargetExt};
use phipolicy_sdk::path::{join, normalize_from_root, parent};

pub mod exec;

/// Where service files live.
pub const PAM_D: &str = "/etc/pam.d";

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// How deep includes nest before expansion stops (Linux-PAM's `PAM_SUBSTACK_MAX_LEVEL`).
    pub const MAX_INCLUDE_DEPTH: usize = 16;

    /// Files read for one stack (re-reads included). Includes nest at most [`MAX_INCLUDE_DEPTH`] deep,
    /// but a file that includes the next one many times over, down a chain of files, multiplies the
    /// reads at every level; real stacks read fewer than 20 files, so past this the target is hostile
    /// and expansion stops (reported as an issue) instead of running for hours.
    pub const MAX_STACK_FILES: usize = 256;

    /// Symlinks followed when naming the file a path really is (Linux's limit).
    pub const MAX_SYMLINK_HOPS: usize = 40;
}
use limits::*;

/// PAM module directories of Debian and Ubuntu (multiarch, then the legacy locations).
pub const DEBIAN_MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/security",
    "/lib/x86_64-linux-gnu/security",
    "/usr/lib/security",
    "/lib/security",
];

/// PAM module directory of Rocky, Alma and RHEL.
pub const RHEL_MODULE_DIRS: &[&str] = &["/usr/lib64/security"];

/// Every module directory either family uses (for targets of unknown family).
pub const ALL_MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/security",
    "/lib/x86_64-linux-gnu/security",
    "/usr/lib64/security",
    "/usr/lib/security",
    "/lib/security",
];

/// The module directories a family's libpam loads relative module names from.
pub fn module_dirs(family: Family) -> &'static [&'static str] {
    match family {
        Family::Debian => DEBIAN_MODULE_DIRS,
        Family::Rhel => RHEL_MODULE_DIRS,
        Family::Unknown => ALL_MODULE_DIRS,
    }
}

/// The four management groups of a PAM rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PamType {
    Auth,
    Account,
    Password,
    Session,
}

impl PamType {
    /// Parses a type field (case-insensitive, as libpam compares it).
    pub fn parse(s: &str) -> Option<PamType> {
        match s.to_ascii_lowercase().as_str() {
            "auth" => Some(PamType::Auth),
            "account" => Some(PamType::Account),
            "password" => Some(PamType::Password),
            "session" => Some(PamType::Session),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PamType::Auth => "auth",
            PamType::Account => "account",
            PamType::Password => "password",
            PamType::Session => "session",
        }
    }
}

/// The control field: a keyword, or the bracketed `value=action` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Required,
    Requisite,
    Sufficient,
    Optional,
    Include,
    Substack,
    /// `[success=1 default=ignore]`: (return value, action) pairs in order.
    Actions(Vec<(String, String)>),
}

impl Control {
    /// Parses a control token (brackets already removed when `bracketed`).
    fn parse(token: &str, bracketed: bool) -> Result<Control, String> {
        if bracketed {
            let mut actions = Vec::new();
            for pair in token.split_whitespace() {
                match pair.split_once('=') {
                    Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                        actions.push((k.to_ascii_lowercase(), v.to_ascii_lowercase()));
                    }
                    _ => return Err(format!("control action {pair:?} is not value=action")),
                }
            }
            return Ok(Control::Actions(actions));
        }
        match token.to_ascii_lowercase().as_str() {
            "required" => Ok(Control::Required),
            "requisite" => Ok(Control::Requisite),
            "sufficient" => Ok(Control::Sufficient),
            "optional" => Ok(Control::Optional),
            "include" => Ok(Control::Include),
            "substack" => Ok(Control::Substack),
            other => Err(format!("unknown control {other:?}")),
        }
    }

    /// The action for a return value (`default` when it has none of its own), for bracketed controls.
    pub fn action(&self, value: &str) -> Option<&str> {
        let Control::Actions(actions) = self else {
            return None;
        };
        let find = |k: &str| {
            actions
                .iter()
                .rev()
                .find(|(key, _)| key == k)
                .map(|(_, a)| a.as_str())
        };
        find(value).or_else(|| find("default"))
    }
}

impl fmt::Display for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Control::Required => f.write_str("required"),
            Control::Requisite => f.write_str("requisite"),
            Control::Sufficient => f.write_str("sufficient"),
            Control::Optional => f.write_str("optional"),
            Control::Include => f.write_str("include"),
            Control::Substack => f.write_str("substack"),
            Control::Actions(actions) => {
                let inner: Vec<String> = actions.iter().map(|(k, v)| format!("{k}={v}")).collect();
                write!(f, "[{}]", inner.join(" "))
            }
        }
    }
}

impl Serialize for Control {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// Serialised as written in a PAM file: a keyword or the bracketed `[value=action ...]` list.
impl JsonSchema for Control {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Control".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The control field as written: `required`, `requisite`, `sufficient`, `optional`, `include`, `substack`, or a bracketed `[value=action ...]` list.",
            "type": "string"
        })
    }
}

/// One rule line of one file: `[-]type control module-path args...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PamRule {
    /// The file of the rule.
    pub path: String,
    /// First physical line of the (possibly continued) rule.
    pub line: u32,
    /// Its management group.
    #[serde(rename = "type")]
    pub kind: PamType,
    /// A leading `-` on the type: a missing module is skipped silently.
    pub ignore_if_missing: bool,
    /// The control field.
    pub control: Control,
    /// The module path as written (for `include`/`substack`, the file included).
    pub module: String,
    /// Arguments with bracket quoting removed (`[a b]` -> `a b`).
    pub args: Vec<String>,
}

impl PamRule {
    /// The module's file name (`pam_unix.so` for `/usr/lib64/security/pam_unix.so`).
    pub fn module_name(&self) -> &str {
        self.module.rsplit('/').next().unwrap_or(&self.module)
    }

    /// Arguments of the form `name=value`, in order (later ones win when read into a map).
    pub fn key_value_args(&self) -> Vec<(&str, &str)> {
        self.args.iter().filter_map(|a| a.split_once('=')).collect()
    }
}

/// One meaningful line of a PAM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PamItem {
    Rule(PamRule),
    /// Debian's `@include name`: every rule of `name`, whatever its type.
    AtInclude {
        name: String,
        path: String,
        line: u32,
    },
}

/// A parsed PAM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PamFile {
    pub path: String,
    pub items: Vec<PamItem>,
    pub issues: Vec<ParseIssue>,
}

/// Parses one PAM service file. Never fails: bad lines become [`ParseIssue`]s (libpam skips them
/// too, but makes the stack fail, so they matter as evidence).
pub fn parse_file(path: &str, text: &str) -> PamFile {
    let mut file = PamFile {
        path: path.to_string(),
        items: Vec::new(),
        issues: Vec::new(),
    };
    for (line, content) in logical_lines(text) {
        let mut issue = |message: String| {
            file.issues.push(ParseIssue {
                path: path.to_string(),
                line,
                message,
            })
        };
        let tokens = tokenize(&content);
        let Some(first) = tokens.first() else {
            continue;
        };
        if first.text.eq_ignore_ascii_case("@include") && !first.bracketed {
            match tokens.get(1) {
                Some(name) => file.items.push(PamItem::AtInclude {
                    name: name.text.clone(),
                    path: path.to_string(),
                    line,
                }),
                None => issue("@include without a file name".into()),
            }
            continue;
        }
        let (ignore_if_missing, type_text) = match first.text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, first.text.as_str()),
        };
        let Some(kind) = PamType::parse(type_text) else {
            issue(format!("unknown module type {:?}", first.text));
            continue;
        };
        let Some(control_token) = tokens.get(1) else {
            issue(format!("{} rule without a control", kind.as_str()));
            continue;
        };
        let control = match Control::parse(&control_token.text, control_token.bracketed) {
            Ok(c) => c,
            Err(e) => {
                issue(e);
                continue;
            }
        };
        // An empty token (`[]` where the module path belongs) names no module either.
        let Some(module) = tokens.get(2).filter(|t| !t.text.is_empty()) else {
            issue(format!("{} rule without a module path", kind.as_str()));
            continue;
        };
        let args = tokens.iter().skip(3).map(|t| t.text.clone()).collect();
        file.items.push(PamItem::Rule(PamRule {
            path: path.to_string(),
            line,
            kind,
            ignore_if_missing,
            control,
            module: module.text.clone(),
            args,
        }));
    }
    file
}

/// Joins physical lines into rules the way `_pam_assemble_line` does: `#` ends the rule (even
/// inside brackets), a trailing `\` continues it on the next line, and blank or comment-only lines
/// inside a continuation are skipped. Returns (first physical line, content).
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (idx, raw) in text.lines().enumerate() {
        let number = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let trimmed = raw.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (content, commented) = match trimmed.find('#') {
            Some(i) => (trimmed.get(..i).unwrap_or(""), true),
            None => (trimmed, false),
        };
        let (start, mut acc) = pending.take().unwrap_or((number, String::new()));
        let body = content.trim_end_matches([' ', '\t', '\r']);
        match body.strip_suffix('\\') {
            Some(head) if !commented => {
                acc.push_str(head);
                acc.push(' ');
                pending = Some((start, acc));
            }
            _ => {
                acc.push_str(content);
                out.push((start, acc));
            }
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out
}

struct Token {
    text: String,
    bracketed: bool,
}

/// Splits on blanks; a token starting with `[` runs to the first `]` not preceded by `\`, and
/// `\]` inside it becomes `]` (libpam's `_pam_StrTok`). An unclosed bracket runs to the end.
fn tokenize(s: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
        {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut text = String::new();
        if c == '[' {
            chars.next();
            let mut prev_backslash = false;
            for ch in chars.by_ref() {
                if ch == ']' && !prev_backslash {
                    break;
                }
                if ch == ']' && prev_backslash {
                    text.pop();
                }
                text.push(ch);
                prev_backslash = ch == '\\';
            }
            out.push(Token {
                text,
                bracketed: true,
            });
        } else {
            while let Some(&ch) = chars.peek() {
                if matches!(ch, ' ' | '\t' | '\n' | '\r') {
                    break;
                }
                text.push(ch);
                chars.next();
            }
            out.push(Token {
                text,
                bracketed: false,
            });
        }
    }
    out
}

/// One step of an include chain: the line that pulled the next file in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IncludeStep {
    /// The file of the include line.
    pub path: String,
    /// Its line.
    pub line: u32,
    /// `include`, `substack` or `@include`.
    pub directive: String,
    /// The file it includes.
    pub includes: String,
}

/// A rule of the flattened stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PamEntry {
    #[serde(flatten)]
    pub rule: PamRule,
    /// Include lines from the stack's top file down to this rule's file (empty: the top file).
    pub via: Vec<IncludeStep>,
    /// Set by [`check_modules`]: the module file found in the target, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_file: Option<String>,
    /// Set by [`check_modules`]: whether the module file exists in the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub module_exists: Option<bool>,
}

/// A file read while building a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StackFile {
    /// The file.
    pub path: String,
    /// Where the path's symlinks lead inside the target, when it is a symlink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_path: Option<String>,
}

/// The rules of one type a service runs, includes expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PamStack {
    /// The service (`common-password`, `system-auth`, ...).
    pub service: String,
    /// Its file.
    pub path: String,
    /// The management group.
    #[serde(rename = "type")]
    pub kind: PamType,
    /// Whether the service file itself was read.
    pub exists: bool,
    /// The rules, in the order libpam runs them.
    pub entries: Vec<PamEntry>,
    /// Files read, in the order they were read.
    pub files: Vec<StackFile>,
    /// Files that could not be read (the service file or an included one), with why.
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed or used.
    pub issues: Vec<ParseIssue>,
}

impl PamStack {
    /// Entries whose module file name is `name` (e.g. `pam_pwquality.so`).
    pub fn entries_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a PamEntry> + 'a {
        self.entries
            .iter()
            .filter(move |e| e.rule.module_name() == name)
    }
}

/// The path a service or include name refers to: absolute as is, else under `/etc/pam.d`.
pub fn service_path(name: &str) -> String {
    join(PAM_D, name)
}

/// Loads `service` (a name under `/etc/pam.d` or an absolute path) and flattens its rules of
/// type `kind`.
pub fn load_stack(target: &dyn Target, service: &str, kind: PamType) -> PamStack {
    let path = service_path(service);
    let mut stack = PamStack {
        service: service.to_string(),
        path: path.clone(),
        kind,
        exists: false,
        entries: Vec::new(),
        files: Vec::new(),
        unreadable: Vec::new(),
        issues: Vec::new(),
    };
    let mut chain = Vec::new();
    stack.exists = expand(target, &path, kind, &mut chain, &mut stack);
    stack
}

/// Reads `path` and appends its rules of `kind` to `stack`, expanding includes (`include` and
/// `substack` lines of that type, and `@include`, whose rules are filtered by type the same way).
/// `chain` holds the include steps that led here. Returns whether the file was read.
fn expand(
    target: &dyn Target,
    path: &str,
    kind: PamType,
    chain: &mut Vec<IncludeStep>,
    stack: &mut PamStack,
) -> bool {
    let text = match target.read_text(path) {
        Ok(t) => t,
        Err(e) => {
            stack.unreadable.push(Unreadable::new(path, &e));
            return false;
        }
    };
    stack.files.push(StackFile {
        path: path.to_string(),
        real_path: real_path(target, path),
    });
    let file = parse_file(path, &text);
    stack.issues.extend(file.issues);
    for item in file.items {
        let (directive, name, line) = match item {
            PamItem::AtInclude { name, line, .. } => ("@include", name, line),
            PamItem::Rule(rule) => {
                if rule.kind != kind {
                    continue;
                }
                match rule.control {
                    Control::Include => ("include", rule.module, rule.line),
                    Control::Substack => ("substack", rule.module, rule.line),
                    _ => {
                        stack.entries.push(PamEntry {
                            rule,
                            via: chain.clone(),
                            module_file: None,
                            module_exists: None,
                        });
                        continue;
                    }
                }
            }
        };
        let included = service_path(&name);
        let at = |message: String| ParseIssue {
            path: path.to_string(),
            line,
            message,
        };
        if chain.len() >= MAX_INCLUDE_DEPTH {
            stack.issues.push(at(format!(
                "{directive} {name}: more than {MAX_INCLUDE_DEPTH} nested includes; not expanded"
            )));
            continue;
        }
        if included == stack.path || chain.iter().any(|s| s.includes == included) {
            stack.issues.push(at(format!(
                "{directive} {name}: include loop; not expanded"
            )));
            continue;
        }
        if stack.files.len() + stack.unreadable.len() >= MAX_STACK_FILES {
            stack.issues.push(at(format!(
                "{directive} {name}: more than {MAX_STACK_FILES} files read for this stack; not expanded"
            )));
            continue;
        }
        chain.push(IncludeStep {
            path: path.to_string(),
            line,
            directive: directive.to_string(),
            includes: included.clone(),
        });
        expand(target, &included, kind, chain, stack);
        chain.pop();
    }
    true
}

/// The in-target path `path` leads to through symlinks of its last component, when it is a
/// symlink (`/etc/pam.d/system-auth` -> `/etc/authselect/system-auth`).
pub fn real_path(target: &dyn Target, path: &str) -> Option<String> {
    let mut current = path.to_string();
    let mut hops = 0;
    while matches!(target.lstat(&current), Ok(st) if st.kind == FileKind::Symlink) {
        hops += 1;
        if hops > MAX_SYMLINK_HOPS {
            return None;
        }
        let link = target.read_link(&current).ok()?;
        current = normalize_from_root(&join(parent(&current), &link));
    }
    (current != path).then_some(current)
}

/// The result of looking a module up in the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ModuleLookup {
    /// The module file found, if any.
    pub found: Option<String>,
    /// Every path looked at, in order.
    pub searched: Vec<String>,
}

/// Looks for `module` (absolute, or relative to each of `dirs`) in the target. Only regular files
/// (through symlinks) count.
pub fn find_module(target: &dyn Target, module: &str, dirs: &[&str]) -> ModuleLookup {
    let candidates: Vec<String> = if module.starts_with('/') {
        vec![module.to_string()]
    } else {
        dirs.iter().map(|d| join(d, module)).collect()
    };
    let found = candidates
        .iter()
        .find(|c| matches!(target.stat(c), Ok(st) if st.kind == FileKind::Regular))
        .cloned();
    ModuleLookup {
        found,
        searched: candidates,
    }
}

/// Fills `module_file` and `module_exists` on every entry of `stack`.
pub fn check_modules(target: &dyn Target, stack: &mut PamStack, dirs: &[&str]) {
    for entry in &mut stack.entries {
        let lookup = find_module(target, &entry.rule.module, dirs);
        entry.module_exists = Some(lookup.found.is_some());
        entry.module_file = lookup.found;
    }
}

#[cfg(test)]
mod tests;
