//! Tests of the `rsyslog` parser.

use super::*;
use phipolicy_sdk::testing::tree;

/// Debian 12's /etc/rsyslog.conf (rsyslog 8.2302.0-1+deb12u2), rules part.
const DEBIAN_CONF: &str = "module(load=\"imuxsock\") # provides support for local system logging\nmodule(load=\"imklog\")   # provides kernel logging support\n#module(load=\"immark\")  # provides --MARK-- message capability\n\n$FileOwner root\n$FileGroup adm\n$FileCreateMode 0640\n$DirCreateMode 0755\n$Umask 0022\n$WorkDirectory /var/spool/rsyslog\n$IncludeConfig /etc/rsyslog.d/*.conf\n*.*;auth,authpriv.none\t\t-/var/log/syslog\nauth,authpriv.*\t\t\t/var/log/auth.log\ncron.*\t\t\t\t-/var/log/cron.log\n*.emerg\t\t\t\t:omusrmsg:*\n";

#[test]
fn debian_default_forwards_nothing() {
    let (_r, t) = tree(&[("/etc/rsyslog.conf", DEBIAN_CONF)]);
    let c = load(&t);
    assert!(c.found);
    assert!(c.forwards.is_empty());
    assert!(c.issues.is_empty(), "{:?}", c.issues);
}

#[test]
fn guide_example_is_plain_tcp_and_legacy_tls_needs_directives_before() {
    let (_r, t) = tree(&[
        ("/etc/rsyslog.conf", DEBIAN_CONF),
        (
            "/etc/rsyslog.d/50-remote.conf",
            "*.* @@logs.internal.example.com:6514\n$DefaultNetstreamDriver gtls\n$ActionSendStreamDriverMode 1\n$ActionSendStreamDriverAuthMode x509/name\nauth,authpriv.* @@(o)[2001:db8::1]:6514;RSYSLOG_SyslogProtocol23Format\n*.info;mail.none @10.0.0.5\n",
        ),
    ]);
    let c = load(&t);
    assert_eq!(
        c.files,
        vec!["/etc/rsyslog.conf", "/etc/rsyslog.d/50-remote.conf"]
    );
    let f = &c.forwards;
    assert_eq!(f.len(), 3);
    assert_eq!(
        (f[0].protocol.as_str(), f[0].tls, f[0].port.as_str()),
        ("tcp", false, "6514")
    );
    assert_eq!(
        f[0].coverage,
        Some(Coverage {
            all: true,
            auth: true,
            authpriv: true
        })
    );
    assert_eq!((f[1].target.as_str(), f[1].tls), ("2001:db8::1", true));
    assert_eq!(
        f[1].coverage,
        Some(Coverage {
            all: false,
            auth: true,
            authpriv: true
        })
    );
    assert_eq!(
        f[1].stream_driver_auth_mode.as_ref().map(|v| v.line),
        Some(4)
    );
    assert_eq!(f[2].protocol, "udp");
    assert_eq!(f[2].coverage.as_ref().map(|c| c.auth), Some(true));
}

#[test]
fn rainerscript_multiline_conditional_and_global() {
    // Rocky 9's rsyslog.conf includes drop-ins with include(file=... mode="optional").
    let main = "global(workDirectory=\"/var/lib/rsyslog\")\nmodule(load=\"builtin:omfile\" Template=\"RSYSLOG_TraditionalFileFormat\")\ninclude(file=\"/etc/rsyslog.d/*.conf\" mode=\"optional\")\n*.info;mail.none;authpriv.none;cron.none                /var/log/messages\nauthpriv.*                                              /var/log/secure\n";
    let dropin = "global(DefaultNetstreamDriver=\"gtls\"\n       DefaultNetstreamDriverCAFile=\"/etc/pki/tls/certs/ca.pem\")\n*.* action(type=\"omfwd\"\n  target=\"logs.example.com\" port=\"6514\" protocol=\"tcp\"\n  StreamDriverMode=\"1\" StreamDriverAuthMode=\"anon\")\nif $programname == 'sshd' then {\n  action(type=\"omfwd\" target=\"10.1.1.1\" protocol=\"udp\")\n}\nruleset(name=\"remote\") {\n  action(type=\"omfwd\" target=\"x\" protocol=\"tcp\")\n}\ntemplate(name=\"t\" type=\"list\") { constant(value=\"}\") }\n:msg, contains, \"x\" @@y:1\n";
    let (_r, t) = tree(&[
        ("/etc/rsyslog.conf", main),
        ("/etc/rsyslog.d/10-fwd.conf", dropin),
    ]);
    let c = load(&t);
    assert!(c.issues.is_empty(), "{:?}", c.issues);
    let f = &c.forwards;
    assert_eq!(f.len(), 4, "{f:#?}");
    assert_eq!(
        (f[0].tls, f[0].line, f[0].target.as_str()),
        (true, 3, "logs.example.com")
    );
    assert_eq!(
        f[0].stream_driver_auth_mode
            .as_ref()
            .map(|v| v.value.as_str()),
        Some("anon")
    );
    assert_eq!(
        f[0].ca_file.as_ref().map(|v| v.value.as_str()),
        Some("/etc/pki/tls/certs/ca.pem")
    );
    assert_eq!(
        f[1].conditional.as_deref(),
        Some("if $programname == 'sshd' then")
    );
    assert_eq!(f[1].coverage, None);
    assert_eq!(
        f[2].conditional.as_deref(),
        Some("ruleset(name=\"remote\")")
    );
    assert_eq!((f[2].protocol.as_str(), f[2].tls), ("tcp", false));
    assert!(
        f[3].conditional
            .as_deref()
            .is_some_and(|c| c.starts_with("property filter"))
    );
}

#[test]
fn selectors_follow_rsyslog_masks() {
    let cov = |s| selector_coverage(s).map(|c| (c.all, c.auth, c.authpriv));
    assert_eq!(cov("*.*"), Some((true, true, true)));
    assert_eq!(cov("*.*;auth,authpriv.none"), Some((false, false, false)));
    assert_eq!(cov("*.info;mail.none"), Some((false, true, true)));
    assert_eq!(cov("*.notice"), Some((false, false, false)));
    assert_eq!(cov("auth.*;authpriv.!debug"), Some((false, true, false)));
    assert_eq!(cov("/var/log/x"), None);
}

#[test]
fn garbage_and_include_loops_never_panic() {
    let junk = "action(\n\"\u{0}\n}}}{{ if if then then\n$IncludeConfig /etc/rsyslog.conf\ninclude(file=\"/etc/rsyslog.conf\")\n@@\n@@(\n*.* @[::1\n/* unterminated\n:msg,\n& @@h\n\u{e9}.\u{e9} @x\nglobal(a=[1,2\n";
    let (_r, t) = tree(&[("/etc/rsyslog.conf", junk)]);
    let c = load(&t);
    assert_eq!(c.files, vec!["/etc/rsyslog.conf"]);
    for cut in 0..junk.len() {
        if let Some(prefix) = junk.get(..cut) {
            let (_r, t) = tree(&[("/etc/rsyslog.conf", prefix)]);
            let _ = load(&t);
        }
    }
}
