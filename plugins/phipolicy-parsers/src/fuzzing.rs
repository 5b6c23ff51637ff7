//! Long file: one entry point per parser family with the invariants each must keep, so that a
//! fuzz target, its seeds and its regression test name one function here.
//!
//! What the fuzz targets (`fuzz/fuzz_targets/*.rs`) and their regression test
//! (`tests/fuzz_regressions.rs`) run: one function per parser family, taking the fuzzer's bytes,
//! feeding them to the parser the way a plugin does and checking the invariants that are cheap to
//! check (every location a result cites is a line of a file that exists in the target, include
//! expansion is bounded, normalised values are in their normal form). A violated invariant panics,
//! which is what the fuzzer reports as a crash.
//!
//! The input of a target that follows includes is split at [`SEPARATOR`] (0xFF, a byte UTF-8 text
//! never contains) into files: the first part is the main configuration file, the others are
//! placed where the main file's stock include directives look (`/etc/ssh/sshd_config.d/01.conf`,
//! ...), so includes, include loops and fan-out are reachable from one input.
//!
//! Not part of the SDK's API (hidden from the docs, no stability promise).
//!
//! Long file: one short function per fuzz target, side by side so their invariants read alike.

use std::collections::{BTreeMap, BTreeSet};

use phipolicy_sdk::facts::ParseIssue;
use crate::os_release::Family;
use phipolicy_sdk::target::{DirEntry, FileKind, FileStat, ReadError, Target};

/// Records whose lookups (by name, by mount point) are checked: lookups are linear, and checking
/// every record of a large input would make the check, not the parser, quadratic.
const LOOKUPS_CHECKED: usize = 64;

/// Words of a mount table whose octal unescaping is checked.
const WORDS_UNESCAPED: usize = 64;

/// Separates the files of one fuzz input.
pub const SEPARATOR: u8 = 0xFF;

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Files one input may hold: enough for includes that nest and fan out.
    pub const MAX_FILES: usize = 8;
}
use limits::*;

/// What a fuzz target runs on one input.
pub type TargetFn = fn(&[u8]);

/// Every target: its name (the fuzz target's and the seed/regression directories') and what it
/// runs.
pub const TARGETS: &[(&str, TargetFn)] = &[
    ("sshd", sshd),
    ("pam", pam),
    ("audit_rules", audit_rules),
    ("rsyslog", rsyslog),
    ("crontab", crontab),
    ("systemd_unit", systemd_unit),
    ("keyvalue", keyvalue),
    ("accounts", accounts),
    ("nginx", nginx),
    ("apache", apache),
    ("postfix", postfix),
    ("openssl_cnf", openssl_cnf),
    ("dh_pem", dh_pem),
    ("os_release", os_release),
    ("mountinfo", mountinfo),
    ("shell_profile", shell_profile),
];

/// Runs the target called `name` on `data`; `false` when there is no such target.
pub fn run(name: &str, data: &[u8]) -> bool {
    match TARGETS.iter().find(|(n, _)| *n == name) {
        Some((_, f)) => {
            f(data);
            true
        }
        None => false,
    }
}

// ---------------------------------------------------------------------------------------------
// An in-memory target

/// A [`Target`] over files held in memory: directories are implied by the files' paths, there
/// are no symlinks. Paths are normalised lexically (`.`, `..`, repeated `/`) like the engine's.
#[derive(Debug, Clone, Default)]
pub struct MemTarget {
    files: BTreeMap<String, Vec<u8>>,
}

use phipolicy_sdk::path::normalize;

impl MemTarget {
    pub fn new() -> Self {
        MemTarget::default()
    }

    /// Adds (or replaces) the file at the absolute `path`.
    pub fn insert(&mut self, path: &str, contents: &[u8]) {
        if let Some(p) = normalize(path)
            && p != "/"
        {
            self.files.insert(p, contents.to_vec());
        }
    }

    /// The files held, by normalised path.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    fn resolve(&self, path: &str) -> Result<String, ReadError> {
        normalize(path).ok_or_else(|| ReadError::InvalidPath(format!("{path:?} is not absolute")))
    }

    fn is_dir(&self, path: &str) -> bool {
        let prefix = if path == "/" {
            "/".to_string()
        } else {
            format!("{path}/")
        };
        self.files
            .range(prefix.clone()..)
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    fn kind(&self, path: &str) -> Option<FileKind> {
        if self.files.contains_key(path) {
            Some(FileKind::Regular)
        } else if self.is_dir(path) {
            Some(FileKind::Directory)
        } else {
            None
        }
    }
}

impl Target for MemTarget {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let p = self.resolve(path)?;
        match self.files.get(&p) {
            Some(bytes) => Ok(bytes.clone()),
            None if self.is_dir(&p) => Err(ReadError::NotRegular(FileKind::Directory)),
            None => Err(ReadError::NotFound),
        }
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        let p = self.resolve(path)?;
        if self.files.contains_key(&p) {
            return Err(ReadError::Io("not a directory".into()));
        }
        if !self.is_dir(&p) {
            return Err(ReadError::NotFound);
        }
        let prefix = if p == "/" { p.clone() } else { format!("{p}/") };
        let mut out: BTreeMap<String, FileKind> = BTreeMap::new();
        for (key, _) in self.files.range(prefix.clone()..) {
            let Some(rest) = key.strip_prefix(&prefix) else {
                break;
            };
            match rest.split_once('/') {
                Some((dir, _)) => {
                    out.insert(dir.to_string(), FileKind::Directory);
                }
                None => {
                    out.entry(rest.to_string()).or_insert(FileKind::Regular);
                }
            }
        }
        Ok(out
            .into_iter()
            .map(|(name, kind)| DirEntry { name, kind })
            .collect())
    }

    fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
        let p = self.resolve(path)?;
        let kind = self.kind(&p).ok_or(ReadError::NotFound)?;
        let size = self.files.get(&p).map_or(0, |b| b.len() as u64);
        Ok(FileStat {
            kind,
            mode: if kind == FileKind::Directory {
                0o755
            } else {
                0o644
            },
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
        })
    }

    fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.stat(path)
    }

    fn read_link(&self, path: &str) -> Result<String, ReadError> {
        let p = self.resolve(path)?;
        match self.kind(&p) {
            Some(_) => Err(ReadError::Io("not a symbolic link".into())),
            None => Err(ReadError::NotFound),
        }
    }
}

/// The parts of one input (at most [`MAX_FILES`]; the last keeps any further separators).
pub fn split_input(data: &[u8]) -> Vec<&[u8]> {
    data.splitn(MAX_FILES, |b| *b == SEPARATOR).collect()
}

/// A target holding the parts of `data`: the first at `main`, part `i` (from 1) at `extra(i)`.
fn target_of(data: &[u8], main: &str, extra: impl Fn(usize) -> String) -> MemTarget {
    let mut t = MemTarget::new();
    for (i, part) in split_input(data).into_iter().enumerate() {
        let path = if i == 0 { main.to_string() } else { extra(i) };
        t.insert(&path, part);
    }
    t
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

// ---------------------------------------------------------------------------------------------
// Invariants

/// The number of lines a text has, counted the way every parser here numbers them (`\n` ends a
/// line; the text after the last one is a line too).
fn line_count(text: &str) -> u32 {
    u32::try_from(text.bytes().filter(|b| *b == b'\n').count() + 1).unwrap_or(u32::MAX)
}

/// Checks locations against the files of a target.
struct Lines {
    lines: BTreeMap<String, u32>,
}

impl Lines {
    fn of(t: &MemTarget) -> Lines {
        Lines {
            lines: t
                .files()
                .iter()
                .map(|(p, b)| (p.clone(), line_count(&text(b))))
                .collect(),
        }
    }

    fn single(path: &str, text: &str) -> Lines {
        Lines {
            lines: [(path.to_string(), line_count(text))].into_iter().collect(),
        }
    }

    /// `path` is a file of the target and `line` one of its lines (0: the whole file).
    fn at(&self, what: &str, path: &str, line: u32) {
        let key = normalize(path).unwrap_or_else(|| path.to_string());
        let Some(&n) = self.lines.get(&key) else {
            panic!("{what}: {path}:{line} cites a file that is not in the target");
        };
        assert!(
            line <= n,
            "{what}: {path}:{line} cites a line past the end of the file ({n} lines)"
        );
    }

    /// `path` names a file of the target.
    fn file(&self, what: &str, path: &str) {
        self.at(what, path, 0);
    }

    fn issues(&self, what: &str, issues: &[ParseIssue]) {
        for i in issues {
            self.at(what, &i.path, i.line);
        }
    }
}

fn no_duplicates<'a>(what: &str, items: impl IntoIterator<Item = &'a String>) {
    let mut seen = BTreeSet::new();
    for i in items {
        assert!(seen.insert(i), "{what}: {i} listed twice");
    }
}

/// Protocol lists are in `PROTOCOLS` order, each once.
fn protocols_ordered(set: &crate::tls::ProtocolSet) {
    let idx: Vec<usize> = set
        .enabled
        .iter()
        .map(|p| {
            crate::tls::PROTOCOLS
                .iter()
                .position(|q| q == p)
                .unwrap_or_else(|| panic!("unknown protocol {p} enabled"))
        })
        .collect();
    assert!(
        idx.windows(2).all(|w| w[0] < w[1]),
        "protocols not in order: {:?}",
        set.enabled
    );
}

fn serializes(what: &str, v: &impl serde::Serialize) {
    if let Err(e) = serde_json::to_string(v) {
        panic!("{what} does not serialise: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Targets

/// Keywords the plugins ask sshd facts for.
const SSHD_KEYWORDS: &[&str] = &[
    "PermitRootLogin",
    "PasswordAuthentication",
    "KbdInteractiveAuthentication",
    "ChallengeResponseAuthentication",
    "PermitEmptyPasswords",
    "PubkeyAuthentication",
    "UsePAM",
    "MaxAuthTries",
    "ClientAliveInterval",
    "ClientAliveCountMax",
    "ChannelTimeout",
    "Banner",
    "AllowUsers",
    "AllowGroups",
    "DenyUsers",
    "DenyGroups",
    "Ciphers",
    "MACs",
    "KexAlgorithms",
    "LoginGraceTime",
];

/// `/etc/ssh/sshd_config`, then drop-ins under `/etc/ssh/sshd_config.d/` (Debian's stock config
/// includes `*.conf` there).
pub fn sshd(data: &[u8]) {
    use crate::sshd::limits::MAX_PARSES;
    use crate::sshd::{EffectiveSshdConfig, SSHD_CONFIG};
    let t = target_of(data, SSHD_CONFIG, |i| {
        format!("/etc/ssh/sshd_config.d/{i:02}.conf")
    });
    let lines = Lines::of(&t);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.config_found, "the main file exists");
    assert_eq!(c.files.first().map(String::as_str), Some(SSHD_CONFIG));
    no_duplicates("sshd files", &c.files);
    assert!(c.files.len() <= MAX_PARSES);
    for f in &c.files {
        lines.file("sshd file", f);
    }
    lines.issues("sshd issue", &c.issues);
    for d in c.global.iter().chain(&c.match_all) {
        lines.at("sshd directive", &d.path, d.line);
        assert_eq!(
            d.keyword,
            d.keyword.to_ascii_lowercase(),
            "canonical keyword"
        );
    }
    for b in &c.match_blocks {
        lines.at("sshd Match", &b.path, b.line);
        for d in &b.directives {
            lines.at("sshd Match directive", &d.path, d.line);
        }
    }
    for k in SSHD_KEYWORDS {
        if let Some(e) = c.effective(k) {
            if e.default {
                assert_eq!(e.line, 0);
            } else {
                lines.at("sshd effective value", &e.path, e.line);
            }
        }
    }
    let facts = c.facts(SSHD_KEYWORDS);
    serializes("sshd facts", &facts);
}

/// A PAM service (`/etc/pam.d/login`) and the files it can include.
pub fn pam(data: &[u8]) {
    use crate::pam::limits::MAX_INCLUDE_DEPTH;
    use crate::pam::{ALL_MODULE_DIRS, PamItem, PamType, check_modules};
    const INCLUDED: &[&str] = &[
        "common-auth",
        "common-account",
        "common-password",
        "common-session",
        "system-auth",
        "password-auth",
        "other",
    ];
    let t = target_of(data, "/etc/pam.d/login", |i| {
        format!(
            "/etc/pam.d/{}",
            INCLUDED.get(i - 1).copied().unwrap_or("other")
        )
    });
    let lines = Lines::of(&t);
    for (path, bytes) in t.files() {
        let f = crate::pam::parse_file(path, &text(bytes));
        lines.issues("pam issue", &f.issues);
        for item in &f.items {
            match item {
                PamItem::Rule(r) => {
                    lines.at("pam rule", &r.path, r.line);
                    assert!(!r.module.is_empty(), "a rule has a module");
                    let _ = (r.module_name(), r.key_value_args(), r.control.to_string());
                    let _ = r.control.action("success");
                }
                PamItem::AtInclude { path, line, name } => {
                    lines.at("pam @include", path, *line);
                    assert!(!name.is_empty());
                }
            }
        }
    }
    for kind in [
        PamType::Auth,
        PamType::Account,
        PamType::Password,
        PamType::Session,
    ] {
        let mut stack = crate::pam::load_stack(&t, "login", kind);
        assert!(stack.exists, "the service file exists");
        assert!(
            stack.files.len() + stack.unreadable.len() <= crate::pam::limits::MAX_STACK_FILES,
            "include expansion is bounded"
        );
        check_modules(&t, &mut stack, ALL_MODULE_DIRS);
        lines.issues("pam stack issue", &stack.issues);
        for f in &stack.files {
            lines.file("pam stack file", &f.path);
        }
        for e in &stack.entries {
            assert_eq!(e.rule.kind, kind, "stack entries are of the stack's type");
            assert!(e.via.len() <= MAX_INCLUDE_DEPTH, "include depth bounded");
            lines.at("pam entry", &e.rule.path, e.rule.line);
            for step in &e.via {
                lines.at("pam include step", &step.path, step.line);
            }
            assert_eq!(e.module_exists, Some(e.module_file.is_some()));
        }
        serializes("pam stack", &stack);
    }
}

/// Audit rules: `/etc/audit/audit.rules` alone, or fragments in `/etc/audit/rules.d/`.
pub fn audit_rules(data: &[u8]) {
    use crate::audit_rules::{Command, RULES_FILE, augenrules_order, parse_file};
    let parts = split_input(data);
    let t = if parts.len() == 1 {
        target_of(data, RULES_FILE, |_| String::new())
    } else {
        let mut t = MemTarget::new();
        for (i, p) in parts.iter().enumerate() {
            // Names that `ls -v` orders differently from byte order.
            t.insert(&format!("/etc/audit/rules.d/{}-fuzz.rules", i * 7 % 12), p);
        }
        t
    };
    let lines = Lines::of(&t);
    let mut all = Vec::new();
    for (path, bytes) in t.files() {
        let mut issues = Vec::new();
        let parsed = parse_file(path, &text(bytes), &mut issues);
        lines.issues("audit issue", &issues);
        for l in &parsed {
            lines.at("audit line", &l.path, l.line);
            if let Command::Add(r) | Command::Remove(r) = &l.command {
                lines.at("audit rule", &r.path, r.line);
                let canonical: String = "rwxa".chars().filter(|c| r.perms.contains(*c)).collect();
                assert_eq!(r.perms, canonical, "perms in rwxa order, each once");
                let mut sorted = r.syscalls.clone();
                sorted.sort();
                sorted.dedup();
                assert_eq!(r.syscalls, sorted, "syscalls sorted and unique");
                if r.kind == "watch" {
                    assert!(r.watch.is_some(), "a watch has a path");
                }
            }
        }
        all.extend(parsed);
    }
    let (ordered, notes) = augenrules_order(all.clone());
    assert!(ordered.len() <= all.len());
    for n in &notes {
        lines.at("augenrules note", &n.path, n.line);
    }
    let loaded = crate::audit_rules::load(&t);
    lines.issues("audit load issue", &loaded.issues);
    for f in &loaded.files {
        lines.file("audit file", f);
    }
    for r in loaded
        .rules
        .iter()
        .chain(loaded.not_loaded.iter().map(|n| &n.rule))
    {
        lines.at("loaded rule", &r.path, r.line);
    }
    if let Some(e) = &loaded.enabled {
        lines.at("audit -e", &e.path, e.line);
    }
    if loaded.immutable_at_end {
        assert_eq!(loaded.enabled.as_ref().map(|e| e.value.as_str()), Some("2"));
    }
    serializes("audit rules", &loaded);
}

/// `/etc/rsyslog.conf`, then files under `/etc/rsyslog.d/` (Debian's `$IncludeConfig
/// /etc/rsyslog.d/*.conf`).
pub fn rsyslog(data: &[u8]) {
    use crate::rsyslog::{MAIN_CONFIG, selector_coverage};
    let t = target_of(data, MAIN_CONFIG, |i| format!("/etc/rsyslog.d/{i:02}.conf"));
    let lines = Lines::of(&t);
    let c = crate::rsyslog::load(&t);
    assert!(c.found);
    no_duplicates("rsyslog files", &c.files);
    for f in &c.files {
        lines.file("rsyslog file", f);
    }
    lines.issues("rsyslog issue", &c.issues);
    for f in &c.forwards {
        lines.at("rsyslog forward", &f.path, f.line);
        for l in [
            &f.stream_driver,
            &f.stream_driver_mode,
            &f.stream_driver_auth_mode,
            &f.ca_file,
        ]
        .into_iter()
        .flatten()
        {
            lines.at("rsyslog setting", &l.path, l.line);
        }
        assert!(matches!(f.protocol.as_str(), "udp" | "tcp") || f.syntax == "rainerscript");
        if f.tls {
            assert_eq!(f.protocol, "tcp", "TLS needs TCP");
        }
        if f.conditional.is_some() {
            assert!(
                f.coverage.is_none(),
                "a condition decides what a conditional action gets"
            );
        }
    }
    if let Some(g) = &c.global_stream_driver {
        lines.at("rsyslog global driver", &g.path, g.line);
    }
    for line in text(split_input(data).first().copied().unwrap_or_default()).lines() {
        if let Some(sel) = line.split_whitespace().next() {
            let _ = selector_coverage(sel);
        }
    }
    serializes("rsyslog", &c);
}

/// Follows the commands of scheduled jobs the way the contingency-backup plugin does.
fn follow_commands(commands: &[crate::schedule::Command], lines: &Lines) {
    use crate::schedule::{Runs, classify, parse_restic};
    for c in commands {
        lines.at("command", &c.path, c.line);
        for a in &c.env {
            lines.at("assignment", &a.path, a.line);
        }
        match classify(c) {
            Runs::Restic(at) => {
                assert!(at < c.words.len());
                let inv = parse_restic(c, at);
                lines.at("restic", &inv.path, inv.line);
                serializes("restic", &inv);
            }
            Runs::InlineShell(s) => {
                let _ = crate::schedule::split_commands(&s);
            }
            Runs::Script(p) => assert!(p.starts_with('/')),
            Runs::Other => {}
        }
    }
}

/// A cron table (read both as a system table and as a user's), its commands, and the same text
/// read as the shell script a job runs.
pub fn crontab(data: &[u8]) {
    use crate::schedule::{commands_of, parse_crontab, parse_shell_script};
    let path = "/etc/crontab";
    let s = text(data);
    let lines = Lines::single(path, &s);
    for system in [true, false] {
        let tab = parse_crontab(&s, path, system);
        lines.issues("crontab issue", &tab.issues);
        for a in &tab.assignments {
            lines.at("crontab assignment", &a.path, a.line);
            assert!(!a.name.is_empty());
        }
        for e in &tab.entries {
            lines.at("cron entry", &e.path, e.line);
            assert_eq!(e.user.is_some(), system, "system tables have a user field");
            assert!(!e.schedule.is_empty());
            follow_commands(&commands_of(&e.command, &e.env, &e.path, e.line), &lines);
        }
    }
    // A sourced file's assignments: the same text read as an environment file (parsed once, so
    // a script sourcing many times is not quadratic here).
    let sourced_env = crate::schedule::parse_environment_file(&s, path);
    let mut sourced = Vec::new();
    let script = parse_shell_script(&s, path, &[], &mut |file, line| {
        sourced.push((file.to_string(), line));
        sourced_env.clone()
    });
    for (_, line) in &sourced {
        lines.at("sourced", path, *line);
    }
    for a in &script.assignments {
        lines.at("script assignment", &a.path, a.line);
    }
    follow_commands(&script.commands, &lines);
}

/// A systemd unit (`.service`/`.timer`) with its `Environment=`, `EnvironmentFile=` and
/// `ExecStart=` read as the contingency-backup plugin reads them.
pub fn systemd_unit(data: &[u8]) {
    use crate::schedule::{
        UnitFile, commands_of, environment_assignments, environment_file, exec_words,
        parse_environment_file,
    };
    let path = "/etc/systemd/system/backup.service";
    let s = text(data);
    let lines = Lines::single(path, &s);
    let unit = UnitFile::parse(&s, path);
    lines.issues("unit issue", &unit.issues);
    for e in &unit.entries {
        lines.at("unit entry", path, e.line);
        assert!(!e.section.is_empty(), "entries are inside a section");
        assert!(!e.key.contains('='), "keys end at the first '='");
    }
    let mut env = Vec::new();
    for e in unit.values("Service", "Environment") {
        env.extend(environment_assignments(e, path));
    }
    // The environment file: the same text read as one (once, whatever the number of lines).
    if let Some(e) = unit.values("Service", "EnvironmentFile").first() {
        let (file, _optional) = environment_file(&e.value);
        assert_eq!(file, file.trim());
        env.extend(parse_environment_file(&s, path));
    }
    for a in &env {
        lines.at("unit assignment", &a.path, a.line);
    }
    for key in ["ExecStart", "ExecStartPre", "ExecStop"] {
        for e in unit.values("Service", key) {
            let cmds = commands_of(&exec_words(&e.value), &env, path, e.line);
            follow_commands(&cmds, &lines);
        }
    }
    let _ = (
        unit.value("Timer", "OnCalendar"),
        unit.value("Unit", "Description"),
    );
    serializes("unit", &unit);
}

/// Key/value files in both dialects (pwquality/faillock `name = value`, `login.defs`), merged,
/// with their integers read the way each program reads them.
pub fn keyvalue(data: &[u8]) {
    use crate::keyvalue::{Dialect, KeyValueFile, MergedSettings, parse_c_integer, parse_decimal};
    let path = "/etc/security/pwquality.conf";
    let s = text(data);
    let lines = Lines::single(path, &s);
    let mut files = Vec::new();
    for dialect in [Dialect::Equals, Dialect::Whitespace] {
        let f = KeyValueFile::parse(path, &s, dialect);
        lines.issues("keyvalue issue", &f.issues);
        for (i, st) in f.settings.iter().enumerate() {
            lines.at("setting", &st.path, st.line);
            assert!(!st.name.is_empty(), "settings have a name");
            assert!(
                !st.name.contains([' ', '\t']),
                "names end at a blank: {:?}",
                st.name
            );
            if dialect == Dialect::Equals {
                assert!(!st.name.contains(['=', '#']), "name {:?}", st.name);
                if let Some(v) = &st.value {
                    assert!(!v.contains('#'), "comments are stripped: {v:?}");
                }
            }
            if i < LOOKUPS_CHECKED {
                let last = f.last(&st.name).expect("a setting's name is found");
                assert!(last.line >= st.line);
            }
            if let Some(v) = &st.value {
                let dec = parse_decimal(v);
                let c = parse_c_integer(v);
                // Without a leading zero both readers see a decimal number.
                let body = v.trim_start().trim_start_matches(['+', '-']);
                if dec.is_some() && !body.starts_with('0') && !v.trim_start().starts_with("+-") {
                    assert_eq!(dec, c, "decimal {v:?} read alike by strtol base 10 and 0");
                }
            }
            let _ = st.located();
        }
        files.push(f);
    }
    let merged = MergedSettings::merge(&files);
    for (name, st) in &merged.0 {
        assert_eq!(name, &st.name);
    }
    serializes("merged settings", &merged);
}

/// `/etc/passwd`, `/etc/shadow` and `/etc/group` parsers on the same text.
pub fn accounts(data: &[u8]) {
    use crate::accounts::{PasswordState, is_login_shell, parse_group, parse_passwd, parse_shadow};
    let s = text(data);
    let passwd = parse_passwd("/etc/passwd", &s);
    let shadow = parse_shadow("/etc/passwd", &s);
    let group = parse_group("/etc/passwd", &s);
    let lines = Lines::single("/etc/passwd", &s);
    for issues in [&passwd.issues, &shadow.issues, &group.issues] {
        lines.issues("accounts issue", issues);
        assert!(
            issues.windows(2).all(|w| w[0].line <= w[1].line),
            "issues in line order"
        );
    }
    for (i, e) in passwd.entries.iter().enumerate() {
        lines.at("passwd", "/etc/passwd", e.line);
        assert!(!e.name.is_empty() && !e.name.contains(':'));
        let _ = (e.has_login_shell(), is_login_shell(&e.shell));
        if i < LOOKUPS_CHECKED {
            assert!(passwd.by_name(&e.name).is_some_and(|f| f.line <= e.line));
        }
    }
    for (i, e) in shadow.entries.iter().enumerate() {
        lines.at("shadow", "/etc/passwd", e.line);
        assert!(!e.name.is_empty() && !e.name.contains(':'));
        let state = e.password_state();
        if e.hash.is_empty() {
            assert_eq!(state, PasswordState::Empty);
        }
        if i < LOOKUPS_CHECKED {
            assert!(shadow.by_name(&e.name).is_some_and(|f| f.line <= e.line));
        }
    }
    for (i, e) in group.entries.iter().enumerate() {
        lines.at("group", "/etc/passwd", e.line);
        assert!(e.members.iter().all(|m| !m.is_empty() && !m.contains(',')));
        if i < LOOKUPS_CHECKED {
            assert!(group.by_name(&e.name).is_some_and(|f| f.line <= e.line));
        }
    }
    serializes("passwd", &passwd);
    serializes("shadow", &shadow);
    serializes("group", &group);
}


fn server_config_checks(c: &crate::tls::ServerConfig, lines: &Lines) {
    assert!(
        c.report.files.len() <= crate::tls::limits::MAX_FILES,
        "{} files read: include expansion is not bounded",
        c.report.files.len()
    );
    for f in &c.report.files {
        lines.file("server file", f);
    }
    lines.issues("server issue", &c.report.issues);
    for d in &c.directives {
        // A name may be anything, even empty (`"" x;`): the servers reject unknown directives
        // themselves, the loader reports what is written.
        lines.at("server directive", &d.path, d.line);
    }
    serializes("server config", c);
}

/// nginx: `/etc/nginx/nginx.conf`, then files under `/etc/nginx/conf.d/` (Debian's nginx.conf
/// includes `conf.d/*.conf`).
pub fn nginx(data: &[u8]) {
    use crate::tls::{ServerConfig, nginx_protocols};
    let t = target_of(data, "/etc/nginx/nginx.conf", |i| {
        format!("/etc/nginx/conf.d/{i:02}.conf")
    });
    let lines = Lines::of(&t);
    let c = ServerConfig::load_nginx(&t, "/etc/nginx/nginx.conf");
    assert!(c.found);
    server_config_checks(&c, &lines);
    for d in c.named("ssl_protocols") {
        protocols_ordered(&nginx_protocols(&d.args));
    }
}

/// Apache httpd: `/etc/apache2/apache2.conf` (ServerRoot `/etc/apache2`), then files under
/// `/etc/apache2/conf-enabled/` (Debian's `IncludeOptional conf-enabled/*.conf`).
pub fn apache(data: &[u8]) {
    use crate::tls::{ServerConfig, apache_protocols};
    let t = target_of(data, "/etc/apache2/apache2.conf", |i| {
        format!("/etc/apache2/conf-enabled/{i:02}.conf")
    });
    let lines = Lines::of(&t);
    let c = ServerConfig::load_apache(&t, "/etc/apache2/apache2.conf", "/etc/apache2");
    assert!(c.found);
    server_config_checks(&c, &lines);
    for d in c.named("SSLProtocol") {
        protocols_ordered(&apache_protocols(&d.args));
    }
}

/// Postfix `main.cf` and its `*_tls_protocols` values.
pub fn postfix(data: &[u8]) {
    use crate::tls::{PostfixMainCf, postfix_protocols};
    let path = "/etc/postfix/main.cf";
    let s = text(data);
    let lines = Lines::single(path, &s);
    let c = PostfixMainCf::parse(path, &s);
    lines.issues("main.cf issue", &c.issues);
    for (i, st) in c.settings.iter().enumerate() {
        lines.at("main.cf setting", &st.path, st.line);
        assert!(i >= LOOKUPS_CHECKED || c.get(&st.name).is_some());
        protocols_ordered(&postfix_protocols(st.value.as_deref().unwrap_or("")));
    }
    serializes("main.cf", &c);
}

/// `/etc/ssl/openssl.cnf` with `.include`d files (`/etc/ssl/openssl.cnf.d/`), the
/// `system_default` chain, and the same text read as a crypto-policies config.
pub fn openssl_cnf(data: &[u8]) {
    use crate::tls::{CryptoPolicy, OpensslConfig};
    let path = "/etc/ssl/openssl.cnf";
    let t = target_of(data, path, |i| format!("/etc/ssl/openssl.cnf.d/{i:02}.cnf"));
    let lines = Lines::of(&t);
    let c = OpensslConfig::load(&t, path);
    assert!(c.found);
    assert!(
        c.report.files.len() <= crate::tls::limits::MAX_FILES,
        "{} files read: include expansion is not bounded",
        c.report.files.len()
    );
    for f in &c.report.files {
        lines.file("openssl file", f);
    }
    lines.issues("openssl issue", &c.report.issues);
    for st in &c.settings {
        lines.at("openssl setting", &st.path, st.line);
        assert!(!st.name.is_empty());
        assert!(
            st.section == "default" || c.sections.contains(&st.section),
            "a setting's section is declared"
        );
    }
    let sys = c.system_default();
    for l in [
        &sys.openssl_conf,
        &sys.ssl_conf,
        &sys.system_default,
        &sys.min_protocol,
        &sys.max_protocol,
        &sys.cipher_string,
    ]
    .into_iter()
    .flatten()
    {
        lines.at("system_default", &l.path, l.line);
    }
    serializes("openssl", &c);
    let main = text(split_input(data).first().copied().unwrap_or_default());
    if let Some(p) = CryptoPolicy::parse("/etc/crypto-policies/config", &main) {
        Lines::single("/etc/crypto-policies/config", &main).at("policy", &p.path, p.line);
        assert_eq!(p.base, p.base.to_ascii_uppercase());
    }
}

/// PEM Diffie-Hellman parameters (`ssl_dhparam`, `SSLOpenSSLConfCmd DHParameters`).
pub fn dh_pem(data: &[u8]) {
    let s = text(data);
    if let Ok(p) = crate::tls::parse_dh_pem(&s) {
        assert!(p.prime_bits > 0, "a zero prime is an error");
        // Base64 carries 6 bits a character: the prime cannot be longer than the text.
        assert!(
            u64::from(p.prime_bits) <= s.len() as u64 * 6,
            "{} bits from {} characters",
            p.prime_bits,
            s.len()
        );
        serializes("dh params", &p);
    }
}

/// `/etc/os-release` (and the `/usr/lib/os-release` fallback) and the family derived from it.
pub fn os_release(data: &[u8]) {
    use crate::os_release::{OsRelease, family_of};
    let s = text(data);
    let os = OsRelease::parse("/etc/os-release", &s);
    assert_eq!(os.family, family_of(&os.id, &os.id_like));
    assert_eq!(os.id, os.id.to_ascii_lowercase());
    let mut t = MemTarget::new();
    t.insert("/usr/lib/os-release", data);
    let loaded = OsRelease::load(&t).expect("readable").expect("present");
    assert_eq!(loaded.path, "/usr/lib/os-release");
    assert_eq!((loaded.id, loaded.family), (os.id, os.family));
    let mut unreadable = Vec::new();
    assert!(OsRelease::load_or_record(&t, &mut unreadable).is_some());
    assert!(unreadable.is_empty());
}

/// `/proc/self/mountinfo`, and the same text read as `/etc/fstab` and `/etc/crypttab`.
pub fn mountinfo(data: &[u8]) {
    use crate::storage::{
        MountTable, fstab_mount_of, is_under, parse_crypttab, parse_fstab, unescape_octal,
    };
    let path = "/proc/self/mountinfo";
    let s = text(data);
    let lines = Lines::single(path, &s);
    let table = MountTable::parse(path, &s);
    lines.issues("mountinfo issue", &table.issues);
    for (i, m) in table.mounts.iter().enumerate() {
        lines.at("mount", path, m.line);
        if i >= LOOKUPS_CHECKED {
            continue;
        }
        assert!(
            is_under(&m.mount_point, &m.mount_point),
            "a mount point is under itself"
        );
        let found = table
            .mount_of(&m.mount_point)
            .expect("a mount point has a mount");
        assert!(
            found.mount_point.len() >= m.mount_point.len(),
            "the longest mount point wins"
        );
    }
    let (fstab, issues) = parse_fstab(path, &s);
    lines.issues("fstab issue", &issues);
    for (i, e) in fstab.iter().enumerate() {
        lines.at("fstab", &e.path, e.line);
        if i < LOOKUPS_CHECKED && e.mount_point.starts_with('/') {
            assert!(fstab_mount_of(&fstab, &e.mount_point).is_some());
        }
    }
    let (crypttab, issues) = parse_crypttab(path, &s);
    lines.issues("crypttab issue", &issues);
    for e in &crypttab {
        lines.at("crypttab", &e.path, e.line);
        assert!(!matches!(e.key_file.as_deref(), Some("none" | "-" | "")));
    }
    for word in s.split_whitespace().take(WORDS_UNESCAPED) {
        let u = unescape_octal(word);
        assert!(u.len() <= word.len() * 3, "unescaping never grows much");
    }
    serializes("mount table", &table);
}

/// The login shell's `TMOUT` model: `/etc/profile`, then `/etc/bash.bashrc`, `/etc/bashrc` and
/// `/etc/profile.d/*.sh` snippets.
pub fn shell_profile(data: &[u8]) {
    use crate::shell::{PROFILE, login_tmout, tmout_seconds};
    const OTHERS: &[&str] = &["/etc/bash.bashrc", "/etc/bashrc"];
    let t = target_of(data, PROFILE, |i| match OTHERS.get(i - 1) {
        Some(p) => (*p).to_string(),
        None => format!("/etc/profile.d/{i:02}-fuzz.sh"),
    });
    let lines = Lines::of(&t);
    let m = login_tmout(&t, Family::Unknown);
    assert!(m.profile_found);
    assert!(
        m.files.len() + m.unreadable.len() <= crate::shell::limits::MAX_SOURCED_FILES,
        "{} files sourced: sourcing is not bounded",
        m.files.len()
    );
    assert_eq!(m.files.first().map(|f| f.path.as_str()), Some(PROFILE));
    for f in &m.files {
        lines.file("profile file", &f.path);
        if let Some(from) = &f.sourced_from {
            lines.at("sourced from", &from.path, from.line);
        }
    }
    // Issues about the top file's own reading have no location of their own.
    for i in &m.issues {
        if !i.path.is_empty() {
            lines.at("shell issue", &i.path, i.line);
        }
    }
    for st in &m.assignments {
        lines.at("TMOUT statement", &st.path, st.line);
        if let (Some(v), false) = (&st.value, st.value_expands) {
            assert_eq!(st.seconds, Some(tmout_seconds(v)));
        }
        assert_eq!(st.conditional, st.condition.is_some());
    }
    if let Some(p) = &m.effective.path {
        lines.at("effective TMOUT", p, m.effective.line);
    }
    for attr in [&m.effective.readonly, &m.effective.exported]
        .into_iter()
        .flatten()
    {
        lines.at("TMOUT attribute", &attr.path, attr.line);
    }
    for r in &m.effective.refused {
        lines.at("refused", &r.path, r.line);
        lines.at("readonly since", &r.readonly_path, r.readonly_line);
    }
    if let Some(l) = &m.profile_d_loop {
        lines.at("profile.d loop", &l.path, l.line);
    }
    serializes("login TMOUT", &m);
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::target::TargetExt;

    #[test]
    fn mem_target_lists_and_reads() {
        let mut t = MemTarget::new();
        t.insert("/etc/ssh/sshd_config", b"Port 22\n");
        t.insert("/etc/ssh/sshd_config.d/01.conf", b"x");
        t.insert("/etc/sshx", b"y");
        let names: Vec<_> = t
            .list_dir("/etc/ssh")
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.kind))
            .collect();
        assert_eq!(
            names,
            vec![
                ("sshd_config".to_string(), FileKind::Regular),
                ("sshd_config.d".to_string(), FileKind::Directory),
            ]
        );
        assert_eq!(
            t.read_text("/etc/ssh/../ssh//sshd_config").unwrap(),
            "Port 22\n"
        );
        assert_eq!(
            t.read_file("/etc/ssh"),
            Err(ReadError::NotRegular(FileKind::Directory))
        );
        assert_eq!(t.read_file("/etc/nope"), Err(ReadError::NotFound));
        assert_eq!(t.list_dir("/").unwrap().len(), 1);
        assert_eq!(
            t.glob("/etc/ssh", "sshd_config.d/*.conf"),
            vec!["/etc/ssh/sshd_config.d/01.conf"]
        );
    }

    #[test]
    fn every_target_runs_on_empty_and_separated_input() {
        for (name, f) in TARGETS {
            f(b"");
            f(&[SEPARATOR; 3]);
            assert!(run(name, b"\n"));
        }
        assert!(!run("no-such-target", b""));
    }
}
