//! Tests of the TLS parsers on real distribution files and hostile input.

use super::*;
use super::apache::apache_words;
use super::dhparam::parse_dh_der;
use super::nginx::nginx_tokens;
use phipolicy_sdk::testing::tree;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/tests/fixtures");

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{rel}"))
        .unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

#[test]
fn debian_openssl_cnf_has_no_system_default_section() {
    let text = fixture("tls-debian-default/root/etc/ssl/openssl.cnf");
    let (_root, t) = tree(&[]);
    let cfg = OpensslConfig::parse_text("/etc/ssl/openssl.cnf", &text, &t);
    let sd = cfg.system_default();
    let init = sd.openssl_conf.expect("openssl_conf");
    assert_eq!(init.value, "openssl_init");
    assert_eq!(init.line, 17);
    assert!(sd.ssl_conf.is_none());
    assert!(
        sd.missing_section.is_none(),
        "[openssl_init] holds only comments but exists"
    );
    assert!(cfg.sections.contains(&"openssl_init".to_string()));
    assert!(sd.min_protocol.is_none());
    assert!(cfg.get("CA_default", "default_md").is_some());
}

#[test]
fn system_default_chain_through_include() {
    let (_root, t) = tree(&[
        (
            "/etc/ssl/openssl.cnf",
            "openssl_conf = init\n[init]\nssl_conf = ssl_sect\n.include /etc/ssl/openssl.cnf.d\n",
        ),
        (
            "/etc/ssl/openssl.cnf.d/50-tls.cnf",
            "[ssl_sect]\nsystem_default = sys # comment\n[sys]\nMinProtocol = TLSv1\nMinProtocol = \"TLSv1.2\"\nCipherString = DEFAULT:@SECLEVEL=2\n",
        ),
        ("/etc/ssl/openssl.cnf.d/README", "not read"),
    ]);
    let cfg = OpensslConfig::load(&t, "/etc/ssl/openssl.cnf");
    assert_eq!(cfg.report.files.len(), 2);
    let sd = cfg.system_default();
    let min = sd.min_protocol.expect("MinProtocol");
    assert_eq!(min.value, "TLSv1.2");
    assert_eq!(min.path, "/etc/ssl/openssl.cnf.d/50-tls.cnf");
    assert_eq!(min.line, 5);
    assert_eq!(sd.system_default.map(|s| s.value).as_deref(), Some("sys"));
}

#[test]
fn chain_to_missing_section_is_reported() {
    let (_root, t) = tree(&[]);
    let cfg = OpensslConfig::parse_text("/x", "openssl_conf = nowhere\n", &t);
    assert_eq!(
        cfg.system_default().missing_section.as_deref(),
        Some("nowhere")
    );
}

#[test]
fn crypto_policy_with_subpolicy() {
    let p = CryptoPolicy::parse("/etc/crypto-policies/config", "# comment\n\nDEFAULT:SHA1\n")
        .expect("policy");
    assert_eq!(p.base, "DEFAULT");
    assert_eq!(p.subpolicies, vec!["SHA1"]);
    assert_eq!(p.line, 3);
    assert!(CryptoPolicy::parse("/c", "# nothing\n").is_none());
}

#[test]
fn debian_nginx_conf_enables_tlsv1() {
    let (_root, t) = tree(&[
        (
            "/etc/nginx/nginx.conf",
            &fixture("tls-nginx-tlsv1/root/etc/nginx/nginx.conf"),
        ),
        (
            "/etc/nginx/mime.types",
            &fixture("tls-nginx-tlsv1/root/etc/nginx/mime.types"),
        ),
    ]);
    let cfg = ServerConfig::load_nginx(&t, "/etc/nginx/nginx.conf");
    assert!(cfg.report.issues.is_empty(), "{:?}", cfg.report.issues);
    let p = cfg.named("ssl_protocols");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 33);
    assert_eq!(p[0].context, "http");
    assert_eq!(
        nginx_protocols(&p[0].args).enabled,
        vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    );
}

#[test]
fn nginx_include_glob_and_server_block() {
    let (_root, t) = tree(&[
        (
            "/etc/nginx/nginx.conf",
            "http {\n  include /etc/nginx/sites-enabled/*;\n}\n",
        ),
        (
            "/etc/nginx/sites-enabled/phi",
            "server {\n listen 443 ssl;\n ssl_protocols \"TLSv1.2\" TLSv1.3;\n ssl_dhparam dh.pem; # x\n}\n",
        ),
    ]);
    let cfg = ServerConfig::load_nginx(&t, "/etc/nginx/nginx.conf");
    let d = cfg.named("ssl_dhparam");
    assert_eq!(d[0].args, vec!["dh.pem"]);
    assert_eq!(d[0].context, "http > server");
    assert_eq!(d[0].line, 4);
    let p = cfg.named("ssl_protocols");
    assert_eq!(
        nginx_protocols(&p[0].args).enabled,
        vec!["TLSv1.2", "TLSv1.3"]
    );
}

#[test]
fn debian_apache_ssl_conf() {
    let (_root, t) = tree(&[
        (
            "/etc/apache2/apache2.conf",
            &fixture("tls-apache-sslv3/root/etc/apache2/apache2.conf"),
        ),
        (
            "/etc/apache2/mods-enabled/ssl.conf",
            &fixture("tls-apache-sslv3/root/etc/apache2/mods-available/ssl.conf"),
        ),
        (
            "/etc/apache2/mods-enabled/ssl.load",
            "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n",
        ),
    ]);
    let cfg = ServerConfig::load_apache(&t, "/etc/apache2/apache2.conf", "/etc/apache2");
    assert!(
        cfg.report
            .files
            .contains(&"/etc/apache2/mods-enabled/ssl.conf".to_string())
    );
    assert_eq!(cfg.named("LoadModule").len(), 1);
    let p = cfg.named("SSLProtocol");
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 71);
    assert_eq!(p[0].context, "");
    let vhost = ServerConfig::load_apache(
        &tree(&[("/etc/apache2/apache2.conf", "<IfModule mod_ssl.c>\n<VirtualHost *:443>\nSSLProtocol \\\n  -all +TLSv1.2\n</VirtualHost>\n</IfModule>\n")]).1,
        "/etc/apache2/apache2.conf",
        "/etc/apache2",
    );
    let d = vhost.named("sslprotocol");
    assert_eq!(d[0].context, "IfModule mod_ssl.c > VirtualHost *:443");
    assert_eq!(d[0].args, vec!["-all", "+TLSv1.2"]);
}

#[test]
fn apache_protocol_arithmetic() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        apache_protocols(&s(&["all", "-SSLv3"])).enabled,
        vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        apache_protocols(&s(&["-all", "+TLSv1.2", "+TLSv1.3"])).enabled,
        vec!["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(apache_protocols(&s(&["TLSv1.2"])).enabled, vec!["TLSv1.2"]);
    assert_eq!(apache_protocols(&s(&["+bogus"])).unknown, vec!["+bogus"]);
}

#[test]
fn postfix_protocol_syntaxes() {
    assert_eq!(
        postfix_protocols("!SSLv2, !SSLv3").enabled,
        vec!["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        postfix_protocols(">=TLSv1.2").enabled,
        vec!["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        postfix_protocols("!SSLv2:!SSLv3:!TLSv1:!TLSv1.1").enabled,
        vec!["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(
        postfix_protocols("TLSv1.2 TLSv1.3").enabled,
        vec!["TLSv1.2", "TLSv1.3"]
    );
    assert_eq!(postfix_protocols("").enabled.len(), 5);
}

#[test]
fn postfix_main_cf_continuation_and_last_wins() {
    let text = fixture("tls-postfix-weak/root/etc/postfix/main.cf");
    let cfg = PostfixMainCf::parse("/etc/postfix/main.cf", &text);
    assert!(cfg.get("smtpd_banner").is_some());
    let c = PostfixMainCf::parse("/m", "a = 1\n  2\n# c\na = 3\n");
    assert_eq!(c.get("a").and_then(|s| s.value.as_deref()), Some("3"));
    assert_eq!(
        c.settings.first().and_then(|s| s.value.as_deref()),
        Some("1 2")
    );
}

#[test]
fn real_dh_parameters() {
    let weak =
        parse_dh_pem(&fixture("tls-dhparam-1024/root/etc/ssl/dhparam.pem")).expect("1024");
    assert_eq!(weak.prime_bits, 1024);
    assert_eq!(weak.generator, Some(2));
    let strong =
        parse_dh_pem(&fixture("tls-nginx-hardened/root/etc/nginx/dhparam.pem")).expect("2048");
    assert_eq!(strong.prime_bits, 2048);
    assert!(
        parse_dh_pem("-----BEGIN DH PARAMETERS-----\n!!!\n-----END DH PARAMETERS-----")
            .is_err()
    );
    assert!(parse_dh_pem("nothing").is_err());
}

#[test]
fn garbage_never_panics() {
    let (_root, t) = tree(&[]);
    let mut seed: u32 = 12345;
    let alphabet: &[u8] =
        b"[]{};=\"'\\#!<>/ \n\tabcMinProtocol.include-----BEGIN DH PARAMETERS0\xff";
    for len in [0usize, 1, 7, 64, 400] {
        for _ in 0..60 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let i = (seed >> 16) as usize % alphabet.len();
                    alphabet.get(i).copied().unwrap_or(b'a')
                })
                .collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = OpensslConfig::parse_text("/g", &text, &t).system_default();
            let _ = CryptoPolicy::parse("/g", &text);
            let _ = nginx_tokens(&text);
            let _ = apache_words(&text);
            let _ = postfix_protocols(&text);
            let _ = PostfixMainCf::parse("/g", &text);
            let _ = parse_dh_pem(&text);
            let _ = parse_dh_der(&bytes);
        }
    }
    let (_r, t2) = tree(&[
        ("/etc/nginx/nginx.conf", "}}} { include x; \"unterminated"),
        ("/etc/apache2/a.conf", "</x>\n<y\nInclude a.conf\n"),
    ]);
    let _ = ServerConfig::load_nginx(&t2, "/etc/nginx/nginx.conf");
    let cfg = ServerConfig::load_apache(&t2, "/etc/apache2/a.conf", "/etc/apache2");
    assert!(!cfg.report.issues.is_empty());
}
