//! Native tests of the unique-user-id plugin on the `ids-*` fixture trees and small variations.

use phipolicy_sdk::testing::{DirTarget, tree};
use phipolicy_sdk::{Params, Plugin};
use serde_json::{Value, json};

use super::{UniqueUserId, collect_facts};

fn fixture(case: &str) -> Value {
    let root = format!(
        "{}/../../engine/tests/fixtures/{case}/root",
        env!("CARGO_MANIFEST_DIR")
    );
    UniqueUserId::collect(&DirTarget::new(root), &Params::default()).expect("collect")
}

fn entry<'a>(facts: &'a Value, db: &str, name: &str) -> &'a Value {
    facts[db]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
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
    assert_eq!(f["passwd"]["entries"].as_array().unwrap().len(), 20);
    let root = entry(&f, "passwd", "root");
    assert_eq!(
        (root["uid"].as_u64(), root["login_shell"].as_bool()),
        (Some(0), Some(true))
    );
    assert_eq!(entry(&f, "shadow", "root")["password_state"], "none");
    assert_eq!(entry(&f, "shadow", "alice")["password_state"], "usable");
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
    assert_eq!(entry(&f, "passwd", "toor")["uid"], 0);
    assert_eq!(entry(&f, "passwd", "carol")["uid"], 1000);
    assert_eq!(entry(&f, "shadow", "carol")["password_state"], "empty");
    assert_eq!(entry(&f, "passwd", "guest")["login_shell"], false);
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
    assert_eq!(f["passwd"]["entries"], json!([]));
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
