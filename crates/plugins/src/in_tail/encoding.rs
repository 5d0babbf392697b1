//! `from_encoding` / `encoding`: each line is converted from the file's encoding to the wanted
//! one, invalid or unmappable characters replaced (U+FFFD into a Unicode encoding, `?` into
//! others), as Ruby's `String#encode` with `invalid: :replace, undef: :replace` does after
//! Fluentd's strict attempt failed. Encodings are looked up by their usual names (Ruby's names
//! and the WHATWG labels); lines are split on `\n`, so the file's encoding must be
//! ASCII-compatible (UTF-16 and UTF-32 are refused at start-up).

use encoding_rs::{Encoding, UTF_8};

/// An encoding as configured: binary (`ASCII-8BIT`, `BINARY`) or a real one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Enc {
    /// Bytes without an encoding.
    Binary,
    /// A character encoding.
    Text(&'static Encoding),
}

/// Look an encoding up by name.
pub fn lookup(name: &str) -> Result<Enc, String> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("ASCII-8BIT") || n.eq_ignore_ascii_case("BINARY") {
        return Ok(Enc::Binary);
    }
    let label = if n.eq_ignore_ascii_case("Windows-31J") || n.eq_ignore_ascii_case("CP932") {
        "shift_jis"
    } else {
        n
    };
    Encoding::for_label(label.as_bytes())
        .map(Enc::Text)
        .ok_or_else(|| format!("unknown encoding name - {name}"))
}

/// Converts lines from one encoding to another.
pub struct Converter {
    from: &'static Encoding,
    to: &'static Encoding,
}

impl Converter {
    /// The conversion `from_encoding` → `encoding`; `None` when nothing is to be converted
    /// (no `from_encoding`: the bytes are taken as already in `encoding`; or both the same).
    pub fn new(from: Option<Enc>, to: Option<Enc>) -> Result<Option<Converter>, String> {
        let (Some(from), Some(to)) = (from, to) else {
            return Ok(None);
        };
        if from == to {
            return Ok(None);
        }
        for e in [from, to] {
            if let Enc::Text(t) = e {
                if !t.is_ascii_compatible() {
                    return Err(format!(
                        "{}: logferry's tail input splits lines on the byte \\n and reads only ASCII-compatible encodings",
                        t.name()
                    ));
                }
            }
        }
        let text = |e: Enc| match e {
            Enc::Text(t) => t,
            // Converting from or to binary: Ruby keeps the ASCII bytes and replaces the others.
            Enc::Binary => encoding_rs::WINDOWS_1252,
        };
        if from == Enc::Binary || to == Enc::Binary {
            return Err(
                "converting between ASCII-8BIT and a character encoding replaces every non-ASCII byte; leave from_encoding out to keep the bytes"
                    .into(),
            );
        }
        Ok(Some(Converter {
            from: text(from),
            to: text(to),
        }))
    }

    /// Append `line` converted to `out`.
    pub fn convert_into(&self, line: &[u8], out: &mut Vec<u8>) {
        let (text, _) = self.from.decode_without_bom_handling(line);
        if self.to == UTF_8 {
            out.extend_from_slice(text.as_bytes());
            return;
        }
        let mut enc = self.to.new_encoder();
        let mut src: &str = &text;
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
        c.convert_into(b"\x82\xa0 ok", &mut out);
        assert_eq!(std::str::from_utf8(&out).unwrap(), "\u{3042} ok");
        let back = Converter::new(
            Some(lookup("UTF-8").unwrap()),
            Some(lookup("EUC-JP").unwrap()),
        )
        .unwrap()
        .unwrap();
        out.clear();
        back.convert_into("\u{3042}\u{1F600}".as_bytes(), &mut out);
        assert_eq!(out, b"\xa4\xa2?");
        assert!(Converter::new(
            Some(lookup("UTF-16LE").unwrap()),
            Some(lookup("UTF-8").unwrap())
        )
        .is_err());
        assert!(lookup("nope").is_err());
        assert!(Converter::new(None, Some(Enc::Binary)).unwrap().is_none());
    }
}
