//! `<security>` configuration as the handshake needs it.

use std::net::IpAddr;

/// The `<security>` section of in_forward.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityConfig {
    /// Our host name, sent in PONG.
    pub self_hostname: String,
    /// Global shared key.
    pub shared_key: String,
    /// Require `<user>` credentials.
    pub user_auth: bool,
    /// Allow peers matching no `<client>` (default true).
    pub allow_anonymous_source: bool,
    /// `<user>` sections: (username, password).
    pub users: Vec<(String, String)>,
    /// `<client>` sections.
    pub clients: Vec<ClientRule>,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            self_hostname: String::new(),
            shared_key: String::new(),
            user_auth: false,
            allow_anonymous_source: true,
            users: Vec::new(),
            clients: Vec::new(),
        }
    }
}

/// One `<client>` section.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClientRule {
    /// `host`: an IP literal (in_forward resolves a configured name to its first address when it
    /// reads the config, as Fluentd does), or a name compared with the peer's reverse-DNS name.
    pub host: Option<String>,
    /// `network`: address and prefix length.
    pub network: Option<(IpAddr, u8)>,
    /// Per-client shared key, overriding the global one.
    pub shared_key: Option<String>,
    /// Usernames this client may authenticate as (empty = any).
    pub users: Vec<String>,
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Is the peer in the network? As Ruby's `IPAddr#include?`, an address of the other family never
/// is (an IPv4-mapped network does not take an IPv4 peer); a peer that is an IPv4-mapped address
/// (a dual-stack listener's) is also taken as the IPv4 address it maps.
fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    same_family_in(ip, net, prefix)
        || (canonical(ip) != ip && same_family_in(canonical(ip), net, prefix))
}

fn same_family_in(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let p = u32::from(prefix.min(32));
            let mask = u32::MAX.checked_shl(32 - p).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let p = u32::from(prefix.min(128));
            let mask = u128::MAX.checked_shl(128 - p).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

impl ClientRule {
    /// Does this rule cover the peer?
    pub fn matches(&self, ip: IpAddr, hostname: Option<&str>) -> bool {
        if let Some((net, prefix)) = self.network {
            if in_network(ip, net, prefix) {
                return true;
            }
        }
        match &self.host {
            Some(h) => match h.parse::<IpAddr>() {
                Ok(addr) => addr == ip || addr == canonical(ip),
                Err(_) => hostname.is_some_and(|n| n.eq_ignore_ascii_case(h)),
            },
            None => false,
        }
    }
}
