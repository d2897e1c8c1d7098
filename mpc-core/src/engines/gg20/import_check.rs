//! Consistency of a secp256k1 threshold key: the secret share matches its public share and
//! the public shares lie on one polynomial of degree t − 1 whose value at 0 is the group key
//! (checked with the key-share validation the CGGMP21 engine uses).

use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::key_share::{
    DirtyIncompleteKeyShare, DirtyKeyInfo, IncompleteKeyShare, Validate, VssSetup,
};
use cggmp21::supported_curves::Secp256k1;

/// Builds and validates a core share with the Shamir x-coordinates `ids`.
pub(crate) fn core_share(
    i: u16,
    t: u16,
    x: NonZero<SecretScalar<Secp256k1>>,
    ids: &[Scalar<Secp256k1>],
    shares: &[NonZero<Point<Secp256k1>>],
    pk: NonZero<Point<Secp256k1>>,
) -> Result<IncompleteKeyShare<Secp256k1>, String> {
    let ids = ids
        .iter()
        .map(|s| NonZero::from_scalar(*s).ok_or_else(|| "a share id is zero".to_owned()))
        .collect::<Result<Vec<_>, _>>()?;
    let dirty = DirtyIncompleteKeyShare {
        i,
        key_info: DirtyKeyInfo {
            curve: Default::default(),
            shared_public_key: pk,
            public_shares: shares.to_vec(),
            vss_setup: Some(VssSetup {
                min_signers: t,
                I: ids,
            }),
            chain_code: None,
        },
        x,
    };
    dirty.validate().map_err(|e| e.error().to_string())
}

/// The smallest t (2 ≤ t ≤ n) for which the public shares are consistent with the group
/// key: the number of signers the key needs (tss-lib's threshold + 1).
pub(crate) fn infer_threshold(
    i: u16,
    x: &NonZero<SecretScalar<Secp256k1>>,
    ids: &[Scalar<Secp256k1>],
    shares: &[NonZero<Point<Secp256k1>>],
    pk: NonZero<Point<Secp256k1>>,
) -> Result<u16, String> {
    let n = u16::try_from(shares.len()).map_err(|_| "too many parties".to_owned())?;
    let mut last = String::from("fewer than 2 parties");
    for t in 2..=n {
        match core_share(i, t, x.clone(), ids, shares, pk) {
            Ok(_) => return Ok(t),
            Err(e) => last = e,
        }
    }
    Err(format!(
        "public shares do not fit the group key for any threshold ({last})"
    ))
}
