//! Long file: one command per function and the helpers they share (cargo, apt, docker); the
//! larger jobs already live in their own modules (dist, fuzz, reports, tidy).
//! `cargo xtask`: the project's only script. It installs what a fresh machine lacks (the
//! wasm32-wasip2 target, Debian's openssh-server for the differential test), builds, tests and
//! benchmarks, builds the Debian images the conformance harness runs on and runs that harness.
//! `.ci/run` calls `cargo xtask test`, exactly as the README says.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

mod bench_targets;
mod deploy;
mod dist;
mod fuzz;
mod reports;
mod tidy;

const HELP: &str = "\
cargo xtask <command>

commands:
  tidy             check that ARCHITECTURE.md's code map, SECURITY.md's cited tests, the
                   documented fixture files, named limits and long files agree with the tree
  build            install the wasm32-wasip2 target if missing and build phipolicy (release)
  eval [ARGS...]   build, then run `phipolicy eval ARGS` (default: the live host, table format)
  docs             build, then regenerate docs/controls.md (the control catalogue) from the
                   policies' metadata; engine/tests/docs.rs fails when it is stale
  test             the whole test suite: tidy (and its own tests), unit and fixture tests, the sshd differential test,
                   the Rego unit tests, the report validators (validate-reports), then the
                   conformance harness (what CI runs)
  validate-reports [--update-docs]
                   render every report format of three trees and check each with the real
                   validators (SARIF schema, JUnit XSDs, trestle, Nu HTML checker, headless
                   Chromium), installing them under target/ (and Java, Chromium from Debian) if
                   missing; --update-docs copies the HTML report's screenshot to docs/report.png
  package          `cargo package` of what plugin authors depend on (phipolicy-sdk,
                   phipolicy-parsers), offline and without building: checks that both crates
                   package cleanly and that the SDK's package carries the WIT; writes the .crate
                   files to target/package/
  bench [--runs N] median wall time and peak memory of `phipolicy eval --root` on the merged
                   hardened fixtures and on a tree of 50,000 accounts (ids.unique); a fleet of
                   1,000 small trees in one process (targets/s, CPU per target); the Debian 12
                   image as docker-archive: vs --root on its export; OpenSCAP on that tree
  validate-deploy  check deploy/ offline: the Kubernetes manifests against the bundled API
                   schemas (kubernetes-validate --strict), the Ansible playbook (--syntax-check)
  images           build the Debian 12/13 images the harness runs on (debootstrap + docker
                   import), reusing existing tags and the rootfs tarballs under target/images
  fuzz [--seconds N] [--target NAME]
                   run the cargo-fuzz targets of the SDK parsers (fuzz/), N seconds each (default
                   60), one after the other; print executions and crashes per target, keep crash
                   inputs as regression tests, exit non-zero on a crash
  conformance      build phipolicy and the images if needed, run the container harness on every
                   image (baseline, hardened, mutations, live vs exported tree), print the matrix
                   and write it to target/conformance/ (JSON and Markdown)
  dist             build the packages into target/dist/: a .deb, an .rpm, a tarball with the same
                   layout, SHA256SUMS, and the container image phipolicy:VERSION (also saved there)
  dist-test        `dist`, then the install tests (harness/tests/install.rs): the .deb in the
                   Debian images, man page, bash completion, rpm file list and rpmlint, tarball,
                   the container image against the binary
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build().map(|_| ()),
        Some("eval") => eval(&args[1..]),
        Some("docs") => docs(),
        Some("test") => test(),
        Some("package") => package(),
        Some("bench") => bench(&args[1..]),
        Some("validate-reports") => build().and_then(|bin| {
            reports::validate_reports(&bin, args[1..].iter().any(|a| a == "--update-docs"))
        }),
        Some("validate-deploy") => deploy::validate_deploy(),
        Some("images") => images(),
        Some("conformance") => conformance(),
        Some("dist") => dist::dist().map(|_| ()),
        Some("dist-test") => dist_test(),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("tidy") => tidy::tidy(&workspace()),
        Some("help") | Some("--help") | Some("-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => Err(anyhow::anyhow!("unknown command `{other}`\n\n{HELP}")),
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: $ {}", show(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("running {}", show(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", show(cmd));
    }
    Ok(())
}

fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program().to_string_lossy().into_owned())
        .chain(cmd.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(" ")
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(workspace());
    // What `phipolicy --version --verbose` and every result document report as the commit
    // (engine/src/build_info.rs); the same for every cargo run here, so none recompiles the
    // engine for another value.
    match build_commit() {
        Some(commit) => c.env("PHIPOLICY_BUILD_COMMIT", commit),
        None => c.env_remove("PHIPOLICY_BUILD_COMMIT"),
    };
    c
}

/// The checked-out commit, with `-modified` appended when tracked or untracked files differ from
/// it; `None` outside a git checkout (a source tarball).
fn build_commit() -> Option<String> {
    static COMMIT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    COMMIT
        .get_or_init(|| {
            let git = |args: &[&str]| {
                Command::new("git")
                    .args(args)
                    .current_dir(workspace())
                    .output()
                    .ok()
                    .filter(|o| o.status.success())
                    .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            };
            let commit = git(&["rev-parse", "--verify", "HEAD"])?;
            let status = git(&["status", "--porcelain"])?;
            Some(if status.is_empty() {
                commit
            } else {
                format!("{commit}-modified")
            })
        })
        .clone()
}

/// `apt-get install` of the packages not yet installed (none: nothing to do), updating the
/// package lists first when a fresh machine has none.
fn apt_install(packages: &[&str]) -> Result<()> {
    if packages.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing {}", packages.join(", "));
    let install = || {
        let mut c = Command::new("apt-get");
        c.args(["install", "-y", "-qq"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    if run(&mut install()).is_ok() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(&mut install())
}

/// `apt-get download` of the packages into `dir` (never installed), updating the package lists
/// first when a fresh machine has none.
fn apt_download(packages: &[&str], dir: &Path) -> Result<()> {
    let download = || {
        Command::new("apt-get")
            .arg("download")
            .args(packages)
            .current_dir(dir)
            .status()
    };
    if download().map(|s| s.success()).unwrap_or(false) {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .arg("download")
        .args(packages)
        .current_dir(dir))
}

/// Installs the wasm32-wasip2 standard library: rustup, or the local copy when rustup cannot
/// download.
fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    if let Ok(out) = &installed
        && String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|l| l.trim() == "wasm32-wasip2")
    {
        return Ok(());
    }
    eprintln!("xtask: installing the wasm32-wasip2 target");
    if run(Command::new("rustup").args(["target", "add", "wasm32-wasip2"])).is_ok() {
        return Ok(());
    }
    let script = workspace().join("../shared/toolchain/install-wasm32-wasip2.sh");
    if script.is_file() {
        eprintln!(
            "xtask: rustup could not download; using {}",
            script.display()
        );
        return run(Command::new("bash").arg(&script));
    }
    bail!(
        "the wasm32-wasip2 target is not installed and neither rustup nor {} could install it",
        script.display()
    )
}

/// Builds phipolicy (release) and returns the binary's path.
fn build() -> Result<PathBuf> {
    ensure_wasm_target()?;
    run(cargo().args(["build", "--release", "--locked", "-p", "engine"]))?;
    Ok(target_dir().join("release").join("phipolicy"))
}

/// `cargo xtask docs`: docs/controls.md from the built binary's policies.
fn docs() -> Result<()> {
    let bin = build()?;
    let file = workspace().join("docs").join("controls.md");
    run(Command::new(&bin).arg("generate").arg("--controls-doc").arg(&file))?;
    eprintln!("xtask: wrote {}", file.display());
    Ok(())
}

fn eval(args: &[String]) -> Result<()> {
    let bin = build()?;
    let mut cmd = Command::new(bin);
    cmd.arg("eval");
    if args.is_empty() {
        cmd.args(["--format", "table"]);
    }
    cmd.args(args);
    eprintln!("xtask: $ {}", show(&cmd));
    let status = cmd.status()?;
    // eval's exit code is the verdict (1: a control failed); pass it through.
    std::process::exit(status.code().unwrap_or(2));
}

/// What the sshd differential test needs, as environment variables for `cargo test`.
struct SshdTools {
    env: Vec<(&'static str, PathBuf)>,
}

/// Debian's openssh-server (the reference `sshd -T`), libwrap0 (which sshd links) and
/// libnss-wrapper (a fake `sshd` user for machines without one), unpacked under target/tools —
/// never installed on the machine.
fn ensure_sshd_tools() -> Result<SshdTools> {
    const PACKAGES: &[&str] = &[
        "openssh-server",
        "openssh-client",
        "libwrap0",
        "libnss-wrapper",
    ];
    let tools = target_dir().join("tools");
    let root = tools.join("debian-root");
    let sshd = root.join("usr/sbin/sshd");
    let keygen = root.join("usr/bin/ssh-keygen");
    let wrapper = root.join("usr/lib/x86_64-linux-gnu/libnss_wrapper.so");
    let libs = format!(
        "{}:{}",
        root.join("lib/x86_64-linux-gnu").display(),
        root.join("usr/lib/x86_64-linux-gnu").display()
    );
    let env = vec![
        ("PHIPOLICY_SSHD", sshd.clone()),
        ("PHIPOLICY_SSH_KEYGEN", keygen.clone()),
        ("PHIPOLICY_NSS_WRAPPER", wrapper.clone()),
        ("PHIPOLICY_SSHD_LIBRARY_PATH", PathBuf::from(libs)),
    ];
    if sshd.is_file() && keygen.is_file() && wrapper.is_file() {
        return Ok(SshdTools { env });
    }
    let debs = tools.join("debs");
    std::fs::create_dir_all(&debs)?;
    apt_download(PACKAGES, &debs)?;
    for entry in std::fs::read_dir(&debs)? {
        let deb = entry?.path();
        if deb.extension().is_some_and(|x| x == "deb") {
            run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
        }
    }
    for needed in [&sshd, &keygen, &wrapper] {
        if !needed.is_file() {
            bail!(
                "{} is missing after unpacking {}",
                needed.display(),
                PACKAGES.join(", ")
            );
        }
    }
    Ok(SshdTools { env })
}

fn test() -> Result<()> {
    let started = Instant::now();
    // The documents agree with the tree before anything is built (seconds, not minutes); the
    // rules' own tests (each plants a drift and expects tidy to fail) run with them.
    tidy::tidy(&workspace())?;
    run(cargo().args(["test", "--locked", "-p", "xtask", "--", "tidy::"]))?;
    let bin = build()?;
    let sshd = ensure_sshd_tools()?;
    let mut cargo_test = cargo();
    cargo_test.args([
        "test",
        "--release",
        "--locked",
        "--workspace",
        "--exclude",
        "xtask",
        // The container harness needs Docker and the images: `cargo xtask conformance` runs it.
        "--exclude",
        "harness",
        // The parsers' fuzz entry points, which tests/fuzz_regressions.rs replays.
        "--features",
        "phipolicy-parsers/fuzzing",
    ]);
    for (k, v) in &sshd.env {
        cargo_test.env(k, v);
    }
    run(&mut cargo_test)?;
    package()?;
    run(Command::new(&bin).arg("test"))?;
    // Every report format through the real validators (installs them under target/ if missing).
    reports::validate_reports(&bin, false)?;
    // The Kubernetes manifests and the Ansible playbook under deploy/, offline.
    deploy::validate_deploy()?;
    // The conformance harness on real images, after the unit tests (needs Docker; an unreachable
    // engine fails the run with a message that says so).
    conformance()?;
    // The packages and the image, installed and run the way users do.
    dist_test()?;
    eprintln!("xtask: test suite passed in {:.0?}", started.elapsed());
    Ok(())
}

/// The crates plugin authors depend on, in dependency order.
const PUBLISHED_CRATES: &[&str] = &["phipolicy-sdk", "phipolicy-parsers"];

/// `cargo xtask package`: packages the SDK and the parsers the way `cargo publish` would (both at
/// once, so the parsers' dependency on the unpublished SDK resolves to the SDK being packaged),
/// offline and without the verification build, then checks what went into the SDK's `.crate`: a
/// crate whose bindings are generated from a WIT file outside it would package and then fail to
/// build for every author.
fn package() -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["package", "--offline", "--no-verify", "--allow-dirty"]);
    for krate in PUBLISHED_CRATES {
        cmd.args(["-p", krate]);
    }
    run(&mut cmd)?;
    let version = env!("CARGO_PKG_VERSION");
    let listing = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["package", "--offline", "--list", "--allow-dirty", "-p", "phipolicy-sdk"])
        .current_dir(workspace())
        .output()
        .context("cargo package --list")?;
    let files = String::from_utf8_lossy(&listing.stdout);
    for needed in ["wit/phipolicy.wit", "README.md", "src/lib.rs"] {
        if !files.lines().any(|l| l.trim() == needed) {
            bail!("the phipolicy-sdk package lacks {needed}:\n{files}");
        }
    }
    for krate in PUBLISHED_CRATES {
        let file = target_dir().join("package").join(format!("{krate}-{version}.crate"));
        if !file.is_file() {
            bail!("cargo package wrote no {}", file.display());
        }
    }
    Ok(())
}

/// What the install tests use on the machine itself: `man` to render the packaged page, bash's
/// completion loader, rpmlint.
const INSTALL_TEST_TOOLS: &[(&str, &str)] =
    &[("man", "man-db"), ("rpmlint", "rpmlint"), ("bash", "bash")];

/// The bash-completion loader the completion test sources.
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// `cargo xtask dist-test`: the Debian images and the artifacts, then harness/tests/install.rs.
fn dist_test() -> Result<()> {
    ensure_docker()?;
    let started = Instant::now();
    images()?;
    let dist = dist::dist()?;
    let mut missing: Vec<&str> = INSTALL_TEST_TOOLS
        .iter()
        .filter(|(tool, _)| !dist::on_path(tool))
        .map(|(_, package)| *package)
        .collect();
    if !Path::new(BASH_COMPLETION).is_file() {
        missing.push("bash-completion");
    }
    apt_install(&missing)?;
    let t = Instant::now();
    let mut tests = harness_test("install");
    tests
        .env("PHIPOLICY_BIN", target_dir().join("release/phipolicy"))
        .env("PHIPOLICY_DIST_DIR", &dist.dir)
        .env("PHIPOLICY_DIST_DEB", &dist.deb)
        .env("PHIPOLICY_DIST_RPM", &dist.rpm)
        .env("PHIPOLICY_DIST_TARBALL", &dist.tarball)
        .env("PHIPOLICY_DIST_IMAGE", &dist.image)
        .env("PHIPOLICY_BASH_COMPLETION", BASH_COMPLETION);
    run(&mut tests)?;
    eprintln!(
        "xtask: dist-test passed in {:.0?} (install tests, with their build: {:.0?})",
        started.elapsed(),
        t.elapsed()
    );
    Ok(())
}

/// Merges every `*-hardened` fixture root into one tree: a whole hardened host.
fn bench_root() -> Result<PathBuf> {
    let fixtures = workspace().join("engine/tests/fixtures");
    let root = target_dir().join("bench").join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    std::fs::create_dir_all(&root)?;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&fixtures)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-hardened"))
        })
        .collect();
    cases.sort();
    if cases.is_empty() {
        bail!("no *-hardened fixtures under {}", fixtures.display());
    }
    for case in &cases {
        run(Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", case.join("root").display()))
            .arg(&root))?;
    }
    Ok(root)
}

/// Runs `cmd` and returns (wall time, peak resident set in KiB, exit code) of the child: `wait4`
/// is the one way to get one child's own peak RSS, hence the `unsafe` below.
#[allow(unsafe_code)]
fn measure(cmd: &mut Command) -> Result<(Duration, u64, i32)> {
    let started = Instant::now();
    let child = cmd.stdout(std::process::Stdio::null()).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 on our own child with valid pointers to locals; it reaps the child, whose
    // `Child` handle is then forgotten so it is not waited for twice.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    std::mem::forget(child);
    if rc != pid {
        bail!("wait4 failed: {}", std::io::Error::last_os_error());
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok((wall, usage.ru_maxrss as u64, code))
}

/// Accounts in the bench's directory-backed host (issue 9: ids.unique was quadratic in them).
const BENCH_ACCOUNTS: u32 = 50_000;

/// A root with the merged hardened fixtures' os-release and `BENCH_ACCOUNTS` login accounts in
/// /etc/passwd, /etc/shadow and /etc/group (no duplicates: the whole work of the check is done).
fn bench_accounts_root(hardened: &std::path::Path) -> Result<PathBuf> {
    let root = target_dir().join("bench").join("accounts");
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    let etc = root.join("etc");
    std::fs::create_dir_all(&etc)?;
    std::fs::copy(hardened.join("etc/os-release"), etc.join("os-release"))?;
    let mut passwd = String::from("root:x:0:0:root:/root:/bin/bash\n");
    let mut shadow = String::from("root:*:19800:0:99999:7:::\n");
    let mut group = String::from("root:x:0:\nphi-access:x:1500:u0\n");
    for i in 0..BENCH_ACCOUNTS {
        let id = 10_000 + i;
        passwd.push_str(&format!("u{i}:x:{id}:{id}:User {i}:/home/u{i}:/bin/bash\n"));
        shadow.push_str(&format!("u{i}:$6$salt$hash{i}:19800:7:90:14:::\n"));
        group.push_str(&format!("g{i}:x:{id}:u{i}\n"));
    }
    std::fs::write(etc.join("passwd"), passwd)?;
    std::fs::write(etc.join("shadow"), shadow)?;
    std::fs::write(etc.join("group"), group)?;
    Ok(root)
}

/// Which tree a bench workload scans.
#[derive(Clone, Copy)]
enum BenchTree {
    /// The merged `*-hardened` fixtures: a whole hardened host.
    Hardened,
    /// `BENCH_ACCOUNTS` local accounts.
    Accounts,
}

/// The workloads `cargo xtask bench` measures, with the targets their issues set.
const BENCH_WORKLOADS: &[(&str, BenchTree, Option<&str>, f64, f64)] = &[
    // (name, tree, --controls, wall-time target ms, peak-memory target MiB)
    (
        "full hipaa profile (20 controls)",
        BenchTree::Hardened,
        None,
        25.0,
        50.0,
    ),
    (
        "authentication + logoff + passwords (6 controls)",
        BenchTree::Hardened,
        Some(
            "auth.ssh,auth.banner,logoff.shell-timeout,logoff.ssh-idle,passwords.quality,passwords.aging",
        ),
        15.0,
        40.0,
    ),
    (
        "ids.unique on 50,000 accounts",
        BenchTree::Accounts,
        Some("ids.unique"),
        100.0,
        150.0,
    ),
    // Same bound as ids.unique: one pass over the databases, facts that do not grow with them.
    (
        "passwords.aging on 50,000 accounts",
        BenchTree::Accounts,
        Some("passwords.aging"),
        100.0,
        150.0,
    ),
];

fn bench(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [flag, n] if flag == "--runs" => n.parse().context("--runs N")?,
        [] => 30,
        _ => bail!("usage: cargo xtask bench [--runs N]"),
    };
    let bin = build()?;
    let root = bench_root()?;
    // Built-in artifacts are mapped from phipolicy's private cache, written on the first run:
    // measure that first run separately, from an empty cache.
    let cache = target_dir().join("bench").join("cache");
    if cache.exists() {
        std::fs::remove_dir_all(&cache)?;
    }
    std::fs::create_dir_all(&cache)?;
    let accounts = bench_accounts_root(&root)?;
    let eval_on = |tree: BenchTree, controls: Option<&str>| {
        let mut c = Command::new(&bin);
        c.env("XDG_CACHE_HOME", &cache)
            .args([
                "eval",
                "--format",
                "json",
                "--now",
                "2026-11-28T12:00:00Z",
                "--root",
            ])
            .arg(match tree {
                BenchTree::Hardened => &root,
                BenchTree::Accounts => &accounts,
            });
        if let Some(controls) = controls {
            c.args(["--controls", controls]);
        }
        c
    };
    let (first, _, code) = measure(&mut eval_on(BenchTree::Hardened, None))?;
    if code == 2 {
        bail!("phipolicy eval on the bench tree exited 2 (an error); run it by hand to see why");
    }
    println!(
        "phipolicy eval --root {} ({runs} runs each, whole process; first run with an empty cache: {:.1} ms)",
        root.display(),
        ms(first)
    );
    println!();
    println!("| workload | wall median | min | max | target | peak RSS median | max | target |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut missed = Vec::new();
    for (name, tree, controls, wall_target, rss_target) in BENCH_WORKLOADS {
        let mut walls = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..runs {
            let (w, r, code) = measure(&mut eval_on(*tree, *controls))?;
            if code == 2 {
                bail!("phipolicy eval ({name}) exited 2");
            }
            walls.push(w);
            rss.push(r);
        }
        walls.sort();
        rss.sort();
        let median = ms(walls[walls.len() / 2]);
        let rss_median = rss[rss.len() / 2] as f64 / 1024.0;
        let rss_max = rss[rss.len() - 1] as f64 / 1024.0;
        let mark = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "| {name} | {median:.1} ms | {:.1} ms | {:.1} ms | < {wall_target} ms ({}) | {rss_median:.1} MiB | {rss_max:.1} MiB | < {rss_target} MiB ({}) |",
            ms(walls[0]),
            ms(walls[walls.len() - 1]),
            mark(median < *wall_target),
            mark(rss_median < *rss_target),
        );
        if median >= *wall_target || rss_median >= *rss_target {
            missed.push(*name);
        }
    }
    if !missed.is_empty() {
        println!();
        println!(
            "targets missed: {} (measure on an idle machine)",
            missed.join(", ")
        );
    }
    // Issue 12: many targets in one process, an image archive, and OpenSCAP on the same tree.
    bench_targets::bench_fleet(&bin, &root)?;
    bench_targets::bench_image(&bin, runs)?;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A Debian image the harness runs on, built here because the machine reaches Debian's archive but
/// no container registry.
struct DebianImage {
    tag: &'static str,
    suite: &'static str,
    version: &'static str,
}

const DEBIAN_IMAGES: &[DebianImage] = &[
    DebianImage {
        tag: "phipolicy/debian:12",
        suite: "bookworm",
        version: "12",
    },
    DebianImage {
        tag: "phipolicy/debian:13",
        suite: "trixie",
        version: "13",
    },
];

/// What the safeguards concern, on top of `minbase`: the services whose configuration phipolicy
/// reads, and rsyslog-gnutls because rsyslog's TLS forwarding (`StreamDriver="gtls"`) lives there.
const IMAGE_PACKAGES: &[&str] = &[
    "openssh-server",
    "auditd",
    "libpam-pwquality",
    "rsyslog",
    "rsyslog-gnutls",
    "cron",
    "sudo",
    "restic",
    "cryptsetup-bin",
    "openssl",
];

/// The Debian mirror this machine's apt uses (deb822 `URIs:` or one-line `deb URI ...`), so the
/// images come from the same archive as everything else here.
fn debian_mirror() -> String {
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sources" || x == "list"))
            .collect();
        more.sort();
        files.extend(more);
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines().map(str::trim) {
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if let Some(rest) = line.strip_prefix("deb ") {
                rest.split_whitespace()
                    .filter(|w| !w.starts_with('['))
                    .take(1)
                    .collect()
            } else {
                Vec::new()
            };
            if let Some(uri) = uris
                .into_iter()
                .find(|u| u.trim_end_matches('/').ends_with("/debian"))
            {
                return uri.to_string();
            }
        }
    }
    "http://deb.debian.org/debian".to_string()
}

fn docker_image_exists(tag: &str) -> bool {
    Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", tag])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Fails with a message saying so when no Docker engine answers.
fn ensure_docker() -> Result<()> {
    let out = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => bail!(
            "the Docker engine is not reachable (`docker version` failed: {}); start it or set DOCKER_HOST",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => bail!("the Docker engine is not reachable: the `docker` client cannot run ({e})"),
    }
}

fn ensure_debootstrap() -> Result<()> {
    if dist::on_path("debootstrap") {
        return Ok(());
    }
    apt_install(&["debootstrap"])
}

/// Runs `cmd` with its output appended to `log`; on failure the error names the log.
fn run_logged(cmd: &mut Command, log: &Path) -> Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    writeln!(file, "$ {}", show(cmd))?;
    let status = cmd
        .stdout(file.try_clone()?)
        .stderr(file)
        .status()
        .with_context(|| format!("running {}", show(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status}); see {}", show(cmd), log.display());
    }
    Ok(())
}

/// The rootfs tarball of one image: debootstrap `minbase`, then the packages the safeguards
/// concern installed in the chroot with a `policy-rc.d` that forbids starting services.
fn build_rootfs_tarball(image: &DebianImage, mirror: &str, dir: &Path) -> Result<PathBuf> {
    let tarball = dir.join(format!("debian-{}-rootfs.tar", image.version));
    if tarball.is_file() {
        eprintln!("xtask: {}: reusing {}", image.tag, tarball.display());
        return Ok(tarball);
    }
    let rootfs = dir.join(format!("debian-{}-rootfs", image.version));
    let log = dir.join(format!("debian-{}.log", image.version));
    if rootfs.exists() {
        std::fs::remove_dir_all(&rootfs)?;
    }
    let _ = std::fs::remove_file(&log);
    eprintln!(
        "xtask: {}: debootstrap {} from {mirror} (log: {})",
        image.tag,
        image.suite,
        log.display()
    );
    run_logged(
        Command::new("debootstrap")
            .args(["--variant=minbase", image.suite])
            .arg(&rootfs)
            .arg(mirror),
        &log,
    )?;
    let policy_rc = rootfs.join("usr/sbin/policy-rc.d");
    std::fs::write(
        &policy_rc,
        "#!/bin/sh\n# No service starts while the image is built.\nexit 101\n",
    )?;
    run(Command::new("chmod").arg("0755").arg(&policy_rc))?;
    let chroot = |args: &[&str]| {
        let mut c = Command::new("chroot");
        c.arg(&rootfs)
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("LC_ALL", "C.UTF-8")
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        c
    };
    run_logged(&mut chroot(&["apt-get", "update", "-qq"]), &log)?;
    let mut install = chroot(&["apt-get", "install", "-y", "-qq", "--no-install-recommends"]);
    install.args(IMAGE_PACKAGES);
    run_logged(&mut install, &log)?;
    run_logged(&mut chroot(&["apt-get", "clean"]), &log)?;
    std::fs::remove_file(&policy_rc)?;
    let lists = rootfs.join("var/lib/apt/lists");
    for entry in std::fs::read_dir(&lists)? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::remove_file(path)?;
        }
    }
    let partial = dir.join(format!("debian-{}-rootfs.tar.partial", image.version));
    run_logged(
        Command::new("tar")
            .args(["--numeric-owner", "--xattrs", "-C"])
            .arg(&rootfs)
            .arg("-cf")
            .arg(&partial)
            .arg("."),
        &log,
    )?;
    std::fs::rename(&partial, &tarball)?;
    std::fs::remove_dir_all(&rootfs)?;
    Ok(tarball)
}

fn build_image(image: &DebianImage, mirror: &str, dir: &Path) -> Result<()> {
    if docker_image_exists(image.tag) {
        eprintln!("xtask: {}: already present", image.tag);
        return Ok(());
    }
    let started = Instant::now();
    let tarball = build_rootfs_tarball(image, mirror, dir)?;
    run(Command::new("docker")
        .args([
            "import",
            "--change",
            r#"CMD ["sleep", "infinity"]"#,
            "--message",
            "phipolicy conformance image (debootstrap minbase + safeguard packages)",
        ])
        .arg(&tarball)
        .arg(image.tag))?;
    eprintln!("xtask: {}: built in {:.0?}", image.tag, started.elapsed());
    Ok(())
}

/// `cargo xtask images`: both Debian images, built in parallel (each is mostly downloads).
fn images() -> Result<()> {
    ensure_docker()?;
    let started = Instant::now();
    let dir = target_dir().join("images");
    std::fs::create_dir_all(&dir)?;
    let missing: Vec<&DebianImage> = DEBIAN_IMAGES
        .iter()
        .filter(|i| {
            let present = docker_image_exists(i.tag);
            if present {
                eprintln!("xtask: {}: already present", i.tag);
            }
            !present
        })
        .collect();
    if !missing.is_empty() {
        ensure_debootstrap()?;
        let mirror = debian_mirror();
        let results: Vec<Result<()>> = std::thread::scope(|s| {
            let handles: Vec<_> = missing
                .iter()
                .map(|image| s.spawn(|| build_image(image, &mirror, &dir)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("image build panicked")))
                })
                .collect()
        });
        for r in results {
            r?;
        }
    }
    eprintln!("xtask: images ready in {:.1?}", started.elapsed());
    Ok(())
}

/// `cargo test` of one test file of the harness crate (its tests need Docker).
fn harness_test(file: &str) -> Command {
    let mut c = cargo();
    c.args([
        "test",
        "--release",
        "--locked",
        "-p",
        "harness",
        "--test",
        file,
    ]);
    c
}

/// `cargo xtask conformance`: phipolicy and the images, then the container harness
/// (`harness/tests/conformance.rs`), which writes the matrix under target/conformance/.
fn conformance() -> Result<()> {
    ensure_docker()?;
    let started = Instant::now();
    let bin = build()?;
    images()?;
    let out = target_dir().join("conformance");
    let mut harness = harness_test("conformance");
    harness
        .args(["--", "--nocapture"])
        .env("PHIPOLICY_BIN", &bin)
        .env("PHIPOLICY_CONFORMANCE_DIR", &out);
    let outcome = run(&mut harness);
    let matrix = out.join("matrix.md");
    if let Ok(text) = std::fs::read_to_string(&matrix) {
        println!("{text}");
        eprintln!(
            "xtask: matrix written to {} and {}",
            matrix.display(),
            out.join("matrix.json").display()
        );
    }
    outcome?;
    // Image and container targets against Docker's own layer code (harness/tests/targets.rs).
    let mut targets = harness_test("targets");
    targets.env("PHIPOLICY_BIN", &bin);
    run(&mut targets)?;
    // SSH targets against sshd in a container of the Debian 12 image (harness/tests/ssh.rs); the
    // scan goes through the system's OpenSSH client, as an operator's would.
    let has_ssh = Command::new("ssh").arg("-V").output().is_ok()
        && Command::new("ssh-keygen").arg("-?").output().is_ok();
    if !has_ssh {
        apt_install(&["openssh-client"])?;
    }
    let mut ssh = harness_test("ssh");
    ssh.env("PHIPOLICY_BIN", &bin);
    run(&mut ssh)?;
    eprintln!("xtask: conformance run passed in {:.0?}", started.elapsed());
    Ok(())
}
