//! Reading one file (Fluentd's `IOHandler` and `FIFO`): fixed-size blocks from the position,
//! complete lines (ending in `\n`, or in the newline unit of a UTF-16 or UTF-32 file) taken
//! out, the incomplete rest kept until its end arrives. Memory is bounded: a line longer than
//! the limit (`max_line_size`, else [`DEFAULT_LINE_LIMIT`]) is skipped as it arrives, never held
//! whole, and reported once. The limit counts the line's bytes after conversion and its newline,
//! as Fluentd's; a line being converted is held up to four times the limit before it is known
//! to be over it (no conversion shrinks a line more than that).
//!
//! Every line carries the file offset where it starts, so the position recorded is always the
//! start of the first line not yet accepted downstream.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::encoding::Converter;
use super::wide::Decoder;

/// Bytes read at a time.
pub const BLOCK: usize = 64 * 1024;
/// The longest line kept when `max_line_size` is not set (a longer one is skipped).
pub const DEFAULT_LINE_LIMIT: usize = 16 * 1024 * 1024;

/// Complete lines read from a file, without their `\n`.
#[derive(Default)]
pub struct Lines {
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
    starts: Vec<u64>,
    /// The read buffer, shared by every file of the input (one block, not one per file).
    block: Vec<u8>,
}

impl Lines {
    /// How many lines.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// No line.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Line `i` (without its `\n`).
    pub fn line(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.data[a..b]
    }

    /// File offset where line `i` starts.
    pub fn start(&self, i: usize) -> u64 {
        self.starts[i]
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Forget every line (keeps the allocations).
    pub fn clear(&mut self) {
        self.data.clear();
        self.spans.clear();
        self.starts.clear();
    }

    /// Add a line (converted); `false`: converted, it is longer than `limit` and was dropped.
    fn push(&mut self, line: &[u8], start: u64, conv: Option<&Converter>, limit: usize) -> bool {
        let a = self.data.len();
        match conv {
            Some(c) => c.convert_into(line, start, &mut self.data),
            None => self.data.extend_from_slice(line),
        }
        if self.data.len() - a + 1 > limit {
            self.data.truncate(a);
            return false;
        }
        self.spans.push((a, self.data.len()));
        self.starts.push(start);
        true
    }
}

/// One open (or closed) file and the bytes of its incomplete last line.
pub struct Reader {
    file: Option<File>,
    /// Offset of the next byte to read.
    off: u64,
    /// The incomplete line, starting at `fifo_off`.
    fifo: Vec<u8>,
    fifo_off: u64,
    /// Dropping the rest of a line over the limit.
    skipping: bool,
    eof: bool,
    limit: usize,
    /// The limit on the bytes held of a line before it is converted.
    raw_limit: usize,
    conv: Option<Converter>,
    /// The bytes of a UTF-16/UTF-32 unit the last block ended within.
    partial: [u8; 4],
    partial_len: usize,
    /// Lines skipped for their length.
    pub skipped: u64,
    /// "following tail of" was logged (once a reader, not at every open).
    pub announced: bool,
}

impl Reader {
    /// A reader that will start at `pos`.
    pub fn new(pos: u64, limit: usize, conv: Option<Converter>) -> Reader {
        Reader {
            file: None,
            off: pos,
            fifo: Vec::new(),
            fifo_off: pos,
            skipping: false,
            eof: false,
            limit,
            raw_limit: if conv.is_some() {
                limit.saturating_mul(4)
            } else {
                limit
            },
            conv,
            partial: [0; 4],
            partial_len: 0,
            skipped: 0,
            announced: false,
        }
    }

    /// Is the file open?
    pub fn opened(&self) -> bool {
        self.file.is_some()
    }

    /// Did the last read reach the end of the file?
    pub fn eof(&self) -> bool {
        self.eof
    }

    /// The offset of the first byte not in a complete line (what the pos file records once every
    /// line before it was accepted).
    pub fn consumed(&self) -> u64 {
        self.fifo_off
    }

    /// Open `path` at the current offset. `Ok(false)`: it does not exist (or is not readable,
    /// which is logged by the caller).
    pub fn open(&mut self, path: &str) -> std::io::Result<bool> {
        if self.file.is_some() {
            return Ok(true);
        }
        let mut f = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        f.seek(SeekFrom::Start(self.off))?;
        self.file = Some(f);
        Ok(true)
    }

    /// Close the file (it is opened again at the same offset when needed).
    pub fn close(&mut self) {
        self.file = None;
    }

    /// Start again at `pos` (a truncated file): the incomplete line is dropped.
    pub fn reset(&mut self, pos: u64) {
        self.file = None;
        self.off = pos;
        self.fifo.clear();
        self.fifo_off = pos;
        self.skipping = false;
        self.eof = false;
        self.partial_len = 0;
        if let Some(d) = self.conv.as_mut().and_then(Converter::wide) {
            d.forget();
        }
    }

    /// Read one block (at most `max` bytes) and move the complete lines into `lines`. Returns
    /// the bytes read: 0 at the end of the file (or when the file is not open).
    pub fn read_block(&mut self, lines: &mut Lines, max: usize) -> std::io::Result<usize> {
        let Some(f) = self.file.as_mut() else {
            self.eof = true;
            return Ok(0);
        };
        if let Some(d) = self.conv.as_mut().and_then(Converter::wide) {
            if d.needs_head() {
                // UTF-16 / UTF-32: the byte order is in the file's first unit.
                let mut head = [0u8; 4];
                let head = &mut head[..d.unit()];
                if read_at_full(f, head, 0)? < head.len() {
                    self.eof = true;
                    return Ok(0);
                }
                d.resolve(head);
            }
        }
        let mut block = std::mem::take(&mut lines.block);
        block.resize(BLOCK.min(max.max(1)), 0);
        let n = loop {
            match f.read(&mut block) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    lines.block = block;
                    return Err(e);
                }
            }
        };
        if n == 0 {
            lines.block = block;
            self.eof = true;
            return Ok(0);
        }
        self.eof = false;
        let start_off = self.off;
        self.off += n as u64;
        self.take_lines(&block[..n], start_off, lines);
        lines.block = block;
        Ok(n)
    }

    fn take_lines(&mut self, data: &[u8], data_off: u64, lines: &mut Lines) {
        if let Some(d) = self.conv.as_mut().and_then(Converter::wide) {
            let d = *d;
            return self.take_wide_lines(&d, data, data_off, lines);
        }
        let mut rest = data;
        let mut rest_off = data_off;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let end_off = rest_off + i as u64 + 1;
            self.end_line(&rest[..i], end_off, lines);
            rest = &rest[i + 1..];
            rest_off = end_off;
        }
        self.extend_line(rest);
    }

    /// The same for a UTF-16 or UTF-32 file: lines end in the newline unit, units counted from
    /// where the reading started (a unit the block ends within is completed by the next).
    fn take_wide_lines(&mut self, d: &Decoder, data: &[u8], data_off: u64, lines: &mut Lines) {
        let u = d.unit();
        let mut rest = data;
        let mut rest_off = data_off;
        if self.partial_len > 0 {
            let n = (u - self.partial_len).min(rest.len());
            self.partial[self.partial_len..self.partial_len + n].copy_from_slice(&rest[..n]);
            self.partial_len += n;
            rest = &rest[n..];
            rest_off += n as u64;
            if self.partial_len < u {
                return;
            }
            self.partial_len = 0;
            let unit = self.partial;
            if d.is_newline(&unit[..u]) {
                self.end_line(&[], rest_off, lines);
            } else {
                self.extend_line(&unit[..u]);
            }
        }
        let (mut body, tail) = rest.split_at(rest.len() - rest.len() % u);
        while let Some(i) = d.find_newline(body) {
            let end_off = rest_off + (i + u) as u64;
            self.end_line(&body[..i], end_off, lines);
            body = &body[i + u..];
            rest_off = end_off;
        }
        self.extend_line(body);
        self.partial[..tail.len()].copy_from_slice(tail);
        self.partial_len = tail.len();
    }

    /// The current line ends with `piece` (its newline ends at file offset `end_off`).
    fn end_line(&mut self, piece: &[u8], end_off: u64, lines: &mut Lines) {
        if self.skipping {
            self.skipping = false;
        } else if self.fifo.len() + piece.len() + 1 > self.raw_limit {
            self.skipped += 1;
            self.fifo.clear();
        } else {
            let kept = if self.fifo.is_empty() {
                lines.push(piece, self.fifo_off, self.conv.as_ref(), self.limit)
            } else {
                self.fifo.extend_from_slice(piece);
                let kept = lines.push(&self.fifo, self.fifo_off, self.conv.as_ref(), self.limit);
                self.fifo.clear();
                kept
            };
            if !kept {
                self.skipped += 1;
            }
        }
        self.fifo_off = end_off;
    }

    /// The current line goes on with `piece` (its end has not arrived).
    fn extend_line(&mut self, piece: &[u8]) {
        if self.skipping {
            return;
        }
        if self.fifo.len() + piece.len() + 1 > self.raw_limit {
            // Over the limit before its end arrives: drop it now, and the rest as it comes.
            self.skipping = true;
            self.skipped += 1;
            self.fifo.clear();
            self.fifo.shrink_to(BLOCK);
        } else {
            self.fifo.extend_from_slice(piece);
        }
    }
}

/// Read into `buf` from offset `at` until it is full or the file ends; the bytes read.
fn read_at_full(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    use std::os::unix::fs::FileExt;
    let mut n = 0;
    while n < buf.len() {
        match f.read_at(&mut buf[n..], at + n as u64) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn all(r: &mut Reader) -> Lines {
        let mut l = Lines::default();
        while r.read_block(&mut l, BLOCK).unwrap() > 0 {}
        l
    }

    #[test]
    fn lines_offsets_partial_tail_and_long_lines() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let long = "x".repeat(100);
        std::fs::write(&p, format!("one\n{long}\ntwo\nthr")).unwrap();
        let mut r = Reader::new(0, 50, None);
        assert!(r.open(p.to_str().unwrap()).unwrap());
        let l = all(&mut r);
        assert_eq!(l.len(), 2);
        assert_eq!(l.line(0), b"one");
        assert_eq!(l.line(1), b"two");
        assert_eq!((l.start(0), l.start(1)), (0, 105));
        assert_eq!(r.skipped, 1);
        // The incomplete line is not consumed; its end arrives later.
        assert_eq!(r.consumed(), 109);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"ee\n").unwrap();
        let l = all(&mut r);
        assert_eq!(l.line(0), b"three");
        assert_eq!(r.consumed(), 115);
    }

    #[test]
    fn a_long_line_across_blocks_is_skipped_without_holding_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let long = "y".repeat(3 * BLOCK);
        std::fs::write(&p, format!("a\n{long}\nb\n")).unwrap();
        let mut r = Reader::new(0, 1000, None);
        r.open(p.to_str().unwrap()).unwrap();
        let l = all(&mut r);
        assert_eq!((l.len(), l.line(0), l.line(1)), (2, &b"a"[..], &b"b"[..]));
        assert!(r.fifo.capacity() <= 2 * BLOCK);
        assert_eq!(r.skipped, 1);
    }

    fn wide_reader(name: &str, limit: usize) -> Reader {
        use super::super::encoding::lookup;
        let conv = Converter::new(Some(lookup(name).unwrap()), Some(lookup("UTF-8").unwrap()));
        Reader::new(0, limit, conv.unwrap())
    }

    fn texts(l: &Lines) -> Vec<String> {
        (0..l.len())
            .map(|i| String::from_utf8(l.line(i).to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn utf16_lines_split_on_the_newline_unit_across_blocks_and_partial_writes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        // U+0A41 U+4100 holds the bytes 0A 00 at an odd offset: no line end.
        let text: Vec<u8> = "h\u{e9}\n\u{a41}\u{4100}\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        std::fs::write(&p, &text[..7]).unwrap();
        let mut r = wide_reader("UTF-16LE", 1000);
        r.open(p.to_str().unwrap()).unwrap();
        let l = all(&mut r);
        assert_eq!(texts(&l), ["h\u{e9}"]);
        assert_eq!(r.consumed(), 6);
        // The unit the file ended within is completed by the next write.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&text[7..]).unwrap();
        let l = all(&mut r);
        assert_eq!(texts(&l), ["\u{a41}\u{4100}"]);
        assert_eq!((l.start(0), r.consumed()), (6, 12));
    }

    #[test]
    fn wide_lines_over_the_limit_after_conversion_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        // 10 UTF-16 units, 30 UTF-8 bytes: over a limit of 20 only once converted.
        let line = "\u{3042}".repeat(10) + "\nok\n" + &"x".repeat(100) + "\nend\n";
        let bytes: Vec<u8> = line.encode_utf16().flat_map(u16::to_be_bytes).collect();
        std::fs::write(&p, &bytes).unwrap();
        let mut r = wide_reader("UTF-16BE", 20);
        r.open(p.to_str().unwrap()).unwrap();
        let l = all(&mut r);
        assert_eq!(texts(&l), ["ok", "end"]);
        assert_eq!(r.skipped, 2);
        assert_eq!(r.consumed(), bytes.len() as u64);
    }

    #[test]
    fn bom_dependent_utf32_reads_the_order_from_the_file_head() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        let le =
            |s: &str| -> Vec<u8> { s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect() };
        std::fs::write(&p, le("\u{feff}one\ntwo\n")).unwrap();
        let mut r = wide_reader("UTF-32", 1000);
        r.open(p.to_str().unwrap()).unwrap();
        assert_eq!(texts(&all(&mut r)), ["one", "two"]);
        // Started past the BOM (a pos file): the order still comes from the file's head.
        let mut r = wide_reader("UTF-32", 1000);
        r.off = 20;
        r.fifo_off = 20;
        r.open(p.to_str().unwrap()).unwrap();
        assert_eq!(texts(&all(&mut r)), ["two"]);
        // Truncated and written again big-endian without a BOM.
        std::fs::write(&p, b"\0\0\0a\0\0\0\n").unwrap();
        r.reset(0);
        r.open(p.to_str().unwrap()).unwrap();
        assert_eq!(texts(&all(&mut r)), ["a"]);
    }
}
