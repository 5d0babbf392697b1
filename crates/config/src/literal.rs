//! Scanning of keys, values and section arguments: unquoted, single- and
//! double-quoted strings (escapes, continuation, `#{...}`), and JSON values.

use crate::interpolate::{self, Outcome};
use crate::lexer::Cursor;
use crate::ConfigError;

/// A scanned string.
#[derive(Debug)]
pub(crate) enum Value {
    /// Ordinary text.
    Text(String),
    /// A double-quoted string that evaluated `use_default` or `use_nil` (the word): the
    /// parameter is treated as not set.
    Unset(&'static str),
}

fn eof_error(cur: &Cursor, what: &str, start: &crate::Pos) -> ConfigError {
    ConfigError::at(
        cur.pos(),
        format!("unexpected end of file: unterminated {what} started at {start}"),
    )
}

/// A parameter value: JSON (`[`/`{`), quoted, or unquoted to the end of the line.
pub(crate) fn parse_literal(cur: &mut Cursor) -> Result<Value, ConfigError> {
    match cur.peek() {
        Some('[' | '{') => scan_json(cur).map(Value::Text),
        _ => scan_string(cur, scan_unquoted_value),
    }
}

/// A quoted string, or an unquoted one read by `bare`.
pub(crate) fn scan_string(
    cur: &mut Cursor,
    bare: fn(&mut Cursor) -> String,
) -> Result<Value, ConfigError> {
    match cur.peek() {
        Some('"') => scan_double_quoted(cur),
        Some('\'') => scan_single_quoted(cur).map(Value::Text),
        _ => Ok(Value::Text(bare(cur))),
    }
}

/// Unquoted value: to the end of the line; a comment starts at a `#` preceded by
/// whitespace; trailing blanks are dropped (so `k # c` gives `# c`).
pub(crate) fn scan_unquoted_value(cur: &mut Cursor) -> String {
    let mut out = String::new();
    loop {
        match cur.peek() {
            None | Some('\r' | '\n') => return out,
            Some(' ' | '\t') => {
                let mut n = 0;
                while matches!(cur.peek_at(n), Some(' ' | '\t')) {
                    n += 1;
                }
                if matches!(cur.peek_at(n), None | Some('#' | '\r' | '\n')) {
                    return out;
                }
                for _ in 0..n {
                    out.extend(cur.bump());
                }
            }
            Some(c) => {
                out.push(c);
                cur.bump();
            }
        }
    }
}

/// Unquoted key: a run of non-whitespace characters.
pub(crate) fn scan_bare_key(cur: &mut Cursor) -> String {
    let mut out = String::new();
    while let Some(c) = cur
        .peek()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
    {
        out.push(c);
        cur.bump();
    }
    out
}

/// Unquoted section argument: up to `>` or the end of the line, trailing blanks dropped.
pub(crate) fn scan_raw_arg(cur: &mut Cursor) -> String {
    let mut out = String::new();
    while let Some(c) = cur.peek().filter(|c| !matches!(c, '>' | '\r' | '\n')) {
        out.push(c);
        cur.bump();
    }
    let trimmed = out.trim_end_matches([' ', '\t']).len();
    let dropped = out[trimmed..].chars().count();
    cur.set_offset(cur.offset() - dropped);
    out.truncate(trimmed);
    out
}

/// Single-quoted string (cursor on the quote): only `\'` and `\\` are escapes; it ends on
/// its line.
pub(crate) fn scan_single_quoted(cur: &mut Cursor) -> Result<String, ConfigError> {
    let start = cur.pos();
    cur.bump();
    let mut out = String::new();
    loop {
        match cur.bump() {
            None => return Err(eof_error(cur, "single-quoted string", &start)),
            Some('\'') => return Ok(out),
            Some('\\') if matches!(cur.peek(), Some('\'' | '\\')) => out.extend(cur.bump()),
            // Fluentd's single-quoted strings end at their line (`unexpected end of file in a
            // single quoted string`).
            Some('\n') => {
                return Err(ConfigError::at(
                    cur.pos(),
                    format!("a single-quoted string cannot span lines: the one started at {start} is not closed on its line"),
                ))
            }
            Some(c) => out.push(c),
        }
    }
}

/// Double-quoted string (cursor on the quote): escapes, backslash-newline
/// continuation, raw newlines kept, `#{...}` interpolation.
pub(crate) fn scan_double_quoted(cur: &mut Cursor) -> Result<Value, ConfigError> {
    let start = cur.pos();
    cur.bump();
    let mut out = String::new();
    let mut unset: Option<&'static str> = None;
    loop {
        match cur.peek() {
            None => return Err(eof_error(cur, "double-quoted string", &start)),
            Some('"') => {
                cur.bump();
                return Ok(match unset {
                    Some(word) => Value::Unset(word),
                    None => Value::Text(out),
                });
            }
            // As Fluentd's scanner: a character followed by a line end (`\r` or `\n`) is taken
            // with it, unless it is a backslash (then both go: a continuation). A line end not
            // taken so (right after the opening quote, a taken line end, or `#{...}`; the `\n`
            // of a CRLF) is Fluentd's `unexpected end of file in a double quoted string`.
            Some(c) if matches!(cur.peek_at(1), Some('\r' | '\n')) => {
                cur.bump();
                let end = cur.bump();
                if c != '\\' {
                    out.push(c);
                    out.extend(end);
                }
            }
            Some('\n') => {
                return Err(ConfigError::at(
                    cur.pos(),
                    format!(
                        "line break in the double-quoted string started at {start} where Fluentd \
                         takes none (a line may break inside the quotes only after a character \
                         on it; a CRLF line end does not)"
                    ),
                ))
            }
            Some('\\') => {
                let esc_pos = cur.pos();
                cur.bump();
                let Some(c) = cur.bump() else {
                    return Err(eof_error(cur, "double-quoted string", &start));
                };
                match c {
                    'r' => out.push('\r'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'f' => out.push('\u{c}'),
                    'b' => out.push('\u{8}'),
                    '0' => out.push('\0'),
                    c if c.is_ascii_alphanumeric() => {
                        return Err(ConfigError::at(
                            esc_pos,
                            format!(
                                "unexpected backslash escape '\\{c}' in a double-quoted string \
                                 (allowed: \\\" \\' \\\\ \\r \\n \\t \\f \\b \\0, or backslash + punctuation)"
                            ),
                        ))
                    }
                    c => out.push(c),
                }
            }
            Some('#') if cur.peek_at(1) == Some('{') => {
                let code_pos = cur.pos();
                cur.advance(2);
                let code = scan_embedded_code(cur, &code_pos)?;
                match interpolate::evaluate(&code, &code_pos, cur.worker.as_deref())? {
                    Outcome::Text(t) => out.push_str(&t),
                    Outcome::Unset(word) => unset = unset.or(Some(word)),
                }
            }
            Some(c) => {
                out.push(c);
                cur.bump();
            }
        }
    }
}

/// The code of `#{...}` (cursor after `#{`), up to the matching `}` (consumed).
fn scan_embedded_code(cur: &mut Cursor, start: &crate::Pos) -> Result<String, ConfigError> {
    let from = cur.offset();
    let mut depth = 0usize;
    loop {
        match cur.bump() {
            None => return Err(eof_error(cur, "'#{' (embedded code)", start)),
            Some(q @ ('\'' | '"')) => loop {
                match cur.bump() {
                    None => return Err(eof_error(cur, "'#{' (embedded code)", start)),
                    Some('\\') => {
                        cur.bump();
                    }
                    Some(c) if c == q => break,
                    Some(_) => {}
                }
            },
            Some('{') => depth += 1,
            Some('}') if depth == 0 => return Ok(cur.slice(from, cur.offset() - 1)),
            Some('}') => depth -= 1,
            Some(_) => {}
        }
    }
}

/// A JSON array/object value (cursor on `[` or `{`), possibly spanning lines, with
/// `#` comments outside strings; returned re-serialised compactly (key order kept).
pub(crate) fn scan_json(cur: &mut Cursor) -> Result<String, ConfigError> {
    let start = cur.pos();
    let kind = if cur.peek() == Some('[') {
        "array"
    } else {
        "object"
    };
    let mut text = String::new();
    let mut depth = 0usize;
    let mut in_string = false;
    loop {
        let Some(c) = cur.bump() else {
            return Err(eof_error(cur, &format!("JSON {kind}"), &start));
        };
        if in_string {
            text.push(c);
            match c {
                '\\' => text.extend(cur.bump()),
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => {
                cur.skip_to_eol();
                continue;
            }
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        text.push(c);
        if depth == 0 {
            break;
        }
    }
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        let (line, col) = (e.line(), e.column());
        let pos = if line <= 1 {
            crate::Pos { col: start.col.saturating_add(u32::try_from(col.saturating_sub(1)).unwrap_or(0)), ..start.clone() }
        } else {
            crate::Pos {
                line: start.line.saturating_add(u32::try_from(line - 1).unwrap_or(0)),
                col: u32::try_from(col.max(1)).unwrap_or(1),
                ..start.clone()
            }
        };
        let msg = e.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        ConfigError::at(
            pos,
            format!("invalid JSON {kind} value started at {start}: {msg} (values starting with '[' or '{{' must be JSON; quote them otherwise)"),
        )
    })?;
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn cur(s: &str) -> Cursor {
        Cursor::new(s, Arc::from("t"))
    }

    #[test]
    fn unquoted_value_comment_rules() {
        for (input, want, rest) in [
            ("value # c\n", "value", Some(' ')),
            ("value#x\n", "value#x", Some('\n')),
            ("# c\n", "# c", Some('\n')),
            ("x   y   \n", "x   y", Some(' ')),
            ("v\t#c", "v", Some('\t')),
            ("v", "v", None),
        ] {
            let mut c = cur(input);
            assert_eq!(scan_unquoted_value(&mut c), want, "{input:?}");
            assert_eq!(c.peek(), rest, "{input:?}");
        }
    }

    #[test]
    fn raw_arg_stops_at_gt_and_trims() {
        let mut c = cur("a.** b.**  >\n");
        assert_eq!(scan_raw_arg(&mut c), "a.** b.**");
        assert_eq!(c.peek(), Some(' '));
    }

    #[test]
    fn json_with_comment_and_nesting() {
        let mut c = cur("{\"a\": [1, {\"b\": \"}#\"}], # note\n \"c\": null} tail");
        assert_eq!(
            scan_json(&mut c).unwrap(),
            r##"{"a":[1,{"b":"}#"}],"c":null}"##
        );
        assert_eq!(c.peek(), Some(' '));
    }

    #[test]
    fn invalid_json_error_position() {
        let mut c = cur("k [1,\n  2 x]\n");
        c.advance(2);
        let e = scan_json(&mut c).unwrap_err();
        let p = e.pos.clone().unwrap();
        assert_eq!((p.line, p.col), (2, 5), "{e}");
    }
}
