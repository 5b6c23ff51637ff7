//! The facts this plugin returns ([`Facts`]); their JSON Schema is
//! `policies/hipaa/schemas/transmission-security.json`. Every setting carries its `path` and `line`.

use std::collections::BTreeMap;

use phipolicy_parsers::os_release::OsRelease;
use phipolicy_parsers::sshd::cmdline::CommandLineOption;
use phipolicy_parsers::tls::{CryptoPolicy, OpensslSystemDefault};
use phipolicy_sdk::facts::{ParseIssue, Unreadable};
use schemars::JsonSchema;
use serde::Serialize;

/// What this plugin returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Facts {
    /// The target's os-release, `null` when it has none.
    pub os: Option<OsRelease>,
    /// The system OpenSSL configuration and its `system_default` TLS floor (Debian).
    pub openssl: Openssl,
    /// The system-wide crypto policy (RHEL).
    pub crypto_policy: CryptoPolicyFacts,
    /// nginx.
    pub nginx: Nginx,
    /// Apache httpd.
    pub apache: Apache,
    /// Postfix's TLS settings.
    pub postfix: Postfix,
    /// DH parameter files: the hardening guide's default one when it exists, and every file a
    /// server directive names.
    pub dh_params: Vec<DhParamFile>,
    /// sshd's algorithm lists.
    pub sshd: Sshd,
}

/// `/etc/ssl/openssl.cnf` and what it sets for every TLS context.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Openssl {
    /// The file.
    pub path: String,
    /// Whether it was read.
    pub found: bool,
    /// Files read (includes), in order.
    pub files: Vec<String>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
    /// The `system_default` chain and its settings.
    pub system_default: OpensslSystemDefault,
}

/// `/etc/crypto-policies/config` and its subpolicy modules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CryptoPolicyFacts {
    /// The file.
    pub path: String,
    /// Whether it was read.
    pub found: bool,
    /// Why it could not be read; `null` when it was read or does not exist.
    pub error: Option<String>,
    /// The module file of each subpolicy of the policy in force.
    pub subpolicy_modules: Vec<Subpolicy>,
    /// The policy set; `null` when the file is absent or sets none.
    pub policy: Option<CryptoPolicy>,
}

/// A subpolicy's module file and the lines in it that set protocol versions (a module without such
/// a line cannot lower the base policy's TLS floor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Subpolicy {
    /// The subpolicy's name.
    pub name: String,
    /// Its `.pmod` file (local first); `null` when none was found.
    pub path: Option<String>,
    /// Whether a module file was found.
    pub found: bool,
    /// `protocol`, `protocol@SCOPE`, `min_tls_version` and `min_dtls_version` lines.
    pub protocol_lines: Vec<TextLine>,
}

/// A line of a file as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TextLine {
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
    /// Its text, trimmed.
    pub text: String,
}

/// What a web server's configuration loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ConfigSummary {
    /// The main configuration file.
    pub path: String,
    /// Whether it was read.
    pub found: bool,
    /// Files read (includes), in order.
    pub files: Vec<String>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// A server directive, located.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DirectiveAt {
    /// The directive and its arguments.
    pub detail: String,
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
    /// The block it is in (`http > server`, a `VirtualHost`, ...).
    pub context: String,
}

/// A protocol directive (`ssl_protocols`, `SSLProtocol`) and the protocols it enables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Protocols {
    /// Its arguments as written.
    pub args: Vec<String>,
    /// The protocols it enables.
    pub enabled: Vec<String>,
    /// Arguments that name no protocol the server knows.
    pub unknown: Vec<String>,
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
    /// The block it is in.
    pub context: String,
}

/// nginx: installed, where it serves TLS, and its protocol settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Nginx {
    /// Whether an nginx binary exists.
    pub installed: bool,
    /// The binary found, `null` when none.
    pub binary: Option<String>,
    /// `/etc/nginx/nginx.conf` and its includes.
    pub config: ConfigSummary,
    /// Directives that make it serve TLS (`listen ... ssl`, `ssl_certificate`, `ssl on`).
    pub tls_servers: Vec<DirectiveAt>,
    /// Every `ssl_protocols` directive.
    pub ssl_protocols: Vec<Protocols>,
}

/// Apache httpd: installed, whether mod_ssl is loaded and used, and its protocol settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Apache {
    /// Whether an httpd binary exists.
    pub installed: bool,
    /// The binary found, `null` when none.
    pub binary: Option<String>,
    /// The main configuration and its includes; `null` when neither binary nor configuration
    /// exists.
    pub config: Option<ConfigSummary>,
    /// The `LoadModule ssl_module` line, `null` when none.
    pub ssl_module: Option<DirectiveAt>,
    /// `SSLEngine on|optional` lines.
    pub ssl_engine_on: Vec<DirectiveAt>,
    /// Every `SSLProtocol` directive.
    pub ssl_protocols: Vec<Protocols>,
}

/// Postfix: installed, and its TLS settings in `main.cf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Postfix {
    /// Whether a postfix binary exists.
    pub installed: bool,
    /// The binary found, `null` when none.
    pub binary: Option<String>,
    /// `/etc/postfix/main.cf`.
    pub main_cf: MainCf,
    /// `smtpd_tls_protocols`, `smtpd_tls_mandatory_protocols`, `smtpd_tls_security_level`,
    /// `smtpd_use_tls`: those that are set.
    pub settings: BTreeMap<String, PostfixSetting>,
}

/// Whether `main.cf` was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MainCf {
    /// The file.
    pub path: String,
    /// Whether it was read.
    pub found: bool,
    /// Why it could not be read; `null` when it was read or does not exist.
    pub error: Option<String>,
    /// Lines that could not be parsed.
    pub issues: Vec<ParseIssue>,
}

/// A Postfix setting in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PostfixSetting {
    /// The value ("" for a name without one).
    pub value: String,
    /// The file.
    pub path: String,
    /// The line.
    pub line: u32,
    /// `*_protocols` settings: the protocols enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<Vec<String>>,
    /// `*_protocols` settings: words that name no protocol.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown: Option<Vec<String>>,
}

/// A DH parameters file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DhParamFile {
    /// The file.
    pub path: String,
    /// The directive that names it; `null` for the default file.
    pub referenced_by: Option<ReferencedBy>,
    /// Whether it was read.
    pub exists: bool,
    /// Why it could not be read or is not DH parameters; `null` otherwise.
    pub error: Option<String>,
    /// The prime's size in bits; `null` when not read.
    pub prime_bits: Option<u32>,
    /// The generator; `null` when not read or too large.
    pub generator: Option<u64>,
}

/// The server directive that names a DH parameters file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ReferencedBy {
    /// `ssl_dhparam` or `SSLOpenSSLConfCmd DHParameters`.
    pub directive: String,
    /// The file of the directive.
    pub path: String,
    /// Its line.
    pub line: u32,
}

/// sshd's configuration as it bears on the algorithms it offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Sshd {
    /// Whether an sshd binary exists.
    pub installed: bool,
    /// The binary found, `null` when none.
    pub binary: Option<String>,
    /// Whether the main configuration file was read.
    pub config_found: bool,
    /// Files read, in order.
    pub files: Vec<String>,
    /// Files that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// Lines sshd would reject, dangling includes, include loops.
    pub issues: Vec<ParseIssue>,
    /// `ciphers`, `macs`, `kexalgorithms`: the list in force.
    pub algorithms: BTreeMap<String, Algorithms>,
    /// sshd's command line as its systemd unit starts it.
    pub command_line: CommandLine,
}

/// One sshd algorithm list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Algorithms {
    /// The list as configured (`+a`, `-pat*`, `^a` forms included); `null` when not set.
    pub configured: Option<String>,
    /// The file that sets it (the main configuration file when not set).
    pub path: String,
    /// Its line; 0 when not set.
    pub line: u32,
    /// The list sshd offers: the configured one applied to OpenSSH's default.
    pub effective: Vec<String>,
    /// Set by the system crypto policy (a generated back-end): changed with
    /// update-crypto-policies, never by editing the file.
    pub crypto_policy_backend: bool,
}

/// sshd's command line (the `-o` options its unit passes win over the configuration files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CommandLine {
    /// The unit file read, if any.
    pub unit: Option<String>,
    /// Environment files read, in order.
    pub environment_files: Vec<String>,
    /// The `-o` options, in order.
    pub options: Vec<CommandLineOption>,
}
