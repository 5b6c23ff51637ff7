//! Postfix: `main.cf` settings and the `*_tls_protocols` syntaxes.

use super::*;

/// Postfix `*_tls_protocols` (postconf(5)): names to include, `!name` to exclude, and since
/// Postfix 3.6 `>=V`/`<=V` bounds; separators are commas, colons and blanks; an empty value
/// enables every protocol the library supports. SSLv2 is never offered by current OpenSSL.
pub fn postfix_protocols(value: &str) -> ProtocolSet {
    let mut included = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    let mut min = 0usize;
    let mut max = PROTOCOLS.len().saturating_sub(1);
    let mut unknown = Vec::new();
    for tok in value
        .split(|c: char| c == ',' || c == ':' || c.is_whitespace())
        .filter(|t| !t.is_empty())
    {
        if let Some(v) = tok.strip_prefix(">=") {
            match canonical_protocol(v) {
                Some(p) => min = min.max(protocol_index(p)),
                None => unknown.push(tok.to_string()),
            }
        } else if let Some(v) = tok.strip_prefix("<=") {
            match canonical_protocol(v) {
                Some(p) => max = max.min(protocol_index(p)),
                None => unknown.push(tok.to_string()),
            }
        } else if let Some(v) = tok.strip_prefix('!') {
            match canonical_protocol(v) {
                Some(p) => {
                    excluded.insert(p);
                }
                None => unknown.push(tok.to_string()),
            }
        } else {
            match canonical_protocol(tok) {
                Some(p) => {
                    included.insert(p);
                }
                None => unknown.push(tok.to_string()),
            }
        }
    }
    let start: BTreeSet<&'static str> = if included.is_empty() {
        PROTOCOLS
            .iter()
            .copied()
            .filter(|p| *p != "SSLv2")
            .collect()
    } else {
        included
    };
    let set: BTreeSet<&'static str> = start
        .into_iter()
        .filter(|p| !excluded.contains(p))
        .filter(|p| {
            let i = protocol_index(p);
            i >= min && i <= max
        })
        .collect();
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}

/// `/etc/postfix/main.cf` (postconf(5)): `name = value`, a line starting with whitespace continues
/// the previous one, `#` in the first column starts a comment, the last setting of a name wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PostfixMainCf {
    pub path: String,
    pub settings: Vec<crate::keyvalue::Setting>,
    pub issues: Vec<ParseIssue>,
}

impl PostfixMainCf {
    pub fn parse(path: &str, text: &str) -> PostfixMainCf {
        let mut cfg = PostfixMainCf {
            path: path.to_string(),
            ..PostfixMainCf::default()
        };
        for (idx, raw) in text.lines().enumerate() {
            let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            if raw.starts_with([' ', '\t']) {
                match cfg.settings.last_mut() {
                    Some(prev) => {
                        let v = prev.value.get_or_insert_with(String::new);
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(trimmed);
                    }
                    None => cfg.issues.push(ParseIssue {
                        path: path.to_string(),
                        line,
                        message: "continuation line without a setting before it".into(),
                    }),
                }
                continue;
            }
            let Some(eq) = raw.find('=') else {
                cfg.issues.push(ParseIssue {
                    path: path.to_string(),
                    line,
                    message: format!("line is not `name = value`: {trimmed}"),
                });
                continue;
            };
            cfg.settings.push(crate::keyvalue::Setting {
                name: raw.get(..eq).unwrap_or("").trim().to_string(),
                value: Some(raw.get(eq + 1..).unwrap_or("").trim().to_string()),
                path: path.to_string(),
                line,
            });
        }
        cfg
    }

    /// The setting in force for `name` (the last one).
    pub fn get(&self, name: &str) -> Option<&crate::keyvalue::Setting> {
        self.settings.iter().rev().find(|s| s.name == name)
    }
}
