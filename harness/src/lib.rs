//! Long file: the harness's one library (images, containers, scans, the matrix), shared by its
//! two test binaries; its parts share the container helpers.
//! The conformance harness: runs phipolicy inside containers of real operating-system images
//! (baseline, hardened, one mutation per control) and on the same containers exported to a tree,
//! and reports a control × image × variant matrix.

pub mod layers;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use serde::{Deserialize, Serialize};
use testcontainers::core::{CmdWaitFor, ExecCommand};
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, CopyTargetOptions, GenericImage, ImageExt};

/// The evaluation time every scan uses, so evidence ages and snapshots are reproducible.
pub const NOW: &str = "2026-11-28T12:00:00Z";

/// Where phipolicy is copied inside a container.
const BIN_IN_CONTAINER: &str = "/usr/local/bin/phipolicy";

/// Where the hardening script is copied inside a container.
const HARDENING_IN_CONTAINER: &str = "/tmp/phipolicy-harness/hardening.sh";

/// A distribution family: which hardening script applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Debian,
    Rhel,
}

impl Family {
    fn name(self) -> &'static str {
        match self {
            Family::Debian => "debian",
            Family::Rhel => "rhel",
        }
    }
}

/// An image the harness knows, by pinned reference.
#[derive(Debug, Clone, Copy)]
pub struct ImageSpec {
    /// Short name used in the matrix and in snapshot names.
    pub name: &'static str,
    /// The image reference (repository:tag).
    pub reference: &'static str,
    pub family: Family,
    /// Built by `cargo xtask images` (never pulled).
    pub built_here: bool,
}

/// Every image of the matrix. Those not built here must be present locally or pullable.
pub const IMAGES: &[ImageSpec] = &[
    ImageSpec {
        name: "debian-12",
        reference: "phipolicy/debian:12",
        family: Family::Debian,
        built_here: true,
    },
    ImageSpec {
        name: "debian-13",
        reference: "phipolicy/debian:13",
        family: Family::Debian,
        built_here: true,
    },
    ImageSpec {
        name: "ubuntu-22.04",
        reference: "ubuntu:22.04",
        family: Family::Debian,
        built_here: false,
    },
    ImageSpec {
        name: "ubuntu-24.04",
        reference: "ubuntu:24.04",
        family: Family::Debian,
        built_here: false,
    },
    ImageSpec {
        name: "rocky-8",
        reference: "rockylinux:8",
        family: Family::Rhel,
        built_here: false,
    },
    ImageSpec {
        name: "rocky-9",
        reference: "rockylinux:9",
        family: Family::Rhel,
        built_here: false,
    },
];

/// The workspace root (the harness crate's parent).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The harness crate's directory (hardening scripts, mutations, expectations).
pub fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The phipolicy binary under test: `PHIPOLICY_BIN`, else the workspace's release build.
pub fn phipolicy_bin() -> Result<PathBuf> {
    let bin = std::env::var_os("PHIPOLICY_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/release/phipolicy"));
    if !bin.is_file() {
        bail!(
            "phipolicy binary {} not found: run `cargo build --release -p engine` or `cargo xtask conformance`",
            bin.display()
        );
    }
    Ok(bin)
}

/// `docker ARGS`: its stdout, trimmed; a failure names the command and says what docker said.
pub fn docker(args: &[&str]) -> Result<String> {
    let out = Command::new("docker")
        .args(args)
        .output()
        .with_context(|| format!("docker {}", args.join(" ")))?;
    if !out.status.success() {
        bail!(
            "docker {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Fails with a message that says so when no Docker engine answers.
pub fn docker_reachable() -> Result<()> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .context("the Docker engine is not reachable: the `docker` client cannot run")?;
    if !out.status.success() {
        bail!(
            "the Docker engine is not reachable (`docker version`: {}); start it or set DOCKER_HOST",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Whether an image can run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    Available,
    /// Absent locally and cannot be pulled (the reason says why). Never counted as passed.
    Unavailable(String),
}

/// Looks the image up locally, then tries to pull it (images built here are never pulled).
pub fn availability(spec: &ImageSpec) -> Availability {
    let present = Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", spec.reference])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Availability::Available;
    }
    if spec.built_here {
        return Availability::Unavailable(format!(
            "{} is not built: run `cargo xtask images`",
            spec.reference
        ));
    }
    match Command::new("docker")
        .args(["pull", "--quiet", spec.reference])
        .output()
    {
        Ok(out) if out.status.success() => Availability::Available,
        Ok(out) => Availability::Unavailable(format!(
            "absent locally and `docker pull {}` failed: {}",
            spec.reference,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("no message")
                .trim()
        )),
        Err(e) => Availability::Unavailable(format!("`docker pull` could not run: {e}")),
    }
}

/// Control id → status, in catalogue order of ids (sorted; the matrix keeps the profile order).
pub type Statuses = BTreeMap<String, String>;

/// A phipolicy result document reduced to what the matrix compares.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scan {
    /// Control ids in the profile's order.
    pub order: Vec<String>,
    pub statuses: Statuses,
    /// Reasons per control (for the report when something is off).
    #[serde(skip)]
    pub reasons: BTreeMap<String, Vec<String>>,
}

impl Scan {
    /// Parses `phipolicy eval --format json` output.
    pub fn parse(json: &[u8]) -> Result<Scan> {
        let doc: serde_json::Value =
            serde_json::from_slice(json).context("phipolicy did not print a JSON document")?;
        let results = doc
            .get("results")
            .and_then(|r| r.as_array())
            .ok_or_else(|| anyhow!("the result document has no `results` array"))?;
        let mut scan = Scan::default();
        for r in results {
            let control = r
                .get("control")
                .and_then(|c| c.as_str())
                .ok_or_else(|| anyhow!("a result without `control`"))?;
            let status = r
                .get("status")
                .and_then(|s| s.as_str())
                .ok_or_else(|| anyhow!("{control}: a result without `status`"))?;
            let reasons = r
                .get("reasons")
                .and_then(|x| x.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            scan.order.push(control.to_string());
            scan.statuses
                .insert(control.to_string(), status.to_string());
            scan.reasons.insert(control.to_string(), reasons);
        }
        Ok(scan)
    }

    pub fn status(&self, control: &str) -> &str {
        self.statuses.get(control).map_or("missing", String::as_str)
    }

    pub fn why(&self, control: &str) -> String {
        self.reasons
            .get(control)
            .map(|r| r.join("; "))
            .unwrap_or_default()
    }
}

/// Which way phipolicy sees the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanMode {
    /// `phipolicy eval` inside the running container (a live host: /proc is there).
    #[default]
    Live,
    /// `docker export` to a tree on the host, then `phipolicy eval --root` (an image scan).
    Image,
}

/// One realistic edit made inside the hardened container that must flip its control, and only it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub control: String,
    pub name: String,
    /// Shell run with `sh -c` as root inside the container; must exit 0.
    pub script: String,
    /// The status the control must reach (fail, or manual where the spec has no fail).
    #[serde(default = "default_expect")]
    pub expect: String,
    /// How the mutated container is scanned.
    #[serde(default)]
    pub scan: ScanMode,
    /// Families it applies to (all when absent).
    #[serde(default)]
    pub families: Option<Vec<Family>>,
}

fn default_expect() -> String {
    "fail".to_string()
}

/// `harness/mutations.yaml`.
pub fn load_mutations() -> Result<Vec<Mutation>> {
    let path = harness_dir().join("mutations.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    serde_saphyr::from_str(&text).with_context(|| path.display().to_string())
}

/// `harness/expectations.yaml`: what controls report on a hardened image when they cannot pass
/// there, and which controls legitimately differ between a live scan and an image scan.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// control → scan mode → status on the hardened image (controls absent here must pass).
    pub hardened: BTreeMap<String, ModeStatuses>,
    /// Controls whose live and image statuses may differ (the spec's live-only facts).
    pub live_image_differ: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModeStatuses {
    pub live: String,
    pub image: String,
    pub why: String,
}

pub fn load_expectations() -> Result<Expectations> {
    let path = harness_dir().join("expectations.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    serde_saphyr::from_str(&text).with_context(|| path.display().to_string())
}

/// What one mutation did.
#[derive(Debug, Clone, Serialize)]
pub struct MutationOutcome {
    pub control: String,
    pub name: String,
    pub scan: ScanMode,
    pub expected: String,
    /// The control's status after the edit.
    pub status: String,
    /// Other controls whose status changed (control: before -> after).
    pub collateral: Vec<String>,
    /// Controls whose verdict on the mutated system committed as an image (`--target docker:`)
    /// differs from `--root` on its export.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flattened_differs: Vec<String>,
    pub ok: bool,
}

/// Everything the harness found on one image.
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub image: String,
    pub reference: String,
    pub family: Family,
    /// `ran` or `unavailable`.
    pub availability: String,
    pub reason: Option<String>,
    pub baseline_live: Option<Scan>,
    pub baseline_image: Option<Scan>,
    pub hardened_live: Option<Scan>,
    pub hardened_image: Option<Scan>,
    pub mutations: Vec<MutationOutcome>,
    /// Everything that is not as it must be; empty means the image conforms.
    pub problems: Vec<String>,
    pub duration_s: f64,
}

impl ImageReport {
    fn new(spec: &ImageSpec) -> ImageReport {
        ImageReport {
            image: spec.name.to_string(),
            reference: spec.reference.to_string(),
            family: spec.family,
            availability: "ran".to_string(),
            reason: None,
            baseline_live: None,
            baseline_image: None,
            hardened_live: None,
            hardened_image: None,
            mutations: Vec::new(),
            problems: Vec::new(),
            duration_s: 0.0,
        }
    }
}

/// Output of a command run inside a container.
pub struct ExecOutput {
    pub code: i64,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `argv` inside the container and waits for it to exit.
pub fn exec(container: &Container<GenericImage>, argv: &[&str]) -> Result<ExecOutput> {
    let mut res = container
        .exec(ExecCommand::new(argv.iter().copied()).with_cmd_ready_condition(CmdWaitFor::exit()))
        .with_context(|| format!("exec {argv:?}"))?;
    let stdout = res.stdout_to_vec()?;
    let stderr = res.stderr_to_vec()?;
    let code = res
        .exit_code()?
        .ok_or_else(|| anyhow!("exec {argv:?}: no exit code"))?;
    Ok(ExecOutput {
        code,
        stdout,
        stderr,
    })
}

fn sh(container: &Container<GenericImage>, script: &str) -> Result<()> {
    let out = exec(container, &["sh", "-c", script])?;
    if out.code != 0 {
        bail!(
            "`{}` exited {}: {}{}",
            script.trim(),
            out.code,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Starts a container of `reference` with phipolicy and the family's hardening script copied in.
fn start(reference: &str, family: Family, bin: &Path) -> Result<Container<GenericImage>> {
    let (repo, tag) = reference.rsplit_once(':').unwrap_or((reference, "latest"));
    let script = harness_dir()
        .join("hardening")
        .join(format!("{}.sh", family.name()));
    GenericImage::new(repo, tag)
        .with_cmd(["sleep", "infinity"])
        .with_copy_to(
            CopyTargetOptions::new(BIN_IN_CONTAINER).with_mode(0o755),
            bin.to_path_buf(),
        )
        .with_copy_to(
            CopyTargetOptions::new(HARDENING_IN_CONTAINER).with_mode(0o755),
            script,
        )
        .start()
        .with_context(|| format!("starting a container of {reference}"))
}

/// `phipolicy eval` inside the container: the live-host view (`/proc` present).
fn scan_live(container: &Container<GenericImage>) -> Result<Scan> {
    let out = exec(
        container,
        &[BIN_IN_CONTAINER, "eval", "--format", "json", "--now", NOW],
    )?;
    if !(0..=2).contains(&out.code) {
        bail!(
            "phipolicy eval in the container exited {}: {}",
            out.code,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Scan::parse(&out.stdout).with_context(|| {
        format!(
            "phipolicy eval in the container (exit {}): {}",
            out.code,
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// `docker export` of the container unpacked on the host, then `phipolicy eval --root` there.
pub fn scan_exported(container_id: &str, bin: &Path) -> Result<Scan> {
    let tree = tempfile::Builder::new()
        .prefix("phipolicy-harness-")
        .tempdir()?;
    let mut export = Command::new("docker")
        .args(["export", container_id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("docker export")?;
    let stream = export
        .stdout
        .take()
        .ok_or_else(|| anyhow!("docker export has no stdout"))?;
    let untar = Command::new("tar")
        .args(["--numeric-owner", "-xf", "-", "-C"])
        .arg(tree.path())
        .stdin(stream)
        .stderr(Stdio::piped())
        .output()
        .context("tar -x")?;
    let mut export_err = String::new();
    if let Some(mut e) = export.stderr.take() {
        let _ = e.read_to_string(&mut export_err);
    }
    let exported = export.wait()?;
    if !exported.success() {
        bail!("docker export {container_id} failed: {}", export_err.trim());
    }
    if !untar.status.success() {
        bail!(
            "unpacking the export of {container_id} failed: {}",
            String::from_utf8_lossy(&untar.stderr).trim()
        );
    }
    let out = Command::new(bin)
        .args(["eval", "--format", "json", "--now", NOW, "--root"])
        .arg(tree.path())
        .output()
        .context("phipolicy eval --root")?;
    Scan::parse(&out.stdout).with_context(|| {
        format!(
            "phipolicy eval --root on the export (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// `phipolicy eval --target TARGET` (an image or container flattened by phipolicy itself).
fn scan_target(target: &str, bin: &Path) -> Result<Scan> {
    let out = Command::new(bin)
        .args(["eval", "--format", "json", "--now", NOW, "--target", target])
        .output()
        .with_context(|| format!("phipolicy eval --target {target}"))?;
    Scan::parse(&out.stdout).with_context(|| {
        format!(
            "phipolicy eval --target {target} (exit {:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// The verdicts of phipolicy's own flattening (`--target`) equal those of `--root` on the
/// export, for every control.
fn compare_flattened(variant: &str, target: &str, flattened: &Scan, exported: &Scan) -> Vec<String> {
    let mut problems = Vec::new();
    for control in &exported.order {
        let (a, b) = (flattened.status(control), exported.status(control));
        if a != b {
            problems.push(format!(
                "{variant}: {control} is {a} with --target {target} but {b} with --root on the export ({})",
                flattened.why(control)
            ));
        }
    }
    if flattened.order != exported.order {
        problems.push(format!("{variant}: --target {target} reported other controls than --root"));
    }
    problems
}

fn scan(container: &Container<GenericImage>, mode: ScanMode, bin: &Path) -> Result<Scan> {
    match mode {
        ScanMode::Live => scan_live(container),
        ScanMode::Image => scan_exported(container.id(), bin),
    }
}

/// Live and image scans agree on every control except the spec's live-only ones.
pub fn compare_ways_in(variant: &str, live: &Scan, image: &Scan, exp: &Expectations) -> Vec<String> {
    let mut problems = Vec::new();
    for control in &live.order {
        if exp.live_image_differ.contains(control) {
            continue;
        }
        let (a, b) = (live.status(control), image.status(control));
        if a != b {
            problems.push(format!(
                "{variant}: {control} is {a} in the container but {b} on the exported tree ({})",
                image.why(control)
            ));
        }
    }
    problems
}

/// No `error` anywhere: on a real image the product must decide.
fn no_errors(variant: &str, scan: &Scan) -> Vec<String> {
    scan.order
        .iter()
        .filter(|c| scan.status(c) == "error")
        .map(|c| format!("{variant}: {c} is error: {}", scan.why(c)))
        .collect()
}

fn check_hardened(mode: ScanMode, scan: &Scan, exp: &Expectations) -> Vec<String> {
    let mut problems = Vec::new();
    for control in &scan.order {
        let want = match (exp.hardened.get(control), mode) {
            (Some(m), ScanMode::Live) => m.live.as_str(),
            (Some(m), ScanMode::Image) => m.image.as_str(),
            (None, _) => "pass",
        };
        let got = scan.status(control);
        if got != want {
            problems.push(format!(
                "hardened ({mode:?}): {control} is {got}, expected {want}: {}",
                scan.why(control)
            ));
        }
    }
    problems
}

/// Commits the hardened container to a throw-away image that every mutation starts from.
struct HardenedImage {
    reference: String,
}

impl HardenedImage {
    fn commit(container_id: &str, name: &str) -> Result<HardenedImage> {
        // A repository name component: lowercase alphanumerics with inner dashes only.
        let name: String = name
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(100)
            .collect();
        let name = name.trim_matches('-');
        let reference = format!("phipolicy-harness/hardened-{name}:{}", std::process::id());
        let out = Command::new("docker")
            .args(["commit", container_id, &reference])
            .output()
            .context("docker commit")?;
        if !out.status.success() {
            bail!(
                "docker commit failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(HardenedImage { reference })
    }
}

impl Drop for HardenedImage {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["image", "rm", "--force", &self.reference])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

fn run_mutation(
    m: &Mutation,
    hardened: &HardenedImage,
    before: &Scan,
    family: Family,
    bin: &Path,
) -> Result<MutationOutcome> {
    let container = start(&hardened.reference, family, bin)?;
    sh(&container, &m.script).with_context(|| format!("mutation `{}`", m.name))?;
    let after = scan(&container, m.scan, bin)?;
    // The mutated system as an image (`docker commit`), flattened by phipolicy, against `--root`
    // on the export of the same container.
    let exported = match m.scan {
        ScanMode::Image => after.clone(),
        ScanMode::Live => scan_exported(container.id(), bin)?,
    };
    let mutated = HardenedImage::commit(container.id(), &format!("{}-{}", m.control, m.name))?;
    let target = format!("docker:{}", mutated.reference);
    let flattened = scan_target(&target, bin)?;
    let differential = compare_flattened(&format!("mutation `{}`", m.name), &target, &flattened, &exported);
    drop(mutated);
    let status = after.status(&m.control).to_string();
    let collateral: Vec<String> = before
        .order
        .iter()
        .filter(|c| **c != m.control && before.status(c) != after.status(c))
        .map(|c| format!("{c}: {} -> {}", before.status(c), after.status(c)))
        .collect();
    let ok = status == m.expect
        && before.status(&m.control) != m.expect
        && collateral.is_empty()
        && differential.is_empty();
    Ok(MutationOutcome {
        control: m.control.clone(),
        name: m.name.clone(),
        scan: m.scan,
        expected: m.expect.clone(),
        status,
        collateral,
        flattened_differs: differential,
        ok,
    })
}

/// Runs every variant on one image. Problems are collected, not raised, so the matrix is whole.
pub fn run_image(
    spec: &ImageSpec,
    bin: &Path,
    mutations: &[Mutation],
    exp: &Expectations,
) -> ImageReport {
    let started = std::time::Instant::now();
    let mut report = ImageReport::new(spec);
    if let Availability::Unavailable(reason) = availability(spec) {
        report.availability = "unavailable".to_string();
        report.reason = Some(reason);
        return report;
    }
    if let Err(e) = run_variants(spec, bin, mutations, exp, &mut report) {
        report.problems.push(format!("{e:#}"));
    }
    report.duration_s = started.elapsed().as_secs_f64();
    report
}

fn run_variants(
    spec: &ImageSpec,
    bin: &Path,
    mutations: &[Mutation],
    exp: &Expectations,
    report: &mut ImageReport,
) -> Result<()> {
    let container = start(spec.reference, spec.family, bin)?;
    let baseline_live = scan_live(&container)?;
    let baseline_image = scan_exported(container.id(), bin)?;
    // The image as the engine has it, and the container through its export stream.
    for target in [
        format!("docker:{}", spec.reference),
        format!("container:{}", container.id()),
    ] {
        let flattened = scan_target(&target, bin)?;
        report.problems.extend(compare_flattened(
            "baseline",
            &target,
            &flattened,
            &baseline_image,
        ));
    }
    report
        .problems
        .extend(no_errors("baseline (live)", &baseline_live));
    report.problems.extend(compare_ways_in(
        "baseline",
        &baseline_live,
        &baseline_image,
        exp,
    ));
    report.baseline_live = Some(baseline_live);
    report.baseline_image = Some(baseline_image);

    sh(&container, HARDENING_IN_CONTAINER).context("hardening script")?;
    let hardened_live = scan_live(&container)?;
    let hardened_image = scan_exported(container.id(), bin)?;
    report
        .problems
        .extend(check_hardened(ScanMode::Live, &hardened_live, exp));
    report
        .problems
        .extend(check_hardened(ScanMode::Image, &hardened_image, exp));
    report.problems.extend(compare_ways_in(
        "hardened",
        &hardened_live,
        &hardened_image,
        exp,
    ));

    let hardened = HardenedImage::commit(container.id(), spec.name)?;
    drop(container);
    let target = format!("docker:{}", hardened.reference);
    let flattened = scan_target(&target, bin)?;
    report.problems.extend(compare_flattened(
        "hardened",
        &target,
        &flattened,
        &hardened_image,
    ));
    let applicable: Vec<&Mutation> = mutations
        .iter()
        .filter(|m| m.families.as_ref().is_none_or(|f| f.contains(&spec.family)))
        .collect();
    for control in &hardened_live.order {
        if !applicable.iter().any(|m| &m.control == control) {
            report.problems.push(format!(
                "{control} has no mutation for the {} family in harness/mutations.yaml",
                spec.family.name()
            ));
        }
    }
    for m in applicable {
        if !hardened_live.order.contains(&m.control) {
            report.problems.push(format!(
                "mutation `{}` names {}, which is not a control of the profile",
                m.name, m.control
            ));
            continue;
        }
        let before = match m.scan {
            ScanMode::Live => &hardened_live,
            ScanMode::Image => &hardened_image,
        };
        match run_mutation(m, &hardened, before, spec.family, bin) {
            Ok(outcome) => {
                if !outcome.ok {
                    report.problems.push(format!(
                        "mutation `{}` ({}): {} is {} (expected {} from {}){}",
                        outcome.name,
                        outcome.control,
                        outcome.control,
                        outcome.status,
                        outcome.expected,
                        before.status(&m.control),
                        if outcome.collateral.is_empty() {
                            String::new()
                        } else {
                            format!("; also changed: {}", outcome.collateral.join(", "))
                        } + &outcome
                            .flattened_differs
                            .iter()
                            .map(|d| format!("; {d}"))
                            .collect::<String>()
                    ));
                }
                report.mutations.push(outcome);
            }
            Err(e) => report
                .problems
                .push(format!("mutation `{}` ({}): {e:#}", m.name, m.control)),
        }
    }
    report.hardened_live = Some(hardened_live);
    report.hardened_image = Some(hardened_image);
    Ok(())
}

/// The whole run: one report per image.
#[derive(Debug, Clone, Serialize)]
pub struct Matrix {
    pub schema: &'static str,
    pub evaluated_at: &'static str,
    pub images: Vec<ImageReport>,
}

impl Matrix {
    pub fn new(images: Vec<ImageReport>) -> Matrix {
        Matrix {
            schema: "phipolicy/conformance/v1",
            evaluated_at: NOW,
            images,
        }
    }

    /// Every problem, prefixed with its image.
    pub fn problems(&self) -> Vec<String> {
        self.images
            .iter()
            .flat_map(|r| r.problems.iter().map(move |p| format!("{}: {p}", r.image)))
            .collect()
    }

    /// The matrix as Markdown: availability, then control × variant per image that ran.
    pub fn markdown(&self) -> String {
        let mut md = String::from("# phipolicy conformance matrix\n\n");
        md.push_str(&format!("Evaluation time: {NOW}.\n\n"));
        md.push_str("| image | reference | result | time |\n|---|---|---|---|\n");
        for r in &self.images {
            let result = match (&r.reason, r.problems.len()) {
                (Some(reason), _) => format!("**unavailable** — {reason}"),
                (None, 0) => "conforms".to_string(),
                (None, n) => format!("**{n} problem(s)**"),
            };
            md.push_str(&format!(
                "| {} | `{}` | {} | {:.0} s |\n",
                r.image, r.reference, result, r.duration_s
            ));
        }
        for r in self.images.iter().filter(|r| r.reason.is_none()) {
            md.push_str(&format!("\n## {} (`{}`)\n\n", r.image, r.reference));
            md.push_str("| control | baseline live | baseline image | hardened live | hardened image | mutation | mutated |\n");
            md.push_str("|---|---|---|---|---|---|---|\n");
            let order = r
                .baseline_live
                .as_ref()
                .map(|s| s.order.clone())
                .unwrap_or_default();
            let cell = |s: &Option<Scan>, c: &str| {
                s.as_ref()
                    .map_or("—".to_string(), |s| s.status(c).to_string())
            };
            for c in &order {
                let muts: Vec<&MutationOutcome> =
                    r.mutations.iter().filter(|m| &m.control == c).collect();
                let (names, results) = if muts.is_empty() {
                    ("**none**".to_string(), "—".to_string())
                } else {
                    (
                        muts.iter()
                            .map(|m| m.name.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                        muts.iter()
                            .map(|m| {
                                format!(
                                    "{}{} ({:?})",
                                    if m.ok { "✓ " } else { "✗ " },
                                    m.status,
                                    m.scan
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    )
                };
                md.push_str(&format!(
                    "| {c} | {} | {} | {} | {} | {names} | {results} |\n",
                    cell(&r.baseline_live, c),
                    cell(&r.baseline_image, c),
                    cell(&r.hardened_live, c),
                    cell(&r.hardened_image, c),
                ));
            }
            if !r.problems.is_empty() {
                md.push_str("\nProblems:\n\n");
                for p in &r.problems {
                    md.push_str(&format!("- {p}\n"));
                }
            }
        }
        md
    }

    /// Writes `matrix.json` and `matrix.md` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("matrix.json"), serde_json::to_vec_pretty(self)?)?;
        std::fs::write(dir.join("matrix.md"), self.markdown())?;
        Ok(())
    }
}

/// Where the matrix goes: `PHIPOLICY_CONFORMANCE_DIR`, else target/conformance.
pub fn output_dir() -> PathBuf {
    std::env::var_os("PHIPOLICY_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target/conformance"))
}
