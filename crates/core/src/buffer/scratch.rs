//! A small, bounded pool of byte buffers for formatting a batch before it is appended to a chunk.
//!
//! A buffered output formats each emitted batch into a buffer of its own (outside the state
//! lock, so that connections on several workers format at once) and then copies it into the
//! staged chunk. A fresh `Vec` per batch cost an allocation of a few hundred KiB, its growth by
//! `realloc` (a JSON line is longer than the msgpack it comes from) and the first touch of its
//! pages: ~3 % of the router's CPU in the forward → HTTP and seed pipelines (`perf`). Buffers
//! handed back here are reused while still hot in cache.

use std::sync::Mutex;

/// At most this many buffers wait in a pool.
const KEEP: usize = 4;
/// A buffer whose capacity grew past this is freed rather than kept (one odd, huge batch does
/// not pin its memory).
const KEEP_CAPACITY: usize = 2 << 20;

/// Reusable byte buffers, at most [`KEEP`] of at most [`KEEP_CAPACITY`] bytes each.
#[derive(Debug, Default)]
pub struct ScratchPool {
    bufs: Mutex<Vec<Vec<u8>>>,
}

impl ScratchPool {
    /// An empty buffer with room for at least `capacity` bytes: a kept one if there is one.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let kept = self.bufs.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match kept {
            Some(mut b) => {
                b.reserve(capacity);
                b
            }
            None => Vec::with_capacity(capacity),
        }
    }

    /// Hand a buffer back for reuse (its contents are dropped); freed if the pool is full or the
    /// buffer is larger than [`KEEP_CAPACITY`].
    pub fn give(&self, mut buf: Vec<u8>) {
        if buf.capacity() == 0 || buf.capacity() > KEEP_CAPACITY {
            return;
        }
        buf.clear();
        let mut bufs = self.bufs.lock().unwrap_or_else(|e| e.into_inner());
        if bufs.len() < KEEP {
            bufs.push(buf);
        }
    }

    /// Buffers waiting (for tests).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.bufs.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_and_bounds() {
        let pool = ScratchPool::default();
        let mut b = pool.take(100);
        assert!(b.capacity() >= 100);
        b.extend_from_slice(b"abc");
        let ptr = b.as_ptr();
        pool.give(b);
        let again = pool.take(10);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), ptr, "the buffer handed back is reused");
        // At most KEEP are kept.
        for _ in 0..KEEP + 3 {
            pool.give(Vec::with_capacity(64));
        }
        assert_eq!(pool.kept(), KEEP);
        // A buffer past KEEP_CAPACITY is freed, not kept.
        let pool = ScratchPool::default();
        pool.give(Vec::with_capacity(KEEP_CAPACITY + 1));
        assert_eq!(pool.kept(), 0);
        // A kept buffer grows to what is asked.
        pool.give(Vec::with_capacity(16));
        assert!(pool.take(1000).capacity() >= 1000);
    }
}
