//! Where reports are written (`--output`, `--format F=FILE`, `--evidence`): never through a
//! symbolic link, never into the audited target. A report written through a link planted by
//! someone who can write the output directory would overwrite whatever the link names (as root,
//! anything); one written inside a `--root` image would change the evidence it describes.
//!
//! The directory is resolved (its links followed: the operator chose it), checked against the
//! target root, opened once, and the file created relative to that descriptor with
//! `O_NOFOLLOW`: a link in the last component is refused, never followed.

use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

/// Why a report could not be written where asked (bad input: exit 2).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "refusing to write {path}: it is a symbolic link (reports are never written through links; remove it or choose another name)"
    )]
    Symlink { path: PathBuf },
    #[error(
        "refusing to write {path}: it is inside the audited target {root} (a scan never writes into its target; write the report elsewhere)"
    )]
    InsideTarget { path: PathBuf, root: PathBuf },
    #[error("refusing to write {path}: it is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("writing {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks, before a run, that `path` could be written: its directory exists and lies outside the
/// target, and no link or non-regular file holds the name. [`create`] checks again when writing.
pub fn check(path: &Path, target_root: Option<&Path>) -> Result<(), OutputError> {
    let (dir_real, _) = resolve(path, target_root)?;
    let name = path.file_name().expect("resolve checked the name");
    match std::fs::symlink_metadata(dir_real.join(name)) {
        Ok(m) if m.file_type().is_symlink() => Err(OutputError::Symlink {
            path: path.to_path_buf(),
        }),
        Ok(m) if !m.file_type().is_file() => Err(OutputError::NotRegular {
            path: path.to_path_buf(),
        }),
        _ => Ok(()),
    }
}

/// The resolved directory of `path` and its file name, refusing a place inside the target.
fn resolve<'p>(
    path: &'p Path,
    target_root: Option<&Path>,
) -> Result<(PathBuf, &'p std::ffi::OsStr), OutputError> {
    let name = path.file_name().ok_or_else(|| OutputError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir_real = std::fs::canonicalize(&parent).map_err(io(path))?;
    // A root that does not resolve is the scan's to report (naming the root), not ours.
    if let Some((root, root_real)) =
        target_root.and_then(|r| std::fs::canonicalize(r).ok().map(|real| (r, real)))
        && root_real != Path::new("/")
        && dir_real.starts_with(&root_real)
    {
        return Err(OutputError::InsideTarget {
            path: path.to_path_buf(),
            root: root.to_path_buf(),
        });
    }
    Ok((dir_real, name))
}

/// Creates (or truncates) the report file `path`, refusing a symbolic link in its last component
/// and, when `target_root` is given and is not the live host's `/`, any place inside it.
pub fn create(path: &Path, target_root: Option<&Path>) -> Result<File, OutputError> {
    let (dir_real, name) = resolve(path, target_root)?;
    let dir = rustix::fs::open(
        &dir_real,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| io(path)(e.into()))?;
    // Not O_TRUNC yet: a FIFO or device under that name must be refused before it is touched.
    let fd = rustix::fs::openat(
        &dir,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| {
        if e == rustix::io::Errno::LOOP {
            OutputError::Symlink {
                path: path.to_path_buf(),
            }
        } else {
            io(path)(e.into())
        }
    })?;
    let st = rustix::fs::fstat(&fd).map_err(|e| io(path)(e.into()))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(OutputError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    rustix::fs::ftruncate(&fd, 0).map_err(|e| io(path)(e.into()))?;
    let flags = rustix::fs::fcntl_getfl(&fd).map_err(|e| io(path)(e.into()))?;
    rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK).map_err(|e| io(path)(e.into()))?;
    Ok(File::from(fd))
}

/// Writes `bytes` to `path` as [`create`] allows.
pub fn write(path: &Path, target_root: Option<&Path>, bytes: &[u8]) -> Result<(), OutputError> {
    use std::io::Write;
    let mut f = create(path, target_root)?;
    f.write_all(bytes).map_err(io(path))?;
    f.flush().map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused_and_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("report.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = write(&link, None, b"{}").unwrap_err();
        assert!(matches!(err, OutputError::Symlink { .. }), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[test]
    fn the_target_root_is_refused_even_through_a_linked_directory() {
        let target = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(target.path().join("tmp")).unwrap();
        let alias = out.path().join("alias");
        std::os::unix::fs::symlink(target.path().join("tmp"), &alias).unwrap();
        for path in [target.path().join("r.json"), alias.join("r.json")] {
            let err = write(&path, Some(target.path()), b"{}").unwrap_err();
            assert!(matches!(err, OutputError::InsideTarget { .. }), "{err}");
        }
        assert!(!target.path().join("tmp/r.json").exists());
        write(&out.path().join("r.json"), Some(target.path()), b"{}").unwrap();
        // The live host `/` contains everything: only an image or tree root is a boundary.
        write(&out.path().join("host.json"), Some(Path::new("/")), b"{}").unwrap();
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = write(&fifo, None, b"{}").unwrap_err();
        assert!(matches!(err, OutputError::NotRegular { .. } | OutputError::Io { .. }), "{err}");
    }
}
