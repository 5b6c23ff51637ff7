//! Image archives built entry by entry (`docker save` format) and tree listings, for the
//! differential tests of phipolicy's layer flattener against Docker's own layer applier.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// One tar entry of a layer.
#[derive(Debug, Clone)]
pub enum Entry {
    Dir(&'static str, u32),
    File(&'static str, u32, &'static str),
    /// File with owner (uid, gid).
    Owned(&'static str, u32, u32, u32, &'static str),
    Symlink(&'static str, &'static str),
    HardLink(&'static str, &'static str),
    Fifo(&'static str, u32),
}

/// An uncompressed layer tar of `entries`, names written byte for byte (hostile ones too).
pub fn layer(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_ustar();
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_764_000_000);
        let (name, body): (&str, &[u8]) = match e {
            Entry::Dir(p, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                (p, b"")
            }
            Entry::File(p, mode, body) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                (p, body.as_bytes())
            }
            Entry::Owned(p, mode, uid, gid, body) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_uid((*uid).into());
                h.set_gid((*gid).into());
                (p, body.as_bytes())
            }
            Entry::Symlink(p, target) | Entry::HardLink(p, target) => {
                h.set_entry_type(if matches!(e, Entry::Symlink(..)) {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                h.set_mode(0o777);
                let link = &mut h.as_old_mut().linkname;
                link.fill(0);
                link[..target.len()].copy_from_slice(target.as_bytes());
                (p, b"")
            }
            Entry::Fifo(p, mode) => {
                h.set_entry_type(tar::EntryType::Fifo);
                h.set_mode(*mode);
                (p, b"")
            }
        };
        h.set_size(body.len() as u64);
        let field = &mut h.as_old_mut().name;
        field.fill(0);
        field[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        b.append(&h, body).expect("in-memory tar");
    }
    b.into_inner().expect("in-memory tar")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a `docker save` archive of `layers` tagged `tag` to `path` (what `docker load` reads).
pub fn write_docker_archive(path: &Path, tag: &str, layers: &[Vec<u8>]) -> Result<()> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha256_hex(l)))
        .collect();
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-11-28T12:00:00Z",
        "config": {"Cmd": ["/nonexistent"], "Labels": {"org.opencontainers.image.title": "phipolicy layer test"}},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": layers.iter().map(|_| serde_json::json!({"created_by": "phipolicy harness"})).collect::<Vec<_>>(),
    })
    .to_string();
    let config_name = format!("{}.json", sha256_hex(config.as_bytes()));
    let layer_names: Vec<String> = layers
        .iter()
        .map(|l| format!("{}/layer.tar", sha256_hex(l)))
        .collect();
    let manifest = serde_json::json!([{
        "Config": config_name, "RepoTags": [tag], "Layers": layer_names,
    }])
    .to_string();
    let mut b = tar::Builder::new(std::fs::File::create(path)?);
    let mut add = |name: &str, bytes: &[u8]| -> Result<()> {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, name, bytes)?;
        Ok(())
    };
    for (name, l) in layer_names.iter().zip(layers) {
        add(name, l)?;
    }
    add(&config_name, config.as_bytes())?;
    add("manifest.json", manifest.as_bytes())?;
    b.finish()?;
    Ok(())
}

/// The hash of a file over the view's read cap: the view never serves its contents (nor does
/// the flattener write them), so only its size is compared.
const OVER_CAP: &str = "over the read cap";

/// The view's read cap (`engine::fsview::limits::MAX_FILE_BYTES`).
const MAX_FILE_BYTES: u64 = 16 << 20;

fn content_hash(body: &[u8]) -> String {
    if body.len() as u64 > MAX_FILE_BYTES {
        OVER_CAP.to_string()
    } else {
        sha256_hex(body)
    }
}

/// What the differential test compares for every path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    pub kind: &'static str,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub link: String,
    pub sha256: String,
}

/// Path (relative, no leading `/`) -> node.
pub type Listing = BTreeMap<String, Node>;

/// Names the container runtime adds to every export (mount points and injected files), which an
/// image does not have: left out of both sides.
pub fn runtime_added(path: &str) -> bool {
    matches!(
        path,
        ".dockerenv" | "etc/hostname" | "etc/hosts" | "etc/resolv.conf" | "etc/mtab" | "dev" | "proc" | "sys"
    ) || path.starts_with("dev/")
        || path.starts_with("proc/")
        || path.starts_with("sys/")
}

/// The listing of a `docker export` stream (hard links take their target's node).
pub fn listing_of_export(reader: impl Read) -> Result<Listing> {
    let mut out = Listing::new();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        if path.is_empty() || runtime_added(&path) {
            continue;
        }
        let h = entry.header().clone();
        let mut node = Node {
            kind: "",
            mode: h.mode()? & 0o7777,
            uid: h.uid()? as u32,
            gid: h.gid()? as u32,
            size: 0,
            link: String::new(),
            sha256: String::new(),
        };
        let link = || {
            entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default()
        };
        match h.entry_type() {
            tar::EntryType::Directory => node.kind = "dir",
            tar::EntryType::Symlink => {
                node.kind = "symlink";
                node.link = link();
                node.mode = 0o777;
            }
            tar::EntryType::Link => {
                let target = link().trim_start_matches("./").trim_start_matches('/').to_string();
                let Some(t) = out.get(&target).cloned() else {
                    bail!("export: hard link {path} to {target}, which came before it nowhere");
                };
                out.insert(path, t);
                continue;
            }
            tar::EntryType::Regular => {
                node.kind = "file";
                let mut body = Vec::new();
                entry.read_to_end(&mut body)?;
                node.size = body.len() as u64;
                node.sha256 = content_hash(&body);
            }
            tar::EntryType::Fifo => node.kind = "fifo",
            tar::EntryType::Char => node.kind = "char",
            tar::EntryType::Block => node.kind = "block",
            other => bail!("export: {path} has the unexpected type {other:?}"),
        }
        out.insert(path, node);
    }
    Ok(out)
}

/// The listing of what phipolicy's view serves for `target` (`phipolicy tree --target`).
pub fn listing_of_target(bin: &Path, target: &str) -> Result<Listing> {
    let out = std::process::Command::new(bin)
        .args(["tree", "--target", target])
        .output()
        .with_context(|| format!("phipolicy tree --target {target}"))?;
    if !out.status.success() {
        bail!(
            "phipolicy tree --target {target} exited {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).context("phipolicy tree's JSON")?;
    let mut listing = Listing::new();
    for e in doc["entries"].as_array().context("no entries")? {
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
        let n = |k: &str| e[k].as_u64().unwrap_or_default();
        let path = s("path");
        if runtime_added(&path) {
            continue;
        }
        let kind = match s("kind").as_str() {
            "dir" => "dir",
            "file" => "file",
            "symlink" => "symlink",
            "fifo" => "fifo",
            "char" => "char",
            "block" => "block",
            other => bail!("{path}: unexpected kind {other}"),
        };
        let mut node = Node {
            kind,
            mode: n("mode") as u32,
            uid: n("uid") as u32,
            gid: n("gid") as u32,
            size: n("size"),
            link: s("link"),
            sha256: s("sha256"),
        };
        if kind == "symlink" {
            node.mode = 0o777;
        }
        if kind == "file" && node.sha256.is_empty() {
            node.sha256 = OVER_CAP.to_string();
        }
        listing.insert(path, node);
    }
    Ok(listing)
}

/// Every difference between two listings, in words.
pub fn differences(ours: &Listing, docker: &Listing) -> Vec<String> {
    let mut out = Vec::new();
    for (path, a) in ours {
        match docker.get(path) {
            None => out.push(format!("/{path}: flattened has it ({}), the export does not", a.kind)),
            Some(b) if a != b => out.push(format!("/{path}: flattened {a:?}, export {b:?}")),
            Some(_) => {}
        }
    }
    for (path, b) in docker {
        if !ours.contains_key(path) {
            out.push(format!("/{path}: the export has it ({}), flattened does not", b.kind));
        }
    }
    out
}
