//! The party's key vault: the shares its key ceremonies make, sealed in its store, each
//! *pending* until the coordinator has seen every party report the same key, then active;
//! and its Paillier primes, made once (with progress) and kept sealed.
//!
//! Layout in the store:
//!
//! - `keys/<key-id>/share.sealed`: the party's share (sealed; label: key share, scheme,
//!   key id, party, epoch), written once;
//! - `keys/<key-id>/meta.json`: public facts (scheme, group key, t, n, party, epoch, hash
//!   of the sealed file);
//! - `keys/<key-id>/active`: present once the key is active;
//! - `primes/paillier.sealed`: the party's Paillier primes (sealed);
//! - `pools/<key-id>/`: presignature pools ([`crate::pool`]).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mpc_core::{Cggmp21, Gg20, KeyShare, PaillierPrimes, PublicKey, SchemeId};
use mpc_transport::{HeldKey, KeyVault};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{io, NodeError, Result};
use crate::pool::DurablePool;
use crate::seal::{Label, SecretKind};
use crate::store::SealedStore;

/// Where a party's Paillier primes come from when it has none.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PrimesSource {
    /// Generate them (a minute or more; progress on stderr and in the logs).
    Generate,
    /// TEST ONLY: entry `party` of a public fixture of pregenerated primes
    /// (`test-vectors/test-only-paillier-primes.json`). Anyone can read those primes:
    /// a key made with them is not secret against its own parties' Paillier layer.
    DangerTestOnlyFixture(PathBuf),
}

/// Public facts about a stored key (`keys/<key-id>/meta.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMeta {
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
    /// This party's index.
    pub party: u16,
    /// Epoch of the share.
    pub epoch: u32,
    /// SHA-256 of the sealed share file, hex.
    pub stored_hash: String,
}

/// The vault of one party (see the module docs).
pub struct NodeVault {
    store: Arc<SealedStore>,
    party: u16,
    primes: PrimesSource,
    primes_lock: Mutex<()>,
    import_dir: Option<PathBuf>,
}

impl core::fmt::Debug for NodeVault {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NodeVault")
            .field("store", &self.store.dir())
            .field("party", &self.party)
            .finish_non_exhaustive()
    }
}

const PRIMES: &str = "primes/paillier.sealed";

fn share_name(key_id: &str) -> String {
    format!("keys/{key_id}/share.sealed")
}

impl NodeVault {
    /// The vault of `party` in `store`.
    pub fn new(store: Arc<SealedStore>, party: u16, primes: PrimesSource) -> Self {
        NodeVault {
            store,
            party,
            primes,
            primes_lock: Mutex::new(()),
            import_dir: None,
        }
    }

    /// This vault's party index.
    pub fn party(&self) -> u16 {
        self.party
    }

    /// Where the operator puts existing key files (tss-lib) to import.
    pub fn with_import_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.import_dir = dir;
        self
    }

    fn primes_label(&self) -> Label {
        Label::new(SecretKind::PaillierPrimes, None, "", self.party, 0)
    }

    fn share_label(&self, meta: &KeyMeta) -> Label {
        Label::new(
            SecretKind::KeyShare,
            Some(meta.scheme),
            &meta.key_id,
            self.party,
            meta.epoch,
        )
    }

    /// The party's primes: cached, or made now (and sealed) from the [`PrimesSource`].
    ///
    /// # Errors
    /// Storage errors, an unreadable fixture.
    pub fn primes(&self) -> Result<PaillierPrimes> {
        let _guard = self
            .primes_lock
            .lock()
            .map_err(|_| NodeError::Other("primes lock".into()))?;
        if self.store.contains(PRIMES) {
            let bytes = self.store.get(PRIMES, &self.primes_label())?;
            return serde_json::from_slice(&bytes).map_err(|e| NodeError::Corrupt {
                path: self.store.dir().join(PRIMES),
                reason: e.to_string(),
            });
        }
        let primes = match &self.primes {
            PrimesSource::Generate => generate_with_progress(self.party),
            PrimesSource::DangerTestOnlyFixture(path) => {
                tracing::warn!(party = self.party, path = %path.display(), "TEST-ONLY Paillier primes from a public fixture");
                let bytes = std::fs::read(path).map_err(io("reading", path))?;
                PaillierPrimes::list_from_json(&bytes)?
                    .into_iter()
                    .nth(usize::from(self.party))
                    .ok_or_else(|| {
                        NodeError::Other(format!(
                            "{}: no primes for party {}",
                            path.display(),
                            self.party
                        ))
                    })?
            }
        };
        let json = zeroize::Zeroizing::new(
            serde_json::to_vec(&primes).map_err(|e| NodeError::Other(e.to_string()))?,
        );
        self.store.put_new(PRIMES, &self.primes_label(), &json)?;
        Ok(primes)
    }

    /// The stored keys' public facts, with whether each is active.
    ///
    /// # Errors
    /// Storage errors, an unreadable `meta.json`.
    pub fn keys(&self) -> Result<Vec<(KeyMeta, bool)>> {
        let dir = self.store.dir().join("keys");
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for e in std::fs::read_dir(&dir).map_err(io("reading", &dir))? {
            let p = e.map_err(io("reading", &dir))?.path();
            let meta_path = p.join("meta.json");
            if !meta_path.exists() {
                continue;
            }
            let bytes = std::fs::read(&meta_path).map_err(io("reading", &meta_path))?;
            let meta: KeyMeta = serde_json::from_slice(&bytes).map_err(|e| NodeError::Corrupt {
                path: meta_path.clone(),
                reason: e.to_string(),
            })?;
            out.push((meta, p.join("active").exists()));
        }
        out.sort_by(|a, b| a.0.key_id.cmp(&b.0.key_id));
        Ok(out)
    }

    /// The public facts of a stored key.
    ///
    /// # Errors
    /// No such key; an unreadable `meta.json`.
    pub fn meta(&self, key_id: &str) -> Result<KeyMeta> {
        let path = self.store.path(&format!("keys/{key_id}/meta.json"))?;
        let bytes = std::fs::read(&path).map_err(io("reading", &path))?;
        serde_json::from_slice(&bytes).map_err(|e| NodeError::Corrupt {
            path,
            reason: e.to_string(),
        })
    }

    /// Opens a stored key (its sealed share, checked against its meta), with the
    /// presignature pool of a presigning engine.
    ///
    /// # Errors
    /// Storage errors; a share that does not open or does not match its meta.
    pub fn open_key(&self, key_id: &str) -> Result<HeldKey> {
        let meta = self.meta(key_id)?;
        let bytes = self.share_json(key_id)?;
        self.held_from_json(&meta, &bytes)
    }

    /// Whether a stored key is active.
    ///
    /// # Errors
    /// A key id that is not a valid store name.
    pub fn is_active(&self, key_id: &str) -> Result<bool> {
        Ok(self.store.path(&format!("keys/{key_id}/active"))?.exists())
    }

    /// The stored share of `key_id`, opened: its key-share JSON (secret; zeroized on drop).
    ///
    /// # Errors
    /// No such key; a share that does not open.
    pub fn share_json(&self, key_id: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let meta = self.meta(key_id)?;
        self.store
            .get(&share_name(key_id), &self.share_label(&meta))
    }

    /// Stores a share recovered from a backup as an active key: only into a store that does
    /// not hold `key_id` yet, and only a share of this party.
    ///
    /// # Errors
    /// The key exists here already ([`NodeError::Exists`]), a share of another party,
    /// storage errors.
    pub fn restore(&self, key_id: &str, key: &HeldKey) -> Result<()> {
        let meta_path = self.store.path(&format!("keys/{key_id}/meta.json"))?;
        if meta_path.exists() {
            return Err(NodeError::Exists { path: meta_path });
        }
        self.store_share(key_id, key)?;
        self.activate_key(key_id).map(drop)
    }

    /// A held key from its share JSON, checked against its meta, with the presignature pool
    /// of a presigning engine.
    fn held_from_json(&self, meta: &KeyMeta, bytes: &[u8]) -> Result<HeldKey> {
        let key_id = meta.key_id.as_str();
        let path = self.store.dir().join(share_name(key_id));
        let bad = |e: mpc_core::Error| NodeError::Corrupt {
            path: path.clone(),
            reason: e.to_string(),
        };
        let held = match meta.scheme {
            SchemeId::Cggmp21Secp256k1 => HeldKey::Cggmp21 {
                share: KeyShare::from_json(bytes, meta.scheme).map_err(bad)?,
                pool: Some(Arc::new(Mutex::new(DurablePool::<Cggmp21>::open(
                    self.store.clone(),
                    key_id,
                    self.party,
                    meta.epoch,
                )?))),
            },
            SchemeId::Gg20Secp256k1 => HeldKey::Gg20 {
                share: KeyShare::from_json(bytes, meta.scheme).map_err(bad)?,
                pool: Some(Arc::new(Mutex::new(DurablePool::<Gg20>::open(
                    self.store.clone(),
                    key_id,
                    self.party,
                    meta.epoch,
                )?))),
            },
            SchemeId::FrostEd25519 => {
                HeldKey::FrostEd25519(KeyShare::from_json(bytes, meta.scheme).map_err(bad)?)
            }
            SchemeId::FrostSecp256k1Tr => {
                HeldKey::FrostTaproot(KeyShare::from_json(bytes, meta.scheme).map_err(bad)?)
            }
            other => {
                return Err(NodeError::Other(format!(
                    "{}: no engine for {other}",
                    path.display()
                )))
            }
        };
        let k = held.key_ref();
        if k.public_key != meta.public_key || k.scheme != meta.scheme {
            return Err(NodeError::Corrupt {
                path,
                reason: "the share's key differs from meta.json".into(),
            });
        }
        Ok(held)
    }

    /// The active keys, opened (what a party serves at start).
    ///
    /// # Errors
    /// As [`NodeVault::open_key`].
    pub fn active_keys(&self) -> Result<Vec<(String, HeldKey)>> {
        self.keys()?
            .into_iter()
            .filter(|(_, active)| *active)
            .map(|(m, _)| Ok((m.key_id.clone(), self.open_key(&m.key_id)?)))
            .collect()
    }

    fn store_share(&self, key_id: &str, key: &HeldKey) -> Result<[u8; 32]> {
        let (json, t, n, party) = match key {
            HeldKey::Cggmp21 { share, .. } => (
                share.to_json()?,
                share.threshold(),
                share.parties(),
                share.index(),
            ),
            HeldKey::Gg20 { share, .. } => (
                share.to_json()?,
                share.threshold(),
                share.parties(),
                share.index(),
            ),
            HeldKey::FrostEd25519(share) => (
                share.to_json()?,
                share.threshold(),
                share.parties(),
                share.index(),
            ),
            HeldKey::FrostTaproot(share) => (
                share.to_json()?,
                share.threshold(),
                share.parties(),
                share.index(),
            ),
        };
        if party != self.party {
            return Err(NodeError::Other(format!(
                "a share of party {party} offered to party {}",
                self.party
            )));
        }
        let k = key.key_ref();
        let mut meta = KeyMeta {
            key_id: key_id.to_string(),
            scheme: k.scheme,
            public_key: k.public_key,
            t,
            n,
            party,
            epoch: key.epoch(),
            stored_hash: String::new(),
        };
        let name = share_name(key_id);
        let path = self.store.put_new(&name, &self.share_label(&meta), &json)?;
        let sealed = std::fs::read(&path).map_err(io("reading", &path))?;
        let hash: [u8; 32] = Sha256::digest(&sealed).into();
        meta.stored_hash = hex::encode(hash);
        let meta_json =
            serde_json::to_vec_pretty(&meta).map_err(|e| NodeError::Other(e.to_string()))?;
        crate::fsutil::write_new(
            &self.store.path(&format!("keys/{key_id}/meta.json"))?,
            &meta_json,
        )?;
        Ok(hash)
    }

    fn activate_key(&self, key_id: &str) -> Result<HeldKey> {
        let held = self.open_key(key_id)?;
        let marker = self.store.path(&format!("keys/{key_id}/active"))?;
        match crate::fsutil::write_new(&marker, b"active\n") {
            Ok(()) | Err(NodeError::Exists { .. }) => Ok(held),
            Err(e) => Err(e),
        }
    }
}

impl KeyVault for NodeVault {
    fn paillier_primes(&self) -> core::result::Result<PaillierPrimes, String> {
        self.primes().map_err(|e| e.to_string())
    }

    fn store_pending(&self, key_id: &str, key: &HeldKey) -> core::result::Result<[u8; 32], String> {
        self.store_share(key_id, key).map_err(|e| e.to_string())
    }

    fn read_import(&self, file: &str) -> core::result::Result<zeroize::Zeroizing<Vec<u8>>, String> {
        let dir = self
            .import_dir
            .as_ref()
            .ok_or("this party has no import_dir in its config")?;
        let name = std::path::Path::new(file);
        let plain = name.components().count() == 1
            && matches!(
                name.components().next(),
                Some(std::path::Component::Normal(_))
            );
        if !plain {
            return Err(format!("{file:?} is not a plain file name"));
        }
        let path = dir.join(name);
        std::fs::read(&path)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn activate(&self, key_id: &str) -> core::result::Result<HeldKey, String> {
        self.activate_key(key_id).map_err(|e| e.to_string())
    }
}

/// Generates one party's primes, printing progress (a person waits for this).
pub fn generate_with_progress(party: u16) -> PaillierPrimes {
    let start = std::time::Instant::now();
    eprintln!(
        "party {party}: generating Paillier safe primes ({} bits, two of them); this takes a minute or more and is done once",
        PaillierPrimes::PRIME_BITS
    );
    PaillierPrimes::generate(&mut rand_core::OsRng, |k| {
        eprintln!(
            "party {party}: safe prime {k} of 2 found after {:.1?}",
            start.elapsed()
        );
    })
}
