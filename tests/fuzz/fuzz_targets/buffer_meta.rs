//! The file buffer's `.meta` decoder (headered `C1 00` + u32 length format and Fluentd's older
//! header-less map) on arbitrary bytes. A decoded meta must survive encode → decode unchanged
//! (resume rewrites a Fluentd `.meta` in logferry's format).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_core::buffer::file_store::{decode_meta, decode_meta_record, encode_meta};

fuzz_target!(|data: &[u8]| {
    let rec = decode_meta_record(data);
    assert_eq!(
        decode_meta(data).ok(),
        rec.as_ref().ok().map(|r| (r.id, r.meta.clone()))
    );
    if let Ok(r) = rec {
        if let Some(id) = r.id {
            let mut meta = r.meta;
            // encode_meta always writes the committed size: compare with it set.
            meta.bytes = r.committed.unwrap_or(meta.bytes);
            let again =
                decode_meta_record(&encode_meta(&id, &meta)).expect("encoded .meta decodes");
            assert_eq!(again.id, Some(id));
            assert_eq!(again.meta, meta, "encode_meta/decode_meta round trip");
        }
    }
});
