//! The `-o` options systemd passes to sshd: its unit's `ExecStart=` with `$VAR` expanded from
//! `Environment=` and `EnvironmentFile=` (systemd.exec(5), systemd.service(5)). On Rocky/RHEL 8
//! this is how the system crypto policy reaches sshd: `sshd.service` has
//! `EnvironmentFile=-/etc/crypto-policies/back-ends/opensshserver.config` (a symlink into
//! `/usr/share/crypto-policies/<POLICY>/opensshserver.txt`, one line
//! `CRYPTO_POLICY='-oCiphers=... -oMACs=...'`) and `ExecStart=/usr/sbin/sshd -D $OPTIONS
//! $CRYPTO_POLICY`. sshd applies command-line options before its configuration file, and the
//! first value wins, so they override `sshd_config`.

use serde::Serialize;

use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use phipolicy_sdk::target::{ReadError, Target, TargetExt};

/// A manifest's `reads` list followed by what [`crate::sshd::EffectiveSshdConfig::load`] reads
/// besides `/etc/ssh`: sshd's unit and its drop-ins, its environment files, and the crypto-policies
/// back-ends (Rocky 9's `50-redhat.conf` includes one; Rocky 8's unit reads one as an
/// `EnvironmentFile=`) with the `/usr/share/crypto-policies` files they link to.
#[macro_export]
macro_rules! reads_with_sshd {
    ($($path:expr),* $(,)?) => {
        &[
            $($path,)*
            "/etc/crypto-policies/**",
            "/usr/share/crypto-policies/**",
            "/etc/sysconfig/sshd",
            "/etc/default/ssh",
            "/etc/systemd/system/ssh*.service",
            "/etc/systemd/system/ssh*.service.d/**",
            "/usr/lib/systemd/system/ssh*.service",
            "/usr/lib/systemd/system/ssh*.service.d/**",
            "/lib/systemd/system/ssh*.service",
            "/lib/systemd/system/ssh*.service.d/**",
        ]
    };
}

/// The unit names sshd runs under (RHEL: `sshd.service`; Debian/Ubuntu: `ssh.service`).
pub const UNIT_NAMES: &[&str] = &["sshd.service", "ssh.service"];

/// Where systemd looks for units, highest precedence first (systemd.unit(5)).
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Drop-ins read for one unit (a unit has a handful; more is a hostile target).
    pub const MAX_DROPINS: usize = 64;
}
use limits::*;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub path: String,
    pub line: u32,
}

/// One `-o` option sshd receives, and the line it came from (the environment file's assignment
/// for an option inside a variable, else the `ExecStart=` line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct CommandLineOption {
    /// As sshd receives it: `Ciphers=aes256-gcm@openssh.com,...`.
    pub option: String,
    /// The file of the line it came from (unit file or environment file).
    pub path: String,
    /// That line.
    pub line: u32,
    /// The variable it came from (`CRYPTO_POLICY`), if any.
    pub variable: Option<String>,
}

/// sshd's command line as its unit starts it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SshdCommandLine {
    /// The unit file read (after systemd's precedence), if any.
    pub unit: Option<String>,
    /// The `ExecStart=` in force.
    pub exec_start: Option<String>,
    pub exec_start_at: Option<Source>,
    /// Environment files read, in order.
    pub environment_files: Vec<String>,
    pub options: Vec<CommandLineOption>,
    /// `-f FILE`: the configuration file sshd reads instead of `/etc/ssh/sshd_config`.
    pub config_file: Option<String>,
    pub unreadable: Vec<Unreadable>,
    pub issues: Vec<ParseIssue>,
}

/// An environment value with its origin.
#[derive(Debug, Clone)]
struct EnvValue {
    value: String,
    source: Source,
}

impl SshdCommandLine {
    /// Reads the first of [`UNIT_NAMES`] found in [`UNIT_DIRS`] (a unit masked to `/dev/null` is
    /// not started: nothing), its drop-ins, and the environment files it names.
    pub fn load(target: &dyn Target) -> SshdCommandLine {
        let mut out = SshdCommandLine::default();
        let Some((unit_path, name)) = UNIT_NAMES.iter().find_map(|name| {
            UNIT_DIRS
                .iter()
                .map(|d| format!("{d}/{name}"))
                .find(|p| target.lstat(p).is_ok())
                .map(|p| (p, *name))
        }) else {
            return out;
        };
        if target
            .read_link(&unit_path)
            .is_ok_and(|to| to == "/dev/null")
        {
            return out;
        }
        let mut files = vec![unit_path.clone()];
        let mut dropins: Vec<String> = UNIT_DIRS
            .iter()
            .flat_map(|d| target.glob("/", &format!("{d}/{name}.d/*.conf")))
            .collect();
        // Drop-ins apply in file-name order across directories; a name in /etc hides the same
        // name below it.
        dropins.sort_by(|a, b| file_name(a).cmp(file_name(b)));
        dropins.dedup_by(|a, b| file_name(a) == file_name(b));
        dropins.truncate(MAX_DROPINS);
        files.extend(dropins);
        out.unit = Some(unit_path);

        let mut env_files: Vec<(String, bool, Source)> = Vec::new();
        let mut env: Vec<(String, EnvValue)> = Vec::new();
        for path in &files {
            let text = match target.read_text(path) {
                Ok(t) => t,
                Err(e) => {
                    out.unreadable.push(Unreadable::new(path.clone(), &e));
                    continue;
                }
            };
            let mut section = String::new();
            for (n, raw) in text.lines().enumerate() {
                let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
                let l = raw.trim();
                if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
                    continue;
                }
                if l.starts_with('[') {
                    section = l.to_string();
                    continue;
                }
                if section != "[Service]" {
                    continue;
                }
                let Some((key, value)) = l.split_once('=') else {
                    continue;
                };
                let value = value.trim();
                let source = Source {
                    path: path.clone(),
                    line,
                };
                match key.trim() {
                    "ExecStart" if value.is_empty() => {
                        out.exec_start = None;
                        out.exec_start_at = None;
                    }
                    "ExecStart" => {
                        out.exec_start = Some(value.to_string());
                        out.exec_start_at = Some(source);
                    }
                    "EnvironmentFile" if value.is_empty() => env_files.clear(),
                    "EnvironmentFile" => {
                        let (optional, file) = match value.strip_prefix('-') {
                            Some(f) => (true, f),
                            None => (false, value),
                        };
                        env_files.push((file.to_string(), optional, source));
                    }
                    "Environment" => {
                        for word in split_words(value) {
                            if let Some((k, v)) = word.split_once('=') {
                                env.push((
                                    k.to_string(),
                                    EnvValue {
                                        value: v.to_string(),
                                        source: source.clone(),
                                    },
                                ));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        // Environment files are read when the service starts, after Environment= (their
        // assignments win), in the order listed.
        for (file, optional, at) in env_files {
            match target.read_text(&file) {
                Ok(text) => {
                    out.environment_files.push(file.clone());
                    env.extend(parse_environment_file(&file, &text));
                }
                Err(ReadError::NotFound) if optional => {}
                Err(ReadError::NotFound) => out.issues.push(ParseIssue {
                    path: at.path,
                    line: at.line,
                    message: format!(
                        "EnvironmentFile={file} does not exist: systemd does not start the service"
                    ),
                }),
                Err(e) => out.unreadable.push(Unreadable::new(file, &e)),
            }
        }
        if let (Some(exec), Some(at)) = (out.exec_start.clone(), out.exec_start_at.clone()) {
            out.apply_exec_start(&exec, &at, &env);
        }
        out
    }

    /// Expands `$VAR` (split into words) and `${VAR}` (one word), then reads sshd's options.
    fn apply_exec_start(&mut self, exec: &str, at: &Source, env: &[(String, EnvValue)]) {
        let lookup = |name: &str| env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
        // (word, where it came from, variable)
        let mut argv: Vec<(String, Source, Option<String>)> = Vec::new();
        for word in split_words(exec.trim_start_matches(['-', '@', ':', '+', '!'])) {
            if let Some(name) = word.strip_prefix("${").and_then(|w| w.strip_suffix('}')) {
                let (value, source) = lookup(name).map_or((String::new(), at.clone()), |v| {
                    (v.value.clone(), v.source.clone())
                });
                argv.push((value, source, Some(name.to_string())));
            } else if let Some(name) = word.strip_prefix('$') {
                if let Some(v) = lookup(name) {
                    for w in v.value.split_whitespace() {
                        argv.push((w.to_string(), v.source.clone(), Some(name.to_string())));
                    }
                }
            } else {
                argv.push((word, at.clone(), None));
            }
        }
        // sshd's getopt string: these take an argument.
        const WITH_ARGUMENT: &str = "CEbcfghkopu";
        let mut i = 1;
        while i < argv.len() {
            let (word, source, var) = argv[i].clone();
            i += 1;
            let Some(flags) = word.strip_prefix('-') else {
                continue;
            };
            for (pos, c) in flags.char_indices() {
                if !WITH_ARGUMENT.contains(c) {
                    continue;
                }
                let inline = &flags[pos + c.len_utf8()..];
                let value = if inline.is_empty() {
                    let next = argv.get(i).map(|(w, _, _)| w.clone());
                    i += 1;
                    next
                } else {
                    Some(inline.to_string())
                };
                match (c, value) {
                    ('o', Some(v)) => self.options.push(CommandLineOption {
                        option: v,
                        path: source.path.clone(),
                        line: source.line,
                        variable: var.clone(),
                    }),
                    ('f', Some(v)) => self.config_file = Some(v),
                    _ => {}
                }
                break;
            }
        }
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Splits on blanks, honouring double and single quotes (removed), as systemd does for
/// `ExecStart=` and `Environment=`.
fn split_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut has = false;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                has = true;
            }
            None if c.is_whitespace() => {
                if has {
                    words.push(std::mem::take(&mut cur));
                    has = false;
                }
            }
            None => {
                cur.push(c);
                has = true;
            }
        }
    }
    if has {
        words.push(cur);
    }
    words
}

/// `KEY=VALUE` lines of an environment file: `#` and `;` comment lines, blanks around the `=`,
/// one pair of surrounding quotes removed.
fn parse_environment_file(path: &str, text: &str) -> Vec<(String, EnvValue)> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let v = ['\'', '"']
            .iter()
            .find_map(|q| v.strip_prefix(*q).and_then(|s| s.strip_suffix(*q)))
            .unwrap_or(v);
        out.push((
            k.trim().to_string(),
            EnvValue {
                value: v.to_string(),
                source: Source {
                    path: path.to_string(),
                    line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                },
            },
        ));
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::tree;

    const UNIT: &str = "[Unit]\nDescription=OpenSSH server daemon\n\n[Service]\nType=notify\nEnvironmentFile=-/etc/crypto-policies/back-ends/opensshserver.config\nEnvironmentFile=-/etc/sysconfig/sshd\nExecStart=/usr/sbin/sshd -D $OPTIONS $CRYPTO_POLICY\n";

    #[test]
    fn rocky8_crypto_policy_reaches_sshd_as_options() {
        let (_r, t) = tree(&[
            ("/usr/lib/systemd/system/sshd.service", UNIT),
            (
                "/etc/crypto-policies/back-ends/opensshserver.config",
                "CRYPTO_POLICY='-oCiphers=aes256-ctr,aes128-cbc -oMACs=hmac-sha2-256,hmac-sha1'",
            ),
            ("/etc/sysconfig/sshd", "# CRYPTO_POLICY=\n"),
        ]);
        let c = SshdCommandLine::load(&t);
        assert_eq!(
            c.unit.as_deref(),
            Some("/usr/lib/systemd/system/sshd.service")
        );
        let opts: Vec<&str> = c.options.iter().map(|o| o.option.as_str()).collect();
        assert_eq!(
            opts,
            [
                "Ciphers=aes256-ctr,aes128-cbc",
                "MACs=hmac-sha2-256,hmac-sha1"
            ]
        );
        assert_eq!(
            c.options[0].path,
            "/etc/crypto-policies/back-ends/opensshserver.config"
        );
        assert_eq!(c.options[0].line, 1);
        assert_eq!(c.options[0].variable.as_deref(), Some("CRYPTO_POLICY"));
    }

    #[test]
    fn an_empty_crypto_policy_in_sysconfig_opts_out() {
        let (_r, t) = tree(&[
            ("/usr/lib/systemd/system/sshd.service", UNIT),
            (
                "/etc/crypto-policies/back-ends/opensshserver.config",
                "CRYPTO_POLICY='-oCiphers=aes128-cbc'",
            ),
            ("/etc/sysconfig/sshd", "CRYPTO_POLICY=\n"),
        ]);
        assert!(SshdCommandLine::load(&t).options.is_empty());
    }

    #[test]
    fn admin_override_and_dropins() {
        let (_r, t) = tree(&[
            ("/usr/lib/systemd/system/sshd.service", UNIT),
            (
                "/etc/systemd/system/sshd.service.d/10-opts.conf",
                "[Service]\nExecStart=\nExecStart=/usr/sbin/sshd -D -o \"MaxAuthTries 2\" -oPermitRootLogin=no\n",
            ),
        ]);
        let c = SshdCommandLine::load(&t);
        let opts: Vec<&str> = c.options.iter().map(|o| o.option.as_str()).collect();
        assert_eq!(opts, ["MaxAuthTries 2", "PermitRootLogin=no"]);
        assert_eq!(
            c.options[0].path,
            "/etc/systemd/system/sshd.service.d/10-opts.conf"
        );
        assert_eq!(c.options[0].line, 3);
    }
}
