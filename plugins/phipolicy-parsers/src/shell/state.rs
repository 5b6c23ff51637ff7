//! The interpreter state of the profile walk: `TMOUT`'s value and attributes, the frames of
//! compound commands (conditionals, loops, functions) and what a command changes.

use super::*;
use super::lexer::*;

#[derive(Debug, Clone)]
pub(super) struct ValueState {
    pub(super) value: Option<String>,
    pub(super) expands: bool,
    pub(super) path: String,
    pub(super) line: u32,
    pub(super) conditional: bool,
}

pub(super) struct Interp<'t> {
    pub(super) target: &'t dyn Target,
    /// Current value (`value: None` after an unset); `None` when never touched.
    pub(super) value: Option<ValueState>,
    pub(super) readonly: Option<AttributeAt>,
    pub(super) exported: Option<AttributeAt>,
    pub(super) refused: Vec<RefusedAssignment>,
    pub(super) statements: Vec<TmoutStatement>,
    pub(super) files: Vec<ProfileFile>,
    pub(super) unreadable: Vec<UnreadableProfile>,
    pub(super) issues: Vec<ParseIssue>,
    pub(super) sources_not_followed: Vec<SourceNotFollowed>,
    pub(super) profile_d_loop: Option<ProfileDirLoop>,
    /// Files being sourced right now (cycle guard).
    pub(super) active: Vec<String>,
    /// `(path, line)` of loops already expanded (a loop body may source `$i` in two branches).
    pub(super) fired_loops: BTreeSet<(String, u32)>,
}

impl<'t> Interp<'t> {
    pub(super) fn new(target: &'t dyn Target) -> Self {
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

    pub(super) fn readonly_unconditionally(&self) -> bool {
        self.readonly.as_ref().is_some_and(|r| !r.conditional)
    }

    /// Sources `path` (reads and runs it) as a login shell would.
    pub(super) fn source(&mut self, path: &str, from: Option<SourcedFrom>, depth: usize) {
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

    pub(super) fn run_text(&mut self, path: &str, text: &str, sourced: bool, depth: usize) {
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

    pub(super) fn effective(&self) -> EffectiveTmout {
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
pub(super) enum FrameKind {
    If,
    Loop(&'static str),
    For { var: String, words: Vec<Word> },
    Case { in_pattern: bool },
    Group,
    Subshell,
}

#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub(super) kind: FrameKind,
    pub(super) line: u32,
    /// The compound is the body of this function.
    pub(super) function: Option<String>,
}

impl Frame {
    /// Whether commands inside may not run (everything but `{ ...; }`).
    pub(super) fn is_conditional(&self) -> bool {
        self.function.is_some() || self.kind != FrameKind::Group
    }

    /// Why commands inside may not run; `None` for `{ ...; }`.
    pub(super) fn condition(&self) -> Option<String> {
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
pub(super) struct FrameCounts {
    pub(super) conditional: usize,
    pub(super) subshell: usize,
    pub(super) function: usize,
}

impl FrameCounts {
    pub(super) fn add(&mut self, f: &Frame, sign: isize) {
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
pub(super) enum Terminator {
    Newline,
    Seq,
    Background,
    And,
    Or,
    Pipe,
}

/// How one command runs relative to the login shell.
pub(super) struct CommandContext {
    pub(super) line: u32,
    /// The `&&`/`||` before the command, when it decides whether the command runs.
    pub(super) connector: Option<String>,
    /// An enclosing construct (`if`, loop, `case`, function, subshell) may not run the command.
    pub(super) in_conditional_frame: bool,
    /// Runs in a subshell (pipeline, background, `( ... )`): no effect on the login shell.
    pub(super) subshell: bool,
    pub(super) in_function: bool,
    /// The command cannot run (after a refused assignment or a `return`), with the reason.
    pub(super) blocked: Option<String>,
}

impl CommandContext {
    pub(super) fn conditional(&self) -> bool {
        self.connector.is_some() || self.in_conditional_frame
    }
}

/// Bounds on this module's work on hostile input.
pub mod limits {
    /// Enclosing constructs a statement's `condition` names (innermost first); deeper nesting is
    /// counted, not spelled out, so a statement's text does not grow with the file.
    pub const MAX_CONDITIONS_SHOWN: usize = 8;
}

/// The kind of `TMOUT` change a command makes.
#[derive(Debug, Clone)]
pub(super) enum Change {
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
