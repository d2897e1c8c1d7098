//! A throwaway certificate authority for tests, demos and benchmarks (feature `dev-pki`).
//!
//! Keys are made fresh in memory; nothing here is meant for production, where the
//! deployment's own CA issues `party-<i>.<domain>` and `coordinator.<domain>` certificates
//! (see [`crate::tls`]).

use rcgen::{
    BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::TransportError;
use crate::tls::{coordinator_name, party_name, TlsIdentity};

fn err(e: impl core::fmt::Display) -> TransportError {
    TransportError::Tls(e.to_string())
}

/// A throwaway CA for one deployment domain.
pub struct DevCa {
    cert_pem: String,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    key_pem: zeroize::Zeroizing<String>,
    domain: String,
}

impl core::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DevCa")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// The CA certificate's parameters (the same every time, so a loaded CA issues
/// certificates that chain to the original one).
fn ca_params() -> Result<CertificateParams, TransportError> {
    let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

/// An issued identity with its PEM forms (for writing to files).
#[derive(Debug)]
pub struct DevIdentity {
    /// The identity.
    pub identity: TlsIdentity,
    /// Certificate, PEM.
    pub cert_pem: String,
    /// Private key, PEM (secret).
    pub key_pem: zeroize::Zeroizing<String>,
}

impl DevCa {
    /// A new CA (fresh key) for `domain`.
    ///
    /// # Errors
    /// [`TransportError::Tls`] if key or certificate generation fails.
    pub fn new(domain: &str) -> Result<Self, TransportError> {
        let key = KeyPair::generate().map_err(err)?;
        let params = ca_params()?;
        let cert = params.self_signed(&key).map_err(err)?;
        Ok(DevCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key_pem: zeroize::Zeroizing::new(key.serialize_pem()),
            issuer: Issuer::new(params, key),
            domain: domain.to_string(),
        })
    }

    /// The CA of `cert_pem` again, from its private key `key_pem` (see [`DevCa::key_pem`]),
    /// to issue more identities for the same deployment.
    ///
    /// # Errors
    /// [`TransportError::Tls`] for a certificate or key that does not parse, or a key that
    /// is not the certificate's.
    pub fn load(domain: &str, cert_pem: &str, key_pem: &str) -> Result<Self, TransportError> {
        use rustls::pki_types::pem::PemObject;
        let key = KeyPair::from_pem(key_pem).map_err(err)?;
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
            .map_err(|e| err(format!("CA certificate: {e}")))?;
        let public = key.public_key_raw();
        if public.is_empty() || !cert_der.windows(public.len()).any(|w| w == public) {
            return Err(err("the CA key is not the CA certificate's"));
        }
        Ok(DevCa {
            cert_pem: cert_pem.to_string(),
            cert_der,
            key_pem: zeroize::Zeroizing::new(key_pem.to_string()),
            issuer: Issuer::new(ca_params()?, key),
            domain: domain.to_string(),
        })
    }

    /// The CA's private key, PEM (secret: whoever holds it can issue identities).
    pub fn key_pem(&self) -> &zeroize::Zeroizing<String> {
        &self.key_pem
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.cert_pem.clone()
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.cert_der.clone()
    }

    /// An identity whose certificate is valid for `names` (DNS names).
    ///
    /// # Errors
    /// [`TransportError::Tls`] if generation fails.
    pub fn issue(&self, names: Vec<String>) -> Result<DevIdentity, TransportError> {
        let key = KeyPair::generate().map_err(err)?;
        let mut params = CertificateParams::new(names).map_err(err)?;
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        Ok(DevIdentity {
            identity: TlsIdentity {
                ca: self.cert_der(),
                chain: vec![cert.der().clone()],
                key: PrivateKeyDer::Pkcs8(key.serialize_der().into()),
                domain: self.domain.clone(),
            },
            cert_pem: cert.pem(),
            key_pem: zeroize::Zeroizing::new(key.serialize_pem()),
        })
    }

    /// Party `i`'s identity (`party-<i>.<domain>`).
    ///
    /// # Errors
    /// As [`DevCa::issue`].
    pub fn party(&self, i: mpc_core::PartyIndex) -> Result<DevIdentity, TransportError> {
        self.issue(vec![party_name(&self.domain, i)])
    }

    /// The coordinator's identity (`coordinator.<domain>`).
    ///
    /// # Errors
    /// As [`DevCa::issue`].
    pub fn coordinator(&self) -> Result<DevIdentity, TransportError> {
        self.issue(vec![coordinator_name(&self.domain)])
    }
}
