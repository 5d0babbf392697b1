//! `<transport tls>` for the server inputs (forward, http, tcp, syslog), as Fluentd's server
//! plugin helper reads it: certificates from files, minted from a CA at start, or self-signed
//! (`insecure true`); optional client certificate verification (rustls).

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};

use crate::pem::{load_certs, load_key, read};

fn text(path: &str) -> Result<String, String> {
    String::from_utf8(read(path)?).map_err(|_| format!("{path}: not a PEM text file"))
}

type CertAndKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The subject and lifetime Fluentd's cert_option gives a certificate it generates
/// (`generate_cert_country`, `_state`, `_locality`, `_common_name`, `_expiration`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CertSubject {
    /// C.
    pub country: String,
    /// ST.
    pub state: String,
    /// L.
    pub locality: String,
    /// CN (also the certificate's DNS name).
    pub common_name: String,
    /// Seconds of validity from start (it is valid from 1970-01-01, as Fluentd's).
    pub expiration: f64,
}

impl CertSubject {
    /// The rcgen parameters of a certificate for this subject.
    fn params(&self) -> Result<rcgen::CertificateParams, String> {
        let mut params = rcgen::CertificateParams::new(vec![self.common_name.clone()])
            .map_err(|e| e.to_string())?;
        let mut dn = rcgen::DistinguishedName::new();
        dn.push(rcgen::DnType::CountryName, self.country.as_str());
        dn.push(rcgen::DnType::StateOrProvinceName, self.state.as_str());
        dn.push(rcgen::DnType::LocalityName, self.locality.as_str());
        dn.push(rcgen::DnType::CommonName, self.common_name.as_str());
        params.distinguished_name = dn;
        let epoch = rcgen::date_time_ymd(1970, 1, 1);
        params.not_before = epoch;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        // `Time.now + expiration`, to the second; at most the end of 9999 (X.509's last year).
        let until = (now + self.expiration.max(0.0)).min(253_402_300_799.0);
        params.not_after = epoch + std::time::Duration::from_secs_f64(until);
        Ok(params)
    }
}

fn self_signed(subject: &CertSubject) -> Result<CertAndKey, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let params = subject.params()?;
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    Ok((
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    ))
}

fn minted(ca_cert: &str, ca_key: &str, subject: &CertSubject) -> Result<CertAndKey, String> {
    let ca_pem = text(ca_cert)?;
    let ca_key = rcgen::KeyPair::from_pem(&text(ca_key)?).map_err(|e| format!("{ca_key}: {e}"))?;
    let ca_params = rcgen::CertificateParams::from_ca_cert_pem(&ca_pem)
        .map_err(|e| format!("{ca_cert}: {e}"))?;
    let ca = ca_params.self_signed(&ca_key).map_err(|e| e.to_string())?;
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let params = subject.params()?;
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
        (_, _, Some(ca), Some(cak)) => minted(ca, cak, &cfg.generate)?,
        _ => self_signed(&cfg.generate)?,
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

/// `<transport tls>` settings.
#[derive(Clone, Debug, Default)]
pub struct TlsConfig {
    /// `cert_path` (PEM, may hold the chain).
    pub cert_path: Option<String>,
    /// `private_key_path` (PEM).
    pub private_key_path: Option<String>,
    /// `ca_cert_path`: with `ca_private_key_path`, a server certificate is minted at start.
    pub ca_cert_path: Option<String>,
    /// `ca_private_key_path`.
    pub ca_private_key_path: Option<String>,
    /// `insecure true`: a self-signed certificate is generated at start.
    pub insecure: bool,
    /// `client_cert_auth`: require a client certificate signed by `ca_path`.
    pub client_cert_auth: bool,
    /// `ca_path`: CA bundle for client certificates.
    pub ca_path: Option<String>,
    /// The subject and lifetime of generated certificates (`generate_cert_*`).
    pub generate: CertSubject,
    /// Allow TLS 1.2.
    pub tls12: bool,
    /// Allow TLS 1.3.
    pub tls13: bool,
}

/// Fluentd's `TLS.set_version_to_context` refuses a minimum without a maximum and the reverse
/// (when the connection is set up; logferry at start-up), with this message (the same for
/// out_forward's `tls_min_version`/`tls_max_version`).
pub fn min_max_together(
    pos: &logferry_config::Pos,
    min: bool,
    max: bool,
) -> Result<(), BuildError> {
    let (set, other) = match (min, max) {
        (true, false) => ("min_version", "max_version"),
        (false, true) => ("max_version", "min_version"),
        _ => return Ok(()),
    };
    Err(build_error(
        pos,
        format!("When you set {set}, must set {other} together"),
    ))
}

/// Read a `<transport tls>` section (declared by
/// [`crate::in_forward::params::TRANSPORT`]).
pub fn config(t: &Section) -> Result<TlsConfig, BuildError> {
    t.refuse_declared()?;
    // `version` alone pins one version (as Fluentd); `min_version`/`max_version` give a range;
    // with none of them logferry allows TLS 1.2 and 1.3.
    let rank = |key: &str| -> Result<Option<u8>, BuildError> {
        match t.param(key) {
            None => Ok(None),
            Some(p) => match p.value.as_str() {
                // Fluentd takes both spellings (Fluent::TLS::SUPPORTED_VERSIONS).
                "TLSv1_2" | "TLS1_2" => Ok(Some(2)),
                "TLSv1_3" | "TLS1_3" => Ok(Some(3)),
                other => Err(build_error(
                    &p.pos,
                    format!("{key} {other}: logferry supports TLSv1_2 and TLSv1_3 only"),
                )),
            },
        }
    };
    let (version, min, max) = (rank("version")?, rank("min_version")?, rank("max_version")?);
    min_max_together(t.pos(), min.is_some(), max.is_some())?;
    let (lo, hi) = match (version, min, max) {
        (_, Some(_), _) | (_, _, Some(_)) => (min.unwrap_or(2), max.unwrap_or(3)),
        (Some(v), None, None) => (v, v),
        (None, None, None) => (2, 3),
    };
    if lo > hi {
        return Err(build_error(t.pos(), "min_version is above max_version"));
    }
    if let Some(c) = t.str("ciphers") {
        if Some(c)
            != t.spec()
                .and_then(|d| d.find("ciphers"))
                .and_then(|d| d.default.text())
        {
            tracing::warn!("{}: ciphers '{c}': logferry uses rustls's safe default cipher suites and cannot take an OpenSSL cipher list", t.pos());
        }
    }
    let key_length_given = t.has("generate_private_key_length");
    let _: i64 = t.get("generate_private_key_length")?;
    let generated = !(t.has("cert_path") && t.has("private_key_path"));
    if generated && (t.get::<&str>("generate_cert_digest")? != "sha256" || key_length_given) {
        tracing::warn!(
            "{}: generate_cert_digest and generate_private_key_length do not apply: logferry generates ECDSA P-256 keys and signs with SHA-256",
            t.pos()
        );
    }
    let cfg = TlsConfig {
        cert_path: t.str("cert_path").map(str::to_string),
        private_key_path: t.str("private_key_path").map(str::to_string),
        ca_cert_path: t.str("ca_cert_path").map(str::to_string),
        ca_private_key_path: t.str("ca_private_key_path").map(str::to_string),
        insecure: t.get("insecure")?,
        client_cert_auth: t.get("client_cert_auth")?,
        ca_path: t.str("ca_path").map(str::to_string),
        generate: CertSubject {
            country: t.get("generate_cert_country")?,
            state: t.get("generate_cert_state")?,
            locality: t.get("generate_cert_locality")?,
            common_name: match t.get::<Option<String>>("generate_cert_common_name")? {
                Some(name) => name,
                None => hostname::get()
                    .map(|h| h.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| "localhost".into()),
            },
            expiration: t.time("generate_cert_expiration", 315_360_000.0),
        },
        tls12: lo <= 2,
        tls13: hi >= 3,
    };
    let have_cert = cfg.cert_path.is_some() && cfg.private_key_path.is_some();
    let have_ca = cfg.ca_cert_path.is_some() && cfg.ca_private_key_path.is_some();
    if !have_cert && !have_ca && !cfg.insecure {
        return Err(build_error(
            t.pos(),
            "<transport tls> needs cert_path and private_key_path, or ca_cert_path and ca_private_key_path, or insecure true",
        ));
    }
    if cfg.cert_path.is_some() != cfg.private_key_path.is_some() {
        return Err(build_error(
            t.pos(),
            "cert_path and private_key_path go together",
        ));
    }
    if cfg.client_cert_auth && cfg.ca_path.is_none() {
        return Err(build_error(t.pos(), "client_cert_auth needs ca_path"));
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn transport(body: &str) -> Result<TlsConfig, BuildError> {
        let text = format!("<transport tls>\ninsecure true\n{body}\n</transport>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "forward")
            .declared(&crate::in_forward::params::TRANSPORT);
        config(&s)
    }

    /// `<transport tls> insecure true` generates a certificate with Fluentd's subject (C, ST, L,
    /// CN from `generate_cert_*`) valid from 1970 to `generate_cert_expiration` after start.
    #[test]
    fn generated_certificate_has_the_asked_subject() {
        let cfg = transport(
            "generate_cert_country JP\ngenerate_cert_state Tokyo\ngenerate_cert_locality Chiyoda\ngenerate_cert_common_name agg.example\ngenerate_cert_expiration 400d",
        )
        .unwrap();
        assert_eq!(cfg.generate.expiration, 400.0 * 86_400.0);
        let (chain, _) = self_signed(&cfg.generate).unwrap();
        let back = rcgen::CertificateParams::from_ca_cert_der(&chain[0]).unwrap();
        let dn = |t| match back.distinguished_name.get(&t) {
            Some(rcgen::DnValue::Utf8String(s)) => s.clone(),
            Some(rcgen::DnValue::PrintableString(s)) => s.as_str().to_string(),
            other => format!("{other:?}"),
        };
        assert_eq!(dn(rcgen::DnType::CountryName), "JP");
        assert_eq!(dn(rcgen::DnType::StateOrProvinceName), "Tokyo");
        assert_eq!(dn(rcgen::DnType::LocalityName), "Chiyoda");
        assert_eq!(dn(rcgen::DnType::CommonName), "agg.example");
        assert_eq!(back.not_before.year(), 1970);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let left = back.not_after.unix_timestamp() - now;
        assert!((400 * 86_400 - 5..=400 * 86_400).contains(&left), "{left}");
        // Less than a day is still a valid certificate (to the second, as Fluentd's).
        let hour = transport("generate_cert_expiration 1h").unwrap().generate;
        let (chain, _) = self_signed(&hour).unwrap();
        let back = rcgen::CertificateParams::from_ca_cert_der(&chain[0]).unwrap();
        let left = back.not_after.unix_timestamp() - now;
        assert!((3_595..=3_600).contains(&left), "{left}");
        // Fluentd's defaults.
        let d = transport("").unwrap().generate;
        assert_eq!(
            (d.country.as_str(), d.state.as_str(), d.locality.as_str()),
            ("US", "CA", "Mountain View")
        );
        assert_eq!(d.expiration, 315_360_000.0);
    }

    /// Fluentd 1.16 (recorded): `TLS1_2`/`TLS1_3` are versions as `TLSv1_2`/`TLSv1_3` are, and a
    /// minimum without a maximum fails ("When you set min_version, must set max_version
    /// together", when the listener starts).
    #[test]
    fn versions_as_fluentd_reads_them() {
        let v = transport("version TLS1_3").unwrap();
        assert!(!v.tls12 && v.tls13);
        let v = transport("min_version TLS1_2\nmax_version TLSv1_2").unwrap();
        assert!(v.tls12 && !v.tls13);
        let e = transport("min_version TLS1_2").unwrap_err().to_string();
        assert!(
            e.contains("When you set min_version, must set max_version together"),
            "{e}"
        );
        assert!(e.contains("t.conf:1:1"), "{e}");
        assert!(transport("max_version TLS1_3").is_err());
        assert!(transport("version TLS1_1").is_err());
    }
}
