//! Image sources: an OCI image layout (a directory or an `oci-archive` tarball of one) and a
//! `docker save` archive (Docker's `manifest.json` format; Docker 25+ writes both). Finds the
//! manifest, the config and the ordered layers, checks every blob against its digest while
//! reading it, and feeds the layers to the [`Flattener`](super::flatten::Flattener).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::flatten::Flattener;
use super::{ImageInfo, TargetError};

/// Limits of the image's metadata.
pub mod limits {
    /// Largest manifest, index or config read into memory (real ones are kilobytes).
    pub const MAX_JSON_BYTES: u64 = 8 << 20;
}
use limits::MAX_JSON_BYTES;

/// Where blobs are read from.
enum Store {
    /// A layout directory.
    Dir(PathBuf),
    /// A tar archive (uncompressed, seekable): member name -> (data offset, size).
    Archive {
        file: PathBuf,
        members: HashMap<String, (u64, u64)>,
    },
}

impl Store {
    fn open(path: &Path) -> Result<Store, TargetError> {
        let meta = std::fs::metadata(path).map_err(|e| TargetError::io(path, e))?;
        if meta.is_dir() {
            return Ok(Store::Dir(path.to_path_buf()));
        }
        let mut file = File::open(path).map_err(|e| TargetError::io(path, e))?;
        let mut magic = [0u8; 4];
        let n = file.read(&mut magic).map_err(|e| TargetError::io(path, e))?;
        if n >= 2 && (magic[..2] == [0x1f, 0x8b] || magic[..n.min(4)] == [0x28, 0xb5, 0x2f, 0xfd][..n.min(4)]) {
            return Err(TargetError::Image(format!(
                "{}: a compressed archive; decompress it first (e.g. `gunzip -k`): image archives are read in place, by offset",
                path.display()
            )));
        }
        file.seek(SeekFrom::Start(0))
            .map_err(|e| TargetError::io(path, e))?;
        let mut members = HashMap::new();
        // `docker save` stores a layer that two images share once and links the other name to it.
        let mut aliases: Vec<(String, String)> = Vec::new();
        let mut archive = tar::Archive::new(std::io::BufReader::new(file));
        let entries = archive
            .entries()
            .map_err(|e| TargetError::Image(format!("{}: not a tar archive: {e}", path.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                TargetError::Image(format!("{}: reading the archive: {e}", path.display()))
            })?;
            let name = String::from_utf8_lossy(&entry.path_bytes())
                .trim_start_matches("./")
                .to_string();
            match entry.header().entry_type() {
                tar::EntryType::Regular => {
                    members.insert(name, (entry.raw_file_position(), entry.size()));
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    if let Some(target) = entry.link_name_bytes() {
                        let target = String::from_utf8_lossy(&target).into_owned();
                        let base = match (entry.header().entry_type(), name.rsplit_once('/')) {
                            (tar::EntryType::Symlink, Some((dir, _))) => format!("{dir}/{target}"),
                            _ => target,
                        };
                        aliases.push((name, lexical(&base)));
                    }
                }
                _ => {}
            }
        }
        for (name, target) in aliases {
            if let Some(found) = members.get(&target).copied() {
                members.insert(name, found);
            }
        }
        Ok(Store::Archive {
            file: path.to_path_buf(),
            members,
        })
    }

    fn has(&self, name: &str) -> bool {
        match self {
            Store::Dir(d) => d.join(name).is_file(),
            Store::Archive { members, .. } => members.contains_key(name),
        }
    }

    fn describe(&self) -> String {
        match self {
            Store::Dir(d) | Store::Archive { file: d, .. } => d.display().to_string(),
        }
    }

    /// A member's bytes as a stream, and its size.
    fn open_member(&self, name: &str) -> Result<(Box<dyn Read + Send>, u64), TargetError> {
        if name.split('/').any(|c| c == "..") || name.starts_with('/') {
            return Err(TargetError::Image(format!(
                "{}: refers to {name:?}, outside the image",
                self.describe()
            )));
        }
        match self {
            Store::Dir(d) => {
                let path = d.join(name);
                let file = File::open(&path).map_err(|e| TargetError::io(&path, e))?;
                let size = file.metadata().map_err(|e| TargetError::io(&path, e))?.len();
                Ok((Box::new(file), size))
            }
            Store::Archive { file, members } => {
                let (offset, size) = *members.get(name).ok_or_else(|| {
                    TargetError::Image(format!("{}: has no member {name:?}", file.display()))
                })?;
                let mut f = File::open(file).map_err(|e| TargetError::io(file, e))?;
                f.seek(SeekFrom::Start(offset))
                    .map_err(|e| TargetError::io(file, e))?;
                Ok((Box::new(f.take(size)), size))
            }
        }
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<(T, Vec<u8>), TargetError> {
        let (reader, size) = self.open_member(name)?;
        if size > MAX_JSON_BYTES {
            return Err(TargetError::Image(format!(
                "{}: {name} is {size} bytes (more than {MAX_JSON_BYTES}): not a manifest",
                self.describe()
            )));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        reader
            .take(MAX_JSON_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| TargetError::Image(format!("{}: {name}: {e}", self.describe())))?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            TargetError::Image(format!("{}: {name}: {e}", self.describe()))
        })?;
        Ok((value, bytes))
    }
}

/// `a/b/../c` -> `a/c` (for member names only; `..` above the top is dropped).
fn lexical(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out.join("/")
}

/// Hashes what passes through and checks it against a digest at the end.
struct Verified<R> {
    inner: R,
    hasher: Sha256,
    want: Option<String>,
    what: String,
}

impl<R: Read> Read for Verified<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        if n == 0
            && let Some(want) = self.want.take()
        {
            let got = hex(&self.hasher.clone().finalize());
            if got != want {
                return Err(std::io::Error::other(format!(
                    "{} does not match its digest (sha256:{got}, expected sha256:{want})",
                    self.what
                )));
            }
        }
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// `sha256:<hex>` -> the hex, refusing other algorithms and malformed digests.
fn sha256_hex(digest: &str) -> Result<&str, TargetError> {
    match digest.strip_prefix("sha256:") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(h),
        _ => Err(TargetError::Image(format!(
            "unsupported or malformed digest {digest:?} (sha256 expected)"
        ))),
    }
}

/// Docker's `manifest.json` entry.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// What the image is made of, ready to flatten.
struct Plan {
    info: ImageInfo,
    /// (member name, expected sha256 hex of the member's bytes)
    layers: Vec<(String, Option<String>)>,
}

/// Flattens the image at `path` (layout directory, oci-archive or docker-archive) with `flattener`.
pub fn flatten_image(
    path: &Path,
    reference: &str,
    flattener: &mut Flattener,
) -> Result<ImageInfo, TargetError> {
    let store = Store::open(path)?;
    let plan = if store.has("manifest.json") {
        docker_plan(&store, reference)?
    } else if store.has("index.json") {
        oci_plan(&store, reference)?
    } else {
        return Err(TargetError::Image(format!(
            "{}: neither an OCI image layout (index.json) nor a `docker save` archive (manifest.json)",
            store.describe()
        )));
    };
    for (name, digest) in &plan.layers {
        let (reader, _) = store.open_member(name)?;
        let mut verified = Verified {
            inner: reader,
            hasher: Sha256::new(),
            want: digest.clone(),
            what: format!("layer {name}"),
        };
        flattener.apply_layer(name, &mut verified)?;
        // The tar reader stops at the end-of-archive marker: the rest is hashed too.
        std::io::copy(&mut verified, &mut std::io::sink()).map_err(|e| {
            TargetError::Image(format!("{}: {e}", store.describe()))
        })?;
    }
    Ok(plan.info)
}

fn docker_plan(store: &Store, reference: &str) -> Result<Plan, TargetError> {
    let (manifests, _): (Vec<DockerManifest>, _) = store.read_json("manifest.json")?;
    let m = match manifests.as_slice() {
        [one] => one,
        [] => {
            return Err(TargetError::Image(format!(
                "{}: manifest.json lists no image",
                store.describe()
            )));
        }
        many => many
            .iter()
            .find(|m| m.repo_tags.iter().flatten().any(|t| t == reference))
            .ok_or_else(|| {
                TargetError::Image(format!(
                    "{}: the archive holds {} images ({}); name one of its tags",
                    store.describe(),
                    many.len(),
                    many.iter()
                        .flat_map(|m| m.repo_tags.iter().flatten())
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
    };
    let (config, bytes): (serde_json::Value, _) = store.read_json(&m.config)?;
    let image_id = sha256(&bytes);
    // The config's file is named after its digest (blobs/sha256/<hex> or <hex>.json).
    if !m.config.contains(image_id.trim_start_matches("sha256:")) {
        return Err(TargetError::Image(format!(
            "{}: config {} does not match its name (its digest is {image_id})",
            store.describe(),
            m.config
        )));
    }
    let diff_ids: Vec<String> = config["rootfs"]["diff_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default();
    if diff_ids.len() != m.layers.len() {
        return Err(TargetError::Image(format!(
            "{}: manifest.json lists {} layers, the config {} diff_ids",
            store.describe(),
            m.layers.len(),
            diff_ids.len()
        )));
    }
    let mut layers = Vec::new();
    for (name, diff_id) in m.layers.iter().zip(&diff_ids) {
        // Docker's layers are stored uncompressed: the member's digest is the diff_id (a
        // compressed member, as some tools write, is checked by the tar stream only).
        let want = sha256_hex(diff_id)?.to_string();
        let compressed = {
            let (mut r, _) = store.open_member(name)?;
            let mut magic = [0u8; 4];
            let n = r.read(&mut magic).unwrap_or(0);
            n >= 2 && (magic[..2] == [0x1f, 0x8b] || magic == [0x28, 0xb5, 0x2f, 0xfd])
        };
        layers.push((name.clone(), (!compressed).then_some(want)));
    }
    Ok(Plan {
        info: image_info(&config, image_id, None, m.repo_tags.clone().unwrap_or_default()),
        layers,
    })
}

fn image_info(
    config: &serde_json::Value,
    image_id: String,
    manifest_digest: Option<String>,
    tags: Vec<String>,
) -> ImageInfo {
    let labels: BTreeMap<String, String> = config["config"]["Labels"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let s = |k: &str| config[k].as_str().map(String::from);
    ImageInfo {
        reference: String::new(),
        digest: manifest_digest,
        image_id,
        repo_tags: tags,
        repo_digests: Vec::new(),
        os: s("os"),
        architecture: s("architecture"),
        variant: s("variant"),
        created: s("created"),
        labels,
    }
}

fn oci_plan(store: &Store, reference: &str) -> Result<Plan, TargetError> {
    let (index, _): (oci_spec::image::ImageIndex, _) = store.read_json("index.json")?;
    let mut candidates: Vec<oci_spec::image::Descriptor> = index.manifests().clone();
    // One level of nested index (multi-platform images): pick this machine's platform.
    let mut depth = 0;
    let manifest_desc = loop {
        let wanted_arch = host_arch();
        let chosen: Vec<&oci_spec::image::Descriptor> = if candidates.len() == 1 {
            candidates.iter().collect()
        } else {
            let by_ref: Vec<_> = candidates
                .iter()
                .filter(|d| {
                    d.annotations().as_ref().is_some_and(|a| {
                        a.get("org.opencontainers.image.ref.name").is_some_and(|r| r == reference)
                            || a.get("io.containerd.image.name").is_some_and(|r| r == reference)
                    })
                })
                .collect();
            if !by_ref.is_empty() {
                by_ref
            } else {
                candidates
                    .iter()
                    .filter(|d| {
                        d.platform().as_ref().is_some_and(|p| {
                            p.os().to_string() == "linux" && p.architecture().to_string() == wanted_arch
                        })
                    })
                    .collect()
            }
        };
        let [desc] = chosen.as_slice() else {
            return Err(TargetError::Image(format!(
                "{}: index.json lists {} manifests and none (or several) is linux/{} or named {reference:?}",
                store.describe(),
                candidates.len(),
                host_arch()
            )));
        };
        let desc = (*desc).clone();
        if desc.media_type() == &oci_spec::image::MediaType::ImageIndex && depth == 0 {
            depth += 1;
            let name = blob_name(desc.digest().to_string().as_str())?;
            let (nested, bytes): (oci_spec::image::ImageIndex, _) = store.read_json(&name)?;
            check_digest(&bytes, &desc.digest().to_string(), &name)?;
            candidates = nested.manifests().clone();
            continue;
        }
        break desc;
    };
    let manifest_digest = manifest_desc.digest().to_string();
    let name = blob_name(&manifest_digest)?;
    let (manifest, bytes): (oci_spec::image::ImageManifest, _) = store.read_json(&name)?;
    check_digest(&bytes, &manifest_digest, &name)?;
    let config_digest = manifest.config().digest().to_string();
    let config_name = blob_name(&config_digest)?;
    let (config, bytes): (serde_json::Value, _) = store.read_json(&config_name)?;
    check_digest(&bytes, &config_digest, &config_name)?;
    let mut layers = Vec::new();
    for layer in manifest.layers() {
        let digest = layer.digest().to_string();
        let media = layer.media_type().to_string();
        if media.contains("nondistributable") && !store.has(&blob_name(&digest)?) {
            return Err(TargetError::Image(format!(
                "{}: layer {digest} is non-distributable and not in the layout",
                store.describe()
            )));
        }
        layers.push((blob_name(&digest)?, Some(sha256_hex(&digest)?.to_string())));
    }
    Ok(Plan {
        info: image_info(&config, config_digest, Some(manifest_digest), Vec::new()),
        layers,
    })
}

fn check_digest(bytes: &[u8], digest: &str, name: &str) -> Result<(), TargetError> {
    let got = sha256(bytes);
    if got != digest {
        return Err(TargetError::Image(format!(
            "{name} does not match its digest ({got}, expected {digest})"
        )));
    }
    Ok(())
}

fn blob_name(digest: &str) -> Result<String, TargetError> {
    Ok(format!("blobs/sha256/{}", sha256_hex(digest)?))
}

/// This machine's architecture in OCI's words.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsview::TargetView;
    use std::sync::Arc;

    fn layer(files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, body) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, body.as_bytes()).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn blob(dir: &Path, bytes: &[u8]) -> String {
        let d = sha256(bytes);
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join(blob_name(&d).unwrap()), bytes).unwrap();
        d
    }

    /// An OCI layout with a gzip layer and a zstd layer, written by hand per the spec.
    fn layout(dir: &Path, tamper: bool) {
        let l1 = layer(&[("etc/os-release", "ID=debian\n"), ("etc/motd", "hi\n")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &l1).unwrap();
        let l1 = gz.finish().unwrap();
        let l2 = zstd::encode_all(layer(&[("etc/.wh.motd", "")]).as_slice(), 1).unwrap();
        let d1 = blob(dir, &l1);
        let d2 = blob(dir, &l2);
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux", "created": "2026-11-01T00:00:00Z",
            "config": {"Labels": {"org.opencontainers.image.title": "t"}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(&layer(&[])), sha256(&layer(&[]))]}
        })
        .to_string();
        let dc = blob(dir, config.as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": dc, "size": config.len()},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d1, "size": l1.len()},
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": d2, "size": l2.len()}
            ]
        })
        .to_string();
        let dm = blob(dir, manifest.as_bytes());
        let index = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": dm, "size": manifest.len()}]
        });
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        if tamper {
            let path = dir.join(blob_name(&d2).unwrap());
            let other = zstd::encode_all(layer(&[("etc/x", "")]).as_slice(), 1).unwrap();
            std::fs::write(path, other).unwrap();
        }
    }

    #[test]
    fn oci_layout_gzip_and_zstd_layers_with_a_whiteout() {
        let img = tempfile::tempdir().unwrap();
        layout(img.path(), false);
        let out = tempfile::tempdir().unwrap();
        let mut f = Flattener::new(out.path(), Default::default()).unwrap();
        let info = flatten_image(img.path(), "", &mut f).unwrap();
        assert_eq!(info.os.as_deref(), Some("linux"));
        assert_eq!(info.labels["org.opencontainers.image.title"], "t");
        assert!(info.digest.as_deref().unwrap().starts_with("sha256:"));
        let view = TargetView::open_flattened(out.path(), img.path(), Arc::new(f.finish())).unwrap();
        assert_eq!(view.read_file("/etc/os-release", 100).unwrap().0, b"ID=debian\n");
        assert!(view.stat("/etc/motd", false).is_err());
    }

    #[test]
    fn a_blob_that_does_not_match_its_digest_is_refused() {
        let img = tempfile::tempdir().unwrap();
        layout(img.path(), true);
        let out = tempfile::tempdir().unwrap();
        let mut f = Flattener::new(out.path(), Default::default()).unwrap();
        let err = flatten_image(img.path(), "", &mut f).unwrap_err().to_string();
        assert!(err.contains("does not match its digest"), "{err}");
    }

    #[test]
    fn oci_archive_is_read_in_place() {
        let img = tempfile::tempdir().unwrap();
        layout(img.path(), false);
        let archive = tempfile::NamedTempFile::new().unwrap();
        let mut b = tar::Builder::new(File::create(archive.path()).unwrap());
        b.append_dir_all(".", img.path()).unwrap();
        b.finish().unwrap();
        let out = tempfile::tempdir().unwrap();
        let mut f = Flattener::new(out.path(), Default::default()).unwrap();
        flatten_image(archive.path(), "", &mut f).unwrap();
        let view = TargetView::open_flattened(out.path(), archive.path(), Arc::new(f.finish())).unwrap();
        assert_eq!(view.read_file("/etc/os-release", 100).unwrap().0, b"ID=debian\n");
    }
}
