//! A party's configuration file (TOML). Relative paths are relative to the file's
//! directory.
//!
//! ```toml
//! index = 0                      # the party's index in the deployment
//! store = "party-0"              # sealed key store directory
//! audit_log = "party-0/audit.jsonl"
//!
//! [kek]                          # one of: passphrase_file, key_file, pkcs11
//! passphrase_file = "passphrase.txt"
//!
//! [policy]
//! danger_allow_raw_digests = false
//! [policy.btc]
//! networks = ["regtest"]
//! max_sent_sats = 1000000
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{io, NodeError, Result};
use crate::policy::PolicyConfig;
use crate::seal::{Argon2Params, HsmKek, KeyEncryptionKey, KeyFileKek, PassphraseKek};

/// `party-<i>.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyConfig {
    /// The party's index in the deployment.
    pub index: u16,
    /// Sealed key store directory.
    pub store: PathBuf,
    /// Audit log (JSON lines).
    pub audit_log: PathBuf,
    /// Where the key-encryption key comes from.
    pub kek: KekConfig,
    /// The signing rules.
    #[serde(default)]
    pub policy: PolicyConfig,
}

/// `[kek]`: exactly one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekConfig {
    /// A file whose first line is the passphrase (Argon2id).
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// Argon2id parameters for new files (default: 64 MiB, 3 passes, 1 lane).
    #[serde(default)]
    pub argon2: Option<Argon2Params>,
    /// A 32-byte key file (raw or 64 hex digits).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// A key in an HSM.
    #[serde(default)]
    pub pkcs11: Option<Pkcs11Config>,
}

/// `[kek.pkcs11]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// The PKCS#11 module (SoftHSM2: `/usr/lib/softhsm/libsofthsm2.so`).
    pub module: PathBuf,
    /// Token label.
    pub token: String,
    /// File holding the user PIN.
    pub pin_file: PathBuf,
    /// Label of the AES key object (made on first use if missing).
    pub key_label: String,
}

impl PartyConfig {
    /// Reads `path`; relative paths in it become relative to its directory.
    ///
    /// # Errors
    /// [`NodeError::Io`], [`NodeError::Config`] naming the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
        let mut c: PartyConfig = toml::from_str(&text).map_err(|e| NodeError::Config {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        abs(&mut c.store);
        abs(&mut c.audit_log);
        if let Some(p) = &mut c.kek.passphrase_file {
            abs(p);
        }
        if let Some(p) = &mut c.kek.key_file {
            abs(p);
        }
        if let Some(h) = &mut c.kek.pkcs11 {
            abs(&mut h.pin_file);
        }
        Ok(c)
    }

    /// Opens the key-encryption key the config names.
    ///
    /// # Errors
    /// None or more than one source, or the source fails to open.
    pub fn open_kek(&self, config_path: &Path) -> Result<std::sync::Arc<dyn KeyEncryptionKey>> {
        let k = &self.kek;
        let count = [
            k.passphrase_file.is_some(),
            k.key_file.is_some(),
            k.pkcs11.is_some(),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        if count != 1 {
            return Err(NodeError::Config {
                path: config_path.to_path_buf(),
                reason: "[kek] needs exactly one of passphrase_file, key_file, pkcs11".into(),
            });
        }
        if let Some(p) = &k.passphrase_file {
            return Ok(std::sync::Arc::new(PassphraseKek::from_file(
                p,
                k.argon2.unwrap_or_default(),
            )?));
        }
        if let Some(p) = &k.key_file {
            return Ok(std::sync::Arc::new(KeyFileKek::from_file(p)?));
        }
        let h = k
            .pkcs11
            .as_ref()
            .ok_or_else(|| NodeError::Other("unreachable".into()))?;
        let pin = zeroize::Zeroizing::new(
            std::fs::read_to_string(&h.pin_file).map_err(io("reading", &h.pin_file))?,
        );
        let kek = HsmKek::open(&h.module, &h.token, pin.trim_end(), &h.key_label)?;
        kek.ensure_key()?;
        Ok(std::sync::Arc::new(kek))
    }
}
