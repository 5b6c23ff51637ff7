//! `docs/controls.md`: the control catalogue of a profile as Markdown, written from the profile
//! (`profile.yaml`: controls, parameters) and each control's `metadata` rule, so the document says
//! what the policies do. `phipolicy generate --controls-doc FILE` (`cargo xtask docs`) writes it;
//! `engine/tests/docs.rs` fails when the committed file is stale.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::policy::{Backend, ControlMeta, PolicyError, PolicySet};
use crate::profile::ProfileSource;

/// Where the catalogue of the built-in profile lives, relative to the workspace.
pub const CONTROLS_DOC: &str = "docs/controls.md";

/// The catalogue of `source` as Markdown.
pub fn controls_markdown(source: &ProfileSource) -> Result<String, PolicyError> {
    let profile = &source.profile;
    let set = PolicySet::for_source(source, None, Backend::Interpreter)?;
    let meta = crate::policy::catalogue(&set, &profile.controls)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!-- Generated from policies/{name}/ (profile.yaml and each control's `metadata` rule) by \
         `cargo xtask docs`; do not edit: engine/tests/docs.rs fails when this file is stale. -->\n",
        name = profile.name
    );
    let _ = writeln!(out, "# The controls of the `{}` profile\n", profile.name);
    let _ = writeln!(
        out,
        "{}. Every control below is judged by its Rego policy from the facts of one plugin; \
         `phipolicy explain ID` prints the same text. [hipaa-profile.md](hipaa-profile.md) \
         says which distributions the profile knows, what the statuses mean and where the \
         popular hardening guide is wrong; [contract.md](contract.md) is the command line and \
         the result document.\n",
        profile.description
    );
    let _ = writeln!(out, "| control | safeguard | CFR | severity | title |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for id in &profile.controls {
        let m = &meta[id];
        let _ = writeln!(
            out,
            "| [`{id}`](#{anchor}) | {} | {} | {} | {} |",
            cell(&m.safeguard),
            cell(&m.cfr.join(", ")),
            cell(&m.severity),
            cell(&m.title),
            anchor = anchor(id),
        );
    }
    write_parameters(&mut out, source, &meta);
    let mut safeguard = "";
    for id in &profile.controls {
        let m = &meta[id];
        if m.safeguard != safeguard {
            safeguard = &m.safeguard;
            let _ = writeln!(out, "\n## {}", safeguard);
        }
        write_control(&mut out, m);
    }
    Ok(out)
}

/// The parameters table: name, default, the controls that read it, what it means.
fn write_parameters(
    out: &mut String,
    source: &ProfileSource,
    meta: &BTreeMap<String, ControlMeta>,
) {
    let _ = writeln!(out, "\n## Parameters\n");
    let _ = writeln!(
        out,
        "Organisation parameters (`--params FILE`, see [contract.md](contract.md)) and their \
         defaults.\n"
    );
    let _ = writeln!(out, "| parameter | default | used by | meaning |");
    let _ = writeln!(out, "|---|---|---|---|");
    for (name, spec) in &source.profile.parameters {
        let users: Vec<String> = source
            .profile
            .controls
            .iter()
            .filter(|c| meta[*c].parameters.contains(name))
            .map(|c| format!("`{c}`"))
            .collect();
        let _ = writeln!(
            out,
            "| `{name}` | `{}` | {} | {} |",
            spec.default.to_string().replace('|', "\\|"),
            users.join(", "),
            cell(&spec.description)
        );
    }
}

/// One control: heading, citation, what it checks, parameters, facts, remediation.
fn write_control(out: &mut String, m: &ControlMeta) {
    let _ = writeln!(out, "\n### {}\n", m.id);
    let _ = writeln!(
        out,
        "**{}** (45 CFR {}; severity {}; safeguard `{}`)\n",
        inline(&m.title),
        m.cfr.join(", "),
        m.severity,
        m.safeguard
    );
    let _ = writeln!(out, "{}\n", inline(&m.description));
    if !m.parameters.is_empty() {
        let names: Vec<String> = m.parameters.iter().map(|p| format!("`{p}`")).collect();
        let _ = writeln!(out, "Parameters: {}.\n", names.join(", "));
    }
    let facts: Vec<String> = m
        .facts
        .iter()
        .map(|(k, types)| format!("`{k}` ({})", types.join(" or ")))
        .collect();
    let _ = writeln!(out, "Facts it reads: {}.\n", facts.join(", "));
    let _ = writeln!(
        out,
        "Remediation:\n\n```text\n{}\n```",
        m.remediation.trim_end()
    );
}

/// The anchor GitHub gives the heading of control `id` ("### auth.ssh" -> `authssh`).
fn anchor(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// Text in a table cell: inline escaping, and no `|`.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Prose as Markdown: code spans (between backticks) stay as written; elsewhere the characters
/// Markdown would read as emphasis, HTML or an escape are escaped (`_` inside words is not
/// emphasis in CommonMark, and a bracket is a link only when a `(` or a definition follows).
fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '*' | '<' | '\\' if !in_code => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_is_escaped_outside_code_spans() {
        assert_eq!(inline("*.* `*.*` a_b <x>"), r"\*.\* `*.*` a_b \<x>");
        assert_eq!(cell("a | b"), r"a \| b");
        assert_eq!(anchor("logoff.shell-timeout"), "logoffshell-timeout");
    }
}
