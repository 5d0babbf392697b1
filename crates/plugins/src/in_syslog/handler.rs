//! One syslog message to one event: priority, parse, the added fields and the tag, as
//! Fluentd's `SyslogInput#message_handler`.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;

use logferry_core::error::EmitError;
use logferry_core::{BatchBuilder, Emitter, EventTime, PluginLog, Value};

use super::Config;
use crate::net::bytemap::{binary_text, encode_unmapped, unmapped_bytes};
use crate::net::framing::show;
use crate::net::peer::{set_field, NameCache};
use crate::net::stream::{MessageSink, TextStats};
use crate::parser::ParseResult;

const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "audit", "alert", "at", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
];

/// Fluentd's name of the facility of `pri` (`""` past `local7`, as Fluentd's empty lookup).
pub fn facility_name(pri: i64) -> &'static str {
    FACILITIES.get(facility_index(pri)).copied().unwrap_or("")
}

/// The facility's index in [`FACILITIES`]; past `local7` (or negative): `FACILITIES.len()`.
fn facility_index(pri: i64) -> usize {
    usize::try_from(pri >> 3)
        .ok()
        .filter(|f| *f < FACILITIES.len())
        .unwrap_or(FACILITIES.len())
}

/// Every tag `TAG.FACILITY.SEVERITY` of an input, made once: index `facility * 8 + severity`
/// (the last facility being the empty one).
pub fn all_tags(tag: &str) -> Vec<String> {
    let mut out = Vec::with_capacity((FACILITIES.len() + 1) * 8);
    for f in FACILITIES.iter().copied().chain([""]) {
        for s in SEVERITIES {
            out.push(format!("{tag}.{f}.{s}"));
        }
    }
    out
}

/// Fluentd's name of the severity of `pri` (`warn`, `err`, ...).
pub fn severity_name(pri: i64) -> &'static str {
    SEVERITIES[(pri & 7) as usize]
}

/// `<digits>` at the start of `text`: the priority and the rest.
fn split_pri(text: &str) -> Option<(i64, &str)> {
    let rest = text.strip_prefix('<')?;
    let end = rest.find('>')?;
    let digits = &rest[..end];
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, &rest[end + 1..]))
}

/// Turns messages into events grouped by tag, and emits them.
pub struct Handler<'a> {
    cfg: &'a Config,
    log: &'a PluginLog,
    stats: &'a TextStats,
    emitter: Emitter,
    /// Events since the last emit, in runs of one tag (an index of `cfg.tags`, or `None`:
    /// `TAG.unmatched`) in arrival order: Fluentd emits each message as it comes, so an output
    /// sees the events of several tags in that order.
    pending: Vec<(Option<usize>, BatchBuilder)>,
    results: Vec<ParseResult>,
    warned: bool,
    /// The message being handled was not ASCII: its bytes from 0x80 up stand in its text as
    /// private-use characters ([`binary_text`]), written back as those bytes.
    mapped: bool,
}

impl<'a> Handler<'a> {
    /// A handler for one connection or socket.
    pub fn new(
        cfg: &'a Config,
        log: &'a PluginLog,
        stats: &'a TextStats,
        emitter: Emitter,
    ) -> Self {
        Handler {
            cfg,
            log,
            stats,
            emitter,
            pending: Vec::new(),
            results: Vec::new(),
            warned: false,
            mapped: false,
        }
    }

    /// Queue one event; `binary`: its mapped strings are pieces of the message (see
    /// [`encode_unmapped`]).
    fn push(&mut self, tag: Option<usize>, time: EventTime, record: &Value, binary: bool) {
        if self.pending.last().is_none_or(|(t, _)| *t != tag) {
            self.pending.push((tag, BatchBuilder::new()));
        }
        let Some((_, b)) = self.pending.last_mut() else {
            return;
        };
        if self.mapped {
            b.push_with(time, |buf| encode_unmapped(record, buf, binary));
        } else {
            b.push_value(time, record);
        }
    }

    fn unmatched(&mut self, data: &str, ip: IpAddr, name: Option<&str>, why: &str) {
        self.stats.unparsed.fetch_add(1, Ordering::Relaxed);
        if !self.warned {
            self.warned = true;
            self.log.warn(format_args!(
                "{why}: {} (from {ip}; further ones are only counted)",
                show(&unmapped_bytes(data))
            ));
        }
        if self.cfg.emit_unmatched {
            let mut rec = Value::Map(vec![(
                Value::Str("unmatched_line".into()),
                Value::Str(data.to_string()),
            )]);
            self.cfg.keys.apply(&mut rec, ip, name);
            self.push(None, EventTime::now(), &rec, true);
        }
    }

    /// One message (without its framing).
    pub fn message(&mut self, msg: &[u8], ip: IpAddr, name: Option<&str>) {
        let data = match binary_text(msg) {
            None => std::borrow::Cow::Borrowed(std::str::from_utf8(msg).unwrap_or_default()),
            Some(text) => std::borrow::Cow::Owned(text),
        };
        self.mapped = matches!(data, std::borrow::Cow::Owned(_));
        let (pri, text) = if self.cfg.parses_priority {
            (None, &*data)
        } else {
            match split_pri(&data) {
                Some((p, t)) => (Some(p), t),
                None => return self.unmatched(&data, ip, name, "invalid syslog message"),
            }
        };
        self.cfg.parser.parse(text, &mut self.results);
        let mut results = std::mem::take(&mut self.results);
        for r in results.drain(..) {
            let (time, mut record) = match r {
                Ok(x) => x,
                Err(e) => {
                    self.unmatched(&data, ip, name, &format!("failed to parse message ({e})"));
                    break;
                }
            };
            let pri = match pri {
                Some(p) => p,
                None => match take_pri(&mut record) {
                    Some(p) => p,
                    None => {
                        self.unmatched(&data, ip, name, "invalid syslog message");
                        break;
                    }
                },
            };
            let facility = facility_name(pri);
            let severity = severity_name(pri);
            if let Some(k) = &self.cfg.severity_key {
                set_field(&mut record, k, Value::Str(severity.into()));
            }
            if let Some(k) = &self.cfg.facility_key {
                // Past local7 Fluentd's facility lookup gives nil (the tag's part is empty).
                let v = if facility.is_empty() {
                    Value::Nil
                } else {
                    Value::Str(facility.into())
                };
                set_field(&mut record, k, v);
            }
            self.cfg.keys.apply(&mut record, ip, name);
            let tag = facility_index(pri) * 8 + (pri & 7) as usize;
            let binary = self.cfg.parser.keeps_text_bytes();
            self.push(
                Some(tag),
                time.unwrap_or_else(EventTime::now),
                &record,
                binary,
            );
        }
        // Keep the allocation for the next message.
        self.results = results;
    }

    /// Emit everything pending, one batch per run of a tag.
    pub async fn flush(&mut self) -> Result<(), EmitError> {
        for (tag, b) in std::mem::take(&mut self.pending) {
            let unmatched;
            let tag = match tag {
                Some(i) => &self.cfg.tags[i],
                None => {
                    unmatched = format!("{}.unmatched", self.cfg.tag);
                    &unmatched
                }
            };
            let batch = b.finish();
            let n = batch.len() as u64;
            self.emitter.emit(tag, batch).await?;
            self.stats.events.fetch_add(n, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// Remove the parser's `pri` field and return it.
fn take_pri(record: &mut Value) -> Option<i64> {
    let Value::Map(m) = record else {
        return None;
    };
    let i = m.iter().position(|(k, _)| k.as_str() == Some("pri"))?;
    let (_, v) = m.remove(i);
    match v {
        Value::Int(p) => Some(p),
        Value::UInt(p) => i64::try_from(p).ok(),
        Value::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The messages of one TCP or TLS connection.
pub struct Sink<'a> {
    handler: Handler<'a>,
    /// The peer and its name.
    pub peer: Option<(SocketAddr, Option<String>)>,
}

impl<'a> Sink<'a> {
    /// A sink around a handler.
    pub fn new(handler: Handler<'a>) -> Self {
        Sink {
            handler,
            peer: None,
        }
    }
}

impl MessageSink for Sink<'_> {
    fn message(&mut self, msg: &[u8]) {
        let (ip, name) = match &self.peer {
            Some((p, n)) => (p.ip(), n.as_deref()),
            None => (IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), None),
        };
        self.handler.message(msg, ip, name);
    }

    async fn flush(&mut self) -> Result<(), EmitError> {
        self.handler.flush().await
    }
}

/// The datagrams of the UDP socket.
pub struct DatagramSink<'a> {
    handler: Handler<'a>,
    names: NameCache,
}

impl<'a> DatagramSink<'a> {
    /// A sink around a handler.
    pub fn new(handler: Handler<'a>) -> Self {
        DatagramSink {
            handler,
            names: NameCache::default(),
        }
    }
}

impl crate::net::datagram::DatagramSink for DatagramSink<'_> {
    async fn datagram(&mut self, data: &[u8], peer: SocketAddr) {
        let name = if self.handler.cfg.keys.needs_name() {
            Some(self.names.name(peer.ip()).await)
        } else {
            None
        };
        // Fluentd: `data.chomp`.
        self.handler
            .message(crate::in_udp::chomp(data), peer.ip(), name.as_deref());
    }

    async fn flush(&mut self) -> Result<(), EmitError> {
        self.handler.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_fluentd() {
        // <187>: local7.err; <35>: auth.err; <999>: no facility (Fluentd tags it "TAG..debug").
        assert_eq!((facility_name(187), severity_name(187)), ("local7", "err"));
        assert_eq!((facility_name(35), severity_name(35)), ("auth", "err"));
        assert_eq!((facility_name(999), severity_name(999)), ("", "debug"));
        assert_eq!((facility_name(156), severity_name(156)), ("local3", "warn"));
        let tags = all_tags("t");
        let tag = |pri: i64| &tags[facility_index(pri) * 8 + (pri & 7) as usize];
        assert_eq!(tag(187), "t.local7.err");
        assert_eq!(tag(999), "t..debug");
        assert_eq!(tag(0), "t.kern.emerg");
        assert_eq!(split_pri("<13>rest"), Some((13, "rest")));
        assert_eq!(split_pri("<x>rest"), None);
        assert_eq!(split_pri("no"), None);
    }
}
