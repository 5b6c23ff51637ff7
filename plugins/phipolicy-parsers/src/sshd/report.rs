//! The typed sshd facts plugins embed ([`SshdFacts`]): the effective configuration restricted to
//! the keywords a plugin asks for, the `Match` blocks, what could not be read, and sshd's command
//! line. Their JSON Schema is part of each embedding plugin's facts schema.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::{Directive, EffectiveSshdConfig, canonical_keyword, is_accumulating};
use crate::sshd::cmdline::CommandLineOption;
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_sdk::target::{Target, TargetExt};

/// sshd's effective configuration for a set of keywords, as plugins return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SshdFacts {
    /// Whether the main configuration file was read.
    pub config_found: bool,
    /// Files read, in the order sshd reads them (each once).
    pub files: Vec<String>,
    /// Files that exist but could not be read (sshd would refuse to start).
    pub unreadable: Vec<Unreadable>,
    /// Lines sshd would reject, dangling includes, include loops.
    pub issues: Vec<ParseIssue>,
    /// Where phipolicy stopped reading before sshd would have: the effective configuration is
    /// then unknown.
    pub incomplete: Vec<ParseIssue>,
    /// The global value of each asked-for keyword (lowercase), when it is set or has a known
    /// default.
    pub settings: BTreeMap<String, Setting>,
    /// The `Match` blocks, in reading order, with the asked-for keywords they set.
    pub match_blocks: Vec<MatchBlockFacts>,
    /// sshd's command line as its systemd unit starts it.
    pub command_line: CommandLineFacts,
}

/// Where distributions install the sshd binary.
pub const SSHD_BINARIES: &[&str] = &["/usr/sbin/sshd", "/usr/bin/sshd"];

/// [`SshdFacts`] with whether sshd is installed, as the authentication and automatic-logoff
/// plugins return them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct InstalledSshd {
    /// The effective configuration.
    #[serde(flatten)]
    pub config: SshdFacts,
    /// Whether an sshd binary exists ([`SSHD_BINARIES`]).
    pub installed: bool,
    /// The sshd binary found, `null` when none.
    pub binary: Option<String>,
}

impl InstalledSshd {
    /// `config` with the sshd binary found ([`installed_binary`]).
    pub fn new(binary: Option<&str>, config: SshdFacts) -> InstalledSshd {
        InstalledSshd {
            config,
            installed: binary.is_some(),
            binary: binary.map(str::to_string),
        }
    }
}

/// The first of [`SSHD_BINARIES`] that exists in `target`.
pub fn installed_binary(target: &dyn Target) -> Option<&'static str> {
    SSHD_BINARIES.iter().find(|p| target.exists(p)).copied()
}

/// The global value of one keyword and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Setting {
    /// As `sshd -T` prints it; for an accumulating keyword, the first line's value ("" unset).
    pub value: String,
    /// The file that set it (the main configuration file for a default).
    pub path: String,
    /// Its line; 0 for a default.
    pub line: u32,
    /// Whether it is OpenSSH's default (no line sets it).
    pub default: bool,
    /// Accumulating keywords (AllowUsers, AllowGroups, DenyUsers, DenyGroups): every entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Accumulating keywords: every entry with its line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<Entry>>,
}

/// One entry of an accumulating keyword.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Entry {
    /// One argument of the line (a user, a group, a pattern).
    pub value: String,
    /// The file of the line.
    pub path: String,
    /// The line.
    pub line: u32,
}

/// A `Match` block and the asked-for keywords it sets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MatchBlockFacts {
    /// Its criteria, normalised (`Address 10.0.0.0/8`).
    pub criteria: String,
    /// `Match all`: applies to every connection.
    pub matches_all: bool,
    /// The file of its `Match` line.
    pub path: String,
    /// The line of its `Match` line.
    pub line: u32,
    /// What it sets for the asked-for keywords (lowercase).
    pub settings: BTreeMap<String, BlockSetting>,
}

/// A keyword's value inside a `Match` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct BlockSetting {
    /// The first line's value (accumulating keywords: every entry joined with spaces).
    pub value: String,
    /// The file of the (first) line.
    pub path: String,
    /// The (first) line.
    pub line: u32,
    /// Accumulating keywords: every entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// Accumulating keywords: every entry with its line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entries: Option<Vec<Entry>>,
}

/// sshd's command line as its unit starts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CommandLineFacts {
    /// The unit file read (after systemd's precedence), if any.
    pub unit: Option<String>,
    /// The `ExecStart=` in force.
    pub exec_start: Option<String>,
    /// Environment files read, in order.
    pub environment_files: Vec<String>,
    /// The `-o` options sshd receives, in order (they win over the configuration files).
    pub options: Vec<CommandLineOption>,
}

fn entries(lines: &[&Directive]) -> Vec<Entry> {
    lines
        .iter()
        .flat_map(|d| {
            d.args.iter().map(|a| Entry {
                value: a.clone(),
                path: d.path.clone(),
                line: d.line,
            })
        })
        .collect()
}

fn values(lines: &[&Directive]) -> Vec<String> {
    lines.iter().flat_map(|d| d.args.iter().cloned()).collect()
}

impl EffectiveSshdConfig {
    /// The facts plugins embed, restricted to `keywords` (see [`super::facts`]).
    pub fn facts(&self, keywords: &[&str]) -> SshdFacts {
        let wanted: Vec<(String, String)> = keywords
            .iter()
            .map(|k| (k.to_ascii_lowercase(), canonical_keyword(k)))
            .collect();
        let mut settings = BTreeMap::new();
        for (name, keyword) in &wanted {
            let Some(eff) = self.effective(keyword) else {
                continue;
            };
            let accumulating = is_accumulating(keyword).then(|| self.list(keyword));
            settings.insert(
                name.clone(),
                Setting {
                    value: eff.value,
                    path: eff.path,
                    line: eff.line,
                    default: eff.default,
                    values: accumulating.as_deref().map(values),
                    entries: accumulating.as_deref().map(entries),
                },
            );
        }
        let match_blocks = self
            .match_blocks
            .iter()
            .map(|b| {
                let mut block_settings = BTreeMap::new();
                for (name, keyword) in &wanted {
                    let setting = if is_accumulating(keyword) {
                        let lines = b.list(keyword);
                        lines.first().map(|first| {
                            let values = values(&lines);
                            BlockSetting {
                                value: values.join(" "),
                                path: first.path.clone(),
                                line: first.line,
                                entries: Some(entries(&lines)),
                                values: Some(values),
                            }
                        })
                    } else {
                        b.get(keyword).map(|d| BlockSetting {
                            value: d.value.clone(),
                            path: d.path.clone(),
                            line: d.line,
                            values: None,
                            entries: None,
                        })
                    };
                    if let Some(setting) = setting {
                        block_settings.insert(name.clone(), setting);
                    }
                }
                MatchBlockFacts {
                    criteria: b.criteria.clone(),
                    matches_all: b.matches_all,
                    path: b.path.clone(),
                    line: b.line,
                    settings: block_settings,
                }
            })
            .collect();
        SshdFacts {
            config_found: self.config_found,
            files: self.files.clone(),
            unreadable: self.unreadable.clone(),
            issues: self.issues.clone(),
            incomplete: self.incomplete.clone(),
            settings,
            match_blocks,
            command_line: CommandLineFacts {
                unit: self.command_line.unit.clone(),
                exec_start: self.command_line.exec_start.clone(),
                environment_files: self.command_line.environment_files.clone(),
                options: self.command_line.options.clone(),
            },
        }
    }
}
