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

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

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
