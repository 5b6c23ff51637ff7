//! Every report format, rendered from the result document: snapshots of two fixtures (a failing
//! Debian tree, a Rocky tree with waivers; fixtures without `dirs.yaml` or `modes.yaml`, which
//! only `fixtures.rs` applies), the rules each consumer applies that its schema does
//! not (GitHub's SARIF ingestion, OSCAL references), escaping of hostile strings, drift, evidence
//! bundles and where reports may be written. The real validators (SARIF schema, JUnit XSDs,
//! trestle, the Nu HTML checker, Chromium) run in `cargo xtask validate-reports`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_phipolicy");
const NOW: &str = "2026-11-28T12:00:00Z";
const FORMATS: &[&str] = &[
    "table",
    "json",
    "sarif",
    "sarif-github",
    "junit",
    "oscal",
    "html",
    "markdown",
];

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("root")
}

fn phipolicy(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_CACHE_HOME", std::env::temp_dir().join("phipolicy-report-tests-cache"))
        .output()
        .expect("run phipolicy")
}

fn text(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Controls of the snapshot cases: one of each status the fixtures show, so a change elsewhere in
/// the catalogue leaves the snapshots alone.
const DEBIAN_CONTROLS: &str = "auth.ssh,ids.unique,emergency.procedure,crypto.in-transit,logoff.ssh-idle";
const ROCKY_CONTROLS: &str =
    "logoff.shell-timeout,audit.auditd,crypto.in-transit,auth.ssh,backup.restore-tested,ids.unique";

/// `eval --format json` of `root`, optionally with waivers and a selection of controls.
fn evaluate(root: &Path, waivers: Option<&Path>) -> Value {
    evaluate_some(root, waivers, None)
}

fn evaluate_some(root: &Path, waivers: Option<&Path>, controls: Option<&str>) -> Value {
    let mut args = vec![
        "eval",
        "--root",
        root.to_str().unwrap(),
        "--format",
        "json",
        "--now",
        NOW,
    ];
    if let Some(w) = waivers {
        args.extend(["--waivers", w.to_str().unwrap()]);
    }
    if let Some(c) = controls {
        args.extend(["--controls", c]);
    }
    let o = phipolicy(&args);
    // 2 is a verdict too (a control in `error`) as long as a document was written.
    assert!(
        matches!(o.status.code(), Some(0..=2)) && !o.stdout.is_empty(),
        "eval failed: {}",
        stderr(&o)
    );
    serde_json::from_slice(&o.stdout).expect("a JSON document")
}

/// The document with its volatile fields fixed: durations and the fixture's absolute path. A
/// plugin's `controls` keep only the controls this document judges, so a control added to a
/// plugin elsewhere changes no snapshot here.
fn normalized(mut doc: Value, case: &str) -> Value {
    doc["duration_ms"] = json!(0);
    // What the binary was built from changes with every commit (`tests/dist.rs` checks it).
    doc["build"] = json!("<build>");
    doc["target"]["root"] = json!(format!("/fixtures/{case}"));
    let judged: Vec<Value> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["control"].clone())
        .collect();
    for p in doc["plugins"].as_array_mut().unwrap() {
        p["duration_ms"] = json!(0);
        if let Some(controls) = p["controls"].as_array_mut() {
            controls.retain(|c| judged.contains(c));
        }
    }
    doc
}

/// Writes `doc` and renders it with `report --from` in `format`.
fn render(dir: &Path, doc: &Value, format: &str) -> String {
    let from = dir.join("doc.json");
    std::fs::write(&from, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    let o = phipolicy(&["report", "--from", from.to_str().unwrap(), "--format", format]);
    assert_eq!(o.status.code(), Some(0), "report {format}: {}", stderr(&o));
    text(&o)
}

/// The failing Debian tree.
fn failing_doc() -> Value {
    normalized(
        evaluate_some(&fixture("ssh-cloud-init-dropin"), None, Some(DEBIAN_CONTROLS)),
        "ssh-cloud-init-dropin",
    )
}

/// A Rocky tree with a waiver in force and an expired one.
fn waived_doc(dir: &Path) -> Value {
    let root = fixture("tls-rocky-default");
    let plain = evaluate_some(&root, None, Some(ROCKY_CONTROLS));
    let failing: Vec<&str> = plain["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "fail")
        .map(|r| r["control"].as_str().unwrap())
        .collect();
    assert!(failing.len() >= 2, "the Rocky fixture fails two controls: {failing:?}");
    let waivers = dir.join("waivers.yaml");
    std::fs::write(
        &waivers,
        format!(
            "- control: {}\n  justification: \"auditd arrives with the Q1 image; ticket SEC-142\"\n  expires: 2027-03-31\n  approved_by: \"Compliance Officer\"\n- control: {}\n  justification: \"expired exception\"\n  expires: 2026-01-31\n",
            failing[0], failing[1]
        ),
    )
    .unwrap();
    normalized(
        evaluate_some(&root, Some(&waivers), Some(ROCKY_CONTROLS)),
        "tls-rocky-default",
    )
}

#[test]
fn snapshots_of_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for (case, doc) in [
        ("failing-debian", failing_doc()),
        ("waived-rocky", waived_doc(dir.path())),
    ] {
        for format in FORMATS {
            let out = render(dir.path(), &doc, format);
            insta::assert_snapshot!(format!("{case}.{format}"), out);
        }
    }
}

fn sarif(doc: &Value, format: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    serde_json::from_str(&render(dir.path(), doc, format)).unwrap()
}

/// What GitHub code scanning requires beyond the schema.
fn check_github_rules(log: &Value, github: bool) {
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        for field in ["shortDescription", "fullDescription"] {
            assert!(!r[field]["text"].as_str().unwrap().is_empty(), "{r}");
        }
        assert!(!r["help"]["text"].as_str().unwrap().is_empty());
        assert!(!r["help"]["markdown"].as_str().unwrap().is_empty());
        let sev: f64 = r["properties"]["security-severity"].as_str().unwrap().parse().unwrap();
        assert!((0.0..=10.0).contains(&sev));
        assert!(r["properties"]["tags"].as_array().unwrap().iter().any(|t| t.as_str().unwrap().starts_with("45 CFR 164.")));
    }
    assert!(run["automationDetails"]["id"].as_str().unwrap().starts_with("phipolicy/hipaa/"));
    let results = run["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for res in results {
        let index = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], res["ruleId"], "ruleIndex points at ruleId");
        let locations = res["locations"].as_array().unwrap();
        assert!(!locations.is_empty(), "every result has a location");
        for l in locations.iter().chain(res["relatedLocations"].as_array().into_iter().flatten()) {
            let p = &l["physicalLocation"];
            assert!(!p["artifactLocation"]["uri"].as_str().unwrap().is_empty());
            assert_eq!(p["artifactLocation"]["uriBaseId"], "TARGETROOT");
            assert!(p["region"]["startLine"].as_u64().unwrap() >= 1);
        }
        let fp = res["partialFingerprints"]["primaryLocationLineHash"].as_str().unwrap();
        assert!(fp.len() > 8);
        if res["kind"] != "fail" {
            assert_eq!(res["level"], "none", "{res}");
        } else {
            assert_ne!(res["level"], "none");
        }
        if github {
            assert_eq!(res["kind"], "fail");
            assert!(res.get("suppressions").is_none());
        }
    }
    for n in run["invocations"][0]["toolExecutionNotifications"].as_array().unwrap() {
        let id = n["associatedRule"]["id"].as_str().unwrap();
        assert!(rules.iter().any(|r| r["id"] == id));
    }
}

#[test]
fn sarif_follows_githubs_ingestion_rules() {
    let dir = tempfile::tempdir().unwrap();
    let failing = failing_doc();
    let waived = waived_doc(dir.path());
    for doc in [&failing, &waived] {
        let full = sarif(doc, "sarif");
        check_github_rules(&full, false);
        check_github_rules(&sarif(doc, "sarif-github"), true);
        // The full profile has one result per control that is not an error.
        let results = full["runs"][0]["results"].as_array().unwrap();
        let errors = doc["summary"]["error"].as_u64().unwrap() as usize;
        assert_eq!(results.len() + errors, doc["results"].as_array().unwrap().len());
        let kinds: Vec<&str> = results.iter().map(|r| r["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"fail") && kinds.contains(&"review"), "{kinds:?}");
    }
    // Waived: a failure with an accepted suppression carrying the justification.
    let full = sarif(&waived, "sarif");
    let suppressed: Vec<&Value> = full["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["kind"], "fail");
    assert_eq!(suppressed[0]["suppressions"][0]["status"], "accepted");
    assert!(suppressed[0]["suppressions"][0]["justification"].as_str().unwrap().contains("SEC-142"));
    // The GitHub profile leaves the waived failure out.
    let github = sarif(&waived, "sarif-github");
    assert_eq!(
        github["runs"][0]["results"].as_array().unwrap().len() as u64,
        waived["summary"]["fail"].as_u64().unwrap()
    );
    // Different hosts: different automation ids, so one scan cannot close another's alerts.
    let mut other = failing.clone();
    other["target"]["hostname"] = json!("db-02");
    assert_ne!(
        sarif(&failing, "sarif")["runs"][0]["automationDetails"]["id"],
        sarif(&other, "sarif")["runs"][0]["automationDetails"]["id"]
    );
}

fn is_token(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn collect_uuids(v: &Value, defined: &mut Vec<String>, referenced: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("uuid", Value::String(s)) => defined.push(s.clone()),
                    (k, Value::String(s)) if k.ends_with("-uuid") => referenced.push(s.clone()),
                    _ => collect_uuids(v, defined, referenced),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_uuids(v, defined, referenced)),
        _ => {}
    }
}

#[test]
fn oscal_references_resolve_and_uuids_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let waived = waived_doc(dir.path());
    let ar: Value = serde_json::from_str(&render(dir.path(), &waived, "oscal")).unwrap();
    let root = &ar["assessment-results"];
    assert_eq!(root["metadata"]["oscal-version"], "1.1.3");
    let (mut defined, mut referenced) = (Vec::new(), Vec::new());
    collect_uuids(&ar, &mut defined, &mut referenced);
    let unique: std::collections::BTreeSet<&String> = defined.iter().collect();
    assert_eq!(unique.len(), defined.len(), "uuids are unique");
    for r in &referenced {
        assert!(defined.contains(r), "referenced uuid {r} is defined");
    }
    for u in &defined {
        assert_eq!(&u[14..15], "5", "version-5 uuid: {u}");
    }
    let href = root["import-ap"]["href"].as_str().unwrap();
    assert!(defined.contains(&href.trim_start_matches('#').to_string()));
    let result = &root["results"][0];
    for o in result["observations"].as_array().unwrap() {
        for m in o["methods"].as_array().unwrap() {
            assert!(["EXAMINE", "INTERVIEW", "TEST", "UNKNOWN"].contains(&m.as_str().unwrap()));
        }
        assert!(!o["relevant-evidence"].as_array().unwrap().is_empty());
        assert_eq!(o["collected"], NOW);
    }
    let findings = result["findings"].as_array().unwrap();
    assert_eq!(findings.len(), waived["results"].as_array().unwrap().len());
    for f in findings {
        let t = &f["target"];
        assert!(is_token(t["target-id"].as_str().unwrap()), "{t}");
        assert!(t["target-id"].as_str().unwrap().starts_with("hipaa-164."));
        assert!(["satisfied", "not-satisfied"].contains(&t["status"]["state"].as_str().unwrap()));
    }
    for c in result["reviewed-controls"]["control-selections"][0]["include-controls"].as_array().unwrap() {
        assert!(is_token(c["control-id"].as_str().unwrap()));
    }
    let risks = result["risks"].as_array().unwrap();
    assert_eq!(risks.len(), 1, "the waiver in force is a risk");
    assert_eq!(risks[0]["status"], "deviation-approved");
    assert!(findings.iter().any(|f| f["related-risks"][0]["risk-uuid"] == risks[0]["uuid"]));
    // Another scan of the same host an hour later: the same uuids.
    let mut later = waived.clone();
    later["evaluated_at"] = json!("2026-11-28T13:00:00Z");
    let again: Value = serde_json::from_str(&render(dir.path(), &later, "oscal")).unwrap();
    let mut defined_again = Vec::new();
    collect_uuids(&again, &mut defined_again, &mut Vec::new());
    assert_eq!(defined, defined_again);
}

/// A copy of the hardened logoff fixture where target-controlled strings carry markup and
/// terminal escapes: os-release `VERSION_ID` that retitles the window and erases the line above,
/// and a profile.d file (cited by logoff.shell-timeout, its line quoted in the reason) whose name
/// has an `<img onerror>`, a newline and a conceal escape, and whose line erases and rewinds.
fn hostile_tree(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", fixture("logoff-hardened").display()))
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\u{1b}]0;ALL CONTROLS PASS\u{7}\u{1b}[1A\u{1b}[2K<script>alert(1)</script>\"\nID_LIKE=debian\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/profile.d/0<img src=x onerror=alert(2)>\n\u{1b}[8m.sh"),
        "TMOUT=0\u{1b}[2K\r; readonly TMOUT; export TMOUT\n",
    )
    .unwrap();
    root
}

/// Every character a terminal would obey: C0 (but the newline that ends a line), DEL, C1.
fn raw_controls(text: &str) -> Vec<char> {
    text.chars().filter(|c| c.is_control() && *c != '\n').collect()
}

/// Issue 9.5: target text with terminal escapes (os-release `VERSION_ID` that retitles the window
/// and erases the line above, a quoted config line that erases and rewinds, a profile.d file name
/// with a newline and a conceal escape) reaches the table of `eval` escaped, never raw.
#[test]
fn terminal_escapes_in_target_text_are_shown_not_obeyed() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_tree(dir.path());
    let o = phipolicy(&["eval", "--root", root.to_str().unwrap(), "--format", "table", "--now", NOW]);
    assert!(matches!(o.status.code(), Some(1 | 2)), "{}", stderr(&o));
    let table = text(&o);
    assert_eq!(raw_controls(&table), Vec::<char>::new(), "{table}");
    assert_eq!(raw_controls(&stderr(&o)), Vec::<char>::new());
    // Shown, visibly: the header's os line, the quoted line and the file name.
    assert!(
        table.contains("debian 12\\u{1b}]0;ALL CONTROLS PASS\\u{7}\\u{1b}[1A\\u{1b}[2K"),
        "{table}"
    );
    assert!(table.contains("TMOUT=0\\u{1b}[2K\\r"), "{table}");
    assert!(table.contains("/etc/profile.d/0<img src=x onerror=alert(2)>\\n\\u{1b}[8m.sh"), "{table}");
    assert!(table.contains("FAIL    logoff.shell-timeout"), "{table}");
}

#[test]
fn hostile_strings_render_as_text_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_tree(dir.path());
    let doc = evaluate(&root, None);
    let raw = doc.to_string();
    assert!(raw.contains("\\u001b"), "the document carries the escapes (as JSON escapes)");
    assert!(raw.contains("<img src=x onerror=alert(2)>"), "the file name is cited: {raw}");
    for format in FORMATS {
        let out = render(dir.path(), &doc, format);
        if *format == "json" {
            continue;
        }
        for c in out.chars() {
            assert!(
                !c.is_control() || c == '\n' || (c == '\t' && *format != "table"),
                "{format}: raw control character {c:?} in the output"
            );
        }
        if matches!(*format, "html" | "junit" | "markdown") {
            assert!(!out.contains("<script>alert"), "{format}: markup from the target is escaped");
            assert!(!out.contains("<img src"), "{format}: markup from the target is escaped");
        }
    }
    let html = render(dir.path(), &doc, "html");
    assert!(html.contains("&lt;img src=x onerror=alert(2)&gt;"), "shown as text");
    assert!(html.contains("\\u{1b}[8m"), "the escape is shown, not obeyed");
    assert!(!html.contains("http://") && !html.contains("https://"), "no external URL");
}

#[test]
fn markdown_stays_within_githubs_comment_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = failing_doc();
    for r in doc["results"].as_array_mut().unwrap() {
        r["status"] = json!("fail");
        r["reasons"] = json!(["x".repeat(20_000)]);
    }
    let md = render(dir.path(), &doc, "markdown");
    assert!(md.chars().count() <= 65_536, "{} characters", md.chars().count());
    assert!(md.contains("**Truncated:**"));
}

#[test]
fn report_refuses_unknown_schemas_and_non_documents() {
    let dir = tempfile::tempdir().unwrap();
    let v2 = dir.path().join("v2.json");
    std::fs::write(&v2, r#"{"schema": "phipolicy/results/v2"}"#).unwrap();
    let o = phipolicy(&["report", "--from", v2.to_str().unwrap(), "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown schema `phipolicy/results/v2`"), "{}", stderr(&o));
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "not json").unwrap();
    let o = phipolicy(&["report", "--from", junk.to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("junk.json: not a JSON result document"), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
}

#[test]
fn diff_gates_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let good = normalized(evaluate(&fixture("ssh-hardened"), None), "ssh");
    let bad = normalized(evaluate(&fixture("ssh-cloud-init-dropin"), None), "ssh");
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    std::fs::write(&old, good.to_string()).unwrap();
    std::fs::write(&new, bad.to_string()).unwrap();
    let (o, n) = (old.to_str().unwrap(), new.to_str().unwrap());
    let regressed = phipolicy(&["diff", o, n, "--format", "json"]);
    assert_eq!(regressed.status.code(), Some(1), "{}", stderr(&regressed));
    let drift: Value = serde_json::from_slice(&regressed.stdout).unwrap();
    assert!(drift["now_failing"].as_array().unwrap().iter().any(|c| c["control"] == "auth.ssh"));
    assert!(drift["evidence_changed"].as_array().unwrap().iter().any(|c| c["control"] == "auth.ssh"));
    assert_eq!(drift["regressed"], true);
    let fixed = phipolicy(&["diff", n, o]);
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert!(text(&fixed).contains("Now passing:"), "{}", text(&fixed));
    let md = phipolicy(&["diff", o, n, "--format", "markdown"]);
    assert!(text(&md).contains("### Now failing"));
    // Waivers: one expiring within the window is listed; one that lapsed is a regression.
    let mut waived = bad.clone();
    let mut lapsed = bad.clone();
    for (doc, in_force) in [(&mut waived, true), (&mut lapsed, false)] {
        let r = doc["results"].as_array_mut().unwrap().iter_mut().find(|r| r["control"] == "auth.ssh").unwrap();
        r["status"] = json!(if in_force { "waived" } else { "fail" });
        r["waiver"] = json!({"justification": "migration", "expires": "2026-12-10", "in_force": in_force, "original_status": "fail"});
    }
    std::fs::write(&old, waived.to_string()).unwrap();
    let w = phipolicy(&["diff", o, o, "--expiring", "30d", "--format", "json"]);
    assert_eq!(w.status.code(), Some(0));
    let drift: Value = serde_json::from_slice(&w.stdout).unwrap();
    assert_eq!(drift["waivers_expiring"][0]["control"], "auth.ssh");
    let narrow = phipolicy(&["diff", o, o, "--expiring", "5d", "--format", "json"]);
    let drift: Value = serde_json::from_slice(&narrow.stdout).unwrap();
    assert!(drift["waivers_expiring"].as_array().unwrap().is_empty());
    std::fs::write(&new, lapsed.to_string()).unwrap();
    let gone = phipolicy(&["diff", o, n, "--format", "json"]);
    assert_eq!(gone.status.code(), Some(1));
    let drift: Value = serde_json::from_slice(&gone.stdout).unwrap();
    assert_eq!(drift["waivers_expired"][0]["control"], "auth.ssh");
    // Different profiles and unknown schema versions are refused.
    let mut other = good.clone();
    other["profile"] = json!("pci");
    std::fs::write(&new, other.to_string()).unwrap();
    let refused = phipolicy(&["diff", o, n]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("different profiles"), "{}", stderr(&refused));
    other["schema"] = json!("phipolicy/results/v9");
    std::fs::write(&new, other.to_string()).unwrap();
    let refused = phipolicy(&["diff", o, n]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("unknown schema"), "{}", stderr(&refused));
}

/// Unpacks a bundle into (name, bytes) members.
fn members(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let decoder = zstd::Decoder::new(std::fs::File::open(bundle).unwrap()).unwrap();
    let mut archive = tar::Archive::new(decoder);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

fn repack(bundle: &Path, members: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(bundle).unwrap();
    let encoder = zstd::Encoder::new(file, 3).unwrap();
    let mut builder = tar::Builder::new(encoder);
    for (name, bytes) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut h, name, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[test]
fn evidence_bundles_verify_and_detect_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let sk = dir.path().join("key.sec");
    let pk = dir.path().join("key.pub");
    std::fs::write(&sk, pair.sk.to_box(None).unwrap().to_string()).unwrap();
    std::fs::write(&pk, pair.pk.to_box().unwrap().to_string()).unwrap();
    let other = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
    let other_pk = dir.path().join("other.pub");
    std::fs::write(&other_pk, other.pk.to_box().unwrap().to_string()).unwrap();
    let bundle = dir.path().join("e.tar.zst");
    let root = fixture("passwords-defaults");
    let o = phipolicy(&[
        "eval", "--root", root.to_str().unwrap(), "--now", NOW, "--format", "json",
        "--evidence", bundle.to_str().unwrap(), "--sign-key", sk.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0..=2)) && !o.stdout.is_empty(), "{}", stderr(&o));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let verify = |key: Option<&Path>| {
        let mut args = vec!["evidence", "verify", bundle.to_str().unwrap()];
        if let Some(k) = key {
            args.extend(["--public-key", k.to_str().unwrap()]);
        }
        phipolicy(&args)
    };
    let ok = verify(Some(&pk));
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let said = text(&ok);
    assert!(said.contains("signature: valid"), "{said}");
    assert!(said.contains("/etc/login.defs"), "{said}");
    assert!(verify(None).status.code() == Some(0) && text(&verify(None)).contains("NOT checked"));
    assert_eq!(verify(Some(&other_pk)).status.code(), Some(1), "another key's signature fails");
    // Contents: the document, cited files as read, secrets as metadata and hash only.
    let m = members(&bundle);
    let names: Vec<&str> = m.iter().map(|(n, _)| n.as_str()).collect();
    for needed in ["SHA256SUMS", "SHA256SUMS.minisig", "results.json", "bundle.json", "files/etc/login.defs"] {
        assert!(names.contains(&needed), "{needed} in {names:?}");
    }
    let saved: Value = serde_json::from_slice(&m.iter().find(|(n, _)| n == "results.json").unwrap().1).unwrap();
    assert_eq!(saved["results"], doc["results"]);
    let manifest: Value = serde_json::from_slice(&m.iter().find(|(n, _)| n == "bundle.json").unwrap().1).unwrap();
    let shadow = manifest["files"].as_array().unwrap().iter().find(|f| f["path"] == "/etc/shadow");
    let shadow = shadow.expect("passwords-defaults cites /etc/shadow");
    assert!(shadow["sha256"].is_string() && shadow["member"].is_null(), "{shadow}");
    assert!(shadow["not_copied"].as_str().unwrap().contains("secret"));
    assert!(!names.iter().any(|n| n.contains("shadow")), "{names:?}");
    // A single flipped byte of the file.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&bundle, &bytes).unwrap();
    let flipped = verify(Some(&pk));
    assert_eq!(flipped.status.code(), Some(1), "{}", stderr(&flipped));
    assert!(stderr(&flipped).contains("does not verify"), "{}", stderr(&flipped));
    // A member altered and the archive rebuilt (valid zstd and tar): the sums catch it.
    let mut altered = m.clone();
    let defs = altered.iter_mut().find(|(n, _)| n == "files/etc/login.defs").unwrap();
    defs.1.extend_from_slice(b"PASS_MAX_DAYS 90\n");
    repack(&bundle, &altered);
    let o = verify(None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("files/etc/login.defs: sha256 differs"), "{}", stderr(&o));
    // A member added.
    let mut added = m.clone();
    added.push(("files/etc/extra".into(), b"x".to_vec()));
    repack(&bundle, &added);
    let o = verify(None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("files/etc/extra: not listed"), "{}", stderr(&o));
}

#[test]
fn restic_password_files_are_never_copied() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("e.tar.zst");
    let root = fixture("backup-password-file-0644");
    let o = phipolicy(&[
        "eval", "--root", root.to_str().unwrap(), "--now", NOW, "--format", "json",
        "--evidence", bundle.to_str().unwrap(),
    ]);
    assert!(matches!(o.status.code(), Some(0..=2)) && !o.stdout.is_empty(), "{}", stderr(&o));
    let m = members(&bundle);
    let manifest: Value = serde_json::from_slice(&m.iter().find(|(n, _)| n == "bundle.json").unwrap().1).unwrap();
    let secret: Vec<&Value> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["not_copied"].as_str().is_some_and(|w| w.contains("secret")))
        .collect();
    assert!(!secret.is_empty(), "the cited restic password file is withheld: {manifest}");
    for f in &secret {
        let member = format!("files{}", f["path"].as_str().unwrap());
        assert!(!m.iter().any(|(n, _)| *n == member), "{member} copied");
        assert!(f["sha256"].is_string());
    }
}

/// A third-party plugin, above all one that replaced a built-in plugin or runs unverified, is
/// named in every format, not only in the JSON document (SECURITY.md, issue 9).
#[test]
fn third_party_plugins_are_shown_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc = failing_doc();
    let plugin = doc["plugins"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|p| p["id"] == "authentication")
        .expect("authentication plugin");
    plugin["origin"] = json!("/opt/plugins/authentication.wasm");
    plugin["verification"] = json!("unverified");
    plugin["replaces_builtin"] = json!(true);
    plugin["sha256"] = json!("ab".repeat(32));
    for format in FORMATS {
        let out = render(dir.path(), &doc, format);
        assert!(
            out.contains("authentication.wasm") && out.contains("unverified"),
            "{format} does not name the third-party plugin"
        );
        if *format != "json" {
            assert!(
                out.contains("replaces the built-in plugin"),
                "{format} does not say the plugin replaced a built-in one"
            );
        }
    }
}
