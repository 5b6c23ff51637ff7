//! `cargo xtask dist`: the packages operations teams install — a `.deb` (dpkg-deb), an `.rpm`
//! (rpmbuild, from Debian's `rpm` package), a tarball with the same layout, `SHA256SUMS`, and a
//! container image of phipolicy itself (Debian's libc6 and libgcc-s1 unpacked under the `.deb`'s
//! files, `docker import`ed: no registry is pulled). Everything is written with tools from
//! Debian's archive, so CI needs no network beyond it and compiles nothing extra.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::{run, target_dir, workspace};

/// One sentence: the package managers' summary line.
const SUMMARY: &str = "HIPAA technical safeguards audit of a Linux host or root filesystem";

/// The package managers' long description (one paragraph per line).
const DESCRIPTION: &[&str] = &[
    "phipolicy tells an operations team, with evidence an auditor accepts, whether a Linux server \
     or image meets the HIPAA Security Rule's technical safeguards (45 CFR 164.308 and 164.312). \
     It reads the target (the live host, or any root filesystem: an unpacked image, a mounted disk, \
     a container's filesystem) and never writes to it. Every finding cites a file and a line.",
    "Checks run as sandboxed WebAssembly plugins (wasmtime) that return facts; Rego policies \
     (regorus) judge them. The built-in profile, plugins and policies are inside the binary.",
];

/// Who answers for the packages (Debian's `Maintainer`, RPM's `Packager`).
const MAINTAINER: &str = "phipolicy developers <phipolicy@example.invalid>";

/// The Debian revision and RPM release of a package built from this tree.
const PACKAGE_RELEASE: &str = "1";

/// Debian packages whose files make the container image's runtime: the C library and the GCC
/// unwinder the binary links (what `dpkg-shlibdeps` finds for the `.deb`; the image test of
/// harness/tests/install.rs runs the binary there).
const IMAGE_RUNTIME_PACKAGES: &[&str] = &["libc6", "libgcc-s1"];

/// The container image's repository; tagged with the version and `latest`.
pub const IMAGE_REPOSITORY: &str = "phipolicy";

/// Tools this needs, by Debian package: dpkg-shlibdeps (dpkg-dev) for the `.deb`'s dependencies,
/// rpmbuild for the `.rpm`.
const DIST_TOOLS: &[(&str, &str)] = &[("dpkg-shlibdeps", "dpkg-dev"), ("rpmbuild", "rpm")];

/// Where a distribution family looks for what the package installs besides the binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Debian: zsh's vendor completions, the licence as `/usr/share/doc/phipolicy/copyright`.
    Deb,
    /// Fedora/RHEL (and the tarball, for `/usr/local`): zsh's site-functions, the licence under
    /// `/usr/share/licenses/phipolicy`.
    Rpm,
}

/// The artifacts of one `cargo xtask dist`.
#[derive(Debug)]
pub struct Dist {
    pub dir: PathBuf,
    pub deb: PathBuf,
    pub rpm: PathBuf,
    pub tarball: PathBuf,
    pub image: String,
}

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// `cargo xtask dist`: builds phipolicy, then every artifact into target/dist/.
pub fn dist() -> Result<Dist> {
    let bin = crate::build()?;
    // Measured from here: the build is `cargo xtask build`'s (a no-op after the test suite's).
    let started = Instant::now();
    ensure_tools()?;
    let dist = target_dir().join("dist");
    let work = dist.join("work");
    if dist.exists() {
        std::fs::remove_dir_all(&dist)?;
    }
    std::fs::create_dir_all(&work)?;

    let generated = work.join("generated");
    run(Command::new(&bin).arg("generate").arg(&generated))?;
    let epoch = source_date_epoch();

    let t = Instant::now();
    let deb_root = work.join("deb-root");
    stage(&deb_root, Layout::Deb, &bin, &generated)?;
    let deb = build_deb(&deb_root, &bin, &work, &dist)?;
    eprintln!("xtask: dist: {} in {:.1?}", name(&deb), t.elapsed());

    let t = Instant::now();
    let rpm_root = work.join("rpm-root");
    stage(&rpm_root, Layout::Rpm, &bin, &generated)?;
    let rpm = build_rpm(&rpm_root, &work, &dist)?;
    eprintln!("xtask: dist: {} in {:.1?}", name(&rpm), t.elapsed());

    let t = Instant::now();
    let tarball = build_tarball(&rpm_root, &dist, epoch)?;
    eprintln!("xtask: dist: {} in {:.1?}", name(&tarball), t.elapsed());

    let t = Instant::now();
    let image = build_image(&deb, &work, &dist)?;
    eprintln!("xtask: dist: image {image} in {:.1?}", t.elapsed());

    write_sha256sums(&dist)?;
    std::fs::remove_dir_all(&work)?;
    eprintln!(
        "xtask: dist: target/dist/ written in {:.1?}:",
        started.elapsed()
    );
    let mut names: Vec<String> = std::fs::read_dir(&dist)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        eprintln!("  {n}");
    }
    Ok(Dist {
        dir: dist,
        deb,
        rpm,
        tarball,
        image,
    })
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Installs the Debian packages `dist` and its tests need when a fresh machine lacks them.
fn ensure_tools() -> Result<()> {
    let missing: Vec<&str> = DIST_TOOLS
        .iter()
        .filter(|(tool, _)| !on_path(tool))
        .map(|(_, package)| *package)
        .collect();
    crate::apt_install(&missing)
}

pub(crate) fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join(tool).is_file())
            || ["/usr/sbin", "/sbin"]
                .iter()
                .any(|d| Path::new(d).join(tool).is_file())
    })
}

/// The commit time, so the tarball's timestamps depend on the source, not on when it was built.
fn source_date_epoch() -> u64 {
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(workspace())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(0)
}

/// The commit's date as an RPM changelog wants it (`Sun Nov 29 2026`).
fn changelog_date() -> String {
    Command::new("date")
        .args([
            "-u",
            "-d",
            &format!("@{}", source_date_epoch()),
            "+%a %b %d %Y",
        ])
        .env("LC_ALL", "C")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "Thu Jan 01 1970".into())
}

fn write(path: &Path, contents: impl AsRef<[u8]>, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// gzip -9n: man pages are installed compressed, with no name or time inside (reproducible).
fn gzip(data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("running gzip")?;
    let mut stdin = child.stdin.take().context("gzip stdin")?;
    let input = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("gzip writer panicked"))??;
    if !out.status.success() {
        bail!("gzip failed ({})", out.status);
    }
    Ok(out.stdout)
}

/// The files every package installs, under `root` as if it were `/`.
fn stage(root: &Path, layout: Layout, bin: &Path, generated: &Path) -> Result<()> {
    let ws = workspace();
    let usr = root.join("usr");
    write(&usr.join("bin/phipolicy"), std::fs::read(bin)?, 0o755)?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(generated.join("man"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    for page in pages {
        let target = usr
            .join("share/man/man1")
            .join(format!("{}.gz", name(&page)));
        write(&target, gzip(&std::fs::read(&page)?)?, 0o644)?;
    }
    let completions = generated.join("completions");
    let zsh_dir = match layout {
        Layout::Deb => "share/zsh/vendor-completions",
        Layout::Rpm => "share/zsh/site-functions",
    };
    for (file, dest) in [
        (
            "phipolicy.bash",
            "share/bash-completion/completions/phipolicy".to_string(),
        ),
        ("_phipolicy", format!("{zsh_dir}/_phipolicy")),
        (
            "phipolicy.fish",
            "share/fish/vendor_completions.d/phipolicy.fish".to_string(),
        ),
    ] {
        write(
            &usr.join(dest),
            std::fs::read(completions.join(file))?,
            0o644,
        )?;
    }
    let doc = usr.join("share/doc/phipolicy");
    write(
        &doc.join("README.md"),
        std::fs::read(ws.join("README.md"))?,
        0o644,
    )?;
    for example in ["params.yaml", "waivers.yaml"] {
        write(
            &doc.join("examples").join(example),
            std::fs::read(ws.join("examples").join(example))?,
            0o644,
        )?;
    }
    let licence = std::fs::read_to_string(ws.join("LICENSE")).context("reading LICENSE")?;
    match layout {
        Layout::Deb => write(&doc.join("copyright"), debian_copyright(&licence), 0o644)?,
        Layout::Rpm => write(
            &usr.join("share/licenses/phipolicy/LICENSE"),
            licence,
            0o644,
        )?,
    }
    Ok(())
}

/// `/usr/share/doc/phipolicy/copyright` in Debian's machine-readable format, with the licence's
/// full text.
fn debian_copyright(licence: &str) -> String {
    let mut s = String::from(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: phipolicy\n\n\
         Files: *\n\
         Copyright: the phipolicy contributors\n\
         License: Apache-2.0\n\n\
         License: Apache-2.0\n",
    );
    for line in licence.trim_matches('\n').lines() {
        if line.trim().is_empty() {
            s.push_str(" .\n");
        } else {
            s.push(' ');
            s.push_str(line.trim_end());
            s.push('\n');
        }
    }
    s
}

/// Every regular file under `root`, relative, sorted.
fn files_under(root: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root)?.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn capture(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {}", crate::show(cmd)))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            crate::show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `Depends` line of the binary: what `dpkg-shlibdeps` finds it links.
fn shlib_depends(bin: &Path, work: &Path) -> Result<String> {
    let dir = work.join("shlibdeps");
    write(
        &dir.join("debian/control"),
        "Source: phipolicy\n\nPackage: phipolicy\nArchitecture: any\n",
        0o644,
    )?;
    let out = capture(
        Command::new("dpkg-shlibdeps")
            .arg("-O")
            .arg(format!("-e{}", bin.display()))
            .current_dir(&dir),
    )?;
    out.lines()
        .find_map(|l| l.strip_prefix("shlibs:Depends="))
        .map(str::to_string)
        .context("dpkg-shlibdeps printed no shlibs:Depends")
}

fn build_deb(root: &Path, bin: &Path, work: &Path, dist: &Path) -> Result<PathBuf> {
    let arch = capture(Command::new("dpkg").arg("--print-architecture"))?
        .trim()
        .to_string();
    let depends = shlib_depends(bin, work)?;
    let files = files_under(root)?;
    let mut md5sums = String::new();
    let mut size = 0u64;
    for f in &files {
        let sum = capture(Command::new("md5sum").arg(root.join(f)))?;
        let hash = sum.split_whitespace().next().unwrap_or_default();
        md5sums.push_str(&format!("{hash}  {}\n", f.display()));
        size += std::fs::metadata(root.join(f))?.len();
    }
    let version = format!("{}-{PACKAGE_RELEASE}", version());
    let mut control = format!(
        "Package: phipolicy\nVersion: {version}\nArchitecture: {arch}\nMaintainer: {MAINTAINER}\n\
         Installed-Size: {}\nDepends: {depends}\nSection: admin\nPriority: optional\n\
         Homepage: {}\nDescription: {SUMMARY}\n",
        size.div_ceil(1024),
        env!("CARGO_PKG_REPOSITORY"),
    );
    for (i, paragraph) in DESCRIPTION.iter().enumerate() {
        if i > 0 {
            control.push_str(" .\n");
        }
        for line in wrap(paragraph, 78) {
            control.push_str(&format!(" {line}\n"));
        }
    }
    let debian = root.join("DEBIAN");
    write(&debian.join("control"), control, 0o644)?;
    write(&debian.join("md5sums"), md5sums, 0o644)?;
    let deb = dist.join(format!("phipolicy_{version}_{arch}.deb"));
    // gzip: every dpkg reads it, and xz took two minutes for the 50 MB binary on two busy cores
    // (gzip -9: 11 s).
    run(Command::new("dpkg-deb")
        .env("SOURCE_DATE_EPOCH", source_date_epoch().to_string())
        .args(["--root-owner-group", "-Zgzip", "-z9", "--build"])
        .arg(root)
        .arg(&deb))?;
    Ok(deb)
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn build_rpm(root: &Path, work: &Path, dist: &Path) -> Result<PathBuf> {
    let files = files_under(root)?;
    let mut listing = String::new();
    for f in &files {
        let path = Path::new("/").join(f);
        let path = path.display();
        if f.starts_with("usr/share/licenses") {
            listing.push_str(&format!("%license {path}\n"));
        } else if f.starts_with("usr/share/doc") {
            listing.push_str(&format!("%doc {path}\n"));
        } else {
            listing.push_str(&format!("{path}\n"));
        }
    }
    // Directories the package alone owns (the shared ones belong to filesystem, man-db, ...).
    for dir in [
        "/usr/share/doc/phipolicy",
        "/usr/share/doc/phipolicy/examples",
        "/usr/share/licenses/phipolicy",
    ] {
        listing.push_str(&format!("%dir {dir}\n"));
    }
    let description = DESCRIPTION
        .iter()
        .map(|p| wrap(p, 78).join("\n"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let spec = format!(
        "Name: phipolicy\nVersion: {}\nRelease: {PACKAGE_RELEASE}\nSummary: {SUMMARY}\n\
         License: Apache-2.0\nGroup: Applications/System\nURL: {}\nPackager: {MAINTAINER}\n\n\
         %description\n{description}\n\n\
         %install\ncp -a {}/. %{{buildroot}}/\n\n\
         %files\n{listing}\n\
         %changelog\n* {} {MAINTAINER} - {}-{PACKAGE_RELEASE}\n- Built by cargo xtask dist from commit {}.\n",
        version(),
        env!("CARGO_PKG_REPOSITORY"),
        root.display(),
        changelog_date(),
        version(),
        crate::build_commit().unwrap_or_else(|| "unknown".into()),
    );
    let topdir = work.join("rpmbuild");
    let spec_path = topdir.join("SPECS/phipolicy.spec");
    write(&spec_path, spec, 0o644)?;
    let rpms = topdir.join("RPMS");
    run(Command::new("rpmbuild")
        .env("SOURCE_DATE_EPOCH", source_date_epoch().to_string())
        .args(["-bb", "--quiet"])
        // File times and the build time from the commit, as in the .deb and the tarball.
        .args(["--define", "clamp_mtime_to_source_date_epoch 1"])
        .args(["--define", "use_source_date_epoch_as_buildtime 1"])
        .arg("--define")
        .arg(format!("_topdir {}", topdir.display()))
        // The binary is shipped exactly as built (and as the .deb ships it): no stripping, no
        // debuginfo split, no build-id links; man pages are compressed already.
        .args(["--define", "__os_install_post %{nil}"])
        .args(["--define", "debug_package %{nil}"])
        .args(["--define", "_build_id_links none"])
        // gzip, which every rpm reads (and fast, as for the .deb).
        .args(["--define", "_binary_payload w9.gzdio"])
        .arg(&spec_path))?;
    let built = files_under(&rpms)?;
    let [one] = built.as_slice() else {
        bail!("rpmbuild produced {built:?}, expected one package");
    };
    let rpm = dist.join(name(one));
    std::fs::rename(rpms.join(one), &rpm)?;
    Ok(rpm)
}

/// `phipolicy-VERSION-TRIPLE.tar.gz`: one top directory holding the RPM layout relative to
/// `/usr` (bin/, share/man/, share/bash-completion/, ...), to unpack into `/usr/local` with
/// `--strip-components=1`.
fn build_tarball(rpm_root: &Path, dist: &Path, epoch: u64) -> Result<PathBuf> {
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let top = format!("phipolicy-{}-{triple}", version());
    let tarball = dist.join(format!("{top}.tar.gz"));
    run(Command::new("tar")
        .args([
            "--sort=name",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            &format!("--mtime=@{epoch}"),
            "--use-compress-program=gzip -9n",
            "--transform",
            &format!("s,^usr,{top},"),
            "-C",
        ])
        .arg(rpm_root)
        .arg("-cf")
        .arg(&tarball)
        .arg("usr"))?;
    Ok(tarball)
}

/// The container image: the `.deb`'s files over Debian's libc6 and libgcc-s1 (the same archive
/// the build machine's apt uses), a root account, `/tmp`; no shell, no package manager.
fn build_image(deb: &Path, work: &Path, dist: &Path) -> Result<String> {
    crate::ensure_docker()?;
    let debs = target_dir().join("tools/image-debs");
    std::fs::create_dir_all(&debs)?;
    let have = |package: &str| {
        std::fs::read_dir(&debs).is_ok_and(|d| {
            d.filter_map(|e| e.ok()).any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{package}_"))
            })
        })
    };
    let missing: Vec<&str> = IMAGE_RUNTIME_PACKAGES
        .iter()
        .copied()
        .filter(|p| !have(p))
        .collect();
    if !missing.is_empty() {
        crate::apt_download(&missing, &debs)?;
    }
    let rootfs = work.join("image-root");
    std::fs::create_dir_all(&rootfs)?;
    let mut packages: Vec<PathBuf> = std::fs::read_dir(&debs)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "deb"))
        .collect();
    packages.sort();
    packages.push(deb.to_path_buf());
    for p in &packages {
        run(Command::new("dpkg-deb").arg("-x").arg(p).arg(&rootfs))?;
    }
    write(
        &rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/usr/sbin/nologin\n",
        0o644,
    )?;
    write(&rootfs.join("etc/group"), "root:x:0:\n", 0o644)?;
    for (dir, mode) in [("root", 0o700), ("tmp", 0o1777)] {
        use std::os::unix::fs::PermissionsExt;
        let d = rootfs.join(dir);
        std::fs::create_dir_all(&d)?;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode))?;
    }
    let layer = work.join("image-root.tar");
    run(Command::new("tar")
        .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
        .arg(&rootfs)
        .arg("-cf")
        .arg(&layer)
        .arg("."))?;
    let tag = format!("{IMAGE_REPOSITORY}:{}", version());
    let commit = crate::build_commit().unwrap_or_else(|| "unknown".into());
    run(Command::new("docker")
        .arg("import")
        .args(["--change", r#"ENTRYPOINT ["/usr/bin/phipolicy"]"#])
        .args(["--change", r#"CMD ["--help"]"#])
        .args(["--change", "ENV HOME=/root"])
        .args([
            "--change",
            &format!("LABEL org.opencontainers.image.version={}", version()),
        ])
        .args([
            "--change",
            &format!("LABEL org.opencontainers.image.revision={commit}"),
        ])
        .args([
            "--change",
            "LABEL org.opencontainers.image.licenses=Apache-2.0",
        ])
        .args([
            "--change",
            &format!("LABEL org.opencontainers.image.title=phipolicy org.opencontainers.image.description=\"{SUMMARY}\""),
        ])
        .args(["--message", "phipolicy: the .deb over Debian's libc6 and libgcc-s1"])
        .arg(&layer)
        .arg(&tag))?;
    run(Command::new("docker").args(["tag", &tag, &format!("{IMAGE_REPOSITORY}:latest")]))?;
    let archive = dist.join(format!("phipolicy-{}-image.tar", version()));
    run(Command::new("docker")
        .args(["save", "--output"])
        .arg(&archive)
        .arg(&tag))?;
    // `docker save` writes the archive for its owner only; it is published like the packages.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&archive, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(tag)
}

/// `SHA256SUMS` of every artifact, in `sha256sum -c` format.
fn write_sha256sums(dist: &Path) -> Result<()> {
    let mut names: Vec<String> = std::fs::read_dir(dist)?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    names.sort();
    let sums = capture(Command::new("sha256sum").args(&names).current_dir(dist))?;
    write(&dist.join("SHA256SUMS"), sums, 0o644)
}
