//! Output parameter placeholders (Fluentd's `extract_placeholders`): strftime on the chunk's time
//! slice, `${tag}`, `${tag[N]}`, `${tag[-N]}`, `${chunk_id}`, `${key}` / `${$.a.b}`; the v0.12
//! `${tag_parts[N]}` is honoured with a warning naming the v1 spelling.

use std::borrow::Cow;

use logferry_msgpack::EventTime;

use super::config::BufferConfig;
use super::meta::{ChunkId, ChunkMeta};
use crate::timefmt::{TimeFormatter, Zone};

/// A parameter value with placeholders, checked against the chunk keys at start-up.
#[derive(Clone, Debug)]
pub struct Template {
    text: String,
    strftime: Option<TimeFormatter>,
}

impl Template {
    /// Compile `text` for a buffer. `param` names the parameter in warnings.
    pub fn new(param: &str, text: &str, cfg: &BufferConfig) -> Result<Template, String> {
        let mut text = text.to_string();
        if text.contains("${tag_parts[") {
            tracing::warn!("'{param}': ${{tag_parts[N]}} is the v0.12 spelling; logferry substitutes it as Fluentd v1's ${{tag[N]}} (write that instead)");
            text = text.replace("${tag_parts[", "${tag[");
        }
        let strftime = match cfg.timekey {
            // Ruby's strftime leaves unknown conversions such as `%{path}` alone; chrono rejects
            // them, so they are escaped before compiling.
            Some(_) if text.contains('%') => Some(
                TimeFormatter::new(&escape_non_strftime(&text), cfg.timekey_zone.clone())?
                    .without_zone_name(),
            ),
            _ => None,
        };
        Ok(Template { text, strftime })
    }

    /// The template as written (after the v0.12 rewrite).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Does the template use a tag placeholder?
    pub fn uses_tag(&self) -> bool {
        self.text.contains("${tag}") || self.text.contains("${tag[")
    }

    /// Substitute for one chunk.
    pub fn render(&self, meta: &ChunkMeta, id: &ChunkId) -> String {
        let mut s: Cow<str> = Cow::Borrowed(&self.text);
        if let (Some(f), Some(tk)) = (&self.strftime, meta.timekey) {
            s = Cow::Owned(f.format(EventTime::new(u32::try_from(tk).unwrap_or(0), 0)));
        }
        if !s.contains("${") {
            return s.into_owned();
        }
        let mut out = String::with_capacity(s.len() + 16);
        let mut chunk_id_done = false;
        for (text, name) in segments(&s) {
            out.push_str(text);
            let Some(name) = name else { continue };
            match substitute(name, meta, id, &mut chunk_id_done) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push_str("${");
                    out.push_str(name);
                    out.push('}');
                }
            }
        }
        out
    }

    /// Fluentd's `placeholder_validate!` (out_file calls it on its path): the time, tag and
    /// chunk-key placeholders must match the buffer's chunk keys, with Fluentd's messages.
    /// `param` names the parameter.
    pub fn validate(&self, param: &str, cfg: &BufferConfig) -> Result<(), String> {
        let text = &self.text;
        // Time: the finest unit whose step changes the text of 2016-01-01 00:00:00 UTC.
        let base = EventTime::new(1_451_606_400, 0);
        let sec = TimeFormatter::new(&escape_non_strftime(text), Zone::utc())
            .ok()
            .and_then(|f| {
                let at = f.format(base);
                [
                    (1, "second", "%S"),
                    (60, "minute", "%M"),
                    (3600, "hour", "%H"),
                    (86400, "day", "%d"),
                ]
                .into_iter()
                .find(|(step, _, _)| f.format(EventTime::new(base.sec + step, 0)) != at)
            });
        match (sec, cfg.timekey) {
            (None, Some(tk)) => {
                return Err(format!(
                    "Parameter '{param}: {text}' doesn't have timestamp placeholders for timekey {tk}"
                ))
            }
            (Some(_), None) => {
                return Err(format!(
                    "Parameter '{param}: {text}' has timestamp placeholders, but chunk key 'time' is not configured"
                ))
            }
            (Some((step, title, example)), Some(tk)) if tk < i64::from(step) => {
                return Err(format!(
                    "Parameter '{param}: {text}' doesn't have timestamp placeholder for {title}('{example}') for timekey {tk}"
                ))
            }
            _ => {}
        }
        let names: Vec<&str> = segments(text).filter_map(|(_, name)| name).collect();
        let tag_parts = names
            .iter()
            .filter(|n| **n == "tag" || tag_index(n).is_some())
            .count();
        if cfg.key_tag && tag_parts == 0 {
            return Err(format!(
                "Parameter '{param}: {text}' doesn't have tag placeholder"
            ));
        }
        if !cfg.key_tag && tag_parts > 0 {
            return Err(format!(
                "Parameter '{param}: {text}' has tag placeholders, but chunk key 'tag' is not configured"
            ));
        }
        let mut keys: Vec<&str> = names
            .into_iter()
            .filter(|n| is_key_form(n) && *n != "tag" && *n != "chunk_id")
            .collect();
        keys.sort_unstable();
        keys.dedup();
        let mut chunk_keys: Vec<&str> = cfg.record_keys.iter().map(|k| k.name.as_str()).collect();
        chunk_keys.sort_unstable();
        let missing: Vec<&str> = chunk_keys
            .iter()
            .copied()
            .filter(|k| !keys.contains(k))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "Parameter '{param}: {text}' doesn't have enough placeholders for keys {}",
                missing.join(",")
            ));
        }
        let unknown: Vec<&str> = keys
            .iter()
            .copied()
            .filter(|k| !chunk_keys.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "Parameter '{param}: {text}' has placeholders, but chunk keys doesn't have keys {}",
                unknown.join(",")
            ));
        }
        Ok(())
    }
}

/// `text` cut at its `${…}` placeholders: each run of literal text with the name of the
/// placeholder after it (None after the last; an unclosed `${` is literal text).
fn segments(text: &str) -> impl Iterator<Item = (&str, Option<&str>)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let r = rest?;
        let found = r
            .find("${")
            .and_then(|at| r[at + 2..].find('}').map(|end| (at, at + 2 + end)));
        match found {
            Some((at, end)) => {
                rest = Some(&r[end + 1..]);
                Some((&r[..at], Some(&r[at + 2..end])))
            }
            None => {
                rest = None;
                Some((r, None))
            }
        }
    })
}

/// The index of a `${tag[N]}` placeholder (`tag[-1]` is -1), of the form Fluentd reads
/// (`tag\[-?\d+\]`); an index past i64 is out of range.
fn tag_index(name: &str) -> Option<i64> {
    let idx = name.strip_prefix("tag[")?.strip_suffix(']')?;
    let digits = idx.strip_prefix('-').unwrap_or(idx);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| idx.parse().unwrap_or(i64::MAX))
}

/// A name of the chunk-key form Fluentd scans for (`[-_.@$a-zA-Z0-9]+`).
fn is_key_form(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@$".contains(&b))
}

fn escape_non_strftime(t: &str) -> String {
    t.replace("%{", "%%{")
}

/// One `${name}` as Fluentd's `extract_placeholders` replaces it; None leaves it as written.
fn substitute(
    name: &str,
    meta: &ChunkMeta,
    id: &ChunkId,
    chunk_id_done: &mut bool,
) -> Option<String> {
    // Fluentd `sub`s the first `${chunk_id}` only; a later one is left to the chunk-key pass.
    if name == "chunk_id" && !*chunk_id_done {
        *chunk_id_done = true;
        return Some(id.hex());
    }
    if let Some(tag) = &meta.tag {
        if name == "tag" {
            return Some(tag.clone());
        }
        if let Some(i) = tag_index(name) {
            let parts: Vec<&str> = tag.split('.').collect();
            let i = if i < 0 { parts.len() as i64 + i } else { i };
            // Out of range is empty: Fluentd `gsub`s with a hash of the parts.
            return Some(
                usize::try_from(i)
                    .ok()
                    .and_then(|i| parts.get(i))
                    .map_or_else(String::new, |p| p.to_string()),
            );
        }
    }
    if let Some((_, v)) = meta.variables.iter().find(|(k, _)| k == name) {
        return Some(v.clone());
    }
    // With record chunk keys, any other `${name}` of the chunk-key form (`[-_.@$a-zA-Z0-9]+`)
    // is emptied (Fluentd warns), but `${tag}`; else it stays as written.
    if !meta.variables.is_empty() && is_key_form(name) && name != "tag" {
        return Some(String::new());
    }
    None
}

/// The default `%{time_slice}` format for a timekey (as fluent-plugin-s3).
pub fn time_slice_format(cfg: &BufferConfig) -> String {
    if let Some(f) = &cfg.time_slice_format {
        return f.clone();
    }
    match cfg.timekey {
        Some(t) if t < 60 => "%Y%m%d%H%M%S",
        Some(t) if t < 3600 => "%Y%m%d%H%M",
        Some(t) if t < 86400 => "%Y%m%d%H",
        _ => "%Y%m%d",
    }
    .to_string()
}

/// Format a chunk's time slice.
pub fn format_time_slice(cfg: &BufferConfig, meta: &ChunkMeta) -> String {
    let tk = meta.timekey.unwrap_or(0);
    TimeFormatter::new(&time_slice_format(cfg), cfg.timekey_zone.clone())
        .or_else(|_| TimeFormatter::new("%Y%m%d", Zone::utc()))
        .map(|f| {
            f.without_zone_name()
                .format(EventTime::new(u32::try_from(tk).unwrap_or(0), 0))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(arg: &str) -> BufferConfig {
        let root = logferry_config::parse_str(
            &format!("<match **>\n@type x\n<buffer {arg}>\ntimekey 3600\ntimekey_use_utc true\n</buffer>\n</match>\n"),
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        BufferConfig::from_output(
            &crate::section::Section::new(&root.elements[0], "x"),
            &Default::default(),
        )
        .unwrap()
    }

    fn meta(tag: Option<&str>, tk: Option<i64>, vars: &[(&str, &str)]) -> ChunkMeta {
        ChunkMeta {
            tag: tag.map(str::to_string),
            timekey: tk,
            variables: vars
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    // Reference §7.9 case 92 (key part) and §5.6.
    #[test]
    fn case_92_strftime_and_tag() {
        let c = cfg("tag,time");
        let t = Template::new("path", "logs/${tag}/%Y/%m/%d/%{time_slice}", &c).unwrap();
        let id = ChunkId([0xab; 16]);
        assert_eq!(
            t.render(&meta(Some("app.web"), Some(1_699_999_200), &[]), &id),
            "logs/app.web/2023/11/14/%{time_slice}"
        );
        let t = Template::new("path", "${tag[0]}/${tag[-1]}/${tag[9]}/${chunk_id}", &c).unwrap();
        assert_eq!(
            t.render(&meta(Some("a.b.c"), Some(0), &[]), &id),
            // Out of range is empty (Fluentd gsubs with a hash of the parts).
            format!("a/c//{}", id.hex())
        );
        let t = Template::new("path", "x/${tag_parts[1]}/", &c).unwrap();
        assert_eq!(
            t.render(&meta(Some("delish.event.view"), Some(0), &[]), &id),
            "x/event/"
        );
    }

    // Case 95: ${tag} stays literal when tag is not a chunk key; no chunk keys → no strftime.
    #[test]
    fn case_95_literal_without_keys() {
        let c = cfg("time");
        let t = Template::new("path", "${tag}/%Y", &c).unwrap();
        assert_eq!(
            t.render(&meta(None, Some(1_699_999_200), &[]), &ChunkId([0; 16])),
            "${tag}/2023"
        );
        let c = cfg("");
        let t = Template::new("path", "x/%Y/${chunk_id}", &c).unwrap();
        assert_eq!(
            t.render(&meta(None, None, &[]), &ChunkId([1; 16])),
            format!("x/%Y/{}", ChunkId([1; 16]).hex())
        );
    }

    #[test]
    fn record_key_placeholders() {
        let c = cfg("$.k.v,name");
        let t = Template::new("path", "${$.k.v}-${name}-${other}", &c).unwrap();
        assert_eq!(
            t.render(
                &meta(None, None, &[("$.k.v", "7"), ("name", "n")]),
                &ChunkId([0; 16])
            ),
            "7-n-"
        );
    }

    #[test]
    fn time_slices() {
        assert_eq!(time_slice_format(&cfg("time")), "%Y%m%d%H");
        assert_eq!(
            format_time_slice(&cfg("time"), &meta(None, Some(1_699_999_200), &[])),
            "2023111422"
        );
    }
}
