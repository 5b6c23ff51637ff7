//! Shell profile files as an interactive bash login shell reads them, reduced to what decides the
//! idle timeout: where `TMOUT` is assigned, made readonly and exported, and what bash ends up with.
//!
//! The reader follows `/etc/profile` the way bash runs it, as far as static reading can: the loop
//! over `/etc/profile.d` (only the files its patterns match, `*.sh` on Debian and Rocky) and
//! `. /etc/bash.bashrc` / `. /etc/bashrc` are followed where they appear, so the order is the real
//! one (Debian sources `/etc/bash.bashrc` before the `profile.d` loop, Rocky sources `/etc/bashrc`
//! after it). Assignments inside `if`, loops, `case`, functions or after `&&`/`||` are counted but
//! flagged conditional; assignments to an already readonly `TMOUT` are refused, as bash refuses
//! them. The conditions around the distributions' own hooks (`[ -r "$i" ]`, `[ "${PS1-}" ]`,
//! `[ -n "${BASH_VERSION-}" ]`) hold for interactive bash login shells, the only shells `TMOUT`
//! acts on, so a file they source starts unconditional. A conditional `return` (Debian's
//! `[ -z "$PS1" ] && return`) stops only non-interactive shells and is not modelled.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::facts::ParseIssue;
use crate::os_release::Family;
use crate::target::{FileKind, ReadError, Target, TargetExt};

/// The variable this module models.
const TMOUT: &str = "TMOUT";
/// The file every bash login shell reads first.
pub const PROFILE: &str = "/etc/profile";
/// The directory whose matching files `/etc/profile` sources.
pub const PROFILE_D: &str = "/etc/profile.d";
/// Debian's system-wide bashrc.
pub const DEBIAN_BASHRC: &str = "/etc/bash.bashrc";
/// Red Hat's system-wide bashrc.
pub const RHEL_BASHRC: &str = "/etc/bashrc";
/// Nesting of `.`/`source` followed before giving up (bash has no limit; a loop would never end).
const MAX_SOURCE_DEPTH: usize = 8;
/// Files read for one login (re-reads included). Each file sourcing the next many times over,
/// down a chain of files, multiplies the reads at every level; a real login reads a few dozen, so
/// past this the target is hostile and sourcing stops (reported as an issue).
const MAX_SOURCED_FILES: usize = 256;

/// What happened to one statement that touches `TMOUT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Took effect in the model.
    Applied,
    /// bash refuses it: `TMOUT` is readonly by then.
    Refused,
    /// Never runs: bash abandoned the command after a refused assignment, or the file returned.
    NotRun,
    /// The file is not read by login shells.
    NotSourced,
    /// Runs, but does not change the login shell's `TMOUT` (subshell, command prefix, local).
    NoEffect,
}

/// One statement that assigns `TMOUT` or changes its attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TmoutStatement {
    pub path: String,
    pub line: u32,
    /// `assignment`, `prefix-assignment`, `export`, `readonly`, `declare`, `typeset`, `local` or `unset`.
    pub command: String,
    /// The command as written (words joined by one space).
    pub text: String,
    /// The assigned value after quote removal (as written when it expands at run time); `None`
    /// when the statement assigns nothing.
    pub value: Option<String>,
    /// The value contains an expansion (`$X`, `$(...)`, `$((...))`): unknown until run time.
    pub value_expands: bool,
    /// The seconds bash derives from the value (leading decimal digits, like `atoi`), when known.
    pub seconds: Option<i64>,
    /// The value is a plain decimal integer (nothing else around it).
    pub numeric: bool,
    /// The statement makes `TMOUT` readonly.
    pub readonly: bool,
    /// `true`: exports; `false`: removes the export attribute (`export -n`, `declare +x`).
    pub exported: Option<bool>,
    pub conditional: bool,
    /// Why the statement may not run (innermost construct first), when conditional.
    pub condition: Option<String>,
    /// The file is read by login shells.
    pub sourced: bool,
    pub outcome: Outcome,
    pub note: Option<String>,
}

/// Where an attribute of `TMOUT` was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeAt {
    pub path: String,
    pub line: u32,
    pub conditional: bool,
}

/// An assignment bash refuses because `TMOUT` is already readonly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedAssignment {
    pub path: String,
    pub line: u32,
    pub text: String,
    pub value: Option<String>,
    /// Where `TMOUT` became readonly.
    pub readonly_path: String,
    pub readonly_line: u32,
}

/// What an interactive login shell ends up with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveTmout {
    /// `TMOUT` has a value (it may be readonly yet unset: `readonly TMOUT` alone).
    pub set: bool,
    pub value: Option<String>,
    pub value_expands: bool,
    pub seconds: Option<i64>,
    pub numeric: bool,
    /// The statement that decided the value (an assignment or an `unset`).
    pub path: Option<String>,
    pub line: u32,
    /// The deciding statement is conditional.
    pub conditional: bool,
    pub readonly: Option<AttributeAt>,
    pub exported: Option<AttributeAt>,
    pub refused: Vec<RefusedAssignment>,
}

/// Which statement sourced a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourcedFrom {
    pub path: String,
    pub line: u32,
}

/// A file read by login shells, in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileFile {
    pub path: String,
    /// `None` for `/etc/profile` itself (bash reads it).
    pub sourced_from: Option<SourcedFrom>,
}

/// A file that exists where profile snippets live but that login shells do not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IgnoredFile {
    pub path: String,
    pub reason: String,
}

/// A file login shells read that could not be read here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableProfile {
    pub path: String,
    pub error: String,
    pub sourced_from: Option<SourcedFrom>,
    /// `TMOUT` was already unconditionally readonly when the file is sourced, so the file cannot
    /// change its value.
    pub readonly_before: bool,
}

/// A `.`/`source` of a literal path outside the profile files, recorded but not followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceNotFollowed {
    pub path: String,
    pub line: u32,
    pub file: String,
}

/// The `for` loop in `/etc/profile` that sources `/etc/profile.d`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProfileDirLoop {
    pub path: String,
    pub line: u32,
    /// The loop's words, e.g. `["/etc/profile.d/*.sh", "/etc/profile.d/sh.local"]`.
    pub patterns: Vec<String>,
}

/// The `TMOUT` model of the login shell profile files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginTmout {
    pub family: Family,
    pub profile_found: bool,
    /// Files login shells read, in order.
    pub files: Vec<ProfileFile>,
    pub profile_d_loop: Option<ProfileDirLoop>,
    pub ignored: Vec<IgnoredFile>,
    pub unreadable: Vec<UnreadableProfile>,
    pub issues: Vec<ParseIssue>,
    pub sources_not_followed: Vec<SourceNotFollowed>,
    /// Every statement touching `TMOUT`, read files first in order, then files not read.
    pub assignments: Vec<TmoutStatement>,
    pub effective: EffectiveTmout,
}

/// Reads the target's login profile files and models `TMOUT`.
pub fn login_tmout(target: &dyn Target, family: Family) -> LoginTmout {
    let mut interp = Interp::new(target);
    interp.source(PROFILE, None, 0);
    let profile_found = interp.files.iter().any(|f| f.path == PROFILE)
        || interp.unreadable.iter().any(|u| u.path == PROFILE);

    let mut ignored = Vec::new();
    let read: BTreeSet<String> = interp.files.iter().map(|f| f.path.clone()).collect();
    let mut not_read = Vec::new();
    if let Ok(entries) = target.list_dir(PROFILE_D) {
        for entry in entries {
            if entry.kind == FileKind::Directory {
                continue;
            }
            let path = format!("{PROFILE_D}/{}", entry.name);
            if read.contains(&path) || interp.unreadable.iter().any(|u| u.path == path) {
                continue;
            }
            let reason = match (&interp.profile_d_loop, profile_found) {
                (Some(l), _) => format!(
                    "{PROFILE} reads only {} (loop at {}:{})",
                    l.patterns.join(" "),
                    l.path,
                    l.line
                ),
                (None, true) => format!("{PROFILE} has no loop that sources {PROFILE_D}"),
                (None, false) => {
                    format!("{PROFILE} does not exist, so nothing sources {PROFILE_D}")
                }
            };
            not_read.push(path.clone());
            ignored.push(IgnoredFile { path, reason });
        }
    }
    let rc_files: &[&str] = match family {
        Family::Debian => &[DEBIAN_BASHRC],
        Family::Rhel => &[RHEL_BASHRC],
        Family::Unknown => &[DEBIAN_BASHRC, RHEL_BASHRC],
    };
    for rc in rc_files {
        if read.contains(*rc)
            || interp.unreadable.iter().any(|u| u.path == *rc)
            || !target.exists(rc)
        {
            continue;
        }
        not_read.push((*rc).to_string());
        ignored.push(IgnoredFile {
            path: (*rc).to_string(),
            reason: format!("{PROFILE} does not source it, so login shells do not read it"),
        });
    }
    for path in not_read {
        if let Ok(text) = target.read_text(&path) {
            interp.run_text(&path, &text, false, 0);
        }
    }

    let effective = interp.effective();
    LoginTmout {
        family,
        profile_found,
        files: interp.files,
        profile_d_loop: interp.profile_d_loop,
        ignored,
        unreadable: interp.unreadable,
        issues: interp.issues,
        sources_not_followed: interp.sources_not_followed,
        assignments: interp.statements,
        effective,
    }
}

/// The seconds bash's `atoi` makes of a `TMOUT` value: optional blanks and sign, then digits.
pub fn tmout_seconds(value: &str) -> i64 {
    let s = value.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (negative, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..).unwrap_or("")),
        Some(b'+') => (false, s.get(1..).unwrap_or("")),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if negative { -n } else { n }
}

/// Whether a value is a plain decimal integer.
fn is_plain_integer(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Lexer: words, operators and newlines with line numbers; quotes, expansions, comments,
// continuations and here-documents handled the way bash's parser delimits them.

#[derive(Debug, Clone, PartialEq, Eq)]
struct Word {
    /// As written.
    raw: String,
    /// After quote removal; `None` when the word contains an expansion.
    literal: Option<String>,
    /// No quotes or escapes anywhere (reserved words must be plain).
    plain: bool,
}

impl Word {
    fn is(&self, keyword: &str) -> bool {
        self.plain && self.raw == keyword
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
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
enum TokKind {
    Word(Word),
    Op(Op),
    /// A redirection operator; the next word is its target.
    Redirect,
    Newline,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Tok {
    kind: TokKind,
    line: u32,
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: u32,
    toks: Vec<Tok>,
    heredocs: Vec<(String, bool, u32)>,
    issues: Vec<(u32, String)>,
}

fn lex(text: &str) -> (Vec<Tok>, Vec<(u32, String)>) {
    let mut lx = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        toks: Vec::new(),
        heredocs: Vec::new(),
        issues: Vec::new(),
    };
    lx.run();
    (lx.toks, lx.issues)
}

impl Lexer {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
        }
        Some(c)
    }

    fn push(&mut self, kind: TokKind, line: u32) {
        self.toks.push(Tok { kind, line });
    }

    fn op(&mut self, op: Op, len: usize) {
        let line = self.line;
        self.pos += len;
        self.push(TokKind::Op(op), line);
    }

    fn run(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' => self.pos += 1,
                '\\' if self.peek_at(1) == Some('\n') => {
                    self.bump();
                    self.bump();
                }
                '#' => {
                    while let Some(c) = self.peek() {
                        if c == '\n' {
                            break;
                        }
                        self.pos += 1;
                    }
                }
                '\n' => {
                    let line = self.line;
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
    fn redirect(&mut self, len: usize, heredoc: bool) {
        let line = self.line;
        let strip_tabs = heredoc && self.peek_at(2) == Some('-');
        self.pos += len;
        self.push(TokKind::Redirect, line);
        if !heredoc {
            return;
        }
        while matches!(self.peek(), Some(' ') | Some('\t')) {
            self.pos += 1;
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

    fn read_heredocs(&mut self) {
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
    fn skip_nested(&mut self, raw: &mut String, open: char, close: char) -> bool {
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
    fn dollar(&mut self, raw: &mut String, lit: &mut String, in_double: bool) -> bool {
        let line = self.line;
        match self.peek_at(1) {
            Some('(') => {
                self.pos += 2;
                raw.push_str("$(");
                if !self.skip_nested(raw, '(', ')') {
                    self.issues
                        .push((line, format!("unterminated $( at line {line}")));
                }
                true
            }
            Some('{') => {
                self.pos += 2;
                raw.push_str("${");
                if !self.skip_nested(raw, '{', '}') {
                    self.issues
                        .push((line, format!("unterminated ${{ at line {line}")));
                }
                true
            }
            Some('\'') if !in_double => {
                // ANSI-C quoting: a literal with backslash escapes.
                self.pos += 2;
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
                self.pos += 1;
                raw.push('$');
                while let Some(c) = self.peek() {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        raw.push(c);
                        self.pos += 1;
                    } else {
                        break;
                    }
                }
                true
            }
            Some(c) if "@*#?$!-".contains(c) => {
                self.pos += 2;
                raw.push('$');
                raw.push(c);
                true
            }
            _ => {
                self.pos += 1;
                raw.push('$');
                lit.push('$');
                false
            }
        }
    }

    fn backquote(&mut self, raw: &mut String) {
        let line = self.line;
        self.pos += 1;
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

    fn double_quoted(&mut self, raw: &mut String, lit: &mut String, expands: &mut bool) {
        let line = self.line;
        self.pos += 1;
        raw.push('"');
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.pos += 1;
                    raw.push('"');
                    return;
                }
                '\\' => {
                    self.pos += 1;
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

    fn word(&mut self) {
        let line = self.line;
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
                        self.pos += 1;
                        raw.push('(');
                        self.skip_nested(&mut raw, '(', ')');
                        expands = true;
                    } else {
                        break;
                    }
                }
                '\\' => {
                    plain = false;
                    self.pos += 1;
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
                    self.pos += 1;
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
                    self.pos += 1;
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
            self.pos += 1;
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
fn assignment_name(raw: &str) -> Option<(&str, bool)> {
    let eq = raw.find('=')?;
    let head = raw.get(..eq)?;
    let (name, append) = match head.strip_suffix('+') {
        Some(n) => (n, true),
        None => (head, false),
    };
    is_name(name).then_some((name, append))
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------------
// Interpreter: the shared TMOUT state over the login sequence, and a walker per file.

#[derive(Debug, Clone)]
struct ValueState {
    value: Option<String>,
    expands: bool,
    path: String,
    line: u32,
    conditional: bool,
}

struct Interp<'t> {
    target: &'t dyn Target,
    /// Current value (`value: None` after an unset); `None` when never touched.
    value: Option<ValueState>,
    readonly: Option<AttributeAt>,
    exported: Option<AttributeAt>,
    refused: Vec<RefusedAssignment>,
    statements: Vec<TmoutStatement>,
    files: Vec<ProfileFile>,
    unreadable: Vec<UnreadableProfile>,
    issues: Vec<ParseIssue>,
    sources_not_followed: Vec<SourceNotFollowed>,
    profile_d_loop: Option<ProfileDirLoop>,
    /// Files being sourced right now (cycle guard).
    active: Vec<String>,
    /// `(path, line)` of loops already expanded (a loop body may source `$i` in two branches).
    fired_loops: BTreeSet<(String, u32)>,
}

impl<'t> Interp<'t> {
    fn new(target: &'t dyn Target) -> Self {
        Interp {
            target,
            value: None,
            readonly: None,
            exported: None,
            refused: Vec::new(),
            statements: Vec::new(),
            files: Vec::new(),
            unreadable: Vec::new(),
            issues: Vec::new(),
            sources_not_followed: Vec::new(),
            profile_d_loop: None,
            active: Vec::new(),
            fired_loops: BTreeSet::new(),
        }
    }

    fn readonly_unconditionally(&self) -> bool {
        self.readonly.as_ref().is_some_and(|r| !r.conditional)
    }

    /// Sources `path` (reads and runs it) as a login shell would.
    fn source(&mut self, path: &str, from: Option<SourcedFrom>, depth: usize) {
        if self.active.iter().any(|p| p == path) {
            let at = from
                .as_ref()
                .map(|f| (f.path.clone(), f.line))
                .unwrap_or_default();
            self.issues.push(ParseIssue {
                path: at.0,
                line: at.1,
                message: format!(
                    "{path} sources itself (directly or through another file); not followed again"
                ),
            });
            return;
        }
        if depth >= MAX_SOURCE_DEPTH {
            let at = from
                .as_ref()
                .map(|f| (f.path.clone(), f.line))
                .unwrap_or_default();
            self.issues.push(ParseIssue {
                path: at.0,
                line: at.1,
                message: format!(
                    "{path} is sourced more than {MAX_SOURCE_DEPTH} levels deep; not followed"
                ),
            });
            return;
        }
        if self.files.len() + self.unreadable.len() >= MAX_SOURCED_FILES {
            let at = from
                .as_ref()
                .map(|f| (f.path.clone(), f.line))
                .unwrap_or_default();
            self.issues.push(ParseIssue {
                path: at.0,
                line: at.1,
                message: format!(
                    "{path} not followed: more than {MAX_SOURCED_FILES} files already read for this login"
                ),
            });
            return;
        }
        match self.target.read_text(path) {
            Ok(text) => {
                self.files.push(ProfileFile {
                    path: path.to_string(),
                    sourced_from: from,
                });
                self.active.push(path.to_string());
                self.run_text(path, &text, true, depth);
                self.active.pop();
            }
            Err(ReadError::NotFound) | Err(ReadError::NotRegular(FileKind::Directory)) => {}
            Err(e) => {
                let readonly_before = self.readonly_unconditionally();
                self.unreadable.push(UnreadableProfile {
                    path: path.to_string(),
                    error: e.to_string(),
                    sourced_from: from,
                    readonly_before,
                });
            }
        }
    }

    fn run_text(&mut self, path: &str, text: &str, sourced: bool, depth: usize) {
        let (toks, lex_issues) = lex(text);
        for (line, message) in lex_issues {
            self.issues.push(ParseIssue {
                path: path.to_string(),
                line,
                message,
            });
        }
        if text.contains("\r\n") {
            self.issues.push(ParseIssue {
                path: path.to_string(),
                line: 0,
                message: "CRLF line endings: bash reads the carriage return as part of each line's last word".into(),
            });
        }
        let mut walker = Walker::new(path, sourced, depth, &toks);
        walker.walk(self);
    }

    fn effective(&self) -> EffectiveTmout {
        let (set, value, expands, path, line, conditional) = match &self.value {
            Some(v) => (
                v.value.is_some(),
                v.value.clone(),
                v.expands,
                Some(v.path.clone()),
                v.line,
                v.conditional,
            ),
            None => (false, None, false, None, 0, false),
        };
        let seconds = match (&value, expands) {
            (Some(v), false) => Some(tmout_seconds(v)),
            _ => None,
        };
        let numeric = !expands && value.as_deref().is_some_and(is_plain_integer);
        EffectiveTmout {
            set,
            value,
            value_expands: expands,
            seconds,
            numeric,
            path,
            line,
            conditional,
            readonly: self.readonly.clone(),
            exported: self.exported.clone(),
            refused: self.refused.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FrameKind {
    If,
    Loop(&'static str),
    For { var: String, words: Vec<Word> },
    Case { in_pattern: bool },
    Group,
    Subshell,
}

#[derive(Debug, Clone)]
struct Frame {
    kind: FrameKind,
    line: u32,
    /// The compound is the body of this function.
    function: Option<String>,
}

impl Frame {
    /// Whether commands inside may not run (everything but `{ ...; }`).
    fn is_conditional(&self) -> bool {
        self.function.is_some() || self.kind != FrameKind::Group
    }

    /// Why commands inside may not run; `None` for `{ ...; }`.
    fn condition(&self) -> Option<String> {
        if let Some(name) = &self.function {
            return Some(format!(
                "inside function `{name}` defined at line {} (runs only when called)",
                self.line
            ));
        }
        match &self.kind {
            FrameKind::If => Some(format!("inside `if` at line {}", self.line)),
            FrameKind::Loop(kw) => Some(format!("inside `{kw}` loop at line {}", self.line)),
            FrameKind::For { .. } => Some(format!("inside `for` loop at line {}", self.line)),
            FrameKind::Case { .. } => Some(format!("inside `case` at line {}", self.line)),
            FrameKind::Subshell => Some(format!("inside a subshell at line {}", self.line)),
            FrameKind::Group => None,
        }
    }
}

/// Counts of kinds of frames on the stack.
#[derive(Debug, Clone, Copy, Default)]
struct FrameCounts {
    conditional: usize,
    subshell: usize,
    function: usize,
}

impl FrameCounts {
    fn add(&mut self, f: &Frame, sign: isize) {
        let bump = |n: &mut usize| *n = n.saturating_add_signed(sign);
        if f.is_conditional() {
            bump(&mut self.conditional);
        }
        if f.kind == FrameKind::Subshell {
            bump(&mut self.subshell);
        }
        if f.function.is_some() {
            bump(&mut self.function);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terminator {
    Newline,
    Seq,
    Background,
    And,
    Or,
    Pipe,
}

/// How one command runs relative to the login shell.
struct CommandContext {
    line: u32,
    /// The `&&`/`||` before the command, when it decides whether the command runs.
    connector: Option<String>,
    /// An enclosing construct (`if`, loop, `case`, function, subshell) may not run the command.
    in_conditional_frame: bool,
    /// Runs in a subshell (pipeline, background, `( ... )`): no effect on the login shell.
    subshell: bool,
    in_function: bool,
    /// The command cannot run (after a refused assignment or a `return`), with the reason.
    blocked: Option<String>,
}

impl CommandContext {
    fn conditional(&self) -> bool {
        self.connector.is_some() || self.in_conditional_frame
    }
}

/// Enclosing constructs a statement's `condition` names (innermost first); deeper nesting is
/// counted, not spelled out, so a statement's text does not grow with the file.
const MAX_CONDITIONS_SHOWN: usize = 8;

/// The kind of `TMOUT` change a command makes.
#[derive(Debug, Clone)]
enum Change {
    /// An assignment (with attribute changes). `refuse_keeps_export`: `export NAME=v` on a
    /// readonly variable still sets the export attribute; `declare -x NAME=v` does not.
    Assign {
        value: Word,
        append: bool,
        readonly: bool,
        exported: Option<bool>,
        refuse_keeps_export: bool,
    },
    /// Attribute changes only.
    Attributes {
        readonly: bool,
        exported: Option<bool>,
    },
    Unset,
}

struct Walker<'a> {
    path: &'a str,
    sourced: bool,
    depth: usize,
    toks: &'a [Tok],
    i: usize,
    frames: Vec<Frame>,
    /// How many of `frames` are conditional, subshells and function bodies (kept up to date so a
    /// command does not scan every enclosing frame: deep nesting would make that quadratic).
    counts: FrameCounts,
    words: Vec<Word>,
    word_line: u32,
    /// Why the next command of an and-or list may not run.
    connector: Option<String>,
    piped_in: bool,
    pending_function: Option<String>,
    /// Parentheses that opened no frame (`[[ ( ... ) ]]`, stray syntax).
    stray_parens: usize,
    /// A refused plain assignment at this line: bash abandons the rest of the complete command.
    aborted: Option<u32>,
    /// An unconditional top-level `return`/`exit` at this line: the rest of the file never runs.
    stopped: Option<(u32, String)>,
}

impl<'a> Walker<'a> {
    fn new(path: &'a str, sourced: bool, depth: usize, toks: &'a [Tok]) -> Self {
        Walker {
            path,
            sourced,
            depth,
            toks,
            i: 0,
            frames: Vec::new(),
            counts: FrameCounts::default(),
            words: Vec::new(),
            word_line: 0,
            connector: None,
            piped_in: false,
            pending_function: None,
            stray_parens: 0,
            aborted: None,
            stopped: None,
        }
    }

    fn issue(&self, interp: &mut Interp<'_>, line: u32, message: String) {
        interp.issues.push(ParseIssue {
            path: self.path.to_string(),
            line,
            message,
        });
    }

    fn next_tok(&self) -> Option<&'a Tok> {
        self.toks.get(self.i)
    }

    fn skip_newlines(&mut self) {
        while let Some(Tok {
            kind: TokKind::Newline | TokKind::Op(Op::Semi),
            ..
        }) = self.next_tok()
        {
            self.i += 1;
        }
    }

    fn push_frame(&mut self, kind: FrameKind, line: u32) {
        let function = self.pending_function.take();
        let frame = Frame {
            kind,
            line,
            function,
        };
        self.counts.add(&frame, 1);
        self.frames.push(frame);
    }

    /// Drops the frames from `len` on.
    fn truncate_frames(&mut self, len: usize) {
        while self.frames.len() > len {
            if let Some(f) = self.frames.pop() {
                self.counts.add(&f, -1);
            }
        }
    }

    /// Pops the innermost frame matching `pred`, reporting a keyword with nothing to close.
    fn pop_frame(
        &mut self,
        interp: &mut Interp<'_>,
        keyword: &str,
        line: u32,
        pred: impl Fn(&FrameKind) -> bool,
    ) {
        match self.frames.iter().rposition(|f| pred(&f.kind)) {
            Some(idx) => self.truncate_frames(idx),
            None => self.issue(
                interp,
                line,
                format!("`{keyword}` at line {line} closes nothing"),
            ),
        }
    }

    fn in_case_pattern(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                kind: FrameKind::Case { in_pattern: true },
                ..
            })
        )
    }

    fn set_case_pattern(&mut self, value: bool) {
        if let Some(Frame {
            kind: FrameKind::Case { in_pattern },
            ..
        }) = self.frames.last_mut()
        {
            *in_pattern = value;
        }
    }

    fn walk(&mut self, interp: &mut Interp<'_>) {
        while let Some(tok) = self.toks.get(self.i) {
            self.i += 1;
            if self.in_case_pattern() {
                match &tok.kind {
                    TokKind::Word(w) if w.is("esac") => {
                        self.truncate_frames(self.frames.len().saturating_sub(1));
                    }
                    TokKind::Op(Op::RParen) => self.set_case_pattern(false),
                    _ => {}
                }
                continue;
            }
            match &tok.kind {
                TokKind::Word(w) => self.on_word(interp, w, tok.line),
                TokKind::Redirect => {
                    if let Some(Tok {
                        kind: TokKind::Word(_),
                        ..
                    }) = self.next_tok()
                    {
                        self.i += 1;
                    }
                }
                TokKind::Newline => {
                    self.end_command(interp, Terminator::Newline);
                    if self.frames.is_empty() {
                        self.aborted = None;
                    }
                }
                TokKind::Op(Op::Semi) => self.end_command(interp, Terminator::Seq),
                TokKind::Op(Op::Amp) => self.end_command(interp, Terminator::Background),
                TokKind::Op(Op::AndIf) => self.end_command(interp, Terminator::And),
                TokKind::Op(Op::OrIf) => self.end_command(interp, Terminator::Or),
                TokKind::Op(Op::Pipe) => self.end_command(interp, Terminator::Pipe),
                TokKind::Op(Op::CaseEnd) => {
                    self.end_command(interp, Terminator::Seq);
                    self.set_case_pattern(true);
                }
                TokKind::Op(Op::LParen) => {
                    let function_def = self.words.len() == 1
                        && matches!(
                            self.next_tok(),
                            Some(Tok {
                                kind: TokKind::Op(Op::RParen),
                                ..
                            })
                        );
                    if function_def {
                        self.i += 1;
                        let name = self.words.pop().map(|w| w.raw).unwrap_or_default();
                        self.pending_function = Some(name);
                    } else if self.words.is_empty()
                        && matches!(
                            self.next_tok(),
                            Some(Tok {
                                kind: TokKind::Op(Op::LParen),
                                ..
                            })
                        )
                    {
                        self.arithmetic_command(interp, tok.line);
                    } else if self.words.is_empty() {
                        self.push_frame(FrameKind::Subshell, tok.line);
                    } else {
                        self.stray_parens += 1;
                    }
                }
                TokKind::Op(Op::RParen) => {
                    self.end_command(interp, Terminator::Seq);
                    if self.stray_parens > 0 {
                        self.stray_parens -= 1;
                    } else {
                        self.pop_frame(interp, ")", tok.line, |k| *k == FrameKind::Subshell);
                    }
                }
            }
        }
        self.end_command(interp, Terminator::Newline);
        self.counts = FrameCounts::default();
        for frame in std::mem::take(&mut self.frames) {
            let what = match frame.kind {
                FrameKind::If => "if",
                FrameKind::Loop(kw) => kw,
                FrameKind::For { .. } => "for",
                FrameKind::Case { .. } => "case",
                FrameKind::Group => "{",
                FrameKind::Subshell => "(",
            };
            self.issue(
                interp,
                frame.line,
                format!("`{what}` opened at line {} is never closed", frame.line),
            );
        }
    }

    /// `(( ... ))`: arithmetic in the current shell. It can assign (`((TMOUT=900))`), which this
    /// reader does not evaluate; it stands as one command so `&&`/`||` around it still count.
    fn arithmetic_command(&mut self, interp: &mut Interp<'_>, line: u32) {
        let mut depth = 1usize;
        let mut mentions_tmout = false;
        while let Some(t) = self.toks.get(self.i) {
            self.i += 1;
            match &t.kind {
                TokKind::Op(Op::LParen) => depth += 1,
                TokKind::Op(Op::RParen) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                TokKind::Word(w) if w.raw.contains(TMOUT) => mentions_tmout = true,
                _ => {}
            }
        }
        if mentions_tmout {
            self.issue(
                interp,
                line,
                format!("arithmetic command at line {line} may change TMOUT; this reader does not evaluate it"),
            );
        }
        self.word_line = line;
        self.words.push(Word {
            raw: "((".into(),
            literal: Some("((".into()),
            plain: true,
        });
    }

    fn on_word(&mut self, interp: &mut Interp<'_>, w: &Word, line: u32) {
        if self.words.is_empty() && w.plain {
            match w.raw.as_str() {
                "if" => return self.push_frame(FrameKind::If, line),
                "while" => return self.push_frame(FrameKind::Loop("while"), line),
                "until" => return self.push_frame(FrameKind::Loop("until"), line),
                "then" | "else" | "elif" | "do" | "!" | "time" => return,
                "fi" => return self.pop_frame(interp, "fi", line, |k| *k == FrameKind::If),
                "done" => {
                    return self.pop_frame(interp, "done", line, |k| {
                        matches!(k, FrameKind::Loop(_) | FrameKind::For { .. })
                    });
                }
                "esac" => {
                    return self.pop_frame(interp, "esac", line, |k| {
                        matches!(k, FrameKind::Case { .. })
                    });
                }
                "{" => return self.push_frame(FrameKind::Group, line),
                "}" => return self.pop_frame(interp, "}", line, |k| *k == FrameKind::Group),
                "case" => return self.case_header(interp, line),
                "for" | "select" => return self.for_header(interp, line),
                "function" => {
                    if let Some(Tok {
                        kind: TokKind::Word(name),
                        ..
                    }) = self.next_tok()
                    {
                        self.pending_function = Some(name.raw.clone());
                        self.i += 1;
                        if matches!(
                            self.next_tok(),
                            Some(Tok {
                                kind: TokKind::Op(Op::LParen),
                                ..
                            })
                        ) && matches!(
                            self.toks.get(self.i + 1),
                            Some(Tok {
                                kind: TokKind::Op(Op::RParen),
                                ..
                            })
                        ) {
                            self.i += 2;
                        }
                    }
                    return;
                }
                _ => {}
            }
        }
        if self.words.is_empty() {
            self.word_line = line;
        }
        self.words.push(w.clone());
    }

    fn case_header(&mut self, interp: &mut Interp<'_>, line: u32) {
        // `case WORD in`
        if let Some(Tok {
            kind: TokKind::Word(_),
            ..
        }) = self.next_tok()
        {
            self.i += 1;
        }
        while let Some(Tok {
            kind: TokKind::Newline,
            ..
        }) = self.next_tok()
        {
            self.i += 1;
        }
        match self.next_tok() {
            Some(Tok {
                kind: TokKind::Word(w),
                ..
            }) if w.is("in") => self.i += 1,
            _ => self.issue(interp, line, format!("`case` at line {line} has no `in`")),
        }
        self.push_frame(FrameKind::Case { in_pattern: true }, line);
    }

    fn for_header(&mut self, interp: &mut Interp<'_>, line: u32) {
        let mut var = String::new();
        let mut words = Vec::new();
        match self.next_tok() {
            Some(Tok {
                kind: TokKind::Op(Op::LParen),
                ..
            }) => {
                // Arithmetic `for ((...))`: skip to `do`.
                while let Some(t) = self.next_tok() {
                    if matches!(&t.kind, TokKind::Word(w) if w.is("do")) {
                        break;
                    }
                    self.i += 1;
                }
            }
            Some(Tok {
                kind: TokKind::Word(w),
                ..
            }) => {
                var = w.raw.clone();
                self.i += 1;
                while let Some(Tok {
                    kind: TokKind::Newline,
                    ..
                }) = self.next_tok()
                {
                    self.i += 1;
                }
                if let Some(Tok {
                    kind: TokKind::Word(w),
                    ..
                }) = self.next_tok()
                    && w.is("in")
                {
                    self.i += 1;
                    while let Some(Tok {
                        kind: TokKind::Word(w),
                        ..
                    }) = self.next_tok()
                    {
                        words.push(w.clone());
                        self.i += 1;
                    }
                }
            }
            _ => {}
        }
        self.skip_newlines();
        match self.next_tok() {
            Some(Tok {
                kind: TokKind::Word(w),
                ..
            }) if w.is("do") => self.i += 1,
            _ => self.issue(interp, line, format!("`for` at line {line} has no `do`")),
        }
        self.push_frame(FrameKind::For { var, words }, line);
    }

    fn end_command(&mut self, interp: &mut Interp<'_>, term: Terminator) {
        let words = std::mem::take(&mut self.words);
        let connector = self.connector.take();
        let piped_in = self.piped_in;
        self.piped_in = term == Terminator::Pipe;
        let mut certain = false;
        if !words.is_empty() {
            let line = self.word_line;
            // Only whether a frame is conditional here: the condition text is built for the
            // few commands that touch TMOUT (building it for every command was quadratic).
            let in_conditional_frame = self.counts.conditional > 0;
            let subshell = piped_in
                || matches!(term, Terminator::Pipe | Terminator::Background)
                || self.counts.subshell > 0;
            let in_function = self.counts.function > 0;
            let blocked = match (&self.stopped, self.aborted) {
                (Some((l, kw)), _) => Some(format!("the file stops at the `{kw}` at line {l}")),
                (None, Some(l)) => Some(format!(
                    "bash abandons the rest of the command after the refused assignment at line {l}"
                )),
                (None, None) => None,
            };
            let ctx = CommandContext {
                line,
                connector: connector.clone(),
                in_conditional_frame,
                subshell,
                in_function,
                blocked,
            };
            certain = self.eval(interp, &words, &ctx);
        }
        // The next command of an and-or list runs only if this one succeeded (`&&`) or failed
        // (`||`); after an assignment that cannot fail, `&&` is no condition.
        self.connector =
            match term {
                Terminator::And if certain && connector.is_none() => None,
                Terminator::And => Some(connector.unwrap_or_else(|| {
                    "after `&&` (runs only if the command before succeeds)".into()
                })),
                Terminator::Or => Some("after `||` (runs only if the command before fails)".into()),
                _ => None,
            };
    }

    /// Evaluates one simple command; returns whether it certainly succeeds.
    fn eval(&mut self, interp: &mut Interp<'_>, words: &[Word], ctx: &CommandContext) -> bool {
        let text = words
            .iter()
            .map(|w| w.raw.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let n_assign = words
            .iter()
            .take_while(|w| assignment_name(&w.raw).is_some())
            .count();
        let (assigns, rest) = words.split_at(n_assign);

        if rest.is_empty() {
            let mut certain = true;
            for w in assigns {
                let Some((name, append)) = assignment_name(&w.raw) else {
                    continue;
                };
                if name != TMOUT {
                    continue;
                }
                let value = value_after_eq(w, &w.raw);
                let change = Change::Assign {
                    value,
                    append,
                    readonly: false,
                    exported: None,
                    refuse_keeps_export: false,
                };
                let applied = self.record(interp, ctx, "assignment", &text, change);
                if applied == Outcome::Refused {
                    certain = false;
                    if !ctx.subshell {
                        self.aborted = Some(ctx.line);
                    }
                    break;
                }
            }
            return certain;
        }

        // Unwrap `builtin NAME` / `command NAME`.
        let mut rest = rest;
        while let Some(first) = rest.first() {
            if first.is("builtin") || first.is("command") {
                rest = rest.get(1..).unwrap_or(&[]);
            } else {
                break;
            }
        }
        let Some(cmd) = rest.first().and_then(|w| w.literal.clone()) else {
            return false;
        };
        let args = rest.get(1..).unwrap_or(&[]);

        for w in assigns {
            if matches!(assignment_name(&w.raw), Some((TMOUT, _))) {
                let value = value_after_eq(w, &w.raw);
                self.record_prefix(interp, ctx, &text, &cmd, value);
            }
        }

        match cmd.as_str() {
            "export" | "readonly" | "declare" | "typeset" | "local" => {
                self.declaration(interp, ctx, &text, &cmd, args)
            }
            "unset" => {
                let mut functions = false;
                for a in args {
                    match a.literal.as_deref() {
                        Some("-f") => functions = true,
                        Some("-v") | Some("-n") | Some("--") => {}
                        Some(TMOUT) if !functions => {
                            self.record(interp, ctx, "unset", &text, Change::Unset);
                        }
                        _ => {}
                    }
                }
                true
            }
            "." | "source" => {
                let target = args.iter().find(|a| a.literal.as_deref() != Some("--"));
                if let Some(t) = target {
                    self.source_command(interp, ctx, t);
                }
                false
            }
            "return" | "exit" => {
                if !ctx.conditional() && !ctx.subshell && ctx.blocked.is_none() {
                    self.stopped = Some((ctx.line, cmd.clone()));
                }
                false
            }
            "eval" | "let" | "read" | "printf" | "mapfile" | "readarray" => {
                if args.iter().any(|a| a.raw.contains(TMOUT)) {
                    self.issue(
                        interp,
                        ctx.line,
                        format!(
                            "`{cmd}` at line {} may change TMOUT; this reader does not evaluate it",
                            ctx.line
                        ),
                    );
                }
                false
            }
            _ => false,
        }
    }

    /// `export`, `readonly`, `declare`, `typeset`, `local` with their options and operands.
    fn declaration(
        &mut self,
        interp: &mut Interp<'_>,
        ctx: &CommandContext,
        text: &str,
        cmd: &str,
        args: &[Word],
    ) -> bool {
        let mut readonly = cmd == "readonly";
        let mut exported = (cmd == "export").then_some(true);
        let mut functions = false;
        let mut global = false;
        let mut remove_readonly = false;
        let mut operands = args;
        while let Some(first) = operands.first() {
            let Some(opt) = first.literal.as_deref() else {
                break;
            };
            if opt == "--" {
                operands = operands.get(1..).unwrap_or(&[]);
                break;
            }
            let declare_like = matches!(cmd, "declare" | "typeset" | "local");
            let (sign, letters) = match (opt.strip_prefix('-'), opt.strip_prefix('+')) {
                (Some(l), _) if !l.is_empty() => ('-', l),
                (_, Some(l)) if !l.is_empty() && declare_like => ('+', l),
                _ => break,
            };
            for c in letters.chars() {
                match (cmd, sign, c) {
                    (_, _, 'f') | (_, _, 'F') => functions = true,
                    ("export", '-', 'n') => exported = Some(false),
                    (_, '-', 'r') if declare_like => readonly = true,
                    (_, '+', 'r') => remove_readonly = true,
                    (_, '-', 'x') if declare_like => exported = Some(true),
                    (_, '+', 'x') => exported = Some(false),
                    (_, '-', 'g') => global = true,
                    _ => {}
                }
            }
            operands = operands.get(1..).unwrap_or(&[]);
        }
        if functions {
            return true;
        }
        let local =
            cmd == "local" || (matches!(cmd, "declare" | "typeset") && ctx.in_function && !global);
        let mut certain = true;
        for operand in operands {
            let Some(full) = operand
                .literal
                .clone()
                .or_else(|| Some(operand.raw.clone()))
            else {
                continue;
            };
            let (name, has_value) = match full.split_once('=') {
                Some((n, _)) => (n.strip_suffix('+').unwrap_or(n).to_string(), true),
                None => (full.clone(), false),
            };
            if name != TMOUT {
                continue;
            }
            if local {
                let note = if cmd == "local" && !ctx.in_function {
                    "`local` outside a function fails".to_string()
                } else {
                    format!("`{cmd}` inside a function makes a local variable")
                };
                self.record_no_effect(interp, ctx, cmd, text, operand, readonly, exported, note);
                continue;
            }
            if remove_readonly {
                self.issue(
                    interp,
                    ctx.line,
                    format!(
                        "`{cmd} +r` at line {} cannot remove the readonly attribute",
                        ctx.line
                    ),
                );
            }
            let change = if has_value {
                let append = full.split_once('=').is_some_and(|(n, _)| n.ends_with('+'));
                let value = value_after_eq(operand, &full);
                Change::Assign {
                    value,
                    append,
                    readonly,
                    exported,
                    refuse_keeps_export: cmd == "export",
                }
            } else {
                Change::Attributes { readonly, exported }
            };
            if self.record(interp, ctx, cmd, text, change) == Outcome::Refused {
                certain = false;
            }
        }
        certain
    }

    fn source_command(&mut self, interp: &mut Interp<'_>, ctx: &CommandContext, target: &Word) {
        let runs = self.sourced && ctx.blocked.is_none() && !ctx.subshell;
        if let Some(path) = target.literal.as_deref() {
            if !path.starts_with('/') {
                return;
            }
            if !followable(path) {
                interp.sources_not_followed.push(SourceNotFollowed {
                    path: self.path.to_string(),
                    line: ctx.line,
                    file: path.to_string(),
                });
                return;
            }
            if runs {
                let from = SourcedFrom {
                    path: self.path.to_string(),
                    line: ctx.line,
                };
                interp.source(path, Some(from), self.depth + 1);
            }
            return;
        }
        // `. "$i"` inside `for i in /etc/profile.d/*.sh` in /etc/profile: the profile.d hook.
        let Some(var) = loop_variable(&target.raw) else {
            return;
        };
        if self.path != PROFILE || !runs {
            return;
        }
        let Some(frame) = self
            .frames
            .iter()
            .rev()
            .find(|f| matches!(&f.kind, FrameKind::For { var: v, .. } if *v == var))
        else {
            return;
        };
        let FrameKind::For { words, .. } = &frame.kind else {
            return;
        };
        let for_line = frame.line;
        if !interp.fired_loops.insert((self.path.to_string(), for_line)) {
            return;
        }
        let mut patterns: Vec<String> = words.iter().filter_map(|w| w.literal.clone()).collect();
        if patterns.is_empty() {
            patterns = run_parts_patterns(words);
        }
        if patterns
            .iter()
            .any(|p| p.starts_with(&format!("{PROFILE_D}/")))
            && interp.profile_d_loop.is_none()
        {
            interp.profile_d_loop = Some(ProfileDirLoop {
                path: self.path.to_string(),
                line: for_line,
                patterns: patterns.clone(),
            });
        }
        for pattern in patterns {
            let files = if pattern.contains(['*', '?', '[']) {
                interp.target.glob("/", &pattern)
            } else if interp.target.exists(&pattern) {
                vec![pattern.clone()]
            } else {
                Vec::new()
            };
            for file in files {
                if !followable(&file) {
                    interp.sources_not_followed.push(SourceNotFollowed {
                        path: self.path.to_string(),
                        line: for_line,
                        file,
                    });
                    continue;
                }
                let from = SourcedFrom {
                    path: self.path.to_string(),
                    line: for_line,
                };
                interp.source(&file, Some(from), self.depth + 1);
            }
        }
    }

    /// Records a statement and applies it to the login shell's state; returns its outcome.
    fn record(
        &mut self,
        interp: &mut Interp<'_>,
        ctx: &CommandContext,
        command: &str,
        text: &str,
        change: Change,
    ) -> Outcome {
        let (value, append, readonly, exported) = match &change {
            Change::Assign {
                value,
                append,
                readonly,
                exported,
                ..
            } => (Some(value.clone()), *append, *readonly, *exported),
            Change::Attributes { readonly, exported } => (None, false, *readonly, *exported),
            Change::Unset => (None, false, false, None),
        };
        let mut stmt = self.statement(ctx, command, text, value.as_ref(), readonly, exported);
        if !self.sourced {
            stmt.outcome = Outcome::NotSourced;
        } else if let Some(why) = &ctx.blocked {
            stmt.outcome = Outcome::NotRun;
            stmt.note = Some(why.clone());
        } else if ctx.subshell {
            stmt.outcome = Outcome::NoEffect;
            stmt.note = Some("runs in a subshell: the login shell's TMOUT is unchanged".into());
        } else {
            let conditional = ctx.conditional();
            let here = AttributeAt {
                path: self.path.to_string(),
                line: ctx.line,
                conditional,
            };
            let locked = interp.readonly.clone();
            match change {
                Change::Assign {
                    value,
                    refuse_keeps_export,
                    ..
                } => {
                    if let Some(ro) = locked {
                        stmt.outcome = Outcome::Refused;
                        stmt.note =
                            Some(format!("TMOUT is readonly since {}:{}", ro.path, ro.line));
                        interp.refused.push(RefusedAssignment {
                            path: self.path.to_string(),
                            line: ctx.line,
                            text: text.to_string(),
                            value: stmt.value.clone(),
                            readonly_path: ro.path.clone(),
                            readonly_line: ro.line,
                        });
                        if refuse_keeps_export && exported == Some(true) {
                            set_exported(interp, here);
                        }
                    } else {
                        let (new_value, expands) = match (append, &interp.value, &value.literal) {
                            (
                                true,
                                Some(ValueState {
                                    value: Some(old),
                                    expands: false,
                                    ..
                                }),
                                Some(v),
                            ) => (format!("{old}{v}"), false),
                            (true, Some(ValueState { value: Some(_), .. }), _) => {
                                (value.raw.clone(), true)
                            }
                            (_, _, Some(v)) => (v.clone(), false),
                            (_, _, None) => (value.raw.clone(), true),
                        };
                        interp.value = Some(ValueState {
                            value: Some(new_value),
                            expands,
                            path: self.path.to_string(),
                            line: ctx.line,
                            conditional,
                        });
                        if readonly {
                            interp.readonly = Some(here.clone());
                        }
                        match exported {
                            Some(true) => set_exported(interp, here),
                            Some(false) => interp.exported = None,
                            None => {}
                        }
                    }
                }
                Change::Attributes { readonly, exported } => {
                    if readonly
                        && interp
                            .readonly
                            .as_ref()
                            .is_none_or(|r| r.conditional && !here.conditional)
                    {
                        interp.readonly = Some(here.clone());
                    }
                    match exported {
                        Some(true) => set_exported(interp, here),
                        Some(false) => interp.exported = None,
                        None => {}
                    }
                }
                Change::Unset => {
                    if let Some(ro) = locked {
                        stmt.outcome = Outcome::Refused;
                        stmt.note = Some(format!(
                            "cannot unset: TMOUT is readonly since {}:{}",
                            ro.path, ro.line
                        ));
                        interp.refused.push(RefusedAssignment {
                            path: self.path.to_string(),
                            line: ctx.line,
                            text: text.to_string(),
                            value: None,
                            readonly_path: ro.path.clone(),
                            readonly_line: ro.line,
                        });
                    } else {
                        interp.value = Some(ValueState {
                            value: None,
                            expands: false,
                            path: self.path.to_string(),
                            line: ctx.line,
                            conditional,
                        });
                        interp.exported = None;
                    }
                }
            }
        }
        let outcome = stmt.outcome;
        interp.statements.push(stmt);
        outcome
    }

    /// `TMOUT=v cmd`: the value lives only in `cmd`'s environment.
    fn record_prefix(
        &mut self,
        interp: &mut Interp<'_>,
        ctx: &CommandContext,
        text: &str,
        cmd: &str,
        value: Word,
    ) {
        let mut stmt = self.statement(ctx, "prefix-assignment", text, Some(&value), false, None);
        stmt.outcome = if !self.sourced {
            Outcome::NotSourced
        } else if ctx.blocked.is_some() {
            Outcome::NotRun
        } else if let Some(ro) = interp.readonly.clone().filter(|_| !ctx.subshell) {
            stmt.note = Some(format!("TMOUT is readonly since {}:{}", ro.path, ro.line));
            Outcome::Refused
        } else {
            stmt.note = Some(format!(
                "sets TMOUT only for `{cmd}`, not for the login shell"
            ));
            Outcome::NoEffect
        };
        interp.statements.push(stmt);
    }

    #[allow(clippy::too_many_arguments)]
    fn record_no_effect(
        &mut self,
        interp: &mut Interp<'_>,
        ctx: &CommandContext,
        command: &str,
        text: &str,
        operand: &Word,
        readonly: bool,
        exported: Option<bool>,
        note: String,
    ) {
        let value = operand
            .literal
            .as_deref()
            .unwrap_or(&operand.raw)
            .split_once('=')
            .map(|_| value_after_eq(operand, operand.literal.as_deref().unwrap_or(&operand.raw)));
        let mut stmt = self.statement(ctx, command, text, value.as_ref(), readonly, exported);
        stmt.outcome = if self.sourced {
            Outcome::NoEffect
        } else {
            Outcome::NotSourced
        };
        stmt.note = Some(note);
        interp.statements.push(stmt);
    }

    /// Why the command of `ctx` may not run: its `&&`/`||`, then the enclosing constructs,
    /// innermost first (at most [`MAX_CONDITIONS_SHOWN`] of them spelled out).
    fn condition_text(&self, ctx: &CommandContext) -> Option<String> {
        let mut parts: Vec<String> = ctx.connector.iter().cloned().collect();
        let shown = self.counts.conditional.min(MAX_CONDITIONS_SHOWN);
        if shown > 0 {
            parts.extend(
                self.frames
                    .iter()
                    .rev()
                    .filter_map(Frame::condition)
                    .take(shown),
            );
        }
        let more = self.counts.conditional - shown;
        if more > 0 {
            parts.push(format!("and {more} more enclosing construct(s)"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    fn statement(
        &self,
        ctx: &CommandContext,
        command: &str,
        text: &str,
        value: Option<&Word>,
        readonly: bool,
        exported: Option<bool>,
    ) -> TmoutStatement {
        let (value_text, expands) = match value {
            Some(w) => match &w.literal {
                Some(v) => (Some(v.clone()), false),
                None => (Some(w.raw.clone()), true),
            },
            None => (None, false),
        };
        let seconds = match (&value_text, expands) {
            (Some(v), false) => Some(tmout_seconds(v)),
            _ => None,
        };
        let numeric = !expands && value_text.as_deref().is_some_and(is_plain_integer);
        TmoutStatement {
            path: self.path.to_string(),
            line: ctx.line,
            command: command.to_string(),
            text: text.to_string(),
            value: value_text,
            value_expands: expands,
            seconds,
            numeric,
            readonly,
            exported,
            conditional: ctx.conditional(),
            condition: self.condition_text(ctx),
            sourced: self.sourced,
            outcome: Outcome::Applied,
            note: None,
        }
    }
}

fn set_exported(interp: &mut Interp<'_>, here: AttributeAt) {
    // Keep the first unconditional export: that is where the attribute is guaranteed.
    match &interp.exported {
        Some(existing) if !existing.conditional => {}
        _ => interp.exported = Some(here),
    }
}

/// The value part of an assignment word as a [`Word`] (`full` is `NAME=value` after quote
/// removal, or the raw text when it expands).
fn value_after_eq(word: &Word, full: &str) -> Word {
    let raw_value = word
        .raw
        .split_once('=')
        .map(|(_, v)| v)
        .unwrap_or("")
        .to_string();
    let literal = word.literal.as_ref().map(|_| {
        full.split_once('=')
            .map(|(_, v)| v)
            .unwrap_or("")
            .to_string()
    });
    Word {
        raw: raw_value,
        literal,
        plain: word.plain,
    }
}

/// The variable of `$i`, `${i}`, `"$i"`, `"${i}"`.
fn loop_variable(raw: &str) -> Option<String> {
    let s = raw
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(raw);
    let s = s.strip_prefix('$')?;
    let s = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or(s);
    is_name(s).then(|| s.to_string())
}

/// Files this reader follows when sourced: the login profile hierarchy.
fn followable(path: &str) -> bool {
    let in_profile_d = path
        .strip_prefix(PROFILE_D)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|rest| !rest.is_empty() && !rest.split('/').any(|c| c == ".." || c == "."));
    in_profile_d || path == DEBIAN_BASHRC || path == RHEL_BASHRC || path == PROFILE
}

/// The files a `for i in $(run-parts --list --regex 'RE' DIR)` loop visits, as a glob: Debian 13's
/// /etc/profile lists /etc/profile.d with the regex `^[a-zA-Z0-9_][a-zA-Z0-9._-]*\.sh$`, i.e.
/// names that start with a letter, digit or `_` and end in `.sh` (the glob allows any characters in
/// between, which run-parts' regex would also refuse; such names are not seen in practice).
/// Other run-parts forms give no patterns (the loop is then reported as not understood).
fn run_parts_patterns(words: &[Word]) -> Vec<String> {
    let joined = words.iter().map(|w| w.raw.as_str()).collect::<Vec<_>>().join(" ");
    let inner = joined.trim().trim_start_matches("$(").trim_end_matches(')');
    let tokens: Vec<&str> = inner.split_whitespace().map(|t| t.trim_matches(['"', '\''])).collect();
    if tokens.first() != Some(&"run-parts") || !tokens.contains(&"--list") {
        return Vec::new();
    }
    let regex = tokens.iter().position(|t| *t == "--regex").and_then(|i| tokens.get(i + 1));
    let Some(dir) = tokens.iter().rev().find(|t| t.starts_with('/')) else {
        return Vec::new();
    };
    match regex {
        Some(re) if re.starts_with("^[a-zA-Z0-9_]") && re.ends_with("\\.sh$") => {
            vec![format!("{}/[a-zA-Z0-9_]*.sh", dir.trim_end_matches('/'))]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::tree;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../engine/tests/fixtures");

    fn fixture(case: &str, path: &str) -> String {
        let file = format!("{FIXTURES}/{case}/root{path}");
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {file}: {e}"))
    }

    /// Debian 12's `/etc/profile` (base-files) and `/etc/bash.bashrc` (bash).
    fn debian_profile() -> String {
        fixture("logoff-defaults", "/etc/profile")
    }

    fn debian_bashrc() -> String {
        fixture("logoff-defaults", "/etc/bash.bashrc")
    }

    /// A Debian tree: the real `/etc/profile` and `/etc/bash.bashrc` plus `extra` files.
    fn debian(extra: &[(&str, &str)]) -> LoginTmout {
        let profile = debian_profile();
        let bashrc = debian_bashrc();
        let mut files: Vec<(&str, &str)> =
            vec![("/etc/profile", &profile), ("/etc/bash.bashrc", &bashrc)];
        files.extend_from_slice(extra);
        let (_root, t) = tree(&files);
        login_tmout(&t, Family::Debian)
    }

    fn paths(m: &LoginTmout) -> Vec<&str> {
        m.files.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn debian_defaults_set_no_tmout_and_read_bashrc_before_profile_d() {
        let m = debian(&[(
            "/etc/profile.d/bash_completion.sh",
            &fixture("logoff-defaults", "/etc/profile.d/bash_completion.sh"),
        )]);
        assert!(m.profile_found);
        assert_eq!(
            paths(&m),
            vec![
                "/etc/profile",
                "/etc/bash.bashrc",
                "/etc/profile.d/bash_completion.sh"
            ]
        );
        assert_eq!(
            m.files[1].sourced_from,
            Some(SourcedFrom {
                path: "/etc/profile".into(),
                line: 16
            })
        );
        let lp = m.profile_d_loop.as_ref().expect("profile.d loop");
        assert_eq!(
            (lp.line, lp.patterns.clone()),
            (28, vec!["/etc/profile.d/*.sh".to_string()])
        );
        assert!(m.assignments.is_empty());
        assert!(!m.effective.set);
        assert!(m.effective.readonly.is_none());
        assert!(m.issues.is_empty(), "{:?}", m.issues);
        assert_eq!(
            m.sources_not_followed
                .iter()
                .map(|s| s.file.as_str())
                .collect::<Vec<_>>(),
            vec!["/usr/share/bash-completion/bash_completion"]
        );
        assert!(m.ignored.is_empty());
    }

    #[test]
    fn hardened_profile_d_snippet_is_readonly_and_exported() {
        let m = debian(&[(
            "/etc/profile.d/99-hipaa-timeout.sh",
            "TMOUT=900; readonly TMOUT; export TMOUT\n",
        )]);
        let e = &m.effective;
        assert!(e.set);
        assert_eq!(
            (e.value.as_deref(), e.seconds, e.numeric),
            (Some("900"), Some(900), true)
        );
        assert_eq!(
            (e.path.as_deref(), e.line, e.conditional),
            (Some("/etc/profile.d/99-hipaa-timeout.sh"), 1, false)
        );
        assert_eq!(
            e.readonly.as_ref().map(|r| (r.path.as_str(), r.line)),
            Some(("/etc/profile.d/99-hipaa-timeout.sh", 1))
        );
        assert!(e.exported.is_some());
        assert_eq!(m.assignments.len(), 3);
        assert!(
            m.assignments
                .iter()
                .all(|s| s.outcome == Outcome::Applied && s.sourced && !s.conditional)
        );
        assert_eq!(m.assignments[0].command, "assignment");
        assert_eq!(m.assignments[1].command, "readonly");
        assert_eq!(m.assignments[2].exported, Some(true));
    }

    #[test]
    fn file_without_sh_suffix_is_not_sourced() {
        let m = debian(&[(
            "/etc/profile.d/tmout",
            "TMOUT=900; readonly TMOUT; export TMOUT\n",
        )]);
        assert!(!m.effective.set);
        assert_eq!(m.ignored.len(), 1);
        assert_eq!(m.ignored[0].path, "/etc/profile.d/tmout");
        assert_eq!(
            m.ignored[0].reason,
            "/etc/profile reads only /etc/profile.d/*.sh (loop at /etc/profile:28)"
        );
        assert_eq!(m.assignments.len(), 3);
        assert!(
            m.assignments
                .iter()
                .all(|s| s.outcome == Outcome::NotSourced && !s.sourced)
        );
    }

    #[test]
    fn readonly_then_override_is_refused() {
        let m = debian(&[
            (
                "/etc/profile.d/10-timeout.sh",
                "readonly TMOUT=600\nexport TMOUT\n",
            ),
            ("/etc/profile.d/50-dev.sh", "TMOUT=7200; export TMOUT\n"),
        ]);
        let e = &m.effective;
        assert_eq!(
            (e.seconds, e.path.as_deref(), e.line),
            (Some(600), Some("/etc/profile.d/10-timeout.sh"), 1)
        );
        assert_eq!(e.refused.len(), 1);
        assert_eq!(
            (e.refused[0].path.as_str(), e.refused[0].line),
            ("/etc/profile.d/50-dev.sh", 1)
        );
        assert_eq!(
            (
                e.refused[0].readonly_path.as_str(),
                e.refused[0].readonly_line
            ),
            ("/etc/profile.d/10-timeout.sh", 1)
        );
        let dev: Vec<_> = m
            .assignments
            .iter()
            .filter(|s| s.path == "/etc/profile.d/50-dev.sh")
            .collect();
        assert_eq!(dev[0].outcome, Outcome::Refused);
        // bash abandons the rest of the line after a refused plain assignment.
        assert_eq!(dev[1].outcome, Outcome::NotRun);
    }

    #[test]
    fn later_file_overrides_when_not_yet_readonly() {
        let m = debian(&[
            ("/etc/profile.d/10-hipaa.sh", "export TMOUT=900\n"),
            ("/etc/profile.d/50-dev.sh", "export TMOUT=7200\n"),
            ("/etc/profile.d/90-lock.sh", "readonly TMOUT\n"),
        ]);
        let e = &m.effective;
        assert_eq!(
            (e.seconds, e.path.as_deref()),
            (Some(7200), Some("/etc/profile.d/50-dev.sh"))
        );
        assert_eq!(
            e.readonly.as_ref().map(|r| r.path.as_str()),
            Some("/etc/profile.d/90-lock.sh")
        );
        assert!(e.refused.is_empty());
    }

    #[test]
    fn tmout_zero_and_non_numeric_values() {
        let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT=0\n")]);
        assert_eq!((m.effective.seconds, m.effective.numeric), (Some(0), true));
        let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=15min\nreadonly TMOUT\n")]);
        assert_eq!(
            (m.effective.seconds, m.effective.numeric),
            (Some(15), false)
        );
        let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=never\n")]);
        assert_eq!((m.effective.seconds, m.effective.numeric), (Some(0), false));
        let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=$((15*60))\n")]);
        assert!(m.effective.value_expands);
        assert_eq!(
            (m.effective.value.as_deref(), m.effective.seconds),
            (Some("$((15*60))"), None)
        );
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "TMOUT='900'\nexport TMOUT=\"600\" # shorter\n",
        )]);
        assert_eq!(
            (m.effective.value.as_deref(), m.effective.line),
            (Some("600"), 2)
        );
    }

    #[test]
    fn declare_and_typeset_readonly_forms() {
        for (snippet, exported) in [
            ("declare -r TMOUT=900\n", false),
            ("declare -rx TMOUT=900\n", true),
            ("typeset -r TMOUT=900\n", false),
            ("typeset -xr TMOUT=900\n", true),
            ("declare -x -r TMOUT=900\n", true),
            ("TMOUT=900\ndeclare -r TMOUT\n", false),
        ] {
            let m = debian(&[("/etc/profile.d/t.sh", snippet)]);
            let e = &m.effective;
            assert_eq!(e.seconds, Some(900), "{snippet}");
            assert!(e.readonly.is_some(), "{snippet}");
            assert_eq!(e.exported.is_some(), exported, "{snippet}");
        }
    }

    #[test]
    fn export_assignment_on_readonly_keeps_export_but_declare_does_not() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "readonly TMOUT=900\nexport TMOUT=60\n",
        )]);
        assert_eq!(m.effective.seconds, Some(900));
        assert_eq!(m.effective.exported.as_ref().map(|x| x.line), Some(2));
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "readonly TMOUT=900\ndeclare -x TMOUT=60\n",
        )]);
        assert_eq!(m.effective.seconds, Some(900));
        assert!(m.effective.exported.is_none());
    }

    #[test]
    fn export_n_unset_and_readonly_without_value() {
        let m = debian(&[("/etc/profile.d/t.sh", "export TMOUT=900\nexport -n TMOUT\n")]);
        assert!(m.effective.exported.is_none());
        let m = debian(&[("/etc/profile.d/t.sh", "export TMOUT=900\nunset TMOUT\n")]);
        assert!(!m.effective.set);
        assert_eq!(m.effective.line, 2);
        let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT\nTMOUT=900\n")]);
        assert!(!m.effective.set);
        assert!(m.effective.readonly.is_some());
        assert_eq!(m.effective.refused.len(), 1);
        let m = debian(&[("/etc/profile.d/t.sh", "readonly TMOUT=900\nunset TMOUT\n")]);
        assert!(m.effective.set);
        assert_eq!(m.assignments[1].outcome, Outcome::Refused);
    }

    #[test]
    fn conditional_constructs_are_flagged() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "if [ \"$(id -u)\" -ne 0 ]; then\n  TMOUT=900\nfi\nreadonly TMOUT\nexport TMOUT\n",
        )]);
        let e = &m.effective;
        assert_eq!((e.seconds, e.conditional), (Some(900), true));
        assert_eq!(
            m.assignments[0].condition.as_deref(),
            Some("inside `if` at line 1")
        );
        assert!(!e.readonly.as_ref().is_some_and(|r| r.conditional));

        let m = debian(&[("/etc/profile.d/t.sh", "[ -n \"$SSH_TTY\" ] && TMOUT=900\n")]);
        assert!(m.effective.conditional);
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "TMOUT=900 && readonly TMOUT && export TMOUT\n",
        )]);
        assert!(
            m.assignments.iter().all(|s| !s.conditional),
            "{:?}",
            m.assignments
        );
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "case $USER in\n  root) TMOUT=300 ;;\n  *) TMOUT=900 ;;\nesac\n",
        )]);
        assert_eq!(m.assignments.len(), 2);
        assert!(m.assignments.iter().all(|s| s.conditional));
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "set_tmout() {\n  readonly TMOUT=900\n}\n",
        )]);
        assert!(m.effective.conditional);
        assert!(
            m.assignments[0]
                .condition
                .as_deref()
                .is_some_and(|c| c.contains("function `set_tmout`"))
        );
        let m = debian(&[("/etc/profile.d/t.sh", "f() { declare -r TMOUT=900; }\nf\n")]);
        assert_eq!(m.assignments[0].outcome, Outcome::NoEffect);
        assert!(!m.effective.set);
        let m = debian(&[("/etc/profile.d/t.sh", "( TMOUT=900 )\necho x | TMOUT=5\n")]);
        assert!(m.assignments.iter().all(|s| s.outcome == Outcome::NoEffect));
        assert!(!m.effective.set);
    }

    #[test]
    fn one_line_if_and_semicolons() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "if true; then TMOUT=900; fi; readonly TMOUT; export TMOUT\n",
        )]);
        assert_eq!(m.assignments.len(), 3);
        assert!(m.assignments[0].conditional);
        assert!(!m.assignments[1].conditional);
        assert!(!m.assignments[2].conditional);
    }

    #[test]
    fn comments_heredocs_and_prefix_assignments_do_not_count() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "# TMOUT=900\necho 'TMOUT=900' # readonly TMOUT\ncat <<EOF >/tmp/x\nTMOUT=900\nreadonly TMOUT\nEOF\nTMOUT=900 /bin/true\n",
        )]);
        assert!(!m.effective.set);
        assert_eq!(m.assignments.len(), 1);
        assert_eq!(
            (m.assignments[0].command.as_str(), m.assignments[0].outcome),
            ("prefix-assignment", Outcome::NoEffect)
        );
        assert!(m.issues.is_empty(), "{:?}", m.issues);
    }

    #[test]
    fn top_level_return_stops_the_file() {
        let m = debian(&[("/etc/profile.d/t.sh", "return 0\nreadonly TMOUT=900\n")]);
        assert!(!m.effective.set);
        assert_eq!(m.assignments[0].outcome, Outcome::NotRun);
    }

    #[test]
    fn line_continuation_and_multiple_operands() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "readonly \\\n  TMOUT=900 HISTSIZE=1000\nexport PATH TMOUT\n",
        )]);
        assert_eq!((m.effective.seconds, m.effective.line), (Some(900), 1));
        assert!(m.effective.readonly.is_some());
        assert_eq!(m.effective.exported.as_ref().map(|x| x.line), Some(3));
    }

    #[test]
    fn rocky_order_sources_bashrc_after_profile_d_and_sh_local() {
        let case = "logoff-rocky-bashrc";
        let profile = fixture(case, "/etc/profile");
        let bashrc = fixture(case, "/etc/bashrc");
        let (_root, t) = tree(&[
            ("/etc/profile", &profile),
            ("/etc/bashrc", &bashrc),
            ("/etc/profile.d/sh.local", "TMOUT=1800\n"),
            ("/etc/profile.d/colorls.sh", "alias ll='ls -l'\n"),
            ("/etc/profile.d/notes.txt", "TMOUT=5\n"),
        ]);
        let m = login_tmout(&t, Family::Rhel);
        assert_eq!(
            paths(&m),
            vec![
                "/etc/profile",
                "/etc/profile.d/colorls.sh",
                "/etc/profile.d/sh.local",
                "/etc/bashrc"
            ]
        );
        let e = &m.effective;
        assert_eq!(
            (e.seconds, e.path.as_deref()),
            (Some(900), Some("/etc/bashrc"))
        );
        assert!(!e.conditional);
        assert_eq!(
            e.readonly
                .as_ref()
                .map(|r| (r.path.as_str(), r.conditional)),
            Some(("/etc/bashrc", false))
        );
        assert_eq!(
            e.exported.as_ref().map(|r| r.path.as_str()),
            Some("/etc/bashrc")
        );
        assert_eq!(m.ignored.len(), 1);
        assert!(
            m.ignored[0]
                .reason
                .contains("/etc/profile.d/*.sh /etc/profile.d/sh.local")
        );
        assert!(m.issues.is_empty(), "{:?}", m.issues);
    }

    #[test]
    fn rc_file_not_sourced_by_profile_is_ignored() {
        let (_root, t) = tree(&[
            ("/etc/profile", "PATH=/usr/bin:/bin\nexport PATH\n"),
            ("/etc/bash.bashrc", "readonly TMOUT=900; export TMOUT\n"),
            ("/etc/profile.d/a.sh", "TMOUT=1\n"),
        ]);
        let m = login_tmout(&t, Family::Debian);
        assert!(!m.effective.set);
        let ignored: Vec<_> = m
            .ignored
            .iter()
            .map(|i| (i.path.as_str(), i.reason.as_str()))
            .collect();
        assert_eq!(
            ignored,
            vec![
                (
                    "/etc/profile.d/a.sh",
                    "/etc/profile has no loop that sources /etc/profile.d"
                ),
                (
                    "/etc/bash.bashrc",
                    "/etc/profile does not source it, so login shells do not read it"
                ),
            ]
        );
    }

    #[test]
    fn missing_profile_and_unreadable_snippets() {
        let (_root, t) = tree(&[("/etc/profile.d/a.sh", "readonly TMOUT=900\n")]);
        let m = login_tmout(&t, Family::Debian);
        assert!(!m.profile_found);
        assert_eq!(
            m.ignored[0].reason,
            "/etc/profile does not exist, so nothing sources /etc/profile.d"
        );

        let profile = debian_profile();
        let (root, t) = tree(&[
            ("/etc/profile", &profile),
            (
                "/etc/profile.d/10-a.sh",
                "readonly TMOUT=900\nexport TMOUT\n",
            ),
        ]);
        root.symlink("/etc/profile.d/20-b.sh", "/etc/profile.d/20-b.sh");
        let m = login_tmout(&t, Family::Debian);
        assert_eq!(m.unreadable.len(), 1);
        assert_eq!(m.unreadable[0].path, "/etc/profile.d/20-b.sh");
        assert!(m.unreadable[0].readonly_before);
    }

    #[test]
    fn sourcing_cycles_are_cut() {
        let (_root, t) = tree(&[
            (
                "/etc/profile",
                "for i in /etc/profile.d/*.sh; do . $i; done\n",
            ),
            ("/etc/profile.d/a.sh", ". /etc/profile.d/b.sh\n"),
            (
                "/etc/profile.d/b.sh",
                ". /etc/profile.d/a.sh\nreadonly TMOUT=900\n",
            ),
        ]);
        let m = login_tmout(&t, Family::Unknown);
        assert!(
            m.issues
                .iter()
                .any(|i| i.message.contains("sources itself"))
        );
        assert_eq!(m.effective.seconds, Some(900));
    }

    #[test]
    fn atoi_semantics() {
        for (v, want) in [
            ("900", 900),
            (" 900", 900),
            ("900abc", 900),
            ("1.5", 1),
            ("-5", -5),
            ("abc", 0),
            ("", 0),
            ("0x10", 0),
        ] {
            assert_eq!(tmout_seconds(v), want, "{v:?}");
        }
        assert_eq!(tmout_seconds("99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn hostile_input_never_panics() {
        let inputs = [
            "",
            "'",
            "\"",
            "$(",
            "${",
            "`",
            "\\",
            "((((",
            "))))",
            "fi fi done esac }",
            "case",
            "for",
            "for i in",
            "a=(",
            "TMOUT=(1 2",
            "<<",
            "cat <<-E\n\tE",
            "$'\\",
            "function",
            "f() ",
            "export -- ",
            "declare +r TMOUT=1",
            "TMOUT+=5",
            "TMOUT=\u{fffd}\u{1F600}",
            "if then else",
            "x |& y && || ;; ;& ;;&",
            "readonly -f TMOUT",
        ];
        for input in inputs {
            let (_root, t) = tree(&[("/etc/profile", input)]);
            let _ = login_tmout(&t, Family::Unknown);
        }
    }

    /// What real bash ends up with after sourcing `snippets` in order: (value, readonly, exported),
    /// value `None` when unset.
    fn bash_result(root: &std::path::Path, snippets: &[&str]) -> (Option<String>, bool, bool) {
        let mut script = String::from("set +e\n");
        for path in snippets {
            script.push_str(&format!(". '{}{}' 2>/dev/null\n", root.display(), path));
        }
        script.push_str("declare -p TMOUT 2>/dev/null || echo unset\n");
        let out = std::process::Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &script])
            .output()
            .expect("the differential test needs bash on PATH");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if text == "unset" {
            return (None, false, false);
        }
        // `declare -rx TMOUT="900"` or `declare -r TMOUT` (readonly, no value).
        let mut parts = text.splitn(3, ' ');
        let (_, flags, rest) = (
            parts.next(),
            parts.next().unwrap_or(""),
            parts.next().unwrap_or(""),
        );
        let value = rest
            .split_once('=')
            .map(|(_, v)| v.trim_matches('"').to_string());
        (value, flags.contains('r'), flags.contains('x'))
    }

    #[test]
    fn agrees_with_real_bash() {
        let cases: &[&[(&str, &str)]] = &[
            &[(
                "/etc/profile.d/a.sh",
                "TMOUT=900; readonly TMOUT; export TMOUT\n",
            )],
            &[
                ("/etc/profile.d/a.sh", "readonly TMOUT=600\nexport TMOUT\n"),
                ("/etc/profile.d/b.sh", "TMOUT=7200; export TMOUT\n"),
            ],
            &[
                ("/etc/profile.d/a.sh", "TMOUT=7200\n"),
                ("/etc/profile.d/b.sh", "readonly TMOUT=900; export TMOUT\n"),
            ],
            &[(
                "/etc/profile.d/a.sh",
                "readonly TMOUT=900\nexport TMOUT=60\n",
            )],
            &[(
                "/etc/profile.d/a.sh",
                "readonly TMOUT=900\ndeclare -x TMOUT=60\n",
            )],
            &[("/etc/profile.d/a.sh", "export TMOUT=900\nexport -n TMOUT\n")],
            &[("/etc/profile.d/a.sh", "export TMOUT=900\nunset TMOUT\n")],
            &[("/etc/profile.d/a.sh", "readonly TMOUT\nTMOUT=900\n")],
            &[("/etc/profile.d/a.sh", "readonly TMOUT=900\nunset TMOUT\n")],
            &[("/etc/profile.d/a.sh", "declare -rx TMOUT=900\n")],
            &[("/etc/profile.d/a.sh", "typeset -xr TMOUT='900'\n")],
            &[("/etc/profile.d/a.sh", "TMOUT=9\nTMOUT+=00\nexport TMOUT\n")],
            &[(
                "/etc/profile.d/a.sh",
                "TMOUT=900 && readonly TMOUT && export TMOUT\n",
            )],
            &[
                ("/etc/profile.d/a.sh", "export TMOUT=900\n"),
                ("/etc/profile.d/b.sh", "export TMOUT=7200\n"),
                ("/etc/profile.d/c.sh", "readonly TMOUT\n"),
            ],
            &[("/etc/profile.d/a.sh", "TMOUT=900 true\n")],
            &[(
                "/etc/profile.d/a.sh",
                "readonly TMOUT=900\nif true; then\n  TMOUT=1\n  export TMOUT\nfi\n",
            )],
            &[(
                "/etc/profile.d/a.sh",
                "readonly TMOUT=900; TMOUT=5; export TMOUT\nexport TMOUT\n",
            )],
            &[(
                "/etc/profile.d/a.sh",
                "readonly TMOUT=900\nTMOUT=5 true; export TMOUT\n",
            )],
            &[(
                "/etc/profile.d/a.sh",
                "export TMOUT=\"9\"'00' # comment\nreadonly -- TMOUT\n",
            )],
            &[
                ("/etc/profile.d/a.sh", "return\nreadonly TMOUT=900\n"),
                ("/etc/profile.d/b.sh", "TMOUT=60\n"),
            ],
            &[("/etc/profile.d/a.sh", "( readonly TMOUT=900 )\nTMOUT=60\n")],
        ];
        let profile = debian_profile();
        for files in cases {
            let mut all: Vec<(&str, &str)> = vec![("/etc/profile", &profile)];
            all.extend_from_slice(files);
            let (root, t) = tree(&all);
            let m = login_tmout(&t, Family::Debian);
            let sourced: Vec<&str> = m
                .files
                .iter()
                .map(|f| f.path.as_str())
                .filter(|p| *p != PROFILE)
                .collect();
            let want = bash_result(root.path(), &sourced);
            let e = &m.effective;
            let got = (
                e.value.clone().filter(|_| e.set),
                e.readonly.is_some(),
                e.exported.is_some(),
            );
            assert_eq!(got, want, "case {files:?}");
        }
    }

    #[test]
    fn arithmetic_commands_are_reported_not_evaluated() {
        let m = debian(&[(
            "/etc/profile.d/t.sh",
            "((TMOUT=900)) && readonly TMOUT\n(( x = 1 ))\n",
        )]);
        assert!(
            m.issues
                .iter()
                .any(|i| i.line == 1 && i.message.contains("arithmetic command"))
        );
        assert_eq!(m.issues.len(), 1);
        assert!(m.assignments[0].conditional);
        assert!(m.effective.readonly.is_some());
    }

    #[test]
    fn append_assignment_concatenates() {
        let m = debian(&[("/etc/profile.d/t.sh", "TMOUT=9\nTMOUT+=00\n")]);
        assert_eq!(m.effective.seconds, Some(900));
    }

    #[test]
    fn debian13_run_parts_loop_sources_profile_d_sh_files() {
        let profile = include_str!("../testdata/debian13/profile");
        let (_root, t) = crate::testing::tree(&[
            ("/etc/profile", profile),
            ("/etc/profile.d/99-hipaa-timeout.sh", "TMOUT=900\nreadonly TMOUT\nexport TMOUT\n"),
            ("/etc/profile.d/tmout", "TMOUT=5\n"),
        ]);
        let m = login_tmout(&t, Family::Debian);
        assert_eq!(m.effective.seconds, Some(900));
        assert_eq!(m.effective.readonly.as_ref().map(|r| r.path.as_str()), Some("/etc/profile.d/99-hipaa-timeout.sh"));
        assert!(paths(&m).contains(&"/etc/profile.d/99-hipaa-timeout.sh"));
        assert!(!paths(&m).contains(&"/etc/profile.d/tmout"), "run-parts' regex skips names without .sh");
    }

}
