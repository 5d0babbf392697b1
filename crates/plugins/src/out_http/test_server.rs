//! A real, scriptable HTTP/1.1 server on 127.0.0.1 (hyper, optionally behind rustls) for out_http's
//! tests: it records each request's method, target, headers, body, arrival time and peer address,
//! and answers from a script (status, headers, body, delay), 200 when the script is empty.
//!
//! Shared by the unit tests (`crates/plugins`) and the end-to-end tests (`tests/e2e_http.rs`
//! includes this file by path), so it uses only crates both have: tokio, tokio-rustls, rustls,
//! hyper, hyper-util, http-body-util, flate2, rcgen.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// `POST`, `PUT` …
    pub method: String,
    /// The request target as sent (`/path?q`, or the absolute URL when sent to a proxy).
    pub target: String,
    /// Headers in arrival order, names lower-case.
    pub headers: Vec<(String, String)>,
    /// The body as sent (still gzip-compressed if it was).
    pub body: Vec<u8>,
    /// When the request head arrived.
    pub at: Instant,
    /// The client's address (same port = same connection).
    pub peer: SocketAddr,
}

impl Recorded {
    /// A header's value (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text, gunzipped when `Content-Encoding: gzip`.
    pub fn text(&self) -> String {
        if self.header("content-encoding") == Some("gzip") {
            let mut out = String::new();
            flate2::read::MultiGzDecoder::new(&self.body[..])
                .read_to_string(&mut out)
                .expect("gzip body");
            out
        } else {
            String::from_utf8(self.body.clone()).expect("utf-8 body")
        }
    }
}

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    /// Answer with this status and an empty body.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    /// Add a response header.
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    /// Set the response body.
    pub fn body(mut self, b: &str) -> Reply {
        self.body = b.to_string();
        self
    }

    /// Wait this long before answering.
    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// The running server; stopped when dropped.
pub struct Server {
    /// Where it listens.
    pub addr: SocketAddr,
    tls: bool,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// A plain HTTP server.
    pub fn start() -> Server {
        Self::spawn(None, 0)
    }

    /// A plain HTTP server on a chosen port of 127.0.0.1 (an output that comes back).
    pub fn start_on(port: u16) -> Server {
        Self::spawn(None, port)
    }

    /// An HTTPS server with this rustls configuration.
    pub fn start_tls(cfg: rustls::ServerConfig) -> Server {
        Self::spawn(Some(tokio_rustls::TlsAcceptor::from(Arc::new(cfg))), 0)
    }

    fn spawn(tls: Option<tokio_rustls::TlsAcceptor>, port: u16) -> Server {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("bind");
        std_listener.set_nonblocking(true).expect("nonblocking");
        let addr = std_listener.local_addr().expect("addr");
        let shared = Arc::new(Shared::default());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let is_tls = tls.is_some();
        let sh = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).expect("listener");
                loop {
                    let (tcp, peer) = tokio::select! {
                        _ = &mut stopped => break,
                        r = listener.accept() => match r {
                            Ok(x) => x,
                            Err(_) => continue,
                        },
                    };
                    let sh = sh.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let svc = service_fn(move |req| handle(req, peer, sh.clone()));
                        let http = hyper::server::conn::http1::Builder::new();
                        match tls {
                            Some(acceptor) => {
                                if let Ok(s) = acceptor.accept(tcp).await {
                                    let _ = http.serve_connection(TokioIo::new(s), svc).await;
                                }
                            }
                            None => {
                                let _ = http.serve_connection(TokioIo::new(tcp), svc).await;
                            }
                        }
                    });
                }
            });
        });
        Server {
            addr,
            tls: is_tls,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The URL of `path` on this server (`https://localhost:…` for TLS, matching the test
    /// certificate's name).
    pub fn url(&self, path: &str) -> String {
        if self.tls {
            format!("https://localhost:{}{path}", self.addr.port())
        } else {
            format!("http://127.0.0.1:{}{path}", self.addr.port())
        }
    }

    /// Queue answers for the next requests (200 once they are used up).
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Answer with this whenever the script is empty (instead of 200).
    pub fn set_default(&self, reply: Reply) {
        *self.shared.default.lock().unwrap() = Some(reply);
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Wait (blocking) until at least `n` requests arrived; panics on timeout.
    pub fn wait_requests(&self, n: usize, timeout: Duration) -> Vec<Recorded> {
        let start = Instant::now();
        loop {
            let r = self.requests();
            if r.len() >= n {
                return r;
            }
            assert!(
                start.elapsed() < timeout,
                "timed out waiting for {n} requests, got {}: {r:#?}",
                r.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn handle(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
    sh: Arc<Shared>,
) -> Result<hyper::Response<Full<Bytes>>, hyper::Error> {
    let at = Instant::now();
    let now = sh.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    sh.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let method = req.method().to_string();
    let target = req.uri().to_string();
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = req.into_body().collect().await?.to_bytes().to_vec();
    sh.requests.lock().unwrap().push(Recorded {
        method,
        target,
        headers,
        body,
        at,
        peer,
    });
    let reply = sh
        .script
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| sh.default.lock().unwrap().clone())
        .unwrap_or_else(|| Reply::status(200));
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    sh.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut resp = hyper::Response::builder().status(reply.status);
    for (k, v) in &reply.headers {
        resp = resp.header(k, v);
    }
    Ok(resp
        .body(Full::new(Bytes::from(reply.body)))
        .expect("valid response"))
}

/// A test PKI: a CA, a server certificate for `localhost`/127.0.0.1 and a client certificate,
/// all signed by the CA, as PEM files in `dir`.
pub struct Pki {
    /// The CA certificate (PEM file).
    pub ca: std::path::PathBuf,
    /// The client certificate (PEM file).
    pub client_cert: std::path::PathBuf,
    /// The client key (PEM file).
    pub client_key: std::path::PathBuf,
    ca_der: Vec<u8>,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
}

impl Pki {
    /// Generate into `dir`.
    pub fn generate(dir: &std::path::Path) -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(vec![]).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "logferry test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf = |names: Vec<String>| {
            let key = rcgen::KeyPair::generate().unwrap();
            let cert = rcgen::CertificateParams::new(names)
                .unwrap()
                .signed_by(&key, &ca, &ca_key)
                .unwrap();
            (cert, key)
        };
        let (server, server_key) = leaf(vec!["localhost".into(), "127.0.0.1".into()]);
        let (client, client_key) = leaf(vec!["client".into()]);
        let p = |n: &str| dir.join(n);
        std::fs::write(p("ca.pem"), ca.pem()).unwrap();
        std::fs::write(p("client.pem"), client.pem()).unwrap();
        std::fs::write(p("client.key"), client_key.serialize_pem()).unwrap();
        Pki {
            ca: p("ca.pem"),
            client_cert: p("client.pem"),
            client_key: p("client.key"),
            ca_der: ca.der().to_vec(),
            server_cert_der: server.der().to_vec(),
            server_key_der: server_key.serialize_der(),
        }
    }

    /// A server configuration; with `client_auth`, clients must present a certificate of the CA.
    pub fn server_config(&self, client_auth: bool) -> rustls::ServerConfig {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = if client_auth {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(self.ca_der.clone()))
                .unwrap();
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(v)
        } else {
            builder.with_no_client_auth()
        };
        builder
            .with_single_cert(
                vec![CertificateDer::from(self.server_cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.server_key_der.clone())),
            )
            .unwrap()
    }
}
