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

/// A fresh CA for one deployment domain.
pub struct DevCa {
    cert: rcgen::Certificate,
    issuer: Issuer<'static, KeyPair>,
    domain: String,
}

impl core::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DevCa")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
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
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(err)?;
        Ok(DevCa {
            cert,
            issuer: Issuer::new(params, key),
            domain: domain.to_string(),
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> String {
        self.cert.pem()
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> CertificateDer<'static> {
        self.cert.der().clone()
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
