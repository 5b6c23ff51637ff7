//! Evidence bundles (`eval --evidence FILE.tar.zst`, `evidence verify FILE`): what HIPAA's
//! documentation requirement (164.316(b)(2), kept six years) asks an auditor to be shown, in one
//! dated, hashed and optionally signed file.
//!
//! A bundle is a zstd-compressed tar (frame checksum on) holding:
//! - `results.json`: the result document;
//! - `bundle.json`: what the bundle attests: tool version and the sha256 of the binary, plugins
//!   with their sha256 and verification, the target, parameters, the waivers used, and one entry
//!   per cited file (path, resolved path, sha256, size, mode, owner, mtime, and whether its
//!   content is in the bundle);
//! - `files/<path>`: each cited regular file's content as read through `fsview`, except secret
//!   material (`secrets::is_secret_path`, restic password files and files holding an inline
//!   restic password, as the contingency-backup facts name them): those have metadata and hash
//!   only;
//! - `inputs/params` and `inputs/waivers` when given: the operator's files as used;
//! - `SHA256SUMS`: the sha256 of every other member (`sha256sum` format), and
//!   `SHA256SUMS.minisig` when signed with `--sign-key` (minisign).
//!
//! `verify` recomputes every hash, refuses a member the sums do not list or a listed member that is
//! missing, checks the signature against the given public key, and says what the bundle attests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::fsview::{Kind, TargetView};
use crate::report::Report;
use crate::digest::sha256_hex;

pub mod limits {
    /// A cited file larger than this is recorded by metadata and hash only (fsview's read cap).
    pub const MAX_COPIED_FILE_BYTES: u64 = crate::fsview::limits::MAX_FILE_BYTES;
    /// At most this many cited files are examined: a hostile policy set cannot make a bundle
    /// read the whole target.
    pub const MAX_CITED_FILES: usize = 10_000;
    /// `verify` refuses bundles that decompress to more than this (a zstd bomb).
    pub const MAX_UNPACKED_BYTES: u64 = 4 << 30;
    /// zstd level: a good ratio for text at a small cost.
    pub const ZSTD_LEVEL: i32 = 10;
}

pub const SCHEMA: &str = "phipolicy/evidence/v1";
const SUMS: &str = "SHA256SUMS";
const SIGNATURE: &str = "SHA256SUMS.minisig";

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Output(#[from] crate::report::output::OutputError),
    #[error("signing key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("{path}: not an evidence bundle: {message}")]
    NotABundle { path: PathBuf, message: String },
}

/// One cited file as the bundle records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<String>,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    /// The member holding the content, when it was copied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Why the content is not in the bundle (secret, too large, not a regular file, unreadable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_copied: Option<String>,
}

/// `bundle.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema: String,
    pub created_at: String,
    pub tool: Value,
    pub binary_sha256: Option<String>,
    pub profile: String,
    pub target: Value,
    pub verdict: String,
    pub summary: Value,
    pub plugins: Vec<Value>,
    pub parameters: Value,
    pub inputs: BTreeMap<String, InputFile>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputFile {
    pub source: String,
    pub member: String,
    pub sha256: String,
}

/// What `eval --evidence` needs besides the document.
#[derive(Debug)]
pub struct BundleRequest<'a> {
    pub output: &'a Path,
    pub root: &'a Path,
    /// The target's view when the run has one (an image's flattened tree, whose metadata only
    /// the view knows); otherwise `root` is opened.
    pub view: Option<&'a TargetView>,
    pub params_file: Option<&'a Path>,
    pub waivers_file: Option<&'a Path>,
    pub sign_key: Option<&'a Path>,
    /// The facts of the contingency-backup plugin, when it ran: they name restic password files.
    pub backup_facts: Option<&'a Value>,
}

/// Where the contingency-backup facts name a file holding a restic password: (key, field of the
/// object under it). `password_file` is a located value (`value` is the password file, `path`
/// the script that names it, which holds no secret); the `inline_password(s)` facts locate a
/// `RESTIC_PASSWORD=` assignment, so their `path` holds the password itself.
const SECRET_FACTS: &[(&str, &str)] = &[
    ("password_file", "value"),
    ("password_file_stat", "path"),
    ("inline_password", "path"),
    ("inline_passwords", "path"),
];

/// Paths the backup facts name as holding a restic password (a password file, or a script,
/// crontab or environment file with `RESTIC_PASSWORD=` in it).
pub fn restic_secret_paths(facts: &Value) -> BTreeSet<String> {
    fn field(v: &Value, name: &str, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(s)) = m.get(name)
                    && s.starts_with('/')
                {
                    out.insert(s.clone());
                }
            }
            Value::Array(a) => a.iter().for_each(|v| field(v, name, out)),
            _ => {}
        }
    }
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    match SECRET_FACTS.iter().find(|(key, _)| key == k) {
                        Some((_, name)) => field(v, name, out),
                        None => walk(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(facts, &mut out);
    out
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Regular => "regular",
        Kind::Directory => "directory",
        Kind::Symlink => "symlink",
        Kind::Fifo => "fifo",
        Kind::Socket => "socket",
        Kind::BlockDevice => "block-device",
        Kind::CharDevice => "char-device",
        Kind::Unknown => "unknown",
    }
}

/// Reads each cited file through fsview: (entry, content to copy).
fn cited_files(
    doc: &Report,
    view: &TargetView,
    secrets: &BTreeSet<String>,
) -> Vec<(FileEntry, Option<Vec<u8>>)> {
    let mut paths: BTreeSet<String> = BTreeSet::new();
    for c in &doc.results {
        for e in &c.evidence {
            if let Some(p) = crate::fsview::normalize(&e.path) {
                paths.insert(p);
            }
        }
    }
    let is_secret = |p: &str| crate::secrets::is_secret_path(p) || secrets.contains(p);
    paths
        .into_iter()
        .take(limits::MAX_CITED_FILES)
        .map(|path| {
            let mut entry = FileEntry {
                path: path.clone(),
                resolved: None,
                kind: "missing".into(),
                sha256: None,
                size: None,
                mode: None,
                uid: None,
                gid: None,
                mtime: None,
                member: None,
                not_copied: None,
            };
            let (st, resolved) = match view.stat(&path, true) {
                Ok(s) => s,
                Err(e) => {
                    entry.not_copied = Some(format!("could not be examined: {e}"));
                    return (entry, None);
                }
            };
            entry.kind = kind_name(st.kind).into();
            entry.size = Some(st.size);
            entry.mode = Some(format!("{:04o}", st.mode & 0o7777));
            entry.uid = Some(st.uid);
            entry.gid = Some(st.gid);
            entry.mtime = Some(st.mtime);
            if resolved != path {
                entry.resolved = Some(resolved.clone());
            }
            if st.kind != Kind::Regular {
                entry.not_copied = Some(format!("not a regular file ({})", entry.kind));
                return (entry, None);
            }
            let secret = is_secret(&path) || is_secret(&resolved);
            match view.read_file(&resolved, limits::MAX_COPIED_FILE_BYTES) {
                Ok((bytes, _)) => {
                    entry.sha256 = Some(sha256_hex(&bytes));
                    entry.size = Some(bytes.len() as u64);
                    if secret {
                        entry.not_copied = Some("secret material: metadata and hash only".into());
                        (entry, None)
                    } else {
                        entry.member = Some(format!("files{path}"));
                        (entry, Some(bytes))
                    }
                }
                Err(e) => {
                    entry.not_copied = Some(format!("could not be read: {e}"));
                    (entry, None)
                }
            }
        })
        .collect()
}

fn read_input(path: &Path) -> Result<Vec<u8>, EvidenceError> {
    std::fs::read(path).map_err(|source| EvidenceError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Loads a minisign secret key: unencrypted, or encrypted with the password in
/// `PHIPOLICY_SIGN_PASSWORD`.
pub fn secret_key(path: &Path) -> Result<minisign::SecretKey, EvidenceError> {
    let bad = |message: String| EvidenceError::Key {
        path: path.to_path_buf(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
    let sk_box = minisign::SecretKeyBox::from_string(&text)
        .map_err(|e| bad(format!("not a minisign secret key: {e}")))?;
    let password = std::env::var("PHIPOLICY_SIGN_PASSWORD").ok();
    let key = match password {
        Some(p) => sk_box.into_secret_key(Some(p)),
        None => sk_box.into_unencrypted_secret_key(),
    };
    key.map_err(|e| {
        bad(format!(
            "{e} (an encrypted key needs its password in PHIPOLICY_SIGN_PASSWORD)"
        ))
    })
}

fn tar_member(
    builder: &mut tar::Builder<impl std::io::Write>,
    name: &str,
    bytes: &[u8],
    mtime: u64,
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    builder.append_data(&mut header, name, bytes)
}

/// Writes the bundle for `doc` (the document this run built).
pub fn write(doc: &Report, req: &BundleRequest<'_>) -> Result<(), EvidenceError> {
    let key = req.sign_key.map(secret_key).transpose()?;
    let view = match req.view {
        Some(v) => v.clone(),
        None => TargetView::open(req.root).map_err(|e| EvidenceError::Io {
            path: req.root.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?,
    };
    let secrets = req.backup_facts.map(restic_secret_paths).unwrap_or_default();
    let files = cited_files(doc, &view, &secrets);
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    members.push(("results.json".into(), crate::report::json_value(&doc.raw).into_bytes()));
    let mut inputs = BTreeMap::new();
    for (name, path) in [("params", req.params_file), ("waivers", req.waivers_file)] {
        if let Some(path) = path {
            let bytes = read_input(path)?;
            let member = format!("inputs/{name}");
            inputs.insert(
                name.to_string(),
                InputFile {
                    source: path.display().to_string(),
                    member: member.clone(),
                    sha256: sha256_hex(&bytes),
                },
            );
            members.push((member, bytes));
        }
    }
    let binary_sha256 = std::env::current_exe()
        .and_then(std::fs::read)
        .ok()
        .map(|b| sha256_hex(&b));
    let mut entries = Vec::new();
    for (entry, content) in files {
        if let (Some(member), Some(bytes)) = (&entry.member, content) {
            members.push((member.clone(), bytes));
        }
        entries.push(entry);
    }
    let raw = &doc.raw;
    let manifest = Manifest {
        schema: SCHEMA.into(),
        created_at: doc.evaluated_at.clone(),
        tool: raw["tool"].clone(),
        binary_sha256,
        profile: doc.profile.clone(),
        target: raw["target"].clone(),
        verdict: doc.verdict().into(),
        summary: raw["summary"].clone(),
        plugins: raw["plugins"].as_array().cloned().unwrap_or_default(),
        parameters: raw["parameters"].clone(),
        inputs,
        files: entries,
    };
    members.push(("bundle.json".into(), crate::report::json_value(&manifest).into_bytes()));
    members.sort_by(|a, b| a.0.cmp(&b.0));
    let sums: String = members
        .iter()
        .map(|(name, bytes)| sums_line(&sha256_hex(bytes), name))
        .collect();
    let signature = match &key {
        Some(sk) => {
            let trusted = format!(
                "phipolicy evidence bundle, {} {} at {}",
                doc.profile,
                doc.target_name(),
                doc.evaluated_at
            );
            let sig = minisign::sign(None, sk, sums.as_bytes(), Some(&trusted), None).map_err(|e| {
                EvidenceError::Key {
                    path: req.sign_key.unwrap_or(Path::new("")).to_path_buf(),
                    message: e.to_string(),
                }
            })?;
            Some(sig.into_string())
        }
        None => None,
    };
    let mtime = humantime::parse_rfc3339_weak(&doc.evaluated_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let io = |source| EvidenceError::Io {
        path: req.output.to_path_buf(),
        source,
    };
    let file = crate::report::output::create(req.output, Some(req.root))?;
    let mut encoder = zstd::Encoder::new(file, limits::ZSTD_LEVEL).map_err(io)?;
    encoder.include_checksum(true).map_err(io)?;
    let mut builder = tar::Builder::new(encoder);
    tar_member(&mut builder, SUMS, sums.as_bytes(), mtime).map_err(io)?;
    if let Some(sig) = &signature {
        tar_member(&mut builder, SIGNATURE, sig.as_bytes(), mtime).map_err(io)?;
    }
    for (name, bytes) in &members {
        tar_member(&mut builder, name, bytes, mtime).map_err(io)?;
    }
    let encoder = builder.into_inner().map_err(io)?;
    let file = encoder.finish().map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(())
}

/// One `SHA256SUMS` line as GNU `sha256sum` writes it: a name holding a backslash or a newline
/// is escaped (`\\`, `\n`) and the line starts with a backslash.
fn sums_line(hash: &str, name: &str) -> String {
    if name.contains(['\\', '\n']) {
        let escaped = name.replace('\\', "\\\\").replace('\n', "\\n");
        format!("\\{hash}  {escaped}\n")
    } else {
        format!("{hash}  {name}\n")
    }
}

/// Parses a `SHA256SUMS` line (the inverse of [`sums_line`]).
fn parse_sums_line(line: &str) -> Option<(String, String)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (hash, name) = line.split_once("  ")?;
    if !escaped {
        return Some((hash.into(), name.into()));
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some((hash.into(), out))
}

/// What `evidence verify` found.
#[derive(Debug)]
pub struct Verified {
    pub manifest: Manifest,
    pub members: usize,
    /// `Some(trusted comment)` when a signature was checked against a given key.
    pub signature: SignatureState,
}

#[derive(Debug)]
pub enum SignatureState {
    Unsigned,
    /// Signed; no public key was given to check it with.
    NotChecked,
    Verified { trusted_comment: String },
}

/// A bundle that does not verify: each problem found (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{path} does not verify:\n  - {}", problems.join("\n  - "))]
pub struct VerifyFailure {
    pub path: PathBuf,
    pub problems: Vec<String>,
}

/// Reads and checks a bundle. `Err(Ok(failure))` when it was read and does not verify,
/// `Err(Err(e))` when it could not be read at all.
pub fn verify(
    path: &Path,
    public_key: Option<&Path>,
) -> Result<Verified, Result<VerifyFailure, EvidenceError>> {
    let fail = |problems: Vec<String>| {
        Err(Ok(VerifyFailure {
            path: path.to_path_buf(),
            problems,
        }))
    };
    let key = match public_key {
        Some(k) => {
            let text = std::fs::read_to_string(k).map_err(|source| {
                Err(EvidenceError::Io {
                    path: k.to_path_buf(),
                    source,
                })
            })?;
            Some(
                minisign_verify::PublicKey::decode(&text)
                    .or_else(|_| minisign_verify::PublicKey::from_base64(text.trim()))
                    .map_err(|e| {
                        Err(EvidenceError::Key {
                            path: k.to_path_buf(),
                            message: format!("not a minisign public key: {e}"),
                        })
                    })?,
            )
        }
        None => None,
    };
    let file = std::fs::File::open(path).map_err(|source| {
        Err(EvidenceError::Io {
            path: path.to_path_buf(),
            source,
        })
    })?;
    let unpack = || -> std::io::Result<BTreeMap<String, Vec<u8>>> {
        let decoder = zstd::Decoder::new(file)?;
        let mut archive = tar::Archive::new(decoder.take(limits::MAX_UNPACKED_BYTES));
        let mut out = BTreeMap::new();
        for entry in archive.entries()? {
            let mut entry = entry?;
            if entry.header().entry_type() != tar::EntryType::Regular {
                return Err(std::io::Error::other(format!(
                    "member {} is not a regular file",
                    entry.path()?.display()
                )));
            }
            let name = entry.path()?.to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            if out.insert(name.clone(), bytes).is_some() {
                return Err(std::io::Error::other(format!("member {name} appears twice")));
            }
        }
        Ok(out)
    };
    let members = match unpack() {
        Ok(m) => m,
        Err(e) => return fail(vec![format!("the archive is damaged: {e}")]),
    };
    let Some(sums) = members.get(SUMS) else {
        return fail(vec![format!("no {SUMS} member")]);
    };
    let sums_text = String::from_utf8_lossy(sums).into_owned();
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    // Split on newlines only: `lines()` would also drop a `\r` that ends a member name.
    for (n, line) in sums_text.split('\n').filter(|l| !l.is_empty()).enumerate() {
        let Some((hash, name)) = parse_sums_line(line) else {
            problems.push(format!("{SUMS} line {}: not `SHA256  NAME`", n + 1));
            continue;
        };
        let name = name.as_str();
        listed.insert(name.to_string());
        match members.get(name) {
            None => problems.push(format!("{name}: listed in {SUMS} but missing")),
            Some(bytes) if sha256_hex(bytes) != hash => {
                problems.push(format!("{name}: sha256 differs from {SUMS} (altered)"))
            }
            Some(_) => {}
        }
    }
    for name in members.keys() {
        if name != SUMS && name != SIGNATURE && !listed.contains(name) {
            problems.push(format!("{name}: not listed in {SUMS} (added)"));
        }
    }
    let signature = match (members.get(SIGNATURE), &key) {
        (None, None) => SignatureState::Unsigned,
        (None, Some(_)) => {
            problems.push("a public key was given but the bundle is not signed".into());
            SignatureState::Unsigned
        }
        (Some(_), None) => SignatureState::NotChecked,
        (Some(sig), Some(pk)) => {
            match minisign_verify::Signature::decode(&String::from_utf8_lossy(sig)) {
                Err(e) => {
                    problems.push(format!("{SIGNATURE}: not a minisign signature: {e}"));
                    SignatureState::NotChecked
                }
                Ok(s) => match pk.verify(sums, &s, false) {
                    Ok(()) => SignatureState::Verified {
                        trusted_comment: s.trusted_comment().to_string(),
                    },
                    Err(e) => {
                        problems.push(format!("{SIGNATURE}: the signature does not verify with the given key: {e}"));
                        SignatureState::NotChecked
                    }
                },
            }
        }
    };
    let manifest = match members.get("bundle.json").map(|b| serde_json::from_slice::<Manifest>(b)) {
        Some(Ok(m)) if m.schema == SCHEMA => Some(m),
        Some(Ok(m)) => {
            problems.push(format!("bundle.json: unknown schema `{}`", m.schema));
            None
        }
        Some(Err(e)) => {
            problems.push(format!("bundle.json: {e}"));
            None
        }
        None => {
            problems.push("no bundle.json member".into());
            None
        }
    };
    if let Some(m) = &manifest {
        for f in &m.files {
            if let (Some(member), Some(hash)) = (&f.member, &f.sha256) {
                match members.get(member) {
                    Some(bytes) if &sha256_hex(bytes) == hash => {}
                    Some(_) => problems.push(format!("{member}: content differs from the sha256 bundle.json records for {}", f.path)),
                    None => problems.push(format!("{member}: missing")),
                }
            }
        }
    }
    if !members.contains_key("results.json") {
        problems.push("no results.json member".into());
    }
    match (problems.is_empty(), manifest) {
        (true, Some(manifest)) => Ok(Verified {
            manifest,
            members: members.len(),
            signature,
        }),
        _ => fail(problems),
    }
}

impl Verified {
    /// What the bundle attests, for `evidence verify`'s output (escaped for a terminal).
    pub fn describe(&self) -> String {
        use crate::report::terminal::Clean;
        use std::fmt::Write as _;
        let m = &self.manifest;
        let mut out = String::new();
        let s = |v: &Value| match v {
            Value::Null => "-".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let _ = writeln!(out, "verified: every one of {} members matches {SUMS}", self.members - 1);
        match &self.signature {
            SignatureState::Unsigned => {
                let _ = writeln!(out, "signature: none (the hashes prove integrity, not origin)");
            }
            SignatureState::NotChecked => {
                let _ = writeln!(out, "signature: present, NOT checked (give --public-key to check it)");
            }
            SignatureState::Verified { trusted_comment } => {
                let _ = writeln!(out, "signature: valid, by the given key; trusted comment: {}", Clean(trusted_comment));
            }
        }
        let _ = writeln!(
            out,
            "attests: {} {} run by {} {} at {}",
            Clean(&m.profile),
            Clean(&s(&m.target["root"])),
            Clean(&s(&m.tool["name"])),
            Clean(&s(&m.tool["version"])),
            Clean(&m.created_at)
        );
        if let Some(h) = &m.target.get("hostname") {
            let _ = writeln!(out, "  host: {}", Clean(&s(h)));
        }
        if let Some(b) = &m.binary_sha256 {
            let _ = writeln!(out, "  binary sha256: {b}");
        }
        let _ = writeln!(out, "  verdict: {}", Clean(&m.verdict));
        let _ = writeln!(out, "  summary: {}", Clean(&m.summary.to_string()));
        for p in &m.plugins {
            let _ = writeln!(
                out,
                "  plugin {} {} ({}) sha256 {}",
                Clean(&s(&p["id"])),
                Clean(&s(&p["version"])),
                Clean(&s(&p["verification"])),
                Clean(&s(&p["sha256"]))
            );
        }
        for (name, i) in &m.inputs {
            let _ = writeln!(out, "  {name}: {} sha256 {}", Clean(&i.source), i.sha256);
        }
        let copied = m.files.iter().filter(|f| f.member.is_some()).count();
        let _ = writeln!(
            out,
            "  cited files: {} ({} with content, {} without: secret, missing, not regular or too large)",
            m.files.len(),
            copied,
            m.files.len() - copied
        );
        for f in &m.files {
            let _ = writeln!(
                out,
                "    {} {} {}:{} {} sha256 {}{}",
                Clean(&f.path),
                f.mode.as_deref().unwrap_or("-"),
                f.uid.map(|u| u.to_string()).unwrap_or("-".into()),
                f.gid.map(|g| g.to_string()).unwrap_or("-".into()),
                Clean(&f.kind),
                f.sha256.as_deref().unwrap_or("-"),
                f.not_copied
                    .as_deref()
                    .map(|w| format!(" [{}]", Clean(w)))
                    .unwrap_or_default()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_lines_escape_names_as_sha256sum_does() {
        for name in ["files/etc/a b", "files/etc/x\ny\\z\u{1b}[8m", "results.json"] {
            let line = sums_line("ab12", name);
            assert_eq!(line.matches('\n').count(), 1, "{line:?}");
            assert_eq!(
                parse_sums_line(line.trim_end_matches('\n')),
                Some(("ab12".to_string(), name.to_string()))
            );
        }
        assert_eq!(sums_line("ab12", "x\ny"), "\\ab12  x\\ny\n");
    }

    #[test]
    fn restic_password_files_come_from_the_backup_facts() {
        let facts = serde_json::json!({
            "invocations": [{
                "password_file": {"value": "/etc/restic/password", "path": "/etc/cron.d/backup", "line": 3},
                "password_file_stat": {"path": "/etc/restic/password", "uid": 0},
                "paths": ["/srv/phi"],
            }],
            "inline_passwords": [{"path": "/etc/cron.d/inline", "line": 1, "kind": "crontab"}],
            "jobs": [{"path": "/etc/cron.d/backup"}],
        });
        let paths = restic_secret_paths(&facts);
        assert!(paths.contains("/etc/restic/password"));
        assert!(paths.contains("/etc/cron.d/inline"));
        // The crontab that names the password file holds no secret itself.
        assert!(!paths.contains("/etc/cron.d/backup"));
        assert!(!paths.contains("/srv/phi"));
    }
}
