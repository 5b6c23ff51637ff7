//! The audit-controls safeguard (45 CFR 164.312(b)): gathers whether auditd is installed, enabled
//! and configured not to drop records, the audit rules it loads, and where logs are forwarded.
//!
//! Facts: [`Facts`]: auditd ([`Auditd`]), the rules it loads
//! ([`phipolicy_parsers::audit_rules::LoadedRules`]) and where logs are forwarded ([`Rsyslog`], each
//! forward with its destination, TLS driver module and CA from [`forwarding`], and
//! [`JournalUpload`]) (schema: `policies/hipaa/schemas/audit-controls.json`). The policies
//! `audit.auditd`, `audit.rules` and `audit.forwarding` judge them.

use std::collections::BTreeMap;

use phipolicy_parsers::audit_rules::LoadedRules;
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile};
use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::{audit_rules, rsyslog};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_sdk::{FileKind, Located, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::forwarding::ForwardFacts;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// Its distribution family.
    pub family: Family,
    /// auditd: installed, enabled, configured not to drop records.
    pub auditd: Auditd,
    /// The audit rules auditd loads.
    pub rules: LoadedRules,
    /// Where logs are forwarded.
    pub forwarding: Forwarding,
}

/// auditd's installation, enablement and configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Auditd {
    /// Whether an auditd binary exists.
    pub installed: bool,
    /// The auditd binary found, `null` when none.
    pub binary: Option<String>,
    /// The vendor unit file, `null` when none.
    pub unit: Option<String>,
    /// The `*.wants/auditd.service` links that enable it.
    pub enabled_links: Vec<EnabledLink>,
    /// The mask link, `null` when the unit is not masked.
    pub masked: Option<Masked>,
    /// `/etc/audit/auditd.conf`.
    pub config: AuditdConfig,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// A `*.wants/<unit>` link under /etc/systemd/system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EnabledLink {
    /// The link (or file) in the `.wants` directory.
    pub path: String,
    /// Where it points, `null` when it is not a symlink.
    pub target: Option<String>,
    /// Whether it resolves inside the target.
    pub resolves: bool,
}

/// A unit linked to `/dev/null` (`systemctl mask`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Masked {
    /// The link.
    pub path: String,
    /// `/dev/null`.
    pub target: String,
}

/// auditd.conf's settings that decide whether records are dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AuditdConfig {
    /// The file.
    pub path: String,
    /// Whether it was read.
    pub found: bool,
    /// `disk_full_action`, `disk_error_action`, `space_left_action`, `admin_space_left_action`,
    /// `max_log_file_action`: the last value of each that is set, with its line.
    pub settings: BTreeMap<String, Located<String>>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// Where logs are forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Forwarding {
    /// rsyslog's forwarding actions.
    pub rsyslog: Rsyslog,
    /// systemd-journal-upload.
    pub journal_upload: JournalUpload,
}

/// rsyslog: installed, enabled, and its forwarding actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Rsyslog {
    /// Whether the main configuration file was read.
    pub found: bool,
    /// Files read, in order.
    pub files: Vec<String>,
    /// The forwarding actions, in reading order.
    pub forwards: Vec<ForwardFacts>,
    /// `global(DefaultNetstreamDriver=...)`, applied to actions that set no driver.
    pub global_stream_driver: Option<Located<String>>,
    /// Lines that could not be parsed, include limits.
    pub issues: Vec<ParseIssue>,
    /// Files that could not be read (configuration, `/etc/hosts`, `/etc/hostname`, CA files).
    pub unreadable: Vec<Unreadable>,
    /// Whether rsyslogd exists.
    pub installed: bool,
    /// The rsyslogd binary found, `null` when none.
    pub binary: Option<String>,
    /// The `*.wants/rsyslog.service` links that enable it.
    pub enabled_links: Vec<EnabledLink>,
}

/// systemd-journal-upload: installed, enabled, and the URL it uploads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct JournalUpload {
    /// Whether systemd-journal-upload exists.
    pub installed: bool,
    /// The binary found, `null` when none.
    pub binary: Option<String>,
    /// The `*.wants/systemd-journal-upload.service` links that enable it.
    pub enabled_links: Vec<EnabledLink>,
    /// `URL=` of the `[Upload]` section in force (the last one), `null` when none.
    pub url: Option<Located<String>>,
    /// Configuration files read, in order.
    pub files: Vec<String>,
    /// Lines that are not `key=value`.
    pub issues: Vec<ParseIssue>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
}

/// Where distributions install auditd.
const AUDITD_BINARIES: &[&str] = &["/sbin/auditd", "/usr/sbin/auditd"];
/// Where rsyslogd is installed (Debian 12 and Rocky 9 alike).
const RSYSLOGD_BINARIES: &[&str] = &["/usr/sbin/rsyslogd", "/sbin/rsyslogd"];
/// Where systemd-journal-upload is installed.
const JOURNAL_UPLOAD_BINARIES: &[&str] = &[
    "/lib/systemd/systemd-journal-upload",
    "/usr/lib/systemd/systemd-journal-upload",
];
/// Where vendor unit files live.
const UNIT_DIRS: &[&str] = &["/usr/lib/systemd/system", "/lib/systemd/system"];
/// The administrator's unit directory, holding the `*.wants/` links `systemctl enable` makes.
const ETC_UNITS: &str = "/etc/systemd/system";
/// auditd's configuration.
const AUDITD_CONF: &str = "/etc/audit/auditd.conf";
/// auditd.conf settings that decide whether records are dropped.
const AUDITD_KEYS: &[&str] = &[
    "disk_full_action",
    "disk_error_action",
    "space_left_action",
    "admin_space_left_action",
    "max_log_file_action",
];
const JOURNAL_UPLOAD_CONF: &str = "/etc/systemd/journal-upload.conf";
const JOURNAL_UPLOAD_DROPINS: &str = "/etc/systemd/journal-upload.conf.d";

/// The audit-controls plugin.
#[derive(Debug)]
pub struct AuditControls;

/// A `*.wants/<unit>` link under /etc/systemd/system: what it points at and whether that resolves
/// inside the target.
fn enabled_links(target: &dyn Target, unit: &str) -> Vec<EnabledLink> {
    let mut links = Vec::new();
    let Ok(entries) = target.list_dir(ETC_UNITS) else {
        return links;
    };
    for dir in entries.iter().filter(|e| e.name.ends_with(".wants")) {
        let path = format!("{ETC_UNITS}/{}/{unit}", dir.name);
        let Ok(st) = target.lstat(&path) else {
            continue;
        };
        let link_target = if st.kind == FileKind::Symlink {
            target.read_link(&path).ok()
        } else {
            None
        };
        links.push(EnabledLink {
            resolves: target.stat(&path).is_ok(),
            path,
            target: link_target,
        });
    }
    links
}

/// `/etc/systemd/system/<unit>` linked to `/dev/null` (`systemctl mask`).
fn masked(target: &dyn Target, unit: &str) -> Option<Masked> {
    let path = format!("{ETC_UNITS}/{unit}");
    match target.read_link(&path) {
        Ok(to) if to == "/dev/null" => Some(Masked { path, target: to }),
        _ => None,
    }
}

fn first_existing(target: &dyn Target, paths: &[&'static str]) -> Option<&'static str> {
    paths.iter().find(|p| target.exists(p)).copied()
}

fn auditd_facts(target: &dyn Target) -> Auditd {
    let binary = first_existing(target, AUDITD_BINARIES);
    let unit = UNIT_DIRS
        .iter()
        .map(|d| format!("{d}/auditd.service"))
        .find(|p| target.exists(p));
    let mut unreadable = Vec::new();
    let config = match target.read_text(AUDITD_CONF) {
        Ok(text) => {
            let file = KeyValueFile::parse(AUDITD_CONF, &text, Dialect::Equals);
            let settings = AUDITD_KEYS
                .iter()
                .filter_map(|k| file.last(k).map(|s| ((*k).to_string(), s.located())))
                .collect();
            AuditdConfig {
                path: AUDITD_CONF.to_string(),
                found: true,
                settings,
                issues: file.issues,
            }
        }
        Err(e) => {
            if e != ReadError::NotFound {
                unreadable.push(Unreadable::new(AUDITD_CONF, &e));
            }
            AuditdConfig {
                path: AUDITD_CONF.to_string(),
                found: false,
                settings: BTreeMap::new(),
                issues: Vec::new(),
            }
        }
    };
    Auditd {
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        unit,
        enabled_links: enabled_links(target, "auditd.service"),
        masked: masked(target, "auditd.service"),
        config,
        unreadable,
    }
}

/// `URL=` of journal-upload.conf's `[Upload]` section: the main file, then drop-ins in order; the
/// last assignment wins.
fn journal_upload_facts(target: &dyn Target) -> JournalUpload {
    let mut files = vec![JOURNAL_UPLOAD_CONF.to_string()];
    files.extend(target.glob("/", &format!("{JOURNAL_UPLOAD_DROPINS}/*.conf")));
    let mut url: Option<Located<String>> = None;
    let mut read = Vec::new();
    let mut unreadable = Vec::new();
    let mut issues: Vec<ParseIssue> = Vec::new();
    for path in &files {
        let text = match target.read_text(path) {
            Ok(t) => t,
            Err(ReadError::NotFound) => continue,
            Err(e) => {
                unreadable.push(Unreadable::new(path.clone(), &e));
                continue;
            }
        };
        read.push(path.clone());
        let mut section = String::new();
        for (i, raw) in text.lines().enumerate() {
            let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                continue;
            }
            if let Some(s) = l.strip_prefix('[') {
                section = s.trim_end_matches(']').to_string();
                continue;
            }
            match l.split_once('=') {
                Some((k, v)) if section == "Upload" && k.trim() == "URL" => {
                    url = Some(Located::new(v.trim().to_string(), path.clone(), line));
                }
                Some(_) => {}
                None => issues.push(ParseIssue {
                    path: path.clone(),
                    line,
                    message: format!("not a key=value line: {l:?}"),
                }),
            }
        }
    }
    let binary = first_existing(target, JOURNAL_UPLOAD_BINARIES);
    JournalUpload {
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        enabled_links: enabled_links(target, "systemd-journal-upload.service"),
        url,
        files: read,
        issues,
        unreadable,
    }
}

fn rsyslog_facts(target: &dyn Target) -> Rsyslog {
    let binary = first_existing(target, RSYSLOGD_BINARIES);
    let config = rsyslog::load(target);
    let mut unreadable = config.unreadable;
    let forwards = forwarding::annotate(target, config.forwards, &mut unreadable);
    Rsyslog {
        found: config.found,
        files: config.files,
        forwards,
        global_stream_driver: config.global_stream_driver,
        issues: config.issues,
        unreadable,
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        enabled_links: enabled_links(target, "rsyslog.service"),
    }
}

impl Plugin for AuditControls {
    fn manifest() -> Manifest {
        Manifest {
            id: "audit-controls",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "audit-controls",
            cfr: &["164.312(b)"],
            controls: &["audit.auditd", "audit.rules", "audit.forwarding"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                "/sbin/auditd",
                "/usr/sbin/auditd",
                "/etc/audit/**",
                "/etc/systemd/system/**",
                "/lib/systemd/system/**",
                "/usr/lib/systemd/system/**",
                "/usr/sbin/rsyslogd",
                "/sbin/rsyslogd",
                "/etc/rsyslog.conf",
                "/etc/rsyslog.d/**",
                "/etc/systemd/journal-upload.conf",
                "/etc/systemd/journal-upload.conf.d/**",
                "/lib/systemd/systemd-journal-upload",
                "/usr/lib/systemd/systemd-journal-upload",
                // Where forwarding leads, and whether its TLS can run (see `forwarding`).
                "/etc/hosts",
                "/etc/hostname",
                "/usr/lib/x86_64-linux-gnu/rsyslog",
                "/usr/lib/x86_64-linux-gnu/rsyslog/**",
                "/usr/lib/aarch64-linux-gnu/rsyslog",
                "/usr/lib/aarch64-linux-gnu/rsyslog/**",
                "/usr/lib64/rsyslog",
                "/usr/lib64/rsyslog/**",
                "/usr/lib/rsyslog",
                "/usr/lib/rsyslog/**",
                "/etc/ssl/certs/**",
                "/etc/pki/tls/certs/**",
                "/etc/pki/ca-trust/**",
                "/etc/pki/rsyslog/**",
                "/usr/local/share/ca-certificates/**",
                "/usr/share/ca-certificates/**",
            ],
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let family = os.as_ref().map_or(Family::Unknown, |o| o.family);
        phipolicy_sdk::facts::to_json(&Facts {
            os,
            family,
            auditd: auditd_facts(target),
            rules: audit_rules::load(target),
            forwarding: Forwarding {
                rsyslog: rsyslog_facts(target),
                journal_upload: journal_upload_facts(target),
            },
        })
    }
}

phipolicy_sdk::export_plugin!(AuditControls);

pub mod forwarding;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "audit-controls",
        ));
    }

    fn collect(case: &str) -> Value {
        phipolicy_sdk::testing::fixture_facts::<AuditControls>(case)
    }

    #[test]
    fn debian_defaults_installed_enabled_without_rules_or_forwarding() {
        let f = collect("audit-defaults");
        assert_eq!(f["family"], "debian");
        let a = &f["auditd"];
        assert_eq!(
            (a["installed"].clone(), a["binary"].clone()),
            (json!(true), json!("/sbin/auditd"))
        );
        assert_eq!(
            a["enabled_links"][0]["path"],
            "/etc/systemd/system/multi-user.target.wants/auditd.service"
        );
        assert_eq!(
            a["enabled_links"][0]["target"],
            "/lib/systemd/system/auditd.service"
        );
        assert_eq!(a["enabled_links"][0]["resolves"], true);
        let s = &a["config"]["settings"];
        assert_eq!(
            (
                s["disk_full_action"]["value"].clone(),
                s["disk_full_action"]["line"].clone()
            ),
            (json!("SUSPEND"), json!(24))
        );
        assert_eq!(s["max_log_file_action"]["value"], "ROTATE");
        assert_eq!(f["rules"]["source"], "rules.d");
        assert_eq!(f["rules"]["rules"], json!([]));
        let r = &f["forwarding"]["rsyslog"];
        assert_eq!(
            (r["installed"].clone(), r["forwards"].clone()),
            (json!(true), json!([]))
        );
        assert_eq!(r["files"], json!(["/etc/rsyslog.conf"]));
        assert_eq!(f["forwarding"]["journal_upload"]["installed"], false);
    }

    #[test]
    fn hardened_rules_load_in_order_and_end_immutable() {
        let f = collect("audit-hardened");
        let rules = f["rules"]["rules"].as_array().cloned().unwrap_or_default();
        assert_eq!(rules.len(), 11);
        assert_eq!(rules[4]["watch"], "/etc/sudoers.d");
        assert_eq!(rules[5]["perms"], "rwxa");
        assert_eq!(f["rules"]["immutable_at_end"], true);
        assert_eq!(
            f["rules"]["enabled"]["path"],
            "/etc/audit/rules.d/99-finalize.rules"
        );
        let fw = &f["forwarding"]["rsyslog"]["forwards"][0];
        assert_eq!(
            (
                fw["protocol"].clone(),
                fw["tls"].clone(),
                fw["line"].clone()
            ),
            (json!("tcp"), json!(true), json!(7))
        );
        assert_eq!(fw["stream_driver"]["line"], 2);
    }

    #[test]
    fn audit_rules_file_after_immutable_and_delete() {
        let f = collect("audit-rules-after-immutable");
        assert_eq!(f["rules"]["source"], "audit.rules");
        assert_eq!(f["rules"]["not_loaded"][0]["rule"]["watch"], "/etc/shadow");
        let f = collect("audit-rules-delete");
        let gone = f["rules"]["not_loaded"].as_array().map_or(0, Vec::len);
        assert_eq!(gone, 11);
        assert_eq!(f["rules"]["rules"][0]["watch"], "/etc/passwd");
    }

    #[test]
    fn rocky_layout_and_forwarding_variants() {
        let f = collect("audit-rocky-hardened");
        assert_eq!(f["family"], "rhel");
        assert_eq!(f["auditd"]["binary"], "/usr/sbin/auditd");
        assert_eq!(
            f["auditd"]["enabled_links"][0]["target"],
            "/usr/lib/systemd/system/auditd.service"
        );
        let r = &f["forwarding"]["rsyslog"];
        assert_eq!(
            r["files"],
            json!(["/etc/rsyslog.conf", "/etc/rsyslog.d/60-hipaa-forward.conf"])
        );
        assert_eq!(r["forwards"][0]["tls"], true);
        assert_eq!(
            r["forwards"][0]["ca_file"]["value"],
            "/etc/pki/tls/certs/logs-ca.pem"
        );

        let f = collect("audit-rocky-not-enabled");
        assert_eq!(f["auditd"]["enabled_links"], json!([]));

        let f = collect("forwarding-journal-upload-https");
        let j = &f["forwarding"]["journal_upload"];
        assert_eq!(j["url"]["value"], "https://logs.internal.example.com:19532");
        assert_eq!(
            j["url"]["path"],
            "/etc/systemd/journal-upload.conf.d/50-hipaa.conf"
        );
        assert_eq!(j["enabled_links"][0]["resolves"], true);

        let f = collect("forwarding-conditional");
        let fw = &f["forwarding"]["rsyslog"]["forwards"][0];
        assert_eq!(
            fw["conditional"],
            "if $syslogfacility-text == \"authpriv\" then"
        );
        assert_eq!(fw["coverage"], Value::Null);

        let f = collect("forwarding-udp");
        assert_eq!(f["forwarding"]["rsyslog"]["forwards"][0]["protocol"], "udp");
    }

    #[test]
    fn not_installed_is_a_fact() {
        let f = collect("audit-not-installed");
        assert_eq!(f["auditd"]["installed"], false);
        assert_eq!(f["auditd"]["config"]["found"], false);
        assert_eq!(f["rules"]["source"], "none");
    }

    #[test]
    fn manifest_names_the_controls() {
        let m = AuditControls::manifest();
        assert_eq!(
            m.controls,
            &["audit.auditd", "audit.rules", "audit.forwarding"]
        );
        assert!(m.reads.contains(&"/etc/systemd/system/**"));
    }
}
