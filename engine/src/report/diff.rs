//! Drift between two result documents of the same profile (`phipolicy diff OLD NEW`): controls now
//! failing, now passing, new errors, other status changes, evidence that changed (a file or line
//! cited differently), waivers that expired and waivers expiring within a window. Anything that
//! regressed (now failing, new error, a waiver gone) makes the exit code 1.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::markdown::md;
use super::model::{Control, Report, status_label};
use super::terminal::Clean;
use crate::document::Status;

/// Documents that cannot be compared (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error(
        "cannot compare documents of different profiles: {old} is `{old_profile}`, {new} is `{new_profile}`"
    )]
    Profiles {
        old: String,
        new: String,
        old_profile: String,
        new_profile: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub control: String,
    pub title: String,
    pub old: Option<Status>,
    pub new: Option<Status>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceChange {
    pub control: String,
    /// `path:line: detail` items cited only by the old document.
    pub removed: Vec<String>,
    /// ... and only by the new one.
    pub added: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaiverNote {
    pub control: String,
    pub expires: String,
    pub justification: String,
}

/// What changed between two scans.
#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub schema: &'static str,
    pub profile: String,
    pub old: Scan,
    pub new: Scan,
    pub regressed: bool,
    pub now_failing: Vec<StatusChange>,
    pub new_errors: Vec<StatusChange>,
    pub now_passing: Vec<StatusChange>,
    pub other_changes: Vec<StatusChange>,
    pub evidence_changed: Vec<EvidenceChange>,
    pub waivers_expired: Vec<WaiverNote>,
    pub waivers_expiring: Vec<WaiverNote>,
    pub expiring_window_days: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub target: String,
    pub evaluated_at: String,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DriftFormat {
    Table,
    Json,
    Markdown,
}

fn evidence_items(c: &Control) -> Vec<String> {
    let mut v: Vec<String> = c
        .evidence
        .iter()
        .map(|e| match e.line {
            Some(l) => format!("{}:{l}: {}", e.path, e.detail),
            None => format!("{}: {}", e.path, e.detail),
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Days from the civil date `YYYY-MM-DD` at the start of `date` to `from` (negative when past).
fn unix_day(date: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(&format!("{}T00:00:00Z", date.get(..10)?)).ok()?;
    let secs = t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(secs.div_euclid(86_400))
}

fn doc_day(doc: &Report) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(&doc.evaluated_at).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64 / 86_400)
}

/// Compares `old` with `new`; waivers in force in `new` that expire within `expiring` of its
/// evaluation time are listed as expiring.
pub fn diff(
    old: &Report,
    old_name: &str,
    new: &Report,
    new_name: &str,
    expiring: Duration,
) -> Result<Drift, DriftError> {
    if old.profile != new.profile {
        return Err(DriftError::Profiles {
            old: old_name.into(),
            new: new_name.into(),
            old_profile: old.profile.clone(),
            new_profile: new.profile.clone(),
        });
    }
    let window_days = expiring.as_secs() / 86_400;
    let mut drift = Drift {
        schema: "phipolicy/drift/v1",
        profile: new.profile.clone(),
        old: Scan { target: old.target_name().into(), evaluated_at: old.evaluated_at.clone() },
        new: Scan { target: new.target_name().into(), evaluated_at: new.evaluated_at.clone() },
        regressed: false,
        now_failing: Vec::new(),
        new_errors: Vec::new(),
        now_passing: Vec::new(),
        other_changes: Vec::new(),
        evidence_changed: Vec::new(),
        waivers_expired: Vec::new(),
        waivers_expiring: Vec::new(),
        expiring_window_days: window_days,
    };
    let mut ids: Vec<&str> = new.results.iter().map(|c| c.control.as_str()).collect();
    for c in &old.results {
        if !ids.contains(&c.control.as_str()) {
            ids.push(&c.control);
        }
    }
    let today = doc_day(new);
    for id in ids {
        let o = old.results.iter().find(|c| c.control == id);
        let n = new.results.iter().find(|c| c.control == id);
        let (os, ns) = (o.map(|c| c.status), n.map(|c| c.status));
        let any = n.or(o).expect("id from one of them");
        let change = StatusChange {
            control: id.into(),
            title: any.title.clone(),
            old: os,
            new: ns,
            reasons: n.map(|c| c.reasons.clone()).unwrap_or_default(),
        };
        if os != ns {
            match ns {
                Some(Status::Fail) => drift.now_failing.push(change),
                Some(Status::Error) => drift.new_errors.push(change),
                Some(Status::Pass) => drift.now_passing.push(change),
                _ => drift.other_changes.push(change),
            }
        }
        if let (Some(o), Some(n)) = (o, n) {
            let (before, after) = (evidence_items(o), evidence_items(n));
            if before != after {
                drift.evidence_changed.push(EvidenceChange {
                    control: id.into(),
                    removed: before.iter().filter(|e| !after.contains(e)).cloned().collect(),
                    added: after.iter().filter(|e| !before.contains(e)).cloned().collect(),
                });
            }
            if let (Some(ow), Some(nw)) = (&o.waiver, &n.waiver)
                && ow.in_force
                && !nw.in_force
            {
                drift.waivers_expired.push(WaiverNote {
                    control: id.into(),
                    expires: nw.expires.clone(),
                    justification: nw.justification.clone(),
                });
            }
        }
        if let Some(w) = n.and_then(|n| n.waiver.as_ref()).filter(|w| w.in_force)
            && let (Some(today), Some(day)) = (today, unix_day(&w.expires))
            && day - today <= window_days as i64
        {
            drift.waivers_expiring.push(WaiverNote {
                control: id.into(),
                expires: w.expires.clone(),
                justification: w.justification.clone(),
            });
        }
    }
    drift.regressed = !drift.now_failing.is_empty()
        || !drift.new_errors.is_empty()
        || !drift.waivers_expired.is_empty();
    Ok(drift)
}

fn status_name(s: Option<Status>) -> &'static str {
    s.map(status_label).unwrap_or("absent")
}

impl Drift {
    pub fn exit_code(&self) -> u8 {
        u8::from(self.regressed)
    }

    fn sections(&self) -> [(&'static str, &Vec<StatusChange>); 4] {
        [
            ("Now failing", &self.now_failing),
            ("New errors", &self.new_errors),
            ("Now passing", &self.now_passing),
            ("Other status changes", &self.other_changes),
        ]
    }

    pub fn render(&self, format: DriftFormat) -> String {
        match format {
            DriftFormat::Json => super::json_value(self),
            DriftFormat::Table => self.table(),
            DriftFormat::Markdown => self.markdown(),
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "drift of profile {}: {} at {} → {} at {}",
            Clean(&self.profile),
            Clean(&self.old.target),
            Clean(&self.old.evaluated_at),
            Clean(&self.new.target),
            Clean(&self.new.evaluated_at)
        );
        for (title, changes) in self.sections() {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for c in changes {
                let _ = writeln!(
                    out,
                    "  {:<28} {} → {}  {}",
                    Clean(&c.control),
                    status_name(c.old),
                    status_name(c.new),
                    Clean(&c.title)
                );
                for r in &c.reasons {
                    let _ = writeln!(out, "      - {}", Clean(r));
                }
            }
        }
        if !self.evidence_changed.is_empty() {
            let _ = writeln!(out, "\nEvidence changed:");
            for e in &self.evidence_changed {
                let _ = writeln!(out, "  {}", Clean(&e.control));
                for r in &e.removed {
                    let _ = writeln!(out, "      - {}", Clean(r));
                }
                for a in &e.added {
                    let _ = writeln!(out, "      + {}", Clean(a));
                }
            }
        }
        for (title, notes) in [
            ("Waivers expired", &self.waivers_expired),
            ("Waivers expiring", &self.waivers_expiring),
        ] {
            if notes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n{title}:");
            for w in notes {
                let _ = writeln!(
                    out,
                    "  {:<28} expires {}: {}",
                    Clean(&w.control),
                    Clean(&w.expires),
                    Clean(&w.justification)
                );
            }
        }
        let _ = writeln!(
            out,
            "\n{} now failing, {} new errors, {} now passing, {} other changes, {} evidence changed, {} waivers expired, {} expiring within {} days: {}",
            self.now_failing.len(),
            self.new_errors.len(),
            self.now_passing.len(),
            self.other_changes.len(),
            self.evidence_changed.len(),
            self.waivers_expired.len(),
            self.waivers_expiring.len(),
            self.expiring_window_days,
            if self.regressed { "regressed (exit 1)" } else { "no regression (exit 0)" }
        );
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "## phipolicy drift: {} → {}\n\nProfile {}, {} → {}. **{}**\n",
            md(&self.old.target),
            md(&self.new.target),
            md(&self.profile),
            md(&self.old.evaluated_at),
            md(&self.new.evaluated_at),
            if self.regressed { "Regressed." } else { "No regression." }
        );
        for (title, changes) in self.sections() {
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n\n| control | before | after | title |\n|---|---|---|---|");
            for c in changes {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md(&c.control),
                    status_name(c.old),
                    status_name(c.new),
                    md(&c.title)
                );
            }
            out.push('\n');
        }
        if !self.evidence_changed.is_empty() {
            let _ = writeln!(out, "### Evidence changed\n");
            for e in &self.evidence_changed {
                let _ = writeln!(out, "- {}", md(&e.control));
                for r in &e.removed {
                    let _ = writeln!(out, "  - removed: {}", md(r));
                }
                for a in &e.added {
                    let _ = writeln!(out, "  - added: {}", md(a));
                }
            }
            out.push('\n');
        }
        for (title, notes) in [
            ("Waivers expired", &self.waivers_expired),
            ("Waivers expiring", &self.waivers_expiring),
        ] {
            if notes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {title}\n");
            for w in notes {
                let _ = writeln!(out, "- {} (expires {}): {}", md(&w.control), md(&w.expires), md(&w.justification));
            }
            out.push('\n');
        }
        out
    }
}
