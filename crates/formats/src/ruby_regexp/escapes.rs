//! Escapes that stand for non-ASCII characters, read as Ruby reads them: as the characters
//! themselves.
//!
//! Before Onigmo sees a regexp, Ruby (`rb_reg_preprocess`) replaces every escape that spells a
//! non-ASCII character (`\u00DF`, `\u{FB03}`, the UTF-8 bytes `\xC3\x9F` or `\303\237`) by the
//! character, and leaves escapes of ASCII characters (`\x73`, `\u0073`) to Onigmo, which reads
//! each as a string of its own. So under `i` an escaped `ß` is read exactly as a written one, in
//! the same pieces (`/stra\u00DFe/i` is `/straße/i`, `/\u{DF}s/i` matches `sß`), while an
//! escaped `s` never joins its neighbours (`/\x73s/i` does not match `ß`; recorded from Ruby 3.1).
//! [`as_written`] makes that replacement for both engines. Whitespace stays escaped (what `x`
//! skips is not at stake), and so does anything not well formed (the translator reports it).

use std::borrow::Cow;

/// The pattern with escapes of non-ASCII characters replaced by the characters, as Ruby does
/// before Onigmo reads it (an ASCII character in a `\u{…}` list stays escaped, written `\xHH`).
pub(crate) fn as_written(src: &str) -> Cow<'_, str> {
    if !src.contains('\\') {
        return Cow::Borrowed(src);
    }
    let s: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut changed = false;
    let mut k = 0;
    while k < s.len() {
        if s[k] != '\\' {
            out.push(s[k]);
            k += 1;
            continue;
        }
        let replaced = match s.get(k + 1) {
            Some('u') => unicode(&s, k + 2),
            Some('x' | '0') => bytes(&s, k),
            Some('1'..='7') => bytes(&s, k).or_else(|| ascii_octal(&s, k)),
            _ => None,
        };
        match replaced {
            Some((text, next)) => {
                out.push_str(&text);
                changed = true;
                k = next;
            }
            None => {
                // The escape as written (a backslash and the character it escapes).
                out.extend(&s[k..(k + 2).min(s.len())]);
                k += 2;
            }
        }
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(src)
    }
}

/// A character the replacement writes as itself.
fn literal(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace()
}

/// `\uHHHH` or `\u{H …}` after its `u` at `at`: the replacement and where it ends, when it holds
/// a character written as itself.
fn unicode(s: &[char], at: usize) -> Option<(String, usize)> {
    let hex = |from: usize, max: usize| {
        let n = s[from.min(s.len())..]
            .iter()
            .take(max)
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let v = u32::from_str_radix(&s[from..from + n].iter().collect::<String>(), 16).ok();
        (v, n)
    };
    let mut chars = Vec::new();
    let end = if s.get(at) == Some(&'{') {
        let mut j = at + 1;
        loop {
            while s.get(j) == Some(&' ') {
                j += 1;
            }
            if s.get(j) == Some(&'}') {
                break j + 1;
            }
            let (v, n) = hex(j, 6);
            chars.push(char::from_u32(v?)?);
            j += n;
        }
    } else {
        let (v, n) = hex(at, 4);
        if n != 4 {
            return None;
        }
        chars.push(char::from_u32(v?)?);
        at + 4
    };
    if !chars.iter().any(|&c| literal(c)) {
        return None;
    }
    let mut text = String::new();
    for c in chars {
        if literal(c) {
            text.push(c);
        } else {
            text.push_str(&format!("\\x{:02X}", c as u32));
        }
    }
    Some((text, end))
}

/// One escaped byte at `s[k]` (`\xHH`, or octal `\OOO` from 0o200 on, which cannot be a
/// back-reference): its value and where it ends.
fn byte(s: &[char], k: usize) -> Option<(u8, usize)> {
    if s.get(k) != Some(&'\\') {
        return None;
    }
    let digits = |from: usize, max: usize, radix: u32| {
        s.get(from..)
            .unwrap_or_default()
            .iter()
            .take(max)
            .take_while(|c| c.is_digit(radix))
            .count()
    };
    let value = |from: usize, n: usize, radix: u32| {
        u32::from_str_radix(&s[from..from + n].iter().collect::<String>(), radix).ok()
    };
    match s.get(k + 1)? {
        'x' => {
            let n = digits(k + 2, 2, 16);
            (n > 0).then_some(())?;
            Some((u8::try_from(value(k + 2, n, 16)?).ok()?, k + 2 + n))
        }
        '0'..='7' => {
            let n = digits(k + 1, 3, 8);
            let v = value(k + 1, n, 8)?;
            (n == 3 && v >= 0o200).then_some(())?;
            Some((u8::try_from(v).ok()?, k + 1 + n))
        }
        _ => None,
    }
}

/// An octal escape of an ASCII character at `s[k]` that cannot be a back-reference (`\\163`: its
/// decimal number is above 9 and above the groups that can have opened before it), written
/// `\\xHH`: Onigmo reads it as a string of its own (`/\\163\\163/i` does not match `ß`), which the
/// translator reads `\\xHH` as.
fn ascii_octal(s: &[char], k: usize) -> Option<(String, usize)> {
    let decimal: String = s[k + 1..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let groups = s[..k].iter().filter(|&&c| c == '(').count();
    let n: usize = decimal.parse().ok()?;
    if n <= 9 || n <= groups {
        return None;
    }
    let octal: String = decimal
        .chars()
        .take(3)
        .take_while(|c| c.is_digit(8))
        .collect();
    let v = u32::from_str_radix(&octal, 8).ok()?;
    (v < 0o200).then(|| (format!("\\x{v:02X}"), k + 1 + octal.len()))
}

/// Escaped UTF-8 bytes of one non-ASCII character from `s[k]`: the character and where its last
/// byte ends.
fn bytes(s: &[char], k: usize) -> Option<(String, usize)> {
    let (first, mut j) = byte(s, k)?;
    let len = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return None,
    };
    let mut buf = vec![first];
    while buf.len() < len {
        let (b, next) = byte(s, j)?;
        buf.push(b);
        j = next;
    }
    let c = std::str::from_utf8(&buf).ok()?.chars().next()?;
    literal(c).then(|| (c.to_string(), j))
}

#[cfg(test)]
mod tests {
    use super::as_written;

    #[test]
    fn non_ascii_escapes_become_the_characters() {
        for (src, read) in [
            (r"\u00DF", "ß"),
            (r"stra\u00DFe", "straße"),
            (r"\u{DF}s", "ßs"),
            (r"\u{DF 73}", r"ß\x73"),
            (r"\u{FB03}", "ﬃ"),
            (r"\xC3\x9Fs", "ßs"),
            (r"\303\237", "ß"),
            (r"\xC3\237", "ß"),
            (r"[\u00DF-\u00FF]", "[ß-ÿ]"),
            (r"\\u00DF", r"\\u00DF"),
            (r"\x73s\u0073\1\u3000\xC3", r"\x73s\u0073\1\u3000\xC3"),
            (r"\u{110000}\u12", r"\u{110000}\u12"),
            (r"\163\163", r"\x73\x73"),
            (r"\12x\18", r"\x0Ax\x018"),
            (r"()()()()()()()()()()(x)\11", r"()()()()()()()()()()(x)\11"),
        ] {
            assert_eq!(as_written(src), read, "{src}");
        }
    }

    #[test]
    fn any_short_pattern_is_read_without_panic() {
        let alphabet: Vec<char> = "\\ux{}0137DF9 ß".chars().collect();
        let n = alphabet.len();
        for len in 1..=4u32 {
            for mut k in 0..n.pow(len) {
                let src: String = (0..len)
                    .map(|_| {
                        let c = alphabet[k % n];
                        k /= n;
                        c
                    })
                    .collect();
                let _ = as_written(&src);
            }
        }
    }
}
