//! What a forwarding action needs to really send logs off the host, beside being configured: a
//! destination that is not this host (loopback addresses, `localhost`, the host's own name, names
//! the target's `/etc/hosts` maps to loopback), and, for TLS, the stream driver's module installed
//! (`lmnsd_gtls.so` from rsyslog-gnutls, `lmnsd_ossl.so` from rsyslog-openssl) and the CA file it
//! names holding a PEM certificate. rsyslog refuses an action whose driver it cannot load, and a
//! TLS session without its CA fails: either way nothing is forwarded.

use std::net::IpAddr;

use phipolicy_parsers::rsyslog::Forward;
use phipolicy_parsers::tls::pem_certificates;
use phipolicy_sdk::facts::Unreadable;
use phipolicy_sdk::{ReadError, Target, TargetExt};
use schemars::JsonSchema;
use serde::Serialize;

/// A forwarding action with what decides whether it really sends logs off the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ForwardFacts {
    /// The action as parsed.
    #[serde(flatten)]
    pub forward: Forward,
    /// Whether its target is this host.
    pub destination: Destination,
    /// The TLS stream driver's module; `null` when the action names no known TLS driver.
    pub driver_module: Option<DriverModule>,
    /// The CA file it names; `null` when it names none.
    pub ca: Option<CaFacts>,
}

/// Whether a forward's target reaches this host, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Destination {
    /// The target as written.
    pub host: String,
    /// It names this host (a loopback address, `localhost`, its own name, an `/etc/hosts`
    /// loopback mapping).
    pub loopback: bool,
    /// Why it is (or, for an `/etc/hosts` mapping, is not) this host; empty otherwise.
    pub why: String,
}

/// A TLS stream driver's module and whether it is installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DriverModule {
    /// The driver (`gtls`, `ossl`, `mbedtls`).
    pub driver: String,
    /// Its module file (`lmnsd_gtls.so`).
    pub module: String,
    /// The package that ships it.
    pub package: String,
    /// The module file found; `null` when it is not installed.
    pub found: Option<String>,
    /// Every path looked at, in order.
    pub searched: Vec<String>,
    /// rsyslog module directories that exist in the target.
    pub module_dirs_present: Vec<String>,
}

/// The CA file a TLS forward trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CaFacts {
    /// The file.
    pub path: String,
    /// Whether it exists; `null` when that could not be determined.
    pub exists: Option<bool>,
    /// PEM certificates in it.
    pub certificates: usize,
    /// What is wrong with it; `null` when it holds certificates.
    pub problem: Option<String>,
}

/// The resolver's static table.
pub const HOSTS: &str = "/etc/hosts";
/// The host's own name.
pub const HOSTNAME: &str = "/etc/hostname";

/// rsyslog's module directories: Debian/Ubuntu multiarch (amd64, arm64), RHEL, then the plain one.
pub const RSYSLOG_MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/rsyslog",
    "/usr/lib/aarch64-linux-gnu/rsyslog",
    "/usr/lib64/rsyslog",
    "/usr/lib/rsyslog",
];

/// TLS stream drivers: driver name, module file, and the package that ships it (Debian and RHEL
/// name them alike).
const TLS_DRIVERS: &[(&str, &str, &str)] = &[
    ("gtls", "lmnsd_gtls.so", "rsyslog-gnutls"),
    ("ossl", "lmnsd_ossl.so", "rsyslog-openssl"),
    ("mbedtls", "lmnsd_mbedtls.so", "rsyslog-mbedtls"),
];

/// Each forward with its `destination`, `driver_module` and `ca`.
pub fn annotate(
    target: &dyn Target,
    forwards: Vec<Forward>,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<ForwardFacts> {
    let names = LocalNames::load(target, unreadable);
    forwards
        .into_iter()
        .map(|forward| {
            let driver = forward
                .stream_driver
                .as_ref()
                .map(|d| d.value.to_ascii_lowercase());
            let driver_module = driver
                .as_deref()
                .and_then(|d| TLS_DRIVERS.iter().find(|(name, _, _)| *name == d))
                .map(|(name, file, package)| driver_module(target, name, file, package));
            let ca = forward
                .ca_file
                .as_ref()
                .map(|f| ca_facts(target, &f.value, unreadable));
            ForwardFacts {
                destination: names.destination(&forward.target),
                driver_module,
                ca,
                forward,
            }
        })
        .collect()
}

fn driver_module(target: &dyn Target, driver: &str, file: &str, package: &str) -> DriverModule {
    let searched: Vec<String> = RSYSLOG_MODULE_DIRS
        .iter()
        .map(|d| format!("{d}/{file}"))
        .collect();
    let found = searched.iter().find(|p| target.exists(p)).cloned();
    let module_dirs_present = RSYSLOG_MODULE_DIRS
        .iter()
        .filter(|d| target.exists(d))
        .map(|d| d.to_string())
        .collect();
    DriverModule {
        driver: driver.to_string(),
        module: file.to_string(),
        package: package.to_string(),
        found,
        searched,
        module_dirs_present,
    }
}

fn ca_facts(target: &dyn Target, path: &str, unreadable: &mut Vec<Unreadable>) -> CaFacts {
    let ca = |exists: Option<bool>, certificates: usize, problem: Option<String>| CaFacts {
        path: path.to_string(),
        exists,
        certificates,
        problem,
    };
    match target.read_text(path) {
        Ok(text) => match pem_certificates(&text) {
            Ok(n) => ca(Some(true), n, None),
            Err(why) => ca(Some(true), 0, Some(why)),
        },
        Err(ReadError::NotFound) => ca(Some(false), 0, Some("does not exist".into())),
        Err(e) => {
            unreadable.push(Unreadable::new(path, &e));
            ca(None, 0, Some(e.to_string()))
        }
    }
}

/// The names that reach this host: its own name and what `/etc/hosts` maps.
struct LocalNames {
    hostname: Option<String>,
    /// (address, names, line) of each `/etc/hosts` line.
    hosts: Vec<(String, Vec<String>, u32)>,
}

impl LocalNames {
    fn load(target: &dyn Target, unreadable: &mut Vec<Unreadable>) -> LocalNames {
        let mut read = |path: &str| match target.read_text(path) {
            Ok(t) => Some(t),
            Err(ReadError::NotFound) => None,
            Err(e) => {
                unreadable.push(Unreadable::new(path, &e));
                None
            }
        };
        let hostname = read(HOSTNAME)
            .and_then(|t| {
                t.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                    .find(|l| !l.is_empty())
            })
            .map(|h| h.to_ascii_lowercase());
        let hosts = read(HOSTS)
            .map(|text| {
                text.lines()
                    .zip(1u32..)
                    .filter_map(|(l, n)| {
                        let mut words = l.split('#').next().unwrap_or("").split_whitespace();
                        let addr = words.next()?.to_string();
                        let names: Vec<String> = words.map(str::to_ascii_lowercase).collect();
                        (!names.is_empty()).then_some((addr, names, n))
                    })
                    .collect()
            })
            .unwrap_or_default();
        LocalNames { hostname, hosts }
    }

    /// Whether `host` (a forward's target) is this host, and why.
    fn destination(&self, host: &str) -> Destination {
        let name = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let verdict = |loopback: bool, why: String| Destination {
            host: host.to_string(),
            loopback,
            why,
        };
        if let Some(why) = loopback_address(&name) {
            return verdict(true, why);
        }
        if name == "localhost" || name.ends_with(".localhost") {
            return verdict(true, format!("`{name}` always names this host (RFC 6761)"));
        }
        if let Some(own) = &self.hostname {
            let short = own.split('.').next().unwrap_or(own);
            if name == *own || (!name.contains('.') && name == short) {
                return verdict(
                    true,
                    format!("`{name}` is this host's own name ({HOSTNAME})"),
                );
            }
        }
        // The first /etc/hosts line naming it is what the resolver answers (files before dns).
        if let Some((addr, _, line)) = self
            .hosts
            .iter()
            .find(|(_, names, _)| names.contains(&name))
        {
            if let Some(why) = loopback_address(addr) {
                return verdict(
                    true,
                    format!("{HOSTS}:{line} maps `{name}` to {addr}: {why}"),
                );
            }
            return verdict(false, format!("{HOSTS}:{line} maps `{name}` to {addr}"));
        }
        verdict(false, String::new())
    }
}

/// Why an address literal reaches this host, if it does: 127.0.0.0/8, ::1, IPv4-mapped loopback,
/// and the unspecified address (a connect to 0.0.0.0 or :: reaches the local host on Linux).
fn loopback_address(text: &str) -> Option<String> {
    let ip: IpAddr = text.parse().ok()?;
    let local = match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_unspecified(),
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_unspecified())
        }
    };
    local.then(|| format!("{text} is a loopback address of this host"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(hostname: &str, hosts: &str) -> LocalNames {
        let (_root, target) =
            phipolicy_sdk::testing::tree(&[("/etc/hostname", hostname), ("/etc/hosts", hosts)]);
        LocalNames::load(&target, &mut Vec::new())
    }

    #[test]
    fn loopback_names_and_addresses_are_not_off_the_host() {
        let n = names(
            "web01\n",
            "127.0.0.1\tlocalhost\n127.0.1.1\tweb01.example.org web01\n::1 ip6-localhost\n10.0.0.5 logs.internal.example.com\n127.0.0.2 sneaky-logs\n",
        );
        for host in [
            "127.0.0.1",
            "127.3.4.5",
            "::1",
            "[::1]",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "localhost",
            "LOCALHOST.",
            "logs.localhost",
            "web01",
            "sneaky-logs",
            "web01.example.org",
            "ip6-localhost",
        ] {
            assert!(n.destination(host).loopback, "{host}");
        }
        for host in [
            "logs.internal.example.com",
            "10.1.2.3",
            "2001:db8::1",
            "logs",
        ] {
            assert!(!n.destination(host).loopback, "{host}");
        }
        assert!(
            n.destination("sneaky-logs")
                .why
                .starts_with("/etc/hosts:5 maps")
        );
    }

    #[test]
    fn pem_certificates_are_counted_and_garbage_is_named() {
        assert!(pem_certificates("not a certificate").is_err());
        let der_seq = "MAA="; // 0x30 0x00: an empty SEQUENCE
        let pem = format!("-----BEGIN CERTIFICATE-----\n{der_seq}\n-----END CERTIFICATE-----\n");
        assert_eq!(pem_certificates(&format!("{pem}{pem}")), Ok(2));
        assert!(pem_certificates("-----BEGIN CERTIFICATE-----\nMAA=\n").is_err());
    }
}
