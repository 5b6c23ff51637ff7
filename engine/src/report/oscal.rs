//! OSCAL Assessment Results (JSON, OSCAL 1.1.3) for GRC tools: metadata, `import-ap` pointing at
//! a back-matter resource that describes the assessment (the profile and its parameters), one
//! result with the reviewed controls, one observation per evidence item (methods TEST, or
//! EXAMINE for manual controls), one finding per control whose target is a token derived from its
//! first CFR citation (`164.312(a)(1)` → `hipaa-164.312-a-1`), and a risk with status
//! `deviation-approved` for each waiver in force.
//!
//! Every uuid is a version-5 uuid derived from the target and what it names (control, evidence
//! index), so two scans of the same host diff cleanly. `compliance-trestle` validates the output
//! in CI; `tests/report_formats.rs` checks what trestle does not (every referenced uuid exists,
//! token syntax, methods values).

use serde_json::{Value, json};
use uuid::Uuid;

use super::model::{Control, Report};
use super::uri_path;
use crate::document::Status;

pub const OSCAL_VERSION: &str = "1.1.3";

/// Namespace of phipolicy's version-5 uuids (itself a fixed random uuid).
const NAMESPACE: Uuid = Uuid::from_u128(0x6f3c_1d2a_8b4e_4f7a_9c0d_5e6f_7a8b_9c0d);

/// Namespace of phipolicy's own OSCAL properties.
const PROP_NS: &str = "https://example.invalid/phipolicy/oscal";

/// A uuid that depends only on this target and `what` (`finding/auth.ssh`, ...).
fn uuid(doc: &Report, what: &str) -> String {
    let name = format!("{}\0{}\0{}\0{what}", doc.profile, doc.target.root, doc.target_name());
    Uuid::new_v5(&NAMESPACE, name.as_bytes()).to_string()
}

/// An OSCAL token from a CFR citation: `164.312(a)(1)` → `hipaa-164.312-a-1`.
pub fn cfr_token(cfr: &str) -> String {
    let mut out = String::from("hipaa-");
    let mut last_dash = true;
    for ch in cfr.chars() {
        if ch.is_ascii_alphanumeric() || ch == '.' {
            out.push(ch.to_ascii_lowercase());
            last_dash = false;
        } else if !last_dash {
            out.push('-');
            last_dash = true;
        }
    }
    while out.ends_with('-') || out.ends_with('.') {
        out.pop();
    }
    out
}

fn control_token(c: &Control) -> String {
    c.cfr
        .first()
        .map(|r| cfr_token(r))
        .unwrap_or_else(|| format!("phipolicy-{}", c.control.replace(|ch: char| !ch.is_ascii_alphanumeric() && ch != '.' && ch != '-', "-")))
}

fn prop(name: &str, value: &str) -> Value {
    json!({"name": name, "ns": PROP_NS, "value": if value.is_empty() { "-" } else { value }})
}

fn non_empty(s: &str, fallback: &str) -> String {
    if s.trim().is_empty() { fallback.to_string() } else { s.to_string() }
}

pub fn render(doc: &Report) -> String {
    let collected = doc.evaluated_at.clone();
    let mut observations = Vec::new();
    let mut findings = Vec::new();
    let mut risks = Vec::new();
    let mut reviewed: Vec<String> = Vec::new();
    for c in &doc.results {
        let token = control_token(c);
        for r in c.cfr.iter().map(|r| cfr_token(r)).chain(std::iter::once(token.clone())) {
            if !reviewed.contains(&r) {
                reviewed.push(r);
            }
        }
        let manual = matches!(c.status, Status::Manual)
            || c.waiver.as_ref().is_some_and(|w| w.original_status == Status::Manual);
        let methods = if manual { json!(["EXAMINE"]) } else { json!(["TEST"]) };
        let mut related_obs = Vec::new();
        let items: Vec<(String, Value)> = if c.evidence.is_empty() {
            vec![(
                c.reasons.join("; "),
                json!([{"description": non_empty(&c.reasons.join("; "), "no evidence cited")}]),
            )]
        } else {
            c.evidence
                .iter()
                .map(|e| {
                    let at = match e.line {
                        Some(l) => format!("{}:{l}", e.path),
                        None => e.path.clone(),
                    };
                    let mut href = uri_path(&e.path);
                    if let Some(l) = e.line {
                        href.push_str(&format!("#L{l}"));
                    }
                    (
                        format!("{at}: {}", e.detail),
                        json!([{"href": href, "description": non_empty(&format!("{at}: {}", e.detail), &at)}]),
                    )
                })
                .collect()
        };
        for (i, (description, evidence)) in items.into_iter().enumerate() {
            let id = uuid(doc, &format!("observation/{}/{i}", c.control));
            related_obs.push(json!({"observation-uuid": id}));
            observations.push(json!({
                "uuid": id,
                "title": format!("{} evidence {}", c.control, i + 1),
                "description": non_empty(&description, &c.title),
                "props": [prop("control", &c.control)],
                "methods": methods,
                "types": ["finding"],
                "relevant-evidence": evidence,
                "collected": collected,
            }));
        }
        let (state, reason) = match c.status {
            Status::Pass => ("satisfied", "pass"),
            Status::NotApplicable => ("satisfied", "other"),
            Status::Fail | Status::Error => ("not-satisfied", "fail"),
            Status::Manual => ("not-satisfied", "other"),
            Status::Waived => ("not-satisfied", "other"),
        };
        let mut finding = json!({
            "uuid": uuid(doc, &format!("finding/{}", c.control)),
            "title": format!("{}: {}", c.control, c.title),
            "description": non_empty(&c.reasons.join("\n"), &c.title),
            "props": [
                prop("control", &c.control),
                prop("status", c.status.as_str()),
                prop("severity", &c.severity),
                prop("cfr", &c.cfr.join(", ")),
            ],
            "target": {
                "type": "objective-id",
                "target-id": token,
                "description": format!("45 CFR {}", c.cfr.join(", ")),
                "status": {"state": state, "reason": reason},
            },
            "related-observations": related_obs,
        });
        if !c.remediation.is_empty() && c.status != Status::Pass {
            finding["remarks"] = json!(format!("Remediation:\n{}", c.remediation));
        }
        if let Some(w) = c.waiver.as_ref().filter(|w| w.in_force) {
            let risk_id = uuid(doc, &format!("risk/{}", c.control));
            let mut risk = json!({
                "uuid": risk_id,
                "title": format!("Waived: {}", c.control),
                "description": non_empty(&c.reasons.join("\n"), &c.title),
                "statement": w.justification,
                "props": [prop("original-status", w.original_status.as_str()), prop("expires", &w.expires)],
                "status": "deviation-approved",
                "related-observations": finding["related-observations"].clone(),
            });
            if let Some(deadline) = expiry(&w.expires) {
                risk["deadline"] = json!(deadline);
            }
            if let Some(by) = &w.approved_by {
                risk["props"].as_array_mut().expect("array").push(prop("approved-by", by));
            }
            finding["related-risks"] = json!([{"risk-uuid": risk_id}]);
            risks.push(risk);
        }
        findings.push(finding);
    }
    let resource = uuid(doc, "assessment-plan");
    let params: Vec<String> = doc
        .parameters
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let mut props = vec![
        prop("target-kind", &doc.target.kind),
        prop("target-root", &doc.target.root),
        prop("target-os", &doc.os_line()),
    ];
    if let Some(digest) = doc.target.image_digest() {
        props.push(prop("target-image-digest", digest));
    }
    if let Some(c) = &doc.target.container {
        props.push(prop("target-container-id", &c.id));
        props.push(prop("target-image-id", &c.image_id));
    }
    let mut result = json!({
        "uuid": uuid(doc, "result"),
        "title": format!("phipolicy {} profile on {}", doc.profile, doc.target_name()),
        "description": format!("Automated assessment of {} ({} {}, {}) against the HIPAA Security Rule technical safeguards; verdict: {}.", doc.target_name(), doc.target.kind, doc.target.root, doc.os_line(), doc.verdict()),
        "start": collected,
        "end": collected,
        "props": props,
        "reviewed-controls": {"control-selections": [{
            "include-controls": reviewed.iter().map(|r| json!({"control-id": r})).collect::<Vec<_>>(),
        }]},
        "observations": observations,
        "findings": findings,
    });
    if !risks.is_empty() {
        result["risks"] = json!(risks);
    }
    let plugins: Vec<String> = doc.third_party_plugins().map(|p| p.third_party_line()).collect();
    if !plugins.is_empty() {
        result["remarks"] = json!(plugins.join("\n"));
    }
    let ar = json!({"assessment-results": {
        "uuid": uuid(doc, "assessment-results"),
        "metadata": {
            "title": format!("HIPAA technical safeguards assessment of {}", doc.target_name()),
            "last-modified": collected,
            "version": doc.tool.version,
            "oscal-version": OSCAL_VERSION,
            "props": [prop("tool", &format!("{} {}", doc.tool.name, doc.tool.version))],
        },
        "import-ap": {"href": format!("#{resource}")},
        "results": [result],
        "back-matter": {"resources": [{
            "uuid": resource,
            "title": format!("phipolicy {} profile (the assessment plan)", doc.profile),
            "description": format!("The controls of the phipolicy `{}` profile, judged by its Rego policies with these parameters: {}", doc.profile, if params.is_empty() { "none".to_string() } else { params.join("; ") }),
        }]},
    }});
    super::json_value(&ar)
}

/// A waiver's expiry (a date) as the end of that day in UTC, for a risk's `deadline`.
fn expiry(date: &str) -> Option<String> {
    let d = date.get(..10)?;
    let ok = d.len() == 10
        && d.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    ok.then(|| format!("{d}T23:59:59Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cfr_citations_become_tokens() {
        assert_eq!(cfr_token("164.312(a)(1)"), "hipaa-164.312-a-1");
        assert_eq!(cfr_token("164.308(a)(5)(ii)(D)"), "hipaa-164.308-a-5-ii-d");
        assert_eq!(cfr_token("164.312(d)"), "hipaa-164.312-d");
    }
}
