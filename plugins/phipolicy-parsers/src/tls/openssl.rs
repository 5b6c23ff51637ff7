//! OpenSSL's `openssl.cnf`: `.include`, sections, and the `openssl_conf` → `ssl_conf` →
//! `system_default` chain that sets the library-wide protocol floor.

use super::*;

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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct OpensslSystemDefault {
    /// `openssl_conf = SECTION` of the default section: the start of the chain.
    pub openssl_conf: Option<Located<String>>,
    /// `ssl_conf = SECTION` of that section.
    pub ssl_conf: Option<Located<String>>,
    /// `system_default = SECTION` of the `ssl_conf` section.
    pub system_default: Option<Located<String>>,
    /// `MinProtocol` of the `system_default` section.
    pub min_protocol: Option<Located<String>>,
    /// `MaxProtocol` of the `system_default` section.
    pub max_protocol: Option<Located<String>>,
    /// `CipherString` of the `system_default` section.
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
            Err(phipolicy_sdk::ReadError::NotFound) => {}
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
            Err(phipolicy_sdk::ReadError::NotFound) => {
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
