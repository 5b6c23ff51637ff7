//! The effective sshd configuration, read with sshd's own rules (OpenSSH `servconf.c`): keywords
//! are case-insensitive, the first value obtained wins, `Include` expands globs in place and nests,
//! `Match` blocks are kept apart with their criteria, file and line.
//!
//! What `sshd -T` (without `-C`) prints is what [`EffectiveSshdConfig::effective`] answers; the
//! differential test in `tests/sshd_differential.rs` holds the two together.
//!
//! Long file: the effective configuration is one algorithm (includes, `Match` blocks, first value
//! wins, defaults per version) whose parts share the keyword table; its tests are in `tests.rs`.
//!
//! ```
//! use phipolicy_parsers::sshd::EffectiveSshdConfig;
//! use phipolicy_sdk::testing::tree;
//!
//! let (_root, target) = tree(&[
//!     ("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n"),
//!     ("/etc/ssh/sshd_config.d/50-hardening.conf", "PermitRootLogin no\n"),
//! ]);
//! let config = EffectiveSshdConfig::load(&target);
//! let root_login = config.get("permitrootlogin").unwrap();
//! // The first value wins, and the include comes first.
//! assert_eq!(root_login.value, "no");
//! assert_eq!((root_login.path.as_str(), root_login.line), ("/etc/ssh/sshd_config.d/50-hardening.conf", 1));
//! ```

use std::collections::HashMap;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use crate::sshd::cmdline::{CommandLineOption, SshdCommandLine};
use phipolicy_sdk::target::{FileKind, ReadError, Target, TargetExt};

pub mod cmdline;
mod report;

pub use report::{
    BlockSetting, CommandLineFacts, Entry, InstalledSshd, MatchBlockFacts, SSHD_BINARIES, Setting,
    SshdFacts, installed_binary,
};

/// The server configuration sshd reads when started without `-f`.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// Where sshd resolves a relative `Include` (its compiled-in `SSHDIR`).
pub const SSH_DIR: &str = "/etc/ssh";

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// sshd's `SERVCONF_MAX_DEPTH`: a file nested deeper than this makes sshd refuse the configuration
    /// ("Too many recursive configuration includes"), which is how it stops include loops.
    pub const MAX_INCLUDE_DEPTH: usize = 16;

    /// Files parsed for one configuration, counting re-parses of a file included again. sshd itself
    /// has no such cap (`servconf.c` loads every file an `Include` glob matches, and re-parses cached
    /// ones), so this is phipolicy's bound on its own work: 100,000 drop-ins parse once each, and only
    /// a fan-out of nested includes (exponential in the 16 levels sshd allows) goes past it. When it
    /// is reached the configuration is reported incomplete (the control cannot be decided), never as
    /// something sshd rejects.
    pub const MAX_PARSES: usize = 250_000;

    /// Bytes of configuration text parsed for one configuration, counting re-parses: the same bound
    /// on work for fan-outs of large files (each read is capped at 16 MiB, but a cached file parses
    /// again at every `Include` that names it).
    pub const MAX_PARSED_BYTES: usize = 64 << 20;

    /// Significant digits of an integer argument read before it is too large for sshd (whose
    /// integer options stop at INT_MAX, 10 digits); bounds the parse, not the values accepted.
    pub const MAX_INT_DIGITS: usize = 12;
}
use limits::*;

/// Keywords whose lines accumulate instead of first-wins (`servconf.c` appends to a list).
const ACCUMULATING: &[&str] = &[
    "allowusers",
    "allowgroups",
    "denyusers",
    "denygroups",
    "acceptenv",
    "hostkey",
    "hostcertificate",
    "port",
    "listenaddress",
    "subsystem",
];

/// Keywords that are yes/no flags (`parse_flag`; values are case-insensitive).
const FLAGS: &[&str] = &[
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "permitemptypasswords",
    "pubkeyauthentication",
    "usepam",
    "hostbasedauthentication",
    "gssapiauthentication",
    "kerberosauthentication",
    "x11forwarding",
    "permittty",
    "ignorerhosts",
    "strictmodes",
];

/// Keywords parsed as non-negative integers (`parse_int`, strtonum 0..INT_MAX).
const INTEGERS: &[&str] = &["maxauthtries", "clientalivecountmax", "maxsessions"];

/// Keywords parsed as time intervals (`parse_time`, convtime(3)); sshd -T prints seconds.
const TIMES: &[&str] = &["clientaliveinterval", "logingracetime"];

/// Keywords that only take one argument; more is "extra arguments at end of line".
const SINGLE_ARGUMENT: &[&str] = &[
    "permitrootlogin",
    "banner",
    "maxstartups",
    "usedns",
    "pidfile",
];

/// Keywords sshd refuses inside a `Match` block (`SSHCFG_GLOBAL`), among those this crate reads.
const GLOBAL_ONLY: &[&str] = &[
    "usepam",
    "ciphers",
    "macs",
    "kexalgorithms",
    "port",
    "listenaddress",
    "hostkey",
    "logingracetime",
    "maxstartups",
    "pidfile",
    "subsystem",
    "usedns",
    "strictmodes",
    "permituserenvironment",
    "syslogfacility",
];

/// Keywords sshd allows in a `Match` block (sshd_config(5), OpenSSH 9.2 and later): only these are
/// copied from a matching block over the global value (`copy_set_server_options`).
const MATCH_KEYWORDS: &[&str] = &[
    "acceptenv",
    "allowagentforwarding",
    "allowgroups",
    "allowstreamlocalforwarding",
    "allowtcpforwarding",
    "allowusers",
    "authenticationmethods",
    "authorizedkeyscommand",
    "authorizedkeyscommanduser",
    "authorizedkeysfile",
    "authorizedprincipalscommand",
    "authorizedprincipalscommanduser",
    "authorizedprincipalsfile",
    "banner",
    "casignaturealgorithms",
    "channeltimeout",
    "chrootdirectory",
    "clientalivecountmax",
    "clientaliveinterval",
    "denygroups",
    "denyusers",
    "disableforwarding",
    "exposeauthinfo",
    "forcecommand",
    "gatewayports",
    "gssapiauthentication",
    "hostbasedacceptedalgorithms",
    "hostbasedauthentication",
    "hostbasedusesnamefrompacketonly",
    "ignorerhosts",
    "ipqos",
    "kbdinteractiveauthentication",
    "kerberosauthentication",
    "loglevel",
    "logverbose",
    "maxauthtries",
    "maxsessions",
    "passwordauthentication",
    "permitemptypasswords",
    "permitlisten",
    "permitopen",
    "permitrootlogin",
    "permittty",
    "permittunnel",
    "permituserrc",
    "pubkeyacceptedalgorithms",
    "pubkeyauthentication",
    "pubkeyauthoptions",
    "rdomain",
    "rekeylimit",
    "revokedkeys",
    "setenv",
    "streamlocalbindmask",
    "streamlocalbindunlink",
    "trustedusercakeys",
    "unusedconnectiontimeout",
    "x11displayoffset",
    "x11forwarding",
    "x11uselocalhost",
];

/// Old keyword names sshd still accepts, and the keyword they set.
const ALIASES: &[(&str, &str)] = &[
    (
        "challengeresponseauthentication",
        "kbdinteractiveauthentication",
    ),
    ("skeyauthentication", "kbdinteractiveauthentication"),
    ("dsaauthentication", "pubkeyauthentication"),
    ("pubkeyacceptedkeytypes", "pubkeyacceptedalgorithms"),
    ("hostbasedacceptedkeytypes", "hostbasedacceptedalgorithms"),
];

/// OpenSSH's built-in values for keywords the controls read (what `sshd -T` shows when unset).
const DEFAULTS: &[(&str, &str)] = &[
    ("permitrootlogin", "prohibit-password"),
    ("passwordauthentication", "yes"),
    ("kbdinteractiveauthentication", "yes"),
    ("maxauthtries", "6"),
    ("pubkeyauthentication", "yes"),
    ("permitemptypasswords", "no"),
    ("usepam", "no"),
    ("clientaliveinterval", "0"),
    ("clientalivecountmax", "3"),
    ("banner", "none"),
    ("channeltimeout", "none"),
    ("allowusers", ""),
    ("allowgroups", ""),
    ("denyusers", ""),
    ("denygroups", ""),
];

/// The canonical (lowercase, alias-resolved) name of a keyword.
pub fn canonical_keyword(keyword: &str) -> String {
    let lower = keyword.to_ascii_lowercase();
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == lower)
        .map(|(_, k)| (*k).to_string())
        .unwrap_or(lower)
}

/// Whether lines of `keyword` accumulate (AllowUsers, AllowGroups, ...) rather than first-wins.
pub fn is_accumulating(keyword: &str) -> bool {
    ACCUMULATING.contains(&keyword)
}

/// OpenSSH's value for `keyword` when no line sets it, when the controls need it.
pub fn default_value(keyword: &str) -> Option<&'static str> {
    DEFAULTS
        .iter()
        .find(|(k, _)| *k == keyword)
        .map(|(_, v)| *v)
}

/// One configuration line: `keyword` canonical, `value` normalised the way `sshd -T` prints it,
/// `args` as sshd tokenised them (quotes removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub keyword: String,
    pub value: String,
    pub args: Vec<String>,
    pub path: String,
    pub line: u32,
}

/// A `Match` block: its criteria (normalised, e.g. `Address 10.0.0.0/8`), where it starts, and the
/// directives that apply only to connections it matches (including lines from files it includes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchBlock {
    pub criteria: String,
    pub path: String,
    pub line: u32,
    /// `Match all`: applies to every connection (and, for `sshd -T`, to the global config).
    pub matches_all: bool,
    pub directives: Vec<Directive>,
}

impl MatchBlock {
    /// The value this block sets for `keyword` (first line wins within the block).
    pub fn get(&self, keyword: &str) -> Option<&Directive> {
        self.directives.iter().find(|d| d.keyword == keyword)
    }

    /// Every line of an accumulating keyword in this block.
    pub fn list(&self, keyword: &str) -> Vec<&Directive> {
        self.directives
            .iter()
            .filter(|d| d.keyword == keyword)
            .collect()
    }
}

/// The value a keyword takes for the global configuration, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveValue {
    pub value: String,
    /// The file that set it (the main config file when it is OpenSSH's default).
    pub path: String,
    /// Its line; 0 for a default.
    pub line: u32,
    pub default: bool,
}

/// sshd's configuration as sshd itself would read it from the target.
#[derive(Debug, Clone, Default)]
pub struct EffectiveSshdConfig {
    /// The main configuration file (`/etc/ssh/sshd_config`).
    pub path: String,
    /// Whether the main configuration file was read.
    pub config_found: bool,
    /// Files read, in the order sshd reads them (each once).
    pub files: Vec<String>,
    /// Files that exist but could not be read (sshd would refuse to start).
    pub unreadable: Vec<Unreadable>,
    /// Lines sshd would reject, dangling includes, include loops.
    pub issues: Vec<ParseIssue>,
    /// Where phipolicy stopped reading before sshd would have ([`MAX_PARSES`],
    /// [`MAX_PARSED_BYTES`]): the effective configuration is then unknown. sshd accepts it.
    pub incomplete: Vec<ParseIssue>,
    /// Directives in force for the global configuration, in the order sshd reads them (lines of
    /// `Match all` blocks included: sshd's global pass applies them too).
    pub global: Vec<Directive>,
    /// Lines of `Match all` blocks, in reading order. sshd applies Match blocks after the global
    /// configuration (`parse_server_match_config`, also run by `sshd -T`), so these override it.
    pub match_all: Vec<Directive>,
    pub match_blocks: Vec<MatchBlock>,
    /// sshd's command line as its systemd unit starts it (only [`Self::load`] reads it).
    pub command_line: SshdCommandLine,
}

/// Where a line sits: the current `Match` block (if any), whether its lines apply to the global
/// configuration, and whether `Match` lines can match at all (not inside an inactive block).
#[derive(Debug, Clone, Copy)]
struct Scope {
    block: Option<usize>,
    active: bool,
    never_match: bool,
}

impl EffectiveSshdConfig {
    /// Reads what sshd reads when its systemd unit starts it: the `-o` options of the unit's
    /// command line (Rocky 8's crypto policy, see [`crate::sshd::cmdline`]), which come first and
    /// so win, then `/etc/ssh/sshd_config` (or the unit's `-f` file) and everything it includes.
    pub fn load(target: &dyn Target) -> EffectiveSshdConfig {
        let command_line = SshdCommandLine::load(target);
        let path = command_line
            .config_file
            .clone()
            .unwrap_or_else(|| SSHD_CONFIG.to_string());
        let mut config = Self::load_with(target, &path, &command_line.options);
        config
            .unreadable
            .extend(command_line.unreadable.iter().cloned());
        config.issues.extend(command_line.issues.iter().cloned());
        config.command_line = command_line;
        config
    }

    /// Reads the configuration starting at `path` (what `sshd -f path` reads; the differential
    /// test uses it). Relative includes still resolve against `/etc/ssh`, as in sshd.
    pub fn load_from(target: &dyn Target, path: &str) -> EffectiveSshdConfig {
        Self::load_with(target, path, &[])
    }

    /// [`Self::load_from`] after `options` given on sshd's command line (`-o`), which sshd
    /// processes before its configuration file.
    pub fn load_with(
        target: &dyn Target,
        path: &str,
        options: &[CommandLineOption],
    ) -> EffectiveSshdConfig {
        let config = EffectiveSshdConfig {
            path: path.to_string(),
            ..EffectiveSshdConfig::default()
        };
        let mut loader = Loader {
            target,
            config,
            cache: HashMap::new(),
            globs: HashMap::new(),
            parsed: 0,
            parsed_bytes: 0,
            halted: false,
        };
        for option in options {
            let mut scope = Scope {
                block: None,
                active: true,
                never_match: false,
            };
            loader.parse_line(&option.path, option.line, &option.option, 0, &mut scope);
        }
        match target.read_text(path) {
            Ok(text) => {
                loader.config.config_found = true;
                loader.cache.insert(path.to_string(), text.clone());
                loader.config.files.push(path.to_string());
                let scope = Scope {
                    block: None,
                    active: true,
                    never_match: false,
                };
                loader.parse_text(path, &text, 0, scope);
            }
            Err(ReadError::NotFound) => {}
            Err(e) => loader.config.unreadable.push(Unreadable::new(path, &e)),
        }
        loader.config
    }

    /// The directive whose value every connection gets for `keyword`, if any line sets it: the
    /// first line in a `Match all` block, else the first line of the global configuration.
    pub fn get(&self, keyword: &str) -> Option<&Directive> {
        self.list(keyword).into_iter().next()
    }

    /// The lines in force for `keyword`, in order: those of `Match all` blocks if any sets it
    /// (Match values replace global ones, lists included), else the global ones. For a first-wins
    /// keyword the first is the value; accumulating keywords (AllowUsers, ...) use all of them.
    pub fn list(&self, keyword: &str) -> Vec<&Directive> {
        let keyword = canonical_keyword(keyword);
        let overriding: Vec<&Directive> = self
            .match_all
            .iter()
            .filter(|d| d.keyword == keyword)
            .collect();
        if !overriding.is_empty() {
            return overriding;
        }
        self.global
            .iter()
            .filter(|d| d.keyword == keyword)
            .collect()
    }

    /// The effective global value of `keyword` (as `sshd -T` prints it), OpenSSH's default when
    /// unset; `None` when unset and the default is not known here. Accumulating keywords give
    /// their entries joined by spaces, with the location of the first line.
    pub fn effective(&self, keyword: &str) -> Option<EffectiveValue> {
        let keyword = canonical_keyword(keyword);
        if is_accumulating(&keyword) {
            let lines = self.list(&keyword);
            if let Some(first) = lines.first() {
                let values: Vec<&str> = lines
                    .iter()
                    .flat_map(|d| d.args.iter().map(String::as_str))
                    .collect();
                return Some(EffectiveValue {
                    value: values.join(" "),
                    path: first.path.clone(),
                    line: first.line,
                    default: false,
                });
            }
        } else if let Some(d) = self.get(&keyword) {
            return Some(EffectiveValue {
                value: d.value.clone(),
                path: d.path.clone(),
                line: d.line,
                default: false,
            });
        }
        default_value(&keyword).map(|v| EffectiveValue {
            value: v.to_string(),
            path: self.path.clone(),
            line: 0,
            default: true,
        })
    }
}

/// The facts both the authentication and automatic-logoff plugins embed ([`SshdFacts`]), for
/// `keywords`.
///
/// `keywords` are sshd keywords in any case (aliases resolve: `challengeresponseauthentication`
/// reads `kbdinteractiveauthentication`). A keyword that is unset and has no known default is left
/// out of `settings`. Accumulating keywords (AllowUsers, AllowGroups, DenyUsers, DenyGroups) also
/// carry `values` (every entry) and `entries` (`{value, path, line}` each); unset, `value` is "".
pub fn facts(target: &dyn Target, keywords: &[&str]) -> SshdFacts {
    EffectiveSshdConfig::load(target).facts(keywords)
}

struct Loader<'t> {
    target: &'t dyn Target,
    config: EffectiveSshdConfig,
    /// File contents by path (sshd caches included files the same way).
    cache: HashMap<String, String>,
    /// What each `Include` pattern matched, by pattern: sshd globs a selector once and re-parses
    /// its cached files when the same pattern is included again.
    globs: HashMap<String, Vec<String>>,
    parsed: usize,
    parsed_bytes: usize,
    /// Set when sshd would have stopped with a fatal error (include depth), or phipolicy stopped
    /// at its own bound on work.
    halted: bool,
}

impl Loader<'_> {
    fn issue(&mut self, path: &str, line: u32, message: impl Into<String>) {
        self.config.issues.push(ParseIssue {
            path: path.to_string(),
            line,
            message: message.into(),
        });
    }

    fn parse_text(&mut self, path: &str, text: &str, depth: usize, scope: Scope) {
        self.parsed += 1;
        self.parsed_bytes += text.len();
        // sshd copies the file into a C string: nothing after a NUL byte is seen.
        let text = text.split('\0').next().unwrap_or("");
        let mut scope = scope;
        for (idx, raw) in text.split('\n').enumerate() {
            if self.halted {
                return;
            }
            let line = u32::try_from(idx + 1).unwrap_or(u32::MAX);
            self.parse_line(path, line, raw, depth, &mut scope);
        }
    }

    fn parse_line(&mut self, path: &str, line: u32, raw: &str, depth: usize, scope: &mut Scope) {
        let bytes = trim_line(raw.as_bytes());
        if bytes.is_empty() {
            return;
        }
        let Some((mut keyword, mut rest)) = strdelim(bytes) else {
            return;
        };
        if keyword.is_empty() {
            let Some(r) = rest else { return };
            let Some((k, r2)) = strdelim(r) else { return };
            keyword = k;
            rest = r2;
        }
        if keyword.is_empty() || keyword.first() == Some(&b'#') {
            return;
        }
        let keyword_text = String::from_utf8_lossy(&keyword).into_owned();
        let rest = match rest {
            Some(r) if !r.is_empty() => r,
            _ => {
                self.issue(
                    path,
                    line,
                    format!("no argument after keyword \"{keyword_text}\""),
                );
                return;
            }
        };
        let Some(args) = argv_split(rest) else {
            self.issue(path, line, "invalid quotes");
            return;
        };
        let keyword = canonical_keyword(&keyword_text);
        match keyword.as_str() {
            "match" => self.match_line(path, line, rest, scope),
            "include" => self.include_line(path, line, &args, depth, *scope),
            _ => self.directive(path, line, &keyword_text, keyword, args, *scope),
        }
    }

    fn match_line(&mut self, path: &str, line: u32, rest: &[u8], scope: &mut Scope) {
        let (criteria, matches_all) = match match_criteria(rest) {
            Ok(c) => c,
            Err(message) => {
                self.issue(path, line, format!("Bad Match condition: {message}"));
                (String::from_utf8_lossy(rest).trim().to_string(), false)
            }
        };
        self.config.match_blocks.push(MatchBlock {
            criteria,
            path: path.to_string(),
            line,
            matches_all,
            directives: Vec::new(),
        });
        scope.block = Some(self.config.match_blocks.len() - 1);
        scope.active = matches_all && !scope.never_match;
    }

    fn include_line(&mut self, path: &str, line: u32, args: &[String], depth: usize, scope: Scope) {
        if args.is_empty() {
            self.issue(path, line, "Include missing filename argument");
            return;
        }
        for arg in args {
            if arg.is_empty() {
                self.issue(path, line, "Include with an empty argument");
                return;
            }
            // glob(3) without GLOB_TILDE: a `~` pattern is literal and matches nothing.
            if arg.starts_with('~') {
                continue;
            }
            let pattern = if arg.starts_with('/') {
                arg.clone()
            } else {
                format!("{SSH_DIR}/{arg}")
            };
            let files = match self.globs.get(&pattern) {
                Some(files) => files.clone(),
                None => {
                    self.check_glob_base(&pattern);
                    let files = self.target.glob("/", &pattern);
                    self.globs.insert(pattern.clone(), files.clone());
                    files
                }
            };
            for file in files {
                if self.halted {
                    return;
                }
                if depth + 1 > MAX_INCLUDE_DEPTH {
                    self.issue(
                        path,
                        line,
                        format!("Too many recursive configuration includes (more than {MAX_INCLUDE_DEPTH} levels): sshd refuses this configuration"),
                    );
                    self.halted = true;
                    return;
                }
                if self.parsed >= MAX_PARSES || self.parsed_bytes >= MAX_PARSED_BYTES {
                    self.config.incomplete.push(ParseIssue {
                        path: path.to_string(),
                        line,
                        message: format!(
                            "phipolicy stopped reading includes here after parsing {} files ({} bytes, counting files included again): its bound on work is {MAX_PARSES} files or {MAX_PARSED_BYTES} bytes. sshd has no such limit and reads on, so the effective configuration is unknown",
                            self.parsed, self.parsed_bytes
                        ),
                    });
                    self.halted = true;
                    return;
                }
                let Some(text) = self.read_included(path, line, &file) else {
                    continue;
                };
                let child = Scope {
                    block: scope.block,
                    active: scope.active,
                    never_match: !scope.active,
                };
                self.parse_text(&file, &text, depth + 1, child);
            }
        }
    }

    /// A glob over a directory the target refuses (undeclared, permission) silently matches
    /// nothing; record the directory as unreadable instead, so the result fails closed.
    fn check_glob_base(&mut self, pattern: &str) {
        let components: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
        let magic = components.iter().position(|c| c.contains(['*', '?', '[']));
        let (probe, result) = match magic {
            Some(i) => {
                let dir = format!("/{}", components.get(..i).unwrap_or(&[]).join("/"));
                let r = self.target.list_dir(&dir).map(|_| ());
                (dir, r)
            }
            None => (pattern.to_string(), self.target.lstat(pattern).map(|_| ())),
        };
        match result {
            Ok(()) | Err(ReadError::NotFound) | Err(ReadError::NotRegular(_)) => {}
            Err(e) => {
                if !self.config.unreadable.iter().any(|u| u.path == probe) {
                    self.config.unreadable.push(Unreadable::new(probe, &e));
                }
            }
        }
    }

    /// Reads a file an `Include` matched; `None` (with the reason recorded) when it cannot be.
    fn read_included(&mut self, path: &str, line: u32, file: &str) -> Option<String> {
        if let Some(text) = self.cache.get(file) {
            return Some(text.clone());
        }
        match self.target.read_text(file) {
            Ok(text) => {
                self.cache.insert(file.to_string(), text.clone());
                self.config.files.push(file.to_string());
                Some(text)
            }
            Err(ReadError::NotFound) => {
                let detail = match self.target.read_link(file) {
                    Ok(to) => {
                        format!(" (a symlink to {to}, which does not exist inside the target)")
                    }
                    Err(_) => String::new(),
                };
                self.issue(
                    path,
                    line,
                    format!(
                        "Include matched {file}{detail}: sshd cannot open it and refuses to start"
                    ),
                );
                None
            }
            // sshd reads a directory as an empty file.
            Err(ReadError::NotRegular(FileKind::Directory)) => None,
            Err(e) => {
                if !self.config.unreadable.iter().any(|u| u.path == file) {
                    self.config.unreadable.push(Unreadable::new(file, &e));
                }
                None
            }
        }
    }

    fn directive(
        &mut self,
        path: &str,
        line: u32,
        spelled: &str,
        keyword: String,
        args: Vec<String>,
        scope: Scope,
    ) {
        if !scope.active && GLOBAL_ONLY.contains(&keyword.as_str()) {
            self.issue(
                path,
                line,
                format!("Directive '{spelled}' is not allowed within a Match block"),
            );
            return;
        }
        let value = match normalise(&keyword, &args) {
            Ok(v) => v,
            Err(message) => {
                self.issue(path, line, format!("{spelled}: {message}"));
                args.join(" ")
            }
        };
        let directive = Directive {
            keyword,
            value,
            args,
            path: path.to_string(),
            line,
        };
        if let Some(block) = scope
            .block
            .and_then(|i| self.config.match_blocks.get_mut(i))
        {
            block.directives.push(directive.clone());
        }
        if scope.active {
            // Active inside a block means inside `Match all`.
            if scope.block.is_some() && MATCH_KEYWORDS.contains(&directive.keyword.as_str()) {
                self.config.match_all.push(directive.clone());
            }
            self.config.global.push(directive);
        }
    }
}

/// The value `sshd -T` would print for one line's arguments, or why sshd rejects them.
fn normalise(keyword: &str, args: &[String]) -> Result<String, String> {
    let first = args.first().map(String::as_str).unwrap_or("");
    let single = FLAGS.contains(&keyword)
        || INTEGERS.contains(&keyword)
        || TIMES.contains(&keyword)
        || SINGLE_ARGUMENT.contains(&keyword);
    if (single || is_accumulating(keyword)) && first.is_empty() {
        return Err("missing argument".into());
    }
    if single && args.len() > 1 {
        return Err("extra arguments at end of line".into());
    }
    if FLAGS.contains(&keyword) {
        let lower = first.to_ascii_lowercase();
        return match lower.as_str() {
            "yes" | "no" => Ok(lower),
            _ => Err(format!("unsupported option \"{first}\"")),
        };
    }
    if INTEGERS.contains(&keyword) {
        return parse_int(first)
            .map(|n| n.to_string())
            .ok_or_else(|| format!("integer value invalid: \"{first}\""));
    }
    if TIMES.contains(&keyword) {
        return convtime(first)
            .map(|n| n.to_string())
            .ok_or_else(|| format!("invalid time value \"{first}\""));
    }
    match keyword {
        "permitrootlogin" => {
            let lower = first.to_ascii_lowercase();
            match lower.as_str() {
                "without-password" | "prohibit-password" => Ok("prohibit-password".into()),
                "yes" | "no" | "forced-commands-only" => Ok(lower),
                _ => Err(format!("unsupported option \"{first}\"")),
            }
        }
        "banner" => {
            if first.eq_ignore_ascii_case("none") {
                Ok("none".into())
            } else if first == "~" {
                Ok("/root".into())
            } else if let Some(rest) = first.strip_prefix("~/") {
                // sshd runs as root: tilde_expand_filename uses root's home.
                Ok(format!("/root/{rest}"))
            } else {
                Ok(first.to_string())
            }
        }
        "channeltimeout" => {
            if args.iter().any(|a| a == "none") && args.len() > 1 {
                return Err("\"none\" argument must appear alone".into());
            }
            if args.is_empty() {
                return Err("missing argument".into());
            }
            Ok(args.join(" "))
        }
        _ => Ok(args.join(" ")),
    }
}

/// strtonum(3) over 0..=INT_MAX, as sshd's `atoi_err`: optional sign, decimal digits.
fn parse_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, s.get(1..)?),
        Some(b'-') => (true, s.get(1..)?),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > MAX_INT_DIGITS {
        return None;
    }
    let n: i64 = if trimmed.is_empty() {
        0
    } else {
        trimmed.parse().ok()?
    };
    let n = if negative { -n } else { n };
    (0..=i64::from(i32::MAX)).contains(&n).then_some(n)
}

/// convtime(3): a sequence of `<number>[smhdwSMHDW]` summed into seconds, at most INT_MAX.
fn convtime(s: &str) -> Option<i64> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let max = i64::from(i32::MAX);
    let mut total: i64 = 0;
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let mut negative = false;
        if let Some(&c @ (b'+' | b'-')) = bytes.get(i) {
            negative = c == b'-';
            i += 1;
        }
        let digits_start = i;
        let mut secs: i64 = 0;
        while let Some(&c) = bytes.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            secs = secs.saturating_mul(10).saturating_add(i64::from(c - b'0'));
            i += 1;
        }
        if i == digits_start || i == start {
            return None;
        }
        if negative && secs != 0 {
            return None;
        }
        let multiplier: i64 = match bytes.get(i) {
            None => 1,
            Some(c) => {
                i += 1;
                match c {
                    b's' | b'S' => 1,
                    b'm' | b'M' => 60,
                    b'h' | b'H' => 3600,
                    b'd' | b'D' => 86_400,
                    b'w' | b'W' => 604_800,
                    _ => return None,
                }
            }
        };
        if secs > max / multiplier {
            return None;
        }
        let secs = secs * multiplier;
        if total > max - secs {
            return None;
        }
        total += secs;
    }
    Some(total)
}

/// The criteria of a `Match` line, normalised (`Address 10.0.0.0/8 User bob`), and whether it is
/// `Match all`; an error when sshd would reject the line.
fn match_criteria(rest: &[u8]) -> Result<(String, bool), String> {
    const KNOWN: &[&str] = &[
        "user",
        "group",
        "host",
        "localaddress",
        "localport",
        "address",
        "rdomain",
        "invalid-user",
        "version",
    ];
    let mut parts: Vec<String> = Vec::new();
    let mut cursor: Option<&[u8]> = Some(rest);
    let mut attributes = 0;
    while let Some((attrib, next)) = cursor.and_then(strdelim) {
        if attrib.is_empty() || attrib.first() == Some(&b'#') {
            break;
        }
        attributes += 1;
        let attrib = String::from_utf8_lossy(&attrib).into_owned();
        if attrib.eq_ignore_ascii_case("all") {
            let extra = next.and_then(strdelim).map(|(a, _)| a);
            let has_extra = extra.is_some_and(|a| !a.is_empty() && a.first() != Some(&b'#'));
            if attributes > 1 || has_extra {
                return Err("'all' cannot be combined with other Match attributes".into());
            }
            return Ok(("all".into(), true));
        }
        let Some((arg, after)) = next.and_then(strdelim) else {
            return Err(format!("missing Match criteria for {attrib}"));
        };
        if arg.is_empty() || arg.first() == Some(&b'#') {
            return Err(format!("missing Match criteria for {attrib}"));
        }
        if !KNOWN.contains(&attrib.to_ascii_lowercase().as_str()) {
            return Err(format!("unsupported Match attribute {attrib}"));
        }
        parts.push(attrib);
        parts.push(String::from_utf8_lossy(&arg).into_owned());
        cursor = after;
    }
    if attributes == 0 {
        return Err("one or more attributes required for Match".into());
    }
    Ok((parts.join(" "), false))
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// sshd strips leading " \t\r" when loading a file and trailing whitespace and form feeds per line.
fn trim_line(mut b: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = b {
        if matches!(first, b' ' | b'\t' | b'\r') {
            b = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = b {
        if is_ws(*last) || *last == 0x0c {
            b = rest;
        } else {
            break;
        }
    }
    b
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| is_ws(**c)).count();
    b.get(n..).unwrap_or(&[])
}

/// misc.c `strdelim`: the next token, splitting on whitespace, a double quote or one `=`.
/// Returns the token and the rest (`None` for C's NULL); `None` overall when a quote is unclosed.
/// The rest is borrowed: copying it for every token made a long `Match` line quadratic.
fn strdelim(s: &[u8]) -> Option<(Vec<u8>, Option<&[u8]>)> {
    let Some(pos) = s.iter().position(|c| is_ws(*c) || *c == b'"' || *c == b'=') else {
        return Some((s.to_vec(), None));
    };
    let head = s.get(..pos).unwrap_or(&[]);
    let tail = s.get(pos + 1..).unwrap_or(&[]);
    if s.get(pos) == Some(&b'"') {
        let close = tail.iter().position(|c| *c == b'"')?;
        let mut token = head.to_vec();
        token.extend_from_slice(tail.get(..close).unwrap_or(&[]));
        let after = tail.get(close + 1..).unwrap_or(&[]);
        return Some((token, Some(skip_ws(after))));
    }
    let was_equals = s.get(pos) == Some(&b'=');
    let mut rest = skip_ws(tail);
    if !was_equals && rest.first() == Some(&b'=') {
        rest = skip_ws(rest.get(1..).unwrap_or(&[]));
    }
    Some((head.to_vec(), Some(rest)))
}

/// misc.c `argv_split` with `terminate_on_comment`: whitespace-separated words, single or double
/// quotes, backslash escapes of quotes, backslash and (unquoted) space; `None` on an unclosed quote.
fn argv_split(s: &[u8]) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        if c == b' ' || c == b'\t' {
            i += 1;
            continue;
        }
        if c == b'#' {
            break;
        }
        let mut quote: u8 = 0;
        let mut arg: Vec<u8> = Vec::new();
        while let Some(&c) = s.get(i) {
            if c == b'\\' {
                let next = s.get(i + 1).copied();
                match next {
                    Some(n)
                        if n == b'\'' || n == b'"' || n == b'\\' || (quote == 0 && n == b' ') =>
                    {
                        arg.push(n);
                        i += 2;
                    }
                    _ => {
                        arg.push(c);
                        i += 1;
                    }
                }
                continue;
            }
            if quote == 0 && (c == b' ' || c == b'\t') {
                break;
            } else if quote == 0 && (c == b'"' || c == b'\'') {
                quote = c;
            } else if quote != 0 && c == quote {
                quote = 0;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote != 0 {
            return None;
        }
        out.push(String::from_utf8_lossy(&arg).into_owned());
    }
    Some(out)
}

#[cfg(test)]
mod tests;
