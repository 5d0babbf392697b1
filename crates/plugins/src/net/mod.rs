//! What the network inputs share: listening sockets and the accept loop with its connection
//! limit ([`accept`]), `<transport tls>` ([`tls`]), the peer's address and name ([`peer`]), and
//! the text framings of `tcp` and `syslog` ([`framing`]), and messages that are not UTF-8 through
//! the parsers ([`bytemap`]).

pub mod accept;
pub mod bytemap;
pub mod datagram;
pub mod framing;
pub mod params;
pub mod peer;
pub mod stream;
pub mod text;
pub mod tls;
