//! RHEL crypto-policies: the policy set in `/etc/crypto-policies/config`.

use super::*;

/// The policy set in `/etc/crypto-policies/config` (`BASE[:SUBPOLICY...]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CryptoPolicy {
    /// The line's value as written (`DEFAULT:NO-SHA1`).
    pub value: String,
    /// The base policy (`DEFAULT`, `FUTURE`, `LEGACY`, ...).
    pub base: String,
    /// The subpolicy modules applied on top, in order.
    pub subpolicies: Vec<String>,
    /// The file.
    pub path: String,
    /// The line.
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
