//! CGGMP21's precomputation: multi-exponentiation tables for every party's ring-Pedersen
//! parameters (s^x·t^y mod N_j, which the range proofs made for party j compute) and CRT
//! parameters for the party's own modulus N (exponentiations modulo N through p and q,
//! which checking the proofs made against this party's parameters needs). Both make
//! presigning and full signing faster; [`Cggmp21::precompute`] builds both,
//! [`Cggmp21::precompute_crt`] only the CRT parameters.
//!
//! Nothing precomputed is ever read from a file: a share is written without its tables
//! and CRT parameters, and any found when a share is read are dropped before the share is
//! checked. A table that did not match its s, t, N would make this party's proofs fail, and
//! cggmp21 does not check a table it is given; built here from the checked share, it
//! matches by construction, and the CRT parameters are built only from primes whose
//! product is the share's own N. The cost is memory and the time to build them (the
//! benches measure both against the plain share), not share size on disk.

use cggmp21::key_share::{DirtyAuxInfo, DirtyKeyShare, Validate};
use cggmp21::supported_curves::Secp256k1;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Cggmp21, Cggmp21Data, Cggmp21Share};
use crate::error::Result;
use crate::share::{invalid, KeyShare};

type Share = cggmp21::KeyShare<Secp256k1>;

fn has_precomputation(aux: &DirtyAuxInfo) -> bool {
    aux.parties
        .iter()
        .any(|p| p.multiexp.is_some() || p.crt.is_some())
}

fn strip(aux: &mut DirtyAuxInfo) {
    for p in &mut aux.parties {
        p.multiexp = None;
        p.crt = None;
    }
}

/// Writes the share without its precomputation.
pub(super) fn serialize<S: Serializer>(
    share: &Share,
    s: S,
) -> core::result::Result<S::Ok, S::Error> {
    if !has_precomputation(&share.aux) {
        return share.serialize(s);
    }
    let mut plain = share.clone().into_inner();
    strip(&mut plain.aux);
    plain.serialize(s)
}

/// Reads a share, dropping any precomputation in it, then checks it.
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    d: D,
) -> core::result::Result<Share, D::Error> {
    let mut dirty = DirtyKeyShare::<Secp256k1>::deserialize(d)?;
    strip(&mut dirty.aux);
    dirty
        .validate()
        .map_err(|e| serde::de::Error::custom(e.into_error()))
}

/// `share` with its CRT parameters, and with `tables` the multi-exponentiation tables.
fn rebuild(share: &Cggmp21Share, tables: bool) -> Result<Cggmp21Share> {
    let Cggmp21Data::Complete { share: inner } = &**share.data() else {
        return Ok(share.clone());
    };
    let mut dirty = inner.clone().into_inner();
    let bad = |what: &str, e: &dyn core::fmt::Display| invalid(format!("cggmp21 {what}: {e}"));
    if tables {
        dirty
            .aux
            .precompute_multiexp_tables()
            .map_err(|e| bad("multi-exponentiation tables", &e))?;
    }
    dirty
        .precompute_crt()
        .map_err(|e| bad("CRT parameters", &e))?;
    let valid = dirty
        .validate()
        .map_err(|e| bad("precomputed share", &e.into_error()))?;
    KeyShare::new(
        share.header().clone(),
        Cggmp21Data::Complete { share: valid },
    )
}

impl Cggmp21 {
    /// The share with cggmp21's precomputation built: multi-exponentiation tables for every
    /// party's ring-Pedersen parameters and CRT parameters for this party's Paillier key
    /// (see the module docs; the tables take memory and some time to build, and are never
    /// written with the share). A share without auxiliary info is returned unchanged.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] if a table or the CRT parameters cannot be built.
    pub fn precompute(share: &Cggmp21Share) -> Result<Cggmp21Share> {
        rebuild(share, true)
    }

    /// The share with only the CRT parameters of this party's Paillier key built (no
    /// tables): milliseconds to build and a few kilobytes, against the tables' seconds and
    /// megabytes (see [`Cggmp21::precompute`]; the benches measure what each gains).
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] if the CRT parameters cannot be built.
    pub fn precompute_crt(share: &Cggmp21Share) -> Result<Cggmp21Share> {
        rebuild(share, false)
    }

    /// Whether [`Cggmp21::precompute`] or [`Cggmp21::precompute_crt`] has been applied to
    /// `share`.
    pub fn is_precomputed(share: &Cggmp21Share) -> bool {
        match &**share.data() {
            Cggmp21Data::Complete { share } => has_precomputation(&share.aux),
            Cggmp21Data::Incomplete { .. } => false,
        }
    }
}
