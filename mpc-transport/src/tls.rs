//! Mutual TLS identities: a party is who its certificate says.
//!
//! Every party holds a certificate issued by the deployment's CA with the DNS name
//! `party-<index>.<domain>` ([`party_name`]). Both sides of a connection present their
//! certificate (TLS 1.3, client authentication required); a party's index is read from the
//! authenticated certificate, never from anything the peer sends later.

use std::sync::Arc;

use mpc_core::PartyIndex;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

use crate::error::TransportError;

/// The DNS name in party `index`'s certificate.
pub fn party_name(domain: &str, index: PartyIndex) -> String {
    format!("party-{index}.{domain}")
}

/// A party's TLS identity: the CA that issues every party's certificate, its own
/// certificate chain and private key, and the deployment's domain.
pub struct TlsIdentity {
    /// The CA certificate every party's certificate chains to.
    pub ca: CertificateDer<'static>,
    /// This party's certificate (first) and any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    /// This party's private key (PKCS#8, SEC1 or PKCS#1 DER).
    pub key: PrivateKeyDer<'static>,
    /// Domain of the party names (`party-<i>.<domain>`).
    pub domain: String,
}

impl core::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("domain", &self.domain)
            .field("chain_len", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

fn tls_err(e: impl core::fmt::Display) -> TransportError {
    TransportError::Tls(e.to_string())
}

/// rustls configurations built from a [`TlsIdentity`].
#[derive(Clone)]
pub(crate) struct TlsConfigs {
    pub server: Arc<ServerConfig>,
    pub client: Arc<ClientConfig>,
    pub domain: String,
}

impl TlsIdentity {
    pub(crate) fn configs(&self) -> Result<TlsConfigs, TransportError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).map_err(tls_err)?;
        let roots = Arc::new(roots);
        let verifier = WebPkiClientVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(tls_err)?;
        let server = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .map_err(tls_err)?;
        let client = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(tls_err)?
            .with_root_certificates(roots)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())
            .map_err(tls_err)?;
        Ok(TlsConfigs {
            server: Arc::new(server),
            client: Arc::new(client),
            domain: self.domain.clone(),
        })
    }
}

/// The server name a dialer expects party `index` to prove.
pub(crate) fn server_name(
    domain: &str,
    index: PartyIndex,
) -> Result<ServerName<'static>, TransportError> {
    ServerName::try_from(party_name(domain, index)).map_err(tls_err)
}

/// The index of the party whose (already verified) end-entity certificate is `cert`: the
/// one index in `0..n` whose party name the certificate is valid for.
///
/// # Errors
/// [`TransportError::Tls`] when the certificate names no party, or more than one.
pub(crate) fn identify(
    cert: &CertificateDer<'_>,
    domain: &str,
    n: u16,
) -> Result<PartyIndex, TransportError> {
    let ee = webpki::EndEntityCert::try_from(cert).map_err(tls_err)?;
    let mut found = None;
    for i in 0..n {
        let name = server_name(domain, i)?;
        if ee.verify_is_valid_for_subject_name(&name).is_ok() {
            if found.is_some() {
                return Err(TransportError::Tls(
                    "certificate names more than one party".into(),
                ));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| TransportError::Tls("certificate names no party of this deployment".into()))
}

/// The DNS name in the coordinator's certificate (`coordinator.<domain>`). A party serves
/// control requests only to a certificate valid for this name; party certificates are not.
pub fn coordinator_name(domain: &str) -> String {
    format!("coordinator.{domain}")
}

/// Checks that the (already verified) end-entity certificate `cert` is the coordinator's.
///
/// # Errors
/// [`TransportError::Tls`] when it is not valid for [`coordinator_name`].
pub(crate) fn check_coordinator(
    cert: &CertificateDer<'_>,
    domain: &str,
) -> Result<(), TransportError> {
    let ee = webpki::EndEntityCert::try_from(cert).map_err(tls_err)?;
    let name = ServerName::try_from(coordinator_name(domain)).map_err(tls_err)?;
    ee.verify_is_valid_for_subject_name(&name)
        .map_err(|_| TransportError::Tls("certificate is not the coordinator's".into()))
}

impl TlsIdentity {
    /// Reads an identity from PEM: the CA certificate, this party's chain (end-entity
    /// first) and its private key.
    ///
    /// # Errors
    /// [`TransportError::Tls`] naming the part that does not parse.
    pub fn from_pem(
        ca: &[u8],
        chain: &[u8],
        key: &[u8],
        domain: &str,
    ) -> Result<Self, TransportError> {
        use rustls::pki_types::pem::PemObject;
        let ca = CertificateDer::from_pem_slice(ca)
            .map_err(|e| TransportError::Tls(format!("CA certificate: {e}")))?;
        let chain = CertificateDer::pem_slice_iter(chain)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Tls(format!("certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(TransportError::Tls("certificate chain is empty".into()));
        }
        let key = PrivateKeyDer::from_pem_slice(key)
            .map_err(|e| TransportError::Tls(format!("private key: {e}")))?;
        Ok(TlsIdentity {
            ca,
            chain,
            key,
            domain: domain.to_string(),
        })
    }
}

/// Accepts a TLS connection within `timeout` (client certificate required by the config).
///
/// # Errors
/// [`TransportError::Io`] or [`TransportError::Tls`].
pub(crate) async fn accept_tls(
    acceptor: &tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    timeout: std::time::Duration,
) -> Result<tokio_rustls::server::TlsStream<tokio::net::TcpStream>, TransportError> {
    tcp.set_nodelay(true)
        .map_err(|e| TransportError::Io(e.to_string()))?;
    tokio::time::timeout(timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| TransportError::Tls("handshake timed out".into()))?
        .map_err(tls_err)
}

/// The verified end-entity certificate the client presented.
///
/// # Errors
/// [`TransportError::Tls`] if there is none.
pub(crate) fn peer_cert<S>(
    tls: &tokio_rustls::server::TlsStream<S>,
) -> Result<&CertificateDer<'static>, TransportError> {
    tls.get_ref()
        .1
        .peer_certificates()
        .and_then(<[_]>::first)
        .ok_or_else(|| TransportError::Tls("peer presented no certificate".into()))
}
