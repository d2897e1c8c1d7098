//! A key-encryption key held in an HSM, through PKCS#11: an AES-256 key object in a token
//! wraps each data key with AES-GCM (`CKM_AES_GCM`); the key never leaves the token.
//! Tested against SoftHSM2.

use std::path::Path;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use super::kek::{kind, to_key};
use super::{KekParams, KeyEncryptionKey, WrappedKey};
use crate::error::{NodeError, Result};

/// A key-encryption key in a PKCS#11 token (see the module docs).
pub struct HsmKek {
    pkcs11: Pkcs11,
    slot: Slot,
    token: String,
    pin: AuthPin,
    key_label: String,
}

impl core::fmt::Debug for HsmKek {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HsmKek")
            .field("token", &self.token)
            .field("key_label", &self.key_label)
            .field("pin", &"<redacted>")
            .finish_non_exhaustive()
    }
}

fn p11(what: &str) -> impl Fn(cryptoki::error::Error) -> NodeError + '_ {
    move |e| NodeError::Pkcs11(format!("{what}: {e}"))
}

impl HsmKek {
    /// Opens the token labelled `token` through the PKCS#11 module `module` (for SoftHSM2:
    /// `/usr/lib/softhsm/libsofthsm2.so`), logging in with the user `pin`; `key_label`
    /// names the AES key object.
    ///
    /// # Errors
    /// [`NodeError::Pkcs11`]: the module does not load, no such token, wrong PIN.
    pub fn open(module: &Path, token: &str, pin: &str, key_label: &str) -> Result<Self> {
        let pkcs11 = Pkcs11::new(module).map_err(p11("loading the module"))?;
        pkcs11
            .initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
            .map_err(p11("initializing"))?;
        let mut found = None;
        for slot in pkcs11
            .get_slots_with_token()
            .map_err(p11("listing slots"))?
        {
            let info = pkcs11.get_token_info(slot).map_err(p11("token info"))?;
            if info.label().trim_end() == token {
                found = Some(slot);
                break;
            }
        }
        let slot =
            found.ok_or_else(|| NodeError::Pkcs11(format!("no token labelled {token:?}")))?;
        let kek = HsmKek {
            pkcs11,
            slot,
            token: token.to_string(),
            pin: AuthPin::new(pin.into()),
            key_label: key_label.to_string(),
        };
        // Checks the PIN now rather than at the first secret.
        kek.session()?;
        Ok(kek)
    }

    fn session(&self) -> Result<Session> {
        let s = self
            .pkcs11
            .open_rw_session(self.slot)
            .map_err(p11("opening a session"))?;
        match s.login(UserType::User, Some(&self.pin)) {
            Ok(()) => Ok(s),
            Err(cryptoki::error::Error::Pkcs11(
                cryptoki::error::RvError::UserAlreadyLoggedIn,
                _,
            )) => Ok(s),
            Err(e) => Err(p11("logging in")(e)),
        }
    }

    fn find_key(&self, s: &Session) -> Result<Option<ObjectHandle>> {
        let found = s
            .find_objects(&[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::Label(self.key_label.as_bytes().to_vec()),
            ])
            .map_err(p11("finding the key"))?;
        Ok(found.into_iter().next())
    }

    /// Makes the AES-256 key object in the token if it is not there (sensitive, not
    /// extractable, for encryption and decryption only). Returns whether it made one.
    ///
    /// # Errors
    /// [`NodeError::Pkcs11`].
    pub fn ensure_key(&self) -> Result<bool> {
        let s = self.session()?;
        if self.find_key(&s)?.is_some() {
            return Ok(false);
        }
        s.generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Class(ObjectClass::SECRET_KEY),
                Attribute::KeyType(KeyType::AES),
                Attribute::ValueLen(32.into()),
                Attribute::Label(self.key_label.as_bytes().to_vec()),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
            ],
        )
        .map_err(p11("generating the key"))?;
        Ok(true)
    }

    fn key(&self, s: &Session) -> Result<ObjectHandle> {
        self.find_key(s)?.ok_or_else(|| {
            NodeError::Pkcs11(format!(
                "token {:?} has no key labelled {:?}",
                self.token, self.key_label
            ))
        })
    }
}

impl KeyEncryptionKey for HsmKek {
    fn wrap(&self, dek: &[u8; 32], ad: &[u8]) -> Result<WrappedKey> {
        let s = self.session()?;
        let key = self.key(&s)?;
        let mut iv = [0u8; 12];
        OsRng.fill_bytes(&mut iv);
        let mut iv_param = iv;
        let params =
            GcmParams::new(&mut iv_param, ad, 128.into()).map_err(p11("GCM parameters"))?;
        let bytes = s
            .encrypt(&Mechanism::AesGcm(params), key, dek)
            .map_err(p11("wrapping"))?;
        Ok(WrappedKey {
            kek: KekParams::Pkcs11 {
                token: self.token.clone(),
                key_label: self.key_label.clone(),
                iv: iv.to_vec(),
            },
            bytes,
        })
    }

    fn unwrap(
        &self,
        w: &WrappedKey,
        ad: &[u8],
    ) -> core::result::Result<Zeroizing<[u8; 32]>, String> {
        let KekParams::Pkcs11 {
            token,
            key_label,
            iv,
        } = &w.kek
        else {
            return Err(format!(
                "sealed with another kind of key ({})",
                kind(&w.kek)
            ));
        };
        if *token != self.token || *key_label != self.key_label {
            return Err(format!(
                "sealed under HSM key {key_label:?} of token {token:?}, not this one"
            ));
        }
        let s = self.session().map_err(|e| e.to_string())?;
        let key = self.key(&s).map_err(|e| e.to_string())?;
        let mut iv = iv.clone();
        let params = GcmParams::new(&mut iv, ad, 128.into()).map_err(|e| e.to_string())?;
        let dek = Zeroizing::new(
            s.decrypt(&Mechanism::AesGcm(params), key, &w.bytes)
                .map_err(|e| format!("the HSM refuses to unwrap the data key: {e}"))?,
        );
        to_key(&dek)
    }
}
