//! Native tests of the unique-user-id plugin on the `ids-*` fixture trees and small variations.

use phipolicy_sdk::testing::{DirTarget, many_accounts, tree};
use phipolicy_sdk::{Params, Plugin};
use serde_json::{Value, json};

use super::{Facts, UniqueUserId};

/// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
#[test]
fn schema_is_fresh() {
    phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
        "unique-user-id",
    ));
}

/// The facts of `target` as the engine receives them.
fn collect_facts(target: &dyn phipolicy_sdk::Target, phi_group: &str) -> Value {
    serde_json::to_value(super::collect_facts(target, phi_group)).expect("facts")
}

fn fixture(case: &str) -> Value {
    let root = format!(
        "{}/../../engine/tests/fixtures/{case}/root",
        env!("CARGO_MANIFEST_DIR")
    );
    UniqueUserId::collect(&DirTarget::new(root), &Params::default()).expect("collect")
}

fn login<'a>(facts: &'a Value, name: &str) -> &'a Value {
    facts["login_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e[0] == name)
        .unwrap()
}

#[test]
fn manifest_names_the_controls() {
    let m = UniqueUserId::manifest();
    assert_eq!(m.controls, &["ids.unique", "ids.phi-group"]);
    assert!(m.reads.contains(&"/etc/shadow"));
}

#[test]
fn debian_clean() {
    let f = fixture("ids-debian-clean");
    assert_eq!(f["family"], "debian");
    assert_eq!(f["unreadable"], json!([]));
    assert_eq!(f["issues"], json!([]));
    assert_eq!(f["passwd"]["count"], 20);
    assert_eq!(
        f["login_account_columns"],
        json!(["name", "uid", "gid", "shell", "line"])
    );
    assert_eq!(login(&f, "root"), &json!(["root", 0, 0, "/bin/bash", 1]));
    assert_eq!(f["uid_zero"][0]["name"], "root");
    assert_eq!(f["uid_zero"].as_array().unwrap().len(), 1);
    assert_eq!(f["duplicates"], json!([]));
    // root's shadow field is `*` and alice's a hash: neither is empty.
    assert_eq!(f["empty_passwords"], json!([]));
    let phi = &f["phi_group"];
    assert_eq!(phi["exists"], true);
    assert_eq!(phi["gid"], 1500);
    let names: Vec<_> = phi["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("alice"), json!("carol")]);
    assert_eq!(phi["members"][0]["account"]["login_shell"], true);
}

#[test]
fn facts_never_carry_password_hashes() {
    let f = fixture("ids-debian-clean");
    assert!(!f.to_string().contains("$6$"));
}

#[test]
fn debian_problems_are_reported_as_facts() {
    let f = fixture("ids-debian-problems");
    assert_eq!(login(&f, "toor")[1], 0);
    assert_eq!(
        f["duplicates"],
        json!([
            {"field": "UID", "value": 0, "entries": [
                {"name": "root", "path": "/etc/passwd", "line": 1},
                {"name": "toor", "path": "/etc/passwd", "line": 21},
            ]},
            {"field": "UID", "value": 1000, "entries": [
                {"name": "alice", "path": "/etc/passwd", "line": 19},
                {"name": "carol", "path": "/etc/passwd", "line": 20},
            ]},
        ])
    );
    assert_eq!(
        f["empty_passwords"],
        json!([{"name": "carol", "field": "shadow", "path": "/etc/shadow", "line": 20,
                "account": {"shell": "/bin/bash", "login_shell": true, "path": "/etc/passwd", "line": 20}}])
    );
    let logins: Vec<&Value> = f["login_accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e[0])
        .collect();
    assert!(!logins.contains(&&json!("guest")));
    // admin logs in with bash; guest has no login shell, so it is not a generic login account.
    assert_eq!(
        f["generic_login_accounts"],
        json!([["admin", 1003, 1003, "/bin/bash", 22]])
    );
    assert_eq!(f["phi_group"]["exists"], false);
    assert_eq!(f["phi_group"]["members"], json!([]));
}

#[test]
fn rocky_primary_gid_members_count() {
    let f = fixture("ids-rocky-clean");
    assert_eq!(f["family"], "rhel");
    let members = f["phi_group"]["members"].as_array().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0]["via"], "member-list");
    assert_eq!(members[1]["name"], "dave");
    assert_eq!(members[1]["via"], "primary-gid");
    assert_eq!(members[1]["path"], "/etc/passwd");
}

#[test]
fn unknown_and_nologin_members() {
    let f = fixture("ids-rocky-phi-group-members");
    let members = f["phi_group"]["members"].as_array().unwrap();
    let mallory = members.iter().find(|m| m["name"] == "mallory").unwrap();
    assert_eq!(mallory["account"], Value::Null);
    let sshd = members.iter().find(|m| m["name"] == "sshd").unwrap();
    assert_eq!(sshd["account"]["login_shell"], false);
    // The first of two phi-access lines is the group getgrnam returns.
    assert_eq!(f["phi_group"]["gid"], 1500);
}

#[test]
fn parameter_names_the_group() {
    let (_root, target) = tree(&[
        ("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"),
        ("/etc/shadow", "root:*:1:0:99999:7:::\n"),
        ("/etc/group", "root:x:0:\nclinic:x:700:root\n"),
    ]);
    let params = Params::from_json(r#"{"phi_group": "clinic"}"#).unwrap();
    let f = UniqueUserId::collect(&target, &params).unwrap();
    assert_eq!(f["phi_group"]["name"], "clinic");
    assert_eq!(f["phi_group"]["members"][0]["name"], "root");
    // No os-release: recorded as unknown family, not an error.
    assert_eq!(f["family"], "unknown");
}

#[test]
fn missing_and_garbage_files() {
    let (_root, target) = tree(&[("/etc/passwd", "::::\nroot:x:zero:0::/:\n\u{0}\u{ff}")]);
    let f = collect_facts(&target, "phi-access");
    assert_eq!(f["shadow"]["exists"], false);
    assert_eq!(f["group"]["readable"], false);
    assert_eq!(f["passwd"]["count"], 0);
    assert_eq!(f["login_accounts"], json!([]));
    assert!(f["issues"].as_array().unwrap().len() >= 2);
    let missing: Vec<_> = f["unreadable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["path"].clone())
        .collect();
    assert!(missing.contains(&json!("/etc/shadow")));
    assert!(missing.contains(&json!("/etc/group")));
}

#[test]
fn duplicates_among_sixty_thousand_accounts_are_grouped_in_one_pass() {
    let (mut passwd, shadow, mut group) = many_accounts(60_000);
    // The last account reuses the first one's UID and the last group the first one's name.
    passwd.push_str("late:x:10000:10000::/home/late:/bin/bash\n");
    group.push_str("g0:x:99999:\n");
    let (_root, target) = tree(&[
        ("/etc/passwd", passwd.as_str()),
        ("/etc/shadow", shadow.as_str()),
        ("/etc/group", group.as_str()),
    ]);
    let f = collect_facts(&target, "phi-access");
    assert_eq!(f["passwd"]["count"], 60_002);
    // Every account has a login shell: they are counted, the first 20 listed, none generic.
    assert_eq!(f["login_account_count"], 60_002);
    assert_eq!(f["login_accounts"].as_array().unwrap().len(), 20);
    assert_eq!(f["generic_login_accounts"], json!([]));
    assert_eq!(
        f["duplicates"],
        json!([
            {"field": "UID", "value": 10000, "entries": [
                {"name": "u0", "path": "/etc/passwd", "line": 2},
                {"name": "late", "path": "/etc/passwd", "line": 60002},
            ]},
            {"field": "group name", "value": "g0", "entries": [
                {"name": "g0", "path": "/etc/group", "line": 2},
                {"name": "g0", "path": "/etc/group", "line": 60002},
            ]},
        ])
    );
    // The facts grow with the findings, not with the accounts.
    assert!(
        f.to_string().len() < limits::MAX_FACTS_BYTES,
        "{} bytes",
        f.to_string().len()
    );
}

#[test]
fn generic_login_accounts_are_listed_wherever_they_are() {
    let (mut passwd, shadow, group) = many_accounts(100);
    passwd.push_str("admin:x:5000:5000::/home/admin:/bin/bash\n");
    passwd.push_str("guest:x:5001:5001::/home/guest:/usr/sbin/nologin\n");
    let (_root, target) = tree(&[
        ("/etc/passwd", passwd.as_str()),
        ("/etc/shadow", shadow.as_str()),
        ("/etc/group", group.as_str()),
    ]);
    let f = collect_facts(&target, "phi-access");
    assert_eq!(f["login_account_count"], 102);
    assert_eq!(
        f["generic_login_accounts"],
        json!([["admin", 5000, 5000, "/bin/bash", 102]])
    );
}

/// What the tests hold the plugin's output to.
mod limits {
    /// Facts of a host with tens of thousands of accounts and no finding: they grow with the
    /// findings, not with the accounts.
    pub const MAX_FACTS_BYTES: usize = 16 << 10;
}
