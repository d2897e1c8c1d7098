//! The coordinator client: connects to the parties of a deployment, runs key ceremonies and
//! keeps the registry of active keys (public data).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mpc_core::{PublicKey, SchemeId};
use mpc_transport::{Coordinator, CoordinatorOptions, KeyRef};
use serde::{Deserialize, Serialize};

use crate::config::CoordinatorConfig;
use crate::error::{io, NodeError, Result};
use crate::party::identity;
use crate::store::SealedStore;

/// The coordinator's index in labels of its own sealed secrets.
pub const COORDINATOR_LABEL_INDEX: u16 = u16::MAX;

/// One active key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredKey {
    /// Key id.
    pub key_id: String,
    /// Scheme.
    pub scheme: SchemeId,
    /// Group public key.
    pub public_key: PublicKey,
    /// Signers needed.
    pub t: u16,
    /// Parties.
    pub n: u16,
}

impl RegisteredKey {
    /// How the parties name it.
    pub fn key_ref(&self) -> KeyRef {
        KeyRef {
            scheme: self.scheme,
            public_key: self.public_key,
        }
    }
}

/// The registry file: active keys, in order of creation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    /// The keys.
    pub keys: Vec<RegisteredKey>,
}

impl Registry {
    /// Reads the registry (an absent file is an empty registry).
    ///
    /// # Errors
    /// An unreadable file, naming it.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| NodeError::Corrupt {
                path: path.to_path_buf(),
                reason: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registry::default()),
            Err(e) => Err(io("reading", path)(e)),
        }
    }

    /// Writes the registry atomically (it holds no secret: replacing it is fine).
    ///
    /// # Errors
    /// I/O errors, naming the file.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| NodeError::Other(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes)
            .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(io("writing", path))?;
        if let Some(dir) = path.parent() {
            crate::fsutil::sync_dir(dir)?;
        }
        Ok(())
    }

    /// The key named `key_id`.
    ///
    /// # Errors
    /// No such key.
    pub fn get(&self, key_id: &str) -> Result<&RegisteredKey> {
        self.keys
            .iter()
            .find(|k| k.key_id == key_id)
            .ok_or_else(|| NodeError::Other(format!("no active key {key_id:?} in the registry")))
    }
}

/// A coordinator connected to a deployment's parties.
#[derive(Debug)]
pub struct CoordinatorClient {
    /// The coordinator.
    pub coordinator: Arc<Coordinator>,
    /// Its config.
    pub config: CoordinatorConfig,
}

impl CoordinatorClient {
    /// Connects to every party of `config_path`'s deployment, waiting up to `wait` for all.
    /// Must run inside a tokio runtime.
    ///
    /// # Errors
    /// Configuration, the sealed TLS key, parties not reachable.
    pub async fn connect(config_path: &Path, wait: Duration) -> Result<Self> {
        let config = CoordinatorConfig::load(config_path)?;
        let kek = config.kek.open(config_path)?;
        let id = {
            let store = SealedStore::open(&config.store, kek)?;
            identity(
                &store,
                &config.ca_cert,
                &config.cert,
                &config.tls_key,
                COORDINATOR_LABEL_INDEX,
                &config.domain,
            )?
        };
        let parties: HashMap<u16, std::net::SocketAddr> =
            (0u16..).zip(config.parties.iter().copied()).collect();
        let defaults = CoordinatorOptions::default();
        let opts = CoordinatorOptions {
            round_timeout: config
                .round_timeout_ms
                .map_or(defaults.round_timeout, Duration::from_millis),
            ceremony_timeout: config
                .ceremony_timeout_s
                .map_or(defaults.ceremony_timeout, Duration::from_secs),
            ..defaults
        };
        let c =
            Coordinator::start(&id, &parties, opts).map_err(|e| NodeError::Other(e.to_string()))?;
        let up = c.wait_connected(parties.len(), wait).await;
        if up.len() < parties.len() {
            let missing: Vec<u16> = parties
                .keys()
                .copied()
                .filter(|p| !up.contains(p))
                .collect();
            tracing::warn!(?missing, "not every party is reachable");
        }
        Ok(CoordinatorClient {
            coordinator: Arc::new(c),
            config,
        })
    }

    /// Runs a key ceremony for a new key of `scheme` (threshold from the config) under a
    /// fresh key id, and records it in the registry once it is active at every party.
    ///
    /// # Errors
    /// The ceremony's error, naming the parties; registry I/O.
    pub async fn keygen(&self, scheme: SchemeId) -> Result<RegisteredKey> {
        let key_id = new_key_id(scheme);
        let out = self
            .coordinator
            .keygen(scheme, &key_id, self.config.threshold)
            .await
            .map_err(|e| NodeError::Other(e.to_string()))?;
        let key = RegisteredKey {
            key_id: out.key_id,
            scheme,
            public_key: out.key.public_key,
            t: out.t,
            n: out.n,
        };
        let mut reg = Registry::load(&self.config.registry)?;
        reg.keys.push(key.clone());
        reg.save(&self.config.registry)?;
        Ok(key)
    }
}

/// A fresh key id: the scheme and 16 random bytes.
pub fn new_key_id(scheme: SchemeId) -> String {
    let mut r = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut r);
    format!("{scheme}-{}", hex::encode(r))
}
