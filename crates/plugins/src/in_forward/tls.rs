//! `<transport tls>` for in_forward (rustls): certificates from files, minted from a CA at start,
//! or self-signed (`insecure true`); optional client certificate verification.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use super::config::TlsConfig;

use crate::pem::{load_certs, load_key, read};

fn text(path: &str) -> Result<String, String> {
    String::from_utf8(read(path)?).map_err(|_| format!("{path}: not a PEM text file"))
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn self_signed(cn: &str) -> Result<CertAndKey, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let params = rcgen::CertificateParams::new(vec![cn.to_string()]).map_err(|e| e.to_string())?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    ))
}

fn minted(ca_cert: &str, ca_key: &str, cn: &str) -> Result<CertAndKey, String> {
    let ca_pem = text(ca_cert)?;
    let ca_key = rcgen::KeyPair::from_pem(&text(ca_key)?).map_err(|e| format!("{ca_key}: {e}"))?;
    let ca_params = rcgen::CertificateParams::from_ca_cert_pem(&ca_pem)
        .map_err(|e| format!("{ca_cert}: {e}"))?;
    let ca = ca_params.self_signed(&ca_key).map_err(|e| e.to_string())?;
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let params = rcgen::CertificateParams::new(vec![cn.to_string()]).map_err(|e| e.to_string())?;
    let cert = params
        .signed_by(&key, &ca, &ca_key)
        .map_err(|e| e.to_string())?;
    let mut chain = vec![cert.der().clone()];
    chain.extend(load_certs(ca_cert)?);
    Ok((
        chain,
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    ))
}

/// Build the TLS acceptor.
pub fn acceptor(cfg: &TlsConfig) -> Result<TlsAcceptor, String> {
    let (certs, key) = match (
        &cfg.cert_path,
        &cfg.private_key_path,
        &cfg.ca_cert_path,
        &cfg.ca_private_key_path,
    ) {
        (Some(c), Some(k), _, _) => (load_certs(c)?, load_key(k)?),
        (_, _, Some(ca), Some(cak)) => minted(ca, cak, &cfg.generate_cert_common_name)?,
        _ => self_signed(&cfg.generate_cert_common_name)?,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if cfg.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if cfg.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?;
    let builder = if cfg.client_cert_auth {
        let path = cfg.ca_path.as_deref().unwrap_or_default();
        let mut roots = rustls::RootCertStore::empty();
        for c in load_certs(path)? {
            roots.add(c).map_err(|e| format!("{path}: {e}"))?;
        }
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| e.to_string())?;
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(certs, key)
        .map_err(|e| e.to_string())?;
    // No session tickets and no session cache: forward clients never resume (Fluentd's and Fluent
    // Bit's do not), and a TLS 1.3 ticket the client never reads sits in its receive buffer, so
    // its close turns into a reset that can cost it our last ack.
    config.send_tls13_tickets = 0;
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    Ok(TlsAcceptor::from(Arc::new(config)))
}
