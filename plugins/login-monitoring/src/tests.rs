//! Native tests of the login-monitoring plugin on the `lockout-*` fixture trees and small
//! variations of them.

use phipolicy_sdk::testing::{DirTarget, tree};
use phipolicy_sdk::{Params, Plugin};
use serde_json::{Value, json};

use super::{Facts, LoginMonitoring};

/// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn schema_is_fresh() {
    phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
        "login-monitoring",
    ));
}

/// The facts of `target` as the engine receives them.
fn collect_facts(target: &dyn phipolicy_sdk::Target) -> Value {
    serde_json::to_value(super::collect_facts(target)).expect("facts")
}

fn fixture(case: &str) -> Value {
    let root = format!(
        "{}/../../engine/tests/fixtures/{case}/root",
        env!("CARGO_MANIFEST_DIR")
    );
    LoginMonitoring::collect(&DirTarget::new(root), &Params::default()).expect("collect")
}

fn stack<'a>(facts: &'a Value, service: &str, kind: &str) -> &'a Value {
    facts["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service"] == service && s["type"] == kind)
        .unwrap()
}

fn modules(stack: &Value) -> Vec<String> {
    stack["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["module_name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn manifest_reads_authselect() {
    let m = LoginMonitoring::manifest();
    assert_eq!(m.controls, &["lockout.failed-logins"]);
    assert!(m.reads.contains(&"/etc/authselect/**"));
    assert!(m.reads.contains(&"/usr/lib64/security/**"));
}

#[test]
fn debian_defaults_have_no_lockout_module() {
    let f = fixture("lockout-defaults");
    assert_eq!(f["family"], "debian");
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(f["issues"], json!([]));
    let auth = stack(&f, "common-auth", "auth");
    assert_eq!(
        modules(auth),
        vec!["pam_unix.so", "pam_deny.so", "pam_permit.so"]
    );
    assert_eq!(auth["entries"][0]["module_exists"], true);
    assert_eq!(
        f["module_dirs_present"],
        json!(["/usr/lib/x86_64-linux-gnu/security"])
    );
    let conf = &f["faillock_confs"][0];
    assert_eq!(conf["path"], "/etc/security/faillock.conf");
    assert_eq!(conf["file"]["settings"], json!([]));
    assert_eq!(f["missing_modules"], json!([]));
}

#[test]
fn debian_hardened_values_come_from_faillock_conf() {
    let f = fixture("lockout-faillock-hardened");
    let auth = stack(&f, "common-auth", "auth");
    assert_eq!(
        modules(auth),
        vec![
            "pam_faillock.so",
            "pam_unix.so",
            "pam_faillock.so",
            "pam_deny.so",
            "pam_permit.so"
        ]
    );
    let pre = &auth["entries"][0];
    assert_eq!(pre["faillock_mode"], "preauth");
    assert_eq!(pre["lockout"]["deny"]["value"], 5);
    assert_eq!(pre["lockout"]["deny"]["source"], "faillock.conf");
    assert_eq!(pre["lockout"]["unlock_time"]["value"], 1800);
    assert_eq!(auth["entries"][2]["faillock_mode"], "authfail");
    let account = stack(&f, "common-account", "account");
    assert!(modules(account).contains(&"pam_faillock.so".to_string()));
}

#[test]
fn arguments_override_the_conf_file() {
    let f = fixture("lockout-args-override-conf");
    let fail = &stack(&f, "common-auth", "auth")["entries"][2];
    let deny = &fail["lockout"]["deny"];
    assert_eq!(
        (deny["value"].as_i64(), deny["source"].as_str()),
        (Some(4), Some("pam-argument"))
    );
    assert_eq!(deny["overrides"]["path"], "/etc/security/faillock.conf");
    assert_eq!(fail["lockout"]["unlock_time"]["value"], 0);
}

#[test]
fn pam_tally2_missing_on_pam_1_5() {
    let f = fixture("lockout-pam-tally2-pam15");
    let tally = &stack(&f, "common-auth", "auth")["entries"][0];
    assert_eq!(tally["module_name"], "pam_tally2.so");
    assert_eq!(tally["module_exists"], false);
    assert_eq!(tally["lockout"]["deny"]["value"], 5);
    let missing = f["missing_modules"].as_array().unwrap();
    assert_eq!(missing.len(), 2);
    assert_eq!(missing[0]["type"], "account");
    assert_eq!(missing[1]["path"], "/etc/pam.d/common-auth");
    assert!(
        missing[1]["searched"]
            .as_array()
            .unwrap()
            .contains(&json!("/usr/lib/x86_64-linux-gnu/security/pam_tally2.so"))
    );
}

#[test]
fn pam_tally2_present_on_ubuntu_22_04() {
    let f = fixture("lockout-pam-tally2-present");
    assert_eq!(f["os"]["id"], "ubuntu");
    let tally = &stack(&f, "common-auth", "auth")["entries"][0];
    assert_eq!(tally["module_exists"], true);
    assert_eq!(f["missing_modules"], json!([]));
}

#[test]
fn rocky_authselect_symlinks_are_followed() {
    let f = fixture("lockout-rocky-with-faillock");
    assert_eq!(f["family"], "rhel");
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(f["stacks"].as_array().unwrap().len(), 4);
    let auth = stack(&f, "password-auth", "auth");
    assert_eq!(auth["real_path"], "/etc/authselect/password-auth");
    let names = modules(auth);
    assert_eq!(names.iter().filter(|m| *m == "pam_faillock.so").count(), 2);
    assert_eq!(auth["entries"][2]["path"], "/etc/pam.d/password-auth");
    assert_eq!(auth["entries"][2]["lockout"]["unlock_time"]["value"], 1800);
    assert_eq!(auth["entries"][2]["lockout"]["unlock_time"]["line"], 46);
    assert_eq!(
        stack(&f, "system-auth", "account")["entries"][0]["module_name"],
        "pam_faillock.so"
    );
    assert_eq!(f["missing_modules"], json!([]));
}

#[test]
fn rocky_without_faillock() {
    let f = fixture("lockout-rocky-without");
    let auth = stack(&f, "system-auth", "auth");
    assert!(!modules(auth).contains(&"pam_faillock.so".to_string()));
}

#[test]
fn missing_service_file_is_not_unreadable() {
    let (_root, target) = tree(&[("/etc/os-release", "ID=debian\n")]);
    let f = collect_facts(&target);
    assert_eq!(stack(&f, "common-auth", "auth")["exists"], false);
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(f["module_dirs_present"], json!([]));
    assert_eq!(f["faillock_confs"][0]["exists"], false);
}

#[test]
fn conf_argument_names_another_file() {
    let (_root, target) = tree(&[
        ("/etc/os-release", "ID=debian\n"),
        (
            "/etc/pam.d/common-auth",
            "auth required pam_faillock.so preauth conf=/etc/security/hipaa-faillock.conf\nauth required pam_faillock.so authfail conf=/etc/security/nope.conf\n",
        ),
        (
            "/etc/security/hipaa-faillock.conf",
            "deny = 2\nbogus line with = many words\n",
        ),
    ]);
    let f = collect_facts(&target);
    let auth = stack(&f, "common-auth", "auth");
    assert_eq!(auth["entries"][0]["lockout"]["deny"]["value"], 2);
    assert_eq!(
        auth["entries"][0]["faillock_conf"],
        "/etc/security/hipaa-faillock.conf"
    );
    assert_eq!(auth["entries"][1]["lockout"]["deny"]["source"], "default");
    assert_eq!(f["unreadable"][0]["path"], "/etc/security/nope.conf");
}

#[test]
fn unknown_family_picks_the_stacks_present() {
    let (_root, target) = tree(&[("/etc/pam.d/system-auth", "auth sufficient pam_unix.so\n")]);
    let f = collect_facts(&target);
    assert_eq!(f["family"], "unknown");
    assert_eq!(f["stacks"][0]["service"], "system-auth");
    let (_root, target) = tree(&[("/etc/pam.d/common-auth", "auth [ garbage\n\u{0}")]);
    let f = collect_facts(&target);
    assert_eq!(f["stacks"][0]["service"], "common-auth");
    assert!(!f["issues"].as_array().unwrap().is_empty());
}
