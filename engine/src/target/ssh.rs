//! `--target ssh://[user@]host[:port]`: a remote host read over SFTP through the system's OpenSSH
//! client, with nothing installed on the host and no command run there besides the `sftp`
//! subsystem.
//!
//! Why the system client and our own SFTP client ([`super::sftp`], one module) rather than an SSH
//! library: the operator's `~/.ssh/config`, agent, keys, `ProxyJump`, certificates and
//! `known_hosts` work as they do for `ssh` itself, with no crypto code of ours or new dependency
//! (russh + russh-sftp would bring tokio and a second crypto stack into the binary).
//!
//! The client is run as `ssh -T -x -a -v -o BatchMode=yes -o StrictHostKeyChecking=yes
//! -o UpdateHostKeys=no -o ClearAllForwardings=yes -o PermitLocalCommand=no -o ControlMaster=no
//! -o ControlPath=none -o ConnectTimeout=N
//! [-F FILE] [-o UserKnownHostsFile=FILE] [-i FILE -o IdentitiesOnly=yes] [-p PORT] [-l USER]
//! -s -- HOST sftp`: no password or passphrase prompt, an unknown host is refused (with
//! `--accept-new-host-key`: `StrictHostKeyChecking=accept-new`, recorded on first use), a changed
//! host key is always refused, no forwarding. Options given first win in ssh, so the operator's
//! configuration cannot weaken these. `-v` makes ssh print the server's host key fingerprint,
//! which the result document records; its other debug lines are dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use serde::Serialize;

use super::TargetError;
use super::sftp::{Sftp, limits as sftp_limits};

/// Limits of SSH targets.
pub mod limits {
    use std::time::Duration;
    /// The per-host timeout (`--ssh-timeout`): connecting and authenticating, and then each
    /// answer of the server, must come within it, else the connection is dropped and the target
    /// is an `error`.
    pub const SSH_TIMEOUT: Duration = Duration::from_secs(30);
    /// Longest user or host name accepted in a target.
    pub const MAX_SSH_NAME_BYTES: usize = 255;
}

/// An SSH target as given: `ssh://[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSpec {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshSpec {
    /// Parses what follows `ssh://` (no path: the remote's `/` is the root).
    pub fn parse(rest: &str) -> Result<SshSpec, String> {
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (user, hostport) = match rest.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, rest),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("unclosed `[` in the host")?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(p.strip_prefix(':').ok_or("expected `:PORT` after `]`")?),
                ),
            }
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (hostport, None),
            }
        };
        let port = port
            .map(|p| {
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or(format!("port {p:?} is not 1-65535"))
            })
            .transpose()?;
        // Letters, digits and `.-_:` only (and no leading `-`): nothing ssh could read as an
        // option, a `%` token or a second destination.
        let plain = |s: &str, extra: &[u8]| {
            !s.is_empty()
                && s.len() <= limits::MAX_SSH_NAME_BYTES
                && !s.starts_with('-')
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b) || extra.contains(&b))
        };
        if !plain(host, b":") {
            return Err(format!(
                "host {host:?}: use a host name or address (letters, digits, `.`, `-`, `_`; IPv6 in brackets)"
            ));
        }
        if let Some(u) = user
            && !plain(u, b"")
        {
            return Err(format!("user {u:?}: use letters, digits, `.`, `-` and `_`"));
        }
        Ok(SshSpec {
            user: user.map(String::from),
            host: host.to_string(),
            port,
        })
    }

    pub fn display(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let port = self.port.map(|p| format!(":{p}")).unwrap_or_default();
        format!("ssh://{user}{host}{port}")
    }
}

/// How SSH targets are reached (the command line's `--ssh-*` options).
#[derive(Debug, Clone)]
pub struct SshOptions {
    /// Trust a host not in known_hosts on first use and record its key there.
    pub accept_new_host_key: bool,
    /// `UserKnownHostsFile` (default: ssh's own, `~/.ssh/known_hosts`).
    pub known_hosts: Option<PathBuf>,
    /// A private key to authenticate with (only it: `IdentitiesOnly=yes`); default: the agent
    /// and ssh's default keys.
    pub identity: Option<PathBuf>,
    /// An ssh configuration file instead of `~/.ssh/config` (`none`: no file at all).
    pub config: Option<PathBuf>,
    /// The per-host timeout.
    pub timeout: Duration,
}

impl Default for SshOptions {
    fn default() -> SshOptions {
        SshOptions {
            accept_new_host_key: false,
            known_hosts: None,
            identity: None,
            config: None,
            timeout: limits::SSH_TIMEOUT,
        }
    }
}

/// What the result document records of an SSH target.
#[derive(
    Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema,
)]
pub struct SshInfo {
    pub host: String,
    /// The port asked for (absent: ssh's configuration decides, 22 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The user asked for (absent: ssh's configuration decides).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The server's host key as ssh verified it against known_hosts: `ssh-ed25519 SHA256:...`.
    pub host_key: String,
}

/// What ssh printed on stderr: its error lines and the server's host key.
#[derive(Debug, Default)]
pub(super) struct StderrLog {
    state: Mutex<StderrState>,
    closed: Condvar,
}

#[derive(Debug, Default)]
struct StderrState {
    errors: std::collections::VecDeque<String>,
    host_key: Option<String>,
    closed: bool,
}

impl StderrLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, StderrState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn line(&self, line: &str) {
        let line = line.trim();
        let mut s = self.lock();
        if let Some(key) = line.strip_prefix("debug1: Server host key: ") {
            s.host_key = Some(key.to_string());
        } else if !line.is_empty() && !line.starts_with("debug") && !line.starts_with("OpenSSH_") {
            if s.errors.len() >= sftp_limits::MAX_STDERR_LINES {
                s.errors.pop_front();
            }
            s.errors.push_back(line.to_string());
        }
    }

    /// Waits (at most `timeout`) until ssh's stderr has ended.
    pub(super) fn wait_closed(&self, timeout: Duration) {
        let s = self.lock();
        let _ = self.closed.wait_timeout_while(s, timeout, |s| !s.closed);
    }

    pub(super) fn errors(&self) -> Vec<String> {
        self.lock().errors.iter().cloned().collect()
    }

    fn host_key(&self) -> Option<String> {
        self.lock().host_key.clone()
    }

    /// Reads `stream` line by line (lines cut at a bound) until it ends.
    fn drain(self: Arc<Self>, stream: impl std::io::Read) {
        use std::io::BufRead;
        let mut reader = std::io::BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            let chunk = match reader.fill_buf() {
                Ok([]) | Err(_) => break,
                Ok(c) => c,
            };
            let (part, newline) = match chunk.iter().position(|b| *b == b'\n') {
                Some(i) => (&chunk[..i], i + 1),
                None => (chunk, chunk.len()),
            };
            let room = sftp_limits::MAX_STDERR_LINE_BYTES.saturating_sub(line.len());
            line.extend_from_slice(&part[..part.len().min(room)]);
            let ended = newline > part.len();
            reader.consume(newline);
            if ended {
                self.line(&String::from_utf8_lossy(&line));
                line.clear();
            }
        }
        if !line.is_empty() {
            self.line(&String::from_utf8_lossy(&line));
        }
        self.lock().closed = true;
        self.closed.notify_all();
    }
}

/// A connected SSH target: the SFTP session and what was verified.
#[derive(Debug)]
pub struct Remote {
    pub sftp: Sftp,
    pub info: SshInfo,
    /// `ssh://user@host:port`, how the target is named.
    pub display: String,
    /// The host's secret files by what identifies them over SFTP, found on first need
    /// ([`crate::fsview::TargetView::secret_linked_as`]).
    pub(crate) secrets:
        std::sync::OnceLock<std::collections::HashMap<crate::fsview::RemoteIdentity, String>>,
}

/// The ssh command line for `spec` (see the module doc).
fn command(spec: &SshSpec, options: &SshOptions) -> Command {
    let mut cmd = Command::new("ssh");
    let strict = if options.accept_new_host_key {
        "accept-new"
    } else {
        "yes"
    };
    let connect = options.timeout.as_secs().max(1);
    cmd.args(["-T", "-x", "-a", "-v"]);
    for o in [
        "BatchMode=yes".to_string(),
        format!("StrictHostKeyChecking={strict}"),
        "UpdateHostKeys=no".into(),
        "ClearAllForwardings=yes".into(),
        "PermitLocalCommand=no".into(),
        "ForwardAgent=no".into(),
        "ForwardX11=no".into(),
        // A connection of its own (never an existing multiplexed master): its key exchange is
        // where the host key is verified and reported.
        "ControlMaster=no".into(),
        "ControlPath=none".into(),
        format!("ConnectTimeout={connect}"),
    ] {
        cmd.arg("-o").arg(o);
    }
    if let Some(config) = &options.config {
        cmd.arg("-F").arg(config);
    }
    if let Some(file) = &options.known_hosts {
        cmd.arg("-o")
            .arg(format!("UserKnownHostsFile={}", file.display()));
    }
    if let Some(key) = &options.identity {
        cmd.arg("-i").arg(key).args(["-o", "IdentitiesOnly=yes"]);
    }
    if let Some(port) = spec.port {
        cmd.arg("-p").arg(port.to_string());
    }
    if let Some(user) = &spec.user {
        cmd.arg("-l").arg(user);
    }
    cmd.args(["-s", "--", &spec.host, "sftp"]);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Connects: spawns ssh, starts SFTP, and records the verified host key.
pub fn connect(spec: &SshSpec, options: &SshOptions) -> Result<Remote, TargetError> {
    let shown = spec.display();
    let mut child = command(spec, options).spawn().map_err(|e| {
        TargetError::Ssh(format!("{shown}: cannot run the OpenSSH client `ssh`: {e}"))
    })?;
    let log = Arc::new(StderrLog::default());
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| TargetError::Ssh(format!("{shown}: ssh has no stderr")))?;
    {
        let log = log.clone();
        std::thread::Builder::new()
            .name("ssh-stderr".into())
            .spawn(move || log.drain(stderr))
            .map_err(|e| TargetError::Ssh(format!("{shown}: {e}")))?;
    }
    let sftp = Sftp::start(child, shown.clone(), options.timeout, log.clone())
        .map_err(|why| TargetError::Ssh(explain(&why, &log.errors(), &shown, options)))?;
    let Some(host_key) = log.host_key() else {
        return Err(TargetError::Ssh(format!(
            "{shown}: ssh did not report the server's host key (is `ssh` OpenSSH?); refusing a host whose key is unknown"
        )));
    };
    Ok(Remote {
        sftp,
        info: SshInfo {
            host: spec.host.clone(),
            port: spec.port,
            user: spec.user.clone(),
            host_key,
        },
        display: shown,
        secrets: std::sync::OnceLock::new(),
    })
}

/// A message that says what went wrong in the operator's terms, with what ssh said.
fn explain(why: &str, said: &[String], shown: &str, options: &SshOptions) -> String {
    let all = said.join("\n");
    if all.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || (all.contains("Host key for") && all.contains("has changed"))
    {
        return format!(
            "{shown}: the host's key does not match the one in known_hosts: refused (a changed key may be an attack; if the host was reinstalled, fix known_hosts yourself). {why}"
        );
    }
    if all.contains("host key is known") || all.contains("Host key verification failed") {
        let hint = if options.accept_new_host_key {
            ""
        } else {
            " (check its fingerprint and add it with ssh-keyscan/ssh, or pass --accept-new-host-key to trust it on first use)"
        };
        return format!("{shown}: the host is not in known_hosts: refused{hint}. {why}");
    }
    if all.contains("Permission denied") {
        return format!(
            "{shown}: authentication failed (the agent's keys, --ssh-identity or ssh's default keys were not accepted; no password is ever asked). {why}"
        );
    }
    why.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let s = SshSpec::parse("root@127.0.0.1:2222").unwrap();
        assert_eq!(
            (s.user.as_deref(), s.host.as_str(), s.port),
            (Some("root"), "127.0.0.1", Some(2222))
        );
        assert_eq!(s.display(), "ssh://root@127.0.0.1:2222");
        let s = SshSpec::parse("web1.example.org").unwrap();
        assert_eq!((s.user, s.port), (None, None));
        let s = SshSpec::parse("[::1]:22").unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", Some(22)));
        assert_eq!(s.display(), "ssh://[::1]:22");
        for bad in [
            "",
            "-oProxyCommand=x",
            "a b",
            "u@h:0",
            "u@h:x",
            "h%n",
            "u;rm@h",
            "@h",
            "[::1",
        ] {
            assert!(SshSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_refuses_unknown_hosts_and_never_prompts() {
        let spec = SshSpec::parse("u@h:2200").unwrap();
        let args = |o: &SshOptions| -> Vec<String> {
            command(&spec, o)
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect()
        };
        let plain = args(&SshOptions::default());
        for want in [
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "ClearAllForwardings=yes",
            "ControlPath=none",
        ] {
            assert!(plain.iter().any(|a| a == want), "{plain:?}");
        }
        assert_eq!(&plain[plain.len() - 4..], ["-s", "--", "h", "sftp"]);
        let accept = args(&SshOptions {
            accept_new_host_key: true,
            ..Default::default()
        });
        assert!(
            accept
                .iter()
                .any(|a| a == "StrictHostKeyChecking=accept-new")
        );
        // Ours come before the operator's configuration file: ssh keeps the first value.
        let with_config = args(&SshOptions {
            config: Some("cfg".into()),
            ..Default::default()
        });
        let strict = with_config
            .iter()
            .position(|a| a.starts_with("StrictHostKeyChecking"))
            .unwrap();
        let config = with_config.iter().position(|a| a == "cfg").unwrap();
        assert!(strict < config);
    }

    #[test]
    fn stderr_keeps_errors_and_the_host_key_only() {
        let log = Arc::new(StderrLog::default());
        let text = "OpenSSH_9.2p1\ndebug1: Connecting\ndebug1: Server host key: ssh-ed25519 SHA256:abc\nHost key verification failed.\n";
        log.clone().drain(text.as_bytes());
        assert_eq!(log.host_key().as_deref(), Some("ssh-ed25519 SHA256:abc"));
        assert_eq!(
            log.errors(),
            vec!["Host key verification failed.".to_string()]
        );
        let long = "x".repeat(sftp_limits::MAX_STDERR_LINE_BYTES * 3);
        let log = Arc::new(StderrLog::default());
        log.clone().drain(long.as_bytes());
        assert_eq!(log.errors()[0].len(), sftp_limits::MAX_STDERR_LINE_BYTES);
    }
}
