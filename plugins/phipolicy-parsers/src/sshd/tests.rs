//! Tests of the `sshd` parser.

use super::*;
use phipolicy_sdk::target::{DirEntry, FileStat};
use phipolicy_sdk::testing::{DirTarget, tree};
use serde_json::json;

/// Debian 12's default sshd_config, from the openssh-server package (/usr/share/openssh).
const DEBIAN_12: &str =
    include_str!("../../../../engine/tests/fixtures/ssh-defaults/root/etc/ssh/sshd_config");

fn line_of(text: &str, needle: &str) -> u32 {
    let idx = text
        .lines()
        .position(|l| l == needle)
        .expect("line present");
    u32::try_from(idx + 1).expect("small")
}

fn eff(c: &EffectiveSshdConfig, k: &str) -> (String, String, u32, bool) {
    let e = c.effective(k).expect("known keyword");
    (e.value, e.path, e.line, e.default)
}

#[test]
fn tokenizer_mirrors_sshd() {
    assert_eq!(
        strdelim(b"Key value"),
        Some((b"Key".to_vec(), Some(&b"value"[..])))
    );
    assert_eq!(
        strdelim(b"Key=value"),
        Some((b"Key".to_vec(), Some(&b"value"[..])))
    );
    assert_eq!(
        strdelim(b"Key = value"),
        Some((b"Key".to_vec(), Some(&b"value"[..])))
    );
    assert_eq!(
        strdelim(b"Key ==value"),
        Some((b"Key".to_vec(), Some(&b"=value"[..])))
    );
    assert_eq!(
        strdelim(b"\"Key\" v"),
        Some((b"Key".to_vec(), Some(&b"v"[..])))
    );
    assert_eq!(strdelim(b"\"Key v"), None);
    assert_eq!(strdelim(b"Key"), Some((b"Key".to_vec(), None)));
    let split = |s: &str| argv_split(s.as_bytes());
    assert_eq!(
        split("a b\tc"),
        Some(vec!["a".into(), "b".into(), "c".into()])
    );
    assert_eq!(
        split("\"a b\" 'c d' # comment"),
        Some(vec!["a b".into(), "c d".into()])
    );
    assert_eq!(split("a\\ b x#y"), Some(vec!["a b".into(), "x#y".into()]));
    assert_eq!(split("\"open"), None);
    assert_eq!(split("#only"), Some(vec![]));
}

#[test]
fn numbers_and_times_like_sshd() {
    assert_eq!(parse_int("+4"), Some(4));
    assert_eq!(parse_int("07"), Some(7));
    assert_eq!(parse_int("-0"), Some(0));
    assert_eq!(parse_int("-1"), None);
    assert_eq!(parse_int("3x"), None);
    assert_eq!(parse_int("99999999999999999999"), None);
    assert_eq!(convtime("300"), Some(300));
    assert_eq!(convtime("5m5"), Some(305));
    assert_eq!(convtime("1h2M"), Some(3720));
    assert_eq!(convtime("1w"), Some(604_800));
    assert_eq!(convtime("-0"), Some(0));
    assert_eq!(convtime("5x"), None);
    assert_eq!(convtime("m"), None);
    assert_eq!(convtime("99999999999"), None);
}

#[test]
fn debian_12_default_config() {
    let (_root, t) = tree(&[("/etc/ssh/sshd_config", DEBIAN_12)]);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.config_found);
    assert_eq!(c.files, vec![SSHD_CONFIG]);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert!(c.match_blocks.is_empty());
    assert_eq!(
        eff(&c, "PermitRootLogin"),
        ("prohibit-password".into(), SSHD_CONFIG.into(), 0, true)
    );
    assert_eq!(
        eff(&c, "passwordauthentication"),
        ("yes".into(), SSHD_CONFIG.into(), 0, true)
    );
    let kbd = line_of(DEBIAN_12, "KbdInteractiveAuthentication no");
    assert_eq!(
        eff(&c, "kbdinteractiveauthentication"),
        ("no".into(), SSHD_CONFIG.into(), kbd, false)
    );
    assert_eq!(eff(&c, "challengeresponseauthentication").2, kbd);
    assert_eq!(
        eff(&c, "usepam"),
        (
            "yes".into(),
            SSHD_CONFIG.into(),
            line_of(DEBIAN_12, "UsePAM yes"),
            false
        )
    );
    assert_eq!(eff(&c, "maxauthtries").0, "6");
    assert_eq!(eff(&c, "banner").0, "none");
    assert_eq!(eff(&c, "allowgroups").0, "");
    assert_eq!(c.effective("hostbasedacceptedalgorithms"), None);
    let subsystem = c.list("subsystem");
    assert_eq!(
        subsystem.first().map(|d| d.args.clone()),
        Some(vec!["sftp".into(), "/usr/lib/openssh/sftp-server".into()])
    );
}

#[test]
fn cloud_init_dropin_read_before_sshd_configs_own_value_wins() {
    let hardened =
        DEBIAN_12.replace("#PasswordAuthentication yes", "PasswordAuthentication no");
    let (_root, t) = tree(&[
        ("/etc/ssh/sshd_config", &hardened),
        (
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "PasswordAuthentication yes\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(
        c.files,
        vec![SSHD_CONFIG, "/etc/ssh/sshd_config.d/50-cloud-init.conf"]
    );
    assert_eq!(
        eff(&c, "passwordauthentication"),
        (
            "yes".into(),
            "/etc/ssh/sshd_config.d/50-cloud-init.conf".into(),
            1,
            false
        )
    );
    // A drop-in that sorts first beats cloud-init's.
    let (_root, t) = tree(&[
        ("/etc/ssh/sshd_config", &hardened),
        (
            "/etc/ssh/sshd_config.d/00-hipaa.conf",
            "# hardening\nPasswordAuthentication no\n",
        ),
        (
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "PasswordAuthentication yes\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(
        eff(&c, "passwordauthentication"),
        (
            "no".into(),
            "/etc/ssh/sshd_config.d/00-hipaa.conf".into(),
            2,
            false
        )
    );
}

#[test]
fn keywords_are_case_insensitive_and_values_normalised() {
    let (_root, t) = tree(&[(
        "/etc/ssh/sshd_config",
        "passwordAUTHENTICATION No\nPASSWORDAUTHENTICATION yes\nPermitRootLogin=Without-Password\n\
         ChallengeResponseAuthentication YES\nMaxAuthTries = +03\nClientAliveInterval 5m\n\"Banner\" NONE\n\
         UsePAM yes # trailing comment\n",
    )]);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert_eq!(
        eff(&c, "passwordauthentication"),
        ("no".into(), SSHD_CONFIG.into(), 1, false)
    );
    assert_eq!(eff(&c, "permitrootlogin").0, "prohibit-password");
    assert_eq!(
        eff(&c, "kbdinteractiveauthentication"),
        ("yes".into(), SSHD_CONFIG.into(), 4, false)
    );
    assert_eq!(eff(&c, "maxauthtries").0, "3");
    assert_eq!(eff(&c, "clientaliveinterval").0, "300");
    assert_eq!(
        eff(&c, "banner"),
        ("none".into(), SSHD_CONFIG.into(), 7, false)
    );
    assert_eq!(eff(&c, "usepam").0, "yes");
}

#[test]
fn nested_and_relative_includes_expand_in_place_in_lexical_order() {
    let (_root, t) = tree(&[
        (
            "/etc/ssh/sshd_config",
            "Include conf.d/first.conf /etc/extra/*.conf\nMaxAuthTries 9\n",
        ),
        ("/etc/ssh/conf.d/first.conf", "Include nested/*.conf\n"),
        ("/etc/ssh/nested/b.conf", "PermitRootLogin yes\n"),
        ("/etc/ssh/nested/a.conf", "PermitRootLogin no\n"),
        ("/etc/extra/20.conf", "MaxAuthTries 2\n"),
        ("/etc/extra/10.conf", "MaxAuthTries 4\n"),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(
        c.files,
        vec![
            SSHD_CONFIG,
            "/etc/ssh/conf.d/first.conf",
            "/etc/ssh/nested/a.conf",
            "/etc/ssh/nested/b.conf",
            "/etc/extra/10.conf",
            "/etc/extra/20.conf",
        ]
    );
    assert_eq!(
        eff(&c, "permitrootlogin"),
        ("no".into(), "/etc/ssh/nested/a.conf".into(), 1, false)
    );
    assert_eq!(
        eff(&c, "maxauthtries"),
        ("4".into(), "/etc/extra/10.conf".into(), 1, false)
    );
}

#[test]
fn match_blocks_keep_criteria_and_do_not_touch_the_global_config() {
    let (_root, t) = tree(&[(
        "/etc/ssh/sshd_config",
        "PasswordAuthentication no\nMatch Address 10.0.0.0/8 User=bob # office\n\tPasswordAuthentication yes\n\
         \tPasswordAuthentication no\n\tPermitRootLogin yes\nMatch all\nMaxAuthTries 2\n",
    )]);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert_eq!(eff(&c, "passwordauthentication").0, "no");
    assert_eq!(eff(&c, "permitrootlogin").0, "prohibit-password");
    assert_eq!(
        eff(&c, "maxauthtries"),
        ("2".into(), SSHD_CONFIG.into(), 7, false),
        "Match all applies to sshd -T"
    );
    let office = &c.match_blocks[0];
    assert_eq!(
        (office.criteria.as_str(), office.line, office.matches_all),
        ("Address 10.0.0.0/8 User bob", 2, false)
    );
    assert_eq!(
        office
            .get("passwordauthentication")
            .map(|d| (d.value.as_str(), d.line)),
        Some(("yes", 3))
    );
    assert_eq!(
        office.get("permitrootlogin").map(|d| d.value.as_str()),
        Some("yes")
    );
    assert!(c.match_blocks[1].matches_all);
}

#[test]
fn a_match_block_ends_with_the_file_that_opened_it() {
    let (_root, t) = tree(&[
        (
            "/etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n",
        ),
        (
            "/etc/ssh/sshd_config.d/10-sftp.conf",
            "Match User bob\n  PasswordAuthentication yes\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(
        eff(&c, "passwordauthentication"),
        ("no".into(), SSHD_CONFIG.into(), 2, false)
    );
    assert_eq!(c.match_blocks.len(), 1);
    assert_eq!(c.match_blocks[0].directives.len(), 1);
}

#[test]
fn include_inside_match_applies_inside_the_match() {
    let (_root, t) = tree(&[
        (
            "/etc/ssh/sshd_config",
            "Match Group contractors\n  Include /etc/ssh/contractors.conf\n  MaxAuthTries 5\n",
        ),
        (
            "/etc/ssh/contractors.conf",
            "PermitRootLogin yes\nMatch all\nPasswordAuthentication yes\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert!(eff(&c, "permitrootlogin").3);
    assert!(
        eff(&c, "passwordauthentication").3,
        "Match all inside an inactive Match never matches"
    );
    let group = &c.match_blocks[0];
    assert_eq!(group.criteria, "Group contractors");
    let prl = group
        .get("permitrootlogin")
        .expect("included into the block");
    assert_eq!(
        (prl.path.as_str(), prl.line),
        ("/etc/ssh/contractors.conf", 1)
    );
    assert_eq!(
        group.get("maxauthtries").map(|d| d.line),
        Some(3),
        "the Match resumes after the Include"
    );
    assert_eq!(
        c.match_blocks[1]
            .get("passwordauthentication")
            .map(|d| d.value.as_str()),
        Some("yes")
    );
}

#[test]
fn allow_lists_accumulate_across_lines() {
    let (_root, t) = tree(&[(
        "/etc/ssh/sshd_config",
        "AllowGroups admins\nallowgroups phi-access \"with space\"\nAllowUsers alice\nMatch User x\nAllowGroups nobody\n",
    )]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(
        eff(&c, "allowgroups"),
        (
            "admins phi-access with space".into(),
            SSHD_CONFIG.into(),
            1,
            false
        )
    );
    let f = serde_json::to_value(c.facts(&["allowgroups", "allowusers"])).expect("facts");
    assert_eq!(
        f["settings"]["allowgroups"]["values"],
        json!(["admins", "phi-access", "with space"])
    );
    assert_eq!(
        f["settings"]["allowgroups"]["entries"][1],
        json!({"value": "phi-access", "path": SSHD_CONFIG, "line": 2})
    );
    assert_eq!(f["settings"]["allowusers"]["values"], json!(["alice"]));
    assert_eq!(
        f["match_blocks"][0]["settings"]["allowgroups"]["values"],
        json!(["nobody"])
    );
}

/// A target that refuses one path, as a host without read permission or the engine would.
struct Refusing {
    inner: DirTarget,
    refused: &'static str,
    error: ReadError,
}

impl Target for Refusing {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        if path == self.refused {
            Err(self.error.clone())
        } else {
            self.inner.read_file(path)
        }
    }
    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        self.inner.list_dir(path)
    }
    fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.inner.stat(path)
    }
    fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.inner.lstat(path)
    }
    fn read_link(&self, path: &str) -> Result<String, ReadError> {
        self.inner.read_link(path)
    }
}

#[test]
fn unreadable_include_is_reported() {
    let (root, _) = tree(&[
        ("/etc/ssh/sshd_config", DEBIAN_12),
        (
            "/etc/ssh/sshd_config.d/00-secret.conf",
            "PasswordAuthentication no\n",
        ),
    ]);
    let t = Refusing {
        inner: DirTarget::new(root.path()),
        refused: "/etc/ssh/sshd_config.d/00-secret.conf",
        error: ReadError::PermissionDenied,
    };
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(c.unreadable.len(), 1);
    assert_eq!(
        c.unreadable[0].path,
        "/etc/ssh/sshd_config.d/00-secret.conf"
    );
    assert_eq!(c.unreadable[0].error, "permission denied");
    assert!(eff(&c, "passwordauthentication").3);
    let t = Refusing {
        inner: DirTarget::new(root.path()),
        refused: SSHD_CONFIG,
        error: ReadError::Undeclared(SSHD_CONFIG.into()),
    };
    let c = EffectiveSshdConfig::load(&t);
    assert!(!c.config_found);
    assert_eq!(c.unreadable.len(), 1);
}

#[test]
fn include_of_a_refused_directory_is_unreadable_not_empty() {
    let (root, _) = tree(&[
        ("/etc/ssh/sshd_config", "Include /opt/ssh/*.conf\n"),
        ("/opt/ssh/00.conf", "PasswordAuthentication no\n"),
    ]);
    struct NoOpt(DirTarget);
    impl Target for NoOpt {
        fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
            self.0.read_file(path)
        }
        fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
            if path.starts_with("/opt") {
                Err(ReadError::Undeclared(path.into()))
            } else {
                self.0.list_dir(path)
            }
        }
        fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
            self.0.stat(path)
        }
        fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
            self.0.lstat(path)
        }
        fn read_link(&self, path: &str) -> Result<String, ReadError> {
            self.0.read_link(path)
        }
    }
    let c = EffectiveSshdConfig::load(&NoOpt(DirTarget::new(root.path())));
    assert_eq!(c.unreadable.len(), 1);
    assert_eq!(c.unreadable[0].path, "/opt/ssh");
}

#[test]
fn missing_config_and_dangling_include() {
    let (_root, t) = tree(&[]);
    let c = EffectiveSshdConfig::load(&t);
    assert!(!c.config_found && c.files.is_empty() && c.unreadable.is_empty());
    let (root, t) = tree(&[
        ("/etc/ssh/sshd_config", DEBIAN_12),
        ("/etc/hostname", "PasswordAuthentication no\n"),
    ]);
    std::fs::remove_file(root.path().join("etc/hostname")).expect("remove");
    root.symlink("/etc/ssh/sshd_config.d/00-hipaa.conf", "/etc/hostname");
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(c.files, vec![SSHD_CONFIG]);
    assert_eq!(c.issues.len(), 1);
    assert!(
        c.issues[0].message.contains("a symlink to /etc/hostname"),
        "{}",
        c.issues[0].message
    );
    assert_eq!(
        c.issues[0].line,
        line_of(DEBIAN_12, "Include /etc/ssh/sshd_config.d/*.conf")
    );
}

#[test]
fn include_loops_stop_at_sshds_depth_limit() {
    let (_root, t) = tree(&[
        ("/etc/ssh/sshd_config", "Include loop.conf\n"),
        (
            "/etc/ssh/loop.conf",
            "PermitRootLogin no\nInclude loop.conf\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(c.files, vec![SSHD_CONFIG, "/etc/ssh/loop.conf"]);
    assert_eq!(c.issues.len(), 1, "{:?}", c.issues);
    assert!(c.issues[0].message.contains("Too many recursive"));
    assert_eq!(eff(&c, "permitrootlogin").0, "no");
    // A fan-out (each level including the file twice) stops at the parse budget, not 2^16.
    let (_root, t) = tree(&[
        ("/etc/ssh/sshd_config", "Include loop.conf\n"),
        ("/etc/ssh/loop.conf", "Include loop.conf loop.conf\n"),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(c.issues.len(), 1, "{:?}", c.issues);
}

fn owned_tree(files: &[(String, String)]) -> (phipolicy_sdk::testing::TempRoot, DirTarget) {
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    tree(&refs)
}

/// sshd reads every file an `Include` glob matches (`servconf.c` has no cap on their number):
/// 2,000 drop-ins, past the 1,024 phipolicy used to stop at, are all read, and the
/// configuration is complete.
#[test]
fn thousands_of_drop_ins_are_read_like_sshd_reads_them() {
    let mut files: Vec<(String, String)> = vec![(
        SSHD_CONFIG.to_string(),
        "Include /etc/ssh/sshd_config.d/*.conf\n".to_string(),
    )];
    for i in 0..2_000 {
        files.push((
            format!("/etc/ssh/sshd_config.d/{i:05}.conf"),
            format!("# drop-in {i}\nMaxSessions {}\n", 10 + i),
        ));
    }
    files.push((
        "/etc/ssh/sshd_config.d/99999-last.conf".to_string(),
        "PermitRootLogin no\n".to_string(),
    ));
    let (_root, t) = owned_tree(&files);
    let c = EffectiveSshdConfig::load(&t);
    assert_eq!(c.files.len(), 2_002);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert!(c.incomplete.is_empty(), "{:?}", c.incomplete);
    assert_eq!(eff(&c, "maxsessions").0, "10");
    assert_eq!(eff(&c, "permitrootlogin").0, "no");
}

/// A fan-out of nested includes (8 files a level, 6 levels: 8^6 parses) stops at phipolicy's
/// bound on work and says the configuration is incomplete: not an issue sshd has with it.
#[test]
fn an_include_fan_out_stops_at_the_work_bound_as_incomplete() {
    let mut files: Vec<(String, String)> = vec![(
        SSHD_CONFIG.to_string(),
        "Include /etc/ssh/l0/*.conf\n".to_string(),
    )];
    for level in 0..6 {
        for i in 0..8 {
            files.push((
                format!("/etc/ssh/l{level}/{i}.conf"),
                format!("Include /etc/ssh/l{}/*.conf\n", level + 1),
            ));
        }
    }
    let (_root, t) = owned_tree(&files);
    let c = EffectiveSshdConfig::load(&t);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    assert_eq!(c.incomplete.len(), 1, "{:?}", c.incomplete);
    assert!(
        c.incomplete[0].message.contains("sshd has no such limit"),
        "{}",
        c.incomplete[0].message
    );
    let f = serde_json::to_value(c.facts(&["permitrootlogin"])).expect("facts");
    assert_eq!(f["incomplete"].as_array().map(Vec::len), Some(1));
}

#[test]
fn lines_sshd_rejects_are_issues() {
    let (_root, t) = tree(&[(
        "/etc/ssh/sshd_config",
        "PasswordAuthentication maybe\nMaxAuthTries lots\nPermitRootLogin\nAllowUsers \"open\nBanner a b\n\
         Match\nMatch all User x\nUsePAM yes\nPubkeyAuthentication #yes\n",
    )]);
    let c = EffectiveSshdConfig::load(&t);
    let lines: Vec<u32> = c.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 5, 6, 7, 8, 9], "{:?}", c.issues);
    assert_eq!(
        eff(&c, "passwordauthentication").0,
        "maybe",
        "the raw first value is kept: fail closed"
    );
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "\0PasswordAuthentication no",
        "=",
        "\"",
        "Match \"",
        "Include",
        "=\"x",
        "\u{feff}Port 22",
        "\\",
        "a \\",
    ];
    for input in inputs {
        let (_root, t) = tree(&[("/etc/ssh/sshd_config", input)]);
        let c = EffectiveSshdConfig::load(&t);
        let _ = c.facts(&["passwordauthentication"]);
    }
}

#[test]
fn command_line_options_come_first_and_win() {
    let (_root, t) = tree(&[
        (
            "/usr/lib/systemd/system/sshd.service",
            "[Service]\nEnvironmentFile=-/etc/crypto-policies/back-ends/opensshserver.config\nExecStart=/usr/sbin/sshd -D $OPTIONS $CRYPTO_POLICY\n",
        ),
        (
            "/etc/crypto-policies/back-ends/opensshserver.config",
            "CRYPTO_POLICY='-oCiphers=aes256-ctr,aes128-cbc -oMACs=hmac-sha2-256,hmac-sha1'\n",
        ),
        (
            "/etc/ssh/sshd_config",
            "Ciphers aes256-gcm@openssh.com\nMACs hmac-sha2-512\n",
        ),
    ]);
    let c = EffectiveSshdConfig::load(&t);
    let ciphers = c.effective("ciphers").expect("ciphers");
    assert_eq!(ciphers.value, "aes256-ctr,aes128-cbc");
    assert_eq!(
        ciphers.path,
        "/etc/crypto-policies/back-ends/opensshserver.config"
    );
    assert_eq!(ciphers.line, 1);
    // `sshd -f` (the differential test) reads no unit.
    let plain = EffectiveSshdConfig::load_from(&t, SSHD_CONFIG);
    assert_eq!(
        plain.effective("ciphers").expect("ciphers").value,
        "aes256-gcm@openssh.com"
    );
}

#[test]
fn facts_shape() {
    let (_root, t) = tree(&[
        (
            "/etc/ssh/sshd_config",
            "Include /etc/ssh/sshd_config.d/*.conf\nClientAliveInterval 300\nMatch Address 10.0.0.0/8\nClientAliveCountMax 0\n",
        ),
        (
            "/etc/ssh/sshd_config.d/50-cloud-init.conf",
            "PasswordAuthentication yes\n",
        ),
    ]);
    let f = facts(
        &t,
        &[
            "clientaliveinterval",
            "clientalivecountmax",
            "channeltimeout",
            "ChallengeResponseAuthentication",
        ],
    );
    assert_eq!(
        serde_json::to_value(f).expect("facts"),
        json!({
            "command_line": {"unit": null, "exec_start": null, "environment_files": [], "options": []},
            "config_found": true,
            "files": ["/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/50-cloud-init.conf"],
            "unreadable": [],
            "issues": [],
            "incomplete": [],
            "settings": {
                "clientaliveinterval": {"value": "300", "path": "/etc/ssh/sshd_config", "line": 2, "default": false},
                "clientalivecountmax": {"value": "3", "path": "/etc/ssh/sshd_config", "line": 0, "default": true},
                "channeltimeout": {"value": "none", "path": "/etc/ssh/sshd_config", "line": 0, "default": true},
                "challengeresponseauthentication": {"value": "yes", "path": "/etc/ssh/sshd_config", "line": 0, "default": true},
            },
            "match_blocks": [{
                "criteria": "Address 10.0.0.0/8",
                "matches_all": false,
                "path": "/etc/ssh/sshd_config",
                "line": 3,
                "settings": {"clientalivecountmax": {"value": "0", "path": "/etc/ssh/sshd_config", "line": 4}},
            }],
        })
    );
}
