//! `rewrite_tag_filter` output (fluent-plugin-rewrite-tag-filter 2.4): re-emits each record under a
//! tag computed from the first `<rule>` whose pattern matches one of its fields.
//!
//! Per record, rules are tried in order: the field (`key`, a record accessor) is read as Ruby's
//! `to_s` (missing → `""`, maps and arrays as their `inspect` text); an empty value skips a rule
//! unless it is `invert`; a normal rule fires on an unanchored match, an `invert` rule on no
//! match. The new tag is the rule's `tag` with `$1`… replaced by the captures (normal rules only;
//! a non-participating or missing group is `""`; `capitalize_regex_backreference` capitalizes
//! them as Ruby's `capitalize`, and a group that did not take part is then Ruby's NoMethodError:
//! the event goes to `@ERROR`), then the placeholders `${tag}`/`__TAG__`, `${tag_parts[N]}`, `${hostname}`/
//! `__HOSTNAME__` replaced (the tag first loses `remove_tag_prefix` or `remove_tag_regexp`; an
//! unknown placeholder or an out-of-range part becomes `""`; `__TAG_PARTS[N]__` is left as is,
//! as in the plugin). No rule fires, or the new tag equals the old one without a `label`: the
//! record is dropped. Records go to the rule's `label` (looked up when they are emitted: a label
//! that does not exist sends them to `@ERROR`), else to the router where this output is declared; `emit_mode batch` (default) sends one batch per (label, tag) in first-seen order,
//! `record` sends each record on its own. `hostname_command` is run once at start-up as Ruby's
//! backticks run it (its output whatever its exit status; only a program that cannot start is an
//! error); without it the system host name is used, as the plugin's default `hostname` command
//! prints it.
//!
//! Records are not decoded: only the rule keys are read from the raw msgpack, and a group whose
//! records are contiguous in the incoming batch is re-emitted as a zero-copy slice of it.

use crate::net::bytemap::{binary_value_match_text, unmapped_bytes};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::{many, p, Body, ParamType::*, Spec};
use logferry_core::{
    BuildCtx, BuildError, EmitError, Emitter, ErrorEvents, EventBatch, Output, PluginLog, Section,
};
use logferry_formats::accessor::Accessor;
use logferry_formats::ruby::Locations as CaptureLocations;
use logferry_formats::ruby::{self, RubyRegex};

/// Bytes of an entry header in a normalized batch (array marker + fixext8 time).
const ENTRY_HEADER: usize = 11;

/// One segment of a rule's tag before placeholder expansion.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Lit(String),
    /// `$N`: the N-th Ruby capture (`None`: a key like `$0` or `$01` that never exists → `""`).
    Backref(Option<usize>),
}

struct Rule {
    key: Accessor,
    pattern: RubyRegex,
    /// Group indices of Ruby's `$1`, `$2` …
    groups: Vec<usize>,
    invert: bool,
    /// The tag as written (used as is when there is no back-reference to substitute).
    tag: String,
    segs: Vec<Seg>,
    has_backrefs: bool,
    /// Index into the emitters (0 = the plugin's own router).
    target: usize,
}

/// One group of re-emitted events.
pub struct Routed {
    /// Index of the router the events go to (0 = where the plugin is declared, else a rule label).
    pub target: usize,
    /// The new tag.
    pub tag: String,
    /// The events, in their original order.
    pub batch: EventBatch,
}

/// The rewrite_tag_filter output.
pub struct RewriteTagFilter {
    rules: Vec<Rule>,
    emitters: Vec<Emitter>,
    remove_tag: Option<RubyRegex>,
    hostname: String,
    capitalize: bool,
    batch_mode: bool,
    log: PluginLog,
    warned_unknown: AtomicBool,
}

/// `<rule>`: a field, a pattern and the new tag.
static RULE: Spec = Spec::new("rewrite_tag_filter.rule", "A rewrite rule.").params(&[
    p("key", Str, "The field (a record accessor).").required(),
    p(
        "pattern",
        Regexp,
        "The Ruby regexp the field's value is matched against.",
    )
    .required(),
    p(
        "tag",
        Str,
        "The new tag ($1…, ${tag}, ${tag_parts[N]}, __HOSTNAME__ placeholders).",
    )
    .required(),
    p(
        "invert",
        Bool,
        "The rule applies when the pattern does not match.",
    )
    .default("false"),
    p("label", Str, "Emit the rewritten event into this label."),
]);

/// `rewrite_tag_filter` output (fluent-plugin-rewrite-tag-filter).
pub static PARAMS: Spec = Spec::new(
    "rewrite_tag_filter",
    "Re-emits each event with a tag from the first `<rule>` that applies.",
)
.params(&[
    p(
        "capitalize_regex_backreference",
        Bool,
        "Capitalize $1… in new tags.",
    )
    .default("false"),
    p(
        "emit_mode",
        Enum(&["record", "batch"]),
        "Re-emit event by event or in batches.",
    )
    .default("batch"),
    p(
        "remove_tag_prefix",
        Str,
        "Remove this prefix from the tag before rewriting.",
    ),
    p(
        "remove_tag_regexp",
        Regexp,
        "Remove what this regexp matches from the tag before rewriting.",
    ),
    p(
        "hostname_command",
        Str,
        "Command whose output is ${hostname}.",
    )
    .computed("this host's name"),
])
.sections(&[many(
    "rule",
    Body::Spec(&RULE),
    "A rule; the first that applies wins.",
)]);

/// Build from `<match>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    Ok(Arc::new(RewriteTagFilter::new(
        s,
        &ctx.emitter,
        ctx.log.clone(),
    )?))
}

fn split_tag_segments(tag: &str) -> Vec<Seg> {
    let mut segs = Vec::new();
    let mut lit = String::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let digits = &tag[i + 1..j];
            let n = if digits.starts_with('0') {
                None
            } else {
                digits.parse::<usize>().ok()
            };
            if !lit.is_empty() {
                segs.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            segs.push(Seg::Backref(n));
            i = j;
        } else {
            let ch_len = tag[i..].chars().next().map_or(1, char::len_utf8);
            lit.push_str(&tag[i..i + ch_len]);
            i += ch_len;
        }
    }
    if !lit.is_empty() {
        segs.push(Seg::Lit(lit));
    }
    segs
}

/// The plugin's range check: it refuses a tag only when it holds both a `${tag_parts[N..M]}` and
/// a `__TAG_PARTS[N..M]__` (one digit each side, `..` or `...`); either alone is accepted, and
/// stays as written (neither is a placeholder).
fn has_range_placeholder(tag: &str) -> bool {
    fn has(tag: &str, open: &str, close: &str) -> bool {
        tag.match_indices(open).any(|(i, _)| {
            let b = &tag.as_bytes()[i + open.len()..];
            let dots = match b {
                [d, b'.', b'.', b'.', ..] if d.is_ascii_digit() => 3,
                [d, b'.', b'.', ..] if d.is_ascii_digit() => 2,
                _ => return false,
            };
            b.get(1 + dots).is_some_and(u8::is_ascii_digit)
                && b[2 + dots..].starts_with(close.as_bytes())
        })
    }
    has(tag, "${tag_parts[", "]}") && has(tag, "__TAG_PARTS[", "]__")
}

/// Ruby's `Regexp#to_s` of a pattern Fluentd's regexp type compiled (`(?mi-x:body)`).
fn regexp_to_s(body: &str, flags: &str) -> String {
    let (mut on, mut off) = (String::new(), String::new());
    for f in ['m', 'i', 'x'] {
        if flags.contains(f) {
            on.push(f);
        } else {
            off.push(f);
        }
    }
    if off.is_empty() {
        format!("(?{on}:{body})")
    } else {
        format!("(?{on}-{off}:{body})")
    }
}

/// Does Ruby run this command string through `/bin/sh -c` (process.c's `rb_exec_fillarg`)? It
/// does when the string holds a shell meta character, an `=` in its first word, or its first
/// word is a shell reserved word or special built-in; otherwise it splits the string at spaces
/// and tabs and runs the program itself.
fn needs_shell(cmd: &str) -> bool {
    const POSIX_SH_CMDS: [&str; 29] = [
        "!", ".", ":", "break", "case", "continue", "do", "done", "elif", "else", "esac", "eval",
        "exec", "exit", "export", "fi", "for", "if", "in", "readonly", "return", "set", "shift",
        "then", "times", "trap", "unset", "until", "while",
    ];
    if cmd
        .bytes()
        .any(|b| b"*?{}[]<>()~&|\\$;'`\"\n#".contains(&b))
    {
        return true;
    }
    let first = cmd.split([' ', '\t']).find(|w| !w.is_empty()).unwrap_or("");
    first.contains('=') || (!first.contains('/') && POSIX_SH_CMDS.contains(&first))
}

/// `hostname_command` as the plugin runs it, with Ruby's backticks: its standard output less one
/// trailing newline (`chomp`), whatever its exit status (`false` gives `""`); standard error goes
/// to logferry's. Only a program that cannot be started (run without a shell: not found, not
/// executable) is an error, as Ruby's `Errno::ENOENT` fails Fluentd's start.
fn run_hostname_command(cmd: &str) -> Result<String, String> {
    let mut c = if needs_shell(cmd) {
        let mut c = std::process::Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        c
    } else {
        let mut words = cmd.split([' ', '\t']).filter(|w| !w.is_empty());
        let mut c = std::process::Command::new(words.next().unwrap_or(""));
        c.args(words);
        c
    };
    let out = c
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("hostname_command '{cmd}' could not run: {e}"))?;
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    // Ruby's chomp: one trailing "\n", "\r\n" or "\r".
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    } else if s.ends_with('\r') {
        s.pop();
    }
    Ok(s)
}

impl RewriteTagFilter {
    /// Configure from the section; `emitter` is the router where the output is declared (a rule
    /// `label` is looked up when events are emitted into it, as the plugin does).
    pub fn new(s: &Section, emitter: &Emitter, log: PluginLog) -> Result<Self, BuildError> {
        let s = &s.declared(&PARAMS);
        if let Some(p) = s
            .element()
            .params
            .iter()
            .find(|p| p.key.starts_with("rewriterule"))
        {
            return Err(build_error(
                &p.pos,
                "\"rewriterule<num>\" support has been dropped. Use <rule> section instead.",
            ));
        }
        let capitalize = s.get("capitalize_regex_backreference")?;
        let batch_mode = s.get::<&str>("emit_mode")? == "batch";
        let prefix = s.str("remove_tag_prefix");
        let tag_regexp = s.param("remove_tag_regexp");
        let remove_tag = match (prefix, tag_regexp) {
            (Some(_), Some(p)) => {
                return Err(build_error(
                    &p.pos,
                    "remove_tag_prefix and remove_tag_regexp are exclusive",
                ))
            }
            (Some(pre), None) => Some(
                ruby::compile(&format!("^{}\\.?", regex::escape(pre)), "")
                    .map_err(|e| build_error(s.pos(), e))?,
            ),
            (None, Some(p)) => Some(ruby::regexp(&p.value).map_err(|e| build_error(&p.pos, e))?),
            (None, None) => None,
        };
        let hostname = match s.param("hostname_command") {
            Some(p) => run_hostname_command(&p.value).map_err(|e| build_error(&p.pos, e))?,
            None => hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };

        let mut emitters = vec![emitter.clone()];
        let mut label_names: Vec<String> = Vec::new();
        let mut rules = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for r in s.sections("rule") {
            let key_p: &str = r.get("key")?;
            let key = Accessor::new(key_p)
                .map_err(|e| build_error(r.param("key").map_or(r.pos(), |p| &p.pos), e))?;
            let pat_p = r
                .param("pattern")
                .ok_or_else(|| build_error(r.pos(), "'pattern' parameter is required in <rule>"))?;
            let pattern = ruby::regexp(&pat_p.value).map_err(|e| build_error(&pat_p.pos, e))?;
            let tag: String = r.get("tag")?;
            if has_range_placeholder(&tag) {
                return Err(build_error(
                    r.param("tag").map_or(r.pos(), |p| &p.pos),
                    "${tag_parts[n]} and __TAG_PARTS[n]__ placeholder does not support range specify",
                ));
            }
            let invert = r.get("invert")?;
            // The plugin looks a rule's label up when it emits into it: a label that does not
            // exist is not a start-up error but sends those events to @ERROR (see `emit`).
            let target = match r.param("label") {
                Some(p) if !p.value.is_empty() => {
                    match label_names.iter().position(|l| *l == p.value) {
                        Some(i) => i + 1,
                        None => {
                            label_names.push(p.value.clone());
                            emitters.push(emitter.for_label(Some(&p.value)));
                            emitters.len() - 1
                        }
                    }
                }
                _ => 0,
            };
            // The plugin's identity of a rule: `key + ("!" when invert) + pattern.to_s`, so a key
            // ending in `!` can collide with an inverted rule of the key without it.
            let (body, flags) = logferry_config::types::regexp(&pat_p.value);
            let ident = format!(
                "{key_p}{}{}",
                if invert { "!" } else { "" },
                regexp_to_s(&body, &flags)
            );
            if seen.contains(&ident) {
                return Err(build_error(
                    r.pos(),
                    format!(
                        "duplicated rewriterules found: key {key_p}, pattern {}",
                        pat_p.value
                    ),
                ));
            }
            seen.push(ident);
            let segs = split_tag_segments(&tag);
            let groups = ruby::capture_groups(&pattern);
            // With capitalize_regex_backreference the plugin capitalizes every capture, used or
            // not, so the captures are read whenever there are groups.
            let has_backrefs = !invert
                && (segs.iter().any(|s| matches!(s, Seg::Backref(_)))
                    || (capitalize && !groups.is_empty()));
            log.info(format_args!(
                "adding rewrite_tag_filter rule: key {key_p} pattern {}{} tag {tag}{}",
                pat_p.value,
                if invert { " (invert)" } else { "" },
                r.param("label")
                    .map(|p| format!(" label {}", p.value))
                    .unwrap_or_default()
            ));
            rules.push(Rule {
                groups,
                key,
                pattern,
                invert,
                tag,
                segs,
                has_backrefs,
                target,
            });
        }
        if rules.is_empty() {
            return Err(build_error(
                s.pos(),
                "missing rewriterules: rewrite_tag_filter needs at least one <rule>",
            ));
        }
        Ok(RewriteTagFilter {
            rules,
            emitters,
            remove_tag,
            hostname,
            capitalize,
            batch_mode,
            log,
            warned_unknown: AtomicBool::new(false),
        })
    }

    /// Compute where every event of a batch goes (the whole work of the plugin except sending).
    /// Events whose rule key cannot be read (Fluentd's `dig` raising on a path into a value that
    /// is not a container) go to `errors`, for `@ERROR`.
    pub fn route(&self, tag: &str, batch: &EventBatch, errors: &mut ErrorEvents) -> Vec<Routed> {
        let ph_tag = match &self.remove_tag {
            Some(re) => re.remove_first(tag),
            None => std::borrow::Cow::Borrowed(tag),
        };
        let ph = Placeholders::new(&ph_tag, &self.hostname);
        let mut locs: Vec<Option<CaptureLocations>> = self
            .rules
            .iter()
            .map(|r| r.has_backrefs.then(|| r.pattern.capture_locations()))
            .collect();
        let mut scratch = String::new();
        let mut step1 = String::new();
        let mut new_tag = String::new();
        let base = batch.bytes().as_ptr() as usize;
        let mut groups: Vec<Group> = Vec::new();
        let mut last = 0usize;
        let mut out = Vec::new();
        for e in batch {
            new_tag.clear();
            let target = match self.rewrite_one(
                e.record,
                &ph,
                &mut locs,
                &mut scratch,
                &mut step1,
                &mut new_tag,
            ) {
                Ok(Some(t)) => t,
                Ok(None) => continue,
                Err(why) => {
                    errors.push(e.time, e.record, why);
                    continue;
                }
            };
            if target == 0 && new_tag == tag {
                continue;
            }
            let start = (e.record.as_ptr() as usize).saturating_sub(base + ENTRY_HEADER);
            let span = start..start + ENTRY_HEADER + e.record.len();
            if !self.batch_mode {
                out.push(Routed {
                    target,
                    tag: new_tag.clone(),
                    batch: EventBatch::from_indexed(
                        batch.bytes().slice(span.clone()),
                        vec![span.len() as u32],
                    ),
                });
                continue;
            }
            let idx = if groups
                .get(last)
                .is_some_and(|g| g.target == target && g.tag == new_tag)
            {
                last
            } else if let Some(i) = groups
                .iter()
                .position(|g| g.target == target && g.tag == new_tag)
            {
                i
            } else {
                groups.push(Group {
                    target,
                    tag: new_tag.clone(),
                    spans: Vec::new(),
                    ends: Vec::new(),
                    len: 0,
                });
                groups.len() - 1
            };
            last = idx;
            groups[idx].add(span);
        }
        if !self.batch_mode {
            return out;
        }
        // Fluentd's nested hash: labels in first-seen order, tags in first-seen order within each.
        let mut order: Vec<usize> = Vec::new();
        for g in &groups {
            if !order.contains(&g.target) {
                order.push(g.target);
            }
        }
        let whole = batch.bytes();
        for t in order {
            for g in groups.iter_mut().filter(|g| g.target == t) {
                let ends = std::mem::take(&mut g.ends);
                let b = if g.spans.len() == 1 {
                    EventBatch::from_indexed(whole.slice(g.spans[0].clone()), ends)
                } else {
                    let mut v = Vec::with_capacity(g.len);
                    for r in &g.spans {
                        v.extend_from_slice(&whole[r.clone()]);
                    }
                    EventBatch::from_indexed(v, ends)
                };
                out.push(Routed {
                    target: t,
                    tag: std::mem::take(&mut g.tag),
                    batch: b,
                });
            }
        }
        out
    }

    /// Apply the rules to one record; on a firing rule, write the new tag and return its target.
    /// Err: a rule's key path steps into a value that is not a container (Ruby's `dig` raises).
    fn rewrite_one(
        &self,
        record: &[u8],
        ph: &Placeholders,
        locs: &mut [Option<CaptureLocations>],
        scratch: &mut String,
        step1: &mut String,
        new_tag: &mut String,
    ) -> Result<Option<usize>, String> {
        for (rule, loc) in self.rules.iter().zip(locs.iter_mut()) {
            // A binary string with bytes past ASCII is matched by its bytes, as Ruby matches
            // one; a capture goes into the tag as its bytes.
            let raw = rule.key.dig_raw(record)?;
            let binary = binary_value_match_text(raw, &rule.pattern)?;
            let value = match &binary {
                Some(text) => text.as_str(),
                None => ruby::raw_to_s(raw, scratch),
            };
            if value.is_empty() && !rule.invert {
                continue;
            }
            let template: &str = if rule.invert {
                if rule.pattern.is_match(value) {
                    continue;
                }
                &rule.tag
            } else if let Some(loc) = loc {
                if rule.pattern.captures_read(loc, value).is_none() {
                    continue;
                }
                // `nil.capitalize` raises (NoMethodError): the event goes to @ERROR.
                if self.capitalize && rule.groups.iter().any(|&g| loc.get(g).is_none()) {
                    return Err("undefined method `capitalize' for nil:NilClass (a group of the rule's pattern did not take part in the match; capitalize_regex_backreference)".into());
                }
                step1.clear();
                for seg in &rule.segs {
                    match seg {
                        Seg::Lit(s) => step1.push_str(s),
                        Seg::Backref(Some(n)) => {
                            let cap = rule
                                .groups
                                .get(n - 1)
                                .and_then(|&g| loc.get(g))
                                .map(|(a, b)| &value[a..b]);
                            let unmapped;
                            let cap = match cap {
                                Some(c) if binary.is_some() => {
                                    unmapped =
                                        String::from_utf8_lossy(&unmapped_bytes(c)).into_owned();
                                    Some(unmapped.as_str())
                                }
                                other => other,
                            };
                            if let Some(c) = cap {
                                if self.capitalize {
                                    logferry_formats::ruby::capitalize_into(c, step1);
                                } else {
                                    step1.push_str(c);
                                }
                            }
                        }
                        Seg::Backref(None) => {}
                    }
                }
                step1.as_str()
            } else {
                if !rule.pattern.is_match(value) {
                    continue;
                }
                &rule.tag
            };
            if !ph.expand(template, new_tag) && !self.warned_unknown.swap(true, Ordering::Relaxed) {
                self.log.warn(format_args!(
                    "rewrite_tag_filter: unknown placeholder found in '{template}' for tag '{}'; it becomes \"\" (warned once)",
                    ph.tag
                ));
            }
            return Ok(Some(rule.target));
        }
        Ok(None)
    }

    /// Number of routers this plugin may emit into (its own plus one per distinct rule label).
    pub fn target_count(&self) -> usize {
        self.emitters.len()
    }
}

struct Group {
    target: usize,
    tag: String,
    spans: Vec<Range<usize>>,
    /// The end offset of each entry in the group's concatenated bytes (so the batch it becomes
    /// needs no re-scan).
    ends: Vec<u32>,
    len: usize,
}

impl Group {
    fn add(&mut self, span: Range<usize>) {
        self.len += span.len();
        self.ends.push(u32::try_from(self.len).unwrap_or(u32::MAX));
        if let Some(last) = self.spans.last_mut() {
            if last.end == span.start {
                last.end = span.end;
                return;
            }
        }
        self.spans.push(span);
    }
}

/// The placeholder values of one incoming tag.
struct Placeholders<'a> {
    tag: &'a str,
    parts: Vec<&'a str>,
    hostname: &'a str,
}

impl<'a> Placeholders<'a> {
    fn new(tag: &'a str, hostname: &'a str) -> Self {
        // Ruby's split('.') drops trailing empty fields.
        let mut parts: Vec<&str> = tag.split('.').collect();
        while parts.last() == Some(&"") {
            parts.pop();
        }
        Placeholders {
            tag,
            parts,
            hostname,
        }
    }

    fn lookup(&self, ph: &str) -> Option<&'a str> {
        match ph {
            "${tag}" | "__TAG__" => Some(self.tag),
            "${hostname}" | "__HOSTNAME__" => Some(self.hostname),
            _ => {
                let n = ph.strip_prefix("${tag_parts[")?.strip_suffix("]}")?;
                if n.len() > 1 && n.starts_with('0') {
                    return None;
                }
                self.parts.get(n.parse::<usize>().ok()?).copied()
            }
        }
    }

    /// Replace every `${[a-z_]+([0-9]+)?}` and `__[A-Z_]+__` as the plugin's gsub does; returns
    /// false when an unknown placeholder was replaced by `""`.
    fn expand(&self, input: &str, out: &mut String) -> bool {
        // One pass over the (short) bytes: cheaper than two substring searches.
        let b = input.as_bytes();
        if !b
            .windows(2)
            .any(|w| matches!(w, [b'$', b'{'] | [b'_', b'_']))
        {
            out.push_str(input);
            return true;
        }
        let mut all_known = true;
        let mut i = 0;
        let mut lit_start = 0;
        while i < b.len() {
            if let Some(len) = placeholder_at(b, i) {
                out.push_str(&input[lit_start..i]);
                match self.lookup(&input[i..i + len]) {
                    Some(v) => out.push_str(v),
                    None => all_known = false,
                }
                i += len;
                lit_start = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&input[lit_start..]);
        all_known
    }
}

/// Length of a match of `\${[a-z_]+(\[[0-9]+\])?}|__[A-Z_]+__` at `i`, if any.
fn placeholder_at(b: &[u8], i: usize) -> Option<usize> {
    if b[i..].starts_with(b"${") {
        let mut j = i + 2;
        while j < b.len() && (b[j].is_ascii_lowercase() || b[j] == b'_') {
            j += 1;
        }
        if j > i + 2 {
            let mut k = j;
            if b.get(k) == Some(&b'[') {
                let mut d = k + 1;
                while d < b.len() && b[d].is_ascii_digit() {
                    d += 1;
                }
                if d > k + 1 && b.get(d) == Some(&b']') {
                    k = d + 1;
                }
            }
            if b.get(k) == Some(&b'}') {
                return Some(k + 1 - i);
            }
            if b.get(j) == Some(&b'}') {
                return Some(j + 1 - i);
            }
        }
        return None;
    }
    if b[i..].starts_with(b"__") {
        let start = i + 2;
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_uppercase() || b[end] == b'_') {
            end += 1;
        }
        // Greedy [A-Z_]+ backtracks to the last "__" leaving at least one character before it.
        let run = &b[start..end];
        if run.len() >= 3 {
            for j in (1..=run.len() - 2).rev() {
                if &run[j..j + 2] == b"__" {
                    return Some(2 + j + 2);
                }
            }
        }
    }
    None
}

/// How many re-emissions may nest in one another: a rule whose new tag matches this output again
/// (`tag app.${tag}` under `<match app.**>`) would otherwise recurse until the stack overflows.
/// Fluentd's input thread dies on that loop ("stack level too deep"), dropping the connection
/// without an ack; logferry refuses the events the same way (the emit fails, the client is not
/// acked and may resend) and stays up.
pub const MAX_REEMIT_DEPTH: usize = 16;

thread_local! {
    static REEMIT_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Polls a re-emission with the nesting depth counted (nested emits run inside this poll).
struct Nested<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future<Output = Result<(), EmitError>>> std::future::Future for Nested<F> {
    type Output = Result<(), EmitError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let depth = REEMIT_DEPTH.with(|d| d.get());
        if depth >= MAX_REEMIT_DEPTH {
            return std::task::Poll::Ready(Err(EmitError::Failed(format!(
                "rewrite_tag_filter: more than {MAX_REEMIT_DEPTH} nested re-emissions: a rule's new tag is matched by a rewrite_tag_filter again (a loop?)"
            ))));
        }
        REEMIT_DEPTH.with(|d| d.set(depth + 1));
        let r = self.0.as_mut().poll(cx);
        REEMIT_DEPTH.with(|d| d.set(depth));
        r
    }
}

#[async_trait]
impl Output for RewriteTagFilter {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let mut errors = ErrorEvents::default();
        let routes = self.route(tag, &batch, &mut errors);
        if !errors.is_empty() {
            let (events, reasons) = errors.take();
            self.emitters[0]
                .emit_error_events(tag, events, &reasons)
                .await;
        }
        Nested(Box::pin(async move {
            for r in routes {
                let to = &self.emitters[r.target];
                if !to.label_exists() {
                    // Fluentd's `find_label` raises ArgumentError: the events go to @ERROR
                    // under the tag they came with.
                    let why = format!("{} label not found", to.label().unwrap_or(""));
                    let reasons = vec![why; r.batch.len()];
                    self.emitters[0]
                        .emit_error_events(tag, r.batch, &reasons)
                        .await;
                    continue;
                }
                to.emit(&r.tag, r.batch).await?;
            }
            Ok(())
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_core::router::{Agent, Router, Rule as RouterRule, RuleKind, ROOT_LABEL};
    use logferry_core::tag::MatchPattern;
    use logferry_core::{BatchBuilder, EventTime, Value};
    use std::path::Path;
    use std::sync::Mutex;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn rec(pairs: &[(&str, Value)]) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Map(pairs.iter().map(|(k, v)| (s(k), v.clone())).collect()).encode(&mut out);
        out
    }

    fn batch(records: &[Vec<u8>]) -> EventBatch {
        let mut b = BatchBuilder::new();
        for (i, r) in records.iter().enumerate() {
            b.push_raw(EventTime::new(1_700_000_000 + i as u32, 0), r);
        }
        b.finish()
    }

    fn plugin(body: &str) -> Result<RewriteTagFilter, BuildError> {
        let text = format!("<match **>\n@type rewrite_tag_filter\n{body}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "rewrite_tag_filter");
        let p = RewriteTagFilter::new(&s, &Emitter::unbound(), PluginLog::new("t", None))?;
        let unused = s.warn_unused();
        assert!(unused.is_empty(), "{unused:?}");
        Ok(p)
    }

    fn rule(key: &str, pattern: &str, tag: &str, extra: &str) -> String {
        format!("<rule>\nkey {key}\npattern {pattern}\ntag {tag}\n{extra}</rule>\n")
    }

    /// The new tag of one record, or None when it is dropped.
    fn one(p: &RewriteTagFilter, tag: &str, record: &[(&str, Value)]) -> Option<String> {
        let out = p.route(tag, &batch(&[rec(record)]), &mut ErrorEvents::default());
        assert!(out.len() <= 1);
        out.into_iter().next().map(|r| r.tag)
    }

    // §7.7 case 75
    #[test]
    fn case_75_backref_and_tag() {
        let p = plugin(&rule("status", "/^(\\d)\\d\\d$/", "http.$1xx.${tag}", "")).unwrap();
        assert_eq!(
            one(&p, "app.web", &[("status", Value::Int(500))]).as_deref(),
            Some("http.5xx.app.web")
        );
        assert_eq!(one(&p, "app.web", &[("status", s("abc"))]), None);
    }

    // §7.7 case 76
    #[test]
    fn case_76_invert_on_missing_field() {
        let p = plugin(&rule(
            "status",
            "/^200$/",
            "error.${tag_parts[1]}",
            "invert true\n",
        ))
        .unwrap();
        assert_eq!(one(&p, "app.web", &[]).as_deref(), Some("error.web"));
        assert_eq!(one(&p, "app.web", &[("status", Value::Int(200))]), None);
    }

    // §7.7 case 77
    #[test]
    fn case_77_empty_value_skips_rule() {
        let p = plugin(&rule("status", "/.*/", "any", "")).unwrap();
        assert_eq!(one(&p, "app", &[]), None);
        assert_eq!(one(&p, "app", &[("status", s(""))]), None);
        assert_eq!(one(&p, "app", &[("status", Value::Nil)]), None);
    }

    // §7.7 case 78
    #[test]
    fn case_78_missing_group_is_empty() {
        let p = plugin(&rule(
            "domain",
            "/^(www)\\.(example)\\.com$/",
            "site.$2.$1.$3",
            "",
        ))
        .unwrap();
        assert_eq!(
            one(&p, "t", &[("domain", s("www.example.com"))]).as_deref(),
            Some("site.example.www.")
        );
    }

    // §7.7 case 79
    #[test]
    fn case_79_dunder_tag() {
        let p = plugin(&rule(
            "domain",
            "/^(\\w+)\\.example\\.com$/",
            "$1.__TAG__",
            "",
        ))
        .unwrap();
        assert_eq!(
            one(&p, "raw.access", &[("domain", s("api.example.com"))]).as_deref(),
            Some("api.raw.access")
        );
    }

    // §7.7 case 80
    #[test]
    fn case_80_nested_key() {
        let p = plugin(&rule("$.k8s.ns", "/^(.+)$/", "ns.$1", "")).unwrap();
        let k8s = Value::Map(vec![(s("ns"), s("kube-system"))]);
        assert_eq!(
            one(&p, "t", &[("k8s", k8s)]).as_deref(),
            Some("ns.kube-system")
        );
    }

    // §7.7 case 81
    #[test]
    fn case_81_same_tag_dropped() {
        let p = plugin(&rule("a", "/^x$/", "${tag}", "")).unwrap();
        assert_eq!(one(&p, "app.x", &[("a", s("x"))]), None);
        let p = plugin(&rule("a", "/^(.*)$/", "$1", "")).unwrap();
        assert_eq!(one(&p, "app", &[("a", s("app"))]), None);
        assert_eq!(
            one(&p, "app", &[("a", s("other"))]).as_deref(),
            Some("other")
        );
    }

    // §7.7 case 82
    #[test]
    fn case_82_tag_parts_forms() {
        let p = plugin(&rule("a", "x", "__TAG_PARTS[0]__.y", "")).unwrap();
        assert_eq!(
            one(&p, "p.q", &[("a", s("x"))]).as_deref(),
            Some("__TAG_PARTS[0]__.y")
        );
        let p = plugin(&rule("a", "x", "${tag_parts[5]}.y", "")).unwrap();
        assert_eq!(one(&p, "p.q", &[("a", s("x"))]).as_deref(), Some(".y"));
        let p = plugin(&rule("a", "x", "${tag_parts[0]}.${tag_parts[1]}.z", "")).unwrap();
        assert_eq!(one(&p, "p.q", &[("a", s("x"))]).as_deref(), Some("p.q.z"));
    }

    // §7.7 case 83
    #[test]
    fn case_83_capitalize() {
        let p = plugin(&format!(
            "capitalize_regex_backreference true\n{}",
            rule("w", "/^(\\w+)$/", "cap.$1", "")
        ))
        .unwrap();
        assert_eq!(
            one(&p, "t", &[("w", s("hello"))]).as_deref(),
            Some("cap.Hello")
        );
        assert_eq!(
            one(&p, "t", &[("w", s("wORLD"))]).as_deref(),
            Some("cap.World")
        );
    }

    // §7.7 case 84
    #[test]
    fn case_84_remove_tag_prefix() {
        let p = plugin(&format!(
            "remove_tag_prefix kube\n{}",
            rule("a", "x", "new.${tag}", "")
        ))
        .unwrap();
        assert_eq!(
            one(&p, "kube.var.log", &[("a", s("x"))]).as_deref(),
            Some("new.var.log")
        );
        assert_eq!(one(&p, "kubex", &[("a", s("x"))]).as_deref(), Some("new.x"));
        let p = plugin(&format!(
            "remove_tag_regexp /^[a-z]+\\./\n{}",
            rule("a", "x", "new.${tag}", "")
        ))
        .unwrap();
        assert_eq!(
            one(&p, "kube.var.log", &[("a", s("x"))]).as_deref(),
            Some("new.var.log")
        );
    }

    #[test]
    fn capitalize_is_rubys_titlecase_and_nil_groups_raise() {
        let p = plugin(&format!(
            "capitalize_regex_backreference true\n{}",
            rule("w", "/^(\\S+) (\\S+?)(x)?$/", "c.$1.$2", "")
        ))
        .unwrap();
        // Recorded from Ruby 3.1's String#capitalize.
        for (v, want) in [
            ("ǆx ǈY", "c.ǅx.ǈy"),
            ("ßa ﬁX", "c.Ssa.Fix"),
            ("ΣΑΣ ᾳb", "c.Σασ.ᾼb"),
            ("აბ ﬓa", "c.აბ.Մնa"),
        ] {
            let v = format!("{v}x");
            assert_eq!(one(&p, "t", &[("w", s(&v))]).as_deref(), Some(want), "{v}");
        }
        // The third group did not take part: every capture is capitalized, so Ruby raises.
        let mut errors = ErrorEvents::default();
        let out = p.route("t", &batch(&[rec(&[("w", s("a b"))])]), &mut errors);
        assert!(out.is_empty());
        assert_eq!(errors.take().0.len(), 1);
    }

    #[test]
    fn range_placeholders_refused_only_in_both_forms() {
        assert!(!has_range_placeholder("${tag_parts[0..1]}"));
        assert!(!has_range_placeholder("__TAG_PARTS[0...1]__"));
        assert!(has_range_placeholder(
            "${tag_parts[0..1]}.__TAG_PARTS[0...1]__"
        ));
        assert!(!has_range_placeholder(
            "${tag_parts[0..10]}.__TAG_PARTS[0...1]__"
        ));
        let p = plugin(&rule("a", "x", "r.${tag_parts[0..1]}", "")).unwrap();
        assert_eq!(
            one(&p, "p.q", &[("a", s("x"))]).as_deref(),
            Some("r.${tag_parts[0..1]}")
        );
    }

    #[test]
    fn hostname_placeholders_and_command() {
        let p = plugin(&format!(
            "hostname_command echo web-1\n{}",
            rule("a", "x", "h.${hostname}.__HOSTNAME__", "")
        ))
        .unwrap();
        assert_eq!(
            one(&p, "t", &[("a", s("x"))]).as_deref(),
            Some("h.web-1.web-1")
        );
        // Ruby's backticks: the output whatever the exit status; `exit` is a shell built-in.
        for (cmd, want) in [
            ("exit 3", "h.."),
            ("false", "h.."),
            ("sh -c 'echo out; exit 3'", "h.out.out"),
            ("printf 'a\\r\\n'", "h.a.a"),
        ] {
            let p = plugin(&format!(
                "hostname_command {cmd}\n{}",
                rule("a", "x", "h.${hostname}.__HOSTNAME__", "")
            ))
            .unwrap();
            assert_eq!(
                one(&p, "t", &[("a", s("x"))]).as_deref(),
                Some(want),
                "{cmd}"
            );
        }
        // A program that cannot start (no shell involved) fails the start.
        let e = plugin(&format!(
            "hostname_command /nonexistent/logferry-hostname\n{}",
            rule("a", "x", "h", "")
        ))
        .err()
        .unwrap();
        assert!(e.to_string().contains("hostname_command"), "{e}");
        assert!(needs_shell("a=b cmd") && needs_shell("exit") && needs_shell("echo $X"));
        assert!(!needs_shell("hostname -s") && !needs_shell("/bin/exit"));
    }

    #[test]
    fn non_string_values_use_ruby_text() {
        let p = plugin(&rule("v", "^(.*)$", "v.$1", "")).unwrap();
        assert_eq!(
            one(&p, "t", &[("v", Value::Bool(true))]).as_deref(),
            Some("v.true")
        );
        assert_eq!(
            one(&p, "t", &[("v", Value::F64(1.5))]).as_deref(),
            Some("v.1.5")
        );
        assert_eq!(
            one(&p, "t", &[("v", Value::Int(-3))]).as_deref(),
            Some("v.-3")
        );
        let m = Value::Map(vec![(s("a"), Value::Int(1))]);
        assert_eq!(one(&p, "t", &[("v", m)]).as_deref(), Some("v.{\"a\"=>1}"));
    }

    #[test]
    fn first_firing_rule_wins_and_named_groups() {
        let p = plugin(&format!(
            "{}{}",
            rule("a", "^(?<x>q)(r)(?<y>s)$", "one.$1.$2.$10", ""),
            rule("b", ".", "two", "")
        ))
        .unwrap();
        assert_eq!(
            one(&p, "t", &[("a", s("qrs")), ("b", s("z"))]).as_deref(),
            Some("one.q.s.")
        );
        assert_eq!(
            one(&p, "t", &[("a", s("no")), ("b", s("z"))]).as_deref(),
            Some("two")
        );
        assert_eq!(one(&p, "t", &[("a", s("no"))]), None);
    }

    #[test]
    fn invert_keeps_backrefs_literal_and_unknown_placeholders_empty() {
        let p = plugin(&rule(
            "a",
            "x",
            "inv.$1.${nope}.__NOPE__.${TAG}",
            "invert true\n",
        ))
        .unwrap();
        assert_eq!(
            one(&p, "t", &[("a", s("y"))]).as_deref(),
            Some("inv.$1...${TAG}")
        );
    }

    #[test]
    fn placeholder_scanner_matches_the_ruby_regex() {
        let ph = Placeholders::new("a.b", "h");
        for (input, want) in [
            ("__TAG__", "a.b"),
            ("x__TAG__y", "xa.by"),
            ("__TAG__X__", ""),
            ("___TAG__", ""),
            ("__A__B", "B"),
            ("__", "__"),
            ("${tag", "${tag"),
            ("${tag_parts[1]}", "b"),
            ("${tag_parts[01]}", ""),
            ("${tag_parts[x]}", "${tag_parts[x]}"),
            ("$${tag}", "$a.b"),
        ] {
            let mut out = String::new();
            ph.expand(input, &mut out);
            assert_eq!(out, want, "{input}");
        }
    }

    #[test]
    fn config_errors() {
        for (body, needle) in [
            ("rewriterule1 a b c", "support has been dropped"),
            ("", "missing rewriterules"),
            (&rule("a", "(?<n>x", "t", ""), "cannot be used"),
            (
                &rule("a", "x", "${tag_parts[0..2]}.__TAG_PARTS[1..2]__", ""),
                "range",
            ),
            (
                &format!(
                    "{}{}",
                    rule("a", "x", "t1", "invert true\n"),
                    rule("a!", "x", "t2", "")
                ),
                "duplicated",
            ),
            (
                &format!("{}{}", rule("a", "x", "t1", ""), rule("a", "x", "t2", "")),
                "duplicated",
            ),
            (
                &format!(
                    "remove_tag_prefix a\nremove_tag_regexp /b/\n{}",
                    rule("a", "x", "t", "")
                ),
                "exclusive",
            ),
            (
                "<rule>\nkey a\ntag t\n</rule>",
                "'pattern' parameter is required",
            ),
            (
                "<rule>\nkey a\npattern x\n</rule>",
                "'tag' parameter is required",
            ),
            (
                &format!("emit_mode bulk\n{}", rule("a", "x", "t", "")),
                "emit_mode",
            ),
        ] {
            let e = plugin(body)
                .err()
                .unwrap_or_else(|| panic!("accepted: {body}"));
            assert!(e.to_string().contains(needle), "{body}: {e}");
        }
        // Same key and pattern but one inverted is not a duplicate.
        plugin(&format!(
            "{}{}",
            rule("a", "x", "t1", ""),
            rule("a", "x", "t2", "invert true\n")
        ))
        .unwrap();
    }

    #[test]
    fn batch_mode_groups_by_label_and_tag_in_first_seen_order() {
        let p = plugin(&format!(
            "{}{}",
            rule("k", "^(a|b)$", "t.$1", ""),
            rule("k", "^(c)$", "t.$1", "label @x\n")
        ))
        .unwrap();
        let recs: Vec<Vec<u8>> = ["a", "c", "b", "a", "z", "c", "b"]
            .iter()
            .map(|v| rec(&[("k", s(v))]))
            .collect();
        let b = batch(&recs);
        let out = p.route("src", &b, &mut ErrorEvents::default());
        let summary: Vec<(usize, String, Vec<u32>)> = out
            .iter()
            .map(|r| {
                (
                    r.target,
                    r.tag.clone(),
                    r.batch.iter().map(|e| e.time.sec - 1_700_000_000).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (0, "t.a".into(), vec![0, 3]),
                (0, "t.b".into(), vec![2, 6]),
                (1, "t.c".into(), vec![1, 5]),
            ]
        );
        // Records are carried byte for byte.
        assert_eq!(out[0].batch.iter().next().unwrap().record, &recs[0][..]);

        // One group covering a contiguous run is a slice of the input.
        let b = batch(&recs[..1]);
        let out = p.route("src", &b, &mut ErrorEvents::default());
        assert_eq!(out[0].batch.bytes(), b.bytes());
    }

    #[test]
    fn record_mode_keeps_each_record_separate() {
        let p = plugin(&format!(
            "emit_mode record\n{}",
            rule("k", "^(.)$", "t.$1", "")
        ))
        .unwrap();
        let recs: Vec<Vec<u8>> = ["a", "a", "b"]
            .iter()
            .map(|v| rec(&[("k", s(v))]))
            .collect();
        let out = p.route("src", &batch(&recs), &mut ErrorEvents::default());
        let tags: Vec<&str> = out.iter().map(|r| r.tag.as_str()).collect();
        assert_eq!(tags, ["t.a", "t.a", "t.b"]);
        assert!(out.iter().all(|r| r.batch.len() == 1));
    }

    #[test]
    fn label_with_same_tag_is_emitted() {
        let p = plugin(&rule("k", "x", "${tag}", "label @x\n")).unwrap();
        let out = p.route(
            "same",
            &batch(&[rec(&[("k", s("x"))])]),
            &mut ErrorEvents::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].target, out[0].tag.as_str()), (1, "same"));
    }

    #[test]
    fn invalid_utf8_is_scrubbed_before_matching() {
        let p = plugin(&rule("k", "^a\\?b$", "ok", "")).unwrap();
        let mut r = Vec::new();
        logferry_msgpack::write::map_len(&mut r, 1);
        logferry_msgpack::write::str(&mut r, "k");
        logferry_msgpack::write::str_bytes(&mut r, b"a\xffb");
        assert_eq!(
            p.route("t", &batch(&[r]), &mut ErrorEvents::default())[0].tag,
            "ok"
        );
    }

    struct Sink(Arc<Mutex<Vec<String>>>, &'static str);

    #[async_trait]
    impl Output for Sink {
        async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
            self.0
                .lock()
                .unwrap()
                .push(format!("{}:{tag}:{}", self.1, batch.len()));
            Ok(())
        }
    }

    /// Reference §7.2 case 16: inside a label, re-emitted events go through that label's rules
    /// from the top, never root's.
    #[tokio::test]
    async fn case_16_reemits_into_its_own_label() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let root_emitter = Emitter::unbound();
        let in_label = root_emitter.for_label(Some("@in"));
        let text = format!(
            "<match **>\n@type rewrite_tag_filter\n{}</match>\n",
            rule("k", "^(.+)$", "x.$1", "")
        );
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let sec = Section::new(&root.elements[0], "rewrite_tag_filter");
        let rtf =
            Arc::new(RewriteTagFilter::new(&sec, &in_label, PluginLog::new("t", None)).unwrap());
        let sink = |n| RuleKind::Match(Arc::new(Sink(log.clone(), n)));
        let r = |p: &str, k| RouterRule {
            pattern: MatchPattern::new(p).unwrap(),
            kind: k,
            id: Arc::from(p),
            flow: Arc::default(),
        };
        let router = Router::new(
            Agent::new(ROOT_LABEL, vec![r("x.**", sink("ROOT"))]),
            vec![Agent::new(
                "@in",
                vec![r("x.**", sink("IN")), r("src", RuleKind::Match(rtf))],
            )],
        );
        root_emitter.install(Arc::new(router));
        in_label
            .emit("src", batch(&[rec(&[("k", s("y"))])]))
            .await
            .unwrap();
        assert_eq!(*log.lock().unwrap(), ["IN:x.y:1"]);
    }
}
