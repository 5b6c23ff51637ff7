//! `phipolicy plugin`: what a plugin author (or an operator vetting one) needs around a component
//! file: `inspect` (its ABI version, manifest, imports, sha256, signature), `sign` (a minisign
//! signature beside it, the one `--trusted-key` accepts) and `verify` (that signature, checked as
//! `eval --plugins` checks it).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::eval::limits::MAX_PLUGIN_BYTES;
use crate::runner::Runner;
use crate::runner::manifest::{PluginManifest, is_builtin_id};

/// The WIT package of the plugin ABI, as a component imports it (`...@VERSION`).
const ABI_PACKAGE: &str = "phipolicy:plugin/";

/// What `plugin inspect` reports about a component.
#[derive(Debug, Serialize)]
pub struct Inspection {
    pub file: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// The plugin ABI version the component was built against (from its imports).
    pub abi: Option<String>,
    /// The ABI version this phipolicy speaks.
    pub engine_abi: &'static str,
    /// The manifest the component returns; `null` when it could not be read (see `error`).
    pub manifest: Option<PluginManifest>,
    /// Whether its id is a built-in plugin's (it would replace that plugin in a scan).
    pub replaces_builtin: bool,
    /// The facts schema the engine validates its output against.
    pub facts_schema: String,
    /// Everything it imports (WASI interfaces and the plugin ABI).
    pub imports: Vec<String>,
    /// `FILE.minisig` beside it, if present.
    pub signature: Option<PathBuf>,
    /// Why the component cannot be loaded by this phipolicy, if it cannot.
    pub error: Option<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    crate::operator_file::read(path, MAX_PLUGIN_BYTES).map_err(|source| Error::Io {
        context: format!("plugin {}", path.display()),
        source,
    })
}

fn signature_path(path: &Path) -> PathBuf {
    PathBuf::from(format!("{}.minisig", path.display()))
}

/// Inspects the component at `path`. A component this phipolicy cannot load (another ABI, a
/// manifest it refuses) is still described, with `error` saying why.
pub fn inspect(path: &Path) -> Result<Inspection, Error> {
    let bytes = read(path)?;
    let runner = Runner::new()?.with_artifact_cache(None);
    let imports = runner.component_imports(path, &bytes)?;
    let abi = imports.iter().find_map(|name| {
        name.strip_prefix(ABI_PACKAGE)
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, version)| version.to_string())
    });
    let (manifest, error) = match runner.load_file(path, &bytes) {
        Ok(handle) => (Some(handle.manifest), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let replaces_builtin = manifest.as_ref().is_some_and(|m| is_builtin_id(&m.id));
    let facts_schema = match &manifest {
        Some(m) if crate::policy::facts_schema::plugins_with_schema().contains(&m.id.as_str()) => {
            format!(
                "{} (the built-in plugin's: its facts are validated against it)",
                crate::policy::facts_schema::schema_file(&m.id)
            )
        }
        _ => "none: its facts are checked against the top-level types its policies' metadata.facts name".into(),
    };
    let signature = Some(signature_path(path)).filter(|s| std::fs::symlink_metadata(s).is_ok());
    Ok(Inspection {
        file: path.to_path_buf(),
        size: bytes.len() as u64,
        sha256: crate::digest::sha256_hex(&bytes),
        abi,
        engine_abi: crate::runner::ABI_VERSION,
        manifest,
        replaces_builtin,
        facts_schema,
        imports,
        signature,
        error,
    })
}

impl Inspection {
    /// The inspection as text for a terminal (control characters escaped by the caller).
    pub fn describe(&self) -> String {
        let mut out = format!(
            "file:       {}\nsize:       {} bytes\nsha256:     {}\nABI:        {} (this phipolicy: {})\n",
            self.file.display(),
            self.size,
            self.sha256,
            self.abi.as_deref().unwrap_or("none: it does not import the plugin ABI"),
            self.engine_abi
        );
        match &self.manifest {
            Some(m) => {
                out += &format!(
                    "id:         {}{}\nversion:    {}\nsafeguard:  {} (CFR {})\ncontrols:   {}\nreads:\n",
                    m.id,
                    if self.replaces_builtin { " (replaces the built-in plugin of that id)" } else { "" },
                    m.version,
                    m.safeguard,
                    m.cfr.join(", "),
                    m.controls.join(", "),
                );
                for r in &m.reads {
                    out += &format!("  {r}\n");
                }
            }
            None => out += "manifest:   not readable\n",
        }
        out += &format!("facts:      {}\nimports:\n", self.facts_schema);
        for i in &self.imports {
            out += &format!("  {i}\n");
        }
        out += &format!(
            "signature:  {}\n",
            self.signature.as_ref().map_or("none (sign it with `phipolicy plugin sign`)".into(), |s| s
                .display()
                .to_string())
        );
        if let Some(e) = &self.error {
            out += &format!("error:      {e}\n");
        }
        out
    }
}

/// Writes `FILE.minisig`, a minisign signature of the component made with the secret key at
/// `key` (encrypted keys read their password from `PHIPOLICY_SIGN_PASSWORD`), and returns its path.
pub fn sign(path: &Path, key: &Path) -> Result<PathBuf, Error> {
    let bytes = read(path)?;
    let sk = crate::evidence::secret_key(key).map_err(|e| Error::Usage(e.to_string()))?;
    let name = path.file_name().map_or_else(|| "plugin".into(), |n| n.to_string_lossy().into_owned());
    let comment = format!("phipolicy plugin {name} sha256:{}", crate::digest::sha256_hex(&bytes));
    let signature = minisign::sign(None, &sk, std::io::Cursor::new(&bytes), Some(&comment), None)
        .map_err(|e| Error::Usage(format!("signing {}: {e}", path.display())))?;
    let out = signature_path(path);
    crate::report::output::write(&out, None, signature.into_string().as_bytes())
        .map_err(|e| Error::Usage(e.to_string()))?;
    Ok(out)
}

/// Checks `FILE.minisig` against the trusted public keys, as `eval --plugins --trusted-key` does:
/// `Ok(Err(reason))` when the signature is missing or does not verify.
pub fn verify(path: &Path, keys: &[PathBuf]) -> Result<Result<(), String>, Error> {
    let bytes = read(path)?;
    if std::fs::symlink_metadata(signature_path(path)).is_err() {
        return Ok(Err(format!(
            "{}: no signature ({} does not exist)",
            path.display(),
            signature_path(path).display()
        )));
    }
    let policy = crate::trust::TrustPolicy::load(None, keys, false)?;
    Ok(match policy.verify(path, &bytes) {
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    })
}
