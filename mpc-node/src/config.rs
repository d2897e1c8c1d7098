//! A party's configuration file (TOML). Relative paths are relative to the file's
//! directory.
//!
//! ```toml
//! index = 0                      # the party's index in the deployment
//! store = "party-0"              # sealed key store directory
//! audit_log = "party-0/audit.jsonl"
//!
//! [network]
//! domain = "mpc.local"
//! mesh_listen = "127.0.0.1:47100"
//! control_listen = "127.0.0.1:47200"
//! peers = ["127.0.0.1:47100", "127.0.0.1:47101", "127.0.0.1:47102"]
//! ca_cert = "pki/ca.pem"
//! cert = "pki/party-0.pem"
//! tls_key = "tls/party.key"      # name of the sealed TLS key inside the store
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

use std::net::SocketAddr;
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
    /// TEST ONLY: take this party's Paillier primes from a public fixture of pregenerated
    /// primes instead of generating them. A key made with public primes is not safe.
    #[serde(default)]
    pub danger_test_only_paillier_primes: Option<PathBuf>,
    /// Directory where the operator puts existing key files (tss-lib keygen JSON) that
    /// `mpc-node import` asks this party to import.
    #[serde(default)]
    pub import_dir: Option<PathBuf>,
    /// Addresses and certificates.
    pub network: NetworkConfig,
    /// Where the key-encryption key comes from.
    pub kek: KekConfig,
    /// The signing rules.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Where this party's share backups are encrypted to.
    #[serde(default)]
    pub backup: Option<BackupConfig>,
}

/// `[backup]` of a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupConfig {
    /// This party's recovery recipient: an age X25519 public key (`age1…`) whose identity
    /// the party's recovery officer keeps offline. Give every party its own: the holder of
    /// one identity must never be able to open `t` shares of a key.
    pub recipient: String,
}

/// `[network]` of a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Certificate domain: parties are `party-<i>.<domain>`, the coordinator
    /// `coordinator.<domain>`.
    pub domain: String,
    /// Where this party accepts the other parties (mutual TLS).
    pub mesh_listen: SocketAddr,
    /// Where this party accepts the coordinator (mutual TLS).
    pub control_listen: SocketAddr,
    /// Every party's mesh address, by index (this party's own included).
    pub peers: Vec<SocketAddr>,
    /// The deployment's CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// This party's certificate (PEM).
    pub cert: PathBuf,
    /// Name of this party's TLS private key inside its sealed store.
    pub tls_key: String,
}

/// `coordinator.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfig {
    /// Certificate domain.
    pub domain: String,
    /// Every party's control address, by index.
    pub parties: Vec<SocketAddr>,
    /// Threshold of new keys.
    pub threshold: u16,
    /// The registry of active keys (public data, JSON).
    pub registry: PathBuf,
    /// The deployment's CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// The coordinator's certificate (PEM).
    pub cert: PathBuf,
    /// Sealed store holding the coordinator's TLS key.
    pub store: PathBuf,
    /// Name of the sealed TLS key inside the store.
    pub tls_key: String,
    /// Per-round timeout of signing sessions, in milliseconds (default 10 000).
    #[serde(default)]
    pub round_timeout_ms: Option<u64>,
    /// Bound on a key ceremony, in seconds (default 900).
    #[serde(default)]
    pub ceremony_timeout_s: Option<u64>,
    /// Where the key-encryption key of the store comes from.
    pub kek: KekConfig,
}

/// `[kek]`: exactly one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KekConfig {
    /// A file whose first line is the passphrase (Argon2id).
    #[serde(default)]
    pub passphrase_file: Option<PathBuf>,
    /// A 32-byte key file (raw or 64 hex digits).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// Argon2id parameters for new files (default: 64 MiB, 3 passes, 1 lane).
    #[serde(default)]
    pub argon2: Option<Argon2Params>,
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

fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io("reading", path))?;
    toml::from_str(&text).map_err(|e| NodeError::Config {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

fn rebase(base: &Path, p: &mut PathBuf) {
    if p.is_relative() {
        *p = base.join(&*p);
    }
}

impl KekConfig {
    fn rebase(&mut self, base: &Path) {
        if let Some(p) = &mut self.passphrase_file {
            rebase(base, p);
        }
        if let Some(p) = &mut self.key_file {
            rebase(base, p);
        }
        if let Some(h) = &mut self.pkcs11 {
            rebase(base, &mut h.pin_file);
        }
    }
}

impl CoordinatorConfig {
    /// Reads `path`; relative paths in it become relative to its directory.
    ///
    /// # Errors
    /// [`NodeError::Io`], [`NodeError::Config`] naming the file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut c: CoordinatorConfig = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut c.registry, &mut c.ca_cert, &mut c.cert, &mut c.store] {
            rebase(base, p);
        }
        c.kek.rebase(base);
        Ok(c)
    }
}

impl PartyConfig {
    /// Reads `path`; relative paths in it become relative to its directory.
    ///
    /// # Errors
    /// [`NodeError::Io`], [`NodeError::Config`] naming the file.
    pub fn load(path: &Path) -> Result<Self> {
        let mut c: PartyConfig = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut c.store,
            &mut c.audit_log,
            &mut c.network.ca_cert,
            &mut c.network.cert,
        ] {
            rebase(base, p);
        }
        if let Some(p) = &mut c.danger_test_only_paillier_primes {
            rebase(base, p);
        }
        if let Some(p) = &mut c.import_dir {
            rebase(base, p);
        }
        c.kek.rebase(base);
        if usize::from(c.index) >= c.network.peers.len() {
            return Err(NodeError::Config {
                path: path.to_path_buf(),
                reason: format!(
                    "index {} but network.peers lists {} parties",
                    c.index,
                    c.network.peers.len()
                ),
            });
        }
        Ok(c)
    }

    /// Opens the key-encryption key the config names.
    ///
    /// # Errors
    /// None or more than one source, or the source fails to open.
    pub fn open_kek(&self, config_path: &Path) -> Result<std::sync::Arc<dyn KeyEncryptionKey>> {
        self.kek.open(config_path)
    }
}

impl KekConfig {
    /// Opens the key-encryption key this section names (`config_path` for errors).
    ///
    /// # Errors
    /// None or more than one source, or the source fails to open.
    pub fn open(&self, config_path: &Path) -> Result<std::sync::Arc<dyn KeyEncryptionKey>> {
        let k = self;
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
