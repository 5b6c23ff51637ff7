//! The one place where text meant for a terminal or a text log is made safe. Strings from the
//! target (file names, quoted configuration lines, os-release fields), from plugins (error
//! strings) and from policies reach the table, `explain`, `controls`, diagnostics and logs; a
//! control character among them could move the cursor, clear lines, retitle the window or hide
//! what follows. Every control character (C0, DEL, C1) and every bidirectional-override
//! character is shown as a visible escape (`\n`, `\t`, `\r`, `\u{1b}`) instead.

use std::borrow::Cow;
use std::fmt;

/// Whether `c` must never reach a terminal raw: C0 controls, DEL, C1 controls (`char::is_control`
/// is exactly these), and the bidirectional embeddings, overrides and isolates, which reorder
/// what the operator reads ("Trojan Source").
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` with every control and bidi-override character escaped (newlines too: one field, one
/// line).
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A diagnostic that may span lines (a Rego parser's message quoting source): newlines stay, each
/// continuation line indented so it cannot pass for a line of its own, everything else escaped.
pub fn clean_lines(s: &str) -> String {
    s.split('\n')
        .map(|l| clean(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n    ")
}

/// Displays a string with [`clean`] applied: `format!("{}", Clean(&name))`.
pub struct Clean<'a>(pub &'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Padding (`{:<20}`) applies to the escaped text, which is what the terminal shows.
        f.pad(&clean(self.0))
    }
}

/// A log writer (tracing's stderr output) that escapes control characters in each record, keeping
/// only the newline that ends it. tracing writes one formatted record per `write` call.
pub struct CleanWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for CleanWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = match text.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (&*text, ""),
        };
        let cleaned = format!("{}{end}", clean(body));
        self.0.write_all(cleaned.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_character_is_escaped() {
        let hostile = "9\u{1b}]0;pwned\u{7}\u{1b}[1A\u{1b}[2K\r\n\u{7f}\u{9b}2J\u{202e}x";
        let out = clean(hostile);
        assert!(!out.chars().any(is_unsafe), "{out:?}");
        assert_eq!(
            out,
            "9\\u{1b}]0;pwned\\u{7}\\u{1b}[1A\\u{1b}[2K\\r\\n\\u{7f}\\u{9b}2J\\u{202e}x"
        );
        assert!(matches!(clean("plain text — ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn padding_counts_the_escaped_text() {
        assert_eq!(format!("[{:<8}]", Clean("a\u{1b}")), "[a\\u{1b} ]");
    }

    #[test]
    fn diagnostics_keep_lines_but_indent_them() {
        assert_eq!(
            clean_lines("first\n\u{1b}[2Ksecond"),
            "first\n    \\u{1b}[2Ksecond"
        );
    }

    #[test]
    fn log_records_keep_their_final_newline_only() {
        let mut w = CleanWriter(Vec::new());
        std::io::Write::write_all(&mut w, b"WARN file a\nb\x1b[8m\n").unwrap();
        assert_eq!(w.0, b"WARN file a\\nb\\u{1b}[8m\n");
    }
}
