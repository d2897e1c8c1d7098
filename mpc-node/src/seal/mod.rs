//! Sealing secrets at rest: every secret the node writes (key shares, Paillier primes,
//! presignatures, its TLS key) is encrypted with XChaCha20-Poly1305 under a fresh data key,
//! and the data key is wrapped by a key-encryption key ([`KeyEncryptionKey`]): a passphrase
//! (Argon2id), a 32-byte key file, or a key held in an HSM (PKCS#11).
//!
//! A sealed file is
//!
//! ```text
//! "MPCSEAL1" | u32 big-endian header length | header (JSON) | ciphertext
//! ```
//!
//! The header names what the file holds ([`Label`]: format version, secret kind, scheme,
//! key id, party index, epoch), how its data key is wrapped (KEK kind and parameters: the
//! Argon2id parameters and salt sit beside the ciphertext) and the nonce. The whole header
//! is the associated data of the ciphertext, and the label is the associated data of the
//! wrapped data key, so a header that is changed, or a file moved to another key's name, no
//! longer opens. A reader also compares the label with the one it expects.
//!
//! ```
//! use mpc_node::seal::{open, seal, KeyFileKek, Label, SecretKind};
//!
//! # fn main() -> Result<(), mpc_node::NodeError> {
//! let kek = KeyFileKek::from_bytes([7u8; 32]);
//! let label = Label::new(SecretKind::KeyShare, Some(mpc_core::SchemeId::FrostEd25519), "k1", 0, 0);
//! let sealed = seal(&kek, &label, b"secret share")?;
//! let path = std::path::Path::new("party-0.share");
//! assert_eq!(&*open(&kek, &label, &sealed, path)?, b"secret share");
//! // Another label (here another party) does not open it.
//! let other = Label::new(SecretKind::KeyShare, Some(mpc_core::SchemeId::FrostEd25519), "k1", 1, 0);
//! assert!(open(&kek, &other, &sealed, path).is_err());
//! # Ok(()) }
//! ```

mod kek;
mod pkcs11;

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub use self::kek::{Argon2Params, KeyFileKek, PassphraseKek};
pub use self::pkcs11::HsmKek;
use crate::error::{NodeError, Result};

/// First bytes of every sealed file.
pub const MAGIC: &[u8; 8] = b"MPCSEAL1";
/// Version of the sealed-file format.
pub const SEAL_FORMAT_VERSION: u32 = 1;
/// Largest header a reader accepts.
const MAX_HEADER: usize = 64 * 1024;

/// What kind of secret a sealed file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SecretKind {
    /// A key share ([`mpc_core::KeyShare`]).
    KeyShare,
    /// A party's Paillier primes.
    PaillierPrimes,
    /// A presignature.
    Presignature,
    /// The node's TLS private key.
    TlsKey,
    /// DEMO ONLY: the demo CA's private key (kept to issue the certificate of a party
    /// added later, `mpc-node add-party`).
    DemoCaKey,
}

/// What a sealed file is: bound into its encryption, checked when it is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Sealed-file format version.
    pub format: u32,
    /// Kind of secret.
    pub kind: SecretKind,
    /// Scheme of the key it belongs to, if any.
    pub scheme: Option<mpc_core::SchemeId>,
    /// Key id (empty for secrets of the node itself).
    pub key_id: String,
    /// Party index of the node that holds it.
    pub party: u16,
    /// Key epoch (raised by every lifecycle step of a key).
    pub epoch: u32,
}

impl Label {
    /// A label of the current format.
    pub fn new(
        kind: SecretKind,
        scheme: Option<mpc_core::SchemeId>,
        key_id: impl Into<String>,
        party: u16,
        epoch: u32,
    ) -> Self {
        Label {
            format: SEAL_FORMAT_VERSION,
            kind,
            scheme,
            key_id: key_id.into(),
            party,
            epoch,
        }
    }

    /// The associated data of the wrapped data key.
    fn ad(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|e| NodeError::Other(format!("label: {e}")))
    }
}

/// A data key wrapped by a key-encryption key, with what is needed to unwrap it (no secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrappedKey {
    /// How it is wrapped.
    pub kek: KekParams,
    /// The wrapped data key (hex).
    #[serde(with = "hex::serde")]
    pub bytes: Vec<u8>,
}

/// The key-encryption key a data key is wrapped with, and its public parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum KekParams {
    /// Argon2id of a passphrase, then XChaCha20-Poly1305.
    Passphrase {
        /// Argon2id parameters.
        argon2: Argon2Params,
        /// Salt (hex).
        #[serde(with = "hex::serde")]
        salt: Vec<u8>,
        /// Nonce of the wrapping (hex).
        #[serde(with = "hex::serde")]
        nonce: Vec<u8>,
    },
    /// A 32-byte key file, then XChaCha20-Poly1305.
    KeyFile {
        /// Fingerprint of the key (hex), to tell a wrong key file from a damaged file.
        #[serde(with = "hex::serde")]
        key_id: Vec<u8>,
        /// Nonce of the wrapping (hex).
        #[serde(with = "hex::serde")]
        nonce: Vec<u8>,
    },
    /// AES-256-GCM with a key held in a PKCS#11 token.
    Pkcs11 {
        /// Token label.
        token: String,
        /// Label of the AES key object.
        key_label: String,
        /// GCM IV (hex).
        #[serde(with = "hex::serde")]
        iv: Vec<u8>,
    },
}

/// A source of key-encryption keys: wraps and unwraps 32-byte data keys. Implemented by
/// [`PassphraseKek`], [`KeyFileKek`] and [`HsmKek`]; a store takes any of them:
///
/// ```
/// use std::sync::Arc;
/// use mpc_node::seal::{Argon2Params, KeyEncryptionKey, KeyFileKek, PassphraseKek};
///
/// let fast = Argon2Params { m_kib: 1024, t: 1, p: 1 };
/// let keks: Vec<Arc<dyn KeyEncryptionKey>> = vec![
///     Arc::new(KeyFileKek::from_bytes([5; 32])),
///     Arc::new(PassphraseKek::new(b"correct horse battery staple", fast)?),
/// ];
/// for kek in &keks {
///     let wrapped = kek.wrap(&[9; 32], b"label")?;
///     assert_eq!(*kek.unwrap(&wrapped, b"label").unwrap(), [9; 32]);
///     assert!(kek.unwrap(&wrapped, b"another label").is_err());
/// }
/// # Ok::<(), mpc_node::NodeError>(())
/// ```
pub trait KeyEncryptionKey: Send + Sync {
    /// Wraps `dek` with associated data `ad`.
    ///
    /// # Errors
    /// The KEK is unusable (HSM unreachable, ...).
    fn wrap(&self, dek: &[u8; 32], ad: &[u8]) -> Result<WrappedKey>;

    /// Unwraps a data key. Returns the reason as text when this KEK cannot open it (another
    /// kind, another key, a wrong passphrase).
    ///
    /// # Errors
    /// The reason, as text (the caller names the file).
    fn unwrap(
        &self,
        wrapped: &WrappedKey,
        ad: &[u8],
    ) -> core::result::Result<Zeroizing<[u8; 32]>, String>;
}

#[derive(Serialize, Deserialize)]
struct Header {
    label: Label,
    dek: WrappedKey,
    #[serde(with = "hex::serde")]
    nonce: Vec<u8>,
}

/// XChaCha20-Poly1305 under `key`.
pub(crate) fn aead_seal(
    key: &[u8; 32],
    nonce: &[u8; 24],
    ad: &[u8],
    msg: &[u8],
) -> Result<Vec<u8>> {
    XChaCha20Poly1305::new(key.into())
        .encrypt(&XNonce::from(*nonce), Payload { msg, aad: ad })
        .map_err(|_| NodeError::Other("encryption failed".into()))
}

/// Opens what [`aead_seal`] sealed; `None` if it does not authenticate.
pub(crate) fn aead_open(
    key: &[u8; 32],
    nonce: &[u8],
    ad: &[u8],
    ct: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    let nonce: [u8; 24] = nonce.try_into().ok()?;
    XChaCha20Poly1305::new(key.into())
        .decrypt(&XNonce::from(nonce), Payload { msg: ct, aad: ad })
        .ok()
        .map(Zeroizing::new)
}

/// Seals `plaintext` as `label` under `kek`: the bytes of a sealed file.
///
/// # Errors
/// The KEK cannot wrap.
pub fn seal(kek: &dyn KeyEncryptionKey, label: &Label, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut dek = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(dek.as_mut());
    let mut nonce = [0u8; 24];
    OsRng.fill_bytes(&mut nonce);
    let header = Header {
        label: label.clone(),
        dek: kek.wrap(&dek, &label.ad()?)?,
        nonce: nonce.to_vec(),
    };
    let header = serde_json::to_vec(&header).map_err(|e| NodeError::Other(e.to_string()))?;
    let len = u32::try_from(header.len()).map_err(|_| NodeError::Other("header".into()))?;
    let mut out = Vec::with_capacity(12 + header.len() + plaintext.len() + 16);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&header);
    let ct = aead_seal(&dek, &nonce, &out, plaintext)?;
    out.extend_from_slice(&ct);
    Ok(out)
}

/// The label of a sealed file, without opening it.
///
/// # Errors
/// [`NodeError::Corrupt`] naming `path`.
pub fn peek_label(bytes: &[u8], path: &Path) -> Result<Label> {
    Ok(parse(bytes, path)?.0.label)
}

fn parse<'a>(bytes: &'a [u8], path: &Path) -> Result<(Header, &'a [u8], &'a [u8])> {
    let corrupt = |reason: &str| NodeError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| corrupt("not a sealed file (or truncated before its header)"))?;
    let len: [u8; 4] = rest
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("truncated: header length missing"))?;
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap_or(usize::MAX);
    if len > MAX_HEADER {
        return Err(corrupt("header length out of range"));
    }
    let end = 12usize.saturating_add(len);
    let header_bytes = bytes
        .get(12..end)
        .ok_or_else(|| corrupt("truncated inside the header"))?;
    let header: Header = serde_json::from_slice(header_bytes)
        .map_err(|e| corrupt(&format!("header unreadable (tampered?): {e}")))?;
    let (ad, ct) = bytes.split_at(end);
    if ct.len() < 16 {
        return Err(corrupt("truncated: ciphertext missing"));
    }
    Ok((header, ad, ct))
}

/// Opens a sealed file (`path` is only for error messages) whose label must be `expected`.
///
/// # Errors
/// [`NodeError::Corrupt`] for a damaged, truncated or tampered file or another label;
/// [`NodeError::WrongKey`] when `kek` cannot unwrap its data key.
pub fn open(
    kek: &dyn KeyEncryptionKey,
    expected: &Label,
    bytes: &[u8],
    path: &Path,
) -> Result<Zeroizing<Vec<u8>>> {
    let (header, ad, ct) = parse(bytes, path)?;
    if header.label.format != SEAL_FORMAT_VERSION {
        return Err(NodeError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "sealed-file format {} (this build reads {SEAL_FORMAT_VERSION})",
                header.label.format
            ),
        });
    }
    if header.label != *expected {
        return Err(NodeError::Corrupt {
            path: path.to_path_buf(),
            reason: format!(
                "holds {:?}, expected {:?} (file moved or renamed?)",
                header.label, expected
            ),
        });
    }
    let dek = kek
        .unwrap(&header.dek, &header.label.ad()?)
        .map_err(|reason| NodeError::WrongKey {
            path: path.to_path_buf(),
            reason,
        })?;
    aead_open(&dek, &header.nonce, ad, ct).ok_or_else(|| NodeError::Corrupt {
        path: path.to_path_buf(),
        reason: "ciphertext does not authenticate: tampered or truncated".into(),
    })
}
