//! Evaluation of the small subset of Ruby allowed in `"#{...}"`.
//!
//! Supported: `ENV['X']` / `ENV["X"]` (unset → `""`), `ENV.fetch('X', 'default')`,
//! `ENV.fetch('X')` (unset → error), `Socket.gethostname`, `hostname`, `worker_id`
//! (→ `"0"`), `use_default`, `nil`, string literals and `a || b`.

use std::sync::OnceLock;

use crate::{ConfigError, Pos};

/// The value worker 0 sees for `worker_id`.
const WORKER_ID: &str = "0";

const SUPPORTED: &str =
    "supported: ENV['X'], ENV[\"X\"], ENV.fetch('X', 'default'), ENV.fetch('X'), \
    Socket.gethostname, hostname, worker_id, use_default, 'string literals', a || b";

/// Result of evaluating embedded code.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    /// Text to splice into the string (`nil` becomes `""`, as Ruby's `nil.to_s`).
    Text(String),
    /// `use_default`: the parameter is treated as not set.
    UseDefault,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Punct(char),
    OrOr,
}

#[derive(Debug)]
enum Expr {
    Str(String),
    Nil,
    Env(String),
    Fetch(String, Option<Box<Expr>>),
    Hostname,
    WorkerId,
    UseDefault,
    UseNil,
    Or(Box<Expr>, Box<Expr>),
}

enum Stop {
    Default,
    Error(String),
}

/// Evaluates the code between `#{` and `}`; `pos` is the position of `#{`.
pub(crate) fn evaluate(code: &str, pos: &Pos) -> Result<Outcome, ConfigError> {
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
    match eval(&expr) {
        Ok(v) => Ok(Outcome::Text(v.unwrap_or_default())),
        Err(Stop::Default) => Ok(Outcome::UseDefault),
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

    fn expr(&mut self) -> Option<Expr> {
        if self.nesting >= MAX_NESTING {
            return None;
        }
        self.nesting += 1;
        let mut left = self.primary()?;
        let mut alternatives = 0;
        while self.eat(&Tok::OrOr) {
            alternatives += 1;
            if alternatives > MAX_NESTING {
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
            Tok::Str(s) => return Some(Expr::Str(s)),
            Tok::Ident(id) => id,
            _ => return None,
        };
        match ident.as_str() {
            "nil" => Some(Expr::Nil),
            "hostname" => Some(Expr::Hostname),
            "worker_id" => Some(Expr::WorkerId),
            "use_default" => Some(Expr::UseDefault),
            "use_nil" => Some(Expr::UseNil),
            "Socket" => {
                self.expect(Tok::Punct('.'))?;
                (self.next()? == Tok::Ident("gethostname".into())).then_some(Expr::Hostname)
            }
            "ENV" => {
                if self.eat(&Tok::Punct('[')) {
                    let name = self.string()?;
                    self.expect(Tok::Punct(']'))?;
                    return Some(Expr::Env(name));
                }
                self.expect(Tok::Punct('.'))?;
                if self.next()? != Tok::Ident("fetch".into()) {
                    return None;
                }
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

fn eval(expr: &Expr) -> Result<Option<String>, Stop> {
    match expr {
        Expr::Str(s) => Ok(Some(s.clone())),
        Expr::Nil => Ok(None),
        Expr::Env(name) => Ok(std::env::var(name).ok()),
        Expr::Fetch(name, default) => match (std::env::var(name), default) {
            (Ok(v), _) => Ok(Some(v)),
            (Err(_), Some(d)) => eval(d),
            (Err(_), None) => Err(Stop::Error(format!(
                "environment variable {name} is not set (ENV.fetch without a default raises KeyError)"
            ))),
        },
        Expr::Hostname => hostname().map(Some).map_err(Stop::Error),
        Expr::WorkerId => Ok(Some(WORKER_ID.to_string())),
        Expr::UseDefault => Err(Stop::Default),
        Expr::UseNil => Err(Stop::Error("use_nil is not supported by logferry".to_string())),
        Expr::Or(a, b) => match eval(a)? {
            Some(v) => Ok(Some(v)),
            None => eval(b),
        },
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
        evaluate(code, &Pos::new("t", 1, 1))
    }

    #[test]
    fn literals_or_and_fetch_defaults() {
        assert_eq!(ev(" 'a' ").unwrap(), Outcome::Text("a".into()));
        assert_eq!(ev("nil || \"b\"").unwrap(), Outcome::Text("b".into()));
        assert_eq!(
            ev("ENV['LOGFERRY_CFG_SURELY_UNSET'] || 'd'").unwrap(),
            Outcome::Text("d".into())
        );
        assert_eq!(
            ev("ENV.fetch(\"LOGFERRY_CFG_SURELY_UNSET\", nil)").unwrap(),
            Outcome::Text(String::new())
        );
        assert_eq!(ev("worker_id").unwrap(), Outcome::Text("0".into()));
        assert_eq!(ev("use_default").unwrap(), Outcome::UseDefault);
    }

    #[test]
    fn other_code_is_rejected() {
        for code in [
            "1 + 1",
            "`id`",
            "ENV",
            "ENV['A'",
            "Socket.foo",
            "system('x')",
            "\"#{x}\"",
            "'a' 'b'",
        ] {
            let e = ev(code).unwrap_err();
            assert!(
                e.message.contains("unsupported Ruby expression"),
                "{code}: {e}"
            );
        }
    }
}
