//! `harness/hardening/rhel.sh` needs dnf and authselect, so it cannot run here; the fixture
//! `rocky9-hardened` is its result on Rocky 9's own files (`rocky9-stock` plus the script's edits,
//! see the fixture's PROVENANCE). These tests keep the script and that tree on the same settings:
//! a change to either without the other fails here.

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

fn script() -> String {
    let path = workspace().join("harness/hardening/rhel.sh");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A file of the hardened tree, by its in-target path.
fn hardened(path: &str) -> String {
    let file = workspace()
        .join("engine/tests/fixtures/rocky9-hardened/root")
        .join(path.trim_start_matches('/'));
    std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!("rhel.sh writes {path}, but rocky9-hardened has no such file ({e})")
    })
}

/// The value of a `NAME=value` assignment at the start of a line of the script.
fn variable(script: &str, name: &str) -> String {
    script
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("rhel.sh no longer sets {name}"))
        .to_string()
}

/// The files the script writes with `cat > PATH <<EOF` (expanded: `$PHI`, `$PHI_GROUP`) or
/// `<<'EOF'` (literal), and their text.
fn heredocs(script: &str) -> Vec<(String, String)> {
    let phi = variable(script, "PHI");
    let group = variable(script, "PHI_GROUP");
    let mut out = Vec::new();
    let mut lines = script.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("cat > ") else {
            continue;
        };
        let Some((path, marker)) = rest.split_once(" <<") else {
            continue;
        };
        let quoted = marker.starts_with('\'');
        let mut body = String::new();
        for l in lines.by_ref() {
            if l == "EOF" {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        if !quoted {
            body = body.replace("$PHI_GROUP", &group).replace("$PHI", &phi);
        }
        out.push((path.to_string(), body));
    }
    out
}

#[test]
fn every_file_rhel_sh_writes_is_in_the_hardened_tree_with_the_same_text() {
    let script = script();
    let files = heredocs(&script);
    assert!(
        files.len() >= 12,
        "rhel.sh writes only {} files with `cat > FILE <<EOF`: did its form change?",
        files.len()
    );
    for (path, body) in files {
        assert_eq!(
            hardened(&path),
            body,
            "{path}: rhel.sh and rocky9-hardened differ"
        );
    }
}

#[test]
fn sshd_settings_are_the_scripts() {
    let script = script();
    let start = script.find("HIPAA_SSHD=\"").expect("HIPAA_SSHD") + "HIPAA_SSHD=\"".len();
    let end = start + script[start..].find('"').expect("closing quote");
    let group = variable(&script, "PHI_GROUP");
    let settings = script[start..end].replace("$PHI_GROUP", &group);
    // Rocky 9's sshd_config includes sshd_config.d, so the script writes a drop-in there.
    assert_eq!(
        hardened("/etc/ssh/sshd_config.d/00-hipaa.conf"),
        format!("{settings}\n")
    );
}

#[test]
fn auditd_conf_login_defs_crypto_policy_and_authselect_are_the_scripts() {
    let script = script();
    let list = script
        .split("for kv in ")
        .nth(1)
        .and_then(|s| s.split("; do").next())
        .expect("the auditd.conf loop");
    let auditd = hardened("/etc/audit/auditd.conf");
    let kvs: Vec<&str> = list.split_whitespace().filter(|w| *w != "\\").collect();
    assert_eq!(kvs.len(), 5, "auditd.conf settings: {kvs:?}");
    for kv in kvs {
        let (key, value) = kv.split_once('=').expect("key=value");
        assert!(
            auditd.lines().any(|l| l == format!("{key} = {value}")),
            "auditd.conf lacks `{key} = {value}`"
        );
    }

    let login_defs = hardened("/etc/login.defs");
    let sed = script
        .lines()
        .find(|l| l.contains("/etc/login.defs") && l.starts_with("sed "))
        .expect("the login.defs sed");
    let mut edits = 0;
    for part in sed.split("s/^").skip(1) {
        let mut fields = part.split('/');
        let (_pattern, replacement) = (fields.next(), fields.next().expect("replacement"));
        let line = replacement.replace("\\t", "\t");
        assert!(
            login_defs.lines().any(|l| l == line),
            "login.defs lacks `{line}`"
        );
        edits += 1;
    }
    assert_eq!(edits, 3);

    let policy = script
        .split("update-crypto-policies --set ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .expect("update-crypto-policies --set");
    assert_eq!(
        hardened("/etc/crypto-policies/config"),
        format!("{policy}\n")
    );
    for module in policy.split(':').skip(1) {
        hardened(&format!(
            "/etc/crypto-policies/policies/modules/{module}.pmod"
        ));
    }

    assert!(script.contains("authselect select sssd with-faillock"));
    assert_eq!(
        hardened("/etc/authselect/authselect.conf"),
        "sssd\nwith-faillock\n"
    );
    for stack in ["system-auth", "password-auth"] {
        let text = hardened(&format!("/etc/authselect/{stack}"));
        for line in [
            "pam_faillock.so preauth silent",
            "pam_faillock.so authfail",
            "pam_pwquality.so",
        ] {
            assert!(text.contains(line), "{stack} lacks {line}");
        }
    }
}
