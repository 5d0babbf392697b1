//! Length scanning of one msgpack value without allocation or recursion.
//!
//! [`Scanner`] is resumable: when the buffer ends early it keeps its progress,
//! so a streaming decoder can call it again with a longer buffer and only the
//! new bytes are examined. [`value_len`] and [`walk`] start with a small
//! on-stack container stack and only switch to a full-depth one for deeply
//! nested input.

use crate::error::{Error, Result};
use crate::head::{head, Kind};

/// Maximum container nesting accepted by this crate (the outermost container
/// counts as depth 1).
pub const MAX_DEPTH: usize = 256;

/// Container depth handled before [`value_len`] needs the full stack.
const SMALL_DEPTH: usize = 16;

/// Position within the value being scanned.
#[derive(Clone, Copy, Debug, Default)]
struct State {
    pos: usize,
    depth: usize,
    done: bool,
    /// Where the value that ended the buffer early ends (its header read), or 0.
    need: usize,
}

/// Why [`run`] stopped early.
enum Stop<E> {
    Fail(E),
    /// The container stack given is full but `MAX_DEPTH` is not reached.
    Grow,
}

impl<E: From<Error>> From<Error> for Stop<E> {
    fn from(e: Error) -> Self {
        Stop::Fail(e.into())
    }
}

/// Enter a container of `items` values whose header is `hdr` bytes: true when it was pushed
/// (its items follow), false when it is empty (a complete value). A full stack returns
/// `Stop::Grow` before anything moved, so the caller can grow it and resume.
fn open<E>(
    st: &mut State,
    stack: &mut [u64],
    items: u64,
    hdr: usize,
) -> std::result::Result<bool, Stop<E>>
where
    E: From<Error>,
{
    if st.depth >= MAX_DEPTH {
        return Err(Error::TooDeep.into());
    }
    if items > 0 {
        *stack.get_mut(st.depth).ok_or(Stop::Grow)? = items;
        st.depth += 1;
    }
    st.pos += hdr;
    Ok(items > 0)
}

/// The scanning loop. `stack[d]` holds the items still expected by the open
/// container at depth `d`.
fn run<E, F>(
    st: &mut State,
    stack: &mut [u64],
    buf: &[u8],
    on_ext: &mut F,
) -> std::result::Result<usize, Stop<E>>
where
    E: From<Error>,
    F: FnMut(i8, &[u8]) -> std::result::Result<(), E>,
{
    if st.done {
        return Ok(st.pos);
    }
    loop {
        let rest = buf.get(st.pos..).ok_or(Error::Incomplete)?;
        // The markers most log records are made of (short strings, small integers, nil, bools)
        // are skipped without a full header decode.
        let m = *rest.first().ok_or(Error::Incomplete)?;
        let short = match m {
            0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => Some(1),
            0xa0..=0xbf => Some(1 + usize::from(m & 0x1f)),
            0xd9 => rest.get(1).map(|l| 2 + usize::from(*l)),
            _ => None,
        };
        if let Some(total) = short {
            if rest.len() < total {
                return Err(Error::Incomplete.into());
            }
            st.pos += total;
        } else if let 0x80..=0x9f = m {
            // fixmap / fixarray
            let n = u64::from(m & 0x0f);
            if open(st, stack, if m < 0x90 { n * 2 } else { n }, 1)? {
                continue;
            }
        } else if m == 0xd7 {
            // fixext 8 (an EventTime)
            let value = rest.get(..10).ok_or(Error::Incomplete)?;
            on_ext(value[1] as i8, &value[2..]).map_err(Stop::Fail)?;
            st.pos += 10;
        } else {
            let h = head(rest)?;
            match h.kind {
                Kind::Array(n) | Kind::Map(n) => {
                    let items = if matches!(h.kind, Kind::Map(_)) {
                        u64::from(n) * 2
                    } else {
                        u64::from(n)
                    };
                    if open(st, stack, items, h.hdr)? {
                        continue;
                    }
                }
                kind => {
                    let total = h.total();
                    let Some(value) = rest.get(..total) else {
                        st.need = st.pos.saturating_add(total);
                        return Err(Error::Incomplete.into());
                    };
                    if let Kind::Ext(ty) = kind {
                        on_ext(ty, value.get(h.hdr..).unwrap_or_default()).map_err(Stop::Fail)?;
                    }
                    st.pos += total;
                }
            }
        }
        // One value completed: close every container it finishes.
        loop {
            let Some(top) = st.depth.checked_sub(1).and_then(|d| stack.get_mut(d)) else {
                st.done = true;
                return Ok(st.pos);
            };
            *top -= 1;
            if *top > 0 {
                break;
            }
            st.depth -= 1;
        }
    }
}

/// Resumable scanner finding where the first value ends. Its container stack starts empty and
/// grows with the nesting met (to [`MAX_DEPTH`] at most), so an idle scanner is a few words.
#[derive(Clone, Debug)]
pub struct Scanner {
    st: State,
    stack: Vec<u64>,
}

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl Scanner {
    /// A scanner positioned at the start of a value.
    pub fn new() -> Self {
        Scanner {
            st: State::default(),
            stack: Vec::new(),
        }
    }

    /// Forget all progress (call before scanning a different value).
    pub fn reset(&mut self) {
        self.st = State::default();
    }

    /// Bytes already known to belong to the value being scanned.
    pub fn progress(&self) -> usize {
        self.st.pos
    }

    /// The least length the value being scanned can have, as far as the scan got: past
    /// [`progress`](Self::progress) when the buffer ended inside a string, binary or ext whose
    /// header gave its length (a PackedForward payload), so a reader can ask for the rest at once.
    pub fn known_len(&self) -> usize {
        self.st.need.max(self.st.pos)
    }

    /// Scan `buf` (which must begin with the same bytes given to previous calls
    /// since the last reset) and return the byte length of its first value.
    /// `Err(Incomplete)` keeps the progress for the next call; once complete,
    /// further calls return the same length until [`reset`](Self::reset).
    pub fn scan(&mut self, buf: &[u8]) -> Result<usize> {
        self.scan_with(buf, |_, _| Ok::<(), Error>(()))
    }

    /// Like [`scan`](Self::scan), calling `on_ext(type, payload)` once for every
    /// complete ext value met; an error from it stops the scan (the ext value
    /// is then not consumed).
    pub fn scan_with<E, F>(&mut self, buf: &[u8], mut on_ext: F) -> std::result::Result<usize, E>
    where
        E: From<Error>,
        F: FnMut(i8, &[u8]) -> std::result::Result<(), E>,
    {
        loop {
            match run(&mut self.st, &mut self.stack, buf, &mut on_ext) {
                Ok(n) => return Ok(n),
                Err(Stop::Fail(e)) => return Err(e),
                // The state stops before the container that did not fit: grow and go on.
                Err(Stop::Grow) => {
                    if self.stack.len() >= MAX_DEPTH {
                        // unreachable: run reports TooDeep at MAX_DEPTH
                        return Err(Error::TooDeep.into());
                    }
                    let to = (self.stack.len() * 2).clamp(SMALL_DEPTH, MAX_DEPTH);
                    self.stack.resize(to, 0);
                }
            }
        }
    }
}

/// Byte length of the first complete value in `buf`.
///
/// `Incomplete` if `buf` ends early, `Invalid` on byte `0xC1`, `TooDeep` when
/// containers nest deeper than [`MAX_DEPTH`]. Never allocates nor recurses.
pub fn value_len(buf: &[u8]) -> Result<usize> {
    walk(buf, |_, _| Ok::<(), Error>(()))
}

/// Like [`value_len`], calling `on_ext(type, payload)` once for every ext value.
pub fn walk<E, F>(buf: &[u8], mut on_ext: F) -> std::result::Result<usize, E>
where
    E: From<Error>,
    F: FnMut(i8, &[u8]) -> std::result::Result<(), E>,
{
    let mut st = State::default();
    let mut small = [0u64; SMALL_DEPTH];
    match run(&mut st, &mut small, buf, &mut on_ext) {
        Ok(n) => Ok(n),
        Err(Stop::Fail(e)) => Err(e),
        Err(Stop::Grow) => {
            let mut big = Scanner::new();
            big.st = st;
            big.stack = vec![0; MAX_DEPTH];
            big.stack[..SMALL_DEPTH].copy_from_slice(&small);
            big.scan_with(buf, on_ext)
        }
    }
}
