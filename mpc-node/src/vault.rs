//! The party's key vault: the shares its key ceremonies make, sealed in its store, each
//! *pending* until the coordinator has seen every party report the same key, then active;
//! and its Paillier primes, made once (with progress) and kept sealed.
//!
//! Each epoch of a key has its own *slot*: `keys/<key-id>/` for epoch 0, and
//! `keys/<key-id>.e<epoch>/` for the epochs a resharing (refresh, reshare, repair,
//! migration) makes. While a resharing switches over, a party can hold two slots of a key;
//! the old one is destroyed when the coordinator retires it. Layout in the store:
//!
//! - `<slot>/share.sealed`: the party's share (sealed; label: key share, scheme, key id,
//!   party, epoch), written once;
//! - `<slot>/meta.json`: public facts (scheme, group key, t, n, party, epoch, committee,
//!   hash of the sealed file);
//! - `<slot>/active`: present once the share is active;
//! - `primes/paillier.sealed`: the party's Paillier primes for new keys (sealed);
//! - `pools/…`: presignature pools, one per slot ([`crate::pool::pool_dir`]).
//!
//! A pending slot (no `active` marker) of a resharing that did not finish is replaced when
//! the resharing is run again; an active one is never overwritten.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mpc_core::{Cggmp21, Gg20, KeyShare, PaillierPrimes, PublicKey, SchemeId};
use mpc_transport::{HeldKey, KeyVault, StoredKey};
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
    /// The deployment party holding each share index (absent: share index `i` at party
    /// `i`, a key of the whole deployment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub committee: Vec<u16>,
}

impl KeyMeta {
    /// The deployment party holding each share index.
    pub fn committee(&self) -> Vec<u16> {
        if self.committee.is_empty() {
            (0..self.n).collect()
        } else {
            self.committee.clone()
        }
    }
}

/// The slot directory of epoch `epoch` of `key_id` (see the module docs).
pub fn slot_dir(key_id: &str, epoch: u32) -> String {
    if epoch == 0 {
        format!("keys/{key_id}")
    } else {
        format!("keys/{key_id}.e{epoch}")
    }
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

fn share_name(key_id: &str, epoch: u32) -> String {
    format!("{}/share.sealed", slot_dir(key_id, epoch))
}

fn meta_name(key_id: &str, epoch: u32) -> String {
    format!("{}/meta.json", slot_dir(key_id, epoch))
}

fn active_name(key_id: &str, epoch: u32) -> String {
    format!("{}/active", slot_dir(key_id, epoch))
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

    /// Primes never used before for the new shares of epoch `epoch` (a resharing): made
    /// now with progress, or from the TEST-ONLY fixture, entry `party + epoch` (mod its
    /// length), so a refreshed test key's Paillier keys differ from the old ones.
    ///
    /// # Errors
    /// An unreadable fixture.
    pub fn fresh_primes(&self, epoch: u32) -> Result<PaillierPrimes> {
        match &self.primes {
            PrimesSource::Generate => Ok(generate_fresh_with_progress(self.party, epoch)),
            PrimesSource::DangerTestOnlyFixture(path) => {
                tracing::warn!(
                    party = self.party,
                    epoch,
                    "TEST-ONLY Paillier primes from a public fixture"
                );
                let bytes = std::fs::read(path).map_err(io("reading", path))?;
                let list = PaillierPrimes::list_from_json(&bytes)?;
                let at = (usize::from(self.party) + usize::try_from(epoch).unwrap_or(0))
                    % list.len().max(1);
                list.into_iter()
                    .nth(at)
                    .ok_or_else(|| NodeError::Other(format!("{}: no primes", path.display())))
            }
        }
    }

    /// The stored shares' public facts (every slot: a key mid-resharing has two), with
    /// whether each is active, by key id and epoch.
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
            let expected = slot_dir(&meta.key_id, meta.epoch);
            if Some(expected.trim_start_matches("keys/")) != p.file_name().and_then(|n| n.to_str())
            {
                return Err(NodeError::Corrupt {
                    path: meta_path,
                    reason: format!(
                        "names key {:?} at epoch {}, whose directory is {expected}",
                        meta.key_id, meta.epoch
                    ),
                });
            }
            out.push((meta, p.join("active").exists()));
        }
        out.sort_by(|a, b| (&a.0.key_id, a.0.epoch).cmp(&(&b.0.key_id, b.0.epoch)));
        Ok(out)
    }

    /// The slots of `key_id`, oldest epoch first.
    fn slots(&self, key_id: &str) -> Result<Vec<(KeyMeta, bool)>> {
        check_id(key_id)?;
        Ok(self
            .keys()?
            .into_iter()
            .filter(|(m, _)| m.key_id == key_id)
            .collect())
    }

    /// The public facts of a stored key's current share: its newest active epoch, or its
    /// newest pending one when none is active.
    ///
    /// # Errors
    /// No such key; an unreadable `meta.json`.
    pub fn meta(&self, key_id: &str) -> Result<KeyMeta> {
        let slots = self.slots(key_id)?;
        slots
            .iter()
            .rev()
            .find(|(_, active)| *active)
            .or(slots.last())
            .map(|(m, _)| m.clone())
            .ok_or_else(|| NodeError::Other(format!("no key {key_id:?} in this store")))
    }

    /// Opens a stored key's current share (see [`NodeVault::meta`]), checked against its
    /// meta, with the presignature pool of a presigning engine.
    ///
    /// # Errors
    /// Storage errors; a share that does not open or does not match its meta.
    pub fn open_key(&self, key_id: &str) -> Result<HeldKey> {
        let meta = self.meta(key_id)?;
        self.open_slot(&meta)
    }

    fn open_slot(&self, meta: &KeyMeta) -> Result<HeldKey> {
        let bytes = self.store.get(
            &share_name(&meta.key_id, meta.epoch),
            &self.share_label(meta),
        )?;
        self.held_from_json(meta, &bytes)
    }

    /// Whether a share of a stored key is active.
    ///
    /// # Errors
    /// A key id that is not a valid store name.
    pub fn is_active(&self, key_id: &str) -> Result<bool> {
        Ok(self.slots(key_id)?.iter().any(|(_, active)| *active))
    }

    /// The current share of `key_id` (see [`NodeVault::meta`]), opened: its key-share JSON
    /// (secret; zeroized on drop).
    ///
    /// # Errors
    /// No such key; a share that does not open.
    pub fn share_json(&self, key_id: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        let meta = self.meta(key_id)?;
        self.store
            .get(&share_name(key_id, meta.epoch), &self.share_label(&meta))
    }

    /// Stores a share recovered from a backup as an active key: only into a store that does
    /// not hold `key_id` yet, and only a share of this party (`committee` names the
    /// deployment party of each share index).
    ///
    /// # Errors
    /// The key exists here already ([`NodeError::Exists`]), a share of another party,
    /// storage errors.
    pub fn restore(&self, key_id: &str, key: &HeldKey, committee: &[u16]) -> Result<()> {
        if let Some((m, _)) = self.slots(key_id)?.first() {
            return Err(NodeError::Exists {
                path: self.store.path(&meta_name(key_id, m.epoch))?,
            });
        }
        self.store_share(key_id, key, committee)?;
        self.activate_key(key_id, Some(key.epoch()), None).map(drop)
    }

    /// Destroys this party's share of epoch `epoch` of `key_id` and that epoch's
    /// presignature pool (nothing to do if absent).
    ///
    /// # Errors
    /// Storage errors.
    pub fn retire(&self, key_id: &str, epoch: u32) -> Result<()> {
        self.retire_slot(key_id, epoch, false)
    }

    /// [`NodeVault::retire`]; with `pending_only`, an active share is refused.
    fn retire_slot(&self, key_id: &str, epoch: u32, pending_only: bool) -> Result<()> {
        check_id(key_id)?;
        if pending_only && self.store.contains(&active_name(key_id, epoch)) {
            return Err(NodeError::Other(format!(
                "the share of key {key_id} at epoch {epoch} is active here, not pending: kept"
            )));
        }
        // The marker first: a crash halfway leaves an inactive slot, never an active one
        // without its share.
        let marker = active_name(key_id, epoch);
        if self.store.contains(&marker) {
            self.store.remove(&marker)?;
        }
        self.store
            .remove_dir(&crate::pool::pool_dir(key_id, epoch))?;
        self.store.remove_dir(&slot_dir(key_id, epoch))
    }

    /// A held key from its share JSON, checked against its meta, with the presignature pool
    /// of a presigning engine.
    fn held_from_json(&self, meta: &KeyMeta, bytes: &[u8]) -> Result<HeldKey> {
        let key_id = meta.key_id.as_str();
        let path = self.store.dir().join(share_name(key_id, meta.epoch));
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
        if k.public_key != meta.public_key || k.scheme != meta.scheme || k.epoch != meta.epoch {
            return Err(NodeError::Corrupt {
                path,
                reason: "the share's key differs from meta.json".into(),
            });
        }
        Ok(held)
    }

    /// The active shares, opened (what a party serves at start; two epochs of a key while
    /// a resharing switches over).
    ///
    /// # Errors
    /// As [`NodeVault::open_key`].
    pub fn active_keys(&self) -> Result<Vec<StoredKey>> {
        self.keys()?
            .into_iter()
            .filter(|(_, active)| *active)
            .map(|(m, _)| {
                Ok(StoredKey {
                    key: self.open_slot(&m)?,
                    committee: m.committee(),
                    key_id: m.key_id,
                })
            })
            .collect()
    }

    fn store_share(&self, key_id: &str, key: &HeldKey, committee: &[u16]) -> Result<[u8; 32]> {
        check_id(key_id)?;
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
        let whole: Vec<u16> = (0..n).collect();
        let committee = if committee.is_empty() {
            whole.as_slice()
        } else {
            committee
        };
        if committee.len() != usize::from(n) {
            return Err(NodeError::Other(format!(
                "a committee of {} parties for a key of {n}",
                committee.len()
            )));
        }
        let holder = committee.get(usize::from(party)).copied();
        if holder != Some(self.party) {
            return Err(NodeError::Other(format!(
                "share index {party} belongs to party {holder:?}, not to party {}",
                self.party
            )));
        }
        let k = key.key_ref();
        let slot = slot_dir(key_id, k.epoch);
        if self.store.contains(&active_name(key_id, k.epoch)) {
            return Err(NodeError::Exists {
                path: self.store.path(&slot)?,
            });
        }
        // A pending slot of this epoch is what a resharing that did not finish left behind
        // (it never signed): the rerun replaces it.
        self.store.remove_dir(&slot)?;
        let mut meta = KeyMeta {
            key_id: key_id.to_string(),
            scheme: k.scheme,
            public_key: k.public_key,
            t,
            n,
            party: self.party,
            epoch: k.epoch,
            stored_hash: String::new(),
            committee: if committee == whole.as_slice() {
                Vec::new()
            } else {
                committee.to_vec()
            },
        };
        let name = share_name(key_id, k.epoch);
        let path = self.store.put_new(&name, &self.share_label(&meta), &json)?;
        let sealed = std::fs::read(&path).map_err(io("reading", &path))?;
        let hash: [u8; 32] = Sha256::digest(&sealed).into();
        meta.stored_hash = hex::encode(hash);
        let meta_json =
            serde_json::to_vec_pretty(&meta).map_err(|e| NodeError::Other(e.to_string()))?;
        crate::fsutil::write_new(&self.store.path(&meta_name(key_id, k.epoch))?, &meta_json)?;
        Ok(hash)
    }

    /// Marks the share of `epoch` (or the newest one) of `key_id` active; with
    /// `stored_hash`, only if it is the share whose sealed file has that hash.
    fn activate_key(
        &self,
        key_id: &str,
        epoch: Option<u32>,
        stored_hash: Option<&str>,
    ) -> Result<StoredKey> {
        let slots = self.slots(key_id)?;
        let meta = match epoch {
            Some(e) => slots.iter().find(|(m, _)| m.epoch == e),
            None => slots.last(),
        }
        .map(|(m, _)| m.clone())
        .ok_or_else(|| {
            NodeError::Other(format!(
                "no share of key {key_id:?}{} in this store",
                epoch.map(|e| format!(" at epoch {e}")).unwrap_or_default()
            ))
        })?;
        if stored_hash.is_some_and(|h| !h.eq_ignore_ascii_case(&meta.stored_hash)) {
            return Err(NodeError::Other(format!(
                "the stored share of key {key_id} at epoch {} is not the one reported to the \
                 coordinator (another resharing run stored it): not activated",
                meta.epoch
            )));
        }
        let held = self.open_slot(&meta)?;
        let marker = self.store.path(&active_name(key_id, meta.epoch))?;
        match crate::fsutil::write_new(&marker, b"active\n") {
            Ok(()) | Err(NodeError::Exists { .. }) => Ok(StoredKey {
                key: held,
                committee: meta.committee(),
                key_id: key_id.to_string(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// Refuses a key id that is not a valid name (it names directories).
fn check_id(key_id: &str) -> Result<()> {
    mpc_transport::party::check_key_id(key_id).map_err(NodeError::Other)
}

impl KeyVault for NodeVault {
    fn paillier_primes(&self) -> core::result::Result<PaillierPrimes, String> {
        self.primes().map_err(|e| e.to_string())
    }

    fn fresh_paillier_primes(&self, epoch: u32) -> core::result::Result<PaillierPrimes, String> {
        self.fresh_primes(epoch).map_err(|e| e.to_string())
    }

    fn store_pending(
        &self,
        key_id: &str,
        key: &HeldKey,
        committee: &[u16],
    ) -> core::result::Result<[u8; 32], String> {
        self.store_share(key_id, key, committee)
            .map_err(|e| e.to_string())
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

    fn activate(
        &self,
        key_id: &str,
        epoch: Option<u32>,
        stored_hash: Option<&str>,
    ) -> core::result::Result<StoredKey, String> {
        self.activate_key(key_id, epoch, stored_hash)
            .map_err(|e| e.to_string())
    }

    fn retire(
        &self,
        key_id: &str,
        epoch: u32,
        pending_only: bool,
    ) -> core::result::Result<(), String> {
        self.retire_slot(key_id, epoch, pending_only)
            .map_err(|e| e.to_string())
    }
}

/// Generates one party's primes for the new shares of epoch `epoch` of a key, printing
/// progress (a person waits for this).
fn generate_fresh_with_progress(party: u16, epoch: u32) -> PaillierPrimes {
    let start = std::time::Instant::now();
    eprintln!(
        "party {party}: generating fresh Paillier safe primes ({} bits, two of them) for the \
         new shares of epoch {epoch}; this takes a minute or more",
        PaillierPrimes::PRIME_BITS
    );
    PaillierPrimes::generate(&mut rand_core::OsRng, |k| {
        eprintln!(
            "party {party}: safe prime {k} of 2 found after {:.1?}",
            start.elapsed()
        );
    })
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
