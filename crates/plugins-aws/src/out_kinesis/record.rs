//! One event made into a Kinesis record, as aws-fluent-plugin-kinesis makes it when the event
//! is buffered: the data (`data_key`'s value, or `<inject>` + `<format>`, `chomp_record`), then
//! `compression` (zlib or gzip), then Firehose's `append_new_line`; Data Streams' partition
//! key (`partition_key`'s value, or 32 random hex digits).

use std::io::Write as _;

use logferry_core::EventTime;
use logferry_formats::formatter::Formatter;
use logferry_formats::inject::Inject;
use logferry_formats::ruby;
use logferry_msgpack::{Reader, Value};

/// `compression`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// None (the default).
    None,
    /// zlib (RFC 1950), as Ruby's `Zlib::Deflate.deflate`.
    Zlib,
    /// One gzip member.
    Gzip,
}

/// How events become records.
pub struct RecordMaker {
    /// `data_key`: send only this key's value.
    pub data_key: Option<String>,
    /// `<format>` (default json).
    pub formatter: Box<dyn Formatter>,
    /// `<inject>` (time_type string, ISO 8601 with nanoseconds by default).
    pub inject: Inject,
    /// `chomp_record`.
    pub chomp: bool,
    /// `compression`.
    pub compression: Compression,
    /// Firehose's `append_new_line`.
    pub append_new_line: bool,
    /// Data Streams: `Some(None)` random keys, `Some(Some(k))` the record's `k`; Firehose: `None`.
    pub partition_key: Option<Option<String>>,
    /// `max_record_size`: data + partition key.
    pub max_record_size: usize,
}

fn chomp(b: &mut Vec<u8>) {
    if b.last() == Some(&b'\n') {
        b.pop();
        if b.last() == Some(&b'\r') {
            b.pop();
        }
    } else if b.last() == Some(&b'\r') {
        b.pop();
    }
}

fn random_key() -> String {
    let v: u128 = rand::random();
    format!("{v:032x}")
}

impl RecordMaker {
    /// The record of one event: `(data, partition key)`, or why it cannot be sent.
    pub fn make(
        &self,
        tag: &str,
        time: EventTime,
        raw: &[u8],
    ) -> Result<(Vec<u8>, Option<String>), String> {
        let needs_value = self.data_key.is_some() || matches!(&self.partition_key, Some(Some(_)));
        let value = if needs_value {
            match Value::decode(raw) {
                Ok((v @ Value::Map(_), _)) => Some(v),
                _ => return Err("Invalid type of record".to_string()),
            }
        } else {
            None
        };
        let mut data = match (&self.data_key, &value) {
            (Some(k), Some(v)) => match v.get(k) {
                None | Some(Value::Nil) => return Err(format!("Key '{k}' doesn't exist")),
                // Ruby's `to_s`: a map or an array in its `inspect` form.
                Some(x @ (Value::Map(_) | Value::Array(_))) => ruby::to_s(x).into_bytes(),
                Some(x) => x.to_text().into_bytes(),
            },
            _ => {
                let mut out = Vec::with_capacity(raw.len() + 64);
                if self.inject.is_empty() {
                    self.formatter.format_raw(tag, time, raw, &mut out);
                } else {
                    let mut rec = Vec::with_capacity(raw.len() + 64);
                    self.inject.apply_raw(tag, time, raw, &mut rec);
                    self.formatter.format_raw(tag, time, &rec, &mut out);
                }
                if self.chomp {
                    chomp(&mut out);
                }
                out
            }
        };
        data = match self.compression {
            Compression::None => data,
            Compression::Zlib => {
                let mut e =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&data).map_err(|e| e.to_string())?;
                e.finish().map_err(|e| e.to_string())?
            }
            Compression::Gzip => {
                let mut e =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                e.write_all(&data).map_err(|e| e.to_string())?;
                e.finish().map_err(|e| e.to_string())?
            }
        };
        if self.append_new_line {
            // Ruby chomps the data, compressed or not; chomping compressed bytes can cut the
            // stream's last byte, so logferry only chomps text.
            if self.compression == Compression::None {
                chomp(&mut data);
            }
            data.push(b'\n');
        }
        let key = match &self.partition_key {
            None => None,
            Some(None) => Some(random_key()),
            Some(Some(k)) => match value.as_ref().and_then(|v| v.get(k)) {
                None => return Err(format!("Key '{k}' doesn't exist")),
                Some(x) => Some(x.to_text()),
            },
        };
        let size = data.len() + key.as_ref().map_or(0, String::len);
        if size > self.max_record_size {
            return Err(format!(
                "Record size limit exceeded in {} KB (max_record_size {} bytes)",
                size / 1024,
                self.max_record_size
            ));
        }
        Ok((data, key))
    }
}

/// Append one buffered record: `[data (raw bytes as str), partition key (str or nil)]`.
pub fn encode(data: &[u8], key: Option<&str>, out: &mut Vec<u8>) {
    logferry_msgpack::write::array_len(out, 2);
    logferry_msgpack::write::str_bytes(out, data);
    match key {
        Some(k) => logferry_msgpack::write::str(out, k),
        None => logferry_msgpack::write::nil(out),
    }
}

/// A buffered record.
#[derive(Clone, Debug, PartialEq)]
pub struct Record<'a> {
    /// The data.
    pub data: &'a [u8],
    /// The partition key (Data Streams).
    pub key: Option<&'a str>,
}

impl Record<'_> {
    /// Bytes counted against the limits.
    pub fn size(&self) -> usize {
        self.data.len() + self.key.map_or(0, str::len)
    }
}

/// Read a chunk's records; a malformed tail is reported, what precedes it kept.
pub fn decode(buf: &[u8]) -> (Vec<Record<'_>>, Option<String>) {
    let mut r = Reader::new(buf);
    let mut out = Vec::new();
    while !r.is_empty() {
        let at = r.pos();
        let one = (|| -> Result<Record<'_>, String> {
            if r.read_array_len().map_err(|e| e.to_string())? != 2 {
                return Err("not a [data, key] pair".into());
            }
            let data = r.read_str().map_err(|e| e.to_string())?;
            let key = if r.peek() == Some(0xc0) {
                r.read_nil().map_err(|e| e.to_string())?;
                None
            } else {
                Some(
                    std::str::from_utf8(r.read_str().map_err(|e| e.to_string())?)
                        .map_err(|e| e.to_string())?,
                )
            };
            Ok(Record { data, key })
        })();
        match one {
            Ok(x) => out.push(x),
            Err(e) => {
                return (
                    out,
                    Some(format!("malformed chunk record at byte {at}: {e}")),
                )
            }
        }
    }
    (out, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn maker() -> RecordMaker {
        RecordMaker {
            data_key: None,
            formatter: json(),
            inject: Inject::default(),
            chomp: false,
            compression: Compression::None,
            append_new_line: true,
            partition_key: None,
            max_record_size: 1 << 20,
        }
    }

    fn json() -> Box<dyn Formatter> {
        let root = logferry_config::parse_str(
            "<match x>\n</match>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let s = logferry_core::Section::new(&root.elements[0], "kinesis_firehose");
        logferry_formats::formatter::build("json", &s).unwrap()
    }

    fn rec(json: &str) -> Vec<u8> {
        let mut out = Vec::new();
        logferry_msgpack::json_to_msgpack(&serde_json::from_str(json).unwrap(), &mut out);
        out
    }

    #[test]
    fn firehose_json_line_and_roundtrip() {
        let m = maker();
        let (d, k) = m
            .make("t", EventTime::new(1, 0), &rec(r#"{"a":1}"#))
            .unwrap();
        assert_eq!(d, b"{\"a\":1}\n");
        assert_eq!(k, None);
        let mut buf = Vec::new();
        encode(&d, None, &mut buf);
        encode(b"x", Some("k1"), &mut buf);
        let (recs, err) = decode(&buf);
        assert!(err.is_none());
        assert_eq!(recs[0].data, b"{\"a\":1}\n");
        assert_eq!(
            recs[1],
            Record {
                data: b"x",
                key: Some("k1")
            }
        );
    }

    #[test]
    fn data_key_partition_key_compression_and_size() {
        let mut m = maker();
        m.append_new_line = false;
        m.data_key = Some("log".into());
        m.partition_key = Some(Some("id".into()));
        m.compression = Compression::Gzip;
        let (d, k) = m
            .make("t", EventTime::new(1, 0), &rec(r#"{"log":"hello","id":7}"#))
            .unwrap();
        let mut out = String::new();
        flate2::read::GzDecoder::new(&d[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!((out.as_str(), k.as_deref()), ("hello", Some("7")));
        assert!(m
            .make("t", EventTime::new(1, 0), &rec(r#"{"log":"x"}"#))
            .unwrap_err()
            .contains("'id'"));
        m.compression = Compression::None;
        m.max_record_size = 10;
        let e = m
            .make(
                "t",
                EventTime::new(1, 0),
                &rec(r#"{"log":"0123456789","id":1}"#),
            )
            .unwrap_err();
        assert!(e.contains("Record size limit exceeded"), "{e}");
        m.partition_key = Some(None);
        m.max_record_size = 100;
        let (_, k) = m
            .make("t", EventTime::new(1, 0), &rec(r#"{"log":"a"}"#))
            .unwrap();
        assert_eq!(k.unwrap().len(), 32);
    }
}
