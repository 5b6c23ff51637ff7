//! libpwquality's configuration as pam_pwquality ends up using it: the drop-in directory and the
//! main file read in libpwquality's order, then the PAM line's arguments on top.

use std::collections::BTreeMap;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, parse_decimal};
use phipolicy_parsers::pam::PamRule;
use phipolicy_sdk::{Located, ReadError, Target, TargetExt};
use serde::Serialize;

/// libpwquality's default configuration file.
pub const PWQUALITY_CONF: &str = "/etc/security/pwquality.conf";
/// Its drop-in directory (`<cfgfile>.d`).
pub const PWQUALITY_CONF_D: &str = "/etc/security/pwquality.conf.d";

/// libpwquality never uses a `minlen` below this (`PWQ_BASE_MIN_LENGTH`).
const BASE_MIN_LENGTH: i64 = 6;
/// Character classes libpwquality knows (`minclass` is capped to it).
const NUM_CLASSES: i64 = 4;

/// The settings the controls judge, with libpwquality's defaults (`pwquality.conf(5)`).
pub const JUDGED: &[(&str, i64)] = &[
    ("minlen", 8),
    ("minclass", 0),
    ("maxrepeat", 0),
    ("gecoscheck", 0),
    ("dictcheck", 1),
    ("enforcing", 1),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum SettingType {
    Int,
    Str,
    /// Present means on; any value is ignored.
    Flag,
}

/// libpwquality 1.4's setting names and types (`settings.c`, `s_map`).
const KNOWN: &[(&str, SettingType)] = &[
    ("difok", SettingType::Int),
    ("minlen", SettingType::Int),
    ("dcredit", SettingType::Int),
    ("ucredit", SettingType::Int),
    ("lcredit", SettingType::Int),
    ("ocredit", SettingType::Int),
    ("minclass", SettingType::Int),
    ("maxrepeat", SettingType::Int),
    ("maxclassrepeat", SettingType::Int),
    ("maxsequence", SettingType::Int),
    ("gecoscheck", SettingType::Int),
    ("dictcheck", SettingType::Int),
    ("usercheck", SettingType::Int),
    ("usersubstr", SettingType::Int),
    ("enforcing", SettingType::Int),
    ("badwords", SettingType::Str),
    ("dictpath", SettingType::Str),
    ("retry", SettingType::Int),
    ("enforce_for_root", SettingType::Flag),
    ("local_users_only", SettingType::Flag),
];

/// pam_pwquality arguments the module handles itself (prefix match, as its `strncmp`s do); they
/// never reach libpwquality's settings.
const PAM_ONLY_ARGS: &[&str] = &[
    "debug",
    "type=",
    "retry=",
    "reject_username",
    "authtok_type",
    "use_authtok",
    "use_first_pass",
    "try_first_pass",
    "enforce_for_root",
    "local_users_only",
    "difignore=",
];

fn setting_type(name: &str) -> Option<SettingType> {
    KNOWN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| *t)
}

/// Checks a name/value pair the way libpwquality's `set_name_value` does.
fn validate(name: &str, value: &str) -> Result<(), String> {
    match setting_type(name) {
        None => Err(format!("unknown setting {name:?}")),
        Some(SettingType::Int) if parse_decimal(value).is_none() => {
            Err(format!("{name} = {value:?} is not an integer"))
        }
        Some(_) => Ok(()),
    }
}

/// The configuration files as libpwquality reads them.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PwqualityConfig {
    /// Files in reading order: `pwquality.conf.d/*.conf` in byte order, then `pwquality.conf`.
    pub files: Vec<ConfigFile>,
    /// Settings in force after reading every file (names lower-case), the last one read winning.
    pub settings: BTreeMap<String, Located<String>>,
    /// Where libpwquality stopped reading (an unknown name or a bad integer ends reading of that
    /// file and of every file after it).
    pub stopped_at: Option<ParseIssue>,
    #[serde(skip)]
    #[schemars(skip)]
    pub unreadable: Vec<Unreadable>,
    #[serde(skip)]
    #[schemars(skip)]
    pub issues: Vec<ParseIssue>,
}

/// One file libpwquality looks at.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ConfigFile {
    /// The file.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
}

/// Whether libpwquality's `filter_conf` takes a drop-in name: its first `.conf` ends the name
/// (hidden files count; `a.conf.conf` does not).
fn is_dropin_name(name: &str) -> bool {
    name.find(".conf")
        .is_some_and(|i| i + ".conf".len() == name.len())
}

impl PwqualityConfig {
    pub fn load(target: &dyn Target) -> PwqualityConfig {
        let mut config = PwqualityConfig {
            files: Vec::new(),
            settings: BTreeMap::new(),
            stopped_at: None,
            unreadable: Vec::new(),
            issues: Vec::new(),
        };
        let mut paths: Vec<String> = match target.list_dir(PWQUALITY_CONF_D) {
            Ok(entries) => entries
                .into_iter()
                .filter(|e| is_dropin_name(&e.name))
                .map(|e| format!("{PWQUALITY_CONF_D}/{}", e.name))
                .collect(),
            Err(ReadError::NotFound) => Vec::new(),
            Err(e) => {
                config
                    .unreadable
                    .push(Unreadable::new(PWQUALITY_CONF_D, &e));
                Vec::new()
            }
        };
        paths.sort();
        paths.push(PWQUALITY_CONF.to_string());
        for path in paths {
            let text = match target.read_text(&path) {
                Ok(t) => t,
                Err(ReadError::NotFound) => {
                    config.files.push(ConfigFile {
                        path,
                        exists: false,
                    });
                    continue;
                }
                // libpwquality skips drop-ins it cannot open and reads nothing from a directory.
                Err(ReadError::NotRegular(_)) if path != PWQUALITY_CONF => continue,
                Err(e) => {
                    config.unreadable.push(Unreadable::new(&path, &e));
                    config.files.push(ConfigFile { path, exists: true });
                    continue;
                }
            };
            config.files.push(ConfigFile {
                path: path.clone(),
                exists: true,
            });
            if config.stopped_at.is_some() {
                continue;
            }
            let file = KeyValueFile::parse(&path, &text, Dialect::Equals);
            config.apply(file);
        }
        config
    }

    /// Applies one file's settings in line order until the first one libpwquality rejects.
    fn apply(&mut self, file: KeyValueFile) {
        enum Event {
            Set(String, String),
            Reject(String),
        }
        let mut events: Vec<(u32, Event)> = file
            .settings
            .into_iter()
            .map(|s| (s.line, Event::Set(s.name, s.value.unwrap_or_default())))
            .chain(
                file.issues
                    .into_iter()
                    .map(|i| (i.line, Event::Reject(i.message))),
            )
            .collect();
        events.sort_by_key(|(line, _)| *line);
        for (line, event) in events {
            let verdict = match &event {
                Event::Set(name, value) => validate(name, value),
                Event::Reject(message) => Err(message.clone()),
            };
            match (verdict, event) {
                (Ok(()), Event::Set(name, value)) => {
                    self.settings.insert(
                        name.to_ascii_lowercase(),
                        Located::new(value, file.path.clone(), line),
                    );
                }
                (Err(message), _) | (Ok(()), Event::Reject(message)) => {
                    let issue = ParseIssue {
                        path: file.path.clone(),
                        line,
                        message: format!(
                            "{message}: libpwquality stops reading its configuration here"
                        ),
                    };
                    self.issues.push(issue.clone());
                    self.stopped_at = Some(issue);
                    return;
                }
            }
        }
    }

    /// The judged settings as the files leave them (no PAM arguments).
    pub fn effective_from_files(&self) -> BTreeMap<String, EffectiveSetting> {
        JUDGED
            .iter()
            .map(|(name, default)| {
                let setting = match self.settings.get(*name) {
                    Some(loc) => EffectiveSetting::from_file(name, loc),
                    None => EffectiveSetting::default_for(name, *default),
                };
                ((*name).to_string(), setting)
            })
            .collect()
    }

    /// The judged settings for one pam_pwquality line: file values, overridden by the line's
    /// arguments in order. Arguments libpwquality rejects are ignored (and reported).
    pub fn effective_for(
        &self,
        rule: &PamRule,
        issues: &mut Vec<ParseIssue>,
    ) -> BTreeMap<String, EffectiveSetting> {
        let mut effective = self.effective_from_files();
        for arg in &rule.args {
            if PAM_ONLY_ARGS.iter().any(|p| arg.starts_with(p)) {
                continue;
            }
            let (name, value) = arg.split_once('=').unwrap_or((arg.as_str(), ""));
            if let Err(message) = validate(name, value) {
                issues.push(ParseIssue {
                    path: rule.path.clone(),
                    line: rule.line,
                    message: format!("pam_pwquality.so ignores the argument {arg:?}: {message}"),
                });
                continue;
            }
            let name = name.to_ascii_lowercase();
            if let Some(slot) = effective.get_mut(&name) {
                let overrides = match slot.source {
                    Source::PwqualityConf => Some(Located::new(
                        slot.raw.clone().unwrap_or_default(),
                        slot.path.clone(),
                        slot.line,
                    )),
                    Source::PamArgument => slot.overrides.clone(),
                    Source::Default => None,
                };
                *slot = EffectiveSetting {
                    value: clamp(&name, parse_decimal(value).unwrap_or_default()),
                    raw: Some(value.to_string()),
                    path: rule.path.clone(),
                    line: rule.line,
                    source: Source::PamArgument,
                    overrides,
                };
            }
        }
        effective
    }
}

/// Where an effective value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum Source {
    /// An argument of the pam_pwquality line.
    #[serde(rename = "pam-argument")]
    PamArgument,
    /// A libpwquality configuration file.
    #[serde(rename = "pwquality.conf")]
    PwqualityConf,
    /// libpwquality's built-in default.
    #[serde(rename = "default")]
    Default,
}

/// A judged setting's value in force, and where it was set.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EffectiveSetting {
    /// The value libpwquality uses (after its own clamping of `minlen` and `minclass`).
    pub value: i64,
    /// As written (absent for defaults).
    pub raw: Option<String>,
    /// The file that set it (for a default: `pwquality.conf`, line 0).
    pub path: String,
    /// The line (0 for a default).
    pub line: u32,
    /// Where the value came from.
    pub source: Source,
    /// For a PAM argument: the file setting it overrides, if the files set one.
    pub overrides: Option<Located<String>>,
}

impl EffectiveSetting {
    fn from_file(name: &str, loc: &Located<String>) -> EffectiveSetting {
        EffectiveSetting {
            value: clamp(name, parse_decimal(&loc.value).unwrap_or_default()),
            raw: Some(loc.value.clone()),
            path: loc.path.clone(),
            line: loc.line,
            source: Source::PwqualityConf,
            overrides: None,
        }
    }

    fn default_for(name: &str, default: i64) -> EffectiveSetting {
        EffectiveSetting {
            value: clamp(name, default),
            raw: None,
            path: PWQUALITY_CONF.to_string(),
            line: 0,
            source: Source::Default,
            overrides: None,
        }
    }
}

/// libpwquality's `pwquality_set_int_value` limits.
fn clamp(name: &str, value: i64) -> i64 {
    match name {
        "minlen" => value.max(BASE_MIN_LENGTH),
        "minclass" => value.min(NUM_CLASSES),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_parsers::pam::{PamItem, parse_file};
    use phipolicy_sdk::testing::tree;

    fn rule(line: &str) -> PamRule {
        match parse_file("/etc/pam.d/common-password", line)
            .items
            .into_iter()
            .next()
        {
            Some(PamItem::Rule(r)) => r,
            other => panic!("not a rule: {other:?}"),
        }
    }

    #[test]
    fn dropins_are_read_before_the_main_file() {
        let (_root, t) = tree(&[
            (PWQUALITY_CONF, "minlen = 9\n"),
            (
                "/etc/security/pwquality.conf.d/50-hipaa.conf",
                "minlen = 14\nminclass = 3\n",
            ),
            (
                "/etc/security/pwquality.conf.d/10-base.conf",
                "minclass = 2\ndictcheck = 0\n",
            ),
            (
                "/etc/security/pwquality.conf.d/.hidden.conf",
                "gecoscheck = 1\n",
            ),
            (
                "/etc/security/pwquality.conf.d/skip.conf.bak",
                "maxrepeat = 9\n",
            ),
            (
                "/etc/security/pwquality.conf.d/skip.conf.conf",
                "maxrepeat = 9\n",
            ),
        ]);
        let c = PwqualityConfig::load(&t);
        let order: Vec<_> = c
            .files
            .iter()
            .map(|f| f.path.rsplit('/').next().unwrap())
            .collect();
        assert_eq!(
            order,
            vec![
                ".hidden.conf",
                "10-base.conf",
                "50-hipaa.conf",
                "pwquality.conf"
            ]
        );
        let eff = c.effective_from_files();
        assert_eq!(
            (eff["minlen"].value, eff["minlen"].path.as_str()),
            (9, PWQUALITY_CONF)
        );
        assert_eq!(eff["minclass"].value, 3);
        assert_eq!(eff["dictcheck"].value, 0);
        assert_eq!(eff["gecoscheck"].value, 1);
        assert_eq!(
            (eff["maxrepeat"].value, eff["maxrepeat"].source),
            (0, Source::Default)
        );
    }

    #[test]
    fn a_rejected_setting_stops_reading() {
        let (_root, t) = tree(&[
            (
                "/etc/security/pwquality.conf.d/10-typo.conf",
                "minclass = 3\nminlenght = 14\nmaxrepeat = 2\n",
            ),
            (
                "/etc/security/pwquality.conf.d/20-more.conf",
                "gecoscheck = 1\n",
            ),
            (PWQUALITY_CONF, "dictcheck = 1\n"),
        ]);
        let c = PwqualityConfig::load(&t);
        let stop = c.stopped_at.as_ref().unwrap();
        assert_eq!(
            (stop.path.as_str(), stop.line),
            ("/etc/security/pwquality.conf.d/10-typo.conf", 2)
        );
        let names: Vec<_> = c.settings.keys().map(String::as_str).collect();
        assert_eq!(names, vec!["minclass"]);

        let (_root, t) = tree(&[(PWQUALITY_CONF, "minlen = 12\nminclass = three\n")]);
        let c = PwqualityConfig::load(&t);
        assert_eq!(c.stopped_at.as_ref().unwrap().line, 2);
        assert_eq!(c.effective_from_files()["minlen"].value, 12);
    }

    #[test]
    fn pam_arguments_override_files() {
        let (_root, t) = tree(&[(
            "/etc/security/pwquality.conf.d/50-hipaa.conf",
            "minlen = 14\nmaxrepeat = 2\n",
        )]);
        let c = PwqualityConfig::load(&t);
        let mut issues = Vec::new();
        let line = rule(
            "password requisite pam_pwquality.so retry=3 minlen=8 minclass=3 minclass=2 local_users_only maxrepeat=x\n",
        );
        let eff = c.effective_for(&line, &mut issues);
        let minlen = &eff["minlen"];
        assert_eq!(
            (minlen.value, minlen.source, minlen.line),
            (8, Source::PamArgument, 1)
        );
        let over = minlen.overrides.as_ref().unwrap();
        assert_eq!(
            (over.value.as_str(), over.path.as_str(), over.line),
            ("14", "/etc/security/pwquality.conf.d/50-hipaa.conf", 1)
        );
        assert_eq!(
            (eff["minclass"].value, eff["minclass"].overrides.is_none()),
            (2, true)
        );
        assert_eq!(
            (eff["maxrepeat"].value, eff["maxrepeat"].source),
            (2, Source::PwqualityConf)
        );
        assert_eq!(issues.len(), 1, "{issues:?}");
    }

    #[test]
    fn clamping_like_libpwquality() {
        let (_root, t) = tree(&[(PWQUALITY_CONF, "minlen = 3\nminclass = 9\n")]);
        let eff = PwqualityConfig::load(&t).effective_from_files();
        assert_eq!((eff["minlen"].value, eff["minclass"].value), (6, 4));
    }

    #[test]
    fn absent_files_are_defaults() {
        let (_root, t) = tree(&[]);
        let c = PwqualityConfig::load(&t);
        assert!(c.unreadable.is_empty());
        assert_eq!(c.files.len(), 1);
        assert!(!c.files[0].exists);
        let eff = c.effective_from_files();
        let values: Vec<_> = JUDGED.iter().map(|(n, _)| eff[*n].value).collect();
        assert_eq!(values, vec![8, 0, 0, 0, 1, 1]);
    }
}
