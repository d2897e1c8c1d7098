//! Π-mod: proof that N is a Paillier–Blum modulus (CGGMP21, figure 16), with M repetitions.
//!
//! The prover sends w with Jacobi symbol (w | N) = −1 and, for each challenge y_i in Z_N^*
//! (hashed from the Fiat–Shamir state, N and w), a fourth root x_i of (−1)^a_i·w^b_i·y_i and
//! the N-th root z_i of y_i. The prover works modulo p and q (CRT).
//!
//! The verifier checks every x_i on its own. The M checks z_i^N = y_i are verified together
//! with small random exponents: (Π z_i^c_i)^N = Π y_i^c_i with c_i < 2^16 drawn by the
//! verifier, in [`BATCHES`] independent batches, after checking that N has no prime factor
//! below 2^16. Soundness: every element of Z_N^* / (Z_N^*)^N has an order that divides N,
//! so all its prime factors exceed 2^16; if some y_j has no N-th root, c ↦ ȳ_j^c is
//! injective on [0, 2^16) and one batch passes with probability at most 2^-16, so all
//! batches with at most 2^-128 — the same bound as the M = 128 single checks (plus the
//! negligible chance that every hashed y_i has an N-th root although gcd(N, φ(N)) ≠ 1).

use std::sync::OnceLock;

use cggmp21::paillier_zk::rug::integer::{IsPrime, Order};
use cggmp21::paillier_zk::rug::Integer;
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

use super::data::BigHex;
use super::zk::{Fs, M};

/// Independent batches of the z-check (each sound except with probability 2^-16).
pub(crate) const BATCHES: usize = 8;
/// Bits of the batch exponents c_i, and of the trial-division bound.
const C_BITS: u32 = 16;

/// A Π-mod proof.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct ModProof {
    /// w, with Jacobi symbol −1.
    pub w: BigHex,
    /// (x_i, a_i, b_i, z_i) for each challenge.
    pub reps: Vec<(BigHex, bool, bool, BigHex)>,
}

/// The challenges y_1..y_M in Z_N^* (None if for some i none of 8 hash outputs is a unit).
fn challenges(fs: &Fs<'_>, n: &Integer, w: &Integer) -> Option<Vec<Integer>> {
    use super::transcript::{hash, int, Expand, ModSeed};
    let seed = hash(&ModSeed {
        context: fs,
        n: int(n),
        w: int(w),
    });
    // |N| + 128 bits per challenge, reduced mod N (bias below 2^-128).
    let blocks = (n.significant_bits() as usize + 128).div_ceil(256);
    (0..M as u64)
        .map(|index| {
            (0..8u64).find_map(|attempt| {
                let mut bytes = Vec::with_capacity(blocks * 32);
                for block in 0..blocks as u64 {
                    bytes.extend_from_slice(&hash(&Expand {
                        seed,
                        index,
                        attempt,
                        block,
                    }));
                }
                let y = Integer::from_digits(&bytes, Order::Msf) % n;
                (y != 0 && Integer::from(y.gcd_ref(n)) == 1).then_some(y)
            })
        })
        .collect()
}

/// x mod m for x mod p and x mod q (p, q coprime; `q_inv` = q⁻¹ mod p).
pub(crate) fn crt(
    xp: &Integer,
    xq: &Integer,
    p: &Integer,
    q: &Integer,
    q_inv: &Integer,
) -> Integer {
    let t = Integer::from(xp - xq) * q_inv;
    let t = t.modulo(p);
    t * q + xq
}

/// The prover's powers: secret exponents modulo the secret primes.
fn pow(b: &Integer, e: &Integer, m: &Integer) -> Option<Integer> {
    super::data::secret_pow_mod(b, e, m)
}

/// The (a, b) for which (−1)^a·w^b·y is a square modulo both p and q, with that value.
fn residue_choice(
    y: &Integer,
    w: &Integer,
    n: &Integer,
    p: &Integer,
    q: &Integer,
) -> Option<(bool, bool, Integer)> {
    let yw = Integer::from(y * w) % n;
    [
        (false, false, y.clone()),
        (true, false, Integer::from(n - y)),
        (true, true, Integer::from(n - &yw)),
        (false, true, yw),
    ]
    .into_iter()
    .find(|(_, _, r)| r.legendre(p) == 1 && r.legendre(q) == 1)
}

/// Proves that N = p·q is a Paillier–Blum modulus (None if it is not one).
pub(crate) fn prove<R: RngCore + CryptoRng>(
    fs: &Fs<'_>,
    p: &Integer,
    q: &Integer,
    rng: &mut R,
) -> Option<ModProof> {
    let n = Integer::from(p * q);
    if p.mod_u(4) != 3 || q.mod_u(4) != 3 || p == q {
        return None;
    }
    let mut rand = cggmp21::paillier_zk::fast_paillier::utils::external_rand(rng);
    let w = loop {
        let w = Integer::from(n.random_below_ref(&mut rand));
        if w.jacobi(&n) == -1 {
            break w;
        }
    };
    let ys = challenges(fs, &n, &w)?;
    let (p1, q1) = (Integer::from(p - 1u8), Integer::from(q - 1u8));
    // Fourth roots of quadratic residues: ((p+1)/4)² mod (p−1); N-th roots: N⁻¹ mod (p−1).
    let quart = |m: &Integer, m1: &Integer| {
        let e = Integer::from(m + 1u8) >> 2u32;
        Integer::from(e.square_ref()) % m1
    };
    let (xp_e, xq_e) = (quart(p, &p1), quart(q, &q1));
    let zp_e = Integer::from(n.invert_ref(&p1)?);
    let zq_e = Integer::from(n.invert_ref(&q1)?);
    let q_inv = Integer::from(q.invert_ref(p)?);
    let mut reps = Vec::with_capacity(M);
    for y in ys {
        let (a, b, r) = residue_choice(&y, &w, &n, p, q)?;
        let x = crt(&pow(&r, &xp_e, p)?, &pow(&r, &xq_e, q)?, p, q, &q_inv);
        let z = crt(&pow(&y, &zp_e, p)?, &pow(&y, &zq_e, q)?, p, q, &q_inv);
        reps.push((BigHex(x), a, b, BigHex(z)));
    }
    Some(ModProof { w: BigHex(w), reps })
}

/// Product of the primes below 2^16.
fn small_primes() -> &'static Integer {
    static P: OnceLock<Integer> = OnceLock::new();
    P.get_or_init(|| {
        let mut acc = Integer::from(1u8);
        let mut pr = Integer::from(2u8);
        while pr < (1u32 << C_BITS) {
            acc *= &pr;
            pr.next_prime_mut();
        }
        acc
    })
}

/// Π v_i^c_i mod n for c_i < 2^C_BITS (one shared square-and-multiply).
fn multi_pow(vs: &[&Integer], cs: &[u16], n: &Integer) -> Integer {
    let mut acc = Integer::from(1u8);
    for bit in (0..C_BITS).rev() {
        acc.square_mut();
        acc %= n;
        for (v, c) in vs.iter().zip(cs) {
            if (c >> bit) & 1 == 1 {
                acc *= *v;
                acc %= n;
            }
        }
    }
    acc
}

/// Checks a Π-mod proof for N.
pub(crate) fn verify<R: RngCore + CryptoRng>(
    fs: &Fs<'_>,
    n: &Integer,
    proof: &ModProof,
    rng: &mut R,
) -> Result<(), &'static str> {
    if n.is_even() || *n <= 3 {
        return Err("N is even or too small");
    }
    if Integer::from(n.gcd_ref(small_primes())) != 1 {
        return Err("N has a prime factor below 2^16");
    }
    if n.is_probably_prime(1) != IsPrime::No {
        return Err("N is prime");
    }
    let w = &proof.w.0;
    if w.cmp0().is_le() || w >= n || w.jacobi(n) != -1 {
        return Err("w does not have Jacobi symbol −1");
    }
    if proof.reps.len() != M {
        return Err("wrong number of repetitions");
    }
    let ys = challenges(fs, n, w).ok_or("no challenges in Z_N^*")?;
    let mut z_prod = Integer::from(1u8);
    for ((x, a, b, z), y) in proof.reps.iter().zip(&ys) {
        for v in [&x.0, &z.0] {
            if v.cmp0().is_le() || v >= n {
                return Err("x_i or z_i out of range");
            }
        }
        let mut rhs = y.clone();
        if *b {
            rhs = Integer::from(&rhs * w) % n;
        }
        if *a {
            rhs = n - rhs;
        }
        let x2 = Integer::from(x.0.square_ref()) % n;
        if Integer::from(x2.square_ref()) % n != rhs {
            return Err("x_i is not a fourth root of (−1)^a·w^b·y_i");
        }
        z_prod = Integer::from(&z_prod * &z.0) % n;
    }
    if Integer::from(z_prod.gcd_ref(n)) != 1 {
        return Err("some z_i is not a unit");
    }
    let zs: Vec<&Integer> = proof.reps.iter().map(|r| &r.3 .0).collect();
    let ys: Vec<&Integer> = ys.iter().collect();
    for _ in 0..BATCHES {
        let cs: Vec<u16> = (0..M)
            .map(|_| {
                let mut b = [0u8; 2];
                rng.fill_bytes(&mut b);
                u16::from_be_bytes(b)
            })
            .collect();
        let lhs = multi_pow(&zs, &cs, n)
            .pow_mod_ref(n, n)
            .map(Integer::from)
            .ok_or("exponentiation failed")?;
        if lhs != multi_pow(&ys, &cs, n) {
            return Err("some z_i is not the N-th root of y_i");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use rand_core::OsRng;

    fn blum(bits: u32) -> Integer {
        let mut rng = OsRng;
        let mut rand = cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut rng);
        loop {
            let mut c = Integer::from(Integer::random_bits(bits, &mut rand));
            c.set_bit(bits - 1, true);
            let p = c.next_prime();
            if p.mod_u(4) == 3 {
                return p;
            }
        }
    }

    const FS: Fs<'static> = Fs {
        purpose: "test",
        session: &[7; 32],
        prover: 1,
        verifier: None,
    };

    #[test]
    fn honest_proof_verifies_and_tampering_is_caught() {
        let (p, q) = (blum(512), blum(512));
        let n = Integer::from(&p * &q);
        let proof = prove(&FS, &p, &q, &mut OsRng).unwrap();
        verify(&FS, &n, &proof, &mut OsRng).unwrap();
        let other = Fs { prover: 2, ..FS };
        assert!(verify(&other, &n, &proof, &mut OsRng).is_err());

        let mut bad_z = proof.clone();
        bad_z.reps[17].3 = BigHex(Integer::from(&bad_z.reps[17].3 .0 * 4u8) % &n);
        assert_eq!(
            verify(&FS, &n, &bad_z, &mut OsRng),
            Err("some z_i is not the N-th root of y_i")
        );
        let mut bad_x = proof.clone();
        bad_x.reps[3].1 = !bad_x.reps[3].1;
        assert!(verify(&FS, &n, &bad_x, &mut OsRng).is_err());
        let mut bad_w = proof.clone();
        bad_w.w = BigHex(p.clone());
        assert!(verify(&FS, &n, &bad_w, &mut OsRng).is_err());
        let tripled = Integer::from(&n * 3u8);
        assert_eq!(
            verify(&FS, &tripled, &proof, &mut OsRng),
            Err("N has a prime factor below 2^16")
        );
    }

    #[test]
    fn non_blum_and_prime_moduli_fail() {
        let q = blum(256);
        let mut p = blum(256);
        while p.mod_u(4) != 1 {
            p = Integer::from(&p + 2u8).next_prime();
        }
        assert!(prove(&FS, &p, &q, &mut OsRng).is_none());
        let prime = blum(512);
        let proof = prove(&FS, &blum(256), &blum(256), &mut OsRng).unwrap();
        assert_eq!(verify(&FS, &prime, &proof, &mut OsRng), Err("N is prime"));
    }

    /// N = p²·q passes every x check (fourth roots exist), but gcd(N, φ(N)) = p, so the
    /// y_i have no N-th roots and the batched z check refuses the best z a prover has.
    #[test]
    fn square_factor_modulus_fails_the_z_check() {
        let (p, q) = (blum(256), blum(512));
        let n = Integer::from(p.square_ref()) * &q;
        let phi = Integer::from(&p - 1u8) * &p * Integer::from(&q - 1u8);
        assert!(n.invert_ref(&phi).is_none());
        let e = Integer::from(n.invert_ref(&Integer::from(&phi / &p)).unwrap());
        // The squares form a subgroup of odd order φ/4, where 4 is invertible.
        let quart = Integer::from(Integer::from(4u8).invert_ref(&(phi.clone() / 4u8)).unwrap());
        let mut rng = OsRng;
        let mut rand = cggmp21::paillier_zk::fast_paillier::utils::external_rand(&mut rng);
        let w = loop {
            let w = Integer::from(n.random_below_ref(&mut rand));
            if w.legendre(&p) == 1 && w.legendre(&q) == -1 {
                break w;
            }
        };
        let reps = challenges(&FS, &n, &w)
            .unwrap()
            .iter()
            .map(|y| {
                let (a, b, r) = residue_choice(y, &w, &n, &p, &q).unwrap();
                let x = r.pow_mod_ref(&quart, &n).map(Integer::from).unwrap();
                let z = y.pow_mod_ref(&e, &n).map(Integer::from).unwrap();
                (BigHex(x), a, b, BigHex(z))
            })
            .collect();
        let proof = ModProof { w: BigHex(w), reps };
        assert_eq!(
            verify(&FS, &n, &proof, &mut OsRng),
            Err("some z_i is not the N-th root of y_i")
        );
    }
}
