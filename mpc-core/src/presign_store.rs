//! Single use of presignatures, enforced at run time.
//!
//! A presignature is consumed by value, so one value cannot be used twice. But a copy can
//! come back (restored from storage, received twice). [`PresignatureStore`] remembers every
//! id it has handed out and refuses to take it back or hand it out again.

use std::collections::{HashMap, HashSet};

use crate::engines::cggmp21::{Cggmp21, Cggmp21Partial, Cggmp21Presignature};
use crate::error::{Error, Result};
use crate::hexser::to_hex;
use crate::scheme::Presigning;
use crate::sig::SignRequest;

/// Presignatures of one party, each usable once.
#[derive(Default)]
pub struct PresignatureStore {
    ready: HashMap<[u8; 32], Cggmp21Presignature>,
    consumed: HashSet<[u8; 32]>,
}

impl core::fmt::Debug for PresignatureStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PresignatureStore")
            .field("ready", &self.ready.len())
            .field("consumed", &self.consumed.len())
            .finish()
    }
}

impl PresignatureStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a presignature.
    ///
    /// # Errors
    /// [`Error::PresignatureUsed`] if its id was used (or is already stored).
    pub fn insert(&mut self, p: Cggmp21Presignature) -> Result<[u8; 32]> {
        let id = p.id();
        if self.consumed.contains(&id) || self.ready.contains_key(&id) {
            return Err(Error::PresignatureUsed(to_hex(&id)));
        }
        self.ready.insert(id, p);
        Ok(id)
    }

    /// Ids of the unused presignatures.
    pub fn ids(&self) -> Vec<[u8; 32]> {
        self.ready.keys().copied().collect()
    }

    /// Number of unused presignatures.
    pub fn len(&self) -> usize {
        self.ready.len()
    }

    /// Whether no unused presignature is left.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }

    /// Checks `request` fits presignature `id`, marks it consumed, then issues its partial
    /// signature. Once marked, the id is never offered again.
    ///
    /// # Errors
    /// [`Error::PresignatureUsed`] for an id already used or unknown, or the engine's error.
    pub fn partial_sign(&mut self, id: &[u8; 32], request: &SignRequest) -> Result<Cggmp21Partial> {
        // Requests that cannot be signed (wrong kind, wrong path) are refused before the
        // presignature is touched, so they cannot burn it.
        self.ready
            .get(id)
            .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))?
            .check_request(request)?;
        let p = self
            .ready
            .remove(id)
            .ok_or_else(|| Error::PresignatureUsed(to_hex(id)))?;
        self.consumed.insert(*id);
        Cggmp21::partial_sign(p, request)
    }
}
