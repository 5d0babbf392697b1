//! Text messages parsed into events (the `tcp` and `udp` inputs): each message goes through the
//! `<parse>` parser, then `<extract>` (the tag from `tag_key`; the time from `time_key` when the
//! parser gave none), gets the peer fields, and waits in a batch for the emit. Events keep their
//! order: consecutive events of one tag share a batch.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use logferry_core::error::EmitError;
use logferry_core::{BatchBuilder, Emitter, EventBatch, EventTime, PluginLog, Section, Value};
use logferry_formats::extract::Extract;
use logferry_msgpack::write;

use super::bytemap::{binary_text, encode_unmapped, unmapped_bytes, write_binary};
use super::peer::SourceKeys;
use super::stream::TextStats;
use crate::parser::{ParseResult, Parser};

/// The events made from messages since the last emit.
pub struct TextEvents<'a> {
    parser: &'a dyn Parser,
    keys: &'a SourceKeys,
    extract: Option<&'a Extract>,
    stats: &'a TextStats,
    log: &'a PluginLog,
    /// The events of the latest tag (`None`: the input's `tag`).
    batch: BatchBuilder,
    tag: Option<String>,
    /// Earlier batches of other tags, in order.
    ready: Vec<(Option<String>, EventBatch)>,
    results: Vec<ParseResult>,
    warned: bool,
    warned_time: bool,
}

impl<'a> TextEvents<'a> {
    /// Events made by `parser` and `extract`, with the fields of `keys`.
    pub fn new(
        parser: &'a dyn Parser,
        keys: &'a SourceKeys,
        extract: Option<&'a Extract>,
        stats: &'a TextStats,
        log: &'a PluginLog,
    ) -> Self {
        TextEvents {
            parser,
            keys,
            extract,
            stats,
            log,
            batch: BatchBuilder::new(),
            tag: None,
            ready: Vec::new(),
            results: Vec::new(),
            warned: false,
            warned_time: false,
        }
    }

    /// Parse one message from `ip` (named `name`); a message the parser does not match is
    /// counted, and logged the first time.
    pub fn add(&mut self, msg: &[u8], ip: IpAddr, name: Option<&str>) {
        self.add_from(msg, Some(ip), name)
    }

    /// Parse one message that came from no peer (a command's output): no source fields.
    pub fn add_local(&mut self, msg: &[u8]) {
        self.add_from(msg, None, None)
    }

    fn add_from(&mut self, msg: &[u8], ip: Option<IpAddr>, name: Option<&str>) {
        if self.extract.is_none() && std::str::from_utf8(msg).is_err() {
            if let Some(key) = self.parser.whole_text_field() {
                return self.add_bytes(key, msg, ip, name);
            }
        }
        // Not ASCII: the parser sees bytes, as Fluentd's binary strings, and they reach the
        // record as they are.
        let text = match binary_text(msg) {
            None => std::borrow::Cow::Borrowed(std::str::from_utf8(msg).unwrap_or_default()),
            Some(text) => std::borrow::Cow::Owned(text),
        };
        let mapped = matches!(text, std::borrow::Cow::Owned(_));
        self.parser.parse(&text, &mut self.results);
        let mut results = std::mem::take(&mut self.results);
        for r in results.drain(..) {
            match r {
                Ok((time, mut record)) => {
                    let mut tag = self.extract.and_then(|x| x.tag(&mut record));
                    if mapped {
                        tag =
                            tag.map(|t| String::from_utf8_lossy(&unmapped_bytes(&t)).into_owned());
                    }
                    let time = time.unwrap_or_else(|| self.extracted_time(&mut record, ip));
                    if let Some(ip) = ip {
                        self.keys.apply(&mut record, ip, name);
                    }
                    if tag != self.tag {
                        let prev = std::mem::replace(&mut self.tag, tag);
                        if !self.batch.is_empty() {
                            let batch = std::mem::take(&mut self.batch).finish();
                            self.ready.push((prev, batch));
                        }
                    }
                    if mapped {
                        self.batch.push_with(time, |buf| {
                            encode_unmapped(&record, buf, self.parser.keeps_text_bytes())
                        });
                    } else {
                        self.batch.push_value(time, &record);
                    }
                }
                Err(e) => {
                    self.stats.unparsed.fetch_add(1, Ordering::Relaxed);
                    if !self.warned {
                        self.warned = true;
                        self.log.warn(format_args!(
                            "pattern not matched: {e} ({}further ones are only counted)",
                            from(ip)
                        ));
                    }
                }
            }
        }
        self.results = results;
    }

    /// A message that is not UTF-8 under the `none` parser's field, byte for byte (Fluentd's
    /// strings are binary; logferry's text values are UTF-8, so the record is written here).
    fn add_bytes(&mut self, key: &str, msg: &[u8], ip: Option<IpAddr>, name: Option<&str>) {
        let mut record = Value::Map(vec![(Value::Str(key.to_string()), Value::Nil)]);
        if let Some(ip) = ip {
            self.keys.apply(&mut record, ip, name);
        }
        if self.tag.is_some() {
            let prev = self.tag.take();
            if !self.batch.is_empty() {
                let batch = std::mem::take(&mut self.batch).finish();
                self.ready.push((prev, batch));
            }
        }
        let Value::Map(fields) = record else { return };
        self.batch.push_with(EventTime::now(), |buf| {
            write::map_len(buf, fields.len() as u32);
            for (k, v) in &fields {
                k.encode(buf);
                // The message, unless a source key of the same name took its place.
                if k.as_str() == Some(key) && *v == Value::Nil {
                    write_binary(buf, msg);
                } else {
                    v.encode(buf);
                }
            }
        });
    }

    /// The time of a record the parser gave none: `<extract>`'s `time_key`, else now.
    fn extracted_time(
        &mut self,
        record: &mut logferry_core::Value,
        ip: Option<IpAddr>,
    ) -> EventTime {
        match self.extract.and_then(|x| x.time(record)) {
            Some(Ok(t)) => t,
            Some(Err(e)) => {
                if !std::mem::replace(&mut self.warned_time, true) {
                    self.log.warn(format_args!(
                        "<extract> time_key: {e} ({}the current time is used)",
                        from(ip)
                    ));
                }
                EventTime::now()
            }
            None => EventTime::now(),
        }
    }

    /// Emit the pending events, with their extracted tag or `tag`.
    pub async fn emit(&mut self, emitter: &Emitter, tag: &str) -> Result<(), EmitError> {
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch).finish();
            self.ready.push((self.tag.clone(), batch));
        }
        for (t, batch) in std::mem::take(&mut self.ready) {
            let n = batch.len() as u64;
            emitter.emit(t.as_deref().unwrap_or(tag), batch).await?;
            self.stats.events.fetch_add(n, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// "from IP; " for a message from a peer, else nothing.
fn from(ip: Option<IpAddr>) -> String {
    ip.map(|ip| format!("from {ip}; ")).unwrap_or_default()
}

/// Read `<extract>` of a tcp or udp input; warns, as Fluentd's users need to know, when its
/// `time_key` cannot take effect (the parser always gives a time).
pub fn extract(s: &Section, log: &PluginLog) -> Result<Option<Extract>, logferry_core::BuildError> {
    let x = Extract::from_section(s, &|m| log.warn(format_args!("{m}")))?;
    if let Some(x) = &x {
        let estimate = s
            .section("parse")?
            .and_then(|p| p.param("estimate_current_event"))
            .or_else(|| s.param("estimate_current_event"))
            .and_then(|p| logferry_config::types::bool(&p.value))
            .unwrap_or(true);
        if x.has_time_key() && estimate {
            log.warn(format_args!(
                "<extract> time_key takes effect only for records the parser gives no time \
                 (estimate_current_event false in <parse>): as in Fluentd, the parser's time (the \
                 current one when the record has none) is used and the field stays in the record"
            ));
        }
    }
    Ok(x)
}
