//! Reporters: the only code that serializes results. Every format is a rendering of the result
//! document (`phipolicy/results/v1`): `eval` renders the document it just built, `report --from`
//! one read back from a file, through the same [`Report`] view, so no format knows more than the
//! JSON says. One module per format; [`terminal`] is the one place where text meant for a
//! terminal or a log is made safe.

mod catalogue;
mod diff;
mod html;
mod junit;
mod markdown;
mod model;
mod oscal;
pub mod output;
mod sarif;
mod table;
pub mod terminal;

pub use diff::{Drift, DriftError, DriftFormat, diff};
pub use model::{Report, ReportError};
pub use catalogue::{catalogue, explain};
pub use table::{table, test_report};

use crate::document::ResultDocument;

/// Output formats of `eval` and `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A human summary for a terminal (control characters of target text escaped).
    Table,
    /// The result document itself, the source of truth.
    Json,
    /// SARIF 2.1.0, every status (pass, notApplicable, review, fail; waived as suppressed).
    Sarif,
    /// SARIF 2.1.0 with failures only (GitHub code scanning ignores `kind` and `suppressions`).
    SarifGithub,
    /// JUnit XML: one test suite per target, one test case per control.
    Junit,
    /// OSCAL Assessment Results (JSON, OSCAL 1.1.3).
    Oscal,
    /// One self-contained HTML page (no external resource).
    Html,
    /// Markdown for pull-request comments and tickets, within GitHub's comment size.
    Markdown,
}

impl Format {
    pub const ALL: &[(&str, Format)] = &[
        ("table", Format::Table),
        ("json", Format::Json),
        ("sarif", Format::Sarif),
        ("sarif-github", Format::SarifGithub),
        ("junit", Format::Junit),
        ("oscal", Format::Oscal),
        ("html", Format::Html),
        ("markdown", Format::Markdown),
    ];
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, f)| *f)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|(n, _)| *n).collect();
                format!("unknown format `{s}` (supported: {})", names.join(", "))
            })
    }
}

/// Renders the document built by this run in `format`.
pub fn render(doc: &ResultDocument, format: Format) -> String {
    render_report(&Report::from_document(doc), format)
}

/// Renders a result document (built by this run or read back from a file) in `format`.
pub fn render_report(report: &Report, format: Format) -> String {
    match format {
        Format::Json => json_value(&report.raw),
        Format::Table => table(report),
        Format::Sarif => sarif::render(report, sarif::Profile::Full),
        Format::SarifGithub => sarif::render(report, sarif::Profile::Github),
        Format::Junit => junit::render(report),
        Format::Oscal => oscal::render(report),
        Format::Html => html::render(report),
        Format::Markdown => markdown::render(report),
    }
}

/// The result document as pretty JSON with a trailing newline.
pub fn json(doc: &ResultDocument) -> String {
    json_value(doc)
}

/// Any serializable value as pretty JSON (facts, test reports, catalogue).
pub fn json_value<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("value serializes");
    s.push('\n');
    s
}

/// Percent-encodes a path inside the target for use in a URI reference (SARIF artifact
/// locations, OSCAL evidence links): unreserved characters and `/` stay, everything else is
/// `%XX` of its UTF-8 bytes.
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
