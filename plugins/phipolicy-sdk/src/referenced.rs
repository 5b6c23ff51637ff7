//! Referenced reads: a plugin may read a path outside its manifest's globs when a configuration
//! file it read names that path (sshd's `Include` and `Banner`, PAM's `include`, rsyslog's
//! `$IncludeConfig` and CA files, a cron line's script, restic's `--password-file`, nginx's
//! `ssl_certificate`, ...).
//!
//! [`Citing`] does this for every plugin: it wraps the engine's target, remembers the text of
//! each file read, and when the engine answers `undeclared` it looks for a (non-comment) line of
//! those files that names the path, cites it ([`Target::cite`]) and asks again. The engine checks
//! the cited line with the same rule, [`line_names_path`], before it serves the path, and records
//! `path` granted by `file:line` in the result document.

use std::cell::RefCell;

use crate::path::{join, normalize, parent};
use crate::target::{DirEntry, FileStat, ReadError, Target};

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Text of read files kept for finding citations: config files are kilobytes; beyond this the
    /// oldest texts are dropped (a citation then fails as an undeclared read would).
    pub const MAX_REMEMBERED_BYTES: usize = 16 << 20;
}
use limits::*;

/// Whether a configuration line names `path` (absolute, normalised; a glob when it has `*`, `?`
/// or `[`): one of its words — split at blanks, quotes, `=`, `,`, `;` and parentheses, without
/// systemd's `-@+!:` prefixes — is `path`, a glob that matches `path`, or a relative name that
/// resolved against `file`'s directory or one of its parents is or matches `path`. Comment lines
/// (first non-blank `#` or `;`) name nothing.
pub fn line_names_path(line: &str, file: &str, path: &str) -> bool {
    candidates(line, file).any(|c| c == path || (is_glob(&c) && path_matches(&c, path)))
}

/// The absolute, normalised paths a line's words can name (see [`line_names_path`]).
fn candidates<'a>(line: &'a str, file: &'a str) -> impl Iterator<Item = String> + 'a {
    let comment = matches!(line.trim_start().chars().next(), Some('#' | ';'));
    line.split(|c: char| {
        c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ',' | ';' | '(' | ')')
    })
    .filter(move |_| !comment)
    .map(|w| w.trim_start_matches(['-', '@', '+', '!', ':']))
    .filter(|w| !w.is_empty())
    .flat_map(move |word| {
        let mut out = Vec::new();
        if word.starts_with('/') {
            out.extend(normalize(word));
        } else {
            let mut dir = parent(file).to_string();
            loop {
                out.extend(normalize(&join(&dir, word)));
                if dir == "/" {
                    break;
                }
                dir = parent(&dir).to_string();
            }
        }
        out
    })
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Whether the absolute glob `pattern` matches the absolute `path`, component by component
/// (fnmatch(3) per component, as glob(3) expands it).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let p: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let s: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    p.len() == s.len() && p.iter().zip(&s).all(|(p, s)| crate::glob::fnmatch(p, s))
}

/// The directory above a glob's first wildcard component (`/opt/site/*.conf` -> `/opt/site`).
fn glob_parent(pattern: &str) -> Option<String> {
    let mut literal = Vec::new();
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        if is_glob(comp) {
            return Some(format!("/{}", literal.join("/")));
        }
        literal.push(comp);
    }
    None
}

/// A [`Target`] that cites the configuration line naming a path when the engine does not serve
/// it by the manifest alone (see the module docs).
#[derive(Debug)]
pub struct Citing<T> {
    inner: T,
    /// (path as requested, text) of each file read, oldest first.
    read: RefCell<Vec<(String, String)>>,
    remembered: RefCell<usize>,
}

impl<T: Target> Citing<T> {
    pub fn new(inner: T) -> Self {
        Citing {
            inner,
            read: RefCell::new(Vec::new()),
            remembered: RefCell::new(0),
        }
    }

    fn remember(&self, path: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes).into_owned();
        let mut read = self.read.borrow_mut();
        let mut size = self.remembered.borrow_mut();
        *size += text.len();
        read.push((path.to_string(), text));
        while *size > MAX_REMEMBERED_BYTES && !read.is_empty() {
            let (_, old) = read.remove(0);
            *size -= old.len();
        }
    }

    /// The first (file, line) among the files read whose line names `path`.
    fn citation(&self, wanted: impl Fn(&str, &str) -> Option<String>) -> Option<(String, String, u32)> {
        let read = self.read.borrow();
        for (file, text) in read.iter() {
            for (i, line) in text.lines().enumerate() {
                if let Some(cited) = wanted(line, file) {
                    return Some((cited, file.clone(), (i + 1) as u32));
                }
            }
        }
        None
    }

    /// Runs `request`; on `undeclared`, cites the line naming `path` and runs it again.
    fn with_citation<R>(
        &self,
        path: &str,
        request: impl Fn(&T) -> Result<R, ReadError>,
    ) -> Result<R, ReadError> {
        let first = request(&self.inner);
        let Err(ReadError::Undeclared(_)) = &first else {
            return first;
        };
        let Some(norm) = normalize(path) else {
            return first;
        };
        let found = self.citation(|line, file| {
            line_names_path(line, file, &norm).then(|| norm.clone())
        });
        match found {
            Some((cited, file, line)) if self.inner.cite(&cited, &file, line).is_ok() => {
                request(&self.inner)
            }
            _ => first,
        }
    }
}

impl<T: Target> Target for Citing<T> {
    fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        let bytes = self.with_citation(path, |t| t.read_file(path))?;
        self.remember(path, &bytes);
        Ok(bytes)
    }

    fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
        let first = self.with_citation(path, |t| t.list_dir(path));
        let Err(ReadError::Undeclared(_)) = &first else {
            return first;
        };
        // A directory is also listable when a line names a glob in it (`Include /opt/x/*.conf`):
        // cite the glob.
        let Some(dir) = normalize(path) else {
            return first;
        };
        let found = self.citation(|line, file| {
            candidates(line, file).find(|c| is_glob(c) && glob_parent(c).as_deref() == Some(&dir))
        });
        match found {
            Some((glob, file, line)) if self.inner.cite(&glob, &file, line).is_ok() => {
                self.inner.list_dir(path)
            }
            _ => first,
        }
    }

    fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.with_citation(path, |t| t.stat(path))
    }

    fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
        self.with_citation(path, |t| t.lstat(path))
    }

    fn read_link(&self, path: &str) -> Result<String, ReadError> {
        self.with_citation(path, |t| t.read_link(path))
    }

    fn cite(&self, path: &str, file: &str, line: u32) -> Result<(), ReadError> {
        self.inner.cite(path, file, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_paths() {
        let f = "/etc/ssh/sshd_config.d/50-redhat.conf";
        let line = "Include /etc/crypto-policies/back-ends/opensshserver.config";
        assert!(line_names_path(
            line,
            f,
            "/etc/crypto-policies/back-ends/opensshserver.config"
        ));
        assert!(!line_names_path(line, f, "/etc/shadow"));
        assert!(!line_names_path(
            "# Include /etc/crypto-policies/back-ends/opensshserver.config",
            f,
            "/etc/crypto-policies/back-ends/opensshserver.config"
        ));
        // Globs match what they would expand to.
        let g = "Include /opt/site/*.conf";
        assert!(line_names_path(g, f, "/opt/site/a.conf"));
        assert!(!line_names_path(g, f, "/opt/site/sub/a.conf"));
        assert!(line_names_path(g, f, "/opt/site/*.conf"));
        // Relative names resolve against the file's directory or a parent of it.
        assert!(line_names_path(
            "Include sshd_config.d/*.conf",
            "/etc/ssh/sshd_config",
            "/etc/ssh/sshd_config.d/x.conf"
        ));
        assert!(line_names_path(
            "@include common-auth",
            "/etc/pam.d/sshd",
            "/etc/pam.d/common-auth"
        ));
        assert!(!line_names_path(
            "@include common-auth",
            "/etc/pam.d/sshd",
            "/tmp/common-auth"
        ));
        // Quoting, `=`, systemd prefixes, RainerScript and nginx punctuation.
        assert!(line_names_path(
            "EnvironmentFile=-/etc/default/restic",
            "/lib/systemd/system/b.service",
            "/etc/default/restic"
        ));
        assert!(line_names_path(
            "include(file=\"/etc/rsyslog-extra/*.conf\" mode=\"optional\")",
            "/etc/rsyslog.conf",
            "/etc/rsyslog-extra/tls.conf"
        ));
        assert!(line_names_path(
            "    ssl_certificate /srv/tls/site.pem;",
            "/etc/nginx/sites-enabled/site",
            "/srv/tls/site.pem"
        ));
        assert!(line_names_path(
            "0 2 * * * root restic backup --password-file=/root/.restic-pw /var/data",
            "/etc/cron.d/backup",
            "/root/.restic-pw"
        ));
        // `..` clamps at the root like the engine's view.
        assert!(line_names_path(
            "Banner ../../../../srv/banner.txt",
            "/etc/ssh/sshd_config",
            "/srv/banner.txt"
        ));
    }

    #[test]
    fn cites_only_what_a_read_file_names() {
        use std::cell::RefCell;
        /// Serves /etc/** and whatever was cited; records citations.
        struct Strict {
            files: Vec<(&'static str, &'static str)>,
            cited: RefCell<Vec<(String, String, u32)>>,
        }
        impl Strict {
            fn allowed(&self, path: &str) -> bool {
                path.starts_with("/etc/")
                    || self.cited.borrow().iter().any(|(p, _, _)| {
                        p == path || (is_glob(p) && path_matches(p, path))
                            || glob_parent(p).as_deref() == Some(path)
                    })
            }
        }
        impl Target for Strict {
            fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadError> {
                if !self.allowed(path) {
                    return Err(ReadError::Undeclared(path.into()));
                }
                self.files
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, t)| t.as_bytes().to_vec())
                    .ok_or(ReadError::NotFound)
            }
            fn list_dir(&self, path: &str) -> Result<Vec<DirEntry>, ReadError> {
                if !self.allowed(path) {
                    return Err(ReadError::Undeclared(path.into()));
                }
                Ok(Vec::new())
            }
            fn stat(&self, path: &str) -> Result<FileStat, ReadError> {
                Err(ReadError::Undeclared(path.into()))
            }
            fn lstat(&self, path: &str) -> Result<FileStat, ReadError> {
                Err(ReadError::Undeclared(path.into()))
            }
            fn read_link(&self, path: &str) -> Result<String, ReadError> {
                Err(ReadError::Undeclared(path.into()))
            }
            fn cite(&self, path: &str, file: &str, line: u32) -> Result<(), ReadError> {
                self.cited
                    .borrow_mut()
                    .push((path.into(), file.into(), line));
                Ok(())
            }
        }
        let t = Citing::new(Strict {
            files: vec![
                ("/etc/ssh/sshd_config", "Port 22\nBanner /srv/banner.txt\nInclude /opt/site/*.conf\n"),
                ("/srv/banner.txt", "Authorized use only\n"),
            ],
            cited: RefCell::new(Vec::new()),
        });
        assert_eq!(t.read_file("/srv/other.txt"), Err(ReadError::Undeclared("/srv/other.txt".into())));
        t.read_file("/etc/ssh/sshd_config").unwrap();
        assert_eq!(t.read_file("/srv/banner.txt").unwrap(), b"Authorized use only\n");
        assert!(t.list_dir("/opt/site").is_ok());
        assert!(t.read_file("/srv/other.txt").is_err());
        assert_eq!(
            *t.inner.cited.borrow(),
            vec![
                ("/srv/banner.txt".to_string(), "/etc/ssh/sshd_config".to_string(), 2),
                ("/opt/site/*.conf".to_string(), "/etc/ssh/sshd_config".to_string(), 3),
            ]
        );
    }
}
