//! Evaluation of the subset of Ruby that real configs put in `"#{...}"`.
//!
//! Supported, with Ruby's semantics (settled against Fluentd 1.16):
//!
//! * literals: `'string'`, `"string"` (no nested `#{}`), integers (`24224`, `-1`, `1_000`,
//!   `0x1f`, `0b101`, `0o17`, `017`), floats (`1.5`, `1e3` — printed as Ruby prints them,
//!   `1000.0`), `true`, `false`, `nil` (→ `""`);
//! * `ENV['X']` / `ENV["X"]` (unset → `nil`), `ENV.fetch('X')` (unset → error) and
//!   `ENV.fetch('X', default)`;
//! * `a || b` (Ruby's: `a` unless it is `nil` or `false`);
//! * `use_nil` and `use_default`: the whole parameter is treated as not set;
//! * `Socket.gethostname`, `hostname`, `worker_id` (→ `"0"`; inside `<worker N>` → `"N"`, inside
//!   `<worker N-M>` → `"N"`: logferry builds one copy of the section, as its first worker);
//! * `File.join(a, ...)` on strings (Ruby's separator rules; `nil` or a number is a `TypeError`).
//!
//! Anything else is refused with [`SUPPORTED`] in the message.

use std::sync::OnceLock;

use crate::{ConfigError, Pos};

/// The value worker 0 sees for `worker_id`.
const WORKER_ID: &str = "0";

/// The forms [`evaluate`] accepts, as shown in its refusal message.
pub const SUPPORTED: &str = "supported: string, integer, float, true, false and nil literals; \
    ENV['X'], ENV.fetch('X'), ENV.fetch('X', default); a || b; use_nil; use_default; \
    Socket.gethostname; hostname; worker_id; File.join('a', ...)";

/// Result of evaluating embedded code.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Text to splice into the string (`nil` becomes `""`, as Ruby's `nil.to_s`).
    Text(String),
    /// `use_default` or `use_nil` (the word): the parameter is treated as not set.
    Unset(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Int(i128),
    Float(f64),
    Punct(char),
    OrOr,
}

#[derive(Debug)]
enum Expr {
    Lit(Val),
    Env(String),
    Fetch(String, Option<Box<Expr>>),
    Hostname,
    WorkerId,
    Unset(&'static str),
    Join(Vec<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A Ruby value.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Str(String),
    Int(i128),
    Float(f64),
    Bool(bool),
    Nil,
}

impl Val {
    fn truthy(&self) -> bool {
        !matches!(self, Val::Nil | Val::Bool(false))
    }

    /// Ruby's `to_s`.
    fn to_text(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Float(f) => ruby_float(*f),
            Val::Bool(b) => b.to_string(),
            Val::Nil => String::new(),
        }
    }

    fn class(&self) -> &'static str {
        match self {
            Val::Str(_) => "String",
            Val::Int(_) => "Integer",
            Val::Float(_) => "Float",
            Val::Bool(true) => "true",
            Val::Bool(false) => "false",
            Val::Nil => "nil",
        }
    }
}

/// Ruby's `Float#to_s`: the shortest digits that read back to the same value, in fixed notation
/// for exponents -4..=14 (`1000.0`, `0.0001`), else scientific (`1.0e+15`, `1.0e-05`).
fn ruby_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..=14).contains(&exp) {
        let point = exp + 1;
        let (int, frac) = if point <= 0 {
            (
                "0".to_string(),
                format!("{}{digits}", "0".repeat(point.unsigned_abs() as usize)),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_string(),
                digits[point as usize..].to_string(),
            )
        };
        let frac = if frac.is_empty() { "0".into() } else { frac };
        format!("{sign}{int}.{frac}")
    } else {
        let frac = if digits.len() > 1 { &digits[1..] } else { "0" };
        let esign = if exp < 0 { '-' } else { '+' };
        format!(
            "{sign}{}.{frac}e{esign}{:02}",
            &digits[..1],
            exp.unsigned_abs()
        )
    }
}

/// Ruby's `File.join` on strings: one `/` between parts, whatever separators they carry.
fn file_join(parts: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            out.push_str(part);
            continue;
        }
        match (out.ends_with('/'), part.starts_with('/')) {
            (true, true) => out.push_str(part.trim_start_matches('/')),
            (true, false) | (false, true) => out.push_str(part),
            (false, false) => {
                out.push('/');
                out.push_str(part);
            }
        }
    }
    out
}

enum Stop {
    Unset(&'static str),
    Error(String),
}

/// Evaluates the code between `#{` and `}`; `pos` is the position of `#{`, `worker` the argument
/// of the enclosing `<worker>` section.
pub(crate) fn evaluate(
    code: &str,
    pos: &Pos,
    worker: Option<&str>,
) -> Result<Outcome, ConfigError> {
    let unsupported = || {
        ConfigError::at(
            pos.clone(),
            format!(
                "unsupported Ruby expression in #{{...}}: {}; {SUPPORTED}",
                code.trim()
            ),
        )
    };
    let toks = tokenize(code).ok_or_else(unsupported)?;
    let mut p = ExprParser {
        toks,
        i: 0,
        nesting: 0,
    };
    let expr = p.expr().ok_or_else(unsupported)?;
    if p.i != p.toks.len() {
        return Err(unsupported());
    }
    let worker_id = worker
        .map(|w| w.split('-').next().unwrap_or(w).trim())
        .unwrap_or(WORKER_ID);
    match eval(&expr, worker_id) {
        Ok(v) => Ok(Outcome::Text(v.to_text())),
        Err(Stop::Unset(word)) => Ok(Outcome::Unset(word)),
        Err(Stop::Error(msg)) => Err(ConfigError::at(
            pos.clone(),
            format!("in #{{{}}}: {msg}", code.trim()),
        )),
    }
}

fn tokenize(code: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = code.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            c if c.is_whitespace() => i += 1,
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while chars
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    i += 1;
                }
                toks.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let (tok, next) = number(&chars, i)?;
                toks.push(tok);
                i = next;
            }
            '\'' | '"' => {
                let (s, next) = string_literal(&chars, i)?;
                toks.push(Tok::Str(s));
                i = next;
            }
            '|' if chars.get(i + 1) == Some(&'|') => {
                toks.push(Tok::OrOr);
                i += 2;
            }
            '[' | ']' | '(' | ')' | ',' | '.' => {
                toks.push(Tok::Punct(c));
                i += 1;
            }
            _ => return None,
        }
    }
    Some(toks)
}

/// A Ruby numeric literal at `chars[start]` (digits or `-` then digits): integer (decimal with
/// `_`, `0x`, `0b`, `0o`, `0d`, leading-`0` octal) or decimal float (`1.5`, `1e3`, `2.5e-7`).
fn number(chars: &[char], start: usize) -> Option<(Tok, usize)> {
    let mut i = start;
    let neg = chars[i] == '-';
    if neg {
        i += 1;
    }
    let word_end = |mut j: usize| {
        while chars
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            j += 1;
        }
        j
    };
    let sign = |v: i128| if neg { -v } else { v };
    let radix = match (chars.get(i), chars.get(i + 1).map(char::to_ascii_lowercase)) {
        (Some('0'), Some('x')) => Some(16),
        (Some('0'), Some('b')) => Some(2),
        (Some('0'), Some('o')) => Some(8),
        (Some('0'), Some('d')) => Some(10),
        _ => None,
    };
    if let Some(radix) = radix {
        let end = word_end(i + 2);
        let v = ruby_digits(&chars[i + 2..end], radix)?;
        return Some((Tok::Int(sign(v)), end));
    }
    // Decimal integer part, then an optional fraction and exponent.
    let int_end = word_end(i);
    let mut end = int_end;
    let mut is_float = false;
    // The integer part may end in `e`/`E` (an exponent): split it off.
    let int_part: Vec<char> = chars[i..int_end].to_vec();
    let (mantissa, exp_in_int) = match int_part.iter().position(|c| *c == 'e' || *c == 'E') {
        Some(p) => (&int_part[..p], Some(p)),
        None => (&int_part[..], None),
    };
    if mantissa.is_empty() || !mantissa.iter().all(|c| c.is_ascii_digit() || *c == '_') {
        return None;
    }
    let mut text: String = mantissa.iter().filter(|c| **c != '_').collect();
    if exp_in_int.is_none()
        && chars.get(end) == Some(&'.')
        && chars.get(end + 1).is_some_and(char::is_ascii_digit)
    {
        is_float = true;
        let frac_end = word_end(end + 1);
        let frac: Vec<char> = chars[end + 1..frac_end].to_vec();
        let (digits, exp_at) = match frac.iter().position(|c| *c == 'e' || *c == 'E') {
            Some(p) => (&frac[..p], Some(end + 1 + p)),
            None => (&frac[..], None),
        };
        if !digits.iter().all(|c| c.is_ascii_digit() || *c == '_') {
            return None;
        }
        text.push('.');
        text.extend(digits.iter().filter(|c| **c != '_'));
        end = frac_end;
        if let Some(at) = exp_at {
            let (exp, next) = exponent(chars, at)?;
            text.push_str(&exp);
            end = next;
        }
    } else if let Some(p) = exp_in_int {
        is_float = true;
        let (exp, next) = exponent(chars, i + p)?;
        text.push_str(&exp);
        end = next;
    }
    if chars
        .get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        return None;
    }
    if is_float {
        let v: f64 = text.parse().ok()?;
        return Some((Tok::Float(if neg { -v } else { v }), end));
    }
    let radix = if text.len() > 1 && text.starts_with('0') {
        8
    } else {
        10
    };
    let v = ruby_digits(&text.chars().collect::<Vec<_>>(), radix)?;
    Some((Tok::Int(sign(v)), end))
}

/// `e`, an optional sign, digits (at `chars[at]` = `e`/`E`); returns `e±digits` and the end.
fn exponent(chars: &[char], at: usize) -> Option<(String, usize)> {
    let mut j = at + 1;
    let mut out = String::from("e");
    if let Some(s @ ('+' | '-')) = chars.get(j) {
        out.push(*s);
        j += 1;
    }
    let from = j;
    while chars.get(j).is_some_and(char::is_ascii_digit) {
        out.push(chars[j]);
        j += 1;
    }
    (j > from).then_some((out, j))
}

/// Digits of an integer literal in `radix`, `_` between digits allowed; None on overflow.
fn ruby_digits(digits: &[char], radix: u32) -> Option<i128> {
    if digits.is_empty() || digits[0] == '_' || digits[digits.len() - 1] == '_' {
        return None;
    }
    let mut v: i128 = 0;
    for c in digits.iter().filter(|c| **c != '_') {
        let d = c.to_digit(radix)?;
        v = v
            .checked_mul(i128::from(radix))?
            .checked_add(i128::from(d))?;
    }
    Some(v)
}

/// A Ruby string literal starting at `chars[start]` (a quote); returns its value
/// and the index after it. Interpolation inside it is not supported.
fn string_literal(chars: &[char], start: usize) -> Option<(String, usize)> {
    let quote = *chars.get(start)?;
    let mut out = String::new();
    let mut i = start + 1;
    loop {
        let c = *chars.get(i)?;
        i += 1;
        match c {
            c if c == quote => return Some((out, i)),
            '\\' => {
                let e = *chars.get(i)?;
                i += 1;
                match (quote, e) {
                    ('\'', '\'' | '\\') => out.push(e),
                    ('\'', _) => {
                        out.push('\\');
                        out.push(e);
                    }
                    (_, 'n') => out.push('\n'),
                    (_, 't') => out.push('\t'),
                    (_, 'r') => out.push('\r'),
                    (_, '0') => out.push('\0'),
                    (_, e) if e.is_ascii_alphanumeric() => return None,
                    (_, e) => out.push(e),
                }
            }
            '#' if quote == '"' && chars.get(i) == Some(&'{') => return None,
            c => out.push(c),
        }
    }
}

/// Maximum nesting of expressions (e.g. `ENV.fetch('A', ENV.fetch('B', ...))`).
const MAX_NESTING: usize = 16;
/// Maximum arguments of `File.join` and alternatives of `||`.
const MAX_LIST: usize = 64;

struct ExprParser {
    toks: Vec<Tok>,
    i: usize,
    nesting: usize,
}

impl ExprParser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }

    fn eat(&mut self, t: &Tok) -> bool {
        if self.toks.get(self.i) == Some(t) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, t: Tok) -> Option<()> {
        self.eat(&t).then_some(())
    }

    fn string(&mut self) -> Option<String> {
        match self.next()? {
            Tok::Str(s) => Some(s),
            _ => None,
        }
    }

    fn ident(&mut self, name: &str) -> Option<()> {
        (self.next()? == Tok::Ident(name.into())).then_some(())
    }

    fn expr(&mut self) -> Option<Expr> {
        if self.nesting >= MAX_NESTING {
            return None;
        }
        self.nesting += 1;
        let mut left = self.primary()?;
        let mut alternatives = 0;
        while self.eat(&Tok::OrOr) {
            alternatives += 1;
            if alternatives > MAX_LIST {
                return None;
            }
            let right = self.primary()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.nesting -= 1;
        Some(left)
    }

    fn primary(&mut self) -> Option<Expr> {
        let ident = match self.next()? {
            Tok::Str(s) => return Some(Expr::Lit(Val::Str(s))),
            Tok::Int(i) => return Some(Expr::Lit(Val::Int(i))),
            Tok::Float(f) => return Some(Expr::Lit(Val::Float(f))),
            Tok::Ident(id) => id,
            _ => return None,
        };
        match ident.as_str() {
            "nil" => Some(Expr::Lit(Val::Nil)),
            "true" => Some(Expr::Lit(Val::Bool(true))),
            "false" => Some(Expr::Lit(Val::Bool(false))),
            "hostname" => Some(Expr::Hostname),
            "worker_id" => Some(Expr::WorkerId),
            "use_default" => Some(Expr::Unset("use_default")),
            "use_nil" => Some(Expr::Unset("use_nil")),
            "Socket" => {
                self.expect(Tok::Punct('.'))?;
                self.ident("gethostname")?;
                Some(Expr::Hostname)
            }
            "File" => {
                self.expect(Tok::Punct('.'))?;
                self.ident("join")?;
                self.expect(Tok::Punct('('))?;
                let mut args = Vec::new();
                if !self.eat(&Tok::Punct(')')) {
                    loop {
                        if args.len() >= MAX_LIST {
                            return None;
                        }
                        args.push(self.expr()?);
                        if self.eat(&Tok::Punct(')')) {
                            break;
                        }
                        self.expect(Tok::Punct(','))?;
                    }
                }
                Some(Expr::Join(args))
            }
            "ENV" => {
                if self.eat(&Tok::Punct('[')) {
                    let name = self.string()?;
                    self.expect(Tok::Punct(']'))?;
                    return Some(Expr::Env(name));
                }
                self.expect(Tok::Punct('.'))?;
                self.ident("fetch")?;
                self.expect(Tok::Punct('('))?;
                let name = self.string()?;
                let default = if self.eat(&Tok::Punct(',')) {
                    Some(Box::new(self.expr()?))
                } else {
                    None
                };
                self.expect(Tok::Punct(')'))?;
                Some(Expr::Fetch(name, default))
            }
            _ => None,
        }
    }
}

fn eval(expr: &Expr, worker_id: &str) -> Result<Val, Stop> {
    match expr {
        Expr::Lit(v) => Ok(v.clone()),
        Expr::Env(name) => Ok(std::env::var(name).map_or(Val::Nil, Val::Str)),
        Expr::Fetch(name, default) => match (std::env::var(name), default) {
            (Ok(v), _) => Ok(Val::Str(v)),
            (Err(_), Some(d)) => eval(d, worker_id),
            (Err(_), None) => Err(Stop::Error(format!(
                "environment variable {name} is not set (ENV.fetch without a default raises KeyError)"
            ))),
        },
        Expr::Hostname => hostname().map(Val::Str).map_err(Stop::Error),
        Expr::WorkerId => Ok(Val::Str(worker_id.to_string())),
        Expr::Unset(word) => Err(Stop::Unset(word)),
        Expr::Join(args) => {
            let mut parts = Vec::with_capacity(args.len());
            for a in args {
                match eval(a, worker_id)? {
                    Val::Str(s) => parts.push(s),
                    other => {
                        return Err(Stop::Error(format!(
                            "File.join: no implicit conversion of {} into String (TypeError)",
                            other.class()
                        )))
                    }
                }
            }
            Ok(Val::Str(file_join(&parts)))
        }
        Expr::Or(a, b) => {
            let v = eval(a, worker_id)?;
            if v.truthy() {
                Ok(v)
            } else {
                eval(b, worker_id)
            }
        }
    }
}

fn hostname() -> Result<String, String> {
    static HOST: OnceLock<Result<String, String>> = OnceLock::new();
    HOST.get_or_init(|| {
        hostname::get()
            .map(|h| h.to_string_lossy().into_owned())
            .map_err(|e| format!("cannot get the hostname: {e}"))
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(code: &str) -> Result<Outcome, ConfigError> {
        evaluate(code, &Pos::new("t", 1, 1), None)
    }

    fn text(code: &str) -> String {
        match ev(code) {
            Ok(Outcome::Text(t)) => t,
            other => panic!("{code}: {other:?}"),
        }
    }

    const UNSET: &str = "LOGFERRY_CFG_SURELY_UNSET";

    #[test]
    fn literals_print_as_ruby_prints_them() {
        // Each pair was checked against Fluentd 1.16 (`--dry-run` shows the evaluated values).
        for (code, want) in [
            (" 'a' ", "a"),
            ("\"b\\tc\"", "b\tc"),
            ("24224", "24224"),
            ("-3", "-3"),
            ("1_000", "1000"),
            ("0x1f", "31"),
            ("0b101", "5"),
            ("0o17", "15"),
            ("017", "15"),
            ("0d12", "12"),
            ("1.5", "1.5"),
            ("1e3", "1000.0"),
            ("2.5e-7", "2.5e-07"),
            ("1e15", "1.0e+15"),
            ("1e14", "100000000000000.0"),
            ("0.0001", "0.0001"),
            ("1.5e300", "1.5e+300"),
            ("123456789.123456789", "123456789.12345679"),
            ("true", "true"),
            ("false", "false"),
            ("nil", ""),
        ] {
            assert_eq!(text(code), want, "{code}");
        }
    }

    #[test]
    fn env_forms_and_defaults() {
        std::env::set_var("LOGFERRY_CFG_SET_A", "from-env");
        for (code, want) in [
            ("ENV['LOGFERRY_CFG_SET_A']", "from-env"),
            ("ENV[\"LOGFERRY_CFG_SET_A\"] || 1", "from-env"),
            (&format!("ENV['{UNSET}']"), ""),
            (&format!("ENV['{UNSET}'] || 'd'"), "d"),
            (&format!("ENV['{UNSET}'] || 24224"), "24224"),
            (&format!("ENV['{UNSET}'] || 0.5"), "0.5"),
            (&format!("ENV['{UNSET}'] || true"), "true"),
            (&format!("ENV['{UNSET}'] || false"), "false"),
            (&format!("ENV['{UNSET}'] || nil"), ""),
            (&format!("ENV['{UNSET}'] || nil || 'z'"), "z"),
            (&format!("false || ENV['{UNSET}'] || 'z'"), "z"),
            (&format!("ENV.fetch('{UNSET}', 'd')"), "d"),
            (&format!("ENV.fetch(\"{UNSET}\", 7)"), "7"),
            (&format!("ENV.fetch('{UNSET}', 1.0)"), "1.0"),
            (&format!("ENV.fetch('{UNSET}', false)"), "false"),
            (&format!("ENV.fetch('{UNSET}', nil)"), ""),
            (
                &format!("ENV.fetch('{UNSET}', ENV['LOGFERRY_CFG_SET_A'])"),
                "from-env",
            ),
            ("ENV.fetch('LOGFERRY_CFG_SET_A', 'd')", "from-env"),
            ("ENV.fetch('LOGFERRY_CFG_SET_A')", "from-env"),
            ("worker_id", "0"),
        ] {
            assert_eq!(text(code), want, "{code}");
        }
        let e = ev(&format!("ENV.fetch('{UNSET}')")).unwrap_err();
        assert!(e.message.contains("is not set"), "{e}");
    }

    #[test]
    fn use_nil_and_use_default_unset_the_parameter() {
        assert_eq!(ev("use_default").unwrap(), Outcome::Unset("use_default"));
        assert_eq!(ev("use_nil").unwrap(), Outcome::Unset("use_nil"));
        assert_eq!(
            ev(&format!("ENV['{UNSET}'] || use_nil")).unwrap(),
            Outcome::Unset("use_nil")
        );
        assert_eq!(
            ev(&format!("ENV.fetch('{UNSET}', use_default)")).unwrap(),
            Outcome::Unset("use_default")
        );
        assert_eq!(ev("'x' || use_nil").unwrap(), Outcome::Text("x".into()));
    }

    #[test]
    fn hostname_forms() {
        let h = hostname::get().unwrap().to_string_lossy().into_owned();
        assert_eq!(text("Socket.gethostname"), h);
        assert_eq!(text("hostname"), h);
    }

    #[test]
    fn file_join_follows_ruby() {
        // Expected values from Ruby 3.1's File.join.
        for (code, want) in [
            ("File.join('/a/', 'b', '', 'c')", "/a/b/c"),
            (
                &format!("File.join('/var/log/', ENV.fetch('{UNSET}', ''), 'x.pos')"),
                "/var/log/x.pos",
            ),
            ("File.join('a/', '/b')", "a/b"),
            ("File.join('a//', '//b')", "a//b"),
            ("File.join('', 'a')", "/a"),
            ("File.join('a', '')", "a/"),
            ("File.join()", ""),
            ("File.join('', '')", "/"),
            ("File.join('a', '', '', 'b')", "a/b"),
            ("File.join('a')", "a"),
        ] {
            assert_eq!(text(code), want, "{code}");
        }
        for (code, class) in [
            ("File.join('a', nil)", "nil"),
            ("File.join('a', 1)", "Integer"),
            (&format!("File.join('a', ENV['{UNSET}'])"), "nil"),
        ] {
            let e = ev(code).unwrap_err();
            assert!(
                e.message
                    .contains(&format!("no implicit conversion of {class} into String")),
                "{code}: {e}"
            );
        }
    }

    #[test]
    fn other_code_is_refused_naming_what_is_supported() {
        for code in [
            "1 + 1",
            "`id`",
            "ENV",
            "ENV['A'",
            "Socket.foo",
            "system('x')",
            "\"#{x}\"",
            "'a' 'b'",
            "rand(10)",
            "Time.now",
            "require 'ipaddr'; IPAddr.new('1.2.3.4')",
            "ENV['A'] && 'b'",
            "(1)",
            "1.to_s",
            "08",
            "1e",
            "File.join('a',)",
            "ENV.fetch('A') { 'b' }",
        ] {
            let e = ev(code).unwrap_err();
            assert!(
                e.message.contains("unsupported Ruby expression"),
                "{code}: {e}"
            );
            assert!(e.message.contains(SUPPORTED), "{code}: {e}");
        }
    }

    #[test]
    fn every_form_the_message_names_is_accepted() {
        // The refusal message must not offer a form the evaluator refuses.
        std::env::set_var("LOGFERRY_CFG_SET_B", "b");
        assert!(SUPPORTED
            .starts_with("supported: string, integer, float, true, false and nil literals; "));
        for code in [
            "'s'",
            "\"s\"",
            "1",
            "1.5",
            "true",
            "false",
            "nil",
            "ENV['X']",
            "ENV.fetch('LOGFERRY_CFG_SET_B')",
            "ENV.fetch('X', 'default')",
            "'a' || 'b'",
            "use_nil",
            "use_default",
            "Socket.gethostname",
            "hostname",
            "worker_id",
            "File.join('a', 'b')",
        ] {
            assert!(ev(code).is_ok(), "{code}");
        }
        let listed = SUPPORTED.trim_start_matches(
            "supported: string, integer, float, true, false and nil literals; ",
        );
        for form in listed.split(&[';', ','][..]).map(str::trim) {
            let code = match form {
                "a || b" => "'a' || 'b'",
                "File.join('a'" | "...)" => "File.join('a', 'b')",
                "ENV.fetch('X'" | "default)" => "ENV.fetch('X', 'default')",
                "ENV.fetch('X')" => "ENV.fetch('LOGFERRY_CFG_SET_B')",
                f => f,
            };
            assert!(ev(code).is_ok(), "{form} → {code}");
        }
    }
}
