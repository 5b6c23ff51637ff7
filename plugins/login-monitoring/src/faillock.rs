//! The lockout values a `pam_faillock.so` or `pam_tally2.so` line really uses: pam_faillock reads
//! `/etc/security/faillock.conf` (or its `conf=` argument) and then lets its own arguments
//! override it (pam_faillock.c `args_parse`); pam_tally2 has no configuration file.

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, parse_decimal};
use phipolicy_parsers::pam::PamRule;
use phipolicy_sdk::{ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;

/// pam_faillock's configuration file (PAM >= 1.4).
pub const FAILLOCK_CONF: &str = "/etc/security/faillock.conf";

/// pam_faillock's built-in `deny` (faillock.conf(5): "The default is 3").
pub const FAILLOCK_DEFAULT_DENY: i64 = 3;
/// pam_faillock's built-in `unlock_time` in seconds (faillock.conf(5): "The default is 600").
pub const FAILLOCK_DEFAULT_UNLOCK_TIME: i64 = 600;

/// pam_tally2's `deny` when not given: 0, no limit (the account is never locked).
pub const TALLY2_DEFAULT_DENY: i64 = 0;
/// pam_tally2's `unlock_time` when not given: 0, locked until an administrator resets it.
pub const TALLY2_DEFAULT_UNLOCK_TIME: i64 = 0;

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Origin {
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
}

/// One lockout setting in force for a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EffectiveSetting {
    /// The value in force.
    pub value: i64,
    /// As written (`None` for a built-in default).
    pub raw: Option<String>,
    /// `pam-argument`, `faillock.conf` or `default`.
    pub source: &'static str,
    /// Where it was set (the PAM line for a default or an argument).
    pub path: String,
    /// That line.
    pub line: u32,
    /// The faillock.conf setting a PAM argument overrides.
    pub overrides: Option<Origin>,
}

/// `deny` and `unlock_time` in force for one module line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LockoutValues {
    /// Failures before the account is locked (0: never).
    pub deny: EffectiveSetting,
    /// Seconds a locked account stays locked (0: until an administrator resets it).
    pub unlock_time: EffectiveSetting,
}

/// A faillock configuration file as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FaillockConf {
    /// The file.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
    /// Whether it was read.
    pub readable: bool,
    /// Settings in file order (pam_faillock keeps the last of a repeated name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<KeyValueFile>,
}

impl FaillockConf {
    /// Reads `path`; a missing file means pam_faillock's defaults (it ignores ENOENT).
    pub fn load(target: &dyn Target, path: &str, unreadable: &mut Vec<Unreadable>) -> Self {
        match target.read_text(path) {
            Ok(text) => FaillockConf {
                path: path.to_string(),
                exists: true,
                readable: true,
                file: Some(KeyValueFile::parse(path, &text, Dialect::Equals)),
            },
            Err(ReadError::NotFound) => FaillockConf {
                path: path.to_string(),
                exists: false,
                readable: false,
                file: None,
            },
            Err(e) => {
                unreadable.push(Unreadable::new(path, &e));
                FaillockConf {
                    path: path.to_string(),
                    exists: true,
                    readable: false,
                    file: None,
                }
            }
        }
    }
}

/// Parses a faillock number: `unlock_time` also takes `never` (0); both are `strtol` base 10 on
/// the whole value.
fn parse_value(name: &str, raw: &str) -> Option<i64> {
    if name == "unlock_time" && raw == "never" {
        return Some(0);
    }
    parse_decimal(raw)
}

/// The value of `name` for a pam_faillock line: its last `name=` argument, else the
/// configuration file's last setting, else the built-in default. Unparsable values are
/// reported and skipped, as pam_faillock does.
fn faillock_setting(
    name: &str,
    default: i64,
    rule: &PamRule,
    conf: &FaillockConf,
    issues: &mut Vec<ParseIssue>,
) -> EffectiveSetting {
    let mut current = EffectiveSetting {
        value: default,
        raw: None,
        source: "default",
        path: conf.path.clone(),
        line: 0,
        overrides: None,
    };
    if let Some(file) = &conf.file {
        for s in file.settings.iter().filter(|s| s.name == name) {
            let raw = s.value.clone().unwrap_or_default();
            match parse_value(name, &raw) {
                Some(v) => {
                    current = EffectiveSetting {
                        value: v,
                        raw: Some(raw),
                        source: "faillock.conf",
                        path: s.path.clone(),
                        line: s.line,
                        overrides: None,
                    };
                }
                None => issues.push(ParseIssue {
                    path: s.path.clone(),
                    line: s.line,
                    message: format!("{name} = {raw:?} is not a number; pam_faillock ignores it"),
                }),
            }
        }
    }
    let conf_origin = (current.source == "faillock.conf").then(|| Origin {
        path: current.path.clone(),
        line: current.line,
    });
    for (k, raw) in rule.key_value_args() {
        if k != name {
            continue;
        }
        match parse_value(name, raw) {
            Some(v) => {
                current = EffectiveSetting {
                    value: v,
                    raw: Some(raw.to_string()),
                    source: "pam-argument",
                    path: rule.path.clone(),
                    line: rule.line,
                    overrides: conf_origin.clone(),
                };
            }
            None => issues.push(ParseIssue {
                path: rule.path.clone(),
                line: rule.line,
                message: format!("{name}={raw} is not a number; pam_faillock ignores it"),
            }),
        }
    }
    current
}

/// `deny` and `unlock_time` a pam_faillock line uses.
pub fn faillock_values(
    rule: &PamRule,
    conf: &FaillockConf,
    issues: &mut Vec<ParseIssue>,
) -> LockoutValues {
    LockoutValues {
        deny: faillock_setting("deny", FAILLOCK_DEFAULT_DENY, rule, conf, issues),
        unlock_time: faillock_setting(
            "unlock_time",
            FAILLOCK_DEFAULT_UNLOCK_TIME,
            rule,
            conf,
            issues,
        ),
    }
}

/// `deny` and `unlock_time` a pam_tally2 line uses (arguments only).
pub fn tally2_values(rule: &PamRule, issues: &mut Vec<ParseIssue>) -> LockoutValues {
    let setting = |name: &str, default: i64, issues: &mut Vec<ParseIssue>| {
        let mut current = EffectiveSetting {
            value: default,
            raw: None,
            source: "default",
            path: rule.path.clone(),
            line: rule.line,
            overrides: None,
        };
        for (k, raw) in rule.key_value_args() {
            if k != name {
                continue;
            }
            match parse_decimal(raw) {
                Some(v) => {
                    current.value = v;
                    current.raw = Some(raw.to_string());
                    current.source = "pam-argument";
                }
                None => issues.push(ParseIssue {
                    path: rule.path.clone(),
                    line: rule.line,
                    message: format!("{name}={raw} is not a number; pam_tally2 ignores it"),
                }),
            }
        }
        current
    };
    LockoutValues {
        deny: setting("deny", TALLY2_DEFAULT_DENY, issues),
        unlock_time: setting("unlock_time", TALLY2_DEFAULT_UNLOCK_TIME, issues),
    }
}

/// The `conf=` argument of a pam_faillock line, if any (its last one).
pub fn conf_argument(rule: &PamRule) -> Option<&str> {
    rule.key_value_args()
        .into_iter()
        .rev()
        .find(|(k, _)| *k == "conf")
        .map(|(_, v)| v)
}

/// What a pam_faillock line does: `preauth`, `authfail` or `authsucc` (the last given wins, as in
/// pam_faillock), or `None` (the account phase, or no mode).
pub fn faillock_mode(rule: &PamRule) -> Option<&'static str> {
    let mut mode = None;
    for a in &rule.args {
        mode = match a.as_str() {
            "preauth" => Some("preauth"),
            "authfail" => Some("authfail"),
            "authsucc" => Some("authsucc"),
            _ => mode,
        };
    }
    mode
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_parsers::pam::{PamItem, parse_file};

    /// libpam-modules 1.5.2-6+deb12u3's `/etc/security/faillock.conf`: every setting commented out.
    const DEBIAN_FAILLOCK_CONF: &str =
        include_str!("../../phipolicy-parsers/testdata/debian12/faillock.conf");

    fn rule(line: &str) -> PamRule {
        match parse_file("/etc/pam.d/common-auth", line)
            .items
            .into_iter()
            .next()
        {
            Some(PamItem::Rule(r)) => r,
            other => panic!("not a rule: {other:?}"),
        }
    }

    fn conf(text: &str) -> FaillockConf {
        FaillockConf {
            path: FAILLOCK_CONF.into(),
            exists: true,
            readable: true,
            file: Some(KeyValueFile::parse(FAILLOCK_CONF, text, Dialect::Equals)),
        }
    }

    #[test]
    fn debian_conf_leaves_the_defaults() {
        let mut issues = Vec::new();
        let c = conf(DEBIAN_FAILLOCK_CONF);
        assert!(c.file.as_ref().unwrap().settings.is_empty());
        let v = faillock_values(
            &rule("auth required pam_faillock.so preauth"),
            &c,
            &mut issues,
        );
        assert_eq!((v.deny.value, v.deny.source), (3, "default"));
        assert_eq!((v.unlock_time.value, v.unlock_time.line), (600, 0));
        assert!(issues.is_empty());
    }

    #[test]
    fn conf_then_arguments() {
        let mut issues = Vec::new();
        let c = conf("deny = 4\ndeny = 5\nunlock_time = never\n");
        let v = faillock_values(
            &rule("auth [default=die] pam_faillock.so authfail deny=2"),
            &c,
            &mut issues,
        );
        assert_eq!((v.deny.value, v.deny.source), (2, "pam-argument"));
        assert_eq!(
            v.deny.overrides,
            Some(Origin {
                path: FAILLOCK_CONF.into(),
                line: 2
            })
        );
        assert_eq!((v.unlock_time.value, v.unlock_time.line), (0, 3));
        assert_eq!(v.unlock_time.source, "faillock.conf");
    }

    #[test]
    fn bad_numbers_are_issues_and_ignored() {
        let mut issues = Vec::new();
        let c = conf("deny = five\n");
        let v = faillock_values(
            &rule("auth required pam_faillock.so preauth unlock_time=10m"),
            &c,
            &mut issues,
        );
        assert_eq!(v.deny.value, 3);
        assert_eq!(v.unlock_time.value, 600);
        assert_eq!(issues.len(), 2);
    }

    #[test]
    fn missing_conf_gives_defaults() {
        let c = FaillockConf {
            path: FAILLOCK_CONF.into(),
            exists: false,
            readable: false,
            file: None,
        };
        let v = faillock_values(
            &rule("auth required pam_faillock.so authfail"),
            &c,
            &mut Vec::new(),
        );
        assert_eq!((v.deny.value, v.unlock_time.value), (3, 600));
    }

    #[test]
    fn tally2_arguments_and_defaults() {
        let mut issues = Vec::new();
        let v = tally2_values(
            &rule("auth required pam_tally2.so onerr=fail deny=5 unlock_time=1800"),
            &mut issues,
        );
        assert_eq!((v.deny.value, v.unlock_time.value), (5, 1800));
        let v = tally2_values(&rule("auth required pam_tally2.so"), &mut issues);
        assert_eq!((v.deny.value, v.deny.source), (0, "default"));
        assert!(issues.is_empty());
    }

    #[test]
    fn modes_and_conf_argument() {
        let r = rule("auth required pam_faillock.so preauth silent conf=/etc/security/other.conf");
        assert_eq!(faillock_mode(&r), Some("preauth"));
        assert_eq!(conf_argument(&r), Some("/etc/security/other.conf"));
        assert_eq!(
            faillock_mode(&rule("account required pam_faillock.so")),
            None
        );
    }
}
