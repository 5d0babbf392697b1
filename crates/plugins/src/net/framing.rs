//! Splitting a byte stream into messages: by a delimiter (`tcp`, and `syslog`'s
//! `frame_type traditional`) or by octet counting (`syslog`'s `frame_type octet_count`,
//! RFC 6587 `LEN SP MSG`).
//!
//! Memory is bounded by the limit: a message longer than it is dropped and counted (as
//! Fluentd's in_tcp does with `message_length_limit`); while the rest of such a message is
//! still arriving, it is discarded up to the next delimiter instead of being buffered.

/// How messages are separated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with this byte string (never empty).
    Delimited(Vec<u8>),
    /// Each message is preceded by its length in decimal and a space.
    OctetCounted,
}

/// What the framer found.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// One whole message, without its delimiter or length prefix.
    Message(&'a [u8]),
    /// A message longer than the limit, dropped; its length (as far as it was seen).
    TooLong(usize),
}

/// A stream that is not octet-counted where it must be: the connection cannot go on.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

/// Bytes read per call (and the most a read adds to the buffer).
pub const READ_SIZE: usize = 64 * 1024;

/// Splits what one connection sends into messages.
pub struct Framer {
    framing: Framing,
    limit: usize,
    buf: Vec<u8>,
    /// Bytes of `buf` already searched for a delimiter without success.
    scanned: usize,
    /// Dropping a too-long message up to its next delimiter.
    discarding: bool,
    /// Octet counting: bytes of a too-long message still to skip.
    skip: usize,
}

impl Framer {
    /// A framer dropping messages longer than `limit` bytes.
    pub fn new(framing: Framing, limit: usize) -> Self {
        Framer {
            framing,
            limit,
            buf: Vec::with_capacity(READ_SIZE.min(limit.saturating_add(1))),
            scanned: 0,
            discarding: false,
            skip: 0,
        }
    }

    /// Where the next read appends (read at most [`READ_SIZE`] bytes into it).
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Hand every whole message in the buffer to `f`, keeping the incomplete rest.
    pub fn drain(&mut self, mut f: impl FnMut(Piece<'_>)) -> Result<(), Malformed> {
        match &self.framing {
            Framing::Delimited(d) => {
                let d = d.clone();
                self.drain_delimited(&d, &mut f);
                Ok(())
            }
            Framing::OctetCounted => self.drain_counted(&mut f),
        }
    }

    fn drain_delimited(&mut self, d: &[u8], f: &mut impl FnMut(Piece<'_>)) {
        let mut pos = 0;
        let mut from = self.scanned;
        while let Some(i) = find(&self.buf[from..], d).map(|i| i + from) {
            let msg = &self.buf[pos..i];
            pos = i + d.len();
            from = pos;
            if self.discarding {
                self.discarding = false;
                continue;
            }
            if msg.len() > self.limit {
                f(Piece::TooLong(msg.len()));
            } else {
                f(Piece::Message(msg));
            }
        }
        self.buf.drain(..pos);
        // A delimiter may straddle two reads: search its possible start again next time.
        self.scanned = self.buf.len().saturating_sub(d.len() - 1);
        if self.buf.len() > self.limit {
            if !self.discarding {
                f(Piece::TooLong(self.buf.len()));
            }
            self.buf.clear();
            self.scanned = 0;
            self.discarding = true;
        }
    }

    fn drain_counted(&mut self, f: &mut impl FnMut(Piece<'_>)) -> Result<(), Malformed> {
        let mut pos = 0;
        loop {
            if self.skip > 0 {
                let n = self.skip.min(self.buf.len() - pos);
                self.skip -= n;
                pos += n;
                if self.skip > 0 {
                    break;
                }
            }
            // Line breaks between frames are tolerated (as Ruby's Integer() in Fluentd).
            while pos < self.buf.len() && matches!(self.buf[pos], b'\n' | b'\r') {
                pos += 1;
            }
            let rest = &self.buf[pos..];
            let Some(sp) = rest.iter().take(11).position(|&b| b == b' ') else {
                if rest.len() > 10 || !rest.iter().all(u8::is_ascii_digit) {
                    return Err(Malformed(format!(
                        "expected an octet count (digits and a space), got {}",
                        show(&rest[..rest.len().min(32)])
                    )));
                }
                break;
            };
            let digits = &rest[..sp];
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(Malformed(format!(
                    "expected an octet count (digits and a space), got {}",
                    show(&rest[..(sp + 1).min(32)])
                )));
            }
            let len: usize = std::str::from_utf8(digits)
                .ok()
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| Malformed("octet count out of range".into()))?;
            if len > self.limit {
                f(Piece::TooLong(len));
                pos += sp + 1;
                self.skip = len;
                continue;
            }
            if rest.len() < sp + 1 + len {
                break;
            }
            f(Piece::Message(&rest[sp + 1..sp + 1 + len]));
            pos += sp + 1 + len;
        }
        self.buf.drain(..pos);
        Ok(())
    }

    /// At the end of the stream: the unterminated last message of a delimited stream (Fluentd
    /// drops it; a client that closes without a final delimiter sent it all the same), or the
    /// size of an incomplete octet-counted frame, which is lost.
    pub fn finish(&mut self, mut f: impl FnMut(Piece<'_>)) -> usize {
        let rest = std::mem::take(&mut self.buf);
        match self.framing {
            Framing::Delimited(_) if !self.discarding && !rest.is_empty() => {
                f(Piece::Message(&rest));
                0
            }
            Framing::Delimited(_) => 0,
            Framing::OctetCounted => {
                let trimmed = rest.iter().filter(|b| !matches!(b, b'\n' | b'\r')).count();
                if trimmed > 0 || self.skip > 0 {
                    rest.len().max(1)
                } else {
                    0
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => hay.iter().position(|x| x == b),
        _ => hay.windows(needle.len()).position(|w| w == needle),
    }
}

/// A short, printable view of some bytes for a log line.
pub fn show(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(f: &mut Framer, chunks: &[&[u8]]) -> Vec<String> {
        let mut out = Vec::new();
        for c in chunks {
            f.buffer().extend_from_slice(c);
            f.drain(|p| {
                out.push(match p {
                    Piece::Message(m) => String::from_utf8_lossy(m).into_owned(),
                    Piece::TooLong(n) => format!("<too long {n}>"),
                })
            })
            .unwrap();
        }
        f.finish(|p| {
            if let Piece::Message(m) = p {
                out.push(format!("<last {}>", String::from_utf8_lossy(m)))
            }
        });
        out
    }

    #[test]
    fn delimited_as_fluentd_in_tcp() {
        // Recorded from Fluentd 1.16.11 in_tcp with message_length_limit 20: the long line is
        // dropped, "\r" is kept; Fluentd drops the unterminated "partial", logferry keeps it.
        let mut f = Framer::new(Framing::Delimited(b"\n".to_vec()), 20);
        let got = run(
            &mut f,
            &[b"line one\nline two is longer than twenty bytes\nthree\r\npartial"],
        );
        assert_eq!(
            got,
            ["line one", "<too long 36>", "three\r", "<last partial>"]
        );
    }

    #[test]
    fn delimiters_split_across_reads_and_long_lines_are_discarded_in_pieces() {
        let mut f = Framer::new(Framing::Delimited(b"\r\n".to_vec()), 8);
        let got = run(
            &mut f,
            &[b"ab\r", b"\ncd\r\nlonglonglong", b"longer", b"\r\nok\r\n"],
        );
        assert_eq!(got, ["ab", "cd", "<too long 12>", "ok"]);
    }

    #[test]
    fn octet_counting() {
        let mut f = Framer::new(Framing::OctetCounted, 10);
        let got = run(
            &mut f,
            &[b"5 hel", b"lo\n3 a\nb12 ", b"0123456789ab", b"2 ok"],
        );
        assert_eq!(got, ["hello", "a\nb", "<too long 12>", "ok"]);
        let mut f = Framer::new(Framing::OctetCounted, 10);
        f.buffer().extend_from_slice(b"<13>no count");
        assert!(f.drain(|_| {}).is_err());
        let mut f = Framer::new(Framing::OctetCounted, 10);
        f.buffer().extend_from_slice(b"9 abc");
        f.drain(|_| panic!("incomplete")).unwrap();
        assert_eq!(f.finish(|_| {}), 5);
    }
}
