//! The transmission-security safeguard (45 CFR 164.312(e)(1), (e)(2)(ii)): gathers the system TLS
//! floor (OpenSSL's `system_default` on Debian, crypto-policies on RHEL), the protocol and DH
//! settings of nginx, Apache httpd and Postfix, DH parameter files, and sshd's algorithm lists.
//!
//! Facts: [`facts::Facts`] (schema: `policies/hipaa/schemas/transmission-security.json`), every
//! setting with `path` and `line`. The policy `crypto.in-transit` judges them.

use std::collections::BTreeMap;

use phipolicy_sdk::glob::fnmatch;
use phipolicy_parsers::os_release::OsRelease;
use phipolicy_parsers::sshd::EffectiveSshdConfig;
use phipolicy_sdk::path::join;
use phipolicy_parsers::tls::{
    CryptoPolicy, OpensslConfig, PostfixMainCf, ProtocolSet, ServerConfig, ServerDirective,
    apache_protocols, nginx_protocols, parse_dh_pem, postfix_protocols,
};
use phipolicy_sdk::{Manifest, Params, Plugin, ReadError, Target, TargetExt};
use serde_json::Value;

pub mod facts;

use facts::{
    Algorithms, Apache, CommandLine, ConfigSummary, CryptoPolicyFacts, DhParamFile, DirectiveAt,
    Facts, MainCf, Nginx, Openssl, Postfix, PostfixSetting, Protocols, ReferencedBy, Sshd,
    Subpolicy, TextLine,
};

/// The system OpenSSL configuration (Debian's; on Rocky a symlink into /etc/pki/tls).
const OPENSSL_CNF: &str = "/etc/ssl/openssl.cnf";
/// The RHEL system-wide crypto policy.
const CRYPTO_POLICY_CONFIG: &str = "/etc/crypto-policies/config";
/// The DH parameters file the hardening guide generates; checked whenever it exists.
const DEFAULT_DHPARAM: &str = "/etc/ssl/dhparam.pem";

const NGINX_BINARIES: &[&str] = &["/usr/sbin/nginx", "/usr/bin/nginx"];
const NGINX_CONF: &str = "/etc/nginx/nginx.conf";
/// Apache httpd: (binary, main configuration, ServerRoot) for Debian and RHEL layouts.
const APACHE_LAYOUTS: &[(&str, &str, &str)] = &[
    (
        "/usr/sbin/apache2",
        "/etc/apache2/apache2.conf",
        "/etc/apache2",
    ),
    (
        "/usr/sbin/httpd",
        "/etc/httpd/conf/httpd.conf",
        "/etc/httpd",
    ),
];
const POSTFIX_BINARIES: &[&str] = &["/usr/sbin/postfix", "/usr/bin/postfix"];
const POSTFIX_MAIN_CF: &str = "/etc/postfix/main.cf";
/// Postfix settings the control reads.
const POSTFIX_SETTINGS: &[&str] = &[
    "smtpd_tls_protocols",
    "smtpd_tls_mandatory_protocols",
    "smtpd_tls_security_level",
    "smtpd_use_tls",
];

/// OpenSSH 9.x built-in algorithm lists (sshd_config(5), `myproposal.h`), which `+`, `-` and `^`
/// modify.
const SSHD_DEFAULT_ALGORITHMS: &[(&str, &str)] = &[
    (
        "ciphers",
        "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com",
    ),
    (
        "macs",
        "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1",
    ),
    (
        "kexalgorithms",
        "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256",
    ),
];

/// The transmission-security plugin.
#[derive(Debug)]
pub struct TransmissionSecurity;

impl Plugin for TransmissionSecurity {
    fn manifest() -> Manifest {
        Manifest {
            id: "transmission-security",
            version: env!("CARGO_PKG_VERSION"),
            safeguard: "transmission-security",
            cfr: &["164.312(e)(1)", "164.312(e)(2)(ii)"],
            controls: &["crypto.in-transit"],
            reads: phipolicy_parsers::reads_with_sshd![
                "/etc/os-release",
                "/usr/lib/os-release",
                "/etc/ssl/**",
                "/usr/lib/ssl/**",
                "/etc/pki/tls/**",
                "/etc/nginx/**",
                "/etc/apache2/**",
                "/etc/httpd/**",
                "/etc/postfix/**",
                "/etc/ssh/**",
                "/usr/sbin/nginx",
                "/usr/bin/nginx",
                "/usr/sbin/apache2",
                "/usr/sbin/httpd",
                "/usr/sbin/postfix",
                "/usr/bin/postfix",
                "/usr/sbin/sshd",
                "/usr/bin/sshd",
            ],
        }
    }

    fn collect(target: &dyn Target, _params: &Params) -> Result<Value, String> {
        let os = OsRelease::load(target).ok().flatten();
        let mut dh_refs: Vec<DhReference> = Vec::new();
        let openssl = openssl_facts(target);
        let crypto_policy = crypto_policy_facts(target);
        let nginx = nginx_facts(target, &mut dh_refs);
        let apache = apache_facts(target, &mut dh_refs);
        let postfix = postfix_facts(target);
        let sshd = sshd_facts(target);
        let dh_params = dh_facts(target, dh_refs);
        phipolicy_sdk::facts::to_json(&Facts {
            os,
            openssl,
            crypto_policy,
            nginx,
            apache,
            postfix,
            dh_params,
            sshd,
        })
    }
}

/// A DH parameters file named by a server directive.
struct DhReference {
    file: String,
    directive: String,
    path: String,
    line: u32,
}

fn first_existing<'a>(target: &dyn Target, paths: &[&'a str]) -> Option<&'a str> {
    paths.iter().find(|p| target.exists(p)).copied()
}

fn openssl_facts(target: &dyn Target) -> Openssl {
    let cfg = OpensslConfig::load(target, OPENSSL_CNF);
    Openssl {
        system_default: cfg.system_default(),
        path: cfg.path,
        found: cfg.found,
        files: cfg.report.files,
        unreadable: cfg.report.unreadable,
        issues: cfg.report.issues,
    }
}

/// Where update-crypto-policies looks for a subpolicy module, local first (crypto-policies(7)).
const SUBPOLICY_DIRS: &[&str] = &[
    "/etc/crypto-policies/policies/modules",
    "/usr/share/crypto-policies/policies/modules",
];

/// The module file of each subpolicy of the policy in force, and the lines in it that set the
/// protocol versions (`protocol`, `protocol@SCOPE`, `min_tls_version`, `min_dtls_version`): a
/// module without such a line cannot lower the base policy's TLS floor.
fn subpolicy_modules(target: &dyn Target, policy: Option<&CryptoPolicy>) -> Vec<Subpolicy> {
    let Some(policy) = policy else {
        return Vec::new();
    };
    policy
        .subpolicies
        .iter()
        .map(|name| {
            let found = SUBPOLICY_DIRS
                .iter()
                .map(|d| format!("{d}/{name}.pmod"))
                .find_map(|p| target.read_text(&p).ok().map(|t| (p, t)));
            match found {
                Some((path, text)) => {
                    let protocol_lines: Vec<TextLine> = text
                        .lines()
                        .zip(1u32..)
                        .filter_map(|(l, n)| {
                            let key = l.split('#').next()?.split('=').next()?.trim();
                            let key = key.split('@').next().unwrap_or(key).to_ascii_lowercase();
                            matches!(key.as_str(), "protocol" | "min_tls_version" | "min_dtls_version")
                                .then(|| TextLine {
                                    path: path.clone(),
                                    line: n,
                                    text: l.trim().to_string(),
                                })
                        })
                        .collect();
                    Subpolicy {
                        name: name.clone(),
                        path: Some(path),
                        found: true,
                        protocol_lines,
                    }
                }
                None => Subpolicy {
                    name: name.clone(),
                    path: None,
                    found: false,
                    protocol_lines: Vec::new(),
                },
            }
        })
        .collect()
}

fn crypto_policy_facts(target: &dyn Target) -> CryptoPolicyFacts {
    let not_read = |error: Option<String>| CryptoPolicyFacts {
        path: CRYPTO_POLICY_CONFIG.to_string(),
        found: false,
        error,
        subpolicy_modules: Vec::new(),
        policy: None,
    };
    match target.read_text(CRYPTO_POLICY_CONFIG) {
        Ok(text) => {
            let policy = CryptoPolicy::parse(CRYPTO_POLICY_CONFIG, &text);
            CryptoPolicyFacts {
                path: CRYPTO_POLICY_CONFIG.to_string(),
                found: true,
                error: None,
                subpolicy_modules: subpolicy_modules(target, policy.as_ref()),
                policy,
            }
        }
        Err(ReadError::NotFound) => not_read(None),
        Err(e) => not_read(Some(e.to_string())),
    }
}

fn config_summary(cfg: &ServerConfig) -> ConfigSummary {
    ConfigSummary {
        path: cfg.path.clone(),
        found: cfg.found,
        files: cfg.report.files.clone(),
        unreadable: cfg.report.unreadable.clone(),
        issues: cfg.report.issues.clone(),
    }
}

fn located(d: &ServerDirective) -> DirectiveAt {
    DirectiveAt {
        detail: format!("{} {}", d.name, d.args.join(" ")),
        path: d.path.clone(),
        line: d.line,
        context: d.context.clone(),
    }
}

/// A protocol directive with the protocols `parse` says it enables.
fn protocols(d: &ServerDirective, parse: fn(&[String]) -> ProtocolSet) -> Protocols {
    let set = parse(&d.args);
    Protocols {
        args: d.args.clone(),
        enabled: set.enabled,
        unknown: set.unknown,
        path: d.path.clone(),
        line: d.line,
        context: d.context.clone(),
    }
}

fn nginx_facts(target: &dyn Target, dh_refs: &mut Vec<DhReference>) -> Nginx {
    let binary = first_existing(target, NGINX_BINARIES);
    let cfg = ServerConfig::load_nginx(target, NGINX_CONF);
    let ssl_protocols: Vec<Protocols> = cfg
        .named("ssl_protocols")
        .into_iter()
        .map(|d| protocols(d, nginx_protocols))
        .collect();
    // nginx serves TLS where a `listen` carries `ssl` or a certificate is configured.
    let tls_servers: Vec<DirectiveAt> = cfg
        .directives
        .iter()
        .filter(|d| {
            (d.name == "listen" && d.args.iter().any(|a| a == "ssl"))
                || d.name == "ssl_certificate"
                || (d.name == "ssl" && d.args.first().map(String::as_str) == Some("on"))
        })
        .map(located)
        .collect();
    for d in cfg.named("ssl_dhparam") {
        if let Some(file) = d.args.first() {
            dh_refs.push(DhReference {
                file: join("/etc/nginx", file),
                directive: "ssl_dhparam".into(),
                path: d.path.clone(),
                line: d.line,
            });
        }
    }
    Nginx {
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        config: config_summary(&cfg),
        tls_servers,
        ssl_protocols,
    }
}

fn apache_facts(target: &dyn Target, dh_refs: &mut Vec<DhReference>) -> Apache {
    let layout = APACHE_LAYOUTS
        .iter()
        .find(|(bin, _, _)| target.exists(bin))
        .or_else(|| {
            APACHE_LAYOUTS
                .iter()
                .find(|(_, conf, _)| target.exists(conf))
        });
    let Some((bin, conf, root)) = layout else {
        return Apache {
            installed: false,
            binary: None,
            config: None,
            ssl_module: None,
            ssl_engine_on: Vec::new(),
            ssl_protocols: Vec::new(),
        };
    };
    let installed = target.exists(bin);
    let cfg = ServerConfig::load_apache(target, conf, root);
    let ssl_module = cfg
        .named("LoadModule")
        .into_iter()
        .find(|d| d.args.first().map(String::as_str) == Some("ssl_module"))
        .map(located);
    let ssl_engine_on: Vec<DirectiveAt> = cfg
        .named("SSLEngine")
        .into_iter()
        .filter(|d| {
            d.args
                .first()
                .is_some_and(|a| a.eq_ignore_ascii_case("on") || a.eq_ignore_ascii_case("optional"))
        })
        .map(located)
        .collect();
    let ssl_protocols: Vec<Protocols> = cfg
        .named("SSLProtocol")
        .into_iter()
        .map(|d| protocols(d, apache_protocols))
        .collect();
    for d in cfg.named("SSLOpenSSLConfCmd") {
        if let (Some(cmd), Some(file)) = (d.args.first(), d.args.get(1))
            && cmd.eq_ignore_ascii_case("DHParameters")
        {
            dh_refs.push(DhReference {
                file: join(root, file),
                directive: "SSLOpenSSLConfCmd DHParameters".into(),
                path: d.path.clone(),
                line: d.line,
            });
        }
    }
    Apache {
        installed,
        binary: installed.then(|| bin.to_string()),
        config: Some(config_summary(&cfg)),
        ssl_module,
        ssl_engine_on,
        ssl_protocols,
    }
}

fn postfix_facts(target: &dyn Target) -> Postfix {
    let binary = first_existing(target, POSTFIX_BINARIES);
    let main_cf = |found: bool, error: Option<String>, issues| MainCf {
        path: POSTFIX_MAIN_CF.to_string(),
        found,
        error,
        issues,
    };
    let (main_cf, parsed) = match target.read_text(POSTFIX_MAIN_CF) {
        Ok(text) => {
            let cfg = PostfixMainCf::parse(POSTFIX_MAIN_CF, &text);
            (main_cf(true, None, cfg.issues.clone()), Some(cfg))
        }
        Err(ReadError::NotFound) => (main_cf(false, None, Vec::new()), None),
        Err(e) => (main_cf(false, Some(e.to_string()), Vec::new()), None),
    };
    let mut settings = BTreeMap::new();
    if let Some(cfg) = &parsed {
        for name in POSTFIX_SETTINGS {
            if let Some(s) = cfg.get(name) {
                let value = s.value.clone().unwrap_or_default();
                let set = name.ends_with("_protocols").then(|| postfix_protocols(&value));
                let entry = PostfixSetting {
                    path: s.path.clone(),
                    line: s.line,
                    enabled: set.as_ref().map(|s| s.enabled.clone()),
                    unknown: set.map(|s| s.unknown),
                    value,
                };
                settings.insert((*name).to_string(), entry);
            }
        }
    }
    Postfix {
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        main_cf,
        settings,
    }
}

fn dh_facts(target: &dyn Target, refs: Vec<DhReference>) -> Vec<DhParamFile> {
    let mut out: Vec<DhParamFile> = Vec::new();
    let mut seen: Vec<(String, Option<(String, u32)>)> = Vec::new();
    let mut wanted: Vec<(String, Option<ReferencedBy>)> = Vec::new();
    if target.exists(DEFAULT_DHPARAM) {
        wanted.push((DEFAULT_DHPARAM.to_string(), None));
    }
    for r in refs {
        let by = ReferencedBy {
            directive: r.directive,
            path: r.path,
            line: r.line,
        };
        wanted.push((r.file, Some(by)));
    }
    for (file, by) in wanted {
        let key = (file.clone(), by.as_ref().map(|b| (b.path.clone(), b.line)));
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let mut entry = DhParamFile {
            path: file.clone(),
            referenced_by: by,
            exists: false,
            error: None,
            prime_bits: None,
            generator: None,
        };
        match target.read_text(&file) {
            Ok(text) => {
                entry.exists = true;
                match parse_dh_pem(&text) {
                    Ok(dh) => {
                        entry.prime_bits = Some(dh.prime_bits);
                        entry.generator = dh.generator;
                    }
                    Err(e) => entry.error = Some(format!("not DH parameters: {e}")),
                }
            }
            Err(ReadError::NotFound) => entry.error = Some("does not exist".into()),
            Err(e) => entry.error = Some(e.to_string()),
        }
        out.push(entry);
    }
    out
}

/// Applies an sshd algorithm list (`a,b`, `+a`, `-pat*`, `^a`) to OpenSSH's default list.
pub fn resolve_algorithms(default: &str, configured: &str) -> Vec<String> {
    let defaults = || default.split(',').map(String::from).collect::<Vec<_>>();
    let items = |s: &str| {
        s.split(',')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect::<Vec<_>>()
    };
    if let Some(rest) = configured.strip_prefix('+') {
        let mut out = defaults();
        for a in items(rest) {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    } else if let Some(rest) = configured.strip_prefix('-') {
        let patterns = items(rest);
        defaults()
            .into_iter()
            .filter(|a| !patterns.iter().any(|p| fnmatch(p, a)))
            .collect()
    } else if let Some(rest) = configured.strip_prefix('^') {
        let mut out = items(rest);
        for a in defaults() {
            if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    } else {
        items(configured)
    }
}

/// Whether `path` is a crypto-policies back-end (`/etc/crypto-policies/back-ends/*`, or the
/// `/usr/share/crypto-policies/<POLICY>/*` file those link to).
fn is_crypto_policy_backend(path: &str) -> bool {
    path.starts_with("/etc/crypto-policies/back-ends/")
        || path.starts_with("/usr/share/crypto-policies/")
}

fn sshd_facts(target: &dyn Target) -> Sshd {
    let binary = phipolicy_parsers::sshd::installed_binary(target);
    let cfg = EffectiveSshdConfig::load(target);
    let mut algorithms = BTreeMap::new();
    for (keyword, default) in SSHD_DEFAULT_ALGORITHMS {
        let entry = match cfg.get(keyword) {
            Some(d) => {
                let configured = d.args.first().cloned().unwrap_or_default();
                Algorithms {
                    effective: resolve_algorithms(default, &configured),
                    configured: Some(configured),
                    path: d.path.clone(),
                    line: d.line,
                    crypto_policy_backend: is_crypto_policy_backend(&d.path),
                }
            }
            None => Algorithms {
                configured: None,
                path: cfg.path.clone(),
                line: 0,
                effective: resolve_algorithms(default, ""),
                crypto_policy_backend: false,
            },
        };
        algorithms.insert((*keyword).to_string(), entry);
    }
    Sshd {
        installed: binary.is_some(),
        binary: binary.map(str::to_string),
        config_found: cfg.config_found,
        files: cfg.files,
        unreadable: cfg.unreadable,
        issues: cfg.issues,
        algorithms,
        command_line: CommandLine {
            unit: cfg.command_line.unit,
            environment_files: cfg.command_line.environment_files,
            options: cfg.command_line.options,
        },
    }
}

phipolicy_sdk::export_plugin!(TransmissionSecurity);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The checked-in schema is the schema of [`Facts`] (`PHIPOLICY_UPDATE_SCHEMAS=1` rewrites it).
    #[test]
    fn schema_is_fresh() {
        phipolicy_sdk::testing::check_schema_file::<Facts>(&phipolicy_sdk::testing::builtin_schema_path(
            "transmission-security",
        ));
    }

    fn facts(case: &str) -> Value {
        phipolicy_sdk::testing::fixture_facts::<TransmissionSecurity>(case)
    }

    #[test]
    fn debian_default_has_no_min_protocol_and_no_services() {
        let f = facts("tls-debian-default");
        assert_eq!(f["openssl"]["found"], true);
        assert_eq!(
            f["openssl"]["system_default"]["openssl_conf"]["value"],
            "openssl_init"
        );
        assert!(f["openssl"]["system_default"]["min_protocol"].is_null());
        assert_eq!(f["crypto_policy"]["found"], false);
        assert_eq!(f["nginx"]["installed"], false);
        assert_eq!(f["apache"]["installed"], false);
        assert_eq!(f["postfix"]["installed"], false);
        assert_eq!(f["sshd"]["installed"], true);
        assert!(f["sshd"]["algorithms"]["ciphers"]["configured"].is_null());
        assert_eq!(f["dh_params"], json!([]));
    }

    #[test]
    fn openssl_min_protocol_tlsv1() {
        let f = facts("tls-openssl-minprotocol-tlsv1");
        let min = &f["openssl"]["system_default"]["min_protocol"];
        assert_eq!(min["value"], "TLSv1");
        assert_eq!(min["line"], 398);
    }

    #[test]
    fn nginx_cases() {
        let weak = facts("tls-nginx-tlsv1");
        assert_eq!(weak["nginx"]["installed"], true);
        assert_eq!(
            weak["nginx"]["ssl_protocols"][0]["enabled"],
            json!(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
        );
        assert_eq!(weak["nginx"]["tls_servers"], json!([]));
        let hard = facts("tls-nginx-hardened");
        let protos = hard["nginx"]["ssl_protocols"].as_array().expect("list");
        assert_eq!(protos.len(), 2);
        assert_eq!(protos[1]["path"], "/etc/nginx/sites-enabled/phi-portal");
        assert_eq!(protos[1]["context"], "http > server");
        assert_eq!(hard["dh_params"][0]["prime_bits"], 2048);
        assert_eq!(
            hard["dh_params"][0]["referenced_by"]["directive"],
            "ssl_dhparam"
        );
        assert_eq!(
            hard["postfix"]["settings"]["smtpd_tls_protocols"]["enabled"],
            json!(["TLSv1.2", "TLSv1.3"])
        );
    }

    #[test]
    fn apache_sslv3_and_dh_parameters() {
        let f = facts("tls-apache-sslv3");
        assert_eq!(f["apache"]["installed"], true);
        assert_eq!(
            f["apache"]["ssl_module"]["path"],
            "/etc/apache2/mods-enabled/ssl.load"
        );
        let p = f["apache"]["ssl_protocols"].as_array().expect("list");
        assert_eq!(p.len(), 2);
        assert_eq!(
            p[0]["enabled"],
            json!(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
        );
        assert_eq!(p[1]["enabled"], json!(["SSLv3", "TLSv1.2"]));
        assert_eq!(
            f["dh_params"][0]["path"],
            "/etc/ssl/private/dhparams-2048.pem"
        );
        assert_eq!(f["dh_params"][0]["prime_bits"], 2048);
    }

    #[test]
    fn postfix_weak_exclusions() {
        let f = facts("tls-postfix-weak");
        let s = &f["postfix"]["settings"];
        assert_eq!(
            s["smtpd_tls_protocols"]["enabled"],
            json!(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
        );
        assert_eq!(
            s["smtpd_tls_mandatory_protocols"]["value"],
            "!SSLv2, !SSLv3"
        );
        assert_eq!(s["smtpd_tls_security_level"]["value"], "may");
    }

    #[test]
    fn dhparam_1024() {
        let f = facts("tls-dhparam-1024");
        assert_eq!(f["dh_params"][0]["path"], "/etc/ssl/dhparam.pem");
        assert_eq!(f["dh_params"][0]["prime_bits"], 1024);
        assert!(f["dh_params"][0]["referenced_by"].is_null());
    }

    #[test]
    fn sshd_cbc_modifiers() {
        let f = facts("tls-sshd-cbc");
        let c = &f["sshd"]["algorithms"]["ciphers"];
        assert_eq!(c["configured"], "+aes256-cbc,aes128-cbc");
        assert_eq!(c["path"], "/etc/ssh/sshd_config.d/50-legacy.conf");
        let eff: Vec<&str> = c["effective"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(eff.contains(&"aes256-cbc") && eff.contains(&"chacha20-poly1305@openssh.com"));
        let m = &f["sshd"]["algorithms"]["macs"]["effective"];
        assert!(
            m.as_array()
                .expect("list")
                .iter()
                .all(|v| v != "hmac-sha1-etm@openssh.com")
        );
        assert!(m.as_array().expect("list").iter().any(|v| v == "hmac-sha1"));
    }

    #[test]
    fn algorithm_modifiers() {
        let d = "a-ctr,b-cbc,hmac-sha1";
        assert_eq!(resolve_algorithms(d, "-*-cbc,hmac-sha1*"), vec!["a-ctr"]);
        assert_eq!(
            resolve_algorithms(d, "^x"),
            vec!["x", "a-ctr", "b-cbc", "hmac-sha1"]
        );
        assert_eq!(resolve_algorithms(d, "x,y"), vec!["x", "y"]);
        assert_eq!(
            resolve_algorithms(d, "+a-ctr,z"),
            vec!["a-ctr", "b-cbc", "hmac-sha1", "z"]
        );
    }

    #[test]
    fn rocky_crypto_policies_and_httpd() {
        let f = facts("tls-rocky-default");
        assert_eq!(f["crypto_policy"]["policy"]["base"], "DEFAULT");
        assert_eq!(f["crypto_policy"]["policy"]["line"], 2);
        assert_eq!(f["apache"]["installed"], true);
        assert_eq!(
            f["apache"]["ssl_module"]["path"],
            "/etc/httpd/conf.modules.d/00-ssl.conf"
        );
        assert_eq!(f["apache"]["ssl_protocols"], json!([]));
        assert_eq!(
            f["apache"]["ssl_engine_on"][0]["path"],
            "/etc/httpd/conf.d/ssl.conf"
        );
        let legacy = facts("tls-rocky8-legacy");
        assert_eq!(legacy["crypto_policy"]["policy"]["base"], "LEGACY");
        assert_eq!(legacy["os"]["version_id"], "8.9");
    }
}
