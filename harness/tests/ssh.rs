//! `--target ssh://` against a real OpenSSH server: sshd from Debian's archive (the harness's
//! Debian 12 image, built by `cargo xtask images` with openssh-server), in a container reached
//! only through a port published on 127.0.0.1. Key authentication works and the verdicts equal
//! `--root` on the `docker export` of the same container (except the spec's live-only controls);
//! an unknown host is refused unless `--accept-new-host-key`; a wrong host key is refused with a
//! clear message, even with `--accept-new-host-key`; a hard link of `/etc/shadow` is refused as
//! secret though SFTP carries no inode numbers; in a fleet, a connection dropped mid-scan and
//! a host that never answers are those targets' `error` while the others finish. The operator's
//! `~/.ssh` is never read or written: every run gets `--ssh-config none`, a temporary known_hosts
//! and key, and no agent.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use harness::docker;

const IMAGE: &str = "phipolicy/debian:12";

/// The sshd container; removed on drop.
struct Sshd {
    id: String,
    port: u16,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = docker(&["rm", "--force", &self.id]);
    }
}

/// Starts sshd in a container of the Debian 12 harness image, authorising `public_key` for root,
/// with its port published on 127.0.0.1 only; waits for its banner.
fn start_sshd(public_key: &str) -> Result<Sshd> {
    let script = "set -e; mkdir -p /run/sshd /root/.ssh; chmod 700 /root/.ssh; \
        printf '%s\\n' \"$AUTHORIZED_KEY\" > /root/.ssh/authorized_keys; \
        chmod 600 /root/.ssh/authorized_keys; ssh-keygen -A >/dev/null; \
        test -x /usr/lib/openssh/sftp-server; exec /usr/sbin/sshd -D -e";
    let id = docker(&[
        "run",
        "--detach",
        "--publish",
        "127.0.0.1::22",
        "--env",
        &format!("AUTHORIZED_KEY={}", public_key.trim()),
        IMAGE,
        "sh",
        "-c",
        script,
    ])?;
    let mut sshd = Sshd { id, port: 0 };
    let mapped = docker(&["port", &sshd.id, "22/tcp"])?;
    let addr = mapped
        .lines()
        .find(|l| l.starts_with("127.0.0.1:"))
        .with_context(|| format!("sshd's port is not published on 127.0.0.1: {mapped}"))?;
    sshd.port = addr.rsplit(':').next().unwrap_or_default().parse()?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let banner = TcpStream::connect(("127.0.0.1", sshd.port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            let mut buf = [0u8; 8];
            s.read_exact(&mut buf)?;
            Ok(buf)
        });
        if banner.is_ok_and(|b| b.starts_with(b"SSH-2.0")) {
            return Ok(sshd);
        }
        if Instant::now() > deadline {
            let logs = Command::new("docker").args(["logs", &sshd.id]).output()?;
            bail!(
                "sshd in the container did not answer within 30 s: {}",
                String::from_utf8_lossy(&logs.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The temporary client side: a key pair and known_hosts files, nothing under `~/.ssh`.
struct Client {
    dir: tempfile::TempDir,
}

impl Client {
    fn new() -> Client {
        let dir = tempfile::tempdir().unwrap();
        let c = Client { dir };
        keygen(&c.key());
        c
    }
    fn key(&self) -> PathBuf {
        self.dir.path().join("id_ed25519")
    }
    fn public_key(&self) -> String {
        std::fs::read_to_string(self.key().with_extension("pub")).unwrap()
    }
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "phipolicy-harness",
            "-f",
        ])
        .arg(path)
        .output()
        .expect("ssh-keygen (openssh-client) must be installed to test SSH targets");
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `phipolicy ARGS` with the client's key, a known_hosts file, no ssh configuration, no agent.
fn phipolicy(bin: &Path, client: &Client, known_hosts: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .arg("--ssh-identity")
        .arg(client.key())
        .arg("--ssh-known-hosts")
        .arg(known_hosts)
        .args(["--ssh-config", "none"])
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap()
}

fn eval_args(target: &str) -> Vec<String> {
    [
        "eval",
        "--format",
        "json",
        "--now",
        harness::NOW,
        "--target",
        target,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Forwards one connection at a time to `upstream`, cutting both sides after `limit` bytes came
/// back from the server: a connection that drops in the middle of a scan.
fn cutting_proxy(upstream: u16, limit: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                return;
            };
            let seen = Arc::new(AtomicUsize::new(0));
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let (mut from, mut to) = (c2, s2);
                let _ = std::io::copy(&mut from, &mut to);
            });
            let (mut from, mut to) = (server, client);
            let mut buf = [0u8; 4096];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
                if seen.fetch_add(n, Ordering::Relaxed) + n > limit {
                    break;
                }
            }
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        }
    });
    port
}

/// Accepts connections and never says anything: a host that hangs.
fn silent_listener() -> (TcpListener, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    (listener, port)
}

fn known_hosts_line(port: u16, public_key: &str) -> String {
    let mut parts = public_key.split_whitespace();
    let (kind, key) = (parts.next().unwrap(), parts.next().unwrap());
    format!("[127.0.0.1]:{port} {kind} {key}\n")
}

#[test]
fn ssh_targets_against_sshd_in_a_debian_container() {
    harness::docker_reachable().unwrap_or_else(|e| panic!("SSH targets not tested: {e:#}"));
    if docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE]).is_err() {
        panic!(
            "SSH targets not tested: {IMAGE} is not built: run `cargo xtask images` (CI builds it before the harness)"
        );
    }
    if Command::new("ssh").arg("-V").output().is_err() {
        panic!(
            "SSH targets not tested: the OpenSSH client `ssh` is not installed (Debian: openssh-client)"
        );
    }
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let client = Client::new();
    let sshd = start_sshd(&client.public_key()).unwrap_or_else(|e| panic!("{e:#}"));
    let host_key = docker(&["exec", &sshd.id, "cat", "/etc/ssh/ssh_host_ed25519_key.pub"]).unwrap();
    let fingerprint = {
        let pubfile = client.file("host.pub");
        std::fs::write(&pubfile, &host_key).unwrap();
        let out = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(&pubfile)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    let target = format!("ssh://root@127.0.0.1:{}", sshd.port);
    let known = client.file("known_hosts");
    std::fs::write(&known, known_hosts_line(sshd.port, &host_key)).unwrap();

    // Key authentication; the verdicts equal --root on the export of the same container.
    let out = phipolicy(&bin, &client, &known, &strs(&eval_args(&target)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "eval --target {target}: {stderr}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["target"]["kind"], "ssh");
    assert_eq!(doc["target"]["root"], target.as_str());
    assert_eq!(doc["target"]["ssh"]["host"], "127.0.0.1");
    assert_eq!(doc["target"]["ssh"]["port"], sshd.port);
    assert_eq!(doc["target"]["ssh"]["user"], "root");
    assert_eq!(
        doc["target"]["ssh"]["host_key"],
        format!("ssh-ed25519 {fingerprint}").as_str()
    );
    assert_eq!(doc["target"]["os"]["id"], "debian");
    let remote = harness::Scan::parse(&out.stdout).unwrap();
    let exported = harness::scan_exported(&sshd.id, &bin).unwrap_or_else(|e| panic!("{e:#}"));
    let exp = harness::load_expectations().unwrap();
    assert!(
        remote.order.len() >= 15 && remote.order == exported.order,
        "controls differ: {:?} vs {:?}",
        remote.order,
        exported.order
    );
    // The SSH scan is a live one, of the same container: the spec's live-only controls may differ.
    let problems = harness::compare_ways_in("ssh", &remote, &exported, &exp);
    assert!(
        problems.is_empty(),
        "SSH and --root disagree:\n{}",
        problems.join("\n")
    );

    // SFTP has no inode numbers: a hard link of /etc/shadow that sshd's configuration includes is
    // still taken for the secret (same size, mode, owner, mtime) and never served to the plugin.
    docker(&[
        "exec",
        &sshd.id,
        "sh",
        "-c",
        "echo 'phipolicy:QUOTEDHASHMARKER:20000::::::' >> /etc/shadow && \
         ln /etc/shadow /etc/ssh/sshd_config.d/zz-planted.conf",
    ])
    .unwrap();
    let out = phipolicy(&bin, &client, &known, &strs(&eval_args(&target)));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains("QUOTEDHASHMARKER"),
        "a password hash reached the document"
    );
    assert!(
        text.contains("zz-planted.conf (secret material, a hard link of /etc/shadow"),
        "the hard link of /etc/shadow was not refused as secret"
    );
    docker(&[
        "exec",
        &sshd.id,
        "rm",
        "/etc/ssh/sshd_config.d/zz-planted.conf",
    ])
    .unwrap();

    // An unknown host is refused, naming the way out; with --accept-new-host-key it is trusted
    // on first use and recorded.
    let empty = client.file("known_hosts.empty");
    std::fs::write(&empty, "").unwrap();
    let out = phipolicy(&bin, &client, &empty, &strs(&eval_args(&target)));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "unknown host: {stderr}");
    assert!(
        stderr.contains("not in known_hosts") && stderr.contains("--accept-new-host-key"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "printed a document for a refused host"
    );
    let mut args = eval_args(&target);
    args.push("--accept-new-host-key".into());
    let out = phipolicy(&bin, &client, &empty, &strs(&args));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "accept-new: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded = std::fs::read_to_string(&empty).unwrap();
    assert!(
        recorded.contains(host_key.split_whitespace().nth(1).unwrap()),
        "not recorded: {recorded}"
    );

    // A wrong host key is refused with a clear message, with or without --accept-new-host-key.
    let other = client.file("other_host_key");
    keygen(&other);
    let wrong = client.file("known_hosts.wrong");
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).unwrap();
    std::fs::write(&wrong, known_hosts_line(sshd.port, &other_pub)).unwrap();
    for accept in [false, true] {
        let mut args = eval_args(&target);
        if accept {
            args.push("--accept-new-host-key".into());
        }
        let out = phipolicy(&bin, &client, &wrong, &strs(&args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "wrong key (accept-new {accept}): {stderr}"
        );
        assert!(
            stderr.contains("does not match the one in known_hosts"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }

    // A fleet: the good host, one whose connection drops mid-scan, one that never answers (2 s
    // per-host timeout) and a directory tree. The two broken ones are `error`; the others finish.
    // The handshake and authentication take under 10 KiB; the scan then reads more than the rest
    // of the 32 KiB (the error below says the scan had started).
    let cut = cutting_proxy(sshd.port, 32 << 10);
    let (_silent, silent) = silent_listener();
    let fleet_known = client.file("known_hosts.fleet");
    std::fs::write(
        &fleet_known,
        [sshd.port, cut, silent]
            .iter()
            .map(|p| known_hosts_line(*p, &host_key))
            .collect::<String>(),
    )
    .unwrap();
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tree.path().join("etc")).unwrap();
    std::fs::write(
        tree.path().join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\n",
    )
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let targets = client.file("fleet.yaml");
    std::fs::write(
        &targets,
        format!(
            "- {{name: good, target: '{target}'}}\n\
             - {{name: dropped, target: 'ssh://root@127.0.0.1:{cut}'}}\n\
             - {{name: silent, target: 'ssh://root@127.0.0.1:{silent}'}}\n\
             - {{name: tree, target: 'dir:{}'}}\n",
            tree.path().display()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = phipolicy(
        &bin,
        &client,
        &fleet_known,
        &[
            "eval",
            "--now",
            harness::NOW,
            "--targets",
            targets.to_str().unwrap(),
            "--jobs",
            "4",
            "--output-dir",
            reports.path().to_str().unwrap(),
            "--summary-format",
            "json",
            "--ssh-timeout",
            "2s",
            "--quiet",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "fleet: {stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("fleet summary: {e}: {stderr}"));
    let by_name = |name: &str| {
        summary["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {summary}"))
            .clone()
    };
    let good = by_name("good");
    assert_eq!(good["state"], "done", "{good}");
    assert_eq!(good["kind"], "ssh");
    assert!(reports.path().join("good.json").is_file());
    assert_eq!(by_name("tree")["state"], "done");
    let dropped = by_name("dropped");
    assert_eq!(dropped["state"], "error", "{dropped}");
    let why = dropped["error"].as_str().unwrap();
    assert!(
        why.contains("the scan did not finish") && why.contains("127.0.0.1"),
        "{dropped}"
    );
    eprintln!("dropped mid-scan: {why}");
    assert!(
        !reports.path().join("dropped.json").exists(),
        "a document for a dropped host"
    );
    let silent_outcome = by_name("silent");
    assert_eq!(silent_outcome["state"], "error", "{silent_outcome}");
    // Our deadline or ssh's ConnectTimeout (the same 2 s) ends it, whichever comes first.
    let why = silent_outcome["error"].as_str().unwrap();
    assert!(
        why.contains("no answer within 2s") || why.contains("timed out"),
        "{silent_outcome}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the fleet took {:?}",
        started.elapsed()
    );
}
