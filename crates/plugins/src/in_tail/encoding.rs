//! `from_encoding` / `encoding`: each line is converted from the file's encoding to the wanted
//! one, invalid or unmappable characters replaced (U+FFFD into a Unicode encoding, `?` into
//! others), as Ruby's `String#encode` with `invalid: :replace, undef: :replace` does after
//! Fluentd's strict attempt failed. Encodings are looked up by their usual names (Ruby's names
//! and the WHATWG labels). Files in UTF-16 or UTF-32 are split on the encoded newline
//! ([`super::wide`]); the wanted `encoding` must be ASCII-compatible (UTF-8 ...).

use encoding_rs::{Encoding, UTF_8};

use super::wide::{Decoder, Wide};

/// An encoding as configured: binary (`ASCII-8BIT`, `BINARY`) or a real one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Enc {
    /// Bytes without an encoding.
    Binary,
    /// An ASCII-compatible character encoding (lines end in the byte `\n`).
    Text(&'static Encoding),
    /// UTF-16 or UTF-32 (lines end in the newline unit).
    Wide(Wide),
}

/// Look an encoding up by name.
pub fn lookup(name: &str) -> Result<Enc, String> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("ASCII-8BIT") || n.eq_ignore_ascii_case("BINARY") {
        return Ok(Enc::Binary);
    }
    if let Some(w) = Wide::lookup(n) {
        return Ok(Enc::Wide(w));
    }
    let label = if n.eq_ignore_ascii_case("Windows-31J") || n.eq_ignore_ascii_case("CP932") {
        "shift_jis"
    } else {
        n
    };
    match Encoding::for_label(label.as_bytes()) {
        // WHATWG's labels for UTF-16 ("unicode", "ucs-2" ...) are no Ruby names.
        Some(e) if e != encoding_rs::UTF_16LE && e != encoding_rs::UTF_16BE => Ok(Enc::Text(e)),
        _ => Err(format!("unknown encoding name - {name}")),
    }
}

/// What the file's bytes are decoded from.
enum Source {
    Text(&'static Encoding),
    Wide(Decoder),
}

/// Converts the lines of one file from one encoding to another.
pub struct Converter {
    from: Source,
    to: &'static Encoding,
}

impl Converter {
    /// The conversion `from_encoding` → `encoding`; `None` when nothing is to be converted
    /// (no `from_encoding`: the bytes are taken as already in `encoding`; or both the same).
    pub fn new(from: Option<Enc>, to: Option<Enc>) -> Result<Option<Converter>, String> {
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(None);
        };
        let to = match to {
            Enc::Text(t) if t.is_ascii_compatible() => t,
            Enc::Wide(_) => {
                return Err(
                    "logferry's tail input converts lines only into an ASCII-compatible encoding (UTF-8 ...), not UTF-16 or UTF-32"
                        .into(),
                )
            }
            Enc::Text(t) => return Err(not_ascii(t)),
            Enc::Binary if from == Enc::Binary => return Ok(None),
            Enc::Binary => return Err(binary()),
        };
        let from = match from {
            Enc::Text(t) if t == to => return Ok(None),
            Enc::Text(t) if t.is_ascii_compatible() => Source::Text(t),
            Enc::Text(t) => return Err(not_ascii(t)),
            Enc::Wide(w) => Source::Wide(Decoder::new(w)),
            Enc::Binary => return Err(binary()),
        };
        Ok(Some(Converter { from, to }))
    }

    /// The file is in UTF-16 or UTF-32: its decoder (line ends, byte order).
    pub fn wide(&mut self) -> Option<&mut Decoder> {
        match &mut self.from {
            Source::Wide(d) => Some(d),
            Source::Text(_) => None,
        }
    }

    /// Append `line` (starting at file offset `start`) converted to `out`.
    pub fn convert_into(&self, line: &[u8], start: u64, out: &mut Vec<u8>) {
        match &self.from {
            Source::Wide(d) if self.to == UTF_8 => d.decode_into(line, start == 0, out),
            Source::Wide(d) => {
                let mut utf8 = Vec::with_capacity(line.len());
                d.decode_into(line, start == 0, &mut utf8);
                self.encode(&String::from_utf8_lossy(&utf8), out);
            }
            Source::Text(from) => {
                let (text, _) = from.decode_without_bom_handling(line);
                self.encode(&text, out);
            }
        }
    }

    fn encode(&self, text: &str, out: &mut Vec<u8>) {
        if self.to == UTF_8 {
            out.extend_from_slice(text.as_bytes());
            return;
        }
        let mut enc = self.to.new_encoder();
        let mut src: &str = text;
        let mut buf = vec![0u8; src.len() * 2 + 16];
        loop {
            let (res, read, written) =
                enc.encode_from_utf8_without_replacement(src, &mut buf, true);
            out.extend_from_slice(&buf[..written]);
            src = &src[read..];
            match res {
                encoding_rs::EncoderResult::InputEmpty => return,
                encoding_rs::EncoderResult::OutputFull => {}
                encoding_rs::EncoderResult::Unmappable(_) => out.push(b'?'),
            }
        }
    }
}

fn not_ascii(t: &'static Encoding) -> String {
    format!(
        "{}: logferry's tail input reads ASCII-compatible encodings, UTF-16 and UTF-32",
        t.name()
    )
}

fn binary() -> String {
    "converting between ASCII-8BIT and a character encoding replaces every non-ASCII byte; leave from_encoding out to keep the bytes".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_and_replaces() {
        let c = Converter::new(
            Some(lookup("Shift_JIS").unwrap()),
            Some(lookup("UTF-8").unwrap()),
        )
        .unwrap()
        .unwrap();
        let mut out = Vec::new();
        c.convert_into(b"\x82\xa0 ok", 0, &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), "\u{3042} ok");
        let back = Converter::new(
            Some(lookup("UTF-8").unwrap()),
            Some(lookup("EUC-JP").unwrap()),
        )
        .unwrap()
        .unwrap();
        out.clear();
        back.convert_into("\u{3042}\u{1F600}".as_bytes(), 0, &mut out);
        assert_eq!(out, b"\xa4\xa2?");
        let mut wide = Converter::new(
            Some(lookup("UTF-16LE").unwrap()),
            Some(lookup("ISO-8859-1").unwrap()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(wide.wide().unwrap().unit(), 2);
        out.clear();
        wide.convert_into(b"\xe9\x00\x42\x30", 0, &mut out);
        assert_eq!(out, b"\xe9?");
        assert!(Converter::new(
            Some(lookup("UTF-8").unwrap()),
            Some(lookup("utf-32le").unwrap())
        )
        .is_err());
        assert!(lookup("unicode").is_err());
        assert!(lookup("nope").is_err());
        assert!(Converter::new(None, Some(Enc::Binary)).unwrap().is_none());
    }
}
