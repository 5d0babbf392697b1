//! in_forward parameters, with Fluentd's names and defaults.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};
use logferry_forward::handshake::{ClientRule, SecurityConfig};
use logferry_forward::DecoderOptions;

/// Idle time before the first TCP keepalive probe: well under AWS NLB's 350 s idle timeout.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(60);
/// Interval between keepalive probes.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(10);
/// Unanswered probes before the connection is dropped.
pub const KEEPALIVE_PROBES: u32 = 6;
/// Longest a client may take to complete the `<security>` handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything in_forward reads from its section.
#[derive(Clone, Debug)]
pub struct ForwardConfig {
    /// `port`
    pub port: u16,
    /// `bind`
    pub bind: String,
    /// `backlog`
    pub backlog: Option<i32>,
    /// `linger_timeout` (transport): SO_LINGER on close, when set.
    pub linger_timeout: Option<Duration>,
    /// Decoder limits and `skip_invalid_event`.
    pub decoder: DecoderOptions,
    /// `deny_keepalive`
    pub deny_keepalive: bool,
    /// TCP keepalive probes (`send_keepalive_packet`, on by default in logferry).
    pub tcp_keepalive: bool,
    /// `source_address_key`
    pub source_address_key: Option<String>,
    /// `source_hostname_key`
    pub source_hostname_key: Option<String>,
    /// `resolve_hostname`
    pub resolve_hostname: bool,
    /// `tag`: replaces the tag of every event.
    pub tag: Option<String>,
    /// `add_tag_prefix`
    pub add_tag_prefix: Option<String>,
    /// `<security>`
    pub security: Option<Arc<SecurityConfig>>,
    /// `<transport tls>`
    pub tls: Option<crate::net::tls::TlsConfig>,
    /// `frame_timeout` (logferry): once part of a frame arrived, the rest must arrive within
    /// this time or the connection is closed (a stalled or trickling client). Idle connections
    /// between frames are not affected.
    pub frame_timeout: Duration,
}

impl ForwardConfig {
    /// Read and validate the section.
    pub fn from_section(s: &Section) -> Result<Self, BuildError> {
        let s = &s.declared(&super::params::IN_FORWARD);
        let port: i64 = s.get("port")?;
        let port = u16::try_from(port)
            .map_err(|_| build_error(s.pos(), format!("port {port} is out of range")))?;
        let bind = s.get("bind")?;
        let backlog = s.get::<Option<i64>>("backlog")?.map(|v| v as i32);
        let deny_keepalive: bool = s.get("deny_keepalive")?;
        let send_keepalive = s.param("send_keepalive_packet");
        let tcp_keepalive = match send_keepalive {
            Some(_) => s.get("send_keepalive_packet")?,
            None => !deny_keepalive,
        };
        if deny_keepalive && send_keepalive.is_some() && tcp_keepalive {
            return Err(build_error(
                s.pos(),
                "send_keepalive_packet and deny_keepalive cannot both be true",
            ));
        }
        let mut decoder = DecoderOptions {
            skip_invalid_event: s.get("skip_invalid_event")?,
            chunk_size_limit: s.get("chunk_size_limit")?,
            chunk_size_warn_limit: s.get("chunk_size_warn_limit")?,
            decompression_size_limit: s.get("decompression_size_limit")?,
            ..DecoderOptions::default()
        };
        if let Some(limit) = decoder.chunk_size_limit {
            // Never buffer more of one object than the configured limit allows (plus slack to see
            // where it ends, so the connection can go on with the next object).
            decoder.max_object_size = decoder.max_object_size.max(limit);
        }
        let source_hostname_key = s.non_empty("source_hostname_key")?.map(str::to_string);
        let resolve_hostname = match s.param("resolve_hostname") {
            Some(p) => {
                let v = logferry_config::types::bool(&p.value).ok_or_else(|| {
                    build_error(
                        &p.pos,
                        format!(
                            "resolve_hostname: expected true or false, got '{}'",
                            p.value
                        ),
                    )
                })?;
                if !v && source_hostname_key.is_some() {
                    return Err(build_error(
                        &p.pos,
                        "resolve_hostname false conflicts with source_hostname_key",
                    ));
                }
                v
            }
            None => source_hostname_key.is_some(),
        };
        let tag = s.non_empty("tag")?.map(str::to_string);
        let add_tag_prefix = s.non_empty("add_tag_prefix")?.map(str::to_string);
        let security = match s.section("security")? {
            Some(sec) => Some(Arc::new(security(&sec)?)),
            None => None,
        };
        // The deprecated top-level linger_timeout wins over <transport>'s (Fluentd's server
        // helper: `socket_options[:linger_timeout] ||= transport's`).
        let top_linger = s.opt_size("linger_timeout").map(Duration::from_secs);
        if let Some(p) = s.param("linger_timeout") {
            tracing::warn!(
                "{}: 'linger_timeout' parameter is deprecated: use transport directive",
                p.pos
            );
        }
        let mut linger_timeout = None;
        let mut tls = None;
        if let Some(t) = s.section("transport")? {
            let proto = t.arg().trim();
            linger_timeout = t.opt_size("linger_timeout").map(Duration::from_secs);
            match proto {
                "" | "tcp" => {}
                "tls" => tls = Some(crate::net::tls::config(&t)?),
                other => {
                    return Err(build_error(
                        t.pos(),
                        format!("<transport {other}>: expected tcp or tls"),
                    ))
                }
            }
        }
        let frame_timeout: f64 = s.get("frame_timeout")?;
        if !(frame_timeout > 0.0 && frame_timeout.is_finite()) {
            return Err(build_error(
                s.pos(),
                format!("frame_timeout {frame_timeout}: expected a positive time such as 60s"),
            ));
        }
        Ok(ForwardConfig {
            frame_timeout: Duration::from_secs_f64(frame_timeout),
            port,
            bind,
            backlog,
            linger_timeout: top_linger.or(linger_timeout),
            decoder,
            deny_keepalive,
            tcp_keepalive,
            source_address_key: s.non_empty("source_address_key")?.map(str::to_string),
            source_hostname_key,
            resolve_hostname,
            tag,
            add_tag_prefix,
            security,
            tls,
        })
    }

    /// The address to listen on.
    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        crate::net::accept::resolve(&self.bind, self.port)
    }

    /// Apply the tag rewriting parameters.
    pub fn tag_for(&self, tag: String) -> String {
        let tag = self.tag.clone().unwrap_or(tag);
        match &self.add_tag_prefix {
            Some(p) => format!("{p}.{tag}"),
            None => tag,
        }
    }
}

fn security(s: &Section) -> Result<SecurityConfig, BuildError> {
    let self_hostname = s.get("self_hostname")?;
    let shared_key = s.get("shared_key")?;
    let user_auth = s.get("user_auth")?;
    let allow_anonymous_source: bool = s.get("allow_anonymous_source")?;
    let mut users = Vec::new();
    for u in s.sections("user") {
        users.push((u.get("username")?, u.get("password")?));
    }
    if user_auth && users.is_empty() {
        return Err(build_error(
            s.pos(),
            "user_auth is on but no <user> is defined",
        ));
    }
    let mut clients = Vec::new();
    for c in s.sections("client") {
        // A host name is resolved now, as Fluentd does (IPSocket.getaddress): the peer's address
        // is compared with its first address, never with the peer's reverse-DNS name.
        let host = match c.str("host") {
            Some(h) => Some(
                crate::net::peer::resolve_host(h)
                    .ok_or_else(|| build_error(c.pos(), format!("host '{h}' cannot be resolved")))?
                    .to_string(),
            ),
            None => None,
        };
        let network = match c.param("network") {
            Some(p) => Some(crate::net::peer::parse_network(&p.value).ok_or_else(|| {
                build_error(
                    &p.pos,
                    format!(
                        "network '{}' address format is invalid: expected ADDRESS/PREFIX or ADDRESS/MASK",
                        p.value
                    ),
                )
            })?),
            None => None,
        };
        if host.is_some() == network.is_some() {
            return Err(build_error(
                c.pos(),
                "<client> needs exactly one of host or network",
            ));
        }
        clients.push(ClientRule {
            host,
            network,
            shared_key: c.get("shared_key")?,
            users: c.get::<Option<_>>("users")?.unwrap_or_default(),
        });
    }
    if !allow_anonymous_source && clients.is_empty() {
        return Err(build_error(
            s.pos(),
            "allow_anonymous_source false needs at least one <client>",
        ));
    }
    Ok(SecurityConfig {
        self_hostname,
        shared_key,
        user_auth,
        allow_anonymous_source,
        users,
        clients,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn linger(body: &str) -> Option<Duration> {
        let text = format!("<source>\n@type forward\n{body}\n</source>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s =
            Section::new(&root.elements[0], "forward").declared(&super::super::params::IN_FORWARD);
        let cfg = ForwardConfig::from_section(&s).unwrap();
        assert!(s.warn_unused().is_empty());
        cfg.linger_timeout
    }

    /// Fluentd's server helper: `socket_options[:linger_timeout] ||= transport's`.
    #[test]
    fn top_level_linger_timeout_wins_over_transports() {
        let t = "<transport tcp>\nlinger_timeout 30\n</transport>";
        assert_eq!(
            linger(&format!("linger_timeout 0\n{t}")),
            Some(Duration::ZERO)
        );
        assert_eq!(linger(t), Some(Duration::from_secs(30)));
        assert_eq!(linger("linger_timeout 5"), Some(Duration::from_secs(5)));
        assert_eq!(linger(""), None);
    }
}
