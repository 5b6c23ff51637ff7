//! `cargo xtask`: the project's only script. It installs what a fresh machine lacks (the
//! wasm32-wasip2 target, Debian's openssh-server for the differential test), builds, tests and
//! benchmarks. `.ci/run` calls `cargo xtask test`, exactly as the README says.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const HELP: &str = "\
cargo xtask <command>

commands:
  build            install the wasm32-wasip2 target if missing and build phipolicy (release)
  eval [ARGS...]   build, then run `phipolicy eval ARGS` (default: the live host, table format)
  test             the whole test suite: unit and fixture tests, the sshd differential test,
                   the Rego unit tests (what CI runs)
  bench [--runs N] median wall time and peak memory of `phipolicy eval --root` on a fixture tree
";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("build") => build().map(|_| ()),
        Some("eval") => eval(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
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
    c
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
    let download = || {
        Command::new("apt-get")
            .arg("download")
            .args(PACKAGES)
            .current_dir(&debs)
            .status()
    };
    if !download().map(|s| s.success()).unwrap_or(false) {
        // A fresh machine has no package lists yet.
        run(Command::new("apt-get").args(["update", "-qq"]))?;
        run(Command::new("apt-get")
            .arg("download")
            .args(PACKAGES)
            .current_dir(&debs))?;
    }
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
    ]);
    for (k, v) in &sshd.env {
        cargo_test.env(k, v);
    }
    run(&mut cargo_test)?;
    run(Command::new(&bin).arg("test"))?;
    eprintln!("xtask: test suite passed in {:.0?}", started.elapsed());
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

fn bench(args: &[String]) -> Result<()> {
    let runs: usize = match args {
        [flag, n] if flag == "--runs" => n.parse().context("--runs N")?,
        [] => 30,
        _ => bail!("usage: cargo xtask bench [--runs N]"),
    };
    let bin = build()?;
    let root = bench_root()?;
    let eval = || {
        let mut c = Command::new(&bin);
        c.args([
            "eval",
            "--format",
            "json",
            "--now",
            "2026-11-28T12:00:00Z",
            "--root",
        ])
        .arg(&root);
        c
    };
    // Warm the page cache and check the run is sane.
    let (_, _, code) = measure(&mut eval())?;
    if code == 2 {
        bail!("phipolicy eval on the bench tree exited 2 (an error); run it by hand to see why");
    }
    let mut walls = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs {
        let (w, r, _) = measure(&mut eval())?;
        walls.push(w);
        rss.push(r);
    }
    walls.sort();
    rss.sort();
    let median = walls[walls.len() / 2];
    let (min, max) = (walls[0], walls[walls.len() - 1]);
    let rss_median = rss[rss.len() / 2];
    let rss_max = rss[rss.len() - 1];
    println!(
        "phipolicy eval --root {} ({} runs, whole process)",
        root.display(),
        runs
    );
    println!();
    println!("| metric            | median   | min      | max      |");
    println!("|-------------------|----------|----------|----------|");
    println!(
        "| wall time         | {:>5.1} ms | {:>5.1} ms | {:>5.1} ms |",
        ms(median),
        ms(min),
        ms(max)
    );
    println!(
        "| peak memory (RSS) | {:>5.1} MiB | {:>5.1} MiB | {:>5.1} MiB |",
        rss_median as f64 / 1024.0,
        rss[0] as f64 / 1024.0,
        rss_max as f64 / 1024.0
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
