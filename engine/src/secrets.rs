//! Secret material inside a target: files whose contents phipolicy never quotes, copies or serves
//! to a plugin that did not name them exactly.
//!
//! Password hashes (`/etc/shadow`, `/etc/gshadow`, `/etc/security/opasswd` and their `-` backups),
//! private keys (sshd host keys, `/etc/ssl/private`, `/etc/pki/tls/private`) and restic password
//! files. A configuration a hostile target controls may link or name any of these; the evidence of
//! a scan (result document, reports, evidence bundles) records their metadata and hash only.

/// Exact paths that hold secrets.
pub const SECRET_FILES: &[&str] = &[
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/security/opasswd",
    "/etc/security/opasswd.old",
];

/// Directories whose every file is a secret.
const SECRET_DIRS: &[&str] = &["/etc/ssl/private/", "/etc/pki/tls/private/"];

/// Whether `path` (absolute, normalised, inside the target) holds secret material by its name:
/// the files above, anything under the private-key directories, and sshd's private host keys
/// (`/etc/ssh/ssh_host_*_key`, not the `.pub` halves). Restic password files are secrets too but
/// are known only from the configuration that names them (see `contingency-backup`).
pub fn is_secret_path(path: &str) -> bool {
    if SECRET_FILES.contains(&path) || SECRET_DIRS.iter().any(|d| path.starts_with(d)) {
        return true;
    }
    path.strip_prefix("/etc/ssh/ssh_host_")
        .is_some_and(|rest| rest.ends_with("_key") && !rest.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::is_secret_path;

    #[test]
    fn secrets_by_name() {
        for p in [
            "/etc/shadow",
            "/etc/gshadow-",
            "/etc/ssh/ssh_host_ed25519_key",
            "/etc/ssl/private/server.key",
            "/etc/pki/tls/private/localhost.key",
        ] {
            assert!(is_secret_path(p), "{p}");
        }
        for p in [
            "/etc/passwd",
            "/etc/ssh/ssh_host_ed25519_key.pub",
            "/etc/ssh/sshd_config",
            "/etc/ssl/certs/ca.pem",
            "/etc/ssl/privateer",
        ] {
            assert!(!is_secret_path(p), "{p}");
        }
    }
}
