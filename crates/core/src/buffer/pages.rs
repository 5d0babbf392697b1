//! Chunk-sized buffers outside the heap.
//!
//! A flush reads a whole file chunk (up to `chunk_limit_size`, 8 MiB by default) into memory.
//! From the heap, such buffers are freed on whichever flush thread finished with them, and
//! glibc keeps the freed space in that thread's arena: at high rates the daemon's RSS settled
//! near 90 MiB although at most two chunks were ever being flushed. Read into an anonymous
//! mapping instead, the pages go back to the system the moment the last `Bytes` referring to
//! them is dropped. Small reads stay on the heap, where they are cheaper.
//!
//! The mapping asks for transparent huge pages (`MADV_HUGEPAGE`): faulting in 8 MiB page by page
//! cost ~3.8 ms in a VM, with huge pages ~0.35 ms, against ~0.16 ms for a reused heap buffer
//! (`cargo bench -p logferry-plugins --bench core -- file_chunk_read`), about 8 ns per event of
//! an 8 MiB chunk. Where THP is disabled (`never`) the page-by-page cost applies.
//!
//! A busy memory chunk is staged the same way ([`PageBuf`]): once it outgrows the heap's small
//! sizes it moves into a mapping of its limit, so its pages are faulted in 2 MiB at a time and
//! handed back when the last sender drops them, whichever worker thread that runs on.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use bytes::Bytes;

/// Reads at least this long are mapped; shorter ones use the heap.
pub const MAP_AT_LEAST: usize = 1 << 20;

/// An anonymous private mapping holding `len` initialized bytes.
struct Pages {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone and is only read after it was filled.
unsafe impl Send for Pages {}
// SAFETY: as above: shared access is read-only.
unsafe impl Sync for Pages {}

impl Pages {
    /// Map `len` (> 0) zeroed bytes.
    fn new(len: usize) -> io::Result<Pages> {
        // SAFETY: a fresh anonymous private mapping; no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: advice on the mapping just made; failure only means no huge pages.
        unsafe {
            libc::madvise(p, len, libc::MADV_HUGEPAGE);
        }
        let ptr = std::ptr::NonNull::new(p.cast::<u8>()).ok_or_else(|| io::Error::other("mmap"))?;
        Ok(Pages { ptr, len })
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `len` bytes mapped readable and writable, owned exclusively by `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

/// A growable byte buffer in one mapping of a fixed capacity: the pages a push first touches are
/// faulted in (as huge pages where the kernel allows), those never touched cost nothing. When
/// the last owner drops it, the mapping goes back to a small pool for the next buffer of the
/// same capacity (see [`release_idle`]), or is unmapped.
pub struct PageBuf {
    pages: Option<Pages>,
    len: usize,
}

/// Mappings of dropped [`PageBuf`]s kept for the next ones, with the trim round they came back in.
///
/// A fresh mapping's pages are zeroed by the kernel when first touched, and in a VM whose host
/// reclaims free guest memory the first touch is slower still: for the pass-through case that
/// was ~11 % of the CPU with a fresh mapping per chunk. A reused mapping is written over as it
/// is (a buffer only ever shows the bytes pushed into it).
struct Pool {
    free: Vec<(Pages, u64)>,
    round: u64,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    free: Vec::new(),
    round: 0,
});

/// The most mappings the pool keeps, and the most bytes of mapping in all.
const POOL_MOST: usize = 4;
const POOL_BYTES: usize = 64 << 20;

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Unmap the pooled mappings that nobody took since the previous call. The daemon calls it every
/// few seconds, so an idle output's memory goes back to the system within two periods.
pub fn release_idle() {
    let dropped: Vec<(Pages, u64)> = {
        let mut p = pool();
        let round = p.round;
        p.round += 1;
        let (keep, stale): (Vec<_>, Vec<_>) = p.free.drain(..).partition(|(_, r)| *r == round);
        p.free = keep;
        stale
    };
    drop(dropped); // unmapped outside the lock
}

impl PageBuf {
    /// An empty buffer that can hold `cap` (> 0) bytes: a pooled mapping of that size, or a new one.
    pub fn with_capacity(cap: usize) -> io::Result<PageBuf> {
        let reused = {
            let mut p = pool();
            p.free
                .iter()
                .position(|(m, _)| m.len == cap)
                .map(|i| p.free.swap_remove(i).0)
        };
        let pages = match reused {
            Some(m) => m,
            None => Pages::new(cap)?,
        };
        Ok(PageBuf {
            pages: Some(pages),
            len: 0,
        })
    }

    fn pages(&self) -> &Pages {
        self.pages.as_ref().expect("present until dropped")
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Nothing held yet?
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes that fit in all.
    pub fn capacity(&self) -> usize {
        self.pages().len
    }

    /// Append `data` if it fits; false (and nothing appended) if it does not.
    pub fn push(&mut self, data: &[u8]) -> bool {
        let end = self.len + data.len();
        let Some(pages) = self.pages.as_mut() else {
            return false;
        };
        if end > pages.len {
            return false;
        }
        pages.as_mut_slice()[self.len..end].copy_from_slice(data);
        self.len = end;
        true
    }

    /// The bytes as a `Bytes` that owns the buffer (its mapping pooled or unmapped when the last
    /// clone drops).
    pub fn freeze(self) -> Bytes {
        Bytes::from_owner(self)
    }
}

impl Drop for PageBuf {
    fn drop(&mut self) {
        let Some(pages) = self.pages.take() else {
            return;
        };
        let mut p = pool();
        let bytes: usize = p.free.iter().map(|(m, _)| m.len).sum();
        if p.free.len() < POOL_MOST && bytes + pages.len <= POOL_BYTES {
            let round = p.round;
            p.free.push((pages, round));
            return;
        }
        drop(p);
        drop(pages); // unmapped outside the lock
    }
}

impl AsRef<[u8]> for PageBuf {
    fn as_ref(&self) -> &[u8] {
        &self.pages().as_ref()[..self.len]
    }
}

impl std::fmt::Debug for PageBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageBuf")
            .field("len", &self.len)
            .field("capacity", &self.pages().len)
            .finish()
    }
}

impl AsRef<[u8]> for Pages {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped readable for the life of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for Pages {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping made in `new`, once.
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// Read bytes `0..len` of `f` (an `UnexpectedEof` error if it holds fewer), into mapped pages
/// when `len` is at least [`MAP_AT_LEAST`].
pub fn read_exact_at_start(f: &File, len: usize) -> io::Result<Bytes> {
    if len < MAP_AT_LEAST {
        let mut buf = vec![0; len];
        f.read_exact_at(&mut buf, 0)?;
        return Ok(Bytes::from(buf));
    }
    let mut pages = Pages::new(len)?;
    f.read_exact_at(pages.as_mut_slice(), 0)?;
    Ok(Bytes::from_owner(pages))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_dropped_buffer_is_reused_then_released_when_idle() {
        // A capacity no other test uses (the pool is shared by the process).
        let cap = (3 << 20) + 3 * 4096;
        let mut a = PageBuf::with_capacity(cap).unwrap();
        assert!(a.push(b"secret") && a.push(&[1; 100]));
        assert!(
            !a.push(&vec![0; cap]),
            "over the capacity: refused, nothing appended"
        );
        assert_eq!(a.len(), 106);
        let at = a.as_ref().as_ptr();
        let frozen = a.freeze();
        let part = frozen.slice(0..6);
        drop(frozen);
        assert_eq!(&part[..], b"secret", "a clone keeps the mapping");
        drop(part);
        let mut b = PageBuf::with_capacity(cap).unwrap();
        assert_eq!(b.as_ref().as_ptr(), at, "the pooled mapping is taken again");
        assert!(
            b.is_empty() && b.as_ref().is_empty(),
            "showing none of the old bytes"
        );
        assert!(b.push(b"new"));
        assert_eq!(b.as_ref(), b"new");
        drop(b);
        let idle = |p: &Pool| p.free.iter().any(|(m, _)| m.len == cap);
        assert!(idle(&pool()));
        release_idle(); // came back this round: kept
        assert!(idle(&pool()));
        release_idle(); // untaken for a whole round: unmapped
        assert!(!idle(&pool()));
    }

    #[test]
    fn small_and_large_reads_give_the_file_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chunk");
        let data: Vec<u8> = (0..3 * MAP_AT_LEAST + 17).map(|i| (i * 7) as u8).collect();
        File::create(&path).unwrap().write_all(&data).unwrap();
        let f = File::open(&path).unwrap();
        for len in [0, 1, 4096, MAP_AT_LEAST - 1, MAP_AT_LEAST, data.len()] {
            let b = read_exact_at_start(&f, len).unwrap();
            assert_eq!(&b[..], &data[..len], "{len}");
            // Clones share the pages and outlive the original.
            let c = b.slice(len / 2..);
            drop(b);
            assert_eq!(&c[..], &data[len / 2..len]);
        }
        let e = read_exact_at_start(&f, data.len() + 1).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
