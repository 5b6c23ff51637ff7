//! `--target` and fleet runs from the command line: an image archive of a fixture tree gets the
//! verdicts `--root` gives on the tree (owners and modes from the layer, not from the extraction);
//! a fleet run writes every report format per target plus the summary, and a missing tree, a
//! hostile image or a bad parameters file is that target's `error` while the others finish; bad
//! targets files name the line. (Docker-backed targets are tested against Docker in
//! harness/tests/targets.rs and in the conformance run.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_phipolicy");
const NOW: &str = "2026-11-28T12:00:00Z";

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(case)
        .join("root")
}

fn phipolicy(args: &[&str], tmp: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env("TMPDIR", tmp)
        .output()
        .expect("run phipolicy")
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes))
    })
}

fn statuses(doc: &serde_json::Value) -> Vec<(String, String)> {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["control"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A `docker save`-style archive whose one layer is `root` (owner 0:0, the tree's modes; a
/// `modes` override per path: what a real image's layer carries but git cannot store).
fn archive_of(root: &Path, out: &Path, modes: &[(&str, u32, u32, u32)]) {
    let mut layer = tar::Builder::new(Vec::new());
    layer.follow_symlinks(false);
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.symlink_metadata().unwrap().is_dir() {
                stack.push(p.clone());
            }
            paths.push(p);
        }
    }
    paths.sort();
    for p in paths {
        let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
        let meta = p.symlink_metadata().unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_metadata(&meta);
        h.set_uid(0);
        h.set_gid(0);
        if let Some((_, mode, uid, gid)) = modes.iter().find(|(path, ..)| *path == rel) {
            h.set_mode(*mode);
            h.set_uid((*uid).into());
            h.set_gid((*gid).into());
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&p).unwrap();
            layer.append_link(&mut h, &rel, target).unwrap();
        } else if meta.is_dir() {
            layer.append_data(&mut h, format!("{rel}/"), std::io::empty()).unwrap();
        } else {
            layer
                .append_data(&mut h, &rel, std::fs::File::open(&p).unwrap())
                .unwrap();
        }
    }
    let layer = layer.into_inner().unwrap();
    write_archive(out, &[layer]);
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn write_archive(out: &Path, layers: &[Vec<u8>]) {
    let diff_ids: Vec<String> = layers.iter().map(|l| format!("sha256:{}", sha256(l))).collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-11-01T00:00:00Z",
        "config": {"Labels": {"org.opencontainers.image.title": "fixture"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    })
    .to_string();
    let config_name = format!("{}.json", sha256(config.as_bytes()));
    let names: Vec<String> = layers.iter().map(|l| format!("{}/layer.tar", sha256(l))).collect();
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": ["fixture:1"], "Layers": names}]).to_string();
    let mut b = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut add = |name: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, bytes).unwrap();
    };
    for (n, l) in names.iter().zip(layers) {
        add(n, l);
    }
    add(&config_name, config.as_bytes());
    add("manifest.json", manifest.as_bytes());
    b.finish().unwrap();
}

#[test]
fn an_image_archive_gets_the_verdicts_of_its_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let root = fixture("host-debian12-hardened");
    let archive = tmp.path().join("image.tar");
    // /etc/shadow 0640 root:shadow, as Debian ships it (the tree in git has the checkout's mode).
    archive_of(&root, &archive, &[("etc/shadow", 0o640, 0, 42)]);
    let scratch = tempfile::tempdir().unwrap();
    let by_root = phipolicy(
        &["eval", "--format", "json", "--now", NOW, "--root", root.to_str().unwrap()],
        scratch.path(),
    );
    let target = format!("docker-archive:{}", archive.display());
    let by_image = phipolicy(&["eval", "--format", "json", "--now", NOW, "--target", &target], scratch.path());
    let (a, b) = (json(&by_root.stdout), json(&by_image.stdout));
    assert_eq!(statuses(&a), statuses(&b), "stderr: {}", String::from_utf8_lossy(&by_image.stderr));
    assert_eq!(by_root.status.code(), by_image.status.code());
    assert_eq!(b["target"]["kind"], "image");
    assert_eq!(b["target"]["root"], target.as_str());
    assert_eq!(b["target"]["image"]["os"], "linux");
    assert_eq!(b["target"]["image"]["labels"]["org.opencontainers.image.title"], "fixture");
    let id = b["target"]["image"]["image_id"].as_str().unwrap();
    assert!(id.starts_with("sha256:"), "{id}");
    // The flattening directory is gone.
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    // SARIF and OSCAL name the image digest.
    let out = tempfile::tempdir().unwrap();
    let sarif = out.path().join("r.sarif");
    let oscal = out.path().join("r.oscal.json");
    let o = phipolicy(
        &[
            "eval", "--now", NOW, "--target", &target,
            "--format", &format!("sarif={}", sarif.display()),
            "--format", &format!("oscal={}", oscal.display()),
        ],
        scratch.path(),
    );
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&o.stderr));
    let sarif = std::fs::read_to_string(&sarif).unwrap();
    let oscal = std::fs::read_to_string(&oscal).unwrap();
    assert!(sarif.contains(id), "SARIF does not name {id}");
    assert!(oscal.contains(id) && oscal.contains("target-image-digest"), "OSCAL does not name {id}");
}

#[test]
fn a_fleet_run_reports_every_target_and_one_failure_stays_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let hostile = tmp.path().join("hostile.tar");
    let mut evil = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    h.as_old_mut().name[..14].copy_from_slice(b"../../escape-x");
    h.set_cksum();
    evil.append(&h, &b"x"[..]).unwrap();
    write_archive(&hostile, &[evil.into_inner().unwrap()]);
    let out = tmp.path().join("reports");
    let scratch = tempfile::tempdir().unwrap();
    let formats = ["table", "json", "sarif", "sarif-github", "junit", "oscal", "html", "markdown"];
    let mut args: Vec<String> = vec!["eval".into(), "--now".into(), NOW.into()];
    for t in [
        format!("dir:{}", fixture("host-debian12-hardened").display()),
        format!("dir:{}", fixture("ssh-hardened").display()),
        "dir:/nonexistent/tree".to_string(),
        format!("docker-archive:{}", hostile.display()),
    ] {
        args.extend(["--target".into(), t]);
    }
    for f in formats {
        args.extend(["--format".into(), f.into()]);
    }
    args.extend([
        "--output-dir".into(),
        out.display().to_string(),
        "--summary-format".into(),
        "json".into(),
        "--jobs".into(),
        "2".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = phipolicy(&args, scratch.path());
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = json(&o.stdout);
    assert_eq!(summary["schema"], "phipolicy/fleet/v1");
    assert_eq!(summary["totals"]["targets"], 4);
    assert_eq!(summary["totals"]["error"], 2);
    let targets = summary["targets"].as_array().unwrap();
    for t in &targets[..2] {
        assert_eq!(t["state"], "done", "{t}");
        assert_eq!(t["documents"].as_array().unwrap().len(), formats.len());
        for d in t["documents"].as_array().unwrap() {
            let text = std::fs::read_to_string(d.as_str().unwrap()).unwrap();
            assert!(!text.is_empty());
        }
        let doc = json(&std::fs::read(out.join(format!("{}.json", t["name"].as_str().unwrap()))).unwrap());
        assert_eq!(doc["target"]["kind"], "rootfs");
    }
    assert!(targets[2]["error"].as_str().unwrap().contains("/nonexistent/tree"));
    assert!(targets[3]["error"].as_str().unwrap().contains("escape-x"));
    // The summary file equals what was printed; no flattening directory is left behind.
    assert_eq!(json(&std::fs::read(out.join("fleet-summary.json")).unwrap()), summary);
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    // The same fleet's result for a good target equals a single run's.
    let single = phipolicy(
        &["eval", "--format", "json", "--now", NOW, "--root", fixture("ssh-hardened").to_str().unwrap()],
        scratch.path(),
    );
    let name = targets[1]["name"].as_str().unwrap();
    let fleet_doc = json(&std::fs::read(out.join(format!("{name}.json"))).unwrap());
    assert_eq!(statuses(&json(&single.stdout)), statuses(&fleet_doc));
}

#[test]
fn a_targets_file_with_per_target_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir(tmp.path().join("params")).unwrap();
    std::fs::write(tmp.path().join("params/bad.yaml"), "no_such_parameter: 1\n").unwrap();
    let file = tmp.path().join("fleet.yaml");
    std::fs::write(
        &file,
        format!(
            "- name: good\n  target: dir:{}\n- name: badparams\n  target: dir:{}\n  params: params/bad.yaml\n",
            fixture("ssh-hardened").display(),
            fixture("ssh-hardened").display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = phipolicy(
        &[
            "eval", "--now", NOW, "--targets", file.to_str().unwrap(),
            "--output-dir", out.to_str().unwrap(), "--summary-format", "table",
        ],
        tmp.path(),
    );
    let table = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{table}");
    assert!(table.contains("2 targets"), "{table}");
    assert!(table.contains("error: badparams:") && table.contains("no_such_parameter"), "{table}");
    assert!(out.join("good.json").is_file());
    // A bad targets file is bad input naming the line.
    std::fs::write(&file, "- name: a\n  target: dir:/x\n- name: b\n  target: sftp:/y\n").unwrap();
    let o = phipolicy(
        &["eval", "--targets", file.to_str().unwrap(), "--output-dir", out.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("fleet.yaml:3:") && err.contains("sftp:/y"), "{err}");
    // Several targets need somewhere to put their reports.
    let o = phipolicy(&["eval", "--target", "dir:/a", "--target", "dir:/b"], tmp.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--output-dir"));
}
