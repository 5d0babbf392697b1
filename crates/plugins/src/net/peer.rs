//! The peer of a network input: its address and, for `source_hostname_key`, its name.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// Reverse DNS of the peer (getnameinfo), off the async threads; None when it has no name.
pub async fn reverse_dns(ip: IpAddr) -> Option<String> {
    tokio::task::spawn_blocking(move || {
        let sa: socket2::SockAddr = SocketAddr::new(ip, 0).into();
        let mut host = [0 as libc::c_char; 1025];
        // SAFETY: sa is a valid sockaddr of the given length; host is a writable buffer of the given size.
        let rc = unsafe {
            libc::getnameinfo(
                sa.as_ptr(),
                sa.len(),
                host.as_mut_ptr(),
                host.len() as libc::socklen_t,
                std::ptr::null_mut(),
                0,
                libc::NI_NAMEREQD,
            )
        };
        if rc != 0 {
            return None;
        }
        // SAFETY: getnameinfo NUL-terminates host on success.
        let s = unsafe { std::ffi::CStr::from_ptr(host.as_ptr()) };
        Some(s.to_string_lossy().into_owned())
    })
    .await
    .ok()
    .flatten()
}

/// Reverse DNS answers of a datagram input, kept so that a busy sender costs one lookup; at
/// most [`NameCache::MAX`] addresses are remembered (then it starts over).
#[derive(Default)]
pub struct NameCache {
    names: HashMap<IpAddr, Option<String>>,
}

impl NameCache {
    /// Most addresses remembered.
    pub const MAX: usize = 4096;

    /// The name of `ip`, or its text when it has none (as Fluentd's `remote_host`).
    pub async fn name(&mut self, ip: IpAddr) -> String {
        if let Some(n) = self.names.get(&ip) {
            return n.clone().unwrap_or_else(|| ip.to_string());
        }
        let n = reverse_dns(ip).await;
        if self.names.len() >= Self::MAX {
            self.names.clear();
        }
        self.names.insert(ip, n.clone());
        n.unwrap_or_else(|| ip.to_string())
    }
}

/// `source_address_key` and `source_hostname_key` (with Fluentd's deprecated alias
/// `source_host_key`): fields naming the peer, added to each record.
#[derive(Clone, Debug, Default)]
pub struct SourceKeys {
    /// `source_address_key`: the peer's IP address.
    pub address: Option<String>,
    /// `source_hostname_key`: the peer's name (reverse DNS), or its address when it has none.
    pub hostname: Option<String>,
}

impl SourceKeys {
    /// Read the keys of `s`.
    pub fn from_section(s: &logferry_core::Section) -> Result<Self, logferry_core::BuildError> {
        let hostname = match s.non_empty("source_hostname_key")? {
            Some(k) => Some(k.to_string()),
            None => s.non_empty("source_host_key")?.map(str::to_string),
        };
        Ok(SourceKeys {
            address: s.non_empty("source_address_key")?.map(str::to_string),
            hostname,
        })
    }

    /// Does a field need the peer's name?
    pub fn needs_name(&self) -> bool {
        self.hostname.is_some()
    }

    /// Add the fields to `record` (a map; a key it has is replaced, as Ruby's `record[k] = v`).
    pub fn apply(&self, record: &mut logferry_core::Value, ip: IpAddr, name: Option<&str>) {
        if let Some(k) = &self.address {
            set_field(record, k, logferry_core::Value::Str(ip.to_string()));
        }
        if let Some(k) = &self.hostname {
            let n = name.map_or_else(|| ip.to_string(), str::to_string);
            set_field(record, k, logferry_core::Value::Str(n));
        }
    }
}

/// `record[key] = value` on a map: replaced in place when present, else appended.
pub fn set_field(record: &mut logferry_core::Value, key: &str, value: logferry_core::Value) {
    if let logferry_core::Value::Map(m) = record {
        match m.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
            Some((_, v)) => *v = value,
            None => m.push((logferry_core::Value::Str(key.to_string()), value)),
        }
    }
}

/// The name of a connected peer when `keys` needs it.
pub async fn name_for(keys: &SourceKeys, peer: SocketAddr) -> Option<String> {
    if keys.needs_name() {
        reverse_dns(peer.ip()).await
    } else {
        None
    }
}

/// A `<security>` allow list of in_tcp: the networks clients may connect from.
#[derive(Clone, Debug, Default)]
pub struct AllowList {
    nets: Vec<(IpAddr, u8)>,
}

impl AllowList {
    /// Read `<security>` with its `<client>` sections (`host` or `network`), if present.
    pub fn from_section(
        s: &logferry_core::Section,
    ) -> Result<Option<Self>, logferry_core::BuildError> {
        use logferry_core::error::build_error;
        let Some(sec) = s.section("security")? else {
            return Ok(None);
        };
        let mut nets = Vec::new();
        for c in sec.sections("client") {
            let net = match (c.str("host"), c.param("network")) {
                (Some(h), None) => {
                    let ip = resolve_host(h).ok_or_else(|| {
                        build_error(c.pos(), format!("host '{h}' cannot be resolved"))
                    })?;
                    (ip, if ip.is_ipv4() { 32 } else { 128 })
                }
                (None, Some(p)) => parse_network(&p.value).ok_or_else(|| {
                    build_error(
                        &p.pos,
                        format!("network '{}' address format is invalid", p.value),
                    )
                })?,
                _ => {
                    return Err(build_error(
                        c.pos(),
                        "<client> needs exactly one of host or network",
                    ))
                }
            };
            nets.push(net);
        }
        if nets.is_empty() {
            return Err(build_error(
                sec.pos(),
                "<security> needs at least one <client>",
            ));
        }
        Ok(Some(AllowList { nets }))
    }

    /// May `ip` connect?
    pub fn allows(&self, ip: IpAddr) -> bool {
        self.nets
            .iter()
            .any(|(net, bits)| in_network(ip, *net, *bits))
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|a4| in_network(IpAddr::V4(a4), net, bits)),
        _ => false,
    }
}

/// A network as Ruby's `IPAddr.new` reads it (Fluentd's `<client> network`): `ADDRESS/PREFIX`,
/// `ADDRESS/MASK` (a contiguous mask such as `255.0.0.0`), or a bare address (the host alone);
/// an IPv6 address may be in brackets. A prefix with a leading zero, a prefix past the address's
/// width, a mask that is not contiguous or of the other family is refused, as Ruby does.
pub fn parse_network(s: &str) -> Option<(IpAddr, u8)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = match addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(v6) => IpAddr::V6(v6.parse().ok()?),
        None => addr.parse().ok()?,
    };
    let max: u8 = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match len {
        None => max,
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            if l.len() > 1 && l.starts_with('0') {
                return None;
            }
            l.parse::<u8>().ok().filter(|b| *b <= max)?
        }
        Some(l) => {
            let (ones, zeros) = match (ip, l.parse::<IpAddr>().ok()?) {
                (IpAddr::V4(_), IpAddr::V4(m)) => {
                    let m = u32::from(m);
                    (m.leading_ones(), m.trailing_zeros().min(32))
                }
                (IpAddr::V6(_), IpAddr::V6(m)) => {
                    let m = u128::from(m);
                    (m.leading_ones(), m.trailing_zeros().min(128))
                }
                _ => return None,
            };
            if ones + zeros != u32::from(max) {
                return None;
            }
            u8::try_from(ones).ok()?
        }
    };
    Some((ip, bits))
}

/// The first address a host name resolves to (Ruby's `IPSocket.getaddress`, which Fluentd's
/// `<client> host` goes through), or the address itself.
pub fn resolve_host(host: &str) -> Option<IpAddr> {
    use std::net::ToSocketAddrs;
    if host.is_empty() {
        // Ruby's socket library reads an empty host as INADDR_ANY.
        return Some(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    }
    (host, 0).to_socket_addrs().ok()?.next().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(
            parse_network("10.0.0.0/8"),
            Some(("10.0.0.0".parse().unwrap(), 8))
        );
        assert_eq!(
            parse_network("127.0.0.1"),
            Some(("127.0.0.1".parse().unwrap(), 32))
        );
        assert_eq!(parse_network("10.0.0.0/40"), None);
        assert_eq!(
            parse_network("10.0.0.0/255.0.0.0"),
            Some(("10.0.0.0".parse().unwrap(), 8))
        );
        assert_eq!(
            parse_network("[::1]/128"),
            Some(("::1".parse().unwrap(), 128))
        );
        for bad in [
            "10.0.0.0/255.0.255.0",
            "10.0.0.0/08",
            "10.0.0.0/",
            "10.0.0/8",
            "10.0.0.0/::",
        ] {
            assert_eq!(parse_network(bad), None, "{bad}");
        }
        assert_eq!(parse_network("nope"), None);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(!in_network(ip("11.1.2.3"), ip("10.0.0.0"), 8));
        assert!(in_network(ip("127.0.0.1"), ip("127.0.0.1"), 32));
        assert!(in_network(ip("1.2.3.4"), ip("0.0.0.0"), 0));
        assert!(in_network(ip("::ffff:10.0.0.1"), ip("10.0.0.0"), 8));
    }
}
