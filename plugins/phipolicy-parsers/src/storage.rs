//! Where data is stored and whether the block layer encrypts it: mounts (`/proc/self/mountinfo`),
//! device-mapper devices (`/sys/block/dm-*/dm/{name,uuid}`, `slaves/`), `/etc/crypttab`,
//! `/etc/fstab`, and fscrypt metadata (`.fscrypt/` at a filesystem's root).
//!
//! ```
//! use phipolicy_parsers::storage::MountTable;
//!
//! let table = MountTable::parse(
//!     "/proc/self/mountinfo",
//!     "29 1 253:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg-root rw\n",
//! );
//! assert_eq!(table.mounts[0].mount_point, "/");
//! assert_eq!(table.mounts[0].source, "/dev/mapper/vg-root");
//! ```

use schemars::JsonSchema;
use serde::Serialize;

use phipolicy_sdk::facts::ParseIssue;
use phipolicy_sdk::target::{FileKind, Target, TargetExt};
use phipolicy_sdk::path::join;

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Depth of device-mapper stacking followed through `slaves/` (LVM on LUKS is two; more is odd).
    pub const MAX_DM_STACK: usize = 8;
}
use limits::*;

/// Decodes the octal escapes the kernel and fstab use for blanks and backslashes (`\040`).
pub fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'\\'
            && let Some(digits) = bytes.get(i + 1..i + 4)
            && digits.iter().all(|d| (b'0'..=b'7').contains(d))
        {
            let v = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            if let Ok(byte) = u8::try_from(v) {
                out.push(byte);
                i += 4;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn line_no(idx: usize) -> u32 {
    u32::try_from(idx + 1).unwrap_or(u32::MAX)
}

/// One line of `/proc/self/mountinfo` (proc(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Mount {
    /// Where it is mounted.
    pub mount_point: String,
    /// The directory of the filesystem that is mounted there (`/` unless a bind mount).
    pub root: String,
    /// The filesystem type (`ext4`, `xfs`, ...).
    pub fs_type: String,
    /// The mount source (`/dev/mapper/...`, `/dev/sdb1`, ...).
    pub source: String,
    /// `major:minor` of the device.
    pub device: String,
    /// The line of the mount table.
    pub line: u32,
}

/// The mount table of a live host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MountTable {
    /// The file parsed.
    pub path: String,
    /// Its mounts, in file order.
    pub mounts: Vec<Mount>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

impl MountTable {
    /// Parses mountinfo: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS`.
    pub fn parse(path: &str, text: &str) -> MountTable {
        let mut table = MountTable {
            path: path.to_string(),
            ..MountTable::default()
        };
        for (idx, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split_whitespace().collect();
            let sep = fields.iter().position(|f| *f == "-");
            match (sep, fields.get(2), fields.get(3), fields.get(4)) {
                (Some(sep), Some(dev), Some(root), Some(mp)) if sep >= 6 => {
                    table.mounts.push(Mount {
                        mount_point: unescape_octal(mp),
                        root: unescape_octal(root),
                        fs_type: fields.get(sep + 1).unwrap_or(&"").to_string(),
                        source: unescape_octal(fields.get(sep + 2).unwrap_or(&"")),
                        device: (*dev).to_string(),
                        line: line_no(idx),
                    });
                }
                _ => table.issues.push(ParseIssue {
                    path: path.to_string(),
                    line: line_no(idx),
                    message: "not a mountinfo line".into(),
                }),
            }
        }
        table
    }

    /// The mount holding `path`: the longest mount point that is `path` or a parent of it; among
    /// equal mount points the later one (it hides the earlier).
    pub fn mount_of(&self, path: &str) -> Option<&Mount> {
        let mut best: Option<&Mount> = None;
        for m in &self.mounts {
            if !is_under(path, &m.mount_point) {
                continue;
            }
            if best.is_none_or(|b| m.mount_point.len() >= b.mount_point.len()) {
                best = Some(m);
            }
        }
        best
    }
}

/// Whether `path` is `dir` or below it (lexically).
pub fn is_under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    dir.is_empty()
        || path == dir
        || path
            .strip_prefix(dir)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A device-mapper device as sysfs describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DmDevice {
    /// `dm-N`.
    pub kernel_name: String,
    /// `/dev/mapper/` name.
    pub name: Option<String>,
    /// `CRYPT-LUKS2-...` for LUKS, `LVM-...` for a logical volume.
    pub uuid: Option<String>,
    /// `major:minor`.
    pub device: Option<String>,
    /// Devices below it (`slaves/`), kernel names.
    pub slaves: Vec<String>,
}

impl DmDevice {
    pub fn is_luks(&self) -> bool {
        self.uuid
            .as_deref()
            .is_some_and(|u| u.starts_with("CRYPT-LUKS"))
    }
}

/// Every `/sys/block/dm-*` device; unreadable attributes are `None`.
pub fn load_dm_devices(target: &dyn Target) -> Vec<DmDevice> {
    let Ok(entries) = target.list_dir("/sys/block") else {
        return Vec::new();
    };
    let attr = |p: String| {
        target
            .read_text(&p)
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    entries
        .into_iter()
        .filter(|e| e.name.starts_with("dm-"))
        .map(|e| {
            let base = join("/sys/block", &e.name);
            let slaves = target
                .list_dir(&join(&base, "slaves"))
                .map(|v| v.into_iter().map(|s| s.name).collect())
                .unwrap_or_default();
            DmDevice {
                name: attr(join(&base, "dm/name")),
                uuid: attr(join(&base, "dm/uuid")),
                device: attr(join(&base, "dev")),
                kernel_name: e.name,
                slaves,
            }
        })
        .collect()
}

/// The dm device a mount source names: `/dev/mapper/NAME`, `/dev/dm-N`, or the same `major:minor`.
pub fn dm_for_source<'a>(
    devices: &'a [DmDevice],
    source: &str,
    device: &str,
) -> Option<&'a DmDevice> {
    if let Some(name) = source.strip_prefix("/dev/mapper/")
        && let Some(d) = devices.iter().find(|d| d.name.as_deref() == Some(name))
    {
        return Some(d);
    }
    if let Some(k) = source.strip_prefix("/dev/")
        && let Some(d) = devices.iter().find(|d| d.kernel_name == k)
    {
        return Some(d);
    }
    devices
        .iter()
        .find(|d| !device.is_empty() && d.device.as_deref() == Some(device))
}

/// The LUKS device at or below `dev` (LVM on LUKS: the LV's slave is the dm-crypt device).
pub fn luks_below<'a>(devices: &'a [DmDevice], dev: &'a DmDevice) -> Option<&'a DmDevice> {
    let mut frontier = vec![dev];
    for _ in 0..MAX_DM_STACK {
        if let Some(l) = frontier.iter().find(|d| d.is_luks()) {
            return Some(l);
        }
        frontier = frontier
            .iter()
            .flat_map(|d| d.slaves.iter())
            .filter_map(|s| devices.iter().find(|x| &x.kernel_name == s))
            .collect();
        if frontier.is_empty() {
            break;
        }
    }
    None
}

/// One `/etc/crypttab` line: `NAME DEVICE [KEYFILE [OPTIONS]]` (crypttab(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CrypttabEntry {
    /// The mapped name (`/dev/mapper/NAME`).
    pub name: String,
    /// The encrypted device (a path, `UUID=...`, ...).
    pub device: String,
    /// `None` for `none`, `-` or absent (a passphrase is asked for).
    pub key_file: Option<String>,
    /// The comma-separated options, split.
    pub options: Vec<String>,
    /// The file it was read from.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// Parses `/etc/crypttab`; `#` lines are comments.
pub fn parse_crypttab(path: &str, text: &str) -> (Vec<CrypttabEntry>, Vec<ParseIssue>) {
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let f: Vec<String> = t.split_whitespace().map(unescape_octal).collect();
        match (f.first(), f.get(1)) {
            (Some(name), Some(device)) => out.push(CrypttabEntry {
                name: name.clone(),
                device: device.clone(),
                key_file: f
                    .get(2)
                    .filter(|k| !matches!(k.as_str(), "none" | "-" | ""))
                    .cloned(),
                options: f
                    .get(3)
                    .map(|o| o.split(',').map(String::from).collect())
                    .unwrap_or_default(),
                path: path.to_string(),
                line: line_no(idx),
            }),
            _ => issues.push(ParseIssue {
                path: path.to_string(),
                line: line_no(idx),
                message: "crypttab line needs at least a name and a device".into(),
            }),
        }
    }
    (out, issues)
}

/// One `/etc/fstab` line (fstab(5)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FstabEntry {
    /// The device or filesystem (`/dev/mapper/...`, `UUID=...`, ...).
    pub source: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// The filesystem type.
    pub fs_type: String,
    /// The comma-separated options, split.
    pub options: Vec<String>,
    /// The file it was read from.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// Parses `/etc/fstab`; `#` lines are comments.
pub fn parse_fstab(path: &str, text: &str) -> (Vec<FstabEntry>, Vec<ParseIssue>) {
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (idx, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let f: Vec<String> = t.split_whitespace().map(unescape_octal).collect();
        match (f.first(), f.get(1), f.get(2)) {
            (Some(src), Some(mp), Some(fs)) => out.push(FstabEntry {
                source: src.clone(),
                mount_point: mp.clone(),
                fs_type: fs.clone(),
                options: f
                    .get(3)
                    .map(|o| o.split(',').map(String::from).collect())
                    .unwrap_or_default(),
                path: path.to_string(),
                line: line_no(idx),
            }),
            _ => issues.push(ParseIssue {
                path: path.to_string(),
                line: line_no(idx),
                message: "fstab line needs a device, a mount point and a type".into(),
            }),
        }
    }
    (out, issues)
}

/// The fstab entry whose mount point holds `path` (longest match; a later line wins ties).
pub fn fstab_mount_of<'a>(entries: &'a [FstabEntry], path: &str) -> Option<&'a FstabEntry> {
    let mut best: Option<&FstabEntry> = None;
    for e in entries {
        if e.mount_point.starts_with('/')
            && is_under(path, &e.mount_point)
            && best.is_none_or(|b| e.mount_point.len() >= b.mount_point.len())
        {
            best = Some(e);
        }
    }
    best
}

/// fscrypt's metadata directory at a filesystem's root (`fscrypt setup`): policy and protector
/// descriptors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct FscryptMetadata {
    /// The `.fscrypt` directory.
    pub path: String,
    /// Policy descriptors (the names under `policies/`).
    pub policies: Vec<String>,
    /// Protector descriptors (the names under `protectors/`).
    pub protectors: Vec<String>,
}

/// Reads `<mount_root>/.fscrypt`; `None` when it is not a directory.
pub fn load_fscrypt(target: &dyn Target, mount_root: &str) -> Option<FscryptMetadata> {
    let path = join(mount_root, ".fscrypt");
    match target.stat(&path) {
        Ok(st) if st.kind == FileKind::Directory => {}
        _ => return None,
    }
    let names = |sub: &str| -> Vec<String> {
        target
            .list_dir(&join(&path, sub))
            .map(|v| {
                v.into_iter()
                    .filter(|e| e.kind == FileKind::Regular)
                    .map(|e| e.name)
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(FscryptMetadata {
        policies: names("policies"),
        protectors: names("protectors"),
        path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::tree;

    // A Debian 12 host's mountinfo (LVM on LUKS for /, a plain ext4 /var/data).
    const MOUNTINFO: &str = "\
22 28 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
23 28 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:13 - proc proc rw
28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw,errors=remount-ro
40 28 8:17 / /var/data rw,relatime shared:25 - ext4 /dev/sdb1 rw
41 28 8:18 / /srv/my\\040data rw,relatime shared:26 - ext4 /dev/sdc1 rw
";

    #[test]
    fn mountinfo_longest_prefix() {
        let t = MountTable::parse("/proc/self/mountinfo", MOUNTINFO);
        assert!(t.issues.is_empty());
        assert_eq!(
            t.mount_of("/var/data/phi").map(|m| m.source.as_str()),
            Some("/dev/sdb1")
        );
        assert_eq!(
            t.mount_of("/var/database").map(|m| m.mount_point.as_str()),
            Some("/")
        );
        assert_eq!(t.mount_of("/srv/my data/x").map(|m| m.line), Some(5));
    }

    #[test]
    fn this_hosts_mountinfo_parses() {
        let text = std::fs::read_to_string("/proc/self/mountinfo").expect("Linux /proc");
        let t = MountTable::parse("/proc/self/mountinfo", &text);
        assert!(t.issues.is_empty(), "{:?}", t.issues);
        assert!(t.mount_of("/etc/passwd").is_some());
    }

    #[test]
    fn dm_devices_and_lvm_on_luks() {
        let (_r, target) = tree(&[
            ("/sys/block/dm-0/dm/name", "sda3_crypt\n"),
            (
                "/sys/block/dm-0/dm/uuid",
                "CRYPT-LUKS2-1f3e2b0c9d8a4e7f8b6c5d4e3f2a1b0c-sda3_crypt\n",
            ),
            ("/sys/block/dm-0/dev", "254:0\n"),
            ("/sys/block/dm-1/dm/name", "vg0-root\n"),
            ("/sys/block/dm-1/dm/uuid", "LVM-abc\n"),
            ("/sys/block/dm-1/dev", "254:1\n"),
            ("/sys/block/dm-1/slaves/dm-0", ""),
            ("/sys/block/sda/dev", "8:0\n"),
        ]);
        let devs = load_dm_devices(&target);
        assert_eq!(devs.len(), 2);
        let root = dm_for_source(&devs, "/dev/mapper/vg0-root", "").expect("dm-1");
        assert_eq!(root.kernel_name, "dm-1");
        assert!(!root.is_luks());
        assert_eq!(
            luks_below(&devs, root).map(|d| d.kernel_name.as_str()),
            Some("dm-0")
        );
        assert_eq!(
            dm_for_source(&devs, "/dev/dm-0", "").map(|d| d.is_luks()),
            Some(true)
        );
        assert_eq!(
            dm_for_source(&devs, "UUID=x", "254:1").map(|d| d.kernel_name.as_str()),
            Some("dm-1")
        );
    }

    #[test]
    fn crypttab_and_fstab_as_debian_installer_writes_them() {
        let (ct, issues) = parse_crypttab(
            "/etc/crypttab",
            "# <target name> <source device> <key file> <options>\nsda3_crypt UUID=0b5e-11 none luks,discard\nphi_crypt /dev/sdb1 /etc/luks-keys/phi.key luks\nbroken\n",
        );
        assert_eq!(ct.len(), 2);
        assert_eq!(ct[0].key_file, None);
        assert_eq!(ct[0].options, vec!["luks", "discard"]);
        assert_eq!(ct[1].key_file.as_deref(), Some("/etc/luks-keys/phi.key"));
        assert_eq!(ct[1].line, 3);
        assert_eq!(issues.len(), 1);
        let (fs, _) = parse_fstab(
            "/etc/fstab",
            "# /etc/fstab\n/dev/mapper/vg0-root / ext4 errors=remount-ro 0 1\n/dev/mapper/phi_crypt /var/data ext4 defaults 0 2\n/dev/mapper/vg0-swap none swap sw 0 0\n",
        );
        assert_eq!(
            fstab_mount_of(&fs, "/var/data/phi").map(|e| e.line),
            Some(3)
        );
        assert_eq!(fstab_mount_of(&fs, "/etc").map(|e| e.line), Some(2));
    }

    #[test]
    fn fscrypt_metadata() {
        let (_r, target) = tree(&[
            ("/srv/.fscrypt/policies/4f1e2d3c", "x"),
            ("/srv/.fscrypt/protectors/a1b2c3d4", "x"),
        ]);
        let m = load_fscrypt(&target, "/srv").expect("metadata");
        assert_eq!(m.policies, vec!["4f1e2d3c"]);
        assert_eq!(m.protectors.len(), 1);
        assert!(load_fscrypt(&target, "/").is_none());
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed: u32 = 7;
        let alphabet: &[u8] = b" -\\0123457\n\t/#:dm-CRYPT,\xff";
        for len in [0usize, 3, 50, 300] {
            for _ in 0..80 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                        alphabet
                            .get((seed >> 16) as usize % alphabet.len())
                            .copied()
                            .unwrap_or(b' ')
                    })
                    .collect();
                let text = String::from_utf8_lossy(&bytes);
                let t = MountTable::parse("/g", &text);
                let _ = t.mount_of("/var/data/phi");
                let _ = parse_crypttab("/g", &text);
                let (fs, _) = parse_fstab("/g", &text);
                let _ = fstab_mount_of(&fs, "/x");
                let _ = unescape_octal(&text);
            }
        }
        assert_eq!(unescape_octal("a\\777b\\04"), "a\\777b\\04");
    }
}
