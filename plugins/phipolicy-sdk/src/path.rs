//! In-target paths, lexically: the one definition of normalising, joining and splitting that the
//! SDK, the parsers, the built-in plugins and the engine's view share, so they agree on what a
//! path names.
//!
//! ```
//! use phipolicy_sdk::path::{file_name, join, normalize, normalize_from_root, parent};
//!
//! assert_eq!(normalize("/etc/ssh/../pam.d/./sshd").as_deref(), Some("/etc/pam.d/sshd"));
//! assert_eq!(normalize("relative/path"), None);
//! assert_eq!(normalize_from_root("../../etc//shadow"), "/etc/shadow");
//! assert_eq!(join("/etc/ssh", "sshd_config.d/a.conf"), "/etc/ssh/sshd_config.d/a.conf");
//! assert_eq!(parent("/etc/ssh/sshd_config"), "/etc/ssh");
//! assert_eq!(file_name("/etc/ssh/sshd_config"), "sshd_config");
//! ```

/// Lexically normalises an absolute path inside the target: drops `.` and empty components and
/// applies `..`, clamped at the root (as the engine's view and chroot do). `None`: not absolute.
pub fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// [`normalize`] for a path that may be relative: a relative path is taken from `/` (symlink
/// targets and archive member names, which name in-target paths without a leading slash).
pub fn normalize_from_root(path: &str) -> String {
    normalize(&format!("/{path}")).unwrap_or_else(|| "/".into())
}

/// Joins `rel` onto the absolute directory `base` (lexically; `rel` absolute wins).
pub fn join(base: &str, rel: &str) -> String {
    if rel.starts_with('/') {
        rel.to_string()
    } else if base.ends_with('/') {
        format!("{base}{rel}")
    } else {
        format!("{base}/{rel}")
    }
}

/// The directory part of an absolute path ("/etc/ssh/sshd_config" -> "/etc/ssh").
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => "/",
    }
}

/// The last component of a path.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_dot_clamps_at_the_root() {
        assert_eq!(
            normalize("/../../etc/./x/../shadow").as_deref(),
            Some("/etc/shadow")
        );
        assert_eq!(normalize("/").as_deref(), Some("/"));
        assert_eq!(normalize("//etc//ssh/").as_deref(), Some("/etc/ssh"));
        assert_eq!(normalize_from_root(""), "/");
        assert_eq!(normalize_from_root("/a/b/.."), "/a");
        assert_eq!(parent("/etc"), "/");
        assert_eq!(parent("name"), "/");
        assert_eq!(join("/", "etc"), "/etc");
        assert_eq!(join("/etc", "/abs"), "/abs");
    }
}
