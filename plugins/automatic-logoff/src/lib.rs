//! The automatic-logoff safeguard (45 CFR 164.312(a)(2)(iii)): gathers the facts that decide
//! whether idle sessions end, the shell `TMOUT` login shells get and sshd's idle-related settings.
//!
//! Facts: [`Facts`]: the os-release, the login shells' `TMOUT` model
//! ([`phipolicy_parsers::shell::LoginTmout`]) and sshd's idle-related settings ([`InstalledSshd`]) (schema:
//! `policies/hipaa/schemas/automatic-logoff.json`). The policies `logoff.shell-timeout` and
//! `logoff.ssh-idle` judge them.

use phipolicy_parsers::os_release::{Family, OsRelease};
use phipolicy_parsers::shell::LoginTmout;
use phipolicy_parsers::sshd::InstalledSshd;
use phipolicy_sdk::{Manifest, Params, Plugin, Target};
use phipolicy_parsers::{shell, sshd};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// What `TMOUT` login shells end up with, and why.
    pub shell: LoginTmout,
    /// sshd's ClientAliveInterval, ClientAliveCountMax and ChannelTimeout.
    pub sshd: InstalledSshd,
}

/// The sshd keywords the `logoff.ssh-idle` control reads.
const SSHD_KEYWORDS: &[&str] = &[
    "clientaliveinterval",
    "clientalivecountmax",
    "channeltimeout",
];

/// The automatic-logoff plugin.
#[derive(Debug)]
pub struct AutomaticLogoff;

impl Plugin for AutomaticLogoff {
    fn manifest() -> Manifest {
        Manifest {
            id: "automatic-logoff",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "automatic-logoff",
            cfr: &["164.312(a)(2)(iii)"],
            controls: &["logoff.shell-timeout", "logoff.ssh-idle"],
            reads: phipolicy_parsers::reads_with_sshd![
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/profile",
                "/etc/profile.d/**",
                // Packages link profile.d snippets to their own directories (Debian 13's systemd:
                // /etc/profile.d/70-systemd-shell-extra.sh -> /usr/lib/systemd/profile.d/...).
                "/usr/lib/systemd/profile.d/**",
                "/usr/lib/profile.d/**",
                "/usr/share/profile.d/**",
                "/etc/bash.bashrc",
                "/etc/bashrc",
                "/etc/ssh/**",
                "/usr/sbin/sshd",
                "/usr/bin/sshd",
            ],
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let family = os.as_ref().map_or(Family::Unknown, |o| o.family);
        let shell = shell::login_tmout(target, family);

        let binary = sshd::installed_binary(target);
        let sshd = InstalledSshd::new(binary, sshd::facts(target, SSHD_KEYWORDS));
        phipolicy_sdk::facts::to_json(&Facts { os, shell, sshd })
    }
}

phipolicy_sdk::export_plugin!(AutomaticLogoff);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "automatic-logoff",
        ));
    }

    fn collect(case: &str) -> Value {
        phipolicy_sdk::testing::fixture_facts::<AutomaticLogoff>(case)
    }

    #[test]
    fn defaults_have_no_tmout_and_sshd_defaults() {
        let f = collect("logoff-defaults");
        assert_eq!(f["os"]["id"], "debian");
        assert_eq!(f["shell"]["family"], "debian");
        assert_eq!(f["shell"]["effective"]["set"], false);
        assert_eq!(
            f["shell"]["files"]
                .as_array()
                .map(|a| a.iter().map(|x| x["path"].clone()).collect::<Vec<_>>()),
            Some(vec![
                json!("/etc/profile"),
                json!("/etc/bash.bashrc"),
                json!("/etc/profile.d/bash_completion.sh")
            ])
        );
        assert_eq!(f["sshd"]["installed"], true);
        assert_eq!(f["sshd"]["binary"], "/usr/sbin/sshd");
        assert_eq!(f["sshd"]["config_found"], true);
        let s = &f["sshd"]["settings"];
        assert_eq!(
            (
                s["clientaliveinterval"]["value"].clone(),
                s["clientaliveinterval"]["default"].clone()
            ),
            (json!("0"), json!(true))
        );
        assert_eq!(s["clientalivecountmax"]["value"], "3");
        assert_eq!(s["channeltimeout"]["default"], true);
    }

    #[test]
    fn hardened_sets_readonly_exported_tmout_and_client_alive() {
        let f = collect("logoff-hardened");
        let e = &f["shell"]["effective"];
        assert_eq!(
            (e["seconds"].clone(), e["path"].clone()),
            (json!(900), json!("/etc/profile.d/99-hipaa-timeout.sh"))
        );
        assert_eq!(e["readonly"]["line"], 1);
        assert_eq!(e["exported"]["line"], 1);
        let s = &f["sshd"]["settings"];
        assert_eq!(s["clientaliveinterval"]["value"], "300");
        assert_eq!(
            s["clientaliveinterval"]["path"],
            "/etc/ssh/sshd_config.d/00-hipaa.conf"
        );
        assert_eq!(s["clientalivecountmax"]["value"], "3");
        assert_eq!(s["clientalivecountmax"]["default"], false);
    }

    #[test]
    fn tmout_in_file_without_sh_is_ignored() {
        let f = collect("logoff-tmout-no-sh");
        assert_eq!(f["shell"]["effective"]["set"], false);
        assert_eq!(f["shell"]["ignored"][0]["path"], "/etc/profile.d/tmout");
        assert_eq!(f["shell"]["assignments"][0]["outcome"], "not-sourced");
    }

    #[test]
    fn not_readonly_and_overridden_cases() {
        let f = collect("logoff-tmout-not-readonly");
        assert_eq!(f["shell"]["effective"]["seconds"], 900);
        assert_eq!(f["shell"]["effective"]["readonly"], Value::Null);
        assert_eq!(f["shell"]["effective"]["exported"]["line"], 3);

        let f = collect("logoff-tmout-overridden");
        assert_eq!(f["shell"]["effective"]["seconds"], 7200);
        assert_eq!(
            f["shell"]["effective"]["path"],
            "/etc/profile.d/50-dev-session.sh"
        );
    }

    #[test]
    fn rocky_bashrc_without_sshd() {
        let f = collect("logoff-rocky-bashrc");
        assert_eq!(f["os"]["family"], "rhel");
        let e = &f["shell"]["effective"];
        assert_eq!(
            (e["seconds"].clone(), e["path"].clone(), e["line"].clone()),
            (json!(900), json!("/etc/bashrc"), json!(92))
        );
        assert_eq!(e["readonly"]["path"], "/etc/bashrc");
        assert_eq!(e["exported"]["line"], 93);
        assert_eq!(f["sshd"]["installed"], false);
        assert_eq!(f["sshd"]["binary"], Value::Null);
        assert_eq!(f["sshd"]["config_found"], false);
    }

    #[test]
    fn manifest_names_the_controls() {
        let m = AutomaticLogoff::manifest();
        assert_eq!(m.controls, &["logoff.shell-timeout", "logoff.ssh-idle"]);
        assert!(m.reads.contains(&"/etc/profile.d/**"));
    }
}
