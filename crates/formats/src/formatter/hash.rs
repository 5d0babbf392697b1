//! `hash`: the record as Ruby's `Hash#to_s` writes it (`{"a"=>1, "b"=>nil}`), Fluentd's
//! `formatter_hash`.

use super::{Formatter, Newline};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The hash formatter.
pub struct Hash {
    nl: Newline,
}

impl Hash {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        Ok(Hash {
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for Hash {
    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.format(tag, time, &crate::record::decode_keep_bytes(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        crate::ruby::inspect_bytes(record, out);
        self.nl.push_if_add(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn hash_line() {
        assert_eq!(
            run(&*formatter("hash", "")),
            "{\"a\"=>1, \"b\"=>\"x\\ty\", \"c\"=>nil}\n"
        );
    }
}
