//! The `<security>` handshake (HELO / PING / PONG), both sides.
//!
//! Server: send [`ServerHandshake::helo`], read the PING with
//! [`Decoder::next_raw`](crate::Decoder::next_raw), reply with
//! [`ServerHandshake::check_ping`]'s `reply`, close when not `ok`.
//! Client: [`parse_helo`], send [`ping`], verify with [`check_pong`].

mod client;
mod config;
mod digest;
mod server;

pub use client::{check_pong, parse_helo, ping, Helo};
pub use config::{ClientRule, SecurityConfig};
pub use digest::{password_digest, shared_key_digest};
pub use server::{PingOutcome, ServerHandshake};
