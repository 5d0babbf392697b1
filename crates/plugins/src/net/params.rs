//! The declared parameters of the `http`, `tcp`, `udp` and `syslog` inputs.

use logferry_core::params::{many, one, p, Body, ParamType::*, PluginKind, Spec};

use crate::in_forward::params::TRANSPORT;
use crate::parser;
use logferry_formats::extract::EXTRACT;

const EVENT_LOOP: &str = "Fluentd's Ruby event-loop timeout: accepted, no effect in logferry.";

/// What every socket input here takes.
static LISTEN: Spec = Spec::new("listen", "The listening socket.").params(&[
    p("bind", Str, "Address to listen on.").default("0.0.0.0"),
    p("backlog", Integer, "Listen backlog.").computed("1024"),
    p("blocking_timeout", Time, EVENT_LOOP).default("0.5"),
    p(
        "send_keepalive_packet",
        Bool,
        "TCP keepalive probes on accepted connections.",
    )
    .default("false"),
]);

/// The peer fields of the text inputs.
static PEER: Spec = Spec::new("peer fields", "Fields naming the client.").params(&[
    p(
        "source_address_key",
        Str,
        "Add the client's address under this key.",
    ),
    p(
        "source_hostname_key",
        Str,
        "Add the client's host name (reverse DNS, else its address) under this key.",
    ),
]);

/// `<client>` of in_tcp's `<security>`.
static TCP_CLIENT: Spec = Spec::new("security.client", "A client allowed to connect.").params(&[
    p(
        "host",
        Str,
        "The client's host name (one of host or network).",
    ),
    p("network", Str, "The client's network, `ADDRESS/PREFIX`."),
]);

/// in_tcp's `<security>`.
static TCP_SECURITY: Spec =
    Spec::new("tcp.security", "Which clients may connect.").sections(&[many(
        "client",
        Body::Spec(&TCP_CLIENT),
        "An allowed client.",
    )]);

/// `tcp`.
pub static IN_TCP: Spec = Spec::new(
    "tcp",
    "Receives text lines over TCP or TLS, parsed by <parse>.",
)
.params(&[
    p("tag", Str, "Tag of the events.").required(),
    p("port", Integer, "Port to listen on.").default("5170"),
    p("delimiter", Str, "What ends a message.").computed("\"\\n\""),
    p(
        "message_length_limit",
        Size,
        "Longest message; longer ones are dropped.",
    )
    .computed("8m (logferry's bound)"),
    p(
        "source_host_key",
        Str,
        "Deprecated name of source_hostname_key.",
    ),
])
.sections(&[
    one(
        "parse",
        Body::Plugin(PluginKind::Parser, None),
        "The parser (required).",
    ),
    one("security", Body::Spec(&TCP_SECURITY), "Allowed clients."),
    one("transport", Body::Spec(&TRANSPORT), "TCP or TLS."),
    one(
        "extract",
        Body::Spec(&EXTRACT),
        "Each event's tag (and time) from record fields.",
    ),
])
.extends(&[&LISTEN, &PEER, &parser::params::FLAT]);

/// `udp`.
pub static IN_UDP: Spec = Spec::new(
    "udp",
    "Receives one message per UDP datagram, parsed by <parse>.",
)
.params(&[
    p("tag", Str, "Tag of the events.").required(),
    p("port", Integer, "Port to listen on.").default("5160"),
    p(
        "message_length_limit",
        Size,
        "Longest datagram; longer ones are cut.",
    )
    .default("4096"),
    p(
        "body_size_limit",
        Size,
        "Deprecated name of message_length_limit.",
    ),
    p("remove_newline", Bool, "Remove one trailing newline.").default("true"),
    p("receive_buffer_size", Size, "SO_RCVBUF of the socket.").computed("the system's"),
    p(
        "source_host_key",
        Str,
        "Deprecated name of source_hostname_key.",
    ),
])
.sections(&[
    one(
        "parse",
        Body::Plugin(PluginKind::Parser, None),
        "The parser (required).",
    ),
    one(
        "extract",
        Body::Spec(&EXTRACT),
        "Each event's tag (and time) from record fields.",
    ),
])
.extends(&[&LISTEN, &PEER, &parser::params::FLAT]);

/// `syslog`.
pub static IN_SYSLOG: Spec = Spec::new(
    "syslog",
    "Receives RFC 3164 and RFC 5424 syslog messages over UDP, TCP or TLS; tags TAG.FACILITY.SEVERITY.",
)
.params(&[
    p("tag", Str, "Tag prefix of the events.").required(),
    p("port", Integer, "Port to listen on.").default("5140"),
    p("protocol_type", Enum(&["udp", "tcp"]), "Deprecated form of <transport>."),
    p("frame_type", Enum(&["traditional", "octet_count"]), "Newline framing or RFC 6587 octet counting.")
        .default("traditional"),
    p("delimiter", Str, "What ends a message (traditional framing).").computed("\"\\n\""),
    p("message_length_limit", Size, "Longest UDP datagram; longer ones are cut.").default("2048"),
    p("severity_key", Str, "Add the severity name under this key."),
    p("priority_key", Str, "Deprecated name of severity_key."),
    p("facility_key", Str, "Add the facility name under this key."),
    p("include_source_host", Bool, "Deprecated: add the client's address under source_host_key.")
        .default("false"),
    p("source_host_key", Str, "The key of include_source_host.").default("source_host"),
    p("resolve_hostname", Bool, "Resolve client host names.")
        .computed("true when source_hostname_key is set"),
    p("emit_unmatched_lines", Bool, "Emit messages that do not parse as TAG.unmatched.")
        .default("false"),
])
.sections(&[
    one("parse", Body::Plugin(PluginKind::Parser, Some("syslog")), "The parser (syslog, with_priority true)."),
    one("transport", Body::Spec(&TRANSPORT), "udp (default), tcp or tls."),
])
.extends(&[&LISTEN, &PEER, &parser::params::FLAT]);

/// `http`.
pub static IN_HTTP: Spec = Spec::new(
    "http",
    "Receives events POSTed over HTTP/1 (or HTTPS) to /TAG.",
)
.params(&[
    p("port", Integer, "Port to listen on.").default("9880"),
    p(
        "body_size_limit",
        Size,
        "Largest request body (413 beyond).",
    )
    .default("32m"),
    p(
        "keepalive_timeout",
        Time,
        "Idle time before a kept-alive connection is closed.",
    )
    .default("10"),
    p(
        "add_http_headers",
        Bool,
        "Add the request headers as HTTP_* fields.",
    )
    .default("false"),
    p(
        "add_query_params",
        Bool,
        "Add the query parameters as QUERY_* fields.",
    )
    .default("false"),
    p(
        "add_remote_addr",
        Bool,
        "Add REMOTE_ADDR (X-Forwarded-For's first address when present).",
    )
    .default("false"),
    p(
        "cors_allow_origins",
        Array,
        "Origins allowed by CORS (`*`, or patterns with one `*`).",
    ),
    p(
        "cors_allow_credentials",
        Bool,
        "Answer Access-Control-Allow-Credentials: true.",
    )
    .default("false"),
    p("respond_with_empty_img", Bool, "Answer a 1x1 GIF.").default("false"),
    p("use_204_response", Bool, "Answer 204 No Content.").default("false"),
    p("dump_error_log", Bool, "Log requests answered 400 or 500.").default("true"),
])
.sections(&[
    one(
        "parse",
        Body::Plugin(PluginKind::Parser, None),
        "in_http (JSON, msgpack, forms) or any parser for the body.",
    ),
    one("transport", Body::Spec(&TRANSPORT), "TCP or TLS."),
])
.extends(&[&LISTEN, &parser::params::FLAT]);
