//! SARIF 2.1.0 (OASIS): one rule per control, one result per control that has an outcome to
//! show, located at the first file and line it cites in the target (`uriBaseId` `TARGETROOT`).
//!
//! Two profiles. `sarif` carries every status: `kind` pass / notApplicable / review (manual) /
//! fail, waived as a failure with an accepted suppression, `error` as a tool execution
//! notification tied to its rule, and every result that is not a failure at level `none`.
//! `sarif-github` carries failures only: GitHub code scanning ignores `kind` and `suppressions`
//! and would show every pass as an alert.
//!
//! Built with `serde_json` rather than the `serde-sarif` crate: the document is small, and the
//! official schema (`tests/validators/sarif-2.1.0.schema.json`) checks it in CI.

use serde_json::{Value, json};

use super::model::{Control, Report};
use super::uri_path;
use crate::document::Status;

pub enum Profile {
    Full,
    Github,
}

/// The `uriBaseId` every location is relative to: the target's root.
const BASE: &str = "TARGETROOT";

/// GitHub's `security-severity` (a CVSS-like score: >= 7 high, >= 4 medium, else low).
fn security_severity(severity: &str) -> &'static str {
    match severity {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        _ => "3.0",
    }
}

fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// The setting a piece of evidence is about: the first word of its detail (`PasswordAuthentication
/// yes` → `PasswordAuthentication`), so a fingerprint survives the value and the line changing.
fn setting(detail: &str) -> &str {
    detail
        .split(|c: char| c.is_whitespace() || c == '=' || c == ':')
        .find(|w| !w.is_empty())
        .unwrap_or("")
}

/// `primaryLocationLineHash`: ours, from control + path + setting (not the line text, which
/// GitHub would otherwise hash), so an alert follows a setting that moves within its file.
fn fingerprint(control: &str, path: &str, detail: &str) -> String {
    let digest = crate::digest::sha256_hex(format!("{control}\0{path}\0{}", setting(detail)).as_bytes());
    format!("{}:1", &digest[..16])
}

/// One physical location: `path` inside the target, the line (1 when the whole file is meant).
fn location(path: &str, line: Option<u64>, detail: &str) -> Value {
    let rel = uri_path(path.trim_start_matches('/'));
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": if rel.is_empty() { ".".to_string() } else { rel }, "uriBaseId": BASE},
            "region": {"startLine": line.filter(|l| *l >= 1).unwrap_or(1)},
        }
    });
    if !detail.is_empty() {
        loc["message"] = json!({"text": detail});
    }
    loc
}

fn rule(c: &Control) -> Value {
    let mut tags: Vec<String> = vec!["hipaa".into(), "security".into(), c.safeguard.clone()];
    tags.extend(c.cfr.iter().map(|r| format!("45 CFR {r}")));
    let cfr = c.cfr.join(", ");
    json!({
        "id": c.control,
        "name": c.control.replace(['.', '-'], "_"),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": format!("{} (45 CFR {cfr}; safeguard {})", c.title, c.safeguard)},
        "help": {
            "text": format!("{}\n\nRemediation:\n{}", c.title, c.remediation),
            "markdown": format!("**{}** (45 CFR {cfr})\n\n**Remediation**\n\n{}", md_text(&c.title), md_text(&c.remediation)),
        },
        "defaultConfiguration": {"level": level(&c.severity)},
        "properties": {
            "tags": tags,
            "security-severity": security_severity(&c.severity),
            "precision": "high",
            "problem.severity": if level(&c.severity) == "note" { "recommendation" } else { level(&c.severity) },
        },
    })
}

/// Markdown text with the characters that start markup escaped.
fn md_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn message(c: &Control) -> String {
    let mut text = format!("{}: {}", c.control, c.title);
    if !c.reasons.is_empty() {
        text.push_str(" — ");
        text.push_str(&c.reasons.join("; "));
    }
    text
}

fn result(c: &Control, index: usize) -> Value {
    let (kind, lvl) = match c.status {
        Status::Pass => ("pass", "none"),
        Status::NotApplicable => ("notApplicable", "none"),
        Status::Manual => ("review", "none"),
        Status::Fail | Status::Waived => ("fail", level(&c.severity)),
        Status::Error => unreachable!("errors are notifications"),
    };
    let cited: Vec<_> = c.evidence.iter().filter(|e| !e.path.is_empty()).collect();
    let (locations, related, key_path, key_detail) = match cited.split_first() {
        Some((first, rest)) => (
            vec![location(&first.path, first.line, &first.detail)],
            rest.iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut l = location(&e.path, e.line, &e.detail);
                    l["id"] = json!(i + 1);
                    l
                })
                .collect::<Vec<_>>(),
            first.path.as_str(),
            first.detail.as_str(),
        ),
        // GitHub needs a location on every result: the target root itself.
        None => (vec![location("/", None, "")], Vec::new(), "/", ""),
    };
    let mut r = json!({
        "ruleId": c.control,
        "ruleIndex": index,
        "kind": kind,
        "level": lvl,
        "message": {"text": message(c)},
        "locations": locations,
        "partialFingerprints": {"primaryLocationLineHash": fingerprint(&c.control, key_path, key_detail)},
        "properties": {"status": c.status.as_str(), "cfr": c.cfr, "severity": c.severity},
    });
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    if c.status == Status::Waived
        && let Some(w) = &c.waiver
    {
        let mut s = json!({
            "kind": "external",
            "status": "accepted",
            "justification": format!("{} (expires {})", w.justification, w.expires),
        });
        if let Some(by) = &w.approved_by {
            s["properties"] = json!({"approvedBy": by, "expires": w.expires});
        } else {
            s["properties"] = json!({"expires": w.expires});
        }
        r["suppressions"] = json!([s]);
    }
    r
}

/// Stable per target and profile, so scans of different hosts do not close each other's alerts.
fn automation_id(doc: &Report) -> String {
    let target: String = doc
        .target_name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .collect();
    format!("phipolicy/{}/{}/", doc.profile, target.trim_matches('_'))
}

pub fn render(doc: &Report, profile: Profile) -> String {
    let rules: Vec<Value> = doc.results.iter().map(rule).collect();
    let mut results = Vec::new();
    let mut notifications = Vec::new();
    for (index, c) in doc.results.iter().enumerate() {
        match (c.status, &profile) {
            (Status::Error, _) => notifications.push(json!({
                "level": "error",
                "message": {"text": message(c)},
                "associatedRule": {"id": c.control, "index": index},
            })),
            (Status::Fail, _) | (_, Profile::Full) => results.push(result(c, index)),
            _ => {}
        }
    }
    let mut base = json!({"description": {"text": "the root of the audited target"}});
    if doc.target.root.starts_with('/') {
        let root = doc.target.root.trim_end_matches('/');
        base["uri"] = json!(format!("file://{}/", uri_path(root)));
    }
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "phipolicy",
                "version": doc.tool.version,
                "semanticVersion": doc.tool.version,
                "rules": rules,
            }},
            "automationDetails": {"id": automation_id(doc)},
            "originalUriBaseIds": {BASE: base},
            "invocations": [{
                "executionSuccessful": notifications.is_empty(),
                "startTimeUtc": doc.evaluated_at,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "profile": doc.profile,
                "target": {"kind": doc.target.kind, "root": doc.target.root, "hostname": doc.target.hostname},
                "summary": doc.raw.get("summary").cloned().unwrap_or(Value::Null),
                "thirdPartyPlugins": doc.third_party_plugins().map(|p| p.third_party_line()).collect::<Vec<_>>(),
            },
        }],
    });
    super::json_value(&sarif)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_the_value_and_line() {
        assert_eq!(
            fingerprint("auth.ssh", "/etc/ssh/sshd_config", "PasswordAuthentication yes"),
            fingerprint("auth.ssh", "/etc/ssh/sshd_config", "PasswordAuthentication no")
        );
        assert_ne!(
            fingerprint("auth.ssh", "/etc/ssh/sshd_config", "PasswordAuthentication yes"),
            fingerprint("auth.ssh", "/etc/ssh/sshd_config", "PermitRootLogin yes")
        );
    }
}
