//! nginx: tokens, blocks, `include` globs read in place, and `ssl_protocols`.

use super::*;

/// One nginx token: a word (quotes removed) or one of `;`, `{`, `}`.
#[derive(Debug, PartialEq)]
pub(super) enum NginxToken {
    Word(String),
    Semicolon,
    Open,
    Close,
}

pub(super) fn nginx_tokens(text: &str) -> Vec<(u32, NginxToken)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line: u32 = 1;
    let mut word = String::new();
    let mut word_line = 1;
    let flush = |word: &mut String, out: &mut Vec<(u32, NginxToken)>, at: u32| {
        if !word.is_empty() {
            out.push((at, NginxToken::Word(std::mem::take(word))));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                flush(&mut word, &mut out, word_line);
                line = line.saturating_add(1);
            }
            c if c.is_whitespace() => flush(&mut word, &mut out, word_line),
            '#' if word.is_empty() => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line = line.saturating_add(1);
                        break;
                    }
                }
            }
            ';' | '{' | '}' => {
                flush(&mut word, &mut out, word_line);
                let tok = match c {
                    ';' => NginxToken::Semicolon,
                    '{' => NginxToken::Open,
                    _ => NginxToken::Close,
                };
                out.push((line, tok));
            }
            '"' | '\'' if word.is_empty() => {
                word_line = line;
                let mut quoted = String::new();
                while let Some(n) = chars.next() {
                    match n {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                if e == '\n' {
                                    line = line.saturating_add(1);
                                }
                                quoted.push(e);
                            }
                        }
                        q if q == c => break,
                        '\n' => {
                            line = line.saturating_add(1);
                            quoted.push(n);
                        }
                        _ => quoted.push(n),
                    }
                }
                out.push((word_line, NginxToken::Word(quoted)));
            }
            '\\' => {
                if word.is_empty() {
                    word_line = line;
                }
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            _ => {
                if word.is_empty() {
                    word_line = line;
                }
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut out, word_line);
    out
}

impl ServerConfig {
    /// Loads an nginx configuration: `include` globs are relative to the directory of the main
    /// file (nginx's conf prefix, `/etc/nginx` on Debian and Rocky) and read in place.
    pub fn load_nginx(target: &dyn Target, path: &str) -> ServerConfig {
        let mut cfg = ServerConfig {
            path: path.to_string(),
            ..ServerConfig::default()
        };
        match target.read_text(path) {
            Ok(text) => {
                cfg.found = true;
                let prefix = parent(path).to_string();
                let mut context = Vec::new();
                cfg.parse_nginx(target, &prefix, path, &text, &mut context, 0);
            }
            Err(phipolicy_sdk::ReadError::NotFound) => {}
            Err(e) => cfg.report.unreadable.push(Unreadable::new(path, &e)),
        }
        cfg
    }

    fn parse_nginx(
        &mut self,
        target: &dyn Target,
        prefix: &str,
        path: &str,
        text: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        self.report.files.push(path.to_string());
        let base_depth = context.len();
        let mut words: Vec<String> = Vec::new();
        let mut start_line = 0;
        for (line, tok) in nginx_tokens(text) {
            match tok {
                NginxToken::Word(w) => {
                    if words.is_empty() {
                        start_line = line;
                    }
                    words.push(w);
                }
                NginxToken::Semicolon => {
                    let mut it = std::mem::take(&mut words).into_iter();
                    let Some(name) = it.next() else { continue };
                    let args: Vec<String> = it.collect();
                    if name == "include" {
                        for arg in &args {
                            self.nginx_include(
                                target, prefix, path, start_line, arg, context, depth,
                            );
                        }
                    }
                    self.directives.push(ServerDirective {
                        name,
                        args,
                        path: path.to_string(),
                        line: start_line,
                        context: context.join(" > "),
                    });
                }
                NginxToken::Open => {
                    let block = std::mem::take(&mut words);
                    let name = block.first().cloned().unwrap_or_default();
                    if name.is_empty() {
                        self.report.issue(path, line, "block without a name");
                    }
                    context.push(name);
                }
                NginxToken::Close => {
                    if !words.is_empty() {
                        self.report
                            .issue(path, start_line, "directive not terminated by `;`");
                        words.clear();
                    }
                    if context.len() > base_depth {
                        context.pop();
                    } else {
                        self.report.issue(path, line, "unexpected `}`");
                    }
                }
            }
        }
        if !words.is_empty() {
            self.report.issue(
                path,
                start_line,
                "directive not terminated by `;` at end of file",
            );
        }
        if context.len() > base_depth {
            self.report
                .issue(path, 0, "block not closed at end of file");
            context.truncate(base_depth);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn nginx_include(
        &mut self,
        target: &dyn Target,
        prefix: &str,
        from: &str,
        line: u32,
        pattern: &str,
        context: &mut Vec<String>,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH || self.report.files.len() >= MAX_FILES {
            self.report
                .issue(from, line, format!("include {pattern}: nested too deeply"));
            return;
        }
        let files = target.glob(prefix, pattern);
        let has_magic = pattern.contains(['*', '?', '[']);
        if files.is_empty() && !has_magic {
            self.report.issue(
                from,
                line,
                format!("include {pattern}: no such file (nginx refuses to start)"),
            );
        }
        for file in files {
            match target.stat(&file) {
                Ok(st) if st.kind == FileKind::Directory => continue,
                _ => {}
            }
            if !self.report.may_read(from, line, &file) {
                break;
            }
            match target.read_text(&file) {
                Ok(text) => self.parse_nginx(target, prefix, &file, &text, context, depth + 1),
                Err(e) => self.report.unreadable.push(Unreadable::new(&file, &e)),
            }
        }
    }
}

/// nginx `ssl_protocols`: exactly the protocols listed.
pub fn nginx_protocols(args: &[String]) -> ProtocolSet {
    let mut set = BTreeSet::new();
    let mut unknown = Vec::new();
    for a in args {
        match canonical_protocol(a) {
            Some(p) => {
                set.insert(p);
            }
            None => unknown.push(a.clone()),
        }
    }
    ProtocolSet {
        enabled: ordered(&set),
        unknown,
    }
}
