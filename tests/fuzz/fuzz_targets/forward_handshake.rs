//! The `<security>` handshake: the server's PING check (several configurations: shared key
//! only, user auth, `<client>` rules with anonymous sources denied), and the client's HELO
//! parse and PONG check, all on the same arbitrary bytes. The PING also goes through the
//! decoder's `next_raw`, as in_forward reads it off the connection.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use logferry_forward::handshake::{
    check_pong, parse_helo, ClientRule, Helo, SecurityConfig, ServerHandshake,
};
use logferry_forward::{Decoder, DecoderOptions};

fn servers() -> &'static [ServerHandshake] {
    static S: OnceLock<Vec<ServerHandshake>> = OnceLock::new();
    S.get_or_init(|| {
        let plain = SecurityConfig {
            self_hostname: "server".into(),
            shared_key: "secret".into(),
            ..SecurityConfig::default()
        };
        let users = SecurityConfig {
            user_auth: true,
            users: vec![("alice".into(), "pw".into()), ("bob".into(), "".into())],
            ..plain.clone()
        };
        let clients = SecurityConfig {
            allow_anonymous_source: false,
            user_auth: true,
            users: vec![("alice".into(), "pw".into())],
            clients: vec![
                ClientRule {
                    host: Some("127.0.0.1".into()),
                    shared_key: Some("other".into()),
                    users: vec!["alice".into()],
                    ..ClientRule::default()
                },
                ClientRule {
                    network: Some((IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)),
                    ..ClientRule::default()
                },
                ClientRule {
                    host: Some("peer.example".into()),
                    ..ClientRule::default()
                },
            ],
            ..plain.clone()
        };
        [plain, users, clients]
            .into_iter()
            .map(|c| ServerHandshake::new(Arc::new(c), true, [7; 16], [9; 16]))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let v4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
    for (i, s) in servers().iter().enumerate() {
        let out = s.check_ping(data, if i == 2 { v6 } else { v4 }, Some("peer.example"));
        assert_eq!(out.ok, out.reason.is_none());
    }
    let mut dec = Decoder::new(DecoderOptions {
        max_object_size: 4096,
        decompression_size_limit: 4096,
        ..DecoderOptions::default()
    });
    if dec.feed(data).is_ok() {
        if let Ok(Some(raw)) = dec.next_raw() {
            let _ = servers()[1].check_ping(&raw, v4, None);
        }
    }

    let helo = parse_helo(data).unwrap_or(Helo {
        nonce: vec![7; 16],
        auth: vec![9; 16],
        keepalive: true,
    });
    let _ = check_pong(data, &helo, "salt", "secret", "client");
});
