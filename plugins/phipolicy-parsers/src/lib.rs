//! Configuration parsers for phipolicy plugins, one format per module: what the built-in
//! plugins read, for third-party plugins to reuse.
//!
//! Every parser is total: it never panics on any input and returns what it understood together
//! with located issues ([`phipolicy_sdk::facts::ParseIssue`]) for what it did not; loaders read
//! through a [`phipolicy_sdk::Target`], follow includes the way the program does (bounded by named
//! limits), and cite every value with its file and line ([`phipolicy_sdk::Located`]).
//!
//! ```
//! use phipolicy_parsers::keyvalue::{Dialect, KeyValueFile, MergedSettings};
//!
//! let file = KeyValueFile::parse("/etc/login.defs", "PASS_MAX_DAYS\t90\n", Dialect::Whitespace);
//! let merged = MergedSettings::merge([&file]);
//! let max = merged.get("PASS_MAX_DAYS").unwrap();
//! assert_eq!((max.value.as_deref(), max.line), (Some("90"), 1));
//! ```
//!
//! Modules: [`sshd`] (effective `sshd_config` and the options systemd passes), [`pam`] (stacks,
//! includes, module lookup, and [`pam::exec`] which evaluates a stack's control flow), [`shell`]
//! (bash login profiles, reduced to `TMOUT`), [`tls`] (OpenSSL, crypto-policies, nginx, Apache,
//! Postfix, DH parameters), [`schedule`] (cron, systemd units, shell scripts, restic command
//! lines), [`rsyslog`], [`audit_rules`], [`accounts`] (passwd/shadow/group), [`keyvalue`]
//! (login.defs, pwquality.conf, faillock.conf), [`os_release`], [`storage`] (crypttab, fstab,
//! mounts, block devices). [`cursor`] is the character cursor the hand-written lexers share.

pub mod accounts;
pub mod audit_rules;
pub mod cursor;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod keyvalue;
pub mod os_release;
pub mod pam;
pub mod rsyslog;
pub mod schedule;
pub mod shell;
pub mod sshd;
pub mod storage;
pub mod tls;
