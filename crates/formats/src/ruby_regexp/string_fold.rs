//! Ruby's case-insensitive reading of a string (a run of plain characters under `i`), written
//! out as a regular expression both engines run.
//!
//! Onigmo folds case fully (`ß` is `ss`, `ﬃ` is `ffi`), but not by comparing whole foldings:
//! recorded from Ruby 3.1 (and Onigmo's `expand_case_fold_string`), a string is read from the
//! left in pieces:
//!
//! * characters that start no several-character spelling (`x`; `s` not followed by `s` or `t`;
//!   `f` not followed by `f`, `i` or `l`) gather into a piece matched by folding: any text whose
//!   characters fold to the piece's folding, one text character possibly covering several
//!   pattern characters within the piece (`ßs` read as one piece matches `sß`);
//! * a character that does start one (`s` before `s`, `f` before `i`), or that folds to several
//!   itself (`ß ẞ ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ`), is expanded: either itself in any case (a ligature also as
//!   its letters in any case, `ﬁ` as `fi`, `FI` …), with the rest of the string read on, or a
//!   ligature covering it and the next letters (`ss` as `ß`), followed by the rest of the
//!   string as one folded piece. No text character covers the end of one piece and the start of
//!   the next (`/sß/i` does not match `ßs`; `/fﬂ/i` does not match `ﬀl`);
//! * each expansion multiplies a count by its number of alternatives plus one; once the count
//!   would pass 8, the rest of the string, from that character on, is one folded piece (`ß` has
//!   ten alternatives, so `/ßs/i` is one piece and matches `sß`).
//!
//! A folded piece is written as the paths through its folding: each position is a letter in any
//! case, or a ligature covering the next two or three (`(?:s(?:s|…)|[ßẞ]…)`). Written naively
//! that doubles with every `s`; here it is split where no ligature spans the cut, and
//! otherwise in the middle (the paths through the middle, or over it by one ligature), which
//! keeps it polynomial: `/s{100}/i` stays a few dozen kilobytes.
//!
//! Only the several-character foldings to ASCII letters are read here; the others (Greek with
//! iota, `İ`, `ŉ` …) are left to the caller.

use std::fmt::Write as _;

use super::fold;

/// The most text one string may be written out as; longer ones are refused.
const MAX_WRITTEN: usize = 256 * 1024;

/// Onigmo's limit on the product of expansion counts (`THRESHOLD_CASE_FOLD_ALT_FOR_EXPANSION`).
const EXPANSION_LIMIT: usize = 8;

/// The ASCII letter a character folds to, if any (`K` is the Kelvin sign, `ſ` the long s).
pub(crate) fn ascii_fold(c: char) -> Option<char> {
    match c {
        'a'..='z' => Some(c),
        'A'..='Z' => Some(c.to_ascii_lowercase()),
        '\u{17F}' => Some('s'),
        '\u{212A}' => Some('k'),
        _ => None,
    }
}

/// What a character folds to, as keys: its several ASCII letters for a ligature, else one key
/// (its ASCII letter, or itself).
fn units(c: char) -> Vec<char> {
    match ligature_fold(c) {
        Some(t) => t.chars().collect(),
        None => vec![ascii_fold(c).unwrap_or(c)],
    }
}

/// The ASCII folding of a ligature (`ß` → `ss`).
fn ligature_fold(c: char) -> Option<&'static str> {
    fold::MULTI_FOLDS
        .iter()
        .find(|(s, f)| *s == c && f.is_ascii())
        .map(|(_, f)| *f)
}

/// The ligatures whose folding is exactly `keys`.
fn ligatures(keys: &[char]) -> Vec<char> {
    fold::MULTI_FOLDS
        .iter()
        .filter(|(_, f)| f.is_ascii() && f.chars().eq(keys.iter().copied()))
        .map(|(s, _)| *s)
        .collect()
}

/// Write one literal character in Rust syntax (in or out of brackets).
pub(crate) fn lit(c: char, out: &mut String) {
    if c.is_alphanumeric() || c == '_' {
        out.push(c);
    } else if c.is_ascii_punctuation() {
        out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    } else {
        let _ = write!(out, "\\x{{{:X}}}", c as u32);
    }
}

fn class(chars: &[char], out: &mut String) {
    out.push('[');
    chars.iter().for_each(|&c| lit(c, out));
    out.push(']');
}

/// How Onigmo expands the character at `k` of `run`: its number of alternatives, and the
/// ligatures that cover it and the next one or two characters (by how many they cover).
fn expansion(run: &[char], k: usize) -> (usize, Vec<(usize, Vec<char>)>) {
    let c = run[k];
    if let Some(t) = ligature_fold(c) {
        // Every spelling of its letters, and the other ligatures with the same folding.
        let spellings: usize = t.chars().map(fold::orbit_len).product();
        let keys: Vec<char> = t.chars().collect();
        return (spellings + ligatures(&keys).len() - 1, Vec::new());
    }
    let mut count = fold::orbit_len(c) - 1;
    let mut covering = Vec::new();
    // The next characters count by their folding when it is one character.
    let mut keys = vec![ascii_fold(c).unwrap_or(c)];
    for len in 2..=3 {
        let Some(&next) = run.get(k + len - 1) else {
            break;
        };
        if ligature_fold(next).is_some() {
            keys.push(next);
        } else {
            keys.push(ascii_fold(next).unwrap_or(next));
        }
        let ligs = ligatures(&keys);
        if !ligs.is_empty() {
            count += ligs.len();
            covering.push((len, ligs));
        }
    }
    (count, covering)
}

/// Is the character at `k` expanded (rather than gathered into a folded piece)?
fn expanded(run: &[char], k: usize) -> bool {
    ligature_fold(run[k]).is_some() || !expansion(run, k).1.is_empty()
}

/// Write Ruby's case-insensitive reading of the string `run` (none of whose characters take
/// part in a several-character folding other than to ASCII letters) in Rust syntax, to be read
/// case-insensitively. `Err` when it would be too large to write out.
pub(crate) fn write_string(run: &[char], out: &mut String) -> Result<(), String> {
    let start = out.len();
    if !(0..run.len()).any(|k| expanded(run, k)) {
        // No spelling with a ligature: the letters in any case.
        run.iter().for_each(|&c| lit(c, out));
        return Ok(());
    }
    pieces(run, 0, 1, out, start)
}

/// Write every text whose full case folding equals the folding of `run` (`ß` as `ss`, `SS`,
/// `ẞ`, `ſs` …; `ﬃ` as `ffi`, `fﬁ`, `ﬀi` …) in Rust syntax, to be read case-insensitively: a
/// comparison of whole foldings, not Onigmo's pieces (see [`write_string`]). `Err` when it
/// would be too large to write out.
pub(crate) fn write_folded(run: &[char], out: &mut String) -> Result<(), String> {
    let start = out.len();
    folded(run, out, start)?;
    too_large(out, start)
}

/// The folding of `run` to ASCII letters where a character has one (`ß` → `ss`, `ſ` → `s`),
/// other characters as they are.
pub(crate) fn folding(run: &[char]) -> String {
    run.iter().flat_map(|&c| units(c)).collect()
}

fn too_large(out: &str, start: usize) -> Result<(), String> {
    if out.len() - start > MAX_WRITTEN {
        return Err("it has too many spellings to write out".into());
    }
    Ok(())
}

/// The string from `k` on, after expansions whose counts multiply to `count`.
fn pieces(
    run: &[char],
    k: usize,
    count: usize,
    out: &mut String,
    start: usize,
) -> Result<(), String> {
    let mut j = k;
    while j < run.len() && !expanded(run, j) {
        j += 1;
    }
    folded(&run[k..j], out, start)?;
    if j == run.len() {
        return Ok(());
    }
    let (n, covering) = expansion(run, j);
    let count = count * (n + 1);
    if count > EXPANSION_LIMIT {
        return folded(&run[j..], out, start);
    }
    let c = run[j];
    out.push_str("(?:");
    match ligature_fold(c) {
        Some(t) => {
            // Itself (and its fellow ligatures), or its letters in any case.
            let keys: Vec<char> = t.chars().collect();
            let mut ligs = ligatures(&keys);
            if !ligs.contains(&c) {
                ligs.push(c);
            }
            out.push_str("(?:");
            class(&ligs, out);
            out.push('|');
            keys.iter().for_each(|&u| lit(u, out));
            out.push(')');
        }
        None => lit(c, out),
    }
    pieces(run, j + 1, count, out, start)?;
    for (len, ligs) in covering {
        out.push('|');
        class(&ligs, out);
        folded(&run[j + len..], out, start)?;
    }
    out.push(')');
    too_large(out, start)
}

/// A piece matched by folding: every text whose characters fold to the piece's folding.
fn folded(piece: &[char], out: &mut String, start: usize) -> Result<(), String> {
    let keys: Vec<char> = piece.iter().flat_map(|&c| units(c)).collect();
    // The ligatures a text may have at each position: (how many letters they cover, which).
    let edges: Vec<Edges> = (0..keys.len())
        .map(|a| {
            (2..=3)
                .filter(|len| a + len <= keys.len())
                .map(|len| (len, ligatures(&keys[a..a + len])))
                .filter(|(_, ligs)| !ligs.is_empty())
                .collect()
        })
        .collect();
    let piece = Paths {
        keys: &keys,
        edges: &edges,
        start,
    };
    piece.paths(0, keys.len(), out)
}

/// The ligatures at one position: (how many letters each covers, which ligatures).
type Edges = Vec<(usize, Vec<char>)>;

/// The ligatures within `i..j` that span position `m` (from a letter before it to one after):
/// they start one or two letters before it.
fn spanning(
    edges: &[Edges],
    i: usize,
    j: usize,
    m: usize,
) -> impl Iterator<Item = (usize, usize, &Vec<char>)> {
    (m.saturating_sub(2).max(i)..m).flat_map(move |a| {
        edges[a]
            .iter()
            .filter(move |(len, _)| m < a + len && a + len <= j)
            .map(move |(len, ligs)| (a, *len, ligs))
    })
}

/// The folding of a piece, with the ligatures at each position, being written out (`start`:
/// where the whole string starts in the output, for its size limit).
struct Paths<'a> {
    keys: &'a [char],
    edges: &'a [Edges],
    start: usize,
}

impl Paths<'_> {
    /// Every way through `keys[i..j]`: a letter at a time, or a ligature over two or three.
    /// Cut where no ligature spans the cut; a stretch without such a cut is split in the middle.
    fn paths(&self, i: usize, j: usize, out: &mut String) -> Result<(), String> {
        let edges = self.edges;
        let mut from = i;
        for m in (i + 1..=j).filter(|&m| m == j || spanning(edges, i, j, m).next().is_none()) {
            too_large(out, self.start)?;
            let inside = (from..m).any(|a| edges[a].iter().any(|(len, _)| a + len <= m));
            if inside {
                self.middle(from, m, out)?;
            } else {
                self.keys[from..m].iter().for_each(|&c| lit(c, out));
            }
            from = m;
        }
        Ok(())
    }

    /// The paths through `keys[i..j]` (which no cut divides): through the middle, or over it by
    /// one ligature.
    fn middle(&self, i: usize, j: usize, out: &mut String) -> Result<(), String> {
        let m = (i + j) / 2;
        out.push_str("(?:");
        self.paths(i, m, out)?;
        self.paths(m, j, out)?;
        for (a, len, ligs) in spanning(self.edges, i, j, m) {
            out.push('|');
            self.paths(i, a, out)?;
            class(ligs, out);
            self.paths(a + len, j, out)?;
        }
        out.push(')');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn re(pattern: &str) -> regex::Regex {
        let run: Vec<char> = pattern.chars().collect();
        let mut out = String::from("^(?i:");
        write_string(&run, &mut out).unwrap();
        out.push_str(")$");
        regex::Regex::new(&out).unwrap()
    }

    #[test]
    fn onigmo_pieces() {
        // Recorded from Ruby 3.1.
        let r = re("ßs");
        for t in ["sß", "ßs", "sss", "SſS", "ẞs"] {
            assert!(r.is_match(t), "{t}");
        }
        assert!(!re("sß").is_match("ßs"));
        assert!(re("sß").is_match("sß") && re("sß").is_match("sss"));
        assert!(re("ﬃ").is_match("fﬁ") && re("ﬃ").is_match("ﬀi"));
        assert!(!re("fﬁ").is_match("ﬃ") && !re("fﬂ").is_match("ﬀl"));
        assert!(re("heißt").is_match("HEISST") && re("heißt").is_match("heisﬆ"));
        assert!(re("ss").is_match("ß") && !re("s").is_match("ß"));
    }

    #[test]
    fn whole_foldings() {
        let re = |pattern: &str| {
            let run: Vec<char> = pattern.chars().collect();
            let mut out = String::from("^(?i:");
            write_folded(&run, &mut out).unwrap();
            out.push_str(")$");
            regex::Regex::new(&out).unwrap()
        };
        // Every spelling of the whole folding, unlike Onigmo's pieces (`sß` matches `ßs`).
        for (p, texts) in [
            ("ß", &["ß", "ẞ", "ss", "SS", "ſs", "sS"][..]),
            ("sß", &["ßs", "sß", "sss", "ẞſ"][..]),
            ("ﬃ", &["ﬃ", "fﬁ", "ﬀi", "FFI", "ffi"][..]),
            ("xﬆ", &["xst", "Xﬅ", "xﬆ", "XſT"][..]),
        ] {
            for t in texts {
                assert!(re(p).is_match(t), "{p} {t}");
            }
        }
        for (p, t) in [("ß", "s"), ("ss", "ß s"), ("ﬃ", "ﬀ"), ("st", "ß")] {
            assert!(!re(p).is_match(t), "{p} {t}");
        }
        assert_eq!(folding(&['x', 'ß', 'ﬃ', 'é', 'ſ']), "xssffiés");
    }

    #[test]
    fn long_runs_stay_small() {
        let s100: String = "s".repeat(100);
        let r = re(&s100);
        assert!(r.is_match(&"ß".repeat(50)));
        assert!(r.is_match(&format!("s{}s", "ß".repeat(49))));
        assert!(!r.is_match(&"ß".repeat(49)));
        // Long literals are cut into pieces without deep recursion.
        let long = format!("{}ss{}", "ab".repeat(2_000), "st".repeat(10));
        let text = format!("{}ß{}", "AB".repeat(2_000), "ﬆ".repeat(10));
        assert!(re(&long).is_match(&text));
    }
}
