//! The encryption-at-rest safeguard (45 CFR 164.312(a)(2)(iv)): for each PHI path, where it is
//! stored (its mount on a live host, its fstab entry in an image) and what encrypts it (dm-crypt/LUKS,
//! fscrypt), plus `/etc/crypttab` and the ownership and mode of the key files it names.
//!
//! Facts: `{"os", "live": bool (the target has /proc/self/mountinfo),
//!   "mountinfo": {path, found, error, issues}, "dm_devices": [{kernel_name, name, uuid, device, slaves}],
//!   "crypttab": {path, found, error, issues, entries: [{name, device, key_file, options, path, line,
//!                key_stat: {exists, kind, uid, gid, mode, error}|null}]},
//!   "fstab": {path, found, error, issues, entries},
//!   "phi_paths": [{path, exists, kind, error, mount, dm, luks, fscrypt, fstab, crypttab}]}`.
//! The policy `crypto.at-rest` judges them.

use phipolicy_parsers::os_release::OsRelease;
use phipolicy_parsers::storage::{
    CrypttabEntry, DmDevice, FstabEntry, MountTable, dm_for_source, fstab_mount_of,
    load_dm_devices, load_fscrypt, luks_below, parse_crypttab, parse_fstab,
};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::{Value, json};

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

        let (mountinfo_facts, table) = match target.read_text(MOUNTINFO) {
            Ok(text) => {
                let t = MountTable::parse(MOUNTINFO, &text);
                (
                    json!({"path": MOUNTINFO, "found": true, "error": null, "issues": t.issues}),
                    Some(t),
                )
            }
            Err(ReadError::NotFound) => (
                json!({"path": MOUNTINFO, "found": false, "error": null, "issues": []}),
                None,
            ),
            Err(e) => (
                json!({"path": MOUNTINFO, "found": true, "error": e.to_string(), "issues": []}),
                None,
            ),
        };
        let live = mountinfo_facts["found"] == json!(true);
        let dm_devices = load_dm_devices(target);

        let (crypttab_facts, crypttab) = read_table(target, CRYPTTAB, parse_crypttab);
        let (fstab_facts, fstab) = read_table(target, FSTAB, parse_fstab);
        let crypttab_entries: Vec<Value> = crypttab
            .iter()
            .map(|e| {
                let mut v = json!(e);
                v["key_stat"] = match &e.key_file {
                    Some(k) => key_stat(target, k),
                    None => Value::Null,
                };
                v
            })
            .collect();
        let mut crypttab_facts = crypttab_facts;
        crypttab_facts["entries"] = json!(crypttab_entries);

        let phi: Vec<Value> = phi_paths
            .iter()
            .map(|p| phi_path_facts(target, p, table.as_ref(), &dm_devices, &crypttab, &fstab))
            .collect();

        Ok(json!({
            "os": os,
            "live": live,
            "mountinfo": mountinfo_facts,
            "dm_devices": dm_devices,
            "crypttab": crypttab_facts,
            "fstab": fstab_facts,
            "phi_paths": phi,
        }))
    }
}

type TableParser<T> = fn(&str, &str) -> (Vec<T>, Vec<phipolicy_sdk::facts::ParseIssue>);

fn read_table<T: serde::Serialize>(
    target: &dyn Target,
    path: &str,
    parse: TableParser<T>,
) -> (Value, Vec<T>) {
    match target.read_text(path) {
        Ok(text) => {
            let (entries, issues) = parse(path, &text);
            (
                json!({"path": path, "found": true, "error": null, "issues": issues, "entries": entries}),
                entries,
            )
        }
        Err(ReadError::NotFound) => (
            json!({"path": path, "found": false, "error": null, "issues": [], "entries": []}),
            Vec::new(),
        ),
        Err(e) => (
            json!({"path": path, "found": false, "error": e.to_string(), "issues": [], "entries": []}),
            Vec::new(),
        ),
    }
}

fn key_stat(target: &dyn Target, path: &str) -> Value {
    match target.stat(path) {
        Ok(st) => json!({
            "exists": true, "kind": st.kind, "uid": st.uid, "gid": st.gid,
            "mode": format!("{:04o}", st.mode), "error": null,
        }),
        Err(ReadError::NotFound) => json!({
            "exists": false, "kind": null, "uid": null, "gid": null, "mode": null, "error": "does not exist",
        }),
        Err(e) => json!({
            "exists": false, "kind": null, "uid": null, "gid": null, "mode": null, "error": e.to_string(),
        }),
    }
}

fn dm_json(d: &DmDevice) -> Value {
    json!({"kernel_name": d.kernel_name, "name": d.name, "uuid": d.uuid})
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
) -> Value {
    let mut facts = json!({
        "path": path, "exists": false, "kind": null, "error": null,
        "mount": null, "dm": null, "luks": null, "fscrypt": null, "fstab": null, "crypttab": null,
    });
    match target.stat(path) {
        Ok(st) => {
            facts["exists"] = json!(true);
            facts["kind"] = json!(st.kind);
        }
        Err(ReadError::NotFound) => {}
        Err(e) => facts["error"] = json!(e.to_string()),
    }
    if let Some(table) = table
        && let Some(m) = table.mount_of(path)
    {
        facts["mount"] = json!(m);
        if let Some(dm) = dm_for_source(dm_devices, &m.source, &m.device) {
            facts["dm"] = dm_json(dm);
            if let Some(l) = luks_below(dm_devices, dm) {
                facts["luks"] = dm_json(l);
                if let Some(c) = l.name.as_deref().and_then(|n| crypttab_for(crypttab, n)) {
                    facts["crypttab"] = json!(c);
                }
            }
        }
        if facts["exists"] == json!(true)
            && let Some(meta) = load_fscrypt(target, &m.mount_point)
        {
            facts["fscrypt"] = json!(meta);
        }
    }
    if let Some(f) = fstab_mount_of(fstab, path) {
        facts["fstab"] = json!(f);
        if table.is_none()
            && let Some(c) = crypttab_for(crypttab, &f.source)
        {
            facts["crypttab"] = json!(c);
        }
    }
    facts
}

phipolicy_sdk::export_plugin!(EncryptionAtRest);

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, TempRoot};

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
