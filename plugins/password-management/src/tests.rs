//! Native tests of the password-management plugin on the `passwords-*` fixture trees and on small
//! variations of them.

use phipolicy_sdk::testing::{DirTarget, many_accounts, tree};
use phipolicy_sdk::{Params, Plugin};
use serde_json::{Value, json};

use super::PasswordManagement;

fn fixture(case: &str) -> Value {
    let root = format!(
        "{}/../../engine/tests/fixtures/{case}/root",
        env!("CARGO_MANIFEST_DIR")
    );
    PasswordManagement::collect(&DirTarget::new(root), &Params::default()).expect("collect")
}

/// A listed login account.
fn account<'a>(facts: &'a Value, name: &str) -> &'a Value {
    facts["accounts"]["login"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

/// The checked-in schema is the schema of [`super::Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn schema_is_fresh() {
    phipolicy_sdk::testing::check_schema_file::<super::Facts>(
        &phipolicy_sdk::testing::builtin_schema_path("password-management"),
    );
}

#[test]
fn manifest_names_the_controls() {
    let m = PasswordManagement::manifest();
    assert_eq!(m.controls, &["passwords.quality", "passwords.aging"]);
    assert!(m.reads.contains(&"/etc/authselect/**"));
}

#[test]
fn debian_defaults() {
    let f = fixture("passwords-defaults");
    assert_eq!(f["family"], "debian");
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(f["issues"], json!([]));
    assert_eq!(f["pam"]["services"], json!(["common-password"]));
    let lines = f["pam"]["pwquality_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 1);
    let line = &lines[0];
    assert_eq!(
        (line["path"].as_str(), line["line"].as_u64()),
        (Some("/etc/pam.d/common-password"), Some(25))
    );
    assert_eq!(line["control"], "requisite");
    assert_eq!(line["failure_action"], "die");
    assert_eq!(line["module_exists"], true);
    assert_eq!(
        line["module_file"],
        "/usr/lib/x86_64-linux-gnu/security/pam_pwquality.so"
    );
    assert_eq!(line["args"], json!({"retry": "3"}));
    let eff = &f["effective"];
    assert_eq!(
        eff["minlen"],
        json!({"value": 8, "raw": null, "path": "/etc/security/pwquality.conf", "line": 0, "source": "default", "overrides": null})
    );
    assert_eq!(eff["dictcheck"]["value"], 1);
    assert_eq!(eff["maxrepeat"]["value"], 0);
    assert_eq!(
        f["pwquality"]["files"],
        json!([{"path": "/etc/security/pwquality.conf", "exists": true}])
    );
    assert_eq!(
        f["login_defs"]["PASS_MAX_DAYS"],
        json!({"value": 99999, "raw": "99999", "path": "/etc/login.defs", "line": 165})
    );
    assert_eq!(f["login_defs"]["UID_MIN"]["value"], 1000);
    let alice = account(&f, "alice");
    assert_eq!(alice["password_source"], "shadow");
    assert_eq!(alice["max_days"], 99999);
    // bob's password is locked, root has none, restic has no login shell, the rest are system
    // accounts: only alice is a login account.
    let accounts = &f["accounts"];
    assert_eq!(accounts["uid_min"], 1000);
    assert_eq!(accounts["login_count"], 1);
    assert_eq!(
        accounts["max_days_counts"],
        json!([{"max_days": 99999, "count": 1}])
    );
    assert!(accounts["total"].as_u64().unwrap() > 20);
}

#[test]
fn debian_hardened() {
    let f = fixture("passwords-hardened");
    let files: Vec<_> = f["pwquality"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        vec![
            "/etc/security/pwquality.conf.d/50-hipaa.conf",
            "/etc/security/pwquality.conf"
        ]
    );
    let eff = &f["effective"];
    for (name, value, line) in [
        ("minlen", 14, 2),
        ("minclass", 3, 3),
        ("maxrepeat", 2, 4),
        ("gecoscheck", 1, 5),
        ("dictcheck", 1, 6),
    ] {
        assert_eq!(eff[name]["value"], value, "{name}");
        assert_eq!(eff[name]["line"], line, "{name}");
        assert_eq!(eff[name]["source"], "pwquality.conf", "{name}");
        assert_eq!(
            eff[name]["path"],
            "/etc/security/pwquality.conf.d/50-hipaa.conf"
        );
    }
    assert_eq!(f["login_defs"]["PASS_MAX_DAYS"]["value"], 90);
    assert_eq!(f["login_defs"]["PASS_MIN_DAYS"]["value"], 7);
    assert_eq!(f["login_defs"]["PASS_WARN_AGE"]["value"], 14);
    assert_eq!(account(&f, "alice")["max_days"], 90);
}

#[test]
fn pam_arguments_override_the_files() {
    let f = fixture("passwords-pam-args-override");
    let line = &f["pam"]["pwquality_lines"][0];
    assert_eq!(line["args"], json!({"retry": "3", "minlen": "8"}));
    let minlen = &line["effective"]["minlen"];
    assert_eq!(minlen["value"], 8);
    assert_eq!(minlen["source"], "pam-argument");
    assert_eq!(
        (minlen["path"].as_str(), minlen["line"].as_u64()),
        (Some("/etc/pam.d/common-password"), Some(25))
    );
    assert_eq!(
        minlen["overrides"],
        json!({"value": "14", "path": "/etc/security/pwquality.conf.d/50-hipaa.conf", "line": 2})
    );
    assert_eq!(f["effective"]["minlen"]["value"], 8);
    assert_eq!(line["effective"]["minclass"]["source"], "pwquality.conf");
}

#[test]
fn existing_account_keeps_99999() {
    let f = fixture("passwords-existing-account-99999");
    assert_eq!(f["login_defs"]["PASS_MAX_DAYS"]["value"], 90);
    let alice = account(&f, "alice");
    assert_eq!(
        (alice["max_days"].as_i64(), alice["shadow_line"].as_u64()),
        (Some(99999), Some(21))
    );
    assert_eq!(account(&f, "carol")["max_days"], 90);
}

#[test]
fn rocky_authselect_symlinks() {
    let f = fixture("passwords-rocky-authselect");
    assert_eq!(f["family"], "rhel");
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(
        f["pam"]["services"],
        json!(["system-auth", "password-auth"])
    );
    let stacks = f["pam"]["stacks"].as_array().unwrap();
    for (stack, service) in stacks.iter().zip(["system-auth", "password-auth"]) {
        assert_eq!(stack["exists"], true);
        assert_eq!(
            stack["files"][0]["real_path"],
            format!("/etc/authselect/{service}")
        );
    }
    let lines = f["pam"]["pwquality_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    for line in lines {
        assert_eq!(line["line"], 21);
        assert_eq!(line["flags"], json!(["local_users_only"]));
        assert_eq!(line["module_file"], "/usr/lib64/security/pam_pwquality.so");
        assert_eq!(line["effective"]["minlen"]["value"], 14);
    }
    assert_eq!(
        f["pam"]["module_dirs_present"],
        json!(["/usr/lib64/security"])
    );
}

#[test]
fn missing_and_unreadable_files() {
    // No os-release, no PAM, no pwquality, no login.defs, no shadow.
    let (_root, t) = tree(&[(
        "/etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n",
    )]);
    let f = PasswordManagement::collect(&t, &Params::default()).unwrap();
    assert_eq!(f["family"], "unknown");
    assert_eq!(f["os"], Value::Null);
    assert_eq!(
        f["pam"]["services"],
        json!(["common-password", "system-auth", "password-auth"])
    );
    assert!(
        f["pam"]["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["exists"] == false)
    );
    assert_eq!(f["pam"]["pwquality_lines"], json!([]));
    assert_eq!(
        f["login_defs"],
        json!({"path": "/etc/login.defs", "exists": false})
    );
    let unreadable: Vec<_> = f["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].as_str().unwrap())
        .collect();
    assert_eq!(unreadable, vec!["/etc/shadow"]);
    // Without shadow nobody's password is known to be usable.
    assert_eq!(f["accounts"]["login_count"], 0);
    assert_eq!(f["effective"]["minlen"]["source"], "default");
}

#[test]
fn several_pwquality_lines_and_weak_controls() {
    let (_root, t) = tree(&[
        (
            "/etc/os-release",
            "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n",
        ),
        (
            "/etc/pam.d/common-password",
            "password optional pam_pwquality.so minlen=6\n@include hipaa-password\n",
        ),
        (
            "/etc/pam.d/hipaa-password",
            "password [success=ok default=ignore] pam_pwquality.so minlen=16 enforcing=0\n",
        ),
        ("/etc/login.defs", "PASS_MAX_DAYS 090\nPASS_MIN_DAYS\n"),
        ("/etc/passwd", "alice:$6$abc$def:1000:1000::/home/alice:\n"),
        ("/etc/shadow", ""),
        ("/etc/group", ""),
    ]);
    let f = PasswordManagement::collect(&t, &Params::default()).unwrap();
    let lines = f["pam"]["pwquality_lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["failure_action"], "ignore");
    assert_eq!(lines[0]["effective"]["minlen"]["value"], 6);
    assert_eq!(lines[1]["failure_action"], "ignore");
    assert_eq!(lines[1]["via"][0]["directive"], "@include");
    assert_eq!(lines[1]["effective"]["enforcing"]["value"], 0);
    assert_eq!(lines[1]["module_exists"], false);
    assert_eq!(f["pam"]["module_dirs_present"], json!([]));
    assert_eq!(
        f["effective"]["minlen"]["value"], 6,
        "the first line found is the top-level summary"
    );
    // shadow's getlong reads 090 as invalid octal: the built-in default applies.
    assert_eq!(
        f["login_defs"]["PASS_MAX_DAYS"],
        json!({"value": null, "raw": "090", "path": "/etc/login.defs", "line": 1})
    );
    assert_eq!(f["login_defs"]["PASS_MIN_DAYS"], Value::Null);
    assert_eq!(f["issues"].as_array().unwrap().len(), 1);
    // A hash in passwd's own field; an empty shell field is /bin/sh, a login shell.
    let alice = account(&f, "alice");
    assert_eq!(alice["password_source"], "passwd");
    assert_eq!(
        (alice["shadow_line"].is_null(), alice["max_days_field"].is_null()),
        (true, true)
    );
}

#[test]
fn sixty_thousand_accounts_are_counted_and_the_worst_listed() {
    let (mut passwd, mut shadow, group) = many_accounts(60_000);
    // Three accounts whose passwords never expire, at the end of the files.
    for (i, max) in [(1, "-1"), (2, ""), (3, "99999")] {
        passwd.push_str(&format!("late{i}:x:{}:1::/home/late{i}:/bin/bash\n", 70_000 + i));
        shadow.push_str(&format!("late{i}:$6$s$h:19800:0:{max}:7:::\n"));
    }
    let (_root, target) = tree(&[
        ("/etc/passwd", passwd.as_str()),
        ("/etc/shadow", shadow.as_str()),
        ("/etc/group", group.as_str()),
    ]);
    let f = PasswordManagement::collect(&target, &Params::default()).expect("collect");
    let accounts = &f["accounts"];
    assert_eq!(accounts["total"], 60_004);
    assert_eq!(accounts["login_count"], 60_003, "root has no usable password");
    assert_eq!(
        accounts["max_days_counts"],
        json!([
            {"max_days": null, "count": 1},
            {"max_days": -1, "count": 1},
            {"max_days": 90, "count": 60_000},
            {"max_days": 99999, "count": 1},
        ])
    );
    let listed: Vec<&str> = accounts["login"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), super::LISTED_LOGIN_ACCOUNTS);
    assert_eq!(&listed[..5], ["late2", "late1", "late3", "u0", "u1"]);
    let late2 = account(&f, "late2");
    assert_eq!(
        (late2["max_days_field"].as_str(), late2["shadow_line"].as_u64()),
        (Some(""), Some(60_003))
    );
    // The facts stay small whatever the number of accounts.
    let size = f.to_string().len();
    assert!(size < 64 << 10, "{size} bytes of facts");
}
