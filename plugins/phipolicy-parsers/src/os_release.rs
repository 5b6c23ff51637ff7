//! `/etc/os-release` (falling back to `/usr/lib/os-release`, as os-release(5) says) and the
//! distribution family the controls care about.
//!
//! ```
//! use phipolicy_parsers::os_release::{Family, OsRelease};
//!
//! let os = OsRelease::parse("/etc/os-release", "ID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n");
//! assert_eq!((os.id.as_str(), os.family), ("rocky", Family::Rhel));
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use phipolicy_sdk::target::{ReadError, Target, TargetExt};

/// The distribution families whose layouts the controls know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Debian,
    Rhel,
    Unknown,
}

/// The identification fields of os-release(5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OsRelease {
    /// The file the values came from.
    pub path: String,
    /// `ID` (`debian`, `rocky`, ...).
    pub id: String,
    /// `ID_LIKE`, split on blanks.
    pub id_like: Vec<String>,
    /// `VERSION_ID`.
    pub version_id: String,
    /// `PRETTY_NAME`.
    pub pretty_name: String,
    /// The family derived from `ID` and `ID_LIKE`.
    pub family: Family,
}

impl OsRelease {
    /// Reads the target's os-release; `Ok(None)` when neither file exists.
    pub fn load(target: &dyn Target) -> Result<Option<OsRelease>, ReadError> {
        for path in ["/etc/os-release", "/usr/lib/os-release"] {
            if let Some(text) = target.read_text_opt(path)? {
                return Ok(Some(OsRelease::parse(path, &text)));
            }
        }
        Ok(None)
    }

    /// Like [`OsRelease::load`], recording a read failure as an unreadable-file fact (the
    /// plugin then carries on with an unknown family).
    pub fn load_or_record(
        target: &dyn Target,
        unreadable: &mut Vec<phipolicy_sdk::facts::Unreadable>,
    ) -> Option<OsRelease> {
        OsRelease::load(target).unwrap_or_else(|e| {
            unreadable.push(phipolicy_sdk::facts::Unreadable::new("/etc/os-release", &e));
            None
        })
    }

    /// Parses os-release text: `KEY=value` lines, values optionally quoted with shell escapes.
    pub fn parse(path: &str, text: &str) -> OsRelease {
        let fields = parse_fields(text);
        let get = |k: &str| fields.get(k).cloned().unwrap_or_default();
        let id = get("ID").to_ascii_lowercase();
        let id_like: Vec<String> = get("ID_LIKE")
            .split_whitespace()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        let family = family_of(&id, &id_like);
        OsRelease {
            path: path.to_string(),
            id,
            id_like,
            version_id: get("VERSION_ID"),
            pretty_name: get("PRETTY_NAME"),
            family,
        }
    }
}

/// The identification fields of os-release alone, as plugins that need no more report them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OsSummary {
    /// `ID`.
    pub id: String,
    /// `VERSION_ID`.
    pub version_id: String,
    /// The family derived from `ID` and `ID_LIKE`.
    pub family: Family,
    /// The file the values came from.
    pub path: String,
}

impl From<OsRelease> for OsSummary {
    fn from(o: OsRelease) -> Self {
        OsSummary {
            id: o.id,
            version_id: o.version_id,
            family: o.family,
            path: o.path,
        }
    }
}

/// debian: Debian, Ubuntu and derivatives; rhel: Rocky, Alma, RHEL, CentOS, Fedora-likes.
pub fn family_of(id: &str, id_like: &[String]) -> Family {
    let is =
        |names: &[&str]| names.contains(&id) || id_like.iter().any(|l| names.contains(&l.as_str()));
    if is(&["debian", "ubuntu"]) {
        Family::Debian
    } else if is(&["rhel", "centos", "fedora", "rocky", "almalinux"]) {
        Family::Rhel
    } else {
        Family::Unknown
    }
}

fn parse_fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        out.insert(key.trim().to_string(), unquote(raw.trim()));
    }
    out
}

fn unquote(raw: &str) -> String {
    let bytes = raw.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        let inner = &raw[1..raw.len() - 1];
        if bytes[0] == b'"' {
            let mut s = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                } else {
                    s.push(c);
                }
            }
            return s;
        }
        return inner.to_string();
    }
    raw.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN_12: &str = r#"PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/"
"#;

    const UBUNTU_2204: &str = r#"PRETTY_NAME="Ubuntu 22.04.4 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.4 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
"#;

    const ROCKY_9: &str = r#"NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
"#;

    #[test]
    fn families() {
        let d = OsRelease::parse("/etc/os-release", DEBIAN_12);
        assert_eq!(
            (d.id.as_str(), d.version_id.as_str(), d.family),
            ("debian", "12", Family::Debian)
        );
        let u = OsRelease::parse("/etc/os-release", UBUNTU_2204);
        assert_eq!(
            (u.id.as_str(), u.version_id.as_str(), u.family),
            ("ubuntu", "22.04", Family::Debian)
        );
        let r = OsRelease::parse("/etc/os-release", ROCKY_9);
        assert_eq!(
            (r.id.as_str(), r.version_id.as_str(), r.family),
            ("rocky", "9.3", Family::Rhel)
        );
        assert_eq!(r.id_like, vec!["rhel", "centos", "fedora"]);
        let x = OsRelease::parse("/etc/os-release", "ID=alpine\n");
        assert_eq!(x.family, Family::Unknown);
    }

    #[test]
    fn falls_back_to_usr_lib() {
        let (_root, t) = phipolicy_sdk::testing::tree(&[("/usr/lib/os-release", DEBIAN_12)]);
        let os = OsRelease::load(&t).unwrap().unwrap();
        assert_eq!(os.path, "/usr/lib/os-release");
        let (_root, empty) = phipolicy_sdk::testing::tree(&[]);
        assert_eq!(OsRelease::load(&empty).unwrap(), None);
    }
}
