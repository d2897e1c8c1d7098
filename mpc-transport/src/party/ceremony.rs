//! Key ceremonies on the party side: key generation over the mesh for every engine, the
//! new share stored as *pending* by the party's [`KeyVault`], and activation once the
//! coordinator has seen every party report the same key.
//!
//! A party never holds more than its own share: each party process runs its side of the
//! distributed key generation; nothing else leaves it but the public results (group key,
//! public shares, a hash of what it stored). A pending key does not sign.

use std::collections::BTreeMap;
use std::sync::Arc;

use mpc_core::{
    Cggmp21, FrostEd25519, FrostTaproot, Gg20, PaillierPrimes, PartyIndex, PublicKey, SchemeId,
    SessionId, ThresholdScheme,
};

use super::{bad, blocking, failure, HeldKey, Party};
use crate::control::{Failure, FailureKind, KeyRef, Response};

/// Where a party keeps the shares its ceremonies make (in `mpc-node`: the sealed store).
pub trait KeyVault: Send + Sync + 'static {
    /// This party's Paillier primes for a new CGGMP21 or GG20 key: made here (slow: safe
    /// primes, with progress shown to the operator) or taken from the vault's cache.
    ///
    /// # Errors
    /// The reason, as text.
    fn paillier_primes(&self) -> Result<PaillierPrimes, String>;

    /// New Paillier primes for the new shares of a resharing to epoch `epoch` (a refresh
    /// gives every party fresh Paillier keys): made now, with progress shown, never the
    /// primes of an earlier key or epoch.
    ///
    /// # Errors
    /// The reason, as text.
    fn fresh_paillier_primes(&self, epoch: u32) -> Result<PaillierPrimes, String>;

    /// Stores a new share durably as pending under `key_id` at the share's epoch, with the
    /// key's committee (the deployment party of each share index), and returns a hash of
    /// what it stored. An active share is never overwritten; a pending one of the same key
    /// id and epoch (from a resharing that did not finish) is replaced.
    ///
    /// # Errors
    /// The reason, as text.
    fn store_pending(
        &self,
        key_id: &str,
        key: &HeldKey,
        committee: &[PartyIndex],
    ) -> Result<[u8; 32], String>;

    /// The bytes of file `file` in this party's import directory (an existing key to
    /// import; secret).
    ///
    /// # Errors
    /// No import directory, no such file, or a name that is not a plain file name.
    fn read_import(&self, file: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, String>;

    /// Marks the pending share of `key_id` (of `epoch`, or its only pending one) active
    /// (durably) and returns it, with its presignature pool for a presigning engine.
    /// Activating an active share returns it again. With `stored_hash` (hex, as
    /// [`KeyVault::store_pending`] returned it), a share whose hash differs is refused.
    ///
    /// # Errors
    /// No such key, another stored share than `stored_hash` names, or storage errors.
    fn activate(
        &self,
        key_id: &str,
        epoch: Option<u32>,
        stored_hash: Option<&str>,
    ) -> Result<StoredKey, String>;

    /// Destroys this party's share of epoch `epoch` of `key_id` and its presignature pool
    /// (nothing to do when there is none); with `pending_only`, refuses if that share is
    /// active.
    ///
    /// # Errors
    /// An active share with `pending_only`; storage errors.
    fn retire(&self, key_id: &str, epoch: u32, pending_only: bool) -> Result<(), String>;
}

/// A share the vault holds, with its key id and committee.
#[derive(Debug)]
pub struct StoredKey {
    /// Key id.
    pub key_id: String,
    /// The share (and its pool).
    pub key: HeldKey,
    /// The deployment party of each share index.
    pub committee: Vec<PartyIndex>,
}

/// A share a party serves.
#[derive(Clone)]
pub(super) struct ActiveKey {
    /// Its key id, when it came from the vault.
    pub id: Option<String>,
    /// The share.
    pub held: Arc<HeldKey>,
    /// The deployment party of each share index.
    pub committee: Arc<[PartyIndex]>,
}

impl From<StoredKey> for ActiveKey {
    fn from(k: StoredKey) -> Self {
        ActiveKey {
            id: Some(k.key_id),
            held: Arc::new(k.key),
            committee: k.committee.into(),
        }
    }
}

impl ActiveKey {
    /// The share indices of deployment parties `parties` (each must be in the committee).
    pub fn share_indices(&self, parties: &[PartyIndex]) -> Result<Vec<PartyIndex>, Failure> {
        parties
            .iter()
            .map(|p| {
                crate::committee::share_index(&self.committee, *p).ok_or_else(|| {
                    bad(format!(
                        "party {p} holds no share of this key (its committee is {:?})",
                        self.committee
                    ))
                })
            })
            .collect()
    }
}

/// The keys a party serves, and those it stored but may not use yet.
pub(super) struct Keys {
    /// Active shares (two epochs of one key while a resharing switches over).
    pub active: Vec<ActiveKey>,
    /// Pending keys by key id.
    pub pending: BTreeMap<String, KeyRef>,
}

/// Checks a key id: 1 to 64 characters of `[A-Za-z0-9_-]` (it names files).
///
/// # Errors
/// The reason.
pub fn check_key_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "key id {id:?} must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_'"
        ))
    }
}

impl HeldKey {
    /// Signers the key needs.
    pub fn threshold(&self) -> u16 {
        match self {
            HeldKey::Cggmp21 { share, .. } => share.threshold(),
            HeldKey::Gg20 { share, .. } => share.threshold(),
            HeldKey::FrostEd25519(s) => s.threshold(),
            HeldKey::FrostTaproot(s) => s.threshold(),
        }
    }

    /// The epoch of this party's share.
    pub fn epoch(&self) -> u32 {
        match self {
            HeldKey::Cggmp21 { share, .. } => share.epoch(),
            HeldKey::Gg20 { share, .. } => share.epoch(),
            HeldKey::FrostEd25519(s) => s.epoch(),
            HeldKey::FrostTaproot(s) => s.epoch(),
        }
    }

    /// The key's BIP-32 chain code (public), if it has one.
    pub fn chain_code(&self) -> Option<[u8; 32]> {
        match self {
            HeldKey::Cggmp21 { share, .. } => mpc_core::Cggmp21::chain_code(share),
            HeldKey::Gg20 { .. } => None,
            HeldKey::FrostEd25519(s) => mpc_core::FrostEd25519::chain_code(s),
            HeldKey::FrostTaproot(s) => mpc_core::FrostTaproot::chain_code(s),
        }
    }

    /// Every party's public share of this key, by party index.
    ///
    /// # Errors
    /// A point that does not encode.
    pub fn public_shares(&self) -> mpc_core::Result<Vec<PublicKey>> {
        match self {
            HeldKey::Cggmp21 { share, .. } => share.public_shares(),
            HeldKey::Gg20 { share, .. } => share.public_shares(),
            HeldKey::FrostEd25519(s) => s.public_shares(),
            HeldKey::FrostTaproot(s) => s.public_shares(),
        }
    }
}

fn internal(e: impl ToString) -> Failure {
    failure(FailureKind::Internal, Vec::new(), e)
}

impl Party {
    pub(super) fn vault(&self) -> Result<Arc<dyn KeyVault>, Failure> {
        self.vault
            .clone()
            .ok_or_else(|| bad("this party runs no key ceremonies (no key vault)"))
    }

    /// Refuses a key id this party has (pending or active) and a deployment size that is
    /// not this mesh's.
    fn check_new(&self, key_id: &str, n: u16) -> Result<(), Failure> {
        check_key_id(key_id).map_err(bad)?;
        if n != self.node.parties() {
            return Err(bad(format!(
                "the deployment has {} parties, the ceremony asks for {n}",
                self.node.parties()
            )));
        }
        let keys = self.keys.read().map_err(internal)?;
        let active = keys.active.iter().any(|k| k.id.as_deref() == Some(key_id));
        if keys.pending.contains_key(key_id) || active {
            return Err(bad(format!(
                "key id {key_id} exists here; a new key needs a new id"
            )));
        }
        Ok(())
    }

    async fn primes(vault: &Arc<dyn KeyVault>) -> Result<PaillierPrimes, Failure> {
        let v = vault.clone();
        blocking(move || v.paillier_primes().map_err(internal)).await
    }

    /// Joins key generation session `session` for a new `t`-of-`n` key of `scheme` named
    /// `key_id`, stores the share as pending and reports the public results.
    pub(super) async fn keygen(
        &self,
        session: SessionId,
        scheme: SchemeId,
        key_id: &str,
        t: u16,
        n: u16,
        round_timeout_ms: u64,
    ) -> Result<Response, Failure> {
        let vault = self.vault()?;
        self.check_new(key_id, n)?;
        let opts = self.ceremony_drive_options(round_timeout_ms);
        let parties: Vec<PartyIndex> = (0..n).collect();
        let held = match scheme {
            SchemeId::Cggmp21Secp256k1 => {
                let primes = Self::primes(&vault).await?;
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        Cggmp21::keygen(&ctx, t, primes.into())
                    })
                    .await?;
                HeldKey::Cggmp21 { share, pool: None }
            }
            SchemeId::Gg20Secp256k1 => {
                let primes = Self::primes(&vault).await?;
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        Gg20::keygen(&ctx, t, primes.into())
                    })
                    .await?;
                HeldKey::Gg20 { share, pool: None }
            }
            SchemeId::FrostEd25519 => {
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        FrostEd25519::keygen(&ctx, t, ())
                    })
                    .await?;
                HeldKey::FrostEd25519(share)
            }
            SchemeId::FrostSecp256k1Tr => {
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        FrostTaproot::keygen(&ctx, t, ())
                    })
                    .await?;
                HeldKey::FrostTaproot(share)
            }
            other => return Err(bad(format!("no key generation for {other}"))),
        };
        let committee = crate::committee::whole_deployment(n);
        self.store_new(&vault, key_id, held, committee).await
    }

    /// Imports an existing tss-lib key (see [`crate::control::Request::Import`]).
    pub(super) async fn import(
        &self,
        session: SessionId,
        scheme: SchemeId,
        key_id: &str,
        file: &str,
        n: u16,
        round_timeout_ms: u64,
    ) -> Result<Response, Failure> {
        let vault = self.vault()?;
        self.check_new(key_id, n)?;
        let bytes = {
            let (v, f) = (vault.clone(), file.to_string());
            blocking(move || v.read_import(&f).map_err(bad)).await?
        };
        let tss = mpc_core::import::TssLibKey::from_json(&bytes).map_err(bad)?;
        drop(bytes);
        if tss.index() != self.me() || tss.parties() != n {
            return Err(bad(format!(
                "{file} holds the share of party {} of a {}-party key; this is party {} of {n}",
                tss.index(),
                tss.parties(),
                self.me()
            )));
        }
        let opts = self.ceremony_drive_options(round_timeout_ms);
        let parties: Vec<PartyIndex> = (0..n).collect();
        let held = match scheme {
            SchemeId::Gg20Secp256k1 => {
                let share = tss.to_gg20().map_err(bad)?;
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        Gg20::certify(&ctx, &share)
                    })
                    .await?;
                HeldKey::Gg20 { share, pool: None }
            }
            SchemeId::Cggmp21Secp256k1 => {
                let share = tss.to_cggmp21().map_err(bad)?;
                let primes = Self::primes(&vault).await?;
                let (share, _) = self
                    .run_deployment(scheme, session, parties, opts, move |ctx| {
                        Cggmp21::aux_info(&ctx, &share, primes)
                    })
                    .await?;
                HeldKey::Cggmp21 { share, pool: None }
            }
            SchemeId::FrostEd25519 => HeldKey::FrostEd25519(tss.to_frost_ed25519().map_err(bad)?),
            other => {
                return Err(bad(format!(
                    "tss-lib keys import into gg20, cggmp21 or frost-ed25519, not {other}"
                )))
            }
        };
        let committee = crate::committee::whole_deployment(n);
        self.store_new(&vault, key_id, held, committee).await
    }

    /// Stores a new share as pending and reports the public results.
    pub(super) async fn store_new(
        &self,
        vault: &Arc<dyn KeyVault>,
        key_id: &str,
        held: HeldKey,
        committee: Vec<PartyIndex>,
    ) -> Result<Response, Failure> {
        self.store_new_for(vault, key_id, held, committee, None)
            .await
    }

    /// [`Party::store_new`]; with `resharing`, only while that session is still the newest
    /// resharing of `key_id` this party joined (checked and stored under one lock).
    pub(super) async fn store_new_for(
        &self,
        vault: &Arc<dyn KeyVault>,
        key_id: &str,
        held: HeldKey,
        committee: Vec<PartyIndex>,
        resharing: Option<SessionId>,
    ) -> Result<Response, Failure> {
        let key = held.key_ref();
        let threshold = held.threshold();
        let public_shares = held.public_shares().map_err(internal)?;
        let chain_code = held.chain_code();
        let held = Arc::new(held);
        let stored_hash = {
            let (v, id, h, c) = (
                vault.clone(),
                key_id.to_string(),
                held.clone(),
                committee.clone(),
            );
            let newest = self.resharing.clone();
            blocking(move || {
                let newest = newest.lock().map_err(internal)?;
                if let Some(session) = resharing {
                    if newest.get(&id) != Some(&session) {
                        return Err(bad(
                            "a newer resharing of this key started here: this run's share is \
                             not stored",
                        ));
                    }
                }
                v.store_pending(&id, &h, &c).map_err(internal)
            })
            .await?
        };
        drop(held);
        self.keys
            .write()
            .map_err(internal)?
            .pending
            .insert(key_id.to_string(), key.clone());
        tracing::info!(party = self.me(), key_id, scheme = %key.scheme, "key stored, pending activation");
        Ok(Response::KeyStored {
            key_id: key_id.to_string(),
            key,
            threshold,
            public_shares,
            stored_hash,
            chain_code,
            committee,
        })
    }

    /// Makes sure this party's Paillier primes are ready.
    pub(super) async fn prepare_primes(&self) -> Result<Response, Failure> {
        let vault = self.vault()?;
        Self::primes(&vault).await?;
        Ok(Response::Prepared)
    }

    /// Activates a pending key (idempotent); the key's other epochs stay served until
    /// they are retired.
    pub(super) async fn activate(
        &self,
        key_id: &str,
        epoch: Option<u32>,
        stored_hash: Option<String>,
    ) -> Result<Response, Failure> {
        let vault = self.vault()?;
        check_key_id(key_id).map_err(bad)?;
        let pending_epoch = self
            .keys
            .read()
            .map_err(internal)?
            .pending
            .get(key_id)
            .map(|k| k.epoch);
        if let Some(k) = self.keys.read().map_err(internal)?.active.iter().find(|k| {
            k.id.as_deref() == Some(key_id)
                && epoch.or(pending_epoch).is_none_or(|e| e == k.held.epoch())
        }) {
            return Ok(Response::Activated {
                key_id: key_id.to_string(),
                key: k.held.key_ref(),
            });
        }
        let stored = blocking({
            let (v, id) = (vault, key_id.to_string());
            move || v.activate(&id, epoch, stored_hash.as_deref()).map_err(bad)
        })
        .await?;
        let key = stored.key.key_ref();
        let mut keys = self.keys.write().map_err(internal)?;
        if keys.pending.get(key_id).is_some_and(|k| *k == key) {
            keys.pending.remove(key_id);
        }
        keys.active
            .retain(|k| !(k.id.as_deref() == Some(key_id) && k.held.epoch() == key.epoch));
        keys.active.push(ActiveKey::from(stored));
        tracing::info!(party = self.me(), key_id, epoch = key.epoch, "key active");
        Ok(Response::Activated {
            key_id: key_id.to_string(),
            key,
        })
    }

    /// Destroys this party's share of an old epoch (idempotent).
    pub(super) async fn retire(
        &self,
        key_id: &str,
        epoch: u32,
        pending_only: bool,
    ) -> Result<Response, Failure> {
        let vault = self.vault()?;
        check_key_id(key_id).map_err(bad)?;
        {
            let keys = self.keys.read().map_err(internal)?;
            let newest = keys
                .active
                .iter()
                .filter(|k| k.id.as_deref() == Some(key_id))
                .map(|k| k.held.epoch())
                .max();
            let pending = keys.pending.get(key_id).map(|k| k.epoch);
            if newest == Some(epoch) && pending.is_some_and(|p| p > epoch) {
                return Err(bad(format!(
                    "epoch {epoch} of {key_id} is this party's newest active share and epoch \
                     {} is not active here yet: activate it first",
                    pending.unwrap_or_default()
                )));
            }
        }
        blocking({
            let (v, id) = (vault, key_id.to_string());
            move || v.retire(&id, epoch, pending_only).map_err(bad)
        })
        .await?;
        let mut keys = self.keys.write().map_err(internal)?;
        keys.active
            .retain(|k| !(k.id.as_deref() == Some(key_id) && k.held.epoch() == epoch));
        if keys.pending.get(key_id).is_some_and(|k| k.epoch == epoch) {
            keys.pending.remove(key_id);
        }
        drop(keys);
        tracing::info!(party = self.me(), key_id, epoch, "old epoch retired");
        Ok(Response::Retired {
            key_id: key_id.to_string(),
            epoch,
        })
    }
}
