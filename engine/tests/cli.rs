//! The command line as users and CI scripts see it: exit codes, stdout/stderr discipline, and a
//! clear message naming the file (and line) for every kind of bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::cli::{NOW, assert_bad_input, fixture, phipolicy, stderr};

const BIN: &str = env!("CARGO_BIN_EXE_phipolicy");

fn write_temp(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn json_document_on_stdout_and_exit_code_is_the_verdict() {
    let root = fixture("ssh-defaults");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        NOW,
    ]);
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).expect("stdout is the JSON document");
    assert_eq!(doc["schema"], "phipolicy/results/v1");
    assert_eq!(doc["evaluated_at"], NOW);
    assert_eq!(doc["target"]["kind"], "rootfs");
    let fails = doc["summary"]["fail"].as_u64().unwrap();
    let errors = doc["summary"]["error"].as_u64().unwrap();
    assert!(fails > 0, "the Debian defaults fail: {doc}");
    assert_eq!(o.status.code(), Some(if errors > 0 { 2 } else { 1 }));
    let ids: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control"].as_str().unwrap())
        .collect();
    let catalogue = String::from_utf8(phipolicy(&["controls"]).stdout).unwrap();
    let listed: Vec<&str> = catalogue
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(ids, listed, "one result per control, in catalogue order");
}

#[test]
fn controls_filter_keeps_catalogue_order() {
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--controls",
        "auth.banner,auth.ssh",
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["auth.ssh", "auth.banner"]);
}

#[test]
fn table_and_json_file_at_once() {
    let root = fixture("ssh-hardened");
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "table",
        "--format",
        &format!("json={}", json.display()),
    ]);
    let table = String::from_utf8(o.stdout).unwrap();
    assert!(
        table.contains("STATUS") && table.contains("auth.ssh"),
        "{table}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(doc["schema"], "phipolicy/results/v1");
}

#[test]
fn missing_root() {
    assert_bad_input(
        &phipolicy(&["eval", "--root", "/nonexistent/phipolicy-root"]),
        "/nonexistent/phipolicy-root",
    );
}

#[test]
fn root_that_is_a_file() {
    let (_d, file) = write_temp("root", "not a directory");
    assert_bad_input(
        &phipolicy(&["eval", "--root", file.to_str().unwrap()]),
        "is not a directory",
    );
}

#[test]
fn params_with_unknown_key_name_file_and_line() {
    let (_d, params) = write_temp(
        "org.yaml",
        "password_min_length: 16\nssh_max_auth_tris: 4\n",
    );
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_bad_input(
        &o,
        &format!(
            "{}:2: unknown parameter `ssh_max_auth_tris`",
            params.display()
        ),
    );
}

#[test]
fn params_with_wrong_type() {
    let (_d, params) = write_temp("org.json", "{\"password_min_length\": \"fourteen\"}");
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_bad_input(
        &o,
        "parameter `password_min_length` must be a non-negative integer",
    );
}

#[test]
fn broken_params_yaml() {
    let (_d, params) = write_temp("org.yaml", "phi_paths: [/a\nphi_group: x\n");
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_bad_input(&o, &params.display().to_string());
}

#[test]
fn waiver_without_justification() {
    let (_d, waivers) = write_temp("w.yaml", "- control: auth.ssh\n  expires: 2027-03-31\n");
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--waivers",
        waivers.to_str().unwrap(),
    ]);
    assert_bad_input(&o, "`justification` is required");
}

#[test]
fn waiver_for_unknown_control() {
    let (_d, waivers) = write_temp(
        "w.yaml",
        "- control: auth.telnet\n  justification: x\n  expires: 2027-03-31\n",
    );
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--waivers",
        waivers.to_str().unwrap(),
    ]);
    assert_bad_input(&o, "unknown control `auth.telnet`");
}

#[test]
fn waivers_turn_fail_into_waived_and_expired_ones_do_nothing() {
    let (_d, waivers) = write_temp(
        "w.yaml",
        "- control: auth.ssh\n  justification: \"Bastion migration, ticket SEC-142\"\n  expires: 2027-03-31\n  approved_by: CISO\n\
         - control: auth.banner\n  justification: \"old\"\n  expires: 2025-01-01\n",
    );
    let root = fixture("ssh-defaults");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        NOW,
        "--waivers",
        waivers.to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let result = |id: &str| {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["control"] == id)
            .unwrap()
            .clone()
    };
    let ssh = result("auth.ssh");
    assert_eq!(ssh["status"], "waived");
    assert_eq!(ssh["waiver"]["original_status"], "fail");
    assert_eq!(ssh["waiver"]["approved_by"], "CISO");
    let banner = result("auth.banner");
    assert_eq!(banner["status"], "fail");
    assert_eq!(banner["waiver"]["in_force"], false);
    assert!(
        banner["reasons"]
            .to_string()
            .contains("waiver expired on 2025-01-01")
    );
}

#[test]
fn unknown_control_in_filter() {
    let root = fixture("ssh-hardened");
    assert_bad_input(
        &phipolicy(&[
            "eval",
            "--root",
            root.to_str().unwrap(),
            "--controls",
            "auth.telnet",
        ]),
        "unknown control `auth.telnet`",
    );
}

#[test]
fn rego_syntax_error_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/hipaa");
    for e in std::fs::read_dir(&builtin).unwrap() {
        let p = e.unwrap().path();
        // The profile's files; `schemas/` (the plugins' facts schemas) is not a policy file.
        if p.is_file() {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let broken = dir.path().join("auth_ssh.rego");
    let mut text = std::fs::read_to_string(&broken).unwrap();
    text.push_str("\nbroken_rule if {\n  input.x ==\n}\n");
    std::fs::write(&broken, text).unwrap();
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--policies",
        dir.path().to_str().unwrap(),
    ]);
    assert_bad_input(&o, &format!("{}:", broken.display()));
}

#[test]
fn explain_and_controls_come_from_policy_metadata() {
    let o = phipolicy(&["explain", "auth.ssh"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("164.312(d)"), "{text}");
    assert!(text.contains("ssh_max_auth_tries"), "{text}");
    assert!(text.contains("Remediation"), "{text}");
    assert_bad_input(
        &phipolicy(&["explain", "auth.telnet"]),
        "unknown control `auth.telnet`",
    );
}

#[test]
fn builtin_rego_tests_pass() {
    let o = phipolicy(&["test"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains(" passed, 0 failed"), "{out}");
}

#[test]
fn verbose_diagnostics_never_reach_stdout() {
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "-vv",
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
    ]);
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .expect("stdout is pure JSON even with -vv");
    assert!(
        stderr(&o).contains("plugin finished"),
        "debug diagnostics go to stderr: {}",
        stderr(&o)
    );
}

#[test]
fn corrupt_plugin_component_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("broken.wasm");
    std::fs::write(&plugin, b"\0asm\x0d\0\x01\0 this is not a component").unwrap();
    let root = fixture("ssh-hardened");
    let o = phipolicy(&[
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--allow-unverified",
        "--plugins",
        dir.path().to_str().unwrap(),
    ]);
    assert_bad_input(&o, &plugin.display().to_string());
}

/// Runs phipolicy without privileges: as `nobody` through `setpriv` when the tests run as root (CI
/// does, and root reads everything), directly otherwise. Never skipped: root without setpriv fails.
fn phipolicy_unprivileged(args: &[&str]) -> Output {
    let root = rustix::process::geteuid().is_root();
    let mut cmd = if root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(BIN);
        c
    } else {
        Command::new(BIN)
    };
    cmd.args(args)
        .env("HOME", "/nonexistent")
        .env_remove("XDG_CACHE_HOME")
        .output()
        .expect("run phipolicy (as nobody through setpriv when root)")
}

/// A tree the unprivileged user may enter (tempdirs are created 0700).
fn traversable_copy(case: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture(case).display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

#[test]
fn unreadable_root_is_bad_input() {
    use std::os::unix::fs::PermissionsExt;
    let outer = traversable_copy("ssh-hardened");
    let root = outer.path().join("locked");
    std::fs::create_dir(&root).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o000)).unwrap();
    let o = phipolicy_unprivileged(&["eval", "--root", root.to_str().unwrap(), "--now", NOW]);
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_bad_input(&o, root.to_str().unwrap());
    assert!(
        stderr(&o).to_lowercase().contains("permission denied"),
        "{}",
        stderr(&o)
    );
}

/// Files the scan may not read are reported as unreadable (never as pass), each naming the file,
/// and every other control is still judged.
#[test]
fn unreadable_files_are_reported_not_passed() {
    use std::os::unix::fs::PermissionsExt;
    let root = traversable_copy("passwords-hardened");
    let shadow = root.path().join("etc/shadow");
    std::fs::set_permissions(&shadow, std::fs::Permissions::from_mode(0o000)).unwrap();
    let o = phipolicy_unprivileged(&[
        "eval",
        "--root",
        root.path().to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "a control in error exits 2: {}",
        stderr(&o)
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a whole JSON document");
    let results = doc["results"].as_array().unwrap();
    let catalogue = engine::profile::ProfileSource::builtin().unwrap().profile.controls;
    assert_eq!(results.len(), catalogue.len(), "every control is still reported");
    let aging = results
        .iter()
        .find(|r| r["control"] == "passwords.aging")
        .unwrap();
    assert_eq!(aging["status"], "error", "{aging}");
    assert!(
        aging["reasons"]
            .to_string()
            .contains("/etc/shadow could not be read (permission denied)"),
        "{}",
        aging["reasons"]
    );
    let quality = results
        .iter()
        .find(|r| r["control"] == "passwords.quality")
        .unwrap();
    assert_eq!(quality["status"], "pass", "{quality}");
}

/// A copy of the built-in policy directory, to break one module of.
fn builtin_policies_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let builtin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/hipaa");
    for entry in std::fs::read_dir(&builtin).unwrap() {
        let path = entry.unwrap().path();
        // The profile's files; `schemas/` (the plugins' facts schemas) is not a policy file.
        if path.is_file() {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// Every control of `doc` (an eval of ssh-hardened with a broken auth_banner.rego) but auth.banner
/// is as a clean run judges it; auth.banner is not `error` there.
fn only_auth_banner_changed(doc: &serde_json::Value) {
    let clean = phipolicy(&[
        "eval",
        "--root",
        fixture("ssh-hardened").to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    let clean: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    for (c, r) in clean["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(doc["results"].as_array().unwrap())
    {
        if r["control"] != "auth.banner" {
            assert_eq!(c, r, "only auth.banner changes");
        } else {
            assert_ne!(c["status"], "error");
        }
    }
}

/// A policy whose `result` has the wrong shape turns its control into `error` naming the policy
/// file; the run exits 2 and the JSON document says which control errored.
#[test]
fn policy_returning_the_wrong_shape_errors_naming_the_file() {
    let dir = builtin_policies_copy();
    let module = dir.path().join("auth_banner.rego");
    let text = std::fs::read_to_string(&module).unwrap();
    let start = text
        .find("\nresult := {")
        .expect("auth_banner.rego defines result");
    let broken = format!("{}\nresult := {{\"status\": \"maybe\"}}\n", &text[..start]);
    std::fs::write(&module, broken).unwrap();
    let o = phipolicy(&[
        "eval",
        "--root",
        fixture("ssh-hardened").to_str().unwrap(),
        "--policies",
        dir.path().to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a whole JSON document");
    let banner = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == "auth.banner")
        .unwrap();
    assert_eq!(banner["status"], "error");
    let reason = banner["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("auth_banner.rego")
            && reason.contains("wrong shape")
            && reason.contains("maybe"),
        "{reason}"
    );
    only_auth_banner_changed(&doc);
}

/// A `--policies` module whose builtin asks for ~10 GB (`numbers.range(1, 400000000)`) used to
/// abort the whole process (exit 134). Now its evaluation is stopped at the memory budget: that
/// control is `error` with a message saying so, every other control is judged as without it, and
/// the run exits 2 with the whole document.
#[test]
fn a_policy_builtin_that_allocates_without_bound_is_stopped_not_aborted() {
    let dir = builtin_policies_copy();
    let module = dir.path().join("auth_banner.rego");
    let text = std::fs::read_to_string(&module).unwrap();
    let bomb = text.replacen(
        "\nresult := {",
        "\nhuge := count(numbers.range(1, 400000000))\n\nresult := {\n\t\"huge\": huge,",
        1,
    );
    assert_ne!(bomb, text, "auth_banner.rego defines result");
    std::fs::write(&module, bomb).unwrap();
    let started = std::time::Instant::now();
    let o = phipolicy(&[
        "eval",
        "--root",
        fixture("ssh-hardened").to_str().unwrap(),
        "--policies",
        dir.path().to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a whole JSON document");
    let banner = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == "auth.banner")
        .unwrap();
    assert_eq!(banner["status"], "error");
    let reason = banner["reasons"][0].as_str().unwrap();
    assert!(
        reason.contains("auth_banner.rego")
            && reason.contains("exceeded the memory limit of 512 MiB"),
        "{reason}"
    );
    only_auth_banner_changed(&doc);
}

/// Every character a terminal would obey: C0 (but the newline that ends a line), DEL, C1.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_control() && *c != '\n')
        .collect()
}

/// Diagnostics quoting input (here a parameter name) are escaped the same way.
#[test]
fn diagnostics_escape_control_characters() {
    let (_dir, params) = write_temp("p.yaml", "\"x\\e]0;pwned\\a\\e[2K\": 1\n");
    let o = phipolicy(&[
        "eval",
        "--root",
        fixture("ssh-hardened").to_str().unwrap(),
        "--params",
        params.to_str().unwrap(),
    ]);
    assert_bad_input(&o, "x\\u{1b}]0;pwned\\u{7}\\u{1b}[2K");
    assert_eq!(raw_controls(&stderr(&o)), Vec::<char>::new());
}

/// Issue 9.7: `--output` and `--format F=FILE` never follow a symbolic link and never write into
/// the target root; both are refused before the scan, naming the path (exit 2).
#[test]
fn outputs_refuse_links_and_the_target_root() {
    let target = tempfile::tempdir().unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture("ssh-hardened").display()))
        .arg(target.path())
        .status()
        .unwrap();
    assert!(status.success());
    let out = tempfile::tempdir().unwrap();
    let victim = out.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = out.path().join("results.json");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let root = target.path().to_str().unwrap();
    for args in [
        vec!["--output", link.to_str().unwrap()],
        vec!["--format", &*format!("json={}", link.display())],
    ] {
        let mut all = vec!["eval", "--root", root, "--now", NOW];
        all.extend(args);
        let o = phipolicy(&all);
        assert_bad_input(&o, "is a symbolic link");
        assert!(stderr(&o).contains(link.to_str().unwrap()));
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    let inside = target.path().join("etc/report.html");
    for args in [
        vec!["--output", inside.to_str().unwrap()],
        vec!["--format", &*format!("html={}", inside.display())],
        vec!["--evidence", &*format!("{}/e.tar.zst", target.path().display())],
    ] {
        let mut all = vec!["eval", "--root", root, "--now", NOW];
        all.extend(args);
        let o = phipolicy(&all);
        assert_bad_input(&o, "inside the audited target");
    }
    assert!(!inside.exists());
    // Outside the target, through no link: written.
    let fine = out.path().join("r.json");
    let o = phipolicy(&["eval", "--root", root, "--now", NOW, "--output", fine.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0..=2)), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&fine).unwrap().contains("phipolicy/results/v1"));
}
