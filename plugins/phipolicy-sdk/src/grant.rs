//! Which paths a plugin may read: the rule the engine enforces, shared with
//! [`crate::testing::DirTarget`] so a native test refuses exactly what the engine refuses.
//!
//! A manifest's `reads` are globs (`*` within a component, `**` across them, `{param}` expanded
//! from a string or list parameter by [`expand_reads`]); a pattern ending in `/**` also grants the
//! directory itself; the directory above a pattern's first wildcard may be listed (names only).
//! Beyond the manifest, a plugin may read a path that a line of a file it has read names
//! ([`crate::referenced`]); [`ReadRules`] keeps both and decides.
//!
//! ```
//! use phipolicy_sdk::grant::{Grant, ReadRules};
//!
//! let grant = Grant::new(&["/etc/ssh/**".into(), "/var/log/risk-*.txt".into()]).unwrap();
//! assert!(grant.allows("/etc/ssh/sshd_config.d/50-cloud-init.conf"));
//! assert!(!grant.allows("/etc/shadow"));
//! assert!(grant.allows_listing("/var/log") && !grant.allows("/var/log"));
//!
//! let mut rules = ReadRules::new(grant);
//! assert!(rules.admit("/etc/ssh/../shadow").is_err());
//! rules.note_read("/etc/ssh/sshd_config");
//! rules
//!     .cite("/srv/banner.txt", "/etc/ssh/sshd_config", 2, Some("Banner /srv/banner.txt"))
//!     .unwrap();
//! assert_eq!(rules.admit("/srv/banner.txt").unwrap(), "/srv/banner.txt");
//! ```

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::path::normalize;
use crate::referenced::line_names_path;

/// A read pattern that does not compile (the message names the pattern and the fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PatternError {}

impl From<globset::Error> for PatternError {
    fn from(e: globset::Error) -> Self {
        PatternError(e.to_string())
    }
}

/// The paths one plugin may read: the globs its manifest declared (after parameter expansion).
#[derive(Debug, Clone)]
pub struct Grant {
    patterns: Vec<String>,
    set: globset::GlobSet,
    /// Directories that hold a pattern's first wildcard component: they may be listed (names
    /// only) so the plugin can expand the glob, but nothing else in them is granted.
    listable: Vec<String>,
}

impl Grant {
    /// Compiles declared globs. `*` stays within a component, `**` crosses them; a pattern ending
    /// in `/**` also grants the directory itself.
    pub fn new(patterns: &[String]) -> Result<Grant, PatternError> {
        let mut builder = globset::GlobSetBuilder::new();
        for p in patterns {
            let glob = globset::GlobBuilder::new(p)
                .literal_separator(true)
                .backslash_escape(true)
                .build()?;
            builder.add(glob);
            if let Some(base) = p.strip_suffix("/**")
                && !base.is_empty()
            {
                builder.add(
                    globset::GlobBuilder::new(base)
                        .literal_separator(true)
                        .build()?,
                );
            }
        }
        let listable = patterns.iter().filter_map(|p| glob_parent(p)).collect();
        Ok(Grant {
            patterns: patterns.to_vec(),
            set: builder.build()?,
            listable,
        })
    }

    /// Whether the directory `path` may be listed: granted, or the parent of a wildcard.
    pub fn allows_listing(&self, path: &str) -> bool {
        self.allows(path) || normalize(path).is_some_and(|p| self.listable.contains(&p))
    }

    /// The patterns as declared.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `path` is declared literally (a pattern without wildcards naming exactly it): the
    /// only way a plugin may read secret material.
    pub fn declares_exactly(&self, path: &str) -> bool {
        self.patterns
            .iter()
            .any(|p| !p.contains(['*', '?', '[', '{']) && normalize(p).as_deref() == Some(path))
    }

    /// Whether the in-target `path` is covered (after lexical normalisation).
    pub fn allows(&self, path: &str) -> bool {
        match normalize(path) {
            Some(p) => self.set.is_match(p),
            None => false,
        }
    }
}

/// The directory above a pattern's first wildcard component (`/var/log/x-*.txt` -> `/var/log`),
/// if it has one.
fn glob_parent(pattern: &str) -> Option<String> {
    let mut literal = Vec::new();
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        if comp.contains(['*', '?', '[', '{']) {
            return normalize(&format!("/{}", literal.join("/")));
        }
        literal.push(comp.replace('\\', ""));
    }
    None
}

/// Expands `{param}` in a plugin's read patterns with string or list parameters. Values are
/// paths taken literally (glob characters escaped), except those of `*_glob` parameters; values
/// that are not absolute expand to nothing.
///
/// ```
/// let params = serde_json::json!({"phi_paths": ["/srv/phi[1]/"]});
/// let reads = phipolicy_sdk::grant::expand_reads(
///     &["{phi_paths}/**".into()],
///     params.as_object().unwrap(),
/// );
/// assert_eq!(reads.unwrap(), vec!["/srv/phi\\[1\\]/**"]);
/// ```
pub fn expand_reads(
    patterns: &[String],
    params: &Map<String, Value>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for p in patterns {
        let Some(start) = p.find('{') else {
            out.push(p.clone());
            continue;
        };
        let end = p[start..]
            .find('}')
            .map(|e| e + start)
            .ok_or_else(|| format!("unclosed `{{` in read pattern {p:?}"))?;
        let name = &p[start + 1..end];
        let values: Vec<String> = match params.get(name) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => {
                return Err(format!(
                    "read pattern {p:?} names `{name}`, which is not a string or list parameter"
                ));
            }
        };
        for v in values {
            if !v.starts_with('/') {
                continue;
            }
            let value = v.trim_end_matches('/');
            let expanded = format!("{}{}{}", &p[..start], value, &p[end + 1..]);
            // Parameter values are paths taken literally, except `*_glob` parameters. The
            // expansion is not expanded again (a value containing `{x}` stays literal).
            out.push(if name.ends_with("_glob") {
                expanded
            } else {
                escape_glob_literal_prefix(&expanded, start, value.len())
            });
        }
    }
    Ok(out)
}

/// Escapes glob metacharacters in the `len` bytes of `s` starting at `start` (a parameter value).
fn escape_glob_literal_prefix(s: &str, start: usize, len: usize) -> String {
    let (head, rest) = s.split_at(start);
    let value_len = len.min(rest.len());
    let (value, tail) = rest.split_at(value_len);
    let mut escaped = String::with_capacity(s.len() + 8);
    escaped.push_str(head);
    for c in value.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push_str(tail);
    escaped
}

/// The grant pattern of a cited path: a literal path is granted as that path only (its `[` and
/// `]` are file-name characters); a cited glob stays a glob with glob(3)'s syntax (no `{a,b}`).
pub fn glob_escape_if_literal(path: &str) -> String {
    let literal = !path.contains(['*', '?']);
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '{' | '}') || (literal && matches!(c, '[' | ']' | '\\')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path is not absolute (or a citation names a relative path).
    InvalidPath(String),
    /// Neither declared nor cited; the text names the path (and, for a citation, why).
    Undeclared(String),
}

/// One referenced read granted by a citation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citation {
    /// The cited path or glob (normalised).
    pub path: String,
    /// `file:line` of the line naming it.
    pub granted_by: String,
}

/// The read rules of one plugin run: the declared grant, the citations accepted so far and the
/// files read (a plugin may cite only a file it has read).
#[derive(Debug, Clone)]
pub struct ReadRules {
    declared: Grant,
    cited: Grant,
    read_sources: HashSet<String>,
    citations: Vec<Citation>,
}

impl ReadRules {
    /// Rules with `declared` as the manifest's grant and nothing cited yet.
    pub fn new(declared: Grant) -> Self {
        ReadRules {
            declared,
            cited: Grant::new(&[]).expect("the empty grant compiles"),
            read_sources: HashSet::new(),
            citations: Vec::new(),
        }
    }

    /// The declared grant.
    pub fn declared(&self) -> &Grant {
        &self.declared
    }

    /// The citations accepted, in order.
    pub fn citations(&self) -> &[Citation] {
        &self.citations
    }

    /// Whether the normalised in-target `path` is granted: declared, or cited.
    pub fn granted(&self, path: &str) -> bool {
        self.declared.allows(path) || self.cited.allows(path)
    }

    /// Checks a read, stat or readlink of `path`; returns it normalised.
    pub fn admit(&self, path: &str) -> Result<String, Refusal> {
        let Some(norm) = normalize(path) else {
            return Err(Refusal::InvalidPath(format!("{path:?} is not absolute")));
        };
        if !self.granted(&norm) {
            return Err(Refusal::Undeclared(norm));
        }
        Ok(norm)
    }

    /// Whether the directory `path` (normalised) may be listed without being granted itself: it
    /// holds the first wildcard of a declared or cited glob.
    pub fn listing_only(&self, norm: &str) -> bool {
        !self.granted(norm)
            && (self.declared.allows_listing(norm) || self.cited.allows_listing(norm))
    }

    /// Checks a listing of `path`: granted, or the parent of a granted glob's wildcard.
    pub fn admit_listing(&self, path: &str) -> Result<String, Refusal> {
        match normalize(path) {
            Some(norm) if self.listing_only(&norm) => Ok(norm),
            _ => self.admit(path),
        }
    }

    /// Records that the file `path` (as requested and as resolved) was served: it may be cited.
    pub fn note_read(&mut self, path: &str) {
        self.read_sources.insert(path.to_string());
    }

    /// Accepts a citation of `path` by line `line` (1-based) of `file`, whose text is `text`
    /// (`None`: the file has no such line). Already granted paths are accepted as they are;
    /// otherwise `file` must have been read and the line must name `path` ([`line_names_path`]).
    /// Returns the normalised cited path when a new grant was added.
    pub fn cite(
        &mut self,
        path: &str,
        file: &str,
        line: u32,
        text: Option<&str>,
    ) -> Result<Option<String>, Refusal> {
        let (path, file) = self.citation_paths(path, file)?;
        if self.granted(&path) {
            return Ok(None);
        }
        self.check_source(&path, &file)?;
        self.check_line(&path, &file, line, text)?;
        self.add_citation(&path, &file, line)?;
        Ok(Some(path))
    }

    /// Refuses a citation whose line `text` (line `line` of `file`) does not name `path`.
    pub fn check_line(
        &self,
        path: &str,
        file: &str,
        line: u32,
        text: Option<&str>,
    ) -> Result<(), Refusal> {
        if text.is_some_and(|l| line_names_path(l, file, path)) {
            Ok(())
        } else {
            Err(Refusal::Undeclared(format!(
                "{path} (not named by {file}:{line})"
            )))
        }
    }

    /// Normalises a citation's path and file (both must be absolute).
    pub fn citation_paths(&self, path: &str, file: &str) -> Result<(String, String), Refusal> {
        match (normalize(path), normalize(file)) {
            (Some(p), Some(f)) => Ok((p, f)),
            _ => Err(Refusal::InvalidPath(
                "a citation names absolute paths".into(),
            )),
        }
    }

    /// Refuses a citation of `path` by `file` when this run has not read `file`.
    pub fn check_source(&self, path: &str, file: &str) -> Result<(), Refusal> {
        if self.read_sources.contains(file) {
            Ok(())
        } else {
            Err(Refusal::Undeclared(format!(
                "{path} (cites {file}, which this plugin has not read)"
            )))
        }
    }

    /// Grants the checked citation of `path` by line `line` of `file`.
    pub fn add_citation(&mut self, path: &str, file: &str, line: u32) -> Result<(), Refusal> {
        let mut patterns = self.cited.patterns().to_vec();
        patterns.push(glob_escape_if_literal(path));
        self.cited = Grant::new(&patterns)
            .map_err(|e| Refusal::InvalidPath(format!("cited pattern {path:?}: {e}")))?;
        self.citations.push(Citation {
            path: path.to_string(),
            granted_by: format!("{file}:{line}"),
        });
        Ok(())
    }

    /// Whether `path` is now granted by a citation (a refusal recorded before it was not, in the
    /// end, refused).
    pub fn cited_allows(&self, path: &str) -> bool {
        self.cited.allows(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants() {
        let g =
            Grant::new(&["/etc/ssh/**".to_string(), "/etc/profile.d/*.sh".to_string()]).unwrap();
        assert!(g.allows("/etc/ssh"));
        assert!(g.allows("/etc/ssh/sshd_config.d/50-cloud-init.conf"));
        assert!(g.allows("/etc/profile.d/tmout.sh"));
        assert!(!g.allows("/etc/profile.d/sub/tmout.sh"));
        assert!(!g.allows("/etc/shadow"));
        assert!(!g.allows("/etc/ssh/../shadow"));
        assert!(!g.allows("relative"));
        let g = Grant::new(&["/var/log/hipaa-risk-assessment-*.txt".to_string()]).unwrap();
        assert!(g.allows_listing("/var/log"));
        assert!(!g.allows("/var/log"));
        assert!(!g.allows("/var/log/syslog"));
        assert!(g.allows("/var/log/hipaa-risk-assessment-2026.txt"));
        assert!(!g.allows_listing("/var"));
    }

    #[test]
    fn reads_expand_parameters() {
        let params: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "phi_paths": ["/var/data/phi", "/srv/phi[1]/"],
            "incident_script": "/usr/local/bin/ir.sh",
            "phi_group": "x"
        }))
        .unwrap();
        let got = expand_reads(
            &[
                "/etc/ssh/**".into(),
                "{phi_paths}/**".into(),
                "{incident_script}".into(),
            ],
            &params,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                "/etc/ssh/**",
                "/var/data/phi/**",
                "/srv/phi\\[1\\]/**",
                "/usr/local/bin/ir.sh"
            ]
        );
        assert!(expand_reads(&["{nope}/**".into()], &params).is_err());
        let params: Map<String, Value> = serde_json::from_value(
            serde_json::json!({"risk_evidence_glob": "/var/log/risk-*.txt"}),
        )
        .unwrap();
        assert_eq!(
            expand_reads(&["{risk_evidence_glob}".into()], &params).unwrap(),
            vec!["/var/log/risk-*.txt"]
        );
    }

    #[test]
    fn citations_need_a_read_file_and_a_naming_line() {
        let mut rules = ReadRules::new(Grant::new(&["/etc/ssh/**".into()]).unwrap());
        let not_read = rules.cite(
            "/srv/b.txt",
            "/etc/ssh/sshd_config",
            2,
            Some("Banner /srv/b.txt"),
        );
        assert!(matches!(not_read, Err(Refusal::Undeclared(m)) if m.contains("has not read")));
        rules.note_read("/etc/ssh/sshd_config");
        assert!(
            rules
                .cite("/srv/b.txt", "/etc/ssh/sshd_config", 1, Some("Port 22"))
                .is_err()
        );
        assert!(rules.admit("/srv/b.txt").is_err());
        let added = rules.cite(
            "/srv/b.txt",
            "/etc/ssh/sshd_config",
            2,
            Some("Banner /srv/b.txt"),
        );
        assert_eq!(added, Ok(Some("/srv/b.txt".into())));
        assert_eq!(rules.admit("/srv/./b.txt"), Ok("/srv/b.txt".into()));
        // A literal cited path with `[` is that file only.
        rules.note_read("/etc/ssh/x");
        rules
            .cite("/srv/a[1].pem", "/etc/ssh/x", 1, Some("Key /srv/a[1].pem"))
            .unwrap();
        assert!(rules.admit("/srv/a[1].pem").is_ok());
        assert!(rules.admit("/srv/a1.pem").is_err());
    }
}
