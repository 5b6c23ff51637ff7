//! The character cursor the hand-written lexers share (the shell lexer, schedule's command
//! splitter, RainerScript): a position in a text's characters with the current 1-based line, so
//! every token a lexer cuts knows where it started.
//!
//! ```
//! use phipolicy_parsers::cursor::Cursor;
//!
//! let mut cur = Cursor::new("a 'b c'\n# comment\nd");
//! assert_eq!(cur.bump(), Some('a'));
//! cur.skip_blanks();
//! assert_eq!(cur.quoted(), "b c");
//! cur.bump();
//! assert_eq!(cur.take_line(), "# comment");
//! cur.bump();
//! assert_eq!((cur.peek(), cur.line()), (Some('d'), 3));
//! ```

/// A cursor over a text's characters.
#[derive(Debug, Clone)]
pub struct Cursor {
    chars: Vec<char>,
    pos: usize,
    line: u32,
}

impl Cursor {
    /// A cursor at the start of `text`, on line 1.
    pub fn new(text: &str) -> Self {
        Cursor {
            chars: text.chars().collect(),
            pos: 0,
            line: 1,
        }
    }

    /// The 1-based line of the next character.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// The index of the next character.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether every character has been consumed.
    pub fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    /// The next character, not consumed.
    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The character `off` places after the next one, not consumed.
    pub fn peek_at(&self, off: usize) -> Option<char> {
        self.chars.get(self.pos + off).copied()
    }

    /// Consumes the next character (counting lines).
    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line = self.line.saturating_add(1);
        }
        Some(c)
    }

    /// The character at index `i` (look-ahead by position), not consumed.
    pub fn char_at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    /// Moves back to the earlier index `pos` (a saved [`Cursor::pos`]), uncounting the newlines
    /// passed since.
    pub fn rewind_to(&mut self, pos: usize) {
        let pos = pos.min(self.pos);
        let newlines = self
            .chars
            .get(pos..self.pos)
            .map_or(0, |s| s.iter().filter(|c| **c == '\n').count());
        self.line = self
            .line
            .saturating_sub(u32::try_from(newlines).unwrap_or(u32::MAX));
        self.pos = pos;
    }

    /// Consumes `n` characters (counting lines).
    pub fn advance(&mut self, n: usize) {
        for _ in 0..n {
            if self.bump().is_none() {
                break;
            }
        }
    }

    /// The characters from index `start` to the cursor.
    pub fn since(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    /// Skips spaces, tabs and carriage returns (not newlines).
    pub fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r')) {
            self.bump();
        }
    }

    /// Consumes up to (not including) the next newline.
    pub fn rest_of_line(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' {
                break;
            }
            self.bump();
        }
    }

    /// The rest of the line (without its newline), consumed.
    pub fn take_line(&mut self) -> String {
        let start = self.pos;
        self.rest_of_line();
        self.since(start)
    }

    /// A quoted string starting at the cursor's quote character, `\` escaping the next character;
    /// the closing quote is consumed, an unclosed string runs to the end.
    pub fn quoted(&mut self) -> String {
        let quote = self.bump().unwrap_or('"');
        let mut s = String::new();
        while let Some(c) = self.bump() {
            if c == '\\' {
                if let Some(n) = self.bump() {
                    s.push(n);
                }
            } else if c == quote {
                break;
            } else {
                s.push(c);
            }
        }
        s
    }

    /// Whether the next non-whitespace character (on any line) is `c`, consuming nothing.
    pub fn next_non_space_is(&self, c: char) -> bool {
        self.chars
            .get(self.pos..)
            .and_then(|rest| rest.iter().find(|x| !x.is_whitespace()))
            .is_some_and(|x| *x == c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_every_newline_consumed() {
        let mut cur = Cursor::new("x\n\ny");
        cur.advance(3);
        assert_eq!((cur.peek(), cur.line(), cur.pos()), (Some('y'), 3, 3));
        cur.advance(5);
        assert!(cur.at_end());
        assert!(!Cursor::new(" \n x").next_non_space_is('y'));
        assert!(Cursor::new(" \n x").next_non_space_is('x'));
        assert_eq!(Cursor::new("'unclosed").quoted(), "unclosed");
        let mut cur = Cursor::new("ab\ncd");
        cur.advance(4);
        cur.rewind_to(1);
        assert_eq!(
            (cur.peek(), cur.line(), cur.char_at(3)),
            (Some('b'), 1, Some('c'))
        );
    }
}
