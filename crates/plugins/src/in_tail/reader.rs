//! Reading one file (Fluentd's `IOHandler` and `FIFO`): fixed-size blocks from the position,
//! complete lines (ending in `\n`) taken out, the incomplete rest kept until its end arrives.
//! Memory is bounded: a line longer than the limit (`max_line_size`, else
//! [`DEFAULT_LINE_LIMIT`]) is skipped as it arrives, never held whole, and reported once.
//!
//! Every line carries the file offset where it starts, so the position recorded is always the
//! start of the first line not yet accepted downstream.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use super::encoding::Converter;

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
    /// File offset just after the last line.
    pub end: u64,
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

    fn push(&mut self, line: &[u8], start: u64, end: u64, conv: Option<&Converter>) {
        let a = self.data.len();
        match conv {
            Some(c) => c.convert_into(line, &mut self.data),
            None => self.data.extend_from_slice(line),
        }
        self.spans.push((a, self.data.len()));
        self.starts.push(start);
        self.end = end;
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
    conv: Option<Converter>,
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
            conv,
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
    }

    /// Read one block (at most `max` bytes) and move the complete lines into `lines`. Returns
    /// the bytes read: 0 at the end of the file (or when the file is not open).
    pub fn read_block(&mut self, lines: &mut Lines, max: usize) -> std::io::Result<usize> {
        let Some(f) = self.file.as_mut() else {
            self.eof = true;
            return Ok(0);
        };
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
        let mut rest = data;
        let mut rest_off = data_off;
        while let Some(i) = memchr::memchr(b'\n', rest) {
            let end_off = rest_off + i as u64 + 1;
            if self.skipping {
                self.skipping = false;
            } else if self.fifo.len() + i + 1 > self.limit {
                self.skipped += 1;
                self.fifo.clear();
            } else if self.fifo.is_empty() {
                lines.push(&rest[..i], self.fifo_off, end_off, self.conv.as_ref());
            } else {
                self.fifo.extend_from_slice(&rest[..i]);
                lines.push(&self.fifo, self.fifo_off, end_off, self.conv.as_ref());
                self.fifo.clear();
            }
            self.fifo_off = end_off;
            rest = &rest[i + 1..];
            rest_off = end_off;
        }
        if self.skipping {
            return;
        }
        if self.fifo.len() + rest.len() + 1 > self.limit {
            // Over the limit before its end arrives: drop it now, and the rest as it comes.
            self.skipping = true;
            self.skipped += 1;
            self.fifo.clear();
            self.fifo.shrink_to(BLOCK);
        } else {
            self.fifo.extend_from_slice(rest);
        }
    }
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
}
