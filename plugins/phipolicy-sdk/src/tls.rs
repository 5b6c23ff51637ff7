//! TLS settings as the programs that read them see them: OpenSSL's `openssl.cnf` (the
//! `openssl_conf` → `ssl_conf` → `system_default` chain), RHEL crypto-policies, nginx, Apache httpd
//! and Postfix protocol directives, and PEM Diffie-Hellman parameters (prime size).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::facts::{Located, ParseIssue, Unreadable};
use crate::target::{FileKind, Target, TargetExt, join, parent};

/// TLS/SSL protocol versions, oldest first, spelled as OpenSSL, nginx and Apache spell them.
pub const PROTOCOLS: [&str; 6] = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Include nesting past which a configuration is hostile (nginx and Apache have no cap of their
/// own but loop forever or run out of descriptors; OpenSSL caps `.include` at one level per file).
const MAX_INCLUDE_DEPTH: usize = 16;

/// Files parsed for one configuration: a glob fan-out nested this far is hostile, not a server.
const MAX_FILES: usize = 512;

/// The canonical spelling of a protocol name (case-insensitive; `TLSv1.0` is `TLSv1`).
pub fn canonical_protocol(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = if lower == "tlsv1.0" {
        "tlsv1".to_string()
    } else {
        lower
    };
    PROTOCOLS
        .iter()
        .copied()
        .find(|p| p.to_ascii_lowercase() == lower)
}

fn protocol_index(p: &str) -> usize {
    PROTOCOLS.iter().position(|q| *q == p).unwrap_or(0)
}

fn ordered(set: &BTreeSet<&'static str>) -> Vec<String> {
    PROTOCOLS
        .iter()
        .filter(|p| set.contains(*p))
        .map(|p| (*p).to_string())
        .collect()
}

/// Files a loader read, could not read, and the problems it found in them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub files: Vec<String>,
    pub unreadable: Vec<Unreadable>,
    pub issues: Vec<ParseIssue>,
}

impl LoadReport {
    /// Whether another file may be read: the cap is checked before every file, not only at each
    /// include directive (an include that matched many files, nested, used to read past it).
    fn may_read(&mut self, from: &str, line: u32, file: &str) -> bool {
        if self.files.len() < MAX_FILES {
            return true;
        }
        self.issue(
            from,
            line,
            format!(
                "more than {MAX_FILES} files read: {file} and the rest of this include not read"
            ),
        );
        false
    }

    fn issue(&mut self, path: &str, line: u32, message: impl Into<String>) {
        self.issues.push(ParseIssue {
            path: path.to_string(),
            line,
            message: message.into(),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// OpenSSL configuration

/// One `name = value` line of an OpenSSL configuration and the section it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpensslSetting {
    pub section: String,
    pub name: String,
    pub value: String,
    pub path: String,
    pub line: u32,
}

/// An OpenSSL configuration file with its `.include`s expanded in place (OpenSSL's `NCONF` rules:
/// lines before the first `[section]` belong to `default`, a later line of the same name in a
/// section replaces the earlier one, an included file continues the current section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpensslConfig {
    pub path: String,
    pub found: bool,
    /// Section names in the order they are first declared (`default` first), empty ones included.
    pub sections: Vec<String>,
    pub settings: Vec<OpensslSetting>,
    #[serde(flatten)]
    pub report: LoadReport,
}

/// The system-wide TLS defaults OpenSSL applies to every `SSL_CTX` (the `system_default` section).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OpensslSystemDefault {
    pub openssl_conf: Option<Located<String>>,
    pub ssl_conf: Option<Located<String>>,
    pub system_default: Option<Located<String>>,
    pub min_protocol: Option<Located<String>>,
    pub max_protocol: Option<Located<String>>,
    pub cipher_string: Option<Located<String>>,
    /// A section the chain names that the file does not define (OpenSSL then fails to load it).
    pub missing_section: Option<String>,
}

impl OpensslConfig {
    /// Loads `path` from the target; a missing file gives `found: false`.
    pub fn load(target: &dyn Target, path: &str) -> OpensslConfig {
        let mut cfg = OpensslConfig {
            path: path.to_string(),
            ..OpensslConfig::default()
        };
        let mut section = "default".to_string();
        match target.read_text(path) {
            Ok(text) => {
                cfg.found = true;
                cfg.parse_file(target, path, &text, &mut section, 0);
            }
            Err(crate::ReadError::NotFound) => {}
            Err(e) => cfg.report.unreadable.push(Unreadable::new(path, &e)),
        }
        cfg
    }

    /// Parses one file's text (no includes are followed when `target` has none of them).
    pub fn parse_text(path: &str, text: &str, target: &dyn Target) -> OpensslConfig {
        let mut cfg = OpensslConfig {
            path: path.to_string(),
            found: true,
            ..OpensslConfig::default()
        };
        let mut section = "default".to_string();
        cfg.parse_file(target, path, text, &mut section, 0);
        cfg
    }

    fn parse_file(
        &mut self,
        target: &dyn Target,
        path: &str,
        text: &str,
        section: &mut String,
        depth: usize,
    ) {
        self.report.files.push(path.to_string());
        for (line_no, line) in logical_lines(text) {
            let stripped = strip_openssl_comment(&line);
            let t = stripped.trim();
            if t.is_empty() {
                continue;
            }
            if let Some(rest) = t.strip_prefix('[') {
                match rest.find(']') {
                    Some(end) => {
                        *section = rest.get(..end).unwrap_or("").trim().to_string();
                        if !self.sections.contains(section) {
                            self.sections.push(section.clone());
                        }
                    }
                    None => self
                        .report
                        .issue(path, line_no, "section header without `]`"),
                }
                continue;
            }
            if let Some(rest) = t.strip_prefix(".include") {
                let arg = rest.trim_start();
                let arg = arg.strip_prefix('=').unwrap_or(arg).trim();
                let arg = unquote(arg);
                if arg.is_empty() {
                    self.report.issue(path, line_no, ".include without a path");
                    continue;
                }
                self.include(target, path, line_no, &arg, section, depth);
                continue;
            }
            if t.starts_with(".pragma") {
                continue;
            }
            let Some(eq) = t.find('=') else {
                self.report
                    .issue(path, line_no, format!("line is not `name = value`: {t}"));
                continue;
            };
            let name = t.get(..eq).unwrap_or("").trim().to_string();
            let value = unquote(t.get(eq + 1..).unwrap_or("").trim());
            if name.is_empty() {
                self.report.issue(path, line_no, "setting without a name");
                continue;
            }
            self.settings.push(OpensslSetting {
                section: section.clone(),
                name,
                value,
                path: path.to_string(),
                line: line_no,
            });
        }
    }

    fn include(
        &mut self,
        target: &dyn Target,
        from: &str,
        line: u32,
        arg: &str,
        section: &mut String,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH || self.report.files.len() >= MAX_FILES {
            self.report
                .issue(from, line, format!(".include {arg}: nested too deeply"));
            return;
        }
        let full = join(parent(from), arg);
        let files = match target.stat(&full) {
            Ok(st) if st.kind == FileKind::Directory => match target.list_dir(&full) {
                // OpenSSL reads the files of an included directory ending in .cnf or .conf.
                Ok(entries) => entries
                    .into_iter()
                    .filter(|e| e.name.ends_with(".cnf") || e.name.ends_with(".conf"))
                    .map(|e| join(&full, &e.name))
                    .collect(),
                Err(e) => {
                    self.report.unreadable.push(Unreadable::new(&full, &e));
                    return;
                }
            },
            Ok(_) => vec![full.clone()],
            Err(crate::ReadError::NotFound) => {
                self.report.issue(
                    from,
                    line,
                    format!(".include {arg}: {full} does not exist (OpenSSL ignores it)"),
                );
                return;
            }
            Err(e) => {
                self.report.unreadable.push(Unreadable::new(&full, &e));
                return;
            }
        };
        for file in files {
            if !self.report.may_read(from, line, &file) {
                break;
            }
            match target.read_text(&file) {
                Ok(text) => self.parse_file(target, &file, &text, section, depth + 1),
                Err(e) => self.report.unreadable.push(Unreadable::new(&file, &e)),
            }
        }
    }

    /// The value of `name` in `section` (the last line wins, as in OpenSSL).
    pub fn get(&self, section: &str, name: &str) -> Option<&OpensslSetting> {
        self.settings
            .iter()
            .rev()
            .find(|s| s.section == section && s.name == name)
    }

    fn has_section(&self, section: &str) -> bool {
        section == "default" || self.sections.iter().any(|s| s == section)
    }

    /// Follows `openssl_conf` → `ssl_conf` → `system_default` to the settings OpenSSL applies to
    /// every TLS context.
    pub fn system_default(&self) -> OpensslSystemDefault {
        let located = |s: &OpensslSetting| Located::new(s.value.clone(), s.path.clone(), s.line);
        let mut out = OpensslSystemDefault::default();
        let Some(init) = self.get("default", "openssl_conf") else {
            return out;
        };
        out.openssl_conf = Some(located(init));
        if !self.has_section(&init.value) {
            out.missing_section = Some(init.value.clone());
            return out;
        }
        let Some(ssl) = self.get(&init.value, "ssl_conf") else {
            return out;
        };
        out.ssl_conf = Some(located(ssl));
        if !self.has_section(&ssl.value) {
            out.missing_section = Some(ssl.value.clone());
            return out;
        }
        let Some(sys) = self.get(&ssl.value, "system_default") else {
            return out;
        };
        out.system_default = Some(located(sys));
        if !self.has_section(&sys.value) {
            out.missing_section = Some(sys.value.clone());
            return out;
        }
        out.min_protocol = self.get(&sys.value, "MinProtocol").map(located);
        out.max_protocol = self.get(&sys.value, "MaxProtocol").map(located);
        out.cipher_string = self.get(&sys.value, "CipherString").map(located);
        out
    }
}

/// Lines joined over trailing-backslash continuations, with the number of their first line.
fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (idx, raw) in text.lines().enumerate() {
        let n = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        if let Some(body) = raw.strip_suffix('\\') {
            acc.push_str(body);
            pending = Some((start, acc));
        } else {
            acc.push_str(raw);
            out.push((start, acc));
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out
}

/// Drops an OpenSSL comment (`#` outside quotes, not escaped).
fn strip_openssl_comment(line: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        if escaped {
            out.push(c);
            escaped = false;
            continue;
        }
        match (c, quote) {
            ('\\', _) => {
                escaped = true;
                out.push(c);
            }
            ('#', None) => break,
            ('"' | '\'', None) => {
                quote = Some(c);
                out.push(c);
            }
            (q, Some(open)) if q == open => {
                quote = None;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['"', '\''] {
        if let Some(inner) = s.strip_prefix(q).and_then(|r| r.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    s.to_string()
}

// ---------------------------------------------------------------------------------------------
// RHEL crypto-policies

/// The policy set in `/etc/crypto-policies/config` (`BASE[:SUBPOLICY...]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CryptoPolicy {
    pub value: String,
    pub base: String,
    pub subpolicies: Vec<String>,
    pub path: String,
    pub line: u32,
}

impl CryptoPolicy {
    /// The first non-comment line of the config file; `None` when the file sets nothing (then
    /// `update-crypto-policies` applies DEFAULT).
    pub fn parse(path: &str, text: &str) -> Option<CryptoPolicy> {
        for (idx, raw) in text.lines().enumerate() {
            let t = raw.split('#').next().unwrap_or("").trim();
            if t.is_empty() {
                continue;
            }
            let mut parts = t.split(':').map(str::trim);
            let base = parts.next().unwrap_or("").to_ascii_uppercase();
            let subpolicies = parts.filter(|p| !p.is_empty()).map(String::from).collect();
            return Some(CryptoPolicy {
                value: t.to_string(),
                base,
                subpolicies,
                path: path.to_string(),
                line: u32::try_from(idx + 1).unwrap_or(u32::MAX),
            });
        }
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Directives of nginx and Apache

/// A server directive: its name (nginx: as written; Apache: as written, compare case-insensitively),
/// arguments with quotes removed, where it is, and the blocks around it (`http > server`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerDirective {
    pub name: String,
    pub args: Vec<String>,
    pub path: String,
    pub line: u32,
    pub context: String,
}

/// A web server configuration with its includes expanded in place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerConfig {
    pub path: String,
    pub found: bool,
    pub directives: Vec<ServerDirective>,
    #[serde(flatten)]
    pub report: LoadReport,
}

impl ServerConfig {
    /// Directives named `name` (ASCII case-insensitive), in the order the server reads them.
    pub fn named(&self, name: &str) -> Vec<&ServerDirective> {
        self.directives
            .iter()
            .filter(|d| d.name.eq_ignore_ascii_case(name))
            .collect()
    }
}

/// One nginx token: a word (quotes removed) or one of `;`, `{`, `}`.
#[derive(Debug, PartialEq)]
enum NginxToken {
    Word(String),
    Semicolon,
    Open,
    Close,
}

fn nginx_tokens(text: &str) -> Vec<(u32, NginxToken)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line: u32 = 1;
    let mut word = String::new();
    let mut word_line = 1;
    let flush = |word: &mut String, out: &mut Vec<(u32, NginxToken)>, at: u32| {
        if !word.is_empty() {
            out.push((at, NginxToken::Word(std::mem::take(word))));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                flush(&mut word, &mut out, word_line);
                line = line.saturating_add(1);
            }
            c if c.is_whitespace() => flush(&mut word, &mut out, word_line),
            '#' if word.is_empty() => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line = line.saturating_add(1);
                        break;
                    }
                }
            }
            ';' | '{' | '}' => {
                flush(&mut word, &mut out, word_line);
                let tok = match c {
                    ';' => NginxToken::Semicolon,
                    '{' => NginxToken::Open,
                    _ => NginxToken::Close,
                };
                out.push((line, tok));
            }
            '"' | '\'' if word.is_empty() => {
                word_line = line;
                let mut quoted = String::new();
                while let Some(n) = chars.next() {
                    match n {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                if e == '\n' {
                                    line = line.saturating_add(1);
                                }
                                quoted.push(e);
                            }
                        }
                        q if q == c => break,
                        '\n' => {
                            line = line.saturating_add(1);
                            quoted.push(n);
                        }
                        _ => quoted.push(n),
                    }
                }
                out.push((word_line, NginxToken::Word(quoted)));
            }
            '\\' => {
                if word.is_empty() {
                    word_line = line;
                }
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            _ => {
                if word.is_empty() {
                    word_line = line;
                }
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut out, word_line);
    out
}

impl ServerConfig {
    /// Loads an nginx configuration: `include` globs are relative to the directory of the main
    /// file (nginx's conf prefix, `/etc/nginx` on Debian and Rocky) and read in place.
    pub fn load_nginx(target: &dyn Target, path: &str) -> ServerConfig {
        let mut cfg = ServerConfig {
            path: path.to_string(),
            ..ServerConfig::default()
        };
        match target.read_text(path) {
            Ok(text) => {
                cfg.found = true;
                let prefix = parent(path).to_string();
                let mut context = Vec::new();
                cfg.parse_nginx(target, &prefix, path, &text, &mut context, 0);
            }
            Err(crate::ReadError::NotFound) => {}
            Err(e) => cfg.report.unreadable.push(Unreadable::new(path, &e)),
        }
        cfg
    }

    fn parse_nginx(
        &mut self,
        target: &dyn Target,
        prefix: &str,
        path: &str,
        text: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        self.report.files.push(path.to_string());
        let base_depth = context.len();
        let mut words: Vec<String> = Vec::new();
        let mut start_line = 0;
        for (line, tok) in nginx_tokens(text) {
            match tok {
                NginxToken::Word(w) => {
                    if words.is_empty() {
                        start_line = line;
                    }
                    words.push(w);
                }
                NginxToken::Semicolon => {
                    let mut it = std::mem::take(&mut words).into_iter();
                    let Some(name) = it.next() else { continue };
                    let args: Vec<String> = it.collect();
                    if name == "include" {
                        for arg in &args {
                            self.nginx_include(
                                target, prefix, path, start_line, arg, context, depth,
                            );
                        }
                    }
                    self.directives.push(ServerDirective {
                        name,
                        args,
                        path: path.to_string(),
                        line: start_line,
                        context: context.join(" > "),
                    });
                }
                NginxToken::Open => {
                    let block = std::mem::take(&mut words);
                    let name = block.first().cloned().unwrap_or_default();
                    if name.is_empty() {
                        self.report.issue(path, line, "block without a name");
                    }
                    context.push(name);
                }
                NginxToken::Close => {
                    if !words.is_empty() {
                        self.report
                            .issue(path, start_line, "directive not terminated by `;`");
                        words.clear();
                    }
                    if context.len() > base_depth {
                        context.pop();
                    } else {
                        self.report.issue(path, line, "unexpected `}`");
                    }
                }
            }
        }
        if !words.is_empty() {
            self.report.issue(
                path,
                start_line,
                "directive not terminated by `;` at end of file",
            );
        }
        if context.len() > base_depth {
            self.report
                .issue(path, 0, "block not closed at end of file");
            context.truncate(base_depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn nginx_include(
        &mut self,
        target: &dyn Target,
        prefix: &str,
        from: &str,
        line: u32,
        pattern: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH || self.report.files.len() >= MAX_FILES {
            self.report
                .issue(from, line, format!("include {pattern}: nested too deeply"));
            return;
        }
        let files = target.glob(prefix, pattern);
        let has_magic = pattern.contains(['*', '?', '[']);
        if files.is_empty() && !has_magic {
            self.report.issue(
                from,
                line,
                format!("include {pattern}: no such file (nginx refuses to start)"),
            );
        }
        for file in files {
            match target.stat(&file) {
                Ok(st) if st.kind == FileKind::Directory => continue,
                _ => {}
            }
            if !self.report.may_read(from, line, &file) {
                break;
            }
            match target.read_text(&file) {
                Ok(text) => self.parse_nginx(target, prefix, &file, &text, context, depth + 1),
                Err(e) => self.report.unreadable.push(Unreadable::new(&file, &e)),
            }
        }
    }

    /// Loads an Apache httpd configuration: `Include`/`IncludeOptional` (globs, or a directory
    /// meaning every file in it) are relative to `server_root` and read in place.
    pub fn load_apache(target: &dyn Target, path: &str, server_root: &str) -> ServerConfig {
        let mut cfg = ServerConfig {
            path: path.to_string(),
            ..ServerConfig::default()
        };
        match target.read_text(path) {
            Ok(text) => {
                cfg.found = true;
                let mut root = server_root.to_string();
                let mut context = Vec::new();
                cfg.parse_apache(target, &mut root, path, &text, &mut context, 0);
            }
            Err(crate::ReadError::NotFound) => {}
            Err(e) => cfg.report.unreadable.push(Unreadable::new(path, &e)),
        }
        cfg
    }

    fn parse_apache(
        &mut self,
        target: &dyn Target,
        server_root: &mut String,
        path: &str,
        text: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        self.report.files.push(path.to_string());
        let base_depth = context.len();
        for (line, logical) in logical_lines(text) {
            let t = logical.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(rest) = t.strip_prefix("</") {
                let name = rest.trim_end_matches('>').trim();
                if context.len() > base_depth {
                    context.pop();
                } else {
                    self.report
                        .issue(path, line, format!("</{name}> without its opening section"));
                }
                continue;
            }
            if let Some(rest) = t.strip_prefix('<') {
                let inner = rest.trim_end().trim_end_matches('>');
                context.push(inner.trim().to_string());
                continue;
            }
            let words = apache_words(t);
            let mut it = words.into_iter();
            let Some(name) = it.next() else { continue };
            let args: Vec<String> = it.collect();
            if name.eq_ignore_ascii_case("ServerRoot")
                && let Some(r) = args.first()
            {
                *server_root = r.clone();
            }
            let optional = name.eq_ignore_ascii_case("IncludeOptional");
            if (optional || name.eq_ignore_ascii_case("Include"))
                && let Some(pattern) = args.first()
            {
                let pattern = pattern.clone();
                self.apache_include(
                    target,
                    server_root,
                    path,
                    line,
                    &pattern,
                    optional,
                    context,
                    depth,
                );
            }
            self.directives.push(ServerDirective {
                name,
                args,
                path: path.to_string(),
                line,
                context: context.join(" > "),
            });
        }
        if context.len() > base_depth {
            self.report
                .issue(path, 0, "section not closed at end of file");
            context.truncate(base_depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apache_include(
        &mut self,
        target: &dyn Target,
        server_root: &mut String,
        from: &str,
        line: u32,
        pattern: &str,
        optional: bool,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH || self.report.files.len() >= MAX_FILES {
            self.report
                .issue(from, line, format!("Include {pattern}: nested too deeply"));
            return;
        }
        let root = server_root.clone();
        let mut files = Vec::new();
        for found in target.glob(&root, pattern) {
            match target.stat(&found) {
                Ok(st) if st.kind == FileKind::Directory => {
                    if let Ok(entries) = target.list_dir(&found) {
                        files.extend(
                            entries
                                .into_iter()
                                .filter(|e| e.kind != FileKind::Directory)
                                .map(|e| join(&found, &e.name)),
                        );
                    }
                }
                _ => files.push(found),
            }
        }
        let has_magic = pattern.contains(['*', '?', '[']);
        if files.is_empty() && !optional && !has_magic {
            self.report.issue(
                from,
                line,
                format!("Include {pattern}: no such file (httpd refuses to start)"),
            );
        }
        for file in files {
            if !self.report.may_read(from, line, &file) {
                break;
            }
            match target.read_text(&file) {
                Ok(text) => {
                    self.parse_apache(target, server_root, &file, &text, context, depth + 1)
                }
                Err(e) => self.report.unreadable.push(Unreadable::new(&file, &e)),
            }
        }
    }
}

/// Apache's argument splitting: whitespace-separated, double or single quotes group, `\` escapes.
fn apache_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => cur.push(c),
            ('"' | '\'', None) if !in_word => {
                quote = Some(c);
                in_word = true;
            }
            (w, None) if w.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// The protocols an explicit protocol list enables, and the tokens that were not understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolSet {
    pub enabled: Vec<String>,
    pub unknown: Vec<String>,
}

/// nginx `ssl_protocols`: exactly the protocols listed.
pub fn nginx_protocols(args: &[String]) -> ProtocolSet {
    let mut set = BTreeSet::new();
    let mut unknown = Vec::new();
    for a in args {
        match canonical_protocol(a) {
            Some(p) => {
                set.insert(p);
            }
            None => unknown.push(a.clone()),
        }
    }
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}

/// Apache `SSLProtocol`: `+P` adds, `-P` removes, a bare `P` or `all` replaces the set; `all` is
/// `+SSLv3 +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3` (mod_ssl docs; SSLv3 only where OpenSSL has it).
pub fn apache_protocols(args: &[String]) -> ProtocolSet {
    let all: BTreeSet<&'static str> = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        .into_iter()
        .collect();
    let mut set = BTreeSet::new();
    let mut unknown = Vec::new();
    for a in args {
        let (action, name) = match a.chars().next() {
            Some('+') => ('+', a.get(1..).unwrap_or("")),
            Some('-') => ('-', a.get(1..).unwrap_or("")),
            _ => ('=', a.as_str()),
        };
        let these: BTreeSet<&'static str> = if name.eq_ignore_ascii_case("all") {
            all.clone()
        } else if let Some(p) = canonical_protocol(name) {
            std::iter::once(p).collect()
        } else {
            unknown.push(a.clone());
            continue;
        };
        match action {
            '+' => set.extend(these),
            '-' => set.retain(|p| !these.contains(p)),
            _ => set = these,
        }
    }
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}

/// Postfix `*_tls_protocols` (postconf(5)): names to include, `!name` to exclude, and since
/// Postfix 3.6 `>=V`/`<=V` bounds; separators are commas, colons and blanks; an empty value
/// enables every protocol the library supports. SSLv2 is never offered by current OpenSSL.
pub fn postfix_protocols(value: &str) -> ProtocolSet {
    let mut included = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    let mut min = 0usize;
    let mut max = PROTOCOLS.len().saturating_sub(1);
    let mut unknown = Vec::new();
    for tok in value
        .split(|c: char| c == ',' || c == ':' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(v) = tok.strip_prefix(">=") {
            match canonical_protocol(v) {
                Some(p) => min = min.max(protocol_index(p)),
                None => unknown.push(tok.to_string()),
            }
        } else if let Some(v) = tok.strip_prefix("<=") {
            match canonical_protocol(v) {
                Some(p) => max = max.min(protocol_index(p)),
                None => unknown.push(tok.to_string()),
            }
        } else if let Some(v) = tok.strip_prefix('!') {
            match canonical_protocol(v) {
                Some(p) => {
                    excluded.insert(p);
                }
                None => unknown.push(tok.to_string()),
            }
        } else {
            match canonical_protocol(tok) {
                Some(p) => {
                    included.insert(p);
                }
                None => unknown.push(tok.to_string()),
            }
        }
    }
    let start: BTreeSet<&'static str> = if included.is_empty() {
        PROTOCOLS
            .iter()
            .copied()
            .filter(|p| *p != "SSLv2")
            .collect()
    } else {
        included
    };
    let set: BTreeSet<&'static str> = start
        .into_iter()
        .filter(|p| !excluded.contains(p))
        .filter(|p| {
            let i = protocol_index(p);
            i >= min && i <= max
        })
        .collect();
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}

// ---------------------------------------------------------------------------------------------
// Postfix main.cf

/// `/etc/postfix/main.cf` (postconf(5)): `name = value`, a line starting with whitespace continues
/// the previous one, `#` in the first column starts a comment, the last setting of a name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostfixMainCf {
    pub path: String,
    pub settings: Vec<crate::keyvalue::Setting>,
    pub issues: Vec<ParseIssue>,
}

impl PostfixMainCf {
    pub fn parse(path: &str, text: &str) -> PostfixMainCf {
        let mut cfg = PostfixMainCf {
            path: path.to_string(),
            ..PostfixMainCf::default()
        };
        for (idx, raw) in text.lines().enumerate() {
            let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                match cfg.settings.last_mut() {
                    Some(prev) => {
                        let v = prev.value.get_or_insert_with(String::new);
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(trimmed);
                    }
                    None => cfg.issues.push(ParseIssue {
                        path: path.to_string(),
                        line,
                        message: "continuation line without a setting before it".into(),
                    }),
                }
                continue;
            }
            let Some(eq) = raw.find('=') else {
                cfg.issues.push(ParseIssue {
                    path: path.to_string(),
                    line,
                    message: format!("line is not `name = value`: {trimmed}"),
                });
                continue;
            };
            cfg.settings.push(crate::keyvalue::Setting {
                name: raw.get(..eq).unwrap_or("").trim().to_string(),
                value: Some(raw.get(eq + 1..).unwrap_or("").trim().to_string()),
                path: path.to_string(),
                line,
            });
        }
        cfg
    }

    /// The setting in force for `name` (the last one).
    pub fn get(&self, name: &str) -> Option<&crate::keyvalue::Setting> {
        self.settings.iter().rev().find(|s| s.name == name)
    }
}

// ---------------------------------------------------------------------------------------------
// PEM Diffie-Hellman parameters

/// What a PEM file of DH parameters holds: the prime's size in bits and the generator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DhParams {
    pub prime_bits: u32,
    pub generator: Option<u64>,
}

/// PEM labels of DH parameters (PKCS #3 and X9.42).
const DH_LABELS: &[&str] = &["DH PARAMETERS", "X9.42 DH PARAMETERS"];

/// Parses the first DH PARAMETERS block of a PEM file: base64 → DER `SEQUENCE { INTEGER p,
/// INTEGER g, ... }`. `Err` says why it is not one.
pub fn parse_dh_pem(text: &str) -> Result<DhParams, String> {
    let mut body = None;
    for label in DH_LABELS {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(b) = text.find(&begin) {
            let after = text.get(b + begin.len()..).unwrap_or("");
            match after.find(&end) {
                Some(e) => body = Some(after.get(..e).unwrap_or("")),
                None => return Err(format!("`{begin}` without `{end}`")),
            }
            break;
        }
    }
    let body = body.ok_or("no `-----BEGIN DH PARAMETERS-----` block")?;
    let der = base64_decode(body)?;
    parse_dh_der(&der)
}

/// The X.509 certificates of a PEM file (a CA bundle): how many `CERTIFICATE` blocks decode to a
/// DER `SEQUENCE`, or why the text holds none (what rsyslog's TLS drivers need in a CA file).
pub fn pem_certificates(text: &str) -> Result<usize, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut count = 0;
    let mut rest = text;
    while let Some(b) = rest.find(BEGIN) {
        let after = rest.get(b + BEGIN.len()..).unwrap_or("");
        let e = after
            .find(END)
            .ok_or_else(|| format!("`{BEGIN}` without `{END}`"))?;
        let der = base64_decode(after.get(..e).unwrap_or(""))?;
        let (tag, _, _) = der_tlv(&der)?;
        if tag != 0x30 {
            return Err("a CERTIFICATE block that is not a DER SEQUENCE".into());
        }
        count += 1;
        rest = after.get(e + END.len()..).unwrap_or("");
    }
    if count == 0 {
        return Err(format!("no `{BEGIN}` block"));
    }
    Ok(count)
}

fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.chars() {
        let v = match c {
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            '=' => break,
            c if c.is_whitespace() => continue,
            other => return Err(format!("invalid base64 character {other:?}")),
        };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    Ok(out)
}

/// A DER tag-length-value: the tag, its contents and the bytes after it.
fn der_tlv(input: &[u8]) -> Result<(u8, &[u8], &[u8]), String> {
    let (&tag, rest) = input.split_first().ok_or("truncated DER (no tag)")?;
    let (&first, rest) = rest.split_first().ok_or("truncated DER (no length)")?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err("unsupported DER length form".into());
        }
        let bytes = rest.get(..n).ok_or("truncated DER length")?;
        let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
        (len, rest.get(n..).unwrap_or(&[]))
    };
    let content = rest.get(..len).ok_or("DER length runs past the end")?;
    Ok((tag, content, rest.get(len..).unwrap_or(&[])))
}

fn parse_dh_der(der: &[u8]) -> Result<DhParams, String> {
    let (tag, seq, _) = der_tlv(der)?;
    if tag != 0x30 {
        return Err(format!(
            "DER does not start with a SEQUENCE (tag {tag:#04x})"
        ));
    }
    let (tag, p, rest) = der_tlv(seq)?;
    if tag != 0x02 {
        return Err("the first element is not an INTEGER (the prime)".into());
    }
    let generator = match der_tlv(rest) {
        Ok((0x02, g, _)) if g.len() <= 8 => {
            Some(g.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
        }
        _ => None,
    };
    let significant: &[u8] = match p.iter().position(|b| *b != 0) {
        Some(i) => p.get(i..).unwrap_or(&[]),
        None => &[],
    };
    let prime_bits = match significant.first() {
        Some(top) => {
            let bytes = u32::try_from(significant.len()).unwrap_or(u32::MAX / 8);
            bytes.saturating_mul(8) - top.leading_zeros()
        }
        None => return Err("the prime is zero".into()),
    };
    Ok(DhParams {
        prime_bits,
        generator,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tree;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/tests/fixtures");

    fn fixture(rel: &str) -> String {
        std::fs::read_to_string(format!("{FIXTURES}/{rel}"))
            .unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
    }

    #[test]
    fn debian_openssl_cnf_has_no_system_default_section() {
        let text = fixture("tls-debian-default/root/etc/ssl/openssl.cnf");
        let (_root, t) = tree(&[]);
        let cfg = OpensslConfig::parse_text("/etc/ssl/openssl.cnf", &text, &t);
        let sd = cfg.system_default();
        let init = sd.openssl_conf.expect("openssl_conf");
        assert_eq!(init.value, "openssl_init");
        assert_eq!(init.line, 17);
        assert!(sd.ssl_conf.is_none());
        assert!(
            sd.missing_section.is_none(),
            "[openssl_init] holds only comments but exists"
        );
        assert!(cfg.sections.contains(&"openssl_init".to_string()));
        assert!(sd.min_protocol.is_none());
        assert!(cfg.get("CA_default", "default_md").is_some());
    }

    #[test]
    fn system_default_chain_through_include() {
        let (_root, t) = tree(&[
            (
                "/etc/ssl/openssl.cnf",
                "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n.include /etc/ssl/openssl.cnf.d\n",
            ),
            (
                "/etc/ssl/openssl.cnf.d/50-tls.cnf",
                "[ssl_sect]\nsystem_default = sys # comment\n[sys]\nMinProtocol = TLSv1\nMinProtocol = \"TLSv1.2\"\nCipherString = DEFAULT:@SECLEVEL=2\n",
            ),
            ("/etc/ssl/openssl.cnf.d/README", "not read"),
        ]);
        let cfg = OpensslConfig::load(&t, "/etc/ssl/openssl.cnf");
        assert_eq!(cfg.report.files.len(), 2);
        let sd = cfg.system_default();
        let min = sd.min_protocol.expect("MinProtocol");
        assert_eq!(min.value, "TLSv1.2");
        assert_eq!(min.path, "/etc/ssl/openssl.cnf.d/50-tls.cnf");
        assert_eq!(min.line, 5);
        assert_eq!(sd.system_default.map(|s| s.value).as_deref(), Some("sys"));
    }

    #[test]
    fn chain_to_missing_section_is_reported() {
        let (_root, t) = tree(&[]);
        let cfg = OpensslConfig::parse_text("/x", "openssl_conf = nowhere\n", &t);
        assert_eq!(
            cfg.system_default().missing_section.as_deref(),
            Some("nowhere")
        );
    }

    #[test]
    fn crypto_policy_with_subpolicy() {
        let p = CryptoPolicy::parse("/etc/crypto-policies/config", "# comment\n\nDEFAULT:SHA1\n")
            .expect("policy");
        assert_eq!(p.base, "DEFAULT");
        assert_eq!(p.subpolicies, vec!["SHA1"]);
        assert_eq!(p.line, 3);
        assert!(CryptoPolicy::parse("/c", "# nothing\n").is_none());
    }

    #[test]
    fn debian_nginx_conf_enables_tlsv1() {
        let (_root, t) = tree(&[
            (
                "/etc/nginx/nginx.conf",
                &fixture("tls-nginx-tlsv1/root/etc/nginx/nginx.conf"),
            ),
            (
                "/etc/nginx/mime.types",
                &fixture("tls-nginx-tlsv1/root/etc/nginx/mime.types"),
            ),
        ]);
        let cfg = ServerConfig::load_nginx(&t, "/etc/nginx/nginx.conf");
        assert!(cfg.report.issues.is_empty(), "{:?}", cfg.report.issues);
        let p = cfg.named("ssl_protocols");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 33);
        assert_eq!(p[0].context, "http");
        assert_eq!(
            nginx_protocols(&p[0].args).enabled,
            vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
    }

    #[test]
    fn nginx_include_glob_and_server_block() {
        let (_root, t) = tree(&[
            (
                "/etc/nginx/nginx.conf",
                "http {\n  include /etc/nginx/sites-enabled/*;\n}\n",
            ),
            (
                "/etc/nginx/sites-enabled/phi",
                "server {\n listen 443 ssl;\n ssl_protocols \"TLSv1.2\" TLSv1.3;\n ssl_dhparam dh.pem; # x\n}\n",
            ),
        ]);
        let cfg = ServerConfig::load_nginx(&t, "/etc/nginx/nginx.conf");
        let d = cfg.named("ssl_dhparam");
        assert_eq!(d[0].args, vec!["dh.pem"]);
        assert_eq!(d[0].context, "http > server");
        assert_eq!(d[0].line, 4);
        let p = cfg.named("ssl_protocols");
        assert_eq!(
            nginx_protocols(&p[0].args).enabled,
            vec!["TLSv1.2", "TLSv1.3"]
        );
    }

    #[test]
    fn debian_apache_ssl_conf() {
        let (_root, t) = tree(&[
            (
                "/etc/apache2/apache2.conf",
                &fixture("tls-apache-sslv3/root/etc/apache2/apache2.conf"),
            ),
            (
                "/etc/apache2/mods-enabled/ssl.conf",
                &fixture("tls-apache-sslv3/root/etc/apache2/mods-available/ssl.conf"),
            ),
            (
                "/etc/apache2/mods-enabled/ssl.load",
                "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n",
            ),
        ]);
        let cfg = ServerConfig::load_apache(&t, "/etc/apache2/apache2.conf", "/etc/apache2");
        assert!(
            cfg.report
                .files
                .contains(&"/etc/apache2/mods-enabled/ssl.conf".to_string())
        );
        assert_eq!(cfg.named("LoadModule").len(), 1);
        let p = cfg.named("SSLProtocol");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].line, 71);
        assert_eq!(p[0].context, "");
        let vhost = ServerConfig::load_apache(
            &tree(&[("/etc/apache2/apache2.conf", "<IfModule mod_ssl.c>\n<VirtualHost *:443>\nSSLProtocol \\\n  -all +TLSv1.2\n</VirtualHost>\n</IfModule>\n")]).1,
            "/etc/apache2/apache2.conf",
            "/etc/apache2",
        );
        let d = vhost.named("sslprotocol");
        assert_eq!(d[0].context, "IfModule mod_ssl.c > VirtualHost *:443");
        assert_eq!(d[0].args, vec!["-all", "+TLSv1.2"]);
    }

    #[test]
    fn apache_protocol_arithmetic() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            apache_protocols(&s(&["all", "-SSLv3"])).enabled,
            vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            apache_protocols(&s(&["-all", "+TLSv1.2", "+TLSv1.3"])).enabled,
            vec!["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(apache_protocols(&s(&["TLSv1.2"])).enabled, vec!["TLSv1.2"]);
        assert_eq!(apache_protocols(&s(&["+bogus"])).unknown, vec!["+bogus"]);
    }

    #[test]
    fn postfix_protocol_syntaxes() {
        assert_eq!(
            postfix_protocols("!SSLv2, !SSLv3").enabled,
            vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            postfix_protocols(">=TLSv1.2").enabled,
            vec!["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            postfix_protocols("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1").enabled,
            vec!["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(
            postfix_protocols("TLSv1.2 TLSv1.3").enabled,
            vec!["TLSv1.2", "TLSv1.3"]
        );
        assert_eq!(postfix_protocols("").enabled.len(), 5);
    }

    #[test]
    fn postfix_main_cf_continuation_and_last_wins() {
        let text = fixture("tls-postfix-weak/root/etc/postfix/main.cf");
        let cfg = PostfixMainCf::parse("/etc/postfix/main.cf", &text);
        assert!(cfg.get("smtpd_banner").is_some());
        let c = PostfixMainCf::parse("/m", "a = 1\n  2\n# c\na = 3\n");
        assert_eq!(c.get("a").and_then(|s| s.value.as_deref()), Some("3"));
        assert_eq!(
            c.settings.first().and_then(|s| s.value.as_deref()),
            Some("1 2")
        );
    }

    #[test]
    fn real_dh_parameters() {
        let weak =
            parse_dh_pem(&fixture("tls-dhparam-1024/root/etc/ssl/dhparam.pem")).expect("1024");
        assert_eq!(weak.prime_bits, 1024);
        assert_eq!(weak.generator, Some(2));
        let strong =
            parse_dh_pem(&fixture("tls-nginx-hardened/root/etc/nginx/dhparam.pem")).expect("2048");
        assert_eq!(strong.prime_bits, 2048);
        assert!(
            parse_dh_pem("-----BEGIN DH PARAMETERS-----\n!!!\n-----END DH PARAMETERS-----")
                .is_err()
        );
        assert!(parse_dh_pem("nothing").is_err());
    }

    #[test]
    fn garbage_never_panics() {
        let (_root, t) = tree(&[]);
        let mut seed: u32 = 12345;
        let alphabet: &[u8] =
            b"[]{};=\"'\\#!<>/ \n\tabcMinProtocol.include-----BEGIN DH PARAMETERS0\xff";
        for len in [0usize, 1, 7, 64, 400] {
            for _ in 0..60 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        let i = (seed >> 16) as usize % alphabet.len();
                        alphabet.get(i).copied().unwrap_or(b'a')
                    })
                    .collect();
                let text = String::from_utf8_lossy(&bytes);
                let _ = OpensslConfig::parse_text("/g", &text, &t).system_default();
                let _ = CryptoPolicy::parse("/g", &text);
                let _ = nginx_tokens(&text);
                let _ = apache_words(&text);
                let _ = postfix_protocols(&text);
                let _ = PostfixMainCf::parse("/g", &text);
                let _ = parse_dh_pem(&text);
                let _ = parse_dh_der(&bytes);
            }
        }
        let (_r, t2) = tree(&[
            ("/etc/nginx/nginx.conf", "}}} { include x; \"unterminated"),
            ("/etc/apache2/a.conf", "</x>\n<y\nInclude a.conf\n"),
        ]);
        let _ = ServerConfig::load_nginx(&t2, "/etc/nginx/nginx.conf");
        let cfg = ServerConfig::load_apache(&t2, "/etc/apache2/a.conf", "/etc/apache2");
        assert!(!cfg.report.issues.is_empty());
    }
}
