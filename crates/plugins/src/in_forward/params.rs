//! The declared parameters of `in_forward` (and of `in_unix`, which shares its protocol).

use logferry_core::params::{many, one, p, Body, ParamType::*, Spec};

/// `<user>` of `<security>`.
static USER: Spec = Spec::new("security.user", "A user for user_auth.").params(&[
    p("username", Str, "The user name.").required(),
    p("password", Str, "The password.").required().secret(),
]);

/// `<client>` of `<security>`.
static CLIENT: Spec = Spec::new("security.client", "A client allowed to connect.").params(&[
    p(
        "host",
        Str,
        "The client's host name (one of host or network).",
    ),
    p(
        "network",
        Str,
        "The client's network, `ADDRESS/PREFIX` (one of host or network).",
    ),
    p("shared_key", Str, "This client's own shared key.").secret(),
    p("users", Array, "The users this client may authenticate as."),
]);

/// `<security>` of in_forward.
pub static SECURITY: Spec = Spec::new(
    "in_forward.security",
    "The forward protocol's shared-key handshake.",
)
.params(&[
    p(
        "self_hostname",
        Str,
        "This server's host name in the handshake.",
    )
    .required(),
    p("shared_key", Str, "The key clients must share.")
        .required()
        .secret(),
    p("user_auth", Bool, "Also require a user name and password.").default("false"),
    p(
        "allow_anonymous_source",
        Bool,
        "Accept clients no `<client>` names.",
    )
    .default("true"),
])
.sections(&[
    many("user", Body::Spec(&USER), "A user."),
    many("client", Body::Spec(&CLIENT), "A client rule."),
]);

/// `<transport tcp|tls>` of inputs.
pub static TRANSPORT: Spec = Spec::new(
    "transport (server)",
    "`<transport tls>` serves TLS (rustls); `<transport tcp>` (the default) plain TCP.",
)
.params(&[
    p("cert_path", Str, "Server certificate (PEM)."),
    p("private_key_path", Str, "Its private key (PEM)."),
    p("private_key_passphrase", Str, "Passphrase of an encrypted key.").secret().refused("encrypted private keys are not supported; decrypt the key (openssl pkey -in k.pem -out plain.pem)"),
    p("ca_cert_path", Str, "CA certificate to sign a generated server certificate with."),
    p("ca_private_key_path", Str, "That CA's private key."),
    p("ca_private_key_passphrase", Str, "Passphrase of an encrypted CA key.").secret().refused("encrypted private keys are not supported; decrypt the key"),
    p("cert_verifier", Str, "A Ruby certificate verifier.").refused("it runs Ruby code"),
    p("insecure", Bool, "Serve a self-signed certificate.").default("false"),
    p("client_cert_auth", Bool, "Require client certificates signed by ca_path.").default("false"),
    p("ca_path", Str, "CA certificates client certificates must chain to."),
    p("generate_cert_common_name", Str, "Common name of a generated certificate.").computed("this host's name"),
    p("generate_cert_country", Str, "Country (C) of a generated certificate.").default("US"),
    p("generate_cert_state", Str, "State (ST) of a generated certificate.").default("CA"),
    p("generate_cert_locality", Str, "Locality (L) of a generated certificate.").default("Mountain View"),
    p("generate_cert_expiration", Time, "A generated certificate is valid from 1970 until this long after start.").default("315360000"),
    p("generate_cert_digest", Enum(&["sha1", "sha256", "sha384", "sha512"]), "Fluentd's signature digest: logferry signs with ECDSA P-256 and SHA-256 (a warning says so for another).").default("sha256"),
    p("generate_private_key_length", Integer, "Fluentd's RSA key length: logferry generates ECDSA P-256 keys (a warning says so when it is set).").default("2048"),
    p("version", Str, "TLS version: TLSv1_2 or TLSv1_3 (or TLS1_2, TLS1_3; default both)."),
    p("min_version", Str, "Lowest TLS version: TLSv1_2 or TLSv1_3 (with max_version, as in Fluentd)."),
    p("max_version", Str, "Highest TLS version: TLSv1_2 or TLSv1_3 (with min_version)."),
    p("ciphers", Str, "OpenSSL cipher list: logferry warns and uses rustls's safe suites.").default("ALL:!aNULL:!eNULL:!SSLv2"),
    p("linger_timeout", Integer, "Seconds to linger on close (SO_LINGER)."),
]);

/// The parameters in_forward and in_unix share: the protocol and the events it takes.
pub static PROTOCOL: Spec = Spec::new("forward protocol", "Forward protocol settings.").params(&[
    p(
        "deny_keepalive",
        Bool,
        "Close each connection after its first frame.",
    )
    .default("false"),
    p(
        "send_keepalive_packet",
        Bool,
        "TCP keepalive on accepted connections.",
    )
    .computed("true unless deny_keepalive"),
    p(
        "skip_invalid_event",
        Bool,
        "Drop events that are not [time, record] with a map record.",
    )
    .default("true"),
    p(
        "chunk_size_limit",
        Size,
        "Largest frame accepted (a larger one closes the connection).",
    ),
    p(
        "chunk_size_warn_limit",
        Size,
        "Warn about frames larger than this.",
    ),
    p(
        "decompression_size_limit",
        Size,
        "Largest decompressed size of a compressed frame.",
    )
    .default("256m"),
    p(
        "source_address_key",
        Str,
        "Add the client's address under this key.",
    ),
    p(
        "source_hostname_key",
        Str,
        "Add the client's host name under this key.",
    ),
    p("resolve_hostname", Bool, "Resolve client host names.")
        .computed("true when source_hostname_key is set"),
    p("tag", Str, "Replace every event's tag."),
    p(
        "add_tag_prefix",
        Str,
        "Prefix every event's tag (`PREFIX.tag`).",
    ),
    p(
        "frame_timeout",
        Time,
        "Close a connection that sends no complete frame for this long (logferry's own).",
    )
    .default("60"),
]);

/// `in_forward`.
pub static IN_FORWARD: Spec = Spec::new(
    "forward",
    "Receives events over the forward protocol (TCP, TLS) and answers heartbeats over UDP.",
)
.params(&[
    p("port", Integer, "Port (TCP and UDP heartbeats).").default("24224"),
    p("bind", Str, "Address to listen on.").default("0.0.0.0"),
    p("backlog", Integer, "Listen backlog.").computed("the system's"),
    p("linger_timeout", Integer, "Seconds to linger on close (SO_LINGER): deprecated in Fluentd for `<transport>`'s, over which it wins."),
])
.sections(&[
    one(
        "security",
        Body::Spec(&SECURITY),
        "Shared-key authentication.",
    ),
    one("transport", Body::Spec(&TRANSPORT), "TCP or TLS."),
])
.extends(&[&PROTOCOL]);

/// Why in_unix refuses the network parameters.
pub(crate) const UNIX_WHY: &str =
    "a unix socket has no peer address; who may connect is set by the socket file's permissions";

/// `in_unix`.
pub static IN_UNIX: Spec = Spec::new(
    "unix",
    "Receives events over the forward protocol on a unix socket.",
)
.params(&[
    p("path", Str, "The socket file.").computed("$FLUENT_SOCKET, else /var/run/fluent/fluent.sock"),
    p("backlog", Integer, "Listen backlog.").default("1024"),
    p("port", Integer, "A TCP port.").refused(UNIX_WHY),
    p("bind", Str, "A TCP address.").refused(UNIX_WHY),
    p("source_address_key", Str, "The client's address.").refused(UNIX_WHY),
    p("source_hostname_key", Str, "The client's host name.").refused(UNIX_WHY),
    p("resolve_hostname", Bool, "Resolve client host names.").refused(UNIX_WHY),
    p("send_keepalive_packet", Bool, "TCP keepalive.")
        .refused("TCP keepalive does not apply to a unix socket"),
    p("linger_timeout", Integer, "SO_LINGER.").refused("SO_LINGER applies to TCP connections"),
])
.extends(&[&PROTOCOL]);

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_config::types;

    #[test]
    fn declared_decompression_limit_is_the_decoders() {
        let d = |k| IN_FORWARD.find(k).and_then(|d| d.default.text()).unwrap();
        assert_eq!(
            types::size(d("decompression_size_limit")),
            logferry_forward::DEFAULT_SIZE_LIMIT as u64
        );
    }
}
