//! The declared parameters of `out_forward`.

use logferry_core::buffer::params::BUFFERED;
use logferry_core::params::{many, one, p, Body, ParamType::*, Spec};

/// `<server>`.
static SERVER: Spec = Spec::new("out_forward.server", "An aggregator to send to.").params(&[
    p("host", Str, "Host name or address (a name is re-resolved).").required(),
    p("port", Integer, "Port.").default("24224"),
    p("name", Str, "Name in logs and metrics."),
    p("weight", Integer, "Share of the load.").default("60"),
    p(
        "standby",
        Bool,
        "Used only when every active server is down.",
    )
    .default("false"),
    p("shared_key", Str, "This server's own shared key.").secret(),
    p("username", Str, "User for user_auth.").default(""),
    p("password", Str, "Password for user_auth.")
        .default("")
        .secret(),
]);

/// `<security>` of out_forward.
static SECURITY: Spec = Spec::new("out_forward.security", "The shared-key handshake.").params(&[
    p(
        "self_hostname",
        Str,
        "This client's host name in the handshake.",
    )
    .required(),
    p("shared_key", Str, "The key the servers share.")
        .required()
        .secret(),
]);

/// `<transport tls>` of out_forward: the `tls_*` settings, the prefix optional.
static TRANSPORT: Spec = Spec::new(
    "transport (client)",
    "`<transport tls>` sends over TLS (rustls); its settings may drop the `tls_` prefix.",
)
.params(&[
    p(
        "version",
        Str,
        "TLS version: TLSv1_2 or TLSv1_3 (or TLS1_2, TLS1_3; default both).",
    )
    .aliases(&["tls_version"]),
    p(
        "min_version",
        Str,
        "Lowest TLS version (wins over version).",
    )
    .aliases(&["tls_min_version"]),
    p(
        "max_version",
        Str,
        "Highest TLS version (wins over version).",
    )
    .aliases(&["tls_max_version"]),
    p(
        "ciphers",
        Str,
        "OpenSSL cipher list: logferry warns and uses rustls's safe suites.",
    )
    .default("ALL:!aNULL:!eNULL:!SSLv2")
    .aliases(&["tls_ciphers"]),
    p("insecure_mode", Bool, "Skip every certificate check.")
        .default("false")
        .aliases(&["tls_insecure_mode"]),
    p("insecure", Bool, "Same as insecure_mode.")
        .default("false")
        .aliases(&["tls_insecure"]),
    p(
        "allow_self_signed_cert",
        Bool,
        "Accept a self-signed server certificate.",
    )
    .default("false")
    .aliases(&["tls_allow_self_signed_cert"]),
    p(
        "verify_hostname",
        Bool,
        "Check the server certificate's name.",
    )
    .default("true")
    .aliases(&["tls_verify_hostname"]),
    p(
        "cert_path",
        Array,
        "CA certificates to verify the server with (replaces ca_cert_path).",
    )
    .aliases(&["tls_cert_path"]),
    p(
        "ca_cert_path",
        Array,
        "CA certificates to verify the server with.",
    )
    .aliases(&["tls_ca_cert_path"]),
    p("client_cert_path", Str, "Client certificate (PEM).").aliases(&["tls_client_cert_path"]),
    p("client_private_key_path", Str, "Its private key (PEM).")
        .aliases(&["tls_client_private_key_path"]),
    p(
        "client_private_key_passphrase",
        Str,
        "Not supported: encrypted private keys (decrypt the key).",
    )
    .secret()
    .aliases(&["tls_client_private_key_passphrase"]),
    p(
        "cert_thumbprint",
        Str,
        "Not supported: it reads the Windows certificate store.",
    )
    .aliases(&["tls_cert_thumbprint"]),
    p(
        "cert_logical_store_name",
        Str,
        "Not supported: it reads the Windows certificate store.",
    )
    .aliases(&["tls_cert_logical_store_name"]),
    p(
        "cert_use_enterprise_store",
        Bool,
        "Not supported: it reads the Windows certificate store.",
    )
    .aliases(&["tls_cert_use_enterprise_store"]),
    p("session_resumption", Bool, "Resume TLS sessions.")
        .default("false")
        .aliases(&["tls_session_resumption"]),
]);

/// v0.12's flat server: one `host` and `port` on the match.
static FLAT_SERVER: Spec = Spec::new("v0.12 server", "v0.12 flat host and port.")
    .params(&[
        p("host", Str, "v0.12: the one server's host (use <server>)."),
        p("port", Integer, "v0.12: the one server's port.").default("24224"),
    ])
    .legacy();

/// `forward` output.
pub static PARAMS: Spec = Spec::new(
    "forward",
    "Sends events to Fluentd-compatible servers over the forward protocol, with acks, heartbeats, load balancing and failover.",
)
.params(&[
    p("send_timeout", Time, "Longest a send may take.").default("60"),
    p("connect_timeout", Time, "Longest a connect may take.").computed("send_timeout"),
    p("heartbeat_type", Enum(&["transport", "tcp", "udp", "none"]), "How servers are checked.").default("transport"),
    p("heartbeat_interval", Time, "Heartbeat period.").default("1"),
    p("recover_wait", Time, "A detached server is used again after heartbeats for this long.").default("10"),
    p("hard_timeout", Time, "A server that answers no heartbeat for this long is detached.").default("60"),
    p("phi_threshold", Float, "Phi accrual failure detector threshold.").default("16"),
    p("phi_failure_detector", Bool, "Use the phi accrual failure detector.").default("true"),
    p("require_ack_response", Bool, "Wait for the server's ack of each chunk (at-least-once).").default("false"),
    p("ack_response_timeout", Time, "Resend a chunk not acked within this.").default("190"),
    p("expire_dns_cache", Time, "Re-resolve names after this (0: every connect; unset: when detached)."),
    p("dns_round_robin", Bool, "Pick a random address of a name's records.").default("false"),
    p("verify_connection_at_startup", Bool, "Fail the start if a server cannot be reached.").default("false"),
    p("compress", Enum(&["text", "gzip", "zstd"]), "Compress chunks (zstd refused).").default("text"),
    p("keepalive", Bool, "Reuse connections.").default("false"),
    p("keepalive_timeout", Time, "Close a reused connection after this long."),
    p("send_keepalive_packet", Bool, "TCP keepalive probes.").default("true"),
    p("time_as_integer", Bool, "Send whole-second times (for Fluentd v0.12 servers).").default("false"),
    p("transport", Enum(&["tcp", "tls"]), "TCP or TLS (or a <transport> section).").default("tcp"),
    p("read_interval_msec", Integer, "Accepted: Fluentd's polling reader setting, meaningless here."),
    p("read_length", Size, "Accepted: Fluentd's polling reader setting, meaningless here."),
    p("ignore_network_errors_at_startup", Bool, "Accepted for Fluentd compatibility.").default("false"),
    p("tls_version", Str, "TLS version: TLSv1_2 or TLSv1_3 (or TLS1_2, TLS1_3; default both)."),
    p("tls_min_version", Str, "Lowest TLS version (with tls_max_version, as in Fluentd; wins over version)."),
    p("tls_max_version", Str, "Highest TLS version (with tls_min_version; wins over version)."),
    p("tls_ciphers", Str, "OpenSSL cipher list: logferry warns and uses rustls's safe suites.").default("ALL:!aNULL:!eNULL:!SSLv2"),
    p("tls_insecure_mode", Bool, "Skip every certificate check.").default("false"),
    p("tls_insecure", Bool, "Same as insecure_mode.").default("false"),
    p("tls_allow_self_signed_cert", Bool, "Accept a self-signed server certificate.").default("false"),
    p("tls_verify_hostname", Bool, "Check the server certificate's name.").default("true"),
    p("tls_cert_path", Array, "CA certificates to verify the server with (replaces ca_cert_path)."),
    p("tls_ca_cert_path", Array, "CA certificates to verify the server with."),
    p("tls_client_cert_path", Str, "Client certificate (PEM)."),
    p("tls_client_private_key_path", Str, "Its private key (PEM)."),
    p("tls_client_private_key_passphrase", Str, "Not supported: encrypted private keys (decrypt the key).").secret(),
    p("tls_cert_thumbprint", Str, "Not supported: it reads the Windows certificate store."),
    p("tls_cert_logical_store_name", Str, "Not supported: it reads the Windows certificate store."),
    p("tls_cert_use_enterprise_store", Bool, "Not supported: it reads the Windows certificate store."),
    p("tls_session_resumption", Bool, "Resume TLS sessions.").default("false"),
])
.sections(&[
    many("server", Body::Spec(&SERVER), "A server (at least one)."),
    one("security", Body::Spec(&SECURITY), "Shared-key authentication."),
    one("transport", Body::Spec(&TRANSPORT), "TCP or TLS settings."),
])
.extends(&[&FLAT_SERVER, &BUFFERED]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_port_is_the_protocol_default() {
        for spec in [&SERVER, &FLAT_SERVER] {
            let port = spec.find("port").and_then(|d| d.default.text()).unwrap();
            assert_eq!(port, super::super::config::DEFAULT_PORT.to_string());
        }
    }
}
