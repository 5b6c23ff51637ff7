//! `phipolicy controls` and `phipolicy explain`: the profile's catalogue as text for a terminal,
//! from the policies' `metadata`. Every string that is not our own literal goes through [`Clean`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::terminal::Clean;
use crate::policy::ControlMeta;
use crate::profile::ParamSpec;

/// `phipolicy controls`: one line per control of the profile.
pub fn catalogue(controls: &[String], meta: &BTreeMap<String, ControlMeta>) -> String {
    let mut out = String::new();
    let width = controls.iter().map(String::len).max().unwrap_or(10);
    for id in controls {
        let m = &meta[id];
        let _ = writeln!(
            out,
            "{:<width$}  {:<24} {:<7} {}",
            Clean(id),
            Clean(&m.cfr.join(", ")),
            Clean(&m.severity),
            Clean(&m.title)
        );
    }
    out
}

/// `phipolicy explain ID`: what a control checks and how to fix it. The description and the
/// remediation keep their lines; each line is escaped on its own.
pub fn explain(m: &ControlMeta, parameters: &BTreeMap<String, ParamSpec>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} — {}\n", Clean(&m.id), Clean(&m.title));
    let _ = writeln!(
        out,
        "Safeguard: {}  CFR: {}  Severity: {}\n",
        Clean(&m.safeguard),
        Clean(&m.cfr.join(", ")),
        Clean(&m.severity)
    );
    push_lines(&mut out, &m.description);
    out.push('\n');
    if !m.parameters.is_empty() {
        let _ = writeln!(out, "Parameters:");
        for p in &m.parameters {
            let spec = parameters.get(p);
            let default = spec
                .map(|s| s.default.to_string())
                .unwrap_or_else(|| "?".into());
            let desc = spec.map(|s| s.description.as_str()).unwrap_or("");
            let _ = writeln!(
                out,
                "  {} (default {}): {}",
                Clean(p),
                Clean(&default),
                Clean(desc)
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Remediation:");
    push_lines(&mut out, &m.remediation);
    out
}

fn push_lines(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "{}", Clean(line));
    }
}
