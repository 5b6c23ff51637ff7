//! What authors do: a plugin author inspects, signs and verifies a component (`phipolicy
//! plugin`), a compliance team adds controls and replaces a built-in policy with an overlay
//! (`--policies DIR` with `extends: hipaa`).

use std::path::{Path, PathBuf};

mod common;
use common::cli::{NOW, assert_bad_input, fixture, phipolicy, stderr};

/// A built-in plugin's component as the nested build wrote it (<target>/plugins-wasm).
fn built_component(name: &str) -> PathBuf {
    let dir = match std::env::var_os("PHIPOLICY_PLUGIN_WASM_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_BIN_EXE_phipolicy"))
            .ancestors()
            .nth(2)
            .unwrap()
            .join("plugins-wasm/wasm32-wasip2/release"),
    };
    dir.join(name)
}

/// `plugin inspect` describes a component (ABI, manifest, facts schema, imports, sha256), `plugin
/// sign` writes the signature `plugin verify` and `eval --trusted-key` accept, and a tampered
/// component or another key does not verify.
#[test]
fn plugin_inspect_sign_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("emergency.wasm");
    std::fs::copy(built_component("emergency_access.wasm"), &wasm).unwrap();
    let o = phipolicy(&["plugin", "inspect", wasm.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let i: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((i["abi"].as_str(), i["engine_abi"].as_str()), (Some("0.2.0"), Some("0.2.0")));
    assert_eq!(i["manifest"]["id"], "emergency-access");
    assert_eq!(i["manifest"]["controls"], serde_json::json!(["emergency.procedure"]));
    assert_eq!(i["replaces_builtin"], true);
    assert!(i["facts_schema"].as_str().unwrap().starts_with("policies/hipaa/schemas/emergency-access.json"));
    use sha2::Digest;
    let sha = format!("{:x}", sha2::Sha256::digest(std::fs::read(&wasm).unwrap()));
    assert_eq!(i["sha256"], sha.as_str());
    let imports: Vec<&str> = i["imports"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(imports.contains(&"phipolicy:plugin/target@0.2.0"), "{imports:?}");
    assert!(i["signature"].is_null());
    let table = phipolicy(&["plugin", "inspect", wasm.to_str().unwrap()]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("controls:   emergency.procedure") && text.contains("signature:  none"), "{text}");

    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let (sk, pk) = (dir.path().join("author.sec"), dir.path().join("author.pub"));
    std::fs::write(&sk, pair.sk.to_box(None).unwrap().to_string()).unwrap();
    std::fs::write(&pk, pair.pk.to_box().unwrap().to_string()).unwrap();
    let verify = |key: &Path| phipolicy(&["plugin", "verify", wasm.to_str().unwrap(), "--trusted-key", key.to_str().unwrap()]);
    let unsigned = verify(&pk);
    assert_eq!(unsigned.status.code(), Some(1), "{}", stderr(&unsigned));
    assert!(stderr(&unsigned).contains("no signature"), "{}", stderr(&unsigned));

    let signed = phipolicy(&["plugin", "sign", wasm.to_str().unwrap(), "--key", sk.to_str().unwrap()]);
    assert_eq!(signed.status.code(), Some(0), "{}", stderr(&signed));
    let ok = verify(&pk);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    // What eval accepts: the signed plugin runs as `signed`, replacing the built-in one.
    let o = phipolicy(&[
        "eval", "--root", fixture("ssh-hardened").to_str().unwrap(), "--controls", "emergency.procedure",
        "--plugins", dir.path().to_str().unwrap(), "--trusted-key", pk.to_str().unwrap(), "--format", "json",
    ]);
    assert!(matches!(o.status.code(), Some(0..=1)), "{}", stderr(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let plugin = doc["plugins"].as_array().unwrap().iter().find(|p| p["id"] == "emergency-access").unwrap();
    assert_eq!(plugin["verification"], "signed", "{plugin}");

    let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let other_pk = dir.path().join("other.pub");
    std::fs::write(&other_pk, other.pk.to_box().unwrap().to_string()).unwrap();
    assert_eq!(verify(&other_pk).status.code(), Some(1));
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    assert_eq!(verify(&pk).status.code(), Some(1));

    let o = phipolicy(&["plugin", "inspect", dir.path().join("missing.wasm").to_str().unwrap()]);
    assert_bad_input(&o, "missing.wasm");
}

/// An overlay directory (`extends: hipaa`) adds a control judged after the built-in ones, in its
/// own package, with its own parameter; a module with a built-in package replaces that module
/// only; a collision is bad input naming the file.
#[test]
fn policy_overlays_add_to_the_builtin_profile() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("profile.yaml"),
        "name: acme\ndescription: Acme's additions\nextends: hipaa\ncontrols: [acme.review]\nparameters:\n  acme_reviewer:\n    default: security-team\n    description: who reviews\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("acme_review.rego"),
        "package phipolicy.acme.acme_review\n\nmetadata := {\"id\": \"acme.review\", \"safeguard\": \"acme\", \"cfr\": [\"164.308(a)(1)(ii)(D)\"], \"title\": \"Reviewed\", \"severity\": \"low\", \"description\": \"d\", \"parameters\": [\"acme_reviewer\"], \"facts\": {}, \"remediation\": \"r\"}\n\nresult := {\"status\": \"manual\", \"reasons\": [sprintf(\"ask %s\", [input.params.acme_reviewer])]}\n",
    )
    .unwrap();
    // Acme judges the banner by hand: its module replaces the built-in one, nothing else.
    std::fs::write(
        dir.path().join("acme_banner.rego"),
        "package phipolicy.hipaa.auth_banner\n\nmetadata := {\"id\": \"auth.banner\", \"safeguard\": \"authentication\", \"cfr\": [\"164.312(d)\"], \"title\": \"Banner\", \"severity\": \"low\", \"description\": \"d\", \"parameters\": [], \"facts\": {}, \"remediation\": \"r\"}\n\nresult := {\"status\": \"manual\", \"reasons\": [\"Acme reviews the banner by hand\"]}\n",
    )
    .unwrap();
    let o = phipolicy(&["controls", "--policies", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let list = String::from_utf8(o.stdout).unwrap();
    assert!(list.trim_end().lines().last().unwrap().contains("acme.review"), "{list}");
    assert!(list.contains("auth.ssh"), "{list}");
    let params = dir.path().join("params.yaml");
    std::fs::write(&params, "acme_reviewer: ciso\n").unwrap();
    let o = phipolicy(&[
        "eval", "--root", fixture("ssh-hardened").to_str().unwrap(), "--policies", dir.path().to_str().unwrap(),
        "--params", params.to_str().unwrap(), "--controls", "auth.ssh,auth.banner,acme.review", "--format", "json",
        "--now", NOW,
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).expect(&stderr(&o));
    assert_eq!(doc["profile"], "acme");
    let results = doc["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!((&results[0]["control"], &results[0]["status"]), (&"auth.ssh".into(), &"pass".into()), "{}", results[0]);
    assert_eq!(results[1]["control"], "auth.banner");
    assert_eq!(results[1]["status"], "manual", "{}", results[1]);
    assert_eq!(results[1]["reasons"][0], "Acme reviews the banner by hand");
    // No plugin feeds acme.review: error, and saying so, never a silent pass.
    assert_eq!(results[2]["control"], "acme.review");
    assert_eq!(results[2]["status"], "error", "{}", results[2]);
    assert!(results[2]["reasons"][0].as_str().unwrap().contains("no plugin provides facts for acme.review"), "{}", results[2]);

    std::fs::write(
        dir.path().join("profile.yaml"),
        "name: acme\ndescription: d\nextends: hipaa\ncontrols: [auth.ssh]\n",
    )
    .unwrap();
    let o = phipolicy(&["controls", "--policies", dir.path().to_str().unwrap()]);
    assert_bad_input(&o, "control `auth.ssh` is already in `hipaa`");
}
