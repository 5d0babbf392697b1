//! Parsers: text to records, as Fluentd's `parser_*` plugins (`<parse>` sections and the v0.12 flat
//! `format` parameter). Used by `filter_parser` and by any plugin with a `<parse>` section.
//!
//! (API contract; the implementations are being written.)

use logferry_core::{BuildError, EventTime, Section, Value};

/// One parse result: the event time (`None` when the text had none and `estimate_current_event`
/// is false) and the record (a map), or the reason the text did not parse.
pub type ParseResult = Result<(Option<EventTime>, Value), String>;

/// Turns one text into zero or more records.
pub trait Parser: Send + Sync {
    /// Parse `text`, pushing one result per record found (a JSON array yields several; a
    /// multiline parser may yield several).
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>);
}

/// Build the parser of a plugin: its `<parse>` section if present, else the v0.12 flat `format`
/// parameter (with flat parser parameters on the plugin section), else `default_type`.
pub fn from_plugin(
    plugin: &Section,
    default_type: Option<&str>,
) -> Result<Box<dyn Parser>, BuildError> {
    let _ = (plugin, default_type);
    Err(logferry_core::error::build_error(
        plugin.pos(),
        "parsers are not implemented yet",
    ))
}
