//! PEM files for the TLS plugins (in_forward, out_forward): certificates and private keys.

use std::io::BufReader;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// Read a file, naming it in the error.
pub fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

/// Every certificate of a PEM file (at least one).
pub fn load_certs(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let data = read(path)?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut BufReader::new(&data[..]))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path}: no PEM certificate found"));
    }
    Ok(certs)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let data = read(path)?;
    rustls_pemfile::private_key(&mut BufReader::new(&data[..]))
        .map_err(|e| format!("{path}: {e}"))?
        .ok_or_else(|| format!("{path}: no PEM private key found"))
}
