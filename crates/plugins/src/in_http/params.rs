//! Request parameters as Fluentd's in_http sees them: the query string and a form body parsed
//! as WEBrick's `HTTPUtils.parse_query` does, merged in order with the `HTTP_*` headers and
//! `REMOTE_ADDR` (an ordered map: a key set again keeps its first place, as a Ruby Hash).

/// Ordered parameters, and (second) the values of those given more than once where Fluentd
/// keeps them all (a header repeated: http_parser.rb gives an array).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Params(pub Vec<(String, Vec<u8>)>, pub Vec<(String, Vec<Vec<u8>>)>);

impl Params {
    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Set `key` (replacing its value in place when present).
    pub fn set(&mut self, key: String, value: Vec<u8>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }

    /// Every value of `key` when it was given more than once (see [`Params::add_repeated`]).
    pub fn all(&self, key: &str) -> Option<&[Vec<u8>]> {
        self.1
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Add a value of a header: the first one sets `key`; a further one keeps the first in
    /// place and makes the key's value the list of all of them.
    pub fn add_repeated(&mut self, key: String, value: Vec<u8>) {
        let Some(first) = self.get(&key).map(<[u8]>::to_vec) else {
            self.0.push((key, value));
            return;
        };
        match self.1.iter_mut().find(|(k, _)| *k == key) {
            Some((_, all)) => all.push(value),
            None => self.1.push((key, vec![first, value])),
        }
    }

    /// Add the pairs of a query string or form body (`a=1&b=2;c=3`). As WEBrick, a key seen
    /// twice keeps its first value.
    pub fn add_query(&mut self, q: &[u8]) {
        for part in q.split(|&b| b == b'&' || b == b';') {
            if part.is_empty() {
                continue;
            }
            let (k, v) = match part.iter().position(|&b| b == b'=') {
                Some(i) => (&part[..i], &part[i + 1..]),
                None => (part, &b""[..]),
            };
            let key = String::from_utf8_lossy(&unescape_form(k)).into_owned();
            if self.get(&key).is_none() {
                self.0.push((key, unescape_form(v)));
            }
        }
    }
}

/// The fields of a `multipart/form-data` body (WEBrick's `parse_form_data`): each part's
/// `name` from its `Content-Disposition`, its content as the value; a name seen twice keeps its
/// first value. `None` when the body is not made of parts with that boundary.
pub fn multipart(body: &[u8], boundary: &str) -> Option<Vec<(String, Vec<u8>)>> {
    let delim = format!("--{boundary}");
    let d = delim.as_bytes();
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = &body[find(body, d)? + d.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(out);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let end = find(rest, d)?;
        let part = &rest[..end];
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let split = find(part, b"\r\n\r\n")?;
        let (head, value) = (&part[..split], &part[split + 4..]);
        let head = String::from_utf8_lossy(head);
        let name = head.split("\r\n").find_map(|l| {
            let (k, v) = l.split_once(':')?;
            if !k.trim().eq_ignore_ascii_case("content-disposition") {
                return None;
            }
            v.split(';').find_map(|p| {
                let n = p.trim().strip_prefix("name=")?;
                Some(n.trim_matches('"').to_string())
            })
        });
        if let Some(name) = name {
            if !out.iter().any(|(k, _)| *k == name) {
                out.push((name, value.to_vec()));
            }
        }
        rest = &rest[end + d.len()..];
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
pub fn unescape_form(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < s.len() => match (hex(s[i + 1]), hex(s[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The tag of a request path as Fluentd makes it: `/a/b/c` → `a.b.c` (Ruby's `split('/')`
/// drops trailing empty parts).
pub fn tag_of(path: &str) -> String {
    let p = path.strip_prefix('/').unwrap_or(path);
    let mut parts: Vec<&str> = p.split('/').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts.join(".")
}

/// Ruby's `String#to_f`: the longest leading decimal number, 0.0 when there is none.
pub fn ruby_to_f(s: &str) -> f64 {
    let t = s.trim_start().as_bytes();
    let mut i = usize::from(matches!(t.first(), Some(b'+' | b'-')));
    let int_start = i;
    while i < t.len() && t[i].is_ascii_digit() {
        i += 1;
    }
    if i == int_start {
        return 0.0;
    }
    let mut end = i;
    if i < t.len() && t[i] == b'.' {
        let mut j = i + 1;
        while j < t.len() && t[j].is_ascii_digit() {
            j += 1;
        }
        if j > i + 1 {
            end = j;
        }
    }
    if end < t.len() && (t[end] == b'e' || t[end] == b'E') {
        let mut j = end + 1;
        if j < t.len() && matches!(t[j], b'+' | b'-') {
            j += 1;
        }
        let digits = j;
        while j < t.len() && t[j].is_ascii_digit() {
            j += 1;
        }
        if j > digits {
            end = j;
        }
    }
    std::str::from_utf8(&t[..end])
        .ok()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_values_listed_in_first_place() {
        let mut p = Params::default();
        p.add_repeated("HTTP_X".into(), b"1".to_vec());
        p.add_repeated("HTTP_Y".into(), b"y".to_vec());
        p.add_repeated("HTTP_X".into(), b"2".to_vec());
        p.add_repeated("HTTP_X".into(), b"3".to_vec());
        assert_eq!(p.get("HTTP_X"), Some(&b"1"[..]));
        assert_eq!(p.0[0].0, "HTTP_X");
        assert_eq!(
            p.all("HTTP_X"),
            Some(&[b"1".to_vec(), b"2".to_vec(), b"3".to_vec()][..])
        );
        assert_eq!(p.all("HTTP_Y"), None);
    }

    #[test]
    fn queries_and_forms() {
        let mut p = Params::default();
        p.add_query(b"json=%7B%22a%22%3A1%7D&x=a+b;y&x=2");
        assert_eq!(p.get("json"), Some(&b"{\"a\":1}"[..]));
        assert_eq!(p.get("x"), Some(&b"a b"[..]));
        assert_eq!(p.get("y"), Some(&b""[..]));
        assert_eq!(unescape_form(b"100%"), b"100%");
        assert_eq!(unescape_form(b"%zz%4"), b"%zz%4");
    }

    #[test]
    fn multipart_forms() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{\"a\":1}\r\n--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--XyZ--\r\n";
        let f = multipart(body, "XyZ").unwrap();
        assert_eq!(f[0], ("json".to_string(), b"{\"a\":1}".to_vec()));
        assert_eq!(f[1], ("other".to_string(), b"x".to_vec()));
        assert!(multipart(b"garbage", "XyZ").is_none());
    }

    #[test]
    fn tags_and_times() {
        assert_eq!(tag_of("/a/b/c"), "a.b.c");
        assert_eq!(tag_of("/t.json"), "t.json");
        assert_eq!(tag_of("/"), "");
        assert_eq!(tag_of("/a//b/"), "a..b");
        assert_eq!(ruby_to_f("1700000001.5"), 1700000001.5);
        assert_eq!(ruby_to_f("12abc"), 12.0);
        assert_eq!(ruby_to_f("abc"), 0.0);
        assert_eq!(ruby_to_f("1e3"), 1000.0);
        assert_eq!(ruby_to_f("-2.5x"), -2.5);
    }
}
