//! The plugin registry: which plugin feeds which control, the rules a third-party plugin must meet
//! to join a run (it feeds only controls of the profile that nothing else feeds, or replaces a
//! plugin by taking its id; it does not read the whole target unless allowed), and the paths a
//! plugin may read: [`Grant`], compiled from its manifest's read patterns after parameter
//! templating ([`expand_reads`]) and extended by citations ([`cited_pattern`]).

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::fsview::normalize;
use crate::profile::Profile;
use crate::runner::{LoadError, ManifestError, PluginHandle};
use crate::trust::Verification;

/// The plugins of one run, built-in first, in load order, each with how it was verified.
#[derive(Debug, Default, Clone)]
pub struct Registry {
    plugins: Vec<(Arc<PluginHandle>, Verification)>,
}

impl Registry {
    /// A registry of the built-in plugins.
    pub fn builtin(plugins: Vec<PluginHandle>) -> Registry {
        Registry {
            plugins: plugins
                .into_iter()
                .map(|p| (Arc::new(p), Verification::Builtin))
                .collect(),
        }
    }

    /// Admits a third-party plugin loaded from `path`, or refuses it (exit 2) when it reads the
    /// whole target without `allow_broad_reads`, declares a control `profile` does not have, or
    /// declares a control another loaded plugin feeds. A plugin with the id of a loaded one
    /// replaces it (an explicit override).
    pub fn admit(
        &mut self,
        handle: PluginHandle,
        verification: Verification,
        path: &Path,
        profile: &Profile,
        allow_broad_reads: bool,
    ) -> Result<(), LoadError> {
        let refuse = |problem: ManifestError| LoadError::Manifest {
            path: path.into(),
            problem,
        };
        if !allow_broad_reads
            && let Some(pattern) = handle.manifest.reads.iter().find(|r| is_whole_tree(r))
        {
            return Err(refuse(ManifestError::WholeTree(pattern.clone())));
        }
        self.plugins
            .retain(|(p, _)| p.manifest.id != handle.manifest.id);
        // Otherwise it may only feed controls of this profile that nothing else feeds: two
        // plugins for one control would make the verdict depend on load order.
        for control in &handle.manifest.controls {
            if !profile.controls.contains(control) {
                return Err(refuse(ManifestError::UnknownControl {
                    control: control.clone(),
                    profile: profile.name.clone(),
                }));
            }
            if let Some(other) = self.feeding(control) {
                return Err(refuse(ManifestError::ControlOwned {
                    control: control.clone(),
                    owner: other.manifest.id.clone(),
                }));
            }
        }
        self.plugins.push((Arc::new(handle), verification));
        Ok(())
    }

    /// The plugin feeding `control`, if any.
    pub fn feeding(&self, control: &str) -> Option<&Arc<PluginHandle>> {
        self.plugins
            .iter()
            .map(|(p, _)| p)
            .find(|p| p.manifest.controls.iter().any(|c| c == control))
    }

    /// The plugins `controls` need, each once, in the order of the controls.
    pub fn needed(&self, controls: &[String]) -> Vec<&Arc<PluginHandle>> {
        let mut needed: Vec<&Arc<PluginHandle>> = Vec::new();
        for control in controls {
            if let Some(p) = self.feeding(control)
                && !needed.iter().any(|n| n.manifest.id == p.manifest.id)
            {
                needed.push(p);
            }
        }
        needed
    }

    /// Every plugin with its verification, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &(Arc<PluginHandle>, Verification)> {
        self.plugins.iter()
    }

    /// How many plugins are registered.
    pub fn len(&self) -> usize {
        self.plugins.len()
    }

    /// Whether no plugin is registered.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }
}

/// Whether a read pattern covers the whole target (`/**`, `/*`, `/**/x`, `{param}` left
/// unexpanded at the top): a wildcard in its first component.
pub fn is_whole_tree(pattern: &str) -> bool {
    pattern
        .trim_start_matches('/')
        .split('/')
        .next()
        .is_none_or(|first| first.is_empty() || first.contains(['*', '?', '[']))
}

/// Why a plugin's read patterns give no grant (its controls are `error`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum GrantError {
    #[error("unclosed `{{` in read pattern {0:?}")]
    Unclosed(String),
    #[error("read pattern {pattern:?} names `{name}`, which is not a string or list parameter")]
    NotAParameter { pattern: String, name: String },
    #[error(transparent)]
    Glob(#[from] globset::Error),
}

/// Expands `{param}` in a plugin's read patterns with string or list parameters.
pub fn expand_reads(
    patterns: &[String],
    params: &Map<String, Value>,
) -> Result<Vec<String>, GrantError> {
    let mut out = Vec::new();
    for p in patterns {
        let Some(start) = p.find('{') else {
            out.push(p.clone());
            continue;
        };
        let end = p[start..]
            .find('}')
            .map(|e| e + start)
            .ok_or_else(|| GrantError::Unclosed(p.clone()))?;
        let name = &p[start + 1..end];
        let values: Vec<String> = match params.get(name) {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => {
                return Err(GrantError::NotAParameter {
                    pattern: p.clone(),
                    name: name.to_string(),
                });
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
pub fn cited_pattern(path: &str) -> String {
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
    pub fn new(patterns: &[String]) -> Result<Grant, globset::Error> {
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

    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `path` is declared literally (a pattern without wildcards naming exactly it): the
    /// only way a plugin may read secret material ([`crate::secrets`]).
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn cited_literal_paths_are_granted_literally() {
        assert_eq!(cited_pattern("/srv/a[1].txt"), "/srv/a\\[1\\].txt");
        assert_eq!(cited_pattern("/opt/x/*.conf"), "/opt/x/*.conf");
        assert_eq!(cited_pattern("/opt/{a,b}/*.conf"), "/opt/\\{a,b\\}/*.conf");
    }

    #[test]
    fn reads_expand_parameters() {
        let params: Map<String, Value> = serde_json::from_value(json!({
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
        let params: Map<String, Value> =
            serde_json::from_value(json!({"risk_evidence_glob": "/var/log/risk-*.txt"})).unwrap();
        assert_eq!(
            expand_reads(&["{risk_evidence_glob}".into()], &params).unwrap(),
            vec!["/var/log/risk-*.txt"]
        );
    }
}
