//! Text messages parsed into the events of one tag (the `tcp` and `udp` inputs): each message
//! goes through the `<parse>` parser, gets the peer fields, and waits in a batch for the emit.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use logferry_core::error::EmitError;
use logferry_core::{BatchBuilder, Emitter, EventTime, PluginLog};

use super::peer::SourceKeys;
use super::stream::TextStats;
use crate::parser::{ParseResult, Parser};

/// The events made from messages since the last emit.
pub struct TextEvents<'a> {
    parser: &'a dyn Parser,
    keys: &'a SourceKeys,
    stats: &'a TextStats,
    log: &'a PluginLog,
    batch: BatchBuilder,
    results: Vec<ParseResult>,
    warned: bool,
}

impl<'a> TextEvents<'a> {
    /// Events made by `parser`, with the fields of `keys`.
    pub fn new(
        parser: &'a dyn Parser,
        keys: &'a SourceKeys,
        stats: &'a TextStats,
        log: &'a PluginLog,
    ) -> Self {
        TextEvents {
            parser,
            keys,
            stats,
            log,
            batch: BatchBuilder::new(),
            results: Vec::new(),
            warned: false,
        }
    }

    /// Parse one message from `ip` (named `name`); a message the parser does not match is
    /// counted, and logged the first time.
    pub fn add(&mut self, msg: &[u8], ip: IpAddr, name: Option<&str>) {
        let text = String::from_utf8_lossy(msg);
        self.parser.parse(&text, &mut self.results);
        for r in self.results.drain(..) {
            match r {
                Ok((time, mut record)) => {
                    self.keys.apply(&mut record, ip, name);
                    self.batch
                        .push_value(time.unwrap_or_else(EventTime::now), &record);
                }
                Err(e) => {
                    self.stats.unparsed.fetch_add(1, Ordering::Relaxed);
                    if !self.warned {
                        self.warned = true;
                        self.log.warn(format_args!(
                            "pattern not matched: {e} (from {ip}; further ones are only counted)"
                        ));
                    }
                }
            }
        }
    }

    /// Emit the pending events with `tag`.
    pub async fn emit(&mut self, emitter: &Emitter, tag: &str) -> Result<(), EmitError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch).finish();
        let n = batch.len() as u64;
        emitter.emit(tag, batch).await?;
        self.stats.events.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}
