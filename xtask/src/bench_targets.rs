//! `cargo xtask bench`, the fleet and image figures (issue 12): a fleet of 1,000 small trees in
//! one process (targets per second on 2 cores, CPU per target, the process's peak memory); the
//! Debian 12 harness image as `--target docker-archive:` against `--root` on its export (the
//! ratio of medians; the archive is read once beforehand so the page cache holds it for both);
//! and OpenSCAP (`oscap-chroot`, Debian's openscap-scanner with the ssg-debian content for
//! Debian 12) on the same exported tree, with the ratio.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{measure, ms, run, target_dir};

/// Trees in the fleet workload.
const FLEET_TARGETS: usize = 1_000;
/// Workers of the fleet run (the "2 cores").
const FLEET_JOBS: usize = 2;
/// The fleet's throughput target (targets per second) and CPU per target (ms).
const FLEET_TARGET_PER_SECOND: f64 = 200.0;
const FLEET_CPU_MS_PER_TARGET: f64 = 10.0;
/// The image's ratio target: docker-archive within this factor of `--root` on the export.
const IMAGE_RATIO_TARGET: f64 = 2.0;
/// The harness image the image figures use.
const IMAGE: &str = "phipolicy/debian:12";
/// Debian's OpenSCAP scanner and `oscap-chroot` (in openscap-utils; bookworm, installed with apt).
const OPENSCAP_PACKAGES: &[&str] = &["openscap-scanner", "openscap-utils"];
/// The SCAP Security Guide content for Debian 12 is in Debian's ssg-debian from trixie on
/// (bookworm's 0.1.65 has Debian 10 and 11 only): downloaded from the same mirror with a private
/// apt state and unpacked under target/tools, never installed.
const SSG_SUITE: &str = "trixie";
const SSG_DATASTREAM: &str = "usr/share/xml/scap/ssg/content/ssg-debian12-ds.xml";
const SSG_PROFILE: &str = "xccdf_org.ssgproject.content_profile_standard";

const NOW: &str = "2026-11-28T12:00:00Z";

/// CPU time (user + system) of the children reaped so far.
#[allow(unsafe_code)]
fn children_cpu() -> Duration {
    // SAFETY: an all-zero rusage is a valid value of this plain C struct; getrusage only writes it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a local.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// 1,000 copies of `template` and the targets file naming them.
fn fleet_trees(template: &Path) -> Result<PathBuf> {
    let dir = target_dir().join("bench").join("fleet");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("trees"))?;
    let mut yaml = String::new();
    for i in 0..FLEET_TARGETS {
        let tree = dir.join("trees").join(format!("host{i:04}"));
        // Quietly: a thousand echoed commands would bury the figures.
        let status = Command::new("cp").arg("-a").arg(template).arg(&tree).status()?;
        if !status.success() {
            bail!("cp -a {} {} failed ({status})", template.display(), tree.display());
        }
        yaml.push_str(&format!("- name: host{i:04}\n  target: dir:{}\n", tree.display()));
    }
    std::fs::write(dir.join("targets.yaml"), yaml)?;
    Ok(dir)
}

pub fn bench_fleet(bin: &Path, template: &Path) -> Result<()> {
    let dir = fleet_trees(template)?;
    let out = dir.join("reports");
    let cpu_before = children_cpu();
    let mut cmd = Command::new("taskset");
    cmd.args(["--cpu-list", "0,1"])
        .arg(bin)
        .args(["eval", "--quiet", "--now", NOW, "--format", "json", "--summary-format", "json"])
        .arg("--targets")
        .arg(dir.join("targets.yaml"))
        .args(["--jobs", &FLEET_JOBS.to_string()])
        .arg("--output-dir")
        .arg(&out);
    let (wall, rss_kib, code) = measure(&mut cmd)?;
    let cpu = children_cpu().saturating_sub(cpu_before);
    if code == 2 {
        bail!("the fleet run exited 2; see {}/fleet-summary.json", out.display());
    }
    let per_second = FLEET_TARGETS as f64 / wall.as_secs_f64();
    let cpu_per_target = ms(cpu) / FLEET_TARGETS as f64;
    let mark = |ok: bool| if ok { "met" } else { "MISSED" };
    println!();
    println!(
        "fleet: {FLEET_TARGETS} trees (copies of {}), `--targets FILE --jobs {FLEET_JOBS}` on 2 cores, one process",
        template.display()
    );
    println!("| targets/s | target | wall | CPU per target | target | peak RSS (process) |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| {per_second:.0} | >= {FLEET_TARGET_PER_SECOND:.0} ({}) | {:.2} s | {cpu_per_target:.1} ms | <= {FLEET_CPU_MS_PER_TARGET:.0} ms ({}) | {:.1} MiB |",
        mark(per_second >= FLEET_TARGET_PER_SECOND),
        wall.as_secs_f64(),
        mark(cpu_per_target <= FLEET_CPU_MS_PER_TARGET),
        rss_kib as f64 / 1024.0,
    );
    Ok(())
}

fn docker(args: &[&str]) -> Result<String> {
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

/// `docker save` of the image and `docker export` of a container of it, unpacked.
fn image_inputs() -> Result<(PathBuf, PathBuf)> {
    if docker(&["image", "inspect", "--format", "{{.Id}}", IMAGE]).is_err() {
        crate::images()?;
    }
    let dir = target_dir().join("bench").join("image");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(dir.join("export"))?;
    let archive = dir.join("debian12.tar");
    docker(&["save", "--output", archive.to_str().context("path")?, IMAGE])?;
    let id = docker(&["create", IMAGE, "/bin/true"])?;
    let exported = dir.join("export.tar");
    let result = docker(&["export", "--output", exported.to_str().context("path")?, &id]);
    docker(&["rm", "--force", &id])?;
    result?;
    run(Command::new("tar")
        .args(["--numeric-owner", "-xf"])
        .arg(&exported)
        .arg("-C")
        .arg(dir.join("export")))?;
    Ok((archive, dir.join("export")))
}

fn timed(cmd: &mut Command, what: &str, ok_codes: &[i32]) -> Result<Duration> {
    let (wall, _, code) = measure(cmd)?;
    if !ok_codes.contains(&code) {
        bail!("{what} exited {code}");
    }
    Ok(wall)
}

pub fn bench_image(bin: &Path, runs: usize) -> Result<()> {
    let (archive, export) = image_inputs()?;
    // Read the archive once: both sides then run from the page cache.
    std::fs::read(&archive)?;
    let eval = |target: &[&str]| {
        let mut c = Command::new(bin);
        c.args(["eval", "--format", "json", "--now", NOW]).args(target);
        c
    };
    let archive_target = format!("docker-archive:{}", archive.display());
    let export_root = export.display().to_string();
    let runs = runs.clamp(3, 11);
    let mut image = Vec::new();
    let mut root = Vec::new();
    for _ in 0..runs {
        image.push(timed(&mut eval(&["--target", &archive_target]), "eval --target docker-archive:", &[0, 1])?);
        root.push(timed(&mut eval(&["--root", &export_root]), "eval --root", &[0, 1])?);
    }
    let (image, root) = (median(image), median(root));
    let ratio = image.as_secs_f64() / root.as_secs_f64();
    let size = std::fs::metadata(&archive)?.len() as f64 / (1 << 20) as f64;
    println!();
    println!("image: {IMAGE} ({size:.0} MiB archive), {runs} runs each, medians");
    println!("| --target docker-archive: | --root on its export | ratio | target |");
    println!("|---|---|---|---|");
    println!(
        "| {:.0} ms | {:.0} ms | {ratio:.1}x | <= {IMAGE_RATIO_TARGET}x ({}) |",
        ms(image),
        ms(root),
        if ratio <= IMAGE_RATIO_TARGET { "met" } else { "MISSED" }
    );
    bench_openscap(&export, root)?;
    Ok(())
}

/// `oscap-chroot` installed and the Debian 12 data stream unpacked; returns the data stream.
fn ensure_openscap() -> Result<PathBuf> {
    if !Path::new("/usr/bin/oscap-chroot").is_file() {
        run(Command::new("apt-get")
            .args(["install", "-y", "-q", "--no-install-recommends"])
            .args(OPENSCAP_PACKAGES)
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    let tools = target_dir().join("tools").join("ssg-debian");
    let datastream = tools.join("root").join(SSG_DATASTREAM);
    if datastream.is_file() {
        return Ok(datastream);
    }
    let apt = tools.join("apt");
    for d in ["lists/partial", "cache/archives/partial", "download"] {
        std::fs::create_dir_all(apt.join(d))?;
    }
    let sources = apt.join("sources.list");
    std::fs::write(&sources, format!("deb {} {SSG_SUITE} main\n", crate::debian_mirror()))?;
    let options = [
        format!("Dir::Etc::SourceList={}", sources.display()),
        "Dir::Etc::SourceParts=/dev/null".to_string(),
        format!("Dir::State::Lists={}", apt.join("lists").display()),
        format!("Dir::Cache={}", apt.join("cache").display()),
    ];
    let apt_get = || {
        let mut c = Command::new("apt-get");
        for o in &options {
            c.args(["-o", o]);
        }
        c
    };
    run(apt_get().args(["update", "-qq"]))?;
    run(apt_get().args(["download", "ssg-debian"]).current_dir(apt.join("download")))?;
    let deb = std::fs::read_dir(apt.join("download"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .context("apt-get download ssg-debian left no .deb")?;
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(tools.join("root")))?;
    if !datastream.is_file() {
        bail!("{} has no {SSG_DATASTREAM}", deb.display());
    }
    Ok(datastream)
}

/// OpenSCAP on the same tree, one run (it takes seconds), against phipolicy's median.
fn bench_openscap(export: &Path, phipolicy: Duration) -> Result<()> {
    let datastream = ensure_openscap()?;
    let results = target_dir().join("bench").join("image").join("oscap-results.xml");
    let started = Instant::now();
    let status = Command::new("oscap-chroot")
        .arg(export)
        .args(["xccdf", "eval", "--profile", SSG_PROFILE, "--results"])
        .arg(&results)
        .arg(&datastream)
        .stdout(std::process::Stdio::null())
        .status()
        .context("oscap-chroot")?;
    let wall = started.elapsed();
    // 0: all passed, 2: some rule failed; anything else is an error of the scanner.
    if !matches!(status.code(), Some(0 | 2)) {
        bail!("oscap-chroot exited {status}");
    }
    println!();
    println!(
        "OpenSCAP on the same tree: `oscap-chroot ... xccdf eval --profile {SSG_PROFILE}` (ssg-debian from {SSG_SUITE}: {})",
        datastream.display()
    );
    println!("| oscap-chroot | phipolicy --root | oscap / phipolicy |");
    println!("|---|---|---|");
    println!(
        "| {:.0} ms | {:.0} ms | {:.0}x |",
        ms(wall),
        ms(phipolicy),
        wall.as_secs_f64() / phipolicy.as_secs_f64()
    );
    Ok(())
}
