//! Zero-knowledge proofs of the GG20 engine and their parameters.
//!
//! Paillier proofs come from `paillier-zk` (Π-mod, Π-fac, Π-enc, Π-aff-g, Π-log*); the
//! ring-Pedersen relation proof Π-prm (h2 = h1^α mod Ñ, binary challenges) is ours. Every
//! Fiat–Shamir challenge hashes a `udigest` structure tagged with the engine, the purpose
//! of the proof, the session (or key) id, the prover and the verifier, so a proof made for
//! one of them is worthless for any other.

use cggmp21::generic_ec::Point;
use cggmp21::paillier_zk::{self, fast_paillier, rug::Integer};
use cggmp21::supported_curves::Secp256k1;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::data::BigHex;
use crate::ids::PartyIndex;

pub(crate) type D = Sha256;

/// Statistical and range parameters (CGGMP21's 128-bit level: ℓ = 256, ε = 230, ℓ' = 848).
pub(crate) const ELL: usize = 256;
pub(crate) const EPSILON: usize = 230;
pub(crate) const ELL_PRIME: usize = 848;
/// Range of the δ_i / σ_i ciphertext sums (a few bits above ℓ' for up to 128 signers).
pub(crate) const ELL_SUM: usize = ELL_PRIME + 10;
/// Repetitions of Π-mod and Π-prm: soundness error 2^-80 per proof (the repetition count
/// tss-lib's own Π-mod uses). Verification is the bulk of certifying a signer set.
pub(crate) const M: usize = 80;
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

/// The Fiat–Shamir context of one proof.
#[derive(Clone, Copy)]
pub(crate) struct Fs<'a> {
    pub purpose: &'static str,
    pub session: &'a [u8; 32],
    pub prover: PartyIndex,
    pub verifier: Option<PartyIndex>,
}

impl Fs<'_> {
    pub(crate) fn state(&self) -> impl udigest::Digestable + '_ {
        udigest::inline_struct!("mpc-core.gg20.v1" {
            purpose: self.purpose,
            session: udigest::Bytes(self.session),
            prover: self.prover,
            verifier: self.verifier,
        })
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
    let mut h = Sha256::new();
    h.update(b"mpc-core.gg20.v1/prm");
    let digest = udigest::hash::<Sha256>(&fs.state());
    h.update(digest);
    for x in [ntilde, h1, h2].into_iter().chain(a.iter().map(|b| &b.0)) {
        let bytes = x.to_digits::<u8>(cggmp21::paillier_zk::rug::integer::Order::Msf);
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(&bytes);
    }
    let seed: [u8; 32] = h.finalize().into();
    (0..M)
        .map(|i| {
            let mut h = Sha256::new();
            h.update(seed);
            h.update((i as u64).to_be_bytes());
            h.finalize().first().is_some_and(|b| b & 1 == 1)
        })
        .collect()
}

/// Proves h2 = h1^alpha mod ntilde; `phi` is φ(Ñ).
pub(crate) fn prm_prove<R: RngCore + CryptoRng>(
    fs: &Fs<'_>,
    ntilde: &Integer,
    phi: &Integer,
    h1: &Integer,
    h2: &Integer,
    alpha: &Integer,
    rng: &mut R,
) -> Option<PrmProof> {
    let mut rand = fast_paillier::utils::external_rand(rng);
    let a: Vec<Integer> = (0..M)
        .map(|_| phi.random_below_ref(&mut rand).into())
        .collect();
    let commitments = a
        .iter()
        .map(|ai| h1.pow_mod_ref(ai, ntilde).map(|v| BigHex(v.into())))
        .collect::<Option<Vec<_>>>()?;
    let e = prm_challenge(fs, ntilde, h1, h2, &commitments);
    let responses = a
        .iter()
        .zip(e)
        .map(|(ai, ei)| {
            let z = if ei { (ai + alpha).into() } else { ai.clone() };
            BigHex(z % phi)
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
    proof
        .commitments
        .iter()
        .zip(&proof.responses)
        .zip(e)
        .all(|((a, z), ei)| {
            if z.0.cmp0().is_lt() || z.0.significant_bits() > ntilde.significant_bits() {
                return false;
            }
            let Some(lhs) = h1.pow_mod_ref(&z.0, ntilde).map(Integer::from) else {
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
