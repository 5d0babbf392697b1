//! Ruby (Onigmo) regular expressions on Rust's `regex` crate.
//!
//! The translation keeps Ruby's meaning or refuses the pattern, naming the construct and why;
//! it never compiles a pattern that would silently match differently:
//!
//! * `^`/`$` are line anchors in Ruby: every pattern gets Rust's `(?m)`. Ruby's `m` flag
//!   (`.` matches a newline) is Rust's `s`, in `/…/m` and in inline groups (`(?m:…)`).
//! * `\d \w \s \h` (and negations) are ASCII-only in Ruby: written out as ASCII classes.
//!   POSIX brackets (`[[:alpha:]]`) are Unicode in Ruby: written out with Unicode properties.
//! * `(?'name'…)` becomes `(?<name>…)`; `\e`, `\a`, octal `\0nn` become hex escapes;
//!   `{,n}` becomes `{0,n}`; a `{` that does not start a repetition is a literal.
//! * Refused (start-up error): lookahead/lookbehind, backreferences (`\1`, `\k<n>`), subexpression
//!   calls (`\g<n>`), atomic groups `(?>…)`, possessive quantifiers (`a*+`), absent operator,
//!   conditionals, `\Z` anywhere but at the end of the pattern, `\G`, `\K`, `\R`, `\X`,
//!   `(?u)`/`(?a)`/`(?d)`, and `x{n}?` (optional in Ruby, lazy in Rust).
//!
//! Rust's engine runs in time linear in the input, so no pattern can hang a parser.

use regex::Regex;

/// ASCII classes for Ruby's shorthand escapes, as class bodies.
fn shorthand(c: char) -> Option<(&'static str, bool)> {
    Some(match c {
        'd' => ("0-9", false),
        'D' => ("0-9", true),
        'w' => ("a-zA-Z0-9_", false),
        'W' => ("a-zA-Z0-9_", true),
        's' => ("\\x20\\t\\n\\x0B\\x0C\\r", false),
        'S' => ("\\x20\\t\\n\\x0B\\x0C\\r", true),
        'h' => ("0-9a-fA-F", false),
        'H' => ("0-9a-fA-F", true),
        _ => return None,
    })
}

/// Unicode class bodies for Ruby's POSIX brackets.
fn posix(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => r"\p{L}\p{M}",
        "digit" => r"\p{Nd}",
        "alnum" => r"\p{L}\p{M}\p{Nd}",
        "upper" => r"\p{Lu}",
        "lower" => r"\p{Ll}",
        "space" => r"\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}",
        "blank" => r"\p{Zs}\t",
        "xdigit" => r"0-9A-Fa-f",
        "word" => r"\p{L}\p{M}\p{Nd}\p{Pc}",
        "punct" => r"\p{P}$+<=>^`|~",
        "cntrl" => r"\p{Cc}\p{Cf}\p{Cn}\p{Co}",
        "ascii" => r"\x00-\x7F",
        "graph" => r"^\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}\p{Cc}\p{Cn}",
        "print" => r"^\t\n\x0B\x0C\r\x{85}\p{Zl}\p{Zp}\p{Cc}\p{Cn}",
        _ => return None,
    })
}

fn unsupported(what: &str, why: &str) -> String {
    format!("{what} is not supported: {why}")
}

const NO_LOOK: &str = "Rust's regex engine (linear time, no backtracking) cannot look around";

/// Translate a Ruby pattern body with Ruby flags (`i`, `m`, `x`) to a Rust pattern.
pub fn translate(src: &str, flags: &str) -> Result<String, String> {
    let mut out = String::with_capacity(src.len() + 16);
    out.push_str("(?m");
    if flags.contains('i') {
        out.push('i');
    }
    if flags.contains('m') {
        out.push('s');
    }
    if flags.contains('x') {
        out.push('x');
    }
    out.push(')');
    translate_into(src, &mut out)?;
    Ok(out)
}

/// Translate a Ruby pattern body alone: the caller sets the flags (Rust's multi-line mode for
/// Ruby's `^`/`$`, `i`, `s` for Ruby's `m`, `x`) on its `RegexBuilder`.
pub fn translate_body(src: &str) -> Result<String, String> {
    let mut out = String::with_capacity(src.len() + 16);
    translate_into(src, &mut out)?;
    Ok(out)
}

fn translate_into(src: &str, out: &mut String) -> Result<(), String> {
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    // Depth of character classes, and whether the last thing emitted can take a quantifier.
    let mut class = 0usize;
    // In a class: was the previous emitted element a bare `-`?
    let mut class_dash = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            let Some(&e) = chars.get(i + 1) else {
                return Err("pattern ends with a lone backslash".into());
            };
            i += 2;
            class_dash = false;
            if let Some((body, neg)) = shorthand(e) {
                out.push('[');
                if neg {
                    out.push('^');
                }
                out.push_str(body);
                out.push(']');
                continue;
            }
            match e {
                'A' | 'z' if class == 0 => {
                    out.push('\\');
                    out.push(e);
                }
                'b' | 'B' if class == 0 => {
                    // Unicode in both (Ruby's `\b` counts `é` as a word character, unlike `\w`).
                    out.push('\\');
                    out.push(e);
                }
                'b' => out.push_str(r"\x08"),
                'Z' if class == 0 && i == chars.len() => {
                    // At the very end of the pattern only the whole match's end can tell
                    // "before a final newline" from "through it", and no plugin uses that end:
                    // grep asks whether it matched, parsers and rewrite_tag_filter take groups.
                    out.push_str(r"(?:\n?\z)");
                }
                'Z' => {
                    return Err(unsupported(
                        r"\Z (end of text or before a final newline) before the end of the pattern",
                        &format!("it needs a lookahead and {NO_LOOK}; use \\z or $"),
                    ))
                }
                'G' | 'K' => {
                    return Err(unsupported(
                        &format!("\\{e}"),
                        "Rust's regex engine has no match-start anchor or keep operator",
                    ))
                }
                'R' | 'X' => {
                    return Err(unsupported(
                        &format!("\\{e}"),
                        "it is an atomic group in Ruby, which Rust's regex engine cannot express; \
                         write the alternatives out",
                    ))
                }
                '1'..='9' => {
                    return Err(unsupported(
                        &format!("the backreference \\{e}"),
                        "Rust's regex engine matches in linear time and has no backreferences",
                    ))
                }
                'k' => {
                    return Err(unsupported(
                        r"the named backreference \k<…>",
                        "Rust's regex engine matches in linear time and has no backreferences",
                    ))
                }
                'g' => {
                    return Err(unsupported(
                        r"the subexpression call \g<…>",
                        "Rust's regex engine has no recursion or subexpression calls",
                    ))
                }
                'e' => out.push_str(r"\x1B"),
                'a' => out.push_str(r"\x07"),
                '0' => {
                    // Octal: \0, \0nn.
                    let mut v = 0u32;
                    let mut n = 0;
                    while n < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                        v = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                        i += 1;
                        n += 1;
                    }
                    out.push_str(&format!(r"\x{{{v:X}}}"));
                }
                'p' | 'P' => {
                    // \p{Name}, \p{^Name} (Ruby's negation), \P{Name}. Ruby's POSIX-like names
                    // (Alpha, Digit, Space, Word, …) are written out as for [[:name:]].
                    let rest: String = chars[i..].iter().take(40).collect();
                    let Some(inner) = rest.strip_prefix('{').and_then(|r| r.split_once('}')) else {
                        return Err(format!("invalid property escape \\{e}"));
                    };
                    let name = inner.0;
                    let (caret, bare) = match name.strip_prefix('^') {
                        Some(n) => (true, n),
                        None => (false, name),
                    };
                    let neg = caret != (e == 'P');
                    i += name.chars().count() + 2;
                    match posix(&bare.to_ascii_lowercase()) {
                        Some(body) => {
                            let body_neg = body.starts_with('^');
                            out.push('[');
                            if neg != body_neg {
                                out.push('^');
                            }
                            out.push_str(body.trim_start_matches('^'));
                            out.push(']');
                        }
                        None => {
                            out.push_str(if neg { "\\P{" } else { "\\p{" });
                            out.push_str(bare);
                            out.push('}');
                        }
                    }
                }
                'c' | 'C' | 'M' => {
                    return Err(unsupported(
                        &format!("the control/meta escape \\{e}"),
                        "Rust's regex engine has no such escape; use \\x.. instead",
                    ))
                }
                c if c.is_ascii_alphanumeric() => {
                    out.push('\\');
                    out.push(c);
                }
                // Any other escaped character is itself (`\<` and `\>` are word boundaries
                // in Rust, plain characters in Ruby).
                c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
            continue;
        }
        if class > 0 {
            match c {
                '[' if chars.get(i + 1) == Some(&':') => {
                    // POSIX bracket [:name:] / [:^name:].
                    let rest: String = chars[i + 2..].iter().collect();
                    let Some(end) = rest.find(":]") else {
                        return Err("unterminated POSIX bracket".into());
                    };
                    let (neg, name) = match rest[..end].strip_prefix('^') {
                        Some(n) => (true, n),
                        None => (false, &rest[..end]),
                    };
                    let Some(body) = posix(name) else {
                        return Err(format!("unknown POSIX bracket [:{name}:]"));
                    };
                    let body_neg = body.starts_with('^');
                    out.push('[');
                    if neg != body_neg {
                        out.push('^');
                    }
                    out.push_str(body.trim_start_matches('^'));
                    out.push(']');
                    i += 2 + rest[..end].chars().count() + 2;
                    class_dash = false;
                    continue;
                }
                '[' => {
                    class += 1;
                    out.push('[');
                    i += 1;
                    if chars.get(i) == Some(&'^') {
                        out.push('^');
                        i += 1;
                    }
                    if chars.get(i) == Some(&']') {
                        out.push_str(r"\]");
                        i += 1;
                    }
                    class_dash = false;
                    continue;
                }
                ']' => {
                    class -= 1;
                    out.push(']');
                    i += 1;
                    class_dash = false;
                    continue;
                }
                '-' => {
                    if class_dash {
                        return Err(
                            "'--' in a character class is a set difference in Rust's regex \
                             syntax but not in Ruby's; escape the dash (\\-)"
                                .into(),
                        );
                    }
                    class_dash = true;
                    out.push('-');
                    i += 1;
                    continue;
                }
                '~' => {
                    out.push_str(r"\~");
                    i += 1;
                    class_dash = false;
                    continue;
                }
                _ => {
                    class_dash = false;
                    out.push(c);
                    i += 1;
                    continue;
                }
            }
        }
        match c {
            '[' => {
                class = 1;
                class_dash = false;
                out.push('[');
                i += 1;
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            '(' => {
                i += 1;
                if chars.get(i) != Some(&'?') {
                    out.push('(');
                    continue;
                }
                let next = chars.get(i + 1).copied();
                let next2 = chars.get(i + 2).copied();
                match (next, next2) {
                    (Some('#'), _) => {
                        // Comment group: drop it.
                        while i < chars.len() && chars[i] != ')' {
                            i += 1;
                        }
                        i += 1;
                    }
                    (Some('=' | '!'), _) | (Some('<'), Some('=' | '!')) => {
                        let what = if next == Some('<') {
                            "lookbehind (?<=…)/(?<!…)"
                        } else {
                            "lookahead (?=…)/(?!…)"
                        };
                        return Err(unsupported(what, NO_LOOK));
                    }
                    (Some('>'), _) => {
                        return Err(unsupported(
                            "the atomic group (?>…)",
                            "Rust's regex engine does not backtrack, so it cannot express \
                             Ruby's no-backtrack groups",
                        ))
                    }
                    (Some('~'), _) => {
                        return Err(unsupported(
                            "the absent operator (?~…)",
                            "Rust's regex engine has no such operator",
                        ))
                    }
                    (Some('('), _) => {
                        return Err(unsupported(
                            "the conditional group (?(cond)…)",
                            "Rust's regex engine has no conditionals",
                        ))
                    }
                    (Some('<'), _) => {
                        out.push_str("(?<");
                        i += 2;
                    }
                    (Some('\''), _) => {
                        // (?'name'…) → (?<name>…)
                        let rest: String = chars[i + 2..].iter().collect();
                        let Some(end) = rest.find('\'') else {
                            return Err("unterminated group name".into());
                        };
                        out.push_str("(?<");
                        out.push_str(&rest[..end]);
                        out.push('>');
                        i += 2 + rest[..end].chars().count() + 1;
                    }
                    (Some('P'), _) => {
                        return Err(unsupported(
                            "(?P…)",
                            "it is not Ruby syntax (Ruby names groups with (?<name>…))",
                        ))
                    }
                    (Some(':'), _) => {
                        out.push_str("(?:");
                        i += 2;
                    }
                    _ => {
                        // Inline options: (?imx-imx) or (?imx-imx:…).
                        i += 1;
                        out.push_str("(?");
                        loop {
                            match chars.get(i) {
                                Some('i') => out.push('i'),
                                Some('m') => out.push('s'),
                                Some('x') => out.push('x'),
                                Some('-') => out.push('-'),
                                Some(':') => {
                                    out.push(':');
                                    i += 1;
                                    break;
                                }
                                Some(')') => {
                                    out.push(')');
                                    i += 1;
                                    break;
                                }
                                Some(o @ ('a' | 'u' | 'd')) => {
                                    return Err(unsupported(
                                        &format!("the option (?{o})"),
                                        "the character-set options are not supported; \\d \\w \\s \
                                         are always ASCII as in Ruby's default",
                                    ))
                                }
                                Some(o) => {
                                    return Err(format!("undefined group option '{o}'"));
                                }
                                None => return Err("unterminated group".into()),
                            }
                            i += 1;
                        }
                    }
                }
            }
            '*' | '+' | '?' => {
                out.push(c);
                i += 1;
                if chars.get(i) == Some(&'+') {
                    return Err(unsupported(
                        &format!("the possessive quantifier {c}+"),
                        "Rust's regex engine does not backtrack, so it cannot express Ruby's \
                         possessive quantifiers",
                    ));
                }
                if chars.get(i) == Some(&'?') {
                    out.push('?');
                    i += 1;
                }
            }
            '{' => {
                // A repetition {n}, {n,}, {n,m}, {,m}; anything else is a literal brace.
                let rest: String = chars[i + 1..].iter().take(24).collect();
                let close = rest.find('}');
                let inner = close.map(|e| &rest[..e]);
                let valid = inner.is_some_and(|s| {
                    let (a, b) = s.split_once(',').unwrap_or((s, ""));
                    let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
                    !s.is_empty()
                        && digits(a)
                        && digits(b)
                        && (!a.is_empty() || !b.is_empty())
                        && (s.contains(',') || !a.is_empty())
                });
                match (valid, inner) {
                    (true, Some(s)) => {
                        let exact = !s.contains(',');
                        out.push('{');
                        if s.starts_with(',') {
                            out.push('0');
                        }
                        out.push_str(s);
                        out.push('}');
                        i += 1 + s.chars().count() + 1;
                        match chars.get(i) {
                            Some('?') if exact => {
                                return Err(unsupported(
                                    &format!("{{{s}}}?"),
                                    "in Ruby it makes the repetition optional, in Rust it would \
                                     be a lazy repetition; write (?:x{n})?",
                                ))
                            }
                            Some('?') => {
                                out.push('?');
                                i += 1;
                            }
                            Some('+') => {
                                return Err(unsupported(
                                    &format!("{{{s}}}+"),
                                    "Ruby repeats the repetition here; Rust's regex syntax has no \
                                     such form; use a group (?:x{n,m})+",
                                ))
                            }
                            _ => {}
                        }
                    }
                    _ => {
                        out.push_str(r"\{");
                        i += 1;
                    }
                }
            }
            '}' => {
                out.push_str(r"\}");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    if class > 0 {
        return Err("premature end of character class".into());
    }
    Ok(())
}

/// Translate and compile a Ruby pattern.
pub fn compile(src: &str, flags: &str) -> Result<Regex, String> {
    let t = translate(src, flags)?;
    Regex::new(&t).map_err(|e| {
        let msg = e.to_string();
        let last = msg.lines().last().unwrap_or(&msg).trim().to_string();
        format!("invalid regular expression /{src}/: {last}")
    })
}

/// Compile a config value in Ruby literal form (`/body/flags`) or a bare body.
pub fn compile_param(value: &str) -> Result<Regex, String> {
    if let Some(rest) = value.strip_prefix('/') {
        if let Some(end) = rest.rfind('/') {
            let flags: String = rest[end + 1..]
                .chars()
                .filter(|c| matches!(c, 'i' | 'm' | 'x'))
                .collect();
            return compile(&rest[..end], &flags);
        }
    }
    compile(value, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(re: &str, flags: &str, text: &str) -> Option<String> {
        let r = compile(re, flags).unwrap_or_else(|e| panic!("{re}: {e}"));
        r.find(text).map(|x| x.as_str().to_string())
    }

    #[test]
    fn ruby_meanings_kept() {
        // ^ and $ are line anchors in Ruby.
        assert_eq!(m("^b$", "", "a\nb\nc").as_deref(), Some("b"));
        // Ruby m = dot matches newline.
        assert_eq!(m("a.b", "m", "a\nb").as_deref(), Some("a\nb"));
        assert_eq!(m("a.b", "", "a\nb"), None);
        assert_eq!(m("a(?m:.)b", "", "a\nb").as_deref(), Some("a\nb"));
        // \d \w \s are ASCII in Ruby.
        assert_eq!(m(r"\d+", "", "٣٣12").as_deref(), Some("12"));
        assert_eq!(m(r"\w+", "", "é_ab").as_deref(), Some("_ab"));
        assert_eq!(m(r"[\w.]+", "", "é_a.b").as_deref(), Some("_a.b"));
        assert_eq!(m(r"\h+", "", "xx0aFz").as_deref(), Some("0aF"));
        assert_eq!(m(r"[^\s]+", "", " ab ").as_deref(), Some("ab"));
        // POSIX brackets are Unicode in Ruby.
        assert_eq!(m("[[:alpha:]]+", "", "1éa2").as_deref(), Some("éa"));
        assert_eq!(m("[[:^digit:]]+", "", "12ab3").as_deref(), Some("ab"));
        // Named groups in both syntaxes, {,n}, literal braces.
        let r = compile("(?'a'x{,2})(?<b>{y})", "").unwrap();
        let c = r.captures("xx{y}").unwrap();
        assert_eq!((&c["a"], &c["b"]), ("xx", "{y}"));
        assert_eq!(m(r"\e\0", "", "\u{1b}\0").as_deref(), Some("\u{1b}\0"));
        assert_eq!(m("AB", "i", "xab").as_deref(), Some("ab"));
        assert_eq!(m(r"\p{^Alpha}+", "", "ab12cd").as_deref(), Some("12"));
        // Word boundaries are Unicode in Ruby; \< and \> are plain characters.
        assert_eq!(m(r"\ba", "", "éa"), None);
        assert_eq!(m(r"\<a\>", "", "<a>").as_deref(), Some("<a>"));
        // \Z at the end: end of text or before a final newline, not before any newline.
        assert!(compile(r"a\Z", "").unwrap().is_match("xa\n"));
        assert!(compile(r"a\Z", "").unwrap().is_match("xa"));
        assert!(!compile(r"a\Z", "").unwrap().is_match("a\nb"));
        assert!(!compile(r"a\Z", "").unwrap().is_match("a\n\n"));
    }

    #[test]
    fn ruby_only_constructs_are_refused_with_reasons() {
        for (re, needle) in [
            ("a(?=b)", "lookahead"),
            ("a(?!b)", "lookahead"),
            ("(?<=a)b", "lookbehind"),
            ("(?<!a)b", "lookbehind"),
            (r"(a)\1", "backreference"),
            (r"(?<x>a)\k<x>", "backreference"),
            ("(?>a+)b", "atomic"),
            ("a++", "possessive"),
            ("a*+", "possessive"),
            ("a?+", "possessive"),
            (r"a\Zb", r"\Z"),
            (r"(a\Z)", r"\Z"),
            (r"\Gx", r"\G"),
            (r"a\Kb", r"\K"),
            (r"(?<x>a)\g<x>", "subexpression"),
            ("a{2}?", "optional"),
            ("(?u)a", "(?u)"),
            ("[a--b]", "set difference"),
            ("(?~abc)", "absent"),
        ] {
            let e = compile(re, "").unwrap_err();
            assert!(e.contains(needle), "{re}: {e}");
        }
    }
}
