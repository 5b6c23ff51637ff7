//! Text for a terminal: the result table and `phipolicy test`. Every
//! string that is not our own literal goes through [`Clean`], so nothing read from the target, a
//! plugin or a policy can move the cursor or hide a line.

use std::fmt::Write as _;

use super::model::{Report, status_label};
use super::terminal::Clean;
use crate::document::Status;
use crate::policy::TestReport;

/// A table: one row per control, then the reasons for everything that did not pass.
pub fn table(doc: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "phipolicy {} — profile {} — {} {} — {}",
        Clean(&doc.tool.version),
        Clean(&doc.profile),
        Clean(&doc.target.kind),
        Clean(&doc.target.root),
        Clean(&doc.os_line())
    );
    let _ = writeln!(out, "evaluated at {}\n", Clean(&doc.evaluated_at));
    let width = doc
        .results
        .iter()
        .map(|r| super::terminal::clean(&r.control).chars().count())
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
            Clean(&r.control),
            Clean(&r.cfr.join(", ")),
            Clean(&r.title)
        );
    }
    for r in doc.results.iter().filter(|r| r.status != Status::Pass) {
        let _ = writeln!(out, "\n{} {}", status_label(r.status), Clean(&r.control));
        for reason in &r.reasons {
            let _ = writeln!(out, "  - {}", Clean(reason));
        }
        if matches!(r.status, Status::Fail | Status::Manual) && !r.remediation.is_empty() {
            let first = r.remediation.lines().next().unwrap_or_default();
            let _ = writeln!(
                out,
                "  remediation: {} (`phipolicy explain {}`)",
                Clean(first),
                Clean(&r.control)
            );
        }
    }
    for p in doc.third_party_plugins() {
        let _ = writeln!(out, "\n{}", Clean(&p.third_party_line()));
    }
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
            Clean(&t.package),
            Clean(&t.name)
        );
        if let Some(e) = &t.error {
            let _ = writeln!(out, "       {}", Clean(e));
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
        let _ = writeln!(out, "  {:>5.1}% {}{}", pct, Clean(&c.path), missing);
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
