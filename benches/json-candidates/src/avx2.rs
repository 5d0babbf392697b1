//! An AVX2 version of logferry's SSE2 escaper (32-byte chunks, runtime detection), to measure
//! whether the wider compare pays on log-shaped strings. Same structure and output as
//! `crates/msgpack/src/escape_sse2.rs`; checked against it in the bench before timing.

#[cfg(target_arch = "x86_64")]
mod imp {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };

    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    const STAGE: usize = 512;
    const ROOM: usize = 32 * 6 + 32;

    fn escape_of(c: u8) -> u8 {
        match c {
            b'"' => b'"',
            b'\\' => b'\\',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x08 => b'b',
            0x0c => b'f',
            c if c < 0x20 => b'u',
            _ => 0,
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn masks(chunk: &[u8; 32]) -> (u32, u32) {
        // SAFETY: the caller checked AVX2; loadu reads exactly the 32 bytes of `chunk`.
        unsafe {
            let v = _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>());
            let q = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
            let bs = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
            let low = _mm256_set1_epi8(0x1f);
            let ctl = _mm256_cmpeq_epi8(_mm256_max_epu8(v, low), low);
            let esc = _mm256_or_si256(_mm256_or_si256(q, bs), ctl);
            (
                _mm256_movemask_epi8(esc) as u32,
                _mm256_movemask_epi8(v) as u32,
            )
        }
    }

    struct Stage {
        buf: [u8; STAGE],
        n: usize,
        utf8_ok: bool,
    }

    impl Stage {
        #[target_feature(enable = "avx2")]
        unsafe fn chunk(&mut self, win: &[u8; 64], len: usize, rest: &[u8]) -> bool {
            let chunk: [u8; 32] = std::array::from_fn(|j| win[j]);
            // SAFETY: called only from `escape`, after the AVX2 check.
            let (esc, high) = unsafe { masks(&chunk) };
            let mut m = if self.utf8_ok { esc } else { esc | high };
            let mut d = self.n;
            self.buf[d..d + 32].copy_from_slice(&chunk);
            while m != 0 {
                let k = m.trailing_zeros() as usize;
                m &= m - 1;
                let c = chunk[k];
                match escape_of(c) {
                    0 => {
                        if std::str::from_utf8(rest.get(k..).unwrap_or_default()).is_err() {
                            return false;
                        }
                        self.utf8_ok = true;
                        m &= esc;
                        continue;
                    }
                    b'u' => {
                        self.buf[d + k..d + k + 6].copy_from_slice(&[
                            b'\\',
                            b'u',
                            b'0',
                            b'0',
                            HEX[usize::from(c >> 4)],
                            HEX[usize::from(c & 0xf)],
                        ]);
                        d += 5;
                    }
                    e => {
                        self.buf[d + k] = b'\\';
                        self.buf[d + k + 1] = e;
                        d += 1;
                    }
                }
                self.buf[d + k + 1..d + k + 33].copy_from_slice(&win[k + 1..k + 33]);
            }
            self.n = d + len;
            true
        }
    }

    #[target_feature(enable = "avx2")]
    unsafe fn escape(b: &[u8], out: &mut Vec<u8>) -> bool {
        out.reserve(b.len() + 2);
        out.push(b'"');
        // Clean prefix.
        let mut start = 0;
        loop {
            let mut c = [b' '; 32];
            let rest = &b[start..];
            let n = rest.len().min(32);
            c[..n].copy_from_slice(&rest[..n]);
            // SAFETY: AVX2 checked by the caller.
            let (e, h) = unsafe { masks(&c) };
            if e | h != 0 {
                start += (((e | h).trailing_zeros()) as usize).min(n);
                break;
            }
            start += n;
            if n < 32 {
                break;
            }
        }
        out.extend_from_slice(&b[..start]);
        if start == b.len() {
            out.push(b'"');
            return true;
        }
        let mut st = Stage {
            buf: [0; STAGE],
            n: 0,
            utf8_ok: false,
        };
        let mut i = start;
        while let Some(win) = b.get(i..).and_then(<[u8]>::first_chunk::<64>) {
            if st.n > STAGE - ROOM {
                out.extend_from_slice(&st.buf[..st.n]);
                st.n = 0;
            }
            // SAFETY: AVX2 checked by the caller.
            if !unsafe { st.chunk(win, 32, &b[i..]) } {
                return false;
            }
            i += 32;
        }
        let rest = &b[i..];
        let mut tail = [b' '; 96];
        tail[..rest.len()].copy_from_slice(rest);
        for j in [0usize, 32] {
            if j >= rest.len() {
                break;
            }
            if st.n > STAGE - ROOM {
                out.extend_from_slice(&st.buf[..st.n]);
                st.n = 0;
            }
            let win: [u8; 64] = std::array::from_fn(|x| tail[j + x]);
            // SAFETY: AVX2 checked by the caller.
            if !unsafe { st.chunk(&win, (rest.len() - j).min(32), &rest[j..]) } {
                return false;
            }
        }
        out.extend_from_slice(&st.buf[..st.n]);
        out.push(b'"');
        true
    }

    /// `json_string` with the AVX2 loop when the CPU has it (else logferry's).
    pub fn json_string(b: &[u8], out: &mut Vec<u8>) {
        if !is_x86_feature_detected!("avx2") {
            return logferry_msgpack::json_string(b, out);
        }
        let mark = out.len();
        // SAFETY: AVX2 was detected just above.
        if !unsafe { escape(b, out) } {
            out.truncate(mark);
            // SAFETY: as above.
            let ok = unsafe { escape(String::from_utf8_lossy(b).as_bytes(), out) };
            debug_assert!(ok);
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub use imp::json_string;

/// Elsewhere: logferry's.
#[cfg(not(target_arch = "x86_64"))]
pub use logferry_msgpack::json_string;
