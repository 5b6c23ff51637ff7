//! One self-contained HTML page (inline CSS and script, no external resource, a Content Security
//! Policy that forbids loading any): header with target, OS, profile, time, tool and verdict;
//! counts and a bar by status; filters by status and safeguard (also from the URL fragment,
//! `#status=fail,error&safeguard=authentication`); every control with its citation, reasons,
//! evidence, waiver and remediation, failures open; expand-all and a print view that opens all.
//!
//! Rendered by minijinja from `html.jinja` with HTML auto-escaping on every value; the `clean`
//! filter also makes control characters visible, so a file name holding `<script>` or an ANSI
//! escape shows as text.

use minijinja::{AutoEscape, Environment, context};
use serde::Serialize;

use super::model::{Report, status_label};
use super::terminal::clean;
use crate::document::Status;

const TEMPLATE: &str = include_str!("html.jinja");

#[derive(Serialize)]
struct StatusCount {
    key: &'static str,
    label: &'static str,
    count: usize,
    percent: String,
}

#[derive(Serialize)]
struct EvidenceView {
    at: String,
    detail: String,
}

#[derive(Serialize)]
struct WaiverView {
    state: &'static str,
    expires: String,
    approved_by: Option<String>,
    justification: String,
    original: &'static str,
}

#[derive(Serialize)]
struct ControlView {
    id: String,
    anchor: String,
    title: String,
    cfr: String,
    severity: String,
    safeguard: String,
    status: &'static str,
    label: &'static str,
    open: bool,
    reasons: Vec<String>,
    evidence: Vec<EvidenceView>,
    waiver: Option<WaiverView>,
    remediation: String,
}

pub fn render(doc: &Report) -> String {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("clean", |s: String| clean(&s).into_owned());
    env.add_filter("clean_lines", |s: String| {
        s.lines().map(|l| clean(l).into_owned()).collect::<Vec<_>>().join("\n")
    });
    env.add_template("report.html", TEMPLATE)
        .expect("the report template parses");
    let s = &doc.summary;
    let total = doc.results.len().max(1);
    let statuses: Vec<StatusCount> = [
        (Status::Pass, s.pass),
        (Status::Fail, s.fail),
        (Status::Error, s.error),
        (Status::Waived, s.waived),
        (Status::Manual, s.manual),
        (Status::NotApplicable, s.not_applicable),
    ]
    .into_iter()
    .map(|(st, count)| StatusCount {
        key: st.as_str(),
        label: status_label(st),
        count,
        percent: format!("{:.2}", 100.0 * count as f64 / total as f64),
    })
    .collect();
    let mut safeguards: Vec<String> = doc.results.iter().map(|c| c.safeguard.clone()).collect();
    safeguards.sort();
    safeguards.dedup();
    let controls: Vec<ControlView> = doc
        .results
        .iter()
        .map(|c| ControlView {
            id: c.control.clone(),
            anchor: c
                .control
                .chars()
                .map(|ch| if ch.is_ascii_alphanumeric() || ch == '-' { ch } else { '-' })
                .collect(),
            title: c.title.clone(),
            cfr: c.cfr.join(", "),
            severity: c.severity.clone(),
            safeguard: c.safeguard.clone(),
            status: c.status.as_str(),
            label: status_label(c.status),
            open: !matches!(c.status, Status::Pass | Status::NotApplicable),
            reasons: c.reasons.clone(),
            evidence: c
                .evidence
                .iter()
                .map(|e| EvidenceView {
                    at: match e.line {
                        Some(l) => format!("{}:{l}", e.path),
                        None => e.path.clone(),
                    },
                    detail: e.detail.clone(),
                })
                .collect(),
            waiver: c.waiver.as_ref().map(|w| WaiverView {
                state: if w.in_force { "In force" } else { "Expired (not applied)" },
                expires: w.expires.clone(),
                approved_by: w.approved_by.clone(),
                justification: w.justification.clone(),
                original: status_label(w.original_status),
            }),
            remediation: c.remediation.clone(),
        })
        .collect();
    let plugins: Vec<serde_json::Value> = doc
        .plugins
        .iter()
        .filter(|p| p.verification != "builtin")
        .map(|p| serde_json::json!({"id": p.id, "version": p.version, "verification": p.verification, "origin": p.origin, "line": p.third_party_line()}))
        .collect();
    let template = env.get_template("report.html").expect("template registered");
    let mut html = template
        .render(context! {
            profile => doc.profile,
            target_name => doc.target_name(),
            target_kind => doc.target.kind,
            target_root => doc.target.root,
            os => doc.os_line(),
            evaluated_at => doc.evaluated_at,
            duration_ms => doc.duration_ms,
            tool => format!("{} {}", doc.tool.name, doc.tool.version),
            plugins => plugins,
            exit_code => doc.exit_code(),
            verdict => doc.verdict(),
            statuses => statuses,
            safeguards => safeguards,
            controls => controls,
        })
        .expect("the report template renders");
    html.push('\n');
    html
}
