//! TLS settings as the programs that read them see them: OpenSSL's `openssl.cnf` (the
//! `openssl_conf` → `ssl_conf` → `system_default` chain), RHEL crypto-policies, nginx, Apache httpd
//! and Postfix protocol directives, and PEM Diffie-Hellman parameters (prime size), one format per
//! module; this module holds what they share (protocol names, [`LoadReport`], [`ServerConfig`]).
//!
//! ```
//! use phipolicy_parsers::tls::{apache_protocols, nginx_protocols};
//!
//! let words = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
//! assert_eq!(nginx_protocols(&words("TLSv1.2 TLSv1.3")).enabled, ["TLSv1.2", "TLSv1.3"]);
//! assert_eq!(apache_protocols(&words("all -SSLv3 -TLSv1 -TLSv1.1")).enabled, ["TLSv1.2", "TLSv1.3"]);
//! ```

use std::collections::BTreeSet;

use serde::Serialize;

use phipolicy_sdk::facts::{Located, ParseIssue, Unreadable};
use phipolicy_sdk::target::{FileKind, Target, TargetExt};
use phipolicy_sdk::path::{join, parent};

/// TLS/SSL protocol versions, oldest first, spelled as OpenSSL, nginx and Apache spell them.
pub const PROTOCOLS: [&str; 6] = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Include nesting past which a configuration is hostile (nginx and Apache have no cap of their
    /// own but loop forever or run out of descriptors; OpenSSL caps `.include` at one level per file).
    pub const MAX_INCLUDE_DEPTH: usize = 16;

    /// Files parsed for one configuration: a glob fan-out nested this far is hostile, not a server.
    pub const MAX_FILES: usize = 512;
}
use limits::*;

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

/// Lines joined over trailing-backslash continuations (OpenSSL and Apache), with the number of
/// their first line.
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

/// The protocols an explicit protocol list enables, and the tokens that were not understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolSet {
    pub enabled: Vec<String>,
    pub unknown: Vec<String>,
}

mod apache;
mod crypto_policy;
mod dhparam;
mod nginx;
mod openssl;
mod postfix;
#[cfg(test)]
mod tests;

pub use apache::*;
pub use crypto_policy::*;
pub use dhparam::*;
pub use nginx::*;
pub use openssl::*;
pub use postfix::*;
