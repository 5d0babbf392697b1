//! A small, exact subset of Ruby expressions, as Fluentd's `filter_record_transformer` evaluates
//! `${...}` with `enable_ruby true` (no Ruby interpreter: a parser and an evaluator of the subset;
//! anything outside it is refused when parsed, never evaluated with another meaning).
//!
//! In scope (as Fluentd's `CleanroomExpander` has them): `record`, `tag`, `time`, `tag_parts`,
//! `tag_prefix`, `tag_suffix`, `hostname`. Any other bare lower-case name is a method call on the
//! clean room that raises `NameError` when evaluated (Fluentd then sends the record to `@ERROR`).
//!
//! Supported: literals (`nil`, `true`, `false`, integers, floats, `'…'` and `"…"` strings without
//! `#{}`, `/regexp/imx`, `:symbol`), `Time.now`, `Hash.new(default)`, `(…)`, `[a, b]`, `x[i]`, `x[a..b]`,
//! `x[a...b]`, `x[start, len]`, `!`, `not`, `==`, `!=`, `+ - * /`, `&&`, `and`, `||`, `or`,
//! `c ? a : b`, and the methods listed in [`METHODS`].

use std::fmt::Write as _;

use logferry_msgpack::{EventTime, Value};

use crate::ruby_regexp::{compile, RubyRegex};

mod more;
mod time;

pub use time::{RTime, TimeFmt};

/// The method names the evaluator knows (on the classes where Ruby defines them).
pub const METHODS: &[&str] = &[
    "gsub",
    "sub",
    "scan",
    "match",
    "strip",
    "lstrip",
    "rstrip",
    "upcase",
    "downcase",
    "split",
    "start_with?",
    "end_with?",
    "include?",
    "length",
    "size",
    "to_s",
    "to_i",
    "to_f",
    "first",
    "last",
    "join",
    "dig",
    "nil?",
    "empty?",
    "strftime",
    "[]",
    // Time
    "iso8601",
    "xmlschema",
    "utc",
    "gmtime",
    "localtime",
    "getutc",
    "getgm",
    "getlocal",
    "utc?",
    "gmt?",
    "year",
    "month",
    "mon",
    "day",
    "mday",
    "hour",
    "min",
    "sec",
    "usec",
    "tv_usec",
    "nsec",
    "tv_nsec",
    "tv_sec",
    "wday",
    "yday",
    "zone",
    "round",
    // Hash
    "has_key?",
    "key?",
    "member?",
    "keys",
    "values",
    "fetch",
    // any value
    "to_json",
    "is_a?",
    "kind_of?",
    "instance_of?",
    "class",
    "name",
    "eql?",
    // String
    "match?",
    "capitalize",
    "swapcase",
    "chomp",
    "chop",
    "reverse",
    "index",
    "rindex",
    "to_sym",
    "ljust",
    "rjust",
    "center",
    "bytesize",
    "chars",
    "ord",
    "tr",
    "delete",
    "squeeze",
    "count",
    "slice",
    "scrub",
    "valid_encoding?",
    "force_encoding",
    "b",
    "dup",
    "clone",
    // Array
    "uniq",
    "compact",
    "flatten",
    "take",
    "drop",
    "max",
    "min",
    "sort",
    "sum",
    // Integer, Float
    "abs",
    "floor",
    "ceil",
    "truncate",
    "zero?",
    "positive?",
    "negative?",
    "even?",
    "odd?",
];

/// What an expression is refused with.
const SUPPORTED: &str = "supported: record, tag, time, tag_parts, tag_prefix, tag_suffix, hostname, Time.now, Time.at(x), Time.parse(x), a Time plus or minus seconds, a Time minus a Time, Hash.new(x), ENV['X'], ENV.fetch('X', d), ENV.key?('X'), literals (nil, true, false, integers, floats, '...' and \"...\" strings (#{} in \"...\"), /regexp/imx, :symbol, [a, b]), class names (String, Integer, Float, Numeric, Array, Hash, Symbol, Time, NilClass, TrueClass, FalseClass, Comparable, Enumerable, Object), x[i], x[a..b], x[start, len], !, ==, !=, <, <=, >, >=, <=>, =~ and !~ with a regexp literal, + - * / % **, &&, and, ||, or, c ? a : b, x&.m, if/elsif/else/end, unless, the modifiers if, unless and rescue, and the methods gsub, sub, scan, match, match?, strip, lstrip, rstrip, upcase, downcase, capitalize, swapcase, split, start_with?, end_with?, include?, length, size, to_s, to_i, to_f, to_sym, to_json, first, last, join, dig, nil?, empty?, strftime, iso8601, xmlschema, utc, gmtime, localtime, getutc, getgm, getlocal, utc?, year, month, day, hour, min, sec, usec, nsec, wday, yday, zone, round, has_key?, key?, member?, keys, values, fetch, is_a?, kind_of?, instance_of?, class, name, eql?, chomp, chop, reverse, index, rindex, ljust, rjust, center, bytesize, chars, ord, tr, delete, squeeze, count, slice, scrub, valid_encoding?, force_encoding (of a copy), b, dup, clone, uniq, compact, flatten, take, drop, max, min, sort, sum, abs, floor, ceil, truncate, zero?, positive?, negative?, even?, odd?";

/// A Ruby value.
#[derive(Clone, Debug)]
pub enum RValue {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An Integer that fits `i64`.
    Int(i64),
    /// A Float.
    Float(f64),
    /// A String (UTF-8).
    Str(String),
    /// A binary (ASCII-8BIT) String, as Fluentd's inputs make of what they read (in_tail, tcp,
    /// udp, syslog; msgpack bin from a forwarder): its text with each byte from 0x80 up as the
    /// character that stands for it ([`crate::ruby::bytes_as_text`]), one character per byte.
    Bytes(String),
    /// A Symbol.
    Sym(String),
    /// An Array.
    Array(Vec<RValue>),
    /// A Hash with its default value.
    Hash(Vec<(RValue, RValue)>, Box<RValue>),
    /// A Time.
    Time(RTime),
    /// A class (`x.class`, the argument of `is_a?`), by name.
    Class(&'static str),
    /// A MatchData.
    Match(Box<MatchData>),
    /// A record value the evaluator does not model (bin, ext, integers above `i64::MAX`).
    Other(Value),
}

/// A regexp match.
#[derive(Clone, Debug)]
pub struct MatchData {
    text: String,
    /// Span of each engine group (0: the whole match).
    spans: Vec<Option<(usize, usize)>>,
    /// Engine indices of Ruby's numbered groups.
    numbered: Vec<usize>,
    /// Group names with their engine indices.
    names: Vec<(String, Vec<usize>)>,
    /// Matched in a binary string: its groups are binary strings too.
    binary: bool,
}

impl MatchData {
    fn group(&self, i: usize) -> RValue {
        match self.spans.get(i).copied().flatten() {
            Some((s, e)) => self.piece(s, e),
            None => RValue::Nil,
        }
    }

    /// The text from `s` to `e`, a binary string when the text is one.
    fn piece(&self, s: usize, e: usize) -> RValue {
        let t = self.text[s..e].to_string();
        if self.binary {
            RValue::Bytes(t)
        } else {
            RValue::Str(t)
        }
    }

    fn named(&self, name: &str) -> Result<RValue, String> {
        let Some((_, idx)) = self.names.iter().find(|(n, _)| n == name) else {
            return Err(format!("undefined group name reference: {name}"));
        };
        Ok(idx
            .iter()
            .rev()
            .find_map(|&i| self.spans.get(i).copied().flatten())
            .map_or(RValue::Nil, |(s, e)| self.piece(s, e)))
    }
}

/// The clean room's local variables for one record.
pub struct Scope<'a> {
    /// The record.
    pub record: &'a RValue,
    /// The tag.
    pub tag: &'a str,
    /// `tag.split('.')`.
    pub tag_parts: &'a [String],
    /// `tag_prefix`.
    pub tag_prefix: &'a [String],
    /// `tag_suffix`.
    pub tag_suffix: &'a [String],
    /// The host name.
    pub hostname: &'a str,
    /// The event time.
    pub time: EventTime,
    /// Whether `time` was made UTC (`time.utc` changes Ruby's object in place: the record's
    /// later placeholders see it so); false for each new record.
    pub time_utc: std::cell::Cell<bool>,
    /// The current time (`Time.now`).
    pub now: EventTime,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Var {
    Record,
    Tag,
    Time,
    TagParts,
    TagPrefix,
    TagSuffix,
    Hostname,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bin {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `**`
    Pow,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<=>`
    Cmp,
}

/// A parsed expression.
#[derive(Clone, Debug)]
pub enum Expr {
    /// A constant value.
    Lit(RValue),
    /// A regexp literal.
    Re(RubyRegex),
    /// A strftime format literal compiled (kept beside its text).
    Var(VarRef),
    /// A bare name that is neither a local variable nor a method of the clean room.
    NameError(String),
    /// `Time.now`.
    Now,
    /// `Hash.new(x)`.
    HashNew(Box<Expr>),
    /// A method call (`[]` included), with a `strftime` format compiled.
    Call(Box<Expr>, String, Vec<Expr>, Option<Box<TimeFmt>>),
    /// `Time.at(x)`.
    TimeAt(Box<Expr>),
    /// `Time.parse(x)`.
    TimeParse(Box<Expr>),
    /// `"text #{expr} text"`.
    Interp(Vec<Piece>),
    /// `a rescue b`: `b` where evaluating `a` raises (a Ruby exception, not what the subset
    /// leaves out).
    Rescue(Box<Expr>, Box<Expr>),
    /// `x =~ /re/` or `/re/ =~ x` (the regexp on the left), `!~` when negated.
    ReMatch {
        /// The string side.
        subject: Box<Expr>,
        /// The regexp.
        re: RubyRegex,
        /// Whether the regexp is the receiver.
        re_left: bool,
        /// `!~`.
        negate: bool,
    },
    /// The receiver of `&.`: its value, or (when nil) no call, and nil (see `SafeEnd`).
    Safe(Box<Expr>),
    /// The call `&.` makes: nil where its receiver was.
    SafeEnd(Box<Expr>),
    /// `ENV.fetch(name, default)`: the default is evaluated (Ruby evaluates arguments first),
    /// then the variable's value (read when the config was) or the default.
    EnvFetch(Option<String>, Box<Expr>),
    /// An error Ruby raises when the expression runs (`ENV.fetch` of an unset variable).
    Fail(String),
    /// `x[a..b]` / `x[a...b]`.
    Range(Box<Expr>, Box<Expr>, Box<Expr>, bool),
    /// A binary operator.
    Op(Bin, Box<Expr>, Box<Expr>),
    /// `a || b`.
    Or(Box<Expr>, Box<Expr>),
    /// `a && b`.
    And(Box<Expr>, Box<Expr>),
    /// `!a`.
    Not(Box<Expr>),
    /// `c ? a : b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `[a, b]`.
    Array(Vec<Expr>),
}

/// A scope variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarRef(Var);

// ------------------------------------------------------------------------------------------
// Lexer

/// The pieces of a string with `#{…}` (never equal to another token).
#[derive(Clone, Debug)]
struct Interp(Vec<Piece>);

impl PartialEq for Interp {
    fn eq(&self, _: &Interp) -> bool {
        false
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Const(String),
    Int(i64),
    Float(f64),
    Str(String),
    /// A double-quoted string with `#{…}` in it.
    DStr(Interp),
    Re(String, String),
    Sym(String),
    P(&'static str),
}

struct Lexed {
    toks: Vec<(Tok, bool)>,
    /// Byte length consumed (up to the closing `}` when lexing an interpolation).
    end: usize,
}

const PUNCT: &[&str] = &[
    "...", "..", "<=>", "&.", "||", "&&", "==", "!=", "=~", "!~", "**", "<=", ">=", "<<", ">>",
    "::", "(", ")", "[", "]", ",", ".", "!", "?", ":", "+", "-", "*", "/", "%", "<", ">", "=", "&",
    "|", "^", "~", "{", "}", ";",
];

fn value_end(t: Option<&Tok>) -> bool {
    matches!(
        t,
        Some(Tok::Ident(_) | Tok::Const(_) | Tok::Int(_) | Tok::Float(_) | Tok::Str(_))
            | Some(Tok::DStr(_))
            | Some(Tok::Re(..) | Tok::Sym(_))
            | Some(Tok::P(")") | Tok::P("]"))
    )
}

fn unsupported(what: &str) -> String {
    format!("{what} is not supported by logferry's Ruby subset ({SUPPORTED})")
}

/// Lex until the end of `s`, or (with `stop_at_brace`) until the `}` that closes an
/// interpolation.
fn lex(s: &str, stop_at_brace: bool) -> Result<Lexed, String> {
    lex_at(s, stop_at_brace, 0)
}

/// Keywords that end an expression or a condition (`a rescue b`, `if c then a else b end`):
/// what follows them is no method argument.
const STATEMENT_WORDS: &[&str] = &[
    "rescue", "if", "unless", "then", "else", "elsif", "end", "and", "or", "not", "do", "while",
    "until",
];

/// Whether the next token can start a method argument written without parentheses.
fn argument_start(t: Option<&Tok>) -> bool {
    match t {
        Some(Tok::Ident(w)) => !STATEMENT_WORDS.contains(&w.as_str()),
        Some(
            Tok::Str(_) | Tok::DStr(_) | Tok::Re(..) | Tok::Int(_) | Tok::Sym(_) | Tok::Const(_),
        ) => true,
        _ => false,
    }
}

/// The deepest `"#{"#{…}"}"` nesting read.
const MAX_INTERPOLATION: usize = 16;

/// [`lex`] inside `depth` string interpolations.
fn lex_at(s: &str, stop_at_brace: bool, depth: usize) -> Result<Lexed, String> {
    let b = s.as_bytes();
    let mut toks: Vec<(Tok, bool)> = Vec::new();
    let mut i = 0;
    let mut space = false;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' {
            space = true;
            i += 1;
            continue;
        }
        if c == b'\n' || c == b'\r' || c == b'#' || c == b'\\' {
            return Err(unsupported(&format!("`{}`", c as char)));
        }
        let prev = toks.last().map(|t| &t.0);
        let after_dot = prev == Some(&Tok::P(".")) || prev == Some(&Tok::P("&."));
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let mut w = s[st..i].to_string();
            if after_dot
                && i < b.len()
                && (b[i] == b'?' || b[i] == b'!')
                && b.get(i + 1) != Some(&b'=')
            {
                w.push(b[i] as char);
                i += 1;
            }
            let t = if b[st].is_ascii_uppercase() {
                Tok::Const(w)
            } else {
                Tok::Ident(w)
            };
            toks.push((t, space));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len()
                && (b[i].is_ascii_digit()
                    || (b[i] == b'_' && i + 1 < b.len() && b[i + 1].is_ascii_digit()))
            {
                i += 1;
            }
            let mut float = false;
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                float = true;
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_digit()
                        || (b[i] == b'_' && i + 1 < b.len() && b[i + 1].is_ascii_digit()))
                {
                    i += 1;
                }
            }
            // An exponent (`1e15`, `2.5e-3`): a Float.
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    while j < b.len()
                        && (b[j].is_ascii_digit()
                            || (b[j] == b'_' && j + 1 < b.len() && b[j + 1].is_ascii_digit()))
                    {
                        j += 1;
                    }
                    float = true;
                    i = j;
                }
            }
            if i < b.len() && (b[i].is_ascii_alphabetic() || b[i] == b'_') {
                return Err(unsupported(&format!("the number `{}`", &s[st..=i])));
            }
            if b[st] == b'0' && i - st > 1 && !float {
                return Err(unsupported(&format!("the octal number `{}`", &s[st..i])));
            }
            let text: String = s[st..i].chars().filter(|&c| c != '_').collect();
            let t = if float {
                Tok::Float(
                    text.parse()
                        .map_err(|_| unsupported(&format!("`{text}`")))?,
                )
            } else {
                Tok::Int(
                    text.parse()
                        .map_err(|_| unsupported(&format!("the integer `{text}`")))?,
                )
            };
            toks.push((t, space));
        } else if c == b'\'' || c == b'"' {
            let (tok, len) = string_lit(&s[i..], depth)?;
            toks.push((tok, space));
            i += len;
        } else if c == b'/' && !value_end(prev) {
            let (body, flags, len) = regexp_lit(&s[i..])?;
            toks.push((Tok::Re(body, flags), space));
            i += len;
        } else if c == b':'
            && i + 1 < b.len()
            && (b[i + 1].is_ascii_alphabetic() || b[i + 1] == b'_')
            && !value_end(prev)
        {
            let st = i + 1;
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if i < b.len() && matches!(b[i], b'?' | b'!' | b'=') {
                return Err(unsupported("this symbol"));
            }
            toks.push((Tok::Sym(s[st..i].to_string()), space));
        } else {
            if stop_at_brace && c == b'}' {
                return Ok(Lexed { toks, end: i + 1 });
            }
            let Some(p) = PUNCT.iter().find(|p| s[i..].starts_with(**p)) else {
                return Err(unsupported(&format!(
                    "`{}`",
                    &s[i..].chars().next().unwrap_or(' ')
                )));
            };
            // `name -1`, `name [1]`, `name /x/`: Ruby reads a method call with an argument
            // where a space comes before the operator and none after it.
            if matches!(
                *p,
                "-" | "+" | "*" | "/" | "[" | "::" | "%" | "&" | "?" | ":"
            ) && matches!(prev, Some(Tok::Ident(w)) if !STATEMENT_WORDS.contains(&w.as_str()))
                && space
                && b.get(i + p.len())
                    .is_some_and(|n| *n != b' ' && *n != b'\t')
            {
                return Err(unsupported(&format!(
                    "`{p}` with a space before it and none after it (Ruby may read a method argument)"
                )));
            }
            toks.push((Tok::P(p), space));
            i += p.len();
        }
        space = false;
    }
    if stop_at_brace {
        return Err("an interpolation `#{...}` is not closed".into());
    }
    Ok(Lexed { toks, end: i })
}

/// A quoted string literal at the start of `s` (inside `depth` interpolations): its token and
/// length.
fn string_lit(s: &str, depth: usize) -> Result<(Tok, usize), String> {
    let q = s.as_bytes()[0];
    let mut out = String::new();
    let mut pieces: Vec<Piece> = Vec::new();
    let mut it = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = it.next() {
        if c as u32 == q as u32 {
            if pieces.is_empty() {
                return Ok((Tok::Str(out), i + 1));
            }
            if !out.is_empty() {
                pieces.push(Piece::Text(out));
            }
            return Ok((Tok::DStr(Interp(pieces)), i + 1));
        }
        if q == b'"' && c == '#' && matches!(it.peek(), Some((_, '{'))) {
            // `#{expr}`: the expression's `to_s`.
            if depth >= MAX_INTERPOLATION {
                return Err(unsupported("string interpolation nested this deep"));
            }
            let at = i + 2;
            let l = lex_at(&s[at..], true, depth + 1)?;
            // Each interpolation level counts 16 levels of nesting: eval and drop recurse on
            // the whole tree, whose depth MAX_DEPTH bounds.
            let mut p = Parser {
                toks: l.toks,
                at: 0,
                depth: (depth + 1) * (MAX_DEPTH / MAX_INTERPOLATION),
            };
            let e = if p.toks.is_empty() {
                Expr::Lit(RValue::Nil)
            } else {
                let e = p.expr()?;
                if p.at < p.toks.len() {
                    return Err(p.unexpected());
                }
                e
            };
            if !out.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut out)));
            }
            pieces.push(Piece::Expr(e));
            // Skip what the interpolation held, up to and with its `}`.
            let end = at + l.end;
            while it.peek().is_some_and(|(j, _)| *j < end) {
                it.next();
            }
            continue;
        }
        if c == '\\' {
            let Some((_, e)) = it.next() else { break };
            if q == b'\'' {
                if e != '\\' && e != '\'' {
                    out.push('\\');
                }
                out.push(e);
                continue;
            }
            match e {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                's' => out.push(' '),
                '0' if it.peek().is_none_or(|(_, c)| !c.is_ascii_digit()) => out.push('\0'),
                'e' => out.push('\x1b'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'v' => out.push('\x0b'),
                'u' => {
                    let mut hex = String::new();
                    for _ in 0..4 {
                        match it.next() {
                            Some((_, h)) if h.is_ascii_hexdigit() => hex.push(h),
                            _ => return Err(unsupported("this `\\u` escape (only \\uXXXX)")),
                        }
                    }
                    let cp = u32::from_str_radix(&hex, 16).map_err(|e| e.to_string())?;
                    out.push(
                        char::from_u32(cp)
                            .ok_or_else(|| unsupported("a surrogate `\\u` escape"))?,
                    );
                }
                '\\' | '"' | '\'' | '#' | '/' | ' ' => out.push(e),
                c if c.is_ascii_alphanumeric() || c == '\n' => {
                    return Err(unsupported(&format!("the escape `\\{c}`")))
                }
                c => out.push(c),
            }
            continue;
        }
        if q == b'"' && c == '#' && matches!(it.peek(), Some((_, '@' | '$'))) {
            return Err(unsupported(
                "`#@` or `#$` interpolation in a string literal",
            ));
        }
        out.push(c);
    }
    Err("a string literal is not closed".into())
}

/// A `/.../flags` literal at the start of `s`: body, flags, length.
fn regexp_lit(s: &str) -> Result<(String, String, usize), String> {
    let b = s.as_bytes();
    let mut body = String::new();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'/' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_alphabetic() {
                    j += 1;
                }
                let flags = &s[i + 1..j];
                if flags.chars().any(|f| !matches!(f, 'i' | 'm' | 'x')) {
                    return Err(unsupported(&format!("the regexp flags `{flags}`")));
                }
                return Ok((body, flags.to_string(), j));
            }
            b'\\' if i + 1 < b.len() => {
                if b[i + 1] == b'/' {
                    body.push('/');
                } else {
                    body.push('\\');
                    let ch = s[i + 1..].chars().next().unwrap_or(' ');
                    body.push(ch);
                    i += ch.len_utf8() - 1;
                }
                i += 2;
            }
            b'#' if matches!(b.get(i + 1), Some(b'{' | b'@' | b'$')) => {
                return Err(unsupported("interpolation in a regexp literal"))
            }
            _ => {
                let ch = s[i..].chars().next().unwrap_or(' ');
                body.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    Err("a regexp literal is not closed".into())
}

// ------------------------------------------------------------------------------------------
// Parser

struct Parser {
    toks: Vec<(Tok, bool)>,
    at: usize,
    /// Nesting built so far on the current path (recursion plus left-associative chains): an
    /// upper bound of the depth of the tree, which `eval`, `Drop` and `may_be_object` recurse on.
    depth: usize,
}

/// The deepest expression accepted (deeper ones overflow the stack in eval or drop).
const MAX_DEPTH: usize = 256;

/// The methods Fluentd 1.16's clean room keeps (Kernel's private methods and the few public ones
/// it does not undefine, listed from Fluentd's own process) and a few more: a bare name among
/// them is not a NameError, so it is refused.
const KERNEL: &[&str] = &[
    "__callee__",
    "__dir__",
    "__id__",
    "__method__",
    "__send__",
    "abort",
    "at_exit",
    "autoload",
    "binding",
    "block_given",
    "callcc",
    "caller",
    "caller_locations",
    "catch",
    "chomp",
    "chop",
    "class",
    "cool_require",
    "define_singleton_method",
    "enum_for",
    "equal",
    "eval",
    "exec",
    "exit",
    "expand",
    "fail",
    "fork",
    "format",
    "gem",
    "gem_original_require",
    "gets",
    "global_variables",
    "gsub",
    "initialize",
    "initialize_clone",
    "initialize_copy",
    "initialize_dup",
    "instance_eval",
    "instance_exec",
    "instance_variable_get",
    "iterator",
    "j",
    "jj",
    "lambda",
    "load",
    "local_variables",
    "loop",
    "method_missing",
    "new_ostruct_member",
    "object_id",
    "open",
    "p",
    "pp",
    "pretty_inspect",
    "pretty_print",
    "pretty_print_cycle",
    "pretty_print_inspect",
    "pretty_print_instance_variables",
    "print",
    "printf",
    "proc",
    "public_methods",
    "putc",
    "puts",
    "raise",
    "rand",
    "readline",
    "readlines",
    "remove_instance_variable",
    "require",
    "require_relative",
    "respond_to",
    "respond_to_missing",
    "select",
    "set_trace_func",
    "singleton_method_added",
    "singleton_method_removed",
    "singleton_method_undefined",
    "sleep",
    "spawn",
    "sprintf",
    "srand",
    "sub",
    "syscall",
    "system",
    "test",
    "then",
    "throw",
    "timeout",
    "to_enum",
    "to_yaml",
    "trace_var",
    "trap",
    "untrace_var",
    "warn",
    "y",
    "yield_self",
];

impl Parser {
    /// One more level of nesting; refused past [`MAX_DEPTH`].
    /// Run one level of the recursive descent (`f`) one level deeper, the depth restored after.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, String> {
        let d = self.depth;
        self.enter()?;
        let r = f(self);
        self.depth = d;
        r
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(unsupported(&format!(
                "an expression nested deeper than {MAX_DEPTH}"
            )));
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|t| &t.0)
    }

    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::P(q)) if *q == p)
    }

    fn is_kw(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(w)) if w == k)
    }

    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) || self.is_kw(p) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, p: &str) -> Result<(), String> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn unexpected(&self) -> String {
        match self.peek() {
            None => "the expression ends early".into(),
            Some(Tok::P(p)) => unsupported(&format!("`{p}` here")),
            Some(t) => unsupported(&format!("{t:?} here")),
        }
    }

    /// A statement: `not` / `and` / `or` expressions with the modifiers `rescue`, `if` and
    /// `unless` after them (`a rescue b`, `a if c`).
    fn expr(&mut self) -> Result<Expr, String> {
        self.nested(Self::stmt_inner)
    }

    fn stmt_inner(&mut self) -> Result<Expr, String> {
        let mut e = self.expr_and_or()?;
        loop {
            if self.eat("rescue") {
                self.enter()?;
                e = Expr::Rescue(Box::new(e), Box::new(self.expr_and_or()?));
            } else if self.is_kw("if") || self.is_kw("unless") {
                let unless = self.is_kw("unless");
                self.at += 1;
                self.enter()?;
                let c = Box::new(self.expr_and_or()?);
                let nil = Box::new(Expr::Lit(RValue::Nil));
                e = if unless {
                    Expr::If(c, nil, Box::new(e))
                } else {
                    Expr::If(c, Box::new(e), nil)
                };
            } else {
                return Ok(e);
            }
        }
    }

    fn expr_and_or(&mut self) -> Result<Expr, String> {
        self.nested(Self::expr_inner)
    }

    fn expr_inner(&mut self) -> Result<Expr, String> {
        let mut e = self.not_expr()?;
        loop {
            if self.eat("or") {
                self.enter()?;
                e = Expr::Or(Box::new(e), Box::new(self.not_expr()?));
            } else if self.eat("and") {
                self.enter()?;
                e = Expr::And(Box::new(e), Box::new(self.not_expr()?));
            } else {
                return Ok(e);
            }
        }
    }

    fn not_expr(&mut self) -> Result<Expr, String> {
        self.nested(Self::not_expr_inner)
    }

    fn not_expr_inner(&mut self) -> Result<Expr, String> {
        if self.eat("not") {
            return Ok(Expr::Not(Box::new(self.not_expr()?)));
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Result<Expr, String> {
        self.nested(Self::ternary_inner)
    }

    fn ternary_inner(&mut self) -> Result<Expr, String> {
        let c = self.oror()?;
        if self.eat("?") {
            let a = self.ternary()?;
            self.expect(":")?;
            let b = self.ternary()?;
            return Ok(Expr::If(Box::new(c), Box::new(a), Box::new(b)));
        }
        Ok(c)
    }

    fn oror(&mut self) -> Result<Expr, String> {
        self.nested(Self::oror_inner)
    }

    fn oror_inner(&mut self) -> Result<Expr, String> {
        let mut e = self.andand()?;
        while self.eat("||") {
            self.enter()?;
            e = Expr::Or(Box::new(e), Box::new(self.andand()?));
        }
        Ok(e)
    }

    fn andand(&mut self) -> Result<Expr, String> {
        self.nested(Self::andand_inner)
    }

    fn andand_inner(&mut self) -> Result<Expr, String> {
        let mut e = self.equality()?;
        while self.eat("&&") {
            self.enter()?;
            e = Expr::And(Box::new(e), Box::new(self.equality()?));
        }
        Ok(e)
    }

    fn equality(&mut self) -> Result<Expr, String> {
        self.nested(Self::equality_inner)
    }

    fn equality_inner(&mut self) -> Result<Expr, String> {
        let e = self.comparison()?;
        const OPS: [&str; 5] = ["==", "!=", "<=>", "=~", "!~"];
        let Some(op) = OPS.iter().find(|o| self.is(o)).copied() else {
            return Ok(e);
        };
        self.at += 1;
        let r = self.comparison()?;
        // Ruby's equality operators do not chain (`a == b == c` is a syntax error).
        if OPS.iter().any(|o| self.is(o)) {
            return Err(self.unexpected());
        }
        Ok(match op {
            "==" => Expr::Op(Bin::Eq, Box::new(e), Box::new(r)),
            "!=" => Expr::Op(Bin::Ne, Box::new(e), Box::new(r)),
            "<=>" => Expr::Op(Bin::Cmp, Box::new(e), Box::new(r)),
            _ => {
                let negate = op == "!~";
                match (e, r) {
                    (Expr::Re(re), _) if !re.names().is_empty() => {
                        return Err(unsupported(
                            "`/(?<name>…)/ =~ x`, which makes each group a local variable \
                             (write `x =~ /(?<name>…)/` or `x.match(/…/)[\"name\"]`)",
                        ))
                    }
                    (Expr::Re(re), subject) => Expr::ReMatch {
                        subject: Box::new(subject),
                        re,
                        re_left: true,
                        negate,
                    },
                    (subject, Expr::Re(re)) => Expr::ReMatch {
                        subject: Box::new(subject),
                        re,
                        re_left: false,
                        negate,
                    },
                    _ => return Err(unsupported(&format!("`{op}` without a regexp literal"))),
                }
            }
        })
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        self.nested(Self::comparison_inner)
    }

    fn comparison_inner(&mut self) -> Result<Expr, String> {
        const OPS: &[(&str, Bin)] = &[
            ("<", Bin::Lt),
            ("<=", Bin::Le),
            (">", Bin::Gt),
            (">=", Bin::Ge),
        ];
        self.left_assoc(OPS, Self::additive)
    }

    fn additive(&mut self) -> Result<Expr, String> {
        self.nested(Self::additive_inner)
    }

    fn additive_inner(&mut self) -> Result<Expr, String> {
        self.left_assoc(&[("+", Bin::Add), ("-", Bin::Sub)], Self::multiplicative)
    }

    fn multiplicative(&mut self) -> Result<Expr, String> {
        self.nested(Self::multiplicative_inner)
    }

    fn multiplicative_inner(&mut self) -> Result<Expr, String> {
        const OPS: &[(&str, Bin)] = &[("*", Bin::Mul), ("/", Bin::Div), ("%", Bin::Mod)];
        self.left_assoc(OPS, Self::unary)
    }

    /// One level of left-associative binary operators: `next` items joined by `ops`.
    fn left_assoc(
        &mut self,
        ops: &[(&str, Bin)],
        next: fn(&mut Self) -> Result<Expr, String>,
    ) -> Result<Expr, String> {
        let mut e = next(self)?;
        loop {
            let Some(&(_, op)) = ops.iter().find(|(p, _)| self.is(p)) else {
                return Ok(e);
            };
            self.at += 1;
            self.enter()?;
            e = Expr::Op(op, Box::new(e), Box::new(next(self)?));
        }
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.nested(Self::unary_inner)
    }

    fn unary_inner(&mut self) -> Result<Expr, String> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if self.is("-") {
            // Only a negative number literal.
            match self.toks.get(self.at + 1) {
                Some((Tok::Int(n), false)) => {
                    let n = *n;
                    self.at += 2;
                    let e = self.postfix(Expr::Lit(RValue::Int(-n)))?;
                    return self.no_pow_after_minus(e);
                }
                Some((Tok::Float(f), false)) => {
                    let f = *f;
                    self.at += 2;
                    let e = self.postfix(Expr::Lit(RValue::Float(-f)))?;
                    return self.no_pow_after_minus(e);
                }
                _ => return Err(unsupported("unary `-` except before a number")),
            }
        }
        let p = self.primary()?;
        let e = self.postfix(p)?;
        if self.eat("**") {
            // Right-associative, and tighter than a unary minus on its right (`2 ** -1`).
            self.enter()?;
            return Ok(Expr::Op(Bin::Pow, Box::new(e), Box::new(self.unary()?)));
        }
        Ok(e)
    }

    /// `-2 ** 2` is `-(2 ** 2)` in Ruby: refused rather than read as `(-2) ** 2`.
    fn no_pow_after_minus(&mut self, e: Expr) -> Result<Expr, String> {
        if self.is("**") {
            return Err(unsupported(
                "`**` after a negative number (write `-(a ** b)`)",
            ));
        }
        Ok(e)
    }

    fn args(&mut self, close: &str) -> Result<Vec<Expr>, String> {
        let mut args = Vec::new();
        if self.eat(close) {
            return Ok(args);
        }
        loop {
            args.push(self.ternary_arg()?);
            if self.eat(close) {
                return Ok(args);
            }
            self.expect(",")?;
        }
    }

    /// An argument: no `and`/`or`/`not` (Ruby refuses them there without parentheses).
    fn ternary_arg(&mut self) -> Result<Expr, String> {
        self.ternary()
    }

    /// (Its caller, `unary`, restores `depth`.)
    fn postfix(&mut self, mut e: Expr) -> Result<Expr, String> {
        loop {
            if self.is(".") || self.is("&.") || (self.is("[") && !self.toks[self.at].1) {
                self.enter()?;
            }
            if self.is(".") || self.is("&.") {
                // `&.` skips only the call it makes (`nil&.a.b` calls `b` on nil).
                let safe = self.is("&.");
                if safe {
                    e = Expr::Safe(Box::new(e));
                }
                self.at += 1;
                let Some(Tok::Ident(m)) = self.peek().cloned() else {
                    return Err(self.unexpected());
                };
                self.at += 1;
                if !METHODS.contains(&m.as_str()) || m == "[]" {
                    return Err(unsupported(&format!("the method `{m}`")));
                }
                let args = if self.is("(") && !self.toks[self.at].1 {
                    self.at += 1;
                    self.args(")")?
                } else {
                    if argument_start(self.peek()) || self.is("(") {
                        return Err(unsupported("a method argument without parentheses"));
                    }
                    Vec::new()
                };
                e = self.call(e, m, args)?;
                if safe {
                    e = Expr::SafeEnd(Box::new(e));
                }
            } else if self.is("[") && !self.toks[self.at].1 {
                self.at += 1;
                let a = self.ternary_arg()?;
                if matches!(a, Expr::Re(_)) {
                    return Err(unsupported("x[/regexp/]"));
                }
                if self.eat("..") || self.eat("...") {
                    let excl = matches!(self.toks[self.at - 1].0, Tok::P("..."));
                    let b = self.ternary_arg()?;
                    // Ruby's `..` binds tighter than `?:`: `x[c ? 1 : 2..3]` is `x[c ? 1 : (2..3)]`.
                    if matches!(a, Expr::If(..)) || matches!(b, Expr::If(..)) {
                        return Err(unsupported("`c ? a : b` beside `..` without parentheses"));
                    }
                    self.expect("]")?;
                    e = Expr::Range(Box::new(e), Box::new(a), Box::new(b), excl);
                    continue;
                }
                let mut args = vec![a];
                if self.eat(",") {
                    args.push(self.ternary_arg()?);
                }
                self.expect("]")?;
                e = Expr::Call(Box::new(e), "[]".into(), args, None);
            } else {
                return Ok(e);
            }
        }
    }

    fn call(&mut self, recv: Expr, m: String, args: Vec<Expr>) -> Result<Expr, String> {
        let n = args.len();
        let arity_ok = match m.as_str() {
            "gsub" | "sub" | "tr" => n == 2,
            "scan" | "match" | "match?" | "start_with?" | "end_with?" | "include?" | "strftime"
            | "has_key?" | "key?" | "member?" | "is_a?" | "kind_of?" | "instance_of?" | "eql?"
            | "take" | "drop" | "delete" | "force_encoding" => n == 1,
            "index" | "rindex" => n == 1,
            "split" | "fetch" | "ljust" | "rjust" | "center" | "slice" => {
                (1..=2).contains(&n) || (m == "split" && n == 0)
            }
            "first" | "last" | "join" | "iso8601" | "xmlschema" | "chomp" | "squeeze" | "count"
            | "to_s" | "scrub" => n <= 1,
            "dig" => n >= 1,
            _ => n == 0,
        };
        if !arity_ok {
            return Err(unsupported(&format!("`{m}` with {n} argument(s)")));
        }
        let is_pat = matches!(
            m.as_str(),
            "gsub" | "sub" | "scan" | "match" | "match?" | "split"
        );
        if args
            .iter()
            .enumerate()
            .any(|(i, a)| matches!(a, Expr::Re(_)) && !(is_pat && i == 0))
        {
            // eval takes a first regexp argument out as the pattern: elsewhere the method
            // would find its argument list short (`'a'.start_with?(/a/)` indexed args[0]).
            return Err(unsupported(&format!("`{m}` with a regexp argument")));
        }
        let mut fmt = None;
        match m.as_str() {
            "gsub" | "sub" | "scan" | "match" | "split" => {
                if let Some(a) = args.first() {
                    match a {
                        Expr::Re(re) if m == "split" && !re.numbered().is_empty() => {
                            return Err(unsupported("split by a regexp with groups"))
                        }
                        Expr::Re(_) => {}
                        Expr::Lit(RValue::Str(_)) if m != "match" => {}
                        _ => {
                            return Err(unsupported(&format!(
                                "`{m}` with a pattern that is not a regexp or string literal"
                            )))
                        }
                    }
                }
                if (m == "gsub" || m == "sub") && !matches!(args[1], Expr::Lit(RValue::Str(_))) {
                    return Err(unsupported(&format!(
                        "`{m}` with a replacement that is not a string literal"
                    )));
                }
                if m == "split" && args.len() == 2 && !matches!(args[0], Expr::Lit(RValue::Str(_)))
                {
                    return Err(unsupported("split by a regexp with a limit"));
                }
            }
            "strftime" => match &args[0] {
                Expr::Lit(RValue::Str(f)) => {
                    fmt = Some(Box::new(TimeFmt::new(f)?));
                }
                _ => {
                    return Err(unsupported(
                        "strftime with a format that is not a string literal",
                    ))
                }
            },
            _ => {}
        }
        if m == "match?" {
            // A string pattern is read as a regexp (not escaped), as Ruby's `match?` does.
            let mut args = args;
            match args.remove(0) {
                Expr::Re(re) => args.insert(0, Expr::Re(re)),
                Expr::Lit(RValue::Str(p)) => args.insert(
                    0,
                    Expr::Re(compile(&p, "").map_err(|e| format!("regexp /{p}/: {e}"))?),
                ),
                _ => {
                    return Err(unsupported(
                        "`match?` with a pattern that is not a regexp or string literal",
                    ))
                }
            }
            return Ok(Expr::Call(Box::new(recv), m, args, fmt));
        }
        if m == "force_encoding" && !fresh_string(&recv) {
            return Err(unsupported(
                "force_encoding of a string that may be the record's own (it changes the string \
                 itself, in Fluentd the record's field too): call it on a copy, \
                 `x.dup.force_encoding(...)`",
            ));
        }
        if matches!(m.as_str(), "is_a?" | "kind_of?" | "instance_of?")
            && !matches!(args[0], Expr::Lit(RValue::Class(_)))
        {
            return Err(unsupported(&format!("`{m}` of other than a class name")));
        }
        Ok(Expr::Call(Box::new(recv), m, args, fmt))
    }

    fn primary(&mut self) -> Result<Expr, String> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        self.at += 1;
        Ok(match t {
            Tok::Int(n) => Expr::Lit(RValue::Int(n)),
            Tok::Float(f) => Expr::Lit(RValue::Float(f)),
            Tok::Str(s) => {
                if matches!(self.peek(), Some(Tok::Str(_) | Tok::DStr(_))) {
                    return Err(unsupported("adjacent string literals"));
                }
                Expr::Lit(RValue::Str(s))
            }
            Tok::DStr(Interp(p)) => {
                if matches!(self.peek(), Some(Tok::Str(_) | Tok::DStr(_))) {
                    return Err(unsupported("adjacent string literals"));
                }
                Expr::Interp(p)
            }
            Tok::Sym(s) => Expr::Lit(RValue::Sym(s)),
            Tok::Re(body, flags) => {
                Expr::Re(compile(&body, &flags).map_err(|e| format!("regexp /{body}/: {e}"))?)
            }
            Tok::P("[") => Expr::Array(self.args("]")?),
            Tok::P("(") => {
                let e = self.expr()?;
                self.expect(")")?;
                e
            }
            Tok::Const(c) if c == "Time" && self.is(".") => {
                self.expect(".")?;
                if self.eat("now") {
                    return Ok(Expr::Now);
                }
                let at = self.eat("at");
                if (at || self.eat("parse")) && self.is("(") {
                    self.at += 1;
                    let mut a = self.args(")")?;
                    if a.len() != 1 {
                        return Err(unsupported(
                            "Time.at or Time.parse without exactly one argument",
                        ));
                    }
                    let x = Box::new(a.remove(0));
                    return Ok(if at {
                        Expr::TimeAt(x)
                    } else {
                        Expr::TimeParse(x)
                    });
                }
                return Err(unsupported(
                    "a Time method other than Time.now, Time.at(x) and Time.parse(x)",
                ));
            }
            Tok::Const(c) if c == "ENV" => return self.env(),
            Tok::Const(c) if !self.is("(") && !self.is("::") && !self.is(".") => {
                match CLASSES.iter().find(|k| **k == c) {
                    Some(k) => Expr::Lit(RValue::Class(k)),
                    None => return Err(unsupported(&format!("the constant `{c}`"))),
                }
            }
            Tok::Const(c) if c == "Hash" => {
                self.expect(".")?;
                if !self.eat("new") || !self.is("(") {
                    return Err(unsupported("a Hash method other than Hash.new(x)"));
                }
                self.at += 1;
                let mut a = self.args(")")?;
                if a.len() != 1 {
                    return Err(unsupported("Hash.new without exactly one argument"));
                }
                Expr::HashNew(Box::new(a.remove(0)))
            }
            Tok::Ident(w) => match w.as_str() {
                "nil" => Expr::Lit(RValue::Nil),
                "true" => Expr::Lit(RValue::Bool(true)),
                "false" => Expr::Lit(RValue::Bool(false)),
                "record" => Expr::Var(VarRef(Var::Record)),
                "tag" => Expr::Var(VarRef(Var::Tag)),
                "time" => Expr::Var(VarRef(Var::Time)),
                "tag_parts" => Expr::Var(VarRef(Var::TagParts)),
                "tag_prefix" => Expr::Var(VarRef(Var::TagPrefix)),
                "tag_suffix" => Expr::Var(VarRef(Var::TagSuffix)),
                "hostname" => Expr::Var(VarRef(Var::Hostname)),
                "if" | "unless" => return self.if_expr(w == "unless"),
                "while" | "until" | "case" | "def" | "class" | "module" | "begin" | "end"
                | "do" | "then" | "yield" | "return" | "self" | "super" | "defined" | "alias"
                | "undef" | "rescue" | "ensure" | "redo" | "retry" | "break" | "next" | "for"
                | "in" | "elsif" | "else" | "when" | "BEGIN" | "END" | "__FILE__" | "__LINE__"
                | "__ENCODING__" | "not" | "and" | "or" => {
                    return Err(unsupported(&format!("the keyword `{w}`")))
                }
                _ if KERNEL.contains(&w.as_str()) || w.starts_with("__") => {
                    return Err(unsupported(&format!("the method `{w}`")))
                }
                _ => {
                    if self.is("(") || argument_start(self.peek()) {
                        return Err(unsupported(&format!("a call of `{w}`")));
                    }
                    Expr::NameError(w)
                }
            },
            _ => {
                self.at -= 1;
                return Err(self.unexpected());
            }
        })
    }
}

/// The String methods that give a new string (never the receiver itself).
const FRESH: &[&str] = &[
    "dup",
    "clone",
    "b",
    "scrub",
    "gsub",
    "sub",
    "strip",
    "lstrip",
    "rstrip",
    "upcase",
    "downcase",
    "capitalize",
    "swapcase",
    "tr",
    "delete",
    "squeeze",
    "chomp",
    "chop",
    "reverse",
    "center",
    "ljust",
    "rjust",
    "join",
    "strftime",
    "iso8601",
    "xmlschema",
    "to_json",
];

/// Whether `e` makes a new string each time (a literal, `+`, `*`, or a method in [`FRESH`]),
/// which `force_encoding` may change without changing the record's.
fn fresh_string(e: &Expr) -> bool {
    match e {
        Expr::Lit(_) | Expr::Interp(_) | Expr::Op(Bin::Add | Bin::Mul, ..) => true,
        Expr::Call(_, m, _, _) => FRESH.contains(&m.as_str()),
        Expr::SafeEnd(x) => fresh_string(x),
        _ => false,
    }
}

/// The class names an expression may name (`x.is_a?(String)`, `x.class == Hash`).
const CLASSES: &[&str] = &[
    "String",
    "Integer",
    "Float",
    "Numeric",
    "Array",
    "Hash",
    "Symbol",
    "Time",
    "NilClass",
    "TrueClass",
    "FalseClass",
    "Comparable",
    "Enumerable",
    "Object",
    "BasicObject",
    "MatchData",
];

impl Parser {
    /// `if c then a elsif d then b else e end` (or `;` for `then`), `unless c then a else b
    /// end`: a missing branch is nil. One expression a branch.
    fn if_expr(&mut self, unless: bool) -> Result<Expr, String> {
        // A condition takes no modifier (`if a rescue b then` is Ruby's syntax error).
        let cond = self.expr_and_or()?;
        self.then()?;
        let body = self.expr()?;
        self.eat(";");
        let rest = if !unless && self.eat("elsif") {
            self.enter()?;
            return Ok(Expr::If(
                Box::new(cond),
                Box::new(body),
                Box::new(self.if_expr(false)?),
            ));
        } else if self.eat("else") {
            self.eat(";");
            let e = self.expr()?;
            self.eat(";");
            e
        } else {
            Expr::Lit(RValue::Nil)
        };
        if !self.eat("end") {
            return Err(self.unexpected());
        }
        let (yes, no) = if unless { (rest, body) } else { (body, rest) };
        self.postfix(Expr::If(Box::new(cond), Box::new(yes), Box::new(no)))
    }

    /// `then`, `;` or `; then` after a condition.
    fn then(&mut self) -> Result<(), String> {
        let semi = self.eat(";");
        if self.eat("then") || semi {
            return Ok(());
        }
        Err(self.unexpected())
    }

    /// `ENV['X']`, `ENV.fetch('X')`, `ENV.fetch('X', default)`, `ENV.key?('X')` (and
    /// `has_key?`, `include?`, `member?`): the variable is read when the config is, as the
    /// daemon's environment does not change.
    fn env(&mut self) -> Result<Expr, String> {
        let lookup = |name: &str| -> Result<Option<String>, String> {
            match std::env::var(name) {
                Ok(v) => Ok(Some(v)),
                Err(std::env::VarError::NotPresent) => Ok(None),
                Err(_) => Err(unsupported(&format!(
                    "the environment variable `{name}`, which is not UTF-8,"
                ))),
            }
        };
        let name_arg = |a: &Expr| match a {
            Expr::Lit(RValue::Str(n)) => Ok(n.clone()),
            _ => Err(unsupported("ENV with a name that is not a string literal")),
        };
        if self.is("[") && !self.toks[self.at].1 {
            self.at += 1;
            let a = self.args("]")?;
            if a.len() != 1 {
                return Err(unsupported("ENV[] without exactly one name"));
            }
            let v = lookup(&name_arg(&a[0])?)?;
            return self.postfix(Expr::Lit(v.map_or(RValue::Nil, RValue::Str)));
        }
        self.expect(".")?;
        let Some(Tok::Ident(m)) = self.peek().cloned() else {
            return Err(self.unexpected());
        };
        self.at += 1;
        if !self.is("(") {
            return Err(unsupported(&format!("ENV.{m}")));
        }
        self.at += 1;
        let mut a = self.args(")")?;
        let e = match (m.as_str(), a.len()) {
            ("fetch", 1) => {
                let n = name_arg(&a[0])?;
                match lookup(&n)? {
                    Some(v) => Expr::Lit(RValue::Str(v)),
                    None => Expr::Fail(format!("key not found: \"{n}\"")),
                }
            }
            ("fetch", 2) => {
                let v = lookup(&name_arg(&a[0])?)?;
                Expr::EnvFetch(v, Box::new(a.remove(1)))
            }
            ("key?" | "has_key?" | "include?" | "member?", 1) => {
                Expr::Lit(RValue::Bool(lookup(&name_arg(&a[0])?)?.is_some()))
            }
            _ => {
                return Err(unsupported(&format!(
                    "ENV.{m} with {} argument(s)",
                    a.len()
                )))
            }
        };
        self.postfix(e)
    }
}

/// Parse one whole expression (the text of a `${...}` that is a whole value).
pub fn parse(src: &str) -> Result<Expr, String> {
    let l = lex(src, false)?;
    let mut p = Parser {
        toks: l.toks,
        at: 0,
        depth: 0,
    };
    let e = p.expr()?;
    if p.at < p.toks.len() {
        return Err(p.unexpected());
    }
    Ok(e)
}

/// A piece of an interpolated string.
#[derive(Clone, Debug)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// `#{expr}`: its `to_s`.
    Expr(Expr),
}

/// Parse the contents of Fluentd's `%Q[...]` (a value with each `${` replaced by `#{`):
/// literal text and interpolations. Backslashes, `#@`, `#$` and unbalanced brackets in the
/// text are refused.
pub fn parse_template(s: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if let Some(inner) = rest.strip_prefix("#{") {
            if !text.is_empty() {
                out.push(Piece::Text(std::mem::take(&mut text)));
            }
            let l = lex(inner, true)?;
            let mut p = Parser {
                toks: l.toks,
                at: 0,
                depth: 0,
            };
            let e = if p.toks.is_empty() {
                Expr::Lit(RValue::Nil)
            } else {
                let e = p.expr()?;
                if p.at < p.toks.len() {
                    return Err(p.unexpected());
                }
                e
            };
            out.push(Piece::Expr(e));
            i += 2 + l.end;
            continue;
        }
        let c = rest.chars().next().unwrap_or(' ');
        match c {
            '\\' => return Err(unsupported("a backslash in the text around ${...}")),
            '#' if rest.starts_with("#@") || rest.starts_with("#$") => {
                return Err(unsupported("`#@` or `#$` in the text around ${...}"))
            }
            '[' => depth += 1,
            ']' => {
                if depth == 0 {
                    return Err(unsupported("an unbalanced `]` in the text around ${...}"));
                }
                depth -= 1;
            }
            _ => {}
        }
        text.push(c);
        i += c.len_utf8();
    }
    if depth != 0 {
        return Err(unsupported("an unbalanced `[` in the text around ${...}"));
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// Whether the value of `e` may be one that is not a record value (a Time, a MatchData).
pub fn may_be_object(e: &Expr) -> bool {
    match e {
        Expr::Var(VarRef(Var::Time))
        | Expr::Now
        | Expr::TimeAt(_)
        | Expr::TimeParse(_)
        | Expr::Re(_)
        | Expr::HashNew(_) => true,
        Expr::Call(_, m, _, _) if m == "match" || m == "class" => true,
        // A Time's methods that give a Time.
        Expr::Call(recv, m, _, _)
            if matches!(
                m.as_str(),
                "utc" | "gmtime" | "localtime" | "getutc" | "getgm" | "getlocal" | "round"
            ) =>
        {
            may_be_object(recv)
        }
        Expr::Safe(x) | Expr::SafeEnd(x) | Expr::EnvFetch(_, x) => may_be_object(x),
        // `time + 60`; an array that may hold one, or an element of it (`[time].first`).
        Expr::Op(Bin::Add, a, _) => may_be_object(a),
        // (A Time minus a Time is a Float.)
        Expr::Op(Bin::Sub, a, b) => may_be_object(a) && !may_be_object(b),
        Expr::Call(recv, m, _, _)
            if matches!(
                m.as_str(),
                "first"
                    | "last"
                    | "[]"
                    | "fetch"
                    | "dig"
                    | "max"
                    | "min"
                    | "slice"
                    | "sort"
                    | "uniq"
                    | "compact"
                    | "flatten"
                    | "reverse"
                    | "take"
                    | "drop"
            ) =>
        {
            array_may_hold_object(recv)
        }
        Expr::Or(a, b) | Expr::And(a, b) | Expr::If(_, a, b) | Expr::Rescue(a, b) => {
            may_be_object(a) || may_be_object(b)
        }
        Expr::Array(a) => a.iter().any(may_be_object),
        _ => false,
    }
}

/// Whether `e` is an array literal holding a value that may be an object, or such an array
/// sorted, cut or flattened.
fn array_may_hold_object(e: &Expr) -> bool {
    match e {
        Expr::Array(a) => a.iter().any(may_be_object),
        Expr::Call(recv, m, _, _)
            if matches!(
                m.as_str(),
                "sort"
                    | "uniq"
                    | "compact"
                    | "flatten"
                    | "reverse"
                    | "take"
                    | "drop"
                    | "first"
                    | "last"
                    | "slice"
                    | "[]"
            ) =>
        {
            array_may_hold_object(recv)
        }
        _ => false,
    }
}

// ------------------------------------------------------------------------------------------
// Values

impl RValue {
    /// The Ruby value of a record value.
    pub fn from_value(v: &Value) -> RValue {
        match v {
            Value::Nil => RValue::Nil,
            Value::Bool(b) => RValue::Bool(*b),
            Value::Int(i) => RValue::Int(*i),
            Value::F32(f) => RValue::Float(f64::from(*f)),
            Value::F64(f) => RValue::Float(*f),
            Value::Str(s) => RValue::Str(s.clone()),
            Value::Bin(b) => RValue::Bytes(crate::ruby::bytes_as_text(b)),
            Value::Array(a) => RValue::Array(a.iter().map(RValue::from_value).collect()),
            Value::Map(m) => RValue::Hash(
                m.iter()
                    .map(|(k, v)| (RValue::from_value(k), RValue::from_value(v)))
                    .collect(),
                Box::new(RValue::Nil),
            ),
            other => RValue::Other(other.clone()),
        }
    }

    /// The record value of a Ruby value (`Err` for a Time, a MatchData).
    pub fn to_value(&self) -> Result<Value, String> {
        Ok(match self {
            RValue::Nil => Value::Nil,
            RValue::Bool(b) => Value::Bool(*b),
            RValue::Int(i) => Value::Int(*i),
            RValue::Float(f) => Value::F64(*f),
            RValue::Str(s) | RValue::Sym(s) => Value::Str(s.clone()),
            RValue::Bytes(s) => Value::Bin(crate::ruby::text_bytes(s)),
            RValue::Array(a) => {
                Value::Array(a.iter().map(RValue::to_value).collect::<Result<_, _>>()?)
            }
            RValue::Hash(m, _) => Value::Map(
                m.iter()
                    .map(|(k, v)| Ok((k.to_value()?, v.to_value()?)))
                    .collect::<Result<_, String>>()?,
            ),
            RValue::Other(v) => v.clone(),
            RValue::Time(_) | RValue::Match(_) | RValue::Class(_) => {
                return Err(unsupported(
                    "a Time, MatchData or Class inside an Array or Hash",
                ))
            }
        })
    }

    fn class(&self) -> &'static str {
        match self {
            RValue::Nil => "nil:NilClass",
            RValue::Bool(true) => "true:TrueClass",
            RValue::Bool(false) => "false:FalseClass",
            RValue::Int(_) => "Integer",
            RValue::Float(_) => "Float",
            RValue::Str(_) | RValue::Bytes(_) => "String",
            RValue::Sym(_) => "Symbol",
            RValue::Array(_) => "Array",
            RValue::Hash(..) => "Hash",
            RValue::Time(_) => "Time",
            RValue::Match(_) => "MatchData",
            RValue::Class(_) => "Class",
            RValue::Other(_) => "an unsupported value",
        }
    }

    fn is_negative(&self) -> bool {
        matches!(self, RValue::Int(i) if *i < 0)
    }

    fn truthy(&self) -> bool {
        !matches!(self, RValue::Nil | RValue::Bool(false))
    }

    /// Ruby's `to_s`.
    pub fn to_s(&self) -> Result<String, String> {
        Ok(match self {
            RValue::Str(s) | RValue::Sym(s) | RValue::Bytes(s) => s.clone(),
            RValue::Time(t) => t.to_s()?,
            RValue::Class(c) => c.to_string(),
            RValue::Match(m) => m.group(0).to_s()?,
            _ => crate::ruby::to_s(&self.to_value()?),
        })
    }
}

fn eql(a: &RValue, b: &RValue) -> bool {
    match (a, b) {
        (RValue::Nil, RValue::Nil) => true,
        (RValue::Bool(x), RValue::Bool(y)) => x == y,
        (RValue::Int(x), RValue::Int(y)) => x == y,
        (RValue::Float(x), RValue::Float(y)) => x == y,
        (RValue::Str(x), RValue::Str(y))
        | (RValue::Bytes(x), RValue::Bytes(y))
        | (RValue::Sym(x), RValue::Sym(y)) => x == y,
        // A binary string and a UTF-8 one are equal only as ASCII (Ruby's comparable strings).
        (RValue::Str(x), RValue::Bytes(y)) | (RValue::Bytes(x), RValue::Str(y)) => {
            x == y && x.is_ascii()
        }
        (RValue::Array(x), RValue::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| eql(a, b))
        }
        (RValue::Class(x), RValue::Class(y)) => x == y,
        (RValue::Time(x), RValue::Time(y)) => x.compare(y) == Some(std::cmp::Ordering::Equal),
        (RValue::Hash(..), RValue::Hash(..)) => {
            let (mut p, mut q) = (Vec::new(), Vec::new());
            more::canon(a, &mut p) && more::canon(b, &mut q) && p == q
        }
        _ => false,
    }
}

/// Ruby's `==` (for the values it is defined on here).
fn equal(a: &RValue, b: &RValue) -> Result<bool, String> {
    Ok(match (a, b) {
        (RValue::Int(x), RValue::Float(y)) | (RValue::Float(y), RValue::Int(x)) => {
            // Exact: `9223372036854775807 == 9223372036854775807.0` is false (2**63 as a Float).
            more::int_float_cmp(*x, *y) == Some(std::cmp::Ordering::Equal)
        }
        (RValue::Array(x), RValue::Array(y)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (p, q) in x.iter().zip(y) {
                if !equal(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (RValue::Hash(x, _), RValue::Hash(y, _)) => {
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in x {
                match y.iter().rev().find(|(k2, _)| eql(k, k2)) {
                    Some((_, w)) if equal(v, w)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (RValue::Time(x), RValue::Time(y)) => match x.compare(y) {
            Some(o) => o == std::cmp::Ordering::Equal,
            None => return Err(unsupported("== of Times made from Floats")),
        },
        (RValue::Class(x), RValue::Class(y)) => x == y,
        (RValue::Time(_) | RValue::Class(_), _) | (_, RValue::Time(_) | RValue::Class(_)) => false,
        (RValue::Match(_), _)
        | (_, RValue::Match(_))
        | (RValue::Other(_), _)
        | (_, RValue::Other(_)) => {
            return Err(format!(
                "== of {} and {} is not supported",
                a.class(),
                b.class()
            ))
        }
        _ => eql(a, b),
    })
}

fn no_method(m: &str, v: &RValue) -> String {
    let what = match v {
        RValue::Nil | RValue::Bool(_) => v.class().to_string(),
        _ => format!("an instance of {}", v.class()),
    };
    format!("undefined method `{m}' for {what}")
}

fn not_here(m: &str, v: &RValue) -> String {
    format!(
        "`{m}' of {} is not supported by logferry's Ruby subset",
        v.class()
    )
}

/// Ruby's `Array#[]` / `String#[]` index resolution: (start, count) of `[start, len]`.
fn start_len(len: usize, start: i64, count: i64) -> Option<(usize, usize)> {
    let len = len as i64;
    let s = if start < 0 { start + len } else { start };
    if s < 0 || s > len || count < 0 {
        return None;
    }
    Some((s as usize, count.min(len - s) as usize))
}

fn range_len(len: usize, a: i64, b: i64, excl: bool) -> Option<(usize, usize)> {
    let l = len as i64;
    let s = if a < 0 { a + l } else { a };
    if s < 0 || s > l {
        return None;
    }
    let mut e = if b < 0 { b + l } else { b };
    if !excl {
        // Ruby does `end++` in a C long: `x[0..(2**63-1)]` is empty there, so wrap as it does.
        e = e.wrapping_add(1);
    }
    let n = e.wrapping_sub(s).max(0).min(l - s);
    Some((s as usize, n as usize))
}

fn int_arg(v: &RValue) -> Result<i64, String> {
    match v {
        RValue::Int(i) => Ok(*i),
        RValue::Float(f) if f.is_finite() && f.abs() < 9.0e18 => Ok(f.trunc() as i64),
        RValue::Nil => Err("no implicit conversion from nil to integer".into()),
        other => Err(format!(
            "no implicit conversion of {} into Integer",
            other.class()
        )),
    }
}

fn str_arg(v: &RValue) -> Result<&str, String> {
    match v {
        RValue::Str(s) => Ok(s),
        RValue::Nil => Err("no implicit conversion of nil into String".into()),
        other => Err(format!(
            "no implicit conversion of {} into String",
            other.class()
        )),
    }
}

/// Ruby's `String#to_f`: the longest prefix that is a decimal number (underscores between
/// digits, `.5`, an exponent), else 0.0.
fn str_to_f(s: &str) -> Result<f64, String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r') {
        i += 1;
    }
    let mut text = String::new();
    if let Some(&c @ (b'-' | b'+')) = b.get(i) {
        text.push(c as char);
        i += 1;
    }
    let digits = |i: &mut usize, text: &mut String| {
        let st = *i;
        while *i < b.len() {
            if b[*i].is_ascii_digit() {
                text.push(b[*i] as char);
            } else if !(b[*i] == b'_'
                && *i > st
                && b[*i - 1].is_ascii_digit()
                && b.get(*i + 1).is_some_and(u8::is_ascii_digit))
            {
                break;
            }
            *i += 1;
        }
        *i > st
    };
    let int = digits(&mut i, &mut text);
    let mut frac = false;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        text.push('.');
        i += 1;
        frac = digits(&mut i, &mut text);
    }
    if !int && !frac {
        if text.is_empty() {
            return Ok(0.0);
        }
        return Err("String#to_f of a sign without digits is not supported".into());
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if let Some(&c @ (b'-' | b'+')) = b.get(j) {
            exp.push(c as char);
            j += 1;
        }
        let st = j;
        while j < b.len() && b[j].is_ascii_digit() {
            exp.push(b[j] as char);
            j += 1;
        }
        if j > st {
            if b.get(j) == Some(&b'_') {
                return Err("String#to_f of an exponent with `_` is not supported".into());
            }
            text.push_str(&exp);
        }
    }
    text.parse::<f64>().map_err(|e| format!("String#to_f: {e}"))
}

/// Ruby's `Float#to_i`.
fn float_to_i(f: f64) -> Result<i64, String> {
    if f.is_nan() {
        return Err("NaN (FloatDomainError)".into());
    }
    if f.is_infinite() {
        return Err(format!(
            "{} (FloatDomainError)",
            if f > 0.0 { "Infinity" } else { "-Infinity" }
        ));
    }
    if f.abs() >= 9.2e18 {
        return Err("an Integer beyond 64 bits is not supported".into());
    }
    Ok(f.trunc() as i64)
}

const STRIP: &[char] = &['\0', '\t', '\n', '\x0b', '\x0c', '\r', ' '];

/// Ruby's error for method `m` on `s`, a string holding bytes that are not UTF-8 (each standing
/// in it as [`crate::ruby::stands_for_byte`]), where Ruby reads its characters: `upcase` and
/// `downcase` ("input string invalid"), a regexp in `gsub`, `sub` and `match`, `scan` and `split`
/// (but `split` with a limit of 1), and `strip`, `lstrip` and `rstrip` where their scan for
/// white space comes to such a byte ("invalid byte sequence in UTF-8"). The other methods take
/// the bytes as they are (`"a\xFFb".length` is 3, `+` joins them, `gsub` with a string keeps them).
fn invalid_bytes_raise(s: &str, m: &str, pat: Option<&Pat>, rest: &[RValue]) -> Result<(), String> {
    const SEQUENCE: &str = "invalid byte sequence in UTF-8";
    let raises = match m {
        "upcase" | "downcase" | "capitalize" | "swapcase" => {
            return Err("input string invalid".into())
        }
        "to_sym" => return Err("invalid symbol in encoding UTF-8".into()),
        "tr" | "delete" | "squeeze" | "count" | "index" | "rindex" | "reverse" | "chars"
        | "center" | "ljust" | "rjust" | "chomp" | "chop" | "ord" => {
            return Err(unsupported(&format!(
                "`{m}` of a string holding bytes that are not UTF-8"
            )))
        }
        "gsub" | "sub" => matches!(pat, Some(Pat::Re(_))),
        "scan" | "match" | "match?" => true,
        "split" => !matches!(rest.first(), Some(RValue::Int(1))),
        "lstrip" => strip_raises(s, false),
        "rstrip" => strip_raises(s, true),
        "strip" => strip_raises(s, false) || strip_raises(s, true),
        _ => false,
    };
    if raises {
        Err(SEQUENCE.into())
    } else {
        Ok(())
    }
}

/// Whether Ruby's `lstrip` (or, `from_end`, `rstrip`) of `s`'s bytes meets a byte sequence that
/// is not a character while it reads the white space at that end: Ruby reads forward from the
/// start, and back from the end one character at a time, a character starting at the last byte
/// before it that is no continuation byte (so `"a\xA9"` reads `a` and does not raise, `"a\xFF"`
/// reads `\xFF` and raises).
fn strip_raises(s: &str, from_end: bool) -> bool {
    let b = crate::ruby::text_bytes(s);
    // The character starting at `i` and ending by `end`, if the bytes make one.
    let char_at = |i: usize, end: usize| -> Option<(char, usize)> {
        let len = match b[i] {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => return None,
        };
        let piece = b.get(i..(i + len).min(end))?;
        std::str::from_utf8(piece)
            .ok()
            .filter(|p| p.len() == len)
            .and_then(|p| p.chars().next())
            .map(|c| (c, len))
    };
    if from_end {
        let mut e = b.len();
        while e > 0 {
            let mut tp = e - 1;
            while tp > 0 && (0x80..=0xbf).contains(&b[tp]) {
                tp -= 1;
            }
            match char_at(tp, e) {
                None => return true,
                Some((c, _)) if STRIP.contains(&c) => e = tp,
                Some(_) => return false,
            }
        }
    } else {
        let mut i = 0;
        while i < b.len() {
            match char_at(i, b.len()) {
                None => return true,
                Some((c, n)) if STRIP.contains(&c) => i += n,
                Some(_) => return false,
            }
        }
    }
    false
}

/// Expand a `sub`/`gsub` replacement for one match.
fn replacement(
    rep: &str,
    hay: &str,
    spans: &[Option<(usize, usize)>],
    re: Option<&RubyRegex>,
    out: &mut String,
) -> Result<(), String> {
    let b = rep.as_bytes();
    let mut i = 0;
    let group = |n: usize, out: &mut String| {
        if let Some(Some((s, e))) = spans.get(n) {
            out.push_str(&hay[*s..*e]);
        }
    };
    let whole = spans.first().copied().flatten().unwrap_or((0, 0));
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            let ch = rep[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'0' | b'&' => group(0, out),
            b'1'..=b'9' => {
                let n = usize::from(c - b'0');
                // Ruby's regsub: with named groups, `\1`..`\9` write nothing.
                if let Some(&g) = re
                    .filter(|re| re.names().is_empty())
                    .and_then(|re| re.numbered().get(n - 1))
                {
                    group(g, out)
                }
            }
            b'`' => out.push_str(&hay[..whole.0]),
            b'\'' => out.push_str(&hay[whole.1..]),
            b'\\' => out.push('\\'),
            b'k' if b.get(i) == Some(&b'<') => {
                let Some(end) = rep[i..].find('>') else {
                    out.push_str("\\k");
                    continue;
                };
                let name = &rep[i + 1..i + end];
                let idx = re.and_then(|re| {
                    re.names()
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, g)| g.clone())
                });
                let Some(idx) = idx else {
                    return Err(format!("undefined group name reference: {name}"));
                };
                if let Some((s, e)) = idx
                    .iter()
                    .rev()
                    .find_map(|&g| spans.get(g).copied().flatten())
                {
                    out.push_str(&hay[s..e]);
                }
                i += end + 1;
            }
            _ => {
                out.push('\\');
                out.push(c as char);
                if c >= 0x80 {
                    // A multi-byte character after the backslash: copy the rest of it.
                    out.pop();
                    let st = i - 1;
                    let ch = rep[st..].chars().next().unwrap_or(' ');
                    out.push(ch);
                    i = st + ch.len_utf8();
                }
            }
        }
    }
    Ok(())
}

/// One match of a regexp or a literal string at or after `at`: the spans of its groups.
/// The message of a search the backtracking engine gave up (its retry budget spent): an error,
/// so the record goes to `@ERROR` rather than on as if nothing matched (a `gsub` masking a secret
/// would otherwise pass the text unmasked).
const GAVE_UP: &str = "the regexp search gave up (backtracking limit)";

/// The captures of `re` in `hay` from `at`, or the error of a search that gave up.
fn captures(
    re: &RubyRegex,
    hay: &str,
    at: usize,
) -> Result<Option<crate::ruby_regexp::Captures>, String> {
    re.captures_within(hay, at, None)
        .map_err(|_| GAVE_UP.to_string())
}

/// One match: the byte span of the whole match and of each group (None: not set).
type Spans = Vec<Option<(usize, usize)>>;

fn find(pat: &Pat, hay: &str, at: usize) -> Result<Option<Spans>, String> {
    Ok(match pat {
        Pat::Re(re) => {
            let Some(c) = captures(re, hay, at)? else {
                return Ok(None);
            };
            let n = re
                .numbered()
                .iter()
                .chain(re.names().iter().flat_map(|(_, g)| g.iter()))
                .copied()
                .max()
                .unwrap_or(0);
            Some((0..=n).map(|i| c.get(i)).collect())
        }
        Pat::Str(p) => hay
            .get(at..)
            .and_then(|h| h.find(p.as_str()))
            .map(|s| vec![Some((at + s, at + s + p.len()))]),
    })
}

enum Pat {
    Re(RubyRegex),
    Str(String),
}

/// All matches (Ruby's scan / gsub iteration: an empty match consumes one character).
fn each_match(pat: &Pat, hay: &str, first_only: bool) -> Result<Vec<Spans>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at <= hay.len() {
        let Some(sp) = find(pat, hay, at)? else {
            break;
        };
        let (s, e) = sp[0].unwrap_or((at, at));
        out.push(sp);
        if first_only {
            break;
        }
        if s == e {
            match hay[e..].chars().next() {
                Some(c) => at = e + c.len_utf8(),
                None => break,
            }
        } else {
            at = e;
        }
    }
    Ok(out)
}

fn sub(hay: &str, pat: &Pat, rep: &str, first_only: bool) -> Result<String, String> {
    let re = match pat {
        Pat::Re(r) => Some(r),
        Pat::Str(_) => None,
    };
    let mut out = String::new();
    let mut last = 0;
    for sp in each_match(pat, hay, first_only)? {
        let (s, e) = sp[0].unwrap_or((last, last));
        out.push_str(&hay[last..s]);
        replacement(rep, hay, &sp, re, &mut out)?;
        // `\'` / `\``  copy the rest of the text per match: `s.gsub(//, "\\'")` is quadratic.
        if out.len() > 1 << 24 {
            return Err("a string longer than 16 MiB is not supported".into());
        }
        last = e;
    }
    out.push_str(&hay[last..]);
    Ok(out)
}

fn split(s: &str, pat: Option<&Pat>, limit: i64) -> Vec<RValue> {
    let mut parts: Vec<String> = Vec::new();
    if s.is_empty() {
        return Vec::new();
    }
    let awk = match pat {
        None => true,
        Some(Pat::Str(p)) => p == " ",
        Some(Pat::Re(_)) => false,
    };
    if awk {
        let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
        let mut rest = s.trim_start_matches(ws);
        while !rest.is_empty() {
            if limit > 0 && parts.len() as i64 == limit - 1 {
                parts.push(rest.to_string());
                break;
            }
            let end = rest.find(ws).unwrap_or(rest.len());
            parts.push(rest[..end].to_string());
            let after = &rest[end..];
            let trimmed = after.trim_start_matches(ws);
            if trimmed.is_empty() && !after.is_empty() && limit < 0 {
                parts.push(String::new());
            }
            rest = trimmed;
        }
    } else {
        match pat {
            Some(Pat::Str(p)) if p.is_empty() => {
                let chars: Vec<char> = s.chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    if limit > 0 && parts.len() as i64 == limit - 1 {
                        parts.push(chars[i..].iter().collect());
                        break;
                    }
                    parts.push(c.to_string());
                }
            }
            Some(Pat::Str(p)) => {
                let mut rest = s;
                loop {
                    if limit > 0 && parts.len() as i64 == limit - 1 {
                        parts.push(rest.to_string());
                        break;
                    }
                    match rest.find(p.as_str()) {
                        Some(i) => {
                            parts.push(rest[..i].to_string());
                            rest = &rest[i + p.len()..];
                        }
                        None => {
                            parts.push(rest.to_string());
                            break;
                        }
                    }
                }
            }
            Some(Pat::Re(re)) => {
                return re
                    .split(s)
                    .into_iter()
                    .map(|p| RValue::Str(p.to_string()))
                    .collect()
            }
            None => {}
        }
    }
    if limit == 0 {
        while parts.last().is_some_and(String::is_empty) {
            parts.pop();
        }
    }
    parts.into_iter().map(RValue::Str).collect()
}

fn case_map(s: &str, up: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if up {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Ruby's `join` of `a` with `sep`: a binary string when an element is one past ASCII (and
/// then no UTF-8 text past ASCII may join it: Ruby raises), else UTF-8.
fn joined(a: &[RValue], sep: &str) -> Result<RValue, String> {
    fn kinds(a: &[RValue], bin: &mut bool, utf8: &mut bool) {
        for v in a {
            match v {
                RValue::Array(x) => kinds(x, bin, utf8),
                RValue::Bytes(s) if !s.is_ascii() => *bin = true,
                RValue::Str(s) if !s.is_ascii() => *utf8 = true,
                _ => {}
            }
        }
    }
    let (mut bin, mut utf8) = (false, !sep.is_ascii());
    kinds(a, &mut bin, &mut utf8);
    let mut out = String::new();
    join(a, sep, &mut out)?;
    // ASCII alone: the first element's encoding, as Ruby's join starts from it.
    let first_binary = matches!(a.first(), Some(RValue::Bytes(_)));
    match (bin, utf8) {
        (true, true) => Err("incompatible character encodings: ASCII-8BIT and UTF-8".into()),
        (true, false) => Ok(RValue::Bytes(out)),
        (false, false) if first_binary => Ok(RValue::Bytes(out)),
        _ => Ok(RValue::Str(out)),
    }
}

fn join(a: &[RValue], sep: &str, out: &mut String) -> Result<(), String> {
    for (i, v) in a.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match v {
            RValue::Array(x) => join(x, sep, out)?,
            v => out.push_str(&v.to_s()?),
        }
    }
    Ok(())
}

fn index_value(v: &RValue, args: &[RValue]) -> Result<RValue, String> {
    let str_at = |s: &str, st: usize, n: usize| same_kind(v, s.chars().skip(st).take(n).collect());
    match (v, args) {
        (RValue::Hash(m, d), [k]) => Ok(m
            .iter()
            .rev()
            .find(|(kk, _)| eql(kk, k))
            .map_or_else(|| (**d).clone(), |(_, v)| v.clone())),
        (RValue::Array(a), [RValue::Int(i)]) => {
            let i = if *i < 0 { *i + a.len() as i64 } else { *i };
            Ok(usize::try_from(i)
                .ok()
                .and_then(|i| a.get(i))
                .cloned()
                .unwrap_or(RValue::Nil))
        }
        (RValue::Array(a), [s, n]) => Ok(match start_len(a.len(), int_arg(s)?, int_arg(n)?) {
            Some((s, n)) => RValue::Array(a[s..s + n].to_vec()),
            None => RValue::Nil,
        }),
        (RValue::Str(s) | RValue::Bytes(s), [RValue::Int(i)]) => {
            let len = s.chars().count() as i64;
            let i = if *i < 0 { *i + len } else { *i };
            Ok(if i < 0 || i >= len {
                RValue::Nil
            } else {
                str_at(s, i as usize, 1)
            })
        }
        (RValue::Str(s) | RValue::Bytes(s), [a, n]) => Ok(
            match start_len(s.chars().count(), int_arg(a)?, int_arg(n)?) {
                Some((st, n)) => str_at(s, st, n),
                None => RValue::Nil,
            },
        ),
        (RValue::Str(s) | RValue::Bytes(s), [RValue::Str(p)]) => Ok(if s.contains(p.as_str()) {
            same_kind(v, p.clone())
        } else {
            RValue::Nil
        }),
        (RValue::Match(m), [RValue::Int(i)]) => {
            // Ruby's rb_reg_nth_match: a negative index never reaches the whole match.
            let n = m.numbered.len() as i64 + 1;
            let i = if *i < 0 { *i + n } else { *i };
            if i < 0 || i >= n || (i == 0 && n > 0 && args[0].is_negative()) {
                return Ok(RValue::Nil);
            }
            Ok(if i == 0 {
                m.group(0)
            } else {
                m.group(m.numbered[i as usize - 1])
            })
        }
        (RValue::Match(m), [RValue::Str(name) | RValue::Sym(name)]) => m.named(name),
        (RValue::Nil, _) => Err(no_method("[]", v)),
        (RValue::Bool(_), _) => Err(no_method("[]", v)),
        _ => Err(not_here("[]", v)),
    }
}

/// Evaluate an expression.
pub fn eval(e: &Expr, cx: &Scope) -> Result<RValue, String> {
    let strs = |v: &[String]| RValue::Array(v.iter().cloned().map(RValue::Str).collect());
    Ok(match e {
        Expr::Lit(v) => v.clone(),
        Expr::Re(_) => return Err("a regexp value is not supported".into()),
        Expr::Var(VarRef(v)) => match v {
            Var::Record => cx.record.clone(),
            Var::Tag => RValue::Str(cx.tag.to_string()),
            Var::Time => RValue::Time(RTime {
                t: cx.time,
                utc: cx.time_utc.get(),
                fixed: None,
                shared: true,
                float: None,
            }),
            Var::TagParts => strs(cx.tag_parts),
            Var::TagPrefix => strs(cx.tag_prefix),
            Var::TagSuffix => strs(cx.tag_suffix),
            Var::Hostname => RValue::Str(cx.hostname.to_string()),
        },
        Expr::NameError(n) => return Err(format!("undefined local variable or method `{n}'")),
        Expr::Now => RValue::Time(RTime::local(cx.now)),
        Expr::TimeAt(x) => time::at(&eval(x, cx)?)?,
        Expr::TimeParse(x) => time::parse(&eval(x, cx)?, cx.now)?,
        Expr::Interp(pieces) => {
            let mut acc = RValue::Str(String::new());
            for p in pieces {
                let v = match p {
                    Piece::Text(t) => RValue::Str(t.clone()),
                    Piece::Expr(e) => match eval(e, cx)? {
                        RValue::Bytes(b) => RValue::Bytes(b),
                        v => RValue::Str(v.to_s()?),
                    },
                };
                acc = concat(&acc, &v)?;
            }
            acc
        }
        Expr::Rescue(a, b) => match eval(a, cx) {
            Err(e) if rescued(&e) => eval(b, cx)?,
            r => r?,
        },
        Expr::Fail(msg) => return Err(msg.clone()),
        Expr::EnvFetch(v, d) => {
            let d = eval(d, cx)?;
            match v {
                Some(v) => RValue::Str(v.clone()),
                None => d,
            }
        }
        Expr::Safe(x) => match eval(x, cx)? {
            RValue::Nil => return Err(SAFE_NIL.into()),
            v => v,
        },
        Expr::SafeEnd(x) => match eval(x, cx) {
            Err(e) if e == SAFE_NIL => RValue::Nil,
            r => r?,
        },
        Expr::ReMatch {
            subject,
            re,
            re_left,
            negate,
        } => {
            let v = eval(subject, cx)?;
            let at = match &v {
                RValue::Str(_) | RValue::Bytes(_) | RValue::Sym(_) => {
                    let text = match &v {
                        RValue::Sym(t) => RValue::Str(t.clone()),
                        o => o.clone(),
                    };
                    match method(&text, "match", Some(Pat::Re(re.clone())), Vec::new(), None)? {
                        RValue::Match(md) => {
                            let start = md.spans.first().copied().flatten().map_or(0, |s| s.0);
                            RValue::Int(md.text[..start].chars().count() as i64)
                        }
                        _ => RValue::Nil,
                    }
                }
                RValue::Nil => RValue::Nil,
                // Regexp#=~ takes only strings and symbols; Object#=~ (Ruby 3.1) is nil.
                o if *re_left => {
                    return Err(format!(
                        "no implicit conversion of {} into String",
                        o.class()
                    ))
                }
                RValue::Other(_) => return Err(not_here("=~", &v)),
                _ => RValue::Nil,
            };
            if *negate {
                RValue::Bool(!at.truthy())
            } else {
                at
            }
        }
        Expr::Array(a) => RValue::Array(a.iter().map(|x| eval(x, cx)).collect::<Result<_, _>>()?),
        Expr::HashNew(d) => RValue::Hash(Vec::new(), Box::new(eval(d, cx)?)),
        Expr::Or(a, b) => {
            let x = eval(a, cx)?;
            if x.truthy() {
                x
            } else {
                eval(b, cx)?
            }
        }
        Expr::And(a, b) => {
            let x = eval(a, cx)?;
            if x.truthy() {
                eval(b, cx)?
            } else {
                x
            }
        }
        Expr::Not(a) => RValue::Bool(!eval(a, cx)?.truthy()),
        Expr::If(c, a, b) => {
            if eval(c, cx)?.truthy() {
                eval(a, cx)?
            } else {
                eval(b, cx)?
            }
        }
        Expr::Op(op, a, b) => binop(*op, eval(a, cx)?, eval(b, cx)?)?,
        Expr::Range(recv, a, b, excl) => {
            let v = eval(recv, cx)?;
            let (a, b) = (eval(a, cx)?, eval(b, cx)?);
            let (a, b) = match (&a, &b) {
                (RValue::Int(a), RValue::Int(b)) => (*a, *b),
                _ => return Err("a range of other than integers is not supported".into()),
            };
            match &v {
                RValue::Str(s) | RValue::Bytes(s) => {
                    match range_len(s.chars().count(), a, b, *excl) {
                        Some((st, n)) => same_kind(&v, s.chars().skip(st).take(n).collect()),
                        None => RValue::Nil,
                    }
                }
                RValue::Array(x) => match range_len(x.len(), a, b, *excl) {
                    Some((st, n)) => RValue::Array(x[st..st + n].to_vec()),
                    None => RValue::Nil,
                },
                // A record's hash has no Range keys: the default value.
                RValue::Hash(_, d) => (**d).clone(),
                RValue::Nil | RValue::Bool(_) => return Err(no_method("[]", &v)),
                _ => return Err(not_here("[]", &v)),
            }
        }
        Expr::Call(recv, m, args, fmt) => {
            let v = eval(recv, cx)?;
            if let (RValue::Time(t), "utc" | "gmtime" | "localtime") = (&v, m.as_str()) {
                // These change the receiver: the scope's `time` for the rest of the record too.
                let utc = m != "localtime";
                if t.shared {
                    cx.time_utc.set(utc);
                }
                return Ok(RValue::Time(t.in_zone(utc)));
            }
            let mut pat = None;
            let mut vals = Vec::with_capacity(args.len());
            for (i, a) in args.iter().enumerate() {
                match a {
                    Expr::Re(re) if i == 0 => pat = Some(Pat::Re(re.clone())),
                    a => vals.push(eval(a, cx)?),
                }
            }
            method(&v, m, pat, vals, fmt.as_deref())?
        }
    })
}

/// Whether `rescue` takes an error: a Ruby exception, not what the subset does not model (Ruby
/// would have a value there), the regexp retry budget (Ruby would only be slow) or `&.`'s
/// nil.
fn rescued(e: &str) -> bool {
    !e.contains("not supported") && e != GAVE_UP && e != SAFE_NIL
}

/// The error a nil receiver of `&.` raises before its call, which the call's `Expr::SafeEnd`
/// turns into nil.
const SAFE_NIL: &str = "\u{0}safe navigation of nil";

/// About how many bytes the values hold (what copying them costs).
fn approx_size(a: &[RValue]) -> usize {
    a.iter()
        .map(|v| {
            std::mem::size_of::<RValue>()
                + match v {
                    RValue::Str(s) | RValue::Sym(s) | RValue::Bytes(s) => s.len(),
                    RValue::Array(x) => approx_size(x),
                    RValue::Hash(m, d) => {
                        m.iter()
                            .map(|(k, v)| {
                                approx_size(std::slice::from_ref(k))
                                    + approx_size(std::slice::from_ref(v))
                            })
                            .sum::<usize>()
                            + approx_size(std::slice::from_ref(&**d))
                    }
                    RValue::Match(m) => m.text.len(),
                    _ => 0,
                }
        })
        .fold(0, usize::saturating_add)
}

fn binop(op: Bin, a: RValue, b: RValue) -> Result<RValue, String> {
    use RValue::*;
    let ovf = || "an Integer beyond 64 bits is not supported".to_string();
    Ok(match (op, &a, &b) {
        (Bin::Eq, ..) => Bool(equal(&a, &b)?),
        (Bin::Ne, ..) => Bool(!equal(&a, &b)?),
        (Bin::Lt, ..) => more::compare("<", &a, &b)?,
        (Bin::Le, ..) => more::compare("<=", &a, &b)?,
        (Bin::Gt, ..) => more::compare(">", &a, &b)?,
        (Bin::Ge, ..) => more::compare(">=", &a, &b)?,
        (Bin::Cmp, ..) => match more::spaceship(&a, &b)? {
            Some(o) => Int(o as i64),
            None => Nil,
        },
        (Bin::Sub, Time(x), Time(y)) => Float(time::diff(x, y)?),
        (Bin::Add, Time(x), Int(n)) => time::shift(x, *n)?,
        (Bin::Sub, Time(x), Int(n)) => time::shift(x, n.checked_neg().unwrap_or(i64::MAX))?,
        (Bin::Add | Bin::Sub, Time(_), Float(_)) => {
            return Err(unsupported("a Time plus or minus a Float"))
        }
        (Bin::Mod, ..) => more::modulo(&a, &b)?,
        (Bin::Pow, ..) => more::power(&a, &b)?,
        (Bin::Add, Str(_) | Bytes(_), Str(_) | Bytes(_)) => concat(&a, &b)?,
        (Bin::Add, Str(_) | Bytes(_), o) => return Err(str_arg(o).err().unwrap_or_default()),
        (Bin::Mul, Str(x) | Bytes(x), Int(_) | Float(_)) => {
            let n = &int_arg(&b)?;
            if *n < 0 {
                return Err("negative argument".into());
            }
            if x.len().saturating_mul(*n as usize) > 1 << 24 {
                return Err("a string longer than 16 MiB is not supported".into());
            }
            same_kind(&a, x.repeat(*n as usize))
        }
        (Bin::Mul, Array(x), Int(_) | Float(_)) => {
            let n = &int_arg(&b)?;
            if *n < 0 {
                return Err("negative argument".into());
            }
            if x.is_empty() || *n == 0 {
                return Ok(Array(Vec::new()));
            }
            // Each element is copied (Ruby shares it): bound the bytes copied, not the count.
            if x.len().saturating_mul(*n as usize) > 1 << 20
                || approx_size(x).saturating_mul(*n as usize) > 1 << 26
            {
                return Err("an array longer than 1Mi elements or 64 MiB is not supported".into());
            }
            let mut out = Vec::new();
            for _ in 0..*n {
                out.extend(x.iter().cloned());
            }
            Array(out)
        }
        (Bin::Mul, Array(x), Str(sep)) => joined(x, sep)?,
        (Bin::Mul, Str(_) | Bytes(_), o) => {
            return Err(format!(
                "no implicit conversion of {} into Integer",
                o.class()
            ))
        }
        (Bin::Add, Array(x), Array(y)) => Array(x.iter().chain(y).cloned().collect()),
        (Bin::Add, Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(ovf)?),
        (Bin::Sub, Int(x), Int(y)) => Int(x.checked_sub(*y).ok_or_else(ovf)?),
        (Bin::Mul, Int(x), Int(y)) => Int(x.checked_mul(*y).ok_or_else(ovf)?),
        (Bin::Div, Int(_), Int(0)) => return Err("divided by 0".into()),
        (Bin::Div, Int(x), Int(y)) => {
            // Ruby floors: truncate, then step down when the remainder's sign differs from y's
            // (no product that can overflow; `q - 1` cannot, as q == i64::MIN leaves r == 0).
            let q = x.checked_div(*y).ok_or_else(ovf)?;
            let r = x.wrapping_rem(*y);
            Int(if r != 0 && ((r < 0) != (*y < 0)) {
                q - 1
            } else {
                q
            })
        }
        (_, Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = more::float_operands(&a, &b)?;
            Float(match op {
                Bin::Add => x + y,
                Bin::Sub => x - y,
                Bin::Mul => x * y,
                _ => x / y,
            })
        }
        (_, Nil | Bool(_), _) => {
            let m = match op {
                Bin::Add => "+",
                Bin::Sub => "-",
                Bin::Mul => "*",
                _ => "/",
            };
            return Err(no_method(m, &a));
        }
        (_, Int(_) | Float(_), _) => {
            return Err(format!("{} can't be coerced into {}", b.class(), a.class()))
        }
        _ => {
            return Err(format!(
                "this operator on {} and {} is not supported",
                a.class(),
                b.class()
            ))
        }
    })
}

fn method(
    v: &RValue,
    m: &str,
    pat: Option<Pat>,
    args: Vec<RValue>,
    fmt: Option<&TimeFmt>,
) -> Result<RValue, String> {
    if let Some(r) = any_method(v, m, &args)? {
        return Ok(r);
    }
    if let Some(r) = more::encoding_method(v, m, &args)? {
        return Ok(r);
    }
    match v {
        RValue::Time(t) if m != "nil?" => time::method(t, m, &args, fmt),
        RValue::Bytes(s) => bytes_method(s, m, pat, args),
        RValue::Str(s) if s.chars().any(crate::ruby::stands_for_byte) => {
            // A UTF-8 string holding bytes that are not UTF-8 (they stand in its text).
            let rest = match (&pat, m) {
                (None, "gsub" | "sub" | "scan" | "split") if !args.is_empty() => &args[1..],
                _ => &args[..],
            };
            invalid_bytes_raise(s, m, pat.as_ref(), rest)?;
            string_method(v, m, pat, args)
        }
        _ => string_method(v, m, pat, args),
    }
}

/// The methods of every value: `to_json`, `is_a?`, `kind_of?`, `instance_of?`, `class`,
/// `eql?` (and a class's `name`).
fn any_method(v: &RValue, m: &str, args: &[RValue]) -> Result<Option<RValue>, String> {
    Ok(Some(match m {
        "to_json" => {
            let mut out = String::new();
            more::to_json(v, &mut out, 0)?;
            RValue::Str(out)
        }
        "is_a?" | "kind_of?" | "instance_of?" => {
            let Some(RValue::Class(c)) = args.first() else {
                return Err("class or module required".into());
            };
            let own = class_name(v)?;
            RValue::Bool(if m == "instance_of?" {
                own == *c
            } else {
                ancestors(own).contains(c)
            })
        }
        "class" => RValue::Class(class_name(v)?),
        "name" if matches!(v, RValue::Class(_)) => RValue::Str(v.to_s()?),
        // Values here are copies already.
        "dup" | "clone" if !matches!(v, RValue::Other(_)) => v.clone(),
        "eql?" => match (v, &args[0]) {
            (RValue::Other(_) | RValue::Match(_), _) | (_, RValue::Other(_) | RValue::Match(_)) => {
                return Err(not_here("eql?", v))
            }
            (a, b) => RValue::Bool(eql(a, b)),
        },
        _ => return Ok(None),
    }))
}

/// The name of a value's class.
fn class_name(v: &RValue) -> Result<&'static str, String> {
    Ok(match v {
        RValue::Nil => "NilClass",
        RValue::Bool(true) => "TrueClass",
        RValue::Bool(false) => "FalseClass",
        RValue::Int(_) => "Integer",
        RValue::Float(_) => "Float",
        RValue::Str(_) | RValue::Bytes(_) => "String",
        RValue::Sym(_) => "Symbol",
        RValue::Array(_) => "Array",
        RValue::Hash(..) => "Hash",
        RValue::Time(_) => "Time",
        RValue::Match(_) => "MatchData",
        RValue::Class(_) => "Class",
        RValue::Other(_) => return Err(not_here("class", v)),
    })
}

/// A class with the classes and modules it inherits (among those an expression may name).
fn ancestors(c: &str) -> &'static [&'static str] {
    match c {
        "String" => &["String", "Comparable", "Object", "BasicObject"],
        "Integer" => &["Integer", "Numeric", "Comparable", "Object", "BasicObject"],
        "Float" => &["Float", "Numeric", "Comparable", "Object", "BasicObject"],
        "Symbol" => &["Symbol", "Comparable", "Object", "BasicObject"],
        "Array" => &["Array", "Enumerable", "Object", "BasicObject"],
        "Hash" => &["Hash", "Enumerable", "Object", "BasicObject"],
        "Time" => &["Time", "Comparable", "Object", "BasicObject"],
        "NilClass" => &["NilClass", "Object", "BasicObject"],
        "TrueClass" => &["TrueClass", "Object", "BasicObject"],
        "FalseClass" => &["FalseClass", "Object", "BasicObject"],
        "MatchData" => &["MatchData", "Object", "BasicObject"],
        _ => &["Class", "Object", "BasicObject"],
    }
}

/// Method `m` of a binary string (`s`, its text as [`RValue::Bytes`] holds it), as Ruby runs it:
/// each byte a character, and what it gives back is binary too (`"a\xFF".b.upcase` is
/// `"A\xFF"`). Ruby raises where a regexp fixed to UTF-8 (text past ASCII, `\p{…}`) or a
/// UTF-8 string argument past ASCII meets a binary string with a byte past ASCII.
fn bytes_method(s: &str, m: &str, pat: Option<Pat>, args: Vec<RValue>) -> Result<RValue, String> {
    if !s.is_ascii() {
        if let Some(Pat::Re(re)) = &pat {
            if re.fixed_encoding() {
                return Err(
                    "incompatible encoding regexp match (UTF-8 regexp with ASCII-8BIT string)"
                        .into(),
                );
            }
        }
        // A pattern or a prefix past ASCII is compared with the receiver: Ruby raises. (A
        // replacement raises only where it is joined in, below.)
        let replacement = usize::from(pat.is_none());
        for (i, a) in args.iter().enumerate() {
            let joined = matches!(m, "gsub" | "sub") && i == replacement;
            if !joined && matches!(a, RValue::Str(t) if !t.is_ascii()) {
                return Err("incompatible character encodings: ASCII-8BIT and UTF-8".into());
            }
        }
    }
    if m == "to_s" {
        return Ok(RValue::Bytes(s.to_string()));
    }
    let args: Vec<RValue> = args
        .into_iter()
        .map(|a| match a {
            RValue::Bytes(t) => RValue::Str(t),
            o => o,
        })
        .collect();
    let out = string_method(&RValue::Str(s.to_string()), m, pat, args)?;
    if let (RValue::Str(t), "gsub" | "sub") = (&out, m) {
        // A UTF-8 replacement past ASCII, joined in (the receiver's text holds only ASCII and
        // characters standing for bytes): UTF-8 text of an ASCII receiver, else Ruby raises.
        if t.chars()
            .any(|c| !c.is_ascii() && !crate::ruby::stands_for_byte(c))
        {
            if s.is_ascii() {
                return Ok(out);
            }
            return Err("incompatible character encodings: UTF-8 and ASCII-8BIT".into());
        }
    }
    Ok(binary(out))
}

/// What a method of a binary string gives: its strings (and a MatchData's) binary too.
fn binary(v: RValue) -> RValue {
    match v {
        RValue::Str(s) => RValue::Bytes(s),
        RValue::Array(a) => RValue::Array(a.into_iter().map(binary).collect()),
        RValue::Match(mut md) => {
            md.binary = true;
            RValue::Match(md)
        }
        o => o,
    }
}

/// A string of `like`'s encoding (binary or UTF-8) holding `text`.
fn same_kind(like: &RValue, text: String) -> RValue {
    match like {
        RValue::Bytes(_) => RValue::Bytes(text),
        _ => RValue::Str(text),
    }
}

/// The text of a string value, binary or not.
fn text_of(v: &RValue) -> Option<&str> {
    match v {
        RValue::Str(s) | RValue::Bytes(s) => Some(s),
        _ => None,
    }
}

/// Ruby's encoding name of a string value (for its errors).
fn encoding_name(v: &RValue) -> &'static str {
    match v {
        RValue::Bytes(_) => "ASCII-8BIT",
        _ => "UTF-8",
    }
}

/// Ruby's `+` of two strings: text past ASCII in both, one binary and one UTF-8, raises;
/// otherwise the result has the receiver's encoding, or the argument's when only it goes past
/// ASCII.
fn concat(a: &RValue, b: &RValue) -> Result<RValue, String> {
    let (x, y) = (text_of(a).unwrap_or(""), text_of(b).unwrap_or(""));
    let text = format!("{x}{y}");
    Ok(match (a, b) {
        (RValue::Bytes(_), RValue::Bytes(_)) | (RValue::Str(_), RValue::Str(_)) => {
            same_kind(a, text)
        }
        _ if y.is_ascii() => same_kind(a, text),
        _ if x.is_ascii() => same_kind(b, text),
        _ => {
            return Err(format!(
                "incompatible character encodings: {} and {}",
                encoding_name(a),
                encoding_name(b)
            ))
        }
    })
}

/// Method `m` of any value but a binary string.
fn string_method(
    v: &RValue,
    m: &str,
    pat: Option<Pat>,
    args: Vec<RValue>,
) -> Result<RValue, String> {
    use RValue::*;
    let (pat, rest): (Option<Pat>, &[RValue]) = match pat {
        Some(p) => (Some(p), &args[..]),
        None => match (m, args.first()) {
            ("gsub" | "sub" | "scan" | "split", Some(Str(s))) => {
                (Some(Pat::Str(s.clone())), &args[1..])
            }
            _ => (None, &args[..]),
        },
    };
    Ok(match (v, m) {
        (_, "nil?") => Bool(matches!(v, Nil)),
        (Str(s), "gsub" | "sub") => {
            let Some(Str(rep)) = rest.first() else {
                return Err("the replacement is not a string".into());
            };
            Str(sub(s, pat.as_ref().ok_or("no pattern")?, rep, m == "sub")?)
        }
        (Str(s), "scan") => {
            let pat = pat.ok_or("no pattern")?;
            let groups: Option<Vec<usize>> = match &pat {
                Pat::Re(re) if !re.numbered().is_empty() => Some(re.numbered().to_vec()),
                _ => None,
            };
            Array(
                each_match(&pat, s, false)?
                    .into_iter()
                    .map(|sp| {
                        let g = |i: usize| {
                            sp.get(i)
                                .copied()
                                .flatten()
                                .map_or(Nil, |(a, b)| Str(s[a..b].to_string()))
                        };
                        match &groups {
                            Some(gs) => Array(gs.iter().map(|&i| g(i)).collect()),
                            None => g(0),
                        }
                    })
                    .collect(),
            )
        }
        (Str(s), "match") => {
            let Some(Pat::Re(re)) = pat else {
                return Err("match needs a regexp".into());
            };
            match captures(&re, s, 0)? {
                Some(c) => {
                    let n = re
                        .numbered()
                        .iter()
                        .chain(re.names().iter().flat_map(|(_, g)| g.iter()))
                        .copied()
                        .max()
                        .unwrap_or(0);
                    Match(Box::new(MatchData {
                        text: s.clone(),
                        spans: (0..=n).map(|i| c.get(i)).collect(),
                        numbered: re.numbered().to_vec(),
                        names: re.names().to_vec(),
                        binary: false,
                    }))
                }
                None => Nil,
            }
        }
        (Str(s), "split") => {
            let limit = match rest.first() {
                Some(l) => int_arg(l)?,
                None => 0,
            };
            if limit == 1 {
                return Ok(Array(if s.is_empty() {
                    vec![]
                } else {
                    vec![Str(s.clone())]
                }));
            }
            Array(split(s, pat.as_ref(), limit))
        }
        (Str(s) | Sym(s), "match?") => {
            let Some(Pat::Re(re)) = pat else {
                return Err("match? needs a regexp".into());
            };
            Bool(captures(&re, s, 0)?.is_some())
        }
        (Str(s), "capitalize") => Str(more::capitalize(s)),
        (Str(s), "swapcase") => Str(more::swapcase(s)?),
        (Str(s), "chomp") => match args.first() {
            None => Str(more::chomp(s, None)),
            Some(Str(a)) => Str(more::chomp(s, Some(a))),
            Some(Nil) => Str(s.clone()),
            Some(o) => return Err(str_arg(o).err().unwrap_or_default()),
        },
        (Str(s), "chop") => Str(more::chop(s)),
        (Str(s), "reverse") => Str(s.chars().rev().collect()),
        (Str(s), "index" | "rindex") => more::index_of(s, str_arg(&args[0])?, m == "rindex"),
        (Str(s), "to_sym") => Sym(s.clone()),
        (Sym(s), "to_sym") => Sym(s.clone()),
        (Str(s), "ljust" | "rjust" | "center") => {
            let pad = match args.get(1) {
                Some(p) => str_arg(p)?,
                None => " ",
            };
            Str(more::justify(s, m, int_arg(&args[0])?, pad)?)
        }
        (Str(s), "bytesize") => Int(s
            .chars()
            .map(|c| {
                if crate::ruby::stands_for_byte(c) {
                    1
                } else {
                    c.len_utf8() as i64
                }
            })
            .sum()),
        (Str(s), "chars") => {
            if s.len() > 1 << 20 {
                return Err(unsupported("chars of a string over 1 MiB"));
            }
            Array(s.chars().map(|c| Str(c.to_string())).collect())
        }
        (Str(s), "ord") => match s.chars().next() {
            None => return Err("empty string".into()),
            Some(c) if crate::ruby::stands_for_byte(c) => Int(i64::from(c as u32 - 0x10FF00)),
            Some(c) => Int(i64::from(c as u32)),
        },
        (Str(s), "tr") => Str(more::tr(s, str_arg(&args[0])?, str_arg(&args[1])?)?),
        (Str(s), "delete" | "squeeze" | "count") => {
            let spec = match args.first() {
                Some(a) => Some(str_arg(a)?),
                None if m == "squeeze" => None,
                None => return Err("wrong number of arguments (given 0, expected 1+)".into()),
            };
            more::char_set_method(s, m, spec)?
        }
        (Str(_) | Array(_), "slice") => index_value(v, &args)?,
        (Hash(h, _), "has_key?" | "key?" | "member?") => {
            Bool(h.iter().any(|(k, _)| eql(k, &args[0])))
        }
        (Hash(h, _), "keys") => Array(
            more::hash_pairs(h)?
                .into_iter()
                .map(|(k, _)| k.clone())
                .collect(),
        ),
        (Hash(h, _), "values") => Array(
            more::hash_pairs(h)?
                .into_iter()
                .map(|(_, x)| x.clone())
                .collect(),
        ),
        (Hash(h, _), "fetch") => match h.iter().rev().find(|(k, _)| eql(k, &args[0])) {
            Some((_, x)) => x.clone(),
            None => match args.get(1) {
                Some(d) => d.clone(),
                None => return Err(format!("key not found: {}", args[0].to_s()?)),
            },
        },
        (Array(a), "fetch") => {
            let i = int_arg(&args[0])?;
            let at = if i < 0 { i + a.len() as i64 } else { i };
            match usize::try_from(at).ok().and_then(|k| a.get(k)) {
                Some(x) => x.clone(),
                None => match args.get(1) {
                    Some(d) => d.clone(),
                    None => return Err(format!("index {i} outside of array bounds")),
                },
            }
        }
        (Array(a), "uniq") => Array(more::uniq(a)?),
        (Array(a), "compact") => Array(a.iter().filter(|x| !matches!(x, Nil)).cloned().collect()),
        (Array(a), "flatten") => {
            let mut out = Vec::new();
            more::flatten(a, &mut out, 0)?;
            Array(out)
        }
        (Array(a), "reverse") => Array(a.iter().rev().cloned().collect()),
        (Array(a), "take" | "drop") => more::take_drop(a, m, &args[0])?,
        (Array(a), "max" | "min" | "sort") => more::array_order(a, m)?,
        (Array(a), "sum") => more::sum(a)?,
        (Array(a), "count") => match args.first() {
            None => Int(a.len() as i64),
            Some(x) => {
                let mut n = 0;
                for y in a {
                    if equal(y, x)? {
                        n += 1;
                    }
                }
                Int(n)
            }
        },
        (Int(i), "ord") => Int(*i),
        (Array(a), "include?" | "member?") => Bool(position(a, &args[0], false)?.is_some()),
        (Array(a), "index" | "rindex") => {
            position(a, &args[0], m == "rindex")?.map_or(Nil, |k| Int(k as i64))
        }
        (Int(i), "abs") => Int(i
            .checked_abs()
            .ok_or_else(|| unsupported("an Integer beyond 64 bits"))?),
        (Float(f), "abs") => Float(f.abs()),
        (Int(i), "floor" | "ceil" | "round" | "truncate") => Int(*i),
        (Float(f), "floor" | "ceil" | "round" | "truncate") => more::float_to_int(*f, m)?,
        (Int(i), "zero?") => Bool(*i == 0),
        (Float(f), "zero?") => Bool(*f == 0.0),
        (Int(i), "positive?") => Bool(*i > 0),
        (Float(f), "positive?") => Bool(*f > 0.0),
        (Int(i), "negative?") => Bool(*i < 0),
        (Float(f), "negative?") => Bool(*f < 0.0),
        (Int(i), "even?") => Bool(i % 2 == 0),
        (Int(i), "odd?") => Bool(i % 2 != 0),
        (Int(i), "to_s") if !args.is_empty() => Str(more::int_to_s(*i, int_arg(&args[0])?)?),
        (_, "to_s") if !args.is_empty() => {
            return Err("wrong number of arguments (given 1, expected 0)".into())
        }
        (Str(s), "strip") => Str(s.trim_matches(STRIP).to_string()),
        (Str(s), "lstrip") => Str(s.trim_start_matches(STRIP).to_string()),
        (Str(s), "rstrip") => Str(s.trim_end_matches(STRIP).to_string()),
        (Str(s), "upcase") => Str(case_map(s, true)),
        (Str(s), "downcase") => Str(case_map(s, false)),
        (Str(s), "start_with?") => Bool(s.starts_with(str_arg(&args[0])?)),
        (Str(s), "end_with?") => Bool(s.ends_with(str_arg(&args[0])?)),
        (Str(s), "include?") => Bool(s.contains(str_arg(&args[0])?)),
        (Str(s) | Sym(s), "length" | "size") => Int(s.chars().count() as i64),
        (Str(s), "empty?") => Bool(s.is_empty()),
        (Str(s), "to_i") => Int(crate::ruby::str_to_i(s.as_bytes())
            .ok_or("an Integer beyond 64 bits is not supported")?),
        // A match in a binary string: its text is binary too.
        (Match(md), "to_s") => match md.group(0) {
            Nil => Str(String::new()),
            g => g,
        },
        (
            Str(_) | Sym(_) | Int(_) | Float(_) | Nil | Bool(_) | Array(_) | Hash(..) | Time(_)
            | Class(_),
            "to_s",
        ) => Str(v.to_s()?),
        (Int(i), "to_i") => Int(*i),
        (Int(_), "size") => Int(8),
        (Int(n), "[]") if matches!(args.as_slice(), [Int(_)]) => {
            let i = int_arg(&args[0])?;
            Int(if i < 0 { 0 } else { (n >> i.min(63)) & 1 })
        }
        (Hash(m, _), "include?") => Bool(m.iter().any(|(k, _)| eql(k, &args[0]))),
        (Float(f), "to_i") => Int(float_to_i(*f)?),
        (Nil, "to_i") => Int(0),
        (Str(s), "to_f") => Float(str_to_f(s)?),
        (Int(i), "to_f") => Float(*i as f64),
        (Float(f), "to_f") => Float(*f),
        (Nil, "to_f") => Float(0.0),
        (Array(a), "length" | "size") => Int(a.len() as i64),
        (Hash(a, _), "length" | "size") => Int(more::hash_pairs(a)?.len() as i64),
        (Array(a), "empty?") => Bool(a.is_empty()),
        (Hash(a, _), "empty?") => Bool(a.is_empty()),
        (Array(a), "first") => match args.first() {
            None => a.first().cloned().unwrap_or(Nil),
            Some(n) => {
                let n = int_arg(n)?;
                if n < 0 {
                    return Err("negative array size".into());
                }
                Array(a.iter().take(n as usize).cloned().collect())
            }
        },
        (Array(a), "last") => match args.first() {
            None => a.last().cloned().unwrap_or(Nil),
            Some(n) => {
                let n = int_arg(n)?;
                if n < 0 {
                    return Err("negative array size".into());
                }
                Array(a[a.len().saturating_sub(n as usize)..].to_vec())
            }
        },
        (Array(a), "join") => {
            let sep = match args.first() {
                Some(Str(s)) => s.clone(),
                Some(Nil) | None => String::new(),
                Some(o) => {
                    return Err(format!(
                        "no implicit conversion of {} into String",
                        o.class()
                    ))
                }
            };
            joined(a, &sep)?
        }
        (Hash(..) | Array(_), "dig") => {
            let mut cur = v.clone();
            for (i, k) in args.iter().enumerate() {
                cur = match &cur {
                    Hash(..) | Array(_) => index_value(&cur, std::slice::from_ref(k))?,
                    Nil if i > 0 => return Ok(Nil),
                    _ if i > 0 => return Err(format!("{} does not have #dig method", cur.class())),
                    _ => unreachable_dig(),
                };
                if matches!(cur, Nil) {
                    return Ok(Nil);
                }
            }
            cur
        }
        (_, "[]") => index_value(v, &args)?,
        (Nil | Bool(_), _) => return Err(no_method(m, v)),
        (Str(_), "join" | "first" | "last" | "dig" | "strftime")
        | (
            Int(_),
            "gsub" | "sub" | "scan" | "match" | "strip" | "lstrip" | "rstrip" | "upcase"
            | "downcase" | "split" | "start_with?" | "end_with?" | "include?" | "length" | "empty?"
            | "first" | "last" | "join" | "dig" | "strftime",
        )
        | (
            Float(_),
            "gsub" | "sub" | "scan" | "match" | "strip" | "lstrip" | "rstrip" | "upcase"
            | "downcase" | "split" | "start_with?" | "end_with?" | "include?" | "length" | "size"
            | "empty?" | "first" | "last" | "join" | "dig" | "strftime",
        )
        | (
            Array(_),
            "gsub" | "sub" | "scan" | "match" | "strip" | "lstrip" | "rstrip" | "upcase"
            | "downcase" | "split" | "start_with?" | "end_with?" | "to_i" | "strftime",
        )
        | (
            Hash(..),
            "gsub" | "sub" | "scan" | "match" | "strip" | "lstrip" | "rstrip" | "upcase"
            | "downcase" | "split" | "start_with?" | "end_with?" | "to_i" | "last" | "join"
            | "strftime",
        )
        | (
            Match(_),
            "gsub" | "sub" | "scan" | "strip" | "lstrip" | "rstrip" | "upcase" | "downcase"
            | "split" | "start_with?" | "end_with?" | "include?" | "empty?" | "first" | "last"
            | "join" | "dig" | "to_i" | "strftime",
        ) => return Err(no_method(m, v)),
        _ => return Err(not_here(m, v)),
    })
}

/// The first (or, `last`, the last) position of an element `==` to `x`.
fn position(a: &[RValue], x: &RValue, last: bool) -> Result<Option<usize>, String> {
    let mut found = None;
    for (k, y) in a.iter().enumerate() {
        if equal(y, x)? {
            found = Some(k);
            if !last {
                break;
            }
        }
    }
    Ok(found)
}

fn unreachable_dig() -> RValue {
    RValue::Nil
}

/// Append the `to_s` of each piece.
pub fn render(pieces: &[Piece], cx: &Scope, out: &mut String) -> Result<(), String> {
    for p in pieces {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Expr(e) => {
                let v = eval(e, cx)?;
                let _ = write!(out, "{}", v.to_s()?);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, rec: Value) -> Result<RValue, String> {
        let e = parse(src)?;
        let record = RValue::from_value(&rec);
        let parts = vec!["app".to_string(), "web".to_string(), "x".to_string()];
        let cx = Scope {
            record: &record,
            tag: "app.web.x",
            tag_parts: &parts,
            tag_prefix: &["app".into(), "app.web".into(), "app.web.x".into()],
            tag_suffix: &["app.web.x".into(), "web.x".into(), "x".into()],
            hostname: "h",
            time: EventTime::new(1_700_000_000, 5),
            now: EventTime::new(1_800_000_000, 0),
            time_utc: Default::default(),
        };
        eval(&e, &cx)
    }

    fn s(src: &str, rec: &str) -> String {
        let j: serde_json::Value = serde_json::from_str(rec).unwrap();
        let v = json(&j);
        match run(src, v) {
            Ok(v) => format!(
                "{:?}",
                v.to_value().map(|v| {
                    let mut o = String::new();
                    crate::ruby::inspect_into(&v, &mut o);
                    o
                })
            ),
            Err(e) => format!("ERR {e}"),
        }
    }

    fn json(j: &serde_json::Value) -> Value {
        match j {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n
                .as_i64()
                .map_or(Value::F64(n.as_f64().unwrap_or(0.0)), Value::Int),
            serde_json::Value::String(s) => Value::Str(s.clone()),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(json).collect()),
            serde_json::Value::Object(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| (Value::Str(k.clone()), json(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn corpus_expressions() {
        let r = r#"{"log":"card_no=1234567890123\u001f batch_key=abc\u001f","1":"x 2023-01-02T03:04:05Z y 2024-01-02T03:04:05Z z","m":"ABC_D rest"}"#;
        assert_eq!(
            s(
                r#"record["log"].gsub(/card_no=(\d{6})\d+\u001f/, "card_no=\\1**********\u001f").gsub(/batch_key=.+\u001f/, "batch_key=******\u001f")"#,
                r
            ),
            "Ok(\"\\\"card_no=123456**********\\\\u001F batch_key=******\\\\u001F\\\"\")"
        );
        assert_eq!(
            s(
                r#"record["1"].scan(/([0-9]+-[0-9]+-[0-9]+T[0-9]+:[0-9]+:[0-9]+Z).*/).last.first"#,
                r
            ),
            "Ok(\"\\\"2023-01-02T03:04:05Z\\\"\")"
        );
        assert_eq!(s("tag_parts[-1]", r), "Ok(\"\\\"x\\\"\")");
        assert_eq!(s("Time.now.to_i", r), "Ok(\"1800000000\")");
        assert_eq!(
            s(r"record['m'].match(/^[A-Z\_]*/)[0].to_s", r),
            "Ok(\"\\\"ABC_D\\\"\")"
        );
        assert!(s("message.match(/x/)", r).starts_with("ERR undefined local variable"));
        assert!(s("record['nope'].upcase", r).starts_with("ERR undefined method `upcase' for nil"));
    }

    #[test]
    fn strings_and_indexes() {
        let r = r#"{"a":" Hello World ","n":5,"arr":[1,[2,"x"],null]}"#;
        assert_eq!(
            s(r#"record["a"].strip.downcase"#, r),
            "Ok(\"\\\"hello world\\\"\")"
        );
        assert_eq!(s(r#"record["a"][1..5]"#, r), "Ok(\"\\\"Hello\\\"\")");
        assert_eq!(s(r#"record["a"][-6, 5]"#, r), "Ok(\"\\\"World\\\"\")");
        assert_eq!(s(r#"record["a"][99..100]"#, r), "Ok(\"nil\")");
        assert_eq!(s(r#"record["arr"].join("-")"#, r), "Ok(\"\\\"1-2-x-\\\"\")");
        assert_eq!(s(r#"record["n"] / -2"#, r), "Ok(\"-3\")");
        assert_eq!(s(r#"record["n"] * 1.5"#, r), "Ok(\"7.5\")");
        assert_eq!(
            s(r#"record["a"].split(" ", 2)"#, r),
            "Ok(\"[\\\"Hello\\\", \\\"World \\\"]\")"
        );
        assert_eq!(s(r#"record["x"] || "d""#, r), "Ok(\"\\\"d\\\"\")");
        assert_eq!(
            s(r#"record["n"] == 5.0 ? 'y' : 'n'"#, r),
            "Ok(\"\\\"y\\\"\")"
        );
        assert_eq!(s(r#"record.dig("arr", 1, 1)"#, r), "Ok(\"\\\"x\\\"\")");
        assert_eq!(s(r#""abc".gsub(/b*/, "-")"#, r), "Ok(\"\\\"-a--c-\\\"\")");
        assert_eq!(
            s(r#""abc".scan(/b*/)"#, r),
            "Ok(\"[\\\"\\\", \\\"b\\\", \\\"\\\", \\\"\\\"]\")"
        );
        assert_eq!(s(r#""abc".gsub("b", "[\\0]")"#, r), "Ok(\"\\\"a[b]c\\\"\")");
        assert_eq!(s(r#"" \u0000a\u0000 ".strip"#, r), "Ok(\"\\\"a\\\"\")");
        assert_eq!(s(r#""1_0x".to_i + " +5".to_i"#, r), "Ok(\"15\")");
        assert_eq!(
            s(r#"record["a"] + 1"#, r),
            "ERR no implicit conversion of Integer into String"
        );
    }

    #[test]
    fn literals() {
        let r = "{}";
        assert_eq!(s(r"'it\'s'.length", r), "Ok(\"4\")");
        assert_eq!(s("\"tab\\there\".length", r), "Ok(\"8\")");
        assert_eq!(s(r"'a\\b'", r), "Ok(\"\\\"a\\\\\\\\b\\\"\")");
        assert_eq!(s(r#""\u00e9".length"#, r), "Ok(\"1\")");
        assert_eq!(s(":sym.to_s", r), "Ok(\"\\\"sym\\\"\")");
        assert_eq!(s("nil.to_s.empty?", r), "Ok(\"true\")");
        assert_eq!(s("'ab' * 2 + [1, 2] * ','", r), "Ok(\"\\\"abab1,2\\\"\")");
    }

    #[test]
    fn found_by_comparing_with_ruby() {
        let r = r#"{"s":"a-b","h":{"k":[1]},"g":{"k":[1.0]}}"#;
        // MatchData#[] with a negative index never reaches the whole match.
        assert_eq!(s(r#"record["s"].match(/-/)[-1]"#, r), "Ok(\"nil\")");
        assert_eq!(s(r#"record["s"].match(/(-)/)[-1]"#, r), "Ok(\"\\\"-\\\"\")");
        assert_eq!(s(r#"record["h"] == record["g"]"#, r), "Ok(\"true\")");
        assert_eq!(s(r#"record["h"] == record["s"]"#, r), "Ok(\"false\")");
        assert_eq!(s(r#"record["h"].include?("k")"#, r), "Ok(\"true\")");
        assert_eq!(
            s("5[0].to_s + 5[1].to_s + -1[99].to_s", r),
            "Ok(\"\\\"101\\\"\")"
        );
        assert_eq!(s(r#"record["h"][0..1]"#, r), "Ok(\"nil\")");
        assert_eq!(s("[1] * 2.5", r), "Ok(\"[1, 1]\")");
        for (text, want) in [
            ("1.5", "1.5"),
            (" 2.5x", "2.5"),
            ("1e3", "1000.0"),
            ("1E-2", "0.01"),
            ("1_000.5", "1000.5"),
            (".5", "0.5"),
            ("1.", "1.0"),
            ("1.e3", "1.0"),
            ("0x1A", "0.0"),
            ("1e", "1.0"),
            ("abc", "0.0"),
            ("", "0.0"),
            ("-0", "-0.0"),
            ("+3.25", "3.25"),
            ("1__0", "1.0"),
            ("Infinity", "0.0"),
            ("  -4.5e+2z", "-450.0"),
            ("1_", "1.0"),
            ("_1", "0.0"),
            ("5.0_1", "5.01"),
        ] {
            assert_eq!(
                s(&format!("'{text}'.to_f"), r),
                format!("Ok({want:?})"),
                "{text}"
            );
        }
    }

    /// The random comparison with Ruby: tests/differential/ruby_expr/run.sh.
    #[test]
    #[ignore]
    fn compare_with_ruby() {
        let (Ok(tsv), Ok(rec)) = (
            std::env::var("RUBY_EXPR_TSV"),
            std::env::var("RUBY_EXPR_RECORD"),
        ) else {
            panic!("run it with tests/differential/ruby_expr/run.sh");
        };
        let cases = std::fs::read_to_string(tsv).unwrap();
        let rec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(rec).unwrap()).unwrap();
        let record = RValue::from_value(&json(&rec));
        let parts = vec!["app".to_string(), "web".to_string(), "x".to_string()];
        let pre = vec!["app".to_string(), "app.web".into(), "app.web.x".into()];
        let suf = vec!["app.web.x".to_string(), "web.x".into(), "x".into()];
        let cx = Scope {
            record: &record,
            tag: "app.web.x",
            tag_parts: &parts,
            tag_prefix: &pre,
            tag_suffix: &suf,
            hostname: "h",
            time: EventTime::new(1_700_000_000, 0),
            now: EventTime::now(),
            time_utc: Default::default(),
        };
        let (mut same, mut refused, mut not_supported, mut differ) = (0, 0, 0, Vec::new());
        for line in cases.lines() {
            let (src, ruby) = line.rsplit_once('\t').unwrap_or((line, ""));
            assert!(!ruby.is_empty(), "no Ruby result for {src}: did Ruby stop?");
            if src.contains("Time.now") || ruby == "SKIP" {
                continue;
            }
            let show = std::env::var_os("RUBY_EXPR_SHOW").is_some();
            let e = match parse(src) {
                Ok(e) => e,
                Err(e) => {
                    if show && ruby != "SYNTAX" {
                        println!(
                            "refused: {src}\n  Ruby: {ruby}\n  {}",
                            &e[..e.len().min(120)]
                        );
                    }
                    refused += 1;
                    continue;
                }
            };
            // Ruby's `time` is a new object for each expression (`time.utc` changes it).
            cx.time_utc.set(false);
            let ours = match eval(&e, &cx) {
                Err(_) if ruby == "ERR" => "ERR".to_string(),
                Err(e) if e.contains("not supported") => {
                    if show {
                        println!(
                            "not supported: {src}\n  Ruby: {ruby}\n  {}",
                            &e[..e.len().min(120)]
                        );
                    }
                    not_supported += 1;
                    continue;
                }
                Err(_) => "ERR".to_string(),
                Ok(RValue::Time(_) | RValue::Match(_) | RValue::Class(_)) => "OBJ".into(),
                // eval.rb writes a symbol Ruby quotes as SYM (a record value is its name).
                Ok(RValue::Sym(n)) => {
                    let plain = n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                    if plain {
                        format!(":{n}")
                    } else {
                        "SYM".into()
                    }
                }
                Ok(v) => match v.to_value() {
                    Ok(v) => {
                        let mut s = String::new();
                        crate::ruby::inspect_into(&v, &mut s);
                        s
                    }
                    Err(_) => "OBJ".into(),
                },
            };
            if ours == ruby {
                same += 1;
            } else {
                differ.push(format!("{src}\n  Ruby:     {ruby}\n  logferry: {ours}"));
            }
        }
        println!(
            "{same} the same, {refused} refused, {not_supported} not supported where Ruby answers, {} differ",
            differ.len()
        );
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }

    #[test]
    fn found_by_review() {
        let r = "{}";
        // Each panicked (debug) or hung before.
        assert_eq!(s("'abc'[0..9223372036854775807]", r), "Ok(\"\\\"\\\"\")");
        assert_eq!(s("'abc'[1..9223372036854775807]", r), "Ok(\"\\\"bc\\\"\")");
        assert_eq!(
            s("-9223372036854775807 / 3", r),
            "Ok(\"-3074457345618258603\")"
        );
        assert_eq!(s("-7 / 2", r), "Ok(\"-4\")");
        assert_eq!(s("7 / -2", r), "Ok(\"-4\")");
        assert_eq!(s("[] * 9223372036854775807", r), "Ok(\"[]\")");
        assert!(parse("'abc'.start_with?(/a/)").is_err());
        assert!(parse("[1].include?(/a/)").is_err());
        assert!(parse(&format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000))).is_err());
        assert!(parse(&format!("1{}", " + 1".repeat(100_000))).is_err());
        assert!(parse(&format!("'a'{}", ".to_s".repeat(100_000))).is_err());
        assert!(parse("[1, 2][true ? 0 : 1..1]").is_err());
        assert_eq!(
            s("9223372036854775807 == 9223372036854775807.0", r),
            "Ok(\"false\")"
        );
        assert!(s("('a' * 100000).gsub(//, \"\\\\'\")", r).starts_with("ERR"));
        assert!(s("['a' * 1000000] * 1000", r).starts_with("ERR"));
    }

    /// Ruby published configs put in `${…}`, with what Fluentd 1.16 gave for it (recorded
    /// beside the differential case `rtruby-real-methods`).
    #[test]
    fn real_config_expressions() {
        let r = r#"{"s":"hello world","i":42,"f":-2.5,"n":null,"ts":1700000123,"tf":1700000123.25,
            "h":{"s":"x","k":[1,2]},"a":[3,1,"two",null,[3],1],"m":"line\r\n","j":"a\"b/\u001f\u00e9"}"#;
        let cases = [
            ("time.utc.iso8601", "\"2023-11-14T22:13:20Z\""),
            ("time.getutc.iso8601(3)", "\"2023-11-14T22:13:20.000Z\""),
            ("Time.at(time).utc.to_s", "\"2023-11-14 22:13:20 UTC\""),
            (
                "Time.at(record[\"tf\"]).utc.iso8601(6)",
                "\"2023-11-14T22:15:23.250000Z\"",
            ),
            (
                "Time.at(record[\"ts\"]).utc.strftime('%Y.%m.%d %Z')",
                "\"2023.11.14 UTC\"",
            ),
            (
                "[time.utc?, time.utc.utc?, time.utc?]",
                "[false, true, true]",
            ),
            ("Time.at(1700000000.123456789).nsec", "123456716"),
            ("time.getutc.yday", "318"),
            ("record[\"i\"] > 10 ? \"high\" : \"low\"", "\"high\""),
            ("record[\"s\"] <= \"m\"", "true"),
            ("record[\"i\"] <=> 5", "1"),
            ("record[\"s\"] =~ /o/", "4"),
            ("record[\"s\"] !~ /o/", "false"),
            ("record[\"n\"] =~ /x/", "nil"),
            ("record[\"s\"].match?(\"l+\")", "true"),
            ("record.has_key?(\"s\") && !record.key?(\"zz\")", "true"),
            ("record[\"h\"].keys.join(\",\")", "\"s,k\""),
            ("record.fetch(\"zz\", \"d\")", "\"d\""),
            (
                "record[\"h\"].to_json",
                "\"{\\\"s\\\":\\\"x\\\",\\\"k\\\":[1,2]}\"",
            ),
            (
                "record[\"j\"].to_json",
                "\"\\\"a\\\\\\\"b/\\\\u001f\\u00E9\\\"\"",
            ),
            ("[1.0e20, 0.1, nil].to_json", "\"[1.0e+20,0.1,null]\""),
            ("record[\"n\"]&.upcase", "nil"),
            ("record[\"s\"]&.upcase", "\"HELLO WORLD\""),
            ("record[\"s\"].capitalize", "\"Hello world\""),
            ("record[\"m\"].chomp", "\"line\""),
            ("record[\"s\"].tr('a-y', 'b-z')", "\"ifmmp xpsme\""),
            ("record[\"s\"].center(15, \"*\")", "\"**hello world**\""),
            ("record[\"a\"].compact.uniq", "[3, 1, \"two\", [3]]"),
            ("[0.1, 0.2, 0.3].sum", "0.6"),
            ("record[\"f\"].round", "-3"),
            ("record[\"i\"] % 5", "2"),
            ("2 ** 10", "1024"),
            ("record[\"i\"].to_s(16)", "\"2a\""),
            ("record[\"s\"].is_a?(String)", "true"),
            ("record[\"i\"].class.to_s", "\"Integer\""),
            ("ENV[\"LOGFERRY_SURELY_UNSET\"] || 1e3", "1000.0"),
            ("Time.parse('2023-11-14T22:13:20.5Z').to_f", "1700000000.5"),
            (
                "Time.parse('2023-11-14 22:13:20 +09:00').to_s",
                "\"2023-11-14 22:13:20 +0900\"",
            ),
            (
                "Time.parse('2023-11-14 22:13:20 +09:00').strftime('%H %z|%Z')",
                "\"22 +0900|\"",
            ),
            ("Time.parse('2023-11-14T22:13:20Z') - time", "-5.0e-09"),
            ("(time + 3600).getutc.hour", "23"),
            ("\"#{tag}-#{record[\"i\"]}\"", "\"app.web.x-42\""),
            ("\"n=#{record[\"n\"]} #{\"in #{1 + 1}\"}\"", "\"n= in 2\""),
            ("record[\"zz\"][\"a\"] rescue \"unknown\"", "\"unknown\""),
            ("record[\"h\"][\"s\"].upcase rescue nil", "\"X\""),
            ("if record[\"i\"] > 40 then \"big\" elsif record[\"i\"] > 10 then \"mid\" else \"small\" end", "\"big\""),
            ("unless record[\"n\"]; \"none\"; else; record[\"n\"]; end", "\"none\""),
            ("\"x\" if record[\"n\"]", "nil"),
            ("record[\"s\"].length unless record[\"n\"]", "11"),
            ("(\"\u{e9}\".b[0, 1] + \"x\").force_encoding(\"UTF-8\").scrub(\"?\")", "\"?x\""),
            ("\"\u{e9}\".b.length", "2"),
            ("record[\"s\"].dup.force_encoding(\"BINARY\").valid_encoding?", "true"),
            ("record[\"s\"]&.include?(\"h\")", "true"),
            ("[record[\"h\"], record[\"h\"], time, time].uniq.length", "2"),
            ("'\u{10D0}'.capitalize", "\"\\u10D0\""),
            ("time.utc.iso8601(nil)", "\"2023-11-14T22:13:20Z\""),
            ("time.utc.iso8601('3')", "\"2023-11-14T22:13:20.000Z\""),
            ("(time - Time.parse('2020-01-01 UTC')).round", "122163200"),
            // Ruby's `^` never matches at the very end, after a final newline.
            ("\"a\\nb\\n\".gsub(/^/, \"> \")", "\"> a\\n> b\\n\""),
            ("\"a\\n\".scan(/^/).length", "1"),
            // Ruby 3.1's full case mapping.
            (
                "'\u{1C6}a \u{FB01}x \u{DF}'.capitalize",
                "\"\\u01C5a \\uFB01x \\u00DF\"",
            ),
            ("'\u{FB01}x'.capitalize", "\"Fix\""),
            (
                "'\u{DF}\u{1C6}\u{3A3}\u{3C3}'.swapcase",
                "\"SS\\u01C4\\u03C3\\u03A3\"",
            ),
        ];
        for (src, want) in cases {
            assert_eq!(s(src, r), format!("Ok({want:?})"), "{src}");
        }
        for src in [
            "record[\"s\"] > 1",
            "record[\"n\"] > 1",
            "record.fetch(\"zz\")",
            "ENV.fetch(\"LOGFERRY_SURELY_UNSET\")",
            "record[\"n\"]&.strip.length",
            "Time.at(\"1\")",
            "[1, \"a\"].max",
            "Time.parse('x')",
            "/(?<w>wor)/ =~ record[\"s\"]",
            "if nil.upcase rescue true then 1 else 2 end",
            "[time].to_s rescue \"x\"",
            "Time.parse('2023-01-01 00:00:00.1234567891').to_f",
            "if record[\"i\"] then 1",
            "record[\"s\"].force_encoding(\"UTF-8\")",
            "record[\"n\"].length rescue",
            "Time.parse(nil)",
        ] {
            assert!(s(src, r).starts_with("ERR"), "{src}");
        }
    }

    #[test]
    fn whole_values_that_may_be_objects() {
        for (src, object) in [
            ("time + 60", true),
            ("[time].first", true),
            ("[1, time].sort.last", true),
            ("Time.parse('x')", true),
            ("time - time", false),
            ("time - 60", true),
            ("record['x'].match(/(a)/)[1]", false),
            ("[time.min, time.year]", false),
            ("record['a'].first", false),
        ] {
            assert_eq!(parse(src).map(|e| may_be_object(&e)), Ok(object), "{src}");
        }
    }

    #[test]
    fn refused() {
        for src in [
            "system('ls')",
            "`ls`",
            "record.each { |x| x }",
            "x = 1",
            "record[\"a\"].gsub /a/, 'b'",
            "\"#@x\"",
            "record['a'].each_char",
            "foo(1)",
            "record['a'] =~ 'a'",
            "-2 ** 2",
            "ENV[record['a']]",
            "record['a'].is_a?(record)",
            "1 < 2 < 3 == 4 == 5",
        ] {
            assert!(parse(src).is_err(), "{src}");
        }
        assert!(parse_template("a\\tb #{tag}").is_err());
        assert!(parse_template("a] #{tag}").is_err());
        assert_eq!(
            parse_template("[x] #{tag} y").map(|p| p.len()).unwrap_or(0),
            3
        );
    }

    #[test]
    fn binary_strings_are_bytes() {
        let rec = Value::Map(vec![(
            Value::Str("b".into()),
            Value::Bin(b"a\xffb".to_vec()),
        )]);
        let v = |src: &str| run(src, rec.clone()).and_then(|v| v.to_value());
        let bin = |b: &[u8]| Ok(Value::Bin(b.to_vec()));
        assert_eq!(v(r#"record["b"]"#), bin(b"a\xffb"));
        assert_eq!(v(r#"record["b"].upcase"#), bin(b"A\xffB"));
        assert_eq!(v(r#"record["b"].length"#), Ok(Value::Int(3)));
        assert_eq!(v(r#"record["b"][1]"#), bin(b"\xff"));
        assert_eq!(v(r#"record["b"] + "x""#), bin(b"a\xffbx"));
        assert_eq!(v(r#"record["b"].gsub(/\w/, "x")"#), bin(b"x\xffx"));
        assert_eq!(v(r#"record["b"].match(/(.)b/)[1]"#), bin(b"\xff"));
        assert_eq!(v(r#"record["b"] == "a""#), Ok(Value::Bool(false)));
        for (src, err) in [
            (
                r#"record["b"] + "é""#,
                "incompatible character encodings: ASCII-8BIT and UTF-8",
            ),
            (
                r#"record["b"].match(/é/)"#,
                "(UTF-8 regexp with ASCII-8BIT string)",
            ),
            (
                r#"record["b"].include?("é")"#,
                "incompatible character encodings",
            ),
            (
                r#"record["b"].gsub("a", "é")"#,
                "incompatible character encodings: UTF-8 and ASCII-8BIT",
            ),
        ] {
            let e = v(src).unwrap_err();
            assert!(e.contains(err), "{src}: {e}");
        }
        // No match, nothing joined: no error.
        assert_eq!(v(r#"record["b"].gsub("z", "é")"#), bin(b"a\xffb"));
    }

    #[test]
    fn strings_not_utf8_raise_where_ruby_does() {
        // A UTF-8 string holding the byte 0xFF (it stands in the text as U+10FFFF).
        let rec = Value::Map(vec![(
            Value::Str("s".into()),
            Value::Str("a\u{10FFFF}b".into()),
        )]);
        let v = |src: &str| run(src, rec.clone()).and_then(|v| v.to_value());
        assert_eq!(v(r#"record["s"].length"#), Ok(Value::Int(3)));
        assert_eq!(
            v(r#"record["s"].strip"#),
            Ok(Value::Str("a\u{10FFFF}b".into()))
        );
        assert_eq!(
            v(r#"record["s"].gsub("a", "z")"#),
            Ok(Value::Str("z\u{10FFFF}b".into()))
        );
        assert_eq!(
            v(r#"record["s"].upcase"#),
            Err("input string invalid".into())
        );
        for src in [
            r#"record["s"].gsub(/a/, "z")"#,
            r#"record["s"].split(",")"#,
            r#"record["s"].scan("a")"#,
            r#"record["s"][0, 2].rstrip"#,
        ] {
            assert_eq!(
                v(src),
                Err("invalid byte sequence in UTF-8".into()),
                "{src}"
            );
        }
        assert_eq!(
            v(r#"(record["s"] + " ").rstrip"#),
            Ok(Value::Str("a\u{10FFFF}b".into()))
        );
    }
}
