//! `--tap`: read the router's tap stream (`GET /api/tap` on its monitor endpoint) for the run.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::thread::JoinHandle;

/// Attach a tap on every event entering the output (`tag=**`) at `rate` lines a second; the
/// thread counts the lines until the router closes the stream.
pub fn attach(mon_port: u16, rate: f64) -> Result<JoinHandle<u64>, String> {
    let mut s = TcpStream::connect(("127.0.0.1", mon_port))
        .map_err(|e| format!("tap: cannot connect to the monitor on {mon_port}: {e}"))?;
    write!(
        s,
        "GET /api/tap?tag=%2A%2A&rate={rate} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).map_err(|e| e.to_string())?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(format!("tap: the router answered {}", line.trim()));
    }
    // Past the headers: the tap is registered once they are sent.
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 || line == "\r\n" {
            break;
        }
    }
    Ok(std::thread::spawn(move || {
        let mut n = 0;
        loop {
            line.clear();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return n,
                Ok(_) => n += 1,
            }
        }
    }))
}
