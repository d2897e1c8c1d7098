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
    /// The key's current epoch (0 when made).
    #[serde(default)]
    pub epoch: u32,
    /// The key's BIP-32 chain code, hex (public: the coordinator derives child keys with it
    /// to check signatures under a derivation path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_code: Option<String>,
    /// The deployment party holding each share index (absent: share index `i` at party
    /// `i`, a key of the whole deployment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub committee: Vec<u16>,
    /// A resharing under way (see [`Transition`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<Transition>,
    /// Shares that parties still have to destroy (they were down when asked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retire: Vec<Retirement>,
}

/// A resharing of a key whose new shares are stored (pending) at every new party but not
/// yet active everywhere: the key still signs with its current epoch. Running a lifecycle
/// command again finishes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// Engine of the new shares.
    pub scheme: SchemeId,
    /// Epoch of the new shares.
    pub epoch: u32,
    /// Signers the new shares need.
    pub t: u16,
    /// The new committee.
    pub committee: Vec<u16>,
    /// What each new party reported it stored (hash of its sealed file, hex), by share
    /// index: only those shares are activated.
    #[serde(default)]
    pub stored_hashes: Vec<String>,
}

/// A share a party still has to destroy: an old epoch's share after a switch, or a
/// pending share of an epoch the party is not part of (left by an abandoned run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retirement {
    /// The party.
    pub party: u16,
    /// The share's engine.
    pub scheme: SchemeId,
    /// The share's epoch.
    pub epoch: u32,
    /// Only a pending (never active) share is to be destroyed.
    #[serde(default)]
    pub pending_only: bool,
}

impl RegisteredKey {
    /// The deployment party holding each share index.
    pub fn committee(&self) -> Vec<u16> {
        if self.committee.is_empty() {
            (0..self.n).collect()
        } else {
            self.committee.clone()
        }
    }

    /// The chain code, decoded.
    ///
    /// # Errors
    /// A registry entry whose chain code is not 32 bytes of hex.
    pub fn chain_code_bytes(&self) -> Result<Option<[u8; 32]>> {
        self.chain_code
            .as_deref()
            .map(|h| {
                hex::decode(h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        NodeError::Other(format!(
                            "registry: key {} has a chain code that is not 32 bytes of hex",
                            self.key_id
                        ))
                    })
            })
            .transpose()
    }

    /// How the parties name it.
    pub fn key_ref(&self) -> KeyRef {
        KeyRef {
            scheme: self.scheme,
            public_key: self.public_key,
            epoch: self.epoch,
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
        Self::connect_with(config_path, wait, |_| {}).await
    }

    /// [`connect`](Self::connect), with `adjust` applied to the options the config gives
    /// (a benchmark sets a simulated delay or turns off the fallback to full signing).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        config_path: &Path,
        wait: Duration,
        adjust: impl FnOnce(&mut CoordinatorOptions),
    ) -> Result<Self> {
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
        let mut opts = CoordinatorOptions {
            round_timeout: config
                .round_timeout_ms
                .map_or(defaults.round_timeout, Duration::from_millis),
            ceremony_timeout: config
                .ceremony_timeout_s
                .map_or(defaults.ceremony_timeout, Duration::from_secs),
            ..defaults
        };
        adjust(&mut opts);
        let c =
            Coordinator::start(&id, &parties, opts).map_err(|e| NodeError::Other(e.to_string()))?;
        for k in Registry::load(&config.registry)?.keys {
            if let Some(code) = k.chain_code_bytes()? {
                c.add_chain_code(&k.key_ref(), code);
            }
            c.set_committee(&k.key_ref(), k.committee());
        }
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
        self.register(out)
    }

    /// Imports an existing key into `scheme`: every party reads `file` from its own
    /// import directory (its tss-lib keygen file), runs the engine's network step and
    /// stores its share; recorded in the registry once active at every party. The group
    /// key (and so every address) is the file's.
    ///
    /// # Errors
    /// The ceremony's error, naming the parties; registry I/O.
    pub async fn import(&self, scheme: SchemeId, file: &str) -> Result<RegisteredKey> {
        let key_id = new_key_id(scheme);
        let out = self
            .coordinator
            .import(scheme, &key_id, file)
            .await
            .map_err(|e| NodeError::Other(e.to_string()))?;
        self.register(out)
    }

    fn register(&self, out: mpc_transport::KeygenOutcome) -> Result<RegisteredKey> {
        let key = RegisteredKey {
            key_id: out.key_id,
            scheme: out.key.scheme,
            public_key: out.key.public_key,
            t: out.t,
            n: out.n,
            epoch: out.key.epoch,
            chain_code: out.chain_code.map(hex::encode),
            committee: Vec::new(),
            transition: None,
            retire: Vec::new(),
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

/// A chain a transaction is signed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chain {
    /// Bitcoin: a PSBT in, a raw transaction out.
    Btc,
    /// EVM: an unsigned EIP-2718 transaction in, a signed one out.
    Evm,
    /// Solana: an unsigned wire transaction in, a signed one out.
    Sol,
}

/// A signed transaction, ready to broadcast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedTransaction {
    /// `btc`, `evm` or `sol`.
    pub chain: &'static str,
    /// The key that signed.
    pub key_id: String,
    /// The transaction: hex for Bitcoin, `0x` hex for EVM, base64 for Solana.
    pub tx: String,
    /// Its id: txid, transaction hash, or first signature (base58).
    pub id: String,
}

async fn sign_with<C: mpc_core::chain::ChainEncoder>(
    c: &Coordinator,
    enc: &C,
    unsigned: C::Unsigned,
    key: &RegisteredKey,
) -> Result<C::Signed> {
    let requests = enc
        .requests(&unsigned, &key.public_key)
        .map_err(|e| NodeError::Other(e.to_string()))?;
    // The committee as the registry has it now (another coordinator process may have
    // reshared the key since this one connected).
    c.set_committee(&key.key_ref(), key.committee());
    let signed = c
        .sign(&key.key_ref(), key.t, &requests)
        .await
        .map_err(|e| NodeError::Other(e.to_string()))?;
    enc.finalize(unsigned, &[(key.public_key, signed.signatures)])
        .map_err(|e| NodeError::Other(e.to_string()))
}

impl CoordinatorClient {
    /// Signs the unsigned transaction `text` for `chain` with registered key `key_id`:
    /// a base64 PSBT (Bitcoin, regtest addresses in errors), a hex unsigned EIP-2718
    /// transaction (EVM), or a base64 unsigned wire transaction (Solana). Every party
    /// decodes and checks it with its own policy before it signs.
    ///
    /// # Errors
    /// A payload that does not decode, a key of another chain, a party's refusal (with
    /// the party and the rule), a failed signing.
    pub async fn sign_transaction(
        &self,
        key_id: &str,
        chain: Chain,
        text: &str,
    ) -> Result<SignedTransaction> {
        use base64::Engine as _;
        use mpc_core::chain::ChainEncoder as _;
        let reg = Registry::load(&self.config.registry)?;
        let key = reg.get(key_id)?.clone();
        let text = text.trim();
        let bad = |what: &str, e: &dyn core::fmt::Display| NodeError::Other(format!("{what}: {e}"));
        let b64 = base64::engine::general_purpose::STANDARD;
        let c = &self.coordinator;
        let (tx, id) = match chain {
            Chain::Btc => {
                let kind = match key.scheme {
                    SchemeId::Cggmp21Secp256k1 | SchemeId::Gg20Secp256k1 => {
                        chain_btc::AddressKind::P2wpkh
                    }
                    SchemeId::FrostSecp256k1Tr => chain_btc::AddressKind::P2tr,
                    other => {
                        return Err(NodeError::Other(format!(
                            "{other} keys do not sign Bitcoin"
                        )))
                    }
                };
                let enc = chain_btc::BtcEncoder::new(bitcoin::Network::Regtest, kind);
                let bytes = b64.decode(text).map_err(|e| bad("PSBT base64", &e))?;
                let psbt = enc.decode_unsigned(&bytes).map_err(|e| bad("PSBT", &e))?;
                let signed = sign_with(c, &enc, psbt, &key).await?;
                (
                    bitcoin::consensus::encode::serialize_hex(&signed),
                    signed.compute_txid().to_string(),
                )
            }
            Chain::Evm => {
                let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
                    .map_err(|e| bad("transaction hex", &e))?;
                let tx =
                    chain_evm::decode_unsigned_2718(&bytes).map_err(|e| bad("transaction", &e))?;
                let chain_id = alloy_consensus::Transaction::chain_id(&tx)
                    .ok_or_else(|| NodeError::Other("transaction has no chain id".into()))?;
                let signed = sign_with(c, &chain_evm::EvmEncoder::new(chain_id), tx, &key).await?;
                (
                    format!("0x{}", hex::encode(&signed.raw)),
                    signed.envelope.tx_hash().to_string(),
                )
            }
            Chain::Sol => {
                let enc = chain_sol::SolEncoder::new();
                let bytes = b64
                    .decode(text)
                    .map_err(|e| bad("transaction base64", &e))?;
                let tx = enc
                    .decode_unsigned(&bytes)
                    .map_err(|e| bad("transaction", &e))?;
                let signed = sign_with(c, &enc, tx, &key).await?;
                (signed.base64(), signed.id().unwrap_or_default())
            }
        };
        Ok(SignedTransaction {
            chain: match chain {
                Chain::Btc => "btc",
                Chain::Evm => "evm",
                Chain::Sol => "sol",
            },
            key_id: key.key_id,
            tx,
            id,
        })
    }
}
