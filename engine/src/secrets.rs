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

/// Directories whose every file is a secret (except DH parameters, see [`is_secret`]).
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

/// Whether a file read at `path` with `contents` is secret material: [`is_secret_path`], except
/// a file under a private-key directory whose contents are only DH parameters (public values
/// that Debian's and RHEL's guides put beside the keys, and that the TLS checks must read).
pub fn is_secret(path: &str, contents: &[u8]) -> bool {
    if !is_secret_path(path) {
        return false;
    }
    let in_private_dir = SECRET_DIRS.iter().any(|d| path.starts_with(d));
    !(in_private_dir && only_dh_parameters(contents))
}

/// PEM text holding DH parameters and nothing else (no other PEM block, no key).
fn only_dh_parameters(contents: &[u8]) -> bool {
    let text = String::from_utf8_lossy(contents);
    let mut blocks = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("-----BEGIN "))
        .peekable();
    blocks.peek().is_some()
        && blocks.all(|b| b == "DH PARAMETERS-----" || b == "X9.42 DH PARAMETERS-----")
        && !text.contains("PRIVATE KEY")
}

#[cfg(test)]
mod tests {
    use super::{is_secret, is_secret_path};

    #[test]
    fn dh_parameters_beside_the_keys_are_not_secret() {
        let dh = b"-----BEGIN DH PARAMETERS-----\nMIIBCAKCAQEA\n-----END DH PARAMETERS-----\n";
        assert!(!is_secret("/etc/ssl/private/dhparams.pem", dh));
        let key = b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
        assert!(is_secret("/etc/ssl/private/server.key", key));
        let both = [&dh[..], &key[..]].concat();
        assert!(is_secret("/etc/ssl/private/dhparams.pem", &both));
        assert!(is_secret("/etc/ssl/private/empty", b""));
        // Fixed secret files are secret whatever they hold.
        assert!(is_secret("/etc/shadow", dh));
    }

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
