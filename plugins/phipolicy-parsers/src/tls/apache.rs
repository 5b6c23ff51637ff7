//! Apache httpd: directives, `Include`/`IncludeOptional` relative to `ServerRoot`, and
//! `SSLProtocol` arithmetic.

use super::*;

impl ServerConfig {
    /// Loads an Apache httpd configuration: `Include`/`IncludeOptional` (globs, or a directory
    /// meaning every file in it) are relative to `server_root` and read in place.
    pub fn load_apache(target: &dyn Target, path: &str, server_root: &str) -> ServerConfig {
        let mut cfg = ServerConfig {
            path: path.to_string(),
            ..ServerConfig::default()
        };
        match target.read_text(path) {
            Ok(text) => {
                cfg.found = true;
                let mut root = server_root.to_string();
                let mut context = Vec::new();
                cfg.parse_apache(target, &mut root, path, &text, &mut context, 0);
            }
            Err(phipolicy_sdk::ReadError::NotFound) => {}
            Err(e) => cfg.report.unreadable.push(Unreadable::new(path, &e)),
        }
        cfg
    }

    fn parse_apache(
        &mut self,
        target: &dyn Target,
        server_root: &mut String,
        path: &str,
        text: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        self.report.files.push(path.to_string());
        let base_depth = context.len();
        for (line, logical) in logical_lines(text) {
            let t = logical.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(rest) = t.strip_prefix("</") {
                let name = rest.trim_end_matches('>').trim();
                if context.len() > base_depth {
                    context.pop();
                } else {
                    self.report
                        .issue(path, line, format!("</{name}> without its opening section"));
                }
                continue;
            }
            if let Some(rest) = t.strip_prefix('<') {
                let inner = rest.trim_end().trim_end_matches('>');
                context.push(inner.trim().to_string());
                continue;
            }
            let words = apache_words(t);
            let mut it = words.into_iter();
            let Some(name) = it.next() else { continue };
            let args: Vec<String> = it.collect();
            if name.eq_ignore_ascii_case("ServerRoot")
                && let Some(r) = args.first()
            {
                *server_root = r.clone();
            }
            let optional = name.eq_ignore_ascii_case("IncludeOptional");
            if (optional || name.eq_ignore_ascii_case("Include"))
                && let Some(pattern) = args.first()
            {
                let pattern = pattern.clone();
                self.apache_include(
                    target,
                    server_root,
                    path,
                    line,
                    &pattern,
                    optional,
                    context,
                    depth,
                );
            }
            self.directives.push(ServerDirective {
                name,
                args,
                path: path.to_string(),
                line,
                context: context.join(" > "),
            });
        }
        if context.len() > base_depth {
            self.report
                .issue(path, 0, "section not closed at end of file");
            context.truncate(base_depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn apache_include(
        &mut self,
        target: &dyn Target,
        server_root: &mut String,
        from: &str,
        line: u32,
        pattern: &str,
        optional: bool,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH || self.report.files.len() >= MAX_FILES {
            self.report
                .issue(from, line, format!("Include {pattern}: nested too deeply"));
            return;
        }
        let root = server_root.clone();
        let mut files = Vec::new();
        for found in target.glob(&root, pattern) {
            match target.stat(&found) {
                Ok(st) if st.kind == FileKind::Directory => {
                    if let Ok(entries) = target.list_dir(&found) {
                        files.extend(
                            entries
                                .into_iter()
                                .filter(|e| e.kind != FileKind::Directory)
                                .map(|e| join(&found, &e.name)),
                        );
                    }
                }
                _ => files.push(found),
            }
        }
        let has_magic = pattern.contains(['*', '?', '[']);
        if files.is_empty() && !optional && !has_magic {
            self.report.issue(
                from,
                line,
                format!("Include {pattern}: no such file (httpd refuses to start)"),
            );
        }
        for file in files {
            if !self.report.may_read(from, line, &file) {
                break;
            }
            match target.read_text(&file) {
                Ok(text) => {
                    self.parse_apache(target, server_root, &file, &text, context, depth + 1)
                }
                Err(e) => self.report.unreadable.push(Unreadable::new(&file, &e)),
            }
        }
    }
}

/// Apache's argument splitting: whitespace-separated, double or single quotes group, `\` escapes.
pub(super) fn apache_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => cur.push(c),
            ('"' | '\'', None) if !in_word => {
                quote = Some(c);
                in_word = true;
            }
            (w, None) if w.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            _ => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Apache `SSLProtocol`: `+P` adds, `-P` removes, a bare `P` or `all` replaces the set; `all` is
/// `+SSLv3 +TLSv1 +TLSv1.1 +TLSv1.2 +TLSv1.3` (mod_ssl docs; SSLv3 only where OpenSSL has it).
pub fn apache_protocols(args: &[String]) -> ProtocolSet {
    let all: BTreeSet<&'static str> = ["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        .into_iter()
        .collect();
    let mut set = BTreeSet::new();
    let mut unknown = Vec::new();
    for a in args {
        let (action, name) = match a.chars().next() {
            Some('+') => ('+', a.get(1..).unwrap_or("")),
            Some('-') => ('-', a.get(1..).unwrap_or("")),
            _ => ('=', a.as_str()),
        };
        let these: BTreeSet<&'static str> = if name.eq_ignore_ascii_case("all") {
            all.clone()
        } else if let Some(p) = canonical_protocol(name) {
            std::iter::once(p).collect()
        } else {
            unknown.push(a.clone());
            continue;
        };
        match action {
            '+' => set.extend(these),
            '-' => set.retain(|p| !these.contains(p)),
            _ => set = these,
        }
    }
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}
