//! `stdout` filter: prints each event as the `stdout` output prints it (`<format>`, default
//! `@type stdout`, and `<inject>`, which change the printed line only), and passes the batch on
//! unchanged, as Fluentd's `filter_stdout`.
//!
//! Fluentd writes these lines into its own log (stdout, or the `-o` log file); logferry's log goes
//! to stderr, so the lines go to stdout, where the `stdout` output prints events.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use logferry_core::{BuildCtx, BuildError, ErrorEvents, EventBatch, Filter, FilterOutput, Section};

use crate::out_stdout::{self, StdoutOutput};

/// The stdout filter.
pub struct StdoutFilter {
    printer: StdoutOutput,
    warned: AtomicBool,
}

/// Build from `<filter>`.
pub fn build(_ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Filter>, BuildError> {
    Ok(Arc::new(StdoutFilter {
        printer: out_stdout::parts(s)?,
        warned: AtomicBool::new(false),
    }))
}

impl Filter for StdoutFilter {
    fn filter(&self, tag: &str, batch: EventBatch, _errors: &mut ErrorEvents) -> FilterOutput {
        let mut out = Vec::with_capacity(batch.bytes().len() * 2);
        self.printer.render(tag, &batch, &mut out);
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout.write_all(&out).and_then(|_| stdout.flush()) {
            // The events still go on: printing them is a side effect, not their destination.
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!("stdout filter: cannot write to stdout: {e} (logged once)");
            }
        }
        FilterOutput::Keep(batch)
    }

    fn needs_fields(&self) -> bool {
        false
    }
}
