//! The Fluentd v1 grammar: sections, parameters and `@include` directives.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::lexer::Cursor;
use crate::literal::{self, Value};
use crate::{include, ConfigError, Element, Pos, Warning};

/// Maximum section nesting depth (including sections opened by including files).
const MAX_DEPTH: usize = 100;

/// Keys with the reserved `@` prefix that are always accepted.
const RESERVED_PARAMS: [&str; 4] = ["@type", "@id", "@label", "@log_level"];

/// Sections in which other `@`-keys are errors (deeper ones only warn).
const STRICT_SECTIONS: [&str; 6] = [
    crate::ROOT_NAME,
    "source",
    "match",
    "filter",
    "system",
    "label",
];

/// State shared by a file and the files it includes.
#[derive(Default)]
pub(crate) struct Ctx {
    /// Collected warnings.
    pub(crate) warnings: Vec<Warning>,
    /// Canonical paths of the files being parsed (outermost first), to detect cycles.
    pub(crate) include_chain: Vec<PathBuf>,
    /// Current section nesting depth.
    depth: usize,
    /// The argument of the `<worker>` section an `@include` is in.
    worker: Option<String>,
}

impl Ctx {
    /// Records a warning.
    pub(crate) fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.warnings.push(Warning {
            pos,
            message: message.into(),
        });
    }
}

fn current<'a>(target: &'a mut Element, stack: &'a mut [Element]) -> &'a mut Element {
    match stack.last_mut() {
        Some(e) => e,
        None => target,
    }
}

/// Parses `text` (one file) and appends its parameters and sections to `target`.
/// Sections must be closed in the file that opens them.
pub(crate) fn parse_into(
    target: &mut Element,
    text: &str,
    file: Arc<str>,
    base_dir: &Path,
    ctx: &mut Ctx,
) -> Result<(), ConfigError> {
    let mut cur = Cursor::new(text, file);
    let mut stack: Vec<Element> = Vec::new();
    let outer_depth = ctx.depth;
    loop {
        cur.skip_spacing();
        if cur.eof() {
            if let Some(open) = stack.last() {
                return Err(ConfigError::at(
                    cur.pos(),
                    format!(
                        "unexpected end of file: '<{}>' opened at {} is not closed",
                        open.name, open.pos
                    ),
                ));
            }
            break;
        }
        cur.worker = stack
            .iter()
            .rev()
            .find(|e| e.name == "worker")
            .map(|e| e.arg.clone())
            .or_else(|| ctx.worker.clone());
        if cur.starts_with("</") {
            close_tag(&mut cur, target, &mut stack, ctx)?;
        } else if cur.peek() == Some('<') {
            let el = open_tag(&mut cur)?;
            if ctx.depth >= MAX_DEPTH {
                return Err(ConfigError::at(
                    el.pos,
                    format!("sections are nested too deeply (limit {MAX_DEPTH})"),
                ));
            }
            ctx.depth += 1;
            stack.push(el);
        } else {
            let file_top = stack.is_empty();
            parameter(
                &mut cur,
                current(target, &mut stack),
                file_top,
                base_dir,
                ctx,
            )?;
        }
    }
    ctx.depth = outer_depth;
    Ok(())
}

/// A section name: `[A-Za-z0-9_]*`.
fn scan_name(cur: &mut Cursor) -> String {
    let mut name = String::new();
    while let Some(c) = cur
        .peek()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        name.push(c);
        cur.bump();
    }
    name
}

/// Skips spacing and expects `>`; the error points at the offending text on the
/// same line, or at the end of the tag's line.
fn expect_gt(cur: &mut Cursor, what: &str) -> Result<(), ConfigError> {
    let before = cur.pos();
    cur.skip_spacing();
    if cur.peek() == Some('>') {
        cur.bump();
        return Ok(());
    }
    let here = cur.pos();
    let pos = if here.line == before.line {
        here
    } else {
        before
    };
    Err(ConfigError::at(
        pos,
        format!("expected '>' to close '{what}'"),
    ))
}

fn expect_line_end(cur: &mut Cursor, after: &str) -> Result<(), ConfigError> {
    if cur.line_end() {
        return Ok(());
    }
    cur.skip_blanks();
    Err(ConfigError::at(
        cur.pos(),
        format!("expected end of line after {after}"),
    ))
}

/// `<name arg>` (cursor on `<`); returns the new, empty element.
fn open_tag(cur: &mut Cursor) -> Result<Element, ConfigError> {
    let tag_pos = cur.pos();
    cur.bump();
    let name = scan_name(cur);
    if name.is_empty() {
        return Err(ConfigError::at(
            cur.pos(),
            "expected a section name (letters, digits, '_') after '<'",
        ));
    }
    cur.skip_blanks();
    let arg = match literal::scan_string(cur, literal::scan_raw_arg)? {
        Value::Text(s) => s,
        Value::Unset(word) => {
            return Err(ConfigError::at(
                tag_pos,
                format!("{word} is not allowed in the argument of '<{name}>'"),
            ))
        }
    };
    expect_gt(cur, &format!("<{name}"))?;
    let shown = if arg.is_empty() {
        format!("'<{name}>'")
    } else {
        format!("'<{name} {arg}>'")
    };
    expect_line_end(cur, &shown)?;
    Ok(Element::new(name, arg, tag_pos))
}

/// `</name>` (cursor on `</`): closes the innermost open section.
fn close_tag(
    cur: &mut Cursor,
    target: &mut Element,
    stack: &mut Vec<Element>,
    ctx: &mut Ctx,
) -> Result<(), ConfigError> {
    let tag_pos = cur.pos();
    cur.advance(2);
    let name = scan_name(cur);
    expect_gt(cur, &format!("</{name}"))?;
    expect_line_end(cur, &format!("'</{name}>'"))?;
    let Some(open) = stack.pop() else {
        let note = if target.name == crate::ROOT_NAME {
            String::new()
        } else {
            format!(" in this file (the include is inside '<{}>' opened at {}; sections must be closed in the file that opens them)", target.name, target.pos)
        };
        return Err(ConfigError::at(
            tag_pos,
            format!("'</{name}>' has no matching opening tag{note}"),
        ));
    };
    if open.name != name {
        return Err(ConfigError::at(
            tag_pos,
            format!(
                "'</{name}>' closes '<{}>' opened at {}; expected '</{}>'",
                open.name, open.pos, open.name
            ),
        ));
    }
    ctx.depth = ctx.depth.saturating_sub(1);
    current(target, stack).elements.push(open);
    Ok(())
}

/// `KEY [VALUE]` or `@include PATH` (cursor on the key).
fn parameter(
    cur: &mut Cursor,
    el: &mut Element,
    file_top: bool,
    base_dir: &Path,
    ctx: &mut Ctx,
) -> Result<(), ConfigError> {
    let key_pos = cur.pos();
    let quoted = matches!(cur.peek(), Some('"' | '\''));
    let key = match literal::scan_string(cur, literal::scan_bare_key)? {
        Value::Text(k) => k,
        Value::Unset(word) => {
            return Err(ConfigError::at(
                key_pos,
                format!("{word} is not allowed in a parameter name"),
            ))
        }
    };
    let no_value = cur.skip_whitespace();

    let deprecated_include = !quoted && file_top && key == "include";
    if key == "@include" || deprecated_include {
        if no_value {
            return Err(ConfigError::at(
                key_pos,
                format!("expected a file path or glob after '{key}'"),
            ));
        }
        if deprecated_include {
            ctx.warn(
                key_pos.clone(),
                "'include' is deprecated; use '@include' instead",
            );
        }
        let path_pos = cur.pos();
        let path = match literal::scan_string(cur, literal::scan_unquoted_value)? {
            Value::Text(p) => p,
            Value::Unset(word) => {
                return Err(ConfigError::at(
                    path_pos,
                    format!("{word} is not allowed in an include path"),
                ))
            }
        };
        expect_line_end(cur, "the include path")?;
        let outer = std::mem::replace(&mut ctx.worker, cur.worker.clone());
        let r = include::include(el, &path, &path_pos, base_dir, ctx);
        ctx.worker = outer;
        return r;
    }

    if key.starts_with('@') && !RESERVED_PARAMS.contains(&key.as_str()) {
        let section = if el.name == crate::ROOT_NAME {
            "at the top level".to_string()
        } else {
            format!("in <{}>", el.name)
        };
        if STRICT_SECTIONS.contains(&el.name.as_str()) {
            return Err(ConfigError::at(
                key_pos,
                format!(
                    "'{key}': '@' is the system reserved prefix; only @type, @id, @label, @log_level and @include are allowed {section}"
                ),
            ));
        }
        ctx.warn(
            key_pos.clone(),
            format!("'{key}': '@' is the system reserved prefix; accepted {section} for now, but Fluentd will reject it in the future"),
        );
    }

    let value = if no_value {
        Value::Text(String::new())
    } else {
        let v = literal::parse_literal(cur)?;
        expect_line_end(cur, &format!("the value of '{key}'"))?;
        v
    };
    match value {
        Value::Text(v) => {
            if let Some(prev) = el.params.iter().find(|p| p.key == key) {
                ctx.warn(
                    key_pos.clone(),
                    format!(
                        "duplicate parameter '{key}' (also set at {}); the last value wins",
                        prev.pos
                    ),
                );
            }
            el.set_param(key, v, key_pos);
        }
        Value::Unset(_) => {
            el.remove_param(&key);
        }
    }
    Ok(())
}
