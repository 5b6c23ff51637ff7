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
        let Some(expires_ymd) = parse_date(&expires) else {
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
    let today = civil_date(now_unix);
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

/// (year, month, day) of a Unix timestamp (UTC), Howard Hinnant's civil-from-days.
fn civil_date(unix_secs: i64) -> (i64, u32, u32) {
    let days = unix_secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses `YYYY-MM-DD` into (year, month, day), validating the day of the month.
fn parse_date(s: &str) -> Option<(i64, u32, u32)> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=dim).contains(&d).then_some((y, m, d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(1_795_824_000), (2026, 11, 28));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(parse_date("2027-03-31"), Some((2027, 3, 31)));
        assert_eq!(parse_date("2027-02-29"), None);
        assert_eq!(parse_date("2028-02-29"), Some((2028, 2, 29)));
        assert_eq!(parse_date("31/03/2027"), None);
    }
}
