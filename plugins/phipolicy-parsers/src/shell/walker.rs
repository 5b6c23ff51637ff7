//! The walk over a script's tokens: commands, compound statements, `.`/`source` and the
//! `profile.d` loop followed into the files they read.
//!
//! Long file: one `impl Walker` whose methods are the shell's grammar (simple
//! commands, `if`/`case`/loops/functions, sourcing); cutting it apart would separate rules that
//! call each other.

use super::*;
use super::lexer::*;
use super::state::*;

pub(super) struct Walker<'a> {
    pub(super) path: &'a str,
    pub(super) sourced: bool,
    pub(super) depth: usize,
    pub(super) toks: &'a [Tok],
    pub(super) i: usize,
    pub(super) frames: Vec<Frame>,
    /// How many of `frames` are conditional, subshells and function bodies (kept up to date so a
    /// command does not scan every enclosing frame: deep nesting would make that quadratic).
    pub(super) counts: FrameCounts,
    pub(super) words: Vec<Word>,
    pub(super) word_line: u32,
    /// Why the next command of an and-or list may not run.
    pub(super) connector: Option<String>,
    pub(super) piped_in: bool,
    pub(super) pending_function: Option<String>,
    /// Parentheses that opened no frame (`[[ ( ... ) ]]`, stray syntax).
    pub(super) stray_parens: usize,
    /// A refused plain assignment at this line: bash abandons the rest of the complete command.
    pub(super) aborted: Option<u32>,
    /// An unconditional top-level `return`/`exit` at this line: the rest of the file never runs.
    pub(super) stopped: Option<(u32, String)>,
}

impl<'a> Walker<'a> {
    pub(super) fn new(path: &'a str, sourced: bool, depth: usize, toks: &'a [Tok]) -> Self {
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

    pub(super) fn issue(&self, interp: &mut Interp<'_>, line: u32, message: String) {
        interp.issues.push(ParseIssue {
            path: self.path.to_string(),
            line,
            message,
        });
    }

    pub(super) fn next_tok(&self) -> Option<&'a Tok> {
        self.toks.get(self.i)
    }

    pub(super) fn skip_newlines(&mut self) {
        while let Some(Tok {
            kind: TokKind::Newline | TokKind::Op(Op::Semi),
            ..
        }) = self.next_tok()
        {
            self.i += 1;
        }
    }

    pub(super) fn push_frame(&mut self, kind: FrameKind, line: u32) {
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
    pub(super) fn truncate_frames(&mut self, len: usize) {
        while self.frames.len() > len {
            if let Some(f) = self.frames.pop() {
                self.counts.add(&f, -1);
            }
        }
    }

    /// Pops the innermost frame matching `pred`, reporting a keyword with nothing to close.
    pub(super) fn pop_frame(
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

    pub(super) fn in_case_pattern(&self) -> bool {
        matches!(
            self.frames.last(),
            Some(Frame {
                kind: FrameKind::Case { in_pattern: true },
                ..
            })
        )
    }

    pub(super) fn set_case_pattern(&mut self, value: bool) {
        if let Some(Frame {
            kind: FrameKind::Case { in_pattern },
            ..
        }) = self.frames.last_mut()
        {
            *in_pattern = value;
        }
    }

    pub(super) fn walk(&mut self, interp: &mut Interp<'_>) {
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
    pub(super) fn arithmetic_command(&mut self, interp: &mut Interp<'_>, line: u32) {
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

    pub(super) fn on_word(&mut self, interp: &mut Interp<'_>, w: &Word, line: u32) {
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

    pub(super) fn case_header(&mut self, interp: &mut Interp<'_>, line: u32) {
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

    pub(super) fn for_header(&mut self, interp: &mut Interp<'_>, line: u32) {
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

    pub(super) fn end_command(&mut self, interp: &mut Interp<'_>, term: Terminator) {
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
    pub(super) fn eval(&mut self, interp: &mut Interp<'_>, words: &[Word], ctx: &CommandContext) -> bool {
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
    pub(super) fn declaration(
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

    pub(super) fn source_command(&mut self, interp: &mut Interp<'_>, ctx: &CommandContext, target: &Word) {
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
    pub(super) fn record(
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
    pub(super) fn record_prefix(
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
    pub(super) fn record_no_effect(
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
    pub(super) fn condition_text(&self, ctx: &CommandContext) -> Option<String> {
        let mut parts: Vec<String> = ctx.connector.iter().cloned().collect();
        let shown = self.counts.conditional.min(super::state::limits::MAX_CONDITIONS_SHOWN);
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

    pub(super) fn statement(
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

pub(super) fn set_exported(interp: &mut Interp<'_>, here: AttributeAt) {
    // Keep the first unconditional export: that is where the attribute is guaranteed.
    match &interp.exported {
        Some(existing) if !existing.conditional => {}
        _ => interp.exported = Some(here),
    }
}

/// The value part of an assignment word as a [`Word`] (`full` is `NAME=value` after quote
/// removal, or the raw text when it expands).
pub(super) fn value_after_eq(word: &Word, full: &str) -> Word {
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
pub(super) fn loop_variable(raw: &str) -> Option<String> {
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
pub(super) fn followable(path: &str) -> bool {
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
pub(super) fn run_parts_patterns(words: &[Word]) -> Vec<String> {
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
