//! Onigmo's test for an empty iteration of a loop with capture groups in it (its
//! `STACK_NULL_CHECK_MEMST`) reads each capture group's value from before the iteration: when
//! the loop's body matched the empty string, a group that had no value or held text lets the loop
//! go on, one that held the empty string where the iteration started ends the loop, and one that
//! held the empty string elsewhere fails the iteration, so that Ruby tries another way
//! (`/^(?:(b??)a*?,?)*/` matches `,,a` in `,,a`, taking the `a` in the third iteration, and
//! `/(?:(a?)b?)*c/` sets `$1` to the empty string at 0 in `bc`). Rust's engine and Oniguruma end
//! the loop there (`,,`, `$1` at 1). That last case needs a capture group that may match the empty
//! string while the iteration goes on to match text outside it, in a loop whose body may match the
//! empty string, repeated a varying count (each capture group in such a body is on Onigmo's
//! stack), or inside a repeated group (the value from the group's iteration before). Repeated up
//! to a maximum (`{0,3}`, `{1,2}?`), the loop differs whatever follows the group: going on after
//! an empty iteration (a group that held nothing or text before) uses up a count, so that
//! `/a(?:[ab]*?,?(b??)){0,3}$/` sets `$1` to the `b` at 2 in `aab` in Ruby, the empty string at 3
//! where the loop ends at the empty iteration and has a count left (a body that is one capture
//! group, `(?:(a?)){0,3}`, is Onigmo's group repeated, written out by `counted`; a greedy loop
//! over items that all try text first (`greedy_only`) ends alike). Such a loop
//! repeated from none or one without a maximum, or lazily up to a maximum, runs on Oniguruma with
//! the rule applied by callouts ([`instrument`], `crate::ruby_regexp::empty_loops`); the others
//! are refused: the rule cannot be written out for either engine (Onigmo writes a body repeated
//! greedily up to a maximum, or from two or more, out as copies without the test or runs it as a
//! counted loop testing every iteration, by the size of its compiled code).

use super::anychar::quantifiers;
use super::counted::{may_be_empty_with, only_empty};
use super::{bracket_end, group_close};

/// Refuse `src` (Ruby syntax, under `flags`) where a loop reads a capture group's stale empty
/// value as Onigmo does (see the module documentation).
pub(crate) fn check(src: &str, flags: &str) -> Result<(), String> {
    if !src.contains('(') {
        return Ok(());
    }
    let raw: Vec<char> = src.chars().collect();
    let x = flags.contains('x') || super::counted::has_option_x(&raw);
    let s = if x { without_extended(&raw) } else { raw };
    let named = has_named(&s);
    match stale_loops(&s, named).first() {
        Some(&(open, close, _)) => Err(refusal(&s[open..close])),
        None => Ok(()),
    }
}

/// `pattern` (Oniguruma's Ruby syntax, as [`super::for_oniguruma`] writes it, not under `x`) with
/// each loop that reads stale capture groups written to run Onigmo's test for empty iterations
/// on Oniguruma (see [`crate::ruby_regexp`]'s `empty_loops`): `(?:body)*` as
/// `(?:(*LFS{k})(?:body)(*LFE{k}))*(?:(?!)\1…)?`, a never-matching back-reference to each capture
/// group of the body after it (which gives the loop Oniguruma's own capture test). With
/// `capture_all`, every group captures (named or not); a loop that is a capture group is written
/// `(?:(*LFS{k})(body)(*LFE{k}))*`, the group tested too. Repeated from one (`+`, `+?`, `{1,}`),
/// the loop is written the same way (Onigmo writes a short body out once before its `*` loop, the
/// first iteration untested, else enters the loop: alike here, where the body's capture groups
/// hold no value before the first iteration). Lazy up to a maximum of two or more (`{1,3}?`,
/// `{0,2}?`), Onigmo and Oniguruma run a counted loop that tests every iteration, as the
/// callouts do. `None` where the test cannot be run so: the loop is repeated otherwise (greedily
/// up to a maximum, from two or more: Onigmo tests those counts by the size of their code), is
/// possessive, sits in a look-around or another repeated group (one repeated from one or up to
/// a maximum in any group repeated more than once), its body holds look-arounds, atomic groups,
/// references, calls, conditionals, absent operators or `\K`, or a capture group of it is in a
/// repetition whose body may match the empty string (Oniguruma tests that group in the inner loop only); the pattern calls groups
/// or names a group of the body twice; or under `x`.
pub(crate) fn instrument(pattern: &str, flags: &str, capture_all: bool) -> Option<String> {
    let s: Vec<char> = pattern.chars().collect();
    if flags.contains('x') || super::counted::has_option_x(&s) || pattern.contains("\\g") {
        return None;
    }
    let named = has_named(&s) && !capture_all;
    let loops = stale_loops(&s, named);
    if loops.is_empty() || loops.iter().any(|&(_, _, around)| around) {
        return None;
    }
    let all_groups = capture_groups(&s, named);
    let refs = Refs::new(&s, named);
    let names: Vec<String> = all_groups
        .iter()
        .map(|&(o, c)| group_name(&s[o..c]).unwrap_or_default())
        .collect();
    // (position, text) to insert, and the loops done.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (n, &(open, close, _)) in loops.iter().enumerate() {
        let q = quantifiers(&s, close, false);
        let [q] = q.as_slice() else {
            return None;
        };
        // Lazy up to a maximum of two or more, Onigmo runs a counted loop (`OP_REPEAT_NG`) that
        // tests every iteration, as Oniguruma runs this one.
        let counted_lazy = q.lazy && q.max.is_some_and(|m| m >= 2);
        if (q.min > 1 || q.max.is_some() || q.possessive) && !counted_lazy {
            return None;
        }
        // Repeated from one, Onigmo writes the body out once before its loop when short (no test
        // of that first iteration) or enters the loop (tested): alike for the callouts where the
        // body's capture groups hold no value before it, which a group around it repeating
        // would break.
        if (q.min == 1 || counted_lazy) && in_repeated_group(&s, open) {
            return None;
        }
        let (from, to) = body_range(&s, open, close)?;
        let body = &s[from..to];
        if !plain_body(body) || in_look_around(&s, open) {
            return None;
        }
        // Each capture group of the body in no repetition of the body whose body may be empty.
        if !capture_groups(body, named).iter().all(|&(go, gc)| {
            enclosing_repeats(body, go, gc).iter().all(|&(ro, rc)| {
                body_of(body, ro, rc).and_then(|b| refs.may_be_empty(b)) == Some(false)
            })
        }) {
            return None;
        }
        // A loop that is itself a capture group enters it in each iteration: Onigmo's test reads
        // it too, so the callouts go around it.
        let own = all_groups.contains(&(open, close));
        let mut refs = String::from("(?:(?!)");
        for (i, &(o, c)) in all_groups.iter().enumerate() {
            if (o < from || c > to) && (o, c) != (open, close) {
                continue;
            }
            if named {
                let name = &names[i];
                if name.is_empty() || names.iter().filter(|m| *m == name).count() > 1 {
                    return None;
                }
                refs.push_str(&format!("\\k<{name}>"));
            } else {
                refs.push_str(&format!("\\{}", i + 1));
            }
        }
        refs.push_str(")?");
        let (start, end) = (crate::ruby_regexp::LOOP_START, crate::ruby_regexp::LOOP_END);
        if own {
            inserts.push((open, format!("(?:(*{start}{{{n}}})")));
            inserts.push((close, format!("(*{end}{{{n}}}))")));
        } else {
            // (The body in a group of its own: it may be an alternation.)
            inserts.push((from, format!("(*{start}{{{n}}})(?:")));
            inserts.push((to, format!(")(*{end}{{{n}}})")));
        }
        inserts.push((q.end, refs));
    }
    // From the end, so that earlier positions hold; at one position, in the order listed (the
    // later listed spliced first).
    let mut inserts: Vec<(usize, usize, String)> = inserts
        .into_iter()
        .enumerate()
        .map(|(i, (at, text))| (at, i, text))
        .collect();
    inserts.sort_by_key(|&(at, i, _)| std::cmp::Reverse((at, i)));
    let mut out = s;
    for (at, _, text) in inserts {
        out.splice(at..at, text.chars());
    }
    Some(out.into_iter().collect())
}

/// The capture groups of a pattern, for what its references and calls may match: a call
/// (`\g<1>`, `\g<n>`, `\g<-1>`, `\g<0>` the whole pattern) matches the group's body, so may
/// match the empty string where the body may; a reference (`\1`, `\k<n>`) matches the text
/// the group last captured, a match of its body (or fails where the group has none), so may
/// too. Where a group's body holds references and calls, the answers are read together, from
/// none empty until no answer changes (a group calling itself, `(\{(?:[^{}]|\g<1>)*\})`,
/// may be empty only by a way that does not).
pub(super) struct Refs<'a> {
    whole: &'a [char],
    named: bool,
    /// The capture groups (spans, from `(` to past `)`), numbered from 1, and their names.
    groups: Vec<(usize, usize)>,
    names: Vec<Option<String>>,
    /// May the whole pattern (0) and each group match the empty string (`None`: unknown)?
    empty: Vec<Option<bool>>,
}

impl<'a> Refs<'a> {
    /// The groups of `whole` (Ruby syntax, not under `x`).
    pub(super) fn of(whole: &'a [char]) -> Self {
        Self::new(whole, has_named(whole))
    }

    /// The groups of `whole` (with `named`, only named groups capture).
    fn new(whole: &'a [char], named: bool) -> Self {
        let groups = capture_groups(whole, named);
        let names = groups
            .iter()
            .map(|&(o, c)| group_name(&whole[o..c]))
            .collect();
        let n = groups.len();
        let mut refs = Refs {
            whole,
            named,
            groups,
            names,
            empty: vec![Some(false); n + 1],
        };
        // Each answer only grows (no, unknown, yes): at most two changes a group.
        for _ in 0..2 * n + 3 {
            let next: Vec<Option<bool>> = (0..=n)
                .map(|i| {
                    let body = if i == 0 {
                        Some(whole)
                    } else {
                        let (o, c) = refs.groups[i - 1];
                        body_of(whole, o, c)
                    };
                    join(refs.empty[i], body.and_then(|b| refs.may_be_empty(b)))
                })
                .collect();
            if next == refs.empty {
                return refs;
            }
            refs.empty = next;
        }
        refs.empty = vec![None; n + 1];
        refs
    }

    /// [`may_be_empty_with`] these references and calls.
    pub(super) fn may_be_empty(&self, s: &[char]) -> Option<bool> {
        may_be_empty_with(s, &|s, k| self.at(s, k))
    }

    /// Whether the reference or call at `s[k]` (a part of [`Refs::whole`], or not, where relative
    /// ones are not read) may match the empty string, and where it ends; `None` where it is not
    /// one read here (a number past the groups, under named groups: an octal escape or Ruby's
    /// error).
    fn at(&self, s: &[char], k: usize) -> Option<(Option<bool>, usize)> {
        let (numbers, end) = match s.get(k + 1)? {
            'k' | 'g' => {
                let quote = match s.get(k + 2)? {
                    '<' => '>',
                    '\'' => '\'',
                    _ => return None,
                };
                let len = s.get(k + 3..)?.iter().position(|&c| c == quote)?;
                let name: String = s[k + 3..k + 3 + len].iter().collect();
                (self.resolve(&name, s[k + 1] == 'g', s, k), k + len + 4)
            }
            '1'..='9' => {
                let digits = s[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let number: usize = s[k + 1..k + 1 + digits]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .ok()?;
                if self.named || number > self.groups.len() {
                    return None;
                }
                (Some(vec![number]), k + 1 + digits)
            }
            _ => return None,
        };
        let empty = numbers.and_then(|numbers| {
            numbers
                .iter()
                .map(|&i| self.empty[i])
                .reduce(join)
                .flatten()
        });
        Some((empty, end))
    }

    /// The group numbers (0: the whole pattern) that `\g<name>` (`call`) or `\k<name>` at
    /// `s[k]` stands for; `None` where not read here (levels, `\k<n+1>`; relative outside
    /// [`Refs::whole`]; Ruby's errors).
    fn resolve(&self, name: &str, call: bool, s: &[char], k: usize) -> Option<Vec<usize>> {
        let count = self.groups.len();
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if let Some(relative) = name.strip_prefix(['-', '+']) {
            if self.named || !digits(relative) {
                return None;
            }
            let m: usize = relative.parse().ok()?;
            let at = self.offset(s)? + k;
            let before = self.groups.iter().filter(|g| g.0 < at).count();
            let number = if name.starts_with('-') {
                (before + 1).checked_sub(m)?
            } else {
                before + m
            };
            return (number >= 1 && number <= count).then(|| vec![number]);
        }
        if digits(name) {
            let number: usize = name.parse().ok()?;
            return match number {
                0 if call => Some(vec![0]),
                0 => None,
                _ if self.named || number > count => None,
                _ => Some(vec![number]),
            };
        }
        let numbers: Vec<usize> = (1..=count)
            .filter(|&i| self.names[i - 1].as_deref() == Some(name))
            .collect();
        (!numbers.is_empty() && (!call || numbers.len() == 1)).then_some(numbers)
    }

    /// The capture groups of `s` (a part of [`Refs::whole`]) and its calls (spans), with whether
    /// each may capture the empty string: a call captures the group it calls, the groups in it
    /// and those they call.
    fn captures(&self, s: &[char]) -> Vec<(usize, usize, bool)> {
        let mut out: Vec<(usize, usize, bool)> = capture_groups(s, self.named)
            .into_iter()
            .map(|(o, c)| {
                let inner = body_of(s, o, c).unwrap_or(&[]);
                (o, c, self.may_be_empty(inner) != Some(false))
            })
            .collect();
        for (k, end, name) in calls(s) {
            let empty = match self.resolve(&name, true, s, k) {
                Some(numbers) => numbers.iter().any(|&n| self.calls_empty(n)),
                None => true,
            };
            out.push((k, end, empty));
        }
        out.sort_unstable();
        out
    }

    /// May a call of group `n` (0: the whole pattern) capture the empty string in it: in the
    /// group, a group in it, or a group it calls?
    fn calls_empty(&self, n: usize) -> bool {
        let mut seen = vec![false; self.groups.len() + 1];
        let mut todo = vec![n];
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if i >= 1 && self.empty[i] != Some(false) {
                return true;
            }
            let (o, c) = if i == 0 {
                (0, self.whole.len())
            } else {
                self.groups[i - 1]
            };
            for (j, &(go, gc)) in self.groups.iter().enumerate() {
                if o <= go && gc <= c {
                    todo.push(j + 1);
                }
            }
            let span = &self.whole[o..c];
            for (k, _, name) in calls(span) {
                match self.resolve(&name, true, span, k) {
                    Some(numbers) => todo.extend(numbers),
                    None => return true,
                }
            }
        }
        false
    }

    /// Where `s` starts in [`Refs::whole`], when it is a part of it.
    fn offset(&self, s: &[char]) -> Option<usize> {
        let (whole, part) = (self.whole.as_ptr_range(), s.as_ptr_range());
        (whole.start <= part.start && part.end <= whole.end)
            .then(|| (part.start as usize - whole.start as usize) / std::mem::size_of::<char>())
    }
}

/// The calls in `s`: where each starts (its `\\`), ends, and the group it names.
fn calls(s: &[char]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' if s.get(k + 1) == Some(&'g') => {
                let quote = match s.get(k + 2) {
                    Some('<') => '>',
                    Some('\'') => '\'',
                    _ => {
                        k += 2;
                        continue;
                    }
                };
                let Some(len) = s[k + 3..].iter().position(|&c| c == quote) else {
                    k += 2;
                    continue;
                };
                out.push((k, k + len + 4, s[k + 3..k + 3 + len].iter().collect()));
                k += len + 4;
            }
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            _ => k += 1,
        }
    }
    out
}

/// Two answers to "may it be empty" for one thing: yes where either says so, else unknown
/// where either does.
fn join(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// The name of the named group `g` (from `(` to past `)`).
fn group_name(g: &[char]) -> Option<String> {
    let quote = match (g.get(1), g.get(2)) {
        (Some('?'), Some('<')) => '>',
        (Some('?'), Some('\'')) => '\'',
        _ => return None,
    };
    let end = g[3..].iter().position(|&c| c == quote)? + 3;
    Some(g[3..end].iter().collect())
}

/// Does `body` hold only characters, classes, escapes of them, anchors, groups (capturing,
/// non-capturing, options, atomic without groups in them), alternations and repetitions: no
/// look-around, reference, call, conditional, absent operator, `\K`, callout?
fn plain_body(body: &[char]) -> bool {
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '\\' => {
                if matches!(body.get(k + 1), Some('k' | 'g' | 'K' | '1'..='9')) {
                    return false;
                }
                k += 2;
            }
            '[' => k = bracket_end(body, k),
            '(' => {
                match (body.get(k + 1), body.get(k + 2)) {
                    (Some('*'), _) => return false,
                    // An atomic group without groups in it (for_oniguruma writes an anchor
                    // alternative so): Onigmo drops what is pushed inside one, captures too.
                    (Some('?'), Some('>')) => {
                        let e = group_close(body, k);
                        let inner = &body[(k + 3).min(e)..e.saturating_sub(1).max(k + 3).min(e)];
                        if !capture_groups(inner, false).is_empty() || !plain_body(inner) {
                            return false;
                        }
                        k = e;
                        continue;
                    }
                    (Some('?'), Some('=' | '!' | '~' | '(' | '#')) => return false,
                    (Some('?'), Some('<')) if matches!(body.get(k + 3), Some('=' | '!')) => {
                        return false
                    }
                    _ => {}
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    true
}

/// Is the item at `s[at]` inside a group repeated more than once (a maximum of two or more, or
/// none)?
fn in_repeated_group(s: &[char], at: usize) -> bool {
    any_enclosing(s, at, |_, e| {
        quantifiers(s, e, false)
            .iter()
            .any(|q| q.max.is_none_or(|m| m >= 2))
    })
}

/// Is the item at `s[at]` inside a look-around or an absent operator?
fn in_look_around(s: &[char], at: usize) -> bool {
    any_enclosing(s, at, |k, _| {
        matches!(
            (s.get(k + 1), s.get(k + 2), s.get(k + 3)),
            (Some('?'), Some('=' | '!' | '~'), _) | (Some('?'), Some('<'), Some('=' | '!'))
        )
    })
}

/// Does `test(open, close)` hold for a group that opens before `s[at]` and closes after it?
fn any_enclosing(s: &[char], at: usize, test: impl Fn(usize, usize) -> bool) -> bool {
    let mut k = 0;
    while k < at {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' => {
                let e = group_close(s, k);
                if at < e && test(k, e) {
                    return true;
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    false
}

/// The repeated groups of `body` (spans) around or at the group `body[open..close]`.
fn enclosing_repeats(body: &[char], open: usize, close: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k <= open {
        match body[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            '(' => {
                let e = group_close(body, k);
                if close <= e
                    && quantifiers(body, e, false)
                        .iter()
                        .any(|q| q.max.is_none_or(|m| m >= 1))
                {
                    out.push((k, e));
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    out
}

/// The loops of `s` (groups, from `(` to past `)`) that read stale capture groups as Onigmo
/// does (see [`check`]), with whether it is for a repeated group around the loop; with `named`,
/// only named groups capture.
fn stale_loops(s: &[char], named: bool) -> Vec<(usize, usize, bool)> {
    let refs = Refs::new(s, named);
    let mut found = Vec::new();
    // Each group: where it opens and closes (past its `)`), and whether it is repeated more
    // than once (a maximum of two or more, or none).
    let mut groups: Vec<(usize, usize, bool)> = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                k = s[k..]
                    .iter()
                    .position(|&c| c == ')')
                    .map_or(s.len(), |e| k + e + 1);
            }
            '(' => {
                let close = group_close(s, k);
                let repeated = quantifiers(s, close, false)
                    .iter()
                    .any(|q| q.max.is_none_or(|m| m >= 2 && m > q.min));
                let fixed_many = quantifiers(s, close, false)
                    .iter()
                    .any(|q| q.max.is_some_and(|m| m >= 2));
                groups.push((k, close, repeated || fixed_many));
                if repeated && loop_check(s, k, close, named, &refs).is_err() {
                    found.push((k, close, false));
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    // A loop from one or none inside a repeated group: a capture group that is its whole body
    // keeps the empty string where the group's iteration before left it.
    for &(open, close, _) in &groups {
        let varying = quantifiers(s, close, false)
            .iter()
            .any(|q| q.max.is_none_or(|m| m >= 2 && m > q.min));
        if !varying {
            continue;
        }
        let around = groups
            .iter()
            .any(|&(o, c, rep)| rep && o < open && close <= c && (o, c) != (open, close));
        // (Only where the group around can match text beside the loop, or its iteration
        // starts where the loop's last one ended.)
        let around = around
            && groups.iter().any(|&(o, c, rep)| {
                rep && o < open
                    && close <= c
                    && (o, c) != (open, close)
                    && body_range(s, o, c).is_some_and(|(from, to)| {
                        let end = skip_repetitions(s, close).min(to);
                        let rest: Vec<char> = s[from..open.max(from)]
                            .iter()
                            .chain(&s[end..to])
                            .copied()
                            .collect();
                        may_consume(&rest)
                    })
            });
        if around {
            let Some(body) = body_of(s, open, close) else {
                continue;
            };
            if refs.may_be_empty(body) != Some(false) {
                // The loop's own group too, when it captures.
                let group = &s[open..close];
                if refs.captures(group).iter().any(|&(_, _, empty)| empty) {
                    found.push((open, close, true));
                }
            }
        }
    }
    found
}

/// Refuse the loop `s[open..close]` (a group repeated a varying count) whose body may match the
/// empty string with a capture group in it that may too, where the iteration can go on to match
/// text after it, or match text without it (the group in an alternation), or where the loop
/// is repeated up to a maximum (`{0,3}`, `{1,2}?`): Onigmo's counted loop goes on after an
/// empty iteration whose group held nothing or text before, which uses up a count
/// (`/a(?:[ab]*?,?(b??)){0,3}$/` sets `$1` to `b` in `aab`, not the empty string after it, as
/// a loop ending there would). References and calls are read by the groups they name
/// ([`Refs`]); a call is a capture group here, of the group it calls and the groups in it
/// (`(b*)(?:\g<1>|x,?){1,2}$` sets `$1` in each iteration that calls it).
fn loop_check(
    s: &[char],
    open: usize,
    close: usize,
    named: bool,
    refs: &Refs,
) -> Result<(), String> {
    let Some(body) = body_of(s, open, close) else {
        return Ok(());
    };
    if refs.may_be_empty(body) == Some(false) {
        return Ok(());
    }
    // (Not where the body is one capture group, `(?:(a?)){0,3}`: Onigmo reads that as the group
    // repeated, which `counted` writes out by its rules.)
    let counted = quantifiers(s, close, false)
        .iter()
        .any(|q| q.max.is_some_and(|m| m >= 2 && m > q.min))
        && !one_capture(body, named);
    // (Greedy, over a body whose items try text first, the loops end alike: `greedy_only`.
    // Lazy, it runs with Onigmo's test anyway.)
    let counted =
        counted && !(greedy_only(body) && quantifiers(s, close, false).iter().all(|q| !q.lazy));
    for (go, gc, empty) in refs.captures(body) {
        if !empty {
            continue;
        }
        if counted || may_consume(&after(body, gc)) || beside_alternatives(body, go) {
            return Err(refusal(&s[open..close]));
        }
    }
    Ok(())
}

/// Does `body` hold no alternation, no lazy repetition (`??`, `*?`, `{1,3}?`), no repeated
/// group and no reference? Then each of its items tries to match text before the empty string,
/// and once, so an iteration that matched the empty string had no other choice left there, and
/// one more (Onigmo's, after one that went on and used up a count) has none either: both loops
/// end alike there, with the same capture groups.
fn greedy_only(body: &[char]) -> bool {
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '|' => return false,
            ')' if !quantifiers(body, k + 1, false).is_empty() => return false,
            '\\' if matches!(body.get(k + 1), Some('k' | 'g' | '1'..='9')) => return false,
            // (A group's kind, `(?:`, `(?<n>`: not a repetition.)
            '(' if body.get(k + 1) == Some(&'?') => {
                k += 2;
                continue;
            }
            '(' => {
                k += 1;
                continue;
            }
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            _ => k += 1,
        }
        let qs = quantifiers(body, k.min(body.len()), false);
        if qs.iter().any(|q| q.lazy) {
            return false;
        }
        if let Some(q) = qs.last() {
            k = q.end;
        }
    }
    true
}

/// Is `body` one capture group, maybe inside non-capturing groups of it alone (`(a?)`,
/// `(?:(?<c>a?))`)?
fn one_capture(body: &[char], named: bool) -> bool {
    let mut body = body;
    while body.first() == Some(&'(') && group_close(body, 0) == body.len() {
        if body.starts_with(&['(', '?', ':']) {
            body = &body[3..body.len() - 1];
        } else {
            return capture_groups(body, named).first() == Some(&(0, body.len()));
        }
    }
    false
}

/// The items that follow the item ending at `body[from]` (past a group's `)`) up to the end of
/// `body`, level by level (the repetitions after it and after each group it is in skipped, the
/// other alternatives of each group it is in left out).
fn after(body: &[char], from: usize) -> Vec<char> {
    let mut out = Vec::new();
    let mut k = skip_repetitions(body, from);
    while k < body.len() {
        match body[k] {
            '\\' => {
                out.extend(body[k..(k + 2).min(body.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(body, k);
                out.extend(&body[k..e]);
                k = e;
            }
            '(' => {
                let e = group_close(body, k);
                out.extend(&body[k..e]);
                k = e;
            }
            // The end of a group the item is in: go on after it.
            ')' => k = skip_repetitions(body, k + 1),
            // Another alternative of a group the item is in: go on after that group.
            '|' => {
                let mut depth = 0usize;
                while k < body.len() {
                    match body[k] {
                        '\\' => k += 1,
                        '[' => k = bracket_end(body, k) - 1,
                        '(' => depth += 1,
                        ')' if depth == 0 => break,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Past the repetitions at `s[k]`.
fn skip_repetitions(s: &[char], k: usize) -> usize {
    quantifiers(s, k, false).last().map_or(k, |q| q.end)
}

/// May `s` (a sequence of items) match text?
fn may_consume(s: &[char]) -> bool {
    !only_empty(&strip_groups(s))
}

/// Is the item at `body[at]` in an alternation (of `body` or of a group of it around the item)
/// with an alternative that may match text?
fn beside_alternatives(body: &[char], at: usize) -> bool {
    // The groups around it, by their `(`, and `body` itself.
    let mut spans: Vec<(usize, usize)> = vec![(0, body.len())];
    let mut k = 0;
    while k < at {
        match body[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            '(' => {
                let e = group_close(body, k);
                if at < e {
                    if let Some(span) = body_range(body, k, e) {
                        spans.push(span);
                    }
                    k += 1;
                } else {
                    k = e;
                }
            }
            _ => k += 1,
        }
    }
    spans.iter().any(|&(from, to)| {
        let mut at_alt = from;
        super::counted::split_top(&body[from..to])
            .into_iter()
            .any(|alt| {
                let start = at_alt;
                at_alt += alt.len() + 1;
                let holds = (start..start + alt.len()).contains(&at);
                !holds && may_consume(alt)
            })
    })
}

/// The error for the loop `group`.
fn refusal(group: &[char]) -> String {
    let g: String = group.iter().collect();
    format!(
        "a capture group that may match the empty string in a group that may match the empty \
         string repeated a varying count ({g}…), beside items that may match text, inside \
         another repeated group or repeated up to a maximum, cannot be used: Ruby's engine \
         ends, goes on with (using up a count) or fails an empty iteration by the capture \
         groups' values from before it, which is followed here \
         only for a loop repeated from none or one without a maximum (*, +, {{0,}}, {{1,}}, lazy \
         or not) or lazily up to a maximum ({{0,3}}?, {{1,3}}?; not possessive, under x, in a look-around or another repeated group, with \
         look-arounds, references, conditionals or \\K in it, or with the capture group repeated \
         inside it); make the capture group match at least one character ((a+)? for (a*)), or \
         repeat the group with * or +"
    )
}

/// The body of the group `s[open..close]` (after `(`, `(?:`, `(?>`, `(?<name>`, an option
/// group's `:`); `None` for a look-around, an absent operator, a conditional or an option
/// without a group.
fn body_of(s: &[char], open: usize, close: usize) -> Option<&[char]> {
    body_range(s, open, close).map(|(from, to)| &s[from..to])
}

/// Where [`body_of`] is in `s`.
fn body_range(s: &[char], open: usize, close: usize) -> Option<(usize, usize)> {
    let g = &s[open..close];
    let from = if g.get(1) != Some(&'?') {
        1
    } else {
        match (g.get(2)?, g.get(3)) {
            (':' | '>', _) => 3,
            ('<', Some('=' | '!')) | ('=' | '!' | '~' | '#' | '(', _) => return None,
            ('<' | '\'', _) => {
                let quote = if g[2] == '<' { '>' } else { '\'' };
                g[3..].iter().position(|&c| c == quote)? + 4
            }
            _ => {
                let colon = g[2..]
                    .iter()
                    .position(|c| !matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))?
                    + 2;
                if g[colon] != ':' {
                    return None;
                }
                colon + 1
            }
        }
    };
    let end = close.checked_sub(open + 1)?;
    (g.get(end) == Some(&')')).then(|| (open + from.min(end), open + end))
}

/// The capture groups in `s` (spans from `(` to past `)`): in a pattern with named groups only
/// those.
fn capture_groups(s: &[char], named: bool) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' => {
                let capture = match (s.get(k + 1), s.get(k + 2), s.get(k + 3)) {
                    (Some('?'), Some('<'), Some(c)) => !matches!(c, '=' | '!'),
                    (Some('?'), Some('\''), _) => true,
                    (Some('?'), _, _) => false,
                    _ => !named,
                };
                if capture {
                    out.push((k, group_close(s, k)));
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    out
}

/// `s` with each capture group's and non-capturing group's body read for what it may match:
/// kept as it is (only for [`only_empty`], which reads non-capturing groups).
fn strip_groups(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                out.extend(s[k..(k + 2).min(s.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(s, k);
                out.extend(&s[k..e]);
                k = e;
            }
            // A capture group as a non-capturing one.
            '(' if s.get(k + 1) != Some(&'?') => {
                out.extend(['(', '?', ':']);
                k += 1;
            }
            '(' if s.get(k + 1) == Some(&'?')
                && matches!(s.get(k + 2), Some('<' | '\''))
                && !matches!(s.get(k + 3), Some('=' | '!')) =>
            {
                let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                let end = s[k + 3..]
                    .iter()
                    .position(|&c| c == quote)
                    .map_or(s.len(), |e| k + 3 + e + 1);
                out.extend(['(', '?', ':']);
                k = end;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Does `s` have named groups (`(?<n>`, `(?'n'`)? Then only those capture.
fn has_named(s: &[char]) -> bool {
    !capture_groups(s, true).is_empty()
}

/// `s` without the white space and `#` comments the `x` flag skips (outside brackets; an
/// escaped one is kept).
fn without_extended(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                out.extend(s[k..(k + 2).min(s.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(s, k);
                out.extend(&s[k..e]);
                k = e;
            }
            '#' => {
                k = s[k..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(s.len(), |e| k + e + 1)
            }
            c if c.is_ascii_whitespace() => k += 1,
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{check, instrument};

    #[test]
    fn loops_are_instrumented() {
        assert_eq!(
            instrument(r"(?:(a?)|b)*c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)|b)(*LFE{0}))*(?:(?!)\1)?c")
        );
        assert_eq!(
            instrument(r"(x)(?<n>(?:(?<m>a?)b?)*?)", "", false).as_deref(),
            Some(r"(x)(?<n>(?:(*LFS{0})(?:(?<m>a?)b?)(*LFE{0}))*?(?:(?!)\k<m>)?)")
        );
        assert_eq!(
            instrument(r"(?:(a?)b?){0,}(?:(b?)a?)*", "", false).as_deref(),
            Some(concat!(
                r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){0,}(?:(?!)\1)?",
                r"(?:(*LFS{1})(?:(b?)a?)(*LFE{1}))*(?:(?!)\2)?"
            ))
        );
        // Repeated from one (the first iteration tested or not: the groups hold no value before
        // it), lazy or not.
        assert_eq!(
            instrument(r"^(?:(\w*)\s*)+", "", false).as_deref(),
            Some(r"^(?:(*LFS{0})(?:(\w*)\s*)(*LFE{0}))+(?:(?!)\1)?")
        );
        assert_eq!(
            instrument(r"(?:(a?)b?){1,}?c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){1,}?(?:(?!)\1)?c")
        );
        // Lazy up to a maximum: Onigmo's counted loop tests every iteration.
        assert_eq!(
            instrument(r"(?:(a?)b?){0,3}?c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){0,3}?(?:(?!)\1)?c")
        );
        assert_eq!(instrument(r"(?:x(?:(a?)b?){1,3}?)*c", "", false), None);
        // A loop that is a capture group: the callouts around it, its group tested too.
        assert_eq!(
            instrument(r"((a?)b?)*((b?)a?)+c", "", false).as_deref(),
            Some(concat!(
                r"(?:(*LFS{0})((a?)b?)(*LFE{0}))*(?:(?!)\1\2)?",
                r"(?:(*LFS{1})((b?)a?)(*LFE{1}))+(?:(?!)\3\4)?c"
            ))
        );
        for kept in [
            r"(?:(a?)b?){2,}",
            r"(?:(a?)b?)++c",
            r"(?:(?:(a?)b?)+)*c",
            r"(?:(a?)b?){1,3}",
            r"(?:(a?)b?)*+c",
            r"(?=(?:(a?)b?)*)c",
            r"(?:(a?)(?=b)?b?)*c",
            r"(?:(a?)\1b?)*c",
            r"(?:(a?)?b?)*c",
            r"(?:(?:(a?)b?)*c?)*",
            r"(?:[ab](a*){1,3}){2,5}",
            r"(?<n>a)(?:(?<n>a?)b?)*c",
            r"(?:(a?)b?)*\g<1>",
            r"(?:(?>(a))|(a?)b?)*c",
        ] {
            assert_eq!(instrument(kept, "", false), None, "{kept}");
        }
        assert_eq!(instrument(r"(?:(a?)b?)*c", "x", false), None);
        assert!(instrument(r"(?:(a?)b?)*c", "", true).is_some());
        // Lazy up to a maximum, nothing after the group: run with the test; greedy, refused.
        assert!(instrument(r"a(?:[ab]*?,?(b??)){0,3}?$", "", false).is_some());
        assert!(instrument(r"a(?:[ab]*?,?(b??)){0,3}$", "", false).is_none());
        // An anchor alternative, which for_oniguruma makes atomic.
        assert!(instrument(r"(?:(?>(?:\b))|a()[ab]*?){0,}", "", false).is_some());
    }

    #[test]
    fn stale_empty_captures_are_refused() {
        for refused in [
            r"^(?:(?<c>b??)a*?,?){1,3}",
            r"^(?:(b??)a*?,?)*",
            r"(?:(a?)b?)*c",
            r"(?:(a?)|b)*c",
            r"^(?:(\w*)\s*)+",
            r"(?:(?:(a?))b?){0,3}",
            r"(?:[ab](a*){1,3}){2,5}",
            r"(?x) (?: (a?) b? )* c",
            r"(?:(?:(a?)b?)c?)*",
            r"^(?:(\W*){2}\D?){0,2}?\z",
            r"(?:(?:(a?)|b)c?)*",
            // Up to a maximum, whatever follows the group: an empty iteration that goes on
            // uses up a count.
            r"a(?:[ab]*?(?:,?)(?:(b??))){0,3}$",
            r"a(?:[ab]*?,?(b??)){0,3}?$",
            r"(?:(-?)*){1,3}x",
            r"(?:\b|\d*(a*?)){0,2}c",
        ] {
            assert!(check(refused, "").is_err(), "{refused}");
        }
        for kept in [
            r"(a?)*",
            r"(?:(a?))*",
            r"(?:(a?)(?=b))*",
            r"(?:(a+)b?)*c",
            r"(?:(a?)b)*c",
            r"(?:(\w+)\s*)*",
            r"^(?:(\w*)\s*){3}",
            r"(?:(a?)b?)?",
            r"(?:(a?)b?){1}",
            r"(?<n>x)(?:(a?)b?)*",
            r"(?:(?#(a?)b?)c)*",
            r"[(a?)b?]*",
            r"\(a?\)b?*",
            r"(?:[ab](a*){1,3})",
            // Nothing after the group in the iteration: its empty string is where the next
            // iteration starts.
            r"(?:\d*\h?(a{0,2}))*(.)",
            r"(?:(\S?)?)+$",
            // A body of one capture group is the group repeated (see `counted`).
            r"(?:(a?)){0,3}c",
            r"(?:(?:(?<n>a??))){1,3}$",
            // Greedy over greedy items without alternations or repeated groups: alike.
            r"(?:b?(,?)){0,5}b$",
            r"(?:\d*(a{0,2})){0,3}x",
        ] {
            assert!(check(kept, "").is_ok(), "{kept}");
        }
        for prefix in ["(", "((?:", "(?<", "(a?)b?)*", "(?:(a?)b?)*{", "(?'n"] {
            let _ = check(prefix, "");
            let _ = check(prefix, "x");
        }
    }

    #[test]
    fn references_and_calls_are_read_by_their_groups() {
        // The group a call or reference names cannot match the empty string: neither can it.
        for kept in [
            r"(x)(?:a|(\g<1>))+",
            r"(x)(?:a|(\1))+",
            r"(x)(?:a|(\k<1>))*c",
            r"(\{(?:[^\{\}]|(\g<0>))+\})",
            r"(?<p>\((?:[^()]|(?<q>\g<p>))*\))",
            r"(?<n>[ab])(?:x|(?<w>\k<n>|b))+",
            r"([ab])(?:x|(\g<-1>b?))*$",
            r"(?:x|(\g<+1>))*(ab?)",
            r"(?:x|(\g'2'))*(ab?)",
            r"(x)(y)(?:a|(\12))*",
            r"(?x) (x) (?: a | ( \g<1> ) )+",
            // Groups calling themselves or each other, each only with text.
            r"(a|b\g<1>)(?:x|(\g<1>))+c",
            r"(a\g<2>?)(b\g<1>?)(?:x|(\g<1>))+",
            // A body that cannot match the empty string has no empty iteration.
            r"((a?)x)(?:b|\g<1>)*c",
        ] {
            assert!(check(kept, "").is_ok(), "{kept}");
        }
        for refused in [
            // The group may be empty.
            r"(a?)(?:x|(\g<1>))+c",
            r"(a?)(?:x|(\1))+c",
            r"(?<n>b*)(?:x|(?<w>\k<n>))+c",
            r"(b*)(?:x|(\g<-2>))+c",
            // A call captures the group it calls, and the groups in it.
            r"(b*)(?:(?:\g<-1>)|x,?){1,2}$",
            r"(?<n>a?)(?:\b|(\g<n>a?)|x)+a",
            r"((a?)x)(?:b*|\g<1>)*c",
            // A group calling itself with no way out but the empty string.
            r"(a|b\g<1>|)(?:x|(\g<1>))+c",
            // Not read here: a level, a number past the groups, a conditional.
            r"(x)(?:a|(\k<1+0>))+",
            r"(x)(?:a|((?(1)x|)))+",
        ] {
            assert!(check(refused, "").is_err(), "{refused}");
        }
    }
}
