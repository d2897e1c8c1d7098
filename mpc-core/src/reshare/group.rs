//! The two prime-order groups resharing runs over: secp256k1 (`k256`) and the prime-order
//! subgroup of edwards25519 (`curve25519-dalek`). Everything the protocol needs of a group,
//! and nothing more: scalar and point arithmetic and canonical, validating encodings.

use core::fmt::Debug;
use core::ops::{Add, Mul, Sub};

use zeroize::Zeroize;

use crate::ids::CurveId;

/// A prime-order group with its scalar field.
pub trait ReshareGroup: 'static + Copy + Debug + Eq + Send + Sync {
    /// A scalar (mod the group order). Secret scalars are zeroized by their holders.
    type Scalar: Copy
        + Send
        + Sync
        + Eq
        + Debug
        + Zeroize
        + Add<Output = Self::Scalar>
        + Sub<Output = Self::Scalar>
        + Mul<Output = Self::Scalar>;
    /// A group element.
    type Point: Copy + Send + Sync + Eq + Debug + Add<Output = Self::Point>;

    /// Which curve.
    const CURVE: CurveId;

    /// The scalar `v`.
    fn scalar(v: u64) -> Self::Scalar;
    /// A uniformly random scalar.
    fn random_scalar(rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng)) -> Self::Scalar;
    /// `1 / s`, or `None` for zero.
    fn invert(s: &Self::Scalar) -> Option<Self::Scalar>;
    /// Whether `s` is zero.
    fn is_zero(s: &Self::Scalar) -> bool {
        *s == Self::scalar(0)
    }
    /// `s · G`.
    fn mul_base(s: &Self::Scalar) -> Self::Point;
    /// `s · P`.
    fn mul(p: &Self::Point, s: &Self::Scalar) -> Self::Point;
    /// The identity element.
    fn identity() -> Self::Point;

    /// Canonical encoding of a point (33-byte SEC1 compressed; 32-byte Edwards `y`).
    fn point_to_bytes(p: &Self::Point) -> Vec<u8>;
    /// Decodes a point; `None` unless it is the canonical encoding of a point of the
    /// prime-order group other than the identity.
    fn point_from_bytes(b: &[u8]) -> Option<Self::Point>;
    /// Canonical 32-byte encoding of a scalar.
    fn scalar_to_bytes(s: &Self::Scalar) -> [u8; 32];
    /// Decodes a scalar; `None` unless the encoding is canonical (below the group order).
    fn scalar_from_bytes(b: &[u8]) -> Option<Self::Scalar>;
}

/// secp256k1 (Bitcoin, EVM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secp256k1;

impl ReshareGroup for Secp256k1 {
    type Scalar = k256::Scalar;
    type Point = k256::ProjectivePoint;
    const CURVE: CurveId = CurveId::Secp256k1;

    fn scalar(v: u64) -> Self::Scalar {
        k256::Scalar::from(v)
    }
    fn random_scalar(rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng)) -> Self::Scalar {
        <k256::Scalar as k256::elliptic_curve::Field>::random(rng)
    }
    fn invert(s: &Self::Scalar) -> Option<Self::Scalar> {
        Option::from(s.invert())
    }
    fn mul_base(s: &Self::Scalar) -> Self::Point {
        k256::ProjectivePoint::GENERATOR * s
    }
    fn mul(p: &Self::Point, s: &Self::Scalar) -> Self::Point {
        *p * s
    }
    fn identity() -> Self::Point {
        k256::ProjectivePoint::IDENTITY
    }
    fn point_to_bytes(p: &Self::Point) -> Vec<u8> {
        use k256::elliptic_curve::sec1::ToEncodedPoint;
        p.to_affine().to_encoded_point(true).as_bytes().to_vec()
    }
    fn point_from_bytes(b: &[u8]) -> Option<Self::Point> {
        if b.len() != 33 {
            return None;
        }
        let pk = k256::PublicKey::from_sec1_bytes(b).ok()?;
        Some(pk.to_projective())
    }
    fn scalar_to_bytes(s: &Self::Scalar) -> [u8; 32] {
        s.to_bytes().into()
    }
    fn scalar_from_bytes(b: &[u8]) -> Option<Self::Scalar> {
        use k256::elliptic_curve::PrimeField;
        let arr: [u8; 32] = b.try_into().ok()?;
        Option::from(k256::Scalar::from_repr(arr.into()))
    }
}

/// The prime-order subgroup of edwards25519 (Solana).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ed25519;

impl ReshareGroup for Ed25519 {
    type Scalar = curve25519_dalek::Scalar;
    type Point = curve25519_dalek::EdwardsPoint;
    const CURVE: CurveId = CurveId::Ed25519;

    fn scalar(v: u64) -> Self::Scalar {
        curve25519_dalek::Scalar::from(v)
    }
    fn random_scalar(rng: &mut (impl rand_core::RngCore + rand_core::CryptoRng)) -> Self::Scalar {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let s = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&wide);
        wide.zeroize();
        s
    }
    fn invert(s: &Self::Scalar) -> Option<Self::Scalar> {
        if Self::is_zero(s) {
            None
        } else {
            Some(s.invert())
        }
    }
    fn mul_base(s: &Self::Scalar) -> Self::Point {
        curve25519_dalek::EdwardsPoint::mul_base(s)
    }
    fn mul(p: &Self::Point, s: &Self::Scalar) -> Self::Point {
        p * s
    }
    fn identity() -> Self::Point {
        curve25519_dalek::traits::Identity::identity()
    }
    fn point_to_bytes(p: &Self::Point) -> Vec<u8> {
        p.compress().to_bytes().to_vec()
    }
    fn point_from_bytes(b: &[u8]) -> Option<Self::Point> {
        let c = curve25519_dalek::edwards::CompressedEdwardsY::from_slice(b).ok()?;
        let p = c.decompress()?;
        // Canonical encoding only, in the prime-order subgroup, not the identity.
        (p.compress() == c && p.is_torsion_free() && p != Self::identity()).then_some(p)
    }
    fn scalar_to_bytes(s: &Self::Scalar) -> [u8; 32] {
        s.to_bytes()
    }
    fn scalar_from_bytes(b: &[u8]) -> Option<Self::Scalar> {
        let arr: [u8; 32] = b.try_into().ok()?;
        Option::from(curve25519_dalek::Scalar::from_canonical_bytes(arr))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn encodings<G: ReshareGroup>() {
        let s = G::random_scalar(&mut rand_core::OsRng);
        let p = G::mul_base(&s);
        assert_eq!(G::point_from_bytes(&G::point_to_bytes(&p)), Some(p));
        assert_eq!(G::scalar_from_bytes(&G::scalar_to_bytes(&s)), Some(s));
        assert_eq!(
            G::point_from_bytes(&G::point_to_bytes(&G::identity())),
            None
        );
        assert_eq!(G::scalar_from_bytes(&[0xff; 32]), None);
        assert_eq!(G::point_from_bytes(&[2u8; 5]), None);
        let inv = G::invert(&s).unwrap();
        assert_eq!(inv * s, G::scalar(1));
        assert!(G::invert(&G::scalar(0)).is_none());
    }

    #[test]
    fn secp256k1_encodings_round_trip_and_reject_bad_input() {
        encodings::<Secp256k1>();
    }

    #[test]
    fn ed25519_encodings_round_trip_and_reject_bad_input() {
        encodings::<Ed25519>();
        // A point of order 8 (torsion) is refused.
        let torsion = curve25519_dalek::constants::EIGHT_TORSION[1];
        assert_eq!(
            Ed25519::point_from_bytes(torsion.compress().as_bytes()),
            None
        );
    }
}
