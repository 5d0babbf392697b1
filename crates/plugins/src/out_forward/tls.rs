//! TLS client of out_forward (rustls): trusted CAs from `tls_ca_cert_path` (default: the system
//! store), an optional client certificate, and Fluentd's relaxations — `tls_verify_hostname
//! false`, `tls_allow_self_signed_cert` (a certificate that signed itself is accepted, nothing
//! else unrooted) and `tls_insecure_mode` (no verification). Sessions are not resumed unless
//! `tls_session_resumption true`.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_rustls::TlsConnector;

use super::config::TlsClientConfig;

use crate::pem::{load_certs, load_key};

fn is_name_error(e: &Error) -> bool {
    matches!(
        e,
        Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    )
}

/// WebPKI verification with Fluentd's optional relaxations.
#[derive(Debug)]
struct Verifier {
    /// None when no root could be loaded: everything is an unknown issuer.
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    insecure: bool,
    allow_self_signed: bool,
    verify_hostname: bool,
}

impl Verifier {
    /// Verify `ee` as its own trust anchor: accepted only if it signed itself.
    fn self_signed(
        &self,
        ee: &CertificateDer<'_>,
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let mut roots = RootCertStore::empty();
        roots
            .add(ee.clone().into_owned())
            .map_err(|_| Error::InvalidCertificate(CertificateError::UnknownIssuer))?;
        let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
            .build()
            .map_err(|e| Error::General(e.to_string()))?;
        match v.verify_server_cert(ee, &[], name, ocsp, now) {
            Err(e) if !self.verify_hostname && is_name_error(&e) => {
                Ok(ServerCertVerified::assertion())
            }
            r => r,
        }
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let result = match &self.webpki {
            Some(v) => v.verify_server_cert(ee, intermediates, name, ocsp, now),
            None => Err(Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        };
        match result {
            Err(e) if !self.verify_hostname && is_name_error(&e) => {
                Ok(ServerCertVerified::assertion())
            }
            Err(Error::InvalidCertificate(CertificateError::UnknownIssuer))
                if self.allow_self_signed && intermediates.is_empty() =>
            {
                self.self_signed(ee, name, ocsp, now)
            }
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Build the TLS connector (reads the certificate files; called at start-up).
pub fn connector(cfg: &TlsClientConfig) -> Result<TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    if cfg.ca_paths.is_empty() {
        if !cfg.insecure {
            for c in rustls_native_certs::load_native_certs().certs {
                // A system certificate rustls cannot parse is skipped, as browsers do.
                let _ = roots.add(c);
            }
        }
    } else {
        for path in &cfg.ca_paths {
            for c in load_certs(path)? {
                roots.add(c).map_err(|e| format!("{path}: {e}"))?;
            }
        }
    }
    let webpki = if roots.is_empty() {
        None
    } else {
        Some(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| e.to_string())?,
        )
    };
    let verifier = Arc::new(Verifier {
        webpki,
        provider: provider.clone(),
        insecure: cfg.insecure,
        allow_self_signed: cfg.allow_self_signed,
        verify_hostname: cfg.verify_hostname,
    });
    let mut versions: Vec<&'static rustls::SupportedProtocolVersion> = Vec::new();
    if cfg.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if cfg.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&cfg.client_cert_path, &cfg.client_key_path) {
        (Some(c), Some(k)) => builder
            .with_client_auth_cert(load_certs(c)?, load_key(k)?)
            .map_err(|e| format!("{c}: {e}"))?,
        _ => builder.with_no_client_auth(),
    };
    if !cfg.session_resumption {
        // Fluentd's and Fluent Bit's TLS servers (OpenSSL, no session id context) abort a
        // resumed handshake instead of falling back to a full one: every connection after the
        // first would fail. Their own clients never resume; neither does this one by default.
        config.resumption = rustls::client::Resumption::disabled();
    }
    Ok(TlsConnector::from(Arc::new(config)))
}

/// The name to present (SNI) and check the certificate against: the host when it is a DNS
/// name, else the server's `name` when it is one, else the address itself.
pub fn server_name(host: &str, name: Option<&str>) -> Result<ServerName<'static>, String> {
    let is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let pick = if is_ip {
        name.filter(|n| ServerName::try_from(*n).is_ok())
            .unwrap_or(host)
    } else {
        host
    };
    ServerName::try_from(pick.to_string()).map_err(|e| format!("'{pick}': {e}"))
}
