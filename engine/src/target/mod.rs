//! What to scan: the `--target` grammar and turning a target into a root the view serves.
//!
//! | target | what is read |
//! |---|---|
//! | `dir:PATH` (= `--root PATH`) | a directory holding a root filesystem (`/`: the live host) |
//! | `oci:PATH` | an OCI image layout directory, or an `oci-archive` tarball of one |
//! | `docker-archive:FILE` | a `docker save` archive |
//! | `docker:IMAGE` | an image of the local engine, streamed as `docker save` streams it |
//! | `container:ID` | a container's filesystem, streamed as `docker export` streams it |
//! | `ssh://[user@]host[:port]` | a remote host's `/`, read over SFTP ([`ssh`], [`sftp`]) |
//!
//! Images and containers are flattened ([`flatten`]) into a private directory (mode 0700, under
//! `$TMPDIR` if set, else `/dev/shm`, else `/tmp`; never the working directory) that is removed when the target is dropped, on error,
//! and on SIGINT/SIGTERM/SIGHUP. Their metadata (owner, mode, kind) is the layers', served by the
//! view from a side table. A `docker:` image is spooled to a file in that directory first (the
//! archive's manifest comes last in the stream); a container's export is flattened as it streams.
//! A remote host is not copied: the view asks its SFTP server for each file as plugins need it.

pub mod docker;
pub mod flatten;
pub mod oci;
pub mod sftp;
pub mod ssh;
pub mod tree;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::fsview::{MetaTable, RootError, TargetView};

/// A target as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSpec {
    Dir(PathBuf),
    Oci(PathBuf),
    DockerArchive(PathBuf),
    Docker(String),
    Container(String),
    Ssh(ssh::SshSpec),
}

impl TargetSpec {
    /// Parses `KIND:VALUE`.
    pub fn parse(text: &str) -> Result<TargetSpec, TargetError> {
        let usage = || {
            TargetError::Usage(format!(
                "--target {text:?}: expected dir:PATH, oci:PATH, oci-archive:FILE, docker-archive:FILE, docker:IMAGE, container:ID or ssh://[USER@]HOST[:PORT]"
            ))
        };
        if let Some(rest) = text.strip_prefix("ssh://") {
            return ssh::SshSpec::parse(rest)
                .map(TargetSpec::Ssh)
                .map_err(|why| TargetError::Usage(format!("--target {text:?}: {why}")));
        }
        let (kind, value) = text.split_once(':').ok_or_else(usage)?;
        if value.is_empty() {
            return Err(usage());
        }
        Ok(match kind {
            "dir" => TargetSpec::Dir(value.into()),
            "oci" | "oci-archive" => TargetSpec::Oci(value.into()),
            "docker-archive" => TargetSpec::DockerArchive(value.into()),
            "docker" | "docker-daemon" => TargetSpec::Docker(value.into()),
            "container" => TargetSpec::Container(value.into()),
            _ => return Err(usage()),
        })
    }

    /// The text it was given as (how documents name the target).
    pub fn display(&self) -> String {
        match self {
            TargetSpec::Dir(p) => p.display().to_string(),
            TargetSpec::Oci(p) => format!("oci:{}", p.display()),
            TargetSpec::DockerArchive(p) => format!("docker-archive:{}", p.display()),
            TargetSpec::Docker(i) => format!("docker:{i}"),
            TargetSpec::Container(c) => format!("container:{c}"),
            TargetSpec::Ssh(s) => s.display(),
        }
    }

    /// The operator's file or directory this target reads, if any (reports are never written
    /// inside a directory target).
    pub fn local_path(&self) -> Option<&Path> {
        match self {
            TargetSpec::Dir(p) | TargetSpec::Oci(p) | TargetSpec::DockerArchive(p) => Some(p),
            TargetSpec::Docker(_) | TargetSpec::Container(_) | TargetSpec::Ssh(_) => None,
        }
    }
}

/// Why a target could not be opened (exit 2 for that target).
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("image: {0}")]
    Image(String),
    #[error("container engine: {0}")]
    Engine(String),
    #[error("{0}")]
    Ssh(String),
    #[error(transparent)]
    Flatten(#[from] flatten::FlattenError),
    #[error(transparent)]
    Root(#[from] RootError),
}

impl TargetError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> TargetError {
        TargetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// An image's identity and configuration, for the result document's target section.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ImageInfo {
    /// The image as named on the command line.
    pub reference: String,
    /// The manifest digest (OCI layouts; the engine's repo digest when it has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The config digest (Docker's image id).
    pub image_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl ImageInfo {
    /// What names the image best: its manifest digest, else its config digest.
    pub fn best_digest(&self) -> &str {
        self.digest.as_deref().unwrap_or(&self.image_id)
    }
}

/// A container's identity.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct ContainerInfo {
    pub id: String,
    pub name: String,
    /// The image it runs (reference and id).
    pub image: String,
    pub image_id: String,
}

/// A target ready to be viewed. Dropping it removes its private directory (and ends an SSH
/// session).
#[derive(Debug)]
pub struct Target {
    pub spec: TargetSpec,
    /// `host`, `rootfs`, `image`, `container` or `ssh`.
    pub kind: &'static str,
    pub image: Option<ImageInfo>,
    pub container: Option<ContainerInfo>,
    /// A remote host: who it is and the host key ssh verified.
    pub ssh: Option<ssh::SshInfo>,
    /// The local directory served (None for a remote host).
    root: Option<PathBuf>,
    meta: Option<Arc<MetaTable>>,
    remote: Option<Arc<ssh::Remote>>,
    _private: Option<PrivateDir>,
}

impl Target {
    /// Opens the view of this target.
    pub fn view(&self) -> Result<TargetView, RootError> {
        if let Some(remote) = &self.remote {
            return Ok(TargetView::remote(remote.clone()));
        }
        let root = self.root.as_deref().expect("a local target has a root directory");
        match &self.meta {
            None => TargetView::open(root),
            Some(meta) => {
                TargetView::open_flattened(root, Path::new(&self.spec.display()), meta.clone())
            }
        }
    }

    /// The local directory the view serves (a flattened image's private directory); None for a
    /// remote host, whose files are nowhere on this machine.
    pub fn root_dir(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// How documents name it: the path of a directory, else the target as given.
    pub fn name(&self) -> String {
        self.spec.display()
    }
}

/// How targets are opened: the flattening caps, how SSH hosts are reached.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub flatten: flatten::Limits,
    pub ssh: ssh::SshOptions,
}

/// Opens (and for images and containers, flattens; for SSH hosts, connects to) a target.
pub fn open(spec: &TargetSpec, options: &OpenOptions) -> Result<Target, TargetError> {
    let limits = options.flatten;
    match spec {
        TargetSpec::Dir(path) => {
            // Fail early with the view's own message (not a directory, no openat2, ...).
            let view = TargetView::open(path)?;
            Ok(Target {
                spec: spec.clone(),
                kind: if view.is_host_root() { "host" } else { "rootfs" },
                image: None,
                container: None,
                ssh: None,
                root: Some(path.clone()),
                meta: None,
                remote: None,
                _private: None,
            })
        }
        TargetSpec::Ssh(host) => {
            let remote = ssh::connect(host, &options.ssh)?;
            Ok(Target {
                spec: spec.clone(),
                kind: "ssh",
                image: None,
                container: None,
                ssh: Some(remote.info.clone()),
                root: None,
                meta: None,
                remote: Some(Arc::new(remote)),
                _private: None,
            })
        }
        TargetSpec::Oci(path) | TargetSpec::DockerArchive(path) => {
            flattened(spec, "image", limits, |_, flattener| {
                let mut info = oci::flatten_image(path, "", flattener)?;
                info.reference = spec.display();
                Ok(Identity::Image(info))
            })
        }
        TargetSpec::Docker(name) => {
            let inspect = docker::inspect_image(name)?;
            flattened(spec, "image", limits, |private, flattener| {
                // The archive's manifest comes last in the stream: spool it, then read it in place.
                let spool = private.path.join("image.tar");
                {
                    let mut stream = docker::save_image(name)?;
                    let mut file =
                        std::fs::File::create(&spool).map_err(|e| TargetError::io(&spool, e))?;
                    std::io::copy(&mut stream, &mut file)
                        .map_err(|e| TargetError::Engine(format!("docker save {name}: {e}")))?;
                }
                let mut info = oci::flatten_image(&spool, name, flattener)?;
                let _ = std::fs::remove_file(&spool);
                let id = inspect["Id"].as_str().unwrap_or_default();
                if !id.is_empty() && id != info.image_id {
                    return Err(TargetError::Engine(format!(
                        "image {name}: the engine says its id is {id}, the saved archive's config is {}",
                        info.image_id
                    )));
                }
                info.reference = name.clone();
                info.repo_digests = strings(&inspect["RepoDigests"]);
                info.repo_tags = strings(&inspect["RepoTags"]);
                if info.digest.is_none() {
                    info.digest = info
                        .repo_digests
                        .first()
                        .and_then(|d| d.rsplit_once('@'))
                        .map(|(_, d)| d.to_string());
                }
                Ok(Identity::Image(info))
            })
        }
        TargetSpec::Container(id) => {
            let inspect = docker::inspect_container(id)?;
            flattened(spec, "container", limits, |_, flattener| {
                let mut stream = docker::export_container(id)?;
                flattener.apply_layer(&format!("export of container {id}"), &mut stream)?;
                Ok(Identity::Container(ContainerInfo {
                    id: inspect["Id"].as_str().unwrap_or(id).to_string(),
                    name: inspect["Name"]
                        .as_str()
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    image: inspect["Config"]["Image"].as_str().unwrap_or_default().to_string(),
                    image_id: inspect["Image"].as_str().unwrap_or_default().to_string(),
                }))
            })
        }
    }
}

/// Who a flattened target is.
enum Identity {
    Image(ImageInfo),
    Container(ContainerInfo),
}

/// A target flattened by `fill` into a fresh private directory (removed if `fill` fails).
fn flattened(
    spec: &TargetSpec,
    kind: &'static str,
    limits: flatten::Limits,
    fill: impl FnOnce(&PrivateDir, &mut flatten::Flattener) -> Result<Identity, TargetError>,
) -> Result<Target, TargetError> {
    let private = PrivateDir::new()?;
    let root = private.root();
    let mut flattener =
        flatten::Flattener::new(&root, limits).map_err(|e| TargetError::io(&root, e))?;
    let identity = fill(&private, &mut flattener)?;
    let (image, container) = match identity {
        Identity::Image(i) => (Some(i), None),
        Identity::Container(c) => (None, Some(c)),
    };
    Ok(Target {
        spec: spec.clone(),
        kind,
        image,
        container,
        ssh: None,
        root: Some(root),
        meta: Some(Arc::new(flattener.finish())),
        remote: None,
        _private: Some(private),
    })
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// Private directories alive in this process (removed by the signal handler).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A private (0700) directory under `$TMPDIR`, removed on drop and on SIGINT/SIGTERM/SIGHUP.
#[derive(Debug)]
pub struct PrivateDir {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl PrivateDir {
    pub fn new() -> Result<PrivateDir, TargetError> {
        install_signal_cleanup();
        let base = private_base();
        let dir = tempfile::Builder::new()
            .prefix("phipolicy-target-")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .tempdir_in(&base)
            .map_err(|e| TargetError::io(&base, e))?;
        let path = dir.path().to_path_buf();
        std::fs::create_dir(path.join("root")).map_err(|e| TargetError::io(&path, e))?;
        LIVE.lock().unwrap_or_else(|p| p.into_inner()).push(path.clone());
        Ok(PrivateDir { path, _dir: dir })
    }

    /// Where the flattened tree goes.
    pub fn root(&self) -> PathBuf {
        self.path.join("root")
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
        live.retain(|p| p != &self.path);
        // TempDir's own drop removes the tree (files are the scanning user's, 0600/0700).
    }
}

/// Where private directories go: `$TMPDIR` when the operator set it, else `/dev/shm` when it is
/// a writable directory (tmpfs: creating an image's ~20,000 small files there took 0.9 s where
/// a disk-backed /tmp under load took 7.6 s; contents over the read cap are never written, so it
/// holds the image's small files only, ~180 MB for Debian 12), else the system's temp directory.
fn private_base() -> PathBuf {
    if std::env::var_os("TMPDIR").is_some_and(|v| !v.is_empty()) {
        return std::env::temp_dir();
    }
    let shm = Path::new("/dev/shm");
    let usable = rustix::fs::access(shm, rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK)
        .is_ok()
        && shm.is_dir();
    if usable { shm.to_path_buf() } else { std::env::temp_dir() }
}

fn install_signal_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            tracing::warn!("cannot install the signal handler that removes flattened images on interrupt");
            return;
        };
        std::thread::Builder::new()
            .name("target-cleanup".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let live = LIVE.lock().unwrap_or_else(|p| p.into_inner());
                    for dir in live.iter() {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    std::process::exit(128 + signal);
                }
            })
            .ok();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        assert_eq!(TargetSpec::parse("dir:/srv/root").unwrap(), TargetSpec::Dir("/srv/root".into()));
        assert_eq!(
            TargetSpec::parse("docker:phipolicy/debian:12").unwrap(),
            TargetSpec::Docker("phipolicy/debian:12".into())
        );
        assert_eq!(
            TargetSpec::parse("oci-archive:img.tar").unwrap(),
            TargetSpec::Oci("img.tar".into())
        );
        for bad in ["/srv/root", "ftp:x", "docker:", "ssh//x"] {
            let e = TargetSpec::parse(bad).unwrap_err().to_string();
            assert!(e.contains("expected dir:PATH"), "{e}");
        }
        let TargetSpec::Ssh(s) = TargetSpec::parse("ssh://root@127.0.0.1:2222").unwrap() else {
            panic!("not an ssh target");
        };
        assert_eq!((s.user.as_deref(), s.host.as_str(), s.port), (Some("root"), "127.0.0.1", Some(2222)));
        let e = TargetSpec::parse("ssh://-oProxyCommand=x").unwrap_err().to_string();
        assert!(e.contains("host"), "{e}");
    }

    #[test]
    fn private_directories_are_0700_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let d = PrivateDir::new().unwrap();
        let path = d.path.clone();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o700);
        assert!(path.starts_with(private_base()));
        drop(d);
        assert!(!path.exists());
    }

    #[test]
    fn a_broken_archive_is_an_image_error() {
        let archive = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(archive.path(), vec![b'x'; 2048]).unwrap();
        let err = open(&TargetSpec::DockerArchive(archive.path().into()), &Default::default()).unwrap_err();
        assert!(matches!(err, TargetError::Image(_)), "{err}");
    }
}
