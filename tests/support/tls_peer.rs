//! Forward peers that behave over TLS as Fluentd's and Fluent Bit's do, for the end-to-end tests.
//! Both of those are OpenSSL programs, and so are these ([`Peer`], [`send_tls`]):
//!
//! * The server asks for a client certificate (verify mode PEER) and sets no session id context:
//!   OpenSSL then aborts a resumed handshake (`session id context uninitialized`, fluentd#3632)
//!   instead of falling back to a full one, as both real servers do.
//! * Over TLS 1.3 it sends OpenSSL's two session tickets after the handshake: a client that
//!   closes without reading them resets the connection, and its kernel drops what it had not
//!   transmitted yet.
//! * With `lazy`, it reads nothing for a moment after the handshake (a busy server): a large
//!   frame then waits in the client's send buffer, where such a reset destroys it.
//! * It runs the `<security>` handshake when given a shared key, answers acks, answers UDP
//!   heartbeats with `00` on the same port, and ends each connection as the peers do: on the
//!   client's close_notify it sends its own and closes.
//!
//! It records what it received per tag (duplicates included), refused handshakes, and
//! connections that did not end with the client's close_notify (a reset, or a bare FIN).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::handshake::{SecurityConfig, ServerHandshake};
use logferry_forward::{Decoder, DecoderOptions, Frame};
use logferry_msgpack::{EventTime, Value};
use openssl::ssl::{
    ErrorCode, Ssl, SslConnector, SslContext, SslFiletype, SslMethod, SslStream, SslVerifyMode,
    SslVersion,
};

/// How long a lazy server leaves a new connection unread (unless the client closes first).
const LAZY_WAIT: Duration = Duration::from_millis(300);

/// A CA and a server certificate it signed (for `127.0.0.1` and `localhost`), as PEM files.
pub struct Certs {
    /// The CA certificate.
    pub ca: PathBuf,
    /// The server certificate chain.
    pub cert: PathBuf,
    /// The server key.
    pub key: PathBuf,
    /// A CA that signed nothing here (for "not trusted" cases).
    pub other_ca: PathBuf,
}

/// Write a CA and a server certificate into `dir`.
pub fn make_certs(dir: &Path) -> Certs {
    fn ca(name: &str) -> (rcgen::Certificate, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        (p.self_signed(&key).unwrap(), key)
    }
    let (ca_cert, ca_key) = ca("logferry test CA");
    let (other, _) = ca("another CA");
    let key = rcgen::KeyPair::generate().unwrap();
    let mut p =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    let cert = p.signed_by(&key, &ca_cert, &ca_key).unwrap();
    let w = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Certs {
        ca: w("ca.pem", ca_cert.pem()),
        cert: w("server.pem", cert.pem()),
        key: w("server.key", key.serialize_pem()),
        other_ca: w("other-ca.pem", other.pem()),
    }
}

/// How a [`Peer`] behaves (default: TLS 1.2 at most, no shared key, well-behaved).
#[derive(Clone, Debug, Default)]
pub struct PeerOptions {
    /// Offer TLS 1.3 (else 1.2 at most).
    pub tls13: bool,
    /// Require the `<security>` handshake with this key.
    pub shared_key: Option<String>,
    /// Leave new connections unread for a moment (see the module doc).
    pub lazy: bool,
    /// On the first connection, send a TLS record the client cannot decrypt in place of the
    /// HELO (or of the first ack without a shared key), as Fluent Bit 4.x over TLS 1.3 now and
    /// then does; later connections behave.
    pub corrupt_first: bool,
    /// After the client's close_notify, keep the connection open until the client drops it
    /// (Fluent Bit 4.x sometimes does not close its side).
    pub stay_open: bool,
    /// After the client's close_notify, close with a reset (`SO_LINGER` 0), as Fluentd's
    /// in_forward ends every connection (its `linger_timeout` default).
    pub reset_at_close: bool,
}

/// What a [`Peer`] saw.
#[derive(Default, Debug)]
pub struct PeerStats {
    /// Seqs received per tag, duplicates included.
    pub received: Mutex<BTreeMap<String, Vec<u64>>>,
    /// Completed TLS handshakes.
    pub handshakes: AtomicUsize,
    /// Handshakes this server refused or that failed, with OpenSSL's reason.
    pub refused: Mutex<Vec<String>>,
    /// Connections that did not end with the client's close_notify.
    pub unclean: Mutex<Vec<String>>,
    /// Frames that arrived incomplete (the connection ended inside one).
    pub cut_frames: AtomicUsize,
    /// `<security>` handshakes that failed.
    pub auth_failures: Mutex<Vec<String>>,
    /// UDP heartbeats answered.
    pub udp_heartbeats: AtomicUsize,
    /// Every record received (its msgpack bytes) with its tag, in order.
    pub records: Mutex<Vec<(String, Vec<u8>)>>,
}

impl PeerStats {
    /// Events received for `tag` (duplicates included).
    pub fn count(&self, tag: &str) -> usize {
        self.received.lock().unwrap().get(tag).map_or(0, Vec::len)
    }
}

/// A forward server over TLS on 127.0.0.1 (and a UDP heartbeat responder on the same port).
pub struct Peer {
    /// Its port.
    pub port: u16,
    /// What it saw.
    pub stats: Arc<PeerStats>,
    stop: Arc<AtomicBool>,
}

/// An application-data record (TLS 1.2/1.3 framing) whose content is noise: the client's
/// decryption fails (rustls: "cannot decrypt peer's message").
fn garbage_record(s: &mut SslStream<TcpStream>) {
    let mut rec = vec![23, 3, 3, 0, 64];
    rec.extend((0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)));
    let _ = s.get_mut().write_all(&rec);
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn server_context(certs: &Certs, tls13: bool) -> SslContext {
    let mut b = SslContext::builder(SslMethod::tls_server()).unwrap();
    b.set_certificate_chain_file(&certs.cert).unwrap();
    b.set_private_key_file(&certs.key, SslFiletype::PEM)
        .unwrap();
    b.set_min_proto_version(Some(SslVersion::TLS1_2)).unwrap();
    b.set_max_proto_version(Some(if tls13 {
        SslVersion::TLS1_3
    } else {
        SslVersion::TLS1_2
    }))
    .unwrap();
    // Asks for a client certificate without requiring one, and no session id context: a
    // resumed handshake is aborted, as Fluentd's and Fluent Bit's servers do.
    b.set_verify_callback(SslVerifyMode::PEER, |_, _| true);
    b.build()
}

impl Peer {
    /// Start a peer on a free port.
    pub fn start(certs: &Certs, opts: PeerOptions) -> Peer {
        // TCP and UDP on the same port: retry until both bind.
        let (listener, udp) = loop {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            if let Ok(u) = UdpSocket::bind(("127.0.0.1", port)) {
                break (l, u);
            }
        };
        let port = listener.local_addr().unwrap().port();
        let stats = Arc::new(PeerStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let ctx = server_context(certs, opts.tls13);
        {
            let (stats, stop) = (stats.clone(), stop.clone());
            udp.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            thread::spawn(move || {
                let mut b = [0u8; 64];
                while !stop.load(Ordering::Relaxed) {
                    if let Ok((_, from)) = udp.recv_from(&mut b) {
                        let _ = udp.send_to(&[0], from);
                        stats.udp_heartbeats.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
        {
            let (stats, stop) = (stats.clone(), stop.clone());
            let first_done = AtomicBool::new(false);
            thread::spawn(move || {
                for s in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(s) = s else { continue };
                    let (ctx, mut opts, stats) = (ctx.clone(), opts.clone(), stats.clone());
                    if opts.corrupt_first {
                        // Only the first connection is garbled.
                        opts.corrupt_first = !first_done.swap(true, Ordering::Relaxed);
                    }
                    thread::spawn(move || serve(s, &ctx, &opts, &stats));
                }
            });
        }
        Peer { port, stats, stop }
    }
}

fn tcp_state(s: &TcpStream) -> u8 {
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut info as *mut libc::tcp_info).cast(),
            &mut len,
        )
    };
    if rc == 0 {
        info.tcpi_state
    } else {
        0
    }
}

fn serve(tcp: TcpStream, ctx: &SslContext, opts: &PeerOptions, stats: &PeerStats) {
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let ssl = Ssl::new(ctx).unwrap();
    let mut s = match ssl.accept(tcp) {
        Ok(s) => s,
        Err(e) => {
            stats.refused.lock().unwrap().push(e.to_string());
            return;
        }
    };
    stats.handshakes.fetch_add(1, Ordering::Relaxed);
    if opts.corrupt_first {
        garbage_record(&mut s);
        return;
    }
    let mut dec = Decoder::new(DecoderOptions::default());
    if let Some(key) = &opts.shared_key {
        if !security(&mut s, &mut dec, key, stats) {
            return;
        }
    }
    if opts.lazy {
        // Leave the connection unread until the client closes its side (state leaves
        // ESTABLISHED) or a moment passes.
        let t = Instant::now();
        while tcp_state(s.get_ref()) == 1 && t.elapsed() < LAZY_WAIT {
            thread::sleep(Duration::from_millis(5));
        }
    }
    let mut buf = vec![0u8; 64 * 1024];
    let clean = loop {
        match s.ssl_read(&mut buf) {
            Ok(n) => {
                dec.feed(&buf[..n]).unwrap();
                while let Ok(Some(frame)) = dec.next_frame(EventTime::now()) {
                    if let Frame::Events(ev) = frame {
                        record(&ev.tag, &ev.entries, &ev.ends, stats);
                        if let Some(id) = ev.ack {
                            let mut a = vec![0x81, 0xa3, b'a', b'c', b'k'];
                            a.extend_from_slice(&id);
                            if s.ssl_write(&a).is_err() {
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => break Ok(()),
            Err(e) => break Err(e.to_string()),
        }
    };
    if dec.buffered() > 0 {
        stats.cut_frames.fetch_add(1, Ordering::Relaxed);
    }
    match clean {
        Ok(()) if opts.stay_open => {
            // Wait for the client to drop the connection (a bare EOF or a reset).
            let mut b = [0u8; 64];
            let _ = s.get_mut().read(&mut b);
        }
        Ok(()) if opts.reset_at_close => linger_zero(s.get_ref()),
        Ok(()) => {
            let _ = s.shutdown();
        }
        Err(e) => stats.unclean.lock().unwrap().push(e),
    }
}

/// Set `SO_LINGER` 0 on `s`: its close sends a reset, not a FIN.
pub fn linger_zero(s: &TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and a `linger` of the size given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER");
}

/// A plain forward server that behaves as Fluentd's in_forward does with its defaults (no acks
/// asked for): it reads each connection to its end, then closes it with a reset
/// (`SO_LINGER` 0) instead of a FIN. Its events are counted in the [`Peer`]'s stats.
pub fn start_plain_resetting() -> Peer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let stats = Arc::new(PeerStats::default());
    let stop = Arc::new(AtomicBool::new(false));
    {
        let (stats, stop) = (stats.clone(), stop.clone());
        thread::spawn(move || {
            for s in listener.incoming() {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut s) = s else { continue };
                let stats = stats.clone();
                thread::spawn(move || {
                    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                    let mut got = Vec::new();
                    if let Err(e) = s.read_to_end(&mut got) {
                        stats.unclean.lock().unwrap().push(e.to_string());
                        return;
                    }
                    let mut dec = Decoder::new(DecoderOptions::default());
                    dec.feed(&got).unwrap();
                    while let Ok(Some(frame)) = dec.next_frame(EventTime::now()) {
                        if let Frame::Events(ev) = frame {
                            record(&ev.tag, &ev.entries, &ev.ends, &stats);
                        }
                    }
                    if dec.buffered() > 0 {
                        stats.cut_frames.fetch_add(1, Ordering::Relaxed);
                    }
                    linger_zero(&s);
                });
            }
        });
    }
    Peer { port, stats, stop }
}

fn security(s: &mut SslStream<TcpStream>, dec: &mut Decoder, key: &str, stats: &PeerStats) -> bool {
    let cfg = SecurityConfig {
        self_hostname: "peer".into(),
        shared_key: key.into(),
        ..SecurityConfig::default()
    };
    let hs = ServerHandshake::new(Arc::new(cfg), true, [7; 16], [9; 16]);
    if s.ssl_write(&hs.helo()).is_err() {
        return false;
    }
    let mut buf = [0u8; 4096];
    let ping = loop {
        if let Ok(Some(raw)) = dec.next_raw() {
            break raw;
        }
        match s.ssl_read(&mut buf) {
            Ok(n) => dec.feed(&buf[..n]).unwrap(),
            // A heartbeat connection closed before its PING.
            Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                let _ = s.shutdown();
                return false;
            }
            Err(e) => {
                stats.unclean.lock().unwrap().push(e.to_string());
                return false;
            }
        }
    };
    let outcome = hs.check_ping(&ping, "127.0.0.1".parse().unwrap(), None);
    let _ = s.ssl_write(&outcome.reply);
    if !outcome.ok {
        stats
            .auth_failures
            .lock()
            .unwrap()
            .push(outcome.reason.unwrap_or_default());
        let _ = s.shutdown();
        return false;
    }
    true
}

fn record(tag: &str, entries: &[u8], ends: &[u32], stats: &PeerStats) {
    let mut seqs = Vec::new();
    let mut start = 0usize;
    for &end in ends {
        let e = &entries[start..end as usize];
        // 92 D7 00 <8 bytes of time> <record>
        stats
            .records
            .lock()
            .unwrap()
            .push((tag.to_string(), e[11..].to_vec()));
        if let Ok((v, _)) = Value::decode(&e[11..]) {
            if let Some(Value::Int(n)) = v.get("seq") {
                seqs.push(*n as u64);
            }
        }
        start = end as usize;
    }
    stats
        .received
        .lock()
        .unwrap()
        .entry(tag.to_string())
        .or_default()
        .extend(seqs);
}

/// How [`send_tls`] behaves, as a Fluent Bit or Fluentd sender.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Offer TLS 1.3 (else 1.2 at most).
    pub tls13: bool,
    /// Run the `<security>` handshake with this key.
    pub shared_key: Option<String>,
    /// Ask for an ack of each frame and wait for it.
    pub ack: bool,
    /// Trust this CA (else no verification, as `tls.verify off`).
    pub ca: Option<PathBuf>,
}

/// Send `frames` (with their chunk ids when acked) over one TLS connection to 127.0.0.1:`port`
/// as OpenSSL senders do: SNI set to the address given (Fluent Bit sends an IP address there),
/// and without acks, close_notify and close right after the last write without reading anything.
/// Returns the acks that arrived.
pub fn send_tls(port: u16, opts: &ClientOptions, frames: &[(Vec<u8>, String)]) -> usize {
    let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
    b.set_max_proto_version(Some(if opts.tls13 {
        SslVersion::TLS1_3
    } else {
        SslVersion::TLS1_2
    }))
    .unwrap();
    match &opts.ca {
        Some(ca) => b.set_ca_file(ca).unwrap(),
        None => b.set_verify(SslVerifyMode::NONE),
    }
    let connector = b.build();
    let mut cfg = connector.configure().unwrap();
    cfg.set_verify_hostname(false);
    cfg.set_use_server_name_indication(false);
    let mut ssl = cfg.into_ssl("127.0.0.1").unwrap();
    // The IP address as SNI, as Fluent Bit sends it (rustls ignores it, with a warning in its log).
    ssl.set_hostname("127.0.0.1").unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut s = ssl.connect(tcp).expect("TLS handshake");
    if let Some(key) = &opts.shared_key {
        let helo = read_value(&mut s);
        let helo = logferry_forward::handshake::parse_helo(&helo).unwrap();
        let p = logferry_forward::handshake::ping(&helo, "sender", key, "0123456789abcdef", "", "");
        s.write_all(&p).unwrap();
        let pong = read_value(&mut s);
        logferry_forward::handshake::check_pong(&pong, &helo, "0123456789abcdef", key, "sender")
            .expect("PONG");
    }
    let mut acks = 0;
    for (f, id) in frames {
        s.write_all(f).unwrap();
        if opts.ack {
            let a = read_value(&mut s);
            if logferry_forward::encode::parse_ack(&a).as_deref() == Some(id.as_bytes()) {
                acks += 1;
            }
        }
    }
    let _ = s.shutdown();
    drop(s);
    acks
}

fn read_value(s: &mut SslStream<TcpStream>) -> Vec<u8> {
    let mut got = Vec::new();
    let mut b = [0u8; 4096];
    loop {
        if let Ok(n) = logferry_msgpack::value_len(&got) {
            got.truncate(n);
            return got;
        }
        let n = s.read(&mut b).expect("read a reply");
        assert!(n > 0, "connection closed before a reply");
        got.extend_from_slice(&b[..n]);
    }
}
