//! GG20 key-share data: the secret share, the party's Paillier and ring-Pedersen secrets,
//! every party's public parameters, and which parties' moduli proofs this party verified.

use cggmp21::generic_ec::{NonZero, Point, Scalar, SecretScalar};
use cggmp21::paillier_zk::rug::{integer::Order, Integer};
use cggmp21::supported_curves::Secp256k1;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::ids::PartyIndex;
use crate::share::{invalid, EngineData, ShareHeader};

/// A big integer, serialized as a hex string (a leading `-` for negatives).
#[derive(Clone, PartialEq, Eq)]
pub struct BigHex(pub Integer);

impl Serialize for BigHex {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string_radix(16))
    }
}

impl<'de> Deserialize<'de> for BigHex {
    fn deserialize<De: serde::Deserializer<'de>>(d: De) -> core::result::Result<Self, De::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // 8192-bit values are the largest the engine handles (ciphertexts mod N² of a
        // 4096-bit N); anything longer is refused before parsing.
        if s.len() > 2 + 8192 / 4 {
            return Err(serde::de::Error::custom("integer too long"));
        }
        let digits = s.strip_prefix('-').unwrap_or(&s);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(serde::de::Error::custom("not a hex integer"));
        }
        Integer::from_str_radix(&s, 16)
            .map(BigHex)
            .map_err(serde::de::Error::custom)
    }
}

impl core::fmt::Debug for BigHex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "BigHex({} bits)", self.0.significant_bits())
    }
}

/// One party's public Paillier and ring-Pedersen parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyParams {
    /// Paillier modulus N.
    pub n: BigHex,
    /// Ring-Pedersen modulus Ñ.
    pub ntilde: BigHex,
    /// h1.
    pub h1: BigHex,
    /// h2 = h1^α mod Ñ.
    pub h2: BigHex,
}

/// This party's Paillier and ring-Pedersen secrets.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct OwnSecrets {
    /// Paillier primes.
    pub p: BigHex,
    pub q: BigHex,
    /// Primes of Ñ.
    pub tp: BigHex,
    pub tq: BigHex,
    /// h2 = h1^alpha, h1 = h2^beta (mod Ñ).
    pub alpha: BigHex,
    pub beta: BigHex,
}

/// GG20 engine data.
#[derive(Serialize, Deserialize)]
pub struct Gg20Data {
    /// Shamir x-coordinate of each party (tss-lib's `ShareID`s; `1..=n` for keys made here).
    pub(crate) share_ids: Vec<Scalar<Secp256k1>>,
    /// Public share of each party.
    pub(crate) public_shares: Vec<NonZero<Point<Secp256k1>>>,
    /// This party's secret share.
    pub(crate) x: NonZero<SecretScalar<Secp256k1>>,
    pub(crate) own: OwnSecrets,
    /// Every party's public parameters.
    pub(crate) params: Vec<PartyParams>,
    /// Parties whose Π-mod / Π-fac / Π-prm proofs this party has verified (itself included
    /// once its own proofs were made). Signing needs every signer in this list.
    pub(crate) verified: Vec<PartyIndex>,
    /// Group key.
    pub(crate) public_key: NonZero<Point<Secp256k1>>,
}

impl Gg20Data {
    /// The parties whose moduli proofs this share has verified.
    pub fn verified(&self) -> &[PartyIndex] {
        &self.verified
    }

    pub(crate) fn params_of(&self, p: PartyIndex) -> Result<&PartyParams> {
        self.params
            .get(usize::from(p))
            .ok_or(crate::Error::PartyOutOfRange {
                index: p,
                n: u16::try_from(self.params.len()).unwrap_or(u16::MAX),
            })
    }
}

/// Lagrange coefficient of `me` for interpolation at 0 over `xs` (which contains `me`).
pub(crate) fn lagrange(xs: &[Scalar<Secp256k1>], me: usize) -> Option<Scalar<Secp256k1>> {
    let xi = xs.get(me)?;
    let mut num = Scalar::<Secp256k1>::one();
    let mut den = Scalar::<Secp256k1>::one();
    for (j, xj) in xs.iter().enumerate() {
        if j != me {
            num *= xj;
            den *= *xj - xi;
        }
    }
    Some(num * den.invert()?)
}

/// `b^e mod m` with GMP's `mpz_powm_sec`, whose time and memory accesses do not depend on
/// the exponent's value: for secret exponents (or secret moduli, such as a Paillier prime).
/// `None` unless `m` is odd and above 1 and `e >= 0` (what `mpz_powm_sec` needs).
pub(crate) fn secret_pow_mod(b: &Integer, e: &Integer, m: &Integer) -> Option<Integer> {
    if m.is_even() || *m <= 1 || *e < 0 {
        return None;
    }
    if *e == 0 {
        return Some(Integer::from(1));
    }
    let b = Integer::from(b.modulo_ref(m));
    Some(Integer::from(b.secure_pow_mod_ref(e, m)))
}

/// Overwrites every limb of a secret integer with zeros. GMP frees an integer's buffer
/// without wiping it; clearing the bits from the top down writes each limb (a negative value
/// is negated first, so no bit operation grows it). Intermediate values inside GMP's own
/// routines are not reached.
pub(crate) fn wipe(x: &mut Integer) {
    use cggmp21::paillier_zk::rug::ops::NegAssign;
    if *x < 0 {
        x.neg_assign();
    }
    for bit in (0..x.significant_bits()).rev() {
        x.set_bit(bit, false);
    }
}

pub(crate) fn scalar_to_int(s: &Scalar<Secp256k1>) -> Integer {
    Integer::from_digits(s.to_be_bytes().as_bytes(), Order::Msf)
}

impl EngineData for Gg20Data {
    fn public_shares(&self) -> Result<Vec<crate::sig::PublicKey>> {
        self.public_shares
            .iter()
            .map(|p| crate::sig::PublicKey::secp256k1(p.to_bytes(true).as_bytes()))
            .collect()
    }

    fn check(&self, h: &ShareHeader) -> Result<()> {
        let n = usize::from(h.n);
        if self.share_ids.len() != n || self.public_shares.len() != n || self.params.len() != n {
            return Err(invalid(format!(
                "engine data lists {} ids, {} public shares, {} parameter sets for {n} parties",
                self.share_ids.len(),
                self.public_shares.len(),
                self.params.len()
            )));
        }
        let own = self
            .public_shares
            .get(usize::from(h.index))
            .ok_or_else(|| invalid("own public share missing".into()))?;
        if Point::generator() * &self.x != **own {
            return Err(invalid(
                "secret share does not match the own public share".into(),
            ));
        }
        for (j, p) in self.params.iter().enumerate() {
            super::zk::check_modulus("N", &p.n.0)
                .and_then(|()| super::zk::check_ring_pedersen(&p.ntilde.0, &p.h1.0, &p.h2.0))
                .map_err(|e| invalid(format!("party {j}: {e}")))?;
        }
        let key = crate::PublicKey::secp256k1(self.public_key.to_bytes(true).as_bytes())?;
        if key != h.public_key {
            return Err(invalid(
                "engine public key differs from the header's".into(),
            ));
        }
        super::import_check::core_share(
            h.index,
            h.t,
            self.x.clone(),
            &self.share_ids,
            &self.public_shares,
            self.public_key,
        )
        .map_err(invalid)?;
        if self.verified.iter().any(|&p| usize::from(p) >= n) {
            return Err(invalid("verified list names a party out of range".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{wipe, Integer};

    #[test]
    fn secret_pow_mod_matches_pow_mod_and_refuses_what_powm_sec_cannot_take() {
        let m = (Integer::from(1) << 521u32) - 1u8;
        for (b, e) in [(3, 65537), (-5, 12345), (2, 0), (7, 1)] {
            let (b, e) = (Integer::from(b), Integer::from(e));
            let want = Integer::from(b.pow_mod_ref(&e, &m).unwrap());
            assert_eq!(super::secret_pow_mod(&b, &e, &m), Some(want));
        }
        let two = Integer::from(2);
        assert_eq!(super::secret_pow_mod(&two, &Integer::from(-1), &m), None);
        assert_eq!(super::secret_pow_mod(&two, &two, &Integer::from(10)), None);
        assert_eq!(super::secret_pow_mod(&two, &two, &Integer::from(1)), None);
    }

    #[test]
    fn wipe_leaves_zero_for_positive_and_negative_values() {
        for v in [
            Integer::from(1) << 2047u32,
            -(Integer::from(3) << 1200u32) + 7,
            Integer::from(0),
        ] {
            let mut x = v.clone();
            wipe(&mut x);
            assert_eq!(x, 0, "{v}");
        }
    }
}
