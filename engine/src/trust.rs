//! Which third-party plugins may run. A component from `--plugins DIR` runs only if its sha256 is
//! pinned in the operator's lock file (`--plugin-lock`), or it carries a valid minisign signature
//! (`NAME.wasm.minisig`) from a trusted key (`--trusted-key`); otherwise it is refused (exit 2)
//! unless `--allow-unverified`, which the result document records. A signature that is present is
//! always checked: a bad one refuses the plugin even with `--allow-unverified`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// How a plugin came to be trusted (shown in the result document).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verification {
    /// Built into the binary.
    Builtin,
    /// Its sha256 is in the operator's lock file.
    Pinned,
    /// A trusted key signed it.
    Signed,
    /// Neither; run because of `--allow-unverified`.
    Unverified,
}

/// Errors of plugin verification (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a lock entry (expected `<sha256 hex>  <file name>`)")]
    LockSyntax { path: PathBuf, line: usize },
    #[error("trusted key {path}: not a minisign public key: {message}")]
    Key { path: PathBuf, message: String },
    #[error(
        "plugin {path}: signature {signature} does not verify with any trusted key ({message}); refusing it"
    )]
    BadSignature {
        path: PathBuf,
        signature: PathBuf,
        message: String,
    },
    #[error(
        "plugin {path} (sha256 {sha256}) is neither pinned in a lock file (--plugin-lock) nor signed by a trusted key (--trusted-key); refusing it (--allow-unverified runs it anyway and records that)"
    )]
    Unverified { path: PathBuf, sha256: String },
}

/// The operator's trust settings.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    pinned: BTreeSet<String>,
    keys: Vec<minisign_verify::PublicKey>,
    pub allow_unverified: bool,
    /// Run third-party plugins whose read patterns cover the whole target (`/**`), which are
    /// refused otherwise (`--allow-broad-reads`).
    pub allow_broad_reads: bool,
}

/// Sizes of the operator's trust files.
pub mod limits {
    /// A lock file of sha256 pins (a line is ~80 bytes).
    pub const MAX_LOCK_BYTES: u64 = 1 << 20;
    /// A minisign public key or signature file (a few hundred bytes).
    pub const MAX_KEY_BYTES: u64 = 4096;
}

/// Reads a trust file as text: a regular file (never through a symlink, never a FIFO) of at
/// most `cap` bytes.
fn read_text(path: &Path, cap: u64) -> Result<String, TrustError> {
    let bytes = crate::operator_file::read(path, cap).map_err(|source| TrustError::Read {
        path: path.into(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| TrustError::Read {
        path: path.into(),
        source: std::io::Error::other("not UTF-8 text"),
    })
}

impl TrustPolicy {
    /// Reads the lock file (sha256sum format) and the trusted minisign public keys.
    pub fn load(
        lock: Option<&Path>,
        keys: &[PathBuf],
        allow_unverified: bool,
    ) -> Result<TrustPolicy, TrustError> {
        let mut pinned = BTreeSet::new();
        if let Some(lock) = lock {
            let text = read_text(lock, limits::MAX_LOCK_BYTES)?;
            for (i, line) in text.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let hash = line
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(TrustError::LockSyntax {
                        path: lock.into(),
                        line: i + 1,
                    });
                }
                pinned.insert(hash);
            }
        }
        let mut parsed = Vec::new();
        for path in keys {
            let text = read_text(path, limits::MAX_KEY_BYTES)?;
            let key = minisign_verify::PublicKey::decode(&text)
                .or_else(|_| minisign_verify::PublicKey::from_base64(text.trim()))
                .map_err(|e| TrustError::Key {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            parsed.push(key);
        }
        Ok(TrustPolicy {
            pinned,
            keys: parsed,
            allow_unverified,
            allow_broad_reads: false,
        })
    }

    /// Decides whether the component `bytes` read from `path` may run.
    pub fn verify(&self, path: &Path, bytes: &[u8]) -> Result<Verification, TrustError> {
        let signature_path = PathBuf::from(format!("{}.minisig", path.display()));
        // Present at all (a symlink or a FIFO too): read it, which refuses anything but a small
        // regular file.
        if std::fs::symlink_metadata(&signature_path).is_ok() {
            let text = read_text(&signature_path, limits::MAX_KEY_BYTES)?;
            let bad = |message: String| TrustError::BadSignature {
                path: path.into(),
                signature: signature_path.clone(),
                message,
            };
            let signature =
                minisign_verify::Signature::decode(&text).map_err(|e| bad(e.to_string()))?;
            if self.keys.is_empty() {
                return Err(bad("no --trusted-key given".into()));
            }
            let mut last = String::new();
            for key in &self.keys {
                match key.verify(bytes, &signature, false) {
                    Ok(()) => return Ok(Verification::Signed),
                    Err(e) => last = e.to_string(),
                }
            }
            return Err(bad(last));
        }
        let sha256 = crate::digest::sha256_hex(bytes);
        if self.pinned.contains(&sha256) {
            return Ok(Verification::Pinned);
        }
        if self.allow_unverified {
            tracing::warn!(plugin = %path.display(), %sha256, "running an unverified plugin (--allow-unverified)");
            return Ok(Verification::Unverified);
        }
        Err(TrustError::Unverified {
            path: path.into(),
            sha256,
        })
    }
}
