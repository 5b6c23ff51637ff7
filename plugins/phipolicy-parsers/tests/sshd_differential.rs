//! Differential test of [`phipolicy_parsers::sshd`] against the real `sshd -T`: a few hundred generated
//! configurations (keyword case, duplicates, `key=value`, quoting, nested `Include` globs, `Match`
//! blocks), each read by both, compared on every keyword the controls read.
//!
//! Needs Debian's sshd: `PHIPOLICY_SSHD=/path/to/usr/sbin/sshd` (`cargo xtask` unpacks the
//! openssh-server package into `target/tools/openssh-server`). sshd -T also needs its privilege
//! separation user: when the host has no `sshd` user, `PHIPOLICY_NSS_WRAPPER` must name
//! libnss_wrapper.so (package libnss-wrapper) so the test can supply one without touching the host.
//! The host key comes from `ssh-keygen` (openssh-client; `PHIPOLICY_SSH_KEYGEN` overrides the path).
//! A missing prerequisite fails the test with instructions; it never skips.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use phipolicy_parsers::sshd::EffectiveSshdConfig;
use phipolicy_sdk::testing::DirTarget;

/// Generated configurations per seed.
const CASES_PER_SEED: u64 = 100;
/// Fixed seeds: the run is the same every time.
const SEEDS: [u64; 5] = [
    0x5eed_0001,
    0xdead_beef,
    0x0123_4567_89ab_cdef,
    42,
    0x4849_5041_4100_0001,
];

/// Keywords compared, as `sshd -T` names them.
const COMPARED: &[&str] = &[
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "permitemptypasswords",
    "pubkeyauthentication",
    "maxauthtries",
    "usepam",
    "clientaliveinterval",
    "clientalivecountmax",
    "banner",
    "channeltimeout",
    "allowusers",
    "allowgroups",
    "ciphers",
];

/// xorshift64*: small, deterministic, good enough to pick spellings.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How to find sshd, or a failure that says how to get it.
fn sshd_binary() -> PathBuf {
    let how = "set PHIPOLICY_SSHD to Debian's sshd: `cd /tmp && apt-get download openssh-server && \
               dpkg-deb -x openssh-server_*.deb target/tools/openssh-server` then \
               PHIPOLICY_SSHD=$PWD/target/tools/openssh-server/usr/sbin/sshd (cargo xtask test does this; \
               sshd needs libwrap0 installed)";
    let Some(path) = std::env::var_os("PHIPOLICY_SSHD") else {
        panic!("PHIPOLICY_SSHD is not set: {how}");
    };
    let path = PathBuf::from(path);
    let executable = fs::metadata(&path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false);
    assert!(
        executable,
        "PHIPOLICY_SSHD={} is not an executable file: {how}",
        path.display()
    );
    path
}

/// A scratch directory with a host key, and the environment sshd -T needs.
struct Harness {
    sshd: PathBuf,
    dir: tempfile::TempDir,
    host_key: PathBuf,
    env: Vec<(String, String)>,
}

impl Harness {
    fn new() -> Harness {
        let sshd = sshd_binary();
        let dir = tempfile::Builder::new()
            .prefix("phipolicy-sshd-diff")
            .tempdir()
            .expect("temp dir");
        let host_key = dir.path().join("ssh_host_ed25519_key");
        let keygen = std::env::var("PHIPOLICY_SSH_KEYGEN").unwrap_or_else(|_| "ssh-keygen".into());
        let out = Command::new(&keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "phipolicy-differential", "-f"])
            .arg(&host_key)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {keygen} to make a host key ({e}): install openssh-client or set PHIPOLICY_SSH_KEYGEN")
            });
        assert!(
            out.status.success(),
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // sshd refuses to run without its privilege separation directory.
        if !Path::new("/run/sshd").is_dir() {
            fs::create_dir_all("/run/sshd")
                .expect("create /run/sshd (sshd -T requires it; run as root)");
        }
        let mut env = Vec::new();
        // Libraries sshd needs that the machine may lack (libwrap0), unpacked beside it by xtask.
        if let Some(libs) = std::env::var_os("PHIPOLICY_SSHD_LIBRARY_PATH") {
            env.push((
                "LD_LIBRARY_PATH".into(),
                libs.to_string_lossy().into_owned(),
            ));
        }
        let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
        if !passwd.lines().any(|l| l.starts_with("sshd:")) {
            let Some(wrapper) = std::env::var_os("PHIPOLICY_NSS_WRAPPER") else {
                panic!(
                    "this host has no `sshd` user, which sshd -T requires: set PHIPOLICY_NSS_WRAPPER to \
                     libnss_wrapper.so (`apt-get download libnss-wrapper && dpkg-deb -x libnss-wrapper_*.deb \
                     target/tools/nss-wrapper`; file usr/lib/x86_64-linux-gnu/libnss_wrapper.so)"
                )
            };
            assert!(
                Path::new(&wrapper).is_file(),
                "PHIPOLICY_NSS_WRAPPER={} does not exist",
                wrapper.to_string_lossy()
            );
            let fake_passwd = dir.path().join("passwd");
            fs::write(
                &fake_passwd,
                format!("{passwd}sshd:x:65500:65534::/run/sshd:/usr/sbin/nologin\n"),
            )
            .expect("passwd");
            let fake_group = dir.path().join("group");
            fs::copy("/etc/group", &fake_group).expect("group");
            env.push(("LD_PRELOAD".into(), wrapper.to_string_lossy().into_owned()));
            env.push((
                "NSS_WRAPPER_PASSWD".into(),
                fake_passwd.to_string_lossy().into_owned(),
            ));
            env.push((
                "NSS_WRAPPER_GROUP".into(),
                fake_group.to_string_lossy().into_owned(),
            ));
        }
        Harness {
            sshd,
            dir,
            host_key,
            env,
        }
    }

    /// `sshd -T -f config`: the printed keywords (lists accumulate), or sshd's error output.
    fn sshd_t(&self, config: &Path) -> Result<BTreeMap<String, Vec<String>>, String> {
        let out = Command::new(&self.sshd)
            .arg("-T")
            .arg("-f")
            .arg(config)
            .arg("-h")
            .arg(&self.host_key)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run sshd");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let (k, v) = line.split_once(' ').unwrap_or((line, ""));
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        Ok(map)
    }
}

/// What sshd -T says for `keyword`, in the parser's vocabulary.
fn sshd_value(map: &BTreeMap<String, Vec<String>>, keyword: &str) -> Option<String> {
    let values = map.get(keyword);
    match keyword {
        "allowusers" | "allowgroups" => Some(values.map(|v| v.join(" ")).unwrap_or_default()),
        "channeltimeout" => Some(
            values
                .and_then(|v| v.first().cloned())
                .unwrap_or_else(|| "none".into()),
        ),
        // sshd -T prints the first name of the value, the deprecated one.
        "permitrootlogin" => values
            .and_then(|v| v.first())
            .map(|v| v.replace("without-password", "prohibit-password")),
        _ => values.and_then(|v| v.first().cloned()),
    }
}

fn vary_case(rng: &mut Rng, keyword: &str) -> String {
    match rng.below(4) {
        0 => keyword.to_ascii_lowercase(),
        1 => keyword.to_ascii_uppercase(),
        2 => keyword.to_string(),
        _ => keyword
            .chars()
            .map(|c| {
                if rng.chance(50) {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect(),
    }
}

fn yes_no(rng: &mut Rng) -> String {
    let v = *rng.pick(&["yes", "no"]);
    match rng.below(3) {
        0 => v.to_ascii_uppercase(),
        _ => v.to_string(),
    }
}

/// One valid setting line; `in_match` avoids keywords sshd refuses inside a Match block.
fn setting(rng: &mut Rng, in_match: bool) -> String {
    let keywords: &[&str] = if in_match {
        &[
            "PermitRootLogin",
            "PasswordAuthentication",
            "KbdInteractiveAuthentication",
            "ChallengeResponseAuthentication",
            "PermitEmptyPasswords",
            "PubkeyAuthentication",
            "MaxAuthTries",
            "ClientAliveInterval",
            "ClientAliveCountMax",
            "Banner",
            "AllowUsers",
            "AllowGroups",
            "ChannelTimeout",
        ]
    } else {
        &[
            "PermitRootLogin",
            "PasswordAuthentication",
            "KbdInteractiveAuthentication",
            "ChallengeResponseAuthentication",
            "PermitEmptyPasswords",
            "PubkeyAuthentication",
            "MaxAuthTries",
            "UsePAM",
            "ClientAliveInterval",
            "ClientAliveCountMax",
            "Banner",
            "AllowUsers",
            "AllowGroups",
            "ChannelTimeout",
            "Ciphers",
            "X11Forwarding",
            "AcceptEnv",
        ]
    };
    let keyword = *rng.pick(keywords);
    let value: String = match keyword {
        "PermitRootLogin" => {
            let v = *rng.pick(&[
                "yes",
                "no",
                "prohibit-password",
                "without-password",
                "forced-commands-only",
            ]);
            if rng.chance(20) {
                v.to_ascii_uppercase()
            } else {
                v.to_string()
            }
        }
        "MaxAuthTries" | "ClientAliveCountMax" => {
            let n = rng.below(10);
            match rng.below(5) {
                0 => format!("+{n}"),
                1 => format!("0{n}"),
                _ => n.to_string(),
            }
        }
        "ClientAliveInterval" => rng
            .pick(&["0", "300", "5m", "1h", "90s", "2m30s", "1H", "600"])
            .to_string(),
        "Banner" => rng
            .pick(&[
                "none",
                "NONE",
                "/etc/issue.net",
                "\"/etc/hipaa/login banner.txt\"",
                "/etc/issue",
            ])
            .to_string(),
        "AllowUsers" | "AllowGroups" => {
            let n = 1 + rng.below(3);
            (0..n)
                .map(|_| {
                    rng.pick(&["alice", "bob", "phi-access", "wheel", "admins", "\"carol\""])
                        .to_string()
                })
                .collect::<Vec<_>>()
                .join(" ")
        }
        "ChannelTimeout" => rng
            .pick(&[
                "session=5m",
                "none",
                "session=300 global=1h",
                "agent-connection=1m",
            ])
            .to_string(),
        "Ciphers" => rng
            .pick(&[
                "aes128-ctr,aes256-ctr",
                "chacha20-poly1305@openssh.com",
                "aes256-gcm@openssh.com,aes128-ctr",
            ])
            .to_string(),
        "AcceptEnv" => rng.pick(&["LANG", "LC_*", "LANG LC_*"]).to_string(),
        _ => yes_no(rng),
    };
    let keyword = vary_case(rng, keyword);
    let indent = *rng.pick(&["", "", "  ", "\t"]);
    let comment = if rng.chance(15) { " # note" } else { "" };
    match rng.below(9) {
        0 => format!("{indent}{keyword}={value}{comment}"),
        1 => format!("{indent}{keyword} = {value}{comment}"),
        2 => format!("{indent}{keyword}\t{value}{comment}"),
        3 => format!("{indent}\"{keyword}\" {value}{comment}"),
        4 => format!("{indent}{keyword} {value} \r"),
        _ => format!("{indent}{keyword} {value}{comment}"),
    }
}

fn match_line(rng: &mut Rng) -> String {
    let criteria = *rng.pick(&[
        "Address 10.0.0.0/8",
        "User bob",
        "Group contractors",
        "User=alice Address 192.168.0.0/16",
        "LocalAddress 10.1.2.3",
        "Host *.example.com",
        "all",
        "ALL",
    ]);
    format!("{} {criteria}", vary_case(rng, "Match"))
}

/// Lines of settings (and sometimes a Match block at the end, which ends with the file).
fn body(rng: &mut Rng, out: &mut String, in_match: bool, min: usize, spread: usize) {
    let lines = min + rng.below(spread.max(1));
    for _ in 0..lines {
        if rng.chance(10) {
            out.push_str("# a comment\n\n");
        }
        let _ = writeln!(out, "{}", setting(rng, in_match));
    }
}

/// Writes one generated case under `dir` and returns the main config path.
fn generate(rng: &mut Rng, dir: &Path) -> PathBuf {
    let dropins = dir.join("dropins");
    let nested = dir.join("nested");
    let matched = dir.join("matched");
    for d in [&dropins, &nested, &matched] {
        fs::create_dir_all(d).expect("mkdir");
    }
    // Nested includes, pulled in by some drop-in.
    for name in ["a.conf", "b.conf"] {
        if rng.chance(60) {
            let mut s = String::new();
            body(rng, &mut s, false, 1, 3);
            fs::write(nested.join(name), s).expect("write");
        }
    }
    // Drop-ins in lexical order; names chosen so byte order matters; some are not *.conf.
    for name in [
        "00-first.conf",
        "50-cloud-init.conf",
        "9-late.conf",
        "Z.conf",
        ".hidden.conf",
        "x.conf.bak",
    ] {
        if rng.chance(55) {
            let mut s = String::new();
            if rng.chance(30) {
                let _ = writeln!(s, "Include {}/*.conf", nested.display());
            }
            body(rng, &mut s, false, 1, 4);
            if rng.chance(25) {
                let _ = writeln!(s, "{}", match_line(rng));
                body(rng, &mut s, true, 1, 2);
            }
            fs::write(dropins.join(name), s).expect("write");
        }
    }
    // A file included from inside a Match block.
    let mut s = String::new();
    body(rng, &mut s, true, 1, 3);
    fs::write(matched.join("m.conf"), s).expect("write");

    let mut main = String::new();
    let include_first = rng.chance(80);
    let dropin_glob = format!("{}/*.conf", dropins.display());
    if include_first {
        let spelling = match rng.below(3) {
            0 => format!("Include {dropin_glob}"),
            1 => format!("include={dropin_glob}"),
            _ => format!("Include {} {}/9-late.conf", dropin_glob, dropins.display()),
        };
        let _ = writeln!(main, "{spelling}");
    }
    body(rng, &mut main, false, 0, 6);
    if !include_first {
        let _ = writeln!(main, "Include {dropin_glob}");
        body(rng, &mut main, false, 0, 3);
    }
    for _ in 0..rng.below(3) {
        let _ = writeln!(main, "{}", match_line(rng));
        let all = main.trim_end().to_ascii_lowercase().ends_with(" all");
        body(rng, &mut main, !all, 1, 3);
        if rng.chance(30) {
            let _ = writeln!(main, "  Include {}/m.conf", matched.display());
            body(rng, &mut main, !all, 0, 2);
        }
    }
    let path = dir.join("sshd_config");
    fs::write(&path, main).expect("write");
    path
}

/// One line sshd rejects, appended to a valid case (the parser must report an issue).
const INVALID_LINES: &[&str] = &[
    "PasswordAuthentication maybe",
    "MaxAuthTries many",
    "PermitRootLogin",
    "AllowUsers \"unterminated",
    "ClientAliveInterval 5x",
    "Banner /a /b",
    "Match User x\nUsePAM yes",
    "Match\nPermitRootLogin no",
    "Match all User bob",
];

fn invalid_line(rng: &mut Rng) -> &'static str {
    INVALID_LINES[rng.below(INVALID_LINES.len())]
}

fn describe(dir: &Path) -> String {
    let mut out = String::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p
                .file_name()
                .is_some_and(|n| n != "ssh_host_ed25519_key" && n != "ssh_host_ed25519_key.pub")
            {
                let _ = writeln!(
                    out,
                    "--- {}\n{}",
                    p.display(),
                    fs::read_to_string(&p).unwrap_or_default()
                );
            }
        }
    }
    out
}

#[test]
fn parser_agrees_with_sshd_t() {
    let harness = Harness::new();
    let root = DirTarget::new("/");
    let mut failures = Vec::new();
    let mut compared = 0;
    for seed in SEEDS {
        let mut rng = Rng(seed);
        for case in 0..CASES_PER_SEED {
            let dir = harness.dir.path().join(format!("case-{seed:x}-{case}"));
            let config = generate(&mut rng, &dir);
            let broken = rng.chance(10);
            if broken {
                let mut text = fs::read_to_string(&config).expect("read back");
                text.push_str(invalid_line(&mut rng));
                text.push('\n');
                fs::write(&config, text).expect("write");
            }
            let config_path = config.to_string_lossy().into_owned();
            let parsed = EffectiveSshdConfig::load_from(&root, &config_path);
            let sshd = harness.sshd_t(&config);
            match (sshd, broken) {
                (Err(stderr), true) => {
                    if parsed.issues.is_empty() {
                        failures.push(format!(
                            "sshd rejected a config the parser accepts: {stderr}\n{}",
                            describe(&dir)
                        ));
                    }
                }
                (Err(stderr), false) => {
                    failures.push(format!(
                        "sshd rejected a generated config: {stderr}\n{}",
                        describe(&dir)
                    ));
                }
                (Ok(_), true) => {
                    failures.push(format!(
                        "sshd accepted a config meant to be invalid\n{}",
                        describe(&dir)
                    ));
                }
                (Ok(map), false) => {
                    if !parsed.issues.is_empty() {
                        failures.push(format!(
                            "parser reported issues sshd did not: {:?}\n{}",
                            parsed.issues,
                            describe(&dir)
                        ));
                    }
                    for keyword in COMPARED {
                        let ours = parsed.effective(keyword).map(|e| e.value);
                        // Unset keywords without a default known to the parser (ciphers) are not compared.
                        let Some(ours) = ours else { continue };
                        let theirs = sshd_value(&map, keyword);
                        compared += 1;
                        if Some(&ours) != theirs.as_ref() {
                            failures.push(format!(
                                "{keyword}: parser says {ours:?}, sshd -T says {theirs:?}\n{}",
                                describe(&dir)
                            ));
                        }
                    }
                }
            }
            if failures.len() > 5 {
                break;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements; first ones:\n{}",
        failures.len(),
        failures.join("\n=====\n")
    );
    assert!(compared > 1000, "only {compared} comparisons made");
}

/// Compared on the RHEL layouts besides [`COMPARED`]: the other algorithm lists the crypto policy sets.
const POLICY_LISTS: &[&str] = &["macs", "kexalgorithms"];

/// Copies a fixture's `/etc/ssh` and crypto-policies files under `dir`, with the absolute paths
/// Rocky writes (`Include /etc/ssh/sshd_config.d/*.conf`, `Include /etc/crypto-policies/...`, the
/// back-end symlink into /usr/share) rewritten to point inside `dir`, so sshd -T and the parser read
/// the same files. Returns the main configuration file.
fn rhel_layout(fixture: &str, dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../engine/tests/fixtures")
        .join(fixture)
        .join("root");
    let prefix = dir.to_string_lossy().into_owned();
    let rewrite = |text: String| text.replace("Include /etc/", &format!("Include {prefix}/etc/"));
    for sub in [
        "etc/ssh",
        "etc/ssh/sshd_config.d",
        "usr/share/crypto-policies/DEFAULT",
        "etc/crypto-policies/back-ends",
    ] {
        fs::create_dir_all(dir.join(sub)).expect("mkdir");
    }
    let copy = |rel: &str| {
        let from = root.join(rel);
        if let Ok(target) = fs::read_link(&from) {
            let to = format!("{prefix}{}", target.to_string_lossy());
            std::os::unix::fs::symlink(to, dir.join(rel)).expect("symlink");
        } else if from.is_file() {
            fs::write(
                dir.join(rel),
                rewrite(fs::read_to_string(&from).expect("read")),
            )
            .expect("write");
        }
    };
    copy("etc/ssh/sshd_config");
    for entry in fs::read_dir(root.join("etc/ssh/sshd_config.d"))
        .expect("sshd_config.d")
        .flatten()
    {
        copy(&format!(
            "etc/ssh/sshd_config.d/{}",
            entry.file_name().to_string_lossy()
        ));
    }
    copy("usr/share/crypto-policies/DEFAULT/opensshserver.txt");
    copy("etc/crypto-policies/back-ends/opensshserver.config");
    dir.join("etc/ssh/sshd_config")
}

/// Rocky 9's own layout (sshd_config's Include of sshd_config.d, 50-redhat.conf's Include of the
/// crypto-policies back-end, a symlink into /usr/share/crypto-policies), stock and hardened by
/// rhel.sh (a 00-hipaa.conf read first; the NO-WEAK-SSH back-end written as a file): the parser
/// and sshd -T agree on every keyword the controls read, the crypto policy's lists included.
#[test]
fn rocky9_layout_agrees_with_sshd_t() {
    let harness = Harness::new();
    let host = DirTarget::new("/");
    for fixture in ["rocky9-stock", "rocky9-hardened"] {
        let dir = harness.dir.path().join(fixture);
        let config = rhel_layout(fixture, &dir);
        let parsed = EffectiveSshdConfig::load_from(&host, &config.to_string_lossy());
        assert!(parsed.issues.is_empty(), "{fixture}: {:?}", parsed.issues);
        assert_eq!(
            parsed.files.len(),
            3 + usize::from(fixture.ends_with("hardened")),
            "{fixture}: {:?}",
            parsed.files
        );
        let map = harness.sshd_t(&config).unwrap_or_else(|e| {
            panic!(
                "{fixture}: sshd -T refused Rocky 9's layout: {e}\n{}",
                describe(&dir)
            )
        });
        for keyword in COMPARED.iter().chain(POLICY_LISTS) {
            // Unset keywords without a default known to the parser (allowgroups) are not compared.
            let Some(ours) = parsed.effective(keyword).map(|e| e.value) else {
                continue;
            };
            let theirs = sshd_value(&map, keyword);
            assert_eq!(
                Some(ours),
                theirs,
                "{fixture}: {keyword}: parser vs sshd -T\n{}",
                describe(&dir)
            );
        }
        let macs = parsed.effective("macs").expect("macs");
        assert!(
            macs.path
                .ends_with("/etc/crypto-policies/back-ends/opensshserver.config"),
            "{}",
            macs.path
        );
        assert_eq!(macs.value.contains("hmac-sha1"), fixture == "rocky9-stock");
    }
}

/// sshd has no cap on the files an `Include` glob matches: with 5,000 drop-ins (the parser used to
/// stop at 1,024 and call the configuration one sshd rejects), `sshd -T` accepts it, the parser
/// reports nothing, and both agree on every keyword, set by the first and by the last drop-in.
#[test]
fn thousands_of_drop_ins_agree_with_sshd_t() {
    let harness = Harness::new();
    let dir = harness.dir.path().join("many-drop-ins");
    let dropins = dir.join("sshd_config.d");
    fs::create_dir_all(&dropins).expect("mkdir");
    for i in 0..5_000 {
        fs::write(
            dropins.join(format!("{i:05}.conf")),
            format!("# fleet drop-in {i}\nMaxAuthTries {}\n", 3 + i % 4),
        )
        .expect("write drop-in");
    }
    fs::write(
        dropins.join("99999-last.conf"),
        "PermitRootLogin no\nClientAliveInterval 300\n",
    )
    .expect("write drop-in");
    let config = dir.join("sshd_config");
    fs::write(
        &config,
        format!(
            "Include {}/*.conf\nPasswordAuthentication no\nMaxAuthTries 9\n",
            dropins.display()
        ),
    )
    .expect("write config");
    let parsed = EffectiveSshdConfig::load_from(&DirTarget::new("/"), &config.to_string_lossy());
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
    assert!(parsed.incomplete.is_empty(), "{:?}", parsed.incomplete);
    assert_eq!(parsed.files.len(), 5_002);
    let map = harness
        .sshd_t(&config)
        .expect("sshd -T accepts 5,000 drop-ins");
    for keyword in COMPARED {
        let Some(ours) = parsed.effective(keyword).map(|e| e.value) else {
            continue;
        };
        assert_eq!(Some(&ours), sshd_value(&map, keyword).as_ref(), "{keyword}");
    }
    assert_eq!(
        parsed.effective("maxauthtries").map(|e| e.value).as_deref(),
        Some("3")
    );
    assert_eq!(
        parsed
            .effective("permitrootlogin")
            .map(|e| e.value)
            .as_deref(),
        Some("no")
    );
}
