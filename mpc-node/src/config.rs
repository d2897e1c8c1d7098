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
//! transport = "tcp"              # or "nats", with [network.nats] instead of the mesh lines
//! mesh_listen = "127.0.0.1:47100"
//! control_listen = "127.0.0.1:47200"
//! peers = ["127.0.0.1:47100", "127.0.0.1:47101", "127.0.0.1:47102"]
//! ca_cert = "pki/ca.pem"
//! cert = "pki/party-0.pem"
//! tls_key = "tls/party.key"      # name of the sealed TLS key inside the store
//! # [network.nats]
//! # url = "nats://127.0.0.1:4222"
//! # parties = 3
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

/// How the parties of a deployment reach each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MeshTransport {
    /// Every pair of parties over one TCP connection with mutual TLS (`mesh_listen`,
    /// `peers`).
    #[default]
    Tcp,
    /// Through a NATS broker (`[network.nats]`): parties connect out only; envelopes are
    /// signed by their sender and encrypted to their receiver.
    Nats,
}

impl core::fmt::Display for MeshTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MeshTransport::Tcp => "tcp",
            MeshTransport::Nats => "nats",
        })
    }
}

/// `[network.nats]` of a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatsConfig {
    /// The broker (`nats://host:port`).
    pub url: String,
    /// Parties of the deployment.
    pub parties: u16,
}

/// `[network]` of a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Certificate domain: parties are `party-<i>.<domain>`, the coordinator
    /// `coordinator.<domain>`.
    pub domain: String,
    /// How the parties reach each other (default `tcp`).
    #[serde(default)]
    pub transport: MeshTransport,
    /// `tcp`: where this party accepts the other parties (mutual TLS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mesh_listen: Option<SocketAddr>,
    /// Where this party accepts the coordinator (mutual TLS).
    pub control_listen: SocketAddr,
    /// `tcp`: every party's mesh address, by index (this party's own included).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<SocketAddr>,
    /// `nats`: the broker and the number of parties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nats: Option<NatsConfig>,
    /// The deployment's CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// This party's certificate (PEM).
    pub cert: PathBuf,
    /// Name of this party's TLS private key inside its sealed store.
    pub tls_key: String,
}

impl NetworkConfig {
    /// Parties of the deployment, or why the section does not say.
    pub fn parties(&self) -> core::result::Result<u16, String> {
        match (self.transport, &self.nats) {
            (MeshTransport::Tcp, _) => {
                if self.mesh_listen.is_none() {
                    return Err("transport \"tcp\" needs network.mesh_listen".into());
                }
                u16::try_from(self.peers.len()).map_err(|_| "too many peers".into())
            }
            (MeshTransport::Nats, Some(n)) => Ok(n.parties),
            (MeshTransport::Nats, None) => Err("transport \"nats\" needs [network.nats]".into()),
        }
    }
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
        let bad = |reason: String| NodeError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let parties = c.network.parties().map_err(bad)?;
        if c.index >= parties {
            return Err(bad(format!(
                "index {} but the network has {parties} parties",
                c.index
            )));
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
