//! Ruby's case-insensitive reading of character classes, written out.
//!
//! Under `i` Ruby's engine, Onigmo, widens a bracket expression (and `\p{…}`) by rules of its
//! own, which neither Rust's `regex` nor Oniguruma shares; so such a class is computed here as
//! the explicit set of characters Onigmo lets it match, and run case-sensitively:
//!
//! * every character of the class brings the characters of its simple case folding
//!   (`[ω]` also matches `Ω`), except those from U+0080 to U+00FF: Onigmo files them where a
//!   UTF-8 pattern never looks, so `/[éè]/i` does not match `É`, nor `/\p{Lu}/i` `é`, while
//!   `/[ÿa]/i` matches `Ÿ`;
//! * `\w`, `[[:ascii:]]`, `\p{ASCII}` (and POSIX brackets under `(?a)`) never bring the long s
//!   `ſ` or the Kelvin sign `K` through their ASCII letters: Onigmo keeps a parallel class
//!   without them, and pairs an ASCII with a non-ASCII letter only from a character that class
//!   holds too (`[\wk]` matches `K`, `[\wé]` does not; see [`onigmo_class`]);
//! * a negated class is widened before it is negated (`/[^é]/i` matches `È`, not `é`);
//! * a class that is not negated also matches, after its characters, what those of them that
//!   fold to several characters fold to, in any spelling (`[ßa]` matches `ss`, `SS`, `ſs`, `ẞ`),
//!   in Onigmo's order: two-character foldings, `i̇`, then three-character ones.
//!
//! A class of one character (`[é]`) is that character written out in Ruby, folded as text.

use regex_syntax::hir::{Class, ClassUnicode, ClassUnicodeRange, HirKind};

/// Every character whose full case folding is several characters, with that folding, as
/// Ruby 3.1 (Unicode 13) folds them: recorded with `String#downcase(:fold)`.
pub(crate) const MULTI_FOLDS: &[(char, &str)] = &[
    ('\u{DF}', "ss"),
    ('\u{130}', "i\u{307}"),
    ('\u{149}', "\u{2BC}n"),
    ('\u{1F0}', "j\u{30C}"),
    ('\u{390}', "\u{3B9}\u{308}\u{301}"),
    ('\u{3B0}', "\u{3C5}\u{308}\u{301}"),
    ('\u{587}', "\u{565}\u{582}"),
    ('\u{1E96}', "h\u{331}"),
    ('\u{1E97}', "t\u{308}"),
    ('\u{1E98}', "w\u{30A}"),
    ('\u{1E99}', "y\u{30A}"),
    ('\u{1E9A}', "a\u{2BE}"),
    ('\u{1E9E}', "ss"),
    ('\u{1F50}', "\u{3C5}\u{313}"),
    ('\u{1F52}', "\u{3C5}\u{313}\u{300}"),
    ('\u{1F54}', "\u{3C5}\u{313}\u{301}"),
    ('\u{1F56}', "\u{3C5}\u{313}\u{342}"),
    ('\u{1F80}', "\u{1F00}\u{3B9}"),
    ('\u{1F81}', "\u{1F01}\u{3B9}"),
    ('\u{1F82}', "\u{1F02}\u{3B9}"),
    ('\u{1F83}', "\u{1F03}\u{3B9}"),
    ('\u{1F84}', "\u{1F04}\u{3B9}"),
    ('\u{1F85}', "\u{1F05}\u{3B9}"),
    ('\u{1F86}', "\u{1F06}\u{3B9}"),
    ('\u{1F87}', "\u{1F07}\u{3B9}"),
    ('\u{1F88}', "\u{1F00}\u{3B9}"),
    ('\u{1F89}', "\u{1F01}\u{3B9}"),
    ('\u{1F8A}', "\u{1F02}\u{3B9}"),
    ('\u{1F8B}', "\u{1F03}\u{3B9}"),
    ('\u{1F8C}', "\u{1F04}\u{3B9}"),
    ('\u{1F8D}', "\u{1F05}\u{3B9}"),
    ('\u{1F8E}', "\u{1F06}\u{3B9}"),
    ('\u{1F8F}', "\u{1F07}\u{3B9}"),
    ('\u{1F90}', "\u{1F20}\u{3B9}"),
    ('\u{1F91}', "\u{1F21}\u{3B9}"),
    ('\u{1F92}', "\u{1F22}\u{3B9}"),
    ('\u{1F93}', "\u{1F23}\u{3B9}"),
    ('\u{1F94}', "\u{1F24}\u{3B9}"),
    ('\u{1F95}', "\u{1F25}\u{3B9}"),
    ('\u{1F96}', "\u{1F26}\u{3B9}"),
    ('\u{1F97}', "\u{1F27}\u{3B9}"),
    ('\u{1F98}', "\u{1F20}\u{3B9}"),
    ('\u{1F99}', "\u{1F21}\u{3B9}"),
    ('\u{1F9A}', "\u{1F22}\u{3B9}"),
    ('\u{1F9B}', "\u{1F23}\u{3B9}"),
    ('\u{1F9C}', "\u{1F24}\u{3B9}"),
    ('\u{1F9D}', "\u{1F25}\u{3B9}"),
    ('\u{1F9E}', "\u{1F26}\u{3B9}"),
    ('\u{1F9F}', "\u{1F27}\u{3B9}"),
    ('\u{1FA0}', "\u{1F60}\u{3B9}"),
    ('\u{1FA1}', "\u{1F61}\u{3B9}"),
    ('\u{1FA2}', "\u{1F62}\u{3B9}"),
    ('\u{1FA3}', "\u{1F63}\u{3B9}"),
    ('\u{1FA4}', "\u{1F64}\u{3B9}"),
    ('\u{1FA5}', "\u{1F65}\u{3B9}"),
    ('\u{1FA6}', "\u{1F66}\u{3B9}"),
    ('\u{1FA7}', "\u{1F67}\u{3B9}"),
    ('\u{1FA8}', "\u{1F60}\u{3B9}"),
    ('\u{1FA9}', "\u{1F61}\u{3B9}"),
    ('\u{1FAA}', "\u{1F62}\u{3B9}"),
    ('\u{1FAB}', "\u{1F63}\u{3B9}"),
    ('\u{1FAC}', "\u{1F64}\u{3B9}"),
    ('\u{1FAD}', "\u{1F65}\u{3B9}"),
    ('\u{1FAE}', "\u{1F66}\u{3B9}"),
    ('\u{1FAF}', "\u{1F67}\u{3B9}"),
    ('\u{1FB2}', "\u{1F70}\u{3B9}"),
    ('\u{1FB3}', "\u{3B1}\u{3B9}"),
    ('\u{1FB4}', "\u{3AC}\u{3B9}"),
    ('\u{1FB6}', "\u{3B1}\u{342}"),
    ('\u{1FB7}', "\u{3B1}\u{342}\u{3B9}"),
    ('\u{1FBC}', "\u{3B1}\u{3B9}"),
    ('\u{1FC2}', "\u{1F74}\u{3B9}"),
    ('\u{1FC3}', "\u{3B7}\u{3B9}"),
    ('\u{1FC4}', "\u{3AE}\u{3B9}"),
    ('\u{1FC6}', "\u{3B7}\u{342}"),
    ('\u{1FC7}', "\u{3B7}\u{342}\u{3B9}"),
    ('\u{1FCC}', "\u{3B7}\u{3B9}"),
    ('\u{1FD2}', "\u{3B9}\u{308}\u{300}"),
    ('\u{1FD3}', "\u{3B9}\u{308}\u{301}"),
    ('\u{1FD6}', "\u{3B9}\u{342}"),
    ('\u{1FD7}', "\u{3B9}\u{308}\u{342}"),
    ('\u{1FE2}', "\u{3C5}\u{308}\u{300}"),
    ('\u{1FE3}', "\u{3C5}\u{308}\u{301}"),
    ('\u{1FE4}', "\u{3C1}\u{313}"),
    ('\u{1FE6}', "\u{3C5}\u{342}"),
    ('\u{1FE7}', "\u{3C5}\u{308}\u{342}"),
    ('\u{1FF2}', "\u{1F7C}\u{3B9}"),
    ('\u{1FF3}', "\u{3C9}\u{3B9}"),
    ('\u{1FF4}', "\u{3CE}\u{3B9}"),
    ('\u{1FF6}', "\u{3C9}\u{342}"),
    ('\u{1FF7}', "\u{3C9}\u{342}\u{3B9}"),
    ('\u{1FFC}', "\u{3C9}\u{3B9}"),
    ('\u{FB00}', "ff"),
    ('\u{FB01}', "fi"),
    ('\u{FB02}', "fl"),
    ('\u{FB03}', "ffi"),
    ('\u{FB04}', "ffl"),
    ('\u{FB05}', "st"),
    ('\u{FB06}', "st"),
    ('\u{FB13}', "\u{574}\u{576}"),
    ('\u{FB14}', "\u{574}\u{565}"),
    ('\u{FB15}', "\u{574}\u{56B}"),
    ('\u{FB16}', "\u{57E}\u{576}"),
    ('\u{FB17}', "\u{574}\u{56D}"),
];

/// The most spellings written out for one folding a class brings; more are refused.
const MAX_SPELLINGS: usize = 64;

/// The several characters `c` folds to, if it folds to several.
pub(crate) fn multi_fold(c: char) -> Option<&'static str> {
    MULTI_FOLDS.iter().find(|(s, _)| *s == c).map(|(_, f)| *f)
}

/// How many characters fold to what `c` folds to, when that is one character: `c` and its
/// other cases (`s`: `s S ſ`), leaving out those that fold to several.
pub(crate) fn orbit_len(c: char) -> usize {
    let mut set = one(c);
    set.case_fold_simple();
    for &(s, _) in MULTI_FOLDS {
        set.difference(&one(s));
    }
    set.ranges()
        .iter()
        .map(|r| r.end() as usize - r.start() as usize + 1)
        .sum::<usize>()
        .max(1)
}

/// The set of characters a class in Rust syntax matches (`None` for anything but a class).
pub(crate) fn class_set(text: &str) -> Option<ClassUnicode> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(text)
        .ok()?;
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(c.clone()),
        // A class of no character (`[a&&b]`) is written as an empty byte class.
        HirKind::Class(Class::Bytes(b)) if b.ranges().is_empty() => Some(ClassUnicode::empty()),
        HirKind::Literal(l) => {
            let s = std::str::from_utf8(&l.0).ok()?;
            let mut chars = s.chars();
            let c = chars.next()?;
            chars
                .next()
                .is_none()
                .then(|| ClassUnicode::new([ClassUnicodeRange::new(c, c)]))
        }
        _ => None,
    }
}

/// The one character a class (not negated, in Rust syntax) matches, if it matches exactly one:
/// Ruby reads such a class as that character written out.
pub(crate) fn only_char(text: &str) -> Option<char> {
    match class_set(text)?.ranges() {
        [r] if r.start() == r.end() => Some(r.start()),
        _ => None,
    }
}

fn contains(set: &ClassUnicode, c: char) -> bool {
    set.ranges()
        .binary_search_by(|r| {
            if r.end() < c {
                std::cmp::Ordering::Less
            } else if r.start() > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

fn one(c: char) -> ClassUnicode {
    ClassUnicode::new([ClassUnicodeRange::new(c, c)])
}

/// The syntax a written-out class is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Syntax {
    /// Rust's `regex`.
    Rust,
    /// Ruby's, as Oniguruma reads it.
    Ruby,
}

/// A set as a class (`negated`: its complement) in `syntax`.
pub(crate) fn write_set(set: &ClassUnicode, negated: bool, syntax: Syntax) -> String {
    use std::fmt::Write as _;
    if set.ranges().is_empty() {
        return match (syntax, negated) {
            (Syntax::Rust, true) => r"[\x{0}-\x{10FFFF}]".to_string(),
            (Syntax::Rust, false) => r"[^\x{0}-\x{10FFFF}]".to_string(),
            (Syntax::Ruby, true) => "(?m:.)".to_string(),
            (Syntax::Ruby, false) => "(?!)".to_string(),
        };
    }
    let one = |c: char, out: &mut String| match syntax {
        Syntax::Rust => {
            let _ = write!(out, "\\x{{{:X}}}", c as u32);
        }
        Syntax::Ruby if c.is_ascii_alphanumeric() || !c.is_ascii() => out.push(c),
        Syntax::Ruby => {
            let _ = write!(out, "\\x{:02X}", c as u32);
        }
    };
    let mut out = String::from(if negated { "[^" } else { "[" });
    for r in set.ranges() {
        one(r.start(), &mut out);
        if r.end() != r.start() {
            out.push('-');
            one(r.end(), &mut out);
        }
    }
    out.push(']');
    out
}

/// Every spelling of the folded text `t` from position `k`: sequences of classes, each of one
/// character whose folding is the next character of `t`, or of characters whose folding is the
/// next several.
fn spellings(t: &[char], k: usize, prefix: String, all: &mut Vec<String>, syntax: Syntax) {
    if all.len() > MAX_SPELLINGS {
        return;
    }
    if k == t.len() {
        all.push(prefix);
        return;
    }
    let mut single = one(t[k]);
    single.case_fold_simple();
    let mut several = ClassUnicode::empty();
    for &(s, _) in MULTI_FOLDS {
        several.union(&one(s));
    }
    single.difference(&several);
    if !single.ranges().is_empty() {
        spellings(
            t,
            k + 1,
            format!("{prefix}{}", write_set(&single, false, syntax)),
            all,
            syntax,
        );
    }
    let mut by_len: Vec<(usize, ClassUnicode)> = Vec::new();
    for &(s, f) in MULTI_FOLDS {
        let n = f.chars().count();
        if t[k..].iter().copied().take(n).eq(f.chars()) && k + n <= t.len() {
            match by_len.iter_mut().find(|(l, _)| *l == n) {
                Some((_, set)) => set.union(&one(s)),
                None => by_len.push((n, one(s))),
            }
        }
    }
    for (n, set) in by_len {
        spellings(
            t,
            k + n,
            format!("{prefix}{}", write_set(&set, false, syntax)),
            all,
            syntax,
        );
    }
}

/// Onigmo's case-insensitive reading of a class given in Rust syntax (`negated`: written as
/// `[^…]`, or a negated shorthand), as a case-sensitive Rust expression. `asc`: the class as
/// Onigmo's parallel "ASCII-compatible" class holds it (in Rust syntax), when it differs: the
/// items `\w`, `\W`, `[[:ascii:]]`, `\p{ASCII}` and ASCII-only POSIX brackets are left out of
/// that one, and a case pairing between an ASCII and a non-ASCII character (`k`–`K`, `s`–`ſ`)
/// only widens the class from a character the parallel class holds too (`[\wk]` matches `K`,
/// `[\wé]` does not; a negated class is widened before it is negated, `/[^\wk]/i` matching `ſ`
/// but not `K`).
pub(crate) fn onigmo_class(
    text: &str,
    negated: bool,
    asc: Option<&str>,
    syntax: Syntax,
) -> Result<String, String> {
    let mut raw = class_set(text).ok_or_else(|| format!("cannot read the class {text}"))?;
    if negated {
        raw.negate();
    }
    let mut added = raw.clone();
    added.case_fold_simple();
    added.difference(&raw);
    added.difference(&ClassUnicode::new([ClassUnicodeRange::new(
        '\u{80}', '\u{FF}',
    )]));
    if let Some(asc) = asc {
        let mut parallel = class_set(asc).ok_or_else(|| format!("cannot read the class {asc}"))?;
        if negated {
            parallel.negate();
        }
        // The characters an ASCII–non-ASCII pairing reaches, each kept if a character of
        // another kind pairs with it within both classes, or one of its own kind in the class.
        for x in ['s', 'S', '\u{17F}', 'k', 'K', '\u{212A}'] {
            if !contains(&added, x) {
                continue;
            }
            let mut orbit = one(x);
            orbit.case_fold_simple();
            let kept = orbit.iter().flat_map(|r| r.start()..=r.end()).any(|y| {
                y != x
                    && contains(&raw, y)
                    && (y.is_ascii() == x.is_ascii() || contains(&parallel, y))
            });
            if !kept {
                added.difference(&one(x));
            }
        }
    }
    let mut full = raw;
    full.union(&added);
    let class = write_set(&full, negated, syntax);
    if negated {
        return Ok(format!("(?-i:{class})"));
    }
    let mut folds: Vec<&str> = MULTI_FOLDS
        .iter()
        .filter(|(s, _)| contains(&full, *s))
        .map(|(_, f)| *f)
        .collect();
    // Onigmo's order: two-character foldings, then its one locale-dependent one (i̇), then
    // three-character ones; each by the folded text.
    let rank = |f: &str| match f.chars().count() {
        2 if f == "i\u{307}" => 1,
        2 => 0,
        _ => 2,
    };
    folds.sort_by(|a, b| {
        (rank(a), a.chars().collect::<Vec<_>>()).cmp(&(rank(b), b.chars().collect()))
    });
    folds.dedup();
    if folds.is_empty() {
        return Ok(format!("(?-i:{class})"));
    }
    let mut out = format!("(?-i:{class}");
    for f in folds {
        let t: Vec<char> = f.chars().collect();
        let mut all = Vec::new();
        spellings(&t, 0, String::new(), &mut all, syntax);
        if all.len() > MAX_SPELLINGS {
            return Err(format!(
                "it would grow too large: Ruby also lets it match the spellings of {f}"
            ));
        }
        for s in all {
            out.push('|');
            out.push_str(&s);
        }
    }
    out.push(')');
    Ok(out)
}

/// A class expression in Rust syntax (as the translator writes it, run case-insensitively when
/// `fold`) as the same set of texts in Ruby syntax, for Oniguruma to run case-sensitively.
/// `None` for anything but classes, characters, sequences and alternatives of them.
pub(crate) fn rust_to_ruby(rust: &str, fold: bool) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new()
        .case_insensitive(fold)
        .build()
        .parse(rust)
        .ok()?;
    let mut out = String::from("(?-i:");
    print_ruby(&hir, &mut out)?;
    out.push(')');
    Some(out)
}

fn print_ruby(hir: &regex_syntax::hir::Hir, out: &mut String) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Class(Class::Unicode(c)) => out.push_str(&write_set(c, false, Syntax::Ruby)),
        HirKind::Literal(l) => {
            for c in std::str::from_utf8(&l.0).ok()?.chars() {
                out.push_str(&write_set(&one(c), false, Syntax::Ruby));
            }
        }
        HirKind::Concat(v) => {
            for h in v {
                print_ruby(h, out)?;
            }
        }
        HirKind::Alternation(v) => {
            out.push_str("(?:");
            for (k, h) in v.iter().enumerate() {
                if k > 0 {
                    out.push('|');
                }
                print_ruby(h, out)?;
            }
            out.push(')');
        }
        _ => return None,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(text: &str, negated: bool) -> regex::Regex {
        let t = onigmo_class(text, negated, None, Syntax::Rust).unwrap();
        regex::Regex::new(&format!("^(?i:{t})$")).unwrap()
    }

    #[test]
    fn latin1_folds_are_left_out() {
        let r = re("[éè]", false);
        assert!(r.is_match("é") && !r.is_match("É"));
        let r = re("[ÿa]", false);
        assert!(r.is_match("Ÿ") && r.is_match("A"));
        let r = re("[^é]", true);
        assert!(r.is_match("É") && !r.is_match("é"));
        let r = re("[ωa]", false);
        assert!(r.is_match("Ω"));
    }

    #[test]
    fn several_character_foldings_follow_the_class() {
        let r = re("[ßa]", false);
        for s in ["ß", "ẞ", "ss", "SS", "ſs", "a"] {
            assert!(r.is_match(s), "{s}");
        }
        assert!(!re("[^ßa]", true).is_match("ss"));
        assert_eq!(only_char("[é]"), Some('é'));
        assert_eq!(only_char("[éé]"), Some('é'));
        assert_eq!(only_char("[éè]"), None);
    }
}
