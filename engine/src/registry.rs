//! The plugin registry: which plugin feeds which control, the rules a third-party plugin must meet
//! to join a run (it feeds only controls of the profile that nothing else feeds, or replaces a
//! plugin by taking its id; it does not read the whole target unless allowed), and the paths a
//! plugin may read: [`Grant`], compiled from its manifest's read patterns after parameter
//! templating ([`expand_reads`]) and extended by citations ([`cited_pattern`]).

use std::path::Path;
use std::sync::Arc;


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

/// The read rules live in the SDK (`phipolicy_sdk::grant`), so that a plugin's native tests
/// (`phipolicy_sdk::testing::DirTarget::for_plugin`) refuse exactly what the engine refuses:
/// `Grant` (a manifest's globs), `expand_reads` (`{param}` expansion) and `cited_pattern` (the
/// grant pattern of a cited path).
pub use phipolicy_sdk::grant::{Grant, expand_reads, glob_escape_if_literal as cited_pattern};

/// Why a plugin's read patterns give no grant (its controls are `error`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum GrantError {
    /// A `{param}` in a read pattern could not be expanded.
    #[error("{0}")]
    Expand(String),
    /// A pattern is not a valid glob.
    #[error(transparent)]
    Pattern(#[from] phipolicy_sdk::grant::PatternError),
}

impl From<String> for GrantError {
    fn from(message: String) -> Self {
        GrantError::Expand(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // `Grant` and `expand_reads` are tested where they live (`phipolicy_sdk::grant::tests`); this
    // checks the name the engine re-exports the cited-path escaping under.
    #[test]
    fn cited_literal_paths_are_granted_literally() {
        assert_eq!(cited_pattern("/srv/a[1].txt"), "/srv/a\\[1\\].txt");
        assert_eq!(cited_pattern("/opt/x/*.conf"), "/opt/x/*.conf");
        assert_eq!(cited_pattern("/opt/{a,b}/*.conf"), "/opt/\\{a,b\\}/*.conf");
    }
}
