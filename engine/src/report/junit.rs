//! JUnit XML: one `<testsuite>` per target (named after it, with host name and timestamp), one
//! `<testcase>` per control (classname = profile, name = control id). fail → `<failure>` naming
//! file:line with the remediation in its body; error → `<error>`; manual, waived and
//! not-applicable → `<skipped>` with the reason.
//!
//! The shape is the intersection of the two schemas CI tools check against, both vendored in
//! `tests/validators/`: Windy Road's (InSpec; requires `properties`, `system-out`, `system-err`,
//! `package` and `id`, a timestamp without zone, decimal times) and Jenkins' `junit-10.xsd`.
//! Written by hand: `quick-junit`'s default output fails both.

use std::fmt::Write as _;

use super::model::{Control, Report};
use crate::document::Status;

/// XML text or attribute value: markup characters as entities; characters XML 1.0 cannot carry
/// (C0 controls but tab and newline) and the other control characters as visible escapes.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(ch),
            c if c.is_control() => out.push_str(&super::terminal::clean(&c.to_string())),
            c => out.push(c),
        }
    }
    out
}

/// An `xs:token` attribute (name, classname, hostname): no control characters, no leading,
/// trailing or repeated spaces.
fn token(s: &str) -> String {
    let cleaned = super::terminal::clean(s);
    xml(&cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `xs:dateTime` without zone or fraction, as Windy Road's pattern demands: the UTC time of the
/// document's RFC 3339 `evaluated_at` (which phipolicy writes in UTC, `Z`).
fn timestamp(evaluated_at: &str) -> String {
    match humantime::parse_rfc3339_weak(evaluated_at) {
        Ok(t) => {
            let s = humantime::format_rfc3339_seconds(t).to_string();
            s.trim_end_matches('Z').to_string()
        }
        Err(_) => "1970-01-01T00:00:00".into(),
    }
}

/// Seconds with three decimals, never scientific notation.
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

fn cited(c: &Control) -> String {
    let places: Vec<String> = c
        .evidence
        .iter()
        .filter(|e| !e.path.is_empty())
        .map(|e| match e.line {
            Some(l) => format!("{}:{l}", e.path),
            None => e.path.clone(),
        })
        .collect();
    places.join(", ")
}

fn body(c: &Control) -> String {
    let mut b = String::new();
    let _ = writeln!(b, "{} — {} (45 CFR {})", c.control, c.title, c.cfr.join(", "));
    for r in &c.reasons {
        let _ = writeln!(b, "reason: {r}");
    }
    for e in &c.evidence {
        let at = match e.line {
            Some(l) => format!("{}:{l}", e.path),
            None => e.path.clone(),
        };
        let _ = writeln!(b, "evidence: {at}: {}", e.detail);
    }
    if let Some(w) = &c.waiver {
        let _ = writeln!(
            b,
            "waiver: {} (expires {}{})",
            w.justification,
            w.expires,
            w.approved_by
                .as_deref()
                .map(|a| format!(", approved by {a}"))
                .unwrap_or_default()
        );
    }
    if !c.remediation.is_empty() {
        let _ = writeln!(b, "remediation:\n{}", c.remediation);
    }
    b
}

fn message(c: &Control) -> String {
    let first = c.reasons.first().map(String::as_str).unwrap_or(&c.title);
    let at = cited(c);
    if at.is_empty() {
        first.to_string()
    } else {
        format!("{first} ({at})")
    }
}

pub fn render(doc: &Report) -> String {
    let mut skipped = 0;
    let mut cases = String::new();
    for c in &doc.results {
        let _ = write!(
            cases,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"0.000\"",
            token(&c.control),
            token(&doc.profile)
        );
        let inner = match c.status {
            Status::Pass => None,
            Status::Fail => Some(format!(
                "<failure message=\"{}\" type=\"{}\">{}</failure>",
                xml(&message(c)),
                xml(&c.severity),
                xml(&body(c))
            )),
            Status::Error => Some(format!(
                "<error message=\"{}\" type=\"error\">{}</error>",
                xml(&message(c)),
                xml(&body(c))
            )),
            Status::Manual | Status::Waived | Status::NotApplicable => {
                skipped += 1;
                let what = match c.status {
                    Status::Manual => "manual review".to_string(),
                    Status::Waived => match &c.waiver {
                        Some(w) => format!("waived until {}: {}", w.expires, w.justification),
                        None => "waived".into(),
                    },
                    _ => "not applicable".into(),
                };
                let why = c.reasons.first().map(|r| format!(": {r}")).unwrap_or_default();
                Some(format!("<skipped message=\"{}\"/>", xml(&format!("{what}{why}"))))
            }
        };
        match inner {
            None => cases.push_str("/>\n"),
            Some(inner) => {
                let _ = write!(cases, ">\n      {inner}\n    </testcase>\n");
            }
        }
    }
    let s = &doc.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" package=\"{}\" id=\"0\" hostname=\"{}\" timestamp=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\">",
        token(&format!("{} {}", doc.profile, doc.target_name())),
        token(&format!("phipolicy.{}", doc.profile)),
        token(doc.target.hostname.as_deref().filter(|h| !h.trim().is_empty()).unwrap_or("unknown")),
        timestamp(&doc.evaluated_at),
        doc.results.len(),
        s.fail,
        s.error,
        skipped,
        seconds(doc.duration_ms)
    );
    out.push_str("    <properties>\n");
    let mut props = vec![
        ("profile", doc.profile.clone()),
        ("target.kind", doc.target.kind.clone()),
        ("target.root", doc.target.root.clone()),
        ("target.os", doc.os_line()),
        ("tool.version", doc.tool.version.clone()),
        ("evaluated_at", doc.evaluated_at.clone()),
    ];
    for (k, v) in &doc.parameters {
        props.push(("parameter", format!("{k} = {v}")));
    }
    for p in doc.third_party_plugins() {
        props.push(("plugin", p.third_party_line()));
    }
    for (name, value) in props {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            token(name),
            xml(&value)
        );
    }
    out.push_str("    </properties>\n");
    out.push_str(&cases);
    let _ = writeln!(
        out,
        "    <system-out>{}</system-out>\n    <system-err/>\n  </testsuite>\n</testsuites>",
        xml(&format!("verdict: {}", doc.verdict()))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_times_have_the_forms_the_schemas_accept() {
        assert_eq!(timestamp("2026-11-28T12:00:00Z"), "2026-11-28T12:00:00");
        assert_eq!(seconds(42), "0.042");
        assert_eq!(seconds(123_456), "123.456");
    }

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("<a href='x'>&\u{1b}[2K"), "&lt;a href=&apos;x&apos;&gt;&amp;\\u{1b}[2K");
        assert_eq!(token("  a\n b  "), "a\\n b");
    }
}
