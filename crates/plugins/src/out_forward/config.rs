//! out_forward parameters, with Fluentd's names and defaults (`lib/fluent/plugin/out_forward.rb`).

use std::time::Duration;

use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};
use logferry_forward::encode::Compression;

/// Idle time before the first TCP keepalive probe on outgoing connections: well under AWS NLB's
/// 350 s idle timeout (the same as in_forward's).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Interval between keepalive probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered probes before the kernel drops the connection.
pub const KEEPALIVE_PROBES: u32 = 6;
/// Fluentd's default port.
pub const DEFAULT_PORT: u16 = 24224;

/// One `<server>`.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// `host`: an IP address or a DNS name (re-resolved per `expire_dns_cache`).
    pub host: String,
    /// `name`: used in logs and, when `host` is an address, for TLS server name checks.
    pub name: Option<String>,
    /// `port` (24224).
    pub port: u16,
    /// `weight` (60); 0 takes the server out of the rotation.
    pub weight: u32,
    /// `standby`: used only while primaries are down.
    pub standby: bool,
    /// `shared_key`: overrides `<security> shared_key` for this server.
    pub shared_key: Option<String>,
    /// `username` for the server's user authentication.
    pub username: String,
    /// `password` for the server's user authentication.
    pub password: String,
}

impl ServerConfig {
    /// The name used in logs: `name`, else `host:port`.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.host, self.port))
    }
}

/// `heartbeat_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatType {
    /// Connect (with TLS and the handshake when configured), then close (`transport`, `tcp`).
    Transport,
    /// A `00` datagram to the server's port, answered by in_forward.
    Udp,
    /// No heartbeat: a server that failed is skipped for `recover_wait`, then tried again.
    None,
}

/// `<security>` of the client.
#[derive(Clone, Debug)]
pub struct Security {
    /// `self_hostname`, sent in PING; a PONG with the same name is refused.
    pub self_hostname: String,
    /// `shared_key`.
    pub shared_key: String,
}

/// TLS client settings (`transport tls` with the `tls_*` parameters, or `<transport tls>`).
#[derive(Clone, Debug, Default)]
pub struct TlsClientConfig {
    /// `tls_ca_cert_path` (or `tls_cert_path`, as Fluentd): trusted CAs; default the system store.
    pub ca_paths: Vec<String>,
    /// `tls_client_cert_path`: a client certificate (PEM, may hold the chain).
    pub client_cert_path: Option<String>,
    /// `tls_client_private_key_path`.
    pub client_key_path: Option<String>,
    /// `tls_insecure_mode`: no verification at all.
    pub insecure: bool,
    /// `tls_allow_self_signed_cert`: accept a server certificate that signed itself.
    pub allow_self_signed: bool,
    /// `tls_verify_hostname` (true).
    pub verify_hostname: bool,
    /// Allow TLS 1.2.
    pub tls12: bool,
    /// Allow TLS 1.3.
    pub tls13: bool,
    /// `tls_session_resumption` (logferry's, false): offer to resume TLS sessions on new
    /// connections. Off as in Fluentd's and Fluent Bit's clients: their servers abort a resumed
    /// handshake (`session id context uninitialized`) instead of falling back to a full one.
    pub session_resumption: bool,
}

/// Everything out_forward reads from its section.
#[derive(Clone, Debug)]
pub struct ForwardOutConfig {
    /// The `<server>` sections.
    pub servers: Vec<ServerConfig>,
    /// `send_timeout` (60 s): the longest a write of one chunk may block.
    pub send_timeout: Duration,
    /// `connect_timeout`: Fluentd's default (none) means the OS's; logferry bounds it by
    /// `send_timeout`.
    pub connect_timeout: Duration,
    /// `heartbeat_type`.
    pub heartbeat_type: HeartbeatType,
    /// `heartbeat_interval` (1 s).
    pub heartbeat_interval: Duration,
    /// `recover_wait` (10 s).
    pub recover_wait: f64,
    /// `hard_timeout` (60 s): also the handshake timeout.
    pub hard_timeout: f64,
    /// `phi_threshold` (16).
    pub phi_threshold: f64,
    /// `phi_failure_detector` (true).
    pub phi_failure_detector: bool,
    /// `require_ack_response` (false).
    pub require_ack_response: bool,
    /// `ack_response_timeout` (190 s).
    pub ack_response_timeout: Duration,
    /// `expire_dns_cache`: `None` resolves once (until the server is detached), 0 every time.
    pub expire_dns_cache: Option<f64>,
    /// `dns_round_robin`: pick a random address of the name's records.
    pub dns_round_robin: bool,
    /// `verify_connection_at_startup`: fail the start if a server cannot be reached.
    pub verify_connection_at_startup: bool,
    /// `compress` text or gzip.
    pub compress: Compression,
    /// `keepalive`: reuse connections.
    pub keepalive: bool,
    /// `keepalive_timeout`: close a reused connection after this long (none: keep it).
    pub keepalive_timeout: Option<Duration>,
    /// TCP keepalive probes on outgoing connections (`send_keepalive_packet`, on by default).
    pub tcp_keepalive: bool,
    /// `time_as_integer`: whole-second times instead of EventTime.
    pub time_as_integer: bool,
    /// `<security>`.
    pub security: Option<Security>,
    /// TLS, when `transport tls`.
    pub tls: Option<TlsClientConfig>,
}

fn pos_of<'a>(s: &Section<'a>, key: &str) -> &'a logferry_config::Pos {
    s.param(key).map(|p| &p.pos).unwrap_or(s.pos())
}

fn seconds(s: &Section, key: &str) -> Result<f64, BuildError> {
    let v: f64 = s.get(key)?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(build_error(
            pos_of(s, key),
            format!("'{key}' must be a number of seconds"),
        ));
    }
    Ok(v)
}

fn positive(s: &Section, key: &str) -> Result<Duration, BuildError> {
    let v = seconds(s, key)?;
    if v <= 0.0 {
        return Err(build_error(
            pos_of(s, key),
            format!("'{key}' must be above 0"),
        ));
    }
    Ok(Duration::from_secs_f64(v.min(1e9)))
}

fn port(s: &Section, key: &str) -> Result<u16, BuildError> {
    let p: i64 = s.get(key)?;
    u16::try_from(p)
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| build_error(pos_of(s, key), format!("port {p} is out of range")))
}

fn server(s: &Section) -> Result<ServerConfig, BuildError> {
    let host = s.get::<&str>("host")?.trim().to_string();
    if host.is_empty() {
        return Err(build_error(pos_of(s, "host"), "'host' must not be empty"));
    }
    let weight: i64 = s.get("weight")?;
    let weight = u32::try_from(weight).map_err(|_| {
        build_error(
            pos_of(s, "weight"),
            format!("weight {weight} must be 0 or more"),
        )
    })?;
    Ok(ServerConfig {
        host: host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string(),
        name: s.non_empty("name")?.map(str::to_string),
        port: port(s, "port")?,
        weight,
        standby: s.get("standby")?,
        shared_key: s.get("shared_key")?,
        username: s.get("username")?,
        password: s.get("password")?,
    })
}

/// Where `tls_*` parameters are read: the match, or a `<transport tls>` section (where the
/// `tls_` prefix may be left out).
struct TlsSrc<'s, 'a> {
    out: &'s Section<'a>,
    section: Option<&'s Section<'a>>,
}

impl<'a> TlsSrc<'_, 'a> {
    /// The section holding `key` (prefixed or not) and the key as spelled there.
    fn find(&self, key: &str) -> Option<(Section<'a>, String)> {
        let long = format!("tls_{key}");
        if let Some(t) = self.section {
            for k in [long.as_str(), key] {
                if t.has(k) {
                    return Some((t.clone(), k.to_string()));
                }
            }
        }
        self.out
            .has(&long)
            .then(|| (self.out.clone(), long.clone()))
    }

    fn str(&self, key: &str) -> Option<String> {
        self.find(key)
            .and_then(|(s, k)| s.str(&k).map(str::to_string))
    }

    /// A TLS flag, its default from the match's declaration of `tls_KEY`.
    fn bool(&self, key: &str) -> Result<bool, BuildError> {
        match self.find(key) {
            Some((s, k)) => s.get(&k),
            None => self.out.get(&format!("tls_{key}")),
        }
    }

    fn array(&self, key: &str) -> Result<Option<Vec<String>>, BuildError> {
        match self.find(key) {
            Some((s, k)) => s.array(&k),
            None => Ok(None),
        }
    }

    fn refuse(&self, key: &str, why: &str) -> Result<(), BuildError> {
        match self.find(key) {
            Some((s, k)) => s.refuse(&k, why),
            None => Ok(()),
        }
    }
}

fn tls_config(src: &TlsSrc, pos: &logferry_config::Pos) -> Result<TlsClientConfig, BuildError> {
    src.refuse(
        "client_private_key_passphrase",
        "encrypted private keys are not supported; decrypt the key (openssl pkey -in k.pem -out plain.pem)",
    )?;
    for k in [
        "cert_thumbprint",
        "cert_logical_store_name",
        "cert_use_enterprise_store",
    ] {
        src.refuse(k, "it reads the Windows certificate store")?;
    }
    let parse_version = |key: &str| -> Result<Option<u8>, BuildError> {
        match src.str(key) {
            None => Ok(None),
            Some(v) => match v.as_str() {
                "TLSv1_2" | "TLS1_2" => Ok(Some(2)),
                "TLSv1_3" | "TLS1_3" => Ok(Some(3)),
                other => Err(build_error(
                    pos,
                    format!("tls_{key} {other}: logferry supports TLSv1_2 and TLSv1_3 only"),
                )),
            },
        }
    };
    // Fluentd: tls_min_version/tls_max_version, when given, win over tls_version.
    let version = parse_version("version")?;
    let min = parse_version("min_version")?;
    let max = parse_version("max_version")?;
    crate::net::tls::min_max_together(pos, min.is_some(), max.is_some())?;
    let (lo, hi) = match (min, max) {
        (None, None) => (version.unwrap_or(2), version.unwrap_or(3)),
        (lo, hi) => (lo.unwrap_or(2), hi.unwrap_or(3)),
    };
    if lo > hi {
        return Err(build_error(pos, "tls_min_version is above tls_max_version"));
    }
    if let Some(c) = src.str("ciphers") {
        if Some(c.as_str())
            != src
                .out
                .spec()
                .and_then(|d| d.find("tls_ciphers"))
                .and_then(|d| d.default.text())
        {
            tracing::warn!("{pos}: tls_ciphers '{c}': logferry uses rustls's safe default cipher suites and cannot take an OpenSSL cipher list");
        }
    }
    // Fluentd: tls_cert_path, when given, replaces tls_ca_cert_path.
    let ca_paths = match src.array("cert_path")?.filter(|v| !v.is_empty()) {
        Some(v) => v,
        None => src.array("ca_cert_path")?.unwrap_or_default(),
    };
    let insecure = src.bool("insecure_mode")? || src.bool("insecure")?;
    if insecure {
        tracing::warn!("{pos}: TLS transport is configured in insecure way");
    }
    let cfg = TlsClientConfig {
        ca_paths,
        client_cert_path: src.str("client_cert_path"),
        client_key_path: src.str("client_private_key_path"),
        insecure,
        allow_self_signed: insecure || src.bool("allow_self_signed_cert")?,
        verify_hostname: !insecure && src.bool("verify_hostname")?,
        tls12: lo <= 2,
        tls13: hi >= 3,
        session_resumption: src.bool("session_resumption")?,
    };
    if cfg.client_cert_path.is_some() != cfg.client_key_path.is_some() {
        return Err(build_error(
            pos,
            "tls_client_cert_path and tls_client_private_key_path go together",
        ));
    }
    Ok(cfg)
}

impl ForwardOutConfig {
    /// Read and validate the `<match>` section.
    pub fn from_section(s: &Section) -> Result<Self, BuildError> {
        let s = &s.declared(&super::params::PARAMS);
        s.refuse_section(
            "service_discovery",
            "list the aggregators as <server> sections (a DNS name is re-resolved)",
        )?;
        let mut servers = Vec::new();
        // v0.12's flat host/port (obsoleted in v1): one server.
        if let Some(h) = s.str("host") {
            tracing::warn!(
                "{}: 'host' in the forward output is obsoleted; use <server> host .. </server>",
                pos_of(s, "host")
            );
            servers.push(ServerConfig {
                host: h.to_string(),
                name: None,
                port: port(s, "port")?,
                weight: 60,
                standby: false,
                shared_key: None,
                username: String::new(),
                password: String::new(),
            });
        }
        for sv in s.sections("server") {
            servers.push(server(&sv)?);
        }
        if servers.is_empty() {
            return Err(build_error(
                s.pos(),
                "forward output plugin requires at least one node: add a <server> section",
            ));
        }
        let send_timeout = positive(s, "send_timeout")?;
        let connect_timeout = if s.has("connect_timeout") {
            positive(s, "connect_timeout")?
        } else {
            send_timeout
        };
        let heartbeat_type = match s.get::<&str>("heartbeat_type")? {
            "udp" => HeartbeatType::Udp,
            "none" => HeartbeatType::None,
            "tcp" => {
                tracing::warn!(
                    "{}: 'heartbeat_type tcp' is deprecated. use 'transport' instead.",
                    pos_of(s, "heartbeat_type")
                );
                HeartbeatType::Transport
            }
            _ => HeartbeatType::Transport,
        };
        let dns_round_robin = s.get("dns_round_robin")?;
        if dns_round_robin && heartbeat_type == HeartbeatType::Udp {
            return Err(build_error(
                pos_of(s, "dns_round_robin"),
                "forward output heartbeat type must be 'transport' or 'none' to use dns_round_robin option",
            ));
        }
        let ack_response_timeout = seconds(s, "ack_response_timeout")?;
        if ack_response_timeout < 1.0 {
            return Err(build_error(
                pos_of(s, "ack_response_timeout"),
                "ack_response_timeout must be a positive integer",
            ));
        }
        let compress = match s.get::<&str>("compress")? {
            "gzip" => Compression::Gzip,
            "zstd" => {
                return Err(build_error(
                    pos_of(s, "compress"),
                    "compress zstd is not supported by logferry's forward output; use gzip",
                ))
            }
            _ => Compression::Text,
        };
        let keepalive: bool = s.get("keepalive")?;
        let keepalive_timeout = if s.has("keepalive_timeout") {
            Some(positive(s, "keepalive_timeout")?)
        } else {
            None
        };
        if !keepalive && keepalive_timeout.is_some() {
            tracing::warn!("{}: the value of keepalive_timeout is ignored. if you want to use keepalive, please add `keepalive true` to your conf.", pos_of(s, "keepalive_timeout"));
        }
        let expire_dns_cache = if s.has("expire_dns_cache") {
            Some(seconds(s, "expire_dns_cache")?)
        } else {
            None
        };
        let security = match s.section("security")? {
            Some(sec) => Some(Security {
                self_hostname: sec.get("self_hostname")?,
                shared_key: sec.get("shared_key")?,
            }),
            None => None,
        };
        let transport_section = s.section("transport")?;
        let transport = match &transport_section {
            Some(t) => {
                if s.has("transport") {
                    return Err(build_error(
                        pos_of(s, "transport"),
                        "give either 'transport' or a <transport> section",
                    ));
                }
                t.arg().trim().to_string()
            }
            None => s.get("transport")?,
        };
        let src = TlsSrc {
            out: s,
            section: transport_section.as_ref(),
        };
        let tls = match transport.as_str() {
            "" | "tcp" => None,
            "tls" => Some(tls_config(
                &src,
                transport_section.as_ref().map_or(s.pos(), |t| t.pos()),
            )?),
            other => {
                return Err(build_error(
                    transport_section.as_ref().map_or(s.pos(), |t| t.pos()),
                    format!("transport {other}: expected tcp or tls"),
                ))
            }
        };
        let heartbeat_interval = positive(s, "heartbeat_interval")?;
        // Parameters of Fluentd's polling reader that have no meaning here.
        let _ = s.str("read_interval_msec");
        let _ = s.str("read_length");
        let _ = s.get::<bool>("ignore_network_errors_at_startup")?;
        Ok(ForwardOutConfig {
            servers,
            send_timeout,
            connect_timeout,
            heartbeat_type,
            heartbeat_interval,
            recover_wait: seconds(s, "recover_wait")?,
            hard_timeout: positive(s, "hard_timeout")?.as_secs_f64(),
            phi_threshold: s.get("phi_threshold")?,
            phi_failure_detector: s.get("phi_failure_detector")?,
            require_ack_response: s.get("require_ack_response")?,
            ack_response_timeout: Duration::from_secs_f64(ack_response_timeout.min(1e9)),
            expire_dns_cache,
            dns_round_robin,
            verify_connection_at_startup: s.get("verify_connection_at_startup")?,
            compress,
            keepalive,
            keepalive_timeout,
            tcp_keepalive: s.get("send_keepalive_packet")?,
            time_as_integer: s.get("time_as_integer")?,
            security,
            tls,
        })
    }

    /// Fluentd's `recover_sample_size`: heartbeats needed before a detached server is used again.
    pub fn recover_sample_size(&self) -> f64 {
        self.recover_wait / self.heartbeat_interval.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn tls(body: &str) -> Result<TlsClientConfig, BuildError> {
        let text = format!(
            "<match **>\n@type forward\ntransport tls\n{body}\n<server>\nhost 127.0.0.1\n</server>\n</match>\n"
        );
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "forward");
        let cfg = ForwardOutConfig::from_section(&s)?;
        let unused = s.warn_unused();
        assert!(unused.is_empty(), "{unused:?}");
        Ok(cfg.tls.expect("transport tls"))
    }

    #[test]
    fn tls_versions_and_resumption() {
        let both = tls("").unwrap();
        assert!(both.tls12 && both.tls13 && !both.session_resumption);
        let v12 = tls("tls_version TLSv1_2").unwrap();
        assert!(v12.tls12 && !v12.tls13);
        let v13 = tls("tls_version TLSv1_3").unwrap();
        assert!(!v13.tls12 && v13.tls13);
        // min/max win over tls_version, as in Fluentd.
        let range =
            tls("tls_version TLSv1_2\ntls_min_version TLSv1_2\ntls_max_version TLSv1_3").unwrap();
        assert!(range.tls12 && range.tls13);
        let only13 = tls("tls_min_version TLS1_3\ntls_max_version TLS1_3").unwrap();
        assert!(!only13.tls12 && only13.tls13, "Fluentd's other spelling");
        // Fluentd fails every connection then; logferry refuses at start, with its message.
        let e = tls("tls_min_version TLSv1_3").unwrap_err();
        assert!(
            e.to_string()
                .contains("When you set min_version, must set max_version together"),
            "{e}"
        );
        assert!(tls("tls_max_version TLSv1_3").is_err());
        assert!(
            tls("tls_session_resumption true")
                .unwrap()
                .session_resumption
        );
        let e = tls("tls_min_version TLSv1_3\ntls_max_version TLSv1_2").unwrap_err();
        assert!(e.to_string().contains("above tls_max_version"), "{e}");
        let e = tls("tls_version TLSv1_1").unwrap_err();
        assert!(e.to_string().contains("TLSv1_2 and TLSv1_3 only"), "{e}");
    }
}
