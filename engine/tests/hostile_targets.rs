//! Hostile targets: trees an attacker may have planted (FIFOs, devices-by-another-name, symlink
//! loops and escapes, huge and binary files). The scan must finish, report what it could not read,
//! never call such a control `pass`, never read outside the root, and write nothing.

use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

mod common;

use engine::document::{ResultDocument, Status};
use engine::eval::{EvalRequest, prepare};
use engine::profile::ProfileSource;

const BIN: &str = env!("CARGO_BIN_EXE_phipolicy");

fn fixture(case: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("root")
}

/// A copy of a real fixture to plant things in, with its sidecars (modes, mtimes, empty
/// directories) applied to the copy.
fn planted(from: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture(from).display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let case = fixture(from);
    common::apply_sidecars(case.parent().unwrap(), dir.path());
    dir
}

fn eval(root: &Path) -> ResultDocument {
    let request = EvalRequest {
        root: root.to_path_buf(),
        profile: ProfileSource::builtin().unwrap(),
        params_file: None,
        waivers_file: None,
        controls: None,
        plugin_dirs: Vec::new(),
        plugin_cache: None,
        no_cache: false,
        trust: Default::default(),
        now: Some(UNIX_EPOCH + Duration::from_secs(1_795_867_200)),
        backend: engine::policy::Backend::Fastest,
    };
    prepare(request).expect("valid inputs").evaluate()
}

fn status(doc: &ResultDocument, control: &str) -> (Status, String) {
    let r = doc
        .results
        .iter()
        .find(|r| r.control == control)
        .unwrap_or_else(|| panic!("no {control}"));
    (r.status, r.reasons.join(" | "))
}

fn mkfifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success(), "mkfifo {}", path.display());
}

#[test]
fn fifo_where_sshd_config_is_expected_is_reported_not_opened() {
    let dir = planted("ssh-hardened");
    mkfifo(&dir.path().join("etc/ssh/sshd_config"));
    // Were the FIFO opened for reading, this would block forever; the plugin wall-time limit would
    // turn it into a timeout instead of this reason.
    let doc = eval(dir.path());
    let (st, reasons) = status(&doc, "auth.ssh");
    assert_eq!(st, Status::Error, "{reasons}");
    assert!(
        reasons.contains("/etc/ssh/sshd_config") && reasons.to_lowercase().contains("fifo"),
        "{reasons}"
    );
}

#[test]
fn symlink_loop_is_reported() {
    let dir = planted("ssh-hardened");
    let conf = dir.path().join("etc/ssh/sshd_config.d/00-hipaa.conf");
    std::fs::remove_file(&conf).unwrap();
    symlink("/etc/ssh/sshd_config.d/loop-b.conf", &conf).unwrap();
    symlink(
        "/etc/ssh/sshd_config.d/00-hipaa.conf",
        dir.path().join("etc/ssh/sshd_config.d/loop-b.conf"),
    )
    .unwrap();
    let doc = eval(dir.path());
    let (st, reasons) = status(&doc, "auth.ssh");
    assert_ne!(st, Status::Pass, "{reasons}");
    assert!(
        reasons.contains("00-hipaa.conf") || reasons.contains("loop-b.conf"),
        "{reasons}"
    );
}

#[test]
fn escape_through_dotdot_and_absolute_links_stays_inside() {
    let dir = planted("ssh-hardened");
    let issue = dir.path().join("etc/issue.net");
    std::fs::remove_file(&issue).unwrap();
    // Resolved in the root this is /etc/passwd of the target (absent), never the host's.
    symlink("../../../../../../../../etc/passwd", &issue).unwrap();
    let doc = eval(dir.path());
    let (st, reasons) = status(&doc, "auth.banner");
    assert_eq!(st, Status::Fail, "{reasons}");
    assert!(
        !reasons.contains("root:x:0:0"),
        "host file content leaked: {reasons}"
    );
}

#[test]
fn huge_and_binary_files_do_not_break_the_scan() {
    let dir = planted("passwords-hardened");
    // 20 MiB of binary garbage where login.defs is expected: above the 16 MiB read cap.
    let garbage: Vec<u8> = (0..20u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.path().join("etc/login.defs"), &garbage).unwrap();
    // Binary garbage (not UTF-8) where pwquality.conf is expected.
    std::fs::write(
        dir.path().join("etc/security/pwquality.conf"),
        &garbage[..4096],
    )
    .unwrap();
    let doc = eval(dir.path());
    let (aging, reasons) = status(&doc, "passwords.aging");
    assert_eq!(aging, Status::Error, "{reasons}");
    assert!(reasons.contains("/etc/login.defs"), "{reasons}");
    // The binary pwquality.conf is parsed, not fatal: libpwquality stops at its first bad line
    // and keeps what the drop-in set, which the facts model; the plugin itself must not fail.
    let plugin = doc
        .plugins
        .iter()
        .find(|p| p.id == "password-management")
        .unwrap();
    assert_eq!(plugin.error, None);
}

#[test]
fn devices_are_never_opened() {
    let dir = planted("ssh-hardened");
    let banner = dir.path().join("etc/issue.net");
    std::fs::remove_file(&banner).unwrap();
    // An absolute link to a device path: inside the root there is no /dev/zero, so nothing is read;
    // the host's endless /dev/zero must never be.
    symlink("/dev/zero", &banner).unwrap();
    let doc = eval(dir.path());
    let (st, reasons) = status(&doc, "auth.banner");
    assert_ne!(st, Status::Pass, "{reasons}");
}

/// The scan writes nothing into the target: every fixture tree hashes the same before and after
/// a full `phipolicy eval` of it (contents, modes, sizes, mtimes, link targets).
#[test]
fn scans_write_nothing_into_the_target() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut cases: Vec<_> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path().join("root"))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for root in cases {
        let before = tree_digest(&root);
        let out = Command::new(BIN)
            .args(["eval", "--format", "json", "--root"])
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "{}: crashed",
            root.display()
        );
        assert_eq!(
            before,
            tree_digest(&root),
            "{}: the scan changed the target",
            root.display()
        );
    }
}

/// A target tree that holds the scanning user's cache location (`--root` of a home directory's
/// parent, or of a tree `XDG_CACHE_HOME` points into): the scan writes nothing there, it loads the
/// built-in plugins from the binary instead. The live host is the one documented exception
/// (README, SECURITY.md): there the cache is written unless `--no-cache`, which writes nothing.
#[test]
fn the_plugin_cache_is_never_written_inside_the_target() {
    let tree = planted("ssh-hardened");
    let cache_home = tree.path().join("root/.cache");
    std::fs::create_dir_all(&cache_home).unwrap();
    let before = tree_digest(tree.path());
    let out = Command::new(BIN)
        .args(["eval", "--format", "json", "--root"])
        .arg(tree.path())
        .env("XDG_CACHE_HOME", &cache_home)
        .output()
        .unwrap();
    // The copied tree has no /etc/passwd: passwords.aging is `error`, so exit 2 is expected.
    assert!(out.status.code().is_some_and(|c| c <= 2), "{out:?}");
    assert_eq!(before, tree_digest(tree.path()), "the scan wrote into the target");
    // Outside the target, the same cache location is used.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["eval", "--format", "json", "--root"])
        .arg(tree.path())
        .env("XDG_CACHE_HOME", elsewhere.path())
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 2));
    assert!(elsewhere.path().join("phipolicy/plugins").is_dir());
    // --no-cache writes nothing anywhere.
    let unused = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["eval", "--no-cache", "--format", "json", "--root"])
        .arg(tree.path())
        .env("XDG_CACHE_HOME", unused.path())
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c <= 2));
    assert_eq!(std::fs::read_dir(unused.path()).unwrap().count(), 0);
}

fn tree_digest(root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            let detail = if m.file_type().is_symlink() {
                format!("-> {}", std::fs::read_link(&p).unwrap().display())
            } else if m.is_file() {
                let bytes = std::fs::read(&p).unwrap();
                format!(
                    "{:x}",
                    bytes
                        .iter()
                        .fold(0xcbf29ce484222325u64, |h, b| (h ^ *b as u64)
                            .wrapping_mul(0x100000001b3))
                )
            } else {
                String::new()
            };
            out.push(format!(
                "{rel} {:o} {} {} {}",
                m.mode(),
                m.size(),
                m.mtime(),
                detail
            ));
            if m.is_dir() {
                stack.push(p);
            }
        }
    }
    out
}

/// A PHI directory with a million entries (1,000 directories of 1,000 hard-linked files): the
/// integrity walk stops at its limit (`integrity::limits::MAX_WALK_ENTRIES`, 100,000) and says so, the
/// control is `manual` rather than a guess, and the rest of the scan is unaffected.
#[test]
fn a_million_entry_phi_tree_stops_at_the_walk_limit() {
    use std::os::unix::fs::PermissionsExt;
    let root = planted("integrity-750");
    let phi = root.path().join("var/data/phi");
    std::fs::set_permissions(&phi, std::fs::Permissions::from_mode(0o750)).unwrap();
    for d in 0..1_000 {
        let dir = phi.join(format!("d{d:04}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
        // One inode per directory (a file has at most 65,000 links on ext4).
        let original = dir.join("f0000");
        std::fs::write(&original, "record\n").unwrap();
        std::fs::set_permissions(&original, std::fs::Permissions::from_mode(0o640)).unwrap();
        for f in 1..1_000 {
            std::fs::hard_link(&original, dir.join(format!("f{f:04}"))).unwrap();
        }
    }
    let started = std::time::Instant::now();
    let doc = eval(root.path());
    let took = started.elapsed();
    let (integrity, reasons) = status(&doc, "integrity.phi-permissions");
    // A walk that could not finish cannot vouch for the rest: error (exit 2), not manual (exit 0).
    assert_eq!(integrity, Status::Error, "{reasons}");
    assert_eq!(doc.exit_code(), 2);
    assert!(
        reasons.contains("stopped after 100000 entries (limit of the walk)"),
        "{reasons}"
    );
    assert!(
        took < std::time::Duration::from_secs(60),
        "the bounded walk took {took:?}"
    );
    assert_ne!(status(&doc, "auth.ssh").0, Status::Error);
}

/// A file whose name is not UTF-8 is seen, not skipped: names round-trip byte-exactly through
/// the plugin ABI (escaped, see plugins/phipolicy-sdk/wit), so a failing setting in such a file still fails.
/// One case for every directory a plugin lists to find configuration; each name, when it was
/// converted lossily, made the plugin ask for a file that did not exist and the control passed.
#[test]
fn non_utf8_file_names_are_seen_in_every_listed_directory() {
    use std::os::unix::ffi::OsStrExt;
    let cases: &[(&str, &str, &[u8], &str, &str)] = &[
        (
            "host-debian12-hardened",
            "etc/profile.d",
            b"00-evil\xff.sh",
            "TMOUT=0\nreadonly TMOUT\n",
            "logoff.shell-timeout",
        ),
        (
            "host-debian12-hardened",
            "etc/ssh/sshd_config.d",
            b"00-evil\xff.conf",
            "ClientAliveInterval 0\n",
            "logoff.ssh-idle",
        ),
        (
            "host-debian12-hardened",
            "etc/ssh/sshd_config.d",
            b"00-evil\xfe\x80.conf",
            "PasswordAuthentication yes\n",
            "auth.ssh",
        ),
        (
            "passwords-hardened",
            "etc/security/pwquality.conf.d",
            b"zz-evil\xff.conf",
            "minlen = 4\n",
            "passwords.quality",
        ),
        (
            "audit-hardened",
            "etc/audit/rules.d",
            b"98-evil\xff.rules",
            "-W /etc/passwd -p wa -k identity\n",
            "audit.rules",
        ),
        (
            "backup-cron-hardened",
            "etc/cron.d",
            b"evil\xff",
            "0 3 * * * root RESTIC_PASSWORD=hunter2 restic -r /srv/restic backup /var/data/phi\n",
            "backup.schedule",
        ),
    ];
    for (fixture_name, dir, name, contents, control) in cases {
        let clean = planted(fixture_name);
        assert_eq!(
            status(&eval(clean.path()), control).0,
            Status::Pass,
            "{fixture_name}: {control} passes before the file is planted"
        );
        let tree = planted(fixture_name);
        let file = tree
            .path()
            .join(dir)
            .join(std::ffi::OsStr::from_bytes(name));
        std::fs::write(&file, contents).unwrap();
        let (st, reasons) = status(&eval(tree.path()), control);
        assert_eq!(
            st,
            Status::Fail,
            "{fixture_name}: {} planted in /{dir} must fail {control}: {reasons}",
            String::from_utf8_lossy(name)
        );
    }
}

/// The integrity walk sees a world-readable PHI file whose name is not UTF-8.
#[test]
fn non_utf8_names_in_the_phi_walk_are_judged() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::PermissionsExt;
    let tree = planted("integrity-750");
    assert_eq!(
        status(&eval(tree.path()), "integrity.phi-permissions").0,
        Status::Pass
    );
    let phi = tree.path().join("var/data/phi");
    let file = phi.join(std::ffi::OsStr::from_bytes(b"leak\xff.csv"));
    std::fs::write(&file, "mrn,name\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (st, reasons) = status(&eval(tree.path()), "integrity.phi-permissions");
    assert_eq!(st, Status::Fail, "{reasons}");
}

fn plugin_report<'d>(doc: &'d ResultDocument, id: &str) -> &'d engine::document::PluginReport {
    doc.plugins.iter().find(|p| p.id == id).unwrap()
}

/// Referenced reads: `Banner /srv/banner.txt` lies outside the authentication plugin's globs;
/// the line names it, so it is read, judged, and the grant recorded with the line.
#[test]
fn a_banner_named_outside_the_globs_is_read_and_the_grant_recorded() {
    let tree = planted("ssh-hardened");
    let root = tree.path();
    let dropin = root.join("etc/ssh/sshd_config.d/00-a-banner.conf");
    std::fs::write(&dropin, "# site banner\nBanner /srv/banner.txt\n").unwrap();
    std::fs::create_dir_all(root.join("srv")).unwrap();
    std::fs::copy(root.join("etc/issue.net"), root.join("srv/banner.txt")).unwrap();
    let doc = eval(root);
    let (st, reasons) = status(&doc, "auth.banner");
    assert_eq!(st, Status::Pass, "{reasons}");
    let report = plugin_report(&doc, "authentication");
    assert!(
        report.referenced_reads.iter().any(|r| r.path == "/srv/banner.txt"
            && r.granted_by == "/etc/ssh/sshd_config.d/00-a-banner.conf:2"),
        "{:?}",
        report.referenced_reads
    );
    assert!(report.denied.is_empty(), "{:?}", report.denied);
}

/// `Banner /nonexistent`: sshd shows no banner; that is a plain `fail` naming the line.
#[test]
fn a_missing_banner_file_is_a_fail_not_an_error() {
    let tree = planted("ssh-hardened");
    std::fs::write(
        tree.path().join("etc/ssh/sshd_config.d/00-a-banner.conf"),
        "Banner /nonexistent\n",
    )
    .unwrap();
    let (st, reasons) = status(&eval(tree.path()), "auth.banner");
    assert_eq!(st, Status::Fail, "{reasons}");
    assert!(reasons.contains("/nonexistent"), "{reasons}");
}

/// Symlink rule: a drop-in that is an absolute symlink out of /etc/ssh, and one whose `..`
/// climbs above the root (clamped there, as sshd in a chroot would see it), are read.
#[test]
fn dropins_linked_outside_the_globs_are_read() {
    for link in ["/opt/site/ssh.conf", "../../../../../../../opt/site/ssh.conf"] {
        let tree = planted("ssh-hardened");
        let root = tree.path();
        std::fs::create_dir_all(root.join("opt/site")).unwrap();
        std::fs::write(
            root.join("opt/site/ssh.conf"),
            "PasswordAuthentication yes\n",
        )
        .unwrap();
        // Named to sort before 00-hipaa.conf: sshd keeps the first value it reads.
        symlink(link, root.join("etc/ssh/sshd_config.d/00-a-site.conf")).unwrap();
        let (st, reasons) = status(&eval(root), "auth.ssh");
        assert_eq!(st, Status::Fail, "{link}: {reasons}");
        assert!(reasons.contains("/etc/ssh/sshd_config.d/00-a-site.conf") || reasons.contains("/opt/site/ssh.conf"), "{link}: {reasons}");
    }
}

/// The RHEL 9 layout: a drop-in includes the crypto-policies back-end, a symlink into
/// /usr/share; sshd's controls get verdicts, not `error`.
#[test]
fn an_include_of_a_crypto_policy_back_end_is_followed() {
    let tree = planted("ssh-hardened");
    let root = tree.path();
    std::fs::write(
        root.join("etc/ssh/sshd_config.d/50-redhat.conf"),
        "Include /etc/crypto-policies/back-ends/opensshserver.config\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("etc/crypto-policies/back-ends")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/crypto-policies/DEFAULT")).unwrap();
    std::fs::write(
        root.join("usr/share/crypto-policies/DEFAULT/opensshserver.txt"),
        "Ciphers aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,aes256-ctr,aes128-gcm@openssh.com,aes128-ctr\n",
    )
    .unwrap();
    symlink(
        "/usr/share/crypto-policies/DEFAULT/opensshserver.txt",
        root.join("etc/crypto-policies/back-ends/opensshserver.config"),
    )
    .unwrap();
    let doc = eval(root);
    for control in ["auth.ssh", "auth.banner", "logoff.ssh-idle"] {
        let (st, reasons) = status(&doc, control);
        assert_ne!(st, Status::Error, "{control}: {reasons}");
    }
}

/// Secret material is never served to a plugin that did not declare it by exact path, and its
/// contents never reach the result document, however a hostile target links or names it.
#[test]
fn secrets_linked_or_named_by_configuration_are_never_quoted() {
    let tree = planted("ssh-hardened");
    let root = tree.path();
    let hash = "$6$rounds=5000$saltsalt$QUOTEDHASHMUSTNOTAPPEAR";
    std::fs::write(root.join("etc/shadow"), format!("root:{hash}:19000:0:99999:7:::\n")).unwrap();
    let key = "PRIVATEKEYMATERIALMUSTNOTAPPEAR";
    std::fs::write(
        root.join("etc/ssh/ssh_host_ed25519_key"),
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{key}\n-----END OPENSSH PRIVATE KEY-----\n"),
    )
    .unwrap();
    symlink("/etc/shadow", root.join("etc/ssh/sshd_config.d/00-shadow.conf")).unwrap();
    symlink(
        "/etc/ssh/ssh_host_ed25519_key",
        root.join("etc/ssh/sshd_config.d/01-key.conf"),
    )
    .unwrap();
    std::fs::write(
        root.join("etc/ssh/sshd_config.d/02-banner.conf"),
        "Banner /etc/shadow\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("etc/profile.d")).unwrap();
    symlink("/etc/shadow", root.join("etc/profile.d/zz-shadow.sh")).unwrap();
    let doc = eval(root);
    let json = engine::report::json(&doc);
    assert!(!json.contains("QUOTEDHASH"), "a password hash reached the document");
    assert!(!json.contains("PRIVATEKEYMATERIAL"), "key material reached the document");
    let facts = Command::new(BIN)
        .args(["facts", "--root"])
        .arg(root)
        .output()
        .unwrap();
    let facts = String::from_utf8_lossy(&facts.stdout);
    assert!(!facts.contains("QUOTEDHASH") && !facts.contains("PRIVATEKEYMATERIAL"));
    let report = plugin_report(&doc, "authentication");
    assert!(
        report.denied.iter().any(|d| d.contains("/etc/shadow") && d.contains("secret")),
        "{:?}",
        report.denied
    );
    // Never a pass on an unreadable drop-in.
    assert_ne!(status(&doc, "auth.ssh").0, Status::Pass);
}

/// A hard link of /etc/shadow planted as an sshd drop-in is secret material under its new name;
/// hard links and a mount inside the tree are listed in the target section.
#[test]
fn hard_links_and_mounts_inside_the_target_are_reported() {
    let tree = planted("ssh-hardened");
    let root = tree.path();
    std::fs::write(
        root.join("etc/shadow"),
        "root:$6$x$HARDLINKEDHASHMUSTNOTAPPEAR:19000:0:99999:7:::\n",
    )
    .unwrap();
    std::fs::hard_link(
        root.join("etc/shadow"),
        root.join("etc/ssh/sshd_config.d/00-linked.conf"),
    )
    .unwrap();
    std::fs::hard_link(root.join("etc/issue.net"), root.join("etc/issue.net.bak")).unwrap();
    let doc = eval(root);
    let json = engine::report::json(&doc);
    assert!(!json.contains("HARDLINKEDHASH"), "the hash reached the document");
    let report = plugin_report(&doc, "authentication");
    assert!(
        report.denied.iter().any(|d| d.contains("a hard link of /etc/shadow")),
        "{:?}",
        report.denied
    );
    assert!(
        doc.target.hard_links.contains(&"/etc/issue.net".to_string()),
        "{:?}",
        doc.target.hard_links
    );
    // A filesystem mounted inside the tree (CI runs as root; the mount is undone on drop).
    let mount_point = root.join("etc/ssh/sshd_config.d/mnt");
    std::fs::create_dir_all(&mount_point).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "phipolicy-test"])
        .arg(&mount_point)
        .status()
        .expect("run mount");
    assert!(mounted.success(), "mounting a tmpfs needs root (CI runs as root)");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mount_point);
    std::fs::write(mount_point.join("x.conf"), "ClientAliveInterval 300\n").unwrap();
    std::fs::write(
        root.join("etc/ssh/sshd_config.d/05-mounted.conf"),
        "Include /etc/ssh/sshd_config.d/mnt/*.conf\n",
    )
    .unwrap();
    let doc = eval(root);
    assert!(
        doc.target
            .mounts
            .contains(&"/etc/ssh/sshd_config.d/mnt/x.conf".to_string()),
        "{:?}",
        doc.target.mounts
    );
}

/// A world-readable file below the walk's 64 levels used to leave the control `manual` and the run
/// exiting 0: what the walk could not reach is now an error, and the run exits 2.
#[test]
fn a_world_readable_file_below_the_walk_depth_makes_the_run_exit_2() {
    use std::os::unix::fs::PermissionsExt;
    let root = planted("integrity-750");
    let mut dir = root.path().join("var/data/phi");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    for level in 0..70 {
        dir = dir.join(format!("l{level}"));
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    }
    let record = dir.join("record.txt");
    std::fs::write(&record, "patient\n").unwrap();
    std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o644)).unwrap();
    let doc = eval(root.path());
    let (integrity, reasons) = status(&doc, "integrity.phi-permissions");
    assert_eq!(integrity, Status::Error, "{reasons}");
    assert!(
        reasons.contains("directories deeper than 64 levels were not listed"),
        "{reasons}"
    );
    assert_eq!(doc.exit_code(), 2);
    let o = Command::new(BIN)
        .args([
            "eval",
            "--format",
            "json",
            "--controls",
            "integrity.phi-permissions",
            "--root",
        ])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A PHI directory with more entries than one listing may return (200,000): the reason counts
/// entries, not bytes.
#[test]
fn an_over_long_phi_listing_is_reported_in_entries() {
    let root = planted("integrity-750");
    let phi = root.path().join("var/data/phi");
    let farm = phi.join("farm");
    std::fs::create_dir(&farm).unwrap();
    for i in 0..200_001 {
        symlink("x", farm.join(format!("{i}"))).unwrap();
    }
    let doc = eval(root.path());
    let (integrity, reasons) = status(&doc, "integrity.phi-permissions");
    assert_eq!(integrity, Status::Error, "{reasons}");
    assert!(
        reasons.contains(
            "/var/data/phi/farm (more entries than a listing may return (200000 entries))"
        ),
        "{reasons}"
    );
    assert!(!reasons.contains("bytes"), "{reasons}");
}

/// 20,000 sshd drop-ins: sshd reads them all (it has no cap on included files), so a compliant
/// configuration stays compliant; phipolicy used to stop at 1,024 and call it something sshd
/// rejects. (100,000 pass as well, in ~5 s for auth.ssh alone; three plugins reading them at once
/// on a loaded two-core machine come too close to the plugin wall-time limit for a test.)
#[test]
fn twenty_thousand_sshd_drop_ins_are_read_like_sshd_reads_them() {
    let root = planted("ssh-hardened");
    let dropins = root.path().join("etc/ssh/sshd_config.d");
    for i in 0..20_000 {
        std::fs::write(
            dropins.join(format!("50-fleet-{i:06}.conf")),
            format!("# fleet drop-in {i}\nMaxSessions 10\n"),
        )
        .unwrap();
    }
    let doc = eval(root.path());
    let clean = eval(&fixture("ssh-hardened"));
    for control in ["auth.ssh", "logoff.ssh-idle", "auth.banner"] {
        let (st, reasons) = status(&doc, control);
        assert_eq!(st, status(&clean, control).0, "{control}: {reasons}");
        assert!(!reasons.contains("rejects"), "{control}: {reasons}");
        assert!(
            reasons.len() < 10_000,
            "{control}: {} bytes of reasons",
            reasons.len()
        );
    }
    assert_eq!(status(&doc, "auth.ssh").0, Status::Pass);
}

/// A directory-backed host's 60,000 local accounts: ids.unique used to compare every pair of
/// records (2,000 accounts already ran into the Rego time limit) and its plugin, like
/// password-management's, ran out of memory building the facts; now every account control gets
/// a verdict, naming the duplicate and the never-expiring password planted at the end.
#[test]
fn sixty_thousand_accounts_get_verdicts() {
    let root = planted("ids-debian-clean");
    let (mut passwd, mut shadow, group) = phipolicy_sdk::testing::many_accounts(60_000);
    passwd.push_str("late:x:10007:10007::/home/late:/bin/bash\n");
    shadow.push_str("late:$6$salt$hash:19800:0::7:::\n");
    let etc = root.path().join("etc");
    std::fs::write(etc.join("passwd"), passwd).unwrap();
    std::fs::write(etc.join("shadow"), shadow).unwrap();
    std::fs::write(etc.join("group"), group).unwrap();
    let doc = eval(root.path());
    let (unique, reasons) = status(&doc, "ids.unique");
    assert_eq!(unique, Status::Fail, "{reasons}");
    assert_eq!(
        reasons,
        "UID 10007 is shared by u7 (/etc/passwd:9) and late (/etc/passwd:60002)"
    );
    let (phi_group, reasons) = status(&doc, "ids.phi-group");
    assert_eq!(phi_group, Status::Fail, "{reasons}");
    assert!(reasons.contains("phi-access does not exist"), "{reasons}");
    let (aging, reasons) = status(&doc, "passwords.aging");
    assert_eq!(aging, Status::Fail, "{reasons}");
    assert!(
        reasons.contains("account late (uid 10007, /bin/bash) has no maximum password age (empty max-days field at /etc/shadow:60002)"),
        "{reasons}"
    );
    assert!(!reasons.contains("account u1 "), "compliant accounts are not named: {reasons}");
}
