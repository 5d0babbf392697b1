//! Mutated frames and noise: the decoder and handshake never panic, and
//! splitting the input never changes the outcome.
mod common;

use common::*;
use logferry_forward::encode::{self, Compression};
use logferry_forward::handshake::{check_pong, parse_helo, Helo, SecurityConfig, ServerHandshake};
use logferry_forward::{DecoderOptions, EventTime};
use std::sync::Arc;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn corpus() -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    for i in 0..3 {
        entries.push(0x92);
        EventTime::new(1_700_000_000 + i, 0).encode(&mut entries);
        entries.extend(rec("k", i64::from(i)));
    }
    let mut out = Vec::new();
    let mut b = Vec::new();
    encode::message("t", EventTime::new(5, 6), &rec("a", 1), Some("c"), &mut b);
    out.push(b.clone());
    b.clear();
    encode::forward("t", &entries, 3, Some("c"), &mut b);
    out.push(b.clone());
    b.clear();
    encode::packed_forward("t", &entries, 3, Some("c"), Compression::Text, &mut b);
    out.push(b.clone());
    b.clear();
    encode::packed_forward("t", &entries, 3, None, Compression::Gzip, &mut b);
    out.push(b);
    out.push(br#"["t",[[1,{"a":[1,2.5,"x"]}]],{"chunk":"z"}]"#.to_vec());
    out
}

#[test]
fn mutated_frames_never_panic_and_splits_agree() {
    let opts = DecoderOptions {
        max_object_size: 4096,
        decompression_size_limit: 4096,
        ..Default::default()
    };
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let corpus = corpus();
    for round in 0..6_000 {
        let mut b = corpus[round % corpus.len()].clone();
        for _ in 0..1 + rng.next() % 3 {
            let i = (rng.next() as usize) % b.len();
            b[i] = rng.next() as u8;
        }
        let whole = decode_with(opts.clone(), &b);
        let cut = (rng.next() as usize) % (b.len() + 1);
        let (x, y) = b.split_at(cut);
        let split = decode_chunks(opts.clone(), &[x, y]);
        assert_eq!(whole, split, "cut {cut} of {b:02x?}");
    }
}

#[test]
fn handshake_parsers_never_panic() {
    let server = ServerHandshake::new(Arc::new(SecurityConfig::default()), true, [1; 16], [2; 16]);
    let helo = Helo {
        nonce: vec![1; 16],
        auth: vec![2; 16],
        keepalive: true,
    };
    let ping = logferry_forward::handshake::ping(&helo, "cli", "", "salt", "u", "p");
    let mut rng = Rng(77);
    for _ in 0..5_000 {
        let mut b = ping.clone();
        let i = (rng.next() as usize) % b.len();
        b[i] = rng.next() as u8;
        let cut = (rng.next() as usize) % (b.len() + 1);
        let out = server.check_ping(&b[..cut], "127.0.0.1".parse().unwrap(), None);
        // A PONG, or none where Fluentd raises (then the connection is closed).
        assert!(!out.reply.is_empty() || (!out.ok && out.reason.is_some()));
        let _ = parse_helo(&b[..cut]);
        let _ = check_pong(&b[..cut], &helo, "salt", "", "me");
    }
}
