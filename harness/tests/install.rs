//! The artifacts of `cargo xtask dist`, installed and used the way operations teams do: the `.deb`
//! with `dpkg -i` in the Debian 12 and 13 images of the conformance harness (no network), its man
//! page and bash completion, the `.rpm`'s file list and rpmlint, the tarball and `SHA256SUMS`,
//! and the container image scanning an exported harness image. `cargo xtask dist-test` (part of
//! `cargo xtask test`) builds the artifacts and passes them in `PHIPOLICY_DIST_*`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use harness::{Availability, IMAGES, NOW, Scan, exec};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, CopyTargetOptions, GenericImage, ImageExt};

/// Where the `.deb` is copied inside a container before `dpkg -i`.
const DEB_IN_CONTAINER: &str = "/tmp/phipolicy.deb";

/// Where the harness's own copy of the binary goes (the way the conformance run installs it).
const HARNESS_BIN_IN_CONTAINER: &str = "/usr/local/bin/phipolicy-harness";

/// An artifact `cargo xtask dist-test` passes in the environment; missing fails loudly.
fn artifact(var: &str) -> PathBuf {
    let path = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        panic!("{var} is not set: run these tests with `cargo xtask dist-test` (it builds the packages)")
    });
    assert!(
        path.exists(),
        "{var}={} does not exist: run `cargo xtask dist`",
        path.display()
    );
    path
}

fn image_tag() -> String {
    std::env::var("PHIPOLICY_DIST_IMAGE").unwrap_or_else(|_| {
        panic!("PHIPOLICY_DIST_IMAGE is not set: run these tests with `cargo xtask dist-test`")
    })
}

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let o = output(cmd);
    assert!(
        o.status.success(),
        "{cmd:?} exited {}: {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn sha256(path: &Path) -> String {
    ok(Command::new("sha256sum").arg(path))
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The commands of the binary's flag table (`phipolicy --help`), each of which has a man page.
fn commands() -> Vec<String> {
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let help = ok(Command::new(bin).arg("--help"));
    help.split("Commands:\n")
        .nth(1)
        .expect("a Commands section in --help")
        .lines()
        .take_while(|l| l.starts_with("  "))
        // A command's own line is indented two spaces; a wrapped description, more.
        .filter(|l| !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

/// The files a package installs, by absolute path; `zsh` is the completion directory the
/// distribution family's zsh reads, `licence` where the licence goes.
fn expected_files(zsh: &str, licence: &str) -> BTreeSet<String> {
    let mut files: BTreeSet<String> = [
        "/usr/bin/phipolicy",
        "/usr/share/man/man1/phipolicy.1.gz",
        "/usr/share/bash-completion/completions/phipolicy",
        "/usr/share/fish/vendor_completions.d/phipolicy.fish",
        "/usr/share/doc/phipolicy/README.md",
        "/usr/share/doc/phipolicy/examples/params.yaml",
        "/usr/share/doc/phipolicy/examples/waivers.yaml",
    ]
    .into_iter()
    .map(str::to_string)
    .collect();
    files.insert(format!("{zsh}/_phipolicy"));
    files.insert(licence.to_string());
    for c in commands() {
        files.insert(format!("/usr/share/man/man1/phipolicy-{c}.1.gz"));
    }
    files
}

fn deb_files() -> BTreeSet<String> {
    expected_files(
        "/usr/share/zsh/vendor-completions",
        "/usr/share/doc/phipolicy/copyright",
    )
}

fn rpm_files() -> BTreeSet<String> {
    expected_files(
        "/usr/share/zsh/site-functions",
        "/usr/share/licenses/phipolicy/LICENSE",
    )
}

/// The `.deb` unpacked into a temporary directory (what `dpkg -i` would put under `/`).
fn unpacked_deb() -> tempfile::TempDir {
    let tree = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg-deb")
        .arg("-x")
        .arg(artifact("PHIPOLICY_DIST_DEB"))
        .arg(tree.path()));
    tree
}

/// The statuses the conformance harness recorded for the stock image (its reviewed snapshot).
fn harness_baseline(image: &str) -> BTreeSet<(String, String)> {
    let path = harness::harness_dir()
        .join("tests/snapshots")
        .join(format!("conformance__baseline-{image}.snap"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let body = text.splitn(3, "---\n").nth(2).expect("an insta snapshot");
    let statuses: std::collections::BTreeMap<String, String> =
        serde_saphyr::from_str(body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    statuses.into_iter().collect()
}

fn in_container(container: &Container<GenericImage>, argv: &[&str]) -> (i64, String) {
    let out = exec(container, argv).unwrap_or_else(|e| panic!("{e:#}"));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.code,
        String::from_utf8_lossy(&out.stdout).into_owned() + &stderr,
    )
}

fn eval_in(container: &Container<GenericImage>, bin: &str) -> (i64, serde_json::Value) {
    let out = exec(container, &[bin, "eval", "--format", "json", "--now", NOW])
        .unwrap_or_else(|e| panic!("{e:#}"));
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{bin} eval in the container (exit {}) printed no document ({e}): {}",
            out.code,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.code, doc)
}

fn statuses(doc: &serde_json::Value) -> BTreeSet<(String, String)> {
    let scan = Scan::parse(doc.to_string().as_bytes()).unwrap_or_else(|e| panic!("{e:#}"));
    scan.statuses.into_iter().collect()
}

/// `dpkg -i` in a container without network, then the installed `phipolicy` must judge the
/// stock image exactly as the harness's copy of the same build does, and as the harness's
/// reviewed baseline says; `dpkg --purge` removes every file again.
fn deb_installs_offline_and_agrees_with_the_harness(image: &str) {
    harness::docker_reachable().unwrap_or_else(|e| panic!("{e:#}"));
    let spec = IMAGES
        .iter()
        .find(|i| i.name == image)
        .expect("a harness image");
    if let Availability::Unavailable(why) = harness::availability(spec) {
        panic!("{}: {why}", spec.reference);
    }
    let deb = artifact("PHIPOLICY_DIST_DEB");
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let (repo, tag) = spec.reference.rsplit_once(':').unwrap();
    let container = GenericImage::new(repo, tag)
        .with_cmd(["sleep", "infinity"])
        .with_network("none")
        .with_copy_to(CopyTargetOptions::new(DEB_IN_CONTAINER), deb)
        .with_copy_to(
            CopyTargetOptions::new(HARNESS_BIN_IN_CONTAINER).with_mode(0o755),
            bin.clone(),
        )
        .start()
        .unwrap_or_else(|e| panic!("starting {}: {e:#}", spec.reference));

    let (code, out) = in_container(&container, &["dpkg", "-i", DEB_IN_CONTAINER]);
    assert_eq!(code, 0, "dpkg -i on {image}: {out}");
    let (_, path) = in_container(&container, &["sh", "-c", "command -v phipolicy"]);
    assert_eq!(path.trim(), "/usr/bin/phipolicy");
    let (_, listed) = in_container(&container, &["dpkg", "-L", "phipolicy"]);
    let listed: BTreeSet<String> = listed.lines().map(str::to_string).collect();
    for f in deb_files() {
        assert!(listed.contains(&f), "{image}: dpkg -L lacks {f}");
    }
    let (code, version) = in_container(&container, &["phipolicy", "--version", "--verbose"]);
    assert_eq!(code, 0);
    assert_eq!(
        version,
        ok(Command::new(&bin).args(["--version", "--verbose"])),
        "the package holds the build that was tested"
    );

    let (code, installed) = eval_in(&container, "phipolicy");
    let (harness_code, harness) = eval_in(&container, HARNESS_BIN_IN_CONTAINER);
    assert_eq!(code, harness_code, "{image}: exit codes differ");
    assert_eq!(
        installed["results"], harness["results"],
        "{image}: the installed package and the harness's binary disagree"
    );
    assert_eq!(
        statuses(&installed),
        harness_baseline(image),
        "{image}: the installed package disagrees with the harness's baseline snapshot"
    );

    let (code, out) = in_container(&container, &["dpkg", "--purge", "phipolicy"]);
    assert_eq!(code, 0, "dpkg --purge: {out}");
    let (_, left) = in_container(
        &container,
        &[
            "sh",
            "-c",
            "ls -d /usr/bin/phipolicy /usr/share/doc/phipolicy /usr/share/man/man1/phipolicy* 2>/dev/null; true",
        ],
    );
    assert!(left.trim().is_empty(), "{image}: left after purge: {left}");
}

#[test]
fn deb_installs_offline_on_debian_12_and_agrees_with_the_harness() {
    deb_installs_offline_and_agrees_with_the_harness("debian-12");
}

#[test]
fn deb_installs_offline_on_debian_13_and_agrees_with_the_harness() {
    deb_installs_offline_and_agrees_with_the_harness("debian-13");
}

#[test]
fn deb_holds_exactly_the_expected_files() {
    let listing = ok(Command::new("dpkg-deb")
        .arg("--contents")
        .arg(artifact("PHIPOLICY_DIST_DEB")));
    let files: BTreeSet<String> = listing
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().last())
        .map(|p| p.trim_start_matches('.').to_string())
        .collect();
    assert_eq!(files, deb_files());
    assert!(
        listing
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("root/root")),
        "every file is owned by root:\n{listing}"
    );
    let depends = ok(Command::new("dpkg-deb")
        .args(["--field"])
        .arg(artifact("PHIPOLICY_DIST_DEB"))
        .arg("Depends"));
    assert!(depends.contains("libc6 (>="), "Depends: {depends}");
}

#[test]
fn man_page_renders_by_name_from_where_the_package_installs_it() {
    let tree = unpacked_deb();
    let manpath = tree.path().join("usr/share/man");
    let man = |args: &[&str]| {
        output(
            Command::new("man")
                .args(args)
                .env("MANPATH", &manpath)
                .env("MANPAGER", "cat")
                .env("PAGER", "cat")
                .env("MANWIDTH", "100")
                .env("LC_ALL", "C"),
        )
    };
    let located = man(&["-w", "phipolicy-eval"]);
    assert!(located.status.success(), "man -w phipolicy-eval failed");
    assert!(
        String::from_utf8_lossy(&located.stdout).starts_with(&manpath.display().to_string()),
        "found elsewhere: {}",
        String::from_utf8_lossy(&located.stdout)
    );
    let mut pages = vec!["phipolicy".to_string()];
    pages.extend(commands().iter().map(|c| format!("phipolicy-{c}")));
    for page in &pages {
        let o = man(&["--warnings", page]);
        let text = String::from_utf8_lossy(&o.stdout);
        let warnings = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "man {page} failed: {warnings}");
        assert!(warnings.trim().is_empty(), "man {page} warns: {warnings}");
        assert!(
            text.contains("NAME") && text.contains(page.as_str()),
            "{page}:\n{text}"
        );
    }
    let eval = String::from_utf8_lossy(&man(&["phipolicy-eval"]).stdout).into_owned();
    for needle in ["SYNOPSIS", "--root", "--params", "--waivers", "--format"] {
        assert!(
            eval.contains(needle),
            "phipolicy-eval(1) lacks {needle}:\n{eval}"
        );
    }
}

/// bash-completion's own loader, pointed at the package's `/usr/share` through XDG_DATA_DIRS,
/// finds the completion where the package installs it; completing `phipolicy ev` and
/// `phipolicy eval --ro` gives `eval` and `--root`.
#[test]
fn bash_completes_from_where_the_package_installs_it() {
    let loader = std::env::var("PHIPOLICY_BASH_COMPLETION")
        .unwrap_or_else(|_| "/usr/share/bash-completion/bash_completion".into());
    assert!(
        Path::new(&loader).is_file(),
        "{loader} missing: install bash-completion (`cargo xtask dist-test` does)"
    );
    let tree = unpacked_deb();
    let user_dir = tempfile::tempdir().unwrap();
    let complete = |line: &str| {
        let script = format!(
            r#"
source "{loader}"
__load_completion phipolicy || {{ echo "bash-completion found no completion for phipolicy" >&2; exit 3; }}
shopt -s extdebug
func=$(complete -p phipolicy | sed -n 's/.* -F \([^ ]*\) .*/\1/p')
declare -F "$func" >&2
COMP_LINE="{line}"
COMP_POINT=${{#COMP_LINE}}
read -ra COMP_WORDS <<< "$COMP_LINE"
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
"$func" phipolicy "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#
        );
        let o = output(
            Command::new("bash")
                .arg("-c")
                .arg(script)
                .env("XDG_DATA_DIRS", tree.path().join("usr/share"))
                .env("BASH_COMPLETION_USER_DIR", user_dir.path())
                .stdin(Stdio::null()),
        );
        let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "completing {line:?}: {stderr}");
        assert!(
            stderr.contains(&tree.path().display().to_string()),
            "the completion function was not loaded from the package's tree: {stderr}"
        );
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    // `ev` is the start of two commands (eval, evidence): both are offered; `eva` completes.
    assert_eq!(complete("phipolicy ev"), ["eval", "evidence"]);
    assert_eq!(complete("phipolicy eva"), ["eval"]);
    assert_eq!(complete("phipolicy eval --ro"), ["--root"]);
}

#[test]
fn rpm_lists_the_expected_files_and_requires_what_the_binary_links() {
    let rpm = artifact("PHIPOLICY_DIST_RPM");
    let listed: BTreeSet<String> = ok(Command::new("rpm").arg("-qlp").arg(&rpm))
        .lines()
        .map(str::to_string)
        .collect();
    let mut want = rpm_files();
    for dir in [
        "/usr/share/doc/phipolicy",
        "/usr/share/doc/phipolicy/examples",
        "/usr/share/licenses/phipolicy",
    ] {
        want.insert(dir.to_string());
    }
    assert_eq!(listed, want);
    let info = ok(Command::new("rpm")
        .args(["-qp", "--queryformat", "%{NAME} %{VERSION} %{LICENSE}\n"])
        .arg(&rpm));
    assert_eq!(
        info.trim(),
        format!("phipolicy {} Apache-2.0", env!("CARGO_PKG_VERSION"))
    );
    let requires = ok(Command::new("rpm").args(["-qp", "--requires"]).arg(&rpm));
    assert!(
        requires.lines().any(|l| l.starts_with("libc.so.6(GLIBC_")),
        "no automatic glibc requirement:\n{requires}"
    );
    let digests = ok(Command::new("rpm").args(["-K", "--nosignature"]).arg(&rpm));
    assert!(digests.contains("digests OK"), "{digests}");
    let docs = ok(Command::new("rpm").args(["-qpd"]).arg(&rpm));
    assert!(
        docs.contains("/usr/share/doc/phipolicy/README.md"),
        "{docs}"
    );
    let licences = ok(Command::new("rpm").args(["-qpL"]).arg(&rpm));
    assert!(
        licences.contains("/usr/share/licenses/phipolicy/LICENSE"),
        "{licences}"
    );
}

#[test]
fn rpmlint_passes() {
    let rpm = artifact("PHIPOLICY_DIST_RPM");
    let config = harness::harness_dir().join("rpmlint.toml");
    let o = output(
        Command::new("rpmlint")
            .arg("--config")
            .arg(&config)
            .arg(&rpm),
    );
    let report =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "rpmlint found errors:\n{report}");
    assert!(report.contains(" 0 errors, 0 warnings"), "{report}");
}

#[test]
fn tarball_has_the_package_layout_and_sha256sums_verify() {
    let dir = artifact("PHIPOLICY_DIST_DIR");
    let check = ok(Command::new("sha256sum")
        .args(["--check", "--strict", "SHA256SUMS"])
        .current_dir(&dir));
    let checked: BTreeSet<String> = check
        .lines()
        .filter_map(|l| l.strip_suffix(": OK"))
        .map(str::to_string)
        .collect();
    for var in [
        "PHIPOLICY_DIST_DEB",
        "PHIPOLICY_DIST_RPM",
        "PHIPOLICY_DIST_TARBALL",
    ] {
        let name = artifact(var)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            checked.contains(&name),
            "SHA256SUMS does not cover {name}: {check}"
        );
    }
    let tarball = artifact("PHIPOLICY_DIST_TARBALL");
    let listing = ok(Command::new("tar").arg("-tzf").arg(&tarball));
    let top = format!(
        "phipolicy-{}-{}-unknown-linux-gnu/",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    );
    let files: BTreeSet<String> = listing
        .lines()
        .filter(|l| !l.ends_with('/'))
        .map(|l| {
            let rel = l
                .strip_prefix(&top)
                .unwrap_or_else(|| panic!("{l} outside {top}"));
            format!("/usr/{rel}")
        })
        .collect();
    assert_eq!(
        files,
        rpm_files(),
        "the tarball holds the rpm's layout under one directory"
    );
    let tree = tempfile::tempdir().unwrap();
    ok(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(tree.path())
        .args(["--strip-components=1"]));
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let deb = unpacked_deb();
    let want = sha256(&bin);
    assert_eq!(sha256(&tree.path().join("bin/phipolicy")), want);
    assert_eq!(sha256(&deb.path().join("usr/bin/phipolicy")), want);
}

/// `docker export` of a stock harness image, unpacked into a temporary directory.
fn exported(reference: &str) -> tempfile::TempDir {
    let id = ok(Command::new("docker").args(["create", reference, "true"]))
        .trim()
        .to_string();
    let tree = tempfile::Builder::new()
        .prefix("phipolicy-install-")
        .tempdir()
        .unwrap();
    let script = format!(
        "docker export {id} | tar --numeric-owner -xf - -C '{}'",
        tree.path().display()
    );
    let o = output(Command::new("sh").args(["-ec", &script]));
    let _ = Command::new("docker").args(["rm", "-f", &id]).output();
    assert!(
        o.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    tree
}

/// `docker run` of the phipolicy image with `args` after the image name; (exit code, stdout).
fn run_image(docker_args: &[&str], tree: &Path, args: &[&str]) -> (Option<i32>, Vec<u8>) {
    let o = output(
        Command::new("docker")
            .args(["run", "--rm", "--network", "none"])
            .args(docker_args)
            .arg("-v")
            .arg(format!("{}:/host:ro", tree.display()))
            .arg(image_tag())
            .args(args),
    );
    (o.status.code(), o.stdout)
}

#[test]
fn container_image_scans_an_exported_image_and_agrees_with_the_binary() {
    harness::docker_reachable().unwrap_or_else(|e| panic!("{e:#}"));
    let tag = image_tag();
    let entrypoint = ok(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{json .Config.Entrypoint}}",
        &tag,
    ]));
    assert_eq!(entrypoint.trim(), r#"["/usr/bin/phipolicy"]"#);
    let version = ok(Command::new("docker").args(["run", "--rm", &tag, "--version"]));
    assert_eq!(
        version,
        format!("phipolicy {}\n", env!("CARGO_PKG_VERSION"))
    );

    let spec = IMAGES.iter().find(|i| i.name == "debian-12").unwrap();
    if let Availability::Unavailable(why) = harness::availability(spec) {
        panic!("{}: {why}", spec.reference);
    }
    let tree = exported(spec.reference);
    let bin = harness::phipolicy_bin().unwrap_or_else(|e| panic!("{e:#}"));
    let host = output(
        Command::new(&bin)
            .args(["eval", "--format", "json", "--now", NOW, "--root"])
            .arg(tree.path()),
    );
    let host_doc: serde_json::Value = serde_json::from_slice(&host.stdout).expect("a document");
    let eval = ["eval", "--root", "/host", "--format", "json", "--now", NOW];
    // As the README shows it: no privileges, the target mounted read-only.
    let (code, stdout) = run_image(&[], tree.path(), &eval);
    let image_doc: serde_json::Value = serde_json::from_slice(&stdout).expect("a document");
    assert_eq!(code, host.status.code(), "exit codes differ");
    for field in ["results", "summary", "build", "parameters"] {
        assert_eq!(image_doc[field], host_doc[field], "{field} differs");
    }
    assert_eq!(image_doc["target"]["os"], host_doc["target"]["os"]);
    assert_eq!(image_doc["target"]["root"], "/host");
    // With every capability dropped but reading, a read-only root filesystem and no new
    // privileges: the same verdicts.
    let (code, stdout) = run_image(
        &[
            "--read-only",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "DAC_READ_SEARCH",
            "--security-opt",
            "no-new-privileges",
        ],
        tree.path(),
        &eval,
    );
    let locked_down: serde_json::Value = serde_json::from_slice(&stdout).expect("a document");
    assert_eq!(code, host.status.code());
    assert_eq!(locked_down["results"], host_doc["results"]);
}
