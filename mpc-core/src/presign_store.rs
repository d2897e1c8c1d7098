//! Single use of presignatures: the store trait every presigning engine's pool implements,
//! and an in-memory store.
//!
//! A presignature is consumed by value, so one value cannot be used twice. But a copy can
//! come back (restored from storage, received twice), and two partial signatures made with
//! one presignature reveal the key share. A [`PresignatureStore`] remembers every id it has
//! handed out and refuses to take it back or hand it out again.
//!
//! This crate does no file I/O: [`MemoryPresignatures`] keeps everything in memory (one
//! process, lost on exit). A durable store (one that survives a restart and marks an id
//! consumed on disk before the partial signature exists) lives in `mpc-node`; both
//! implement the same trait, for every engine with [`Presigning`].
//!
//! ```
//! use mpc_core::presign_store::{MemoryPresignatures, PresignatureStore};
//! use mpc_core::Cggmp21;
//!
//! let store = MemoryPresignatures::<Cggmp21>::new();
//! assert!(store.entries().is_empty());
//! assert!(!store.is_consumed(&[7; 32]));
//! ```

use std::collections::{BTreeMap, HashSet};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::hexser::to_hex;
use crate::ids::PartyIndex;
use crate::scheme::Presigning;
use crate::seen::SeenRequest;
use crate::sig::{PublicKey, SignRequest};

/// What a store needs of a presignature: its public description, a check that a request
/// fits it (without using it), and a byte form for durable stores.
pub trait StoredPresignature: Sized + Send + 'static {
    /// Identifier, the same at every signer of one presigning run.
    fn id(&self) -> [u8; 32];
    /// The signers of the presigning run (key-generation indices).
    fn signers(&self) -> Vec<PartyIndex>;
    /// The derivation path fixed at presigning.
    fn path(&self) -> Option<Vec<u32>>;
    /// The key the combined signature verifies under (derived, if it has a path).
    fn signing_key(&self) -> PublicKey;
    /// The epoch of the key share it was made with (a refresh or resharing makes the next
    /// epoch): a store of one epoch holds only presignatures of that epoch.
    fn epoch(&self) -> u32;
    /// Checks that `request` can be signed with this presignature, without using it.
    ///
    /// # Errors
    /// [`Error::RequestMismatch`], [`Error::PresignatureMismatch`].
    fn check_request(&self, request: &SignRequest) -> Result<()>;
    /// The secret byte form (a durable store seals it before it touches a disk).
    ///
    /// # Errors
    /// [`Error::Invalid`] if it cannot be encoded.
    fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>>;
    /// Reads what [`StoredPresignature::to_bytes`] wrote; the id is recomputed.
    ///
    /// # Errors
    /// [`Error::Invalid`], [`Error::UnsupportedVersion`].
    fn from_bytes(bytes: &[u8]) -> Result<Self>;

    /// The public description.
    fn entry(&self) -> PoolEntry {
        PoolEntry {
            id: self.id(),
            signers: self.signers(),
            path: self.path(),
            signing_key: self.signing_key(),
            epoch: self.epoch(),
        }
    }
}

/// What a store tells about a ready presignature (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolEntry {
    /// Presignature id, the same at every signer.
    pub id: [u8; 32],
    /// Signers of the presigning run.
    pub signers: Vec<PartyIndex>,
    /// Derivation path fixed at presigning.
    pub path: Option<Vec<u32>>,
    /// The key it signs for.
    pub signing_key: PublicKey,
    /// The epoch of the key share it was made with.
    pub epoch: u32,
}

/// Presignatures of one party and one engine, each usable once.
///
/// A party server holds any store behind the trait (in memory here, durable in
/// `mpc-node`):
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use mpc_core::{Cggmp21, Gg20, MemoryPresignatures, MessageHash, PresignatureStore, PublicKey, SeenRequest};
///
/// let ecdsa: Arc<Mutex<dyn PresignatureStore<Cggmp21>>> =
///     Arc::new(Mutex::new(MemoryPresignatures::<Cggmp21>::new()));
/// let gg20: Box<dyn PresignatureStore<Gg20>> = Box::new(MemoryPresignatures::<Gg20>::new());
/// assert!(ecdsa.lock().unwrap().is_empty() && gg20.is_empty());
/// // An id the store never had is refused; nothing is issued.
/// let key = PublicKey::secp256k1(&[2; 33]).unwrap_or(PublicKey::Ed25519([0; 32]));
/// let request = SeenRequest::hash_message(MessageHash::Sha256, b"hello");
/// assert!(ecdsa.lock().unwrap().partial_sign(&[1; 32], &key, &request).is_err());
/// ```
pub trait PresignatureStore<S: Presigning>: Send {
    /// Adds a presignature.
    ///
    /// # Errors
    /// [`Error::PresignatureMismatch`] for a presignature of another epoch than the store's
    /// ([`check_epoch`]); [`Error::PresignatureUsed`] if its id was used or is already stored;
    /// [`Error::Storage`] for a durable store that cannot write it.
    fn insert(&mut self, presignature: S::Presignature) -> Result<[u8; 32]>;

    /// The ready presignatures.
    fn entries(&self) -> Vec<PoolEntry>;

    /// Whether `id` was consumed.
    fn is_consumed(&self, id: &[u8; 32]) -> bool;

    /// Issues the partial signature of presignature `id` for `request`, which must verify
    /// under `signing_key`. Checks the key and request fit first (a request that does not
    /// fit leaves the presignature ready), marks the id consumed (durably, for a durable
    /// store), and only then computes the partial signature.
    ///
    /// # Errors
    /// [`Error::PresignatureUsed`] for an id consumed or unknown;
    /// [`Error::PresignatureMismatch`] or the engine's error for a key or request that does
    /// not fit; [`Error::Storage`] if the consumption cannot be recorded (nothing issued).
    fn partial_sign(
        &mut self,
        id: &[u8; 32],
        signing_key: &PublicKey,
        request: &SeenRequest,
    ) -> Result<S::PartialSignature>;

    /// Number of ready presignatures.
    fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether none is ready.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Checks that presignature `p` may sign `request` under `signing_key`: a request the
/// party derived itself ([`SeenRequest::for_presignature`]), for the presignature's key.
///
/// # Errors
/// [`Error::UnseenDigest`], [`Error::PresignatureMismatch`] and the presignature's own
/// check.
pub fn check_fit<P: StoredPresignature>(
    p: &P,
    signing_key: &PublicKey,
    request: &SeenRequest,
) -> Result<()> {
    let request = request.for_presignature()?;
    if p.signing_key() != *signing_key {
        return Err(Error::PresignatureMismatch(
            "the presignature was made for another key",
        ));
    }
    p.check_request(request)
}

/// The common core of every store's [`PresignatureStore::partial_sign`]: checks that `id` is
/// ready and fits `request` under `signing_key` (a request that does not fit leaves it
/// ready), then runs `consume` (which records the id as consumed: durably, for a durable
/// store) and only if that succeeds takes the presignature out of `ready`.
///
/// # Errors
/// [`Error::PresignatureUsed`] for an id not ready; the fit check's error; `consume`'s.
pub fn take_to_sign<P: StoredPresignature>(
    ready: &mut BTreeMap<[u8; 32], P>,
    id: &[u8; 32],
    signing_key: &PublicKey,
    request: &SeenRequest,
    consume: impl FnOnce() -> Result<()>,
) -> Result<P> {
    let p = ready
        .get(id)
        .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))?;
    check_fit(p, signing_key, request)?;
    consume()?;
    ready
        .remove(id)
        .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))
}

/// Checks that presignature `p` belongs in a store of epoch `epoch`: after a refresh or a
/// resharing, presignatures of earlier shares never sign again.
///
/// # Errors
/// [`Error::PresignatureMismatch`] for another epoch.
pub fn check_epoch<P: StoredPresignature>(p: &P, epoch: u32) -> Result<()> {
    if p.epoch() != epoch {
        return Err(Error::PresignatureMismatch(
            "the presignature was made with a share of another epoch of the key",
        ));
    }
    Ok(())
}

/// An in-memory [`PresignatureStore`] of one epoch of a key: single use within one process.
pub struct MemoryPresignatures<S: Presigning> {
    epoch: u32,
    ready: BTreeMap<[u8; 32], S::Presignature>,
    consumed: HashSet<[u8; 32]>,
}

impl<S: Presigning> Default for MemoryPresignatures<S> {
    fn default() -> Self {
        Self::for_epoch(0)
    }
}

impl<S: Presigning> core::fmt::Debug for MemoryPresignatures<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MemoryPresignatures")
            .field("ready", &self.ready.len())
            .field("consumed", &self.consumed.len())
            .finish()
    }
}

impl<S: Presigning> MemoryPresignatures<S> {
    /// An empty store for a key's first epoch (as key generation or an import makes it).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store for epoch `epoch` of a key (a refreshed or reshared share's
    /// [`crate::KeyShare::epoch`]).
    pub fn for_epoch(epoch: u32) -> Self {
        MemoryPresignatures {
            epoch,
            ready: BTreeMap::new(),
            consumed: HashSet::new(),
        }
    }
}

impl<S: Presigning> PresignatureStore<S> for MemoryPresignatures<S>
where
    S::Presignature: StoredPresignature,
{
    fn insert(&mut self, p: S::Presignature) -> Result<[u8; 32]> {
        check_epoch(&p, self.epoch)?;
        let id = p.id();
        if self.consumed.contains(&id) || self.ready.contains_key(&id) {
            return Err(Error::PresignatureUsed(to_hex(&id)));
        }
        self.ready.insert(id, p);
        Ok(id)
    }

    fn entries(&self) -> Vec<PoolEntry> {
        self.ready.values().map(StoredPresignature::entry).collect()
    }

    fn is_consumed(&self, id: &[u8; 32]) -> bool {
        self.consumed.contains(id)
    }

    fn partial_sign(
        &mut self,
        id: &[u8; 32],
        signing_key: &PublicKey,
        request: &SeenRequest,
    ) -> Result<S::PartialSignature> {
        let consumed = &mut self.consumed;
        let p = take_to_sign(&mut self.ready, id, signing_key, request, || {
            consumed.insert(*id);
            Ok(())
        })?;
        S::partial_sign(p, request)
    }

    fn len(&self) -> usize {
        self.ready.len()
    }
}
