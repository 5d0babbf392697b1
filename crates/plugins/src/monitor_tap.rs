//! `GET /api/tap` on the monitor endpoint (`monitor_agent`, `prometheus`): a stream of the events
//! passing a plugin or a tag pattern, one JSON object a line, for `logferry tap`.
//!
//! Query: `plugin_id=ID` (a filter or `<match>` by `@id`, or `object:<n>`) or `tag=PATTERN` (a
//! Fluentd pattern, seen where the events enter their output), `sample=N` (one event in N,
//! default 1) and `rate=R` (at most R lines a second, default 100; 0: no limit). Each line:
//! `{"plugin_id":…,"tag":…,"time":<float>,"record":{…}}`, secret-looking keys masked. The stream
//! ends when the client closes it; lines the client does not read fast enough are dropped (see
//! [`logferry_core::tap`]). The tap survives reloads: it sees the new pipeline's events.

use logferry_core::tag::MatchPattern;
use logferry_core::tap::{self, Select};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Default `rate`: lines a second.
pub const DEFAULT_RATE: f64 = 100.0;

/// `%XX` and `+` decoding of a query value.
fn decode(v: &str) -> String {
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The tap a query asks for: (selection, sample, rate), or the reason it is refused.
pub fn parse_query(query: &str) -> Result<(Select, u64, f64), String> {
    let mut select = None;
    let mut sample = 1u64;
    let mut rate = DEFAULT_RATE;
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let v = decode(v);
        match k {
            "plugin_id" if select.is_none() => select = Some(Select::Plugin(v)),
            "tag" if select.is_none() => {
                select = Some(Select::Tag(
                    MatchPattern::new(&v).map_err(|e| format!("tag {v}: {e}"))?,
                ))
            }
            "plugin_id" | "tag" => return Err("give plugin_id or tag, once".into()),
            "sample" => {
                sample = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(format!("sample {v}: a whole number, 1 or more"))?
            }
            "rate" => {
                rate = v
                    .parse()
                    .ok()
                    .filter(|r: &f64| r.is_finite() && *r >= 0.0)
                    .ok_or(format!("rate {v}: lines a second, 0 for no limit"))?
            }
            other => return Err(format!("unknown parameter {other}")),
        }
    }
    let select = select.ok_or("give plugin_id=ID or tag=PATTERN")?;
    Ok((select, sample, rate))
}

/// Serve one `/api/tap` request on `sock` until the client goes away.
pub async fn serve(mut sock: TcpStream, query: &str) {
    let (select, sample, rate) = match parse_query(query) {
        Ok(x) => x,
        Err(why) => {
            let body = format!("{why}\n");
            let resp = format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
            return;
        }
    };
    let mut sub = tap::subscribe(select, sample, rate);
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";
    if sock.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let (mut rd, mut wr) = sock.split();
    let mut scratch = [0u8; 64];
    let mut out = Vec::new();
    loop {
        tokio::select! {
            line = sub.rx.recv() => {
                let Some(line) = line else { return };
                out.clear();
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
                // Whatever else is queued goes in the same write.
                while let Ok(l) = sub.rx.try_recv() {
                    out.extend_from_slice(l.as_bytes());
                    out.push(b'\n');
                }
                if wr.write_all(&out).await.is_err() {
                    return;
                }
            }
            // The client closed (or sent something after its request): the tap ends.
            r = rd.read(&mut scratch) => if matches!(r, Ok(0) | Err(_)) { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let (s, n, r) = parse_query("tag=app.%2A%2A&sample=10&rate=0").unwrap();
        assert!(matches!(s, Select::Tag(p) if p.matches("app.x.y")));
        assert_eq!((n, r), (10, 0.0));
        let (s, n, r) = parse_query("plugin_id=out_s3").unwrap();
        assert!(matches!(s, Select::Plugin(ref p) if p == "out_s3"));
        assert_eq!((n, r), (1, DEFAULT_RATE));
        assert!(parse_query("").is_err());
        assert!(parse_query("plugin_id=a&tag=b").is_err());
        assert!(parse_query("plugin_id=a&sample=0").is_err());
        assert!(parse_query("plugin_id=a&x=1").is_err());
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%7Ba,b%7D+x"), "{a,b} x");
    }
}
