//! Waivers (`--waivers FILE`): a justified, dated exception that turns `fail` or `manual` into
//! `waived` while it is in force, keeping the original status in the result.

use std::path::Path;

use serde::Deserialize;

use crate::document::{ControlResult, Status, WaiverInfo};

#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: waiver {index} ({control}): {message}")]
    Invalid {
        path: String,
        index: usize,
        control: String,
        message: String,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWaiver {
    control: String,
    justification: Option<String>,
    expires: Option<serde_yaml::Value>,
    approved_by: Option<String>,
}

/// A validated waiver.
#[derive(Debug, Clone)]
pub struct Waiver {
    pub control: String,
    pub justification: String,
    pub expires: String,
    expires_ymd: (i64, u32, u32),
    pub approved_by: Option<String>,
}

/// Reads and validates a waivers file against the profile's controls.
pub fn load(path: &Path, known_controls: &[String]) -> Result<Vec<Waiver>, WaiverError> {
    let display = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| WaiverError::Read {
        path: display.clone(),
        source,
    })?;
    let raw: Vec<RawWaiver> = match serde_yaml::from_str::<Option<Vec<RawWaiver>>>(&text) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            return Err(WaiverError::Syntax {
                path: display,
                message: e.to_string(),
            });
        }
    };
    let mut out = Vec::new();
    for (i, w) in raw.into_iter().enumerate() {
        let index = i + 1;
        let invalid = |message: String| WaiverError::Invalid {
            path: display.clone(),
            index,
            control: w.control.clone(),
            message,
        };
        if !known_controls.contains(&w.control) {
            return Err(invalid(format!(
                "unknown control `{}` (see `phipolicy controls`)",
                w.control
            )));
        }
        let justification = w.justification.clone().unwrap_or_default();
        if justification.trim().is_empty() {
            return Err(invalid("`justification` is required".into()));
        }
        let expires = match &w.expires {
            Some(serde_yaml::Value::String(s)) => s.clone(),
            Some(other) => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_string(),
            None => return Err(invalid("`expires` is required (a date, YYYY-MM-DD)".into())),
        };
        let Some(expires_ymd) = crate::util::parse_date(&expires) else {
            return Err(invalid(format!(
                "`expires` is not a date (YYYY-MM-DD): {expires:?}"
            )));
        };
        out.push(Waiver {
            control: w.control,
            justification,
            expires,
            expires_ymd,
            approved_by: w.approved_by,
        });
    }
    Ok(out)
}

/// Applies waivers to results evaluated at `now_unix`. A waiver is in force through its expiry
/// date (UTC). Only `fail` and `manual` can be waived; an expired waiver only adds a reason.
pub fn apply(results: &mut [ControlResult], waivers: &[Waiver], now_unix: i64) {
    let today = crate::util::civil_date(now_unix);
    for r in results.iter_mut() {
        let Some(w) = waivers.iter().find(|w| w.control == r.control) else {
            continue;
        };
        let in_force = today <= w.expires_ymd;
        let original = r.status;
        let info = WaiverInfo {
            justification: w.justification.clone(),
            expires: w.expires.clone(),
            approved_by: w.approved_by.clone(),
            in_force,
            original_status: original,
        };
        if !in_force {
            r.reasons.push(format!(
                "waiver expired on {}; the control is evaluated as if unwaived",
                w.expires
            ));
        } else if matches!(original, Status::Fail | Status::Manual) {
            r.status = Status::Waived;
            r.reasons
                .push(format!("waived until {}: {}", w.expires, w.justification));
        } else {
            r.reasons.push(format!(
                "a waiver until {} exists but the control is {}; nothing to waive",
                w.expires,
                original.as_str()
            ));
        }
        r.waiver = Some(info);
    }
}
