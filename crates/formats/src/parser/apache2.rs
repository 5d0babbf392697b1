//! `apache2` (Fluentd's `parser_apache2.rb`): the combined log format with typed fields.
//! `-` becomes nil for host, user, size, referer and agent; `code` and `size` are integers
//! (`code` 0 is nil); the time format is fixed (`%d/%b/%Y:%H:%M:%S %z`). Like Fluentd, this
//! parser applies no `types`/null conversions; `keep_time_key` adds the raw `time`.

use logferry_config::BuildError;
use logferry_msgpack::Value;
use regex::Regex;

use super::common::{int_value, Conf, TimeConf};
use super::regexp::APACHE_TIME_FORMAT;
use super::ruby_regex;
use super::time::TimeParser;
use super::{ParseResult, Parser};

const REGEXP: &str = r#"^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>(?:[^\"]|\\")*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>(?:[^\"]|\\")*)" "(?<agent>(?:[^\"]|\\")*)")?$"#;

/// The `apache2` parser.
#[derive(Debug)]
pub struct Apache2Parser {
    re: Regex,
    time: TimeParser,
    keep_time_key: bool,
}

/// Capture group indexes in [`REGEXP`].
const HOST: usize = 1;
const USER: usize = 2;
const TIME: usize = 3;
const METHOD: usize = 4;
const PATH: usize = 5;
const CODE: usize = 6;
const SIZE: usize = 7;
const REFERER: usize = 8;
const AGENT: usize = 9;

impl Apache2Parser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::APACHE2);
        let keep_time_key = c.get("keep_time_key")?;
        let tc = TimeConf::read(c, "string", None, false)?;
        let time = tc.create(None, Some(Some(APACHE_TIME_FORMAT)), None)?;
        let re = ruby_regex::compile(REGEXP, "").expect("apache2 expression compiles");
        Ok(Apache2Parser {
            re,
            time,
            keep_time_key,
        })
    }
}

fn dash_nil(s: Option<&str>) -> Value {
    match s {
        None | Some("-") => Value::Nil,
        Some(v) => Value::Str(v.to_string()),
    }
}

fn key(k: &str) -> Value {
    Value::Str(k.to_string())
}

/// Capture spans, indexed like the expression's groups.
type Caps = [Option<(usize, usize)>; 10];

/// A hand-written backtracking matcher for [`REGEXP`] that explores alternatives in the same
/// order as Ruby's (and Rust's leftmost-first) engine, so it finds the same captures, about ten
/// times faster than the general engine. It only takes ASCII lines without newlines of at most
/// [`FAST_MAX`] bytes and gives up after [`FAST_BUDGET`] steps; then the regexp decides.
struct Fast<'t> {
    b: &'t [u8],
    caps: Caps,
    steps: u32,
}

const FAST_MAX: usize = 4096;
const FAST_BUDGET: u32 = 20_000;

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Why the fast matcher stopped without an answer.
struct GiveUp;

impl<'t> Fast<'t> {
    /// `Ok(Some(captures))` matched, `Ok(None)` no match, `Err` undecided (use the regexp).
    fn run(text: &'t str) -> Result<Option<Caps>, GiveUp> {
        let b = text.as_bytes();
        if b.len() > FAST_MAX || !text.is_ascii() || b.contains(&b'\n') {
            return Err(GiveUp);
        }
        let mut f = Fast {
            b,
            caps: [None; 10],
            steps: 0,
        };
        // ^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] " — each field ends at the
        // first possible delimiter, so this prefix has one way to match.
        let n = b.len();
        let next = |from: usize, c: u8| {
            b[from.min(n)..]
                .iter()
                .position(|&x| x == c)
                .map(|i| i + from)
        };
        let Some(s1) = next(0, b' ') else {
            return Ok(None);
        };
        let Some(s2) = next(s1 + 1, b' ') else {
            return Ok(None);
        };
        let Some(s3) = next(s2 + 1, b' ') else {
            return Ok(None);
        };
        if b.get(s3 + 1) != Some(&b'[') {
            return Ok(None);
        }
        let Some(t) = next(s3 + 2, b']') else {
            return Ok(None);
        };
        if b.get(t + 1) != Some(&b' ') || b.get(t + 2) != Some(&b'"') {
            return Ok(None);
        }
        f.caps[HOST] = Some((0, s1));
        f.caps[USER] = Some((s2 + 1, s3));
        f.caps[TIME] = Some((s3 + 2, t));
        match f.method(t + 3) {
            Ok(true) => Ok(Some(f.caps)),
            Ok(false) => Ok(None),
            Err(g) => Err(g),
        }
    }

    fn step(&mut self) -> Result<(), GiveUp> {
        self.steps += 1;
        if self.steps > FAST_BUDGET {
            Err(GiveUp)
        } else {
            Ok(())
        }
    }

    /// (?<method>\S+) then the optional path group.
    fn method(&mut self, p: usize) -> Result<bool, GiveUp> {
        let b = self.b;
        let mut e = p;
        while e < b.len() && !is_space(b[e]) {
            e += 1;
        }
        for end in (p + 1..=e).rev() {
            self.step()?;
            self.caps[METHOD] = Some((p, end));
            // (?: +(?<path>…)(?: +\S*)?)? — greedy: with the group first.
            let mut sp = end;
            while sp < b.len() && b[sp] == b' ' {
                sp += 1;
            }
            for path_start in (end + 1..=sp).rev() {
                if self.path(path_start, path_start)? {
                    return Ok(true);
                }
            }
            self.caps[PATH] = None;
            if self.close(end)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// (?<path>(?:[^\"]|\\")*?) — lazy: the rest first, then one more item.
    fn path(&mut self, start: usize, pos: usize) -> Result<bool, GiveUp> {
        self.step()?;
        let b = self.b;
        self.caps[PATH] = Some((start, pos));
        if self.after_path(pos)? {
            return Ok(true);
        }
        if pos < b.len() && b[pos] != b'"' && self.path(start, pos + 1)? {
            return Ok(true);
        }
        if pos + 1 < b.len()
            && b[pos] == b'\\'
            && b[pos + 1] == b'"'
            && self.path(start, pos + 2)?
        {
            return Ok(true);
        }
        Ok(false)
    }

    /// (?: +\S*)? then the closing quote.
    fn after_path(&mut self, pos: usize) -> Result<bool, GiveUp> {
        let b = self.b;
        let mut sp = pos;
        while sp < b.len() && b[sp] == b' ' {
            sp += 1;
        }
        for s_start in (pos + 1..=sp).rev() {
            let mut e = s_start;
            while e < b.len() && !is_space(b[e]) {
                e += 1;
            }
            for s_end in (s_start..=e).rev() {
                self.step()?;
                if self.close(s_end)? {
                    return Ok(true);
                }
            }
        }
        self.close(pos)
    }

    /// `" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>…)" "(?<agent>…)")?$`
    fn close(&mut self, p: usize) -> Result<bool, GiveUp> {
        self.step()?;
        let b = self.b;
        let n = b.len();
        if b.get(p) != Some(&b'"') || b.get(p + 1) != Some(&b' ') {
            return Ok(false);
        }
        let c0 = p + 2;
        let Some(c1) = b[c0.min(n)..]
            .iter()
            .position(|&x| x == b' ')
            .map(|i| i + c0)
        else {
            return Ok(false);
        };
        let s0 = c1 + 1;
        let s1 = b[s0.min(n)..]
            .iter()
            .position(|&x| x == b' ')
            .map_or(n, |i| i + s0);
        self.caps[CODE] = Some((c0, c1));
        self.caps[SIZE] = Some((s0, s1));
        if s1 + 1 < n && b[s1] == b' ' && b[s1 + 1] == b'"' && self.referer(s1 + 2, s1 + 2)? {
            return Ok(true);
        }
        self.caps[REFERER] = None;
        self.caps[AGENT] = None;
        Ok(s1 == n)
    }

    /// (?<referer>(?:[^\"]|\\")*) — greedy: one more item first, then the rest.
    fn referer(&mut self, start: usize, pos: usize) -> Result<bool, GiveUp> {
        self.step()?;
        let b = self.b;
        if pos < b.len() && b[pos] != b'"' && self.referer(start, pos + 1)? {
            return Ok(true);
        }
        if pos + 1 < b.len()
            && b[pos] == b'\\'
            && b[pos + 1] == b'"'
            && self.referer(start, pos + 2)?
        {
            return Ok(true);
        }
        // `" "` then the agent to the final quote.
        if b.get(pos) == Some(&b'"')
            && b.get(pos + 1) == Some(&b' ')
            && b.get(pos + 2) == Some(&b'"')
        {
            let a0 = pos + 3;
            let n = b.len();
            if n > a0 && b[n - 1] == b'"' && agent_ok(&b[a0..n - 1]) {
                self.caps[REFERER] = Some((start, pos));
                self.caps[AGENT] = Some((a0, n - 1));
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Can `(?:[^"]|\\")*` match all of `s`? Every quote must follow a backslash.
fn agent_ok(s: &[u8]) -> bool {
    s.iter()
        .enumerate()
        .all(|(i, &c)| c != b'"' || (i > 0 && s[i - 1] == b'\\'))
}

impl Apache2Parser {
    /// The captures of [`REGEXP`] in `text`, if it matches.
    fn captures(&self, text: &str) -> Option<Caps> {
        if let Ok(r) = Fast::run(text) {
            return r;
        }
        self.captures_regex(text)
    }

    fn captures_regex(&self, text: &str) -> Option<Caps> {
        let mut locs = self.re.capture_locations();
        self.re.captures_read(&mut locs, text)?;
        let mut caps: Caps = [None; 10];
        // Group 0 (the whole match) is not used.
        for (i, c) in caps.iter_mut().enumerate().skip(1) {
            *c = locs.get(i);
        }
        Some(caps)
    }
}

impl Parser for Apache2Parser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let Some(caps) = self.captures(text) else {
            out.push(Err(format!("pattern not matched with data '{text}'")));
            return;
        };
        let g = |i: usize| caps[i].map(|(s, e)| &text[s..e]);
        let time_s = g(TIME).unwrap_or("");
        let time = match self.time.parse_str(time_s) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(e));
                return;
            }
        };
        // Ruby's `to_i`: past 64 bits the nearest float, as for `types` (README "Differences
        // from Fluentd").
        let code = logferry_config::types::integer_wide(g(CODE).unwrap_or(""));
        let size = match g(SIZE) {
            Some("-") | None => Value::Nil,
            Some(s) => int_value(logferry_config::types::integer_wide(s)),
        };
        let mut rec = Vec::with_capacity(9);
        rec.push((key("host"), dash_nil(g(HOST))));
        rec.push((key("user"), dash_nil(g(USER))));
        rec.push((
            key("method"),
            g(METHOD).map_or(Value::Nil, |m| Value::Str(m.to_string())),
        ));
        rec.push((
            key("path"),
            g(PATH).map_or(Value::Nil, |m| Value::Str(m.to_string())),
        ));
        rec.push((
            key("code"),
            if code == 0 {
                Value::Nil
            } else {
                int_value(code)
            },
        ));
        rec.push((key("size"), size));
        rec.push((key("referer"), dash_nil(g(REFERER))));
        rec.push((key("agent"), dash_nil(g(AGENT))));
        if self.keep_time_key {
            rec.push((key("time"), Value::Str(time_s.to_string())));
        }
        out.push(Ok((Some(time), Value::Map(rec))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast matcher agrees with the regexp engine on every line it decides.
    #[test]
    fn fast_matcher_agrees_with_the_regexp() {
        let re = ruby_regex::compile(REGEXP, "").unwrap();
        let p = Apache2Parser {
            re,
            time: TimeParser::Unixtime,
            keep_time_key: false,
        };
        let pieces = [
            " ", "  ", "\"", "\\", "\\\"", "-", "a", "GET", "/x", "HTTP/1.1", "[", "]", "\" \"",
            "200", "\t",
        ];
        let base = [
            r#"h - u [t] "GET / HTTP/1.1" 200 5 "r" "a""#,
            r#"h - u [t] "GET / HTTP/1.1" 200 5"#,
            r#"h - u [t] "-" 400 0 "-" "-""#,
            r#"h - u [t] "GET /a b HTTP/1.1" 404 - "-" "x""#,
            r#"h - u [t] "GET /a\"b HTTP/1.1" 200 1 "r\"x" "a\" \"b""#,
        ];
        // Deterministic pseudo-random edits of the base lines.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = |m: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % m as u64) as usize
        };
        let mut decided = 0;
        for _ in 0..20_000 {
            let mut line = base[rnd(base.len())].to_string();
            for _ in 0..1 + rnd(3) {
                let at = rnd(line.len() + 1);
                let piece = pieces[rnd(pieces.len())];
                if rnd(3) == 0 && at < line.len() {
                    line.remove(at);
                } else {
                    line.insert_str(at, piece);
                }
            }
            if let Ok(fast) = Fast::run(&line) {
                decided += 1;
                assert_eq!(fast, p.captures_regex(&line), "{line}");
            }
        }
        assert!(decided > 15_000, "{decided}");
    }
}
