//! BIP-341 Taproot output-key tweak, computed with `k256` (independently of the FROST engine,
//! which applies the same tweak inside the signing protocol).

use k256::elliptic_curve::{point::AffineCoordinates, sec1::ToEncodedPoint, PrimeField};
use k256::{ProjectivePoint, Scalar};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// BIP-340 tagged hash: `SHA256(SHA256(tag) || SHA256(tag) || parts...)`.
pub fn tagged_hash(tag: &str, parts: &[&[u8]]) -> [u8; 32] {
    let tag_hash = Sha256::digest(tag.as_bytes());
    let mut h = Sha256::new();
    h.update(tag_hash);
    h.update(tag_hash);
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn invalid(reason: &str) -> Error {
    Error::Invalid {
        what: "taproot key",
        reason: reason.to_owned(),
    }
}

/// The tweaked output key for an x-only internal key: returns (x-only output key, parity of
/// its y coordinate). `merkle_root = None` means a key with no script tree (BIP-341's
/// `H_TapTweak(P)`).
///
/// # Errors
/// [`Error::Invalid`] if the internal key is not a valid x coordinate or the tweak is out of
/// range (probability about 2^-128).
pub fn output_key(
    internal_x: &[u8; 32],
    merkle_root: Option<[u8; 32]>,
) -> Result<([u8; 32], bool)> {
    let p = k256::schnorr::VerifyingKey::from_bytes(internal_x)
        .map_err(|_| invalid("internal key is not a valid x coordinate"))?;
    let t = match merkle_root {
        Some(root) => tagged_hash("TapTweak", &[internal_x, &root]),
        None => tagged_hash("TapTweak", &[internal_x]),
    };
    let t: Option<Scalar> = Scalar::from_repr(t.into()).into();
    let t = t.ok_or_else(|| invalid("tweak is not below the group order"))?;
    let q = (ProjectivePoint::from(*p.as_affine()) + ProjectivePoint::GENERATOR * t).to_affine();
    let enc = q.to_encoded_point(true);
    let x: [u8; 32] = enc
        .x()
        .map(|x| (*x).into())
        .ok_or_else(|| invalid("output key is the point at infinity"))?;
    Ok((x, bool::from(q.y_is_odd())))
}
