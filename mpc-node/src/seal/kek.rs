//! Software key-encryption keys: a passphrase (Argon2id) and a 32-byte key file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{aead_open, aead_seal, KekParams, KeyEncryptionKey, WrappedKey};
use crate::error::{io, NodeError, Result};

/// Argon2id cost parameters, stored beside each ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Argon2Params {
    /// Memory, in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for Argon2Params {
    /// 64 MiB, 3 passes, 1 lane (the second recommendation of RFC 9106).
    fn default() -> Self {
        Argon2Params {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }
}

/// Derived keys by (salt, parameters).
type DerivedKeys = HashMap<(Vec<u8>, Argon2Params), Zeroizing<[u8; 32]>>;

/// A key-encryption key derived from a passphrase with Argon2id. Derived keys are cached
/// per salt and parameters, so a process derives once per store, not once per file.
pub struct PassphraseKek {
    passphrase: Zeroizing<Vec<u8>>,
    params: Argon2Params,
    salt: [u8; 16],
    cache: Mutex<DerivedKeys>,
}

impl core::fmt::Debug for PassphraseKek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PassphraseKek")
            .field("passphrase", &"<redacted>")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PassphraseKek {
    /// A KEK from `passphrase`; new files are sealed with `params` and a random salt.
    ///
    /// # Errors
    /// An empty passphrase.
    pub fn new(passphrase: &[u8], params: Argon2Params) -> Result<Self> {
        if passphrase.is_empty() {
            return Err(NodeError::Other("empty passphrase".into()));
        }
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        Ok(PassphraseKek {
            passphrase: Zeroizing::new(passphrase.to_vec()),
            params,
            salt,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Reads the passphrase from a file (its first line, without the line ending).
    ///
    /// # Errors
    /// [`NodeError::Io`] naming the file, or an empty passphrase.
    pub fn from_file(path: &Path, params: Argon2Params) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(io("reading", path))?);
        let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        Self::new(line, params).map_err(|_| NodeError::Config {
            path: path.to_path_buf(),
            reason: "the passphrase file is empty".into(),
        })
    }

    fn derive(
        &self,
        salt: &[u8],
        params: Argon2Params,
    ) -> core::result::Result<Zeroizing<[u8; 32]>, String> {
        let key = (salt.to_vec(), params);
        if let Some(k) = self.cache.lock().map_err(|_| "lock")?.get(&key) {
            return Ok(k.clone());
        }
        let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(32))
            .map_err(|e| format!("Argon2id parameters: {e}"))?;
        let mut out = Zeroizing::new([0u8; 32]);
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p)
            .hash_password_into(&self.passphrase, salt, out.as_mut())
            .map_err(|e| format!("Argon2id: {e}"))?;
        self.cache
            .lock()
            .map_err(|_| "lock")?
            .insert(key, out.clone());
        Ok(out)
    }
}

impl KeyEncryptionKey for PassphraseKek {
    fn wrap(&self, dek: &[u8; 32], ad: &[u8]) -> Result<WrappedKey> {
        let kek = self
            .derive(&self.salt, self.params)
            .map_err(NodeError::Other)?;
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        Ok(WrappedKey {
            kek: KekParams::Passphrase {
                argon2: self.params,
                salt: self.salt.to_vec(),
                nonce: nonce.to_vec(),
            },
            bytes: aead_seal(&kek, &nonce, ad, dek)?,
        })
    }

    fn unwrap(
        &self,
        w: &WrappedKey,
        ad: &[u8],
    ) -> core::result::Result<Zeroizing<[u8; 32]>, String> {
        let KekParams::Passphrase {
            argon2,
            salt,
            nonce,
        } = &w.kek
        else {
            return Err(format!(
                "sealed with another kind of key ({})",
                kind(&w.kek)
            ));
        };
        let kek = self.derive(salt, *argon2)?;
        let dek = aead_open(&kek, nonce, ad, &w.bytes).ok_or("wrong passphrase")?;
        to_key(&dek)
    }
}

/// A key-encryption key read from a 32-byte key file (raw, or 64 hex digits).
pub struct KeyFileKek {
    key: Zeroizing<[u8; 32]>,
}

impl core::fmt::Debug for KeyFileKek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("KeyFileKek(<redacted>)")
    }
}

impl KeyFileKek {
    /// A KEK from key bytes.
    pub fn from_bytes(key: [u8; 32]) -> Self {
        KeyFileKek {
            key: Zeroizing::new(key),
        }
    }

    /// Reads a key file: exactly 32 bytes, or 64 hex digits (an optional line ending).
    ///
    /// # Errors
    /// [`NodeError::Io`] or [`NodeError::Config`] naming the file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(io("reading", path))?);
        let bad = || NodeError::Config {
            path: path.to_path_buf(),
            reason: "a key file holds exactly 32 bytes or 64 hex digits".into(),
        };
        let mut key = [0u8; 32];
        if bytes.len() == 32 {
            key.copy_from_slice(&bytes);
        } else {
            let text = std::str::from_utf8(&bytes).map_err(|_| bad())?.trim_end();
            hex::decode_to_slice(text, &mut key).map_err(|_| bad())?;
        }
        Ok(Self::from_bytes(key))
    }

    /// Writes a new random key file (0600; never replaces a file).
    ///
    /// # Errors
    /// [`NodeError::Exists`], [`NodeError::Io`].
    pub fn generate(path: &Path) -> Result<Self> {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        crate::fsutil::write_new(path, hex::encode(&key[..]).as_bytes())?;
        Ok(Self::from_bytes(*key))
    }

    fn fingerprint(&self) -> Vec<u8> {
        let mut h = Sha256::new();
        h.update(b"mpc-node/key-file-fingerprint/v1");
        h.update(&self.key[..]);
        h.finalize()
            .get(..8)
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    }
}

impl KeyEncryptionKey for KeyFileKek {
    fn wrap(&self, dek: &[u8; 32], ad: &[u8]) -> Result<WrappedKey> {
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        Ok(WrappedKey {
            kek: KekParams::KeyFile {
                key_id: self.fingerprint(),
                nonce: nonce.to_vec(),
            },
            bytes: aead_seal(&self.key, &nonce, ad, dek)?,
        })
    }

    fn unwrap(
        &self,
        w: &WrappedKey,
        ad: &[u8],
    ) -> core::result::Result<Zeroizing<[u8; 32]>, String> {
        let KekParams::KeyFile { key_id, nonce } = &w.kek else {
            return Err(format!(
                "sealed with another kind of key ({})",
                kind(&w.kek)
            ));
        };
        if *key_id != self.fingerprint() {
            return Err(format!(
                "sealed under key file {}, not this one",
                hex::encode(key_id)
            ));
        }
        let dek = aead_open(&self.key, nonce, ad, &w.bytes)
            .ok_or("the wrapped data key does not authenticate (tampered)")?;
        to_key(&dek)
    }
}

pub(super) fn kind(p: &KekParams) -> &'static str {
    match p {
        KekParams::Passphrase { .. } => "passphrase",
        KekParams::KeyFile { .. } => "key file",
        KekParams::Pkcs11 { .. } => "PKCS#11",
    }
}

pub(super) fn to_key(bytes: &[u8]) -> core::result::Result<Zeroizing<[u8; 32]>, String> {
    let mut k = Zeroizing::new([0u8; 32]);
    if bytes.len() != 32 {
        return Err("wrapped data key has the wrong length".into());
    }
    k.copy_from_slice(bytes);
    Ok(k)
}
