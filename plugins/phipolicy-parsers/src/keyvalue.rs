//! Key/value configuration files: `name = value` files read by libpwquality (`pwquality.conf`,
//! `pwquality.conf.d/*.conf`) and pam_faillock (`faillock.conf`), and shadow's `login.defs`, whose
//! separator is whitespace. Every value remembers its file and line.

use std::collections::BTreeMap;

use serde::Serialize;

use phipolicy_sdk::facts::{Located, ParseIssue};

/// How a file separates names from values; each follows the parser of the program that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// libpwquality's and pam_faillock's reader: `#` starts a comment anywhere on a line, the name
    /// ends at whitespace or `=`, one `=` and surrounding whitespace separate it from the value. A
    /// name alone is a flag (`local_users_only`, `audit`, `silent`).
    Equals,
    /// shadow's `getdef.c` for `login.defs`: a line whose first non-blank character is `#` is a
    /// comment (a `#` later on is part of the value), the name ends at the first blank, the value
    /// skips blanks and double quotes and ends before the next double quote. A name without a value
    /// is ignored by shadow and reported here as an issue.
    Whitespace,
}

/// One `name value` setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Setting {
    /// The name as written.
    pub name: String,
    /// `None` for a flag written without a value.
    pub value: Option<String>,
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
}

impl Setting {
    /// The value with its location (a flag's value is the empty string).
    pub fn located(&self) -> Located<String> {
        Located::new(
            self.value.clone().unwrap_or_default(),
            self.path.clone(),
            self.line,
        )
    }
}

/// A parsed key/value file: settings in file order (duplicates kept) and the lines it could not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct KeyValueFile {
    /// The file.
    pub path: String,
    /// Its settings in file order, duplicates kept.
    pub settings: Vec<Setting>,
    /// Lines it could not use.
    pub issues: Vec<ParseIssue>,
}

impl KeyValueFile {
    /// Parses `text` read from `path` in the given dialect. Never fails: lines it cannot use become
    /// [`ParseIssue`]s.
    pub fn parse(path: &str, text: &str, dialect: Dialect) -> KeyValueFile {
        let mut file = KeyValueFile {
            path: path.to_string(),
            settings: Vec::new(),
            issues: Vec::new(),
        };
        for (idx, raw) in text.lines().enumerate() {
            let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            let parsed = match dialect {
                Dialect::Equals => parse_equals_line(raw),
                Dialect::Whitespace => parse_whitespace_line(raw),
            };
            match parsed {
                LineKind::Blank => {}
                LineKind::Setting(name, value) => {
                    file.settings.push(Setting {
                        name,
                        value,
                        path: path.to_string(),
                        line,
                    });
                }
                LineKind::Problem(message) => {
                    file.issues.push(ParseIssue {
                        path: path.to_string(),
                        line,
                        message,
                    });
                }
            }
        }
        file
    }

    /// The last setting of `name` in this file (the one the reading program keeps).
    pub fn last(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().rev().find(|s| s.name == name)
    }
}

enum LineKind {
    Blank,
    Setting(String, Option<String>),
    Problem(String),
}

fn parse_equals_line(raw: &str) -> LineKind {
    let content = match raw.find('#') {
        Some(i) => raw.get(..i).unwrap_or(""),
        None => raw,
    };
    let content = content.trim();
    if content.is_empty() {
        return LineKind::Blank;
    }
    let name_end = content
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(content.len());
    let (name, rest) = content.split_at(name_end);
    if name.is_empty() {
        return LineKind::Problem(format!("no setting name before '=' in {content:?}"));
    }
    // Skip whitespace and at most one '=' (the reader takes `name=value`, `name = value` and
    // `name value`; in `name==5` the value is `=5`).
    let rest = match rest.strip_prefix('=') {
        Some(after_eq) => after_eq.trim_start(),
        None => {
            let r = rest.trim_start();
            r.strip_prefix('=').unwrap_or(r).trim_start()
        }
    };
    let value = if rest.is_empty() {
        None
    } else {
        Some(rest.to_string())
    };
    LineKind::Setting(name.to_string(), value)
}

fn parse_whitespace_line(raw: &str) -> LineKind {
    let content = raw.trim_end();
    let content = content.trim_start_matches([' ', '\t']);
    if content.is_empty() || content.starts_with('#') {
        return LineKind::Blank;
    }
    let name_end = content.find([' ', '\t']).unwrap_or(content.len());
    let (name, rest) = content.split_at(name_end);
    if rest.is_empty() {
        return LineKind::Problem(format!(
            "{name} has no value (login.defs readers ignore this line)"
        ));
    }
    let value = rest.trim_start_matches([' ', '\t', '"']);
    let value = match value.find('"') {
        Some(i) => value.get(..i).unwrap_or(value),
        None => value,
    };
    LineKind::Setting(name.to_string(), Some(value.to_string()))
}

/// Settings merged over several files read in order, later values overriding earlier ones (the
/// rule of libpwquality, pam_faillock and shadow for repeated names).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MergedSettings(pub BTreeMap<String, Setting>);

impl MergedSettings {
    /// Merges `files` in the order given.
    pub fn merge<'a>(files: impl IntoIterator<Item = &'a KeyValueFile>) -> MergedSettings {
        let mut out = BTreeMap::new();
        for file in files {
            for setting in &file.settings {
                out.insert(setting.name.clone(), setting.clone());
            }
        }
        MergedSettings(out)
    }

    pub fn get(&self, name: &str) -> Option<&Setting> {
        self.0.get(name)
    }
}

/// An integer the way C's `strtol(s, &end, 10)` accepts it when the whole string must be consumed
/// (libpwquality, pam_faillock): optional leading blanks, optional sign, decimal digits.
pub fn parse_decimal(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (negative, digits) = split_sign(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude: i64 = digits.parse().ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// An integer the way shadow's `getlong`/`getulong` accept it (`strtol(s, &end, 0)`, whole string):
/// decimal, `0x` hexadecimal or `0` octal, so `090` is *not* a number and shadow falls back to its
/// built-in default.
pub fn parse_c_integer(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (negative, body) = split_sign(t);
    let (radix, digits) =
        if let Some(hex) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
            (16, hex)
        } else if body.len() > 1 && body.starts_with('0') {
            (8, body.get(1..).unwrap_or(""))
        } else {
            (10, body)
        };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

fn split_sign(t: &str) -> (bool, &str) {
    if let Some(rest) = t.strip_prefix('-') {
        (true, rest)
    } else if let Some(rest) = t.strip_prefix('+') {
        (false, rest)
    } else {
        (false, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libpwquality-common 1.4.5-1 (Debian 12), `/etc/security/pwquality.conf` as shipped.
    const DEBIAN_PWQUALITY_CONF: &str = include_str!("../testdata/debian12/pwquality.conf");
    /// login 1:4.13+dfsg1-1+deb12u2 (Debian 12), `/etc/login.defs` as shipped.
    const DEBIAN_LOGIN_DEFS: &str = include_str!("../testdata/debian12/login.defs");
    /// libpam-modules 1.5.2-6+deb12u3 (Debian 12), `/etc/security/faillock.conf` as shipped.
    const DEBIAN_FAILLOCK_CONF: &str = include_str!("../testdata/debian12/faillock.conf");

    #[test]
    fn shipped_pwquality_conf_sets_nothing() {
        let f = KeyValueFile::parse(
            "/etc/security/pwquality.conf",
            DEBIAN_PWQUALITY_CONF,
            Dialect::Equals,
        );
        assert!(f.settings.is_empty(), "{:?}", f.settings);
        assert!(f.issues.is_empty());
    }

    #[test]
    fn uncommented_pwquality_conf_values_and_flags() {
        // The shipped file with its documented defaults uncommented, as administrators do.
        let edited: String = DEBIAN_PWQUALITY_CONF
            .lines()
            .map(|l| match l {
                "# minlen = 8" => "minlen = 14".to_string(),
                "# maxrepeat = 0" => "maxrepeat=3".to_string(),
                "# local_users_only" => "local_users_only".to_string(),
                "# dictpath =" => "dictpath =".to_string(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let f = KeyValueFile::parse("/etc/security/pwquality.conf", &edited, Dialect::Equals);
        let names: Vec<_> = f
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref(), s.line))
            .collect();
        assert_eq!(
            names,
            vec![
                ("minlen", Some("14"), 11),
                ("maxrepeat", Some("3"), 38),
                ("dictpath", None, 67),
                ("local_users_only", None, 79)
            ]
        );
        assert_eq!(
            f.last("minlen").unwrap().located(),
            Located::new("14".to_string(), "/etc/security/pwquality.conf", 11)
        );
    }

    #[test]
    fn equals_dialect_edge_cases() {
        let text = "minlen=12 # trailing comment\n  minclass   3\n= 4\nmaxrepeat =\t2  \n\tenforce_for_root\ndifok==5\n";
        let f = KeyValueFile::parse("/x.conf", text, Dialect::Equals);
        let got: Vec<_> = f
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("minlen", Some("12")),
                ("minclass", Some("3")),
                ("maxrepeat", Some("2")),
                ("enforce_for_root", None),
                ("difok", Some("=5"))
            ]
        );
        assert_eq!(f.issues.len(), 1);
        assert_eq!(f.issues[0].line, 3);
    }

    #[test]
    fn debian_login_defs() {
        let f = KeyValueFile::parse("/etc/login.defs", DEBIAN_LOGIN_DEFS, Dialect::Whitespace);
        let get = |n: &str| {
            f.last(n)
                .map(|s| (s.value.clone().unwrap_or_default(), s.line))
        };
        assert_eq!(get("PASS_MAX_DAYS"), Some(("99999".into(), 165)));
        assert_eq!(get("PASS_MIN_DAYS"), Some(("0".into(), 166)));
        assert_eq!(get("PASS_WARN_AGE"), Some(("7".into(), 167)));
        assert_eq!(get("UID_MIN").map(|v| v.0), Some("1000".into()));
        assert_eq!(
            get("ENV_PATH").map(|v| v.0),
            Some("PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games".into())
        );
        // Commented-out settings are not settings.
        assert_eq!(get("PASS_MIN_LEN"), None);
        assert!(f.issues.is_empty(), "{:?}", f.issues);
    }

    #[test]
    fn login_defs_quirks() {
        let text = "PASS_MAX_DAYS\t90 # ninety\nUMASK \"027\"\nLONELY\n  # indented comment\nPASS_MAX_DAYS 60\n";
        let f = KeyValueFile::parse("/etc/login.defs", text, Dialect::Whitespace);
        assert_eq!(f.settings[0].value.as_deref(), Some("90 # ninety"));
        assert_eq!(f.settings[1].value.as_deref(), Some("027"));
        assert_eq!(f.issues.len(), 1);
        assert_eq!(f.issues[0].line, 3);
        assert_eq!(f.last("PASS_MAX_DAYS").unwrap().line, 5);
        assert_eq!(parse_c_integer("90 # ninety"), None);
    }

    #[test]
    fn debian_faillock_conf_and_flags() {
        let f = KeyValueFile::parse(
            "/etc/security/faillock.conf",
            DEBIAN_FAILLOCK_CONF,
            Dialect::Equals,
        );
        assert!(f.settings.is_empty());
        let edited = DEBIAN_FAILLOCK_CONF
            .replace("# audit\n", "audit\n")
            .replace("# deny = 3\n", "deny = 3\n");
        let f = KeyValueFile::parse("/etc/security/faillock.conf", &edited, Dialect::Equals);
        let audit = f.last("audit").unwrap();
        assert_eq!(audit.value, None);
        assert_eq!(f.last("deny").unwrap().value.as_deref(), Some("3"));
    }

    #[test]
    fn later_files_override() {
        let a = KeyValueFile::parse("/a.conf", "minlen = 8\ndictcheck = 1\n", Dialect::Equals);
        let b = KeyValueFile::parse("/b.conf", "minlen = 14\n", Dialect::Equals);
        let merged = MergedSettings::merge([&a, &b]);
        assert_eq!(merged.get("minlen").unwrap().path, "/b.conf");
        assert_eq!(merged.get("dictcheck").unwrap().path, "/a.conf");
    }

    #[test]
    fn integers() {
        assert_eq!(parse_decimal("14"), Some(14));
        assert_eq!(parse_decimal(" -1"), Some(-1));
        assert_eq!(parse_decimal("14x"), None);
        assert_eq!(parse_decimal(""), None);
        assert_eq!(parse_decimal("99999999999999999999999"), None);
        assert_eq!(parse_c_integer("99999"), Some(99999));
        assert_eq!(parse_c_integer("0x10"), Some(16));
        assert_eq!(parse_c_integer("010"), Some(8));
        assert_eq!(parse_c_integer("090"), None);
        assert_eq!(parse_c_integer("0"), Some(0));
        assert_eq!(parse_c_integer("-1"), Some(-1));
    }

    #[test]
    fn never_panics_on_garbage() {
        let garbage = "=\n==\n#\n\u{0}\u{ff}=\u{feff}x\n\"\n \"\"\n\\\n=a=b\n";
        for d in [Dialect::Equals, Dialect::Whitespace] {
            let _ = KeyValueFile::parse("/g", garbage, d);
        }
        for s in ["-", "+", "0x", "0", "-0x", "\u{ff}"] {
            let _ = (parse_decimal(s), parse_c_integer(s));
        }
    }

    #[test]
    fn generated_inputs_never_panic() {
        for text in phipolicy_sdk::testing::generated_inputs() {
            for d in [Dialect::Equals, Dialect::Whitespace] {
                let f = KeyValueFile::parse("/g", &text, d);
                assert!(f.settings.len() + f.issues.len() <= text.lines().count());
            }
            let _ = (parse_decimal(&text), parse_c_integer(&text));
        }
    }
}
