//! The shell lexer: words (with quoting and expansions noted), operators, newlines and here-documents
//! of a POSIX/bash script, with the line each token starts on.

use crate::cursor::Cursor;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// As written.
    pub(super) raw: String,
    /// After quote removal; `None` when the word contains an expansion.
    pub(super) literal: Option<String>,
    /// No quotes or escapes anywhere (reserved words must be plain).
    pub(super) plain: bool,
}

impl Word {
    pub(super) fn is(&self, keyword: &str) -> bool {
        self.plain && self.raw == keyword
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Op {
    Semi,
    Amp,
    AndIf,
    OrIf,
    Pipe,
    LParen,
    RParen,
    CaseEnd,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokKind {
    Word(Word),
    Op(Op),
    /// A redirection operator; the next word is its target.
    Redirect,
    Newline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tok {
    pub(super) kind: TokKind,
    pub(super) line: u32,
}

pub(super) struct Lexer {
    pub(super) cur: Cursor,
    pub(super) toks: Vec<Tok>,
    pub(super) heredocs: Vec<(String, bool, u32)>,
    pub(super) issues: Vec<(u32, String)>,
}

pub(super) fn lex(text: &str) -> (Vec<Tok>, Vec<(u32, String)>) {
    let mut lx = Lexer {
        cur: Cursor::new(text),
        toks: Vec::new(),
        heredocs: Vec::new(),
        issues: Vec::new(),
    };
    lx.run();
    (lx.toks, lx.issues)
}

impl Lexer {
    pub(super) fn peek(&self) -> Option<char> {
        self.cur.peek()
    }

    pub(super) fn peek_at(&self, n: usize) -> Option<char> {
        self.cur.peek_at(n)
    }

    pub(super) fn bump(&mut self) -> Option<char> {
        self.cur.bump()
    }

    pub(super) fn push(&mut self, kind: TokKind, line: u32) {
        self.toks.push(Tok { kind, line });
    }

    pub(super) fn op(&mut self, op: Op, len: usize) {
        let line = self.cur.line();
        self.cur.advance(len);
        self.push(TokKind::Op(op), line);
    }

    pub(super) fn run(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' => self.cur.advance(1),
                '\\' if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.cur.advance(1);
                    }
                }
                '\n' => {
                    let line = self.cur.line();
                    self.bump();
                    self.push(TokKind::Newline, line);
                    self.read_heredocs();
                }
                ';' => match (self.peek_at(1), self.peek_at(2)) {
                    (Some(';'), Some('&')) => self.op(Op::CaseEnd, 3),
                    (Some(';'), _) | (Some('&'), _) => self.op(Op::CaseEnd, 2),
                    _ => self.op(Op::Semi, 1),
                },
                '&' => match self.peek_at(1) {
                    Some('&') => self.op(Op::AndIf, 2),
                    Some('>') => {
                        let len = if self.peek_at(2) == Some('>') { 3 } else { 2 };
                        self.redirect(len, false);
                    }
                    _ => self.op(Op::Amp, 1),
                },
                '|' => match self.peek_at(1) {
                    Some('|') => self.op(Op::OrIf, 2),
                    Some('&') => self.op(Op::Pipe, 2),
                    _ => self.op(Op::Pipe, 1),
                },
                '(' => self.op(Op::LParen, 1),
                ')' => self.op(Op::RParen, 1),
                '<' => match (self.peek_at(1), self.peek_at(2)) {
                    (Some('<'), Some('<')) => self.redirect(3, false),
                    (Some('<'), Some('-')) => self.redirect(3, true),
                    (Some('<'), _) => self.redirect(2, true),
                    (Some('&'), _) | (Some('>'), _) => self.redirect(2, false),
                    _ => self.redirect(1, false),
                },
                '>' => match self.peek_at(1) {
                    Some('>') | Some('&') | Some('|') => self.redirect(2, false),
                    _ => self.redirect(1, false),
                },
                _ => self.word(),
            }
        }
        self.read_heredocs();
    }

    /// A redirection operator of `len` chars; `heredoc` for `<<` and `<<-` (whose delimiter word
    /// follows and whose body starts after the next newline).
    pub(super) fn redirect(&mut self, len: usize, heredoc: bool) {
        let line = self.cur.line();
        let strip_tabs = heredoc && self.peek_at(2) == Some('-');
        self.cur.advance(len);
        self.push(TokKind::Redirect, line);
        if !heredoc {
            return;
        }
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.cur.advance(1);
        }
        let before = self.toks.len();
        self.word();
        if self.toks.len() > before
            && let Some(Tok {
                kind: TokKind::Word(w),
                ..
            }) = self.toks.last()
        {
            let delimiter = w
                .literal
                .clone()
                .unwrap_or_else(|| w.raw.replace(['\'', '"', '\\'], ""));
            self.heredocs.push((delimiter, strip_tabs, line));
        }
    }

    pub(super) fn read_heredocs(&mut self) {
        let pending = std::mem::take(&mut self.heredocs);
        for (delimiter, strip_tabs, line) in pending {
            loop {
                if self.peek().is_none() {
                    self.issues.push((line, format!("here-document at line {line} delimited by end of file (wanted {delimiter:?})")));
                    return;
                }
                let mut text = String::new();
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                    text.push(c);
                }
                let text = if strip_tabs {
                    text.trim_start_matches('\t')
                } else {
                    text.as_str()
                };
                if text == delimiter {
                    break;
                }
            }
        }
    }

    /// Copies through a construct opened by `open` (already consumed) up to its matching `close`,
    /// honouring quotes and escapes inside. Returns false when the input ends first.
    pub(super) fn skip_nested(&mut self, raw: &mut String, open: char, close: char) -> bool {
        let mut depth = 1usize;
        while let Some(c) = self.bump() {
            raw.push(c);
            match c {
                '\\' => {
                    if let Some(n) = self.bump() {
                        raw.push(n);
                    }
                }
                '\'' => {
                    while let Some(n) = self.bump() {
                        raw.push(n);
                        if n == '\'' {
                            break;
                        }
                    }
                }
                '"' => {
                    while let Some(n) = self.bump() {
                        raw.push(n);
                        if n == '\\' {
                            if let Some(m) = self.bump() {
                                raw.push(m);
                            }
                        } else if n == '"' {
                            break;
                        }
                    }
                }
                c if c == open => depth += 1,
                c if c == close => {
                    depth -= 1;
                    if depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// A `$...` expansion starting at the `$`; returns false when the `$` is a literal dollar.
    /// `in_double` disables `$'...'` (not special inside double quotes).
    pub(super) fn dollar(&mut self, raw: &mut String, lit: &mut String, in_double: bool) -> bool {
        let line = self.cur.line();
        match self.peek_at(1) {
            Some('(') => {
                self.cur.advance(2);
                raw.push_str("$(");
                if !self.skip_nested(raw, '(', ')') {
                    self.issues
                        .push((line, format!("unterminated $( at line {line}")));
                }
                true
            }
            Some('{') => {
                self.cur.advance(2);
                raw.push_str("${");
                if !self.skip_nested(raw, '{', '}') {
                    self.issues
                        .push((line, format!("unterminated ${{ at line {line}")));
                }
                true
            }
            Some('\'') if !in_double => {
                // ANSI-C quoting: a literal with backslash escapes.
                self.cur.advance(2);
                raw.push_str("$'");
                while let Some(c) = self.bump() {
                    raw.push(c);
                    match c {
                        '\'' => return false,
                        '\\' => {
                            if let Some(n) = self.bump() {
                                raw.push(n);
                                lit.push(match n {
                                    'n' => '\n',
                                    't' => '\t',
                                    other => other,
                                });
                            }
                        }
                        other => lit.push(other),
                    }
                }
                self.issues
                    .push((line, format!("unterminated $' at line {line}")));
                false
            }
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                self.cur.advance(1);
                raw.push('$');
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        raw.push(c);
                        self.cur.advance(1);
                    } else {
                        break;
                    }
                }
                true
            }
            Some(c) if "@*#?$!-".contains(c) => {
                self.cur.advance(2);
                raw.push('$');
                raw.push(c);
                true
            }
            _ => {
                self.cur.advance(1);
                raw.push('$');
                lit.push('$');
                false
            }
        }
    }

    pub(super) fn backquote(&mut self, raw: &mut String) {
        let line = self.cur.line();
        self.cur.advance(1);
        raw.push('`');
        while let Some(c) = self.bump() {
            raw.push(c);
            match c {
                '\\' => {
                    if let Some(n) = self.bump() {
                        raw.push(n);
                    }
                }
                '`' => return,
                _ => {}
            }
        }
        self.issues
            .push((line, format!("unterminated backquote at line {line}")));
    }

    pub(super) fn double_quoted(&mut self, raw: &mut String, lit: &mut String, expands: &mut bool) {
        let line = self.cur.line();
        self.cur.advance(1);
        raw.push('"');
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.cur.advance(1);
                    raw.push('"');
                    return;
                }
                '\\' => {
                    self.cur.advance(1);
                    match self.bump() {
                        Some('\n') => {}
                        Some(n) if "$`\"\\".contains(n) => {
                            raw.push('\\');
                            raw.push(n);
                            lit.push(n);
                        }
                        Some(n) => {
                            raw.push('\\');
                            raw.push(n);
                            lit.push('\\');
                            lit.push(n);
                        }
                        None => {}
                    }
                }
                '$' => {
                    if self.dollar(raw, lit, true) {
                        *expands = true;
                    }
                }
                '`' => {
                    self.backquote(raw);
                    *expands = true;
                }
                _ => {
                    self.bump();
                    raw.push(c);
                    lit.push(c);
                }
            }
        }
        self.issues.push((
            line,
            format!("unterminated double quote opened at line {line}"),
        ));
    }

    pub(super) fn word(&mut self) {
        let line = self.cur.line();
        let mut raw = String::new();
        let mut lit = String::new();
        let mut expands = false;
        let mut plain = true;
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | ')' => break,
                '(' => {
                    // `NAME=(...)`: an array assignment is one word.
                    if raw.ends_with('=') && assignment_name(&raw).is_some() {
                        self.cur.advance(1);
                        raw.push('(');
                        self.skip_nested(&mut raw, '(', ')');
                        expands = true;
                    } else {
                        break;
                    }
                }
                '\\' => {
                    plain = false;
                    self.cur.advance(1);
                    match self.bump() {
                        Some('\n') => {}
                        Some(n) => {
                            raw.push('\\');
                            raw.push(n);
                            lit.push(n);
                        }
                        None => raw.push('\\'),
                    }
                }
                '\'' => {
                    plain = false;
                    self.cur.advance(1);
                    raw.push('\'');
                    let mut closed = false;
                    while let Some(n) = self.bump() {
                        raw.push(n);
                        if n == '\'' {
                            closed = true;
                            break;
                        }
                        lit.push(n);
                    }
                    if !closed {
                        self.issues.push((
                            line,
                            format!("unterminated single quote opened at line {line}"),
                        ));
                    }
                }
                '"' => {
                    plain = false;
                    self.double_quoted(&mut raw, &mut lit, &mut expands);
                }
                '$' => {
                    if self.peek_at(1) == Some('\'') {
                        plain = false;
                    }
                    if self.dollar(&mut raw, &mut lit, false) {
                        expands = true;
                    }
                }
                '`' => {
                    self.backquote(&mut raw);
                    expands = true;
                }
                _ => {
                    self.cur.advance(1);
                    raw.push(c);
                    lit.push(c);
                }
            }
        }
        // A file descriptor number before a redirection (`2>/dev/null`) is not a word.
        if !raw.is_empty()
            && raw.bytes().all(|b| b.is_ascii_digit())
            && matches!(self.peek(), Some('<') | Some('>'))
        {
            return;
        }
        if raw.is_empty() {
            // Defensive: never loop without consuming input.
            self.cur.advance(1);
            return;
        }
        let literal = if expands { None } else { Some(lit) };
        self.push(
            TokKind::Word(Word {
                raw,
                literal,
                plain,
            }),
            line,
        );
    }
}

/// The variable name of an assignment word (`NAME=...` or `NAME+=...`, name unquoted).
pub(super) fn assignment_name(raw: &str) -> Option<(&str, bool)> {
    let eq = raw.find('=')?;
    let head = raw.get(..eq)?;
    let (name, append) = match head.strip_suffix('+') {
        Some(n) => (n, true),
        None => (head, false),
    };
    is_name(name).then_some((name, append))
}

pub(super) fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Interpreter: the shared TMOUT state over the login sequence, and a walker per file.
