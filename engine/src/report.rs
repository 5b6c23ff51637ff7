//! Reporters: the only code that serializes results. `json` is the result document itself (the
//! source of truth); `table` is a human summary of it.

use std::fmt::Write as _;

use crate::document::{ResultDocument, Status};
use crate::policy::TestReport;

/// Output formats of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown format `{other}` (supported: table, json)")),
        }
    }
}

/// Renders the document in `format`.
pub fn render(doc: &ResultDocument, format: Format) -> String {
    match format {
        Format::Json => json(doc),
        Format::Table => table(doc),
    }
}

/// The result document as pretty JSON with a trailing newline.
pub fn json(doc: &ResultDocument) -> String {
    let mut s = serde_json::to_string_pretty(doc).expect("result document serializes");
    s.push('\n');
    s
}

/// Any serializable value as pretty JSON (facts, test reports, catalogue).
pub fn json_value<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("value serializes");
    s.push('\n');
    s
}

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
        Status::NotApplicable => "N/A",
        Status::Manual => "MANUAL",
        Status::Waived => "WAIVED",
    }
}

/// A table: one row per control, then the reasons for everything that did not pass.
pub fn table(doc: &ResultDocument) -> String {
    let mut out = String::new();
    let os = doc
        .target
        .os
        .as_ref()
        .map(|o| format!("{} {} ({} family)", o.id, o.version_id, o.family))
        .unwrap_or_else(|| "unknown OS".into());
    let _ = writeln!(
        out,
        "phipolicy {} — profile {} — {} {} — {}",
        doc.tool.version, doc.profile, doc.target.kind, doc.target.root, os
    );
    let _ = writeln!(out, "evaluated at {}\n", doc.evaluated_at);
    let width = doc
        .results
        .iter()
        .map(|r| r.control.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "{:<7} {:<width$} {:<20} TITLE",
        "STATUS", "CONTROL", "CFR"
    );
    for r in &doc.results {
        let _ = writeln!(
            out,
            "{:<7} {:<width$} {:<20} {}",
            status_label(r.status),
            r.control,
            r.cfr.join(", "),
            r.title
        );
    }
    let mut details = String::new();
    for r in doc.results.iter().filter(|r| r.status != Status::Pass) {
        let _ = writeln!(details, "\n{} {}", status_label(r.status), r.control);
        for reason in &r.reasons {
            let _ = writeln!(details, "  - {reason}");
        }
        if matches!(r.status, Status::Fail | Status::Manual) && !r.remediation.is_empty() {
            let first = r.remediation.lines().next().unwrap_or_default();
            let _ = writeln!(
                details,
                "  remediation: {first} (`phipolicy explain {}`)",
                r.control
            );
        }
    }
    out.push_str(&details);
    let s = &doc.summary;
    let _ = writeln!(
        out,
        "\n{} pass, {} fail, {} error, {} not applicable, {} manual, {} waived ({} ms)",
        s.pass, s.fail, s.error, s.not_applicable, s.manual, s.waived, doc.duration_ms
    );
    out
}

/// `phipolicy test` as text.
pub fn test_report(report: &TestReport) -> String {
    let mut out = String::new();
    for t in &report.tests {
        let _ = writeln!(
            out,
            "{} {}.{}",
            if t.passed { "ok  " } else { "FAIL" },
            t.package,
            t.name
        );
        if let Some(e) = &t.error {
            let _ = writeln!(out, "       {e}");
        }
    }
    let _ = writeln!(out, "\ncoverage:");
    for c in &report.coverage {
        let total = c.covered + c.not_covered.len();
        let pct = if total == 0 {
            100.0
        } else {
            100.0 * c.covered as f64 / total as f64
        };
        let missing = if c.not_covered.is_empty() {
            String::new()
        } else {
            format!(
                "  not covered: lines {}",
                c.not_covered
                    .iter()
                    .map(|l| l.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        };
        let _ = writeln!(out, "  {:>5.1}% {}{}", pct, c.path, missing);
    }
    let _ = writeln!(
        out,
        "  {:>5.1}% total",
        100.0 * crate::policy::coverage_ratio(&report.coverage)
    );
    let _ = writeln!(
        out,
        "\n{} passed, {} failed",
        report.passed(),
        report.failed()
    );
    out
}
