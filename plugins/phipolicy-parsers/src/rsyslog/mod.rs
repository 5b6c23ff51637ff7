//! rsyslog configuration: `/etc/rsyslog.conf` with the files `$IncludeConfig` and `include(file=...)`
//! pull in, read in order, reduced to the forwarding actions it contains (legacy `@host`/`@@host`
//! and RainerScript `action(type="omfwd")`) with the TLS settings in force for each.
//!
//! Legacy `$Action...` and `$DefaultNetstreamDriver...` directives apply to the actions after them;
//! `global(...)` parameters apply everywhere. Actions inside `if ... then`, property filters and
//! `ruleset()` blocks are reported as conditional: which messages reach them is not decided here.
//!
//! Long file: legacy directives and RainerScript share one reader and one include walk (a legacy
//! line may include RainerScript files and back); its tests are in `tests.rs`.
//!
//! ```
//! use phipolicy_parsers::rsyslog::selector_coverage;
//!
//! let coverage = selector_coverage("auth,authpriv.*").unwrap();
//! assert!(coverage.auth && coverage.authpriv && !coverage.all);
//! assert!(selector_coverage("*.info").unwrap().all);
//! ```

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Serialize;

use crate::cursor::Cursor;
use phipolicy_sdk::facts::{Located, ParseIssue, Unreadable};
use phipolicy_sdk::target::{ReadError, Target, TargetExt};
use phipolicy_sdk::path::parent;

/// The main configuration file.
pub const MAIN_CONFIG: &str = "/etc/rsyslog.conf";

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// How deep includes may nest before the reader stops (rsyslog itself limits nesting too).
    pub const MAX_INCLUDE_DEPTH: usize = 16;
}
use limits::*;

/// Which messages a legacy selector sends to its action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Coverage {
    /// Every facility at priority info or more severe.
    pub all: bool,
    /// The `auth` facility at info or more severe.
    pub auth: bool,
    /// The `authpriv` facility at info or more severe.
    pub authpriv: bool,
}

/// A forwarding action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Forward {
    /// The file of the action.
    pub path: String,
    /// Its (first) line.
    pub line: u32,
    /// `legacy` (`@host`, `@@host`) or `rainerscript` (`action(type="omfwd")`).
    pub syntax: String,
    /// The action as written (first line for multi-line objects).
    pub text: String,
    /// The legacy selector in front of the action, when there is one.
    pub selector: Option<String>,
    /// What the selector forwards; `None` when a condition decides it.
    pub coverage: Option<Coverage>,
    /// The `if`/property filter/`ruleset()` the action is inside, as written.
    pub conditional: Option<String>,
    /// The host it sends to, as written.
    pub target: String,
    /// The port, as written (the protocol's default when not written).
    pub port: String,
    /// `udp` or `tcp`.
    pub protocol: String,
    /// The stream driver (`gtls`, `ossl`, ...) it uses, with where it was set.
    pub stream_driver: Option<Located<String>>,
    /// The stream driver mode (1: TLS), with where it was set.
    pub stream_driver_mode: Option<Located<String>>,
    /// The stream driver's authentication mode, with where it was set.
    pub stream_driver_auth_mode: Option<Located<String>>,
    /// The CA file it trusts, with where it was set.
    pub ca_file: Option<Located<String>>,
    /// TCP with a TLS stream driver (`gtls`, `ossl`, `mbedtls`) and stream driver mode 1.
    pub tls: bool,
}

/// What the configuration forwards, and what could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RsyslogConfig {
    /// Whether the main configuration file was read.
    pub found: bool,
    /// Files read, in order.
    pub files: Vec<String>,
    /// The forwarding actions, in reading order.
    pub forwards: Vec<Forward>,
    /// `global(DefaultNetstreamDriver=...)`, applied to actions that set no driver.
    pub global_stream_driver: Option<Located<String>>,
    /// Lines that could not be parsed, include limits.
    pub issues: Vec<ParseIssue>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// Legacy settings in force at a point of the configuration.
#[derive(Debug, Clone, Default)]
struct LegacyState {
    default_driver: Option<Located<String>>,
    default_ca: Option<Located<String>>,
    action_driver: Option<Located<String>>,
    action_mode: Option<Located<String>>,
    action_auth_mode: Option<Located<String>>,
}

const FACILITIES: &[&str] = &[
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

fn severity(name: &str) -> Option<u8> {
    Some(match name {
        "emerg" | "panic" => 0,
        "alert" => 1,
        "crit" => 2,
        "err" | "error" => 3,
        "warning" | "warn" => 4,
        "notice" => 5,
        "info" => 6,
        "debug" => 7,
        _ => return None,
    })
}

/// rsyslog's `DecodePRIFilter`: facility masks built entry by entry (`none` clears, `!` removes).
/// `None` when the selector is not a facility.priority list.
pub fn selector_coverage(selector: &str) -> Option<Coverage> {
    let mut masks = [0u8; 24];
    for entry in selector.split(';') {
        let (facs, pri) = entry.trim().rsplit_once('.')?;
        let pri = pri.to_ascii_lowercase();
        let (negate, rest) = match pri.strip_prefix('!') {
            Some(r) => (true, r.to_string()),
            None => (false, pri.clone()),
        };
        let (single, name) = match rest.strip_prefix('=') {
            Some(r) => (true, r.to_string()),
            None => (false, rest),
        };
        let bits: u8 = match name.as_str() {
            "*" => 0xff,
            "none" => 0,
            n => {
                let s = severity(n)?;
                if single {
                    1u8 << s
                } else {
                    (((1u16 << (s + 1)) - 1) & 0xff) as u8
                }
            }
        };
        for fac in facs.split(',') {
            let fac = fac.trim().to_ascii_lowercase();
            let targets: Vec<usize> = if fac == "*" {
                (0..FACILITIES.len()).collect()
            } else {
                let f = if fac == "security" {
                    "auth"
                } else {
                    fac.as_str()
                };
                vec![FACILITIES.iter().position(|x| *x == f)?]
            };
            for i in targets {
                if let Some(m) = masks.get_mut(i) {
                    if name == "none" {
                        *m = if negate { 0xff } else { 0 };
                    } else if negate {
                        *m &= !bits;
                    } else {
                        *m |= bits;
                    }
                }
            }
        }
    }
    // info (6) and everything more severe.
    let covered = |m: u8| m & 0x7f == 0x7f;
    let at = |f: &str| {
        FACILITIES
            .iter()
            .position(|x| *x == f)
            .and_then(|i| masks.get(i))
            .is_some_and(|m| covered(*m))
    };
    Some(Coverage {
        all: masks.iter().all(|m| covered(*m)),
        auth: at("auth"),
        authpriv: at("authpriv"),
    })
}

/// A block the parser is inside.
#[derive(Debug, Clone)]
struct Block {
    /// The condition text, or `None` for a block that does not filter (e.g. a template body).
    condition: Option<String>,
}

struct Reader<'a> {
    target: &'a dyn Target,
    config: RsyslogConfig,
    legacy: LegacyState,
    seen: BTreeSet<String>,
}

/// What RainerScript adds to the shared [`Cursor`]: its comments and its words.
trait RainerScript {
    /// Skips whitespace, newlines and comments.
    fn skip_space(&mut self);
    /// A word: ASCII letters, digits, `_`, `.` and `-`.
    fn word(&mut self) -> String;
}

impl RainerScript for Cursor {
    fn skip_space(&mut self) {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() => {
                    self.bump();
                }
                Some('#') => self.rest_of_line(),
                Some('/') if self.peek_at(1) == Some('*') => {
                    self.bump();
                    self.bump();
                    while let Some(c) = self.bump() {
                        if c == '*' && self.peek() == Some('/') {
                            self.bump();
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                w.push(c);
                self.bump();
            } else {
                break;
            }
        }
        w
    }
}

/// `name="value"` parameters of a RainerScript object, names lowercased, values located.
type ObjectParams = Vec<(String, Located<String>)>;

fn param<'p>(params: &'p ObjectParams, name: &str) -> Option<&'p Located<String>> {
    params.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v)
}

impl Reader<'_> {
    fn issue(&mut self, path: &str, line: u32, message: String) {
        self.config.issues.push(ParseIssue {
            path: path.to_string(),
            line,
            message,
        });
    }

    /// Parses `( name="value" ... )` with the cursor on `(`.
    fn object_params(&mut self, cur: &mut Cursor, path: &str) -> ObjectParams {
        let mut out = Vec::new();
        cur.bump();
        loop {
            cur.skip_space();
            match cur.peek() {
                None => {
                    let line = cur.line();
                    self.issue(path, line, "object not closed before end of file".into());
                    break;
                }
                Some(')') => {
                    cur.bump();
                    break;
                }
                _ => {}
            }
            let line = cur.line();
            let name = cur.word().to_ascii_lowercase();
            if name.is_empty() {
                let c = cur.bump();
                self.issue(path, line, format!("unexpected {c:?} in object parameters"));
                continue;
            }
            cur.skip_space();
            if cur.peek() != Some('=') {
                self.issue(path, line, format!("parameter {name} has no value"));
                continue;
            }
            cur.bump();
            cur.skip_space();
            let value = match cur.peek() {
                Some('"' | '\'') => cur.quoted(),
                Some('[') => {
                    let mut v = String::new();
                    while let Some(c) = cur.bump() {
                        if c == ']' {
                            break;
                        }
                        v.push(c);
                    }
                    v
                }
                _ => cur.word(),
            };
            out.push((name, Located::new(value, path, line)));
        }
        out
    }

    fn read_file(&mut self, path: &str, depth: usize, blocks: &mut Vec<Block>) {
        if !self.seen.insert(path.to_string()) {
            return;
        }
        let text = match self.target.read_text(path) {
            Ok(t) => t,
            Err(e) => {
                self.config.unreadable.push(Unreadable::new(path, &e));
                return;
            }
        };
        self.config.files.push(path.to_string());
        let mut cur = Cursor::new(&text);
        let mut last_selector: Option<String> = None;
        loop {
            cur.skip_space();
            let Some(c) = cur.peek() else { break };
            let line = cur.line();
            let condition = blocks.iter().rev().find_map(|b| b.condition.clone());
            match c {
                '$' => {
                    let directive = cur.take_line();
                    self.legacy_directive(path, line, directive.trim(), depth, blocks);
                }
                '}' => {
                    cur.bump();
                    if blocks.pop().is_none() {
                        self.issue(path, line, "unbalanced '}'".into());
                    }
                }
                '{' => {
                    cur.bump();
                    blocks.push(Block { condition: None });
                }
                ':' => {
                    // Property filter: `:property, op, "value"  action`.
                    let mut filter = String::new();
                    let mut quotes = 0;
                    while let Some(ch) = cur.peek() {
                        if ch == '\n' {
                            break;
                        }
                        if ch == '"' {
                            quotes += 1;
                        }
                        filter.push(ch);
                        cur.bump();
                        if quotes == 2 {
                            break;
                        }
                    }
                    let cond = format!("property filter {}", filter.trim());
                    self.action(&mut cur, path, None, Some(cond));
                }
                '&' => {
                    cur.bump();
                    let sel = last_selector.clone();
                    self.action(&mut cur, path, sel, condition);
                }
                c if c.is_ascii_alphabetic() && word_then_paren(&cur) => {
                    let word = cur.word().to_ascii_lowercase();
                    cur.skip_space();
                    self.object(&mut cur, path, &word, line, depth, blocks, condition);
                }
                c if c.is_ascii_alphabetic() && starts_keyword(&cur) => {
                    let word = cur.word().to_ascii_lowercase();
                    match word.as_str() {
                        "if" | "foreach" => {
                            let stop = if word == "if" { "then" } else { "do" };
                            let expr = read_until_keyword(&mut cur, stop);
                            let cond = format!("{word} {} {stop}", expr.trim());
                            cur.skip_space();
                            if cur.peek() == Some('{') {
                                cur.bump();
                                blocks.push(Block {
                                    condition: Some(cond),
                                });
                            } else {
                                self.action(&mut cur, path, None, Some(cond));
                            }
                        }
                        "else" => {
                            cur.skip_space();
                            if cur.peek() == Some('{') {
                                cur.bump();
                                let cond = Some(format!(
                                    "else branch ({})",
                                    condition.clone().unwrap_or_else(|| "condition".into())
                                ));
                                blocks.push(Block { condition: cond });
                            }
                        }
                        _ => {
                            // stop, call, set, unset, reset, continue: statements, no forwarding.
                            cur.take_line();
                        }
                    }
                }
                _ => {
                    // Legacy selector line.
                    let mut selector = String::new();
                    while let Some(ch) = cur.peek() {
                        if ch.is_whitespace() {
                            break;
                        }
                        selector.push(ch);
                        cur.bump();
                    }
                    last_selector = Some(selector.clone());
                    self.action(&mut cur, path, Some(selector), condition);
                }
            }
        }
    }

    /// An action after a selector or condition, on the same line (legacy) or an `action(...)`.
    fn action(
        &mut self,
        cur: &mut Cursor,
        path: &str,
        selector: Option<String>,
        condition: Option<String>,
    ) {
        cur.skip_blanks();
        let line = cur.line();
        if word_then_paren(cur) {
            let save_pos = cur.pos();
            let word = cur.word().to_ascii_lowercase();
            if word == "action" {
                cur.skip_space();
                let params = self.object_params(cur, path);
                self.rainerscript_forward(path, line, &params, selector, condition);
                return;
            }
            cur.rewind_to(save_pos);
        }
        let text = cur.take_line();
        let text = text.trim();
        if text.is_empty() {
            if selector.is_some() {
                self.issue(path, line, "selector without an action".into());
            }
            return;
        }
        if text.starts_with('@') {
            self.legacy_forward(path, line, text, selector, condition);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn object(
        &mut self,
        cur: &mut Cursor,
        path: &str,
        word: &str,
        line: u32,
        depth: usize,
        blocks: &mut Vec<Block>,
        condition: Option<String>,
    ) {
        let params = self.object_params(cur, path);
        match word {
            "action" => {
                // An action with no filter in front gets every message (unless inside a block).
                let coverage = condition.is_none().then_some(Coverage {
                    all: true,
                    auth: true,
                    authpriv: true,
                });
                self.rainerscript_forward_with(path, line, &params, None, condition, coverage);
            }
            "global" => {
                if let Some(v) = param(&params, "defaultnetstreamdriver") {
                    self.config.global_stream_driver = Some(v.clone());
                }
                if let Some(v) = param(&params, "defaultnetstreamdrivercafile") {
                    self.legacy.default_ca = Some(v.clone());
                }
            }
            "include" => {
                if let Some(file) = param(&params, "file") {
                    let optional = param(&params, "mode")
                        .is_some_and(|m| m.value.eq_ignore_ascii_case("optional"));
                    let pattern = file.value.clone();
                    self.include(path, line, &pattern, depth, blocks, optional);
                }
            }
            "ruleset" => {
                if cur.next_non_space_is('{') {
                    cur.skip_space();
                    cur.bump();
                    let name = param(&params, "name")
                        .map(|v| v.value.clone())
                        .unwrap_or_default();
                    blocks.push(Block {
                        condition: Some(format!("ruleset(name=\"{name}\")")),
                    });
                }
            }
            _ => {
                // template(...) { ... } and the like: a body that holds no actions.
                if cur.next_non_space_is('{') {
                    cur.skip_space();
                    let mut level = 0usize;
                    while let Some(c) = cur.bump() {
                        match c {
                            '{' => level += 1,
                            '}' => {
                                level = level.saturating_sub(1);
                                if level == 0 {
                                    break;
                                }
                            }
                            '"' | '\'' => {
                                cur.rewind_to(cur.pos().saturating_sub(1));
                                cur.quoted();
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }

    fn include(
        &mut self,
        from: &str,
        line: u32,
        pattern: &str,
        depth: usize,
        blocks: &mut Vec<Block>,
        optional: bool,
    ) {
        if depth >= MAX_INCLUDE_DEPTH {
            self.issue(
                from,
                line,
                format!("includes nest deeper than {MAX_INCLUDE_DEPTH}: {pattern} not read"),
            );
            return;
        }
        let pattern = pattern.trim();
        let files: Vec<String> = if let Some(dir) = pattern.strip_suffix('/') {
            match self.target.list_dir(if dir.is_empty() { "/" } else { dir }) {
                Ok(entries) => entries
                    .into_iter()
                    .map(|e| format!("{dir}/{}", e.name))
                    .collect(),
                Err(_) => Vec::new(),
            }
        } else if pattern.contains(['*', '?', '[']) {
            self.target.glob(parent(from), pattern)
        } else {
            vec![pattern.to_string()]
        };
        for f in files {
            let literal = !pattern.contains(['*', '?', '[']) && !pattern.ends_with('/');
            if literal && let Err(ReadError::NotFound) = self.target.stat(&f) {
                if !optional {
                    self.issue(
                        from,
                        line,
                        format!("included file {f} does not exist (rsyslog reports an error)"),
                    );
                }
                continue;
            }
            self.read_file(&f, depth + 1, blocks);
        }
    }

    fn legacy_directive(
        &mut self,
        path: &str,
        line: u32,
        directive: &str,
        depth: usize,
        blocks: &mut Vec<Block>,
    ) {
        let mut parts = directive.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        let value = parts.next().unwrap_or_default().trim();
        let value = value
            .split('#')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let located = Located::new(value.clone(), path, line);
        match name.as_str() {
            "$includeconfig" => self.include(path, line, &value, depth, blocks, false),
            "$defaultnetstreamdriver" => self.legacy.default_driver = Some(located),
            "$defaultnetstreamdrivercafile" => self.legacy.default_ca = Some(located),
            "$actionsendstreamdriver" => self.legacy.action_driver = Some(located),
            "$actionsendstreamdrivermode" => self.legacy.action_mode = Some(located),
            "$actionsendstreamdriverauthmode" => self.legacy.action_auth_mode = Some(located),
            "$resetconfigvariables" => {
                self.legacy.action_driver = None;
                self.legacy.action_mode = None;
                self.legacy.action_auth_mode = None;
            }
            _ => {}
        }
    }

    fn legacy_forward(
        &mut self,
        path: &str,
        line: u32,
        text: &str,
        selector: Option<String>,
        condition: Option<String>,
    ) {
        let (protocol, rest) = match text.strip_prefix("@@") {
            Some(r) => ("tcp", r),
            None => ("udp", text.strip_prefix('@').unwrap_or(text)),
        };
        // Options such as `(o)` or `(z9)` before the host.
        let rest = match rest.strip_prefix('(') {
            Some(r) => r.split_once(')').map_or("", |(_, after)| after),
            None => rest,
        };
        let dest = rest.split(';').next().unwrap_or_default().trim();
        let (host, port) = if let Some(v6) = dest.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, p)) => (h.to_string(), p.strip_prefix(':').unwrap_or("").to_string()),
                None => (v6.to_string(), String::new()),
            }
        } else {
            match dest.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p.to_string()),
                None => (dest.to_string(), String::new()),
            }
        };
        let driver = self
            .legacy
            .action_driver
            .clone()
            .or_else(|| self.legacy.default_driver.clone());
        let coverage = if condition.is_some() {
            None
        } else {
            selector.as_deref().and_then(selector_coverage)
        };
        if let (None, None, Some(s)) = (&coverage, &condition, &selector) {
            let message = format!("selector {s:?} is not a facility.priority list");
            self.issue(path, line, message);
        }
        let mode = self.legacy.action_mode.clone();
        let forward = Forward {
            path: path.to_string(),
            line,
            syntax: "legacy".into(),
            text: text.to_string(),
            selector,
            coverage,
            conditional: condition,
            target: host,
            port: if port.is_empty() { "514".into() } else { port },
            protocol: protocol.into(),
            tls: protocol == "tcp" && tls_on(driver.as_ref(), mode.as_ref()),
            stream_driver: driver,
            stream_driver_mode: mode,
            stream_driver_auth_mode: self.legacy.action_auth_mode.clone(),
            ca_file: self.legacy.default_ca.clone(),
        };
        self.config.forwards.push(forward);
    }

    fn rainerscript_forward(
        &mut self,
        path: &str,
        line: u32,
        params: &ObjectParams,
        selector: Option<String>,
        condition: Option<String>,
    ) {
        let coverage = if condition.is_some() {
            None
        } else {
            selector.as_deref().and_then(selector_coverage)
        };
        self.rainerscript_forward_with(path, line, params, selector, condition, coverage);
    }

    fn rainerscript_forward_with(
        &mut self,
        path: &str,
        line: u32,
        params: &ObjectParams,
        selector: Option<String>,
        condition: Option<String>,
        coverage: Option<Coverage>,
    ) {
        let Some(kind) = param(params, "type") else {
            self.issue(path, line, "action() without type".into());
            return;
        };
        if !kind.value.eq_ignore_ascii_case("omfwd") {
            return;
        }
        let value = |n: &str| param(params, n).map(|v| v.value.clone());
        let protocol = value("protocol")
            .unwrap_or_else(|| "udp".into())
            .to_ascii_lowercase();
        let driver = param(params, "streamdriver")
            .cloned()
            .or_else(|| self.legacy.default_driver.clone());
        let mode = param(params, "streamdrivermode").cloned();
        let text = format!(
            "action({})",
            params
                .iter()
                .map(|(n, v)| format!("{n}=\"{}\"", v.value))
                .collect::<Vec<_>>()
                .join(" ")
        );
        self.config.forwards.push(Forward {
            path: path.to_string(),
            line,
            syntax: "rainerscript".into(),
            text,
            selector,
            coverage,
            conditional: condition,
            target: value("target").unwrap_or_default(),
            port: value("port").unwrap_or_else(|| "514".into()),
            tls: protocol == "tcp" && tls_on(driver.as_ref(), mode.as_ref()),
            protocol,
            stream_driver: driver,
            stream_driver_mode: mode,
            stream_driver_auth_mode: param(params, "streamdriverauthmode").cloned(),
            ca_file: param(params, "streamdriver.cafile")
                .cloned()
                .or_else(|| self.legacy.default_ca.clone()),
        });
    }
}

fn tls_on(driver: Option<&Located<String>>, mode: Option<&Located<String>>) -> bool {
    let d = driver.is_some_and(|d| {
        matches!(
            d.value.to_ascii_lowercase().as_str(),
            "gtls" | "ossl" | "mbedtls"
        )
    });
    d && mode.is_some_and(|m| m.value.trim() == "1")
}

/// Whether the cursor is on `word(` (an object such as `action(`), possibly with blanks between.
fn word_then_paren(cur: &Cursor) -> bool {
    let mut i = cur.pos();
    while cur
        .char_at(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        i += 1;
    }
    if i == cur.pos() {
        return false;
    }
    while cur.char_at(i).is_some_and(|c| c == ' ' || c == '\t') {
        i += 1;
    }
    cur.char_at(i) == Some('(')
}

/// Whether the cursor is on a RainerScript statement keyword followed by a word boundary.
fn starts_keyword(cur: &Cursor) -> bool {
    let mut w = String::new();
    let mut i = cur.pos();
    while let Some(c) = cur.char_at(i) {
        if c.is_ascii_alphabetic() {
            w.push(c.to_ascii_lowercase());
            i += 1;
        } else {
            break;
        }
    }
    let boundary = cur
        .char_at(i)
        .is_none_or(|c| c.is_whitespace() || c == ';' || c == '(' || c == '$' || c == '{');
    boundary
        && matches!(
            w.as_str(),
            "if" | "else"
                | "stop"
                | "call"
                | "set"
                | "unset"
                | "reset"
                | "continue"
                | "foreach"
                | "call_indirect"
        )
}

/// Reads up to (and consumes) the keyword `stop` outside quotes.
fn read_until_keyword(cur: &mut Cursor, stop: &str) -> String {
    let mut out = String::new();
    loop {
        match cur.peek() {
            None => break,
            Some('"' | '\'') => {
                let q = cur.peek().unwrap_or('"');
                let s = cur.quoted();
                out.push(q);
                out.push_str(&s);
                out.push(q);
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let w = cur.word();
                if w.eq_ignore_ascii_case(stop) {
                    break;
                }
                out.push_str(&w);
            }
            Some(c) => {
                out.push(if c == '\n' { ' ' } else { c });
                cur.bump();
            }
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads `/etc/rsyslog.conf` and everything it includes.
pub fn load(target: &dyn Target) -> RsyslogConfig {
    let mut reader = Reader {
        target,
        config: RsyslogConfig {
            found: false,
            files: Vec::new(),
            forwards: Vec::new(),
            global_stream_driver: None,
            issues: Vec::new(),
            unreadable: Vec::new(),
        },
        legacy: LegacyState::default(),
        seen: BTreeSet::new(),
    };
    match target.stat(MAIN_CONFIG) {
        Err(ReadError::NotFound) => return reader.config,
        _ => reader.config.found = true,
    }
    let mut blocks = Vec::new();
    reader.read_file(MAIN_CONFIG, 0, &mut blocks);
    let mut config = reader.config;
    // global(DefaultNetstreamDriver=...) applies to every action that names no driver.
    if let Some(g) = config.global_stream_driver.clone() {
        for f in &mut config.forwards {
            if f.stream_driver.is_none() {
                f.tls = f.protocol == "tcp" && tls_on(Some(&g), f.stream_driver_mode.as_ref());
                f.stream_driver = Some(g.clone());
            }
        }
    }
    config
}

#[cfg(test)]
mod tests;
