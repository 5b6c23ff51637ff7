//! The authentication safeguard (45 CFR 164.312(d) and 164.312(a)(1)): gathers the effective sshd
//! settings that decide who can log in and how, and the login banner sshd shows.
//!
//! Facts: [`Facts`]: the os-release, sshd's settings for the keywords below ([`InstalledSshd`]) and the
//! banner file sshd sends ([`Banner`], `null` when sshd is absent or `Banner` is `none`) (schema:
//! `policies/hipaa/schemas/authentication.json`). The policies `auth.ssh` and `auth.banner` judge
//! them.

use phipolicy_parsers::os_release::OsRelease;
use phipolicy_parsers::sshd::{EffectiveSshdConfig, InstalledSshd};
use phipolicy_sdk::path::join;
use phipolicy_sdk::{FileKind, Manifest, Params, Plugin, ReadError, Target};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// sshd's settings for the authentication keywords.
    pub sshd: InstalledSshd,
    /// The banner file; `null` when sshd is absent, its configuration was not found, or `Banner`
    /// is `none`.
    pub banner: Option<Banner>,
}

/// The file sshd would send as the login banner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Banner {
    /// The configured path, made absolute (sshd runs from `/`).
    pub path: String,
    /// Whether it exists (following links).
    pub exists: bool,
    /// What it is; `null` when it does not exist.
    pub kind: Option<FileKind>,
    /// Size in bytes; `null` when it does not exist.
    pub size: Option<u64>,
    /// Its text (invalid UTF-8 replaced), at most 64 KiB; `null` when it was not read.
    pub text: Option<String>,
    /// Whether the text was cut at 64 KiB.
    pub truncated: bool,
    /// Why it could not be read; `null` when it was read.
    pub error: Option<String>,
    /// The kind of that failure, for the policy to branch on.
    pub error_kind: Option<ErrorKind>,
    /// Where the path links to when it is a symlink.
    pub symlink_to: Option<String>,
}

/// A stable name for a read failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    NotFound,
    Undeclared,
    PermissionDenied,
    NotRegular,
    TooLarge,
    TooManyEntries,
    InvalidPath,
    BudgetExhausted,
    Io,
}

/// The sshd keywords `auth.ssh` and `auth.banner` read.
const SSHD_KEYWORDS: &[&str] = &[
    "permitrootlogin",
    "passwordauthentication",
    "kbdinteractiveauthentication",
    "permitemptypasswords",
    "pubkeyauthentication",
    "maxauthtries",
    "usepam",
    "allowgroups",
    "allowusers",
    "banner",
];

/// Banner text kept in the facts: a login banner is a few lines; more is not read into the facts.
const BANNER_TEXT_CAP: usize = 64 * 1024;

/// The authentication plugin.
#[derive(Debug)]
pub struct Authentication;

impl Plugin for Authentication {
    fn manifest() -> Manifest {
        Manifest {
            id: "authentication",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "authentication",
            cfr: &["164.312(d)", "164.312(a)(1)"],
            controls: &["auth.ssh", "auth.banner"],
            reads: phipolicy_parsers::reads_with_sshd![
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/ssh/**",
                "/usr/sbin/sshd",
                "/usr/bin/sshd",
                "/etc/issue",
                "/etc/issue.net",
                "/etc/motd",
                "/etc/banner*",
                "/etc/*banner*",
                "/etc/hipaa/**",
            ],
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let binary = phipolicy_parsers::sshd::installed_binary(target);
        let config = EffectiveSshdConfig::load(target);
        let sshd = InstalledSshd::new(binary, config.facts(SSHD_KEYWORDS));
        let banner = match config.effective("banner") {
            Some(b) if binary.is_some() && config.config_found && b.value != "none" => {
                Some(banner_facts(target, &b.value))
            }
            _ => None,
        };
        phipolicy_sdk::facts::to_json(&Facts { os, sshd, banner })
    }
}

/// The file sshd would send as the banner. sshd runs from `/`, so a relative path is taken from there.
fn banner_facts(target: &dyn Target, configured: &str) -> Banner {
    let path = join("/", configured);
    let mut facts = Banner {
        symlink_to: target.read_link(&path).ok(),
        path,
        exists: false,
        kind: None,
        size: None,
        text: None,
        truncated: false,
        error: None,
        error_kind: None,
    };
    let fail = |facts: &mut Banner, e: &ReadError| {
        facts.error = Some(e.to_string());
        facts.error_kind = Some(error_kind(e));
    };
    match target.stat(&facts.path) {
        Ok(st) => {
            facts.exists = true;
            facts.kind = Some(st.kind);
            facts.size = Some(st.size);
            if st.kind != FileKind::Regular {
                fail(&mut facts, &ReadError::NotRegular(st.kind));
                return facts;
            }
        }
        Err(e) => {
            fail(&mut facts, &e);
            return facts;
        }
    }
    match target.read_file(&facts.path) {
        Ok(bytes) => {
            let truncated = bytes.len() > BANNER_TEXT_CAP;
            let kept = bytes.get(..BANNER_TEXT_CAP).unwrap_or(&bytes);
            facts.text = Some(String::from_utf8_lossy(kept).into_owned());
            facts.truncated = truncated;
        }
        Err(e) => fail(&mut facts, &e),
    }
    facts
}

/// A stable name for a read failure, for the policy to branch on.
fn error_kind(e: &ReadError) -> ErrorKind {
    match e {
        ReadError::NotFound => ErrorKind::NotFound,
        ReadError::Undeclared(_) => ErrorKind::Undeclared,
        ReadError::PermissionDenied => ErrorKind::PermissionDenied,
        ReadError::NotRegular(_) => ErrorKind::NotRegular,
        ReadError::TooLarge(_) => ErrorKind::TooLarge,
        ReadError::TooManyEntries(_) => ErrorKind::TooManyEntries,
        ReadError::InvalidPath(_) => ErrorKind::InvalidPath,
        ReadError::BudgetExhausted => ErrorKind::BudgetExhausted,
        ReadError::Io(_) => ErrorKind::Io,
    }
}

phipolicy_sdk::export_plugin!(Authentication);

#[cfg(test)]
mod tests {
    use super::*;
    use phipolicy_sdk::testing::{DirTarget, tree};
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "authentication",
        ));
    }

    fn collect(case: &str) -> Value {
        phipolicy_sdk::testing::fixture_facts::<Authentication>(case)
    }

    fn setting(f: &Value, keyword: &str) -> (String, String, u64, bool) {
        let s = &f["sshd"]["settings"][keyword];
        (
            s["value"].as_str().unwrap_or_default().to_string(),
            s["path"].as_str().unwrap_or_default().to_string(),
            s["line"].as_u64().unwrap_or(u64::MAX),
            s["default"].as_bool().unwrap_or(false),
        )
    }

    const DROPIN: &str = "/etc/ssh/sshd_config.d/00-hipaa.conf";

    #[test]
    fn manifest_names_the_controls() {
        let m = Authentication::manifest();
        assert_eq!(m.id, "authentication");
        assert_eq!(m.controls, &["auth.ssh", "auth.banner"]);
        assert!(m.reads.contains(&"/etc/ssh/**"));
    }

    #[test]
    fn debian_defaults() {
        let f = collect("ssh-defaults");
        assert_eq!(f["os"]["id"], "debian");
        assert_eq!(f["sshd"]["installed"], true);
        assert_eq!(f["sshd"]["binary"], "/usr/sbin/sshd");
        assert_eq!(f["sshd"]["config_found"], true);
        assert_eq!(f["sshd"]["files"], json!(["/etc/ssh/sshd_config"]));
        assert_eq!(
            setting(&f, "passwordauthentication"),
            ("yes".into(), "/etc/ssh/sshd_config".into(), 0, true)
        );
        assert_eq!(setting(&f, "permitrootlogin").0, "prohibit-password");
        assert_eq!(
            setting(&f, "kbdinteractiveauthentication"),
            ("no".into(), "/etc/ssh/sshd_config".into(), 62, false)
        );
        assert_eq!(
            setting(&f, "usepam"),
            ("yes".into(), "/etc/ssh/sshd_config".into(), 85, false)
        );
        assert_eq!(setting(&f, "allowgroups").0, "");
        assert_eq!(f["sshd"]["settings"]["allowgroups"]["values"], json!([]));
        assert_eq!(setting(&f, "banner").0, "none");
        assert_eq!(f["banner"], Value::Null);
    }

    #[test]
    fn hardened_dropin_and_banner() {
        let f = collect("ssh-hardened");
        assert_eq!(f["sshd"]["files"], json!(["/etc/ssh/sshd_config", DROPIN]));
        assert_eq!(
            setting(&f, "passwordauthentication"),
            ("no".into(), DROPIN.into(), 4, false)
        );
        assert_eq!(
            setting(&f, "permitrootlogin"),
            ("no".into(), DROPIN.into(), 3, false)
        );
        assert_eq!(setting(&f, "maxauthtries").0, "3");
        assert_eq!(
            f["sshd"]["settings"]["allowgroups"]["values"],
            json!(["phi-access"])
        );
        assert_eq!(f["banner"]["path"], "/etc/issue.net");
        assert_eq!(f["banner"]["exists"], true);
        assert_eq!(f["banner"]["kind"], "regular");
        assert!(
            f["banner"]["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Authorized use only")
        );
        assert_eq!(f["banner"]["error"], Value::Null);
    }

    #[test]
    fn cloud_init_dropin_is_read_first() {
        let f = collect("ssh-cloud-init-dropin");
        assert_eq!(
            setting(&f, "passwordauthentication"),
            (
                "yes".into(),
                "/etc/ssh/sshd_config.d/50-cloud-init.conf".into(),
                1,
                false
            )
        );
        assert_eq!(setting(&f, "permitrootlogin").1, "/etc/ssh/sshd_config");
        let f = collect("ssh-hardening-in-dropin");
        assert_eq!(
            setting(&f, "passwordauthentication"),
            ("no".into(), DROPIN.into(), 4, false)
        );
    }

    #[test]
    fn match_block_is_reported_with_its_line() {
        let f = collect("ssh-match-weakens");
        let blocks = f["sshd"]["match_blocks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0]["criteria"], "Address 10.0.0.0/8");
        assert_eq!(blocks[0]["path"], "/etc/ssh/sshd_config");
        assert_eq!(
            blocks[0]["settings"]["passwordauthentication"]["value"],
            "yes"
        );
        assert_eq!(setting(&f, "passwordauthentication").0, "no");
    }

    #[test]
    fn old_keyword_name_sets_kbdinteractive() {
        let f = collect("ssh-kbdinteractive-usepam");
        assert_eq!(
            setting(&f, "kbdinteractiveauthentication"),
            ("yes".into(), DROPIN.into(), 5, false)
        );
        assert_eq!(setting(&f, "usepam").0, "yes");
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let f = collect("ssh-symlink-inside-root");
        assert_eq!(
            setting(&f, "passwordauthentication"),
            ("no".into(), DROPIN.into(), 4, false)
        );
        assert_eq!(f["banner"]["exists"], true);
        assert!(
            f["banner"]["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Authorized")
        );
    }

    #[test]
    fn symlinks_to_host_only_paths_are_never_followed_to_the_host() {
        let f = collect("ssh-symlink-host-only");
        assert_eq!(f["sshd"]["files"], json!(["/etc/ssh/sshd_config"]));
        assert!(setting(&f, "passwordauthentication").3);
        let issues = f["sshd"]["issues"].as_array().cloned().unwrap_or_default();
        assert_eq!(issues.len(), 1);
        assert!(
            issues[0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("/etc/hostname")
        );
        assert_eq!(f["banner"]["path"], "/etc/issue.net");
        assert_eq!(f["banner"]["exists"], false);
        assert_eq!(f["banner"]["error_kind"], "not-found");
        assert_eq!(f["banner"]["symlink_to"], "/etc/hostname");
        assert_eq!(f["banner"]["text"], Value::Null);
    }

    #[test]
    fn banner_without_the_phrase_is_still_read() {
        let f = collect("banner-missing-phrase");
        assert!(
            f["banner"]["text"]
                .as_str()
                .unwrap_or_default()
                .starts_with("Welcome")
        );
    }

    #[test]
    fn no_sshd_binary() {
        let (_root, t) = tree(&[
            ("/etc/ssh/sshd_config", "Banner /etc/issue.net\n"),
            ("/etc/issue.net", "x"),
        ]);
        let f = Authentication::collect(&t, &Params::default()).expect("collect");
        assert_eq!(f["sshd"]["installed"], false);
        assert_eq!(f["banner"], Value::Null);
        assert_eq!(f["os"], Value::Null);
    }

    #[test]
    fn banner_edge_cases() {
        let big = "authorized ".repeat(10_000);
        let (root, t) = tree(&[
            ("/usr/sbin/sshd", ""),
            ("/etc/ssh/sshd_config", "Banner etc/banner.txt\n"),
            ("/etc/banner.txt", &big),
            ("/etc/hipaa/dir/x", ""),
        ]);
        let f = Authentication::collect(&t, &Params::default()).expect("collect");
        assert_eq!(
            f["banner"]["path"], "/etc/banner.txt",
            "relative to sshd's working directory /"
        );
        assert_eq!(f["banner"]["truncated"], true);
        assert_eq!(
            f["banner"]["text"].as_str().map(str::len),
            Some(BANNER_TEXT_CAP)
        );
        root.write("/etc/ssh/sshd_config", "Banner /etc/hipaa/dir\n");
        let f = Authentication::collect(&DirTarget::new(root.path()), &Params::default())
            .expect("collect");
        assert_eq!(
            (
                f["banner"]["exists"].clone(),
                f["banner"]["error_kind"].clone()
            ),
            (json!(true), json!("not-regular"))
        );
    }

    /// The engine refuses paths outside the manifest; the banner facts say so.
    struct Undeclared(DirTarget);

    impl Target for Undeclared {
        fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
            if path.starts_with("/srv") {
                Err(ReadError::Undeclared(path.into()))
            } else {
                self.0.read_file(path)
            }
        }
        fn list_dir(&self, path: &str) -> Result<Vec<phipolicy_sdk::DirEntry>, ReadError> {
            self.0.list_dir(path)
        }
        fn stat(&self, path: &str) -> Result<phipolicy_sdk::FileStat, ReadError> {
            if path.starts_with("/srv") {
                Err(ReadError::Undeclared(path.into()))
            } else {
                self.0.stat(path)
            }
        }
        fn lstat(&self, path: &str) -> Result<phipolicy_sdk::FileStat, ReadError> {
            self.0.lstat(path)
        }
        fn read_link(&self, path: &str) -> Result<String, ReadError> {
            self.0.read_link(path)
        }
    }

    #[test]
    fn undeclared_banner_path_is_an_error_fact() {
        let (root, _t) = tree(&[
            ("/usr/sbin/sshd", ""),
            ("/etc/ssh/sshd_config", "Banner /srv/banner\n"),
            ("/srv/banner", "Authorized use only\n"),
        ]);
        let f =
            Authentication::collect(&Undeclared(DirTarget::new(root.path())), &Params::default())
                .expect("collect");
        assert_eq!(f["banner"]["error_kind"], "undeclared");
        assert_eq!(f["banner"]["exists"], false);
        assert!(
            f["banner"]["error"]
                .as_str()
                .unwrap_or_default()
                .contains("/srv/banner")
        );
    }
}
