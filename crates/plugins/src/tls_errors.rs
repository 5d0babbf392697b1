//! TLS handshake failures explained: which side refused, and what is missing.
//!
//! rustls reports a failed handshake as an `io::Error` holding a `rustls::Error`; its text
//! ("invalid peer certificate: UnknownIssuer", "received fatal alert: BadCertificate") names the
//! symptom, not the side or the setting to change. These functions turn it into a sentence that
//! does, for the client (out_forward) and the server (in_forward) side.

use rustls::{AlertDescription, CertificateError, Error};

fn rustls_error(e: &std::io::Error) -> Option<&Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<Error>())
}

fn alert_hint(a: &AlertDescription, client: bool) -> &'static str {
    use AlertDescription as A;
    match (a, client) {
        (A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError, true) => {
            "the server refused this side's client certificate: set tls_client_cert_path and tls_client_private_key_path to a certificate signed by a CA the server trusts"
        }
        (A::CertificateRequired, true) => {
            "the server requires a client certificate: set tls_client_cert_path and tls_client_private_key_path"
        }
        (A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::DecryptError, false) => {
            "the client does not trust this server's certificate: give the sender the CA that signed it (Fluentd: tls_ca_cert_path or tls_insecure_mode; Fluent Bit: tls.ca_file or tls.verify off)"
        }
        // OpenSSL (Fluentd's in_forward with client_cert_auth) answers a client that sends no
        // certificate with handshake_failure under TLS 1.2.
        (A::HandshakeFailure, true) => {
            "no TLS version or cipher suite in common, or the server requires a client certificate this side does not send (set tls_client_cert_path and tls_client_private_key_path; logferry speaks TLS 1.2 and 1.3 with modern cipher suites: check tls_version / tls_min_version on both sides)"
        }
        (A::ProtocolVersion | A::HandshakeFailure | A::InsufficientSecurity, _) => {
            "no TLS version or cipher suite in common: logferry speaks TLS 1.2 and 1.3 with modern cipher suites (check tls_version / tls_min_version on both sides)"
        }
        (A::InternalError, _) => {
            "the peer failed internally: its log says why (Fluentd and Fluent Bit refuse a resumed session this way, for instance)"
        }
        _ => "see the peer's log for its reason",
    }
}

fn certificate_hint(c: &CertificateError, client: bool, name: &str) -> String {
    let fix = if client {
        "set tls_ca_cert_path to the CA that signed it, tls_allow_self_signed_cert true for a self-signed certificate, or tls_insecure_mode true to skip verification"
    } else {
        "the client certificate must be signed by a CA in this server's ca_path"
    };
    let whose = if client { "server's" } else { "client's" };
    match c {
        CertificateError::UnknownIssuer => {
            format!("the {whose} certificate is not signed by a trusted CA: {fix}")
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            format!("the server's certificate is not valid for the name '{name}' (wrong hostname): connect by a name the certificate holds, set the <server>'s name to one, or set tls_verify_hostname false")
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            format!("the {whose} certificate has expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            format!("the {whose} certificate is not valid yet (check the clocks)")
        }
        CertificateError::Revoked => format!("the {whose} certificate is revoked"),
        other => format!("the {whose} certificate was refused ({other:?}): {fix}"),
    }
}

/// Does this error text say a TLS record could not be decrypted (rustls' `DecryptError`)? The
/// peer encrypted it wrongly: that connection is broken, the peer may be fine.
pub fn is_corrupt_record(msg: &str) -> bool {
    msg.contains(&Error::DecryptError.to_string())
}

/// A failed handshake seen from the client side (out_forward), connecting to `name`.
pub fn client_handshake(e: &std::io::Error, name: &str) -> String {
    match rustls_error(e) {
        Some(Error::InvalidCertificate(c)) => {
            format!("this side refused: {}", certificate_hint(c, true, name))
        }
        Some(Error::AlertReceived(a)) => {
            format!("the server refused (alert {a:?}): {}", alert_hint(a, true))
        }
        Some(Error::InvalidMessage(m)) => format!(
            "the server does not answer in TLS ({m:?}): is its port a plain forward port? (set its <transport tls>, or drop transport tls here)"
        ),
        Some(other) => format!("{other}"),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.kind() == std::io::ErrorKind::ConnectionReset =>
        {
            format!("the server closed the connection during the handshake ({e}): it may not speak TLS on this port, or it refused the handshake (see its log)")
        }
        None => e.to_string(),
    }
}

/// A failed handshake seen from the server side (in_forward).
pub fn server_handshake(e: &std::io::Error) -> String {
    match rustls_error(e) {
        Some(Error::InvalidCertificate(c)) => {
            format!("this side refused: {}", certificate_hint(c, false, ""))
        }
        Some(Error::NoCertificatesPresented) => {
            "this side refused: the client sent no certificate and client_cert_auth requires one"
                .into()
        }
        Some(Error::AlertReceived(a)) => {
            format!("the client refused (alert {a:?}): {}", alert_hint(a, false))
        }
        Some(Error::InvalidMessage(m)) => format!(
            "the client does not speak TLS ({m:?}): is the sender configured with transport tls (Fluent Bit: tls on)?"
        ),
        Some(Error::PeerIncompatible(p)) => {
            format!("the client is incompatible ({p:?}): no TLS version or cipher suite in common")
        }
        Some(other) => format!("{other}"),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof
            || e.kind() == std::io::ErrorKind::ConnectionReset =>
        {
            format!("the client closed the connection during the handshake ({e}): it refused this server's certificate or does not speak TLS (see its log)")
        }
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wrap(e: Error) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }

    #[test]
    fn corrupt_records_are_recognised_in_any_message() {
        let e = std::io::Error::new(std::io::ErrorKind::InvalidData, Error::DecryptError);
        assert!(is_corrupt_record(&format!(
            "handshake with 127.0.0.1:24224: HELO: the server closed the connection: {e}"
        )));
        assert!(!is_corrupt_record("connection refused"));
    }

    #[test]
    fn says_which_side_and_what_to_set() {
        let m = client_handshake(
            &wrap(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
            "agg",
        );
        assert!(m.starts_with("this side refused"), "{m}");
        assert!(m.contains("tls_ca_cert_path"), "{m}");
        let m = client_handshake(
            &wrap(Error::InvalidCertificate(CertificateError::NotValidForName)),
            "agg.example",
        );
        assert!(
            m.contains("wrong hostname") && m.contains("agg.example"),
            "{m}"
        );
        let m = client_handshake(
            &wrap(Error::AlertReceived(AlertDescription::CertificateRequired)),
            "x",
        );
        assert!(
            m.starts_with("the server refused") && m.contains("tls_client_cert_path"),
            "{m}"
        );
        // Fluentd's OpenSSL under TLS 1.2 asks for a missing client certificate this way.
        let m = client_handshake(
            &wrap(Error::AlertReceived(AlertDescription::HandshakeFailure)),
            "x",
        );
        assert!(
            m.contains("tls_client_cert_path") && m.contains("tls_version"),
            "{m}"
        );
        let m = server_handshake(&wrap(Error::AlertReceived(AlertDescription::UnknownCA)));
        assert!(
            m.starts_with("the client refused") && m.contains("does not trust"),
            "{m}"
        );
        let m = server_handshake(&wrap(Error::NoCertificatesPresented));
        assert!(m.contains("client_cert_auth"), "{m}");
        let m = server_handshake(&std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert!(m.starts_with("the client closed"), "{m}");
    }
}
