//! The `.meta` codec: pure functions, no I/O, never panicking on any input.

use logferry_msgpack::{write, Reader, Value};

use logferry_formats::ruby::raw_to_s;

use crate::buffer::meta::{value_kind, ChunkId, ChunkMeta};

/// The two bytes every `.meta` written by Fluentd ≥ 1.16 and by logferry starts with (`C1` is the
/// one byte msgpack never uses, so a header-less map is told apart from a headered one).
pub const META_HEADER: [u8; 2] = [0xC1, 0x00];

/// The largest `.meta` body (the msgpack map) logferry writes or reads: 1 MiB.
pub const MAX_META_LEN: usize = 1 << 20;

/// Everything a `.meta` file says, as [`decode_meta_record`] found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaRecord {
    /// The `id` key (16 bytes), when present.
    pub id: Option<ChunkId>,
    /// The chunk keys and counters. `bytes` is the committed size `z`, or 0 without `z`.
    pub meta: ChunkMeta,
    /// logferry's `z` key: the committed byte size of the data file. `None` for a `.meta` written
    /// by Fluentd, whose data size cannot be trusted without validating the data.
    pub committed: Option<u64>,
    /// The file had no `C1 00` header (Fluentd < 1.16).
    pub headerless: bool,
}

/// Encode a `.meta` file: `C1 00` ‖ u32 BE body length ‖ msgpack map `timekey`, `tag`,
/// `variables`, `seq`, `id`, `s`, `c`, `m` (Fluentd's keys, in Fluentd's order), `z`
/// (`meta.bytes`, the committed data size) and, only when a chunk-key value is an Array, a Hash
/// or an extension, `k` (every variable's [`value_kind`]).
///
/// Fluentd writes the variables' values themselves (`Metadata#to_h` packed), so nil, booleans,
/// Integers, Floats and Strings are written as such and read back with their kind, by Fluentd as
/// by logferry. An Array, a Hash or an extension is known here only by its Ruby text: it is
/// written as that string and its kind kept in `k`, which Fluentd ignores.
pub fn encode_meta(id: &ChunkId, meta: &ChunkMeta) -> Vec<u8> {
    let mut body = Vec::with_capacity(128);
    let mut vars = Vec::with_capacity(16 * meta.variables.len());
    let mut need_kinds = false;
    for (i, (k, v)) in meta.variables.iter().enumerate() {
        write::str(&mut vars, k);
        if !write_variable(&mut vars, meta.variable_kinds.get(i).copied(), v) {
            need_kinds = true;
        }
    }
    write::map_len(&mut body, if need_kinds { 10 } else { 9 });
    write::str(&mut body, "timekey");
    match meta.timekey {
        Some(t) => write::int(&mut body, t),
        None => write::nil(&mut body),
    }
    write::str(&mut body, "tag");
    match &meta.tag {
        Some(t) => write::str(&mut body, t),
        None => write::nil(&mut body),
    }
    write::str(&mut body, "variables");
    if meta.variables.is_empty() {
        write::nil(&mut body);
    } else {
        write::map_len(
            &mut body,
            u32::try_from(meta.variables.len()).unwrap_or(u32::MAX),
        );
        body.extend_from_slice(&vars);
    }
    write::str(&mut body, "seq");
    write::uint(&mut body, meta.seq);
    write::str(&mut body, "id");
    write::bin(&mut body, &id.0);
    write::str(&mut body, "s");
    write::uint(&mut body, meta.records);
    write::str(&mut body, "c");
    write::int(&mut body, meta.created);
    write::str(&mut body, "m");
    write::int(&mut body, meta.modified);
    write::str(&mut body, "z");
    write::uint(&mut body, meta.bytes);
    if need_kinds {
        write::str(&mut body, "k");
        write::array_len(
            &mut body,
            u32::try_from(meta.variable_kinds.len()).unwrap_or(u32::MAX),
        );
        for &kind in &meta.variable_kinds {
            write::uint(&mut body, u64::from(kind));
        }
    }

    let mut out = Vec::with_capacity(6 + body.len());
    out.extend_from_slice(&META_HEADER);
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&body);
    out
}

/// Write one chunk-key value of kind `kind` ([`value_kind`]) whose Ruby text is `text` as the
/// value itself, so that it reads back with the same kind and text. `false` when that is not
/// possible (an Array, a Hash, an extension, or a text that is not its kind's): the text is
/// written as a string and the kind must be kept elsewhere.
fn write_variable(out: &mut Vec<u8>, kind: Option<u8>, text: &str) -> bool {
    match kind {
        Some(0) if text.is_empty() => write::nil(out),
        Some(1) if text == "true" || text == "false" => write::bool(out, text == "true"),
        Some(2) => {
            if let Ok(n) = text.parse::<i64>() {
                write::int(out, n);
            } else if let Ok(n) = text.parse::<u64>() {
                write::uint(out, n);
            } else {
                write::str(out, text);
                return false;
            }
        }
        Some(3) => match parse_ruby_float(text) {
            Some(f) => write::f64(out, f),
            None => {
                write::str(out, text);
                return false;
            }
        },
        // A string, or a chunk written before kinds were known: its text.
        Some(4) | None => write::str(out, text),
        Some(_) => {
            write::str(out, text);
            return false;
        }
    }
    true
}

/// The Float whose Ruby `to_s` is `text` (`1.0e+20`, `-0.0`, `Infinity`, `NaN`), if any.
fn parse_ruby_float(text: &str) -> Option<f64> {
    let f = match text {
        "Infinity" => f64::INFINITY,
        "-Infinity" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        t if t
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.e".contains(&b)) =>
        {
            t.parse().ok()?
        }
        _ => return None,
    };
    (logferry_formats::ruby::to_s(&Value::F64(f)) == text).then_some(f)
}

/// Decode a `.meta` file into its chunk id (when it has an `id` key) and metadata, whose `bytes`
/// is the committed size `z` (0 when the file has no `z`: use [`decode_meta_record`] to tell).
///
/// A pure function for fuzzing: it never panics, never loops without consuming input, and never
/// allocates more than the input could describe. Accepts the headered format and Fluentd's older
/// header-less map; unknown keys are skipped.
pub fn decode_meta(bytes: &[u8]) -> Result<(Option<ChunkId>, ChunkMeta), String> {
    decode_meta_record(bytes).map(|r| (r.id, r.meta))
}

/// Like [`decode_meta`], also telling whether the committed size `z` was present.
pub fn decode_meta_record(bytes: &[u8]) -> Result<MetaRecord, String> {
    if bytes.is_empty() {
        return Err("empty .meta".into());
    }
    if bytes.starts_with(&META_HEADER) {
        let len = bytes
            .get(2..6)
            .ok_or_else(|| format!(".meta header cut short ({} bytes)", bytes.len()))?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len > MAX_META_LEN {
            return Err(format!(
                ".meta header announces {len} bytes, over the 1 MiB limit"
            ));
        }
        let rest = &bytes[6..];
        // Trailing bytes after the announced body are tolerated, as Fluentd does (an in-place
        // rewrite interrupted before its truncate leaves the tail of the older, longer meta).
        let body = rest.get(..len).ok_or_else(|| {
            format!(
                ".meta body cut short: header announces {len} bytes, {} present",
                rest.len()
            )
        })?;
        let (rec, used) = decode_map(body)?;
        if used != body.len() {
            return Err(format!(
                ".meta body holds {} bytes after its map",
                body.len() - used
            ));
        }
        Ok(rec)
    } else if matches!(bytes[0], 0x80..=0x8f | 0xde | 0xdf) {
        let (mut rec, _) = decode_map(bytes)?;
        rec.headerless = true;
        Ok(rec)
    } else {
        Err(format!(
            "not a chunk .meta: starts with byte {:#04x}, neither the C1 00 header nor a map",
            bytes[0]
        ))
    }
}

fn err(key: &str, e: impl std::fmt::Display) -> String {
    format!(".meta key `{key}`: {e}")
}

fn is_nil(r: &Reader) -> bool {
    r.peek() == Some(0xc0)
}

fn opt_i64(r: &mut Reader, key: &str) -> Result<Option<i64>, String> {
    if is_nil(r) {
        r.read_nil().map_err(|e| err(key, e))?;
        return Ok(None);
    }
    r.read_i64().map(Some).map_err(|e| err(key, e))
}

/// Decode the map at the start of `body`; returns the record and the bytes used.
fn decode_map(body: &[u8]) -> Result<(MetaRecord, usize), String> {
    let mut r = Reader::new(body);
    let n = r.read_map_len().map_err(|e| format!(".meta: {e}"))?;
    let mut rec = MetaRecord {
        id: None,
        meta: ChunkMeta::default(),
        committed: None,
        headerless: false,
    };
    let mut kinds: Vec<u8> = Vec::new();
    // Every iteration consumes at least one byte or returns, so a huge announced count on a
    // short input ends quickly.
    for _ in 0..n {
        let key = match r.read_str() {
            Ok(k) => k,
            Err(_) => {
                // A non-string key: skip the pair.
                r.skip().map_err(|e| format!(".meta key: {e}"))?;
                r.skip().map_err(|e| format!(".meta value: {e}"))?;
                continue;
            }
        };
        match key {
            b"timekey" => rec.meta.timekey = opt_i64(&mut r, "timekey")?,
            b"tag" => {
                rec.meta.tag = if is_nil(&r) {
                    r.read_nil().map_err(|e| err("tag", e))?;
                    None
                } else {
                    let t = r.read_str().map_err(|e| err("tag", e))?;
                    Some(String::from_utf8_lossy(t).into_owned())
                }
            }
            b"variables" => {
                rec.meta.variables.clear();
                rec.meta.variable_kinds.clear();
                if is_nil(&r) {
                    r.read_nil().map_err(|e| err("variables", e))?;
                } else {
                    let m = r.read_map_len().map_err(|e| err("variables", e))?;
                    for _ in 0..m {
                        let k = r.read_str().map_err(|e| err("variables", e))?;
                        let raw = r.read_raw().map_err(|e| err("variables", e))?;
                        Value::decode(raw).map_err(|e| err("variables", e))?;
                        let mut scratch = String::new();
                        let text = raw_to_s(Some(raw), &mut scratch).to_string();
                        rec.meta
                            .variables
                            .push((String::from_utf8_lossy(k).into_owned(), text));
                        rec.meta.variable_kinds.push(value_kind(Some(raw)));
                    }
                }
            }
            b"seq" => rec.meta.seq = r.read_u64().map_err(|e| err("seq", e))?,
            b"id" => {
                let id = r.read_str().map_err(|e| err("id", e))?;
                let id: [u8; 16] = id
                    .try_into()
                    .map_err(|_| err("id", format!("{} bytes, not 16", id.len())))?;
                rec.id = Some(ChunkId(id));
            }
            b"s" => rec.meta.records = r.read_u64().map_err(|e| err("s", e))?,
            b"c" => rec.meta.created = r.read_i64().map_err(|e| err("c", e))?,
            b"m" => rec.meta.modified = r.read_i64().map_err(|e| err("m", e))?,
            b"z" => {
                let z = r.read_u64().map_err(|e| err("z", e))?;
                rec.committed = Some(z);
                rec.meta.bytes = z;
            }
            b"k" => {
                let n = r.read_array_len().map_err(|e| err("k", e))?;
                kinds.clear();
                for _ in 0..n {
                    let kind = r.read_u64().map_err(|e| err("k", e))?;
                    kinds.push(u8::try_from(kind).map_err(|e| err("k", e))?);
                }
            }
            _ => r.skip().map_err(|e| format!(".meta value: {e}"))?,
        }
    }
    // logferry's `k` (kinds the values' own types do not tell) applies when it covers every
    // variable, wherever it stood in the map.
    if !kinds.is_empty() && kinds.len() == rec.meta.variables.len() {
        rec.meta.variable_kinds = kinds;
    }
    Ok((rec, r.pos()))
}
