//! The encryption-at-rest safeguard (45 CFR 164.312(a)(2)(iv)): for each PHI path, where it is
//! stored (its mount on a live host, its fstab entry in an image) and what encrypts it (dm-crypt/LUKS,
//! fscrypt), plus `/etc/crypttab` and the ownership and mode of the key files it names.
//!
//! Facts: [`Facts`]: the mount table's state, the device-mapper devices, `/etc/crypttab` (each
//! entry with its key file's [`KeyStat`]), `/etc/fstab`, and one [`PhiPath`] per `phi_paths` entry
//! (schema: `policies/hipaa/schemas/encryption-at-rest.json`). The policy `crypto.at-rest` judges
//! them.

use phipolicy_parsers::os_release::OsRelease;
use phipolicy_parsers::storage::{
    CrypttabEntry, DmDevice, FscryptMetadata, FstabEntry, Mount, MountTable, dm_for_source,
    fstab_mount_of, load_dm_devices, load_fscrypt, luks_below, parse_crypttab, parse_fstab,
};
use phipolicy_sdk::facts::ParseIssue;
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// Whether the target is a live host (it has `/proc/self/mountinfo`).
    pub live: bool,
    /// `/proc/self/mountinfo` (its mounts are in [`PhiPath::mount`]).
    pub mountinfo: MountinfoFacts,
    /// The device-mapper devices sysfs lists.
    pub dm_devices: Vec<DmDevice>,
    /// `/etc/crypttab`, each entry with its key file's state.
    pub crypttab: TableFacts<CrypttabFacts>,
    /// `/etc/fstab`.
    pub fstab: TableFacts<FstabEntry>,
    /// One per `phi_paths` entry, in parameter order.
    pub phi_paths: Vec<PhiPath>,
}

/// Whether the mount table was found and read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MountinfoFacts {
    /// `/proc/self/mountinfo`.
    pub path: String,
    /// Whether it exists (true also when it exists but could not be read).
    pub found: bool,
    /// Why it could not be read; `null` when it was read or does not exist.
    pub error: Option<String>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// A configuration table (`/etc/crypttab`, `/etc/fstab`) and its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TableFacts<T> {
    /// The file.
    pub path: String,
    /// Whether it was read (false when it does not exist or could not be read).
    pub found: bool,
    /// Why it could not be read; `null` when it was read or does not exist.
    pub error: Option<String>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
    /// Its entries, in file order.
    pub entries: Vec<T>,
}

impl<T> TableFacts<T> {
    /// A table that was not read.
    fn not_read(path: &str, error: Option<String>) -> Self {
        TableFacts {
            path: path.to_string(),
            found: false,
            error,
            issues: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The same table with each entry replaced by `f(entry)`.
    fn map_entries<U>(self, f: impl FnMut(T) -> U) -> TableFacts<U> {
        TableFacts {
            path: self.path,
            found: self.found,
            error: self.error,
            issues: self.issues,
            entries: self.entries.into_iter().map(f).collect(),
        }
    }
}

/// A crypttab entry with the state of its key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CrypttabFacts {
    /// The entry as parsed.
    #[serde(flatten)]
    pub entry: CrypttabEntry,
    /// The key file's `stat`; `null` when the entry names none.
    pub key_stat: Option<KeyStat>,
}

/// What `stat` says about a crypttab key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct KeyStat {
    /// Whether it exists.
    pub exists: bool,
    /// What it is; `null` when it does not exist.
    pub kind: Option<FileKind>,
    /// Owner; `null` when it does not exist.
    pub uid: Option<u32>,
    /// Group; `null` when it does not exist.
    pub gid: Option<u32>,
    /// `st_mode & 0o7777` as four octal digits; `null` when it does not exist.
    pub mode: Option<String>,
    /// "does not exist" or why it could not be examined; `null` when it exists.
    pub error: Option<String>,
}

/// A device-mapper device as a PHI path's storage names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DmRef {
    /// `dm-N`.
    pub kernel_name: String,
    /// `/dev/mapper/` name.
    pub name: Option<String>,
    /// `CRYPT-LUKS2-...` for LUKS, `LVM-...` for a logical volume.
    pub uuid: Option<String>,
}

impl From<&DmDevice> for DmRef {
    fn from(d: &DmDevice) -> Self {
        DmRef {
            kernel_name: d.kernel_name.clone(),
            name: d.name.clone(),
            uuid: d.uuid.clone(),
        }
    }
}

/// One PHI path: what it is, where it is stored and what encrypts it. The storage fields are
/// `null` when they do not apply or were not found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PhiPath {
    /// The `phi_paths` entry.
    pub path: String,
    /// Whether it exists.
    pub exists: bool,
    /// What it is; `null` when it does not exist.
    pub kind: Option<FileKind>,
    /// Why it could not be examined; `null` when nothing went wrong.
    pub error: Option<String>,
    /// The mount holding it (live hosts).
    pub mount: Option<Mount>,
    /// The device-mapper device of that mount.
    pub dm: Option<DmRef>,
    /// The LUKS device below `dm` (or `dm` itself).
    pub luks: Option<DmRef>,
    /// fscrypt metadata of the filesystem holding it (live hosts, existing paths).
    pub fscrypt: Option<FscryptMetadata>,
    /// The fstab entry that mounts it.
    pub fstab: Option<FstabEntry>,
    /// The crypttab entry that opens its device (the LUKS device's on a live host, the fstab
    /// source's in an image).
    pub crypttab: Option<CrypttabEntry>,
}

const MOUNTINFO: &str = "/proc/self/mountinfo";
const CRYPTTAB: &str = "/etc/crypttab";
const FSTAB: &str = "/etc/fstab";
/// The `phi_paths` default of controls.md, used when the engine passes none.
const DEFAULT_PHI_PATH: &str = "/var/data/phi";

/// The encryption-at-rest plugin.
#[derive(Debug)]
pub struct EncryptionAtRest;

impl Plugin for EncryptionAtRest {
    fn manifest() -> Manifest {
        Manifest {
            id: "encryption-at-rest",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "encryption-at-rest",
            cfr: &["164.312(a)(2)(iv)"],
            controls: &["crypto.at-rest"],
            reads: &[
                "/etc/os-release",
                "/usr/lib/os-release",
                // On a live host /proc/self is a link to /proc/<pid>.
                "/proc/self/mountinfo",
                "/proc/*/mountinfo",
                // On a live host /sys/block/dm-N links into /sys/devices/virtual/block.
                "/sys/block/**",
                "/sys/devices/virtual/block/**",
                "/etc/crypttab",
                "/etc/fstab",
                "{phi_paths}",
                "{phi_paths}/**",
                // fscrypt metadata at the root of whichever filesystem holds a PHI path.
                "/**/.fscrypt/**",
                // Where crypttab key files are kept by convention (cryptsetup docs, Debian's
                // /etc/cryptsetup-keys.d, the hardening guide's /etc/luks-keys and /root/*.key).
                "/etc/keys/**",
                "/etc/luks-keys/**",
                "/etc/cryptsetup-keys.d/**",
                "/root/*.key",
                "/boot/*.key",
                "/dev/urandom",
                "/dev/random",
            ],
        }
    }

    fn collect(target: &dyn Target, params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let mut phi_paths = params.string_list("phi_paths");
        if params.get("phi_paths").is_none() {
            phi_paths.push(DEFAULT_PHI_PATH.to_string());
        }

        let (mountinfo, table) = match target.read_text(MOUNTINFO) {
            Ok(text) => {
                let t = MountTable::parse(MOUNTINFO, &text);
                (mountinfo_facts(true, None, t.issues.clone()), Some(t))
            }
            Err(ReadError::NotFound) => (mountinfo_facts(false, None, Vec::new()), None),
            Err(e) => (mountinfo_facts(true, Some(e.to_string()), Vec::new()), None),
        };
        let live = mountinfo.found;
        let dm_devices = load_dm_devices(target);

        let crypttab = read_table(target, CRYPTTAB, parse_crypttab);
        let fstab = read_table(target, FSTAB, parse_fstab);
        let crypttab_entries = crypttab.entries.clone();
        let fstab_entries = fstab.entries.clone();
        let crypttab = crypttab.map_entries(|entry| CrypttabFacts {
            key_stat: entry.key_file.as_deref().map(|k| key_stat(target, k)),
            entry,
        });

        let phi_paths = phi_paths
            .iter()
            .map(|p| {
                phi_path_facts(
                    target,
                    p,
                    table.as_ref(),
                    &dm_devices,
                    &crypttab_entries,
                    &fstab_entries,
                )
            })
            .collect();

        phipolicy_sdk::facts::to_json(&Facts {
            os,
            live,
            mountinfo,
            dm_devices,
            crypttab,
            fstab,
            phi_paths,
        })
    }
}

fn mountinfo_facts(found: bool, error: Option<String>, issues: Vec<ParseIssue>) -> MountinfoFacts {
    MountinfoFacts {
        path: MOUNTINFO.to_string(),
        found,
        error,
        issues,
    }
}

type TableParser<T> = fn(&str, &str) -> (Vec<T>, Vec<ParseIssue>);

fn read_table<T>(target: &dyn Target, path: &str, parse: TableParser<T>) -> TableFacts<T> {
    match target.read_text(path) {
        Ok(text) => {
            let (entries, issues) = parse(path, &text);
            TableFacts {
                path: path.to_string(),
                found: true,
                error: None,
                issues,
                entries,
            }
        }
        Err(ReadError::NotFound) => TableFacts::not_read(path, None),
        Err(e) => TableFacts::not_read(path, Some(e.to_string())),
    }
}

fn key_stat(target: &dyn Target, path: &str) -> KeyStat {
    let missing = |error: String| KeyStat {
        exists: false,
        kind: None,
        uid: None,
        gid: None,
        mode: None,
        error: Some(error),
    };
    match target.stat(path) {
        Ok(st) => KeyStat {
            exists: true,
            kind: Some(st.kind),
            uid: Some(st.uid),
            gid: Some(st.gid),
            mode: Some(format!("{:04o}", st.mode)),
            error: None,
        },
        Err(ReadError::NotFound) => missing("does not exist".into()),
        Err(e) => missing(e.to_string()),
    }
}

/// The crypttab entry that opens `/dev/mapper/NAME` (or the dm name given).
fn crypttab_for<'a>(crypttab: &'a [CrypttabEntry], mapper: &str) -> Option<&'a CrypttabEntry> {
    let name = mapper.strip_prefix("/dev/mapper/").unwrap_or(mapper);
    crypttab.iter().find(|c| c.name == name)
}

fn phi_path_facts(
    target: &dyn Target,
    path: &str,
    table: Option<&MountTable>,
    dm_devices: &[DmDevice],
    crypttab: &[CrypttabEntry],
    fstab: &[FstabEntry],
) -> PhiPath {
    let mut facts = PhiPath {
        path: path.to_string(),
        exists: false,
        kind: None,
        error: None,
        mount: None,
        dm: None,
        luks: None,
        fscrypt: None,
        fstab: None,
        crypttab: None,
    };
    match target.stat(path) {
        Ok(st) => {
            facts.exists = true;
            facts.kind = Some(st.kind);
        }
        Err(ReadError::NotFound) => {}
        Err(e) => facts.error = Some(e.to_string()),
    }
    if let Some(table) = table
        && let Some(m) = table.mount_of(path)
    {
        facts.mount = Some(m.clone());
        if let Some(dm) = dm_for_source(dm_devices, &m.source, &m.device) {
            facts.dm = Some(dm.into());
            if let Some(l) = luks_below(dm_devices, dm) {
                facts.luks = Some(l.into());
                if let Some(c) = l.name.as_deref().and_then(|n| crypttab_for(crypttab, n)) {
                    facts.crypttab = Some(c.clone());
                }
            }
        }
        if facts.exists
            && let Some(meta) = load_fscrypt(target, &m.mount_point)
        {
            facts.fscrypt = Some(meta);
        }
    }
    if let Some(f) = fstab_mount_of(fstab, path) {
        facts.fstab = Some(f.clone());
        if table.is_none()
            && let Some(c) = crypttab_for(crypttab, &f.source)
        {
            facts.crypttab = Some(c.clone());
        }
    }
    facts
}

phipolicy_sdk::export_plugin!(EncryptionAtRest);

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, TempRoot};
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "encryption-at-rest",
        ));
    }

    fn facts(case: &str) -> Value {
        phipolicy_sdk::testing::fixture_facts::<EncryptionAtRest>(case)
    }

    #[test]
    fn live_luks() {
        let f = facts("atrest-live-luks");
        assert_eq!(f["live"], true);
        let p = &f["phi_paths"][0];
        assert_eq!(p["path"], "/var/data/phi");
        assert_eq!(p["exists"], true);
        assert_eq!(p["mount"]["mount_point"], "/var/data");
        assert_eq!(p["dm"]["kernel_name"], "dm-1");
        assert_eq!(p["luks"]["name"], "phi_crypt");
        assert_eq!(p["crypttab"]["line"], 3);
    }

    #[test]
    fn live_unencrypted() {
        let f = facts("atrest-live-unencrypted");
        let p = &f["phi_paths"][0];
        assert_eq!(p["mount"]["source"], "/dev/sdb1");
        assert!(p["dm"].is_null() && p["luks"].is_null() && p["fscrypt"].is_null());
    }

    #[test]
    fn live_fscrypt() {
        let f = facts("atrest-live-fscrypt");
        let p = &f["phi_paths"][0];
        assert_eq!(p["fscrypt"]["path"], "/var/data/.fscrypt");
        assert_eq!(p["fscrypt"]["policies"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn image_modes() {
        let plain = facts("atrest-image");
        assert_eq!(plain["live"], false);
        assert!(plain["phi_paths"][0]["mount"].is_null());
        let configured = facts("atrest-image-crypttab");
        let p = &configured["phi_paths"][0];
        assert_eq!(p["fstab"]["source"], "/dev/mapper/phi_crypt");
        assert_eq!(p["crypttab"]["name"], "phi_crypt");
    }

    #[test]
    fn missing_phi_path_and_key_file_mode() {
        let f = facts("atrest-missing-phi");
        assert_eq!(f["phi_paths"][0]["exists"], false);
        let k = facts("atrest-keyfile-0644");
        let entry = &k["crypttab"]["entries"][1];
        assert_eq!(entry["key_file"], "/etc/luks-keys/phi.key");
        assert_eq!(entry["key_stat"]["exists"], true);
        let mode = entry["key_stat"]["mode"].as_str().expect("mode");
        assert!(mode == "0644" || mode == "0664", "{mode}");
    }

    #[test]
    fn key_file_mode_0400_is_reported() {
        use std::os::unix::fs::PermissionsExt;
        let root = TempRoot::new();
        root.write(
            "/etc/crypttab",
            "phi_crypt /dev/sdb1 /etc/luks-keys/phi.key luks\n",
        );
        root.write("/etc/luks-keys/phi.key", "k");
        let key = root.path().join("etc/luks-keys/phi.key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        let mut p = serde_json::Map::new();
        p.insert("phi_paths".into(), json!(["/srv/phi", "/srv/other"]));
        let f = EncryptionAtRest::collect(&DirTarget::new(root.path()), &Params::from_map(p))
            .expect("facts");
        assert_eq!(f["crypttab"]["entries"][0]["key_stat"]["mode"], "0400");
        assert_eq!(f["phi_paths"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn rocky_live_luks() {
        let f = facts("atrest-rocky-live-luks");
        assert_eq!(f["os"]["id"], "rocky");
        assert_eq!(f["phi_paths"][0]["luks"]["kernel_name"], "dm-0");
    }
}
