//! Markdown for pull-request comments and tickets: the header, the counts, a table of every
//! control, then the details of everything that did not pass. Text from the target is shown
//! literally (markup characters escaped, control characters made visible, no raw HTML). Longer
//! than GitHub's comment limit, it is cut at a whole section with a note saying so.

use std::fmt::Write as _;

use super::model::{Control, Report, status_label};
use super::terminal::clean;
use crate::document::Status;

/// Limits of the Markdown report.
pub mod limits {
    /// GitHub refuses comments longer than 65,536 characters; keep a margin for the note.
    pub const MAX_MARKDOWN_CHARS: usize = 65_000;
}

/// Markdown-safe inline text: control characters escaped visibly, markup characters and HTML
/// escaped, newlines as spaces.
pub(crate) fn md(s: &str) -> String {
    let cleaned = clean(s);
    let mut out = String::with_capacity(cleaned.len());
    for ch in cleaned.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

fn icon(s: Status) -> &'static str {
    match s {
        Status::Pass => "✅",
        Status::Fail => "❌",
        Status::Error => "⛔",
        Status::NotApplicable => "➖",
        Status::Manual => "👁",
        Status::Waived => "⚠️",
    }
}

fn details(c: &Control) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} {} `{}` — {}\n",
        icon(c.status),
        status_label(c.status),
        md(&c.control).replace('`', ""),
        md(&c.title)
    );
    let _ = writeln!(out, "45 CFR {} · severity {}\n", md(&c.cfr.join(", ")), md(&c.severity));
    for r in &c.reasons {
        let _ = writeln!(out, "- {}", md(r));
    }
    if !c.evidence.is_empty() {
        let _ = writeln!(out, "\nEvidence:\n");
        for e in &c.evidence {
            let at = match e.line {
                Some(l) => format!("{}:{l}", e.path),
                None => e.path.clone(),
            };
            let _ = writeln!(out, "- {} — {}", md(&at), md(&e.detail));
        }
    }
    if let Some(w) = &c.waiver {
        let _ = writeln!(
            out,
            "\nWaiver ({}, expires {}{}): {}",
            if w.in_force { "in force" } else { "expired" },
            md(&w.expires),
            w.approved_by.as_deref().map(|a| format!(", approved by {}", md(a))).unwrap_or_default(),
            md(&w.justification)
        );
    }
    if matches!(c.status, Status::Fail | Status::Manual | Status::Waived) && !c.remediation.is_empty() {
        let _ = writeln!(out, "\n<details><summary>Remediation</summary>\n");
        for line in c.remediation.lines() {
            let _ = writeln!(out, "{}  ", md(line));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out.push('\n');
    out
}

pub fn render(doc: &Report) -> String {
    render_limited(doc, limits::MAX_MARKDOWN_CHARS)
}

pub(crate) fn render_limited(doc: &Report, limit: usize) -> String {
    let mut head = String::new();
    let _ = writeln!(head, "## phipolicy: {} profile on {}\n", md(&doc.profile), md(doc.target_name()));
    let _ = writeln!(
        head,
        "{} · {} `{}` · {} · phipolicy {} · evaluated at {}\n",
        md(&doc.os_line()),
        md(&doc.target.kind),
        clean(&doc.target.root).replace('`', "'"),
        doc.verdict(),
        md(&doc.tool.version),
        md(&doc.evaluated_at)
    );
    let s = &doc.summary;
    let _ = writeln!(
        head,
        "| pass | fail | error | not applicable | manual | waived |\n|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} |\n",
        s.pass, s.fail, s.error, s.not_applicable, s.manual, s.waived
    );
    for p in doc.third_party_plugins() {
        let _ = writeln!(head, "> {}\n", md(&p.third_party_line()));
    }
    let _ = writeln!(head, "| status | control | CFR | title |\n|---|---|---|---|");
    for c in &doc.results {
        let _ = writeln!(
            head,
            "| {} {} | {} | {} | {} |",
            icon(c.status),
            status_label(c.status),
            md(&c.control),
            md(&c.cfr.join(", ")),
            md(&c.title)
        );
    }
    head.push('\n');
    let sections: Vec<String> = doc
        .results
        .iter()
        .filter(|c| c.status != Status::Pass)
        .map(details)
        .collect();
    let mut out = head;
    let total = sections.len();
    for (i, section) in sections.into_iter().enumerate() {
        let note = truncation_note(total - i);
        if out.chars().count() + section.chars().count() + note.chars().count() > limit {
            out.push_str(&note);
            return out;
        }
        out.push_str(&section);
    }
    out
}

fn truncation_note(left: usize) -> String {
    format!(
        "\n> **Truncated:** {left} more section(s) exceed GitHub's comment size; see the full report (`phipolicy report --from results.json --format html`).\n"
    )
}

#[cfg(test)]
mod tests {
    use super::md;

    #[test]
    fn target_text_cannot_inject_markup() {
        assert_eq!(md("<script>|x`\u{1b}[2K"), "&lt;script&gt;\\|x\\`\\\\u{1b}\\[2K");
    }
}
