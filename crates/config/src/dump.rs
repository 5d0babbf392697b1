//! Serialisation of an element tree back to Fluentd syntax.

use std::fmt::Write;

use crate::Element;

const INDENT: &str = "  ";

/// Comment lines to write in an element's body, after its parameters.
pub(crate) type Notes<'a> = &'a dyn Fn(&Element) -> Vec<String>;

/// Fluentd-syntax text of `el` (for the root: its children only).
pub(crate) fn dump(el: &Element) -> String {
    dump_with(el, &|_| Vec::new())
}

/// Like [`dump`], with `notes` written as `# ` comments in each element's body.
pub(crate) fn dump_with(el: &Element, notes: Notes) -> String {
    let mut out = String::new();
    if el.name == crate::ROOT_NAME {
        write_body(el, 0, &mut out, notes);
    } else {
        write_element(el, 0, &mut out, notes);
    }
    out
}

fn pad(depth: usize, out: &mut String) {
    for _ in 0..depth {
        out.push_str(INDENT);
    }
}

fn write_element(el: &Element, depth: usize, out: &mut String, notes: Notes) {
    pad(depth, out);
    let _ = write!(out, "<{}", el.name);
    if !el.arg.is_empty() {
        out.push(' ');
        out.push_str(&format_arg(&el.arg));
    }
    out.push_str(">\n");
    write_body(el, depth + 1, out, notes);
    pad(depth, out);
    let _ = writeln!(out, "</{}>", el.name);
}

fn write_body(el: &Element, depth: usize, out: &mut String, notes: Notes) {
    for p in &el.params {
        pad(depth, out);
        let _ = writeln!(out, "{} {}", format_key(&p.key), format_value(&p.value));
    }
    for note in notes(el) {
        pad(depth, out);
        let _ = writeln!(out, "# {note}");
    }
    for (i, child) in el.elements.iter().enumerate() {
        if depth == 0 && (i > 0 || !el.params.is_empty()) {
            out.push('\n');
        }
        write_element(child, depth, out, notes);
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// A key, double-quoted if it would not read back as the same bare key.
fn format_key(key: &str) -> String {
    let needs = key.is_empty()
        || key == "include"
        || key.contains(is_space)
        || key.contains(char::is_control)
        || key.starts_with(['"', '\'', '<', '#']);
    if needs {
        quote(key)
    } else {
        key.to_string()
    }
}

/// A value, double-quoted if it would not read back unchanged when written bare
/// (or contains control characters, shown escaped).
pub(crate) fn format_value(value: &str) -> String {
    if value.starts_with(['[', '{']) {
        let same = serde_json::from_str::<serde_json::Value>(value)
            .and_then(|v| serde_json::to_string(&v))
            .is_ok_and(|compact| compact == value);
        return if same {
            value.to_string()
        } else {
            quote(value)
        };
    }
    let needs = value.is_empty()
        || value.starts_with(['"', '\''])
        || value.starts_with(is_space)
        || value.ends_with(is_space)
        || value.contains(char::is_control)
        || value.contains(" #")
        || value.contains("\t#");
    if needs {
        quote(value)
    } else {
        value.to_string()
    }
}

/// A section argument, double-quoted if needed.
fn format_arg(arg: &str) -> String {
    let needs = arg.starts_with(['"', '\''])
        || arg.starts_with(is_space)
        || arg.ends_with(is_space)
        || arg.contains('>')
        || arg.contains(char::is_control);
    if needs {
        quote(arg)
    } else {
        arg.to_string()
    }
}

/// `s` as a double-quoted Fluentd string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\0' => out.push_str("\\0"),
            '#' if chars.peek() == Some(&'{') => out.push_str("\\#"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_rules() {
        assert_eq!(format_value("plain value"), "plain value");
        assert_eq!(format_value(""), "\"\"");
        assert_eq!(format_value("a #b"), "\"a #b\"");
        assert_eq!(format_value("a#b"), "a#b");
        assert_eq!(format_value("x\n#{y}\\"), "\"x\\n\\#{y}\\\\\"");
        assert_eq!(format_value(r#"{"k":"v"}"#), r#"{"k":"v"}"#);
        assert_eq!(format_value("[not json"), "\"[not json\"");
        assert_eq!(format_key("a b"), "\"a b\"");
        assert_eq!(format_key("include"), "\"include\"");
        assert_eq!(format_arg("a.** b.**"), "a.** b.**");
        assert_eq!(format_arg("a>b"), "\"a>b\"");
    }
}
