//! Zero-knowledge proofs of the GG20 engine and their parameters.
//!
//! Π-fac, Π-enc, Π-aff-g and Π-log* come from `paillier-zk`; Π-mod (see `pmod`: CRT prover,
//! batched verifier) and the ring-Pedersen relation proof Π-prm (h2 = h1^α mod Ñ, binary
//! challenges, CRT prover, fixed-base verifier) are ours. Every
//! Fiat–Shamir challenge hashes a `udigest` structure tagged with the engine, the purpose
//! of the proof, the session (or key) id, the prover and the verifier, so a proof made for
//! one of them is worthless for any other.

use cggmp21::generic_ec::Point;
use cggmp21::paillier_zk::{self, fast_paillier, rug::Integer};
use cggmp21::supported_curves::Secp256k1;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::data::BigHex;
use crate::ids::PartyIndex;

pub(crate) type D = Sha256;

/// Statistical and range parameters (CGGMP21's 128-bit level: ℓ = 256, ε = 230, ℓ' = 848).
pub(crate) const ELL: usize = 256;
pub(crate) const EPSILON: usize = 230;
pub(crate) const ELL_PRIME: usize = 848;
/// Range of the δ_i / σ_i plaintexts: Π-aff-g bounds a mask only by 2^(ℓ'+ε), so a sum of
/// up to 2·255 masks plus the products stays below 2^(ℓ'+ε+10) (far below N/2).
pub(crate) const ELL_SUM: usize = ELL_PRIME + EPSILON + 10;
/// Repetitions of Π-mod and Π-prm: soundness error 2^-128 per proof, as cggmp21's
/// (each repetition is sound with probability 1/2).
pub(crate) const M: usize = 128;
/// Smallest accepted Paillier / ring-Pedersen modulus.
pub(crate) const MIN_MODULUS_BITS: u32 = 2046;
/// Largest accepted modulus (bounds the work a peer can cause).
pub(crate) const MAX_MODULUS_BITS: u32 = 4096;

/// The secp256k1 group order.
pub(crate) fn order() -> Integer {
    Integer::from_str_radix(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        16,
    )
    .unwrap_or_default()
}

/// The Fiat–Shamir context of one proof: the shared state of every `paillier-zk` proof
/// and part of the seed of Π-mod's and Π-prm's challenges.
#[derive(Clone, Copy, udigest::Digestable)]
#[udigest(tag = "mpc-core.gg20.v2.proof-context")]
pub(crate) struct Fs<'a> {
    pub purpose: &'static str,
    #[udigest(as_bytes)]
    pub session: &'a [u8; 32],
    pub prover: PartyIndex,
    pub verifier: Option<PartyIndex>,
}

impl Fs<'_> {
    pub(crate) fn state(&self) -> &Self {
        self
    }
}

/// A party's ring-Pedersen parameters as `paillier-zk` wants them (t = h1, s = h2).
pub(crate) fn aux(
    ntilde: &Integer,
    h1: &Integer,
    h2: &Integer,
) -> paillier_zk::paillier_encryption_in_range::Aux {
    paillier_zk::paillier_encryption_in_range::Aux {
        s: h2.clone(),
        t: h1.clone(),
        rsa_modulo: ntilde.clone(),
        multiexp: None,
        crt: None,
    }
}

/// Proof that h2 = h1^α mod Ñ (knowledge of α), M binary challenges.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct PrmProof {
    commitments: Vec<BigHex>,
    responses: Vec<BigHex>,
}

fn prm_challenge(
    fs: &Fs<'_>,
    ntilde: &Integer,
    h1: &Integer,
    h2: &Integer,
    a: &[BigHex],
) -> Vec<bool> {
    use super::transcript::{hash, int, Expand, PrmSeed};
    let seed = hash(&PrmSeed {
        context: fs,
        ntilde: int(ntilde),
        h1: int(h1),
        h2: int(h2),
        commitments: a.iter().map(|b| int(&b.0)).collect(),
    });
    (0..M as u64)
        .map(|index| {
            let block = hash(&Expand {
                seed,
                index,
                attempt: 0,
                block: 0,
            });
            block.first().is_some_and(|b| b & 1 == 1)
        })
        .collect()
}

/// Proves h2 = h1^alpha mod Ñ = p·q (the primes of Ñ make the commitments CRT-fast).
#[allow(clippy::too_many_arguments)]
pub(crate) fn prm_prove<R: RngCore + CryptoRng>(
    fs: &Fs<'_>,
    p: &Integer,
    q: &Integer,
    h1: &Integer,
    h2: &Integer,
    alpha: &Integer,
    rng: &mut R,
) -> Option<PrmProof> {
    let ntilde = Integer::from(p * q);
    let (p1, q1) = (Integer::from(p - 1u8), Integer::from(q - 1u8));
    let phi = Integer::from(&p1 * &q1);
    let q_inv = Integer::from(q.invert_ref(p)?);
    let mut rand = fast_paillier::utils::external_rand(rng);
    let a: Vec<Integer> = (0..M)
        .map(|_| phi.random_below_ref(&mut rand).into())
        .collect();
    let commitments = a
        .iter()
        .map(|ai| {
            let (ep, eq) = (Integer::from(ai % &p1), Integer::from(ai % &q1));
            let xp = super::data::secret_pow_mod(h1, &ep, p)?;
            let xq = super::data::secret_pow_mod(h1, &eq, q)?;
            Some(BigHex(super::pmod::crt(&xp, &xq, p, q, &q_inv)))
        })
        .collect::<Option<Vec<_>>>()?;
    let e = prm_challenge(fs, &ntilde, h1, h2, &commitments);
    let responses = a
        .iter()
        .zip(e)
        .map(|(ai, ei)| {
            let z = if ei { (ai + alpha).into() } else { ai.clone() };
            BigHex(z % &phi)
        })
        .collect();
    Some(PrmProof {
        commitments,
        responses,
    })
}

pub(crate) fn prm_verify(
    fs: &Fs<'_>,
    ntilde: &Integer,
    h1: &Integer,
    h2: &Integer,
    proof: &PrmProof,
) -> bool {
    if proof.commitments.len() != M || proof.responses.len() != M {
        return false;
    }
    let e = prm_challenge(fs, ntilde, h1, h2, &proof.commitments);
    let h1_pow = FixedBase::new(h1, ntilde, ntilde.significant_bits());
    proof
        .commitments
        .iter()
        .zip(&proof.responses)
        .zip(e)
        .all(|((a, z), ei)| {
            if z.0.cmp0().is_lt() || z.0.significant_bits() > ntilde.significant_bits() {
                return false;
            }
            let Some(lhs) = h1_pow.pow(&z.0) else {
                return false;
            };
            let rhs = if ei {
                Integer::from(&a.0 * h2) % ntilde
            } else {
                a.0.clone()
            };
            lhs == rhs
        })
}

/// Structural checks of ring-Pedersen parameters: sizes, h1 ≠ h2, neither 0, ±1, nor of
/// order 2, both units.
pub(crate) fn check_ring_pedersen(
    ntilde: &Integer,
    h1: &Integer,
    h2: &Integer,
) -> Result<(), String> {
    check_modulus("Ñ", ntilde)?;
    if h1 == h2 {
        return Err("h1 = h2".into());
    }
    for (name, h) in [("h1", h1), ("h2", h2)] {
        if h.cmp0().is_le() || h >= ntilde {
            return Err(format!("{name} is not in (0, Ñ)"));
        }
        let minus_one = Integer::from(ntilde - 1u8);
        if *h == 1 || *h == minus_one {
            return Err(format!("{name} is ±1"));
        }
        if Integer::from(h.square_ref()) % ntilde == 1 {
            return Err(format!("{name} has order 2"));
        }
        if Integer::from(h.gcd_ref(ntilde)) != 1 {
            return Err(format!("{name} shares a factor with Ñ"));
        }
    }
    Ok(())
}

/// Size and parity checks of a modulus.
pub(crate) fn check_modulus(name: &str, n: &Integer) -> Result<(), String> {
    let bits = n.significant_bits();
    if bits < MIN_MODULUS_BITS {
        return Err(format!(
            "{name} has {bits} bits, fewer than {MIN_MODULUS_BITS}"
        ));
    }
    if bits > MAX_MODULUS_BITS {
        return Err(format!(
            "{name} has {bits} bits, more than {MAX_MODULUS_BITS}"
        ));
    }
    if n.is_even() {
        return Err(format!("{name} is even"));
    }
    Ok(())
}

/// Π-fac security parameters.
pub(crate) fn fac_params() -> paillier_zk::no_small_factor::SecurityParams {
    paillier_zk::no_small_factor::SecurityParams {
        l: ELL,
        epsilon: EPSILON,
        q: challenge_range(),
    }
}

pub(crate) fn enc_params() -> paillier_zk::paillier_encryption_in_range::SecurityParams {
    paillier_zk::paillier_encryption_in_range::SecurityParams {
        l: ELL,
        epsilon: EPSILON,
        q: challenge_range(),
    }
}

pub(crate) fn aff_params() -> paillier_zk::paillier_affine_operation_in_range::SecurityParams {
    paillier_zk::paillier_affine_operation_in_range::SecurityParams {
        l_x: ELL,
        l_y: ELL_PRIME,
        epsilon: EPSILON,
        q: challenge_range(),
    }
}

pub(crate) fn log_params(
    l: usize,
) -> paillier_zk::group_element_vs_paillier_encryption_in_range::SecurityParams {
    paillier_zk::group_element_vs_paillier_encryption_in_range::SecurityParams {
        l,
        epsilon: EPSILON,
        q: challenge_range(),
    }
}

/// Range of the Fiat–Shamir challenge e in Π-fac, Π-enc, Π-aff-g and Π-log* (±2^128).
fn challenge_range() -> Integer {
    Integer::from(1u8) << 128u32
}

/// Integer square root (for Π-fac's √N).
pub(crate) fn sqrt(n: &Integer) -> Integer {
    n.sqrt_ref().into()
}

pub(crate) type GPoint = Point<Secp256k1>;

/// Powers of one base modulo n from a precomputed table (Yao's method with 2^W-ary digits):
/// about |e|/W + 2^W multiplications per power instead of |e| squarings.
pub(crate) struct FixedBase {
    /// base^(2^(W·j)) mod n.
    table: Vec<Integer>,
    n: Integer,
}

impl FixedBase {
    const W: u32 = 6;

    /// A table for exponents of up to `max_bits` bits.
    pub(crate) fn new(base: &Integer, n: &Integer, max_bits: u32) -> Self {
        let digits = max_bits.div_ceil(Self::W) as usize;
        let mut table = Vec::with_capacity(digits);
        let mut cur = Integer::from(base % n);
        if cur.cmp0().is_lt() {
            cur += n;
        }
        for _ in 0..digits {
            table.push(cur.clone());
            for _ in 0..Self::W {
                cur.square_mut();
                cur %= n;
            }
        }
        FixedBase {
            table,
            n: n.clone(),
        }
    }

    /// base^e mod n, for 0 ≤ e below the table's size (None otherwise).
    pub(crate) fn pow(&self, e: &Integer) -> Option<Integer> {
        let w = Self::W as usize;
        if e.cmp0().is_lt() || e.significant_bits() as usize > w * self.table.len() {
            return None;
        }
        let mut by_digit: Vec<Vec<&Integer>> = vec![Vec::new(); 1 << w];
        for (j, t) in self.table.iter().enumerate() {
            let d = (0..w).fold(0usize, |d, b| {
                d | (usize::from(e.get_bit(u32::try_from(j * w + b).unwrap_or(u32::MAX))) << b)
            });
            by_digit.get_mut(d)?.push(t);
        }
        // Π_j T_j^(d_j) = Π_{v ≥ 1} (Π_{j: d_j ≥ v} T_j).
        let mut a = Integer::from(1u8);
        let mut r = Integer::from(1u8);
        for ts in by_digit.iter().skip(1).rev() {
            for t in ts {
                a *= *t;
                a %= &self.n;
            }
            r *= &a;
            r %= &self.n;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use rand_core::OsRng;

    fn prime(bits: u32) -> Integer {
        let mut rng = OsRng;
        let mut rand = fast_paillier::utils::external_rand(&mut rng);
        let mut c = Integer::from(Integer::random_bits(bits, &mut rand));
        c.set_bit(bits - 1, true);
        c.next_prime()
    }

    #[test]
    fn fixed_base_powers_match_pow_mod() {
        let n = prime(512) * prime(512);
        let base = Integer::from(123_456_789u32);
        let table = FixedBase::new(&base, &n, 1024);
        let mut rng = OsRng;
        let mut rand = fast_paillier::utils::external_rand(&mut rng);
        let max = Integer::from(Integer::ONE << 1024u32) - 1u8;
        for e in [
            Integer::ZERO,
            Integer::from(1u8),
            Integer::from(64u8),
            max.clone(),
        ]
        .into_iter()
        .chain((0..20).map(|_| Integer::from(Integer::random_bits(1024, &mut rand))))
        {
            let want = Integer::from(base.pow_mod_ref(&e, &n).unwrap());
            assert_eq!(table.pow(&e), Some(want));
        }
        assert_eq!(table.pow(&max.clone().square()), None);
        assert_eq!(table.pow(&Integer::from(-1)), None);
    }

    #[test]
    fn prm_proof_verifies_only_for_its_statement() {
        let (p, q) = (prime(512), prime(512));
        let n = Integer::from(&p * &q);
        let h1 = Integer::from(Integer::from(987_654_321u32).square_ref()) % &n;
        let alpha = Integer::from(0xdead_beefu32) << 600u32;
        let h2 = Integer::from(h1.pow_mod_ref(&alpha, &n).unwrap());
        let fs = Fs {
            purpose: "test",
            session: &[3; 32],
            prover: 0,
            verifier: None,
        };
        let proof = prm_prove(&fs, &p, &q, &h1, &h2, &alpha, &mut OsRng).unwrap();
        assert!(prm_verify(&fs, &n, &h1, &h2, &proof));
        let other = Integer::from(&h2 * 4u8) % &n;
        assert!(!prm_verify(&fs, &n, &h1, &other, &proof));
        assert!(!prm_verify(&Fs { prover: 1, ..fs }, &n, &h1, &h2, &proof));
    }
}
