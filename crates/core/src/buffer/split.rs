//! Where one emit's records of one chunk key go: Fluentd 1.16's `Buffer#write_once` and
//! `#write_step_by_step`, simulated on record sizes, so that chunks end where Fluentd's end (with
//! `append false` each chunk is a file of its own).
//!
//! Fluentd first tries the whole stream in the staged chunk. An output with a standard format
//! (msgpack, `bulk`) that finds a non-empty staged chunk too small queues it and tries again in an
//! empty one. Otherwise the stream is cut into ten slices (`n / 10` records each, or `n / 9` when
//! that does not divide) and appended slice by slice: the staged chunk first, then new chunks
//! that are not staged. A one-record slice that does not fit marks the chunk it was meant for as
//! unstaged (it is queued once the write ends) and goes to a new staged chunk; a larger slice
//! that does not fit starts the whole write again with ten times as many slices, after queueing
//! the staged chunk if it was full. A chunk is left once it is full (`chunk_full_threshold`).

use std::ops::Range;

/// Which chunk a piece goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// The chunk key's staged chunk (made when there is none).
    Staged,
    /// A new chunk, not staged.
    Fresh,
}

/// Records appended to one chunk, in the order Fluentd touches its chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// The chunk.
    pub target: Target,
    /// The records (indexes into the stream) appended to it; may be empty.
    pub records: Range<usize>,
    /// The staged chunk is unstaged after this piece (Fluentd's `chunk.unstaged!`): it leaves the
    /// stage and is queued when the write ends.
    pub unstage: bool,
    /// A staged chunk made after a new unstaged one: Fluentd stages it under the chunk key with
    /// a sequence number (`Metadata#dup_next`), beside the key's own staged chunk, and can lose
    /// it (README "Differences from Fluentd"); logferry queues it when the write ends.
    pub side: bool,
}

/// The plan of one write.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Queue the staged chunk before anything is appended (Fluentd's
    /// `enqueue_chunk_before_retry`).
    pub enqueue_staged_first: bool,
    /// The pieces, in order.
    pub pieces: Vec<Piece>,
    /// Records larger than `chunk_limit_size` on their own (Fluentd refuses them; logferry keeps
    /// each in a chunk of its own).
    pub alone: Vec<usize>,
}

/// The limits of a buffer.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `chunk_limit_size`.
    pub bytes: u64,
    /// `chunk_limit_records`.
    pub records: Option<u64>,
    /// `chunk_full_threshold`.
    pub full_threshold: f64,
}

impl Limits {
    /// Fluentd's `chunk_size_over?`: past either limit.
    pub fn over(&self, bytes: u64, records: u64) -> bool {
        bytes > self.bytes || self.records.is_some_and(|r| records > r)
    }

    /// Fluentd's `chunk_size_full?`: at `chunk_full_threshold` of either limit.
    pub fn full(&self, bytes: u64, records: u64) -> bool {
        bytes as f64 >= self.bytes as f64 * self.full_threshold
            || self
                .records
                .is_some_and(|r| records as f64 >= r as f64 * self.full_threshold)
    }
}

/// Plan the write of records of `sizes` bytes into a chunk key whose staged chunk holds
/// `staged` (bytes, records), `None` when there is none. `bulk`: the output's format is the
/// standard one (Fluentd passes a format proc, and keeps a stream whole where it can).
pub fn plan(staged: Option<(u64, u64)>, sizes: &[u64], limits: Limits, bulk: bool) -> Plan {
    let n = sizes.len();
    let mut out = Plan::default();
    if n == 0 {
        return out;
    }
    let total: u64 = sizes.iter().sum();
    let mut have = staged.unwrap_or((0, 0));
    // write_once: the whole stream into the staged chunk.
    if !limits.over(have.0 + total, have.1 + n as u64) {
        out.pieces.push(Piece {
            target: Target::Staged,
            records: 0..n,
            unstage: false,
            side: false,
        });
        return out;
    }
    if bulk && have.1 > 0 {
        // The stream is kept whole where it can be: the staged chunk is queued, and the stream
        // tried in a new one.
        out.enqueue_staged_first = true;
        have = (0, 0);
        if !limits.over(total, n as u64) {
            out.pieces.push(Piece {
                target: Target::Staged,
                records: 0..n,
                unstage: false,
                side: false,
            });
            return out;
        }
    }
    let mut splits_count = 10usize;
    'retry: loop {
        let count = splits_count.min(n);
        let slice = if n.is_multiple_of(count) {
            n / count
        } else {
            n / (count - 1)
        };
        let splits: Vec<Range<usize>> = (0..n)
            .step_by(slice)
            .map(|a| a..(a + slice).min(n))
            .collect();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let mut staged_used = false;
        let mut fresh_seen = false;
        let mut stage = have;
        let mut idx = 0;
        while idx < splits.len() {
            let target = if staged_used {
                Target::Fresh
            } else {
                staged_used = true;
                Target::Staged
            };
            let side = target == Target::Staged && fresh_seen;
            fresh_seen |= target == Target::Fresh;
            let (mut bytes, mut records) = match target {
                Target::Staged if !side => stage,
                _ => (0, 0),
            };
            let start = splits[idx].start;
            let mut end = start;
            let mut unstage = false;
            while idx < splits.len() {
                let split = splits[idx].clone();
                let len = split.len() as u64;
                let add: u64 = sizes[split.clone()].iter().sum();
                if len == 1 && add > limits.bytes {
                    alone.push(split.start);
                    idx += 1;
                    continue;
                }
                if limits.over(bytes + add, records + len) {
                    if len == 1 {
                        // This chunk is done: unstaged if it was the staged one, and the record
                        // goes to a new staged chunk.
                        if target == Target::Staged {
                            unstage = true;
                        }
                        staged_used = false;
                        break;
                    }
                    // Only the staged chunk can be full here (a chunk is left once full): it
                    // is queued and the write starts again in a new one. (Anything else, which
                    // Fluentd would retry unchanged, takes smaller slices, so the plan ends.)
                    if limits.full(bytes, records)
                        && target == Target::Staged
                        && !side
                        && stage.1 > 0
                        && !out.enqueue_staged_first
                    {
                        out.enqueue_staged_first = true;
                        have = (0, 0);
                    } else {
                        splits_count *= 10;
                    }
                    continue 'retry;
                }
                bytes += add;
                records += len;
                end = split.end;
                idx += 1;
                if limits.full(bytes, records) {
                    break;
                }
            }
            if target == Target::Staged && !side {
                stage = if unstage { (0, 0) } else { (bytes, records) };
            }
            pieces.push(Piece {
                target,
                records: start..end.max(start),
                unstage,
                side,
            });
        }
        out.pieces = pieces;
        out.alone = alone;
        return out;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: Limits = Limits {
        bytes: 100,
        records: None,
        full_threshold: 0.95,
    };

    fn ranges(p: &Plan) -> Vec<(Target, Range<usize>, bool)> {
        p.pieces
            .iter()
            .map(|x| (x.target, x.records.clone(), x.unstage))
            .collect()
    }

    #[test]
    fn whole_stream_fits() {
        let p = plan(Some((10, 1)), &[30, 30], L, false);
        assert_eq!(ranges(&p), [(Target::Staged, 0..2, false)]);
    }

    // Eight records of 36 bytes into 100-byte chunks, the staged one holding 72: one record a
    // slice; a record that does not fit unstages the chunk it was meant for and goes to a new
    // staged one (Fluentd's `chunk.unstaged!`).
    #[test]
    fn one_record_slices() {
        let p = plan(Some((72, 2)), &[36; 8], L, false);
        assert_eq!(
            ranges(&p),
            [
                (Target::Staged, 0..0, true),
                (Target::Staged, 0..2, true),
                (Target::Staged, 2..4, true),
                (Target::Staged, 4..6, true),
                (Target::Staged, 6..8, false),
            ]
        );
    }

    // A chunk left because it is full is followed by new chunks that are not staged.
    #[test]
    fn full_chunks_are_followed_by_fresh_ones() {
        let p = plan(None, &[48; 5], L, false);
        assert_eq!(
            ranges(&p),
            [
                (Target::Staged, 0..2, false),
                (Target::Fresh, 2..4, false),
                (Target::Fresh, 4..5, false),
            ]
        );
    }

    // A record that does not fit a new unstaged chunk goes to a staged chunk of its own beside
    // the key's staged one (Fluentd's sequenced metadata).
    #[test]
    fn staged_beside_the_stage_after_a_fresh_chunk() {
        let p = plan(None, &[48, 48, 60, 60, 10], L, false);
        let got: Vec<(Target, Range<usize>, bool, bool)> = p
            .pieces
            .iter()
            .map(|x| (x.target, x.records.clone(), x.unstage, x.side))
            .collect();
        assert_eq!(
            got,
            [
                (Target::Staged, 0..2, false, false),
                (Target::Fresh, 2..3, false, false),
                (Target::Staged, 3..5, false, true),
            ]
        );
    }

    // Twenty records: slices of two; a slice that does not fit a chunk that is not full makes
    // the slices ten times as many (one record each here).
    #[test]
    fn larger_slices_retry_smaller() {
        let p = plan(None, &[30; 20], L, false);
        assert_eq!(p.pieces[0].records, 0..3);
        assert!(p.pieces.iter().all(|x| x.target == Target::Staged));
        assert_eq!(p.pieces.last().unwrap().records, 18..20);
    }

    #[test]
    fn bulk_queues_a_staged_chunk_first() {
        let p = plan(Some((50, 1)), &[30, 30], L, true);
        assert!(p.enqueue_staged_first);
        assert_eq!(ranges(&p), [(Target::Staged, 0..2, false)]);
    }

    #[test]
    fn records_too_large_go_alone() {
        let p = plan(None, &[30, 150, 30], L, false);
        assert_eq!(p.alone, [1]);
        let kept: usize = p.pieces.iter().map(|x| x.records.len()).sum();
        assert_eq!(kept, 3, "ranges may span the record left out: {p:?}");
    }
}
