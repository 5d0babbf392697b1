//! Character cursor with position tracking and Fluentd's spacing / line-end rules.

use std::sync::Arc;

use crate::Pos;

/// A cursor over the characters of one file.
pub(crate) struct Cursor {
    chars: Vec<char>,
    idx: usize,
    /// Index of the first character of each line.
    line_starts: Vec<usize>,
    file: Arc<str>,
    /// The argument of the `<worker>` section being read (`3`, `1-3`), for `#{worker_id}`.
    pub(crate) worker: Option<String>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Cursor {
    /// A cursor at the start of `text` (a leading byte-order mark is skipped).
    pub(crate) fn new(text: &str, file: Arc<str>) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let chars: Vec<char> = text.chars().collect();
        let mut line_starts = vec![0];
        line_starts.extend(
            chars
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == '\n')
                .map(|(i, _)| i + 1),
        );
        Cursor {
            chars,
            idx: 0,
            line_starts,
            file,
            worker: None,
        }
    }

    /// The current character.
    pub(crate) fn peek(&self) -> Option<char> {
        self.chars.get(self.idx).copied()
    }

    /// The character `n` places ahead.
    pub(crate) fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.idx.saturating_add(n)).copied()
    }

    /// Consumes and returns the current character.
    pub(crate) fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.idx += 1;
        Some(c)
    }

    /// Skips `n` characters (stopping at the end).
    pub(crate) fn advance(&mut self, n: usize) {
        self.idx = self.idx.saturating_add(n).min(self.chars.len());
    }

    /// Whether the cursor is at the end of the input.
    pub(crate) fn eof(&self) -> bool {
        self.idx >= self.chars.len()
    }

    /// Whether the input continues with `s`.
    pub(crate) fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    /// The current character index.
    pub(crate) fn offset(&self) -> usize {
        self.idx
    }

    /// Moves back (or forward) to a previously obtained offset.
    pub(crate) fn set_offset(&mut self, idx: usize) {
        self.idx = idx.min(self.chars.len());
    }

    /// The text between two offsets.
    pub(crate) fn slice(&self, from: usize, to: usize) -> String {
        let to = to.min(self.chars.len());
        let from = from.min(to);
        self.chars[from..to].iter().collect()
    }

    /// The position of the current character.
    pub(crate) fn pos(&self) -> Pos {
        self.pos_at(self.idx)
    }

    /// The position of the character at `idx`.
    pub(crate) fn pos_at(&self, idx: usize) -> Pos {
        let line = match self.line_starts.binary_search(&idx) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        Pos {
            file: self.file.clone(),
            line: to_u32(line + 1),
            col: to_u32(idx.saturating_sub(start) + 1),
        }
    }

    /// Skips spaces and tabs.
    pub(crate) fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.idx += 1;
        }
    }

    /// Skips to the end of the line (the newline itself is not consumed).
    pub(crate) fn skip_to_eol(&mut self) {
        while !matches!(self.peek(), None | Some('\n')) {
            self.idx += 1;
        }
    }

    /// Fluentd's `SPACING`: whitespace, newlines and `#` comments.
    pub(crate) fn skip_spacing(&mut self) {
        loop {
            match self.peek() {
                Some(' ' | '\t' | '\r' | '\n') => self.idx += 1,
                Some('#') => self.skip_to_eol(),
                _ => return,
            }
        }
    }

    /// Fluentd's `SPACING_WITHOUT_COMMENT`; returns whether a newline was skipped or
    /// the end of the input reached.
    pub(crate) fn skip_whitespace(&mut self) -> bool {
        let mut newline = false;
        while let Some(c @ (' ' | '\t' | '\r' | '\n')) = self.peek() {
            newline |= c == '\n';
            self.idx += 1;
        }
        newline || self.eof()
    }

    /// Fluentd's `LINE_END`: optional blanks and comment, then a newline or the end
    /// (repeated). Returns false (consuming nothing) if something else follows.
    pub(crate) fn line_end(&mut self) -> bool {
        let mut matched = false;
        loop {
            let save = self.idx;
            self.skip_blanks();
            if self.peek() == Some('#') {
                self.skip_to_eol();
            }
            match self.peek() {
                None => return true,
                Some('\r' | '\n') => {
                    self.idx += 1;
                    matched = true;
                }
                _ => {
                    self.idx = save;
                    return matched;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_char_columns() {
        let c = Cursor::new("ab\né x\n", Arc::from("f"));
        assert_eq!(c.pos_at(0).to_string(), "f:1:1");
        assert_eq!(c.pos_at(2).to_string(), "f:1:3");
        assert_eq!(c.pos_at(3).to_string(), "f:2:1");
        assert_eq!(c.pos_at(5).to_string(), "f:2:3");
        assert_eq!(c.pos_at(7).to_string(), "f:3:1");
    }

    #[test]
    fn line_end_accepts_comments_and_rejects_text() {
        let mut c = Cursor::new("  # c\n\nx", Arc::from("f"));
        assert!(c.line_end());
        assert_eq!(c.peek(), Some('x'));
        assert!(!c.line_end());
        assert_eq!(c.peek(), Some('x'));
    }
}
