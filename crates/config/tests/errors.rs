//! Error messages and positions (line and column) for broken configurations.

use std::path::Path;

use logferry_config::parse_str;

/// Parses `text` as `a.conf`, expecting an error at `line:col` whose message
/// contains `needle`.
fn check(text: &str, line: u32, col: u32, needle: &str) {
    let e = match parse_str(text, "a.conf", Path::new(".")) {
        Ok(root) => panic!("expected an error for {text:?}, got {root:?}"),
        Err(e) => e,
    };
    let pos = e.pos.clone().unwrap_or_else(|| panic!("no position: {e}"));
    assert_eq!(pos.file.as_ref(), "a.conf");
    assert_eq!((pos.line, pos.col), (line, col), "{text:?}: {e}");
    assert!(e.message.contains(needle), "{text:?}: {e}");
    assert!(
        e.to_string().starts_with(&format!("a.conf:{line}:{col}: ")),
        "{e}"
    );
}

#[test]
fn mismatched_closing_tag() {
    check(
        "<source>\n  @type x\n</source>\n<match a>\n  @type y\n</filter>\n",
        6,
        1,
        "'</filter>' closes '<match>' opened at a.conf:4:1",
    );
}

#[test]
fn unclosed_section_at_end_of_file() {
    check(
        "<source>\n  @type forward\n",
        3,
        1,
        "unexpected end of file: '<source>' opened at a.conf:1:1 is not closed",
    );
    check(
        "<match a>\n  <buffer>\n  </buffer>\n",
        4,
        1,
        "'<match>' opened at a.conf:1:1 is not closed",
    );
}

#[test]
fn missing_gt_in_opening_tag() {
    check(
        "<source>\n</source>\n<match a.**\n  @type stdout\n</match>\n",
        3,
        12,
        "expected '>' to close '<match'",
    );
    check(
        "<match \"a\" b>\n</match>\n",
        1,
        12,
        "expected '>' to close '<match'",
    );
}

#[test]
fn text_after_tag() {
    check(
        "<source> extra\n</source>\n",
        1,
        10,
        "expected end of line after '<source>'",
    );
    check(
        "<source>\n</source> x\n",
        2,
        11,
        "expected end of line after '</source>'",
    );
}

#[test]
fn closing_tag_without_opening() {
    check(
        "k v\n</match>\n",
        2,
        1,
        "'</match>' has no matching opening tag",
    );
}

#[test]
fn missing_section_name() {
    check(
        "<source>\n  < x>\n</source>\n",
        2,
        4,
        "expected a section name",
    );
}

#[test]
fn unterminated_strings() {
    check(
        "a 1\nb \"abc\nc 2\n",
        4,
        1,
        "unterminated double-quoted string started at a.conf:2:3",
    );
    check(
        "a 'abc",
        1,
        7,
        "unterminated single-quoted string started at a.conf:1:3",
    );
    // Fluentd's single-quoted strings end on their line.
    check(
        "a 'abc\nd'\n",
        2,
        1,
        "a single-quoted string cannot span lines: the one started at a.conf:1:3",
    );
    // A double-quoted string breaks its line only after a character on it.
    check(
        "a \"\nb\"\n",
        1,
        4,
        "line break in the double-quoted string started at a.conf:1:3",
    );
    check(
        "a \"x\n\ny\"\n",
        2,
        1,
        "line break in the double-quoted string started at a.conf:1:3",
    );
    check(
        "a \"x\r\ny\"\r\n",
        1,
        6,
        "line break in the double-quoted string started at a.conf:1:3",
    );
    check(
        "a \"x #{ENV['A']\n",
        2,
        1,
        "unterminated '#{' (embedded code) started at a.conf:1:6",
    );
}

#[test]
fn junk_after_quoted_value() {
    check(
        "<source>\n  tag \"a\" b\n</source>\n",
        2,
        11,
        "expected end of line after the value of 'tag'",
    );
    check(
        "k [1, 2] x\n",
        1,
        10,
        "expected end of line after the value of 'k'",
    );
}

#[test]
fn bad_escape_position() {
    check(
        "<match x>\n  path \"C:\\logs\"\n</match>\n",
        2,
        11,
        "unexpected backslash escape '\\l'",
    );
}

#[test]
fn include_without_path() {
    check(
        "@include\nk v\n",
        1,
        1,
        "expected a file path or glob after '@include'",
    );
}

#[test]
fn nesting_limit_is_an_error_not_a_crash() {
    let mut text = String::new();
    for _ in 0..1000 {
        text.push_str("<a>\n");
    }
    let e = parse_str(&text, "a.conf", Path::new(".")).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "",
        "<",
        "</",
        ">",
        "<>",
        "</>",
        "<a",
        "<a>",
        "\"",
        "'",
        "\\",
        "#{",
        "\"#{",
        "\"#{}\"",
        "k [",
        "k {",
        "k ]",
        "k [}",
        "k \"\\",
        "<a \"",
        "<a '>",
        "@include",
        "@include \"",
        "k \"#{ENV[}\"",
        "\u{feff}k v",
        "k \"\\\r",
        "<a>\n</a",
        "k [\"\\",
        "k [1] # x",
        "\n\n\r\r\t #",
        "<a b\n>\n</a>",
        "<é>",
        "k \u{0}",
    ];
    for s in samples {
        let _ = parse_str(s, "g.conf", Path::new("/nonexistent-logferry-dir"));
    }
    // Every prefix of a realistic file parses or fails cleanly.
    let text = "<source>\n  @type tail\n  path \"/var/log/#{ENV['X']}/*.log\" # c\n  <parse>\n    @type json\n    types {\"a\": [1, \"b\"]}\n  </parse>\n</source>\n";
    for (i, _) in text.char_indices() {
        let _ = parse_str(&text[..i], "g.conf", Path::new("."));
    }
}
