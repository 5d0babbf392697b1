//! Ruby (Onigmo) regular expressions on Rust's `regex` crate.
//!
//! The translation keeps Ruby's meaning or refuses the pattern, naming the construct and why;
//! it never compiles a pattern that would silently match differently. A refusal is one of
//! three kinds: Ruby's own syntax errors; constructs Ruby accepts that Rust's engine cannot run
//! (`… is not supported: …`, see [`needs_backtracking`]), which
//! [`crate::ruby_regexp::RubyRegex`] runs on Oniguruma instead, the pattern rewritten by
//! [`for_oniguruma`] where Onigmo's own rules differ from Oniguruma's; and the few constructs
//! whose Ruby meaning cannot be written out for either engine (`… cannot be used: …`: under `i`,
//! a string too long to write out with its spellings (a run of some 250 `s`); under `i` or
//! `(?a)`/`(?u)`, a class the translator cannot read that Oniguruma must read as written; an absent
//! operator `(?~…)` whose body is neither alternatives of fixed-length strings (one may be empty,
//! some may be anchors and look-behinds, and they may be written with optional parts) nor
//! anchors (see `absent`); under `i`, a class with
//! several-letter foldings in a look-behind next to other items), which stay refused. A string with ligature spellings inside a look-behind under `i` is read as
//! meant, not as Onigmo reads it (every spelling of its whole folding: see [`for_oniguruma`]).
//! The
//! pattern is parsed as Ruby parses it, checked, and written out in Rust syntax:
//!
//! * `^`/`$` are line anchors in Ruby: the caller runs Rust's multi-line mode. Ruby's `^` does
//!   not match at the very end of a text that ends with a newline, Rust's does; that only shows
//!   when what follows `^` can match the empty string there, and such a `^` is refused, except
//!   at the start of a pattern whose rest always matches (`^(?<message>.*)$`): the match is then
//!   at the start of the text in both.
//! * Ruby's `m` flag (`.` matches a newline) and `x` flag (ASCII white space, not `\v`, and `#`
//!   comments ignored, but not inside brackets; Oniguruma gets other white space escaped) are
//!   applied here, in `/…/m` and in inline groups (`(?m:…)`, `(?x)`).
//!   An option without a group (`a(?i)b|c`) covers the rest of its group, alternatives included
//!   (Ruby reads that as `a(?i:b|c)`).
//! * `\d \w \s \h` (and negations) are ASCII-only in Ruby: written out as ASCII classes.
//!   POSIX brackets (`[[:alpha:]]`) are Unicode in Ruby: written out with Unicode properties.
//!   Under `(?u)` `\d \s \w` are Unicode too (as `[[:digit:]]` …; outside brackets `\w` also
//!   holds `² ³ ¹ ¼ ½ ¾`, and `i` adds nothing to them); under `(?a)` POSIX brackets
//!   and `\b` are ASCII; `(?d)` is the default. `\p{…}` is Unicode under all three.
//! * `i`: Ruby folds case fully, so `/strasse/i` matches `Straße` and `/file/i` matches `ﬁle`:
//!   runs of letters are written out with those spellings too (ß ẞ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ), in the pieces
//!   Onigmo reads a string in (`/ßs/i` matches `sß`, `/sß/i` does not match `ßs`; see
//!   [`string_fold`]). Onigmo's own
//!   rules are written out too (see [`crate::ruby_regexp::fold`]): a bracket class of several
//!   characters, and `\p{…}`, become the explicit set Onigmo lets them match (folds into
//!   U+0080–U+00FF are lost: `/[éè]/i` does not match `É`, `/\p{Lu}/i` not `é`), followed,
//!   unless negated, by the spellings of the several-character foldings of their characters
//!   (`/[[:alpha:]]/i` matches `st` as one character); `\w` takes no `ſ` or `K`; a class of one
//!   character is that character starting a string (`[s]s` matches `ß`, `s[s]` does not); a
//!   letter repeated at least twice is the letter written out that many times, then the rest
//!   repeated (`s{2}` matches `ß`, `s{1,2}` does not). `\w`/`[[:ascii:]]` mixed with other
//!   items take no `ſ` or `K` through their own letters (`[\wk]` matches `K`, `[\wé]` does not),
//!   and the Unicode blocks case folding changes are written out as their ranges and widened
//!   alike (`/\p{In_Basic_Latin}/i` matches `K`). Left to Oniguruma: other letters that fold to
//!   several characters (Greek with iota, `İ`, `ŉ` …), and Unicode blocks that case folding
//!   leaves alone.
//! * Inside brackets, an empty side of `&&` is the empty set (`[a&&]` matches nothing), `\cX` and
//!   `\C-X` are control characters, `\1`–`\7` start octal codes, and escapes that are no escape
//!   there are the characters (`[\R\k\G]`, `\p` without braces), as Ruby reads them.
//! * A repeated group that can match the empty string and holds a capture group is refused: Ruby
//!   records one more, empty, iteration (`(a?)*` on `aa` captures `""`), Rust's engine does not.
//!   So is a capture group repeated zero times (`(a){0}`), which Rust drops.
//! * For both engines, a capture group that may match the empty string beside items that may
//!   match text, in a group that may match the empty string repeated a varying count
//!   (`(?:(a?)b?)*c`), is refused ([`stale_captures`]): Onigmo tells an empty iteration by the
//!   group's value from before it, which neither engine follows.
//! * Escapes of non-ASCII characters (`\u00DF`, `\xC3\x9F`, `\303\237`) are replaced by the
//!   characters before the pattern is read, as Ruby does, so under `i` they are read as the
//!   characters written out (see [`crate::ruby_regexp::escapes`]); an escaped ASCII letter stays a
//!   string of its own (`/\x73s/i` does not match `ß`).
//! * `(?'name'…)` becomes `(?<name>…)`; `\e`, `\a`, octal `\0nn`, `\xHH` (UTF-8 byte sequences
//!   like `\xC3\xA9` included), `\uHHHH` and `\u{H H}` become the characters; `{,n}` becomes
//!   `{0,n}`; a `{` that does not start a repetition is a literal.
//! * A comment group is skipped as Ruby's reader skips it: a quantifier after it repeats what came
//!   before (`a(?#c)+` is `a+`), and `\)` does not end it.
//! * A repetition whose first choice can be the empty string (`(?:b?|a)*`) ends at an empty
//!   iteration in Ruby, where Rust's engine tries the other choices: left to Oniguruma.
//! * Left to Oniguruma: lookahead/lookbehind, backreferences (`\1`, `\k<n>`), subexpression
//!   calls (`\g<n>`), atomic groups `(?>…)`, possessive quantifiers (`a*+`), absent operator
//!   (see [`for_oniguruma`]), conditionals, `\Z` anywhere but at the end of the pattern, `\G`, `\K`, `\R`, `\X`,
//!   `x{n}?` (optional in Ruby, lazy in Rust), a repetition of a repetition (`x{2}{3}`), a
//!   repeated anchor (`\b*`, which [`for_oniguruma`] writes out as Ruby reads it), `\pL`
//!   without braces, and escapes Ruby reads as the bare letter (`\U`; `\y` and `\Y`, which
//!   Oniguruma reads as text-segment boundaries, are written as the letters for both engines).
//!
//! `\Z` at the end of the pattern becomes `(?<_lfZ_>\n?)\z`, a group of the translation's own
//! whose start is the whole match's end ([`END_Z_GROUP`]).
//!
//! One difference cannot be written out and is documented instead: `\b`/`\B` take their word
//! characters from Rust, which counts
//! U+200C/U+200D as word characters and `² ³ ¹ ¼ ½ ¾` not, where Ruby does the reverse. Both
//! engines also carry their own Unicode version, so characters assigned since Ruby's version
//! may be classified differently. And where Onigmo's search shortcuts miss a match Ruby's own
//! rules allow (`/k\z/i` misses the Kelvin sign; `/$.*\n/` on `"abc\n\n"` misses the match at
//! the first newline), logferry finds it.
//!
//! Rust's engine runs in time linear in the input, so no pattern it takes can hang a parser.

use std::fmt::Write as _;

use regex::Regex;

use crate::ruby_regexp::string_fold::{self, ascii_fold, lit};
use crate::ruby_regexp::{escapes, fold};

mod absent;
mod anychar;
use anychar::OpenAheadTries;
mod behind_split;
mod conditional;
mod counted;
mod stale;

/// What the unit tests of the rewrites compare with Ruby.
#[cfg(test)]
pub(crate) mod test_support {
    /// A match's span, in bytes.
    pub type Span = (usize, usize);

    /// The whole match and group 1 of `re` on `text` on Oniguruma (the engine the rewrites
    /// write for), as Ruby 3.1 gives them.
    pub fn ruby(re: &str, text: &str) -> Option<(Span, Option<Span>)> {
        let r = crate::ruby_regexp::compile(re, "").unwrap();
        assert_eq!(r.engine(), "oniguruma", "{re}");
        let c = r.captures_at(text, 0)?;
        Some((c.whole(), r.numbered().first().and_then(|&g| c.get(g))))
    }
}

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

/// Unicode class bodies for Ruby's POSIX brackets (and `\p{Alpha}` …), as Onigmo defines them.
fn posix(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => r"\p{Alphabetic}",
        "digit" => r"\p{Nd}",
        "alnum" => r"\p{Alphabetic}\p{Nd}",
        "upper" => r"\p{Uppercase}",
        "lower" => r"\p{Lowercase}",
        "space" => r"\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}",
        "blank" => r"\p{Zs}\t",
        "xdigit" => r"0-9A-Fa-f",
        "word" => r"\p{Alphabetic}\p{M}\p{Nd}\p{Pc}",
        "punct" => r"\p{P}$+<=>^`|~",
        "cntrl" => r"\p{Cc}",
        "ascii" => r"\x00-\x7F",
        "graph" => r"^\p{Zs}\p{Zl}\p{Zp}\t\n\x0B\x0C\r\x{85}\p{Cc}\p{Cn}",
        "print" => r"^\t\n\x0B\x0C\r\x{85}\p{Zl}\p{Zp}\p{Cc}\p{Cn}",
        _ => return None,
    })
}

/// `\d \w \s` (or a negation) outside brackets under `(?u)`, in Rust syntax: Unicode, as the POSIX
/// brackets of the same names, but `\w` also holds `² ³ ¹ ¼ ½ ¾` (which `(?u)[\w]` does not);
/// case folding adds nothing to them, not even spellings (`/\A(?u)\w\z/i` does not match `ss`),
/// so they run case-sensitively (recorded from Ruby 3.1).
fn unicode_shorthand(e: char) -> Option<String> {
    let (name, extra) = match e.to_ascii_lowercase() {
        'd' => ("digit", ""),
        'w' => ("word", r"\x{B2}\x{B3}\x{B9}\x{BC}-\x{BE}"),
        's' => ("space", ""),
        _ => return None,
    };
    let body = format!("{}{extra}", posix(name)?);
    Some(format!(
        "(?-i:{})",
        posix_class(&body, e.is_ascii_uppercase())
    ))
}

/// The characters that stand for the bytes from 0x80 up of a binary string while it is matched
/// (logferry-plugins' `bytemap`: in_tail, tcp, udp and syslog read bytes, as Fluentd does), as a
/// class body range. Ruby's `[[:print:]]` and `[[:graph:]]` take no such byte, where Unicode
/// counts these private-use characters as printable: the POSIX brackets leave them out.
const BYTE_STAND_INS: &str = r"\x{10FF80}-\x{10FFFF}";

/// ASCII class bodies for Ruby's POSIX brackets under `(?a)`.
fn ascii_posix(name: &str) -> Option<&'static str> {
    Some(match name {
        "alpha" => "a-zA-Z",
        "digit" => "0-9",
        "alnum" => "0-9a-zA-Z",
        "upper" => "A-Z",
        "lower" => "a-z",
        "space" => r"\t\n\x0B\x0C\r\x20",
        "blank" => r"\t\x20",
        "xdigit" => "0-9A-Fa-f",
        "word" => "0-9a-zA-Z_",
        "punct" => r"!-/:-@\[-`\{-~",
        "cntrl" => r"\x00-\x1F\x7F",
        "ascii" => r"\x00-\x7F",
        "graph" => "!-~",
        "print" => r"\x20-~",
        _ => return None,
    })
}

/// Property names (lower case, without `_`, `-`, spaces) whose class case folding leaves alone,
/// so that Ruby's and Rust's case-insensitive readings agree. Others are refused under `i`.
const FOLD_CLOSED: &[&str] = &[
    "alpha",
    "alphabetic",
    "digit",
    "alnum",
    "word",
    "punct",
    "cntrl",
    "graph",
    "print",
    "space",
    "blank",
    "xdigit",
    "any",
    "n",
    "number",
    "nd",
    "decimalnumber",
    "p",
    "punctuation",
    "s",
    "symbol",
    "z",
    "separator",
    "c",
    "other",
    "cc",
    "control",
    "lo",
    "otherletter",
    "han",
    "hiragana",
    "katakana",
    "latin",
    "cyrillic",
    "armenian",
];

/// Unicode blocks that case folding changes (a letter whose other case lies outside the block,
/// or that folds to several), with their ranges in Ruby 3.1 (Unicode 13; recorded by matching
/// every code point): their case-insensitive reading is Onigmo's own (`/\p{In_Basic_Latin}/i`
/// matches the Kelvin sign, `/\p{InLatinExtendedA}/i` not `ÿ`), which Oniguruma does not share,
/// so they are written out as their ranges (for both engines; Rust's has no blocks) and widened
/// like any class (see [`fold::onigmo_class`]). The blocks folding leaves alone run on Oniguruma,
/// which reads them alike.
const ONIGMO_FOLDED_BLOCKS: &[(&str, char, char)] = &[
    ("inarmenian", '\u{530}', '\u{58F}'),
    ("incherokee", '\u{13A0}', '\u{13FF}'),
    ("inipaextensions", '\u{250}', '\u{2AF}'),
    ("incyrillic", '\u{400}', '\u{4FF}'),
    ("inlatinextendeda", '\u{100}', '\u{17F}'),
    ("inlatinextendede", '\u{AB30}', '\u{AB6F}'),
    ("inlatinextendedc", '\u{2C60}', '\u{2C7F}'),
    ("incyrillicextendedc", '\u{1C80}', '\u{1C8F}'),
    ("ingeorgian", '\u{10A0}', '\u{10FF}'),
    ("incherokeesupplement", '\u{AB70}', '\u{ABBF}'),
    ("inlatinextendedadditional", '\u{1E00}', '\u{1EFF}'),
    ("ingreekandcoptic", '\u{370}', '\u{3FF}'),
    ("ingreekextended", '\u{1F00}', '\u{1FFF}'),
    ("inbasiclatin", '\u{0}', '\u{7F}'),
    ("inlatinextendedd", '\u{A720}', '\u{A7FF}'),
    ("ingeorgiansupplement", '\u{2D00}', '\u{2D2F}'),
    ("inphoneticextensions", '\u{1D00}', '\u{1D7F}'),
    ("inphoneticextensionssupplement", '\u{1D80}', '\u{1DBF}'),
    ("incombiningdiacriticalmarks", '\u{300}', '\u{36F}'),
    ("ingeorgianextended", '\u{1C90}', '\u{1CBF}'),
    ("incyrillicextendedb", '\u{A640}', '\u{A69F}'),
    ("inlatin1supplement", '\u{80}', '\u{FF}'),
    ("inletterlikesymbols", '\u{2100}', '\u{214F}'),
    ("inalphabeticpresentationforms", '\u{FB00}', '\u{FB4F}'),
    ("inlatinextendedb", '\u{180}', '\u{24F}'),
];

/// The values `\p{Grapheme_Cluster_Break=…}` takes in Ruby 3.1 (as keys).
const RUBY_GCB: &[&str] = &[
    "cr",
    "control",
    "extend",
    "l",
    "lf",
    "lv",
    "lvt",
    "prepend",
    "regionalindicator",
    "spacingmark",
    "t",
    "v",
    "zwj",
];

/// The Unicode versions `\p{Age=…}` takes in Ruby 3.1.
const RUBY_AGES: &[&str] = &[
    "1.1", "2.0", "2.1", "3.0", "3.1", "3.2", "4.0", "4.1", "5.0", "5.1", "5.2", "6.0", "6.1",
    "6.2", "6.3", "7.0", "8.0", "9.0", "10.0", "11.0", "12.0", "12.1", "13.0",
];

/// Property names (as keys: lower case, without `_`, `-`, spaces) that Oniguruma and Rust may
/// know but Ruby 3.1 refuses (scripts and blocks of later Unicode versions, and a few of
/// Oniguruma's own): recorded by trying each of Oniguruma's names in Ruby.
const NOT_IN_RUBY: &[&str] = &[
    "cpmn",
    "cyprominoan",
    "gara",
    "garay",
    "gukh",
    "gurungkhema",
    "idcompatmathcontinue",
    "idcompatmathstart",
    "idsu",
    "idsunaryoperator",
    "inarabicextendedb",
    "inarabicextendedc",
    "incb",
    "incjkunifiedideographsextensionh",
    "incjkunifiedideographsextensioni",
    "incyprominoan",
    "incyrillicextendedd",
    "indevanagariextendeda",
    "inegyptianhieroglyphsextendeda",
    "inethiopicextendedb",
    "ingaray",
    "ingurungkhema",
    "inkaktoviknumerals",
    "inkanaextendedb",
    "inkawi",
    "inkiratrai",
    "inlatinextendedf",
    "inlatinextendedg",
    "inmyanmarextendedc",
    "innagmundari",
    "inolduyghur",
    "inolonal",
    "insunuwar",
    "insymbolsforlegacycomputingsupplement",
    "intangsa",
    "intodhri",
    "intoto",
    "intulutigalari",
    "inunifiedcanadianaboriginalsyllabicsextendeda",
    "invithkuqi",
    "inznamennymusicalnotation",
    "kawi",
    "kiratrai",
    "krai",
    "mcm",
    "modifiercombiningmark",
    "nagm",
    "nagmundari",
    "newline",
    "olduyghur",
    "olonal",
    "onao",
    "ougr",
    "posixpunct",
    "sunu",
    "sunuwar",
    "tangsa",
    "tnsa",
    "todhri",
    "todr",
    "toto",
    "tulutigalari",
    "tutg",
    "vith",
    "vithkuqi",
];

/// Characters whose full case folding is several ASCII letters (ß ẞ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ), with it.
fn fold_to_ascii() -> impl Iterator<Item = &'static (char, &'static str)> {
    fold::MULTI_FOLDS.iter().filter(|(_, f)| f.is_ascii())
}

/// Does `c` take part in a non-ASCII case folding to several characters (as the folded
/// character, or as a character of such a folding)? Ruby matches those spellings; under `i`
/// they are left to Oniguruma. (The ligatures that fold to ASCII letters, ß ẞ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ,
/// are written out: see [`string_fold`].)
fn other_multi_fold(c: char) -> bool {
    // U+0345 and U+1FBE fold to ι, which is part of the Greek foldings.
    let source = (multi_fold_source(c) && !fold_to_ascii().any(|(s, _)| *s == c))
        || matches!(c, '\u{345}' | '\u{1FBE}');
    let part = |c: char| {
        matches!(c,
            '\u{2BC}' | '\u{2BE}' | '\u{300}' | '\u{301}' | '\u{307}' | '\u{308}' | '\u{30A}'
            | '\u{30C}' | '\u{313}' | '\u{331}' | '\u{342}' | '\u{3AC}' | '\u{3AE}' | '\u{3B1}'
            | '\u{3B7}' | '\u{3B9}' | '\u{3C1}' | '\u{3C5}' | '\u{3C9}' | '\u{3CE}' | '\u{565}'
            | '\u{56B}' | '\u{56D}' | '\u{574}' | '\u{576}' | '\u{57E}' | '\u{582}'
            | '\u{1F00}'..='\u{1F07}' | '\u{1F20}'..='\u{1F27}' | '\u{1F60}'..='\u{1F67}'
            | '\u{1F70}' | '\u{1F74}' | '\u{1F7C}')
    };
    source || part(c) || c.to_lowercase().any(part)
}

/// Is `c` a character whose full case folding is several characters (Unicode's `F` foldings)?
fn multi_fold_source(c: char) -> bool {
    fold::multi_fold(c).is_some()
}

/// Could a counted repetition of `c` under `i` join a several-character spelling? (Ruby writes
/// `s{2}` out as the string `ss`, which matches `ß`.)
fn joins_fold(c: char) -> bool {
    matches!(ascii_fold(c), Some('s' | 't' | 'f' | 'i' | 'l'))
        || fold_to_ascii().any(|(s, _)| *s == c)
        || other_multi_fold(c)
}

/// A construct Ruby accepts that Rust's engine cannot run with Ruby's meaning (the caller may
/// run the pattern on Oniguruma instead: see [`needs_backtracking`]).
fn unsupported(what: &str, why: &str) -> String {
    format!("{what} is not supported: {why}")
}

/// A construct Ruby accepts whose meaning in Ruby follows rules of Onigmo's own, which neither
/// Rust's engine nor Oniguruma reproduces: refused.
fn unlike_ruby(what: &str, why: &str) -> String {
    format!("{what} cannot be used: {why}")
}

/// Is this translation error one that Oniguruma, in its Ruby syntax, runs with Ruby's meaning?
/// (Not for Ruby's own syntax errors, nor for [`unlike_ruby`] constructs.)
pub fn needs_backtracking(error: &str) -> bool {
    error.contains(" is not supported: ")
}

/// A class of no character, in Rust syntax (inside brackets or out).
const NO_CHARACTER: &str = r"[^\x{0}-\x{10FFFF}]";

const NO_LOOK: &str = "Rust's regex engine (linear time, no backtracking) cannot look around";

#[derive(Clone, Copy, Debug)]
struct Flags {
    i: bool,
    m: bool,
    x: bool,
    /// Ruby's character-set option: `(?d)` (the default), `(?u)` or `(?a)`.
    cs: Charset,
}

/// What `\d \s \w`, POSIX brackets and `\b` mean, by Ruby's options `(?d)`, `(?u)`, `(?a)`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Charset {
    /// `\d \s \w` ASCII; POSIX brackets and `\b` Unicode.
    Default,
    /// All Unicode.
    Unicode,
    /// All ASCII (`\p{…}` stays Unicode).
    Ascii,
}

#[derive(Debug)]
enum Look {
    Bol,
    Eol,
    Start,
    End,
    EndZ,
    Word,
    NotWord,
    /// `\b` and `\B` under `(?a)`: ASCII word characters.
    AsciiWord,
    AsciiNotWord,
}

#[derive(Debug)]
enum Kind {
    Capture(Option<String>),
    NonCapture,
    /// An option group; the flag is case-insensitivity inside (`m` and `x` are applied while
    /// parsing).
    Options(bool),
}

/// A parsed Ruby pattern.
#[derive(Debug)]
enum Node {
    /// One literal character; `plain`: written as itself (Ruby joins such characters into one
    /// string, matched with full case folding under `i`); `fold`: under `i`.
    Lit {
        c: char,
        plain: bool,
        fold: bool,
    },
    /// `.`; `m`: it matches a newline.
    Dot {
        m: bool,
    },
    /// A character class (also `\w`, `\p{…}` outside brackets), in Rust syntax.
    Class(String),
    Look(Look),
    Group {
        kind: Kind,
        body: Box<Node>,
    },
    Concat(Vec<Node>),
    Alt(Vec<Node>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
        lazy: bool,
    },
}

/// What a bracket expression holds, for the case-insensitive rules.
#[derive(Clone, Default)]
struct ClassInfo {
    /// A non-ASCII literal character or range.
    non_ascii: bool,
    /// An ASCII letter as a literal character or in a range.
    letters: bool,
    /// `\w`, `\W` or `[[:ascii:]]`: never folded to `ſ`/`K` by Ruby.
    ascii_word: bool,
    /// The class as Onigmo's parallel "ASCII-compatible" class holds it, without the `\w`,
    /// `[[:ascii:]]` … items, when that differs (see [`fold::onigmo_class`]); not merged by
    /// [`ClassInfo::add`].
    asc: Option<String>,
    /// A class case folding would change (`[[:upper:]]`, `\p{Lu}`), by name.
    open: Option<String>,
    /// A property Oniguruma does not know (`\p{Age=6.0}`, `\p{XPosixPunct}`).
    rust_only: bool,
}

impl ClassInfo {
    fn add(&mut self, o: &ClassInfo) {
        self.non_ascii |= o.non_ascii;
        self.letters |= o.letters;
        self.ascii_word |= o.ascii_word;
        self.rust_only |= o.rust_only;
        if self.open.is_none() {
            self.open.clone_from(&o.open);
        }
    }

    fn range(a: char, b: char) -> ClassInfo {
        ClassInfo {
            non_ascii: !b.is_ascii(),
            letters: (a <= 'Z' && b >= 'A') || (a <= 'z' && b >= 'a'),
            ..ClassInfo::default()
        }
    }
}

/// A class as Rust text, with Ruby's case-insensitive rules applied. `negated`: a bracket
/// expression negated as a whole (`[^…]`), or a shorthand such as `\S`.
fn finish_class(
    text: String,
    info: &ClassInfo,
    fold: bool,
    negated: bool,
) -> Result<String, String> {
    if !fold {
        return Ok(text);
    }
    // Under `i` Ruby lets a class that holds ß, a ligature or another letter that folds to
    // several also match what it folds to: /[[:alpha:]]/i matches "st" whole.
    let holds_multi = || {
        let re = Regex::new(&text).ok()?;
        fold::MULTI_FOLDS
            .iter()
            .find(|(c, _)| re.is_match(c.encode_utf8(&mut [0; 4])))
    };
    if info.non_ascii || info.open.is_some() || (!negated && holds_multi().is_some()) {
        // Onigmo widens such a class by rules of its own: written out as the characters it
        // lets the class match (see `ruby_regexp::fold`).
        if fold::class_set(&text).is_none() {
            // A Unicode block folding leaves alone: Oniguruma folds it as Onigmo does.
            return Err(unsupported(
                &format!("the Unicode block in {text}"),
                "Rust's regex engine has no block properties",
            ));
        }
        let asc = info
            .ascii_word
            .then(|| info.asc.as_deref().unwrap_or(NO_CHARACTER));
        return fold::onigmo_class(&text, negated, asc, fold::Syntax::Rust).map_err(|e| {
            unlike_ruby(
                &format!("the character class {text} under case-insensitive matching"),
                &format!("{e}; use (?-i:…) and list the cases"),
            )
        });
    }
    if info.ascii_word {
        let parallel_differs = info.asc.as_deref().is_some_and(|a| a != NO_CHARACTER);
        if info.letters || parallel_differs {
            // `[\wk]`: the letters bring `ſ`/`K`, `\w`'s do not (nor `[[^\W]\w]`'s: Onigmo's
            // parallel class holds all of `[^\W]`).
            let asc = info.asc.as_deref().unwrap_or(NO_CHARACTER);
            return fold::onigmo_class(&text, negated, Some(asc), fold::Syntax::Rust).map_err(
                |e| {
                    unlike_ruby(
                        &format!("the character class {text} under case-insensitive matching"),
                        &format!("{e}; use (?-i:…) and list the cases"),
                    )
                },
            );
        }
        return Ok(format!("(?-i:{text})"));
    }
    Ok(text)
}

/// One element of a bracket expression.
enum ClassAtom {
    Char(char),
    /// Several characters (`\u{41 42}`), a shorthand, a POSIX bracket, a property or a nested
    /// class, in Rust class syntax.
    Set(String, ClassInfo),
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    /// The flags of the bracket expression being read.
    class_flags: Flags,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    /// Ruby's `x` flag: skip white space and `#` comments (outside brackets).
    fn skip_extended(&mut self) {
        while let Some(c) = self.peek() {
            if c == '#' {
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == '\n' {
                        break;
                    }
                }
            } else if c.is_ascii_whitespace() {
                // Ruby's `x` skips only `\t \n \f \r` and space (not `\v`, U+0085, U+3000 …).
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn alt(&mut self, f: Flags) -> Result<Node, String> {
        let mut alts = vec![self.concat(f)?];
        while self.eat('|') {
            alts.push(self.concat(f)?);
        }
        Ok(if alts.len() == 1 {
            alts.remove(0)
        } else {
            Node::Alt(alts)
        })
    }

    fn concat(&mut self, f: Flags) -> Result<Node, String> {
        let mut items = Vec::new();
        loop {
            if f.x {
                self.skip_extended();
            }
            if matches!(self.peek(), None | Some('|' | ')')) {
                break;
            }
            let (mut atoms, rest_of_group) = self.atom(f)?;
            if rest_of_group {
                items.append(&mut atoms);
                break;
            }
            if let Some(last) = atoms.pop() {
                items.append(&mut atoms);
                items.push(self.quantifiers(last, f)?);
            }
        }
        Ok(Node::Concat(items))
    }

    /// A repetition at the current position: (min, max, length, counted with braces, comma).
    #[allow(clippy::type_complexity)]
    fn quantifier(&self) -> Result<Option<(u32, Option<u32>, usize, bool, bool)>, String> {
        Ok(match self.peek() {
            Some('*') => Some((0, None, 1, false, false)),
            Some('+') => Some((1, None, 1, false, false)),
            Some('?') => Some((0, Some(1), 1, false, false)),
            Some('{') => {
                let Some(len) = self.s[self.i..].iter().take(24).position(|&c| c == '}') else {
                    return Ok(None);
                };
                let inner: String = self.s[self.i + 1..self.i + len].iter().collect();
                let (a, b) = inner.split_once(',').unwrap_or((&inner, &inner));
                let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
                if !digits(a) || !digits(b) || (a.is_empty() && b.is_empty()) {
                    return Ok(None);
                }
                let num = |x: &str| -> Result<Option<u32>, String> {
                    if x.is_empty() {
                        return Ok(None);
                    }
                    match x.parse::<u32>() {
                        Ok(n) if n <= 100_000 => Ok(Some(n)),
                        _ => Err("too big number for repeat range (Ruby's limit is 100000)".into()),
                    }
                };
                let min = num(a)?.unwrap_or(0);
                let max = num(b)?;
                if max.is_some_and(|m| m < min) {
                    return Err("upper is smaller than lower in repeat range".into());
                }
                Some((min, max, len + 1, true, inner.contains(',')))
            }
            _ => None,
        })
    }

    fn quantifiers(&mut self, mut node: Node, f: Flags) -> Result<Node, String> {
        let mut repeated = false;
        loop {
            // Ruby's reader skips comments: `a(?#c)+` is `a+`.
            loop {
                if f.x {
                    self.skip_extended();
                }
                if self.s.get(self.i..self.i + 3) != Some(&['(', '?', '#'][..]) {
                    break;
                }
                let Some(end) = comment_end(&self.s, self.i) else {
                    break;
                };
                self.i = end;
            }
            let Some((min, max, len, counted, comma)) = self.quantifier()? else {
                break;
            };
            let text: String = self.s[self.i..self.i + len].iter().collect();
            if matches!(node, Node::Look(_)) {
                return Err(unsupported(
                    &format!("a repeated anchor (…{text})"),
                    "write the anchor once, or in a group with what it anchors",
                ));
            }
            if repeated {
                return Err(unsupported(
                    &format!("a repetition of a repetition (…{text})"),
                    "write a group around the inner one, as in (?:x{2}){3}",
                ));
            }
            self.i += len;
            let mut lazy = false;
            match self.peek() {
                Some('?') if counted && !comma => {
                    return Err(unsupported(
                        &format!("{text}?"),
                        "in Ruby it makes the repetition optional, in Rust it would be a lazy \
                         repetition; write (?:x{n})?",
                    ))
                }
                Some('?') => {
                    lazy = true;
                    self.i += 1;
                }
                Some('+') if counted => {
                    return Err(unsupported(
                        &format!("{text}+"),
                        "Ruby repeats the repetition here; Rust's regex syntax has no such form; \
                         use a group (?:x{n,m})+",
                    ))
                }
                Some('+') => {
                    return Err(unsupported(
                        &format!("the possessive quantifier {text}+"),
                        "Rust's regex engine does not backtrack, so it cannot express Ruby's \
                         possessive quantifiers",
                    ))
                }
                _ => {}
            }
            node = Node::Repeat {
                node: Box::new(node),
                min,
                max,
                lazy,
            };
            repeated = true;
        }
        Ok(node)
    }

    /// One atom (several for `\u{41 42}`, none for a comment group); `true`: an option without a
    /// group, whose node covers the rest of the enclosing group.
    fn atom(&mut self, f: Flags) -> Result<(Vec<Node>, bool), String> {
        let c = self.peek().ok_or("unexpected end of pattern")?;
        self.i += 1;
        let one = |n| Ok((vec![n], false));
        match c {
            '(' => self.group(f),
            '[' => {
                self.class_flags = f;
                let (text, info, neg) = self.class_set()?;
                if f.i && !neg {
                    if let Some(c) = fold::only_char(&text) {
                        // Ruby reads a class of one character as that character written out,
                        // starting a new string (folded as text: `[s]s` matches `ß`, `s[s]`
                        // does not); the empty node ends the string before it.
                        let lit = Node::Lit {
                            c,
                            plain: true,
                            fold: true,
                        };
                        return Ok((vec![Node::Concat(Vec::new()), lit], false));
                    }
                }
                one(Node::Class(finish_class(text, &info, f.i, neg)?))
            }
            '.' => one(Node::Dot { m: f.m }),
            '^' => one(Node::Look(Look::Bol)),
            '$' => one(Node::Look(Look::Eol)),
            '\\' => Ok((self.escape(f)?, false)),
            '*' | '+' | '?' => Err(format!("target of repeat operator {c} is not specified")),
            '{' => {
                self.i -= 1;
                if self.quantifier()?.is_some() {
                    return Err("target of repeat operator { is not specified".into());
                }
                self.i += 1;
                one(Node::Lit {
                    c,
                    plain: true,
                    fold: f.i,
                })
            }
            c => one(Node::Lit {
                c,
                plain: true,
                fold: f.i,
            }),
        }
    }

    fn group_body(&mut self, f: Flags, kind: Kind) -> Result<(Vec<Node>, bool), String> {
        self.depth += 1;
        let body = self.alt(f)?;
        if !self.eat(')') {
            return Err("end pattern with unmatched parenthesis".into());
        }
        self.depth -= 1;
        let body = Box::new(body);
        Ok((vec![Node::Group { kind, body }], false))
    }

    /// After `(`.
    fn group(&mut self, f: Flags) -> Result<(Vec<Node>, bool), String> {
        if !self.eat('?') {
            return self.group_body(f, Kind::Capture(None));
        }
        let next = self.peek();
        match (next, self.peek_at(1)) {
            (Some('#'), _) => {
                // Comment group: dropped (a backslash escapes the next character, `)` too).
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if c == '\\' {
                        self.i += 1;
                    } else if c == ')' {
                        return Ok((Vec::new(), false));
                    }
                }
                Err("end pattern in group".into())
            }
            (Some(':'), _) => {
                self.i += 1;
                self.group_body(f, Kind::NonCapture)
            }
            (Some('=' | '!'), _) | (Some('<'), Some('=' | '!')) => {
                let what = if next == Some('<') {
                    "lookbehind (?<=…)/(?<!…)"
                } else {
                    "lookahead (?=…)/(?!…)"
                };
                Err(unsupported(what, NO_LOOK))
            }
            (Some('>'), _) => Err(unsupported(
                "the atomic group (?>…)",
                "Rust's regex engine does not backtrack, so it cannot express Ruby's no-backtrack \
                 groups",
            )),
            (Some('~'), _) => Err(unsupported(
                "the absent operator (?~…)",
                "Rust's regex engine has no such operator",
            )),
            (Some('('), _) => Err(unsupported(
                "the conditional group (?(cond)…)",
                "Rust's regex engine has no conditionals",
            )),
            (Some('P'), _) => Err(unsupported(
                "(?P…)",
                "it is not Ruby syntax (Ruby names groups with (?<name>…))",
            )),
            (Some(open @ ('<' | '\'')), _) => {
                let close = if open == '<' { '>' } else { '\'' };
                self.i += 1;
                let start = self.i;
                while self.peek().is_some_and(|c| c != close) {
                    self.i += 1;
                }
                if self.peek().is_none() {
                    return Err("unterminated group name".into());
                }
                let name: String = self.s[start..self.i].iter().collect();
                self.i += 1;
                if name.is_empty() {
                    return Err("group name is empty".into());
                }
                self.group_body(f, Kind::Capture(Some(name)))
            }
            _ => {
                // Options: (?imx-imx) or (?imx-imx:…).
                let mut g = f;
                let mut on = true;
                loop {
                    match self.peek() {
                        Some('i') => g.i = on,
                        Some('m') => g.m = on,
                        Some('x') => g.x = on,
                        Some('-') if on => on = false,
                        Some(':') => {
                            self.i += 1;
                            return self.group_body(g, Kind::Options(g.i));
                        }
                        Some(')') if self.s[self.i - 1] == '?' => {
                            return Err("undefined group option: (?)".into())
                        }
                        Some(')') => {
                            // No group: the options cover the rest of the enclosing group.
                            self.i += 1;
                            let body = Box::new(self.alt(g)?);
                            let kind = Kind::Options(g.i);
                            return Ok((vec![Node::Group { kind, body }], true));
                        }
                        Some('a') if on => g.cs = Charset::Ascii,
                        Some('u') if on => g.cs = Charset::Unicode,
                        Some('d') if on => g.cs = Charset::Default,
                        Some(o) => return Err(format!("undefined group option '{o}'")),
                        None => return Err("end pattern in group".into()),
                    }
                    self.i += 1;
                }
            }
        }
    }

    /// `\p{Name}`, `\p{^Name}`, `\P{Name}` (after the `p`/`P`), as a class body item.
    fn property(&mut self, e: char) -> Result<(String, ClassInfo, bool), String> {
        let bad = || {
            unsupported(
                &format!("\\{e} without braces"),
                &format!("Ruby reads it as the letters; write \\{e}{{Name}} for a property"),
            )
        };
        if !self.eat('{') {
            return Err(bad());
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c != '}') {
            self.i += 1;
        }
        if self.peek().is_none() {
            return Err(bad());
        }
        let name: String = self.s[start..self.i].iter().collect();
        self.i += 1;
        let (caret, bare) = match name.strip_prefix('^') {
            Some(n) => (true, n),
            None => (false, name.as_str()),
        };
        let neg = caret != (e == 'P');
        let key: String = bare
            .chars()
            .filter(|c| !matches!(c, ' ' | '_' | '-'))
            .collect::<String>()
            .to_ascii_lowercase();
        // `\p{Age=6.0}`: assigned in that Unicode version or before (Ruby knows up to 13.0).
        // `\p{Grapheme_Cluster_Break=CR}` …: the values Ruby 3.1 knows.
        let valued = key
            .strip_prefix("age=")
            .filter(|v| RUBY_AGES.contains(v))
            .map(|v| format!("age={v}"))
            .or_else(|| {
                key.strip_prefix("graphemeclusterbreak=")
                    .filter(|v| RUBY_GCB.contains(v))
                    .map(|v| format!("gcb={v}"))
            })
            .map(|p| format!("{}{{{p}}}", if neg { "\\P" } else { "\\p" }));
        if (valued.is_none() && bare.contains(['=', ':'])) || bare.trim().is_empty() {
            return Err(format!(
                "invalid character property name {{{name}}}: use a plain name, as in \\p{{Greek}}"
            ));
        }
        if NOT_IN_RUBY.contains(&key.as_str()) {
            return Err(format!(
                "invalid character property name {{{name}}}: Ruby 3.1 (Unicode 13.0) does not \
                 know it"
            ));
        }
        let mut info = ClassInfo {
            ascii_word: key == "ascii",
            asc: (key == "ascii").then(|| NO_CHARACTER.to_string()),
            ..ClassInfo::default()
        };
        if !FOLD_CLOSED.contains(&key.as_str()) && key != "ascii" {
            info.open = Some(format!("\\{e}{{{name}}}"));
        }
        // Oniguruma knows none of these: written out for it (see `for_oniguruma`).
        info.rust_only = valued.is_some() || key == "xposixpunct";
        let block = ONIGMO_FOLDED_BLOCKS.iter().find(|(k, _, _)| *k == key);
        let posix_key = if key == "xposixpunct" { "punct" } else { &key };
        let text = match (valued, posix(posix_key)) {
            (Some(valued), _) => valued,
            (None, _) if block.is_some() => {
                let (_, from, to) = block.copied().unwrap_or(("", '\0', '\0'));
                posix_class(
                    &format!("\\x{{{:X}}}-\\x{{{:X}}}", from as u32, to as u32),
                    neg,
                )
            }
            (None, Some(body)) => posix_class(body, neg),
            (None, None) => format!("{}{{{}}}", if neg { "\\P" } else { "\\p" }, bare.trim()),
        };
        Ok((text, info, neg))
    }

    /// A shorthand (`\d`, `\W` …) as a class body item.
    fn shorthand_item(e: char, cs: Charset) -> Option<(String, ClassInfo)> {
        let (body, neg) = shorthand(e)?;
        let unicode = match e.to_ascii_lowercase() {
            'd' => "digit",
            'w' => "word",
            's' => "space",
            _ => "",
        };
        let text = if cs == Charset::Unicode && !unicode.is_empty() {
            // Under (?u) they are Unicode, as the POSIX brackets of the same names.
            posix_class(posix(unicode)?, neg)
        } else if neg {
            format!("[^{body}]")
        } else {
            body.to_string()
        };
        let word = matches!(e, 'w' | 'W');
        let info = ClassInfo {
            ascii_word: word,
            asc: word.then(|| NO_CHARACTER.to_string()),
            ..ClassInfo::default()
        };
        Some((text, info))
    }

    /// An escape (after `\`) outside brackets.
    fn escape(&mut self, f: Flags) -> Result<Vec<Node>, String> {
        let e = self.peek().ok_or("pattern ends with a lone backslash")?;
        self.i += 1;
        let look = |l| Ok(vec![Node::Look(l)]);
        match e {
            'A' => look(Look::Start),
            'z' => look(Look::End),
            'Z' if self.i == self.s.len() && self.depth == 0 => {
                // At the very end of the pattern: a group of its own takes the final newline,
                // and the whole match ends where it starts (see `END_Z_GROUP`).
                look(Look::EndZ)
            }
            'Z' => Err(unsupported(
                r"\Z (end of text or before a final newline) before the end of the pattern",
                &format!("it needs a lookahead and {NO_LOOK}; use \\z or $"),
            )),
            // Unicode in both (Ruby's `\b` counts `é` as a word character, unlike `\w`).
            'b' if f.cs == Charset::Ascii => look(Look::AsciiWord),
            'B' if f.cs == Charset::Ascii => look(Look::AsciiNotWord),
            'b' => look(Look::Word),
            'B' => look(Look::NotWord),
            'd' | 'D' | 'w' | 'W' | 's' | 'S' if f.cs == Charset::Unicode => Ok(vec![Node::Class(
                unicode_shorthand(e).ok_or("no such shorthand")?,
            )]),
            'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'H' | 'p' | 'P' => {
                let (text, info, negated) = match Self::shorthand_item(e, f.cs) {
                    Some((text, info)) => (text, info, shorthand(e).is_some_and(|(_, neg)| neg)),
                    None => self.property(e)?,
                };
                // A negated shorthand or property outside brackets is a negated class in Ruby:
                // widened under `i` before it is negated, and never matching a folding of
                // several characters.
                let text = if text.starts_with('[') {
                    text
                } else {
                    format!("[{text}]")
                };
                Ok(vec![Node::Class(finish_class(text, &info, f.i, negated)?)])
            }
            _ => Ok(self
                .char_escape(e)?
                .into_iter()
                .map(|c| Node::Lit {
                    c,
                    plain: false,
                    fold: f.i,
                })
                .collect()),
        }
    }

    /// Up to `max` hex digits.
    /// An escape that Ruby reads as a plain character inside brackets, where it is no anchor,
    /// backreference or call (after its letter): `\1`–`\7` start an octal code (up to three
    /// digits, below 0x80), `\8`, `\9` and letters that are no escape (`\R`, `\k`, `\G`,
    /// `\Z`, `\p` without braces …) are themselves.
    fn class_letter_escape(&mut self, e: char) -> Result<Option<char>, String> {
        match e {
            '1'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                let mut n = 1;
                while n < 3 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                    v = v * 8 + self.peek().and_then(|c| c.to_digit(8)).unwrap_or(0);
                    self.i += 1;
                    n += 1;
                }
                // Ruby's own errors: past a byte, or a byte of a multibyte character.
                if v >= 0x100 {
                    return Err("invalid escape code".into());
                }
                if v >= 0x80 {
                    return Err("invalid multibyte escape".into());
                }
                Ok(char::from_u32(v))
            }
            '8' | '9' | 'p' | 'P' => Ok(Some(e)),
            'A'..='Z' | 'a'..='z'
                if !matches!(
                    e,
                    't' | 'n'
                        | 'r'
                        | 'f'
                        | 'v'
                        | 'a'
                        | 'e'
                        | 'x'
                        | 'u'
                        | 'c'
                        | 'C'
                        | 'M'
                        | 'y'
                        | 'Y'
                        | 'd'
                        | 'D'
                        | 'w'
                        | 'W'
                        | 's'
                        | 'S'
                        | 'h'
                        | 'H'
                        | 'b'
                ) =>
            {
                Ok(Some(e))
            }
            _ => Ok(None),
        }
    }

    /// The ASCII character a control escape (`\cX`, `\C-X`, after its letter) applies to, if
    /// it is one the translator reads (not `\`, which starts another escape).
    fn control_target(&self, e: char) -> Option<char> {
        let x = match e {
            'c' => self.peek(),
            _ if self.peek() == Some('-') => self.peek_at(1),
            _ => None,
        }?;
        (x.is_ascii() && x != '\\' && !x.is_ascii_control()).then_some(x)
    }

    fn hex(&mut self, max: usize) -> Option<u32> {
        let mut v = 0u32;
        let mut n = 0;
        while n < max {
            let Some(d) = self.peek().and_then(|c| c.to_digit(16)) else {
                break;
            };
            v = v * 16 + d;
            self.i += 1;
            n += 1;
        }
        (n > 0).then_some(v)
    }

    /// An escape that stands for characters (after `\`): in and out of brackets.
    fn char_escape(&mut self, e: char) -> Result<Vec<char>, String> {
        let one = |c: char| Ok(vec![c]);
        match e {
            't' => one('\t'),
            'n' => one('\n'),
            'r' => one('\r'),
            'f' => one('\x0C'),
            'v' => one('\x0B'),
            'a' => one('\x07'),
            'e' => one('\x1B'),
            '0' => {
                // Octal: \0, \0nn.
                let mut v = 0u32;
                let mut n = 0;
                while n < 2 && self.peek().is_some_and(|c| ('0'..='7').contains(&c)) {
                    v = v * 8 + self.peek().and_then(|c| c.to_digit(8)).unwrap_or(0);
                    self.i += 1;
                    n += 1;
                }
                one(char::from_u32(v).unwrap_or('\0'))
            }
            'x' => {
                // \xHH; bytes from 0x80 on are UTF-8 sequences in Ruby (`\xC3\xA9` is é).
                let invalid = || "invalid hex escape: Ruby's is \\x with one or two hex digits";
                let b = self.hex(2).ok_or_else(invalid)?;
                if b < 0x80 {
                    return one(char::from_u32(b).unwrap_or('\0'));
                }
                let len = match b {
                    0xC2..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    0xF0..=0xF4 => 4,
                    _ => 0,
                };
                let mut bytes = vec![b as u8];
                for _ in 1..len {
                    if self.peek() != Some('\\') || self.peek_at(1) != Some('x') {
                        break;
                    }
                    self.i += 2;
                    bytes.push(self.hex(2).ok_or_else(invalid)? as u8);
                }
                match std::str::from_utf8(&bytes) {
                    Ok(s) if len > 0 => Ok(s.chars().collect()),
                    _ => Err(format!(
                        "invalid multibyte escape \\x{b:02X}: Ruby reads \\x80-\\xFF as UTF-8 \
                         bytes; write the character or \\u{{{b:X}}}"
                    )),
                }
            }
            'u' => {
                let invalid = || "invalid Unicode escape: write \\uHHHH or \\u{H…}".to_string();
                let code = |v: u32| char::from_u32(v).ok_or_else(invalid);
                if !self.eat('{') {
                    let start = self.i;
                    let v = self.hex(4).ok_or_else(invalid)?;
                    if self.i - start != 4 {
                        return Err(invalid());
                    }
                    return one(code(v)?);
                }
                let mut chars = Vec::new();
                loop {
                    while self.peek() == Some(' ') {
                        self.i += 1;
                    }
                    if self.eat('}') {
                        break;
                    }
                    let v = self.hex(6).ok_or_else(invalid)?;
                    chars.push(code(v)?);
                }
                if chars.is_empty() {
                    return Err(invalid());
                }
                Ok(chars)
            }
            'G' | 'K' => Err(unsupported(
                &format!("\\{e}"),
                "Rust's regex engine has no match-start anchor or keep operator",
            )),
            'R' | 'X' => Err(unsupported(
                &format!("\\{e}"),
                "it is an atomic group in Ruby, which Rust's regex engine cannot express; write \
                 the alternatives out",
            )),
            '1'..='9' => Err(unsupported(
                &format!("the backreference \\{e}"),
                "Rust's regex engine matches in linear time and has no backreferences",
            )),
            'k' => Err(unsupported(
                r"the named backreference \k<…>",
                "Rust's regex engine matches in linear time and has no backreferences",
            )),
            'g' => Err(unsupported(
                r"the subexpression call \g<…>",
                "Rust's regex engine has no recursion or subexpression calls",
            )),
            // `\cX`, `\C-X`: the control character of an ASCII X (its code & 0x9F, so `\c?` is
            // U+001F, as Onigmo reads it).
            'c' | 'C' if self.control_target(e).is_some() => {
                let x = self.control_target(e).unwrap_or_default();
                self.i += if e == 'c' { 1 } else { 2 };
                Ok(vec![char::from(x as u8 & 0x9F)])
            }
            'c' | 'C' | 'M' => Err(unsupported(
                &format!("the control/meta escape \\{e}"),
                "Rust's regex engine has no such escape; use \\x.. instead",
            )),
            // No escapes in Ruby, which reads them as the letters (Oniguruma reads them as
            // text-segment boundaries: the backtracking engine gets them as the letters too).
            'y' | 'Y' => one(e),
            c if c.is_ascii_alphanumeric() => Err(unsupported(
                &format!("the escape \\{c}"),
                &format!("it is no escape in Ruby, which reads it as {c}; write {c}"),
            )),
            // Any other escaped character is itself (`\<` and `\>` are word boundaries in Rust,
            // plain characters in Ruby).
            c => one(c),
        }
    }

    /// A bracket expression, after its `[`: Rust text and what it holds.
    fn class_set(&mut self) -> Result<(String, ClassInfo, bool), String> {
        let neg = self.eat('^');
        let mut ops = vec![String::new()];
        // The same class as Onigmo's parallel "ASCII-compatible" class (see `ClassInfo::asc`).
        let mut asc_ops = vec![String::new()];
        let mut info = ClassInfo::default();
        let mut first = true;
        let mut after_range = false;
        loop {
            let c = self.peek().ok_or("premature end of character class")?;
            if c == ']' && !first {
                self.i += 1;
                break;
            }
            first = false;
            if c == '&' && self.peek_at(1) == Some('&') {
                // An empty side of `&&` is the empty set in Ruby (`[a&&]` matches nothing).
                for o in [&mut ops, &mut asc_ops] {
                    if let Some(last) = o.last_mut().filter(|l| l.is_empty()) {
                        last.push_str(NO_CHARACTER);
                    }
                }
                self.i += 2;
                ops.push(String::new());
                asc_ops.push(String::new());
                after_range = false;
                continue;
            }
            let op = ops.last_mut().unwrap_or_else(|| unreachable!());
            let asc_op = asc_ops.last_mut().unwrap_or_else(|| unreachable!());
            if c == '-' && after_range {
                // `[a-c-e]`: a dash after a range is a plain dash.
                self.i += 1;
                lit('-', op);
                lit('-', asc_op);
                after_range = false;
                continue;
            }
            after_range = false;
            let dash_follows =
                |p: &Parser| p.peek() == Some('-') && p.peek_at(1).is_some_and(|n| n != ']');
            match self.class_atom()? {
                ClassAtom::Char(a) if dash_follows(self) => {
                    // `[+--]` is the range from + to - in Ruby (the dash is written escaped).
                    self.i += 1;
                    let ClassAtom::Char(b) = self.class_atom()? else {
                        return Err("char-class value at end of range".into());
                    };
                    if b < a {
                        return Err("empty range in char class".into());
                    }
                    for o in [&mut *op, &mut *asc_op] {
                        lit(a, o);
                        o.push('-');
                        lit(b, o);
                    }
                    info.add(&ClassInfo::range(a, b));
                    after_range = true;
                }
                ClassAtom::Char(a) => {
                    lit(a, op);
                    lit(a, asc_op);
                    info.add(&ClassInfo::range(a, a));
                }
                ClassAtom::Set(..) if dash_follows(self) => {
                    return Err("unmatched range specifier in char-class".into());
                }
                ClassAtom::Set(text, i) => {
                    asc_op.push_str(i.asc.as_deref().unwrap_or(&text));
                    op.push_str(&text);
                    info.add(&i);
                }
            }
        }
        if ops.len() > 1 {
            for o in [&mut ops, &mut asc_ops] {
                if let Some(last) = o.last_mut().filter(|l| l.is_empty()) {
                    last.push_str(NO_CHARACTER);
                }
            }
        }
        let text = format!("[{}{}]", if neg { "^" } else { "" }, ops.join("&&"));
        let asc = format!("[{}{}]", if neg { "^" } else { "" }, asc_ops.join("&&"));
        info.asc = (asc != text).then_some(asc);
        Ok((text, info, neg))
    }

    /// One element inside brackets.
    fn class_atom(&mut self) -> Result<ClassAtom, String> {
        let c = self.peek().ok_or("premature end of character class")?;
        self.i += 1;
        match c {
            '[' if self.peek() == Some(':') => {
                // POSIX bracket [:name:] / [:^name:].
                let rest: String = self.s[self.i + 1..].iter().collect();
                let Some(end) = rest.find(":]") else {
                    return Err("unterminated POSIX bracket".into());
                };
                let (neg, name) = match rest[..end].strip_prefix('^') {
                    Some(n) => (true, n),
                    None => (false, &rest[..end]),
                };
                let Some(mut body) = posix(name) else {
                    return Err(format!("unknown POSIX bracket [:{name}:]"));
                };
                let mut info = ClassInfo {
                    ascii_word: name == "ascii",
                    asc: (name == "ascii").then(|| NO_CHARACTER.to_string()),
                    open: (matches!(name, "upper" | "lower")).then(|| format!("[[:{name}:]]")),
                    ..ClassInfo::default()
                };
                if self.class_flags.cs == Charset::Ascii {
                    // Under (?a) they are ASCII, and case folding brings no ſ or K.
                    body = match name {
                        "upper" | "lower" if self.class_flags.i => "a-zA-Z",
                        n => ascii_posix(n).unwrap_or(body),
                    };
                    info = ClassInfo {
                        ascii_word: true,
                        asc: Some(NO_CHARACTER.to_string()),
                        ..ClassInfo::default()
                    };
                }
                self.i += 1 + rest[..end].chars().count() + 2;
                if matches!(name, "print" | "graph") && self.class_flags.cs != Charset::Ascii {
                    // Private use, so printable in Unicode; but U+10FF80-U+10FFFF stand for the
                    // bytes past ASCII of a binary string (the inputs that read bytes), which
                    // Ruby counts as neither (see `BYTE_STAND_INS`). Written out for Oniguruma.
                    info.rust_only = true;
                    let body = format!("{body}{BYTE_STAND_INS}");
                    return Ok(ClassAtom::Set(posix_class(&body, neg), info));
                }
                Ok(ClassAtom::Set(posix_class(body, neg), info))
            }
            '[' => {
                let (text, info, _) = self.class_set()?;
                Ok(ClassAtom::Set(text, info))
            }
            '\\' => {
                let e = self.peek().ok_or("premature end of character class")?;
                self.i += 1;
                if e == 'b' {
                    return Ok(ClassAtom::Char('\x08'));
                }
                if let Some((text, info)) = Self::shorthand_item(e, self.class_flags.cs) {
                    return Ok(ClassAtom::Set(text, info));
                }
                if matches!(e, 'p' | 'P') && self.peek() == Some('{') {
                    let (text, info, _) = self.property(e)?;
                    return Ok(ClassAtom::Set(text, info));
                }
                if let Some(c) = self.class_letter_escape(e)? {
                    return Ok(ClassAtom::Char(c));
                }
                let chars = self.char_escape(e)?;
                if let [c] = chars[..] {
                    return Ok(ClassAtom::Char(c));
                }
                let mut text = String::new();
                let mut info = ClassInfo::default();
                for c in chars {
                    lit(c, &mut text);
                    info.add(&ClassInfo::range(c, c));
                }
                Ok(ClassAtom::Set(text, info))
            }
            c => Ok(ClassAtom::Char(c)),
        }
    }
}

/// A POSIX class body (a leading `^` negates it) as a nested class, negated if `neg`.
fn posix_class(body: &str, neg: bool) -> String {
    let body_neg = body.starts_with('^');
    format!(
        "[{}{}]",
        if neg != body_neg { "^" } else { "" },
        body.trim_start_matches('^')
    )
}

/// Can the node match the empty string (assertions count as possibly true)?
fn nullable(n: &Node) -> bool {
    match n {
        Node::Lit { .. } | Node::Dot { .. } | Node::Class(_) => false,
        Node::Look(_) => true,
        Node::Group { body, .. } => nullable(body),
        Node::Concat(v) => v.iter().all(nullable),
        Node::Alt(v) => v.iter().any(nullable),
        Node::Repeat { node, min, .. } => *min == 0 || nullable(node),
    }
}

/// Does the node hold an anchor?
fn has_look(n: &Node) -> bool {
    match n {
        Node::Look(_) => true,
        Node::Group { body, .. } => has_look(body),
        Node::Concat(v) | Node::Alt(v) => v.iter().any(has_look),
        Node::Repeat { node, .. } => has_look(node),
        _ => false,
    }
}

/// Can the node's first choice (by Ruby's order of trying) at some position be the empty
/// string while a later one consumes? (An alternative before the last that can match the empty
/// string, or a lazy repetition that can stop at none.)
fn prefers_empty(n: &Node) -> bool {
    match n {
        Node::Lit { .. } | Node::Dot { .. } | Node::Class(_) | Node::Look(_) => false,
        Node::Group { body, .. } => prefers_empty(body),
        Node::Concat(v) => v.iter().any(prefers_empty),
        Node::Alt(v) => {
            v.iter().any(prefers_empty) || v[..v.len().saturating_sub(1)].iter().any(nullable)
        }
        Node::Repeat {
            node, min, lazy, ..
        } => (*lazy && (*min == 0 || nullable(node))) || prefers_empty(node),
    }
}

/// Does the node hold a capture group that can match the empty string?
fn has_nullable_capture(n: &Node) -> bool {
    match n {
        Node::Group {
            kind: Kind::Capture(_),
            body,
        } => nullable(body) || has_nullable_capture(body),
        Node::Group { body, .. } => has_nullable_capture(body),
        Node::Concat(v) | Node::Alt(v) => v.iter().any(has_nullable_capture),
        Node::Repeat { node, .. } => has_nullable_capture(node),
        _ => false,
    }
}

/// Does the node hold a capture group?
fn has_capture(n: &Node) -> bool {
    match n {
        Node::Group {
            kind: Kind::Capture(_),
            ..
        } => true,
        Node::Group { body, .. } => has_capture(body),
        Node::Concat(v) | Node::Alt(v) => v.iter().any(has_capture),
        Node::Repeat { node, .. } => has_capture(node),
        _ => false,
    }
}

/// Refuse repeated groups whose empty iteration Ruby would record in a capture, and capture
/// groups repeated zero times (Rust drops them: the group would be missing, not unset).
fn check_loops(n: &Node) -> Result<(), String> {
    match n {
        Node::Repeat {
            node, max: Some(0), ..
        } if has_capture(node) => Err(unsupported(
            "a capture group repeated zero times",
            "Rust's regex engine drops such a group, Ruby keeps it (unset); remove it",
        )),
        Node::Repeat { node, min, max, .. } => {
            if *min > 1 && nullable(node) && has_look(node) {
                return Err(unsupported(
                    "an alternation with an alternative that is an anchor, repeated at least \
                     twice ((?:b|\\b){2})",
                    "Ruby's engine ends such a repetition at an empty iteration before its count \
                     when the repeated code is long, Rust's regex engine does not",
                ));
            }
            if max.is_none_or(|m| m > 1) && nullable(node) && prefers_empty(node) {
                return Err(unsupported(
                    "a repeated group whose first choice can be the empty string ((?:b?|a)*, \
                     (?:a??)*)",
                    "Ruby ends the repetition at an empty iteration ((?:b?|a)* matches b in \
                     ba), Rust's regex engine tries the other choices (ba)",
                ));
            }
            if max.is_none_or(|m| m > 1) && nullable(node) && has_nullable_capture(node) {
                return Err(unsupported(
                    "a repeated group that can match the empty string and holds a capture group",
                    "Ruby records one more, empty, iteration in the capture ((a?)* on aa \
                     captures \"\") than Rust's regex engine does; make the group match at \
                     least one character",
                ));
            }
            check_loops(node)
        }
        Node::Group { body, .. } => check_loops(body),
        Node::Concat(v) | Node::Alt(v) => v.iter().try_for_each(check_loops),
        _ => Ok(()),
    }
}

/// Refuse a `^` that Rust could match at the end of a text ending in a newline (Ruby's `^` does
/// not match there): one whose continuation, `follow` for the node, can match the empty string.
fn check_bol(n: &Node, follow: bool) -> Result<(), String> {
    match n {
        Node::Look(Look::Bol) if follow => Err(unsupported(
            "^ before a part that can match the empty string",
            "Ruby's ^ does not match after a final newline at the end of the text, Rust's does; \
             anchor with \\A, or make the part after ^ match at least one character",
        )),
        Node::Concat(v) => check_concat_bol(v, follow),
        Node::Alt(v) => v.iter().try_for_each(|a| check_bol(a, follow)),
        Node::Group { body, .. } => check_bol(body, follow),
        // The last iteration is followed by what follows the repetition.
        Node::Repeat { node, .. } => check_bol(node, follow),
        _ => Ok(()),
    }
}

fn check_concat_bol(v: &[Node], follow: bool) -> Result<(), String> {
    for (k, item) in v.iter().enumerate() {
        check_bol(item, follow && v[k + 1..].iter().all(nullable))?;
    }
    Ok(())
}

/// Where a match can be: anywhere, or at a line end (before `\n` or at the end of the text).
#[derive(Clone, Copy, PartialEq)]
enum At {
    Any,
    LineEnd,
}

/// Does the node match from every position of class `at`, and can it then end at a line end?
/// `None`: it may fail.
fn always(n: &Node, at: At) -> Option<At> {
    match n {
        Node::Look(Look::Eol) if at == At::LineEnd => Some(At::LineEnd),
        Node::Group { body, .. } => always(body, at),
        Node::Concat(v) => v.iter().try_fold(at, |at, item| always(item, at)),
        Node::Alt(v) => {
            let ends: Vec<At> = v.iter().filter_map(|a| always(a, at)).collect();
            ends.iter()
                .find(|&&e| e == At::LineEnd)
                .or(ends.first())
                .copied()
        }
        // `.*` runs to the end of the line (or of the text, with `m`).
        Node::Repeat {
            node,
            min: 0,
            max: None,
            ..
        } if matches!(**node, Node::Dot { .. }) => Some(At::LineEnd),
        Node::Repeat { min: 0, .. } => Some(at),
        _ => None,
    }
}

/// The `^` check for the whole pattern: a leading `^` is safe when the rest matches at every
/// position (`^(?<message>.*)$`), as both engines then match at the start of the text.
fn check_anchors(root: &Node) -> Result<(), String> {
    if let Some(rest) = leading_bol_rest(root) {
        return check_concat_bol(rest, true);
    }
    check_bol(root, true)
}

/// The items after a leading `^` of the whole pattern (inside option groups), when what
/// follows it matches at every position.
fn leading_bol_rest(root: &Node) -> Option<&[Node]> {
    let mut top = root;
    loop {
        match top {
            Node::Concat(v) if v.len() == 1 && matches!(v[0], Node::Group { .. }) => {
                let Node::Group {
                    kind: Kind::Options(_),
                    body,
                } = &v[0]
                else {
                    break;
                };
                top = body;
            }
            _ => break,
        }
    }
    if let Node::Concat(v) = top {
        if matches!(v.first(), Some(Node::Look(Look::Bol)))
            && v[1..]
                .iter()
                .try_fold(At::Any, |at, item| always(item, at))
                .is_some()
        {
            return Some(&v[1..]);
        }
    }
    None
}

/// Whether `src` is a `^` whose rest matches at every position (`/^/`, `^(?<m>.*)$`), which the
/// linear engine runs: its search from a later position (`scan`, `gsub`) must not match at the
/// very end of a text ending with a newline, where Rust's `^` matches and Ruby's does not.
pub fn leading_bol(src: &str, flags: &str) -> bool {
    parse_root(src, flags).is_ok_and(|(root, _, _)| leading_bol_rest(&root).is_some())
}

/// The tree of a whole pattern (`src` as written, under `flags`), with the text it was read from
/// (escapes of non-ASCII characters written out) and the flags read.
fn parse_root(src: &str, flags: &str) -> Result<(Node, String, Flags), String> {
    let f = Flags {
        i: flags.contains('i'),
        m: flags.contains('m'),
        x: flags.contains('x'),
        cs: Charset::Default,
    };
    let src = escapes::as_written(src);
    let mut p = Parser {
        s: src.chars().collect(),
        i: 0,
        depth: 0,
        class_flags: f,
    };
    let root = p.alt(f)?;
    if p.i < p.s.len() {
        return Err("unmatched close parenthesis".into());
    }
    Ok((root, src.into_owned(), f))
}

/// A run of plain literal characters under `i`: Ruby matches it with full case folding, so
/// `ss` also matches `ß` and `fi` also matches `ﬁ`, by Onigmo's rules for strings (see
/// [`string_fold`]: `/ßs/i` matches `sß`, `/sß/i` does not match `ßs`).
fn emit_run(chars: &[char], whole: bool, out: &mut String) -> Result<(), String> {
    if let Some(c) = chars.iter().find(|&&c| other_multi_fold(c)) {
        return Err(unsupported(
            &format!("{c} under case-insensitive matching"),
            "it takes part in a case folding to several characters, which Ruby matches and Rust's \
             regex engine does not; use (?-i:…)",
        ));
    }
    let written = if whole {
        string_fold::write_folded(chars, out)
    } else {
        string_fold::write_string(chars, out)
    };
    written.map_err(|why| {
        unlike_ruby(
            &format!(
                "the string {}{} under case-insensitive matching",
                chars.iter().take(40).collect::<String>(),
                if chars.len() > 40 { "…" } else { "" }
            ),
            &format!(
                "Ruby matches every spelling (ss as ß, st as ﬆ …) and {why}; use (?-i:…) and \
                 list the ones you need"
            ),
        )
    })
}

fn emit(n: &Node, out: &mut String) -> Result<(), String> {
    match n {
        Node::Lit {
            c,
            plain: true,
            fold: true,
        } => emit_run(&[*c], false, out)?,
        Node::Lit { c, fold, .. } => {
            if *fold && (other_multi_fold(*c) || fold_to_ascii().any(|(s, _)| s == c)) {
                return Err(unsupported(
                    &format!("{c} (repeated) under case-insensitive matching"),
                    "it folds to several characters, which Ruby matches and Rust's regex engine \
                     does not; use (?-i:…)",
                ));
            }
            lit(*c, out);
        }
        Node::Dot { m } => out.push_str(if *m { "(?s:.)" } else { "[^\\n]" }),
        Node::Class(t) => out.push_str(t),
        Node::Look(l) => out.push_str(match l {
            Look::Bol => "^",
            Look::Eol => "$",
            Look::Start => r"\A",
            Look::End => r"\z",
            Look::EndZ => END_Z,
            Look::Word => r"\b",
            Look::NotWord => r"\B",
            Look::AsciiWord => r"(?-u:\b)",
            Look::AsciiNotWord => r"(?-u:\B)",
        }),
        Node::Group { kind, body } => {
            match kind {
                Kind::Capture(None) => out.push('('),
                Kind::Capture(Some(name)) => {
                    let _ = write!(out, "(?<{name}>");
                }
                Kind::NonCapture => out.push_str("(?:"),
                Kind::Options(true) => out.push_str("(?i:"),
                Kind::Options(false) => out.push_str("(?-i:"),
            }
            emit(body, out)?;
            out.push(')');
        }
        Node::Concat(v) => {
            let mut k = 0;
            while k < v.len() {
                let run = v[k..].iter().map_while(string_char).collect::<Vec<char>>();
                if run.is_empty() {
                    emit(&v[k], out)?;
                    k += 1;
                } else {
                    emit_run(&run, false, out)?;
                    k += run.len();
                }
            }
        }
        Node::Alt(v) => {
            for (k, a) in v.iter().enumerate() {
                if k > 0 {
                    out.push('|');
                }
                emit(a, out)?;
            }
        }
        Node::Repeat {
            node,
            min,
            max,
            lazy,
        } => {
            if let Some(text) =
                folded_string(node).filter(|t| *min > 1 && t.iter().any(|&c| joins_fold(c)))
            {
                // Ruby writes a counted repetition of a string out as the string repeated (up to
                // 100 bytes), then repeats the rest; under `i` that string is matched with full
                // case folding, so `s{2}` matches `ß`.
                let len: usize = text.iter().map(|c| c.len_utf8()).sum();
                let k = (*min as usize).min((100 / len).max(1));
                let run: Vec<char> = text.iter().copied().cycle().take(k * text.len()).collect();
                out.push_str("(?:");
                emit_run(&run, false, out).map_err(|_| {
                    unlike_ruby(
                        &format!(
                            "a counted repetition ({{{min},…}}) of {} under case-insensitive \
                             matching",
                            text.iter().collect::<String>()
                        ),
                        &format!(
                            "Ruby matches it as the text written out {k} times with full case \
                             folding (s{{2}} matches ß), which has too many spellings here to \
                             write out; use (?-i:…), or a smaller count"
                        ),
                    )
                })?;
                out.push(')');
                let k = k as u32;
                if max.is_none_or(|m| m > k) {
                    emit_repeat(node, min - k, max.map(|m| m - k), *lazy, out)?;
                }
            } else {
                emit_repeat(node, *min, *max, *lazy, out)?;
            }
        }
    }
    Ok(())
}

/// A repetition in Rust syntax.
fn emit_repeat(
    node: &Node,
    min: u32,
    max: Option<u32>,
    lazy: bool,
    out: &mut String,
) -> Result<(), String> {
    let mut inner = String::new();
    match node {
        // A repeated ligature under `i` is a string of its own (`ß+` is `(?:ss|ß…)+`).
        Node::Lit {
            c,
            plain: true,
            fold: true,
        } if fold_to_ascii().any(|(s, _)| s == c) => {
            inner.push_str("(?:");
            emit_run(&[*c], false, &mut inner)?;
            inner.push(')');
        }
        // A repeated character is not part of a run.
        Node::Lit { c, fold, .. } => {
            let single = Node::Lit {
                c: *c,
                plain: false,
                fold: *fold,
            };
            emit(&single, &mut inner)?;
        }
        other => emit(other, &mut inner)?,
    }
    let atomic = matches!(
        *node,
        Node::Group { .. } | Node::Lit { .. } | Node::Dot { .. } | Node::Class(_)
    );
    if atomic {
        out.push_str(&inner);
    } else {
        let _ = write!(out, "(?:{inner})");
    }
    match (min, max) {
        (0, None) => out.push('*'),
        (1, None) => out.push('+'),
        (n, None) => {
            let _ = write!(out, "{{{n},}}");
        }
        (n, Some(m)) if n == m => {
            let _ = write!(out, "{{{n}}}");
        }
        (n, Some(m)) => {
            let _ = write!(out, "{{{n},{m}}}");
        }
    }
    if lazy {
        out.push('?');
    }
    Ok(())
}

/// The character of a plain literal under `i` (one Ruby folds with its neighbours as a string).
fn string_char(n: &Node) -> Option<char> {
    match n {
        Node::Lit {
            c,
            plain: true,
            fold: true,
        } => Some(*c),
        _ => None,
    }
}

/// The text a repeated node stands for when Ruby reads it as a string under `i` (a character, or
/// a non-capturing group of plain characters).
fn folded_string(n: &Node) -> Option<Vec<char>> {
    match n {
        Node::Lit { c, fold: true, .. } => Some(vec![*c]),
        Node::Group {
            kind: Kind::NonCapture,
            body,
        } => match &**body {
            Node::Concat(v) if !v.is_empty() => v.iter().map(string_char).collect(),
            other => folded_string(other),
        },
        _ => None,
    }
}

/// Ruby's `\b` under `(?a)`, for Oniguruma: between an ASCII word character and anything else
/// (Oniguruma's own option `W`, enabled in the syntax it compiles with, which a look-behind may
/// hold, unlike a look-ahead).
const ASCII_BOUNDARY: &str = "(?W:\\b)";
/// Ruby's `\B` under `(?a)`, for Oniguruma.
const ASCII_NOT_BOUNDARY: &str = "(?W:\\B)";

/// A class (`text`, as the translator reads it, and `rust`, what it writes for it or its
/// refusal) in Ruby syntax for Oniguruma, when the translator's reading differs from the class as
/// written (or `force`); `None`: keep the text as written.
fn class_for_oniguruma(
    text: &str,
    rust: Result<String, String>,
    fold: bool,
    force: bool,
) -> Result<Option<String>, String> {
    match rust {
        Ok(rust) if force || rust != text => Ok(fold::rust_to_ruby(&rust, fold)),
        Ok(_) => Ok(None),
        Err(e) if needs_backtracking(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The non-capturing group opening at `s[k]` (`(?:…)`, `(?i:…)`, `(?m-i:…)`) and closing
/// before `close`: the position of its `:` and the flags `f` with the group's `i` and `m`
/// applied. `None` for any other group (a capture, a look-around, an atomic group, other
/// options).
fn option_group(s: &[char], k: usize, close: usize, f: Flags) -> Option<(usize, Flags)> {
    if s.get(k + 1) != Some(&'?') {
        return None;
    }
    let colon = s.get(k + 2..close)?.iter().position(|&c| c == ':')? + k + 2;
    let mut g = f;
    let mut on = true;
    for &o in &s[k + 2..colon] {
        match o {
            'i' => g.i = on,
            'm' => g.m = on,
            '-' if on => on = false,
            _ => return None,
        }
    }
    Some((colon, g))
}

/// Where the bracket expression opening at `s[k]` ends (past its `]`; nested brackets and
/// escapes skipped), or the end of the pattern.
pub(crate) fn bracket_end(s: &[char], k: usize) -> usize {
    let (mut depth, mut j) = (0usize, k);
    while j < s.len() {
        match s[j] {
            '\\' => j += 1,
            '[' => {
                depth += 1;
                // A `]` right after the opening (and its `^`) is a plain character.
                if s.get(j + 1) == Some(&'^') {
                    j += 1;
                }
                if s.get(j + 1) == Some(&']') {
                    j += 1;
                }
            }
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    s.len()
}

/// Past the spaces and `#` comments at `s[j]` (Ruby's `x` flag).
fn past_extended(s: &[char], mut j: usize) -> usize {
    loop {
        match s.get(j) {
            Some(c) if c.is_ascii_whitespace() => j += 1,
            Some('#') => j = past(s, j, '\n'),
            _ => return j,
        }
    }
}

/// Just past the first `close` at or after `s[from]` (the end of the pattern if none).
fn past(s: &[char], from: usize, close: char) -> usize {
    s[from.min(s.len())..]
        .iter()
        .position(|&c| c == close)
        .map_or(s.len(), |e| from + e + 1)
}

/// Just past the `)` closing the group that opens at `s[k]` (brackets and escapes skipped), or
/// the end of the pattern.
fn group_close(s: &[char], k: usize) -> usize {
    let (mut depth, mut j) = (0usize, k);
    while j < s.len() {
        match s[j] {
            '\\' => j += 1,
            '[' => j = bracket_end(s, j) - 1,
            '(' => depth += 1,
            ')' => {
                // (From anywhere else than a `(`, the `)` closing the enclosing group.)
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    s.len()
}

/// The length in characters of every text an absent operator's body (Ruby syntax) matches,
/// when it is a string of fixed length: characters, escapes of one character, classes, `.`,
/// `{n}`, and non-capturing groups whose alternatives have one length. `None` for anything
/// else (anchors, look-arounds, captures, other repetitions, `x`), and under `i` for letters
/// and classes case folding could spell with several characters.
fn absent_length(body: &[char], f: Flags) -> Option<usize> {
    let lengths = absent_lengths(body, f)?;
    let first = lengths[0];
    lengths.iter().all(|&a| a == first).then_some(first)
}

/// The length in characters of each top-level alternative of an absent operator's body (Ruby
/// syntax), when each is a string of fixed length (see [`absent_length`]).
fn absent_lengths(body: &[char], f: Flags) -> Option<Vec<usize>> {
    if f.x {
        // Without the white space and comments `x` skips (not in brackets nor escaped).
        let (mut plain, mut k) = (Vec::new(), 0);
        while k < body.len() {
            let end = match body[k] {
                '\\' => escape_end(body, k),
                '[' => bracket_end(body, k),
                '#' => {
                    k = past(body, k, '\n');
                    continue;
                }
                c if c.is_ascii_whitespace() => {
                    k += 1;
                    continue;
                }
                _ => k + 1,
            };
            plain.extend(&body[k..end]);
            k = end;
        }
        return absent_lengths(&plain, Flags { x: false, ..f });
    }
    let mut alternatives: Vec<usize> = Vec::new();
    let (mut total, mut last) = (0usize, None::<usize>);
    let mut k = 0;
    while k < body.len() {
        let c = body[k];
        let (len, next) = match c {
            '|' => {
                alternatives.push(total);
                total = 0;
                last = None;
                k += 1;
                continue;
            }
            '{' => {
                let p = Parser {
                    s: body.to_vec(),
                    i: k,
                    depth: 0,
                    class_flags: f,
                };
                let (min, max, len, counted, _) = p.quantifier().ok()??;
                if !counted || max != Some(min) || body.get(k + len) == Some(&'?') {
                    return None;
                }
                let one = last?;
                // (Too long to count: not a string of fixed length here.)
                total = (total - one).checked_add(one.checked_mul(min as usize)?)?;
                last = None;
                k += len;
                continue;
            }
            '.' => (1, k + 1),
            '[' => {
                let end = bracket_end(body, k);
                let class: String = body[k..end].iter().collect();
                if f.i && (!class.is_ascii() || class.contains(':') || class.contains('\\')) {
                    return None;
                }
                if f.i && class.chars().any(joins_fold) {
                    return None;
                }
                (1, end)
            }
            '(' => {
                let close = group_close(body, k);
                let (colon, g) = option_group(body, k, close, f)?;
                (
                    absent_length(body.get(colon + 1..close.checked_sub(1)?)?, g)?,
                    close,
                )
            }
            '\\' => {
                let e = *body.get(k + 1)?;
                let end = escape_end(body, k);
                match e {
                    'u' if body.get(k + 2) == Some(&'{') => {
                        // An unclosed `\u{` has no inner part to count (Ruby refuses it).
                        let inner: String = body.get(k + 3..end.checked_sub(1)?)?.iter().collect();
                        (inner.split(' ').filter(|h| !h.is_empty()).count(), end)
                    }
                    'x' | 'u' | 'c' | 'C' | 'p' | 'P' | 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h'
                    | 'H' | 'n' | 't' | 'r' | 'f' | 'v' | 'a' | 'e' | '0'
                        // (Under `i` the shorthands and control escapes still match one
                        // character: none of them matches a several-letter folding, checked with
                        // Ruby against all of them; a property may, `/\p{L}/i` matches `ss`.)
                        if !f.i || !matches!(e, 'p' | 'P') =>
                    {
                        if e == '0' {
                            let n = body[k + 1..]
                                .iter()
                                .take(3)
                                .take_while(|c| ('0'..='7').contains(c))
                                .count();
                            (1, k + 1 + n)
                        } else {
                            (1, end)
                        }
                    }
                    e if e.is_ascii_punctuation() || e == ' ' => (1, k + 2),
                    _ => return None,
                }
            }
            '*' | '+' | '?' | ')' | '^' | '$' => return None,
            c if f.i && (!c.is_ascii() || joins_fold(c)) => return None,
            _ => (1, k + 1),
        };
        total = total.checked_add(len)?;
        last = Some(len);
        k = next;
    }
    alternatives.push(total);
    Some(alternatives)
}

/// What the body of an absent operator `(?~X)` is, for writing it out (see `absent`).
enum AbsentBody {
    /// A string of this fixed length in characters.
    Fixed(usize),
    /// Alternatives, each a string of fixed length (these, in order), not all one.
    Strings(Vec<usize>),
    /// Alternatives, each a string of fixed length (these, in order), one of them empty and
    /// one not.
    StringsOrEmpty(Vec<usize>),
    /// Alternatives (at least two), each a string of fixed length (`Some` of its length in
    /// characters) or not (`None`: written out only when it is anchors and look-behinds, see
    /// [`absent::of_mixed`]), at least one of each kind.
    Mixed(Vec<Option<usize>>),
    /// One character's class repeated without a maximum, maybe after a string (see
    /// [`absent_run`]).
    Run(RunBody),
    /// Characters, classes, groups and repetitions that read no text past the walk's bound
    /// (see [`absent_walk_least`]), written out step by step ([`absent::of_walk`]).
    Walk,
    /// Anything else: written out only when it matches only the empty string.
    Other,
}

/// An absent operator's body `SC+`, `SC*` (or possessive, `SC++`, `SC*+`): `C` an item matching
/// one character (a character, an escape, a class, `.`, a non-capturing group of such
/// alternatives), `S` nothing or a string of such items whose first is a character that
/// neither `C` nor the other items of `S` match (see [`absent::of_string_run`]). Positions are
/// in the rewritten source.
#[derive(Debug)]
struct RunBody {
    /// Where `C` starts.
    class_at: usize,
    /// Where the repetition (`+`, `*`, `++`, `*+`) starts.
    repeat_at: usize,
    /// The repetition as written.
    repeat: String,
    /// The length of `S` in characters.
    string_length: usize,
}

/// The body of an absent operator (Ruby syntax, starting at `offset` in the source) read as a
/// [`RunBody`], where it is one. Not under `x`; under `i`, the first character of a string is
/// one that has no other case (an ASCII character other than a letter or a digit).
fn absent_run(body: &[char], offset: usize, f: Flags) -> Option<RunBody> {
    if f.x {
        return None;
    }
    // The items, each matching one character.
    let mut items: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    while k < body.len() {
        let end = match body[k] {
            '\\' => escape_end(body, k),
            '[' => bracket_end(body, k),
            '(' => {
                let close = group_close(body, k);
                option_group(body, k, close, f)?;
                close
            }
            '*' | '+' => break,
            '?' | '{' | '}' | ')' | '|' | '^' | '$' => return None,
            _ => k + 1,
        }
        .min(body.len());
        if end <= k || absent_length(&body[k..end], f) != Some(1) {
            return None;
        }
        items.push((k, end));
        k = end;
    }
    let repeat: String = body.get(k..)?.iter().collect();
    if !matches!(repeat.as_str(), "+" | "*" | "++" | "*+") {
        return None;
    }
    let (&(class_at, class_end), string) = items.split_last()?;
    if let Some(&(first_at, first_end)) = string.first() {
        // The string's first character, as a character.
        let first: String = body[first_at..first_end].iter().collect();
        let first = match first.as_str() {
            "\\n" => '\n',
            "\\t" => '\t',
            "\\r" => '\r',
            "." => return None,
            one if one.chars().count() == 1 => one.chars().next()?,
            e if e.len() == 2 && e.starts_with('\\') => {
                let c = e.chars().nth(1)?;
                c.is_ascii_punctuation().then_some(c)?
            }
            _ => return None,
        };
        if !first.is_ascii() || (f.i && first.is_ascii_alphanumeric()) {
            return None;
        }
        // Which the other items match, read as Ruby reads them.
        let mut flags = String::new();
        if f.i {
            flags.push('i');
        }
        if f.m {
            flags.push('m');
        }
        let class = (class_at, class_end);
        for &(a, b) in string[1..].iter().chain([&class]) {
            let item: String = body[a..b].iter().collect();
            let item = match f.cs {
                Charset::Default => item,
                Charset::Ascii => format!("(?a){item}"),
                Charset::Unicode => format!("(?u){item}"),
            };
            let rust = translate_body(&item, &flags).ok()?;
            let re = regex::Regex::new(&format!("^(?:{rust})$")).ok()?;
            if re.is_match(first.encode_utf8(&mut [0; 4])) {
                return None;
            }
        }
    }
    Some(RunBody {
        class_at: offset + class_at,
        repeat_at: offset + k,
        repeat,
        string_length: string.len(),
    })
}

/// The least length in characters of an absent operator's body (Ruby syntax) whose walk can be
/// written out step by step ([`absent::of_walk`]), or `None` where it cannot: alternatives of
/// items, each a character, an escape, a class or `.` matching one character (as
/// [`absent_length`] reads them: under `i`, none whose foldings may be spelled with several
/// characters) or a non-capturing group (maybe with options `i` and `m`) of such alternatives,
/// each item repeated greedily or lazily (`*`, `+`, `?`, `{n,m}`, each maybe followed by `?`)
/// or not; no anchor, look-around, capture group, reference, atomic group or possessive
/// repetition, which read the text past the walk's bound, and no `x` nor comment. With no
/// anchors, a least length of 0 is a body that matches the empty string wherever it is tried.
///
/// With `cut`, also anchors (`^ $ \A \z \Z \b \B \G`), look-arounds, atomic groups and
/// possessive repetitions (`*+ ++ ?+`), which [`absent::of_cut_walk`] reads in the text cut at
/// the bound; anchors and look-arounds count no length (the least length may then be 0 where
/// the body needs not match the empty string).
fn absent_walk_least(body: &[char], mut f: Flags, cut: bool) -> Option<usize> {
    if f.x {
        return None;
    }
    let (mut least, mut total) = (None::<usize>, 0usize);
    // The least length of the item before, which a repetition may take.
    let mut item: Option<usize> = None;
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '|' => {
                least = Some(least.map_or(total, |l| l.min(total)));
                total = 0;
                item = None;
                k += 1;
            }
            '*' | '+' | '?' | '{' => {
                let p = Parser {
                    s: body.to_vec(),
                    i: k,
                    depth: 0,
                    class_flags: f,
                };
                let (min, _, len, braces, comma) = p.quantifier().ok()??;
                k += len;
                let lazy = body.get(k) == Some(&'?');
                if lazy {
                    k += 1;
                }
                // `{n}?` is `(?:…{n})?` in Ruby: it may take nothing.
                let min = if lazy && braces && !comma { 0 } else { min };
                let one = item.take()?;
                total = (total - one).checked_add(one.checked_mul(min as usize)?)?;
                // Possessive (read in the cut text with `cut`).
                if cut && len == 1 && !lazy && body.get(k) == Some(&'+') {
                    k += 1;
                }
                // (Possessive, or repeated again.)
                if matches!(body.get(k), Some('*' | '+' | '?' | '{')) {
                    return None;
                }
            }
            '(' if cut
                && body.get(k + 1) == Some(&'?')
                && matches!(
                    (body.get(k + 2), body.get(k + 3)),
                    (Some('=' | '!' | '>'), _) | (Some('<'), Some('=' | '!'))
                ) =>
            {
                // A look-around (no length, not repeated) or an atomic group.
                let close = group_close(body, k);
                if body.get(close.checked_sub(1)?) != Some(&')') {
                    return None;
                }
                let from = if body[k + 2] == '<' { k + 4 } else { k + 3 };
                let one = absent_walk_least(body.get(from..close - 1)?, f, true)?;
                if body[k + 2] == '>' {
                    total = total.checked_add(one)?;
                    item = Some(one);
                } else {
                    item = None;
                }
                k = close;
            }
            '(' if cut
                && body.get(k + 1) == Some(&'?')
                && body.get(k + 2).is_some_and(|&c| c != ')')
                && body[k + 2..]
                    .iter()
                    .take_while(|&&c| c != ')')
                    .all(|c| matches!(c, 'i' | 'm' | 'a' | 'u' | 'd' | '-'))
                && body[k + 2..].contains(&')') =>
            {
                // An option without a group (`(?i)`), with `cut`: it holds for the rest of the
                // body's group (the translator writes it so), its alternatives after it too.
                let close = k + 2 + body[k + 2..].iter().position(|&c| c == ')')?;
                let mut on = true;
                for &o in &body[k + 2..close] {
                    match o {
                        'i' => f.i = on,
                        'm' => f.m = on,
                        '-' => on = false,
                        _ => {}
                    }
                }
                item = None;
                k = close + 1;
            }
            '(' => {
                let close = group_close(body, k);
                let (colon, g) = option_group(body, k, close, f).or_else(|| {
                    // With `cut`, also `(?a:`, `(?u:`, `(?d:` (which change what `\b`, `\w` and
                    // POSIX brackets match, not how the body is read).
                    let colon = body.get(k + 2..close)?.iter().position(|&c| c == ':')? + k + 2;
                    let letters = body.get(k + 1..colon)?;
                    (cut && letters[0] == '?'
                        && letters[1..].iter().all(|c| matches!(c, 'a' | 'u' | 'd')))
                    .then_some((colon, f))
                })?;
                if body.get(close.checked_sub(1)?) != Some(&')') {
                    return None;
                }
                let one = absent_walk_least(body.get(colon + 1..close - 1)?, g, cut)?;
                total = total.checked_add(one)?;
                item = Some(one);
                k = close;
            }
            '^' | '$' if cut => {
                item = None;
                k += 1;
            }
            '\\' if cut && matches!(body.get(k + 1), Some('A' | 'z' | 'Z' | 'b' | 'B' | 'G')) => {
                item = None;
                k += 2;
            }
            ')' | '^' | '$' => return None,
            _ => {
                let end = match body[k] {
                    '\\' => escape_end(body, k),
                    '[' => bracket_end(body, k),
                    _ => k + 1,
                }
                .min(body.len());
                if end <= k {
                    return None;
                }
                let one = match absent_length(&body[k..end], f) {
                    Some(1) => 1,
                    // Under `i`, a letter, class or escape whose foldings may be spelled with
                    // several characters (`s`, `ß`, `\p{L}`), as the translator writes it:
                    // read in the cut text too, its least length not counted.
                    _ if cut
                        && f.i
                        && !(body[k] == '\\'
                            && matches!(
                                body.get(k + 1),
                                Some('k' | 'g' | 'K' | 'R' | 'X' | '0'..='9')
                            )) =>
                    {
                        0
                    }
                    _ => return None,
                };
                total = total.checked_add(one)?;
                item = Some(one);
                k = end;
            }
        }
    }
    Some(least.map_or(total, |l| l.min(total)))
}

/// The shape of an absent operator's body (Ruby syntax) whose alternatives are not all strings
/// of fixed length: [`AbsentBody::Mixed`] when some are, else [`AbsentBody::Other`]. Not under
/// `x`, nor with an option without a group (`a|(?i)b`), which takes the alternatives after it
/// into its own group, nor with a comment.
fn absent_mixed(body: &[char], f: Flags) -> AbsentBody {
    let text: String = body.iter().collect();
    let option_alone = text.match_indices("(?").any(|(at, _)| {
        let rest = &text[at + 2..];
        let options = rest
            .chars()
            .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'u' | 'd' | '-'))
            .count();
        rest[options..].starts_with(')')
    });
    if f.x || option_alone || text.contains("(?#") {
        return AbsentBody::Other;
    }
    let alts = alternatives_of(&text);
    let lengths: Vec<Option<usize>> = alts
        .iter()
        .map(|a| absent_length(&a.chars().collect::<Vec<_>>(), f))
        .collect();
    if lengths.len() < 2 || lengths.iter().all(Option::is_none) {
        return AbsentBody::Other;
    }
    AbsentBody::Mixed(lengths)
}

/// Is `alt` (an alternative of an absent operator's body, as written for Oniguruma) anchors and
/// look-behinds that read the same in the text Onigmo cuts at the walk's bound as in the whole
/// text, at a position before the bound: no look-ahead (nor one in a look-behind), no `\Z`
/// (which sees the cut end), no capture group, `\K`, reference, call or conditional.
fn absent_cut_anchors(alt: &str) -> bool {
    let anchors = alt
        .replace(ASCII_BOUNDARY, "\\b")
        .replace(ASCII_NOT_BOUNDARY, "\\B");
    only_anchors(&format!("(?:{anchors})"))
        && !anchors.contains("(?=")
        && !anchors.contains("(?!")
        && !anchors.contains("\\Z")
        && !has_capture_text(alt)
        && !alt.contains("\\K")
        && !alt.contains("\\g")
        && !alt.contains("\\k")
        && !alt.contains("(?(")
        && !alt
            .as_bytes()
            .windows(2)
            .any(|w| w[0] == b'\\' && (b'1'..=b'9').contains(&w[1]))
}

/// The refusal of an absent operator whose walk is too long to write out.
fn absent_too_long() -> String {
    unlike_ruby(
        "the absent operator (?~…) with alternatives this long",
        "Ruby's engine runs it by a walk too long to write out here; write \
         (?:(?!body)(?m:.))* for text in which the body does not start, or shorten the \
         alternatives",
    )
}

/// The refusal of an absent operator whose Ruby meaning cannot be written out.
fn absent_refused() -> String {
    unlike_ruby(
        "the absent operator (?~…) with a capture group, a reference, a call, a conditional, \
         \\K, \\R, \\X, a comment, an absent operator, a repeated look-around, a repetition \
         repeated again ((?:a{2})+ runs), or a look-ahead or an end anchor inside a look-behind \
         in its body, or under x",
        "Ruby's engine reads the body in the text cut at each of its matches (it may match text \
         that holds the body), which is written out here only for bodies of characters, \
         classes, groups, repetitions, anchors and look-arounds; write (?:(?!body)(?m:.))* for \
         text in which the body does not start, or leave those out of the body",
    )
}

/// Past the comment groups at `s[j]` (and, under `x`, white space and `#` comments).
fn past_comments(s: &[char], mut j: usize, x: bool) -> usize {
    loop {
        let at = if x { past_extended(s, j) } else { j };
        match comment_end(s, at) {
            Some(end) if s.get(at..at + 3) == Some(&['(', '?', '#'][..]) => j = end,
            _ => return at,
        }
    }
}

/// Append `text`, a counted repetition written out, with what followed its count in the
/// pattern: `optional` (`{n}?`, which Ruby reads as `(?:…{n})?`), or `again`, a `+` or `*`
/// repeating the repetition.
fn put_written_repeat(out: &mut String, text: &str, optional: bool, again: Option<char>) {
    if optional {
        let _ = write!(out, "(?:{text})?");
    } else if let Some(q) = again {
        let _ = write!(out, "(?:{text}){q}");
    } else {
        out.push_str(text);
    }
}

/// A group whose body may match the empty string, repeated a count (`{2}`, `{2,}`, `{1,3}`),
/// closed at `s[k]` (its `(` at `s[open]`, written from `out[start]`): written out as Onigmo
/// runs it (see `counted::empty_body`), `Some` of where the pattern goes on; `None` when it is
/// left as written (both engines run it alike, or a capture group may differ only, see
/// README); refused when Onigmo's reading cannot be told and the minimum count is at least two.
fn empty_body_repeated(
    s: &[char],
    k: usize,
    open: Option<usize>,
    start: usize,
    out: &mut String,
    f: Flags,
    inner: Flags,
) -> Result<Option<usize>, String> {
    let at = past_comments(s, k, f.x);
    if s.get(at) != Some(&'{') {
        return Ok(None);
    }
    let parser = Parser {
        s: s.to_vec(),
        i: at,
        depth: 0,
        class_flags: f,
    };
    let Some((min, max, len, _, comma)) = parser.quantifier().ok().flatten() else {
        return Ok(None);
    };
    // `{n}?` is `(?:…{n})?` in Ruby, `{n,m}?` lazy; `{n}+` and `{n,m}*` repeat the
    // repetition (with no capture group in it, both engines end that one at an empty
    // iteration alike).
    let question = s.get(at + len) == Some(&'?');
    let mut end = at + len + usize::from(question);
    let again = (!question && matches!(s.get(end), Some('+' | '*'))).then(|| s[end]);
    end += usize::from(again.is_some());
    let outcome = match open {
        Some(open) if at == k => {
            let thrice = matches!(s.get(end), Some('?' | '+' | '*' | '{'));
            // Onigmo reads `(?:(a?))` as `(a?)`: the group inside is the one repeated.
            let (s, close, written) = unwrapped(s, open, k, &out[start..]);
            let (s, k) = (&s[..], close);
            // Under `x`, white space and comments in it are not read here.
            let spaced = s[open..k].iter().any(|&c| c.is_whitespace() || c == '#');
            let x = f.x || inner.x || counted::has_option_x(s);
            // Not read either: repeated again with a capture group in it, or a third time.
            let again_captured = again.is_some() && has_capture_text(written);
            let readable = !(spaced && x || again_captured || thrice);
            counted::empty_body(
                &counted::Context {
                    src: s,
                    open,
                    close: k,
                    written,
                    min,
                    max,
                    lazy: question && comma,
                    x,
                    i: inner.i,
                },
                readable,
            )
        }
        _ => counted::EmptyBody::Unknown,
    };
    match outcome {
        counted::EmptyBody::Alike => Ok(None),
        counted::EmptyBody::Written(text) => {
            out.truncate(start);
            put_written_repeat(out, &text, question && !comma, again);
            Ok(Some(end))
        }
        counted::EmptyBody::Unknown if min < 2 => Ok(None),
        counted::EmptyBody::Unknown => {
            let group: String = open.map_or(String::new(), |o| s[o..k].iter().collect());
            Err(unlike_ruby(
                &format!(
                    "a group that may match the empty string repeated at least twice \
                     ({group}{{{min}…}})"
                ),
                "Ruby's engine repeats it by rules of its own (by the size of its compiled \
                 code: copies, each tried also when one before matched the empty string, or \
                 a loop that an empty iteration ends before its count, by rules of its own \
                 again with a capture group in it), which are written out here only for a \
                 body of characters, classes, anchors, look-arounds, groups and repetitions \
                 whose compiled size can be told, or is too long to copy at its least (no \
                 references, calls, classes with other than ASCII characters, nor properties, \
                 POSIX brackets or \\X in a body that may be short enough to copy; under i no \
                 look-behinds, escaped or non-ASCII characters; under x no white space), with \
                 a capture group in a loop only when it is the loop's whole body with none in \
                 it, in a pattern without references or calls, inside no repeated group, \
                 look-behind or absent operator and written out in at most 64 KiB (a count up \
                 to 11), or, with the capture groups in its body, repeated a fixed count \
                 (or none, for those) outside alternations, varying repetitions and negative \
                 look-arounds, not repeated again with a capture group in it; write the repetitions out, \
                 (?:(?!b)a?)(?:(?!b)a?) for (?:(?!b)a?){2}, or make the group match at least \
                 one character",
            ))
        }
    }
}

/// The group at `s[open..close]` (`written` as the rewriter wrote it) without the
/// non-capturing groups whose whole body is one group (`(?:(a?))`, `(?:(?:(a?)))`) around it:
/// Onigmo's parser reads `(?:X)` as `X`, so the group inside is the one a count after them
/// repeats. The pattern with those groups taken out, where the group closes in it, and how it
/// was written; the same when there are none.
fn unwrapped<'a>(
    s: &[char],
    open: usize,
    mut close: usize,
    mut written: &'a str,
) -> (Vec<char>, usize, &'a str) {
    let mut src = s.to_vec();
    while src.get(open..open + 4) == Some(&['(', '?', ':', '('][..])
        && close >= open + 5
        && group_close(&src, open + 3) == close - 1
    {
        let Some(inner) = written
            .strip_prefix("(?:")
            .and_then(|w| w.strip_suffix(')'))
            .filter(|w| {
                let w: Vec<char> = w.chars().collect();
                w.first() == Some(&'(') && group_close(&w, 0) == w.len()
            })
        else {
            break;
        };
        src.remove(close - 1);
        src.drain(open..open + 3);
        close -= 4;
        written = inner;
    }
    (src, close, written)
}

/// Is `group` (Oniguruma's Ruby syntax, as [`rewrite`] wrote it) a non-capturing group that
/// matches only the empty string: anchors, look-arounds, comments and such groups, in sequence
/// or alternatives?
fn only_anchors(group: &str) -> bool {
    let s: Vec<char> = group.chars().collect();
    // `(?:` or `(?imx-imx:`.
    let Some(colon) = s.iter().position(|&c| c == ':') else {
        return false;
    };
    if s.first() != Some(&'(')
        || s.get(1) != Some(&'?')
        || s.last() != Some(&')')
        || !s[2..colon]
            .iter()
            .all(|c| matches!(c, 'i' | 'm' | 'x' | '-'))
    {
        return false;
    }
    let inner = &s[colon + 1..s.len() - 1];
    let mut k = 0;
    let mut any = false;
    while k < inner.len() {
        match inner[k] {
            '^' | '$' | '|' => k += 1,
            '\\' if matches!(
                inner.get(k + 1),
                Some('b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K')
            ) =>
            {
                k += 2
            }
            '(' => {
                // The whole group.
                let end = group_close(inner, k);
                let g: String = inner[k..end].iter().collect();
                let look = g.starts_with("(?=")
                    || g.starts_with("(?!")
                    || g.starts_with("(?<=")
                    || g.starts_with("(?<!")
                    || g.starts_with("(?#");
                if !look && !only_anchors(&g) {
                    return false;
                }
                k = end;
            }
            _ => return false,
        }
        any = true;
    }
    any
}

/// The top-level alternatives of a positive look-behind's body (`(?<=A|B)`), or of the one
/// non-capturing group that is its whole body (`(?<=(?:A|B))`), when there are at least two and
/// no `\K`.
fn behind_alternatives(group: &str) -> Option<Vec<String>> {
    let body = group.strip_prefix("(?<=")?.strip_suffix(')')?;
    let chars: Vec<char> = body.chars().collect();
    let inner = if body.starts_with("(?:") && group_close(&chars, 0) == chars.len() {
        &body[3..body.len() - 1]
    } else {
        body
    };
    let mut alternatives: Vec<String> = alternatives_of(inner)
        .into_iter()
        .map(str::to_string)
        .collect();
    // Groups of alternatives inside them taken out in turn (`(?<=w(?:v(?:(?<!y)(x)|z)|q))` as
    // `(?<=wv(?<!y)(x)|wvz|wq)`), up to 64 alternatives.
    let mut k = 0;
    while k < alternatives.len() && alternatives.len() <= 64 {
        match distributed(&alternatives[k]) {
            Some(more) => {
                alternatives.splice(k..=k, more);
            }
            None => k += 1,
        }
    }
    // (Not with `\K`: Ruby reads it in an alternative of a look-behind by rules of its own.)
    (alternatives.len() >= 2 && drop_keeps(body) == body).then_some(alternatives)
}

/// The length in characters of what `text` (Oniguruma's Ruby syntax, as the translator writes
/// it) matches, when it is one: characters, escapes and classes of one character, `.`,
/// anchors and look-arounds (none), groups whose alternatives all have one length, `{n}`.
fn fixed_length(text: &str) -> Option<usize> {
    let chars: Vec<char> = text.chars().collect();
    let alternatives = alternatives_of(text);
    if alternatives.len() > 1 {
        let first = fixed_length(alternatives[0])?;
        return alternatives
            .iter()
            .all(|a| fixed_length(a) == Some(first))
            .then_some(first);
    }
    let (mut total, mut k) = (0usize, 0);
    while k < chars.len() {
        let (one, end) = match chars[k] {
            '\\' => {
                let end = escape_end(&chars, k);
                match chars.get(k + 1)? {
                    'b' | 'B' | 'A' | 'z' | 'Z' | 'G' => (0, end),
                    'K' | 'R' | 'X' | 'k' | 'g' | '1'..='9' => return None,
                    _ => (1, end),
                }
            }
            '[' => (1, bracket_end(&chars, k)),
            '^' | '$' => (0, k + 1),
            '(' => {
                let end = group_close(&chars, k);
                let group: String = chars[k..end].iter().collect();
                let inner = group.strip_suffix(')')?;
                if ["(?=", "(?!", "(?<=", "(?<!"]
                    .iter()
                    .any(|p| inner.starts_with(p))
                {
                    (0, end)
                } else {
                    let body = if let Some(rest) = inner.strip_prefix("(?") {
                        // `(?:`, `(?i:`, `(?W:`, `(?<name>`, `(?'name'`.
                        let at = rest.find([':', '>', '\''])?;
                        &rest[at + 1..]
                    } else {
                        &inner[1..]
                    };
                    (fixed_length(body)?, end)
                }
            }
            '*' | '+' | '?' | '{' | '|' | ')' => return None,
            _ => (1, k + 1),
        };
        k = end;
        // A count `{n}` multiplies it; any other repetition has no one length.
        let mut count = 1;
        if chars.get(k) == Some(&'{') {
            let close = k + chars[k..].iter().position(|&c| c == '}')?;
            count = chars[k + 1..close]
                .iter()
                .collect::<String>()
                .parse()
                .ok()?;
            k = close + 1;
        }
        if matches!(chars.get(k), Some('*' | '+' | '?' | '{')) {
            return None;
        }
        total = total.checked_add(one * count)?;
    }
    Some(total)
}

/// `body` (a look-behind's, without alternatives at its top level) as alternatives, when it is
/// `P(?:A|B…)S` with no capture group in `P` nor `S`: `PAS`, `PBS` …, in that order. Ruby's
/// rules give `A`, `B` … one length, so Onigmo runs both as one look-behind of that length,
/// trying `A`, `B` … in order after `P`, as the alternatives are tried (`(?<=w(?:(?<!y.)(x)|z))`
/// is `(?<=w(?<!y.)(x)|wz)`).
fn distributed(body: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = body.chars().collect();
    let mut k = 0;
    while k < chars.len() {
        match chars[k] {
            '\\' => k = escape_end(&chars, k),
            '[' => k = bracket_end(&chars, k),
            '(' => {
                let end = group_close(&chars, k);
                let group: String = chars[k..end].iter().collect();
                let alternatives = group
                    .strip_prefix("(?:")
                    .and_then(|g| g.strip_suffix(')'))
                    .map(alternatives_of)
                    .filter(|a| a.len() >= 2);
                // (Not repeated: the group is one part of fixed length.)
                let repeated = matches!(chars.get(end), Some('*' | '+' | '?' | '{'));
                if let (Some(alternatives), false) = (alternatives, repeated) {
                    let before: String = chars[..k].iter().collect();
                    let after: String = chars[end..].iter().collect();
                    if has_capture_text(&before) || has_capture_text(&after) {
                        return None;
                    }
                    // (Of one length, as Ruby requires below the top level; else Ruby refuses
                    // the look-behind, and so does Oniguruma as it is written.)
                    let first = fixed_length(alternatives[0])?;
                    if alternatives.iter().any(|a| fixed_length(a) != Some(first)) {
                        return None;
                    }
                    return Some(
                        alternatives
                            .iter()
                            .map(|a| format!("{before}{a}{after}"))
                            .collect(),
                    );
                }
                k = end.max(k + 1);
            }
            _ => k += 1,
        }
    }
    None
}

/// A positive look-behind holding a capture group or `\K` and, at its top level, negative look-behinds
/// (`(?<=A(?<!Y)B)`, Oniguruma's Ruby syntax as [`rewrite`] wrote it), which Oniguruma refuses
/// and the negation of a negative look-behind cannot hold (no capture group in a negative
/// look-behind), with each negative one taken out: `(?<=AB)(?<!Y(?:B'))`, B' being B without
/// the other negative look-behinds and with its groups non-capturing. The same: a look-behind's
/// parts have fixed lengths (Ruby's rule, its top-level alternatives aside, which are left to
/// the negation), so where Y must not end is fixed by B's length, and B' matches there whenever
/// the positive look-behind does. `None` for other look-behinds.
fn hoist_negative_behinds(group: &str) -> Option<String> {
    let body: Vec<char> = group
        .strip_prefix("(?<=")?
        .strip_suffix(')')?
        .chars()
        .collect();
    // The top-level negative look-behinds (spans in `body`), and whether a group captures.
    let (mut negatives, mut captures) = (Vec::new(), false);
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '\\' => k = escape_end(&body, k),
            '[' => k = bracket_end(&body, k),
            '|' => return None,
            '(' => {
                let end = group_close(&body, k);
                let inner: String = body[k..end].iter().collect();
                if inner.starts_with("(?<!") {
                    negatives.push((k, end));
                } else {
                    captures |= has_capture_text(&inner);
                }
                k = end;
            }
            _ => k += 1,
        }
    }
    // A `\K` is lost in a negative look-behind too (Ruby moves the match's start to it).
    let keeps = drop_keeps(&body.iter().collect::<String>()).chars().count() != body.len();
    if negatives.is_empty() || !(captures || keeps) {
        return None;
    }
    let without = |from: usize| -> String {
        let mut t = String::new();
        let mut j = from;
        for &(a, b) in negatives.iter().filter(|&&(a, _)| a >= from) {
            t.extend(&body[j..a]);
            j = b;
        }
        t.extend(&body[j..]);
        t
    };
    let mut out = format!("(?<={})", without(0));
    for &(a, b) in &negatives {
        // (A group closes in a pattern that parsed; an unclosed one gives nothing.)
        let y: String = body
            .get(a + 4..b.saturating_sub(1))
            .unwrap_or_default()
            .iter()
            .collect();
        let rest = drop_keeps(&non_capturing_groups(&without(b)));
        let alts: Vec<String> = alternatives_of(&y)
            .iter()
            .map(|alt| {
                if rest.is_empty() {
                    alt.to_string()
                } else {
                    format!("{alt}(?:{rest})")
                }
            })
            .collect();
        let _ = write!(out, "(?<!{})", alts.join("|"));
    }
    Some(out)
}

/// The text (Oniguruma's Ruby syntax) without its `\K`s (outside brackets).
fn drop_keeps(text: &str) -> String {
    let s: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut k = 0;
    while k < s.len() {
        let end = match s[k] {
            '\\' if s.get(k + 1) == Some(&'K') => {
                k += 2;
                continue;
            }
            '\\' => escape_end(&s, k),
            '[' => bracket_end(&s, k),
            _ => k + 1,
        };
        out.extend(&s[k..end]);
        k = end;
    }
    out
}

/// Does the text (Oniguruma's Ruby syntax) hold a capture group?
fn has_capture_text(text: &str) -> bool {
    non_capturing_groups(text) != text
}

/// The text with its capture groups (`(…)`, `(?<name>…)`, `(?'name'…)`) made non-capturing.
fn non_capturing_groups(text: &str) -> String {
    let s: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                let end = escape_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '[' => {
                let end = bracket_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if s.get(k + 1) != Some(&'?') => {
                out.push_str("(?:");
                k += 1;
            }
            '(' if s.get(k + 2) == Some(&'<') && !matches!(s.get(k + 3), Some('=' | '!')) => {
                out.push_str("(?:");
                k = past(&s, k + 3, '>');
            }
            '(' if s.get(k + 2) == Some(&'\'') => {
                out.push_str("(?:");
                k = past(&s, k + 3, '\'');
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Is what is written next (its source ending at `s[next]`) the whole of the look-behind just
/// opened (`top`: the innermost open group is a look-behind)? (Next to another alternative, Ruby
/// refuses such a class, `/(?<!\p{Lu}|\w)/i`, or raises on matching, `/(?<=a|[[:alpha:]])x/i`.)
fn alone_in_behind(out: &str, top: bool, s: &[char], next: usize) -> bool {
    top && (out.ends_with("(?<=") || out.ends_with("(?<!")) && s.get(next) == Some(&')')
}

/// Refuse a class under `i` written with the spellings of its several-character foldings inside a
/// look-behind (`in_behind`), next to other items: Ruby refuses some (`/(?<=a\p{Lu})x/i`) and
/// raises on every text that is not ASCII with the others (`/(?<=a[[:alpha:]])x/i`).
fn spelled_class_in_behind(text: &str, in_behind: bool) -> Result<(), String> {
    if in_behind && spread_alternatives(text) != text {
        return Err(unlike_ruby(
            "a class under case-insensitive matching that holds letters with several-letter \
             foldings (ß, ﬁ …) in a look-behind, next to other items or alternatives",
            "Ruby refuses some and fails on every text that is not ASCII with the others; put \
             the class in (?-i:…) and list the cases, or make it the whole look-behind",
        ));
    }
    Ok(())
}

/// A class written with the spellings of its several-character foldings (`(?-i:(?:[…]|ss|…))`)
/// as top-level alternatives (`(?-i:[…])|(?-i:ss)|…`): Ruby expands such a class in a
/// look-behind into alternatives of the look-behind, which may differ in length only there.
fn spread_alternatives(text: &str) -> String {
    let Some(inner) = text
        .strip_prefix("(?-i:(?:")
        .and_then(|t| t.strip_suffix("))"))
    else {
        return text.to_string();
    };
    let chars: Vec<char> = text.chars().collect();
    if group_close(&chars, 5) != chars.len() - 1 {
        return text.to_string();
    }
    let alts = alternatives_of(inner);
    if alts.len() < 2 {
        return text.to_string();
    }
    alts.iter()
        .map(|a| format!("(?-i:{a})"))
        .collect::<Vec<_>>()
        .join("|")
}

/// The inner text and prefix of a non-capturing group (`(?:…)`, `(?imx-imx:…)`).
fn non_capturing(group: &str) -> Option<(&str, &str)> {
    let rest = group.strip_prefix("(?")?.strip_suffix(')')?;
    let chars: Vec<char> = group.chars().collect();
    if group_close(&chars, 0) != chars.len() {
        // Not one group (`(?:a)(?:b)`).
        return None;
    }
    let colon = rest.find(':')?;
    rest[..colon]
        .chars()
        .all(|c| matches!(c, 'i' | 'm' | 'x' | '-'))
        .then(|| (&group[..colon + 3], &rest[colon + 1..]))
}

/// The top-level alternatives of a group's inner text (brackets, escapes and groups skipped).
fn alternatives_of(inner: &str) -> Vec<&str> {
    let s: Vec<(usize, char)> = inner.char_indices().collect();
    let chars: Vec<char> = inner.chars().collect();
    let (mut parts, mut from, mut depth, mut k) = (Vec::new(), 0, 0usize, 0);
    while k < chars.len() {
        match chars[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(&chars, k) - 1,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                parts.push(&inner[from..s[k].0]);
                from = s[k].0 + 1;
            }
            _ => {}
        }
        k += 1;
    }
    parts.push(&inner[from..]);
    parts
}

/// A non-capturing group with its alternatives that match only the empty string (anchors,
/// look-arounds; at any depth of non-capturing groups) written as atomic groups, or `None` when
/// it has none.
fn atomic_anchor_alternatives(group: &str) -> Option<String> {
    let (prefix, inner) = non_capturing(group)?;
    let alts = alternatives_of(inner);
    if alts.len() < 2 && non_capturing(inner).is_none() {
        return None;
    }
    let mut changed = false;
    let written: Vec<String> = alts
        .iter()
        .map(|alt| {
            if !alt.is_empty() && only_anchors(&format!("(?:{alt})")) {
                changed = true;
                format!("(?>{alt})")
            } else if let Some(t) = atomic_anchor_alternatives(alt) {
                changed = true;
                t
            } else {
                alt.to_string()
            }
        })
        .collect();
    changed.then(|| format!("{prefix}{})", written.join("|")))
}

/// Just past the comment group opening at `s[k]` (`(?#`): its first `)` not escaped (Ruby's
/// reader skips the character after a backslash there); `None` when it is not closed.
pub(crate) fn comment_end(s: &[char], k: usize) -> Option<usize> {
    let mut j = k + 3;
    while j < s.len() {
        match s[j] {
            '\\' => j += 2,
            ')' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// `\u{H …}` lists (of ASCII characters: [`escapes::as_written`] writes the others out) as
/// `\x{H}` each: Oniguruma's Ruby syntax reads only `\uHHHH`.
fn unicode_lists(pattern: &str) -> Result<String, String> {
    if !pattern.contains("\\u{") {
        return Ok(pattern.to_string());
    }
    let s: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut k = 0;
    while k < s.len() {
        if s[k] != '\\' {
            out.push(s[k]);
            k += 1;
            continue;
        }
        if s.get(k + 1) == Some(&'u') && s.get(k + 2) == Some(&'{') {
            let end = past(&s, k + 3, '}');
            let inner: String = s[k + 3..end.saturating_sub(1).max(k + 3)].iter().collect();
            let items: Vec<&str> = inner.split(' ').filter(|h| !h.is_empty()).collect();
            let valid = s.get(end - 1) == Some(&'}')
                && !items.is_empty()
                && items
                    .iter()
                    .all(|h| h.len() <= 6 && h.chars().all(|c| c.is_ascii_hexdigit()));
            // Ruby refuses an invalid one anywhere, in a comment too.
            if !valid {
                return Err("invalid Unicode list".into());
            }
            for h in items {
                let _ = write!(out, "\\x{{{h}}}");
            }
            k = end;
            continue;
        }
        out.extend(&s[k..(k + 2).min(s.len())]);
        k += 2;
    }
    Ok(out)
}

/// Where the escape at `s[k]` (a backslash) ends, with its argument: `\cX`, `\C-X`, `\M-X`,
/// `\xHH`, `\uHHHH`, `\u{…}`, `\p{…}`, `\k<…>`, `\g'…'` …
pub(crate) fn escape_end(s: &[char], k: usize) -> usize {
    let hex = |from: usize, max: usize| {
        from + s[from.min(s.len())..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_hexdigit())
            .count()
    };
    let end = match (s.get(k + 1), s.get(k + 2)) {
        (Some('c'), _) => k + 3,
        (Some('C' | 'M'), Some('-')) => k + 4,
        (Some('x'), _) => hex(k + 2, 2),
        (Some('u' | 'p' | 'P'), Some('{')) => past(s, k + 3, '}'),
        (Some('u'), _) => hex(k + 2, 4),
        (Some('k' | 'g'), Some('<')) => past(s, k + 3, '>'),
        (Some('k' | 'g'), Some('\'')) => past(s, k + 3, '\''),
        _ => k + 2,
    };
    end.min(s.len())
}

/// How [`for_oniguruma`] writes a string with several-letter spellings inside a look-behind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behind {
    /// Every text with the same whole folding (`(?<=ß)` as `ß`, `ẞ`, `ss`, `SS` …): what the
    /// user means, where Ruby 3.1's Onigmo reads such strings by rules of its own that lose
    /// matches (`/(?<=ß)y/i` does not match `ßy`) or raise (see README, "Differences from
    /// Fluentd"). The alternatives differ in length: Oniguruma runs them as a variable-length
    /// look-behind.
    Spellings,
    /// The folding as a fixed string (`(?<=ß)` as `(?<=(?-i:ss))`), only to check the pattern
    /// with Ruby's rules for look-behinds (fixed lengths, what may be inside).
    Folding,
}

/// A pattern rewritten for Oniguruma by [`for_oniguruma`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForOniguruma {
    /// The pattern to run, in Oniguruma's Ruby syntax.
    pub pattern: String,
    /// When a look-behind holds a string written out with its several-letter spellings: the
    /// pattern with those strings as their foldings (fixed lengths), which must compile with
    /// Ruby's rules for look-behinds before `pattern` is compiled with variable-length ones.
    pub fixed_behinds: Option<String>,
    /// A positive look-behind holding a negative one is written as the negation of a negative
    /// look-behind (`(?<=a(?<!x))` as `(?<!(?<!a(?<!x)))`: Oniguruma refuses a negative
    /// look-behind inside a positive one, Ruby does not); it may then hold no capture group.
    /// (One with a capture group has the negative look-behinds at its top level taken out
    /// instead: `(?<=(?<!y)(x))` as `(?<=(x))(?<!y(?:x))`.)
    pub double_negated: bool,
    /// The pattern is wrapped in a named group, [`WHOLE_GROUP`], which `\g<0>` calls: Oniguruma
    /// refuses a numbered call in a pattern with named groups, Ruby takes `\g<0>`. Engine group
    /// 1 is then not one of Ruby's.
    pub whole_group: bool,
    /// The capture groups an absent operator was written with (`(?~a+)`, see
    /// `absent::of_run`), by number: not Ruby's groups. When there are any, the pattern is
    /// compiled with Oniguruma's option to capture every group, named or not, and the
    /// pattern's unnamed groups are then engine groups too (a pattern with named groups numbers
    /// only those in Ruby).
    pub helper_groups: Vec<usize>,
}

/// A string Ruby folds as a whole under `i`, written out with its several-letter spellings in
/// Ruby syntax (`ss` also as `ß`, `ẞ`): inside a look-behind as `behind` says, elsewhere in
/// Onigmo's pieces; `None` when it has none, or when the translator leaves its folding to
/// Oniguruma.
fn spelled(run: &[char], behind: Option<Behind>) -> Result<Option<String>, String> {
    if !run.iter().any(|&c| joins_fold(c)) {
        return Ok(None);
    }
    let mut rust = String::new();
    match emit_run(run, behind.is_some(), &mut rust) {
        Ok(()) if behind == Some(Behind::Folding) && rust.contains('|') => {
            let fixed: String = string_fold::folding(run);
            Ok(fold::rust_to_ruby(&regex_syntax::escape(&fixed), false))
        }
        Ok(()) => Ok(fold::rust_to_ruby(&rust, true)),
        Err(e) if needs_backtracking(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Rewrite a Ruby pattern for Oniguruma, which reads Ruby syntax as Ruby does but for Onigmo's
/// own rules: bracket expressions and `\p{…}` whose case-insensitive meaning follows those rules
/// (see [`crate::ruby_regexp::fold`]), and what `(?u)` and `(?a)` change (`\d \s \w`, POSIX
/// brackets, `\b`; Oniguruma's Ruby syntax has no such options), are written out as the
/// translator reads them, as explicit sets run case-sensitively. Everything else is kept as
/// written.
///
/// A string with several-letter spellings inside a look-behind is written out with every
/// spelling of its whole folding (see [`ForOniguruma::fixed_behinds`]).
///
/// Where Oniguruma reads Ruby syntax otherwise, the pattern is written for it: `\u{…}` lists as
/// `\x{…}`, `\o` as the letter, a repeated anchor or group of anchors as once or optional, a
/// repeated alternation's anchor alternatives as atomic groups, the absent operator `(?~X)`
/// (`X` alternatives of fixed lengths, some of them maybe empty or anchors, or anchors) as Onigmo
/// walks it, a positive look-behind
/// holding negative ones as described at [`ForOniguruma::double_negated`]; and what Ruby refuses
/// that Oniguruma would take (in look-behinds: repetitions of a varying count, back-references,
/// conditionals, `\z`; conditions Ruby does not know; meta escapes) is refused.
pub fn for_oniguruma(src: &str, flags: &str) -> Result<ForOniguruma, String> {
    let written = rewrite(src, flags, Behind::Spellings)?;
    if let Some(group) = stale::called_repetition(src, flags) {
        return Err(unlike_ruby(
            &format!(
                "a called group whose body is a greedy repetition without a maximum, with an \
                 item after it ({group})"
            ),
            "Ruby's engine compiles the repetition once, for where the group stands, taking \
             its way out only before the first character of what follows it there, and a call \
             runs that code elsewhere (/(b*)b\\g<1>/ matches only b in bb, and nothing in b); \
             write the group's body out in place of the call, or end the group's body with \
             something after the repetition",
        ));
    }
    // Where Onigmo's search tries a pattern with the implicit anchor of a `.` after a
    // look-ahead holding a repetition without a maximum: those positions written out.
    let open_ahead = if anychar::anchor_after_open_ahead(src, flags) {
        match anychar::open_ahead_tries(src, flags) {
            Some(tries) if !written.whole_group => Some(tries),
            _ => {
                return Err(unlike_ruby(
                    "a `.` repeated without a maximum after a look-ahead holding a repetition \
                     without a maximum, where what Ruby's engine reads from the look-ahead to \
                     search for is not told here ((?=[ -~]b+).*x under m, (?=kb+).* under i; \
                     items before the `.` other than look-aheads, anchors and group openings; \
                     options, x)",
                    "Ruby's search tries such a pattern only where the implicit anchor of the \
                     `.` and what it searches for let it; write (?>.)* for .* to try every \
                     position, or \\A before the pattern to try only the start",
                ));
            }
        }
    } else {
        None
    };
    let fixed_behinds = if written.spelled_behind {
        Some(rewrite(src, flags, Behind::Folding)?.pattern)
    } else {
        None
    };
    // Ruby's search tries the start, then the next character only when the first is one
    // byte: both written out (`\K` makes the second start the match after that character).
    let start_or_next = |pattern: String| match open_ahead {
        Some(OpenAheadTries::StartOrNextByte) => {
            format!("\\G(?:|(?-i:[\\x00-\\x7F])\\K)(?:{pattern})")
        }
        Some(OpenAheadTries::Start) => format!("\\G(?:{pattern})"),
        // (The `.` written atomic: Oniguruma tries every position the rest allows.)
        Some(OpenAheadTries::StartAndLineStarts) => {
            format!(
                "(?:\\G|(?<=\\n))(?:{})",
                anychar::atomic_dots(&pattern, flags)
            )
        }
        Some(OpenAheadTries::Every) => anychar::atomic_dots(&pattern, flags),
        None if !written.whole_group && anychar::start_or_next_byte(src, flags) => {
            format!("\\G(?:|(?-i:[\\x00-\\x7F])\\K)(?:{pattern})")
        }
        None => pattern,
    };
    let fixed_behinds = fixed_behinds.map(start_or_next);
    Ok(ForOniguruma {
        pattern: start_or_next(anychar::unanchored(src, &written.pattern, flags)),
        fixed_behinds,
        double_negated: written.double_negated,
        whole_group: written.whole_group,
        helper_groups: written.helper_groups,
    })
}

/// Refuse a group inside a look-behind (`rest`: the text after its `(?`) that Ruby refuses there:
/// an atomic group, `(?>…)`, or an absence operator, `(?~…)` (Oniguruma would take them).
fn look_behind_allows(rest: &[char]) -> Result<(), String> {
    if matches!(rest.first(), Some('>' | '~')) {
        return Err("invalid pattern in look-behind".into());
    }
    Ok(())
}

/// Refuse a look-behind body (Ruby syntax, nested look-behinds left to their own check) with what
/// Ruby refuses there and Oniguruma would take: a repetition of a varying count (`a+?`, `a{1,2}`,
/// `\A?`, `x{2}?`, which Oniguruma shortens or reads as fixed), a back-reference, a look-ahead,
/// a conditional, `\z` or `\Z`. (Ruby's other rules, Oniguruma applies alike.)
fn ruby_behind_allows(body: &[char], x: bool) -> Result<(), String> {
    let refused = || Err("invalid pattern in look-behind".to_string());
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '\\' => {
                if let Some('1'..='9' | 'k' | 'z' | 'Z') = body.get(k + 1) {
                    return refused();
                }
                k = escape_end(body, k);
                continue;
            }
            '[' => {
                k = bracket_end(body, k);
                continue;
            }
            '#' if x => {
                k = past(body, k, '\n');
                continue;
            }
            '(' if body.get(k + 1) == Some(&'?') => {
                match (body.get(k + 2), body.get(k + 3)) {
                    (Some('=' | '!' | '('), _) => return refused(),
                    (Some('<'), Some('=' | '!')) => {
                        // Its own check; a repetition of it counts here.
                        k = group_close(body, k);
                        continue;
                    }
                    (Some('#'), _) => {
                        k = comment_end(body, k).unwrap_or(body.len());
                        continue;
                    }
                    _ => {}
                }
            }
            '*' | '+' | '?' if k > 0 && body[k - 1] != '(' => return refused(),
            '{' => {
                let p = Parser {
                    s: body.to_vec(),
                    i: k,
                    depth: 0,
                    class_flags: Flags {
                        i: false,
                        m: false,
                        x,
                        cs: Charset::Default,
                    },
                };
                if let Ok(Some((min, max, len, _, _))) = p.quantifier() {
                    if max != Some(min) || matches!(body.get(k + len), Some('?' | '+')) {
                        return refused();
                    }
                    k += len;
                    continue;
                }
            }
            _ => {}
        }
        k += 1;
    }
    Ok(())
}

/// The branches of a conditional's body (Ruby syntax): its top-level alternatives, where an
/// option without a group (`(?m)`) takes the alternatives after it into a group of its own.
fn conditional_branches(body: &str) -> usize {
    let alts = alternatives_of(body);
    let mut branches = 0;
    for alt in &alts {
        branches += 1;
        let chars: Vec<char> = alt.chars().collect();
        let mut k = 0;
        let mut isolated = false;
        while k < chars.len() {
            match chars[k] {
                '\\' => k = escape_end(&chars, k),
                '[' => k = bracket_end(&chars, k),
                '(' => {
                    let end = group_close(&chars, k);
                    // An option group without a body: `(?m)`, `(?i-x)`.
                    let g = &chars[k..end];
                    isolated |= g.len() > 3
                        && g.starts_with(&['(', '?'])
                        && g.ends_with(&[')'])
                        && g[2..g.len() - 1]
                            .iter()
                            .all(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'u' | 'd' | '-'));
                    k = end;
                }
                _ => k += 1,
            }
        }
        if isolated {
            break;
        }
    }
    branches
}

/// Refuse a conditional's condition (the text inside `(?(…)`) that Ruby refuses: Ruby takes a
/// group number or a name in `<…>` or `'…'` (with a level, `<n+0>`), Oniguruma more (relative
/// numbers, bare names, expressions).
fn ruby_condition(cond: &[char]) -> Result<(), String> {
    let digits = |t: &[char]| !t.is_empty() && t.iter().all(char::is_ascii_digit);
    let ok = match (cond.first(), cond.last()) {
        _ if digits(cond) => true,
        (Some('<'), Some('>')) | (Some('\''), Some('\'')) if cond.len() > 2 => {
            let inner = &cond[1..cond.len() - 1];
            let name_end = inner
                .iter()
                .rposition(|c| matches!(c, '+' | '-'))
                .filter(|&p| p > 0 && digits(&inner[p + 1..]))
                .unwrap_or(inner.len());
            let name = &inner[..name_end];
            digits(name)
                || (!name.is_empty()
                    && !name[0].is_ascii_digit()
                    && name.iter().all(|c| c.is_alphanumeric() || *c == '_'))
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("invalid conditional pattern".into())
    }
}

/// What [`rewrite`] wrote.
struct Rewritten {
    pattern: String,
    /// A string inside a look-behind was written with several-letter spellings.
    spelled_behind: bool,
    /// A positive look-behind was written as the negation of a negative one.
    double_negated: bool,
    /// The pattern was wrapped in [`WHOLE_GROUP`] for `\g<0>`.
    whole_group: bool,
    /// See [`ForOniguruma::helper_groups`].
    helper_groups: Vec<usize>,
}

/// Refuse a Ruby pattern (under `flags`) in which a loop would read a capture group's stale empty
/// value as Onigmo does, which neither engine here follows: a capture group that may match the
/// empty string beside items that may match text, in a group that may match the empty string
/// repeated a varying count (`(?:(a?)b?)*`), or in such a loop inside another repeated group
/// (`(?:[ab](a*){1,3}){2,5}`).
pub fn stale_captures(src: &str, flags: &str) -> Result<(), String> {
    stale::check(src, flags)
}

/// A pattern [`for_oniguruma`] wrote (under `flags`; with `capture_all`, every group captures)
/// whose loops read stale capture groups, with those loops written to run Onigmo's test for
/// empty iterations on Oniguruma through callouts (see `stale::instrument`); `None` where they
/// cannot be.
pub(crate) fn instrument_empty_loops(
    pattern: &str,
    flags: &str,
    capture_all: bool,
) -> Option<String> {
    stale::instrument(pattern, flags, capture_all)
}

/// The name of the group [`for_oniguruma`] wraps a pattern with named groups in when it calls
/// itself, `\g<0>` (see [`ForOniguruma::whole_group`]).
pub const WHOLE_GROUP: &str = "__logferry_whole";

pub use conditional::COND_GROUP;

/// [`for_oniguruma`]'s rewriting, with strings inside look-behinds written as `behind` says.
fn rewrite(src: &str, flags: &str, behind: Behind) -> Result<Rewritten, String> {
    // Absent operators' bodies with optional parts, as the alternatives Onigmo tries.
    let src = absent::expand(src, flags);
    let src = escapes::as_written(&src);
    // Conditionals as Onigmo reads them (levels, names, a group of two alternatives).
    let src = conditional::as_onigmo_reads(&src, flags)?.into_owned();
    let s: Vec<char> = src.chars().collect();
    // Ruby refuses a meta escape (`\M-a`, `\C-\M-a`) in a UTF-8 pattern; Oniguruma takes it.
    let mut j = 0;
    while j < s.len() {
        if s[j] == '\\' {
            if s.get(j + 1) == Some(&'M') && s.get(j + 2) == Some(&'-') {
                return Err("too short escaped multibyte character".into());
            }
            j += 1;
        }
        j += 1;
    }
    let mut f = Flags {
        i: flags.contains('i'),
        m: flags.contains('m'),
        x: flags.contains('x'),
        cs: Charset::Default,
    };
    // Each open group: the flags to restore, where its text starts in `out`, and whether it is a
    // look-around.
    let mut stack: Vec<(Flags, usize, bool)> = Vec::new();
    // Where each open group opens in `s` (its `(`).
    let mut opens: Vec<usize> = Vec::new();
    // The depths of the stack at which the open look-behinds opened, and whether each is
    // negative.
    let mut behinds: Vec<usize> = Vec::new();
    let mut negative_behinds: Vec<bool> = Vec::new();
    // Whether each open look-behind is positive and holds a negative one: Oniguruma refuses that
    // (Ruby runs it), so it is written as the negation of a negative look-behind,
    // `(?<=a(?<!x))` as `(?<!(?<!a(?<!x)))`, which Oniguruma runs with the same meaning.
    let mut double_negated: Vec<bool> = Vec::new();
    let mut any_double_negated = false;
    // Whether `\g<0>` occurs.
    let mut calls_whole = false;
    // Whether the pattern refers to its groups (a back-reference, a call, a conditional): then
    // Ruby may come back into a look-behind for another way to match it, with other captures,
    // which a look-behind written otherwise need not give.
    let refers = {
        let t: String = s.iter().collect();
        t.contains("\\k")
            || t.contains("\\g")
            || t.contains("(?(")
            || s.windows(2)
                .any(|w| w[0] == '\\' && w[1].is_ascii_digit() && w[1] != '0')
    };
    // Whether it refers to its groups by number or calls one: the capture groups an absent
    // operator is written with would be counted there (references by name find their group).
    let refers_by_number = {
        let t: String = s.iter().collect();
        let numbered = |name: &str| !name.starts_with(|c: char| c.is_alphabetic() || c == '_');
        t.contains("\\g")
            || s.windows(2)
                .any(|w| w[0] == '\\' && w[1].is_ascii_digit() && w[1] != '0')
            || t.match_indices("\\k")
                .any(|(at, _)| numbered(t[at + 2..].get(1..).unwrap_or("")))
            || t.match_indices("(?(").any(|(at, _)| {
                let rest = &t[at + 3..];
                numbered(rest.strip_prefix(['<', '\'']).unwrap_or(rest))
            })
    };
    // The open absent operators: the depth of the stack at which each opened, and what its body
    // is (see [`absent_lengths`]).
    let mut absents: Vec<(usize, AbsentBody, bool, bool)> = Vec::new();
    // The conditionals of one branch (`(?(1)a)`), by depth: written with an empty second one.
    let mut one_branch: Vec<usize> = Vec::new();
    // Whether a string inside one was written with several-letter spellings.
    let mut spelled_behind = false;
    let mut out = String::with_capacity(src.len() + 16);
    let parser = |i: usize, f: Flags| Parser {
        s: s.clone(),
        i,
        depth: 0,
        class_flags: f,
    };
    // Whether a counted repetition (`{n}`, `{n,m}`, `{,m}`) occurs anywhere.
    // (Not the braces of an escape, `\u{62}`, `\p{Alpha}`; a brace in brackets counts.)
    let counted_anywhere = (0..s.len()).any(|j| {
        s[j] == '{'
            && j > 0
            && s[j - 1] != '\\'
            && !(j > 1 && s[j - 2] == '\\' && s[j - 1].is_ascii_alphabetic())
            && matches!(
                parser(
                    j,
                    Flags {
                        i: false,
                        m: false,
                        x: false,
                        cs: Charset::Default
                    }
                )
                .quantifier(),
                Ok(Some((_, _, _, true, _)))
            )
    });
    // Ruby repeats an anchor or a look-around (`\b*`, `(?=x){2}`, `^?`) as if it were once,
    // or optional when the repetition may be empty; Oniguruma refuses the repetition: written
    // out as the anchor itself, or an alternative with the empty string (`(?:\b|)`).
    let repeated_once = |anchor: &str, j: usize, f: Flags| -> Option<(String, usize)> {
        let j = past_comments(&s, j, f.x);
        let (min, max, len, counted, comma) = parser(j, f).quantifier().ok()??;
        let after = s.get(j + len).copied();
        let (optional, lazy, possessive) = match after {
            Some('?') if counted && !comma => (true, false, false),
            Some('?') => (false, true, false),
            Some('+') if !counted => (false, false, true),
            // `{n,m}+` repeats the repetition in Ruby (not possessive): the `+` comes next.
            Some('+') => (false, false, false),
            _ => (false, false, false),
        };
        let used = len + usize::from(optional || lazy || possessive);
        let text = if max == Some(0) {
            format!("(?:(?!){anchor}|)")
        } else if min > 0 && !optional {
            anchor.to_string()
        } else if lazy {
            format!("(?:|{anchor})")
        } else if possessive {
            format!("(?>{anchor}|)")
        } else {
            format!("(?:{anchor}|)")
        };
        Some((text, j + used))
    };
    // (A repetition of a repetition repeats what the first wrote.)
    let repeated_anchor = |anchor: &str, j: usize, f: Flags| -> Option<(String, usize)> {
        let mut done = repeated_once(anchor, j, f)?;
        while let Some(again) = repeated_once(&done.0, done.1, f) {
            done = again;
        }
        Some(done)
    };
    let quantifier_at = |j: usize, f: Flags| match s.get(j) {
        Some('*' | '+' | '?') => true,
        Some('{') => parser(j, f).quantifier().ok().flatten().is_some(),
        _ => false,
    };
    // Under `i` Ruby folds each string (a run of plain characters; a class of one letter starts
    // one, `[s]s` matching `ß`; a letter repeated at least twice, `s{2}`, is the letter written
    // out that many times, up to 100 bytes, then the rest repeated) as a whole, which Oniguruma
    // does not quite: strings that can take several-letter spellings (`ss` as `ß`) are written
    // out with their spellings (`first` holds the class's letter, `j` is where plain
    // characters go on).
    let string_at = |first: Option<char>,
                     mut j: usize,
                     f: Flags,
                     in_behind: bool|
     -> Result<(String, usize), String> {
        let behind = in_behind.then_some(behind);
        let plain = |c: char| {
            !matches!(
                c,
                '\\' | '[' | ']' | '(' | ')' | '{' | '}' | '|' | '.' | '*' | '+' | '?' | '^' | '$'
            ) && !(f.x && (c == '#' || c.is_whitespace()))
        };
        // Under `x` a string goes on past spaces and comments.
        let skip_x = |j: usize| if f.x { past_extended(&s, j) } else { j };
        let mut run: Vec<char> = first.into_iter().collect();
        let (mut last, mut at) = (j, skip_x(j));
        while let Some(&c) = s.get(at).filter(|&&c| plain(c)) {
            run.push(c);
            last = at;
            j = at + 1;
            at = skip_x(j);
        }
        if quantifier_at(at, f) && run.len() > 1 {
            // The last character is what the quantifier repeats.
            run.pop();
            j = last;
        } else if quantifier_at(at, f) {
            let c = run[0];
            let j = at;
            let (min, max, len, counted, comma) =
                parser(j, f)
                    .quantifier()?
                    .unwrap_or((1, Some(1), 0, false, false));
            let after = s.get(j + len).copied();
            if counted && min >= 2 && after != Some('+') {
                let k = (min as usize).min((100 / c.len_utf8()).max(1)) as u32;
                let text: Vec<char> = std::iter::repeat_n(c, k as usize).collect();
                let mut out = spelled(&text, behind)?
                    .unwrap_or_else(|| format!("(?:){}(?:)", text.iter().collect::<String>()));
                let optional = after == Some('?') && !comma;
                let lazy = after == Some('?') && comma;
                if max.is_none_or(|m| m > k) {
                    let _ = write!(
                        out,
                        "(?:{c}){{{},{}}}{}",
                        min - k,
                        max.map(|m| (m - k).to_string()).unwrap_or_default(),
                        if lazy { "?" } else { "" }
                    );
                }
                if optional {
                    out = format!("(?:{out})?");
                }
                let next = j + len + usize::from(after == Some('?'));
                if quantifier_at(if f.x { past_extended(&s, next) } else { next }, f) {
                    // A repetition of the repetition repeats all of it (`a{2}{3}`).
                    out = format!("(?:{out})");
                }
                return Ok((out, next));
            }
        }
        let text = match spelled(&run, behind)? {
            Some(t) => t,
            None => run.iter().collect(),
        };
        Ok((text, j))
    };
    // Where the text written for each position of `s` inside an absent operator starts in
    // `out` (see [`AbsentBody::Run`]).
    let mut marks: Vec<(usize, usize)> = Vec::new();
    // The absent operators written with capture groups of their own (see `number_helpers`).
    let mut helpers = 0usize;
    let mut k = 0;
    while k < s.len() {
        if !absents.is_empty() {
            marks.push((k, out.len()));
        }
        let c = s[k];
        match c {
            '\\' => {
                let Some(&e) = s.get(k + 1) else {
                    out.push(c);
                    break;
                };
                let written = match e {
                    'p' | 'P' => {
                        let mut p = parser(k + 2, f);
                        match p.property(e) {
                            Ok((text, info, neg)) if f.i || info.rust_only => {
                                let text = if text.starts_with('[') {
                                    text
                                } else {
                                    format!("[{text}]")
                                };
                                let rust = finish_class(text.clone(), &info, f.i, neg);
                                class_for_oniguruma(&text, rust, f.i, info.rust_only)?
                                    .map(|t| (t, p.i))
                            }
                            _ => None,
                        }
                    }
                    // Under (?u) (as the translator writes them: no folding).
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' if f.cs == Charset::Unicode => {
                        unicode_shorthand(e)
                            .and_then(|t| fold::rust_to_ruby(&t, false))
                            .map(|t| (t, k + 2))
                    }
                    // `\w` under `i` (Ruby folds no ſ or K into it).
                    'w' | 'W' if f.i => Parser::shorthand_item(e, f.cs)
                        .and_then(|(text, info)| {
                            let text = if text.starts_with('[') {
                                text
                            } else {
                                format!("[{text}]")
                            };
                            let neg = shorthand(e).is_some_and(|(_, neg)| neg);
                            let rust = finish_class(text.clone(), &info, f.i, neg);
                            class_for_oniguruma(&text, rust, f.i, false).transpose()
                        })
                        .transpose()?
                        .map(|t| (t, k + 2)),
                    // Oniguruma takes a bare \x or \u for the letter; Ruby refuses it.
                    'x' if !s.get(k + 2).is_some_and(char::is_ascii_hexdigit) => {
                        return Err("invalid hex escape".into());
                    }
                    'u' if s.get(k + 2) != Some(&'{')
                        && !(2..6).all(|j| s.get(k + j).is_some_and(char::is_ascii_hexdigit)) =>
                    {
                        return Err("invalid Unicode escape".into());
                    }
                    // Ruby reads `\o` as the letter (`\o{3}` is `ooo`); Oniguruma `\o{…}` as octal.
                    'o' => Some(("o".to_string(), k + 2)),
                    // `\g<0>`: the whole pattern (a call by name once it is wrapped, below).
                    'g' if matches!(
                        s.get(k + 2..k + 5),
                        Some(['<', '0', '>'] | ['\'', '0', '\''])
                    ) =>
                    {
                        calls_whole = true;
                        Some((format!("\\g<{WHOLE_GROUP}>"), k + 5))
                    }
                    'b' if f.cs == Charset::Ascii => Some((ASCII_BOUNDARY.to_string(), k + 2)),
                    'B' if f.cs == Charset::Ascii => Some((ASCII_NOT_BOUNDARY.to_string(), k + 2)),
                    'b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K' => Some((format!("\\{e}"), k + 2)),
                    _ => None,
                };
                // A repeated anchor.
                let written = written.map(|(text, next)| {
                    let anchor = matches!(e, 'b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K');
                    match anchor.then(|| repeated_anchor(&text, next, f)).flatten() {
                        Some(repeated) => repeated,
                        None => (text, next),
                    }
                });
                if let Some((text, next)) = written {
                    let text =
                        if alone_in_behind(&out, behinds.last() == Some(&stack.len()), &s, next) {
                            spread_alternatives(&text)
                        } else {
                            spelled_class_in_behind(&text, !behinds.is_empty())?;
                            text
                        };
                    out.push_str(&text);
                    k = next;
                    continue;
                }
                let end = escape_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '[' => {
                let mut p = parser(k + 1, f);
                let read = p.class_set();
                if let Err(e) = &read {
                    if !needs_backtracking(e) {
                        // Ruby's own syntax error.
                        return Err(e.clone());
                    }
                }
                let Ok((text, info, neg)) = read else {
                    // A class the translator does not read (`[+--]`, `[a&&]` …): Oniguruma reads
                    // it as written, unless Onigmo's own rules could apply to it.
                    let end = bracket_end(&s, k);
                    let class: String = s[k..end].iter().collect();
                    if f.cs != Charset::Default || (f.i && !class.is_ascii()) {
                        return Err(unlike_ruby(
                            &format!("the character class {class} here"),
                            "Ruby reads it by rules of its own (case folding, (?a)/(?u)) that \
                             cannot be written out for it; write the class another way",
                        ));
                    }
                    out.push_str(&class);
                    k = end;
                    continue;
                };
                let one_char = !neg && fold::only_char(&text).is_some();
                if let Some(c) = fold::only_char(&text).filter(|c| f.i && !neg && c.is_alphabetic())
                {
                    let (text, next) = string_at(Some(c), p.i, f, !behinds.is_empty())?;
                    spelled_behind |= !behinds.is_empty() && text.contains('|');
                    out.push_str(&text);
                    k = next;
                    continue;
                }
                let force = f.cs != Charset::Default || info.rust_only;
                let written = if (f.i && !one_char) || force {
                    let rust = finish_class(text.clone(), &info, f.i, neg);
                    class_for_oniguruma(&text, rust, f.i, force)?
                } else {
                    None
                };
                match written {
                    Some(t)
                        if alone_in_behind(&out, behinds.last() == Some(&stack.len()), &s, p.i) =>
                    {
                        out.push_str(&spread_alternatives(&t))
                    }
                    Some(t) => {
                        spelled_class_in_behind(&t, !behinds.is_empty())?;
                        out.push_str(&t)
                    }
                    None => out.extend(&s[k..p.i]),
                }
                k = p.i;
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                // Ruby's reader skips a comment: a quantifier after it repeats what came before
                // (`a(?#c)+` is `a+`), so there it is left out.
                let end = comment_end(&s, k).unwrap_or(s.len());
                let after = if f.x { past_extended(&s, end) } else { end };
                // (Kept after a quantifier: `a+(?#c)?` is `(?:a+)?`, not `a+?`.)
                if !quantifier_at(after, f) || out.ends_with(['*', '+', '?', '}']) {
                    out.extend(&s[k..end]);
                }
                k = end;
            }
            '(' if s.get(k + 1) == Some(&'?') => {
                // Options (?imxadu-imx) and (?imxadu-imx:…); any other group keeps the flags.
                let (mut g, mut on, mut j) = (f, true, k + 2);
                let mut letters = String::new();
                while let Some(&o) = s.get(j) {
                    match o {
                        'i' => g.i = on,
                        'm' => g.m = on,
                        'x' => g.x = on,
                        '-' if on => on = false,
                        'a' if on => g.cs = Charset::Ascii,
                        'u' if on => g.cs = Charset::Unicode,
                        'd' if on => g.cs = Charset::Default,
                        _ => break,
                    }
                    if !matches!(o, 'a' | 'u' | 'd') {
                        letters.push(o);
                    }
                    j += 1;
                }
                match s.get(j) {
                    Some(')') if j > k + 2 => {
                        if letters.contains(['i', 'm', 'x']) {
                            let _ = write!(out, "(?{letters})");
                        } else {
                            // `(?a)`, `(?u)`, `(?d)` alone: still an option without a group, which
                            // takes the alternatives after it into a group of its own
                            // (`(?=x)(?a)\b|\A` is `(?=x)(?a:\b|\A)`); Oniguruma reads one that
                            // changes nothing so.
                            out.push_str(if f.i { "(?i)" } else { "(?-i)" });
                        }
                        f = g;
                        k = j + 1;
                    }
                    Some(':') if j > k + 2 => {
                        stack.push((f, out.len(), false));
                        opens.push(k);
                        let _ = write!(out, "(?{letters}:");
                        f = g;
                        k = j + 1;
                    }
                    _ => {
                        let look = matches!(
                            (s.get(k + 2), s.get(k + 3)),
                            (Some('=' | '!'), _) | (Some('<'), Some('=' | '!'))
                        );
                        let behind = look && s.get(k + 2) == Some(&'<');
                        let negative = behind && s.get(k + 3) == Some(&'!');
                        if !behinds.is_empty() {
                            look_behind_allows(&s[k + 2..])?;
                        }
                        if negative {
                            for (double, neg) in double_negated.iter_mut().zip(&negative_behinds) {
                                *double |= !neg;
                            }
                        }
                        stack.push((f, out.len(), look));
                        opens.push(k);
                        if behind {
                            let close = group_close(&s, k);
                            ruby_behind_allows(&s[k + 4..close.saturating_sub(1).max(k + 4)], f.x)?;
                            behinds.push(stack.len());
                            negative_behinds.push(negative);
                            double_negated.push(false);
                        }
                        // A group name (`(?<name>`, `(?'name'`) or a condition (`(?(1)`,
                        // `(?(<name>)`) is not text.
                        let end = match (s.get(k + 2), s.get(k + 3)) {
                            (Some('<'), Some(c)) if !matches!(c, '=' | '!') => past(&s, k + 3, '>'),
                            (Some('\''), _) => past(&s, k + 3, '\''),
                            (Some('('), _) => {
                                let end = past(&s, k + 3, ')');
                                ruby_condition(&s[k + 3..end.saturating_sub(1).max(k + 3)])?;
                                let close = group_close(&s, k);
                                let body: String = s
                                    [end.min(close)..close.saturating_sub(1).max(end)]
                                    .iter()
                                    .collect();
                                match conditional_branches(&body) {
                                    0 | 1 => one_branch.push(stack.len()),
                                    2 => {}
                                    _ => return Err("invalid conditional pattern".into()),
                                }
                                end
                            }
                            (Some('~'), _) => {
                                let close = group_close(&s, k);
                                let body = &s[k + 3..close.saturating_sub(1).max(k + 3)];
                                // (Also where a walk of fixed lengths is too long to write.)
                                let walks =
                                    absent_walk_least(body, g, false).is_some_and(|l| l > 0);
                                // (Read in the cut text: anchors, look-arounds, atomic groups,
                                // possessive repetitions, a body that may match nothing.)
                                let cuts = absent_walk_least(body, g, true).is_some();
                                let shape = match absent_lengths(body, g) {
                                    Some(l) if l.iter().all(|&n| n == l[0]) => {
                                        AbsentBody::Fixed(l[0])
                                    }
                                    Some(l) if !l.contains(&0) => AbsentBody::Strings(l),
                                    Some(l) => AbsentBody::StringsOrEmpty(l),
                                    None => match absent_run(body, k + 3, g) {
                                        Some(run) => AbsentBody::Run(run),
                                        None if walks => AbsentBody::Walk,
                                        None => absent_mixed(body, g),
                                    },
                                };
                                absents.push((stack.len(), shape, walks, cuts));
                                k + 3
                            }
                            _ => k + 2,
                        };
                        out.extend(&s[k..end]);
                        // Ruby's `(?(1)a)` is `(?(1)a|)`; Oniguruma 6.9 fails a conditional of
                        // one branch followed by anything (`/(b)(?(1)a)b/` matches nothing in
                        // `bab`), and where its condition is false: its one branch written as a
                        // group (an option without a group in it ends there), with an empty
                        // second one.
                        if one_branch.last() == Some(&stack.len()) {
                            out.push_str("(?:");
                        }
                        // Ruby's `(?~|a)` is the absent operator of `|a`; Oniguruma reads
                        // `(?~|` as its own extended forms.
                        if s.get(k + 2) == Some(&'~') && s.get(k + 3) == Some(&'|') {
                            out.push_str("(?:)");
                        }
                        k = end;
                    }
                }
            }
            '(' => {
                stack.push((f, out.len(), false));
                opens.push(k);
                out.push('(');
                k += 1;
            }
            ')' => {
                if one_branch.last() == Some(&stack.len()) {
                    one_branch.pop();
                    out.push_str(")|");
                }
                out.push(')');
                k += 1;
                // The flags inside the group that closes.
                let inner_flags = f;
                if absents
                    .last()
                    .is_some_and(|&(depth, _, _, _)| depth == stack.len())
                {
                    // Ruby's `(?~X)` (X of fixed length L) is the longest text that holds no match
                    // of X; Oniguruma's, a text in which X does not start. Written out: text in
                    // which X does not start, then up to L-1 characters (too few to hold it).
                    // Other bodies Onigmo reads by its walk, written out where it can be (see
                    // `absent`).
                    let shape = absents.pop().map(|(_, b, walks, cuts)| (b, walks, cuts));
                    if let (Some((shape, walks, cuts)), Some(&(_, start, _))) =
                        (shape, stack.last())
                    {
                        let body = out[start + 3..out.len() - 1].to_string();
                        // Repeated a counted number of times, itself or a group
                        // around it (or anywhere, with calls).
                        let counted_around = || {
                            let calls = s.windows(2).any(|w| w == ['\\', 'g']);
                            calls && counted_anywhere
                                || opens.iter().any(|&o| {
                                    let mut j = group_close(&s, o);
                                    loop {
                                        j = past_comments(&s, j, true);
                                        match s.get(j) {
                                            Some('*' | '+' | '?') => j += 1,
                                            Some('{') => {
                                                match parser(j, inner_flags).quantifier() {
                                                    // (At most once: not repeated.)
                                                    Ok(Some((_, Some(0 | 1), len, _, _)))
                                                    | Ok(Some((_, _, len, false, _))) => j += len,
                                                    Ok(Some(_)) => return true,
                                                    _ => return false,
                                                }
                                            }
                                            _ => return false,
                                        }
                                    }
                                })
                        };
                        // A body written with capture groups of logferry's own ([`absent::of_run`],
                        // [`absent::of_walk`]), which must hold no stale text from an earlier run
                        // of it, nor be renumbered under the pattern's references.
                        let own_groups_refused = || {
                            let repeated = opens.iter().any(|&o| {
                                let j = past_comments(&s, group_close(&s, o), true);
                                match s.get(j) {
                                    Some('*' | '+') => true,
                                    Some('{') => !matches!(
                                        parser(j, inner_flags).quantifier(),
                                        Ok(Some((_, Some(0 | 1), _, _, _))) | Ok(None)
                                    ),
                                    _ => false,
                                }
                            });
                            let extended = flags.contains('x')
                                || s.windows(3).any(|w| w == ['(', '?', '#'])
                                || s.windows(2).enumerate().any(|(j, w)| {
                                    w == ['(', '?']
                                        && s[j + 2..]
                                            .iter()
                                            .take_while(|c| {
                                                matches!(c, 'i' | 'm' | 'x' | 'a' | 'u' | 'd' | '-')
                                            })
                                            .any(|&c| c == 'x')
                                });
                            (repeated || refers_by_number || extended).then(|| {
                                unlike_ruby(
                                    "the absent operator (?~…) with a body walked \
                                 step by step ((?~a+), (?~[^ ]*), (?~a+b), (?~\\bx)) \
                                 inside a repetition, itself repeated, in a pattern \
                                 with references by number or calls, or with comments \
                                 or x",
                                    "Ruby's engine cuts the text at each match of the \
                                 body; logferry writes that out with groups of its \
                                 own, which it can here only once per match and \
                                 without references by number; write the repetitions \
                                 out, name the groups, or (?:(?!body)(?m:.))* for text \
                                 in which the body does not start",
                                )
                            })
                        };
                        // Written out step by step, with groups of its own.
                        let walk = |helpers: &mut usize| match own_groups_refused() {
                            Some(refusal) => Err(refusal),
                            None => {
                                *helpers += 1;
                                Ok(absent::of_walk(&body, &format!("{HELPER}{helpers}")))
                            }
                        };
                        // Else, where the body reads in the text cut at the bound as written
                        // out ([`absent::of_cut_walk`]: anchors, look-arounds, atomic groups,
                        // possessive repetitions, a body that may match nothing), walked step
                        // by step with that body.
                        let cut_walk = |helpers: &mut usize| {
                            if let Some(refusal) = own_groups_refused() {
                                return Err(refusal);
                            }
                            let name = format!("{HELPER}{}", *helpers + 1);
                            let written = cuts
                                .then(|| absent::of_cut_walk(&body, &name))
                                .flatten()
                                .ok_or_else(absent_refused)?;
                            *helpers += 1;
                            Ok(written)
                        };
                        let written = 'shape: {
                            match shape {
                                AbsentBody::Fixed(0) => "(?:(?!))".to_string(),
                                AbsentBody::Fixed(length) => {
                                    let whole = format!("(?:{body})");
                                    match absent::of_strings(&[(&whole, length)]) {
                                        Some(written) => written,
                                        None if walks && length <= absent::MOST_LENGTH => {
                                            walk(&mut helpers)?
                                        }
                                        None => return Err(absent_too_long()),
                                    }
                                }
                                AbsentBody::Strings(lengths) => {
                                    let alts = alternatives_of(&body);
                                    if alts.len() != lengths.len()
                                        || (inner_flags.x && body.contains('#'))
                                    {
                                        break 'shape cut_walk(&mut helpers)?;
                                    }
                                    // (Too long to write out as a tree of look-aheads, yet
                                    // short enough to walk step by step.)
                                    let short = lengths.iter().all(|&l| l <= absent::MOST_LENGTH);
                                    let alts: Vec<(&str, usize)> =
                                        alts.into_iter().zip(lengths).collect();
                                    match absent::of_strings(&alts) {
                                        Some(written) => written,
                                        None if walks && short => walk(&mut helpers)?,
                                        None => return Err(absent_too_long()),
                                    }
                                }
                                AbsentBody::StringsOrEmpty(lengths) => {
                                    let alts = alternatives_of(&body);
                                    if alts.len() != lengths.len()
                                        || (inner_flags.x && body.contains('#'))
                                    {
                                        break 'shape cut_walk(&mut helpers)?;
                                    }
                                    // The alternatives after the first empty one are never tried.
                                    let alts: Vec<(&str, usize)> = alts
                                        .into_iter()
                                        .zip(lengths)
                                        .take_while(|&(_, length)| length > 0)
                                        .collect();
                                    if !alts.is_empty() && counted_around() {
                                        // It fails where no other alternative matches first, as a
                                        // body of anchors can.
                                        return Err(unlike_ruby(
                                            "the absent operator (?~…) with an empty alternative \
                                         repeated a counted number of times ({n}, {n,m}), or \
                                         inside a group that is",
                                            "Ruby's engine repeats it by rules of its own; write \
                                         the repetitions out",
                                        ));
                                    }
                                    absent::of_strings_or_empty(&alts)
                                        .ok_or_else(absent_too_long)?
                                }
                                AbsentBody::Mixed(lengths) => {
                                    let alts = alternatives_of(&body);
                                    if alts.len() != lengths.len()
                                        || alts
                                            .iter()
                                            .zip(&lengths)
                                            .any(|(a, l)| l.is_none() && !absent_cut_anchors(a))
                                    {
                                        break 'shape cut_walk(&mut helpers)?;
                                    }
                                    if counted_around() {
                                        // It fails where an alternative of anchors matches first
                                        // at its start, as a body of anchors can.
                                        return Err(unlike_ruby(
                                        "the absent operator (?~…) with alternatives of anchors \
                                         repeated a counted number of times ({n}, {n,m}), or \
                                         inside a group that is",
                                        "Ruby's engine repeats it by rules of its own; write \
                                         the repetitions out",
                                    ));
                                    }
                                    let alts: Vec<(&str, Option<usize>)> =
                                        alts.into_iter().zip(lengths).collect();
                                    absent::of_mixed(&alts).ok_or_else(absent_too_long)?
                                }
                                AbsentBody::Run(run) => {
                                    let at = |j: usize| {
                                        marks.iter().rev().find(|&&(m, _)| m == j).map(|&(_, o)| o)
                                    };
                                    let body_end = out.len() - 1;
                                    let (Some(class_at), Some(repeat_at)) =
                                        (at(run.class_at), at(run.repeat_at))
                                    else {
                                        break 'shape cut_walk(&mut helpers)?;
                                    };
                                    if !(start + 3 <= class_at
                                        && class_at < repeat_at
                                        && out.get(repeat_at..body_end)
                                            == Some(run.repeat.as_str()))
                                    {
                                        break 'shape cut_walk(&mut helpers)?;
                                    }
                                    let class = out[class_at..repeat_at].to_string();
                                    let star = run.repeat.starts_with('*');
                                    if run.string_length > 0 {
                                        absent::of_string_run(
                                            &format!("(?:{body})"),
                                            &class,
                                            run.string_length,
                                        )
                                    } else {
                                        if let Some(refusal) = own_groups_refused() {
                                            return Err(refusal);
                                        }
                                        helpers += 1;
                                        absent::of_run(&class, star, &format!("{HELPER}{helpers}"))
                                    }
                                }
                                AbsentBody::Walk => walk(&mut helpers)?,
                                AbsentBody::Other => {
                                    // `(?a)`'s `\b` is written `(?W:\b)`: an anchor too; an
                                    // option without a group matches nothing.
                                    let mut anchors = body
                                        .replace(ASCII_BOUNDARY, "\\b")
                                        .replace(ASCII_NOT_BOUNDARY, "\\B");
                                    for option in ["(?i)", "(?-i)", "(?m)", "(?-m)"] {
                                        anchors = anchors.replace(option, "");
                                    }
                                    let plain = only_anchors(&format!("(?:{anchors})"))
                                        && !has_capture_text(&body)
                                        && !body.contains("\\K")
                                        && !body.contains("\\g")
                                        && !body.contains("\\k")
                                        && !body.contains("(?(")
                                        && !body.as_bytes().windows(2).any(|w| {
                                            w[0] == b'\\' && (b'1'..=b'9').contains(&w[1])
                                        });
                                    if !plain {
                                        break 'shape cut_walk(&mut helpers)?;
                                    }
                                    if counted_around() {
                                        // Onigmo writes a counted repetition out as copies or runs
                                        // it as a loop that an empty iteration ends, by its size; an
                                        // absent operator of anchors can fail where it starts, so
                                        // the two differ, and Oniguruma's choice is its own.
                                        return Err(unlike_ruby(
                                        "the absent operator (?~…) of anchors repeated a counted \
                                         number of times ({n}, {n,m}), or inside a group that is",
                                        "Ruby's engine repeats it by rules of its own; write \
                                         the repetitions out",
                                    ));
                                    }
                                    absent::of_anchors(&body)
                                }
                            }
                        };
                        out.truncate(start);
                        out.push_str(&written);
                    }
                }
                if behinds.last() == Some(&stack.len()) {
                    behinds.pop();
                    let negative = negative_behinds.pop() == Some(true);
                    let double = double_negated.pop();
                    if let (Some(false), false, true, Some(&(_, start, _))) =
                        (double, negative, refers && !inner_flags.x, stack.last())
                    {
                        // A positive look-behind holding capture groups, in a pattern that
                        // refers to groups: Onigmo keeps its choices, and where what follows
                        // fails (a back-reference to one of its groups) it comes back into it
                        // for the next alternative, with other captures; Oniguruma's
                        // look-behind keeps none. Written as alternatives of look-behinds,
                        // `(?<=a|(.))\1` as `(?:(?<=a)|(?<=(.)))\1`, which the alternation
                        // comes back into, in Onigmo's order.
                        let group = out[start..].to_string();
                        if let Some(alternatives) = has_capture_text(&group)
                            .then(|| behind_alternatives(&group))
                            .flatten()
                        {
                            let each: Vec<String> =
                                alternatives.iter().map(|a| format!("(?<={a})")).collect();
                            out.truncate(start);
                            out.push_str(&format!("(?:{})", each.join("|")));
                        }
                    }
                    if let (Some(true), Some(&(_, start, _))) = (double, stack.last()) {
                        // With a capture group or `\K` in it: its negative look-behinds written
                        // as what they mean without one, when they can be, else taken out, else
                        // split in two (then `true`: a negation written).
                        let written = |group: &str| {
                            let plain = (!inner_flags.i
                                && !inner_flags.x
                                && !refers
                                && (has_capture_text(group) || drop_keeps(group) != group))
                                .then(|| behind_split::without_negative_behinds(group))
                                .flatten();
                            // `(?<=(?:(?<!y)(x)|z))` as `(?<=(?:(?:(?<=\A)|(?<=[^y]))(x)|z))`.
                            plain
                                .map(|plain| (plain, false))
                                // `(?<=A(?<!Y)(B))` as `(?<=A(B))(?<!Y(?:B))`.
                                .or_else(|| hoist_negative_behinds(group).map(|h| (h, false)))
                                // `(?<=(?:(?<!y)x|z)(b))` as `(?<!(?<!(?:(?<!y)x|z)(?:b)))`
                                // (whether) and `(?<=(?:x|z)(b))` (what it captures).
                                .or_else(|| {
                                    (!refers)
                                        .then(|| behind_split::split_behind(group))
                                        .flatten()
                                        .map(|split| (split, true))
                                })
                        };
                        // `(?<=…)` as `(?<!(?<!…))`, which holds no capture group (Oniguruma
                        // refuses one there) nor `\K`.
                        let negated = |group: &str| {
                            if drop_keeps(group) != group {
                                // A negation would lose `\K`'s move of the match's start.
                                return Err(unlike_ruby(
                                    "\\K in a positive look-behind that holds a negative one \
                                     inside a group or an alternative",
                                    "Ruby moves the match's start to it, which the negation \
                                     this look-behind runs as cannot do; put the negative \
                                     look-behind at the top level of the positive one, or \\K \
                                     outside it",
                                ));
                            }
                            Ok(format!("(?<!(?<!{}))", &group[4..group.len() - 1]))
                        };
                        let group = out[start..].to_string();
                        let text = if let Some((text, negation)) = written(&group) {
                            any_double_negated |= negation;
                            text
                        } else if let Some(alternatives) = (!refers && !inner_flags.x)
                            .then(|| behind_alternatives(&group))
                            .flatten()
                        {
                            // `(?<=(?:(?<!y.)(x)|z))` as `(?:(?<=(?<!y.)(x))|(?<=z))`, each
                            // written as above: Onigmo tries the alternatives in order from
                            // one position (of one length; of several, it splits them so
                            // itself), and comes back into the look-behind for the next only
                            // where what follows fails, which the alternation does too.
                            let mut each = Vec::new();
                            for alternative in alternatives {
                                let one = format!("(?<={alternative})");
                                each.push(match written(&one) {
                                    Some((text, negation)) => {
                                        any_double_negated |= negation;
                                        text
                                    }
                                    None => {
                                        any_double_negated = true;
                                        negated(&one)?
                                    }
                                });
                            }
                            format!("(?:{})", each.join("|"))
                        } else {
                            any_double_negated = true;
                            negated(&group)?
                        };
                        out.truncate(start);
                        out.push_str(&text);
                    }
                }
                let open = opens.pop();
                if let Some((g, start, look)) = stack.pop() {
                    f = g;
                    // A non-capturing group of anchors only is repeated as an anchor (Oniguruma
                    // refuses to repeat `(?:^|$)`).
                    if look || only_anchors(&out[start..]) {
                        let group = out[start..].to_string();
                        if let Some((text, next)) = repeated_anchor(&group, k, f) {
                            out.truncate(start);
                            out.push_str(&text);
                            k = next;
                        }
                    } else if quantifier_at(past_comments(&s, k, f.x), f) {
                        // Oniguruma also refuses to repeat an alternation with an alternative
                        // that is an anchor (`(?:\b|a)*`): such alternatives are written as
                        // atomic groups, which changes nothing for what matches no text.
                        // (A capture group of such an alternation is left as written, but
                        // repeated at least twice, below.)
                        let atomic = atomic_anchor_alternatives(&out[start..]);
                        let captured = atomic.is_none() && counted::anchored_capture(&out[start..]);
                        if atomic.is_some() || captured {
                            let at = past_comments(&s, k, f.x);
                            let q = parser(at, f).quantifier().ok().flatten();
                            // A capture group repeated from none or one up to at least two
                            // is written out too where it can be (else left as written: see
                            // README for what may differ).
                            let low = |q: &(u32, Option<u32>, usize, bool, bool)| {
                                captured && q.0 <= 1 && q.1.is_some_and(|m| m >= 2)
                            };
                            if let Some((min, max, len, _, comma)) = q.filter(|q| q.0 > 1 || low(q))
                            {
                                // Onigmo repeats it by rules of its own (see `counted`);
                                // written out when they can be told. A `?` after it makes
                                // `{n,m}` lazy, `{n}` optional.
                                let question = s.get(at + len) == Some(&'?');
                                let mut end = at + len + usize::from(question);
                                // `{n,m}+` and `{n,m}*` repeat the repetition (Ruby's reading);
                                // with no capture group in it, its empty iteration ends that
                                // repetition in both engines alike.
                                let again = (!question
                                    && matches!(s.get(end), Some('+' | '*'))
                                    && !has_capture_text(&out[start..]))
                                .then(|| s[end]);
                                end += usize::from(again.is_some());
                                let written = open
                                    .filter(|_| {
                                        !inner_flags.i
                                            && !inner_flags.x
                                            && !matches!(s.get(end), Some('?' | '+' | '*' | '{'))
                                            && at == k
                                    })
                                    .and_then(|open| {
                                        counted::written_out(&counted::Context {
                                            src: &s,
                                            open,
                                            close: k,
                                            written: &out[start..],
                                            min,
                                            max,
                                            lazy: question && comma,
                                            x: inner_flags.x,
                                            i: inner_flags.i,
                                        })
                                    });
                                if let Some(text) = written {
                                    out.truncate(start);
                                    put_written_repeat(&mut out, &text, question && !comma, again);
                                    k = end;
                                    continue;
                                }
                                if min <= 1 {
                                    // Its body may be empty: read as any such group is.
                                    if captured {
                                        if let Some(next) = empty_body_repeated(
                                            &s,
                                            k,
                                            open,
                                            start,
                                            &mut out,
                                            f,
                                            inner_flags,
                                        )? {
                                            k = next;
                                        }
                                    }
                                    continue;
                                }
                                // Oniguruma ends such a repetition at an empty iteration before
                                // its minimum count (`(?:b|(?=b)){2}c` on `bc`), Ruby does not.
                                return Err(unlike_ruby(
                                    "a repetition of at least two of an alternation with an \
                                     alternative that is an anchor or a look-around \
                                     ((?:b|(?=b)){2})",
                                    "Ruby's engine repeats it by rules of its own there (by the \
                                     size of its compiled code, an empty iteration may end it \
                                     before its count), which is written out here only for a \
                                     body of characters, classes, anchors, look-arounds, \
                                     groups and repetitions of a character or class (one \
                                     without a maximum last or before a character), \
                                     without references, nor properties, POSIX brackets, \\X \
                                     or classes past ASCII unless that makes the body too long \
                                     to copy, each alternative never empty or only an anchor, \
                                     not under i or x, \
                                     not repeated again with a capture group in it or lazily, \
                                     and for a capture group only with no other group in it, \
                                     in a pattern without references or calls, inside no \
                                     repeated group, look-behind or absent operator; write \
                                     the repetitions out, \
                                     (?:b|(?=b))(?:b|(?=b))",
                                ));
                            }
                            if let Some(text) = atomic {
                                out.truncate(start);
                                out.push_str(&text);
                            }
                        } else if let Some(next) =
                            empty_body_repeated(&s, k, open, start, &mut out, f, inner_flags)?
                        {
                            k = next;
                            continue;
                        }
                    }
                }
            }
            '^' | '$' => {
                let (text, next) =
                    repeated_anchor(&c.to_string(), k + 1, f).unwrap_or((c.to_string(), k + 1));
                out.push_str(&text);
                k = next;
            }
            '#' if f.x => {
                let end = past(&s, k, '\n');
                out.extend(&s[k..end]);
                k = end;
            }
            c if f.i && c.is_alphabetic() => {
                let (text, next) = string_at(None, k, f, !behinds.is_empty())?;
                spelled_behind |= !behinds.is_empty() && text.contains('|');
                out.push_str(&text);
                k = next.max(k + 1);
            }
            // Oniguruma's `x` skips all Unicode white space, Ruby's only ASCII's (not `\v`).
            c if f.x && c.is_whitespace() && !c.is_ascii_whitespace() => {
                let _ = write!(out, "\\x{{{:X}}}", c as u32);
                k += 1;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    // A pattern with named groups calls itself by the name of a group around it; one without
    // keeps `\g<0>`, which Oniguruma takes there.
    let named = {
        let t: String = s.iter().collect();
        t.contains("(?'")
            || t.match_indices("(?<")
                .any(|(at, _)| !matches!(t[at + 3..].chars().next(), Some('=' | '!')))
    };
    let whole_group = calls_whole && named;
    if calls_whole && !named {
        out = out.replace(&format!("\\g<{WHOLE_GROUP}>"), "\\g<0>");
    }
    if whole_group {
        out = format!("(?<{WHOLE_GROUP}>{out})");
    }
    let (out, helper_groups) = if helpers > 0 {
        number_helpers(&out)
    } else {
        (out, Vec::new())
    };
    Ok(Rewritten {
        pattern: unicode_lists(&out)?,
        spelled_behind,
        double_negated: any_double_negated,
        whole_group,
        helper_groups,
    })
}

/// The prefix of the names of the capture groups an absent operator is written with (see
/// [`absent::of_run`]), numbered by [`number_helpers`].
const HELPER: &str = "__logferry_absent";

/// `text` (Oniguruma's Ruby syntax) with the groups named [`HELPER`]… made numbered groups and
/// the references to them (`\k<name>`, `(?(<name>)`) references by number, with those numbers.
/// Every group is counted, named or not: the pattern is compiled with Oniguruma's option to
/// capture them all ([`ForOniguruma::helper_groups`]).
fn number_helpers(text: &str) -> (String, Vec<usize>) {
    let s: Vec<char> = text.chars().collect();
    let mut numbers: Vec<(String, usize)> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut count = 0;
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                let end = escape_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '[' => {
                let end = bracket_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                let end = comment_end(&s, k).unwrap_or(s.len());
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if s.get(k + 1) != Some(&'?') => {
                count += 1;
                out.push('(');
                k += 1;
            }
            '(' if s.get(k + 2) == Some(&'(') => {
                // A conditional's condition is no group.
                let end = past(&s, k + 3, ')');
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if (s.get(k + 2) == Some(&'<') && !matches!(s.get(k + 3), Some('=' | '!')))
                || s.get(k + 2) == Some(&'\'') =>
            {
                count += 1;
                let end = past(&s, k + 3, if s[k + 2] == '<' { '>' } else { '\'' });
                let name: String = s[k + 3..end.saturating_sub(1).max(k + 3)].iter().collect();
                if name.starts_with(HELPER) {
                    numbers.push((name, count));
                    out.push('(');
                } else {
                    out.extend(&s[k..end]);
                }
                k = end;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    for (name, n) in &numbers {
        out = out
            .replace(&format!("\\k<{name}>"), &format!("\\k<{n}>"))
            .replace(&format!("(?(<{name}>)"), &format!("(?({n})"));
    }
    (out, numbers.into_iter().map(|(_, n)| n).collect())
}

/// The name of the group [`translate_body`] writes `\Z` at the end of a pattern with:
/// `(?<_lfZ_>\n?)\z`. The whole match ends where that group starts (before a final newline the
/// `\n?` took), as Ruby's `\Z` looks at the newline without taking it; the group is not one of
/// Ruby's ([`crate::ruby_regexp`] reads it so). A pattern using the name itself runs on
/// Oniguruma.
pub const END_Z_GROUP: &str = "_lfZ_";

/// `\Z` at the end of a pattern, in Rust syntax (see [`END_Z_GROUP`]).
const END_Z: &str = r"(?<_lfZ_>\n?)\z";

/// Translate a Ruby pattern body with Ruby flags (`i`, `m`, `x`) to a Rust pattern in
/// multi-line mode (Ruby's `^`/`$`).
pub fn translate(src: &str, flags: &str) -> Result<String, String> {
    Ok(format!("(?m){}", translate_body(src, flags)?))
}

/// Translate a Ruby pattern body with Ruby flags (`i`, `m`, `x`, all applied here); the caller
/// sets Rust's multi-line mode (for Ruby's `^`/`$`) on its `RegexBuilder`, and no other flag.
pub fn translate_body(src: &str, flags: &str) -> Result<String, String> {
    if src.contains(END_Z_GROUP) {
        return Err(unsupported(
            &format!("the group name {END_Z_GROUP}"),
            "the translation names a group of its own so",
        ));
    }
    let (root, src, f) = parse_root(src, flags)?;
    check_loops(&root)?;
    check_anchors(&root)?;
    if anychar::anchor_after_items(&src, flags) {
        return Err(unsupported(
            "a `.` repeated without a maximum under m after a zero-width item ($.*, \\b.*x)",
            "Ruby's search tries such a pattern only at the start and the character after \
             it (the implicit anchor of the `.`), which Rust's regex engine cannot be told",
        ));
    }
    let mut out = String::with_capacity(src.len() + 16);
    if f.i {
        out.push_str("(?i)");
    }
    // Ruby's search tries such a pattern only at the start and the starts of lines (the
    // caller's multi-line `^`, or the start of a text without a line feed).
    let lines_only = anychar::line_starts_only(&src, flags);
    if lines_only {
        out.push_str("^(?:");
    }
    emit(&root, &mut out)?;
    if lines_only {
        out.push(')');
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_conditional_with_an_unclosed_group_ending_in_a_wide_character() {
        // Found by the fuzzer: an option-group check sliced bytes inside `ԣ`.
        assert_eq!(conditional_branches("a|(?:ԣ"), 2);
        let pattern = "(?<a>\\()?x(?(<a>)\\)|(?: \"(?<r>[^ ]*)|]2ԣ";
        let _ = crate::ruby_regexp::compile(pattern, "");
        let _ = for_oniguruma(pattern, "i");
    }

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
        // …and the whole match ends before the newline, unless the pattern took it.
        let z = |p: &str, flags: &str, hay: &str| {
            let re = crate::ruby_regexp::compile(p, flags).unwrap();
            assert_eq!(re.engine(), "linear", "/{p}/");
            let c = re.captures_at(hay, 0)?;
            let groups: Vec<_> = re.numbered().iter().map(|&g| c.get(g)).collect();
            Some((
                c.whole(),
                groups,
                re.find(hay),
                re.remove_first(hay).into_owned(),
            ))
        };
        assert_eq!(
            z(r"\AContent-Type\Z", "i", "content-type\n"),
            Some(((0, 12), vec![], Some((0, 12)), "\n".into()))
        );
        assert_eq!(
            z(r"(a)\s*\Z", "", "xa\n"),
            Some(((1, 3), vec![Some((1, 2))], Some((1, 3)), "x".into()))
        );
        assert_eq!(
            z(r"(?<k>\w+)=(?<v>.*)\Z", "", "k=v\n"),
            Some((
                (0, 3),
                vec![Some((0, 1)), Some((2, 3))],
                Some((0, 3)),
                "\n".into()
            ))
        );
        assert_eq!(
            z(r"b|c\Z", "", "c\n"),
            Some(((0, 1), vec![], Some((0, 1)), "\n".into()))
        );
        let re = crate::ruby_regexp::compile(r"(a)\Z", "").unwrap();
        assert!(re.names().is_empty());
        let mut locs = re.capture_locations();
        assert_eq!(re.captures_read(&mut locs, "a\n"), Some((0, 1)));
        assert_eq!(
            (locs.get(0), locs.get(re.numbered()[0])),
            (Some((0, 1)), Some((0, 1)))
        );
        // [[:print:]] and [[:graph:]] take none of the characters that stand for a binary
        // string's bytes past ASCII (U+10FF80-U+10FFFF), as Ruby's take no such byte; on
        // either engine, in any class, negated or not.
        let byte = "a\u{10FFC3}\u{10FFA9}b";
        for (p, want) in [
            (r"[[:print:]]+", Some((0, 1))),
            (r"[[:graph:]]+", Some((0, 1))),
            (r"[^[:print:]]+", Some((1, 9))),
            (r"[x[:^graph:]]+", Some((1, 9))),
            (r"(?=.)[[:print:]]+", Some((0, 1))),
            (r"(?<=a)[^[:print:]]+", Some((1, 9))),
            (r"(?u)[[:print:]]+", Some((0, 1))),
            (r"(?a)[^[:print:]]+", Some((1, 9))),
            (r"[[:print:]]+", Some((0, 1))),
        ] {
            let re = crate::ruby_regexp::compile(p, "").unwrap();
            assert_eq!(re.find(byte), want, "/{p}/ on {}", re.engine());
            let re = crate::ruby_regexp::compile(p, "i").unwrap();
            assert_eq!(re.find(byte), want, "/{p}/i on {}", re.engine());
        }
        // Other private-use characters stay printable.
        assert_eq!(
            m(r"[[:print:]]+", "", "\u{E000}\u{10FF7F}").as_deref(),
            Some("\u{E000}\u{10FF7F}")
        );
        // A positive look-behind with capture groups, in a pattern referring to groups: the
        // search comes back into it for its next alternative, as Onigmo's does.
        for (p, hay, want) in [
            (r"(?<=a|(?:é|y|(.)))\1", "yyz", Some((1, 2))),
            (r"(?<=a|(.))\1", "aab", Some((1, 2))),
            (r"(?<=(.)|(..))(?(1)x|y)", "ax", Some((1, 2))),
            (r"(?<=(?:(a)|a)b)\1", "aba", Some((2, 3))),
        ] {
            let re = crate::ruby_regexp::compile(p, "").unwrap();
            assert_eq!(re.find(hay), want, "/{p}/ on {hay:?}");
        }
        // A group of that name in the pattern: Oniguruma runs it.
        let own = crate::ruby_regexp::compile(r"(?<_lfZ_>a)\Z", "").unwrap();
        assert_eq!(own.engine(), "oniguruma");
        assert_eq!(own.captures_at("a\n", 0).map(|c| c.whole()), Some((0, 1)));
        // Ruby's ^ never matches after a final newline: safe when what follows takes a
        // character, or at the start of a pattern that always matches there.
        assert_eq!(m("^a?b", "", "x\nb").as_deref(), Some("b"));
        assert_eq!(m("^(?<msg>.*)$", "", "x\n").as_deref(), Some("x"));
        assert!(compile(r"^\.?", "").is_ok());
        // POSIX brackets as Onigmo defines them.
        assert_eq!(m("[[:alpha:]]+", "", "1Ⅻ2").as_deref(), Some("Ⅻ"));
        assert_eq!(m("[[:cntrl:]]", "", "\u{AD}"), None);
        // An option without a group covers the rest of its group, alternatives included.
        assert_eq!(m("a(?i)b|c", "", "C"), None);
        assert_eq!(m("a(?i)b|c", "", "aC").as_deref(), Some("aC"));
        // x: spaces and comments outside brackets only.
        assert_eq!(m("a [ ]b # [c", "x", "a b").as_deref(), Some("a b"));
        // \xHH sequences are UTF-8; \u{…} may hold several characters.
        assert_eq!(m(r"\xC3\xA9\u{41 42}", "", "éAB").as_deref(), Some("éAB"));
        // i: \w stays ASCII (no Kelvin sign, no long s); Ruby's ligature spellings.
        assert_eq!(m(r"\w+", "i", "\u{212A}ſab").as_deref(), Some("ab"));
        assert_eq!(m(r"[\w.-]+", "i", "\u{212A}A.b").as_deref(), Some("A.b"));
        assert_eq!(m("strasse", "i", "Straße").as_deref(), Some("Straße"));
        assert_eq!(m("first", "i", "ﬁrﬆ").as_deref(), Some("ﬁrﬆ"));
        assert_eq!(m("[^ ]+", "i", "ſt é").as_deref(), Some("ſt"));
    }

    /// Onigmo's own rules, written out (each recorded from Ruby in tests/ruby_regex too).
    #[test]
    fn onigmo_only_rules_are_written_out() {
        // Under i, folds into U+0080-U+00FF are lost in classes of several characters.
        assert_eq!(m("[éè]", "i", "É"), None);
        assert_eq!(m("[éè]+", "i", "èé").as_deref(), Some("èé"));
        assert_eq!(m("[ÿa]", "i", "Ÿ").as_deref(), Some("Ÿ"));
        assert_eq!(m(r"\p{Lu}", "i", "é"), None);
        assert_eq!(m(r"\p{Lu}", "i", "a").as_deref(), Some("a"));
        assert_eq!(m("[^é]", "i", "É").as_deref(), Some("É"));
        // A class of one character is that character, starting a string.
        assert_eq!(m("[é]", "i", "É").as_deref(), Some("É"));
        assert_eq!(m("[s]s", "i", "ß").as_deref(), Some("ß"));
        assert_eq!(m("s[s]", "i", "ß"), None);
        // Foldings to several characters follow the class.
        assert_eq!(m("[ßa]", "i", "SS").as_deref(), Some("SS"));
        assert_eq!(m("[ßs]", "i", "ss").as_deref(), Some("s"));
        assert_eq!(m("[[:alpha:]]", "i", "ﬆ").as_deref(), Some("ﬆ"));
        assert_eq!(m(r"\p{Alpha}$", "i", "ST").as_deref(), Some("ST"));
        // A counted repetition of a string is the string written out.
        assert_eq!(m("s{2}", "i", "ß").as_deref(), Some("ß"));
        assert_eq!(m("s{2,}", "i", "ßs").as_deref(), Some("ßs"));
        assert_eq!(m("s{1,2}", "i", "ß"), None);
        // \y and \Y are the letters.
        assert_eq!(m(r"a\yb\Y", "", "aybY").as_deref(), Some("aybY"));
        // (?u) makes \d \s \w Unicode, (?a) POSIX brackets and \b ASCII.
        assert_eq!(m(r"(?u)\w+", "", "é٣").as_deref(), Some("é٣"));
        assert_eq!(m(r"(?u:\d)\d", "", "٣٣3").as_deref(), Some("٣3"));
        assert_eq!(m(r"(?a)\b", "", "é"), None);
        assert_eq!(m("(?a)[[:alpha:]]+", "", "éab").as_deref(), Some("ab"));
        assert_eq!(
            m("(?ai)[[:upper:]]+", "", "\u{212A}kK").as_deref(),
            Some("kK")
        );
        assert!(compile("(?-u)a", "").is_err());
    }

    /// Onigmo reads `(?:(a))` as `(a)`: a capture group that is a non-capturing group's whole
    /// body, repeated, is written out as the capture group repeated is.
    #[test]
    fn a_capture_group_wrapped_is_repeated_as_the_group() {
        for (wrapped, bare) in [
            ("(?:(-??)){1,3}$", "(-??){1,3}$"),
            ("(?:(?:(-??))){0,3}$", "(-??){0,3}$"),
            ("(?:(?<n>-??)){1,4}$", "(?<n>-??){1,4}$"),
            ("x(?:(-*?)){2,3}", "x(-*?){2,3}"),
        ] {
            let w = for_oniguruma(wrapped, "").unwrap().pattern;
            assert_eq!(w, for_oniguruma(bare, "").unwrap().pattern, "{wrapped}");
            assert_ne!(w, wrapped);
        }
        // Ruby: `$1` is the last iteration that matched text, not the empty one after it.
        let re = crate::ruby_regexp::compile("(?:(-??)){1,3}$", "").unwrap();
        let c = re.captures_within("--", 0, None).unwrap().unwrap();
        assert_eq!((c.whole(), c.get(re.numbered()[0])), ((0, 2), Some((1, 2))));
        // A body too long to copy at its least (`[^,]`, a bitset) is Onigmo's loop.
        let re = crate::ruby_regexp::compile("-(\\b??-??|[^,]{0,2}){0,2}\\z", "").unwrap();
        let c = re.captures_within(" .ax-ba", 0, None).unwrap().unwrap();
        assert_eq!((c.whole(), c.get(re.numbered()[0])), ((4, 7), Some((5, 7))));
    }

    /// Onigmo's implicit anchor of a `.` repeated without a maximum, after zero-width items:
    /// its search tries only where the anchor lets it.
    #[test]
    fn the_implicit_anchor_after_zero_width_items() {
        let first = |src: &str, flags: &str, hay: &str| {
            let re = crate::ruby_regexp::compile(src, flags).unwrap();
            let found = re.captures_within(hay, 0, None).unwrap();
            (re.engine(), found.map(|c| c.whole()))
        };
        // Under `m`: the start and the character after it, on Oniguruma.
        assert_eq!(first("$.*", "m", "ab"), ("oniguruma", None));
        assert_eq!(first("$.*", "m", "a\nb"), ("oniguruma", Some((1, 3))));
        assert_eq!(first("\\b.*", "m", "  ab"), ("oniguruma", None));
        assert_eq!(first("\\b.*", "m", " ab"), ("oniguruma", Some((1, 3))));
        assert_eq!(first("^.*x", "m", "abx").0, "linear");
        // The character after the start only when the first is one byte.
        assert_eq!(first("\\B.+", "m", "ÉCOLE"), ("oniguruma", None));
        assert_eq!(first("\\B.+", "m", "ab"), ("oniguruma", Some((1, 2))));
        assert_eq!(first("(?!b)\\B.+", "m", "éab"), ("oniguruma", None));
        // Ending in `\z`: every position.
        assert_eq!(first("\\z(.*)\\z", "m", "xy"), ("linear", Some((2, 2))));
        // Without `m`, with a string searched for after it: the starts of lines, linear.
        assert_eq!(first("\\b.*x", "", "  ax"), ("linear", None));
        assert_eq!(first("\\b.*x", "", "b\nax"), ("linear", Some((2, 4))));
        assert_eq!(first("\\b.*x", "", "ax"), ("linear", Some((0, 2))));
        assert_eq!(first("\\b.*\\d+", "", "  1"), ("linear", Some((2, 3))));
        // After a look-ahead holding `b+`, from which Onigmo reads nothing to search for: the
        // start and the next byte under `m`, the starts of lines without it (after finding
        // the string searched for); from `ab+` it reads `a`: the start alone under `m`, every
        // position without it.
        assert_eq!(first("(?=b+).*", "m", "ab"), ("oniguruma", Some((1, 2))));
        assert_eq!(first("(?=b+).*", "m", "aab"), ("oniguruma", None));
        assert_eq!(first("(?=b+).*", "m", "éb"), ("oniguruma", None));
        assert_eq!(first("(?=b+).*(b)", "", ".x bab"), ("oniguruma", None));
        assert_eq!(
            first("(?=b+).*(b)", "", "a\nbab"),
            ("oniguruma", Some((2, 5)))
        );
        assert_eq!(first("(?=ab+).*", "m", "xab"), ("oniguruma", None));
        assert_eq!(
            first("(?=ab+).*(b)", "", "xab\nab"),
            ("oniguruma", Some((1, 3)))
        );
        // What Onigmo reads from the look-ahead is not told here: refused.
        let e = crate::ruby_regexp::compile("(?=[ -~]b+).*x", "m").unwrap_err();
        assert!(e.contains("(?>.)*"), "{e}");
        assert_eq!(first("(?=b).*", "m", "abbbc"), ("oniguruma", None));
        assert_eq!(first("(?=b+).*", "", "ab"), ("oniguruma", Some((1, 2))));
    }

    /// What Oniguruma gets: Onigmo's own rules written out, everything else as written.
    #[test]
    fn oniguruma_gets_onigmo_rules_written_out() {
        let t = for_oniguruma("(?<=x)[éè]+", "i").unwrap().pattern;
        assert_eq!(t, "(?<=x)(?-i:[è-é])+");
        let t = for_oniguruma("(?u)\\d(?=x)(?d)\\d", "").unwrap().pattern;
        // (An option without a group takes the alternatives after it into a group of its own:
        // `(?-i)`, which changes nothing, keeps that for Oniguruma.)
        assert!(
            t.starts_with("(?-i)(?-i:[0-9") && t.ends_with("(?=x)(?-i)\\d"),
            "{t}"
        );
        assert!(!t.contains("(?u") && !t.contains("(?d"), "{t}");
        let t = for_oniguruma("(?a:\\b)[a](?!b)(?#[)", "i").unwrap().pattern;
        assert!(t.starts_with("(?:(?W:\\b))"), "{t}");
        assert!(t.ends_with(")a(?!b)(?#[)"), "{t}");
        for kept in [r"(?<=[a-z])\d", r"\c[(?=a)", "(?<n>x)\\k<n>"] {
            assert_eq!(for_oniguruma(kept, "i").unwrap().pattern, kept);
        }
        assert_eq!(
            for_oniguruma("[+--][éè](?=a)", "i").unwrap().pattern,
            "[+--](?-i:[è-é])(?=a)"
        );
        // An empty side of && is the empty set: read, and left to Oniguruma as written.
        assert!(for_oniguruma("[é&&](?=a)", "i").is_ok());
        // \w under i takes no ſ or K; a class that holds ß also matches ss.
        let t = for_oniguruma(r"(?=x)\w[[:alpha:]]", "i").unwrap().pattern;
        assert!(t.starts_with(r"(?=x)(?-i:[0-9A-Z\x5Fa-z])(?-i:(?:["), "{t}");
        assert_eq!(
            for_oniguruma("[[:alpha:]](?=a)", "").unwrap().pattern,
            "[[:alpha:]](?=a)"
        );
        // Escapes, group names and conditions are kept; escapes of non-ASCII characters become
        // the characters, as Ruby reads them.
        // (A conditional of one branch gets an empty second one.)
        let kept = r"\p{Lu}\u0041\k<name>(?<name>first)(?(<name>)x|)";
        assert_eq!(for_oniguruma(kept, "").unwrap().pattern, kept);
        let t = for_oniguruma(kept, "i").unwrap().pattern;
        assert!(
            t.contains(r"\u0041\k<name>(?<name>(?-i:") && t.ends_with("(?(<name>)x|)"),
            "{t}"
        );
        assert_eq!(for_oniguruma(r"\u00DF(?=a)", "").unwrap().pattern, "ß(?=a)");
        // Strings that take several-letter spellings are written out with them.
        assert_eq!(
            for_oniguruma("[+--](?=a)[é]", "i").unwrap().pattern,
            "[+--](?=a)é"
        );
        let t = for_oniguruma("(?=x)s{2}t", "i").unwrap().pattern;
        assert!(t.contains("ßẞ") && t.ends_with("(?-i:[Tt])"), "{t}");
        assert!(for_oniguruma(r"(?=x)s\x", "").is_err());
    }

    /// Found by the ruby_regex fuzz target: enumerating the spellings of a long run of `s`
    /// under `i` took exponential time. They are written out in polynomial size now, and a run
    /// too long even for that is refused at once.
    #[test]
    fn long_runs_with_ligature_spellings_stay_small() {
        // 2^40 spellings.
        let pattern = format!("r{}flata", "s".repeat(40));
        let re = compile(&pattern, "ix").unwrap();
        assert!(re.is_match(&format!("xR{}ﬂata", "ß".repeat(20))));
        assert!(!re.is_match(&format!("xR{}ﬂata", "ß".repeat(19))));
        let e = compile(&"s".repeat(5000), "i").unwrap_err();
        assert!(e.contains("too many"), "{e}");
    }

    #[test]
    fn ascii_word_boundaries_run_in_look_behinds() {
        let run = |re: &str, text: &str| {
            let r = crate::ruby_regexp::compile(re, "").unwrap();
            assert_eq!(r.engine(), "oniguruma", "{re}");
            r.find(text)
        };
        // `é` is no word character under (?a): a boundary before `x` after it, none after `a`;
        // one between `a` and `é`, none between ` ` and `é`.
        assert_eq!(run("(?a)(?<!\\b)x", "éx"), None);
        assert_eq!(run("(?a)(?<!\\b)x", "ax"), Some((1, 2)));
        assert_eq!(run("(?a)(?<=\\bé)x", "aéx"), Some((3, 4)));
        assert_eq!(run("(?a)(?<=\\bé)x", " éx"), None);
        assert_eq!(run("(?a)(?<=\\B.)x", " éx"), Some((3, 4)));
        // Oniguruma's own option letter is the rewriter's, not the pattern's (Ruby refuses it).
        let e = crate::ruby_regexp::compile("(?W:\\b)x", "").unwrap_err();
        assert!(e.contains("undefined group option"), "{e}");
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
            ("[a--b]", "empty range"),
            ("(?~abc)", "absent"),
            ("^$", "^ before"),
            (r"^\s*$", "^ before"),
            ("(a?)*", "capture"),
            ("(a){0}", "zero times"),
            ("a**", "repetition of a repetition"),
            (r"\x{41}", "hex escape"),
            (r"\xFF", "multibyte"),
            (r"\U00000041", "escape"),
            ("(?)", "option"),
            (r"\p{sc=Greek}", "property name"),
        ] {
            let e = compile(re, "").unwrap_err();
            assert!(e.contains(needle), "{re}: {e}");
        }
        for (re, needle) in [
            ("s".repeat(5000).as_str(), "too many"),
            ("αι", "several characters"),
        ] {
            let e = compile(re, "i").unwrap_err();
            assert!(e.contains(needle), "{re}/i: {e}");
        }
    }
}
