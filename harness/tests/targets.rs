//! Image and container targets against Docker itself: a multi-layer image (whiteouts, opaque
//! directories, hard links within and across layers, symlinks, a FIFO, setuid and owned files)
//! that `docker load` applies with its own layer code must flatten to exactly the tree `docker
//! export` gives of a container of it; so must the harness's Debian 12 image; hostile layers are
//! refused with exit 2 and a message naming layer and entry, leaving nothing behind. (Verdicts of
//! `--target docker:IMAGE` / `container:ID` against `--root` on the export are compared for every
//! image variant inside the conformance run, which has those containers anyway.)

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use harness::docker;
use harness::layers::{self, Entry::*};

/// `docker create` + `docker export` of `image`, as a listing; the container is removed.
fn export_listing(image: &str) -> Result<layers::Listing> {
    let id = docker(&["create", image, "/nonexistent"])?;
    let result = (|| {
        let mut child = Command::new("docker")
            .args(["export", &id])
            .stdout(Stdio::piped())
            .spawn()
            .context("docker export")?;
        let listing = layers::listing_of_export(child.stdout.take().context("no stdout")?)?;
        if !child.wait()?.success() {
            bail!("docker export {id} failed");
        }
        Ok(listing)
    })();
    let _ = docker(&["rm", "--force", &id]);
    result
}

fn assert_same(ours: &layers::Listing, export: &layers::Listing, what: &str) {
    let diff = layers::differences(ours, export);
    assert!(
        diff.is_empty(),
        "{what}: the flattened tree differs from docker export in {} place(s):\n{}",
        diff.len(),
        diff.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Removes the image on drop.
struct LoadedImage(String);

impl Drop for LoadedImage {
    fn drop(&mut self) {
        let _ = docker(&["image", "rm", "--force", &self.0]);
    }
}

fn layered_image() -> Vec<Vec<u8>> {
    vec![
        layers::layer(&[
            Dir("etc/", 0o755),
            File("etc/keep", 0o644, "keep\n"),
            File("etc/gone", 0o644, "gone\n"),
            Dir("etc/sub/", 0o755),
            File("etc/sub/old", 0o600, "old\n"),
            Owned("etc/shadow", 0o640, 0, 42, "root:!:20000::::::\n"),
            Dir("opt/", 0o755),
            Dir("opt/data/", 0o755),
            File("opt/data/a", 0o644, "a\n"),
            Dir("opt/data/deep/", 0o755),
            File("opt/data/deep/x", 0o644, "x\n"),
            Dir("usr/", 0o755),
            Dir("usr/bin/", 0o755),
            File("usr/bin/tool", 0o755, "#!/bin/sh\necho tool\n"),
            Owned("usr/bin/su", 0o4755, 0, 0, "setuid\n"),
            HardLink("usr/bin/tool-alias", "usr/bin/tool"),
            Dir("usr/lib/", 0o755),
            File("usr/lib/os-release", 0o644, "ID=debian\nVERSION_ID=\"12\"\n"),
            Symlink("bin", "usr/bin"),
            Symlink("etc/os-release", "../usr/lib/os-release"),
            Dir("run/", 0o755),
            Fifo("run/initctl", 0o600),
            Dir("var/", 0o755),
            Symlink("var/run", "/run"),
            File("replaced-by-dir", 0o644, "file\n"),
            Dir("dir-replaced-by-file/", 0o755),
            File("dir-replaced-by-file/inner", 0o644, "inner\n"),
        ]),
        layers::layer(&[
            File("etc/.wh.gone", 0o644, ""),
            Dir("etc/sub/", 0o750),
            File("etc/sub/new", 0o644, "new\n"),
            Dir("opt/data/", 0o755),
            File("opt/data/.wh..wh..opq", 0o644, ""),
            File("opt/data/b", 0o644, "b\n"),
            Dir("replaced-by-dir/", 0o700),
            File("replaced-by-dir/now", 0o644, "now\n"),
            File("dir-replaced-by-file", 0o644, "file now\n"),
            File("usr/bin/tool", 0o755, "#!/bin/sh\necho tool v2\n"),
            Dir("usr/local/", 0o755),
            Dir("usr/local/bin/", 0o755),
            HardLink("usr/local/bin/tool-v2", "usr/bin/tool"),
        ]),
        layers::layer(&[
            File("usr/.wh.local", 0o644, ""),
            Symlink("etc/alt", "/etc/keep"),
            Dir("var/", 0o750),
            File("var/.wh..wh..opq", 0o644, ""),
            File("var/fresh", 0o644, "fresh\n"),
            Symlink("lib", "usr/lib"),
        ]),
    ]
}

#[test]
fn a_multi_layer_image_flattens_exactly_like_docker_applies_it() {
    harness::docker_reachable().unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("layered.tar");
    let tag = format!("phipolicy-harness/layered:{}", std::process::id());
    layers::write_docker_archive(&archive, &tag, &layered_image()).unwrap();
    docker(&["load", "--quiet", "--input", archive.to_str().unwrap()]).unwrap();
    let _image = LoadedImage(tag.clone());
    let export = export_listing(&tag).unwrap();
    // The cases are really in there (a vacuous comparison proves nothing).
    assert!(export.contains_key("opt/data/b") && !export.contains_key("opt/data/a"));
    assert!(!export.contains_key("opt/data/deep") && !export.contains_key("var/run"));
    assert!(export.contains_key("var/fresh") && export.contains_key("etc/sub/old"));
    assert!(!export.contains_key("etc/gone") && !export.contains_key("usr/local"));
    assert_eq!(export["usr/bin/su"].mode, 0o4755);
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    for target in [format!("docker:{tag}"), format!("docker-archive:{}", archive.display())] {
        let ours = layers::listing_of_target(&bin, &target).unwrap_or_else(|e| panic!("{target}: {e:#}"));
        assert_same(&ours, &export, &target);
    }
}

#[test]
fn the_debian_12_harness_image_flattens_exactly_like_docker_exports_it() {
    harness::docker_reachable().unwrap_or_else(|e| panic!("{e:#}"));
    let image = "phipolicy/debian:12";
    if docker(&["image", "inspect", "--format", "{{.Id}}", image]).is_err() {
        panic!("{image} is not built: run `cargo xtask images` (CI builds it before the harness)");
    }
    let export = export_listing(image).unwrap();
    assert!(export.len() > 5_000, "the export of {image} is suspiciously small");
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let ours = layers::listing_of_target(&bin, &format!("docker:{image}")).unwrap();
    assert_same(&ours, &export, image);
}

fn eval_target(bin: &Path, target: &str, tmp: &Path) -> std::process::Output {
    Command::new(bin)
        .args(["eval", "--format", "json", "--now", harness::NOW, "--target", target])
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

#[test]
fn hostile_layers_are_refused_naming_layer_and_entry() {
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<Vec<u8>>, &str)> = vec![
        ("dotdot", vec![layers::layer(&[File("../../escape", 0o644, "x")])], "../../escape"),
        ("absolute", vec![layers::layer(&[File("/etc/cron.d/evil", 0o644, "x")])], "/etc/cron.d/evil"),
        (
            "link-out",
            vec![layers::layer(&[HardLink("etc/shadow-copy", "../../../etc/shadow")])],
            "etc/shadow-copy",
        ),
        (
            "link-to-nothing",
            vec![layers::layer(&[HardLink("etc/x", "etc/not-there")])],
            "not in the image",
        ),
    ];
    for (name, image, needle) in cases {
        let archive = dir.path().join(format!("{name}.tar"));
        layers::write_docker_archive(&archive, "hostile:1", &image).unwrap();
        let out = eval_target(&bin, &format!("docker-archive:{}", archive.display()), tmp.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains("layer ") && stderr.contains(needle), "{name}: {stderr}");
        assert!(out.stdout.is_empty(), "{name}: printed a document for a refused image");
    }
    // A symlinked parent never leads out: the write lands inside the image.
    let archive = dir.path().join("symlink-parent.tar");
    layers::write_docker_archive(
        &archive,
        "hostile:1",
        &[
            layers::layer(&[Symlink("etc", "../../../../../../tmp")]),
            layers::layer(&[File("etc/planted", 0o644, "x")]),
        ],
    )
    .unwrap();
    let out = eval_target(&bin, &format!("docker-archive:{}", archive.display()), tmp.path());
    assert!(matches!(out.status.code(), Some(0..=2)));
    assert!(!Path::new("/tmp/planted").exists());
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "private directories left behind: {left:?}");
}
